//! `DendriticLoss_6` (EIANN `rules/dendritic_loss.py`): the dendritic inhibition learns to cancel the
//! top-down input on the E dendrite,
//! `ΔW = (sign·lr) · clamp(forward_dendritic_state_post, −1, 1) ⊗ clamp(forward (prev) activity_pre, 0, 1)`.
//! No backward phase of its own (inherits `LearningRule.backward`).

use super::{LearningRule, RuleKwargs};
use crate::config::Direction;
use crate::error::Result;
use crate::network::Network;

/// Settings of `DendriticLoss_6`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DendriticLoss6 {
    /// Learning rate (its own kwarg, else the network's `learning_rate`).
    pub learning_rate: f64,
    /// Sign of the update (`sign`, default 1; −1 on the inhibitory DendI → E projections).
    pub sign: f64,
}

impl LearningRule for DendriticLoss6 {
    const CLASS: &'static str = "DendriticLoss_6";

    fn from_kwargs(kw: &RuleKwargs<'_>) -> Result<Self> {
        kw.known(&["learning_rate", "sign"])?;
        Ok(DendriticLoss6 {
            learning_rate: kw.learning_rate()?,
            sign: kw.f64("sign")?.unwrap_or(1.0),
        })
    }

    fn learning_rate(&self) -> Option<f64> {
        Some(self.learning_rate)
    }

    /// Projection `k`: `a = clamp(forward_dendritic_state_post, −1, 1)`, `b = clamp(pre, 0, 1)` with the
    /// pre's forward activity (F) or forward prev activity (R).
    fn step(&self, net: &mut Network, k: usize) {
        let clamp = net.update_clamp(k);
        let ps = &net.spec.projections[k];
        let pre = &net.pops[ps.pre];
        let src = match ps.direction {
            Direction::Forward => &pre.forward_activity,
            Direction::Recurrent => &pre.forward_prev_activity,
        };
        let b = &mut net.scratch_y[..src.len()];
        for (v, &x) in b.iter_mut().zip(src) {
            *v = x.clamp(0.0, 1.0);
        }
        let fds = &net.pops[ps.post].forward_dendritic_state;
        let a = &mut net.scratch_a[..fds.len()];
        for (v, &x) in a.iter_mut().zip(fds) {
            *v = x.clamp(-1.0, 1.0);
        }
        // `sign·lr` is formed in float64 (exact for ±1), then rounded to float32 once.
        let lr = (self.sign * self.learning_rate) as f32;
        net.projections[k].outer_update(a, b, lr, false, clamp);
    }
}
