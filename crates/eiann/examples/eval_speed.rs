//! Measure evaluation throughput (forward phase only) on 10,000 samples built from the fixture images.
use std::path::Path;
use std::time::Instant;

use eiann::evaluate::evaluate;
use eiann::npz::Npz;
use eiann::samples::InMemorySamples;
use eiann::{Network, NetworkSpec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let spec = NetworkSpec::from_file(root.join(
        "data/network_config/mnist/20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized.yaml",
    ))?;
    let net = Network::new(spec, 66049);
    let seq = Npz::open(root.join("tests/fixtures/parity/sequence.npz"))?;
    let xs = seq.f32("inputs")?;
    let n = 10_000;
    let mut inputs = ndarray::Array2::<f32>::zeros((n, 784));
    for i in 0..n {
        inputs
            .row_mut(i)
            .assign(&xs.index_axis(ndarray::Axis(0), i % 50));
    }
    let data = InMemorySamples {
        inputs,
        labels: (0..n).map(|i| i % 10).collect(),
        classes: 10,
    };
    for threads in [1, 2] {
        let t0 = Instant::now();
        let e = evaluate(&net, &data, threads)?;
        let dt = t0.elapsed().as_secs_f64();
        println!(
            "{threads} thread(s): {n} samples in {dt:.2} s = {:.0} samples/s (acc {:.1} %)",
            n as f64 / dt,
            e.accuracy
        );
    }
    Ok(())
}
