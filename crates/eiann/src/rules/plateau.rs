//! Plateau selection of EIANN's backprop-like DTP rules (`rules/backprop_like.py`, shared by `BP_like_2L`
//! and `BP_like_2E`): which units of a population get a dendritic plateau, and how large it is.
//!
//! Output population: `e = clamp(target − activity, −1, 1)`, stored as its dendritic state; the plateau is
//! `e` with `relu_gate` zeroing units whose forward activity is 0.
//! Hidden population: `L = D` (its clamped dendritic state), gated the same way; with `K =
//! ceil(max_pop_fraction · size)` at most the `K` largest positive and the `K` most negative values are
//! kept (deterministic selection; stable sorts by `L` descending). `dend_to_soma = plateau`.

use super::{Rule, RuleKwargs};
use crate::config::Direction;
use crate::error::Result;
use crate::network::{Network, PopulationState};

/// Settings the selection reads from the population's first DTP projection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Selection {
    /// Fraction of the population that may get a plateau of each sign.
    pub max_pop_fraction: f64,
    /// Zero the plateau of units whose forward activity is 0.
    pub relu_gate: bool,
}

impl Selection {
    /// The kwargs every DTP rule reads for its plateaus: `max_pop_fraction` in (0, 1] (default 1),
    /// `relu_gate` (default false); `stochastic: true` (torch.bernoulli selection) is refused.
    pub(crate) fn from_kwargs(kw: &RuleKwargs<'_>) -> Result<Selection> {
        if kw.bool("stochastic")?.unwrap_or(false) {
            return Err(kw.error(
                "stochastic",
                "stochastic plateau selection (torch.bernoulli) is not supported; use false",
            ));
        }
        let max_pop_fraction = kw.f64("max_pop_fraction")?.unwrap_or(1.0);
        if !(max_pop_fraction > 0.0 && max_pop_fraction <= 1.0) {
            return Err(kw.error(
                "max_pop_fraction",
                format!("must be in (0, 1], got {max_pop_fraction}"),
            ));
        }
        Ok(Selection {
            max_pop_fraction,
            relu_gate: kw.bool("relu_gate")?.unwrap_or(false),
        })
    }
}

/// The start of a DTP rule's supervised phase: the plateau settings of every population that owns a
/// projection whose rule `settings` picks (its first such projection, as in EIANN, where the population
/// "shares" that projection's `backward`), with those populations' plateau and `dend_to_soma` zeroed.
pub(crate) fn nudged_populations(
    net: &mut Network,
    settings: impl Fn(&Rule) -> Option<Selection>,
) -> Vec<Option<Selection>> {
    let mut sel = vec![None; net.spec.populations.len()];
    for p in &net.spec.projections {
        if let Some(s) = settings(&p.rule) {
            sel[p.post].get_or_insert(s);
        }
    }
    for (pi, s) in sel.iter().enumerate() {
        if s.is_some() {
            let p = &mut net.pops[pi];
            p.plateau.fill(0.0);
            p.dend_to_soma.fill(0.0);
        }
    }
    sel
}

/// The DTP weight update of projection `k`: `W += lr · plateau_post ⊗ clamp(x_pre, 0, 1)`, with `x_pre` the
/// presynaptic forward-phase activity (`forward_only`) or its activity after the supervised phase (a
/// recurrent projection reads the previous step's), clamped into the projection's bounds in the same pass.
pub(crate) fn update_weights(net: &mut Network, k: usize, learning_rate: f64, forward_only: bool) {
    let clamp = net.update_clamp(k);
    let ps = &net.spec.projections[k];
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
    net.projections[k].outer_update(a, b, learning_rate as f32, false, clamp);
}

/// The plateau (and `dend_to_soma`) of population `p` from its current dendritic state (hidden) or from
/// `target − activity` (the output, `is_output`; its dendritic state is set to the clamped error).
pub(crate) fn select(p: &mut PopulationState, sel: Selection, is_output: bool, target: &[f32]) {
    if is_output {
        for (i, e) in p.plateau.iter_mut().enumerate() {
            let err = (target[i] - p.activity[i]).clamp(-1.0, 1.0);
            p.dendritic_state[i] = err;
            *e = if sel.relu_gate && p.forward_activity[i] == 0.0 {
                0.0
            } else {
                err
            };
        }
        p.dend_to_soma.copy_from_slice(&p.plateau);
        return;
    }
    let n = p.plateau.len();
    let gated = |i: usize| {
        if sel.relu_gate && p.forward_activity[i] == 0.0 {
            0.0
        } else {
            p.dendritic_state[i]
        }
    };
    let max_units = (sel.max_pop_fraction * n as f64).ceil() as usize;
    let mut plateau = std::mem::take(&mut p.plateau);
    plateau.fill(0.0);
    if max_units >= n {
        for (i, v) in plateau.iter_mut().enumerate() {
            *v = gated(i);
        }
    } else {
        // Positive candidates sorted by L descending (stable), first max_units kept; negative
        // candidates sorted by L descending, last max_units kept.
        let mut pos: Vec<usize> = (0..n).filter(|&i| gated(i) > 0.0).collect();
        pos.sort_by(|&a, &b| gated(b).total_cmp(&gated(a)));
        let mut neg: Vec<usize> = (0..n).filter(|&i| gated(i) < 0.0).collect();
        neg.sort_by(|&a, &b| gated(b).total_cmp(&gated(a)));
        let neg_keep = neg.len().saturating_sub(max_units);
        for &i in pos.iter().take(max_units).chain(&neg[neg_keep..]) {
            plateau[i] = gated(i);
        }
    }
    p.dend_to_soma.copy_from_slice(&plateau);
    p.plateau = plateau;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pop(d: &[f32], fwd: &[f32]) -> PopulationState {
        let z = vec![0f32; d.len()];
        PopulationState {
            dendritic_state: d.to_vec(),
            forward_activity: fwd.to_vec(),
            activity: fwd.to_vec(),
            plateau: z.clone(),
            dend_to_soma: z,
            ..Default::default()
        }
    }

    #[test]
    fn keeps_the_largest_of_each_sign_and_gates_silent_units() {
        let mut p = pop(&[0.5, -0.2, 0.9, -0.7, 0.3, 0.8], &[1., 1., 1., 1., 1., 0.]);
        let sel = Selection {
            max_pop_fraction: 0.3, // K = ceil(1.8) = 2
            relu_gate: true,
        };
        select(&mut p, sel, false, &[]);
        assert_eq!(p.plateau, [0.5, -0.2, 0.9, -0.7, 0.0, 0.0]);
        assert_eq!(p.dend_to_soma, p.plateau);
    }

    #[test]
    fn output_plateau_is_the_clamped_gated_error() {
        let mut p = pop(&[0.0; 3], &[0.2, 0.0, 3.0]);
        let sel = Selection {
            max_pop_fraction: 1.0,
            relu_gate: true,
        };
        select(&mut p, sel, true, &[1.0, 1.0, 0.0]);
        assert_eq!(p.dendritic_state, [0.8, 1.0, -1.0]);
        assert_eq!(p.plateau, [0.8, 0.0, -1.0]);
    }
}
