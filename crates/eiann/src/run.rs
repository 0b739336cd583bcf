//! Complete runs for the CLI and the notebooks: train a network from its seeds into a [`Checkpoint`], and
//! load a saved network from an eiann pickle or from an `.npz` state file of the original PyTorch network.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::analyses::recorder::{Figure3Recorder, Figure3Setup, RecorderTimes};
use crate::checkpoint::Checkpoint;
use crate::config::NetworkSpec;
use crate::data::Mnist;
use crate::error::{Error, Result};
use crate::evaluate::evaluate;
use crate::limits::{MAX_HISTORY_BYTES, MAX_STEPS_PER_EPOCH, MAX_THREADS, MAX_TOTAL_STEPS};
use crate::network::Network;
use crate::npz::{NpyArray, Npz};
use crate::state::StateDict;
use crate::train::{train, train_observed, Interval, TrainEvent, TrainOptions};

pub use crate::figure3::params::{CONFIG as FIGURE3_CONFIG, REFERENCE_STATE};

/// What to train: the arguments of `eiann train`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    /// Network config (YAML).
    pub config: PathBuf,
    /// Weight-initialisation seed.
    pub network_seed: u64,
    /// Data-order seed.
    pub data_seed: u64,
    /// Steps per epoch (≤ 50,000).
    pub steps: usize,
    /// Epochs.
    pub epochs: usize,
    /// Store the parameters every N steps (`(0, −1, N)`).
    pub checkpoint_every: Option<usize>,
    /// Evaluate the validation set every N steps (`(0, −1, N)`).
    pub val_every: Option<usize>,
    /// Evaluate the test set at the end.
    pub test: bool,
    /// Validation threads (0 = all cores).
    pub threads: usize,
    /// Record the Figure 3 histories during training on the grid `(0, −1, N)`
    /// ([`crate::analyses::recorder`]; stored in [`Checkpoint::records`]).
    pub figure3_every: Option<usize>,
}

impl RunSpec {
    /// The Figure 3 run (`just train`): seeds 66049/257, 3,000 steps, parameters every 100 steps,
    /// validation every 1,000.
    pub fn figure3(config: impl Into<PathBuf>) -> RunSpec {
        RunSpec {
            config: config.into(),
            network_seed: crate::figure3::params::NETWORK_SEED,
            data_seed: crate::figure3::params::DATA_SEED,
            steps: crate::figure3::params::TRAIN_STEPS,
            epochs: 1,
            checkpoint_every: Some(crate::figure3::params::CHECKPOINT_EVERY),
            val_every: Some(crate::figure3::params::VAL_EVERY),
            test: false,
            threads: 0,
            figure3_every: None,
        }
    }
}

/// The result of [`train_run`].
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// Everything to save.
    pub checkpoint: Checkpoint,
    /// The trained network.
    pub network: Network,
    /// Wall time of the training loop alone (without validation), in seconds.
    pub train_seconds: f64,
    /// Time the Figure 3 recorder took, by part (included in `train_seconds`), when it ran.
    pub figure3_seconds: Option<RecorderTimes>,
}

fn interval_tuple(every: Option<usize>) -> (i64, i64, i64) {
    every.map_or((0, -1, 0), |n| (0, -1, n as i64))
}

/// Check the numbers of a run against [`crate::limits`], naming the `eiann train` flag each comes from:
/// `--steps` in 1..=50,000, `--epochs` ≥ 1, `--steps` × `--epochs` ≤ [`MAX_TOTAL_STEPS`],
/// `--checkpoint-every`, `--val-every` and `--figure3-every` in 1..=[`MAX_TOTAL_STEPS`], `--threads` ≤ [`MAX_THREADS`].
pub fn check_run_numbers(spec: &RunSpec) -> Result<()> {
    let flag = |name: &str, message: String| Error::invalid(name, message);
    if !(1..=MAX_STEPS_PER_EPOCH).contains(&spec.steps) {
        return Err(flag(
            "--steps",
            format!(
                "{} is outside 1..={MAX_STEPS_PER_EPOCH} (training steps per epoch; the MNIST train split has {MAX_STEPS_PER_EPOCH} samples)",
                spec.steps
            ),
        ));
    }
    if spec.epochs == 0 {
        return Err(flag("--epochs", "must be at least 1".into()));
    }
    match spec.steps.checked_mul(spec.epochs) {
        Some(t) if t <= MAX_TOTAL_STEPS => {}
        _ => {
            return Err(flag(
                "--steps × --epochs",
                format!(
                    "{} × {} exceeds the limit of {MAX_TOTAL_STEPS} training steps per run",
                    spec.steps, spec.epochs
                ),
            ))
        }
    }
    for (name, every) in [
        ("--checkpoint-every", spec.checkpoint_every),
        ("--val-every", spec.val_every),
        ("--figure3-every", spec.figure3_every),
    ] {
        if let Some(n) = every {
            if !(1..=MAX_TOTAL_STEPS).contains(&n) {
                return Err(flag(
                    name,
                    format!("{n} is outside 1..={MAX_TOTAL_STEPS} (steps)"),
                ));
            }
        }
    }
    if spec.threads > MAX_THREADS {
        return Err(flag(
            "--threads",
            format!(
                "{} exceeds the limit of {MAX_THREADS} (0 = one per core)",
                spec.threads
            ),
        ));
    }
    Ok(())
}

