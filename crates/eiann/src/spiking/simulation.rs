//! The whole spiking experiment for a set of postsynaptic units: spike generation, currents,
//! integration, output spikes and weight changes, in the notebook's order (spec §9).

use ndarray::{Array2, ArrayView1, ArrayView2};

use super::numpy_rng::NumpyRandomState;
use super::params::SpikingParams;
use super::poisson::generate_inhomogeneous_poisson_spikes;
use super::population::{
    generate_presynaptic_spikes, validate_populations, PresynapticPopulation, PresynapticSpikes,
};
use super::two_compartment::{eligibility_traces, integrate, total_currents};
use super::weight_change::{weight_changes, DtpPlasticity, WeightChanges};
use crate::{Error, Result};

/// Everything one spiking simulation produces (the notebook's `pre_spike_times`, `pre_spikes`,
/// `eligibility_traces`, `soma_voltage_trace`, `dend_voltage_trace`, `soma_spikes_*`, `rate_dW`,
/// `spiking_dW`), for the simulated units in the order they were given.
#[derive(Debug, Clone)]
pub struct SpikingRun {
    /// Simulated postsynaptic units (row `k` of the voltage matrices is unit `units[k]`).
    pub units: Vec<usize>,
    /// Presynaptic rates and spike trains, in population order.
    pub presynaptic: Vec<PresynapticSpikes>,
    /// Eligibility traces `(T, n_pre)` of each presynaptic population (parallel to `presynaptic`).
    pub eligibility_traces: Vec<Array2<f32>>,
    /// Somatic potential `(units, T)`.
    pub soma_v: Array2<f32>,
    /// Dendritic potential `(units, T)`.
    pub dend_v: Array2<f32>,
    /// Output spike times (ms) of each simulated unit, drawn after all presynaptic spikes, in unit order.
    pub output_spikes: Vec<Vec<i64>>,
    /// Rate vs spiking ΔW of the plastic projection, when a [`DtpPlasticity`] was given.
    pub weight_changes: Option<WeightChanges>,
}

impl SpikingRun {
    /// Index of the presynaptic population called `name`.
    pub fn population_index(&self, name: &str) -> Result<usize> {
        self.presynaptic
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| unknown_population(name, self.presynaptic.iter().map(|p| &p.name[..])))
    }

    /// Spikes of the presynaptic population called `name`.
    pub fn population(&self, name: &str) -> Result<&PresynapticSpikes> {
        Ok(&self.presynaptic[self.population_index(name)?])
    }

    /// Eligibility traces `(T, n_pre)` of the presynaptic population called `name`.
    pub fn eligibility(&self, name: &str) -> Result<ArrayView2<'_, f32>> {
        Ok(self.eligibility_traces[self.population_index(name)?].view())
    }

    /// Eligibility traces of `name` at the last millisecond (`eligibility_traces[pre][-1]`).
    pub fn final_eligibility(&self, name: &str) -> Result<ArrayView1<'_, f32>> {
        let et = &self.eligibility_traces[self.population_index(name)?];
        let last = et.nrows().saturating_sub(1);
        Ok(et.row(last))
    }

    /// Number of 1 ms samples `T`.
    pub fn n_steps(&self) -> usize {
        self.soma_v.ncols()
    }
}

fn unknown_population<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Error {
    Error::UnknownName {
        kind: "presynaptic population",
        name: name.to_string(),
        hint: format!("; known: {}", known.collect::<Vec<_>>().join(", ")),
    }
}

