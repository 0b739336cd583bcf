//! The inputs of the Figure 3 panels as plain owned data (`Vec`s and `Array2`s, no borrowed fields):
//! [`crate::figure3`] fills them, the `eiann-plot` crate draws them, and a notebook can keep them across cells.

use crate::error::{Error, Result};
use ndarray::Array2;

/// Input of `eiann_plot::rate_dynamics_example`: the cropped rate-model series of one population (notebook cell 7).
#[derive(Debug, Clone)]
pub struct RateDynamicsPanel {
    /// Dendritic state, rows = cropped time steps (21), columns = units of the population.
    pub dendritic_state: Array2<f32>,
    /// Somatic activity, same shape as `dendritic_state`.
    pub soma_activity: Array2<f32>,
    /// (positive unit, negative unit): drawn red and steelblue by default (88, 51 in the paper).
    pub units: (usize, usize),
    /// Row of the last sensory step; x = row − `before_nudge_row` (10 in the notebook).
    pub before_nudge_row: usize,
    /// Population name, used in the file name (`rate_dynamics_example_<population>`).
    pub population: String,
}

impl RateDynamicsPanel {
    /// The notebook's settings: nudge after row 10, population "H2E".
    pub fn new(
        dendritic_state: Array2<f32>,
        soma_activity: Array2<f32>,
        units: (usize, usize),
    ) -> Self {
        RateDynamicsPanel {
            dendritic_state,
            soma_activity,
            units,
            before_nudge_row: 10,
            population: "H2E".to_string(),
        }
    }
}

/// Input of `eiann_plot::spiking_dynamics`: everything the six-axes spiking figure draws (notebook cell 12).
///
/// Spike times are integer ms from the start of the simulation (0..T); traces are sampled every ms.
/// Index 0 of each pair is the positive unit (red), index 1 the negative unit (blue).
#[derive(Debug, Clone, Default)]
pub struct SpikingPanel {
    /// Raster rows of excitatory dendritic inputs (first 10 OutputE units), drawn red at offsets 0, 1, ….
    pub dend_exc_spikes: Vec<Vec<i64>>,
    /// Raster rows of inhibitory dendritic inputs (first 10 H2DendI units), blue above the E rows.
    pub dend_inh_spikes: Vec<Vec<i64>>,
    /// Raster rows of excitatory somatic inputs: the first 10 H1E units that spiked, in reversed order
    /// (see [`first_active_rows_reversed`]).
    pub soma_exc_spikes: Vec<Vec<i64>>,
    /// Raster rows of inhibitory somatic inputs (first 10 H2SomaI units).
    pub soma_inh_spikes: Vec<Vec<i64>>,
    /// Eligibility traces (length T) of the units in `soma_exc_spikes`, same order.
    pub eligibility_traces: Vec<Vec<f32>>,
    /// Dendrite membrane potential traces (length T) of (positive, negative) unit.
    pub dend_v: [Vec<f32>; 2],
    /// Soma membrane potential traces (length T).
    pub soma_v: [Vec<f32>; 2],
    /// Output spike times of the two units.
    pub soma_spikes: [Vec<i64>; 2],
    /// Rate-model ΔW of each unit's incoming H1E weights.
    pub rate_dw: [Vec<f32>; 2],
    /// Spiking-model ΔW, same length as `rate_dw`.
    pub spiking_dw: [Vec<f32>; 2],
    /// Nudge time in ms (`ceil(21 / 2) · 20 = 220`); x = t − nudge.
    pub nudge_time_ms: i64,
    /// x limits of every axes, ms from the nudge ((−200, 200) in the notebook).
    pub xlim_ms: (f64, f64),
    /// Population name, used in the file name (`spiking_dynamics_<population>`).
    pub population: String,
}

impl SpikingPanel {
    /// An empty panel with the notebook's constants (nudge 220 ms, xlim ±200 ms, population "H2E").
    pub fn new() -> Self {
        SpikingPanel {
            nudge_time_ms: 220,
            xlim_ms: (-200.0, 200.0),
            population: "H2E".to_string(),
            ..Default::default()
        }
    }
}

/// Indices of the first `n` rows that contain at least one spike, in reversed order — the notebook's
/// choice of H1E raster rows (`H1E_active_subset[0:10][::-1]`, cell 12).
pub fn first_active_rows_reversed(spike_times: &[Vec<i64>], n: usize) -> Vec<usize> {
    let mut rows: Vec<usize> = spike_times
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.is_empty())
        .map(|(i, _)| i)
        .take(n)
        .collect();
    rows.reverse();
    rows
}

/// Splits flat spike times + per-neuron counts (the fixture's `spike/pre_spike_times_flat/<pre>` and
/// `spike/pre_spike_counts/<pre>`) into one vector per neuron.
pub fn split_spike_trains(flat: &[i64], counts: &[i64]) -> Result<Vec<Vec<i64>>> {
    let mut out = Vec::with_capacity(counts.len());
    let mut at = 0usize;
    for &c in counts {
        let c = usize::try_from(c)
            .map_err(|_| Error::invalid("spike counts", format!("negative count {c}")))?;
        let end = at
            .checked_add(c)
            .filter(|&e| e <= flat.len())
            .ok_or_else(|| Error::shape("spike times (sum of counts)", at + c, flat.len()))?;
        out.push(flat[at..end].to_vec());
        at = end;
    }
    if at != flat.len() {
        return Err(Error::shape("spike times (sum of counts)", at, flat.len()));
    }
    Ok(out)
}

