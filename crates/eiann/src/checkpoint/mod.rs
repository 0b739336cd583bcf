//! Checkpoints: a trained network with its training history saved as a pickle that Python reads with
//! nothing but the standard library.
//!
//! A training run (EIANN's `Network.train`) produces the final parameters, the parameters at every
//! checkpoint step (`param_history`), the data-set index used at every step (`sample_order`), the loss
//! per step, the validation history, and the config it ran with. [`Checkpoint`] holds all of that;
//! [`Checkpoint::save`] writes it atomically and [`Checkpoint::load`] reads it back bit-identically.
//! [`default_checkpoint_path`] gives EIANN's usual location,
//! `<repo root>/data/saved_network_pickles/mnist/<config name>_<network seed>_<data seed>.pkl`.
//!
//! # Pickle schema (`format_version` 2)
//!
//! The file is a single pickle (protocol 3) of a `dict`. It holds only plain `dict`, `list`, `tuple`,
//! `int`, `float`, `str`, `bytes` and `None`: no classes, no NumPy, no torch. It therefore loads with
//! `pickle.load` alone, and also with an `Unpickler` whose `find_class` always raises (safe loading).
//!
//! ## Top level
//!
//! Keys appear in this order (Python dicts keep it):
//!
//! | key | Python type | meaning |
//! |---|---|---|
//! | `format` | `str` | always `"eiann-rs checkpoint"`: marks the file as ours |
//! | `format_version` | `int` | layout version, currently `2` (see *Versioning*) |
//! | `created_by` | `str` | writer, e.g. `"eiann-rs 0.1.0"` |
//! | `config_name` | `str` | config file stem, e.g. `20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized` |
//! | `config_yaml` | `str` | full text of the YAML network config the run used |
//! | `network_seed` | `int` | seed of the weight initialisation |
//! | `data_seed` | `int` | seed of the data order |
//! | `epochs` | `int` | epochs trained |
//! | `samples_per_epoch` | `int` | train samples per epoch |
//! | `total_steps` | `int` | train steps performed (`== len(loss_history)`) |
//! | `store_params_interval` | `tuple[int, int, int]` | `(start, stop, step)` of the parameter checkpoints; `stop == -1` means the last step |
//! | `val_interval` | `tuple[int, int, int]` | `(start, stop, step)` of the validation evaluations; `stop == -1` means the last step |
//! | `test_accuracy` | `float` or `None` | test-set accuracy of the final network, if it was measured |
//! | `final_state` | state dict | parameters after the last step |
//! | `param_history_steps` | `list[int]` | train step of each `param_history` entry, strictly increasing |
//! | `param_history` | `list[state dict]` | parameters at those steps (`len == len(param_history_steps)`) |
//! | `sample_order` | tensor, `int64`, shape `(total_steps,)` | data-set index trained on at each step |
//! | `loss_history` | tensor, `float32`, shape `(total_steps,)` | train loss at each step |
//! | `val_history_train_steps` | tensor, `int64`, shape `(n_val,)` | train step of each validation, strictly increasing |
//! | `val_loss_history` | tensor, `float32`, shape `(n_val,)` | validation loss at those steps |
//! | `val_accuracy_history` | tensor, `float32`, shape `(n_val,)` | validation accuracy at those steps (EIANN: percent) |
//! | `records` | state dict | (version ≥ 2) named float32 arrays computed during training, e.g. the Figure 3 histories of [`crate::analyses::recorder`] (`figure3/…`); step grids are stored as float32 (exact below 2²⁴); empty when nothing was recorded |
//!
//! ## Tensor
//!
//! | key | Python type | meaning |
//! |---|---|---|
//! | `shape` | `list[int]` | dimensions, e.g. `[500, 784]`; `[]` is a scalar (one element) |
//! | `dtype` | `str` | `"float32"` (parameters, losses, accuracies) or `"int64"` (indices, steps) |
//! | `data` | `bytes` | elements in C (row-major) order, little-endian; `len(data) == prod(shape) * 4` for `float32`, `* 8` for `int64` |
//!
//! ## State dict
//!
//! A `list` of `(key, tensor)` 2-tuples in EIANN's `state_dict()` order, e.g.
//! `("module_dict.H1E_InputE.weight", {shape: [500, 784], ...})` (weights are `(post, pre)` like
//! `nn.Linear`) followed by `("parameter_dict.H1E_bias", {shape: [500], ...})`. `dict(state)` gives an
//! ordered Python dict. Every `param_history` entry has the same keys, order and shapes as `final_state`.
//!
//! ## Reading it in Python (standard library only)
//!
//! ```python
//! import pickle, struct
//! ck = pickle.load(open(path, "rb"))
//! assert ck["format"] == "eiann-rs checkpoint" and ck["format_version"] <= 2
//! w = dict(ck["final_state"])["module_dict.H1E_InputE.weight"]
//! flat = struct.unpack("<%df" % (len(w["data"]) // 4), w["data"])  # row-major, shape w["shape"]
//! ```
//!
//! With NumPy: `np.frombuffer(t["data"], dtype="<f4").reshape(t["shape"])` (`"<i8"` for `int64`).
//!
//! ## Versioning
//!
//! Readers check `format` and refuse a `format_version` newer than they know. Readers ignore keys they do
//! not know, so adding a key keeps the version; removing a key or changing a key's type or meaning bumps
//! it. [`Checkpoint::save`] always writes the current [`FORMAT_VERSION`].
//!
//! Version 2 added `records` and made it the last key (version 1 files, without it, still load with
//! empty records).
//!
//! # Atomicity and memory
//!
//! [`Checkpoint::save`] streams the pickle through a `BufWriter` into a temporary file next to the target
//! (`.<name>.tmp-<pid>-<n>`), fsyncs it and renames it over the target, so the target is either the old
//! file or the complete new one; on any error the temporary file is removed. A save killed midway
//! leaves its temporary file; the next save to the same target (and [`prepare_output`]) removes
//! temporary files whose process no longer runs. Tensors are converted to
//! bytes one at a time, so saving needs only one tensor's worth of extra memory.
//!
//! [`Checkpoint::load`] parses the pickle into a tree whose `bytes` buffers are then converted to
//! float32 arrays one tensor at a time, each buffer freed right after its conversion: peak memory is
//! about the file size plus the largest tensor, not twice the file size. Files re-pickled by Python
//! (protocols 2 to 5, with memo-shared objects such as `param_history[-1] is final_state`) load too, as
//! long as they keep the schema.
//!
//! # Safety of loading
//!
//! The reader ([`pickle`](self) machine in `checkpoint/pickle.rs`) never runs code: it knows only the
//! data opcodes, refuses every opcode that names or calls a Python object, and recognises as data the
//! single pattern protocol 2 uses for `bytes` (`_codecs.encode(<str>, "latin1")`, `bytes()` for
//! `b""`). Lengths are checked against the file size before allocation, and nesting, object count,
//! memo and copies of shared objects are capped ([`crate::limits`]). A checkpoint holding NaN or
//! infinite parameters loads as it is (a diverged run can be inspected bit for bit), but building a
//! network from it ([`crate::run::SavedNetwork::network_at`], `eiann evaluate`) is an error naming the
//! tensor and the element: a diverged run is never silently evaluated.
//!
//! Measured on a 2-core machine for a 3,000-step run of the DTP network (31 checkpoints plus the final
//! state, 1,183,504 floats each): file 151.5 MB; save 0.38 s (including fsync), peak RSS 153 MB of which
//! 151 MB is the checkpoint itself; load 0.24 s, peak RSS 160 MB.

