//! Mutation fuzzing of eiann's readers on stable Rust: seed files for each reader, a deterministic
//! mutator, and [`run_one`], which feeds one input to a reader through its public API (the same calls
//! the CLI makes). The binary (`src/main.rs`) adds the loop, a counting allocator and a per-input time
//! limit; `tests/regressions.rs` replays the inputs saved in `regressions/<reader>/`.

use std::io::Write;
use std::path::{Path, PathBuf};

use eiann::checkpoint::Checkpoint;
use eiann::npz::{NpyArray, Npz};
use eiann::StateDict;
use ndarray::{ArrayD, IxDyn};

/// The readers under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// `NetworkSpec::from_yaml_str` (a YAML network config).
    Config,
    /// `Checkpoint::load` (a checkpoint pickle).
    Pickle,
    /// `Npz::open` and `StateDict::from_npz` (an `.npz` archive).
    Npz,
    /// `read_idx_images` / `read_idx_labels` (MNIST IDX, plain and `.gz`).
    Idx,
}

impl Reader {
    /// All readers, in the order the harness runs them.
    pub const ALL: [Reader; 4] = [Reader::Config, Reader::Pickle, Reader::Npz, Reader::Idx];

    /// Name used on the command line and as the regression folder.
    pub fn name(self) -> &'static str {
        match self {
            Reader::Config => "config",
            Reader::Pickle => "pickle",
            Reader::Npz => "npz",
            Reader::Idx => "idx",
        }
    }

    /// The reader called `name`.
    pub fn from_name(name: &str) -> Option<Reader> {
        Reader::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// The repository root (the crate lives in `crates/eiann-fuzz`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Figure 3 config text.
fn figure3_config() -> String {
    std::fs::read_to_string(repo_root().join(eiann::run::FIGURE3_CONFIG)).unwrap_or_else(|_| {
        "layer_config:\n  Input:\n    E:\n      size: 4\n  Output:\n    E:\n      size: 2\n".into()
    })
}

fn tensor(shape: &[usize], seed: f32) -> ArrayD<f32> {
    let n: usize = shape.iter().product();
    ArrayD::from_shape_vec(
        IxDyn(shape),
        (0..n).map(|i| seed + i as f32 * 0.5).collect(),
    )
    .expect("shape matches")
}

fn small_state(seed: f32) -> StateDict {
    let mut s = StateDict::new();
    s.insert("module_dict.H1E_InputE.weight", tensor(&[3, 4], seed));
    s.insert(
        "module_dict.OutputE_H1E.weight",
        tensor(&[2, 3], seed + 1.0),
    );
    s.insert("parameter_dict.H1E_bias", tensor(&[3], seed + 2.0));
    s
}

/// A small valid checkpoint (a few kB as a pickle).
fn small_checkpoint() -> Checkpoint {
    Checkpoint {
        config_name: "fuzz".into(),
        config_yaml: "layer_config:\n  Input:\n    E:\n      size: 4\n".into(),
        network_seed: u64::MAX - 1,
        data_seed: 7,
        epochs: 1,
        samples_per_epoch: 3,
        total_steps: 3,
        store_params_interval: (0, -1, 2),
        val_interval: (0, -1, 2),
        test_accuracy: Some(50.0),
        final_state: small_state(3.0),
        param_history_steps: vec![0, 2],
        param_history: vec![small_state(0.0), small_state(1.0)],
        sample_order: vec![4, 0, 2],
        loss_history: vec![1.0, 0.5, 0.25],
        val_history_train_steps: vec![0, 2],
        val_loss_history: vec![1.0, 0.5],
        val_accuracy_history: vec![10.0, 20.0],
        ..Checkpoint::default()
    }
}

/// A protocol-2 pickle as Python writes it for bytes (`_codecs.encode`), with memo references: a
/// top-level dict where two keys share one list.
const PROTOCOL2_SEED: &[u8] = b"\x80\x02}q\x00(X\x06\x00\x00\x00formatq\x01X\x13\x00\x00\x00eiann-rs checkpointq\x02X\x04\x00\x00\x00dataq\x03c_codecs\nencode\nq\x04X\x04\x00\x00\x00\xc3\xbf\x00\x01q\x05X\x06\x00\x00\x00latin1q\x06\x86q\x07Rq\x08X\x01\x00\x00\x00aq\x09]q\x0a(K\x01K\x02eX\x01\x00\x00\x00bq\x0bh\x0au.";

/// Seed inputs of `reader`, built with the crate's own writers (so they are valid inputs).
pub fn seeds(reader: Reader, scratch: &Path) -> Vec<Vec<u8>> {
    match reader {
        Reader::Config => {
            let full = figure3_config();
            vec![
                full.clone().into_bytes(),
                full.lines()
                    .take(40)
                    .collect::<Vec<_>>()
                    .join("\n")
                    .into_bytes(),
                b"layer_config:\n  Input:\n    E:\n      size: 784\n  H1:\n    E:\n      size: 500\n      activation: relu\n".to_vec(),
            ]
        }
        Reader::Pickle => {
            let path = scratch.join("seed.pkl");
            let mut out = Vec::new();
            if small_checkpoint().save(&path).is_ok() {
                if let Ok(b) = std::fs::read(&path) {
                    out.push(b);
                }
            }
            out.push(PROTOCOL2_SEED.to_vec());
            out
        }
        Reader::Npz => {
            let path = scratch.join("seed.npz");
            let mut z = Npz::new("seed.npz");
            z.insert(
                "module_dict.H1E_InputE.weight",
                NpyArray::F32(tensor(&[3, 4], 1.0)),
            );
            z.insert(
                "meta/train_step",
                NpyArray::I64(ArrayD::from_elem(IxDyn(&[]), 2999)),
            );
            z.insert(
                "meta/names",
                NpyArray::Str(vec!["H1E".into(), "OutputE".into()], vec![2]),
            );
            z.insert(
                "meta/mask",
                NpyArray::Bool(ArrayD::from_elem(IxDyn(&[2, 2]), true)),
            );
            let mut out = Vec::new();
            if z.write(&path).is_ok() {
                if let Ok(b) = std::fs::read(&path) {
                    out.push(b);
                }
            }
            let npy = eiann::npz::to_npy(&NpyArray::F32(tensor(&[2, 2], 0.0)));
            out.push(stored_zip("weight/H1E_InputE.npy", &npy));
            out
        }
        Reader::Idx => {
            let mut images = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28];
            images.extend((0..2 * 784).map(|i| (i % 251) as u8));
            let labels = vec![0, 0, 8, 1, 0, 0, 0, 3, 7, 0, 9];
            vec![images, labels.clone(), gz(&labels)]
        }
    }
}

