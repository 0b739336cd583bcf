//! Multi-run sweeps: a set of (config, network seed, data seed) training runs described in a small YAML
//! file, run locally one per core ([`local`]) or as a Slurm job array ([`slurm`]), and collected into a
//! tidy table ([`record`], [`table`]).
//!
//! # Sweep file
//!
//! ```yaml
//! name: smoke                 # optional (default: the file's stem); names the Slurm job
//! out_dir: smoke              # optional (default: <file's folder>/<name>); relative to the file's folder
//! configs:                    # EIANN network configs, relative to the file's folder
//!   - ../data/network_config/mnist/20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized.yaml
//! seeds:                      # [network_seed, data_seed] pairs ...
//!   - [66049, 257]
//!   - [66050, 258]
//! paper_seeds: 5              # ... and/or the paper's first N pairs 66049/257, 66050/258, …
//! steps: 200                  # the `eiann train` arguments shared by every run
//! epochs: 1
//! checkpoint_every: 100
//! val_every: 100
//! test: true
//! figure3_every: 100          # optional: record the Figure 3 histories (see analyses::recorder)
//! ```
//!
//! Runs are configs × seed pairs, config-major, each written (atomically, when it finishes) to
//! `<out_dir>/runs/<config stem>_<network seed>_<data seed>.pkl` — exactly what
//! `eiann train --config C --network-seed N --data-seed D --steps … --out that.pkl` writes. A run whose
//! file exists is finished and skipped, so an interrupted sweep resumes where it stopped. The resolved
//! sweep (absolute paths) is kept in `<out_dir>/sweep.yaml`; a folder holding a different sweep is refused.

pub mod local;
pub mod record;
pub mod slurm;
#[cfg(feature = "tables")]
pub mod table;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::run::RunSpec;

/// Most runs one sweep may hold (a guard against a typo creating a huge array).
pub const MAX_RUNS: usize = 10_000;
/// Most training steps per epoch (MNIST's 50,000 training images).
pub const MAX_STEPS: usize = 50_000;
/// Most epochs per run.
pub const MAX_EPOCHS: usize = 1_000;

/// The paper's seed pair `i` (1-based): network seed 65536 + 512 + i, data seed 256 + i (spec §1).
pub fn paper_seed_pair(i: u64) -> (u64, u64) {
    (65_536 + 2 * 256 + i, 256 + i)
}

/// The sweep file as written (paths relative to the file's folder).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepFile {
    /// Sweep name (default: the file's stem).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Output folder (default: `<file's folder>/<name>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_dir: Option<PathBuf>,
    /// Network configs.
    pub configs: Vec<PathBuf>,
    /// Explicit `[network_seed, data_seed]` pairs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seeds: Vec<(u64, u64)>,
    /// The paper's first N seed pairs, appended after `seeds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper_seeds: Option<u64>,
    /// Training steps per epoch.
    pub steps: usize,
    /// Epochs (default 1).
    #[serde(default = "one")]
    pub epochs: usize,
    /// Store the parameters every N steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_every: Option<usize>,
    /// Evaluate the validation set every N steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_every: Option<usize>,
    /// Evaluate the test set at the end.
    #[serde(default)]
    pub test: bool,
    /// Record the Figure 3 histories every N steps (`eiann train --figure3-every N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figure3_every: Option<usize>,
}

fn one() -> usize {
    1
}

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepRun {
    /// Position in the sweep (the Slurm array index).
    pub index: usize,
    /// `<config stem>_<network seed>_<data seed>`.
    pub id: String,
    /// What `eiann train` gets (validation threads: 1; see [`local`]).
    pub spec: RunSpec,
    /// Where the finished checkpoint goes.
    pub out: PathBuf,
}

impl SweepRun {
    /// Whether the run's checkpoint exists (the run finished).
    pub fn is_done(&self) -> bool {
        self.out.is_file()
    }

    /// The `eiann train` arguments of this run (without `--out`, `--threads`, `--mnist-dir`).
    pub fn train_args(&self) -> Vec<String> {
        let s = &self.spec;
        let mut a = vec![
            "--config".to_string(),
            s.config.display().to_string(),
            "--network-seed".into(),
            s.network_seed.to_string(),
            "--data-seed".into(),
            s.data_seed.to_string(),
            "--steps".into(),
            s.steps.to_string(),
            "--epochs".into(),
            s.epochs.to_string(),
        ];
        if let Some(n) = s.checkpoint_every {
            a.extend(["--checkpoint-every".into(), n.to_string()]);
        }
        if let Some(n) = s.val_every {
            a.extend(["--val-every".into(), n.to_string()]);
        }
        if s.test {
            a.push("--test".into());
        }
        if let Some(n) = s.figure3_every {
            a.extend(["--figure3-every".into(), n.to_string()]);
        }
        a
    }
}

