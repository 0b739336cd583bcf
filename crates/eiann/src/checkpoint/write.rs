//! Streaming pickle writer for [`Checkpoint`] and the atomic temp-file-then-rename save.

use std::fs::{self, File, OpenOptions};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use ndarray::ArrayD;
use serde::ser::{Error as _, SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::{checkpoint_error, Checkpoint, StepInterval, FORMAT_MARKER, FORMAT_VERSION};
use crate::error::Result;
use crate::state::StateDict;

/// Buffer size of the file writer.
const WRITE_BUFFER: usize = 1 << 20;

/// Write `checkpoint` to `path` atomically (the caller has validated it).
pub(super) fn save(checkpoint: &Checkpoint, path: &Path) -> Result<()> {
    write_atomically(path, |writer| {
        serde_pickle::to_writer(
            writer,
            &Wire::new(checkpoint),
            serde_pickle::SerOptions::new(),
        )
        .map_err(|e| format!("writing the pickle failed: {e}"))
    })
}

/// Create `path`'s parent directories, stream `body` into a fresh temporary file in the same directory,
/// flush and fsync it, and rename it over `path`. On any failure the temporary file is removed and
/// `path` is untouched.
pub(super) fn write_atomically(
    path: &Path,
    body: impl FnOnce(&mut BufWriter<File>) -> std::result::Result<(), String>,
) -> Result<()> {
    let fail = |message: String| checkpoint_error(path, message);
    let file_name = path
        .file_name()
        .ok_or_else(|| fail("not a file path (no file name)".to_string()))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir)
        .map_err(|e| fail(format!("cannot create directory {}: {e}", dir.display())))?;
    remove_stale_temporaries(path);

    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let tmp_name = format!(
        ".{}.tmp-{}-{}",
        file_name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let tmp = TempFile(dir.join(tmp_name));
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp.0)
        .map_err(|e| {
            fail(format!(
                "cannot create temporary file {}: {e}",
                tmp.0.display()
            ))
        })?;

    let mut writer = BufWriter::with_capacity(WRITE_BUFFER, file);
    body(&mut writer).map_err(&fail)?;
    let file = writer
        .into_inner()
        .map_err(|e| fail(format!("writing {} failed: {}", tmp.0.display(), e.error())))?;
    file.sync_all()
        .map_err(|e| fail(format!("syncing {} failed: {e}", tmp.0.display())))?;
    drop(file);
    fs::rename(&tmp.0, path).map_err(|e| {
        fail(format!(
            "cannot move the finished temporary file into place: {e}"
        ))
    })?;
    tmp.keep();
    // Make the rename itself durable; not every platform can open a directory, so this is best effort.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Prefix of the temporary files [`write_atomically`] creates for `path`: `.<name>.tmp-`.
fn temp_prefix(path: &Path) -> Option<String> {
    Some(format!(".{}.tmp-", path.file_name()?.to_string_lossy()))
}

/// Whether the process that created a temporary file (its pid is in the name) is gone: on Linux, no
/// `/proc/<pid>`; elsewhere, the file is more than a day old.
fn creator_is_gone(pid: u32, file: &Path) -> bool {
    if pid == std::process::id() {
        return false;
    }
    if cfg!(target_os = "linux") && Path::new("/proc/self").exists() {
        return !Path::new("/proc").join(pid.to_string()).exists();
    }
    fs::metadata(file)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age.as_secs() > 24 * 3600)
}

/// Delete the temporary files that saves to `path` by processes that no longer run left behind
/// (a killed save leaves its `.<name>.tmp-<pid>-<n>` file); returns the files removed.
pub(super) fn remove_stale_temporaries(path: &Path) -> Vec<PathBuf> {
    let Some(prefix) = temp_prefix(path) else {
        return Vec::new();
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(&prefix) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let file = entry.path();
        let regular = entry.file_type().is_ok_and(|t| t.is_file());
        if regular && creator_is_gone(pid, &file) && fs::remove_file(&file).is_ok() {
            removed.push(file);
        }
    }
    removed
}

