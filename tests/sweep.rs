//! `eiann sweep`: local runs bit-identical to `eiann train` alone, resuming after a kill, the results
//! table, and the Slurm array script (run here by a stand-in `sbatch` that executes each array task; the
//! real single-node Slurm cluster test is `scripts/slurm-local.sh`). Needs MNIST (`just data`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CONFIG: &str = "data/network_config/mnist/20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized.yaml";
const STEM: &str = "20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized";

fn repo() -> PathBuf {
    std::path::absolute(Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")).unwrap()
}

fn eiann() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_eiann"));
    c.current_dir(repo());
    c
}

struct Tmp(PathBuf);
impl Tmp {
    fn new(tag: &str) -> Tmp {
        let p = std::env::temp_dir().join(format!("eiann-sweep-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Tmp(p)
    }
}
impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn write_sweep(dir: &Path, steps: usize, seeds: &str) -> PathBuf {
    let f = dir.join("smoke.yaml");
    std::fs::write(
        &f,
        format!(
            "configs: ['{}']\nseeds: {seeds}\nsteps: {steps}\ncheckpoint_every: 100\nval_every: 100\ntest: true\nout_dir: out\n",
            repo().join(CONFIG).display()
        ),
    )
    .unwrap();
    f
}

fn ok(c: &mut Command) -> String {
    let out = c.output().expect("eiann runs");
    assert!(
        out.status.success(),
        "{:?} failed: {}\n{}",
        c,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn run_file(dir: &Path, seed: (u64, u64)) -> PathBuf {
    dir.join("out/runs")
        .join(format!("{STEM}_{}_{}.pkl", seed.0, seed.1))
}

#[test]
fn local_sweep_is_bit_identical_resumable_and_collected() {
    let t = Tmp::new("local");
    let f = write_sweep(&t.0, 200, "[[66049, 257], [66050, 258]]");
    let s = ok(eiann()
        .args(["sweep", "run", "--quiet", "--jobs", "2"])
        .arg(&f));
    assert!(s.contains("2 to train"), "{s}");
    let (a, b) = (run_file(&t.0, (66049, 257)), run_file(&t.0, (66050, 258)));
    let (bytes_a, bytes_b) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_ne!(bytes_a, bytes_b);

    // The same run alone, with `eiann train`: the same bytes.
    let alone = t.0.join("alone.pkl");
    ok(eiann()
        .args([
            "train",
            "--config",
            CONFIG,
            "--network-seed",
            "66050",
            "--data-seed",
            "258",
            "--steps",
            "200",
        ])
        .args([
            "--checkpoint-every",
            "100",
            "--val-every",
            "100",
            "--test",
            "--quiet",
            "--out",
        ])
        .arg(&alone));
    assert!(
        std::fs::read(&alone).unwrap() == bytes_b,
        "sweep run differs from `eiann train` alone"
    );

    // Resume: a deleted run is re-trained (same bytes), the finished one is skipped (not rewritten).
    std::fs::remove_file(&a).unwrap();
    let mtime_b = std::fs::metadata(&b).unwrap().modified().unwrap();
    let s = ok(eiann().args(["sweep", "run", "--quiet"]).arg(&f));
    assert!(s.contains("1 finished before, 1 to train"), "{s}");
    assert!(
        std::fs::read(&a).unwrap() == bytes_a,
        "re-trained run differs"
    );
    assert_eq!(std::fs::metadata(&b).unwrap().modified().unwrap(), mtime_b);
    let s = ok(eiann().args(["sweep", "run", "--quiet"]).arg(&f));
    assert!(s.contains("0 to train"), "{s}");

    // Collect: a tidy table, 2 runs × steps {0, 99, 199}.
    let s = ok(eiann().args(["sweep", "collect"]).arg(&f));
    assert!(s.contains("collected 2 runs (0 missing): 6 rows"), "{s}");
    let csv = std::fs::read_to_string(t.0.join("out/results.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "config,network_seed,data_seed,step,train_loss,val_loss,val_accuracy,test_accuracy"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[0][..4], [STEM, "66049", "257", "0"]);
    assert_eq!(rows[5][..4], [STEM, "66050", "258", "199"]);
    assert!(
        rows[0][7].is_empty() && !rows[2][7].is_empty(),
        "test accuracy only at the last step"
    );
    // The table's values are the checkpoint's.
    let ck = eiann::checkpoint::Checkpoint::load(&b).unwrap();
    let val: Vec<f64> = rows[3..].iter().map(|r| r[6].parse().unwrap()).collect();
    let want: Vec<f64> = ck.val_accuracy_history.iter().map(|&v| v as f64).collect();
    assert_eq!(val, want);

    // The command-line form of the same sweep finds the runs finished (same resolved sweep).
    let s = ok(eiann()
        .args(["sweep", "run", "--quiet", "--config"])
        .arg(repo().join(CONFIG))
        .args([
            "--seeds",
            "66049/257,66050/258",
            "--steps",
            "200",
            "--checkpoint-every",
            "100",
        ])
        .args([
            "--val-every",
            "100",
            "--test",
            "--name",
            "smoke",
            "--out-dir",
        ])
        .arg(t.0.join("out")));
    assert!(s.contains("0 to train"), "{s}");
    // A different sweep in the same folder is refused.
    let out = eiann()
        .args([
            "sweep",
            "run",
            "--quiet",
            "--config",
            CONFIG,
            "--seeds",
            "1/2",
            "--steps",
            "10",
            "--out-dir",
        ])
        .arg(t.0.join("out"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("describes a different sweep"));
}

#[test]
fn killed_sweep_loses_only_the_run_in_flight() {
    let t = Tmp::new("kill");
    let f = write_sweep(&t.0, 1000, "[[66049, 257], [66050, 258], [66051, 259]]");
    let mut child = eiann()
        .args(["sweep", "run", "--quiet", "--jobs", "1"])
        .arg(&f)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let first = run_file(&t.0, (66049, 257));
    let t0 = Instant::now();
    while !first.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "first run did not finish"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let bytes = std::fs::read(&first).unwrap();
    assert!(
        eiann::checkpoint::Checkpoint::load(&first).is_ok(),
        "finished run intact"
    );
    assert!(!run_file(&t.0, (66051, 259)).exists());
    let s = ok(eiann().args(["sweep", "run", "--quiet"]).arg(&f));
    let finished_before: usize = s
        .split(" finished before")
        .next()
        .and_then(|p| p.rsplit(", ").next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!((1..=2).contains(&finished_before), "{s}");
    assert_eq!(
        std::fs::read(&first).unwrap(),
        bytes,
        "a finished run is not retrained"
    );
    for seed in [(66050, 258), (66051, 259)] {
        assert!(eiann::checkpoint::Checkpoint::load(run_file(&t.0, seed)).is_ok());
    }
}

#[test]
fn slurm_script_runs_each_row_with_eiann_train() {
    let t = Tmp::new("slurm");
    let f = write_sweep(&t.0, 200, "[[66049, 257], [66050, 258]]");
    // A stand-in sbatch: runs every index of --array with SLURM_ARRAY_TASK_ID set (output to a log, as
    // sbatch's --output), then prints a job id as `sbatch --parsable` does.
    let fake = t.0.join("fake-sbatch");
    std::fs::write(
        &fake,
        "#!/bin/bash\nset -e\nscript=\"${@: -1}\"\narray=$(sed -n 's/^#SBATCH --array=//p' \"$script\")\n\
         for i in $(echo \"$array\" | tr ',' ' '); do case $i in *-*) seq ${i%-*} ${i#*-};; *) echo $i;; esac; done |\n\
         while read i; do SLURM_ARRAY_TASK_ID=$i bash \"$script\" >>\"$script.task-$i.log\" 2>&1; done\necho 4242\n",
    )
    .unwrap();
    Command::new("chmod").arg("+x").arg(&fake).status().unwrap();
    // One run finished locally first: the array holds only the other one.
    ok(eiann()
        .args([
            "train",
            "--config",
            CONFIG,
            "--network-seed",
            "66049",
            "--data-seed",
            "257",
            "--steps",
            "200",
        ])
        .args([
            "--checkpoint-every",
            "100",
            "--val-every",
            "100",
            "--test",
            "--quiet",
            "--out",
        ])
        .arg(run_file(&t.0, (66049, 257))));
    let s = ok(eiann()
        .args(["sweep", "slurm", "--sbatch"])
        .arg(&fake)
        .arg(&f));
    assert!(
        s.contains("1 array tasks") && s.contains("submitted job array 4242"),
        "{s}"
    );
    let script = std::fs::read_to_string(t.0.join("out/slurm/smoke.sbatch")).unwrap();
    assert!(script.contains("#SBATCH --array=1\n"), "{script}");
    assert!(script.contains(" train \"${ARGS[@]}\""), "{script}");
    let b = run_file(&t.0, (66050, 258));
    let alone = t.0.join("alone.pkl");
    ok(eiann()
        .args([
            "train",
            "--config",
            CONFIG,
            "--network-seed",
            "66050",
            "--data-seed",
            "258",
            "--steps",
            "200",
        ])
        .args([
            "--checkpoint-every",
            "100",
            "--val-every",
            "100",
            "--test",
            "--quiet",
            "--out",
        ])
        .arg(&alone));
    assert!(
        std::fs::read(&b).unwrap() == std::fs::read(&alone).unwrap(),
        "array task differs from eiann train"
    );
    let s = ok(eiann()
        .args(["sweep", "slurm", "--sbatch"])
        .arg(&fake)
        .arg(&f));
    assert!(s.contains("nothing to submit"), "{s}");
    let s = ok(eiann()
        .args(["sweep", "collect", "--out-dir"])
        .arg(t.0.join("out")));
    assert!(s.contains("collected 2 runs"), "{s}");
}

#[test]
fn figure3_recording_sweep_collects_its_histories() {
    let t = Tmp::new("fig3");
    let f = t.0.join("fig3.yaml");
    std::fs::write(
        &f,
        format!(
            "configs: ['{}']\nseeds: [[66049, 257]]\nsteps: 200\nval_every: 100\nfigure3_every: 100\nout_dir: out\n",
            repo().join("data/network_config/mnist/20241009_EIANN_2_hidden_mnist_BP_like_config_5J_complete_optimized.yaml").display()
        ),
    )
    .unwrap();
    ok(eiann().args(["sweep", "run", "--quiet"]).arg(&f));
    let s = ok(eiann().args(["sweep", "collect"]).arg(&f));
    assert!(s.contains("collected 1 runs"), "{s}");
    let csv = std::fs::read_to_string(t.0.join("out/results.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    for col in [
        "fig3_test_accuracy",
        "fig3_test_loss",
        "fig3_angle_stochastic",
        "fig3_dendritic_state",
    ] {
        assert!(
            header.split(',').any(|c| c == col),
            "{col} missing: {header}"
        );
    }
    // Rows: stored steps 0, 99, 199 and the dendritic-state bin ends 100, 200.
    assert_eq!(csv.lines().count(), 1 + 5, "{csv}");
    let ck = eiann::checkpoint::Checkpoint::load(t.0.join(
        "out/runs/20241009_EIANN_2_hidden_mnist_BP_like_config_5J_complete_optimized_66049_257.pkl",
    ))
    .unwrap();
    assert_eq!(ck.format_version, 2);
    assert!(ck.records.get("figure3/class_avg/H2DendI").is_some());
    assert!(ck.param_history.is_empty(), "no parameter history is kept");
}

#[test]
fn bad_sweeps_are_clear_errors() {
    let t = Tmp::new("bad");
    let f = t.0.join("bad.yaml");
    std::fs::write(
        &f,
        "configs: [x.yaml]\nseeds: [[1, 2]]\nsteps: 10\nstep: 3\n",
    )
    .unwrap();
    let out = eiann().args(["sweep", "run"]).arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.yaml") && err.contains("step"), "{err}");
    std::fs::write(&f, "configs: [x.yaml]\nseeds: [[1, 2]]\nsteps: 10\n").unwrap();
    let err = String::from_utf8_lossy(
        &eiann()
            .args(["sweep", "run"])
            .arg(&f)
            .output()
            .unwrap()
            .stderr,
    )
    .into_owned();
    assert!(
        err.contains("configs[0]") && err.contains("does not exist"),
        "{err}"
    );
    let err = String::from_utf8_lossy(
        &eiann()
            .args([
                "sweep",
                "run",
                "--config",
                CONFIG,
                "--seeds",
                "1-2",
                "--steps",
                "5",
                "--out-dir",
            ])
            .arg(&t.0)
            .output()
            .unwrap()
            .stderr,
    )
    .into_owned();
    assert!(err.contains("--seeds"), "{err}");
    let out = eiann()
        .args(["sweep", "collect"])
        .arg(write_sweep(&t.0, 10, "[[1, 2]]"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not finished"));
}
