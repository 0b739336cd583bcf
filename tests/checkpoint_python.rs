//! Checkpoint pickles as Python sees them: read with only `pickle` and `struct`, re-pickled by Python and
//! read back by Rust, foreign Python pickles rejected; plus a save/load timing at the real network size.
//!
//! The Python tests need `python3` on PATH; without it they print a note and pass.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use eiann::checkpoint::{Checkpoint, FORMAT_MARKER};
use eiann::{Error, StateDict};
use ndarray::{ArrayD, IxDyn};

/// A fresh scratch directory for one test, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("eiann-ckpt-py-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Whether `python3` can be run; prints a note when it cannot.
fn have_python(test: &str) -> bool {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("note: python3 not found on PATH; skipping the Python part of {test}");
    }
    ok
}

/// Run a Python program; panic with its output if it fails; return its stdout.
fn python(code: &str) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(code)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "python failed\n--- program ---\n{code}\n--- stdout ---\n{stdout}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A Python string literal for `path` (ASCII temp paths).
fn py_str(path: &Path) -> String {
    format!("{:?}", path.to_str().unwrap())
}

/// A Python float literal equal to `x` (an f32 widened exactly to f64).
fn py_float(x: f32) -> String {
    format!("{:?}", x as f64)
}

const KEYS: [&str; 4] = [
    "module_dict.H1E_InputE.weight",
    "module_dict.H1E_H1SomaI.weight",
    "parameter_dict.H1E_bias",
    "module_dict.A_last_but_alphabetically_first",
];

fn state(seed: f32) -> StateDict {
    let mut s = StateDict::new();
    let shapes: [&[usize]; 4] = [&[3, 4], &[3, 2], &[3], &[2, 2]];
    for (key, shape) in KEYS.iter().zip(shapes) {
        let n: usize = shape.iter().product();
        let values = (0..n).map(|i| seed + (i as f32 + 1.0) / 3.0).collect();
        s.insert(*key, ArrayD::from_shape_vec(IxDyn(shape), values).unwrap());
    }
    s
}

fn sample() -> Checkpoint {
    Checkpoint {
        config_name: "20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized".into(),
        config_yaml: "layer_config:\n  Input:\n    E:\n      size: 784\n".into(),
        network_seed: 66049,
        data_seed: 257,
        epochs: 1,
        samples_per_epoch: 7,
        total_steps: 7,
        store_params_interval: (0, -1, 3),
        val_interval: (0, -1, 2),
        test_accuracy: Some(96.5),
        final_state: state(100.0),
        param_history_steps: vec![0, 3, 6],
        param_history: vec![state(0.0), state(1.0), state(2.0)],
        sample_order: vec![5, 0, 59_999, 3, 3, 1 << 40, 7],
        loss_history: vec![2.5, 1.0, 0.1, 0.3, 1e-3, 1e-40, 3.4e38],
        val_history_train_steps: vec![0, 2, 4, 6],
        val_loss_history: vec![2.0, 1.5, 1.25, 0.1],
        val_accuracy_history: vec![10.0, 50.5, 80.25, 90.0],
        ..Checkpoint::default()
    }
}

fn bits_equal(a: &StateDict, b: &StateDict) -> bool {
    a.len() == b.len()
        && a.iter().zip(b.iter()).all(|((ka, ta), (kb, tb))| {
            ka == kb
                && ta.shape() == tb.shape()
                && ta
                    .iter()
                    .zip(tb.iter())
                    .all(|(x, y)| x.to_bits() == y.to_bits())
        })
}

fn assert_same(a: &Checkpoint, b: &Checkpoint) {
    assert!(bits_equal(&a.final_state, &b.final_state));
    assert_eq!(a.param_history.len(), b.param_history.len());
    for (x, y) in a.param_history.iter().zip(&b.param_history) {
        assert!(bits_equal(x, y));
    }
    // No NaN in these checkpoints, so `==` on the rest is bit-exact enough (and -0.0 is not used).
    let strip = |c: &Checkpoint| Checkpoint {
        final_state: StateDict::new(),
        param_history: Vec::new(),
        param_history_steps: Vec::new(),
        ..c.clone()
    };
    assert_eq!(strip(a), strip(b));
    assert_eq!(a.param_history_steps, b.param_history_steps);
}

