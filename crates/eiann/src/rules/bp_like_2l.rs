//! `BP_like_2L` (EIANN `rules/backprop_like.py`): dendritic target propagation with an iterated
//! supervised (nudge) phase.
//!
//! **Supervised phase** (`BP_like_2L.backward`, once per training step, spec §5): `forward_steps` steps,
//! non-input layers top-down (`Output, H2, H1`). In each step, for each layer:
//! 1. every population with backward projections and a dendrite updates its dendritic state
//!    `D = clamp(Σ_dend W·x, −1, 1)` from the current activities;
//! 2. at step 0 only, every population owning a `BP_like_2L` projection gets its plateau
//!    ([`super::plateau`]): the output from `target − activity`, hidden layers from `D`;
//!    `dend_to_soma = plateau` for the whole phase;
//! 3. every population of the layer starts its step (`prev_activity ← activity`), then the populations
//!    with backward projections and the output integrate `τ·Δs = −s + b + Σ_soma W·x` with the activity
//!    `a = f(s + dend_to_soma)` ([`crate::dynamics`]); other populations keep their activity (unless
//!    `store_dynamics`, which integrates them too, as EIANN does).
//!
//! **Update** (`BP_like_2L.step`): `ΔW = lr · plateau_post ⊗ clamp(pre, 0, 1)` with the presynaptic
//! activity after the supervised phase (`prev_activity` for recurrent projections), or the
//! forward-phase values with `forward_only`.

use super::plateau::{self, Selection};
use super::{LearningRule, Rule, RuleKwargs, Supervision};
use crate::config::{Compartment, NetworkSpec};
use crate::dynamics::Phase;
use crate::error::Result;
use crate::network::Network;

/// Settings of `BP_like_2L`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BpLike2L {
    /// Learning rate (its own kwarg, else the network's `learning_rate`).
    pub learning_rate: f64,
    /// Fraction of the population that may get a plateau of each sign (`max_pop_fraction`, default 1).
    pub max_pop_fraction: f64,
    /// Zero the plateau of units silent in the forward phase (`relu_gate`, default false).
    pub relu_gate: bool,
    /// Update from forward-phase activities instead of those after the supervised phase.
    pub forward_only: bool,
}

impl LearningRule for BpLike2L {
    const CLASS: &'static str = "BP_like_2L";
    const BACKWARD: Option<super::BackwardFn> = Some(supervised_phase);

    fn from_kwargs(kw: &RuleKwargs<'_>) -> Result<Self> {
        kw.known(&[
            "learning_rate",
            "max_pop_fraction",
            "stochastic",
            "relu_gate",
            "forward_only",
        ])?;
        let plateaus = Selection::from_kwargs(kw)?;
        Ok(BpLike2L {
            learning_rate: kw.learning_rate()?,
            max_pop_fraction: plateaus.max_pop_fraction,
            relu_gate: plateaus.relu_gate,
            forward_only: kw.bool("forward_only")?.unwrap_or(false),
        })
    }

    fn check(&self, k: usize, spec: &NetworkSpec) -> std::result::Result<(), super::Refusal> {
        if spec.projections[k].compartment == Compartment::Dendrite {
            return Err("BP_like_2L on a dendritic projection is not supported".into());
        }
        Ok(())
    }

    fn learning_rate(&self) -> Option<f64> {
        Some(self.learning_rate)
    }

    fn step(&self, net: &mut Network, k: usize) {
        plateau::update_weights(net, k, self.learning_rate, self.forward_only);
    }
}

/// `BP_like_2L.backward(network, output, target)`: the supervised phase (module docs).
fn supervised_phase(net: &mut Network, sup: &mut Supervision<'_>) -> Result<()> {
    let out = net.spec.output;
    net.start_supervised_phase();
    let nudged = plateau::nudged_populations(net, |rule| match rule {
        Rule::BpLike2L(r) => Some(Selection {
            max_pop_fraction: r.max_pop_fraction,
            relu_gate: r.relu_gate,
        }),
        _ => None,
    });
    let steps = net.spec.forward_steps;
    let layers = std::mem::take(&mut net.reversed_layers);
    for t in 0..steps {
        // The dendritic state is read at step 0 (plateaus) and, after the phase, as the population's
        // state; every step overwrites it from the current activities alone. So the fast path computes
        // it only at the first and last step (same results) unless the phase is recorded.
        let dendrites_needed =
            t == 0 || t + 1 == steps || sup.record.is_some() || !net.fast.skip_unread_dendrites();
        for layer in &layers {
            for &pi in layer {
                let w = &net.wiring[pi];
                if dendrites_needed && w.has_backward_projections && w.has_dendrite {
                    net.update_dendritic_state(pi, Phase::Supervised);
                    if let Some(r) = sup.record.as_deref_mut() {
                        r.dendritic_state_inloop[pi]
                            .extend_from_slice(&net.pops[pi].dendritic_state);
                    }
                }
            }
            if t == 0 {
                for &pi in layer {
                    if let Some(sel) = nudged[pi] {
                        plateau::select(&mut net.pops[pi], sel, pi == out, sup.target);
                    }
                }
            }
            for &pi in layer {
                net.start_step(pi);
            }
            for &pi in layer {
                if net.wiring[pi].has_backward_projections || pi == out || sup.store_dynamics {
                    net.integrate(pi, Phase::Supervised, nudged[pi].is_some());
                    if sup.store_dynamics {
                        if let Some(r) = sup.record.as_deref_mut() {
                            r.backward_activity[pi].extend_from_slice(&net.pops[pi].activity);
                        }
                    }
                }
            }
        }
    }
    net.reversed_layers = layers;
    Ok(())
}
