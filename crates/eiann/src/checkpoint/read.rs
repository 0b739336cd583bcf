//! Reading a checkpoint pickle back into a [`Checkpoint`], with an error naming the key for every
//! schema violation.

use std::collections::BTreeMap;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use ndarray::{ArrayD, IxDyn};
use serde_pickle::{HashableValue, Value};

use super::pickle::{self, PickleError};
use super::{
    checkpoint_error, Checkpoint, StepInterval, CREATED_BY, FORMAT_MARKER, FORMAT_VERSION,
};
use crate::error::{Error, Result};
use crate::state::StateDict;

/// Why a pickle that refers to Python classes or functions is not ours.
const NO_GLOBALS: &str = "not an eiann-rs checkpoint: the pickle refers to Python classes or functions \
     (e.g. torch, NumPy or EIANN objects); eiann-rs checkpoints hold only plain dicts, lists, numbers, \
     strings and bytes";

/// First byte of every binary (protocol ≥ 2) pickle: the PROTO opcode.
const PROTO_OPCODE: u8 = 0x80;

type Dict = BTreeMap<HashableValue, Value>;

/// Open, parse and convert the checkpoint at `path` (the caller validates the result).
pub(super) fn load(path: &Path) -> Result<Checkpoint> {
    let reader = Reader { path };
    let value = reader.parse()?;
    reader.checkpoint(value)
}

/// Converts pickle values into checkpoint parts; errors name `path`.
struct Reader<'p> {
    path: &'p Path,
}

