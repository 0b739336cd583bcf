//! `Hebb_WeightNorm.step` (EIANN `rules/hebbian.py`): `Δ = post ⊗ pre`, `W += lr·Δ` for sign > 0 and
//! `W −= lr·Δ` otherwise; the row normalisation is the projection's `normalize_weight` constraint.

use crate::config::{Direction, Rule};
use crate::network::Network;

use crate::constraints::clamp_range;
use crate::kernels::outer_update;

/// Update projection `k` with forward-phase values (`forward_only`) or the current ones.
pub(crate) fn step(net: &mut Network, k: usize) {
    let ps = &net.spec.projections[k];
    let Rule::HebbWeightNorm {
        learning_rate,
        sign,
        forward_only,
    } = ps.rule
    else {
        return;
    };
    let (post, pre) = (&net.pops[ps.post], &net.pops[ps.pre]);
    let a = if forward_only {
        &post.forward_activity
    } else {
        &post.activity
    };
    let b = match (forward_only, ps.direction) {
        (true, Direction::Forward) => &pre.forward_activity,
        (true, Direction::Recurrent) => &pre.forward_prev_activity,
        (false, Direction::Forward) => &pre.activity,
        (false, Direction::Recurrent) => &pre.prev_activity,
    };
    let sa = &mut net.scratch_a[..a.len()];
    sa.copy_from_slice(a);
    let sb = &mut net.scratch_y[..b.len()];
    sb.copy_from_slice(b);
    outer_update(
        &mut net.projections[k],
        sa,
        sb,
        learning_rate as f32,
        sign <= 0.0,
        clamp_range(ps.weight_bounds),
    );
}