/// Check, before a run spends time, that `path` can take a checkpoint: it is not a directory, device,
/// FIFO or socket, not one of `inputs` (the run's config, data files, resumed checkpoint), not an
/// existing file other than an eiann-rs checkpoint (unless `replace_foreign`), and its directory can be
/// created and written (a probe file is created and removed). Also removes stale temporary files of
/// killed saves to `path` and returns them.
pub(super) fn prepare_output(
    path: &Path,
    inputs: &[&Path],
    replace_foreign: bool,
) -> Result<Vec<PathBuf>> {
    let fail = |message: String| checkpoint_error(path, message);
    let file_name = path
        .file_name()
        .ok_or_else(|| fail("not a file path (no file name)".to_string()))?;
    if let Ok(meta) = fs::metadata(path) {
        if !meta.is_file() {
            return Err(fail(format!(
                "is {}; refusing to replace it with a checkpoint",
                crate::input::kind_of(&meta)
            )));
        }
        let canonical = fs::canonicalize(path).ok();
        for input in inputs {
            if canonical.is_some() && fs::canonicalize(input).ok() == canonical {
                return Err(fail(format!(
                    "is one of this run's inputs ({}); refusing to overwrite it",
                    input.display()
                )));
            }
        }
        if !replace_foreign && !looks_like_checkpoint(path) {
            return Err(fail(
                "exists and is not an eiann-rs checkpoint; refusing to replace it (choose another \
                 --out, or pass --force to replace it)"
                    .to_string(),
            ));
        }
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir)
        .map_err(|e| fail(format!("cannot create directory {}: {e}", dir.display())))?;
    let probe = TempFile(dir.join(format!(
        ".{}.probe-{}",
        file_name.to_string_lossy(),
        std::process::id()
    )));
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&probe.0)
        .map_err(|e| {
            fail(format!(
                "cannot write into {} ({e}); choose another --out",
                dir.display()
            ))
        })?;
    drop(probe);
    Ok(remove_stale_temporaries(path))
}

/// Whether the file at `path` starts like an eiann-rs checkpoint: a binary pickle whose first bytes hold
/// the format marker (true of our files and of Python re-pickles of them).
fn looks_like_checkpoint(path: &Path) -> bool {
    use std::io::Read;
    let Ok(f) = File::open(path) else {
        return false;
    };
    let mut head = Vec::with_capacity(256);
    if f.take(256).read_to_end(&mut head).is_err() {
        return false;
    }
    head.first() == Some(&0x80)
        && head
            .windows(FORMAT_MARKER.len())
            .any(|w| w == FORMAT_MARKER.as_bytes())
}

/// A temporary file that is deleted when dropped, unless [`keep`](TempFile::keep) was called.
struct TempFile(PathBuf);