impl Reader<'_> {
    fn err(&self, message: impl Into<String>) -> Error {
        checkpoint_error(self.path, message)
    }

    /// Read the whole pickle into a value tree, describing failures for a person.
    fn parse(&self) -> Result<Value> {
        let (mut file, size) = crate::input::open_regular(self.path).map_err(|why| {
            if why == "does not exist" {
                self.err("checkpoint file not found (it does not exist)")
            } else {
                self.err(format!("{why}; expected a checkpoint file"))
            }
        })?;
        let mut first = [0u8; 1];
        let n = file
            .read(&mut first)
            .map_err(|e| self.err(format!("cannot read checkpoint file: {e}")))?;
        if n == 0 {
            return Err(self.err("empty file, not an eiann-rs checkpoint"));
        }
        if first[0] != PROTO_OPCODE {
            return Err(self.err(format!(
                "not an eiann-rs checkpoint: not a binary pickle (first byte is 0x{:02x}, expected 0x80)",
                first[0]
            )));
        }
        file.seek(SeekFrom::Start(0))
            .map_err(|e| self.err(format!("cannot read checkpoint file: {e}")))?;
        let reader = BufReader::with_capacity(1 << 20, file);
        pickle::read_value(reader, size).map_err(|e| self.pickle_error(e, size))
    }

    fn pickle_error(&self, e: PickleError, size: u64) -> Error {
        if pickle::is_code(&e) {
            return self.err(format!("{NO_GLOBALS} ({e})"));
        }
        match e {
            PickleError::Truncated { pos } => self.err(format!(
                "truncated pickle: the file ends at byte {size} (parsing reached byte {pos}) before the \
                 pickle is complete; the file was cut short, e.g. by an interrupted copy"
            )),
            PickleError::Trailing { pos } => self.err(format!(
                "not an eiann-rs checkpoint: extra data after the end of the pickle (at byte {pos} of {size})"
            )),
            PickleError::Io(e) => self.err(format!("reading the checkpoint failed: {e}")),
            other => self.err(format!("corrupt or unsupported pickle: {other}")),
        }
    }

    /// Convert the top-level value, checking the format marker and version first.
    fn checkpoint(&self, value: Value) -> Result<Checkpoint> {
        let mut top = match value {
            Value::Dict(d) => d,
            other => {
                return Err(self.err(format!(
                    "not an eiann-rs checkpoint: the pickle holds a {}, expected a dict with \
                     \"format\": \"{FORMAT_MARKER}\"",
                    type_name(&other)
                )))
            }
        };
        match top.remove(&key("format")) {
            Some(Value::String(s)) if s == FORMAT_MARKER => {}
            Some(other) => {
                return Err(self.err(format!(
                    "not an eiann-rs checkpoint: \"format\" is {}, expected \"{FORMAT_MARKER}\"",
                    short_repr(&other)
                )))
            }
            None => {
                let keys: Vec<String> = top.keys().take(8).map(key_repr).collect();
                let more = if top.len() > 8 { ", ..." } else { "" };
                return Err(self.err(format!(
                    "not an eiann-rs checkpoint: the pickled dict has no \"format\" key (its keys: {}{more})",
                    keys.join(", ")
                )));
            }
        }
        let version = self.uint(self.take(&mut top, "format_version")?, "format_version")?;
        if version > u64::from(FORMAT_VERSION) {
            return Err(self.err(format!(
                "written in checkpoint format_version {version}, but this build ({CREATED_BY}) reads \
                 format_version {FORMAT_VERSION} at most; update eiann-rs"
            )));
        }
        if version == 0 {
            return Err(self.err("invalid format_version 0 (versions start at 1)"));
        }
        let mut t = |k: &str| self.take(&mut top, k);
        let created_by = self.string(t("created_by")?, "created_by")?;
        let config_name = self.string(t("config_name")?, "config_name")?;
        let config_yaml = self.string(t("config_yaml")?, "config_yaml")?;
        let network_seed = self.uint(t("network_seed")?, "network_seed")?;
        let data_seed = self.uint(t("data_seed")?, "data_seed")?;
        let epochs = self.usize(t("epochs")?, "epochs")?;
        let samples_per_epoch = self.usize(t("samples_per_epoch")?, "samples_per_epoch")?;
        let total_steps = self.usize(t("total_steps")?, "total_steps")?;
        let store_params_interval =
            self.interval(t("store_params_interval")?, "store_params_interval")?;
        let val_interval = self.interval(t("val_interval")?, "val_interval")?;
        let test_accuracy = match t("test_accuracy")? {
            Value::None => None,
            v => Some(self.float(v, "test_accuracy")?),
        };
        let param_history_steps = self
            .list(t("param_history_steps")?, "param_history_steps")?
            .into_iter()
            .enumerate()
            .map(|(i, v)| self.usize(v, &format!("param_history_steps[{i}]")))
            .collect::<Result<Vec<_>>>()?;
        let sample_order = self.indices(t("sample_order")?, "sample_order")?;
        let loss_history = self.vector(t("loss_history")?, "loss_history")?;
        let val_history_train_steps =
            self.indices(t("val_history_train_steps")?, "val_history_train_steps")?;
        let val_loss_history = self.vector(t("val_loss_history")?, "val_loss_history")?;
        let val_accuracy_history =
            self.vector(t("val_accuracy_history")?, "val_accuracy_history")?;
        let final_state = self.state_dict(t("final_state")?, "final_state")?;
        // Converted one state dict (and within it one tensor) at a time: each `bytes` buffer is freed
        // right after its conversion, so memory does not double.
        let param_history = self
            .list(t("param_history")?, "param_history")?
            .into_iter()
            .enumerate()
            .map(|(k, v)| self.state_dict(v, &format!("param_history[{k}]")))
            .collect::<Result<Vec<_>>>()?;
        let records = if version >= 2 {
            self.state_dict(self.take(&mut top, "records")?, "records")?
        } else {
            StateDict::new()
        };
        Ok(Checkpoint {
            format_version: version as u32,
            created_by,
            config_name,
            config_yaml,
            network_seed,
            data_seed,
            epochs,
            samples_per_epoch,
            total_steps,
            store_params_interval,
            val_interval,
            test_accuracy,
            final_state,
            param_history_steps,
            param_history,
            sample_order,
            loss_history,
            val_history_train_steps,
            val_loss_history,
            val_accuracy_history,
            records,
        })
    }

    /// Remove `name` from `dict` (a top-level key), or fail naming it.
    fn take(&self, dict: &mut Dict, name: &str) -> Result<Value> {
        dict.remove(&key(name))
            .ok_or_else(|| self.err(format!("missing key \"{name}\"")))
    }

    /// Remove `name` from the dict at `what`, or fail naming both.
    fn take_in(&self, dict: &mut Dict, name: &str, what: &str) -> Result<Value> {
        dict.remove(&key(name))
            .ok_or_else(|| self.err(format!("{what}: missing key \"{name}\"")))
    }

    fn wrong_type(&self, what: &str, expected: &str, got: &Value) -> Error {
        self.err(format!(
            "{what}: expected {expected}, got {}",
            short_repr(got)
        ))
    }

    fn string(&self, v: Value, what: &str) -> Result<String> {
        match v {
            Value::String(s) => Ok(s),
            other => Err(self.wrong_type(what, "a str", &other)),
        }
    }

    fn int(&self, v: Value, what: &str) -> Result<i64> {
        match v {
            Value::I64(i) => Ok(i),
            Value::Int(big) => big
                .to_string()
                .parse()
                .map_err(|_| self.err(format!("{what}: integer {big} does not fit in 64 bits"))),
            other => Err(self.wrong_type(what, "an int", &other)),
        }
    }

    fn uint(&self, v: Value, what: &str) -> Result<u64> {
        match v {
            Value::I64(i) => u64::try_from(i)
                .map_err(|_| self.err(format!("{what}: expected a non-negative int, got {i}"))),
            Value::Int(big) => big
                .to_string()
                .parse()
                .map_err(|_| self.err(format!("{what}: expected an int in 0..2^64, got {big}"))),
            other => Err(self.wrong_type(what, "a non-negative int", &other)),
        }
    }

    fn usize(&self, v: Value, what: &str) -> Result<usize> {
        let u = self.uint(v, what)?;
        usize::try_from(u)
            .map_err(|_| self.err(format!("{what}: {u} is too large for this platform")))
    }

    fn float(&self, v: Value, what: &str) -> Result<f32> {
        match v {
            // Written from an f32, so the conversion back is exact.
            Value::F64(x) => Ok(x as f32),
            Value::I64(i) => Ok(i as f32),
            other => Err(self.wrong_type(what, "a float", &other)),
        }
    }

    fn list(&self, v: Value, what: &str) -> Result<Vec<Value>> {
        match v {
            Value::List(items) | Value::Tuple(items) => Ok(items),
            other => Err(self.wrong_type(what, "a list", &other)),
        }
    }

    fn interval(&self, v: Value, what: &str) -> Result<StepInterval> {
        let items = self.list(v, what)?;
        if items.len() != 3 {
            return Err(self.err(format!(
                "{what}: expected (start, stop, step), got {} values",
                items.len()
            )));
        }
        let mut it = items.into_iter();
        let mut next = |name: &str| match it.next() {
            Some(v) => self.int(v, &format!("{what} {name}")),
            None => Err(self.err(format!("{what}: missing {name}"))),
        };
        Ok((next("start")?, next("stop")?, next("step")?))
    }

    /// Split a tensor dict into shape, dtype and data, checking that the data length fits the shape.
    fn tensor(&self, v: Value, what: &str) -> Result<(Vec<usize>, String, Vec<u8>)> {
        let mut dict = match v {
            Value::Dict(d) => d,
            other => {
                return Err(self.wrong_type(
                    what,
                    "a tensor dict {\"shape\", \"dtype\", \"data\"}",
                    &other,
                ))
            }
        };
        let shape_what = format!("{what}[\"shape\"]");
        let shape = self
            .list(self.take_in(&mut dict, "shape", what)?, &shape_what)?
            .into_iter()
            .map(|d| self.usize(d, &shape_what))
            .collect::<Result<Vec<_>>>()?;
        let dtype = self.string(
            self.take_in(&mut dict, "dtype", what)?,
            &format!("{what}[\"dtype\"]"),
        )?;
        let data = match self.take_in(&mut dict, "data", what)? {
            Value::Bytes(b) => b,
            other => return Err(self.wrong_type(&format!("{what}[\"data\"]"), "bytes", &other)),
        };
        let itemsize = match dtype.as_str() {
            "float32" => 4,
            "int64" => 8,
            _ => 0, // the caller reports the unsupported dtype
        };
        if itemsize > 0 {
            let needed = shape
                .iter()
                .try_fold(itemsize, |acc: usize, &d| acc.checked_mul(d))
                .ok_or_else(|| self.err(format!("{what}: shape {shape:?} is too large")))?;
            if data.len() != needed {
                return Err(self.err(format!(
                    "{what}: data has {} bytes but shape {shape:?} of {dtype} needs {needed}",
                    data.len()
                )));
            }
        }
        Ok((shape, dtype, data))
    }

    fn expect_dtype(&self, dtype: &str, expected: &str, what: &str) -> Result<()> {
        if dtype == expected {
            Ok(())
        } else {
            Err(self.err(format!(
                "{what}: dtype \"{dtype}\" is not supported here (expected \"{expected}\")"
            )))
        }
    }

    fn expect_1d(&self, shape: &[usize], what: &str) -> Result<()> {
        if shape.len() == 1 {
            Ok(())
        } else {
            Err(self.err(format!(
                "{what}: expected a 1-D tensor, got shape {shape:?}"
            )))
        }
    }

    fn array(&self, v: Value, what: &str) -> Result<ArrayD<f32>> {
        let (shape, dtype, data) = self.tensor(v, what)?;
        self.expect_dtype(&dtype, "float32", what)?;
        let values = f32_from_le(&data);
        drop(data);
        ArrayD::from_shape_vec(IxDyn(&shape), values)
            .map_err(|e| self.err(format!("{what}: shape {shape:?}: {e}")))
    }

    fn vector(&self, v: Value, what: &str) -> Result<Vec<f32>> {
        let (shape, dtype, data) = self.tensor(v, what)?;
        self.expect_dtype(&dtype, "float32", what)?;
        self.expect_1d(&shape, what)?;
        Ok(f32_from_le(&data))
    }

    fn indices(&self, v: Value, what: &str) -> Result<Vec<usize>> {
        let (shape, dtype, data) = self.tensor(v, what)?;
        self.expect_dtype(&dtype, "int64", what)?;
        self.expect_1d(&shape, what)?;
        data.chunks_exact(8)
            .enumerate()
            .map(|(i, c)| {
                let mut b = [0u8; 8];
                b.copy_from_slice(c);
                let x = i64::from_le_bytes(b);
                usize::try_from(x).map_err(|_| {
                    self.err(format!(
                        "{what}[{i}]: expected a non-negative index, got {x}"
                    ))
                })
            })
            .collect()
    }

    fn state_dict(&self, v: Value, what: &str) -> Result<StateDict> {
        let mut state = StateDict::new();
        for (i, pair) in self
            .list(v, &format!("{what} (state dict)"))?
            .into_iter()
            .enumerate()
        {
            let mut pair = self.list(pair, &format!("{what}[{i}] (a (key, tensor) pair)"))?;
            if pair.len() != 2 {
                return Err(self.err(format!(
                    "{what}[{i}]: expected a (key, tensor) pair, got {} values",
                    pair.len()
                )));
            }
            let tensor = pair.pop();
            let name = pair.pop();
            let (Some(name), Some(tensor)) = (name, tensor) else {
                return Err(self.err(format!("{what}[{i}]: expected a (key, tensor) pair")));
            };
            let name = self.string(name, &format!("{what}[{i}] key"))?;
            let tensor_what = format!("{what}[\"{name}\"]");
            if state.get(&name).is_some() {
                return Err(self.err(format!("{tensor_what}: key appears twice")));
            }
            let array = self.array(tensor, &tensor_what)?;
            state.insert(name, array);
        }
        Ok(state)
    }
}

