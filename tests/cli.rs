//! End-to-end tests of the `eiann` command: the exact forms scripts call, and one-line errors with a
//! non-zero exit code (never a panic or backtrace). Tests that train need MNIST (`just data`); without it
//! they print a note and check only the error path.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn eiann(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eiann"))
        .args(args)
        .current_dir(root())
        .env_remove("EIANN_MNIST_DIR")
        .output()
        .expect("run eiann")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn assert_clean_error(o: &Output, needle: &str) {
    let err = text(&o.stderr);
    assert!(!o.status.success(), "expected failure, stderr: {err}");
    assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "panic: {err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "not one line: {err}");
}

const CONFIG: &str = "data/network_config/mnist/20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized.yaml";

fn mnist_present() -> bool {
    root()
        .join("data/datasets/MNIST/raw/train-images-idx3-ubyte")
        .exists()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("eiann_cli_{}_{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

#[test]
fn missing_checkpoint_is_one_line_error() {
    assert_clean_error(
        &eiann(&["evaluate", "--checkpoint", "/nonexistent/x.pkl"]),
        "/nonexistent/x.pkl",
    );
    assert_clean_error(
        &eiann(&["inspect", "--checkpoint", "/nonexistent/x.pkl"]),
        "does not exist",
    );
}

#[test]
fn foreign_file_is_refused() {
    let d = tmp("foreign");
    let p = d.join("notes.pkl");
    std::fs::write(&p, b"this is not a pickle").expect("write");
    assert_clean_error(
        &eiann(&["inspect", "--checkpoint", p.to_str().expect("utf8")]),
        "notes.pkl",
    );
}

#[test]
fn bad_config_names_file_and_key() {
    let d = tmp("badcfg");
    let p = d.join("bad.yaml");
    let good = std::fs::read_to_string(root().join(CONFIG)).expect("config");
    std::fs::write(
        &p,
        good.replacen("learning_rule: BP_like_2L", "learning_rule: BP_like_9", 1),
    )
    .expect("write");
    let o = eiann(&[
        "train",
        "--config",
        p.to_str().expect("utf8"),
        "--network-seed",
        "1",
        "--data-seed",
        "1",
        "--steps",
        "5",
        "--mnist-dir",
        "/nonexistent",
    ]);
    assert_clean_error(
        &o,
        "bad.yaml: projection_config.H1.E.Input.E.learning_rule: unknown rule \"BP_like_9\"",
    );
}

#[test]
fn missing_mnist_says_how_to_get_it() {
    let o = eiann(&[
        "train",
        "--config",
        CONFIG,
        "--network-seed",
        "1",
        "--data-seed",
        "1",
        "--steps",
        "5",
        "--mnist-dir",
        "/nonexistent/mnist",
    ]);
    assert_clean_error(&o, "just data");
}

#[test]
fn usage_errors_exit_2() {
    let o = eiann(&["train", "--config", CONFIG]);
    assert_eq!(o.status.code(), Some(2));
    let o = eiann(&[
        "train",
        "--config",
        CONFIG,
        "--network-seed",
        "x",
        "--data-seed",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn reference_state_file_inspects_and_evaluates() {
    let o = eiann(&[
        "inspect",
        "--checkpoint",
        "data/reference/eiann_pytorch_66049_257_step2999.npz",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("sample_index: 30702") && out.contains("train_step: 2999"),
        "{out}"
    );
    if !mnist_present() {
        println!("MNIST absent (run `just data`): skipping evaluation of the reference network");
        return;
    }
    let o = eiann(&[
        "evaluate",
        "--checkpoint",
        "data/reference/eiann_pytorch_66049_257_step2999.npz",
        "--split",
        "val",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let acc: f64 = out
        .lines()
        .find_map(|l| l.strip_prefix("accuracy: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no accuracy line: {out}"));
    // PyTorch EIANN: 73.6 % validation accuracy at step 2,999 for this network
    assert!((acc - 73.6).abs() < 0.5, "{acc}");
}

#[test]
fn train_inspect_evaluate_round_trip() {
    if !mnist_present() {
        println!("MNIST absent (run `just data`): skipping the training round trip");
        return;
    }
    let d = tmp("train");
    let out = d.join("run.pkl");
    let o = eiann(&[
        "train",
        "--config",
        CONFIG,
        "--network-seed",
        "66049",
        "--data-seed",
        "257",
        "--steps",
        "300",
        "--checkpoint-every",
        "100",
        "--val-every",
        "150",
        "--out",
        out.to_str().expect("utf8"),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let summary = text(&o.stdout);
    assert!(
        summary.contains("samples/s") && summary.contains("validation accuracy"),
        "{summary}"
    );
    let o = eiann(&["inspect", "--checkpoint", out.to_str().expect("utf8")]);
    let info = text(&o.stdout);
    assert!(
        info.contains("network seed: 66049") && info.contains("data seed: 257"),
        "{info}"
    );
    assert!(info.contains("steps stored: [0, 99, 199, 299]"), "{info}");
    assert!(info.contains("sample order (first 10): [11814, 30217, 3279, 40689, 27463, 9486, 2316, 28495, 15763, 38792]"), "{info}");
    let o = eiann(&[
        "evaluate",
        "--checkpoint",
        out.to_str().expect("utf8"),
        "--split",
        "val",
        "--step",
        "199",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).starts_with("accuracy: "));
    assert_clean_error(
        &eiann(&[
            "evaluate",
            "--checkpoint",
            out.to_str().expect("utf8"),
            "--step",
            "7",
        ]),
        "no parameters stored at step 7",
    );
    std::fs::remove_dir_all(&d).ok();
}
