//! Agreement statistics between spiking and rate-model weight changes (per unit, pooled, over runs;
//! the max-rate sweep is [`super::sweep`]); with the `tables` feature (default) also as polars tables.
//!
//! Conventions (all statistics in float64 over the float32 ΔW values):
//! * **Units whose gate is 0** (inactive before the nudge) have all-zero ΔW in both models; they carry
//!   no information and are **excluded** from every pooled statistic (their per-unit row has
//!   `gate = false` and null statistics).
//! * **Pearson r** over all synapses `j` of the included units; null when either side has zero
//!   variance.
//! * **Slope / intercept**: ordinary least squares of spiking ΔW on rate ΔW (`y = a + b·x`); null when
//!   the rate ΔW has zero variance.
//! * **Sign agreement**: among synapses with non-zero rate ΔW, the fraction whose spiking ΔW has the same
//!   sign (a zero spiking ΔW counts as disagreement); null when no rate ΔW is non-zero.

#[cfg(feature = "tables")]
use std::path::Path;

#[cfg(feature = "tables")]
use polars::prelude::{df, CsvWriter, DataFrame, SerWriter};

use super::simulation::SpikingRun;
use super::weight_change::WeightChanges;
use crate::{Error, Result};

/// Agreement of paired samples `(rate ΔW, spiking ΔW)`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Agreement {
    /// Number of pairs.
    pub n: usize,
    /// Pearson correlation coefficient.
    pub pearson_r: Option<f64>,
    /// OLS slope of spiking on rate.
    pub slope: Option<f64>,
    /// OLS intercept of spiking on rate.
    pub intercept: Option<f64>,
    /// Fraction of non-zero rate ΔW whose spiking ΔW has the same sign.
    pub sign_agreement: Option<f64>,
}

/// Streaming accumulator for [`Agreement`] (sums of x, y, x², y², xy; sign counts).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Accumulator {
    n: usize,
    sx: f64,
    sy: f64,
    sxx: f64,
    syy: f64,
    sxy: f64,
    nonzero: usize,
    same_sign: usize,
}

impl Accumulator {
    pub(crate) fn push(&mut self, x: f32, y: f32) {
        let (x64, y64) = (f64::from(x), f64::from(y));
        self.n += 1;
        self.sx += x64;
        self.sy += y64;
        self.sxx += x64 * x64;
        self.syy += y64 * y64;
        self.sxy += x64 * y64;
        if x != 0.0 {
            self.nonzero += 1;
            if y != 0.0 && (x > 0.0) == (y > 0.0) {
                self.same_sign += 1;
            }
        }
    }

    pub(crate) fn merge(&mut self, o: &Accumulator) {
        self.n += o.n;
        self.sx += o.sx;
        self.sy += o.sy;
        self.sxx += o.sxx;
        self.syy += o.syy;
        self.sxy += o.sxy;
        self.nonzero += o.nonzero;
        self.same_sign += o.same_sign;
    }

    pub(crate) fn finish(&self) -> Agreement {
        if self.n == 0 {
            return Agreement::default();
        }
        let n = self.n as f64;
        let (mx, my) = (self.sx / n, self.sy / n);
        // Centred sums; the ΔW values are ~1e-4, far from any cancellation trouble in f64.
        let vxx = self.sxx - n * mx * mx;
        let vyy = self.syy - n * my * my;
        let vxy = self.sxy - n * mx * my;
        let positive = |v: f64| v > f64::EPSILON * self.sxx.max(self.syy).max(f64::MIN_POSITIVE);
        let slope = positive(vxx).then(|| vxy / vxx);
        Agreement {
            n: self.n,
            pearson_r: (positive(vxx) && positive(vyy)).then(|| vxy / (vxx * vyy).sqrt()),
            slope,
            intercept: slope.map(|b| my - b * mx),
            sign_agreement: (self.nonzero > 0).then(|| self.same_sign as f64 / self.nonzero as f64),
        }
    }
}

fn accumulate(rate: &[f32], spiking: &[f32]) -> Accumulator {
    let mut acc = Accumulator::default();
    for (&x, &y) in rate.iter().zip(spiking) {
        acc.push(x, y);
    }
    acc
}

/// Agreement of one pair of ΔW vectors (equal lengths required).
pub fn agreement(rate_dw: &[f32], spiking_dw: &[f32]) -> Result<Agreement> {
    if rate_dw.len() != spiking_dw.len() {
        return Err(Error::shape(
            "spiking ΔW (must match rate ΔW)",
            rate_dw.len(),
            spiking_dw.len(),
        ));
    }
    Ok(accumulate(rate_dw, spiking_dw).finish())
}

pub(crate) fn weight_changes_of(run: &SpikingRun) -> Result<&WeightChanges> {
    run.weight_changes.as_ref().ok_or_else(|| {
        Error::invalid(
            "spiking run",
            "has no weight changes (simulate with plasticity inputs)",
        )
    })
}

