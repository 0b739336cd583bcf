//! `eiann sweep`: run a set of (config, network seed, data seed) runs locally (`run`), as a Slurm job
//! array (`slurm`), and gather the finished checkpoints into a results table (`collect`).
//!
//! ```text
//! eiann sweep run    <sweep.yaml> [--jobs N]
//! eiann sweep run    --config <yaml> [--config …] --seeds 66049/257,66050/258 --steps 200 --out-dir D [...]
//! eiann sweep slurm  <sweep.yaml> [--partition P] [--time T] [--mem M] [--no-submit] [--wait]
//! eiann sweep collect <sweep.yaml | --out-dir D> [--allow-missing]
//! ```

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use eiann::data::{resolve_mnist_dir, Mnist};
use eiann::sweep::local::{run_local, SweepEvent};
use eiann::sweep::record::{collect, Tidy};
use eiann::sweep::slurm::{submit, write_script, SlurmOptions};
use eiann::sweep::{Sweep, SweepFile};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::say;

/// Repository-relative default of the MNIST folder.
const DEFAULT_MNIST: &str = "data/datasets/MNIST/raw";

#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(subcommand)]
    command: SweepCommand,
}

#[derive(Debug, Subcommand)]
enum SweepCommand {
    /// Train every unfinished run here, one per core (finished runs are skipped).
    Run(RunArgs),
    /// Write a Slurm job array (one task per unfinished run) and submit it with sbatch.
    Slurm(SlurmArgs),
    /// Gather the finished checkpoints into the tidy table <out_dir>/results.csv.
    Collect(CollectArgs),
}

/// The sweep: a file, or the same fields as flags.
#[derive(Debug, Args)]
struct SweepSource {
    /// Sweep file (YAML; see `eiann::sweep` for the format). Without it, the flags below describe the sweep.
    file: Option<PathBuf>,
    /// Network config (repeat for several).
    #[arg(long = "config")]
    configs: Vec<PathBuf>,
    /// Seed pairs `network/data`, comma-separated (e.g. 66049/257,66050/258).
    #[arg(long, value_delimiter = ',')]
    seeds: Vec<String>,
    /// The paper's first N seed pairs (66049/257, 66050/258, ...).
    #[arg(long)]
    paper_seeds: Option<u64>,
    /// Training steps per epoch.
    #[arg(long)]
    steps: Option<usize>,
    /// Epochs.
    #[arg(long, default_value_t = 1)]
    epochs: usize,
    /// Store the parameters every N steps.
    #[arg(long)]
    checkpoint_every: Option<usize>,
    /// Evaluate the validation set every N steps.
    #[arg(long)]
    val_every: Option<usize>,
    /// Evaluate the test set at the end of each run.
    #[arg(long)]
    test: bool,
    /// Record the Figure 3 histories every N steps in each run.
    #[arg(long)]
    figure3_every: Option<usize>,
    /// Sweep name (default: the output folder's name).
    #[arg(long)]
    name: Option<String>,
    /// Output folder (required without a file; with a file it overrides `out_dir`).
    #[arg(long)]
    out_dir: Option<PathBuf>,
}