/// Everything about a run that can be checked before its data is loaded: [`check_run_numbers`], the
/// config (a regular file that parses and checks), and the memory its parameter history would take
/// (≤ [`MAX_HISTORY_BYTES`]). Returns the checked config.
pub fn preflight(spec: &RunSpec) -> Result<NetworkSpec> {
    check_run_numbers(spec)?;
    if let Some(why) = crate::input::not_a_regular_file(&spec.config) {
        return Err(Error::invalid(
            "--config",
            format!(
                "{} {why}; expected a YAML network config",
                spec.config.display()
            ),
        ));
    }
    let net_spec = NetworkSpec::from_file(&spec.config)?;
    if let Some(every) = spec.checkpoint_every {
        let params: u64 = Network::new(net_spec.clone(), spec.network_seed)
            .state_dict()
            .iter()
            .map(|(_, t)| t.len() as u64)
            .sum();
        let total = (spec.steps * spec.epochs) as u64; // checked above
        let snapshots = total / every as u64 + 1;
        let bytes = snapshots.saturating_mul(params).saturating_mul(4);
        if bytes > MAX_HISTORY_BYTES {
            return Err(Error::invalid(
                "--checkpoint-every",
                format!(
                    "{every} stores {snapshots} snapshots of {params} parameters = {bytes} bytes in memory, \
                     over the limit of {MAX_HISTORY_BYTES} bytes; store less often"
                ),
            ));
        }
    }
    Ok(net_spec)
}

/// File name of the angle panel's comparison network (spec §1), looked up beside the analysed config.
pub const COMPARISON_CONFIG: &str =
    "20231129_EIANN_2_hidden_mnist_bpDale_relu_SGD_config_G_complete_optimized.yaml";

/// The comparison network for the Figure 3 angle of a run of `config`: [`COMPARISON_CONFIG`] in the
/// same folder; `None` when the network has no compared parameters; an error when it is needed but
/// missing.
fn comparison_spec(config: &Path, spec: &NetworkSpec) -> Result<Option<NetworkSpec>> {
    if crate::analyses::angle::compared_parameters(spec).is_empty() {
        return Ok(None);
    }
    let path = config
        .parent()
        .unwrap_or(Path::new("."))
        .join(COMPARISON_CONFIG);
    if !path.is_file() {
        return Err(Error::invalid(
            "Figure 3 recording",
            format!(
                "the angle's comparison network {} is missing (expected beside the config)",
                path.display()
            ),
        ));
    }
    Ok(Some(NetworkSpec::from_file(&path)?))
}

