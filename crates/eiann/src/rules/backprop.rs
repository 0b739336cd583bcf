//! `Backprop` (EIANN `rules/backprop.py`): `loss.backward()` of the output MSE through the last
//! `backward_steps` integration steps, then the network optimizer's SGD step on every weight that
//! requires a gradient (spec-rules §5). The gradient is the hand-derived adjoint of [`crate::adjoint`]
//! over the tape the sensory phase recorded ([`LearningRule::REQUIRES_GRAD`]); the weight constraints
//! follow in the training step. `Backprop` has no `step()`: `W ← W − lr · ∂L/∂W` happens in its
//! backward method.
//!
//! It is also EIANN's default rule: a projection without a `learning_rule` key gets it.

use super::{LearningRule, Refusal, RuleKwargs, Supervision};
use crate::adjoint::{descend, mse_grad, require_tape, Seed};
use crate::config::{Activation, NetworkSpec};
use crate::error::Result;
use crate::network::Network;

/// Settings of `Backprop`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backprop {
    /// Learning rate of the projection's parameter group (its own kwarg, else the network's).
    pub learning_rate: f64,
}

impl LearningRule for Backprop {
    const CLASS: &'static str = "Backprop";
    const BACKWARD: Option<super::BackwardFn> = Some(backward);
    const REQUIRES_GRAD: bool = true;

    fn from_kwargs(kw: &RuleKwargs<'_>) -> Result<Self> {
        kw.known(&["learning_rate"])?;
        Ok(Backprop {
            learning_rate: kw.learning_rate()?,
        })
    }

    fn check(&self, k: usize, spec: &NetworkSpec) -> std::result::Result<(), Refusal> {
        check_differentiable(Self::CLASS, k, spec)
    }

    fn learning_rate(&self) -> Option<f64> {
        Some(self.learning_rate)
    }
}

/// What the adjoint of [`crate::adjoint`] covers, checked for an autograd rule (`class`) on projection
/// `k`: at least one recorded step (`backward_steps ≥ 1`) of relu / linear dynamics.
pub fn check_differentiable(
    class: &str,
    k: usize,
    spec: &NetworkSpec,
) -> std::result::Result<(), Refusal> {
    if spec.backward_steps == 0 {
        return Err(Refusal::Training {
            key: "backward_steps",
            message: format!(
                "is 0, but {class} ({}) differentiates the last backward_steps forward steps; use at least 1",
                spec.projections[k].name
            ),
        });
    }
    for p in spec.populations.iter().filter(|p| !p.is_input) {
        if !matches!(p.activation, Activation::Relu | Activation::Linear) {
            return Err(Refusal::Rule(format!(
                "{class} needs relu or linear activations (population {} has {:?})",
                p.fullname, p.activation
            )));
        }
    }
    Ok(())
}

/// `Backprop.backward(network, output, target)`: zero_grad, `L.backward()`, `optimizer.step()`.
/// Every weight with `requires_grad` (Backprop and Backprop_DendriticLoss projections) gets its gradient;
/// each moves with its own rule's learning rate (its parameter group in the network optimizer).
fn backward(net: &mut Network, sup: &mut Supervision<'_>) -> Result<()> {
    let out = net.spec.output;
    require_tape(net, "Backprop")?;
    let wanted: Vec<bool> = net
        .spec
        .projections
        .iter()
        .map(|p| p.rule.requires_grad())
        .collect();
    let mut seed = Vec::new();
    mse_grad(&net.pops[out].activity, sup.target, &mut seed);
    let step = net.spec.forward_steps - 1;
    let seeds = [Seed {
        population: out,
        step,
        grad: &seed,
    }];
    let mut grads = std::mem::take(&mut net.grads);
    grads.resize(net.projections.len(), Vec::new());
    descend(net, &seeds, &wanted, &mut grads);
    net.grads = grads;
    net.weights_changed();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(backward_steps: usize, activation: &str) -> NetworkSpec {
        let y = format!(
            "layer_config:\n  Input:\n    E: {{size: 3}}\n  Output:\n    E: {{size: 2, activation: {activation}}}\n\
             projection_config:\n  Output:\n    E:\n      Input:\n        E:\n          learning_rule: Backprop\n\
             training_kwargs:\n  learning_rate: 0.5\n  forward_steps: 2\n  backward_steps: {backward_steps}\n"
        );
        NetworkSpec::from_yaml_str(&y, "t", "t.yaml").expect("spec")
    }

    #[test]
    fn settings_fall_back_on_the_network_learning_rate() {
        let s = spec(1, "relu");
        assert!(s.projections[0].rule.requires_grad());
        assert_eq!(s.projections[0].rule.learning_rate(), Some(0.5));
        assert_eq!(super::super::tape_depth(&s), 1);
    }

    #[test]
    fn one_sgd_step_follows_the_negative_gradient() {
        // Output = W·x after 2 steps with τ = 1 (linear, so no unit is silent); the step lowers the loss.
        let s = spec(2, "linear");
        let mut net = Network::new(s, 7);
        let x = [0.5f32, 1.0, 0.25];
        let target = [1.0f32, 0.0];
        let before = crate::dynamics::mse_loss(net.forward(&x, None).expect("fwd"), &target);
        net.update_forward_state(None).expect("snapshot");
        net.backward(&target, false, None).expect("backward");
        assert!(net.gradient("OutputE_InputE").expect("name").is_some());
        let after = crate::dynamics::mse_loss(net.forward(&x, None).expect("fwd"), &target);
        assert!(after < before, "{after} !< {before}");
    }
}
