//! What a finished run contributes to a sweep's results: its key (config, seeds) and named metric series,
//! each on its own step grid. A checkpoint gives the training and validation series; later histories
//! (the Figure 3 test accuracy per stored step, binned dendritic state, angles) attach as more series.

use std::path::{Path, PathBuf};

use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};

use super::Sweep;

/// Which run: config name (file stem) and seeds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunKey {
    /// Config name (the YAML file's stem).
    pub config: String,
    /// Weight-initialisation seed.
    pub network_seed: u64,
    /// Data-order seed.
    pub data_seed: u64,
}

/// One named metric at some training steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Column name in the results table (e.g. `val_accuracy`).
    pub name: String,
    /// Training step (0-based) of each value.
    pub steps: Vec<usize>,
    /// The values.
    pub values: Vec<f64>,
}

/// A run's key and its series.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// Which run.
    pub key: RunKey,
    /// Its series, in column order.
    pub series: Vec<Series>,
}

impl RunRecord {
    /// An empty record.
    pub fn new(key: RunKey) -> RunRecord {
        RunRecord {
            key,
            series: Vec::new(),
        }
    }

    /// Add a series (`steps` and `values` of equal length, a name not used yet).
    pub fn attach(&mut self, name: &str, steps: Vec<usize>, values: Vec<f64>) -> Result<()> {
        if steps.len() != values.len() {
            return Err(Error::shape(
                format!("series {name} (steps vs values)"),
                steps.len(),
                values.len(),
            ));
        }
        if self.series.iter().any(|s| s.name == name) {
            return Err(Error::invalid(
                "run record",
                format!("series {name} attached twice"),
            ));
        }
        self.series.push(Series {
            name: name.to_string(),
            steps,
            values,
        });
        Ok(())
    }

    /// The series named `name`.
    pub fn get(&self, name: &str) -> Option<&Series> {
        self.series.iter().find(|s| s.name == name)
    }

    /// The record of a finished run: `val_loss`, `val_accuracy` at the validation steps; `train_loss` =
    /// mean training loss over the steps since the previous validation (or stored-parameter) step; and
    /// `test_accuracy` at the last step when the run measured it.
    pub fn from_checkpoint(ck: &Checkpoint) -> Result<RunRecord> {
        let mut r = RunRecord::new(RunKey {
            config: ck.config_name.clone(),
            network_seed: ck.network_seed,
            data_seed: ck.data_seed,
        });
        let to_f64 = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<_>>();
        let grid: Vec<usize> = if ck.val_history_train_steps.is_empty() {
            ck.param_history_steps.clone()
        } else {
            ck.val_history_train_steps.clone()
        };
        let mut start = 0usize;
        let mut means = Vec::with_capacity(grid.len());
        for &s in &grid {
            let end = (s + 1).min(ck.loss_history.len());
            let w = &ck.loss_history[start.min(end)..end];
            means.push(if w.is_empty() {
                f64::NAN
            } else {
                w.iter().map(|&x| x as f64).sum::<f64>() / w.len() as f64
            });
            start = end;
        }
        r.attach("train_loss", grid, means)?;
        if !ck.val_history_train_steps.is_empty() {
            r.attach(
                "val_loss",
                ck.val_history_train_steps.clone(),
                to_f64(&ck.val_loss_history),
            )?;
            r.attach(
                "val_accuracy",
                ck.val_history_train_steps.clone(),
                to_f64(&ck.val_accuracy_history),
            )?;
        }
        if let Some(t) = ck.test_accuracy {
            r.attach(
                "test_accuracy",
                vec![ck.total_steps.saturating_sub(1)],
                vec![t as f64],
            )?;
        }
        r.attach_figure3(ck)?;
        Ok(r)
    }

    /// The Figure 3 series of a checkpoint recorded with `--figure3-every` (none otherwise):
    /// `fig3_test_accuracy`, `fig3_test_loss`, `fig3_angle_stochastic` (the `all_params` angle, °) at
    /// the stored steps, and `fig3_dendritic_state` (binned mean |forward dendritic state| of all
    /// dendritic units) at the bin ends 100, 200, … (a step count, spec §5.1).
    fn attach_figure3(&mut self, ck: &Checkpoint) -> Result<()> {
        use crate::analyses::recorder::PREFIX;
        let get = |k: &str| -> Option<Vec<f64>> {
            ck.records
                .get(&format!("{PREFIX}{k}"))
                .map(|a| a.iter().map(|&v| v as f64).collect())
        };
        let as_steps = |v: Vec<f64>| v.into_iter().map(|s| s as usize).collect::<Vec<_>>();
        if let Some(steps) = get("steps").map(as_steps) {
            for (name, key) in [
                ("fig3_test_accuracy", "test_accuracy_history"),
                ("fig3_test_loss", "test_loss_history"),
                ("fig3_angle_stochastic", "angle_vs_bp_stochastic/all_params"),
            ] {
                if let Some(v) = get(key) {
                    self.attach(name, steps.clone(), v)?;
                }
            }
        }
        if let (Some(steps), Some(v)) = (
            get("dendritic_state/steps").map(as_steps),
            get("dendritic_state/all"),
        ) {
            self.attach("fig3_dendritic_state", steps, v)?;
        }
        Ok(())
    }
}

/// The finished runs of a sweep, in sweep order, and the ones still missing.
#[derive(Debug, Clone, PartialEq)]
pub struct Collected {
    /// Records of the finished runs.
    pub records: Vec<RunRecord>,
    /// Checkpoints that do not exist yet.
    pub missing: Vec<PathBuf>,
}