mod pickle;
mod read;
mod write;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::state::StateDict;

/// Value of the top-level `format` key that marks a pickle as an eiann-rs checkpoint.
pub const FORMAT_MARKER: &str = "eiann-rs checkpoint";

/// Layout version this build writes, and the newest it reads.
pub const FORMAT_VERSION: u32 = 2;

/// Default [`Checkpoint::created_by`]: `"eiann-rs <crate version>"`.
pub const CREATED_BY: &str = concat!("eiann-rs ", env!("CARGO_PKG_VERSION"));

/// A `(start, stop, step)` range of train steps as passed to EIANN's `Network.train`
/// (`store_params_interval`, `val_interval`); `stop == -1` means "through the last step".
pub type StepInterval = (i64, i64, i64);

/// A trained network with its training history, as saved to and loaded from a checkpoint pickle.
///
/// Build one with struct-update syntax from [`Checkpoint::default`], then [`save`](Checkpoint::save) it.
/// [`save`](Checkpoint::save) and [`load`](Checkpoint::load) check the invariants listed on
/// [`validate`](Checkpoint::validate).
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// Layout version of the file this came from ([`FORMAT_VERSION`] for new checkpoints).
    pub format_version: u32,
    /// Program that wrote the checkpoint, e.g. `"eiann-rs 0.1.0"`.
    pub created_by: String,
    /// Config name: the YAML file's stem, e.g. `20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized`.
    pub config_name: String,
    /// Full text of the YAML network config the run used.
    pub config_yaml: String,
    /// Seed of the weight initialisation.
    pub network_seed: u64,
    /// Seed of the data order.
    pub data_seed: u64,
    /// Number of epochs trained.
    pub epochs: usize,
    /// Train samples per epoch.
    pub samples_per_epoch: usize,
    /// Train steps performed; equals `sample_order.len()` and `loss_history.len()`.
    pub total_steps: usize,
    /// `(start, stop, step)` at which parameters were stored into `param_history`.
    pub store_params_interval: StepInterval,
    /// `(start, stop, step)` at which the validation set was evaluated.
    pub val_interval: StepInterval,
    /// Test-set accuracy of the final network, if measured (same units as `val_accuracy_history`).
    pub test_accuracy: Option<f32>,
    /// Parameters after the last train step.
    pub final_state: StateDict,
    /// Train step of each `param_history` entry, strictly increasing (e.g. 0, 99, 199, …, 2999).
    pub param_history_steps: Vec<usize>,
    /// Parameters at each step of `param_history_steps`; same keys, order and shapes as `final_state`.
    pub param_history: Vec<StateDict>,
    /// Data-set index trained on at each step (`int64` on disk).
    pub sample_order: Vec<usize>,
    /// Train loss at each step.
    pub loss_history: Vec<f32>,
    /// Train step of each validation evaluation, strictly increasing.
    pub val_history_train_steps: Vec<usize>,
    /// Validation loss at each of `val_history_train_steps`.
    pub val_loss_history: Vec<f32>,
    /// Validation accuracy at each of `val_history_train_steps` (EIANN: percent correct).
    pub val_accuracy_history: Vec<f32>,
    /// Named arrays computed during training (`records`, format version ≥ 2; empty otherwise).
    pub records: StateDict,
}

