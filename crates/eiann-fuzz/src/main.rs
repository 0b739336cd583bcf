//! `eiann-fuzz`: mutation fuzzing of eiann's readers with a memory bound (counting allocator) and a
//! per-input time limit.
//!
//! ```text
//! eiann-fuzz [--reader config|pickle|npz|idx|all] [--inputs N] [--seconds S] [--time-limit T]
//!            [--mem-limit-mb M] [--seed X] [--out DIR]
//! ```
//! For each reader: the seeds, then N mutated inputs (or until S seconds have passed). A panic is
//! recorded and the input saved to `DIR/<reader>/crash-<n>`; an input that runs longer than T seconds,
//! or makes live heap memory exceed M MB, stops the run at once (exit code 3) with the input saved as
//! `DIR/<reader>/current`. Exit code 0 means zero panics, hangs and over-limit allocations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use eiann_fuzz::{mutate, run_one, seeds, Outcome, Reader, Rng};

/// Live heap bytes, and the bound above which the process stops.
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);

/// Counts live heap bytes; an allocation that would exceed [`LIMIT`] stops the process.
struct Counting;

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.account(layout.size());
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.account(layout.size());
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            self.account(new_size - layout.size());
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

impl Counting {
    fn account(&self, size: usize) {
        let live = LIVE.fetch_add(size, Ordering::Relaxed).saturating_add(size);
        PEAK.fetch_max(live, Ordering::Relaxed);
        if live > LIMIT.load(Ordering::Relaxed) {
            // No allocation from here on: write a fixed message and stop.
            let _ = std::io::stderr().write_all(
                b"eiann-fuzz: an input made live heap memory exceed the limit; it is saved as <out>/<reader>/current\n",
            );
            std::process::abort();
        }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Milliseconds since [`EPOCH`] at which the current input started (0: idle).
static STARTED_MS: AtomicU64 = AtomicU64::new(0);
static LAST_PANIC: Mutex<String> = Mutex::new(String::new());

struct Args {
    readers: Vec<Reader>,
    inputs: u64,
    seconds: f64,
    time_limit: f64,
    mem_limit_mb: usize,
    seed: u64,
    out: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        readers: Reader::ALL.to_vec(),
        inputs: 100_000,
        seconds: f64::INFINITY,
        time_limit: 10.0,
        mem_limit_mb: 1024,
        seed: 1,
        out: PathBuf::from("target/fuzz"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let num = |v: String| v.parse::<f64>().map_err(|_| format!("bad number {v}"));
        match flag.as_str() {
            "--reader" => {
                let v = value()?;
                a.readers = if v == "all" {
                    Reader::ALL.to_vec()
                } else {
                    vec![Reader::from_name(&v).ok_or(format!("unknown reader {v}"))?]
                };
            }
            "--inputs" => a.inputs = num(value()?)? as u64,
            "--seconds" => a.seconds = num(value()?)?,
            "--time-limit" => a.time_limit = num(value()?)?,
            "--mem-limit-mb" => a.mem_limit_mb = num(value()?)? as usize,
            "--seed" => a.seed = num(value()?)? as u64,
            "--out" => a.out = PathBuf::from(value()?),
            "-h" | "--help" => {
                return Err("usage: eiann-fuzz [--reader config|pickle|npz|idx|all] [--inputs N] \
                            [--seconds S] [--time-limit T] [--mem-limit-mb M] [--seed X] [--out DIR]"
                    .into())
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let epoch = Instant::now();
    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut s) = LAST_PANIC.lock() {
            *s = info.to_string();
        }
    }));
    // Watchdog: an input running longer than the time limit stops the run.
    let limit_ms = (args.time_limit * 1000.0) as u64;
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(50));
        let started = STARTED_MS.load(Ordering::Relaxed);
        let now = epoch.elapsed().as_millis() as u64;
        if started != 0 && now.saturating_sub(started) > limit_ms {
            eprintln!(
                "eiann-fuzz: an input ran longer than {} s (per-input time limit); it is saved as <out>/<reader>/current",
                limit_ms as f64 / 1000.0
            );
            std::process::exit(3);
        }
    });
    let mut total_crashes = 0;
    for &reader in &args.readers {
        total_crashes += fuzz_reader(reader, &args, epoch);
    }
    if total_crashes > 0 {
        eprintln!(
            "eiann-fuzz: {total_crashes} panicking inputs (saved under {})",
            args.out.display()
        );
        std::process::exit(1);
    }
}

