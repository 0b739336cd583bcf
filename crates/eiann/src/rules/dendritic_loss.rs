//! `DendriticLoss_6.step` (EIANN `rules/dendritic_loss.py`):
//! `ΔW = (sign·lr) · clamp(forward_dendritic_state_post, −1, 1) ⊗ clamp(forward (prev) activity_pre, 0, 1)`.

use crate::config::{Direction, Rule};
use crate::network::Network;

use crate::constraints::clamp_range;
use crate::kernels::outer_update;

/// Update projection `k` (dendritic inhibition learns to cancel the top-down dendritic input).
pub(crate) fn step(net: &mut Network, k: usize) {
    let ps = &net.spec.projections[k];
    let Rule::DendriticLoss6 {
        learning_rate,
        sign,
    } = ps.rule
    else {
        return;
    };
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
    outer_update(
        &mut net.projections[k],
        a,
        b,
        (sign * learning_rate) as f32,
        false,
        clamp_range(ps.weight_bounds),
    );
}