/// Decode little-endian float32 bytes (length already checked to be a multiple of 4).
fn f32_from_le(data: &[u8]) -> Vec<f32> {
    data.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn key(name: &str) -> HashableValue {
    HashableValue::String(name.to_string())
}

fn key_repr(k: &HashableValue) -> String {
    match k {
        HashableValue::String(s) => format!("\"{s}\""),
        other => format!("{other:?}"),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::None => "None",
        Value::Bool(_) => "bool",
        Value::I64(_) | Value::Int(_) => "int",
        Value::F64(_) => "float",
        Value::Bytes(_) => "bytes",
        Value::String(_) => "str",
        Value::List(_) => "list",
        Value::Tuple(_) => "tuple",
        Value::Set(_) => "set",
        Value::FrozenSet(_) => "frozenset",
        Value::Dict(_) => "dict",
    }
}

/// A value for an error message: scalars shown, containers and bytes summarised.
fn short_repr(v: &Value) -> String {
    match v {
        Value::None => "None".to_string(),
        Value::Bool(b) => format!("bool {b}"),
        Value::I64(i) => format!("int {i}"),
        Value::Int(i) => format!("int {i}"),
        Value::F64(x) => format!("float {x}"),
        Value::String(s) if s.len() <= 60 => format!("str \"{s}\""),
        Value::String(s) => format!("str of {} bytes", s.len()),
        Value::Bytes(b) => format!("bytes of length {}", b.len()),
        Value::List(x) | Value::Tuple(x) => format!("{} of length {}", type_name(v), x.len()),
        Value::Set(x) | Value::FrozenSet(x) => format!("{} of length {}", type_name(v), x.len()),
        Value::Dict(d) => format!("dict with {} keys", d.len()),
    }
}
