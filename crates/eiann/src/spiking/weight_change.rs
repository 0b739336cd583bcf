//! Rate-model and spiking-model weight changes of the plastic projection (H2E ← H1E), as the
//! notebook's "Compare dW for rate and spiking models" cell computes them (spec §9.4).

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

use crate::{Error, Result};

/// What the weight-change comparison needs besides the spiking run: the postsynaptic population's
/// rate-model series and the learning rule's rate.
#[derive(Debug, Clone, Copy)]
pub struct DtpPlasticity<'a> {
    /// Name of the presynaptic population of the plastic projection (`"H1E"` for `H2E_H1E`); must be
    /// one of the simulated presynaptic populations.
    pub pre: &'a str,
    /// Rate-model somatic activity of the postsynaptic population, `(steps, n_post)` (the notebook's
    /// `soma_activity`, H2E rows 4..25).
    pub soma_activity: ArrayView2<'a, f32>,
    /// Rate-model dendritic state of the postsynaptic population, `(steps, n_post)` (the notebook's
    /// `dendritic_state`).
    pub dendritic_state: ArrayView2<'a, f32>,
    /// Learning rate of the plastic projection (`network.projections['H2E_H1E'].learning_rule
    /// .learning_rate`); rounded to float32 before use, as PyTorch does.
    pub learning_rate: f64,
    /// Row of `soma_activity` that gates learning (`before_nudge_idx = 10`): units inactive there
    /// (activity ≤ 0) get ΔW = 0.
    pub before_nudge_row: usize,
}

impl DtpPlasticity<'_> {
    /// Check the series against the presynaptic activity length and the postsynaptic size.
    pub fn validate(&self, steps: usize, n_post: usize) -> Result<()> {
        for (what, a) in [
            ("soma_activity", self.soma_activity),
            ("dendritic_state", self.dendritic_state),
        ] {
            if a.dim() != (steps, n_post) {
                return Err(Error::shape(
                    format!("postsynaptic {what} (steps, n_post)"),
                    format!("{:?}", (steps, n_post)),
                    format!("{:?}", a.dim()),
                ));
            }
        }
        if self.before_nudge_row >= steps {
            return Err(Error::invalid(
                "before_nudge_row",
                format!(
                    "row {} is outside the {steps}-step series",
                    self.before_nudge_row
                ),
            ));
        }
        Ok(())
    }

    /// The learning gate of `unit`: `soma_activity[before_nudge_row, unit] > 0`.
    pub fn gate(&self, unit: usize) -> bool {
        self.soma_activity[(self.before_nudge_row, unit)] > 0.0
    }
}

/// The gated DTP weight change of one postsynaptic unit,
/// `ΔW[j] = fl(fl(fl(pre[j] · post_dend) · fl(lr)) · G)` with `G ∈ {0, 1}` — the notebook's
/// `final_pre * final_dend * learning_rate * bool(soma_activity[before_nudge_idx, u] > 0)` (float32, each
/// product rounded separately, left to right).
///
/// Rate model: `pre` = presynaptic activity at the last row, `post_dend` = dendritic state there.
/// Spiking model: `pre` = final eligibility trace, `post_dend` = final dendritic potential.
pub fn dtp_weight_change(
    pre: ArrayView1<'_, f32>,
    post_dend: f32,
    learning_rate: f64,
    gate: bool,
) -> Array1<f32> {
    let lr = learning_rate as f32;
    let g = if gate { 1.0f32 } else { 0.0 };
    pre.mapv(|x| x * post_dend * lr * g)
}

/// Rate vs spiking weight changes of the plastic projection for the simulated units.
#[derive(Debug, Clone)]
pub struct WeightChanges {
    /// Presynaptic population of the plastic projection.
    pub pre: String,
    /// Postsynaptic units (rows of the two matrices).
    pub units: Vec<usize>,
    /// Learning gate of each unit (`soma_activity[before_nudge_row, u] > 0`).
    pub gate: Vec<bool>,
    /// `rate_dW`: `(units, n_pre)`, from the last row of the presynaptic activity and dendritic state.
    pub rate_dw: Array2<f32>,
    /// `spiking_dW`: `(units, n_pre)`, from the final eligibility trace and dendritic potential.
    pub spiking_dw: Array2<f32>,
}

