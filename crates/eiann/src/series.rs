//! Dendritic-state dynamics of one sample (spec §8): the 30-step activity series of every population
//! (15 sensory + 15 supervised steps) and the dendritic-state series, as the Figure 3 notebook builds them
//! with `compute_dendritic_state_dynamics`, plus the crop the figure plots.

use ndarray::{s, Array2, ArrayView2};

use crate::config::Compartment;
use crate::error::{Error, Result};
use crate::network::Network;
use crate::record::Recording;

/// Which dendritic-state values the supervised half of the series holds (spec §8.2; the forward half is
/// the same in both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DendriteSeries {
    /// What the published figure plots (default): `D[k] = Σ_F W·A_pre[k] + Σ_R W·A_pre[k−1]` over the
    /// concatenated 30-step activity series, not clamped (EIANN `compute_dendritic_state_dynamics`).
    #[default]
    Figure,
    /// The values `BP_like_2L.backward` computed inside its loop: clamped to [−1, 1], with the recurrent
    /// DendI term lagging two steps at the start of the supervised phase.
    InLoop,
}

/// The figure's crop and nudge rows, defined in [`crate::figure3::params`] (re-exported here for the
/// series' users).
pub use crate::figure3::params::{AFTER_NUDGE_ROW, BEFORE_NUDGE_ROW, CROP as FIGURE_CROP};

/// Activity and dendritic-state series of every population for one sample.
#[derive(Debug, Clone)]
pub struct DynamicsSeries {
    /// Population full names, creation order.
    pub names: Vec<String>,
    /// `(2·steps, size)` activity per population: forward steps, then backward steps. The input
    /// population repeats its clamped input.
    pub activity: Vec<Array2<f32>>,
    /// `(2·steps, size)` dendritic state for populations with dendritic projections and for the output
    /// population (zeros in the forward half, its clamped error in the backward half); `None` otherwise.
    pub dendrite: Vec<Option<Array2<f32>>>,
    /// Number of steps per phase (`forward_steps`).
    pub steps: usize,
}

impl DynamicsSeries {
    /// Run forward → `update_forward_state` → backward with dynamics stored (every population integrated,
    /// EIANN `store_dynamics=True`) on `(input, target)` with the network's current weights, and assemble
    /// the series. Weights are not changed.
    pub fn compute(
        net: &mut Network,
        input: &[f32],
        target: &[f32],
        variant: DendriteSeries,
    ) -> Result<DynamicsSeries> {
        let mut rec = Recording::new(net.spec());
        net.forward(input, Some(&mut rec))?;
        net.update_forward_state(Some(&mut rec))?;
        net.backward(target, true, Some(&mut rec))?;
        Self::from_recording(net, &rec, variant)
    }