impl Default for Checkpoint {
    /// An empty checkpoint of the current format: no steps, no history, empty strings, seeds 0,
    /// intervals `(0, -1, 1)`.
    fn default() -> Self {
        Checkpoint {
            format_version: FORMAT_VERSION,
            created_by: CREATED_BY.to_string(),
            config_name: String::new(),
            config_yaml: String::new(),
            network_seed: 0,
            data_seed: 0,
            epochs: 0,
            samples_per_epoch: 0,
            total_steps: 0,
            store_params_interval: (0, -1, 1),
            val_interval: (0, -1, 1),
            test_accuracy: None,
            final_state: StateDict::new(),
            param_history_steps: Vec::new(),
            param_history: Vec::new(),
            sample_order: Vec::new(),
            loss_history: Vec::new(),
            val_history_train_steps: Vec::new(),
            val_loss_history: Vec::new(),
            val_accuracy_history: Vec::new(),
            records: StateDict::new(),
        }
    }
}

impl Checkpoint {
    /// Write the checkpoint to `path` as a pickle (see the module docs for the schema), creating parent
    /// directories. The write is atomic: a temporary file in the same directory is written, fsynced and
    /// renamed over `path`; on error it is removed and any previous file at `path` is left untouched.
    /// Fails without writing if [`validate`](Checkpoint::validate) fails. Always writes
    /// [`FORMAT_VERSION`], whatever `self.format_version` says.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        self.validate()
            .map_err(|e| checkpoint_error(path, format!("not saved: {e}")))?;
        write::save(self, path)
    }

    /// Read a checkpoint written by [`save`](Checkpoint::save) (or re-pickled by Python keeping the
    /// schema). Every problem — missing or unreadable file, truncated pickle, a pickle that is not an
    /// eiann-rs checkpoint, a newer `format_version`, a tensor whose bytes do not match its shape or
    /// dtype, inconsistent histories — is an [`Error::Checkpoint`] naming the file and the offending key.
    pub fn load(path: impl AsRef<Path>) -> Result<Checkpoint> {
        let path = path.as_ref();
        let checkpoint = read::load(path)?;
        checkpoint
            .validate()
            .map_err(|e| checkpoint_error(path, format!("inconsistent checkpoint: {e}")))?;
        Ok(checkpoint)
    }

    /// Check the invariants [`save`](Checkpoint::save) and [`load`](Checkpoint::load) rely on:
    /// `sample_order` and `loss_history` have `total_steps` entries; `param_history` and
    /// `param_history_steps` have equal lengths; the three validation series have equal lengths; both
    /// step lists are strictly increasing; every `param_history` entry has `final_state`'s keys, order and
    /// shapes. Returns [`Error::Invalid`] describing the first violation.
    pub fn validate(&self) -> Result<()> {
        let invalid = |message: String| Err(Error::invalid("checkpoint", message));
        if self.sample_order.len() != self.total_steps {
            return invalid(format!(
                "sample_order has {} entries but total_steps is {}",
                self.sample_order.len(),
                self.total_steps
            ));
        }
        if self.loss_history.len() != self.total_steps {
            return invalid(format!(
                "loss_history has {} entries but total_steps is {}",
                self.loss_history.len(),
                self.total_steps
            ));
        }
        if self.param_history.len() != self.param_history_steps.len() {
            return invalid(format!(
                "param_history has {} state dicts but param_history_steps has {} steps",
                self.param_history.len(),
                self.param_history_steps.len()
            ));
        }
        let n_val = self.val_history_train_steps.len();
        if self.val_loss_history.len() != n_val || self.val_accuracy_history.len() != n_val {
            return invalid(format!(
                "validation histories differ in length: val_history_train_steps {n_val}, \
                 val_loss_history {}, val_accuracy_history {}",
                self.val_loss_history.len(),
                self.val_accuracy_history.len()
            ));
        }
        for (name, steps) in [
            ("param_history_steps", &self.param_history_steps),
            ("val_history_train_steps", &self.val_history_train_steps),
        ] {
            if let Some(i) = steps.windows(2).position(|w| w[0] >= w[1]) {
                return invalid(format!(
                    "{name} must be strictly increasing, but entry {} is {} and entry {} is {}",
                    i,
                    steps[i],
                    i + 1,
                    steps[i + 1]
                ));
            }
        }
        for (k, state) in self.param_history.iter().enumerate() {
            let step = self.param_history_steps[k];
            if state.len() != self.final_state.len() {
                return invalid(format!(
                    "param_history[{k}] (step {step}) has {} tensors, final_state has {}",
                    state.len(),
                    self.final_state.len()
                ));
            }
            for ((key, tensor), (final_key, final_tensor)) in
                state.iter().zip(self.final_state.iter())
            {
                if key != final_key {
                    return invalid(format!(
                        "param_history[{k}] (step {step}) has key \"{key}\" where final_state has \"{final_key}\""
                    ));
                }
                if tensor.shape() != final_tensor.shape() {
                    return invalid(format!(
                        "param_history[{k}] (step {step}) \"{key}\" has shape {:?}, final_state has {:?}",
                        tensor.shape(),
                        final_tensor.shape()
                    ));
                }
            }
        }
        Ok(())
    }

    /// The parameters stored at train step `step` (exact match in `param_history_steps`), if any.
    pub fn state_at_step(&self, step: usize) -> Option<&StateDict> {
        let k = self.param_history_steps.iter().position(|&s| s == step)?;
        self.param_history.get(k)
    }

    /// The `k`-th stored checkpoint as `(train step, parameters)`, if `k < num_checkpoints()`.
    pub fn checkpoint(&self, k: usize) -> Option<(usize, &StateDict)> {
        Some((
            *self.param_history_steps.get(k)?,
            self.param_history.get(k)?,
        ))
    }

    /// Number of stored parameter checkpoints (`param_history.len()`).
    pub fn num_checkpoints(&self) -> usize {
        self.param_history.len()
    }

    /// [`default_checkpoint_path`] for this checkpoint's config name and seeds.
    pub fn default_path(&self, repo_root: impl AsRef<Path>) -> PathBuf {
        default_checkpoint_path(
            repo_root,
            &self.config_name,
            self.network_seed,
            self.data_seed,
        )
    }
}