impl SweepSource {
    fn load(&self) -> Result<Sweep> {
        if let Some(f) = &self.file {
            if !self.configs.is_empty()
                || !self.seeds.is_empty()
                || self.steps.is_some()
                || self.name.is_some()
            {
                bail!("give either a sweep file or --config/--seeds/--steps, not both");
            }
            let mut sweep = Sweep::from_file(f)?;
            if let Some(d) = &self.out_dir {
                let mut file = sweep.resolved.clone();
                file.out_dir = Some(d.clone());
                sweep =
                    Sweep::from_parts(file, Path::new("."), &sweep.name, &f.display().to_string())?;
            }
            return Ok(sweep);
        }
        let Some(out_dir) = &self.out_dir else {
            bail!(
                "give a sweep file, or --out-dir with --config, --seeds/--paper-seeds and --steps"
            );
        };
        // Only --out-dir: the sweep kept in that folder.
        if self.configs.is_empty() && self.seeds.is_empty() && self.steps.is_none() {
            let kept = out_dir.join("sweep.yaml");
            return Sweep::from_file(&kept).with_context(|| {
                format!(
                    "no sweep file given; reading the one kept in {}",
                    out_dir.display()
                )
            });
        }
        let mut seeds = Vec::new();
        for s in &self.seeds {
            let (n, d) = s.split_once('/').with_context(|| {
                format!("--seeds: \"{s}\" is not network/data (e.g. 66049/257)")
            })?;
            let parse = |v: &str| {
                v.trim()
                    .parse::<u64>()
                    .with_context(|| format!("--seeds: \"{v}\" in \"{s}\" is not a seed"))
            };
            seeds.push((parse(n)?, parse(d)?));
        }
        let file = SweepFile {
            name: self.name.clone().or_else(|| {
                out_dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
            }),
            out_dir: Some(out_dir.clone()),
            configs: self.configs.clone(),
            seeds,
            paper_seeds: self.paper_seeds,
            steps: self
                .steps
                .context("--steps is required without a sweep file")?,
            epochs: self.epochs,
            checkpoint_every: self.checkpoint_every,
            val_every: self.val_every,
            test: self.test,
            figure3_every: self.figure3_every,
        };
        Ok(Sweep::from_parts(
            file,
            Path::new("."),
            "sweep",
            "command line",
        )?)
    }
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    sweep: SweepSource,
    /// Runs at once (0 = one per core).
    #[arg(long, default_value_t = 0)]
    jobs: usize,
    /// Folder with the MNIST IDX files (default: $EIANN_MNIST_DIR, else data/datasets/MNIST/raw).
    #[arg(long)]
    mnist_dir: Option<PathBuf>,
    /// No progress bars (one line per finished run).
    #[arg(long)]
    quiet: bool,
}

#[derive(Debug, Args)]
struct SlurmArgs {
    #[command(flatten)]
    sweep: SweepSource,
    /// sbatch --partition.
    #[arg(long)]
    partition: Option<String>,
    /// sbatch --time (e.g. 01:00:00).
    #[arg(long)]
    time: Option<String>,
    /// sbatch --mem (e.g. 2G).
    #[arg(long)]
    mem: Option<String>,
    /// sbatch --cpus-per-task (validation threads per run).
    #[arg(long)]
    cpus_per_task: Option<usize>,
    /// At most N tasks at once (--array=…%N).
    #[arg(long)]
    max_parallel: Option<usize>,
    /// Further #SBATCH options, verbatim (repeatable), e.g. --sbatch-option=--account=lab.
    #[arg(long = "sbatch-option")]
    extra: Vec<String>,
    /// The eiann binary the tasks run (default: this one).
    #[arg(long)]
    eiann: Option<PathBuf>,
    /// Folder with the MNIST IDX files the tasks read.
    #[arg(long)]
    mnist_dir: Option<PathBuf>,
    /// The sbatch command.
    #[arg(long, default_value = "sbatch")]
    sbatch: String,
    /// Only write the script.
    #[arg(long)]
    no_submit: bool,
    /// Wait until every task ended (sbatch --wait).
    #[arg(long)]
    wait: bool,
}

#[derive(Debug, Args)]
struct CollectArgs {
    #[command(flatten)]
    sweep: SweepSource,
    /// Write the table even when some runs are not finished.
    #[arg(long)]
    allow_missing: bool,
}

pub fn sweep(a: SweepArgs) -> Result<()> {
    match a.command {
        SweepCommand::Run(a) => run(a),
        SweepCommand::Slurm(a) => slurm(a),
        SweepCommand::Collect(a) => collect_cmd(a),
    }
}