    /// Assemble the series from a recording of one forward + backward pass with `store_dynamics`.
    pub fn from_recording(
        net: &Network,
        rec: &Recording,
        variant: DendriteSeries,
    ) -> Result<DynamicsSeries> {
        let spec = net.spec();
        let steps = spec.forward_steps;
        // A supervised phase that integrates no step (BP_like_2E's instantaneous nudge) records no
        // backward activity at all: its result, the nudged activity, is a step change at the nudge and is
        // held for the `steps` supervised rows (a choice of this crate; EIANN plots no such series).
        let instantaneous = spec
            .populations
            .iter()
            .zip(&rec.backward_activity)
            .all(|(p, b)| p.is_input || b.is_empty());
        let mut activity = Vec::with_capacity(spec.populations.len());
        for (pi, p) in spec.populations.iter().enumerate() {
            let n = p.size;
            let mut a = Array2::<f32>::zeros((2 * steps, n));
            let fwd = &rec.forward_activity[pi];
            if fwd.len() != steps * n {
                return Err(Error::invalid(
                    "recording",
                    format!(
                        "{} has {} forward values, expected {}",
                        p.fullname,
                        fwd.len(),
                        steps * n
                    ),
                ));
            }
            let held: Vec<f32>;
            let bwd: &[f32] = if p.is_input {
                fwd
            } else if instantaneous {
                held = net.population_at(pi).activity[..n].repeat(steps);
                &held
            } else {
                &rec.backward_activity[pi]
            };
            if bwd.len() != steps * n {
                return Err(Error::invalid(
                    "recording",
                    format!(
                        "{} has no backward activity for every step (record with store_dynamics)",
                        p.fullname
                    ),
                ));
            }
            for t in 0..steps {
                a.row_mut(t)
                    .assign(&ndarray::ArrayView1::from(&fwd[t * n..(t + 1) * n]));
                let src = if p.is_input { steps - 1 } else { t };
                a.row_mut(steps + t)
                    .assign(&ndarray::ArrayView1::from(&bwd[src * n..(src + 1) * n]));
            }
            activity.push(a);
        }
        let mut dendrite = Vec::with_capacity(spec.populations.len());
        for (pi, p) in spec.populations.iter().enumerate() {
            let n = p.size;
            let has_dendrite = spec
                .projections
                .iter()
                .any(|q| q.post == pi && q.compartment == Compartment::Dendrite);
            if pi == spec.output && !has_dendrite {
                let mut d = Array2::<f32>::zeros((2 * steps, n));
                let err = &net.population_at(pi).dendritic_state;
                for t in steps..2 * steps {
                    d.row_mut(t).assign(&ndarray::ArrayView1::from(&err[..]));
                }
                dendrite.push(Some(d));
                continue;
            }
            if !has_dendrite {
                dendrite.push(None);
                continue;
            }
            let flat =
                net.dendritic_series(pi, 2 * steps, |pre, k| activity[pre].row(k).to_slice());
            let mut d = Array2::from_shape_vec((2 * steps, n), flat)
                .map_err(|e| Error::invalid("series", e.to_string()))?;
            if variant == DendriteSeries::InLoop {
                let inloop = &rec.dendritic_state_inloop[pi];
                if inloop.len() != steps * n {
                    return Err(Error::invalid(
                        "recording",
                        format!("no in-loop dendritic state for {}", p.fullname),
                    ));
                }
                for t in 0..steps {
                    d.row_mut(steps + t)
                        .assign(&ndarray::ArrayView1::from(&inloop[t * n..(t + 1) * n]));
                }
            }
            dendrite.push(Some(d));
        }
        Ok(DynamicsSeries {
            names: spec
                .populations
                .iter()
                .map(|p| p.fullname.clone())
                .collect(),
            activity,
            dendrite,
            steps,
        })
    }

    fn index(&self, pop: &str) -> Result<usize> {
        crate::config::find_population(self.names.iter().map(String::as_str), pop)
    }

    /// Full `(2·steps, size)` activity series of `pop`.
    pub fn activity(&self, pop: &str) -> Result<ArrayView2<'_, f32>> {
        Ok(self.activity[self.index(pop)?].view())
    }

    /// Full `(2·steps, size)` dendritic-state series of `pop` (error if it has no dendrite).
    pub fn dendrite(&self, pop: &str) -> Result<ArrayView2<'_, f32>> {
        self.dendrite[self.index(pop)?]
            .as_ref()
            .map(|d| d.view())
            .ok_or_else(|| {
                Error::invalid("population", format!("{pop} has no dendritic compartment"))
            })
    }

    /// Rows `range` of `pop`'s activity (e.g. [`FIGURE_CROP`]).
    pub fn activity_crop(&self, pop: &str, range: std::ops::Range<usize>) -> Result<Array2<f32>> {
        let a = self.activity(pop)?;
        check_range(&range, a.nrows())?;
        Ok(a.slice(s![range, ..]).to_owned())
    }

    /// Rows `range` of `pop`'s dendritic state.
    pub fn dendrite_crop(&self, pop: &str, range: std::ops::Range<usize>) -> Result<Array2<f32>> {
        let d = self.dendrite(pop)?;
        check_range(&range, d.nrows())?;
        Ok(d.slice(s![range, ..]).to_owned())
    }
}