/// A zip archive with one stored (uncompressed) member, written by hand so that its header fields
/// are easy for the mutator to corrupt.
fn stored_zip(name: &str, data: &[u8]) -> Vec<u8> {
    let crc = crc32(data);
    let mut out = Vec::new();
    let n = name.len() as u16;
    let size = data.len() as u32;
    out.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00");
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(data);
    let cd = out.len() as u32;
    out.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00");
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&[0; 12]);
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(name.as_bytes());
    let cd_len = out.len() as u32 - cd;
    out.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00");
    out.extend_from_slice(&cd_len.to_le_bytes());
    out.extend_from_slice(&cd.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
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
    !crc
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

/// What a reader made of one input (the harness only cares that it returned).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    Refused,
}

/// Feed `input` to `reader` through its public API. Inputs that need a file are written into
/// `scratch` (a private directory). Panics propagate to the caller.
pub fn run_one(reader: Reader, input: &[u8], scratch: &Path) -> Outcome {
    let ok = |b: bool| {
        if b {
            Outcome::Accepted
        } else {
            Outcome::Refused
        }
    };
    match reader {
        Reader::Config => {
            let text = String::from_utf8_lossy(input);
            ok(eiann::NetworkSpec::from_yaml_str(&text, "fuzz", "fuzz.yaml").is_ok())
        }
        Reader::Pickle => {
            let path = scratch.join("input.pkl");
            if std::fs::write(&path, input).is_err() {
                return Outcome::Refused;
            }
            ok(Checkpoint::load(&path).is_ok())
        }
        Reader::Npz => {
            let path = scratch.join("input.npz");
            if std::fs::write(&path, input).is_err() {
                return Outcome::Refused;
            }
            let a = Npz::open(&path).is_ok();
            let b = StateDict::from_npz(&path).is_ok();
            ok(a || b)
        }
        Reader::Idx => {
            let plain = eiann::data::idx::parse_idx_images(input.to_vec(), "fuzz").is_ok()
                | eiann::data::idx::parse_idx_labels(input, "fuzz").is_ok();
            let path = scratch.join("input-idx1-ubyte.gz");
            let gz_ok = std::fs::write(&path, input).is_ok()
                && (eiann::data::idx::read_idx_labels(&path).is_ok()
                    | eiann::data::idx::read_idx_images(&path).is_ok());
            ok(plain || gz_ok)
        }
    }
}

