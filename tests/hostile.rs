//! Hostile input through the `eiann` command, one test per class of issue 16: every case must end with
//! exit code 1 or 2, one clear line on stderr, within 20 s, under a 4 GB address-space limit, and
//! without changing any file the command could touch (checked by content and mtime).
//!
//! Cases that need MNIST (`just data`) print a note and return when it is absent.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use eiann::checkpoint::Checkpoint;
use eiann::npz::{NpyArray, Npz};
use eiann::StateDict;
use ndarray::{ArrayD, IxDyn};

const CONFIG: &str = "data/network_config/mnist/20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized.yaml";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn mnist_dir() -> PathBuf {
    root().join("data/datasets/MNIST/raw")
}

fn mnist_present() -> bool {
    mnist_dir().join("train-images-idx3-ubyte").exists()
}

/// A scratch folder removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("eiann_hostile_{}_{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("scratch dir");
        Scratch(d)
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    fn s(&self, rel: &str) -> String {
        self.path(rel).display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Content and mtime of every file under `dirs` (and of the listed files), to prove nothing changed.
fn snapshot(paths: &[PathBuf]) -> BTreeMap<PathBuf, (Vec<u8>, Option<SystemTime>)> {
    let mut out = BTreeMap::new();
    let mut todo: Vec<PathBuf> = paths.to_vec();
    while let Some(p) = todo.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            for e in std::fs::read_dir(&p).into_iter().flatten().flatten() {
                todo.push(e.path());
            }
        } else if meta.is_file() {
            // Large files (MNIST) by size and mtime only.
            let content = if meta.len() < 4 << 20 {
                std::fs::read(&p).unwrap_or_default()
            } else {
                meta.len().to_le_bytes().to_vec()
            };
            out.insert(p, (content, meta.modified().ok()));
        } else {
            out.insert(p, (Vec::new(), meta.modified().ok()));
        }
    }
    out
}

/// Run `eiann args` from the repository root under a 4 GB address-space limit and a 20 s timeout;
/// assert a clean failure (exit 1 or 2, one line naming `needle`) that left `watch` untouched.
fn refuse(args: &[&str], needle: &str, watch: &[PathBuf]) -> String {
    let before = snapshot(watch);
    let quoted: Vec<String> = args
        .iter()
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect();
    let script = format!(
        "ulimit -v 4000000 2>/dev/null; exec '{}' {}",
        env!("CARGO_BIN_EXE_eiann"),
        quoted.join(" ")
    );
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(root())
        .env_remove("EIANN_MNIST_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run eiann");
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if t0.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("eiann {args:?} still ran after 20 s (hang)");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().expect("output");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        matches!(status.code(), Some(1) | Some(2)),
        "eiann {args:?}: exit {status:?}, stderr: {err}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("memory allocation"),
        "eiann {args:?}: {err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "not one line: {err}");
    assert!(
        err.contains(needle),
        "eiann {args:?}: stderr lacks {needle:?}: {err}"
    );
    assert!(
        snapshot(watch) == before,
        "eiann {args:?} changed a file under {watch:?}"
    );
    eprintln!("{args:?}\n    -> {}", err.trim());
    err
}

fn train_args<'a>(config: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "train",
        "--config",
        config,
        "--network-seed",
        "1",
        "--data-seed",
        "2",
        "--quiet",
    ];
    v.extend_from_slice(extra);
    v
}

fn config_copy(s: &Scratch, edit: impl FnOnce(String) -> String) -> String {
    let text = std::fs::read_to_string(root().join(CONFIG)).expect("config");
    std::fs::write(s.path("cfg.yaml"), edit(text)).expect("write config");
    s.s("cfg.yaml")
}

fn tensor(shape: &[usize], v: f32) -> ArrayD<f32> {
    let n: usize = shape.iter().product();
    ArrayD::from_shape_vec(IxDyn(shape), vec![v; n]).expect("shape")
}

// ---------------------------------------------------------------- flags: sizes, counts, durations

