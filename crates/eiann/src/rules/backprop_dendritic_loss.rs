//! `Backprop_DendriticLoss` (EIANN `rules/backprop.py`): each source population `S` (kwarg
//! `source: <layer>.<pop>`) has a local SGD optimizer over the projections naming it; its loss is
//! `MSE(forward_dendritic_state_S, 0)`, differentiated through the last `backward_steps` forward steps
//! (spec-rules §6) — the adjoint of [`crate::adjoint`] seeded at the dendritic inputs instead of the
//! output, over the tape the sensory phase recorded ([`LearningRule::REQUIRES_GRAD`]). `W ← W − lr ·
//! ∂L_S/∂W` happens in the backward method; the rule has no `step()`.

use super::{LearningRule, Refusal, Rule, RuleKwargs, Supervision};
use crate::adjoint::{dendritic_loss_seeds, descend, require_tape, Seed};
use crate::config::{Compartment, NetworkSpec};
use crate::error::{Error, Result};
use crate::network::Network;

/// Settings of `Backprop_DendriticLoss`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackpropDendriticLoss {
    /// Learning rate of the local optimizer's parameter group (its own kwarg, else the network's).
    pub learning_rate: f64,
    /// Index of the source population (`source: <layer>.<pop>`) in [`NetworkSpec::populations`].
    pub source: usize,
}

impl LearningRule for BackpropDendriticLoss {
    const CLASS: &'static str = "Backprop_DendriticLoss";
    const BACKWARD: Option<super::BackwardFn> = Some(backward);
    const REQUIRES_GRAD: bool = true;

    fn from_kwargs(kw: &RuleKwargs<'_>) -> Result<Self> {
        kw.known(&["learning_rate", "source"])?;
        let source = kw.population("source")?.ok_or_else(|| {
            kw.error(
                "source",
                "missing (expected <layer>.<population>, e.g. H1.E)",
            )
        })?;
        Ok(BackpropDendriticLoss {
            learning_rate: kw.learning_rate()?,
            source,
        })
    }

    fn check(&self, k: usize, spec: &NetworkSpec) -> std::result::Result<(), Refusal> {
        super::backprop::check_differentiable(Self::CLASS, k, spec)
    }

    fn learning_rate(&self) -> Option<f64> {
        Some(self.learning_rate)
    }
}

/// `Backprop_DendriticLoss.backward`: the local optimizers in the order their first projection is met
/// walking the non-input layers top-down (Output, H2, H1), each: zero_grad, `L_S.backward()`, step.
fn backward(net: &mut Network, _sup: &mut Supervision<'_>) -> Result<()> {
    require_tape(net, "Backprop_DendriticLoss")?;
    let mut sources: Vec<usize> = Vec::new();
    for layer in &net.reversed_layers {
        for &pi in layer {
            for &k in &net.wiring[pi].incoming {
                if let Rule::BackpropDendriticLoss(r) = net.spec.projections[k].rule {
                    if !sources.contains(&r.source) {
                        sources.push(r.source);
                    }
                }
            }
        }
    }
    let mut grads = std::mem::take(&mut net.grads);
    grads.resize(net.projections.len(), Vec::new());
    for s in sources {
        let wanted: Vec<bool> = net
            .spec
            .projections
            .iter()
            .map(|p| matches!(p.rule, Rule::BackpropDendriticLoss(r) if r.source == s))
            .collect();
        let seed_vecs = dendritic_loss_seeds(
            &net.spec,
            &net.projections,
            s,
            &net.pops[s].forward_dendritic_state,
        );
        if wanted
            .iter()
            .zip(&net.spec.projections)
            .any(|(&w, p)| w && p.compartment == Compartment::Dendrite)
        {
            net.grads = grads;
            return Err(Error::invalid(
                "Backprop_DendriticLoss",
                "a learned dendritic projection into the source population is not supported",
            ));
        }
        let seeds: Vec<Seed> = seed_vecs
            .iter()
            .map(|(p, t, v)| Seed {
                population: *p,
                step: *t,
                grad: v,
            })
            .collect();
        descend(net, &seeds, &wanted, &mut grads);
    }
    net.grads = grads;
    net.weights_changed();
    Ok(())
}
