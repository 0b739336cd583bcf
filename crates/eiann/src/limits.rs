//! Every cap on a size, count, depth or duration that comes from a file or a command-line flag, in one
//! place, with the reason for each number.
//!
//! Readers check these before they allocate or loop, and their errors name the file (or flag), the key,
//! the value and the limit. The numbers are generous for real EIANN work (the Figure 3 network, MNIST,
//! runs of many epochs) and small enough that no input can make a reader use more than about 1 GB of
//! memory beyond what the legitimate data it describes would need, overflow the stack, or loop for long.
//!
//! | what | limit | why |
//! |---|---|---|
//! | `--steps` | [`MAX_STEPS_PER_EPOCH`] = 50,000 | EIANN's MNIST train split has 50,000 samples |
//! | `--steps` × `--epochs` | [`MAX_TOTAL_STEPS`] = 10,000,000 | 200 full epochs (days of training); the loss history and sample order then take 120 MB |
//! | `--checkpoint-every`, `--val-every` | ≤ [`MAX_TOTAL_STEPS`] | an interval longer than any run means nothing; keeps the value exact as the pickle's `int64` |
//! | stored parameter history | [`MAX_HISTORY_BYTES`] = 4 GiB | `(steps / checkpoint_every + 1)` × the network's parameters × 4 bytes, kept in memory until saved |
//! | `--threads` | [`MAX_THREADS`] = 256 | more threads than any machine here has cores only costs memory (and 10⁶ of them fail to spawn) |
//! | checkpoint pickle: nesting | [`MAX_PICKLE_DEPTH`] = 64 | the schema nests 7 levels; a cycle or a 2 MB chain of lists must not exhaust the stack |
//! | checkpoint pickle: objects, memo entries, stack | [`MAX_PICKLE_OBJECTS`] = 4,194,304 | a 3,000-step checkpoint has ≈ 8,000 objects; 4 M objects take ≈ 130 MB of bookkeeping |
//! | checkpoint pickle: copies of shared (memoised) strings and bytes | [`PICKLE_SHARED_COPY_FACTOR`] × file size + 1 MiB | `param_history[-1] is final_state` copies one state; a million references to one tensor must not |
//! | checkpoint pickle: integers | [`MAX_PICKLE_INT_BYTES`] = 16 bytes | every integer of the schema fits in 64 bits; `LONG4` may claim gigabytes |
//! | checkpoint pickle: `bytes`/`str` lengths | ≤ bytes left in the file | a declared length is checked against the file size before anything is allocated |
//! | `.npy` header | [`MAX_NPY_HEADER`] = 64 KiB | NumPy itself refuses headers over 10,000 bytes by default |
//! | `.npy` dimensions | [`MAX_NPY_DIMS`] = 32 | NumPy's own maximum is 64; our arrays have ≤ 4 |
//! | `.npy` `<U` string width | [`MAX_NPY_STR_WIDTH`] = 65,536 characters | population and key names are short |
//! | `.npz` decompressed members | [`MAX_NPZ_BYTES`] = 1 GiB in total | the reference state file is 5 MB, the largest parity fixture 70 MB; zip members declaring 4 GiB are not believed |
//! | `.npz` members | [`MAX_NPZ_MEMBERS`] = 100,000 | fixtures hold a few hundred arrays |
//! | IDX file (after gzip decompression) | [`MAX_IDX_BYTES`] = 64 MiB | MNIST's largest file is 47,040,016 bytes; a gzip bomb stops there |
//!
//! | network config file | [`MAX_CONFIG_BYTES`] = 1 MiB | EIANN's configs are 2–6 kB |
//! | YAML flow nesting (`[`, `{`) | [`MAX_YAML_DEPTH`] = 64 | configs nest 4 levels; checked in one linear pass before parsing (the parser's own check comes after quadratic time) |
//! | YAML block indentation | [`MAX_YAML_INDENT`] = 256 columns | the same for block collections |
//! | population `size` | [`MAX_POPULATION_SIZE`] = 1,048,576 units | EIANN's largest population is MNIST's 784 inputs |
//! | weights of a whole network | [`MAX_NETWORK_WEIGHTS`] = 2²⁸ (1 GiB of float32) | the Figure 3 network has 1.18 M |
//! | `forward_steps`, `backward_steps` | [`MAX_FORWARD_STEPS`] = 100,000 | EIANN's configs use 1–15; a phase is a loop over them |

/// Most training steps in one epoch: the size of EIANN's MNIST train split.
pub const MAX_STEPS_PER_EPOCH: usize = 50_000;

/// Most training steps of one run (`--steps` × `--epochs`).
pub const MAX_TOTAL_STEPS: usize = 10_000_000;

/// Most bytes of parameter snapshots a run may keep for its checkpoint (`param_history`).
pub const MAX_HISTORY_BYTES: u64 = 4 << 30;

/// Most worker threads (`--threads`).
pub const MAX_THREADS: usize = 256;

/// Deepest nesting of containers in a checkpoint pickle.
pub const MAX_PICKLE_DEPTH: usize = 64;

/// Most objects (and memo entries, and stack entries) while reading a checkpoint pickle.
pub const MAX_PICKLE_OBJECTS: usize = 4 << 20;

/// Shared (memoised) strings and bytes may be copied up to this many times the file size (plus 1 MiB).
pub const PICKLE_SHARED_COPY_FACTOR: u64 = 2;

/// Longest integer (in bytes of two's complement) in a checkpoint pickle.
pub const MAX_PICKLE_INT_BYTES: usize = 16;

/// Longest `.npy` header.
pub const MAX_NPY_HEADER: usize = 64 << 10;

/// Most dimensions of an `.npy` array.
pub const MAX_NPY_DIMS: usize = 32;

/// Widest `<U` string dtype of an `.npy` array, in characters.
pub const MAX_NPY_STR_WIDTH: usize = 1 << 16;

/// Most decompressed bytes read from one `.npz` archive (all members together).
pub const MAX_NPZ_BYTES: u64 = 1 << 30;

/// Most members of one `.npz` archive.
pub const MAX_NPZ_MEMBERS: usize = 100_000;

/// Largest IDX file, after gzip decompression.
pub const MAX_IDX_BYTES: u64 = 64 << 20;

/// Largest network config file.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Deepest nesting of YAML flow collections (`[`, `{`) in a network config.
pub const MAX_YAML_DEPTH: usize = 64;

/// Deepest indentation (columns) of a line of a network config.
pub const MAX_YAML_INDENT: usize = 256;

/// Most units of one population.
pub const MAX_POPULATION_SIZE: usize = 1 << 20;

/// Most weights of all projections of a network together.
pub const MAX_NETWORK_WEIGHTS: u64 = 1 << 28;

/// Most integration steps of one phase (`forward_steps`, `backward_steps`).
pub const MAX_FORWARD_STEPS: usize = 100_000;