/// A checked sweep with absolute paths.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    /// Sweep name.
    pub name: String,
    /// Output folder.
    pub out_dir: PathBuf,
    /// The resolved file (absolute paths, explicit seed list), as kept in `<out_dir>/sweep.yaml`.
    pub resolved: SweepFile,
    /// The runs, config-major.
    pub runs: Vec<SweepRun>,
}

fn absolute(base: &Path, p: &Path) -> Result<PathBuf> {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    };
    std::path::absolute(&joined).map_err(|e| Error::io(&joined, e))
}

fn invalid(file: &str, key: &str, message: impl Into<String>) -> Error {
    Error::Config {
        file: file.to_string(),
        path: key.to_string(),
        message: message.into(),
    }
}

impl Sweep {
    /// Read and check a sweep file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Sweep> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let name = path.display().to_string();
        let de = serde_yaml_ng::Deserializer::from_str(&text);
        let file: SweepFile = deserialize_yaml(de, &name)?;
        let base = path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let stem = path
            .file_stem()
            .map_or_else(|| "sweep".to_string(), |s| s.to_string_lossy().into_owned());
        Sweep::from_parts(file, &base, &stem, &name)
    }

    /// A sweep from its parts: paths in `file` are relative to `base`; `default_name` is used when the
    /// file has no `name`; `origin` names the source in errors.
    pub fn from_parts(
        file: SweepFile,
        base: &Path,
        default_name: &str,
        origin: &str,
    ) -> Result<Sweep> {
        let name = file
            .name
            .clone()
            .unwrap_or_else(|| default_name.to_string());
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(invalid(
                origin,
                "name",
                format!("\"{name}\": use letters, digits, '-', '_' or '.'"),
            ));
        }
        if file.configs.is_empty() {
            return Err(invalid(
                origin,
                "configs",
                "at least one network config is needed",
            ));
        }
        if file.steps == 0 || file.steps > MAX_STEPS {
            return Err(invalid(
                origin,
                "steps",
                format!("{} is not in 1..={MAX_STEPS}", file.steps),
            ));
        }
        if file.epochs == 0 || file.epochs > MAX_EPOCHS {
            return Err(invalid(
                origin,
                "epochs",
                format!("{} is not in 1..={MAX_EPOCHS}", file.epochs),
            ));
        }
        for (key, v) in [
            ("checkpoint_every", file.checkpoint_every),
            ("val_every", file.val_every),
            ("figure3_every", file.figure3_every),
        ] {
            if v == Some(0) {
                return Err(invalid(origin, key, "must be at least 1"));
            }
        }
        let mut seeds = file.seeds.clone();
        if let Some(n) = file.paper_seeds {
            if n == 0 || n > 255 {
                return Err(invalid(
                    origin,
                    "paper_seeds",
                    format!("{n} is not in 1..=255"),
                ));
            }
            seeds.extend((1..=n).map(paper_seed_pair));
        }
        if seeds.is_empty() {
            return Err(invalid(
                origin,
                "seeds",
                "no seed pairs (give `seeds` or `paper_seeds`)",
            ));
        }
        let n_runs = file.configs.len().saturating_mul(seeds.len());
        if n_runs > MAX_RUNS {
            return Err(invalid(
                origin,
                "seeds",
                format!("{n_runs} runs; at most {MAX_RUNS} per sweep"),
            ));
        }
        let out_dir = absolute(base, file.out_dir.as_deref().unwrap_or(Path::new(&name)))?;
        let mut configs = Vec::new();
        for (i, c) in file.configs.iter().enumerate() {
            let p = absolute(base, c)?;
            if !p.is_file() {
                return Err(invalid(
                    origin,
                    &format!("configs[{i}]"),
                    format!("{} does not exist", p.display()),
                ));
            }
            configs.push(p);
        }
        let mut runs = Vec::with_capacity(n_runs);
        for config in &configs {
            let stem = config
                .file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
            for &(network_seed, data_seed) in &seeds {
                let id = format!("{stem}_{network_seed}_{data_seed}");
                if runs.iter().any(|r: &SweepRun| r.id == id) {
                    return Err(invalid(origin, "seeds", format!("run {id} appears twice")));
                }
                runs.push(SweepRun {
                    index: runs.len(),
                    out: out_dir.join("runs").join(format!("{id}.pkl")),
                    id,
                    spec: RunSpec {
                        config: config.clone(),
                        network_seed,
                        data_seed,
                        steps: file.steps,
                        epochs: file.epochs,
                        checkpoint_every: file.checkpoint_every,
                        val_every: file.val_every,
                        test: file.test,
                        threads: 1,
                        figure3_every: file.figure3_every,
                    },
                });
            }
        }
        let resolved = SweepFile {
            name: Some(name.clone()),
            out_dir: Some(out_dir.clone()),
            configs,
            seeds,
            paper_seeds: None,
            ..file
        };
        Ok(Sweep {
            name,
            out_dir,
            resolved,
            runs,
        })
    }

    /// Path of the resolved sweep kept in the output folder.
    pub fn resolved_path(&self) -> PathBuf {
        self.out_dir.join("sweep.yaml")
    }

    /// Create the output folder and write `sweep.yaml` there, or check that the one there describes this
    /// same sweep (the resolved files must be equal).
    pub fn prepare_out_dir(&self) -> Result<()> {
        let runs = self.out_dir.join("runs");
        std::fs::create_dir_all(&runs).map_err(|e| Error::io(&runs, e))?;
        let path = self.resolved_path();
        if path.exists() {
            let there = Sweep::from_file(&path)?;
            if there.resolved != self.resolved {
                return Err(Error::invalid(
                    "sweep output folder",
                    format!(
                        "{} describes a different sweep; use another out_dir or delete that folder",
                        path.display()
                    ),
                ));
            }
            return Ok(());
        }
        let text = serde_yaml_ng::to_string(&self.resolved)
            .map_err(|e| Error::invalid("sweep", format!("cannot serialise: {e}")))?;
        write_atomic(&path, text.as_bytes())
    }

    /// The runs whose checkpoint does not exist yet.
    pub fn pending(&self) -> Vec<&SweepRun> {
        self.runs.iter().filter(|r| !r.is_done()).collect()
    }
}

