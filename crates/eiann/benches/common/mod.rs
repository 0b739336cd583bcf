// Each bench uses a part of this module.
#![allow(dead_code)]

//! Shared setup of the criterion benches: the Figure 3 network with the 3,000-step-trained weights of the
//! parity fixtures and its 50 real MNIST samples (`tests/fixtures/parity/{forward,sequence}.npz`), and
//! the shared criterion settings.

use std::path::{Path, PathBuf};

use eiann::npz::Npz;
use eiann::{Network, NetworkSpec, StateDict};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The trained Figure 3 network and the fixture's 50 samples (inputs, one-hot targets).
pub fn figure3_network() -> (Network, Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let root = root();
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

/// Criterion settings shared by the benches (short runs: these machines are shared and noisy, so
/// compare variants alternately in the same minutes).
pub fn criterion() -> criterion::Criterion {
    criterion::Criterion::default()
        .sample_size(20)
        .measurement_time(std::time::Duration::from_secs(4))
        .warm_up_time(std::time::Duration::from_secs(1))
}