/// Check that `path` may receive a checkpoint before a run starts (so an unwritable or precious
/// `--out` is reported before training, not after): refuses directories, devices, FIFOs and sockets,
/// the run's own `inputs` (config, data files, a checkpoint it reads), and an existing file that is not
/// an eiann-rs checkpoint unless `replace_foreign` (`--force`); creates the directory and checks that
/// a file can be created in it. Removes temporary files that killed saves to `path` left behind and
/// returns their paths.
pub fn prepare_output(
    path: &Path,
    inputs: &[&Path],
    replace_foreign: bool,
) -> Result<Vec<PathBuf>> {
    write::prepare_output(path, inputs, replace_foreign)
}

/// EIANN's default location of a saved network:
/// `<repo_root>/data/saved_network_pickles/mnist/<config_name>_<network_seed>_<data_seed>.pkl`.
pub fn default_checkpoint_path(
    repo_root: impl AsRef<Path>,
    config_name: &str,
    network_seed: u64,
    data_seed: u64,
) -> PathBuf {
    repo_root
        .as_ref()
        .join("data")
        .join("saved_network_pickles")
        .join("mnist")
        .join(format!("{config_name}_{network_seed}_{data_seed}.pkl"))
}

/// An [`Error::Checkpoint`] about `path`.
fn checkpoint_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Checkpoint {
        file: path.display().to_string(),
        message: message.into(),
    }
}