/// Build [`WeightChanges`]: for each unit `u = units[k]`,
/// `rate_dw[k] = ΔW(pre_activity[last], dendritic_state[last, u])` and
/// `spiking_dw[k] = ΔW(final_trace, final_dend_v[k])` ([`dtp_weight_change`]).
pub fn weight_changes(
    plasticity: &DtpPlasticity<'_>,
    pre_activity: ArrayView2<'_, f32>,
    final_trace: ArrayView1<'_, f32>,
    final_dend_v: &[f32],
    units: &[usize],
) -> Result<WeightChanges> {
    let steps = pre_activity.nrows();
    let last = steps.checked_sub(1).ok_or_else(|| {
        Error::invalid(
            "presynaptic activity",
            "the activity series has no time steps",
        )
    })?;
    if final_trace.len() != pre_activity.ncols() {
        return Err(Error::shape(
            "final eligibility trace",
            pre_activity.ncols(),
            final_trace.len(),
        ));
    }
    if final_dend_v.len() != units.len() {
        return Err(Error::shape(
            "final dendritic potentials",
            units.len(),
            final_dend_v.len(),
        ));
    }
    let n_post = plasticity.soma_activity.ncols();
    if let Some(&bad) = units.iter().find(|&&u| u >= n_post) {
        return Err(Error::invalid(
            "unit index",
            format!("unit {bad} is out of range for a population of {n_post}"),
        ));
    }
    let n_pre = pre_activity.ncols();
    let mut rate_dw = Array2::zeros((units.len(), n_pre));
    let mut spiking_dw = Array2::zeros((units.len(), n_pre));
    let mut gate = Vec::with_capacity(units.len());
    let final_pre = pre_activity.row(last);
    for (k, &u) in units.iter().enumerate() {
        let g = plasticity.gate(u);
        gate.push(g);
        let d = plasticity.dendritic_state[(last, u)];
        rate_dw.row_mut(k).assign(&dtp_weight_change(
            final_pre,
            d,
            plasticity.learning_rate,
            g,
        ));
        spiking_dw.row_mut(k).assign(&dtp_weight_change(
            final_trace,
            final_dend_v[k],
            plasticity.learning_rate,
            g,
        ));
    }
    Ok(WeightChanges {
        pre: plasticity.pre.to_string(),
        units: units.to_vec(),
        gate,
        rate_dw,
        spiking_dw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};

    #[test]
    fn gated_product_rounds_step_by_step() {
        let pre = array![0.5f32, 0.0, 0.3];
        let dw = dtp_weight_change(pre.view(), -0.04, 0.012455713212515401, true);
        let lr = 0.012455713212515401f64 as f32;
        assert_eq!(dw[2], (0.3f32 * -0.04f32) * lr);
        assert_eq!(dw[1], 0.0);
        let off = dtp_weight_change(pre.view(), -0.04, 0.0125, false);
        assert!(off.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn shapes_and_units_are_checked() {
        let soma = Array2::from_elem((21, 4), 1.0f32);
        let dend = Array2::from_elem((21, 4), 0.1f32);
        let p = DtpPlasticity {
            pre: "H1E",
            soma_activity: soma.view(),
            dendritic_state: dend.view(),
            learning_rate: 0.01,
            before_nudge_row: 10,
        };
        assert!(p.validate(21, 4).is_ok());
        assert!(p.validate(20, 4).is_err());
        let bad_row = DtpPlasticity {
            before_nudge_row: 21,
            ..p
        };
        assert!(bad_row.validate(21, 4).is_err());
        let pre = Array2::from_elem((21, 3), 0.2f32);
        let trace = array![0.1f32, 0.2, 0.3];
        let e = weight_changes(&p, pre.view(), trace.view(), &[0.5], &[7]).unwrap_err();
        assert!(e.to_string().contains("unit 7"), "{e}");
        let w = weight_changes(&p, pre.view(), trace.view(), &[0.5, 0.1], &[0, 3]).unwrap();
        assert_eq!(w.rate_dw.dim(), (2, 3));
        assert_eq!(w.gate, vec![true, true]);
    }
}