/// Fuzz one reader; returns the number of panicking inputs.
fn fuzz_reader(reader: Reader, args: &Args, epoch: Instant) -> usize {
    let dir = args.out.join(reader.name());
    let scratch = dir.join("scratch");
    if let Err(e) = std::fs::create_dir_all(&scratch) {
        eprintln!("eiann-fuzz: cannot create {}: {e}", scratch.display());
        std::process::exit(2);
    }
    let corpus = seeds(reader, &scratch);
    if corpus.is_empty() {
        eprintln!("eiann-fuzz: no seeds for {}", reader.name());
        std::process::exit(2);
    }
    // Seeds must be accepted: otherwise mutation explores only error paths.
    for (i, s) in corpus.iter().enumerate() {
        if run_one(reader, s, &scratch) != Outcome::Accepted && reader != Reader::Idx {
            eprintln!(
                "eiann-fuzz: warning: seed {i} of {} is refused",
                reader.name()
            );
        }
    }
    LIMIT.store(
        LIVE.load(Ordering::Relaxed) + args.mem_limit_mb * (1 << 20),
        Ordering::Relaxed,
    );
    PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
    let base = LIVE.load(Ordering::Relaxed);
    let mut rng = Rng::new(args.seed ^ (reader as u64).wrapping_mul(0x1234_5678_9abc_def1));
    let t0 = Instant::now();
    let (mut n, mut accepted, mut crashes, mut slowest) = (0u64, 0u64, 0usize, 0f64);
    let current = dir.join("current");
    while n < args.inputs && t0.elapsed().as_secs_f64() < args.seconds {
        let a = &corpus[rng.below(corpus.len())];
        let b = &corpus[rng.below(corpus.len())];
        let input = mutate(&mut rng, a, b);
        let _ = std::fs::write(&current, &input);
        let t = Instant::now();
        STARTED_MS.store(
            (epoch.elapsed().as_millis() as u64).max(1),
            Ordering::Relaxed,
        );
        let result =
            std::panic::catch_unwind(AssertUnwindSafe(|| run_one(reader, &input, &scratch)));
        STARTED_MS.store(0, Ordering::Relaxed);
        slowest = slowest.max(t.elapsed().as_secs_f64());
        match result {
            Ok(Outcome::Accepted) => accepted += 1,
            Ok(Outcome::Refused) => {}
            Err(_) => {
                crashes += 1;
                let path = dir.join(format!("crash-{crashes}"));
                let _ = std::fs::write(&path, &input);
                let msg = LAST_PANIC.lock().map(|s| s.clone()).unwrap_or_default();
                eprintln!(
                    "eiann-fuzz: {}: panic ({msg}); input saved as {}",
                    reader.name(),
                    path.display()
                );
            }
        }
        n += 1;
    }
    let _ = std::fs::remove_file(&current);
    let _ = std::fs::remove_dir_all(&scratch);
    let peak_mb = PEAK.load(Ordering::Relaxed).saturating_sub(base) as f64 / (1 << 20) as f64;
    println!(
        "{:<7} {n:>8} inputs in {:>7.1} s, {accepted} accepted, {crashes} panics, 0 hangs (slowest {:.3} s, limit {} s), peak extra heap {peak_mb:.1} MB (limit {} MB)",
        reader.name(),
        t0.elapsed().as_secs_f64(),
        slowest,
        args.time_limit,
        args.mem_limit_mb
    );
    let _ = std::io::stdout().flush();
    crashes
}