impl TempFile {
    /// The file was renamed into place: do not delete it.
    fn keep(self) {
        std::mem::forget(self);
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// The top-level pickle dict; field order is the key order in the file.
#[derive(Serialize)]
struct Wire<'a> {
    format: &'static str,
    format_version: u32,
    created_by: &'a str,
    config_name: &'a str,
    config_yaml: &'a str,
    network_seed: u64,
    data_seed: u64,
    epochs: u64,
    samples_per_epoch: u64,
    total_steps: u64,
    store_params_interval: StepInterval,
    val_interval: StepInterval,
    test_accuracy: Option<f32>,
    final_state: StateDictSer<'a>,
    param_history_steps: Vec<u64>,
    param_history: Vec<StateDictSer<'a>>,
    sample_order: TensorSer<'a>,
    loss_history: TensorSer<'a>,
    val_history_train_steps: TensorSer<'a>,
    val_loss_history: TensorSer<'a>,
    val_accuracy_history: TensorSer<'a>,
    records: StateDictSer<'a>,
}

impl<'a> Wire<'a> {
    fn new(c: &'a Checkpoint) -> Self {
        Wire {
            format: FORMAT_MARKER,
            format_version: FORMAT_VERSION,
            created_by: &c.created_by,
            config_name: &c.config_name,
            config_yaml: &c.config_yaml,
            network_seed: c.network_seed,
            data_seed: c.data_seed,
            epochs: c.epochs as u64,
            samples_per_epoch: c.samples_per_epoch as u64,
            total_steps: c.total_steps as u64,
            store_params_interval: c.store_params_interval,
            val_interval: c.val_interval,
            test_accuracy: c.test_accuracy,
            final_state: StateDictSer(&c.final_state),
            param_history_steps: c.param_history_steps.iter().map(|&s| s as u64).collect(),
            param_history: c.param_history.iter().map(StateDictSer).collect(),
            sample_order: TensorSer::Indices(&c.sample_order),
            loss_history: TensorSer::Vector(&c.loss_history),
            val_history_train_steps: TensorSer::Indices(&c.val_history_train_steps),
            val_loss_history: TensorSer::Vector(&c.val_loss_history),
            val_accuracy_history: TensorSer::Vector(&c.val_accuracy_history),
            records: StateDictSer(&c.records),
        }
    }
}

/// A state dict as a list of `(key, tensor)` tuples.
struct StateDictSer<'a>(&'a StateDict);

impl Serialize for StateDictSer<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for (key, tensor) in self.0.iter() {
            seq.serialize_element(&(key, TensorSer::Array(tensor)))?;
        }
        seq.end()
    }
}

/// Something written as a tensor dict `{"shape", "dtype", "data"}`.
enum TensorSer<'a> {
    /// A float32 array of any shape.
    Array(&'a ArrayD<f32>),
    /// A 1-D float32 series.
    Vector(&'a [f32]),
    /// A 1-D series of indices, written as int64.
    Indices(&'a [usize]),
}

impl Serialize for TensorSer<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        // One tensor's bytes at a time: the largest tensor bounds the extra memory of a save.
        let (shape, dtype, data): (Vec<u64>, &str, Vec<u8>) = match self {
            TensorSer::Array(a) => (
                a.shape().iter().map(|&d| d as u64).collect(),
                "float32",
                f32_bytes(a.iter(), a.len()),
            ),
            TensorSer::Vector(v) => (
                vec![v.len() as u64],
                "float32",
                f32_bytes(v.iter(), v.len()),
            ),
            TensorSer::Indices(v) => {
                let mut data = Vec::with_capacity(v.len() * 8);
                for &i in v.iter() {
                    let i = i64::try_from(i).map_err(|_| {
                        S::Error::custom(format!("index {i} does not fit in int64"))
                    })?;
                    data.extend_from_slice(&i.to_le_bytes());
                }
                (vec![v.len() as u64], "int64", data)
            }
        };
        // serde-pickle writes BINBYTES with a 32-bit length.
        if u32::try_from(data.len()).is_err() {
            return Err(S::Error::custom(format!(
                "a tensor of shape {shape:?} has {} bytes; the pickle format used holds at most 4 GiB per tensor",
                data.len()
            )));
        }
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("shape", &shape)?;
        map.serialize_entry("dtype", dtype)?;
        map.serialize_entry("data", &Bytes(&data))?;
        map.end()
    }
}

/// A byte buffer written as a pickle `bytes` object (not a list of ints).
struct Bytes<'a>(&'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

/// Little-endian bytes of `len` float32 values, in an exactly sized buffer.
fn f32_bytes<'a>(values: impl Iterator<Item = &'a f32>, len: usize) -> Vec<u8> {
    let mut data = Vec::with_capacity(len * 4);
    for x in values {
        data.extend_from_slice(&x.to_le_bytes());
    }
    data
}
