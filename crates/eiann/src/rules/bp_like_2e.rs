//! `BP_like_2E` (EIANN `rules/backprop_like.py`): dendritic target propagation with one instantaneous
//! top-down nudge instead of an equilibrated supervised phase (spec-rules §4).
//!
//! **Supervised phase** (`BP_like_2E.backward`, once per training step): the non-input layers top-down
//! (`Output, H2, H1`) once, with no time loop and no somatic integration. For each layer:
//! 1. every population with backward projections and a dendrite updates its dendritic state
//!    `D = clamp(Σ_dend W·r, −1, 1)` from the current activities (the nudged ones of the layer above);
//! 2. every population owning a `BP_like_2E` projection gets its plateau ([`super::plateau`]): the
//!    output from `target − activity`, hidden layers from `D`; `dend_to_soma = plateau`;
//! 3. those of them with backward projections (and the output) are nudged: `prev_activity ← activity`,
//!    `a = f(s + dend_to_soma)`, the state keeping its forward value ([`Network::nudge`]).
//!
//! **Update** (`BP_like_2E.step`): `ΔW = lr · plateau_post ⊗ clamp(forward pre, 0, 1)` with the
//! presynaptic forward activity (`forward_prev_activity` for recurrent projections).

use super::plateau::{self, Selection};
use super::{LearningRule, Refusal, Rule, RuleKwargs, Supervision};
use crate::config::{Compartment, NetworkSpec};
use crate::dynamics::Phase;
use crate::error::Result;
use crate::network::Network;

/// Settings of `BP_like_2E`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BpLike2E {
    /// Learning rate (its own kwarg, else the network's `learning_rate`).
    pub learning_rate: f64,
    /// Fraction of the population that may get a plateau of each sign (`max_pop_fraction`, default 1).
    pub max_pop_fraction: f64,
    /// Zero the plateau of units silent in the forward phase (`relu_gate`, default false).
    pub relu_gate: bool,
}

impl LearningRule for BpLike2E {
    const CLASS: &'static str = "BP_like_2E";
    const BACKWARD: Option<super::BackwardFn> = Some(supervised_phase);

    fn from_kwargs(kw: &RuleKwargs<'_>) -> Result<Self> {
        kw.known(&[
            "learning_rate",
            "max_pop_fraction",
            "stochastic",
            "relu_gate",
        ])?;
        let plateaus = Selection::from_kwargs(kw)?;
        Ok(BpLike2E {
            learning_rate: kw.learning_rate()?,
            max_pop_fraction: plateaus.max_pop_fraction,
            relu_gate: plateaus.relu_gate,
        })
    }

    fn check(&self, k: usize, spec: &NetworkSpec) -> std::result::Result<(), Refusal> {
        if spec.projections[k].compartment == Compartment::Dendrite {
            return Err("BP_like_2E on a dendritic projection is not supported".into());
        }
        Ok(())
    }

    fn learning_rate(&self) -> Option<f64> {
        Some(self.learning_rate)
    }

    fn step(&self, net: &mut Network, k: usize) {
        plateau::update_weights(net, k, self.learning_rate, true);
    }
}

/// `BP_like_2E.backward(network, output, target)`: the instantaneous nudge (module docs).
fn supervised_phase(net: &mut Network, sup: &mut Supervision<'_>) -> Result<()> {
    let out = net.spec.output;
    net.start_supervised_phase();
    let nudged = plateau::nudged_populations(net, |rule| match rule {
        Rule::BpLike2E(r) => Some(Selection {
            max_pop_fraction: r.max_pop_fraction,
            relu_gate: r.relu_gate,
        }),
        _ => None,
    });
    let layers = std::mem::take(&mut net.reversed_layers);
    for layer in &layers {
        for &pi in layer {
            let w = &net.wiring[pi];
            if w.has_backward_projections && w.has_dendrite {
                net.update_dendritic_state(pi, Phase::Supervised);
            }
        }
        for &pi in layer {
            if let Some(sel) = nudged[pi] {
                plateau::select(&mut net.pops[pi], sel, pi == out, sup.target);
            }
        }
        for &pi in layer {
            if nudged[pi].is_some() && (net.wiring[pi].has_backward_projections || pi == out) {
                net.start_step(pi);
                net.nudge(pi);
            }
        }
    }
    net.reversed_layers = layers;
    Ok(())
}