/// Train a network from `spec` on EIANN's MNIST splits and collect it into a [`Checkpoint`] (not saved).
/// Runs [`preflight`] first.
pub fn train_run(
    spec: &RunSpec,
    mnist: &Mnist,
    on_event: &mut dyn FnMut(TrainEvent),
) -> Result<RunOutput> {
    let net_spec = preflight(spec)?;
    let mut net = Network::new(net_spec.clone(), spec.network_seed);
    let opts = TrainOptions {
        epochs: spec.epochs,
        samples_per_epoch: Some(spec.steps),
        data_seed: spec.data_seed,
        store_params_interval: spec
            .checkpoint_every
            .map(|n| Interval::new(0, -1, n as i64)),
        val_interval: spec.val_every.map(|n| Interval::new(0, -1, n as i64)),
        threads: spec.threads,
    };
    let mut val_seconds = 0.0;
    let t0 = Instant::now();
    let mut last = Instant::now();
    let mut events = |e: TrainEvent| {
        if let TrainEvent::Validation { .. } = e {
            val_seconds += last.elapsed().as_secs_f64();
        }
        on_event(e);
        last = Instant::now();
    };
    let mut records = StateDict::new();
    let mut figure3_seconds = None;
    let history = match spec.figure3_every {
        None => train(&mut net, &mnist.train, Some(&mnist.val), &opts, &mut events)?,
        Some(every) => {
            let comparison = comparison_spec(&spec.config, &net_spec)?;
            let setup = Figure3Setup {
                test: &mnist.test,
                train: &mnist.train,
                every,
                threads: spec.threads,
            };
            let mut rec =
                Figure3Recorder::new(&net_spec, spec.steps * spec.epochs, comparison, setup)?;
            let h = train_observed(
                &mut net,
                &mnist.train,
                Some(&mnist.val),
                &opts,
                &mut events,
                &mut rec,
            )?;
            let (r, times) = rec.finish(&net)?;
            records = r;
            figure3_seconds = Some(times);
            h
        }
    };
    let train_seconds = (t0.elapsed().as_secs_f64() - val_seconds).max(0.0);
    let test_accuracy = if spec.test {
        Some(evaluate(&net, &mnist.test, spec.threads)?.accuracy)
    } else {
        None
    };
    let to_usize = |v: &[i64]| v.iter().map(|&x| x.max(0) as usize).collect::<Vec<_>>();
    let (steps, states): (Vec<i64>, Vec<StateDict>) = history
        .param_history_steps
        .iter()
        .zip(&history.param_history)
        .filter(|(s, _)| **s >= 0)
        .map(|(s, d)| (*s, d.clone()))
        .unzip();
    let checkpoint = Checkpoint {
        config_name: net_spec.name.clone(),
        config_yaml: net_spec.source_yaml.clone(),
        network_seed: spec.network_seed,
        data_seed: spec.data_seed,
        epochs: spec.epochs,
        samples_per_epoch: spec.steps,
        total_steps: history.loss_history.len(),
        store_params_interval: interval_tuple(spec.checkpoint_every),
        val_interval: interval_tuple(spec.val_every),
        test_accuracy,
        final_state: net.state_dict(),
        param_history_steps: to_usize(&steps),
        param_history: states,
        sample_order: to_usize(&history.sample_order),
        loss_history: history.loss_history,
        val_history_train_steps: to_usize(&history.val_steps),
        val_loss_history: history.val_loss,
        val_accuracy_history: history.val_accuracy,
        records,
        ..Checkpoint::default()
    };
    Ok(RunOutput {
        checkpoint,
        network: net,
        train_seconds,
        figure3_seconds,
    })
}

/// A saved network: our pickle, or a state file of the original PyTorch network.
#[derive(Debug, Clone)]
pub enum SavedNetwork {
    /// An eiann-rs checkpoint pickle, and the file it was read from.
    Pickle(Box<Checkpoint>, PathBuf),
    /// An `.npz` with EIANN state_dict names (e.g. [`REFERENCE_STATE`]).
    StateFile {
        /// Where it was read from.
        path: PathBuf,
        /// The network's config.
        spec: Box<NetworkSpec>,
        /// The parameters.
        state: StateDict,
        /// Human-readable lines describing the `meta/*` arrays it holds.
        meta: Vec<String>,
        /// `meta/train_step`, when present.
        train_step: Option<usize>,
    },
}

/// Load a saved network. `.npz` files are read as state files and need a config: `config`, or else
/// [`FIGURE3_CONFIG`] relative to the current directory. Anything else is read as an eiann pickle.
pub fn load_saved(path: &Path, config: Option<&Path>) -> Result<SavedNetwork> {
    if path.extension().is_some_and(|e| e == "npz") {
        let cfg = config.map_or_else(|| PathBuf::from(FIGURE3_CONFIG), Path::to_path_buf);
        let spec = NetworkSpec::from_file(&cfg)?;
        let state = StateDict::from_npz(path)?;
        let z = Npz::open(path)?;
        let mut meta = Vec::new();
        for k in z.keys().filter(|k| k.starts_with("meta/")) {
            let name = &k["meta/".len()..];
            let line = match z.get(k)? {
                NpyArray::I64(a) if a.len() == 1 => {
                    format!("{name}: {}", a.iter().next().copied().unwrap_or_default())
                }
                NpyArray::I64(a) => {
                    let head: Vec<i64> = a.iter().take(10).copied().collect();
                    format!("{name}: {} values, first {head:?}", a.len())
                }
                NpyArray::F32(a) => format!("{name}: {} float32 values", a.len()),
                other => format!("{name}: {:?}", other.shape()),
            };
            meta.push(line);
        }
        let train_step = z
            .scalar_i64("meta/train_step")
            .ok()
            .map(|s| s.max(0) as usize);
        return Ok(SavedNetwork::StateFile {
            path: path.to_path_buf(),
            spec: Box::new(spec),
            state,
            meta,
            train_step,
        });
    }
    Ok(SavedNetwork::Pickle(
        Box::new(Checkpoint::load(path)?),
        path.to_path_buf(),
    ))
}