/// Input of `eiann_plot::dendritic_state_rate_vs_spiking` (notebook cell 13); index 0 = positive unit, 1 = negative.
#[derive(Debug, Clone, Default)]
pub struct DendriticComparisonPanel {
    /// Rate-model dendritic state upsampled to 1 ms (`zoom(dendritic_state[:, u], 20, order=1)`, 420 values).
    pub rate: [Vec<f32>; 2],
    /// Spiking-model dendrite Vm (same length).
    pub spiking: [Vec<f32>; 2],
    /// Population name, used in the file name (`dendritic_state_rate_vs_spiking_<population>`).
    pub population: String,
}

/// Input of `eiann_plot::eligibility_trace_example` (notebook cells 14–15).
#[derive(Debug, Clone, Default)]
pub struct EligibilityTracePanel {
    /// Presynaptic unit index (129 and 13 in the notebook), shown in the title and file name.
    pub unit: usize,
    /// Its rate dynamics upsampled to 1 ms (`zoom(A_H1E[4:25][:, unit], 20, order=1)`).
    pub pre_rate: Vec<f32>,
    /// Its spiking eligibility trace (same length).
    pub trace: Vec<f32>,
    /// Presynaptic population name ("H1E").
    pub population: String,
}

/// Pearson correlation of two equally long series, skipping non-finite pairs; computed by the same
/// float64 accumulator as every agreement statistic ([`crate::spiking::stats::agreement`]).
///
/// Errors if the lengths differ, fewer than two finite pairs remain, or either series is constant.
pub fn pearson_r(a: &[f32], b: &[f32]) -> Result<f64> {
    if a.len() != b.len() {
        return Err(Error::shape("pearson_r: second series", a.len(), b.len()));
    }
    let (x, y): (Vec<f32>, Vec<f32>) = a
        .iter()
        .zip(b)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(&x, &y)| (x, y))
        .unzip();
    if x.len() < 2 {
        return Err(Error::invalid("pearson_r", "fewer than two finite pairs"));
    }
    crate::spiking::stats::agreement(&x, &y)?
        .pearson_r
        .ok_or_else(|| Error::invalid("pearson_r", "a series is constant"))
}

/// Input of `eiann_plot::dw_agreement_scatter`: ΔW of many units pooled into two equally long vectors.
#[derive(Debug, Clone, Default)]
pub struct DwAgreementPanel {
    /// Rate-model ΔW (x).
    pub rate_dw: Vec<f32>,
    /// Spiking-model ΔW (y), same length.
    pub spiking_dw: Vec<f32>,
    /// Optional title (e.g. "H2E ← H1E, 500 units").
    pub title: Option<String>,
}

/// Input of `eiann_plot::pearson_r_histogram`: one Pearson r per unit.
#[derive(Debug, Clone, Default)]
pub struct PearsonHistogramPanel {
    /// Per-unit correlation of rate vs spiking ΔW (values in −1..=1; non-finite ones are skipped).
    pub r: Vec<f32>,
    /// Number of bins over [−1, 1] (0 → 40).
    pub bins: usize,
}

/// Input of `eiann_plot::agreement_vs_max_rate`: one agreement value per tested maximum rate.
#[derive(Debug, Clone, Default)]
pub struct AgreementVsRatePanel {
    /// Maximum firing rates (Hz), x.
    pub max_rate_hz: Vec<f32>,
    /// Agreement measure at each rate (e.g. median per-unit Pearson r), y.
    pub agreement: Vec<f32>,
    /// Optional spread (e.g. interquartile half-width) drawn as a band of ± spread.
    pub spread: Option<Vec<f32>>,
    /// y-axis label ("Median Pearson r" when empty).
    pub ylabel: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spike_trains_split_by_counts() {
        assert!(split_spike_trains(&[1, 2, 3], &[1, 1]).is_err());
        assert!(split_spike_trains(&[1, 2], &[1, 5]).is_err());
        assert!(split_spike_trains(&[1, 2], &[-1, 3]).is_err());
        assert_eq!(
            split_spike_trains(&[1, 2, 3], &[2, 0, 1]).expect("split"),
            vec![vec![1, 2], vec![], vec![3]]
        );
        assert_eq!(
            first_active_rows_reversed(&[vec![], vec![1], vec![2], vec![], vec![3]], 2),
            vec![2, 1]
        );
    }

    #[test]
    fn pearson_r_needs_two_varying_series() {
        assert!(pearson_r(&[1.0, 1.0], &[1.0, 2.0]).is_err());
        assert!(pearson_r(&[1.0, 2.0], &[1.0]).is_err());
        let r = pearson_r(&[1.0, 2.0, 3.0, f32::NAN], &[2.0, 4.0, 6.5, 1.0]).expect("r");
        assert!(r > 0.99 && r <= 1.0, "{r}");
    }
}