#[test]
fn flags_out_of_range_name_the_flag_and_limit() {
    let s = Scratch::new("flags");
    let cfg = config_copy(&s, |t| t);
    let watch = [s.0.clone()];
    let max = u64::MAX.to_string();
    refuse(
        &train_args(&cfg, &["--steps", "50001"]),
        "--steps: 50001 is outside 1..=50000",
        &watch,
    );
    refuse(
        &train_args(&cfg, &["--steps", "50000", "--epochs", "1000"]),
        "--steps × --epochs",
        &watch,
    );
    refuse(
        &train_args(&cfg, &["--steps", "10", "--epochs", &max]),
        "exceeds the limit",
        &watch,
    );
    refuse(
        &train_args(&cfg, &["--threads", "1000000"]),
        "--threads: 1000000 exceeds the limit of 256",
        &watch,
    );
    refuse(
        &train_args(&cfg, &["--checkpoint-every", &max]),
        &format!("--checkpoint-every: {max} is outside"),
        &watch,
    );
    refuse(
        &train_args(&cfg, &["--val-every", "0"]),
        "--val-every: 0 is outside",
        &watch,
    );
    refuse(
        &train_args(
            &cfg,
            &[
                "--steps",
                "50000",
                "--epochs",
                "10",
                "--checkpoint-every",
                "1",
            ],
        ),
        "over the limit of 4294967296 bytes",
        &watch,
    );
    refuse(
        &["evaluate", "--checkpoint", &cfg, "--threads", "1000000"],
        "--threads",
        &watch,
    );
}

// ---------------------------------------------------------------- input paths that are not files

#[cfg(unix)]
#[test]
fn fifos_directories_and_devices_as_inputs_are_refused() {
    let s = Scratch::new("fifo");
    let fifo = s.path("ck.pkl");
    let ok = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|st| st.success());
    let watch = [s.0.clone()];
    if ok {
        refuse(
            &["inspect", "--checkpoint", &s.s("ck.pkl")],
            "is a FIFO (named pipe), not a regular file",
            &watch,
        );
        refuse(
            &["evaluate", "--checkpoint", &s.s("ck.pkl")],
            "FIFO",
            &watch,
        );
        refuse(&train_args(&s.s("ck.pkl"), &[]), "--config", &watch);
    }
    refuse(
        &["inspect", "--checkpoint", &s.s("")],
        "is a directory, not a regular file",
        &watch,
    );
    refuse(
        &["inspect", "--checkpoint", "/dev/zero"],
        "character device",
        &watch,
    );
    refuse(&train_args("/dev/zero", &[]), "character device", &watch);
    let missing = s.s("nope.yaml");
    let err = refuse(&train_args(&missing, &[]), "does not exist", &watch);
    assert_eq!(
        err.matches("No such file").count(),
        0,
        "OS error repeated: {err}"
    );
}

#[cfg(unix)]
#[test]
fn idx_files_that_are_directories_or_fifos_are_named() {
    if !mnist_present() {
        eprintln!("MNIST absent (just data): skipped");
        return;
    }
    let s = Scratch::new("idx");
    for name in eiann::data::MNIST_FILES {
        std::os::unix::fs::symlink(mnist_dir().join(name), s.path(name)).expect("symlink");
    }
    let cfg = root().join(CONFIG).display().to_string();
    let dir = s.s("");
    std::fs::remove_file(s.path("t10k-labels-idx1-ubyte")).expect("rm");
    std::fs::create_dir(s.path("t10k-labels-idx1-ubyte")).expect("mkdir");
    let out = s.s("out.pkl");
    let watch = [s.0.clone(), mnist_dir()];
    refuse(
        &train_args(&cfg, &["--steps", "5", "--mnist-dir", &dir, "--out", &out]),
        "t10k-labels-idx1-ubyte: is a directory, not a regular file",
        &watch,
    );
    std::fs::remove_dir(s.path("t10k-labels-idx1-ubyte")).expect("rmdir");
    if Command::new("mkfifo")
        .arg(s.path("t10k-labels-idx1-ubyte"))
        .status()
        .is_ok_and(|st| st.success())
    {
        refuse(
            &train_args(&cfg, &["--steps", "5", "--mnist-dir", &dir, "--out", &out]),
            "is a FIFO",
            &watch,
        );
    }
}

// ---------------------------------------------------------------- --out safety

