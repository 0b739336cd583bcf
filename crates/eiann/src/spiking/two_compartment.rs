//! Synaptic currents, eligibility traces and the Euler integration of the two-compartment
//! (soma + dendrite) neurons, float32 step by step as the notebook's main simulation loop (spec §9.3).

use ndarray::{Array2, ArrayView2};

use super::params::SpikingParams;
use super::population::PresynapticSpikes;

/// Synaptic currents `I[t, k] = fl(fl(g) · Σ_j s[t, j] · W[units[k], j])`, shape `(T, units.len())`
/// — the notebook's `weight_scale * projection(pre_spikes).numpy()` restricted to the simulated units.
///
/// Spikes are 0/1, so the product `s · Wᵀ` is a sum of weight entries; it is accumulated in float32
/// in ascending presynaptic order, starting from 0. **Summation order differs** from PyTorch's BLAS
/// `sgemm` (blocked, vectorised, unspecified order): results agree to ~1e-7 relative, not bit for bit
/// (spec §11.1.1). The scale is rounded to float32 first, as NumPy does for `2.3 * float32_array`.
///
/// `units` must be valid rows of `weight` (checked by the callers).
pub fn synaptic_currents(
    spikes: &PresynapticSpikes,
    weight: ArrayView2<'_, f32>,
    units: &[usize],
    weight_scale: f64,
) -> Array2<f32> {
    let mut currents = Array2::<f32>::zeros((spikes.n_steps(), units.len()));
    add_synaptic_currents(spikes, weight, units, weight_scale, currents.view_mut());
    currents
}

/// Add [`synaptic_currents`] into `total` (`total[t, k] = fl(total[t, k] + I[t, k])`), which is how the
/// notebook accumulates the dendritic (or somatic) current of several populations: `I_total` starts at
/// 0 and each population's full current is added in population order.
pub(crate) fn add_synaptic_currents(
    spikes: &PresynapticSpikes,
    weight: ArrayView2<'_, f32>,
    units: &[usize],
    weight_scale: f64,
    mut total: ndarray::ArrayViewMut2<'_, f32>,
) {
    let n_units = units.len();
    // Wᵀ restricted to the simulated units: row j holds W[units[k], j] for k = 0..n_units, so a spike
    // of neuron j adds one contiguous row.
    let mut wt = vec![0.0f32; spikes.n_neurons() * n_units];
    for (k, &u) in units.iter().enumerate() {
        for (j, &w) in weight.row(u).iter().enumerate() {
            wt[j * n_units + k] = w;
        }
    }
    let g = weight_scale as f32;
    let mut acc = vec![0.0f32; n_units];
    for (t, active) in spikes.spikes_by_step().iter().enumerate() {
        acc.fill(0.0);
        for &j in active {
            let row = &wt[j as usize * n_units..(j as usize + 1) * n_units];
            for (a, &w) in acc.iter_mut().zip(row) {
                *a += w;
            }
        }
        for (dst, &a) in total.row_mut(t).iter_mut().zip(&acc) {
            *dst += g * a;
        }
    }
}

/// Eligibility traces of one presynaptic population, `(T, n_pre)`: row `t` is the trace after step `t`,
/// `ET ← fl(ET + fl(fl(−ET + fl(s[t]·fl(g))) / tau_et_ms))` from `ET = 0` — the notebook's
/// `ET_values[pre_pop] += (-ET_values[pre_pop] + pre_spikes[pre_pop][t]*weight_scale)/tau_ET`,
/// recorded once per step (`eligibility_traces[pre_pop]`).
///
/// The traces do not interact with the voltages, so computing them population by population gives the
/// same bits as the notebook's interleaved loop.
pub fn eligibility_traces(spikes: &PresynapticSpikes, params: &SpikingParams) -> Array2<f32> {
    let (steps, n) = (spikes.n_steps(), spikes.n_neurons());
    let g = params.weight_scale as f32;
    let tau = params.tau_et_ms;
    let mut traces = Array2::<f32>::zeros((steps, n));
    let mut et = vec![0.0f32; n];
    let mut drive = vec![0.0f32; n];
    for (t, active) in spikes.spikes_by_step().iter().enumerate() {
        for &j in active {
            drive[j as usize] = g; // fl(1·g); fl(0·g) = 0 elsewhere
        }
        for (e, &d) in et.iter_mut().zip(&drive) {
            *e += (-*e + d) / tau;
        }
        for &j in active {
            drive[j as usize] = 0.0;
        }
        traces
            .row_mut(t)
            .assign(&ndarray::ArrayView1::from(&et[..]));
    }
    traces
}

/// Somatic and dendritic membrane potentials of the simulated units, each `(units, T)`.
#[derive(Debug, Clone)]
pub struct VoltageTraces {
    /// Somatic potential `v_s` after each step (`soma_voltage_trace`).
    pub soma_v: Array2<f32>,
    /// Dendritic potential `v_d` after each step (`dend_voltage_trace`).
    pub dend_v: Array2<f32>,
}

