//! Validation throughput of the original (PyTorch-trained, checkpoint 30) Figure 3 network on the
//! 10,000 MNIST validation images: the forward pass that dominates a training run with validation.
//! Needs MNIST (`just data`).
//!
//! `cargo run --release -p eiann --example eval_reference [threads] [repeats]`
use std::path::Path;
use std::time::Instant;

use eiann::data::Mnist;
use eiann::evaluate::evaluate;
use eiann::run::{load_saved, FIGURE3_CONFIG, REFERENCE_STATE};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let arg = |k: usize, default: usize| -> Result<usize, Box<dyn std::error::Error>> {
        match std::env::args().nth(k) {
            Some(s) => Ok(s
                .parse()
                .map_err(|e| format!("argument {k} ({s:?}): {e}"))?),
            None => Ok(default),
        }
    };
    let (threads, repeats) = (arg(1, 1)?, arg(2, 3)?);
    let saved = load_saved(
        &root.join(REFERENCE_STATE),
        Some(&root.join(FIGURE3_CONFIG)),
    )?;
    let (net, _) = saved.network_at(None)?;
    let mnist = Mnist::load(&root.join("data/datasets/MNIST/raw"))?;
    let n = mnist.val.len();
    for _ in 0..repeats {
        let t0 = Instant::now();
        let e = evaluate(&net, &mnist.val, threads)?;
        let dt = t0.elapsed().as_secs_f64();
        println!(
            "{threads} thread(s): {n} images in {dt:.3} s = {:.1} µs per image per thread \
             (accuracy {:.2} %, loss {:.6})",
            dt * 1e6 * threads as f64 / n as f64,
            e.accuracy,
            e.loss
        );
    }
    Ok(())
}
