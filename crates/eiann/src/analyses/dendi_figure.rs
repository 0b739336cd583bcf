//! The data of the published Figure 3 ("Fig3_dendI", spec §3–§9) from recorded runs: per network, the
//! seed aggregates each panel draws (heat map of the example seed, test accuracy, dendritic state,
//! binned stochastic angle, pooled DendI selectivity). No plotting: a notebook draws these.
//!
//! Input: checkpoints trained with `--figure3-every` (their [`crate::checkpoint::Checkpoint::records`],
//! keys of [`crate::analyses::recorder`]), e.g. every run of `sweeps/figure3_dendI.yaml`.

use ndarray::{Array2, ArrayView2};

use crate::analyses::angle::stochastic_binned3;
use crate::analyses::class_activity::{heatmap_image, heatmap_order};
use crate::analyses::recorder::PREFIX;
use crate::analyses::seeds::{aggregate, nan_aggregate, SeedAggregate};
use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};

/// One network of the figure (spec §1 table), in drawing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Model {
    /// Config name fragment identifying the network (`config_5K`, …).
    pub config: &'static str,
    /// Heat-map title (`display_name`, two lines).
    pub title: &'static str,
    /// Legend / tick label.
    pub label: &'static str,
    /// matplotlib colour name.
    pub color: &'static str,
}

/// The three networks of Figure 3, in column order.
pub const MODELS: [Model; 3] = [
    Model {
        config: "config_5K",
        title: "Fixed DendI \n(random)",
        label: "Fixed random",
        color: "gray",
    },
    Model {
        config: "config_5M",
        title: "Learned DendI \n(local backprop)",
        label: "Learned (Backprop)",
        color: "black",
    },
    Model {
        config: "config_5J",
        title: "Learned DendI \n(Hebb)",
        label: "Learned (Hebb)",
        color: "red",
    },
];

/// A line with a mean ± SD band over seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// x of each point (training step).
    pub x: Vec<f64>,
    /// Mean and population SD over seeds.
    pub stats: SeedAggregate,
}

/// Everything one network contributes to the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPanels {
    /// Which network.
    pub model: Model,
    /// Seed pairs (network, data) aggregated, in input order; the first is the heat map's example seed.
    pub seeds: Vec<(u64, u64)>,
    /// H2DendI class-averaged activity of the example seed, units in heat-map order (§3.2), `[units × 10]`.
    pub heatmap: Array2<f32>,
    /// Test accuracy (%) at the stored steps (§4).
    pub accuracy: Band,
    /// Binned mean |forward dendritic state| at the bin ends (§5.2).
    pub dendritic_state: Band,
    /// Stochastic `all_params` angle (°), NaN → 0, means of triples (§6.6; nanmean/nanstd over seeds).
    pub angle: Band,
    /// Selectivity of every DendI unit of every seed, pooled (the violin, §7).
    pub selectivity: Vec<f32>,
    /// Mean over seeds of each seed's mean DendI selectivity (the dot).
    pub selectivity_mean: f64,
}

fn record(ck: &Checkpoint, key: &str) -> Result<Vec<f32>> {
    ck.records
        .get(&format!("{PREFIX}{key}"))
        .map(|a| a.iter().copied().collect())
        .ok_or_else(|| {
            Error::invalid(
                "Figure 3 data",
                format!(
                    "run {} {}/{} has no record {PREFIX}{key} (train it with --figure3-every)",
                    ck.config_name, ck.network_seed, ck.data_seed
                ),
            )
        })
}

/// Stack per-seed series of equal length into `[seeds × T]`.
fn stack(rows: &[Vec<f32>], what: &str) -> Result<Array2<f32>> {
    let t = rows.first().map_or(0, Vec::len);
    if rows.iter().any(|r| r.len() != t) {
        return Err(Error::invalid(
            "Figure 3 data",
            format!("the seeds' {what} series have different lengths"),
        ));
    }
    let flat: Vec<f32> = rows.iter().flatten().copied().collect();
    Array2::from_shape_vec((rows.len(), t), flat)
        .map_err(|e| Error::invalid("Figure 3 data", e.to_string()))
}

fn band(x: Vec<f32>, rows: &[Vec<f32>], what: &str, nan: bool) -> Result<Band> {
    let y = stack(rows, what)?;
    let stats = if nan {
        nan_aggregate(y.view())?
    } else {
        aggregate(y.view())?
    };
    Ok(Band {
        x: x.iter().map(|&v| v as f64).collect(),
        stats,
    })
}