fn run(a: RunArgs) -> Result<()> {
    let sweep = a.sweep.load()?;
    let pending = sweep.pending().len();
    say!(
        "sweep {}: {} runs, {} finished before, {} to train; output {}",
        sweep.name,
        sweep.runs.len(),
        sweep.runs.len() - pending,
        pending,
        sweep.out_dir.display()
    );
    if pending == 0 {
        return Ok(());
    }
    let mnist_dir = resolve_mnist_dir(a.mnist_dir.as_deref(), &PathBuf::from(DEFAULT_MNIST));
    let mnist = Mnist::load(&mnist_dir)?;
    let multi = MultiProgress::new();
    if a.quiet {
        multi.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let overall = multi.add(ProgressBar::new(sweep.runs.len() as u64));
    overall.set_style(ProgressStyle::with_template(
        "sweep [{elapsed_precise}] {bar:30} {pos}/{len} runs {msg}",
    )?);
    overall.set_position((sweep.runs.len() - pending) as u64);
    let run_style = ProgressStyle::with_template(
        "  {prefix:<48} {bar:20} {pos}/{len} steps ({per_sec}) {msg}",
    )?;
    let bars: Mutex<Vec<Option<ProgressBar>>> = Mutex::new(vec![None; sweep.runs.len()]);
    let t0 = Instant::now();
    let on_event = |e: SweepEvent| {
        let Ok(mut bars) = bars.lock() else { return };
        match e {
            SweepEvent::Skipped { .. } => {}
            SweepEvent::Started { index, total_steps } => {
                let b = multi.add(ProgressBar::new(total_steps as u64));
                b.set_style(run_style.clone());
                b.set_prefix(sweep.runs[index].id.clone());
                bars[index] = Some(b);
            }
            SweepEvent::Step { index, step, .. } => {
                if step % 20 == 0 {
                    if let Some(b) = &bars[index] {
                        b.set_position(step as u64 + 1);
                    }
                }
            }
            SweepEvent::Validation {
                index, accuracy, ..
            } => {
                if let Some(b) = &bars[index] {
                    b.set_message(format!("val acc {accuracy:.2}%"));
                }
            }
            SweepEvent::Finished { index, seconds } => {
                if let Some(b) = bars[index].take() {
                    b.finish_and_clear();
                    multi.remove(&b);
                }
                overall.inc(1);
                let line = format!("finished {} in {seconds:.1} s", sweep.runs[index].id);
                if a.quiet {
                    say!("{line}");
                } else {
                    let _ = multi.println(line);
                }
            }
            SweepEvent::Failed { index, message } => {
                if let Some(b) = bars[index].take() {
                    b.abandon_with_message("failed");
                }
                let _ = multi.println(format!("FAILED {}: {message}", sweep.runs[index].id));
            }
        }
    };
    let summary = run_local(&sweep, &mnist, a.jobs, &on_event)?;
    overall.finish_and_clear();
    say!(
        "sweep {}: trained {} runs in {:.1} s, {} skipped, {} failed",
        sweep.name,
        summary.trained.len(),
        t0.elapsed().as_secs_f64(),
        summary.skipped.len(),
        summary.failed.len()
    );
    if !summary.failed.is_empty() {
        let list: Vec<String> = summary
            .failed
            .iter()
            .map(|(i, m)| format!("{}: {m}", sweep.runs[*i].id))
            .collect();
        bail!("{} runs failed:\n{}", list.len(), list.join("\n"));
    }
    Ok(())
}

fn slurm(a: SlurmArgs) -> Result<()> {
    let sweep = a.sweep.load()?;
    let eiann = match &a.eiann {
        Some(p) => p.clone(),
        None => std::env::current_exe().context("locating this eiann binary")?,
    };
    let mnist_dir = resolve_mnist_dir(a.mnist_dir.as_deref(), &PathBuf::from(DEFAULT_MNIST));
    let opts = SlurmOptions {
        partition: a.partition,
        time: a.time,
        mem: a.mem,
        cpus_per_task: a.cpus_per_task,
        max_parallel: a.max_parallel,
        extra: a.extra,
    };
    let Some(script) = write_script(&sweep, &eiann, &mnist_dir, &opts)? else {
        say!(
            "sweep {}: all {} runs finished; nothing to submit",
            sweep.name,
            sweep.runs.len()
        );
        return Ok(());
    };
    say!(
        "sweep {}: wrote {} ({} array tasks)",
        sweep.name,
        script.path.display(),
        script.indices.len()
    );
    if a.no_submit {
        return Ok(());
    }
    let job = submit(&a.sbatch, &script, a.wait)?;
    if a.wait {
        say!("job array {job} ended");
    } else {
        say!(
            "submitted job array {job}; `eiann sweep collect` gathers the results when it is done"
        );
    }
    Ok(())
}

fn collect_cmd(a: CollectArgs) -> Result<()> {
    let sweep = a.sweep.load()?;
    let c = collect(&sweep)?;
    if !c.missing.is_empty() && !a.allow_missing {
        let list: Vec<String> = c.missing.iter().map(|p| p.display().to_string()).collect();
        bail!(
            "{} of {} runs are not finished (use --allow-missing for a partial table):\n{}",
            c.missing.len(),
            sweep.runs.len(),
            list.join("\n")
        );
    }
    let table = Tidy::new(&c.records);
    let csv = sweep.out_dir.join("results.csv");
    table.write_csv(&csv)?;
    say!(
        "collected {} runs ({} missing): {} rows × {} columns → {}",
        c.records.len(),
        c.missing.len(),
        table.rows.len(),
        table.columns().len(),
        csv.display()
    );
    Ok(())
}