#[test]
fn out_never_replaces_inputs_devices_directories_or_foreign_files() {
    let s = Scratch::new("out");
    let cfg = config_copy(&s, |t| t);
    std::fs::write(s.path("notes.txt"), b"precious").expect("write");
    std::fs::create_dir(s.path("adir")).expect("mkdir");
    let mut watch = vec![s.0.clone()];
    if mnist_present() {
        watch.push(mnist_dir());
    }
    let mnist = mnist_dir().display().to_string();
    let steps = ["--steps", "5", "--mnist-dir", mnist.as_str()];
    let with = |out: &str| {
        let mut v: Vec<String> = steps.iter().map(|x| x.to_string()).collect();
        v.extend(["--out".to_string(), out.to_string()]);
        v
    };
    let run = |extra: Vec<String>, needle: &str| {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        refuse(&train_args(&cfg, &extra), needle, &watch);
    };
    run(with(&cfg), "is one of this run's inputs");
    run(
        with(&s.s("notes.txt")),
        "is not an eiann-rs checkpoint; refusing to replace it",
    );
    run(with("/dev/null"), "is a character device; refusing");
    run(with(&s.s("adir")), "is a directory; refusing");
    if mnist_present() {
        let mut v = with(
            &mnist_dir()
                .join("train-labels-idx1-ubyte")
                .display()
                .to_string(),
        );
        v.push("--force".into());
        run(v, "is one of this run's inputs");
    }
}

#[cfg(unix)]
#[test]
fn unwritable_out_is_reported_before_training() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new("ro");
    let cfg = config_copy(&s, |t| t);
    std::fs::create_dir(s.path("ro")).expect("mkdir");
    std::fs::set_permissions(s.path("ro"), std::fs::Permissions::from_mode(0o555)).expect("chmod");
    let probe = std::fs::File::create(s.path("ro/probe"));
    if probe.is_ok() {
        eprintln!("running as root: a read-only directory is writable; checking an impossible path instead");
        let _ = std::fs::remove_file(s.path("ro/probe"));
    }
    let out = if probe.is_ok() {
        "/proc/eiann-out/run.pkl".to_string()
    } else {
        s.s("ro/run.pkl")
    };
    let mnist = mnist_dir().display().to_string();
    let t0 = Instant::now();
    refuse(
        &train_args(
            &cfg,
            &["--steps", "50000", "--mnist-dir", &mnist, "--out", &out],
        ),
        "--out",
        std::slice::from_ref(&s.0),
    );
    // 50,000 steps take about a minute: the refusal came before training.
    assert!(t0.elapsed() < Duration::from_secs(15));
    std::fs::set_permissions(s.path("ro"), std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn stale_temporary_files_of_killed_saves_are_removed() {
    if !mnist_present() {
        eprintln!("MNIST absent (just data): skipped");
        return;
    }
    let s = Scratch::new("stale");
    // A pid above Linux's pid_max (2^22) never runs.
    let stale = s.path(".run.pkl.tmp-4194305-0");
    std::fs::write(&stale, vec![0u8; 1000]).expect("write");
    let other = s.path(".other.pkl.tmp-4194305-0");
    std::fs::write(&other, b"x").expect("write");
    let out = s.s("run.pkl");
    let mnist = mnist_dir().display().to_string();
    let cfg = root().join(CONFIG).display().to_string();
    let o = Command::new(env!("CARGO_BIN_EXE_eiann"))
        .args(train_args(
            &cfg,
            &["--steps", "3", "--mnist-dir", &mnist, "--out", &out],
        ))
        .current_dir(root())
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("left behind by a save that was killed"),
        "{err}"
    );
    assert!(!stale.exists() && other.exists() && s.path("run.pkl").exists());
}

// ---------------------------------------------------------------- checkpoints

/// A small saved checkpoint (not a network of the Figure 3 config).
fn small_checkpoint(weight: f32) -> Checkpoint {
    let mut st = StateDict::new();
    st.insert("module_dict.H1E_InputE.weight", tensor(&[3, 4], weight));
    Checkpoint {
        config_name: "hostile".into(),
        config_yaml: std::fs::read_to_string(root().join(CONFIG)).expect("config"),
        total_steps: 1,
        samples_per_epoch: 1,
        epochs: 1,
        sample_order: vec![0],
        loss_history: vec![1.0],
        final_state: st,
        ..Checkpoint::default()
    }
}

