//! The three subcommands: argument checks, calls into the library, progress and printing.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use eiann::checkpoint::{default_checkpoint_path, prepare_output};
use eiann::data::{find_idx_file, locate_mnist_dir, resolve_mnist_dir, Mnist, MNIST_FILES};
use eiann::evaluate::evaluate as evaluate_network;
use eiann::run::{load_saved, RunSpec, SavedNetwork};
use eiann::train::TrainEvent;
use indicatif::{ProgressBar, ProgressStyle};

use crate::{say, EvaluateArgs, InspectArgs, SplitName, TrainArgs};

/// Repository-relative default of the MNIST folder (resolved against the current directory).
const DEFAULT_MNIST: &str = "data/datasets/MNIST/raw";

/// The input files an `eiann train` run reads: its config and the MNIST files found in `mnist_dir`.
fn train_inputs(a: &TrainArgs, mnist_dir: &Path) -> Vec<PathBuf> {
    let mut inputs = vec![a.config.clone()];
    if let Ok(folder) = locate_mnist_dir(mnist_dir) {
        inputs.extend(
            MNIST_FILES
                .iter()
                .filter_map(|name| find_idx_file(&folder, name)),
        );
    }
    inputs
}

/// Everything `train` checks before it loads data or trains: the numbers of the flags, the config,
/// and that `--out` (or the default path) may be written. Returns the checked run and output path.
fn train_preflight(a: &TrainArgs, mnist_dir: &Path) -> Result<(RunSpec, PathBuf)> {
    let spec = RunSpec {
        config: a.config.clone(),
        network_seed: a.network_seed,
        data_seed: a.data_seed,
        steps: a.steps,
        epochs: a.epochs,
        checkpoint_every: a.checkpoint_every,
        val_every: a.val_every,
        test: a.test,
        threads: a.threads,
        figure3_every: a.figure3_every,
    };
    let net_spec = eiann::run::preflight(&spec)?;
    let out = match &a.out {
        Some(p) => p.clone(),
        None => default_checkpoint_path(".", &net_spec.name, a.network_seed, a.data_seed),
    };
    let inputs = train_inputs(a, mnist_dir);
    let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    let stale = prepare_output(&out, &inputs, a.force).context("--out")?;
    for f in stale {
        eprintln!(
            "eiann: removed {}, left behind by a save that was killed",
            f.display()
        );
    }
    Ok((spec, out))
}

pub fn train(a: TrainArgs) -> Result<()> {
    let mnist_dir = resolve_mnist_dir(a.mnist_dir.as_deref(), &PathBuf::from(DEFAULT_MNIST));
    let (spec, out) = train_preflight(&a, &mnist_dir)?;
    let mut mnist = Mnist::load(&mnist_dir)?;
    // Keep in memory only the splits this run reads (a 3,000-step run must stay under 200 MB).
    if !a.test && a.figure3_every.is_none() {
        mnist.test = eiann::data::Split::empty();
    }
    if a.val_every.is_none() {
        mnist.val = eiann::data::Split::empty();
    }
    let total = (a.steps * a.epochs) as u64;
    let bar = if a.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} steps ({per_sec}, eta {eta}) {msg}",
        )
        .context("progress bar template")?,
    );
    let mut window: Vec<f32> = Vec::with_capacity(100);
    let mut last_val: Option<f32> = None;
    let t0 = Instant::now();
    let run = eiann::run::train_run(&spec, &mnist, &mut |e| match e {
        TrainEvent::Step { loss, step, .. } => {
            if window.len() == 100 {
                window.remove(0);
            }
            window.push(loss);
            if step % 50 == 0 || step + 1 == total as usize {
                let mean = window.iter().sum::<f32>() / window.len() as f32;
                let val = last_val.map_or(String::new(), |v| format!(", val acc {v:.2}%"));
                bar.set_message(format!("loss {mean:.4}{val}"));
                bar.set_position(step as u64 + 1);
            }
        }
        TrainEvent::Validation { eval, .. } => last_val = Some(eval.accuracy),
    })?;
    bar.finish_and_clear();
    let secs = t0.elapsed().as_secs_f64();
    run.checkpoint
        .save(&out)
        .with_context(|| format!("saving {}", out.display()))?;
    let ck = &run.checkpoint;
    let mean_loss = {
        let tail = &ck.loss_history[ck.loss_history.len().saturating_sub(100)..];
        tail.iter().sum::<f32>() / tail.len().max(1) as f32
    };
    let val = ck
        .val_accuracy_history
        .last()
        .zip(ck.val_history_train_steps.last())
        .map_or("no validation".to_string(), |(a, s)| {
            format!("validation accuracy {a:.2}% at step {s}")
        });
    let test = ck
        .test_accuracy
        .map_or(String::new(), |t| format!(", test accuracy {t:.2}%"));
    say!(
        "trained {} steps in {:.1} s ({:.0} samples/s); final loss {:.5} (mean of last 100 {:.5}); {val}{test}; {} checkpoints saved to {}",
        ck.total_steps,
        secs,
        run.train_seconds.max(1e-9).recip() * ck.total_steps as f64,
        ck.loss_history.last().copied().unwrap_or(f32::NAN),
        mean_loss,
        ck.param_history.len(),
        out.display()
    );
    if let Some(t) = run.figure3_seconds {
        say!(
            "figure 3 recording (within the {secs:.1} s): test evaluations {:.1} s, angle {:.1} s, dendritic state {:.1} s, final analyses {:.1} s",
            t.test,
            t.angle,
            t.dendritic_state,
            t.final_analyses
        );
    }
    Ok(())
}

