//! One `train_step` of each of the paper's other six networks (issue 15), single-threaded, in samples/s
//! (PyTorch EIANN on one thread of the reference machine, from each fixture folder's `info.json`: 5J 93,
//! 5K 78, bpDale G 33, 5M 47, van_bp 190, bpDale F 80 samples/s).
//!
//! Weights: the 3,000-step-trained W of the parity case folder when present (`tests/fixtures/parity_rules`,
//! else `../shared/fixtures/parity_rules`, else `$EIANN_PARITY_RULES_DIR`), otherwise the seed-66049
//! initial weights. Samples: the 50 MNIST samples of `tests/fixtures/parity/sequence.npz`.

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use eiann::npz::Npz;
use eiann::{Network, NetworkSpec, StateDict};

const CONFIGS: [(&str, &str); 6] = [
    (
        "5J",
        "20241009_EIANN_2_hidden_mnist_BP_like_config_5J_complete_optimized",
    ),
    (
        "5K",
        "20241113_EIANN_2_hidden_mnist_BP_like_config_5K_complete_optimized",
    ),
    (
        "bpDale_G",
        "20231129_EIANN_2_hidden_mnist_bpDale_relu_SGD_config_G_complete_optimized",
    ),
    (
        "5M",
        "20241113_EIANN_2_hidden_mnist_BP_like_config_5M_complete_optimized",
    ),
    (
        "van_bp",
        "20231129_EIANN_2_hidden_mnist_van_bp_relu_SGD_config_G_complete_optimized",
    ),
    (
        "bpDale_F",
        "20240419_EIANN_2_hidden_mnist_bpDale_relu_SGD_config_F_complete_optimized",
    ),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The trained weights of a case folder, if one is found.
fn trained(stem: &str) -> Option<StateDict> {
    let mut dirs = vec![
        root().join("tests/fixtures/parity_rules"),
        root().join("../shared/fixtures/parity_rules"),
    ];
    if let Some(d) = std::env::var_os("EIANN_PARITY_RULES_DIR") {
        dirs.insert(0, PathBuf::from(d));
    }
    let z = dirs
        .iter()
        .find_map(|d| Npz::open(d.join(stem).join("forward.npz")).ok())?;
    let mut sd = StateDict::new();
    for k in z.keys() {
        if let Some(n) = k.strip_prefix("weight/") {
            sd.insert(StateDict::weight_key(n), z.f32(k).ok()?);
        }
    }
    Some(sd)
}

fn bench(c: &mut Criterion) {
    let seq = Npz::open(root().join("tests/fixtures/parity/sequence.npz")).expect("sequence.npz");
    let rows = |k: &str| -> Vec<Vec<f32>> {
        seq.f32(k)
            .expect("array")
            .outer_iter()
            .map(|r| r.iter().copied().collect())
            .collect()
    };
    let (xs, ts) = (rows("inputs"), rows("targets"));
    let mut g = c.benchmark_group("configs_train_step");
    g.throughput(Throughput::Elements(1));
    for (short, stem) in CONFIGS {
        let spec =
            NetworkSpec::from_file(root().join(format!("data/network_config/mnist/{stem}.yaml")))
                .expect("config");
        let (mut net, w) = match trained(stem) {
            Some(sd) => (
                Network::from_state_dict(spec, &sd).expect("weights"),
                "trained",
            ),
            None => (Network::new(spec, 66049), "init"),
        };
        let mut i = 0;
        g.bench_function(format!("{short}_{w}"), |b| {
            b.iter(|| {
                let loss = net
                    .train_step(&xs[i % xs.len()], &ts[i % ts.len()])
                    .expect("step");
                i += 1;
                loss
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
