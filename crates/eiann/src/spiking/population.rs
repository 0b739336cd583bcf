//! The presynaptic populations of the simulated layer and their Poisson spike trains (spec §9.1
//! steps 1–4), generated once, in the notebook's RNG order.

use ndarray::{Array2, ArrayView2};

use super::numpy_rng::NumpyRandomState;
use super::params::SpikingParams;
use super::poisson::generate_with_buffer;
use super::rates::poisson_rates;
use crate::{Error, Result};

pub use crate::config::Compartment;

/// One projection the spiking model simulates, read from the network config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpikingInput {
    /// Projection name, `<post>_<pre>` (e.g. `H2E_H1E`).
    pub projection: String,
    /// Presynaptic population (e.g. `H1E`).
    pub pre: String,
    /// Target compartment (`compartment: dend` → dendrite, else soma).
    pub compartment: Compartment,
    /// `direction: R`: the presynaptic rates arrive one rate step late.
    pub recurrent: bool,
}

/// Every projection onto `population` in `spec`, in projection (YAML) order — the notebook's
/// `for projection in population:` loop, whose order is also the spike generator's RNG order. For H2E
/// of Figure 3: H1E (soma), H2SomaI (soma, recurrent), H2DendI (dendrite, recurrent), OutputE
/// (dendrite).
///
/// Errors: `population` is not in `spec`, or nothing projects onto it.
pub fn spiking_inputs(
    spec: &crate::config::NetworkSpec,
    population: &str,
) -> Result<Vec<SpikingInput>> {
    let post = spec.population_index(population)?;
    let inputs: Vec<SpikingInput> = spec
        .projections
        .iter()
        .filter(|p| p.post == post)
        .map(|p| SpikingInput {
            projection: p.name.clone(),
            pre: spec.populations[p.pre].fullname.clone(),
            compartment: p.compartment,
            recurrent: p.direction == crate::config::Direction::Recurrent,
        })
        .collect();
    if inputs.is_empty() {
        return Err(Error::invalid(
            format!("population {population}"),
            "no projection reaches it, nothing to simulate",
        ));
    }
    Ok(inputs)
}

/// One projection onto the simulated (postsynaptic) population, described by plain arrays: the
/// notebook's `for projection in population:` loop body reads exactly these fields.
///
/// The figure's populations for H2E, in the notebook's (and RNG) order:
/// H1E (soma, feed-forward), H2SomaI (soma, recurrent), H2DendI (dendrite, recurrent),
/// OutputE (dendrite, feed-forward).
#[derive(Debug, Clone, Copy)]
pub struct PresynapticPopulation<'a> {
    /// Population name, e.g. `"H1E"` (used in messages and to look results up).
    pub name: &'a str,
    /// Rate-model activity of the presynaptic population, `(steps, n_pre)` — the cropped series
    /// `activity_dynamics_dict[pre][4:25]` (21 rows in the figure). Not yet in Hz.
    pub activity: ArrayView2<'a, f32>,
    /// Projection weight `(n_post, n_pre)` (EIANN `Projection.weight`, e.g. `H2E_H1E`).
    pub weight: ArrayView2<'a, f32>,
    /// `true` for direction `R` projections: the rates are delayed by one rate step (20 ms).
    pub recurrent: bool,
    /// Target compartment of the currents.
    pub compartment: Compartment,
}

/// The spike trains of one presynaptic population (the notebook's `poisson_rates[pre]`,
/// `pre_spike_times[pre]` and, via [`PresynapticSpikes::train`], `pre_spikes[pre]`).
#[derive(Debug, Clone)]
pub struct PresynapticSpikes {
    /// Population name.
    pub name: String,
    /// Target compartment of its projection.
    pub compartment: Compartment,
    /// Whether its rates were delayed (recurrent projection).
    pub recurrent: bool,
    /// Firing rates in Hz on the 1 ms grid, `(T, n_pre)` float32.
    pub rates_hz: Array2<f32>,
    /// Spike times in ms (`0..T`) of each neuron, ascending.
    pub spike_times: Vec<Vec<i64>>,
}

impl PresynapticSpikes {
    /// Number of neurons.
    pub fn n_neurons(&self) -> usize {
        self.spike_times.len()
    }

    /// Number of 1 ms samples `T`.
    pub fn n_steps(&self) -> usize {
        self.rates_hz.nrows()
    }

    /// Total number of spikes of the population.
    pub fn n_spikes(&self) -> usize {
        self.spike_times.iter().map(Vec::len).sum()
    }

    /// Binary spike matrix `(T, n_pre)` float32 — `pre_spikes[pre]` (built with
    /// `scipy.signal.unit_impulse(T, idx=spike_times)` per neuron).
    pub fn train(&self) -> Array2<f32> {
        let mut s = Array2::zeros((self.n_steps(), self.n_neurons()));
        for (j, times) in self.spike_times.iter().enumerate() {
            for &t in times {
                s[(t as usize, j)] = 1.0;
            }
        }
        s
    }

    /// For each time step, the indices of the neurons spiking then, ascending (a sparse form of
    /// [`PresynapticSpikes::train`]; a neuron appears once per step even if two rounded times collide).
    pub fn spikes_by_step(&self) -> Vec<Vec<u32>> {
        let mut by_step = vec![Vec::new(); self.n_steps()];
        for (j, times) in self.spike_times.iter().enumerate() {
            for &t in times {
                let list: &mut Vec<u32> = &mut by_step[t as usize];
                if list.last() != Some(&(j as u32)) {
                    list.push(j as u32);
                }
            }
        }
        by_step
    }
}