/// Per-unit accumulators of the gated units and their pooled sum.
pub(crate) fn unit_accumulators(dw: &WeightChanges) -> (Vec<Option<Accumulator>>, Accumulator) {
    let mut pooled = Accumulator::default();
    let per_unit = (0..dw.units.len())
        .map(|k| {
            dw.gate[k].then(|| {
                let acc = accumulate(&dw.rate_dw.row(k).to_vec(), &dw.spiking_dw.row(k).to_vec());
                pooled.merge(&acc);
                acc
            })
        })
        .collect();
    (per_unit, pooled)
}

#[cfg(feature = "tables")]
fn table_error(e: impl std::fmt::Display) -> Error {
    Error::invalid("statistics table", e.to_string())
}

#[cfg(feature = "tables")]
fn mean_sd(values: &[f64]) -> (Option<f64>, Option<f64>) {
    if values.is_empty() {
        return (None, None);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.len() > 1)
        .then(|| (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    (Some(mean), sd)
}

#[cfg(feature = "tables")]
/// Per-unit agreement of one run plus a final pooled row (`scope = "pooled"`, `unit` null) over the
/// gated units. Columns: `scope`, `unit`, `gate`, `n_synapses`, `pearson_r`, `slope`, `intercept`,
/// `sign_agreement`, `n_output_spikes`.
pub fn unit_agreement_table(run: &SpikingRun) -> Result<DataFrame> {
    let dw = weight_changes_of(run)?;
    let (per_unit, pooled) = unit_accumulators(dw);
    let mut scope = Vec::new();
    let mut unit = Vec::new();
    let mut gate = Vec::new();
    let mut n = Vec::new();
    let mut r = Vec::new();
    let mut slope = Vec::new();
    let mut intercept = Vec::new();
    let mut sign = Vec::new();
    let mut out_spikes = Vec::new();
    for (k, acc) in per_unit.iter().enumerate() {
        let a = acc.map(|a| a.finish()).unwrap_or_default();
        scope.push("unit");
        unit.push(Some(dw.units[k] as i64));
        gate.push(dw.gate[k]);
        n.push(dw.rate_dw.ncols() as i64);
        r.push(a.pearson_r);
        slope.push(a.slope);
        intercept.push(a.intercept);
        sign.push(a.sign_agreement);
        out_spikes.push(Some(run.output_spikes.get(k).map_or(0, Vec::len) as i64));
    }
    let a = pooled.finish();
    scope.push("pooled");
    unit.push(None);
    gate.push(true);
    n.push(a.n as i64);
    r.push(a.pearson_r);
    slope.push(a.slope);
    intercept.push(a.intercept);
    sign.push(a.sign_agreement);
    out_spikes.push(None);
    df!(
        "scope" => scope,
        "unit" => unit,
        "gate" => gate,
        "n_synapses" => n,
        "pearson_r" => r,
        "slope" => slope,
        "intercept" => intercept,
        "sign_agreement" => sign,
        "n_output_spikes" => out_spikes,
    )
    .map_err(table_error)
}

/// A finished run with a label (sample, checkpoint, seed, ...), for [`aggregate_agreement`].
#[cfg(feature = "tables")]
#[derive(Debug, Clone, Copy)]
pub struct LabeledRun<'a> {
    /// Label written to the `run` column.
    pub label: &'a str,
    /// The run (must carry weight changes).
    pub run: &'a SpikingRun,
}

#[cfg(feature = "tables")]
/// Agreement aggregated over many runs: one row per run (pooled over its gated units) and a final
/// row `run = "all"` pooling every gated unit of every run. Columns: `run`, `n_units`, `n_gated_units`,
/// `n_synapses`, `pearson_r`, `slope`, `intercept`, `sign_agreement` (pooled), `mean_unit_r`,
/// `sd_unit_r` (over the per-unit correlations that are defined).
pub fn aggregate_agreement(runs: &[LabeledRun<'_>]) -> Result<DataFrame> {
    if runs.is_empty() {
        return Err(Error::invalid("runs", "need at least one run to aggregate"));
    }
    let mut label = Vec::new();
    let mut n_units = Vec::new();
    let mut n_gated = Vec::new();
    let mut n = Vec::new();
    let mut r = Vec::new();
    let mut slope = Vec::new();
    let mut intercept = Vec::new();
    let mut sign = Vec::new();
    let mut mean_r = Vec::new();
    let mut sd_r = Vec::new();
    let mut all = Accumulator::default();
    let mut all_unit_r = Vec::new();
    let (mut all_units, mut all_gated) = (0i64, 0i64);
    let mut push_row = |name: String, units: i64, gated: i64, acc: &Accumulator, unit_r: &[f64]| {
        let a = acc.finish();
        let (m, s) = mean_sd(unit_r);
        label.push(name);
        n_units.push(units);
        n_gated.push(gated);
        n.push(a.n as i64);
        r.push(a.pearson_r);
        slope.push(a.slope);
        intercept.push(a.intercept);
        sign.push(a.sign_agreement);
        mean_r.push(m);
        sd_r.push(s);
    };
    for lr in runs {
        let dw = weight_changes_of(lr.run)?;
        let (per_unit, pooled) = unit_accumulators(dw);
        let unit_r: Vec<f64> = per_unit
            .iter()
            .filter_map(|a| a.and_then(|a| a.finish().pearson_r))
            .collect();
        let gated = per_unit.iter().filter(|a| a.is_some()).count() as i64;
        push_row(
            lr.label.to_string(),
            dw.units.len() as i64,
            gated,
            &pooled,
            &unit_r,
        );
        all.merge(&pooled);
        all_unit_r.extend(unit_r);
        all_units += dw.units.len() as i64;
        all_gated += gated;
    }
    push_row("all".into(), all_units, all_gated, &all, &all_unit_r);
    df!(
        "run" => label,
        "n_units" => n_units,
        "n_gated_units" => n_gated,
        "n_synapses" => n,
        "pearson_r" => r,
        "slope" => slope,
        "intercept" => intercept,
        "sign_agreement" => sign,
        "mean_unit_r" => mean_r,
        "sd_unit_r" => sd_r,
    )
    .map_err(table_error)
}

#[cfg(feature = "tables")]
/// Write a table as CSV with a header row (polars `CsvWriter`).
pub fn write_csv(df: &mut DataFrame, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    CsvWriter::new(file)
        .include_header(true)
        .finish(df)
        .map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(feature = "tables")]
    use ndarray::{array, Array2};

    #[test]
    fn perfect_and_scaled_agreement() {
        let x = [1.0f32, -2.0, 0.0, 4.0];
        let y: Vec<f32> = x.iter().map(|v| 0.5 * v + 0.25).collect();
        let a = agreement(&x, &y).unwrap();
        assert_eq!(a.n, 4);
        assert!((a.pearson_r.unwrap() - 1.0).abs() < 1e-12);
        assert!((a.slope.unwrap() - 0.5).abs() < 1e-12);
        assert!((a.intercept.unwrap() - 0.25).abs() < 1e-12);
        // Non-zero x: 1 (+,+), −2 (−,−: y = −0.75), 4 (+,+) → all agree.
        assert_eq!(a.sign_agreement, Some(1.0));
        let flipped: Vec<f32> = x.iter().map(|v| -v).collect();
        let b = agreement(&x, &flipped).unwrap();
        assert!((b.pearson_r.unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(b.sign_agreement, Some(0.0));
    }

    #[test]
    fn degenerate_inputs_give_nulls() {
        let a = agreement(&[0.0; 5], &[0.0; 5]).unwrap();
        assert_eq!((a.pearson_r, a.slope, a.sign_agreement), (None, None, None));
        assert!(agreement(&[1.0], &[1.0, 2.0]).is_err());
        assert_eq!(agreement(&[], &[]).unwrap().n, 0);
    }

    #[cfg(feature = "tables")]
    fn fake_run() -> SpikingRun {
        let rate = array![[1e-4f32, -2e-4, 0.0], [0.0, 0.0, 0.0]];
        let spiking = array![[1.1e-4f32, -1.5e-4, 1e-6], [0.0, 0.0, 0.0]];
        SpikingRun {
            units: vec![3, 9],
            presynaptic: Vec::new(),
            eligibility_traces: Vec::new(),
            soma_v: Array2::zeros((2, 1)),
            dend_v: Array2::zeros((2, 1)),
            output_spikes: vec![vec![1, 5], vec![]],
            weight_changes: Some(WeightChanges {
                pre: "H1E".into(),
                units: vec![3, 9],
                gate: vec![true, false],
                rate_dw: rate,
                spiking_dw: spiking,
            }),
        }
    }

    #[cfg(feature = "tables")]
    #[test]
    fn tables_exclude_gated_off_units() {
        let run = fake_run();
        let t = unit_agreement_table(&run).unwrap();
        assert_eq!(t.height(), 3);
        let r = t.column("pearson_r").unwrap().f64().unwrap().clone();
        assert!(r.get(0).unwrap() > 0.99);
        assert_eq!(r.get(1), None); // gate 0
        assert_eq!(r.get(2), r.get(0)); // pooled = the only gated unit
        let n = t.column("n_synapses").unwrap().i64().unwrap().clone();
        assert_eq!(n.get(2), Some(3));

        let agg = aggregate_agreement(&[
            LabeledRun {
                label: "a",
                run: &run,
            },
            LabeledRun {
                label: "b",
                run: &run,
            },
        ])
        .unwrap();
        assert_eq!(agg.height(), 3);
        let gated = agg.column("n_gated_units").unwrap().i64().unwrap().clone();
        assert_eq!(gated.get(2), Some(2));
        assert!(aggregate_agreement(&[]).is_err());

        let dir = std::env::temp_dir().join(format!("eiann-stats-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("units.csv");
        write_csv(&mut t.clone(), &path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("scope,unit,gate,n_synapses,pearson_r"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 4);
        std::fs::remove_dir_all(&dir).ok();
    }
}