/// Deserialise with the YAML path of the offending key in the error.
fn deserialize_yaml<'de, T: Deserialize<'de>>(
    de: serde_yaml_ng::Deserializer<'de>,
    file: &str,
) -> Result<T> {
    T::deserialize(de).map_err(|e| {
        let (path, message) = match e.location() {
            Some(l) => (
                format!("line {} column {}", l.line(), l.column()),
                e.to_string(),
            ),
            None => (String::from("(top level)"), e.to_string()),
        };
        Error::Config {
            file: file.to_string(),
            path,
            message,
        }
    })
}

/// Write `bytes` to `path` through a temporary file in the same folder and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/network_config/mnist")
    }

    fn file(yaml: &str) -> Result<Sweep> {
        let f: SweepFile =
            serde_yaml_ng::from_str(yaml).map_err(|e| Error::invalid("yaml", e.to_string()))?;
        Sweep::from_parts(f, &config_dir(), "t", "test.yaml")
    }

    const CFG: &str = "20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized.yaml";

    #[test]
    fn runs_are_configs_times_seeds() {
        let s = file(&format!(
            "configs: [{CFG}]\nseeds: [[1, 2]]\npaper_seeds: 2\nsteps: 10\nout_dir: /tmp/x\n"
        ))
        .unwrap();
        let ids: Vec<&str> = s.runs.iter().map(|r| r.id.as_str()).collect();
        let stem = CFG.trim_end_matches(".yaml");
        assert_eq!(
            ids,
            vec![
                format!("{stem}_1_2"),
                format!("{stem}_66049_257"),
                format!("{stem}_66050_258")
            ]
        );
        assert_eq!(
            s.runs[2].out,
            PathBuf::from(format!("/tmp/x/runs/{stem}_66050_258.pkl"))
        );
        assert_eq!(s.resolved.seeds, vec![(1, 2), (66049, 257), (66050, 258)]);
        assert_eq!(paper_seed_pair(5), (66053, 261));
        assert!(s.runs[0].train_args().contains(&"--steps".to_string()));
    }

    #[test]
    fn bad_files_are_refused_with_the_key() {
        for (yaml, key) in [
            (
                "configs: []\nseeds: [[1, 2]]\nsteps: 10\n".to_string(),
                "configs",
            ),
            (format!("configs: [{CFG}]\nsteps: 10\n"), "seeds"),
            (
                format!("configs: [{CFG}]\nseeds: [[1, 2]]\nsteps: 0\n"),
                "steps",
            ),
            (
                format!("configs: [{CFG}]\nseeds: [[1, 2]]\nsteps: 60000\n"),
                "steps",
            ),
            (
                format!("configs: [{CFG}]\nseeds: [[1, 2], [1, 2]]\nsteps: 1\n"),
                "seeds",
            ),
            (
                "configs: [nope.yaml]\nseeds: [[1, 2]]\nsteps: 1\n".to_string(),
                "configs[0]",
            ),
            (
                format!("configs: [{CFG}]\nseeds: [[1, 2]]\nsteps: 1\nval_every: 0\n"),
                "val_every",
            ),
            (
                format!("configs: [{CFG}]\npaper_seeds: 1000\nsteps: 1\n"),
                "paper_seeds",
            ),
            (
                format!("name: 'a b'\nconfigs: [{CFG}]\nseeds: [[1, 2]]\nsteps: 1\n"),
                "name",
            ),
        ] {
            match file(&yaml) {
                Err(Error::Config { path, .. }) => assert_eq!(path, key, "{yaml}"),
                other => panic!("{yaml}: expected a config error at {key}, got {other:?}"),
            }
        }
        // unknown keys are refused by the YAML layer
        assert!(serde_yaml_ng::from_str::<SweepFile>("configs: []\nsteps: 1\nstep: 2\n").is_err());
    }
}