#[test]
fn python_reads_a_checkpoint_with_pickle_and_struct_only() {
    if !have_python("python_reads_a_checkpoint_with_pickle_and_struct_only") {
        return;
    }
    let dir = Scratch::new("read");
    let path = dir.path("run.pkl");
    let c = sample();
    c.save(&path).unwrap();

    let w = c
        .state_at_step(3)
        .unwrap()
        .get("module_dict.H1E_InputE.weight")
        .unwrap();
    let (row, col) = (2, 1);
    let expected_w = w[[row, col]];
    let keys: Vec<String> = KEYS.iter().map(|k| format!("{k:?}")).collect();
    let losses: Vec<String> = c.loss_history.iter().map(|&x| py_float(x)).collect();
    let order: Vec<String> = c.sample_order.iter().map(|i| i.to_string()).collect();
    let code = format!(
        r#"
import pickle, struct

class NoGlobals(pickle.Unpickler):
    def find_class(self, module, name):
        raise pickle.UnpicklingError("unexpected global %s.%s" % (module, name))

with open({path}, "rb") as f:
    ck = NoGlobals(f).load()
assert ck["format"] == {marker:?}, ck["format"]
assert ck["format_version"] == 2
assert ck["records"] == [], ck["records"]
assert list(ck)[:3] == ["format", "format_version", "created_by"], list(ck)[:3]
assert ck["network_seed"] == 66049 and ck["data_seed"] == 257
assert ck["config_name"] == {config_name:?}
assert ck["config_yaml"].startswith("layer_config:")
assert ck["total_steps"] == 7 and ck["epochs"] == 1 and ck["samples_per_epoch"] == 7
assert ck["store_params_interval"] == (0, -1, 3) and ck["val_interval"] == (0, -1, 2)
assert ck["test_accuracy"] == 96.5
assert len(ck["param_history"]) == 3 and ck["param_history_steps"] == [0, 3, 6]

sd = ck["param_history"][1]
assert [k for k, _ in sd] == [{keys}], [k for k, _ in sd]
assert [k for k, _ in ck["final_state"]] == [k for k, _ in sd]
w = dict(sd)["module_dict.H1E_InputE.weight"]
assert w["dtype"] == "float32" and w["shape"] == [3, 4] and type(w["data"]) is bytes
assert len(w["data"]) == 3 * 4 * 4
(x,) = struct.unpack("<f", w["data"][4 * ({row} * 4 + {col}):][:4])
assert x == {expected_w}, (x, {expected_w})

so = ck["sample_order"]
assert so["dtype"] == "int64" and so["shape"] == [7]
assert list(struct.unpack("<7q", so["data"])) == [{order}]
lh = ck["loss_history"]
assert list(struct.unpack("<%df" % lh["shape"][0], lh["data"])) == [{losses}]
va = ck["val_accuracy_history"]
assert struct.unpack("<4f", va["data"]) == (10.0, 50.5, 80.25, 90.0)
assert struct.unpack("<4q", ck["val_history_train_steps"]["data"]) == (0, 2, 4, 6)
print("OK", ck["created_by"], len(ck["param_history"]), x)
"#,
        path = py_str(&path),
        marker = FORMAT_MARKER,
        config_name = c.config_name,
        keys = keys.join(", "),
        expected_w = py_float(expected_w),
        order = order.join(", "),
        losses = losses.join(", "),
    );
    let out = python(&code);
    assert!(out.starts_with("OK eiann-rs "), "{out}");
    eprintln!("python: {}", out.trim());
}

