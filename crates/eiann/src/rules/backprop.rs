//! `Backprop` (EIANN `rules/backprop.py`): `loss.backward()` of the output MSE through the last
//! `backward_steps` integration steps, then the network optimizer's SGD step on every `Backprop` weight
//! (spec-rules §5). The gradient is the hand-derived adjoint of [`crate::adjoint`] over the forward phase's
//! tape; the weight constraints follow in the training step. `Backprop` has no `step()`.

use crate::adjoint::{gradients, mse_grad, sgd_step, Seed};
use crate::error::{Error, Result};
use crate::network::Network;

/// `Backprop.backward(network, output, target)`: zero_grad, `L.backward()`, `optimizer.step()`.
/// Every weight with `requires_grad` (Backprop and Backprop_DendriticLoss projections) gets its gradient;
/// each moves with its own rule's learning rate (its parameter group in the network optimizer).
pub(crate) fn backward(net: &mut Network, target: &[f32]) -> Result<()> {
    let out = net.spec.output;
    if target.len() != net.spec.populations[out].size {
        return Err(Error::shape(
            "target",
            net.spec.populations[out].size,
            target.len(),
        ));
    }
    if net.tape.depth() == 0 {
        return Err(Error::invalid(
            "Backprop",
            "no forward step was recorded for the gradient (backward_steps is 0)",
        ));
    }
    let wanted: Vec<bool> = net
        .spec
        .projections
        .iter()
        .map(|p| p.rule.requires_grad())
        .collect();
    let mut seed = Vec::new();
    mse_grad(&net.pops[out].activity, target, &mut seed);
    let step = net.spec.forward_steps - 1;
    let seeds = [Seed {
        population: out,
        step,
        grad: &seed,
    }];
    let mut grads = std::mem::take(&mut net.grads);
    grads.resize(net.projections.len(), Vec::new());
    gradients(
        &net.spec,
        &net.projections,
        &mut net.tape,
        &seeds,
        &wanted,
        &mut grads,
    );
    for (k, ps) in net.spec.projections.iter().enumerate() {
        if let (true, Some(lr)) = (wanted[k], ps.rule.learning_rate()) {
            sgd_step(&mut net.projections[k].wt, &grads[k], lr);
            net.projections[k].changes.mark_all();
        }
    }
    net.grads = grads;
    net.input_drive_valid = false;
    Ok(())
}
