//! Time the phases of `train_step` separately (a rough profile; the criterion bench is the reference).
use std::path::Path;
use std::time::Instant;

use eiann::npz::Npz;
use eiann::{Network, NetworkSpec, StateDict};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let spec = NetworkSpec::from_file(root.join(
        "data/network_config/mnist/20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized.yaml",
    ))?;
    let fx = root.join("tests/fixtures/parity");
    let w = Npz::open(fx.join("forward.npz"))?;
    let mut sd = StateDict::new();
    for k in w.keys() {
        if let Some(n) = k.strip_prefix("weight/") {
            sd.insert(StateDict::weight_key(n), w.f32(k)?);
        }
    }
    let mut net = Network::from_state_dict(spec, &sd)?;
    let seq = Npz::open(fx.join("sequence.npz"))?;
    let xs = seq.f32("inputs")?;
    let ts = seq.f32("targets")?;
    let mut t = [0f64; 5];
    let n = 2000;
    for s in 0..n {
        let x: Vec<f32> = xs
            .outer_iter()
            .nth(s % 50)
            .map(|r| r.iter().copied().collect())
            .unwrap_or_default();
        let y: Vec<f32> = ts
            .outer_iter()
            .nth(s % 50)
            .map(|r| r.iter().copied().collect())
            .unwrap_or_default();
        let t0 = Instant::now();
        net.forward(&x, None)?;
        let t1 = Instant::now();
        net.update_forward_state(None)?;
        let t2 = Instant::now();
        net.backward(&y, false, None)?;
        let t3 = Instant::now();
        net.step_rules();
        let t4 = Instant::now();
        net.constrain_weights();
        let t5 = Instant::now();
        for (k, (a, b)) in [(t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5)]
            .iter()
            .enumerate()
        {
            t[k] += (*b - *a).as_secs_f64();
        }
    }
    let names = [
        "forward",
        "update_forward_state",
        "backward",
        "rules",
        "constraints (full pass)",
    ];
    let total: f64 = t.iter().sum();
    for (k, name) in names.iter().enumerate() {
        println!("{name:<22} {:8.1} µs/sample", t[k] / n as f64 * 1e6);
    }
    println!(
        "total {:.1} µs/sample = {:.0} samples/s",
        total / n as f64 * 1e6,
        n as f64 / total
    );
    Ok(())
}