/// The example units of the figure chosen automatically (fixtures README rule): among units active at the
/// last sensory step (`activity[BEFORE_NUDGE_ROW, u] > 0`), the one with the largest and the one with the
/// smallest dendritic state at the last cropped row. Inputs are the cropped `(21, n)` series.
/// Returns `(positive, negative)`; an error when no unit is active before the nudge.
pub fn example_units(
    dendrite_crop: ArrayView2<'_, f32>,
    activity_crop: ArrayView2<'_, f32>,
) -> Result<(usize, usize)> {
    if dendrite_crop.dim() != activity_crop.dim() || dendrite_crop.nrows() <= BEFORE_NUDGE_ROW {
        return Err(Error::shape(
            "example unit series",
            format!("two equal shapes with more than {BEFORE_NUDGE_ROW} rows"),
            format!("{:?} and {:?}", dendrite_crop.dim(), activity_crop.dim()),
        ));
    }
    let last = dendrite_crop.row(dendrite_crop.nrows() - 1);
    let active: Vec<usize> = (0..activity_crop.ncols())
        .filter(|&u| activity_crop[[BEFORE_NUDGE_ROW, u]] > 0.0)
        .collect();
    let pos = active
        .iter()
        .copied()
        .max_by(|&a, &b| last[a].total_cmp(&last[b]).then(b.cmp(&a)));
    let neg = active
        .iter()
        .copied()
        .min_by(|&a, &b| last[a].total_cmp(&last[b]).then(a.cmp(&b)));
    match (pos, neg) {
        (Some(p), Some(n)) => Ok((p, n)),
        _ => Err(Error::invalid(
            "example units",
            "no unit is active before the nudge",
        )),
    }
}

fn check_range(r: &std::ops::Range<usize>, n: usize) -> Result<()> {
    if r.start >= r.end || r.end > n {
        return Err(Error::invalid(
            "crop",
            format!(
                "rows {}..{} do not fit a series of {n} rows",
                r.start, r.end
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::NetworkSpec;

    fn network(stem: &str) -> Network {
        let spec = NetworkSpec::from_file(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../data/network_config/mnist")
                .join(format!("{stem}.yaml")),
        )
        .expect("config");
        Network::new(spec, 66049)
    }

    fn blob() -> (Vec<f32>, Vec<f32>) {
        let x: Vec<f32> = (0..784usize)
            .map(|p| {
                let (r, c) = ((p / 28) as i32 - 14, (p % 28) as i32 - 12);
                if r * r + c * c < 40 {
                    0.8
                } else {
                    0.0
                }
            })
            .collect();
        let mut t = vec![0f32; 10];
        t[3] = 1.0;
        (x, t)
    }

    #[test]
    fn an_instantaneous_nudge_is_held_through_the_supervised_half() {
        // 5J (BP_like_2E): the supervised phase integrates nothing, so the series holds the nudged activity.
        let mut net = network("20241009_EIANN_2_hidden_mnist_BP_like_config_5J_complete_optimized");
        let (x, t) = blob();
        let series =
            DynamicsSeries::compute(&mut net, &x, &t, DendriteSeries::Figure).expect("series");
        let steps = series.steps;
        assert_eq!(steps, 15);
        for name in ["H1E", "H2E", "OutputE"] {
            let a = series.activity(name).expect("population");
            assert_eq!(a.nrows(), 2 * steps);
            let after = net
                .population_at(net.spec().population_index(name).unwrap())
                .activity
                .clone();
            for r in steps..2 * steps {
                assert_eq!(a.row(r).to_vec(), after, "{name} row {r}");
            }
        }
        // The output is nudged toward its target: the supervised rows differ from the last forward row.
        let out = series.activity("OutputE").unwrap();
        assert_ne!(out.row(steps - 1), out.row(steps));
        // The dendritic state of H2E after the nudge reads the nudged output (top-down), so it changes too.
        let d = series.dendrite("H2E").unwrap();
        assert_ne!(d.row(steps - 1), d.row(steps + 1));
        assert!(series.dendrite_crop("H2E", FIGURE_CROP).is_ok());
    }

    #[test]
    fn an_integrated_supervised_phase_without_a_recording_is_refused() {
        // 2L records every backward step with store_dynamics; a recording without them is an error.
        let mut net = network("20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized");
        let (x, t) = blob();
        let mut rec = Recording::new(net.spec());
        net.forward(&x, Some(&mut rec)).unwrap();
        net.update_forward_state(Some(&mut rec)).unwrap();
        net.backward(&t, true, Some(&mut rec)).unwrap();
        assert!(DynamicsSeries::from_recording(&net, &rec, DendriteSeries::Figure).is_ok());
        let out = net.spec().output;
        rec.backward_activity[out].clear();
        assert!(DynamicsSeries::from_recording(&net, &rec, DendriteSeries::Figure).is_err());
    }
}