#[test]
fn hostile_pickles_are_refused_without_crash() {
    let s = Scratch::new("pickle");
    let watch = [s.0.clone()];
    // 2 MB of nested lists: `]` (EMPTY_LIST) ... then `a` (APPEND) to nest each into the one below.
    let mut deep = b"\x80\x04".to_vec();
    deep.extend(std::iter::repeat_n(b']', 1 << 20));
    deep.extend(std::iter::repeat_n(b'a', (1 << 20) - 1));
    deep.push(b'.');
    std::fs::write(s.path("deep.pkl"), &deep).expect("write");
    refuse(
        &["inspect", "--checkpoint", &s.s("deep.pkl")],
        "deeper than 64 levels",
        &watch,
    );
    // 2 MB of MARKs
    let mut marks = b"\x80\x04".to_vec();
    marks.extend(std::iter::repeat_n(b'(', 2 << 20));
    std::fs::write(s.path("marks.pkl"), &marks).expect("write");
    refuse(
        &["inspect", "--checkpoint", &s.s("marks.pkl")],
        "deeper than 64 levels",
        &watch,
    );
    // bytes claiming 2^62 bytes
    std::fs::write(
        s.path("huge.pkl"),
        b"\x80\x04\x8e\x00\x00\x00\x00\x00\x00\x00\x40",
    )
    .expect("write");
    refuse(
        &["inspect", "--checkpoint", &s.s("huge.pkl")],
        "truncated pickle",
        &watch,
    );
    // code
    std::fs::write(
        s.path("code.pkl"),
        b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R.",
    )
    .expect("write");
    refuse(
        &["inspect", "--checkpoint", &s.s("code.pkl")],
        "os.system",
        &watch,
    );
    // a list holding itself
    std::fs::write(s.path("cycle.pkl"), b"\x80\x04]\x94h\x00a.").expect("write");
    refuse(
        &["inspect", "--checkpoint", &s.s("cycle.pkl")],
        "inside itself",
        &watch,
    );
}

#[test]
fn nan_weights_are_an_error_naming_the_tensor() {
    let s = Scratch::new("nan");
    let mut ck = small_checkpoint(0.5);
    let mut st = StateDict::new();
    let mut w = tensor(&[3, 4], 0.5);
    w[[1, 2]] = f32::NAN;
    st.insert("module_dict.H1E_InputE.weight", w);
    ck.final_state = st;
    ck.save(s.path("nan.pkl")).expect("save");
    refuse(
        &["evaluate", "--checkpoint", &s.s("nan.pkl")],
        "final_state[\"module_dict.H1E_InputE.weight\"]: element 6 is NaN",
        std::slice::from_ref(&s.0),
    );
}

#[test]
fn missing_weight_is_named_with_the_file() {
    let s = Scratch::new("missing");
    // The config's first weight with its right shape, and nothing else.
    let mut ck = small_checkpoint(0.1);
    let mut st = StateDict::new();
    st.insert("module_dict.H1E_InputE.weight", tensor(&[500, 784], 0.1));
    ck.final_state = st;
    ck.save(s.path("few.pkl")).expect("save");
    let err = refuse(
        &["evaluate", "--checkpoint", &s.s("few.pkl")],
        "missing tensor",
        std::slice::from_ref(&s.0),
    );
    assert!(err.contains("few.pkl"), "{err}");
}

// ---------------------------------------------------------------- .npz state files