/// Simulate the given postsynaptic `units` — the notebook's "Run spiking simulation" cells with
/// `units = [positive_unit_idx, negative_unit_idx]`.
///
/// Order of operations (and of RNG draws, from one `NumpyRandomState::new(params.seed)`):
/// presynaptic rates and spikes for every population in order ([`generate_presynaptic_spikes`]);
/// currents and eligibility traces; Euler integration ([`integrate`]); then the output spikes of each
/// unit in `units` order from the float64 rate `max(v_s, 0) · max_rate_hz` (not capped); finally
/// the weight changes if `plasticity` is given.
///
/// The presynaptic spikes do not depend on `units`, so the same seed gives the same presynaptic trains
/// and the same voltages for a unit whether it is simulated alone, with another unit or within the
/// whole population ([`simulate_population`]); only the output spikes of later units depend on which
/// units come before them.
///
/// Errors: empty `units` or an index `≥ n_post`; mismatched shapes between activities, weights and
/// the plasticity series; unknown `plasticity.pre`; NaN activities; invalid parameters.
pub fn simulate_units(
    pops: &[PresynapticPopulation<'_>],
    plasticity: Option<&DtpPlasticity<'_>>,
    units: &[usize],
    params: &SpikingParams,
) -> Result<SpikingRun> {
    let (steps, n_post) = validate_populations(pops)?;
    params.validate()?;
    if units.is_empty() {
        return Err(Error::invalid("unit indices", "no units to simulate"));
    }
    if let Some(&bad) = units.iter().find(|&&u| u >= n_post) {
        return Err(Error::invalid(
            "unit index",
            format!("unit {bad} is out of range for a postsynaptic population of {n_post}"),
        ));
    }
    let plastic_index = match plasticity {
        Some(p) => {
            p.validate(steps, n_post)?;
            Some(
                pops.iter()
                    .position(|q| q.name == p.pre)
                    .ok_or_else(|| unknown_population(p.pre, pops.iter().map(|q| q.name)))?,
            )
        }
        None => None,
    };

    let mut rng = NumpyRandomState::new(params.seed);
    let presynaptic = generate_presynaptic_spikes(pops, params, &mut rng)?;
    let traces: Vec<Array2<f32>> = presynaptic
        .iter()
        .map(|s| eligibility_traces(s, params))
        .collect();
    let weights: Vec<ArrayView2<'_, f32>> = pops.iter().map(|p| p.weight).collect();
    let (dend_current, soma_current) = total_currents(&presynaptic, &weights, units, params);
    let v = integrate(dend_current.view(), soma_current.view(), params);

    let mut output_spikes = Vec::with_capacity(units.len());
    let gain = params.max_rate_hz;
    for soma in v.soma_v.rows() {
        // np.clip(python_floats, 0, None) * max_rate: float64, not capped.
        let rate: Vec<f64> = soma.iter().map(|&x| f64::from(x).max(0.0) * gain).collect();
        output_spikes.push(generate_inhomogeneous_poisson_spikes(
            &rate,
            params.refractory_ms,
            params.numpy_scalars,
            &mut rng,
        )?);
    }

    let weight_changes = match (plasticity, plastic_index) {
        (Some(p), Some(i)) => {
            let last = v.dend_v.ncols() - 1;
            let final_dend: Vec<f32> = v.dend_v.column(last).to_vec();
            Some(weight_changes(
                p,
                pops[i].activity,
                traces[i].row(traces[i].nrows() - 1),
                &final_dend,
                units,
            )?)
        }
        _ => None,
    };

    Ok(SpikingRun {
        units: units.to_vec(),
        presynaptic,
        eligibility_traces: traces,
        soma_v: v.soma_v,
        dend_v: v.dend_v,
        output_spikes,
        weight_changes,
    })
}

/// Simulate every postsynaptic unit (`units = 0..n_post`) at once: [`simulate_units`] with all units,
/// so the presynaptic spikes are drawn once and the currents of each population are one sparse
/// `(T × n_pre)·(n_pre × n_post)` product (each spike adds a weight row).
pub fn simulate_population(
    pops: &[PresynapticPopulation<'_>],
    plasticity: Option<&DtpPlasticity<'_>>,
    params: &SpikingParams,
) -> Result<SpikingRun> {
    let (_, n_post) = validate_populations(pops)?;
    let units: Vec<usize> = (0..n_post).collect();
    simulate_units(pops, plasticity, &units, params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spiking::population::Compartment;
    use ndarray::Array2;

    /// A small two-population network with smooth activities and mixed-sign weights.
    struct Toy {
        a_soma: Array2<f32>,
        w_soma: Array2<f32>,
        a_dend: Array2<f32>,
        w_dend: Array2<f32>,
        post_soma: Array2<f32>,
        post_dend: Array2<f32>,
    }

    fn toy() -> Toy {
        let steps = 21;
        let n_post = 6;
        Toy {
            a_soma: Array2::from_shape_fn((steps, 30), |(t, j)| {
                0.4 + 0.3 * ((t as f32 * 0.3 + j as f32).sin())
            }),
            w_soma: Array2::from_shape_fn((n_post, 30), |(u, j)| {
                0.05 * (((u * 7 + j * 3) % 11) as f32 - 4.0)
            }),
            a_dend: Array2::from_shape_fn((steps, 8), |(t, j)| {
                if t > 10 {
                    0.2 + 0.05 * j as f32
                } else {
                    0.1
                }
            }),
            w_dend: Array2::from_shape_fn((n_post, 8), |(u, j)| 0.1 * (((u + j) % 5) as f32 - 2.0)),
            post_soma: Array2::from_shape_fn(
                (steps, n_post),
                |(_, u)| {
                    if u == 2 {
                        0.0
                    } else {
                        0.5
                    }
                },
            ),
            post_dend: Array2::from_shape_fn((steps, n_post), |(t, u)| {
                0.01 * t as f32 * (u as f32 - 2.5)
            }),
        }
    }

    impl Toy {
        fn pops(&self) -> Vec<PresynapticPopulation<'_>> {
            vec![
                PresynapticPopulation {
                    name: "S",
                    activity: self.a_soma.view(),
                    weight: self.w_soma.view(),
                    recurrent: false,
                    compartment: Compartment::Soma,
                },
                PresynapticPopulation {
                    name: "D",
                    activity: self.a_dend.view(),
                    weight: self.w_dend.view(),
                    recurrent: true,
                    compartment: Compartment::Dendrite,
                },
            ]
        }

        fn plasticity(&self) -> DtpPlasticity<'_> {
            DtpPlasticity {
                pre: "S",
                soma_activity: self.post_soma.view(),
                dendritic_state: self.post_dend.view(),
                learning_rate: 0.0125,
                before_nudge_row: 10,
            }
        }
    }

    #[test]
    fn units_are_rows_of_the_population_run() {
        let t = toy();
        let p = SpikingParams::default();
        let all = simulate_population(&t.pops(), Some(&t.plasticity()), &p).unwrap();
        let two = simulate_units(&t.pops(), Some(&t.plasticity()), &[4, 1], &p).unwrap();
        assert_eq!(all.soma_v.dim(), (6, 420));
        for (k, &u) in two.units.iter().enumerate() {
            assert_eq!(two.soma_v.row(k), all.soma_v.row(u));
            assert_eq!(two.dend_v.row(k), all.dend_v.row(u));
            let (dw2, dwa) = (
                two.weight_changes.as_ref().unwrap(),
                all.weight_changes.as_ref().unwrap(),
            );
            assert_eq!(dw2.spiking_dw.row(k), dwa.spiking_dw.row(u));
            assert_eq!(dw2.rate_dw.row(k), dwa.rate_dw.row(u));
        }
        for (a, b) in two.presynaptic.iter().zip(&all.presynaptic) {
            assert_eq!(a.spike_times, b.spike_times);
        }
        // The first unit's output spikes do not depend on the units after it.
        let one = simulate_units(&t.pops(), None, &[4], &p).unwrap();
        assert_eq!(one.output_spikes[0], two.output_spikes[0]);
        assert!(one.weight_changes.is_none());
        // Unit 2 is gated off: all-zero ΔW.
        let dw = all.weight_changes.unwrap();
        assert!(!dw.gate[2]);
        assert!(dw.spiking_dw.row(2).iter().all(|&x| x == 0.0));
        assert!(dw.spiking_dw.row(0).iter().any(|&x| x != 0.0));
    }

    #[test]
    fn bad_requests_are_errors() {
        let t = toy();
        let p = SpikingParams::default();
        let e = simulate_units(&t.pops(), None, &[6], &p).unwrap_err();
        assert!(e.to_string().contains("unit 6"), "{e}");
        assert!(simulate_units(&t.pops(), None, &[], &p).is_err());
        let wrong = DtpPlasticity {
            pre: "H1E",
            ..t.plasticity()
        };
        let e = simulate_units(&t.pops(), Some(&wrong), &[0], &p).unwrap_err();
        assert!(matches!(e, Error::UnknownName { .. }), "{e}");
        assert!(e.to_string().contains("known: S, D"), "{e}");
        let short = t.post_dend.slice(ndarray::s![..20, ..]).to_owned();
        let bad_shape = DtpPlasticity {
            dendritic_state: short.view(),
            ..t.plasticity()
        };
        assert!(simulate_units(&t.pops(), Some(&bad_shape), &[0], &p).is_err());
        let bad_params = SpikingParams {
            refractory_ms: -1.0,
            ..p
        };
        assert!(simulate_units(&t.pops(), None, &[0], &bad_params).is_err());
    }
}
