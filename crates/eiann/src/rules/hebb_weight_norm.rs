//! `Hebb_WeightNorm` (EIANN `rules/hebbian.py`): `Δ = post ⊗ pre`, `W += lr·Δ` for `sign > 0` and
//! `W −= lr·Δ` otherwise; the row normalisation is the projection's `normalize_weight` constraint.
//! No backward phase of its own (inherits `LearningRule.backward`).

use super::{LearningRule, RuleKwargs};
use crate::config::Direction;
use crate::error::Result;
use crate::network::Network;

/// Settings of `Hebb_WeightNorm`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HebbWeightNorm {
    /// Learning rate (its own kwarg, else the network's `learning_rate`).
    pub learning_rate: f64,
    /// `sign > 0`: potentiation; otherwise the product is subtracted (inhibitory weights).
    pub sign: f64,
    /// Use the forward-phase activities (`forward_activity`, `forward_prev_activity`) instead of the
    /// current ones.
    pub forward_only: bool,
}

impl LearningRule for HebbWeightNorm {
    const CLASS: &'static str = "Hebb_WeightNorm";

    fn from_kwargs(kw: &RuleKwargs<'_>) -> Result<Self> {
        kw.known(&["learning_rate", "sign", "forward_only"])?;
        Ok(HebbWeightNorm {
            learning_rate: kw.learning_rate()?,
            sign: kw.f64("sign")?.unwrap_or(1.0),
            forward_only: kw.bool("forward_only")?.unwrap_or(false),
        })
    }

    fn learning_rate(&self) -> Option<f64> {
        Some(self.learning_rate)
    }

    /// Projection `k`: `a` = post activity, `b` = pre activity (prev activity for R projections), the
    /// forward-phase values when `forward_only`.
    fn step(&self, net: &mut Network, k: usize) {
        let clamp = net.update_clamp(k);
        let ps = &net.spec.projections[k];
        let (post, pre) = (&net.pops[ps.post], &net.pops[ps.pre]);
        let a = if self.forward_only {
            &post.forward_activity
        } else {
            &post.activity
        };
        let b = match (self.forward_only, ps.direction) {
            (true, Direction::Forward) => &pre.forward_activity,
            (true, Direction::Recurrent) => &pre.forward_prev_activity,
            (false, Direction::Forward) => &pre.activity,
            (false, Direction::Recurrent) => &pre.prev_activity,
        };
        let sa = &mut net.scratch_a[..a.len()];
        sa.copy_from_slice(a);
        let sb = &mut net.scratch_y[..b.len()];
        sb.copy_from_slice(b);
        net.projections[k].outer_update(
            &net.scratch_a[..a.len()],
            &net.scratch_y[..b.len()],
            self.learning_rate as f32,
            self.sign <= 0.0,
            clamp,
        );
    }
}