/// The panels of one network from its seeds' checkpoints (first = example seed).
pub fn model_panels(model: Model, runs: &[&Checkpoint]) -> Result<ModelPanels> {
    let first = runs.first().ok_or_else(|| {
        Error::invalid(
            "Figure 3 data",
            format!("no run of {} ({})", model.label, model.config),
        )
    })?;
    let steps = record(first, "steps")?;
    let dsteps = record(first, "dendritic_state/steps")?;
    let (mut acc, mut dend, mut ang, mut sel) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut sel_means = Vec::new();
    let mut angle_x = Vec::new();
    for ck in runs {
        acc.push(record(ck, "test_accuracy_history")?);
        dend.push(record(ck, "dendritic_state/all")?);
        let theta = record(ck, "angle_vs_bp_stochastic/all_params")?;
        let s: Vec<usize> = record(ck, "steps")?.iter().map(|&v| v as usize).collect();
        let (m, x) = stochastic_binned3(&theta, &s)?;
        ang.push(m);
        angle_x = x;
        let mut unit_sel = Vec::new();
        for (k, a) in ck.records.iter() {
            if k.starts_with(&format!("{PREFIX}selectivity/")) && k.contains("DendI") {
                unit_sel.extend(a.iter().copied());
            }
        }
        if unit_sel.is_empty() {
            return Err(Error::invalid(
                "Figure 3 data",
                format!("run {} has no DendI selectivity", ck.config_name),
            ));
        }
        sel_means.push(unit_sel.iter().map(|&v| v as f64).sum::<f64>() / unit_sel.len() as f64);
        sel.extend(unit_sel);
    }
    let avg = first
        .records
        .get(&format!("{PREFIX}class_avg/H2DendI"))
        .ok_or_else(|| Error::invalid("Figure 3 data", "no class_avg/H2DendI record"))?;
    let avg: ArrayView2<'_, f32> = avg
        .view()
        .into_dimensionality()
        .map_err(|e| Error::invalid("Figure 3 data", e.to_string()))?;
    let order = heatmap_order(avg);
    Ok(ModelPanels {
        model,
        seeds: runs.iter().map(|c| (c.network_seed, c.data_seed)).collect(),
        heatmap: heatmap_image(avg, &order.order)?,
        accuracy: band(steps, &acc, "test accuracy", false)?,
        dendritic_state: band(dsteps, &dend, "dendritic state", false)?,
        angle: band(
            angle_x.iter().map(|&s| s as f32).collect(),
            &ang,
            "angle",
            true,
        )?,
        selectivity: sel,
        selectivity_mean: sel_means.iter().sum::<f64>() / sel_means.len() as f64,
    })
}

/// The three networks' panels from a set of checkpoints (any order; grouped by [`MODELS`]' config
/// fragments, seeds in input order). Errors when a network has no run.
pub fn dendi_figure(runs: &[Checkpoint]) -> Result<Vec<ModelPanels>> {
    MODELS
        .iter()
        .map(|m| {
            let mine: Vec<&Checkpoint> = runs
                .iter()
                .filter(|c| c.config_name.contains(m.config))
                .collect();
            model_panels(*m, &mine)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayD, IxDyn};

    fn ck(config: &str, seed: u64, acc: [f32; 3], sel: f32) -> Checkpoint {
        let mut c = Checkpoint {
            config_name: format!("x_{config}_y"),
            network_seed: seed,
            data_seed: seed + 1,
            ..Checkpoint::default()
        };
        let mut put = |k: &str, v: Vec<f32>| {
            let n = v.len();
            c.records.insert(
                format!("{PREFIX}{k}"),
                ArrayD::from_shape_vec(IxDyn(&[n]), v).unwrap(),
            );
        };
        put("steps", vec![0.0, 99.0, 199.0]);
        put("test_accuracy_history", acc.to_vec());
        put("dendritic_state/steps", vec![100.0]);
        put("dendritic_state/all", vec![0.5]);
        put(
            "angle_vs_bp_stochastic/all_params",
            vec![30.0, f32::NAN, 60.0],
        );
        put("selectivity/H1DendI", vec![sel, sel]);
        put("selectivity/H2DendI", vec![sel]);
        put("selectivity/H1E", vec![9.0]);
        let avg =
            ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![0.0, 1.0, 0.0, 2.0, 0.0, 0.0]).unwrap();
        c.records.insert(format!("{PREFIX}class_avg/H2DendI"), avg);
        c
    }

    #[test]
    fn groups_by_model_and_aggregates_seeds() {
        let mut runs = Vec::new();
        for m in ["config_5J", "config_5K", "config_5M"] {
            runs.push(ck(m, 1, [10.0, 20.0, 30.0], 0.2));
            runs.push(ck(m, 2, [20.0, 40.0, 50.0], 0.6));
        }
        let f = dendi_figure(&runs).unwrap();
        assert_eq!(
            f.iter().map(|p| p.model.label).collect::<Vec<_>>(),
            ["Fixed random", "Learned (Backprop)", "Learned (Hebb)"]
        );
        let p = &f[0];
        assert_eq!(p.seeds, [(1, 2), (2, 3)]);
        assert_eq!(p.accuracy.x, [0.0, 99.0, 199.0]);
        assert_eq!(p.accuracy.stats.mean.to_vec(), [15.0, 30.0, 40.0]);
        assert_eq!(p.accuracy.stats.sd.to_vec(), [5.0, 10.0, 10.0]);
        // NaN → 0 before the triple mean: (30 + 0 + 60) / 3.
        assert_eq!(p.angle.x, [0.0]);
        assert_eq!(p.angle.stats.mean.to_vec(), [30.0]);
        // DendI units only (3 per seed), pooled; dot = mean of the seed means.
        assert_eq!(p.selectivity.len(), 6);
        assert!((p.selectivity_mean - 0.4).abs() < 1e-6);
        // Heat map: unit 1 prefers class 0, unit 0 class 1, unit 2 silent → rows 1, 0, 2.
        assert_eq!(p.heatmap.shape(), [3, 2]);
        assert_eq!(p.heatmap.row(0).to_vec(), [1.0, 0.0]);
        assert_eq!(p.heatmap.row(1).to_vec(), [0.0, 2.0]);
        assert!(dendi_figure(&runs[..2]).is_err(), "5K and 5M missing");
    }
}
