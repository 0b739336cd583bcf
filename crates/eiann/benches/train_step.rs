//! Criterion benches of the product's hot loop: one `train_step` (forward 15 steps, forward-state
//! snapshot, backward 15 steps, rules, constraints) and the forward phase alone, single-threaded, on the
//! 50 real MNIST samples and the 300-step-trained weights of the parity fixtures
//! (`tests/fixtures/parity/{forward,sequence}.npz`). Throughput is reported in samples/s.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use eiann::npz::Npz;
use eiann::{Network, NetworkSpec, StateDict};

fn setup() -> (Network, Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let spec = NetworkSpec::from_file(root.join(
        "data/network_config/mnist/20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized.yaml",
    ))
    .expect("config");
    let fx = root.join("tests/fixtures/parity");
    let w = Npz::open(fx.join("forward.npz")).expect("forward.npz fixture");
    let mut sd = StateDict::new();
    for k in w.keys() {
        if let Some(n) = k.strip_prefix("weight/") {
            sd.insert(StateDict::weight_key(n), w.f32(k).expect("weight"));
        }
    }
    let net = Network::from_state_dict(spec, &sd).expect("weights load");
    let seq = Npz::open(fx.join("sequence.npz")).expect("sequence.npz fixture");
    let rows = |k: &str| -> Vec<Vec<f32>> {
        let a = seq.f32(k).expect("array");
        a.outer_iter()
            .map(|r| r.iter().copied().collect())
            .collect()
    };
    (net, rows("inputs"), rows("targets"))
}

fn bench(c: &mut Criterion) {
    let (net, xs, ts) = setup();
    let mut g = c.benchmark_group("dtp_mnist_784_500_500_10");
    g.throughput(Throughput::Elements(1));
    let mut train_net = net.clone();
    let mut i = 0;
    g.bench_function("train_step", |b| {
        b.iter(|| {
            let loss = train_net
                .train_step(&xs[i % xs.len()], &ts[i % ts.len()])
                .expect("step");
            i += 1;
            loss
        })
    });
    let mut fwd_net = net.clone();
    let mut j = 0;
    g.bench_function("forward_phase", |b| {
        b.iter(|| {
            let out = fwd_net.forward(&xs[j % xs.len()], None).expect("forward")[0];
            j += 1;
            out
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