/// Check a set of presynaptic populations against each other: at least one population, equal series
/// lengths (> 0), weight columns = presynaptic size, equal postsynaptic size. Returns
/// `(steps, n_post)`.
pub fn validate_populations(pops: &[PresynapticPopulation<'_>]) -> Result<(usize, usize)> {
    let first = pops.first().ok_or_else(|| {
        Error::invalid(
            "presynaptic populations",
            "need at least one projection onto the simulated population",
        )
    })?;
    let steps = first.activity.nrows();
    let n_post = first.weight.nrows();
    for p in pops {
        let (rows, n_pre) = p.activity.dim();
        if rows == 0 {
            return Err(Error::invalid(
                format!("activity series of {}", p.name),
                "the activity series has no time steps",
            ));
        }
        if rows != steps {
            return Err(Error::shape(
                format!("activity series of {} (time steps)", p.name),
                steps,
                rows,
            ));
        }
        if p.weight.ncols() != n_pre {
            return Err(Error::shape(
                format!(
                    "weight of the projection from {} (columns = presynaptic neurons)",
                    p.name
                ),
                format!("{:?}", (p.weight.nrows(), n_pre)),
                format!("{:?}", p.weight.dim()),
            ));
        }
        if p.weight.nrows() != n_post {
            return Err(Error::shape(
                format!(
                    "weight of the projection from {} (rows = postsynaptic neurons)",
                    p.name
                ),
                n_post,
                p.weight.nrows(),
            ));
        }
    }
    Ok((steps, n_post))
}

/// Convert every population's activity to rates and draw all presynaptic spike trains, in population
/// order then neuron order, from `rng` (the notebook's loop over `population`'s projections; RNG order
/// H1E 0..n, H2SomaI, H2DendI, OutputE for H2E).
///
/// Errors: see [`validate_populations`]; NaN activities.
pub fn generate_presynaptic_spikes(
    pops: &[PresynapticPopulation<'_>],
    params: &SpikingParams,
    rng: &mut NumpyRandomState,
) -> Result<Vec<PresynapticSpikes>> {
    validate_populations(pops)?;
    params.validate()?;
    let mut scratch_rate = Vec::new();
    let mut scratch_corrected = Vec::new();
    let mut out = Vec::with_capacity(pops.len());
    for p in pops {
        let rates_hz = poisson_rates(p.activity, p.recurrent, params)?;
        let mut spike_times = Vec::with_capacity(rates_hz.ncols());
        for (j, column) in rates_hz.columns().into_iter().enumerate() {
            scratch_rate.clear();
            scratch_rate.extend(column.iter().copied());
            let times = generate_with_buffer(
                &scratch_rate,
                params.refractory_ms,
                params.numpy_scalars,
                rng,
                &mut scratch_corrected,
            )
            .map_err(|e| {
                Error::invalid(
                    format!("rates of {} neuron {j}", p.name),
                    format!("{e} (is the activity series NaN?)"),
                )
            })?;
            spike_times.push(times);
        }
        out.push(PresynapticSpikes {
            name: p.name.to_string(),
            compartment: p.compartment,
            recurrent: p.recurrent,
            rates_hz,
            spike_times,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn pop<'a>(name: &'a str, a: &'a Array2<f32>, w: &'a Array2<f32>) -> PresynapticPopulation<'a> {
        PresynapticPopulation {
            name,
            activity: a.view(),
            weight: w.view(),
            recurrent: false,
            compartment: Compartment::Soma,
        }
    }

    #[test]
    fn size_mismatches_are_errors() {
        let a = Array2::<f32>::zeros((21, 4));
        let w_ok = Array2::<f32>::zeros((3, 4));
        let w_bad = Array2::<f32>::zeros((3, 5));
        let e = validate_populations(&[pop("X", &a, &w_bad)]).unwrap_err();
        assert!(e.to_string().contains("projection from X"), "{e}");
        let w_post = Array2::<f32>::zeros((2, 4));
        assert!(validate_populations(&[pop("X", &a, &w_ok), pop("Y", &a, &w_post)]).is_err());
        let short = Array2::<f32>::zeros((20, 4));
        assert!(validate_populations(&[pop("X", &a, &w_ok), pop("Y", &short, &w_ok)]).is_err());
        let empty = Array2::<f32>::zeros((0, 4));
        let e = validate_populations(&[pop("E", &empty, &w_ok)]).unwrap_err();
        assert!(e.to_string().contains("no time steps"), "{e}");
        assert!(validate_populations(&[]).is_err());
        assert_eq!(
            validate_populations(&[pop("X", &a, &w_ok)]).unwrap(),
            (21, 3)
        );
    }

    #[test]
    fn trains_and_sparse_steps_agree() {
        let a = Array2::from_elem((21, 6), 0.6f32);
        let w = Array2::<f32>::zeros((1, 6));
        let mut rng = NumpyRandomState::new(1);
        let spikes =
            generate_presynaptic_spikes(&[pop("X", &a, &w)], &SpikingParams::default(), &mut rng)
                .unwrap();
        let s = &spikes[0];
        let train = s.train();
        assert_eq!(train.dim(), (420, 6));
        assert_eq!(train.sum() as usize, s.n_spikes());
        for (t, js) in s.spikes_by_step().iter().enumerate() {
            for &j in js {
                assert_eq!(train[(t, j as usize)], 1.0);
            }
        }
    }

    #[test]
    fn nan_activity_is_an_error() {
        let mut a = Array2::from_elem((21, 2), 0.3f32);
        a[(5, 1)] = f32::NAN;
        let w = Array2::<f32>::zeros((1, 2));
        let mut rng = NumpyRandomState::new(1);
        let e =
            generate_presynaptic_spikes(&[pop("X", &a, &w)], &SpikingParams::default(), &mut rng)
                .unwrap_err();
        assert!(e.to_string().contains("X neuron 1"), "{e}");
    }
}
