//! Train the Figure 3 network from its seeds (66049 / 257, 3,000 steps) and compare the run with the
//! original PyTorch run recorded in a fig3 parity fixture: per-step loss differences and the weights
//! after step 2999. Needs MNIST (`just data`).
//!
//! `cargo run --release -p eiann --example compare_pytorch_run [fixture.npz]`
use std::path::{Path, PathBuf};

use eiann::data::Mnist;
use eiann::npz::Npz;
use eiann::train::{train, TrainOptions};
use eiann::{Network, NetworkSpec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let fixture = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("tests/fixtures/parity/fig3_seed66049.npz"));
    let z = Npz::open(&fixture)?;
    let spec = NetworkSpec::from_file(root.join(eiann::run::FIGURE3_CONFIG))?;
    let mnist = Mnist::load(&root.join("data/datasets/MNIST/raw"))?;
    let mut net = Network::new(spec, 66049);
    let opts = TrainOptions {
        samples_per_epoch: Some(3000),
        data_seed: 257,
        ..TrainOptions::default()
    };
    let h = train(&mut net, &mnist.train, None, &opts, &mut |_| {})?;
    let theirs: Vec<f32> = z.f32("train_loss_history")?.iter().copied().collect();
    let order: Vec<i64> = z.i64("sample_order_3000")?.iter().copied().collect();
    println!("sample order identical: {}", order == h.sample_order);
    for tol in [1e-7f32, 1e-6, 1e-5, 1e-4, 1e-3] {
        let first = h
            .loss_history
            .iter()
            .zip(&theirs)
            .position(|(a, b)| (a - b).abs() > tol);
        println!("first step with |loss difference| > {tol:e}: {first:?}");
    }
    let sd = net.state_dict();
    let mut worst = (String::new(), 0f32, 0f32);
    for (k, t) in sd.iter() {
        let Some(name) = k
            .strip_prefix("module_dict.")
            .and_then(|s| s.strip_suffix(".weight"))
        else {
            continue;
        };
        let w = z.f32(&format!("weight/{name}"))?;
        let d = t
            .iter()
            .zip(w.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        let m = w.iter().fold(0f32, |m, v| m.max(v.abs()));
        println!(
            "{name:<24} max |ours - PyTorch| after step 2999: {d:.3e} (largest weight {m:.3})"
        );
        if d > worst.1 {
            worst = (name.to_string(), d, m);
        }
    }
    println!("largest difference: {} {:.3e}", worst.0, worst.1);
    Ok(())
}