fn evaluate_cmd_split(m: &Mnist, s: SplitName) -> &eiann::data::Split {
    match s {
        SplitName::Val => &m.val,
        SplitName::Test => &m.test,
    }
}

/// `--threads` of `evaluate`: at most [`eiann::limits::MAX_THREADS`].
fn check_threads(threads: usize) -> Result<()> {
    if threads > eiann::limits::MAX_THREADS {
        bail!(
            "invalid --threads: {threads} exceeds the limit of {} (0 = one per core)",
            eiann::limits::MAX_THREADS
        );
    }
    Ok(())
}

/// An input file given by `flag` must be a regular file (not a directory, FIFO or device).
fn check_input(flag: &str, path: &Path) -> Result<()> {
    if let Some(why) = eiann::input::not_a_regular_file(path) {
        bail!("invalid {flag}: {} {why}", path.display());
    }
    Ok(())
}

pub fn evaluate(a: EvaluateArgs) -> Result<()> {
    check_threads(a.threads)?;
    check_input("--checkpoint", &a.checkpoint)?;
    if let Some(c) = &a.config {
        check_input("--config", c)?;
    }
    let saved = load_saved(&a.checkpoint, a.config.as_deref())?;
    let (net, step) = saved.network_at(a.step)?;
    let mnist_dir = resolve_mnist_dir(a.mnist_dir.as_deref(), &PathBuf::from(DEFAULT_MNIST));
    let mnist = Mnist::load(&mnist_dir)?;
    let split = evaluate_cmd_split(&mnist, a.split);
    let e = evaluate_network(&net, split, a.threads)?;
    say!("accuracy: {:.2}", e.accuracy);
    say!(
        "({} of {} {} samples correct; loss {:.5}; parameters of {})",
        e.correct,
        e.n,
        match a.split {
            SplitName::Val => "validation",
            SplitName::Test => "test",
        },
        e.loss,
        step.map_or("the final state".to_string(), |s| format!("train step {s}"))
    );
    Ok(())
}

pub fn inspect(a: InspectArgs) -> Result<()> {
    check_input("--checkpoint", &a.checkpoint)?;
    match load_saved(&a.checkpoint, None)? {
        SavedNetwork::Pickle(ck, _) => {
            say!("file: {}", a.checkpoint.display());
            say!(
                "format: {} version {} ({})",
                eiann::checkpoint::FORMAT_MARKER,
                ck.format_version,
                ck.created_by
            );
            say!("config: {}", ck.config_name);
            say!("network seed: {}", ck.network_seed);
            say!("data seed: {}", ck.data_seed);
            say!(
                "epochs: {}, samples per epoch: {}, steps trained: {}",
                ck.epochs,
                ck.samples_per_epoch,
                ck.total_steps
            );
            say!(
                "checkpoints stored: {} (interval {:?})",
                ck.param_history.len(),
                ck.store_params_interval
            );
            say!("steps stored: {:?}", ck.param_history_steps);
            let head: Vec<usize> = ck.sample_order.iter().take(a.head).copied().collect();
            say!("sample order (first {}): {:?}", head.len(), head);
            say!("sample at each stored step:");
            for &s in &ck.param_history_steps {
                match ck.sample_order.get(s) {
                    Some(i) => say!("  step {s}: sample {i}"),
                    None => say!("  step {s}: (not recorded)"),
                }
            }
            if let (Some(a), Some(s)) = (
                ck.val_accuracy_history.last(),
                ck.val_history_train_steps.last(),
            ) {
                say!("last validation accuracy: {a:.2}% at step {s}");
            }
            if let Some(t) = ck.test_accuracy {
                say!("test accuracy: {t:.2}%");
            }
        }
        SavedNetwork::StateFile { path, meta, .. } => {
            say!(
                "file: {} (state file with EIANN state_dict names)",
                path.display()
            );
            for line in meta {
                say!("{line}");
            }
        }
    }
    Ok(())
}