#[test]
fn checkpoints_re_pickled_by_python_load_in_rust() {
    if !have_python("checkpoints_re_pickled_by_python_load_in_rust") {
        return;
    }
    let dir = Scratch::new("repickle");
    let path = dir.path("run.pkl");
    let c = sample();
    c.save(&path).unwrap();
    // Protocol 2 stores bytes through a `_codecs.encode` call; 5 uses framing and the memo.
    for protocol in [2, 4, 5] {
        let out = dir.path(&format!("p{protocol}.pkl"));
        python(&format!(
            "import pickle\nck = pickle.load(open({src}, 'rb'))\npickle.dump(ck, open({dst}, 'wb'), protocol={protocol})",
            src = py_str(&path),
            dst = py_str(&out),
        ));
        let loaded = Checkpoint::load(&out).unwrap_or_else(|e| panic!("protocol {protocol}: {e}"));
        assert_same(&c, &loaded);
    }
}

#[test]
fn memo_shared_objects_written_by_python_load_with_every_protocol() {
    if !have_python("memo_shared_objects_written_by_python_load_with_every_protocol") {
        return;
    }
    let dir = Scratch::new("memo");
    let path = dir.path("run.pkl");
    let c = sample();
    c.save(&path).unwrap();
    for protocol in [2, 3, 4, 5] {
        let out = dir.path(&format!("shared{protocol}.pkl"));
        // Two keys share one tensor object, and param_history[-1] *is* final_state.
        python(&format!(
            "import pickle\nck = pickle.load(open({src}, 'rb'))\n\
             name, _ = ck['param_history'][0][0]\n\
             ck['param_history'][0][0] = (name, ck['final_state'][0][1])\n\
             ck['param_history'][-1] = ck['final_state']\n\
             assert ck['param_history'][-1] is ck['final_state']\n\
             pickle.dump(ck, open({dst}, 'wb'), protocol={protocol})",
            src = py_str(&path),
            dst = py_str(&out),
        ));
        let loaded = Checkpoint::load(&out).unwrap_or_else(|e| panic!("protocol {protocol}: {e}"));
        let last = loaded.param_history.last().unwrap();
        assert!(bits_equal(last, &loaded.final_state), "protocol {protocol}");
        let (k0, t0) = loaded.param_history[0].iter().next().unwrap();
        let (kf, tf) = loaded.final_state.iter().next().unwrap();
        assert_eq!(k0, kf);
        assert_eq!(
            t0.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            tf.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            "protocol {protocol}"
        );
        assert!(bits_equal(&loaded.param_history[1], &c.param_history[1]));
    }
}

#[test]
fn plain_python_pickles_are_rejected_with_a_clear_error() {
    if !have_python("plain_python_pickles_are_rejected_with_a_clear_error") {
        return;
    }
    let dir = Scratch::new("foreign");
    let cases = [
        ("{'weights': [1.0, 2.0], 'seed': 3}", "no \"format\" key"),
        ("[1, 2, 3]", "the pickle holds a list"),
        ("collections.OrderedDict(a=1)", "refers to Python classes"),
        // An object of any class is refused before anything is built.
        ("types.SimpleNamespace(a=1)", "refers to Python classes"),
        ("datetime.date(2024, 5, 16)", "refers to Python classes"),
        (
            "{'format': 'eiann-rs checkpoint', 'format_version': 99}",
            "format_version 99",
        ),
    ];
    for (i, (expr, expected)) in cases.iter().enumerate() {
        let path = dir.path(&format!("f{i}.pkl"));
        python(&format!(
            "import pickle, collections, datetime, types\npickle.dump({expr}, open({p}, 'wb'))",
            p = py_str(&path)
        ));
        match Checkpoint::load(&path) {
            Err(Error::Checkpoint { file, message }) => {
                assert!(message.contains(expected), "{expr}: {message}");
                assert!(file.ends_with(&format!("f{i}.pkl")));
                eprintln!("{expr} -> {message}");
            }
            other => panic!("{expr}: expected a checkpoint error, got {other:?}"),
        }
    }
}