/// Euler integration (1 ms steps) of `n_units` two-compartment neurons from `v = 0`, given their total
/// dendritic and somatic currents `(T, n_units)`:
///
/// ```text
/// v_d ← fl(v_d + fl(fl(−v_d + I_d[t]) / tau_dend_ms))
/// v_s ← fl(v_s + fl(fl(fl(−v_s + I_s[t]) + fl(v_d · coupling)) / tau_soma_ms))   (new v_d)
/// ```
///
/// exactly the float32 operation sequence of the notebook's loop (division by the time constant, not
/// multiplication by its inverse).
pub fn integrate(
    dend_current: ArrayView2<'_, f32>,
    soma_current: ArrayView2<'_, f32>,
    params: &SpikingParams,
) -> VoltageTraces {
    let (steps, n_units) = dend_current.dim();
    debug_assert_eq!(soma_current.dim(), dend_current.dim());
    let mut soma_v = Array2::<f32>::zeros((steps, n_units));
    let mut dend_v = Array2::<f32>::zeros((steps, n_units));
    let mut vs = vec![0.0f32; n_units];
    let mut vd = vec![0.0f32; n_units];
    let (tau_d, tau_s, k) = (params.tau_dend_ms, params.tau_soma_ms, params.dend_coupling);
    for t in 0..steps {
        let id = dend_current.row(t);
        let is = soma_current.row(t);
        for u in 0..n_units {
            vd[u] += (-vd[u] + id[u]) / tau_d;
            vs[u] += ((-vs[u] + is[u]) + vd[u] * k) / tau_s;
        }
        soma_v
            .row_mut(t)
            .assign(&ndarray::ArrayView1::from(&vs[..]));
        dend_v
            .row_mut(t)
            .assign(&ndarray::ArrayView1::from(&vd[..]));
    }
    // Stored unit-major, like the notebook's per-unit lists.
    VoltageTraces {
        soma_v: soma_v.reversed_axes().as_standard_layout().to_owned(),
        dend_v: dend_v.reversed_axes().as_standard_layout().to_owned(),
    }
}

/// Total dendritic and somatic currents `(T, units)` of the simulated units: every population's
/// [`synaptic_currents`] added in population order into the current of its compartment (the notebook's
/// `total_dend_current` / `total_soma_current`; `dend_currents` and `soma_currents` keep the
/// projection order).
pub fn total_currents(
    spikes: &[PresynapticSpikes],
    weights: &[ArrayView2<'_, f32>],
    units: &[usize],
    params: &SpikingParams,
) -> (Array2<f32>, Array2<f32>) {
    use super::population::Compartment;
    let steps = spikes.first().map_or(0, PresynapticSpikes::n_steps);
    let mut dend = Array2::<f32>::zeros((steps, units.len()));
    let mut soma = Array2::<f32>::zeros((steps, units.len()));
    for (s, w) in spikes.iter().zip(weights) {
        let target = match s.compartment {
            Compartment::Dendrite => dend.view_mut(),
            Compartment::Soma => soma.view_mut(),
        };
        add_synaptic_currents(s, *w, units, params.weight_scale, target);
    }
    (dend, soma)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spiking::population::{Compartment, PresynapticSpikes};
    use ndarray::{array, Array2};

    fn spikes(times: Vec<Vec<i64>>, steps: usize, compartment: Compartment) -> PresynapticSpikes {
        PresynapticSpikes {
            name: "X".into(),
            compartment,
            recurrent: false,
            rates_hz: Array2::zeros((steps, times.len())),
            spike_times: times,
        }
    }

    #[test]
    fn currents_add_weight_columns_of_spiking_neurons() {
        let s = spikes(vec![vec![0, 2], vec![2]], 3, Compartment::Soma);
        // W (post 3 × pre 2)
        let w = array![[1.0f32, 10.0], [2.0, 20.0], [3.0, 30.0]];
        let i = synaptic_currents(&s, w.view(), &[2, 0], 2.3);
        let g = 2.3f32;
        assert_eq!(i.row(0).to_vec(), vec![g * 3.0, g * 1.0]);
        assert_eq!(i.row(1).to_vec(), vec![0.0, 0.0]);
        assert_eq!(i.row(2).to_vec(), vec![g * 33.0, g * 11.0]);
    }

    #[test]
    fn eligibility_trace_is_a_leaky_integral() {
        let p = SpikingParams::default();
        // One spike at t = 1: ET jumps to 2.3/60 and then decays by (1 − 1/60) per ms.
        let et = eligibility_traces(&spikes(vec![vec![1]], 200, Compartment::Soma), &p);
        assert_eq!(et[(0, 0)], 0.0);
        let g = 2.3f32;
        assert_eq!(et[(1, 0)], (-0.0f32 + g) / 60.0);
        assert_eq!(et[(2, 0)], et[(1, 0)] + (-et[(1, 0)] + 0.0) / 60.0);
        // Regular spiking at 100 Hz for 400 ms: steady state ≈ 2.3 · rate · tau / 1000 ≈ 1.38 · 10 ms
        // period average → mean trace ≈ 2.3 · 0.1 = 0.23 (rate 0.1 spikes/ms).
        let regular: Vec<i64> = (0..400).step_by(10).collect();
        let et = eligibility_traces(&spikes(vec![regular], 400, Compartment::Soma), &p);
        let tail_mean: f32 = et.column(0).iter().skip(300).sum::<f32>() / 100.0;
        assert!((tail_mean - 0.23).abs() < 0.01, "{tail_mean}");
    }

    #[test]
    fn integration_follows_the_notebook_update() {
        let p = SpikingParams::default();
        let id = array![[1.0f32], [1.0], [0.0]];
        let is = array![[0.5f32], [0.0], [0.0]];
        let v = integrate(id.view(), is.view(), &p);
        let mut vd = 0.0f32;
        let mut vs = 0.0f32;
        for t in 0..3 {
            vd += (-vd + id[(t, 0)]) / 20.0;
            vs += ((-vs + is[(t, 0)]) + vd * 3.0) / 60.0;
            assert_eq!(v.dend_v[(0, t)], vd);
            assert_eq!(v.soma_v[(0, t)], vs);
        }
        assert_eq!(v.soma_v.dim(), (1, 3));
    }
}