/// A small deterministic random generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// Integers that often sit on a boundary of a length or count check.
const INTERESTING: [u64; 12] = [
    0,
    1,
    0x7f,
    0x80,
    0xff,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    0x7fff_ffff_ffff_ffff,
    u64::MAX,
];

/// Text fragments that matter to the YAML and `.npy` header parsers.
const TOKENS: [&[u8]; 14] = [
    b"size: 1000000000000",
    b"forward_steps: 1000000000000",
    b"[[[[[[[[[[[[[[[[[[[[",
    b"{{{{{{{{{{{{{{{{{{{{",
    b"&a [*a, *a, *a]",
    b"*a",
    b"'descr': '<U4611686018427387904'",
    b"'shape': (4294967296, 4294967296), ",
    b"'descr': '<U0'",
    b"(1000000000000,)",
    b"- ",
    b": ",
    b"\n  ",
    b"!!binary ",
];

/// One mutation of `input` (sometimes several, sometimes splicing `other`).
pub fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let len = v.len();
        match rng.below(10) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                v[i] = rng.next_u64() as u8;
            }
            2 if len > 0 => {
                // Overwrite 1, 2, 4 or 8 bytes with a boundary integer, either endianness.
                let w = [1usize, 2, 4, 8][rng.below(4)];
                let x = INTERESTING[rng.below(INTERESTING.len())];
                let bytes = if rng.below(2) == 0 {
                    x.to_le_bytes()
                } else {
                    x.to_be_bytes()
                };
                let i = rng.below(len);
                let n = w.min(len - i);
                v[i..i + n].copy_from_slice(&bytes[..n]);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                v.drain(i..i + n);
            }
            4 if len > 0 => {
                // Duplicate a chunk (repeated structure, nesting).
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(256));
                let chunk: Vec<u8> = v[i..i + n].to_vec();
                let at = rng.below(len + 1);
                let times = 1 + rng.below(8);
                for _ in 0..times {
                    v.splice(at..at, chunk.iter().copied());
                }
            }
            5 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                let at = rng.below(len + 1);
                v.splice(at..at, t.iter().copied());
            }
            6 if len > 0 => {
                v.truncate(rng.below(len));
            }
            7 if !other.is_empty() => {
                let cut = rng.below(len + 1);
                let from = rng.below(other.len());
                v.truncate(cut);
                v.extend_from_slice(&other[from..]);
            }
            8 if len > 0 => {
                let i = rng.below(len);
                let b = rng.next_u64() as u8;
                v.insert(i, b);
            }
            _ => {
                if len > 1 {
                    let i = rng.below(len);
                    let j = rng.below(len);
                    v.swap(i, j);
                }
            }
        }
    }
    v
}

/// The saved regression inputs of `reader` (`regressions/<reader>/*`), sorted by name.
pub fn regression_inputs(reader: Reader) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("regressions")
        .join(reader.name());
    let mut out: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_none_or(|e| e != "md"))
        .filter_map(|p| std::fs::read(&p).ok().map(|b| (p, b)))
        .collect();
    out.sort();
    out
}