/// A one-member stored zip whose headers declare `declared` bytes for `data`.
fn zip_with(name: &str, data: &[u8], declared: u32) -> Vec<u8> {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    let crc = !crc;
    let n = name.len() as u16;
    let mut out = b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00".to_vec();
    out.extend(crc.to_le_bytes());
    out.extend(declared.to_le_bytes());
    out.extend(declared.to_le_bytes());
    out.extend(n.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out.extend(name.as_bytes());
    out.extend(data);
    let cd = out.len() as u32;
    out.extend(b"PK\x01\x02\x14\x00\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00");
    out.extend(crc.to_le_bytes());
    out.extend(declared.to_le_bytes());
    out.extend(declared.to_le_bytes());
    out.extend(n.to_le_bytes());
    out.extend([0u8; 12]);
    out.extend(0u32.to_le_bytes());
    out.extend(name.as_bytes());
    let cd_len = out.len() as u32 - cd;
    out.extend(b"PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00");
    out.extend(cd_len.to_le_bytes());
    out.extend(cd.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

fn npy(header: &str, body: &[u8]) -> Vec<u8> {
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(body);
    out
}

#[test]
fn hostile_npz_files_are_refused_without_crash() {
    let s = Scratch::new("npz");
    let watch = [s.0.clone()];
    let cfg = root().join(CONFIG).display().to_string();
    let small = npy(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
        &[0; 8],
    );
    std::fs::write(
        s.path("claim.npz"),
        zip_with("weight/A.npy", &small, u32::MAX),
    )
    .expect("write");
    refuse(
        &[
            "evaluate",
            "--checkpoint",
            &s.s("claim.npz"),
            "--config",
            &cfg,
        ],
        "claim.npz",
        &watch,
    );
    let wide = npy(
        "{'descr': '<U4611686018427387904', 'fortran_order': False, 'shape': (2,), }",
        &[0; 8],
    );
    std::fs::write(
        s.path("wide.npz"),
        zip_with("meta/names.npy", &wide, wide.len() as u32),
    )
    .expect("write");
    refuse(
        &["inspect", "--checkpoint", &s.s("wide.npz")],
        "width must be in 1..=65536",
        &watch,
    );
    let big = npy(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }",
        &[0; 8],
    );
    std::fs::write(
        s.path("big.npz"),
        zip_with("weight/A.npy", &big, big.len() as u32),
    )
    .expect("write");
    refuse(
        &[
            "evaluate",
            "--checkpoint",
            &s.s("big.npz"),
            "--config",
            &cfg,
        ],
        "truncated data",
        &watch,
    );
    // A state file lacking one of the config's weights.
    let mut z = Npz::new("part.npz");
    z.insert(
        "module_dict.H1E_InputE.weight",
        NpyArray::F32(tensor(&[500, 784], 0.0)),
    );
    z.write(s.path("part.npz")).expect("write");
    let err = refuse(
        &[
            "evaluate",
            "--checkpoint",
            &s.s("part.npz"),
            "--config",
            &cfg,
        ],
        "missing tensor",
        &watch,
    );
    assert!(err.contains("part.npz"), "{err}");
}

// ---------------------------------------------------------------- network configs (the lead's rewrite)

#[test]

fn huge_population_is_refused_by_the_config_check() {
    let s = Scratch::new("popsize");
    let cfg = config_copy(&s, |t| t.replacen("size: 500", "size: 1000000000000", 1));
    refuse(
        &train_args(&cfg, &["--steps", "5"]),
        "size",
        std::slice::from_ref(&s.0),
    );
}

#[test]

fn huge_forward_steps_is_refused_by_the_config_check() {
    let s = Scratch::new("fsteps");
    let cfg = config_copy(&s, |t| {
        let re = t.find("forward_steps:").map(|i| {
            let end = t[i..].find('\n').map_or(t.len(), |e| i + e);
            format!("{}forward_steps: 1000000000000{}", &t[..i], &t[end..])
        });
        re.unwrap_or(t)
    });
    refuse(
        &train_args(&cfg, &["--steps", "5"]),
        "forward_steps",
        std::slice::from_ref(&s.0),
    );
}

#[test]

fn deeply_nested_yaml_is_refused_quickly() {
    let s = Scratch::new("nest");
    let mut f = std::fs::File::create(s.path("cfg.yaml")).expect("create");
    f.write_all(&vec![b'['; 300_000]).expect("write");
    f.write_all(&vec![b']'; 300_000]).expect("write");
    drop(f);
    let t0 = Instant::now();
    refuse(
        &train_args(&s.s("cfg.yaml"), &["--steps", "5"]),
        "cfg.yaml",
        std::slice::from_ref(&s.0),
    );
    assert!(t0.elapsed() < Duration::from_secs(10));
}