/// The DTP network's projections (post, pre sizes) from the 2-hidden-layer MNIST config: 1,181,500
/// weights plus 1,220 biases.
fn full_size_state(seed: f32) -> StateDict {
    let pops = [
        ("InputE", 784),
        ("H1E", 500),
        ("H1SomaI", 50),
        ("H1DendI", 50),
        ("H2E", 500),
        ("H2SomaI", 50),
        ("H2DendI", 50),
        ("OutputE", 10),
        ("OutputSomaI", 10),
    ];
    let size = |p: &str| pops.iter().find(|(n, _)| *n == p).map(|(_, s)| *s).unwrap();
    let projections = [
        ("H1E", "InputE"),
        ("H1E", "H1SomaI"),
        ("H1E", "H1DendI"),
        ("H1E", "H2E"),
        ("H1SomaI", "InputE"),
        ("H1SomaI", "H1E"),
        ("H1SomaI", "H1SomaI"),
        ("H1DendI", "H1E"),
        ("H1DendI", "H1DendI"),
        ("H2E", "H1E"),
        ("H2E", "H2SomaI"),
        ("H2E", "H2DendI"),
        ("H2E", "OutputE"),
        ("H2SomaI", "H1E"),
        ("H2SomaI", "H2E"),
        ("H2SomaI", "H2SomaI"),
        ("H2DendI", "H2E"),
        ("H2DendI", "H2DendI"),
        ("OutputE", "H2E"),
        ("OutputE", "OutputSomaI"),
        ("OutputSomaI", "H2E"),
        ("OutputSomaI", "OutputE"),
        ("OutputSomaI", "OutputSomaI"),
    ];
    let mut s = StateDict::new();
    let mut x = seed;
    let mut next = move || {
        x = (x * 1.618_034 + 0.3).fract() - 0.5;
        x
    };
    for (post, pre) in projections {
        let shape = [size(post), size(pre)];
        let values = (0..shape[0] * shape[1]).map(|_| next()).collect();
        s.insert(
            StateDict::weight_key(&format!("{post}_{pre}")),
            ArrayD::from_shape_vec(IxDyn(&shape), values).unwrap(),
        );
    }
    for (pop, n) in &pops[1..] {
        s.insert(
            StateDict::bias_key(pop),
            ArrayD::from_shape_vec(IxDyn(&[*n]), (0..*n).map(|_| next()).collect()).unwrap(),
        );
    }
    s
}

#[test]
fn full_size_save_and_load_timing() {
    let dir = Scratch::new("fullsize");
    let path = dir.path("full.pkl");
    let steps = 300;
    let c = Checkpoint {
        total_steps: steps,
        sample_order: (0..steps).map(|i| (i * 7919) % 60_000).collect(),
        loss_history: (0..steps).map(|i| 1.0 / (i as f32 + 1.0)).collect(),
        final_state: full_size_state(0.9),
        param_history_steps: vec![0, 149, 299],
        param_history: vec![
            full_size_state(0.1),
            full_size_state(0.2),
            full_size_state(0.3),
        ],
        ..sample()
    };
    let floats: usize = c.final_state.iter().map(|(_, t)| t.len()).sum();
    assert_eq!(floats, 1_181_500 + 1_220);

    let t = Instant::now();
    c.save(&path).unwrap();
    let save = t.elapsed();
    let size = fs::metadata(&path).unwrap().len();
    let t = Instant::now();
    let loaded = Checkpoint::load(&path).unwrap();
    let load = t.elapsed();
    assert_same(&c, &loaded);
    eprintln!(
        "full size: 4 state dicts x {floats} floats: file {:.1} MB, save {:.3} s, load {:.3} s",
        size as f64 / 1e6,
        save.as_secs_f64(),
        load.as_secs_f64()
    );
    // The file is the raw float32 data plus a small overhead.
    assert!(size >= 4 * 4 * floats as u64 && size < 4 * 4 * floats as u64 + 100_000);
}
