//! `BP_like_2E` (EIANN `rules/backprop_like.py`): one instantaneous top-down nudge instead of an
//! equilibrated supervised phase (spec-rules §4), and `ΔW = lr · plateau_post ⊗ clamp(forward pre, 0, 1)`.
//!
//! The backward pass visits the non-input layers top-down (Output, H2, H1) once, with no time loop and
//! no somatic integration: (a) dendritic state `D = clamp(Σ_dend W·r, −1, 1)` from the current activities
//! (the nudged ones of the layer above); (b) plateaus: the output's `clamp(y − a, −1, 1)`, a hidden
//! population's `D`, relu-gated by the forward activity and reduced to the `max_pop_fraction` largest
//! positive / most negative entries; (c) the nudge `activity = f(state + dend_to_soma)` (states keep their
//! forward values).

use crate::config::{Compartment, Direction, Rule};
use crate::constraints::clamp_range;
use crate::error::{Error, Result};
use crate::kernels::{matvec, outer_update};
use crate::network::Network;

/// The first incoming projection of `pi` with a `BP_like_2E` rule (its kwargs decide the plateau).
fn rule_of(net: &Network, pi: usize) -> Option<(f64, bool)> {
    net.wiring[pi]
        .incoming
        .iter()
        .find_map(|&k| match net.spec.projections[k].rule {
            Rule::BpLike2E {
                max_pop_fraction,
                relu_gate,
                ..
            } => Some((max_pop_fraction, relu_gate)),
            _ => None,
        })
}

/// `BP_like_2E.backward(network, output, target)`.
pub(crate) fn backward(net: &mut Network, target: &[f32]) -> Result<()> {
    let out = net.spec.output;
    if target.len() != net.spec.populations[out].size {
        return Err(Error::shape(
            "target",
            net.spec.populations[out].size,
            target.len(),
        ));
    }
    let layers = net.reversed_layers.clone();
    for layer in &layers {
        for &pi in layer {
            if rule_of(net, pi).is_some() {
                let p = &mut net.pops[pi];
                p.plateau.fill(0.0);
                p.dend_to_soma.fill(0.0);
            }
        }
    }
    let mut y = vec![0f32; net.scratch_y.len()];
    for layer in &layers {
        // (a) dendritic states from the current activities.
        for &pi in layer {
            if !(net.wiring[pi].has_backward_projections && net.wiring[pi].has_dendrite) {
                continue;
            }
            let n = net.spec.populations[pi].size;
            let mut d = std::mem::take(&mut net.pops[pi].dendritic_state);
            d.fill(0.0);
            for &k in &net.wiring[pi].incoming {
                let ps = &net.spec.projections[k];
                if ps.compartment != Compartment::Dendrite {
                    continue;
                }
                let pre = &net.pops[ps.pre];
                let x = match ps.direction {
                    Direction::Forward => &pre.activity,
                    Direction::Recurrent => &pre.prev_activity,
                };
                matvec(&net.projections[k], x, &mut y[..n]);
                for (v, &w) in d.iter_mut().zip(&y[..n]) {
                    *v += w;
                }
            }
            for v in d.iter_mut() {
                *v = v.clamp(-1.0, 1.0);
            }
            net.pops[pi].dendritic_state = d;
        }
        // (b) plateaus.
        for &pi in layer {
            let Some((max_pop_fraction, relu_gate)) = rule_of(net, pi) else {
                continue;
            };
            let p = &mut net.pops[pi];
            if pi == out {
                for (((pl, ds), &a), &y) in p
                    .plateau
                    .iter_mut()
                    .zip(p.dendritic_state.iter_mut())
                    .zip(&p.activity)
                    .zip(target)
                {
                    let e = (y - a).clamp(-1.0, 1.0);
                    *ds = e;
                    *pl = if relu_gate && a == 0.0 { 0.0 } else { e };
                }
            } else {
                let n = p.plateau.len();
                let gated: Vec<f32> = (0..n)
                    .map(|i| {
                        if relu_gate && p.activity[i] == 0.0 {
                            0.0
                        } else {
                            p.dendritic_state[i]
                        }
                    })
                    .collect();
                select_plateau(&gated, max_pop_fraction, &mut p.plateau);
            }
            let p = &mut net.pops[pi];
            p.dend_to_soma.copy_from_slice(&p.plateau);
        }
        // (c) the nudge.
        for &pi in layer {
            if !(net.wiring[pi].has_backward_projections || pi == out) || rule_of(net, pi).is_none()
            {
                continue;
            }
            let act = net.spec.populations[pi].activation;
            let p = &mut net.pops[pi];
            p.prev_activity.copy_from_slice(&p.activity);
            for ((a, &s), &e) in p.activity.iter_mut().zip(&p.state).zip(&p.dend_to_soma) {
                *a = act.apply(s + e);
            }
        }
    }
    net.input_drive_valid = false;
    Ok(())
}

/// Deterministic plateau selection: keep the `ceil(fraction·n)` largest positive and most negative entries
/// of `gated` (ties by index, stable), zero elsewhere.
fn select_plateau(gated: &[f32], fraction: f64, plateau: &mut [f32]) {
    let n = gated.len();
    let k = (fraction * n as f64).ceil() as usize;
    plateau.fill(0.0);
    if k >= n {
        plateau.copy_from_slice(gated);
        return;
    }
    let mut pos: Vec<usize> = (0..n).filter(|&i| gated[i] > 0.0).collect();
    pos.sort_by(|&a, &b| gated[b].total_cmp(&gated[a]));
    let mut neg: Vec<usize> = (0..n).filter(|&i| gated[i] < 0.0).collect();
    neg.sort_by(|&a, &b| gated[b].total_cmp(&gated[a]));
    let skip = neg.len().saturating_sub(k);
    for &i in pos.iter().take(k).chain(&neg[skip..]) {
        plateau[i] = gated[i];
    }
}

/// `BP_like_2E.step()` for projection `k`: presynaptic forward activity (F) or forward prev activity (R).
pub(crate) fn step(net: &mut Network, k: usize) {
    let ps = &net.spec.projections[k];
    let Rule::BpLike2E { learning_rate, .. } = ps.rule else {
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
    let a = &net.pops[ps.post].plateau;
    outer_update(
        &mut net.projections[k],
        a,
        b,
        learning_rate as f32,
        false,
        clamp_range(ps.weight_bounds),
    );
}

#[cfg(test)]
mod tests {
    use super::select_plateau;

    #[test]
    fn plateau_keeps_the_largest_of_each_sign() {
        let g = [0.5, -0.2, 0.9, -0.7, 0.1, 0.0];
        let mut p = [9.0; 6];
        select_plateau(&g, 2.0 / 6.0, &mut p);
        assert_eq!(p, [0.5, -0.2, 0.9, -0.7, 0.0, 0.0]);
        select_plateau(&g, 1.0 / 6.0, &mut p);
        assert_eq!(p, [0.0, 0.0, 0.9, -0.7, 0.0, 0.0]);
        select_plateau(&g, 1.0, &mut p);
        assert_eq!(p, g);
    }
}
