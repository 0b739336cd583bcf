//! `eiann`: train, evaluate and inspect EIANN Dendritic Target Propagation networks.
//!
//! ```text
//! eiann train --config <yaml> --network-seed 66049 --data-seed 257 --steps 3000 --checkpoint-every 100 [--val-every N] [--out <pkl>]
//! eiann evaluate --checkpoint <pkl|npz> [--split val|test] [--step N]
//! eiann inspect --checkpoint <pkl|npz>
//! eiann sweep run|slurm|collect <sweep.yaml>   (many runs: see `eiann sweep --help`)
//! ```
//! Errors are printed as one line (`eiann: error: ...`) with exit code 1; usage errors exit with 2.

mod commands;
mod sweep;

/// `println!` that ends the program quietly when stdout is closed (e.g. piped into `head`), instead of
/// panicking on the broken pipe.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            eprintln!("eiann: error: cannot write to stdout: {e}");
            std::process::exit(1);
        }
    }};
}
pub(crate) use say;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Train, evaluate and inspect EIANN DTP networks (Galloni et al. 2025, Figure 3).
#[derive(Debug, Parser)]
#[command(name = "eiann", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Train a network from its seeds on MNIST and save it with its history as a pickle.
    Train(TrainArgs),
    /// Accuracy of a saved network on the validation or test set.
    Evaluate(EvaluateArgs),
    /// Print what a checkpoint holds: seeds, stored steps, sample order.
    Inspect(InspectArgs),
    /// Many runs (configs × seed pairs): locally one per core, or as a Slurm job array; collect results.
    Sweep(sweep::SweepArgs),
}

#[derive(Debug, clap::Args)]
struct TrainArgs {
    /// EIANN network config (YAML).
    #[arg(long)]
    config: PathBuf,
    /// Seed of the weight initialisation (EIANN `network_seed`).
    #[arg(long)]
    network_seed: u64,
    /// Seed of the training order (EIANN `data_seed`).
    #[arg(long)]
    data_seed: u64,
    /// Training steps (samples) per epoch; at most 50,000 (limits: `eiann::limits`).
    #[arg(long, default_value_t = 50_000)]
    steps: usize,
    /// Number of epochs.
    #[arg(long, default_value_t = 1)]
    epochs: usize,
    /// Store the parameters every N steps (EIANN store_params_interval = (0, -1, N)).
    #[arg(long)]
    checkpoint_every: Option<usize>,
    /// Evaluate the validation set every N steps (EIANN val_interval = (0, -1, N)).
    #[arg(long)]
    val_every: Option<usize>,
    /// Also evaluate the test set at the end.
    #[arg(long)]
    test: bool,
    /// Record the Figure 3 histories during training every N steps (test accuracy, binned dendritic
    /// state, angle vs backprop; final class averages and selectivity), stored in the checkpoint.
    #[arg(long)]
    figure3_every: Option<usize>,
    /// Output pickle (default: data/saved_network_pickles/mnist/<config>_<network seed>_<data seed>.pkl).
    /// An existing eiann checkpoint there is replaced; any other file only with --force.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace an existing --out file even if it is not an eiann checkpoint (never a directory, a
    /// device or one of the run's inputs).
    #[arg(long)]
    force: bool,
    /// Folder with the MNIST IDX files (default: $EIANN_MNIST_DIR, else data/datasets/MNIST/raw).
    #[arg(long)]
    mnist_dir: Option<PathBuf>,
    /// Threads for validation (0 = all cores, at most 256); training itself runs on one.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SplitName {
    Val,
    Test,
}

#[derive(Debug, clap::Args)]
struct EvaluateArgs {
    /// Saved network: an eiann pickle, or an .npz state file with EIANN state_dict names.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Which set to evaluate.
    #[arg(long, value_enum, default_value_t = SplitName::Test)]
    split: SplitName,
    /// Use the parameters stored at this training step (default: the final ones).
    #[arg(long)]
    step: Option<usize>,
    /// Network config, for .npz state files (default: the Figure 3 config in data/network_config).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Folder with the MNIST IDX files.
    #[arg(long)]
    mnist_dir: Option<PathBuf>,
    /// Threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

#[derive(Debug, clap::Args)]
struct InspectArgs {
    /// Saved network: an eiann pickle, or an .npz state file.
    #[arg(long)]
    checkpoint: PathBuf,
    /// How many entries of the sample order to show.
    #[arg(long, default_value_t = 10)]
    head: usize,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(a) => commands::train(a),
        Command::Evaluate(a) => commands::evaluate(a),
        Command::Inspect(a) => commands::inspect(a),
        Command::Sweep(a) => sweep::sweep(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("eiann: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