impl SavedNetwork {
    /// The network with the parameters stored at training step `step` (`None`: the final ones), and the
    /// step they belong to when known.
    pub fn network_at(&self, step: Option<usize>) -> Result<(Network, Option<usize>)> {
        match self {
            SavedNetwork::Pickle(ck, file) => {
                let spec = NetworkSpec::from_yaml_str(
                    &ck.config_yaml,
                    &ck.config_name,
                    "checkpoint config_yaml",
                )?;
                let (state, at) = match step {
                    None => (&ck.final_state, Some(ck.total_steps.saturating_sub(1))),
                    Some(s) => (
                        ck.state_at_step(s).ok_or_else(|| {
                            Error::invalid(
                                "step",
                                format!(
                                    "no parameters stored at step {s}; stored steps: {:?}",
                                    ck.param_history_steps
                                ),
                            )
                        })?,
                        Some(s),
                    ),
                };
                let what = match step {
                    None => "final_state".to_string(),
                    Some(s) => format!("param_history at step {s}"),
                };
                let mut net = network_from_state(spec, state, file, &what)?;
                net.seed = Some(ck.network_seed);
                Ok((net, at))
            }
            SavedNetwork::StateFile {
                spec,
                state,
                train_step,
                path,
                ..
            } => {
                if let Some(s) = step {
                    if Some(s) != *train_step {
                        return Err(Error::invalid(
                            "step",
                            format!(
                                "{} holds only the parameters of step {:?}",
                                path.display(),
                                train_step
                            ),
                        ));
                    }
                }
                Ok((
                    network_from_state((**spec).clone(), state, path, "state")?,
                    *train_step,
                ))
            }
        }
    }

    /// Dataset index of the sample trained at `step`, when the file records the sample order.
    pub fn sample_at_step(&self, step: usize) -> Option<usize> {
        match self {
            SavedNetwork::Pickle(ck, _) => ck.sample_order.get(step).copied(),
            SavedNetwork::StateFile { path, .. } => Npz::open(path)
                .ok()?
                .i64("meta/sample_order")
                .ok()?
                .iter()
                .nth(step)
                .map(|&v| v.max(0) as usize),
        }
    }
}

/// Build the network of `spec` from `state` (read from `file`, at `what`, e.g. `final_state`): every
/// parameter must be finite, and a missing or foreign tensor is named together with the file.
fn network_from_state(
    spec: NetworkSpec,
    state: &StateDict,
    file: &Path,
    what: &str,
) -> Result<Network> {
    let fail = |message: String| Error::Checkpoint {
        file: file.display().to_string(),
        message,
    };
    for (key, tensor) in state.iter() {
        if let Some((i, x)) = tensor.iter().enumerate().find(|(_, x)| !x.is_finite()) {
            return Err(fail(format!(
                "{what}[\"{key}\"]: element {i} is {x}; parameters must be finite numbers (the run \
                 that wrote it diverged), so this network cannot be evaluated"
            )));
        }
    }
    Network::from_state_dict(spec, state).map_err(|e| match e {
        Error::UnknownName {
            kind: "state_dict key",
            name,
            ..
        } => {
            if state.get(&name).is_none() {
                fail(format!(
                    "{what}: missing tensor \"{name}\", which the network config needs"
                ))
            } else {
                fail(format!(
                    "{what}: tensor \"{name}\" is not a parameter of the network config"
                ))
            }
        }
        Error::Shape {
            what: w,
            expected,
            got,
        } => fail(format!(
            "{what}: shape mismatch in {w}: the config needs {expected}, the file holds {got}"
        )),
        other => other,
    })
}