/// Read every finished checkpoint of `sweep` (a checkpoint that exists but does not load is an error).
pub fn collect(sweep: &Sweep) -> Result<Collected> {
    let mut records = Vec::new();
    let mut missing = Vec::new();
    for run in &sweep.runs {
        if !run.is_done() {
            missing.push(run.out.clone());
            continue;
        }
        let ck = Checkpoint::load(&run.out)?;
        if ck.network_seed != run.spec.network_seed || ck.data_seed != run.spec.data_seed {
            return Err(Error::Checkpoint {
                file: run.out.display().to_string(),
                message: format!(
                    "holds seeds {}/{}, the sweep expects {}/{}",
                    ck.network_seed, ck.data_seed, run.spec.network_seed, run.spec.data_seed
                ),
            });
        }
        records.push(RunRecord::from_checkpoint(&ck)?);
    }
    Ok(Collected { records, missing })
}

/// A sweep's results as one tidy table — one row per run × recorded step: `config`, `network_seed`,
/// `data_seed`, `step`, then one float column per metric (`None` where a metric has no value at that
/// step). Built without polars (the `eiann` CLI writes it as CSV); [`super::table`] turns it into a
/// polars frame.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tidy {
    /// Metric column names, in the order first seen.
    pub metrics: Vec<String>,
    /// Rows: run key, step, one value per metric.
    pub rows: Vec<(RunKey, usize, Vec<Option<f64>>)>,
}

impl Tidy {
    /// The tidy rows of `records`: each run's rows are the sorted union of its series' steps.
    pub fn new(records: &[RunRecord]) -> Tidy {
        let mut metrics: Vec<String> = Vec::new();
        for r in records {
            for s in &r.series {
                if !metrics.contains(&s.name) {
                    metrics.push(s.name.clone());
                }
            }
        }
        let mut rows = Vec::new();
        for r in records {
            let mut grid: Vec<usize> = r
                .series
                .iter()
                .flat_map(|s| s.steps.iter().copied())
                .collect();
            grid.sort_unstable();
            grid.dedup();
            for &g in &grid {
                let values = metrics
                    .iter()
                    .map(|m| {
                        r.get(m)
                            .and_then(|s| s.steps.iter().position(|&x| x == g).map(|i| s.values[i]))
                    })
                    .collect();
                rows.push((r.key.clone(), g, values));
            }
        }
        Tidy { metrics, rows }
    }

    /// The header line's column names.
    pub fn columns(&self) -> Vec<String> {
        let mut c: Vec<String> = ["config", "network_seed", "data_seed", "step"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        c.extend(self.metrics.iter().cloned());
        c
    }

    /// The table as CSV text: a header row, then one line per row; a missing value is an empty field,
    /// floats in Rust's shortest round-trip form (`NaN` for NaN). Config names holding a comma, quote or
    /// newline are quoted.
    pub fn to_csv(&self) -> String {
        let mut out = self.columns().join(",");
        out.push('\n');
        for (key, step, values) in &self.rows {
            let c = &key.config;
            if c.contains([',', '"', '\n', '\r']) {
                out.push('"');
                out.push_str(&c.replace('"', "\"\""));
                out.push('"');
            } else {
                out.push_str(c);
            }
            out.push_str(&format!(",{},{},{}", key.network_seed, key.data_seed, step));
            for v in values {
                out.push(',');
                if let Some(v) = v {
                    out.push_str(&format!("{v}"));
                }
            }
            out.push('\n');
        }
        out
    }

    /// Write [`Tidy::to_csv`] to `path` atomically (a temporary file renamed into place).
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        super::write_atomic(path.as_ref(), self.to_csv().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidy_rows_and_csv() {
        let mut a = RunRecord::new(RunKey {
            config: "c".into(),
            network_seed: 1,
            data_seed: 2,
        });
        a.attach("val_accuracy", vec![0, 99], vec![10.0, 20.5])
            .unwrap();
        a.attach("test_accuracy", vec![99, 150], vec![30.0, f64::NAN])
            .unwrap();
        let mut b = RunRecord::new(RunKey {
            config: "d,e".into(),
            network_seed: 3,
            data_seed: 4,
        });
        b.attach("val_accuracy", vec![5], vec![1.0]).unwrap();
        let t = Tidy::new(&[a, b]);
        assert_eq!(t.rows.len(), 4);
        assert_eq!(
            t.to_csv(),
            "config,network_seed,data_seed,step,val_accuracy,test_accuracy\n\
             c,1,2,0,10,\n\
             c,1,2,99,20.5,30\n\
             c,1,2,150,,NaN\n\
             \"d,e\",3,4,5,1,\n"
        );
    }

    #[test]
    fn checkpoint_series() {
        let ck = Checkpoint {
            config_name: "c".into(),
            network_seed: 1,
            data_seed: 2,
            total_steps: 4,
            sample_order: vec![0, 1, 2, 3],
            loss_history: vec![1.0, 3.0, 5.0, 7.0],
            val_history_train_steps: vec![0, 3],
            val_loss_history: vec![0.5, 0.25],
            val_accuracy_history: vec![10.0, 20.0],
            test_accuracy: Some(30.0),
            ..Checkpoint::default()
        };
        let r = RunRecord::from_checkpoint(&ck).unwrap();
        assert_eq!(r.get("train_loss").unwrap().values, vec![1.0, 5.0]);
        assert_eq!(r.get("val_accuracy").unwrap().steps, vec![0, 3]);
        assert_eq!(r.get("test_accuracy").unwrap().steps, vec![3]);
        let mut r = r;
        assert!(r.attach("val_loss", vec![1], vec![1.0]).is_err());
        assert!(r.attach("x", vec![1, 2], vec![1.0]).is_err());
    }
}
