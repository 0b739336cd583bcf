//! `BP_like_2L.step` (EIANN `rules/backprop_like.py`): `ΔW = lr · plateau_post ⊗ clamp(pre, 0, 1)`.
//! The backward phase that produces the plateau lives in [`crate::dynamics`].

use crate::config::{Direction, Rule};
use crate::network::Network;

use crate::constraints::clamp_range;
use crate::kernels::outer_update;

/// Update projection `k`: presynaptic value = activity after the backward phase (`prev_activity` for
/// recurrent projections), or the forward-phase values when `forward_only`.
pub(crate) fn step(net: &mut Network, k: usize) {
    let ps = &net.spec.projections[k];
    let Rule::BpLike2L {
        learning_rate,
        forward_only,
        ..
    } = ps.rule
    else {
        return;
    };
    let pre = &net.pops[ps.pre];
    let src = match (forward_only, ps.direction) {
        (false, Direction::Forward) => &pre.activity,
        (false, Direction::Recurrent) => &pre.prev_activity,
        (true, Direction::Forward) => &pre.forward_activity,
        (true, Direction::Recurrent) => &pre.forward_prev_activity,
    };
    let b = &mut net.scratch_y[..src.len()];
    for (v, &x) in b.iter_mut().zip(src) {
        *v = x.clamp(0.0, 1.0);
    }
    let a = &net.pops[ps.post].plateau;
    let clamp = clamp_range(ps.weight_bounds);
    outer_update(
        &mut net.projections[k],
        a,
        b,
        learning_rate as f32,
        false,
        clamp,
    );
}
