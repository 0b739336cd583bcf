//! The shipped original network (`data/reference/eiann_pytorch_66049_257_step2999.npz`) loads by EIANN
//! state_dict names and reproduces the published Figure 3 facts on its sample (MNIST train image 30702,
//! whose pixels are stored in the fig3 parity fixture).

use std::path::{Path, PathBuf};

use eiann::npz::Npz;
use eiann::series::{DendriteSeries, DynamicsSeries, BEFORE_NUDGE_ROW, FIGURE_CROP};
use eiann::{Network, NetworkSpec, StateDict};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn reference_network_reproduces_the_published_units() {
    let spec = NetworkSpec::from_file(root().join(
        "data/network_config/mnist/20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized.yaml",
    ))
    .unwrap();
    let reference = root().join("data/reference/eiann_pytorch_66049_257_step2999.npz");
    let sd = StateDict::from_npz(&reference).unwrap();
    assert_eq!(sd.len(), 31);
    let meta = Npz::open(&reference).unwrap();
    assert_eq!(meta.scalar_i64("meta/sample_index").unwrap(), 30702);
    assert_eq!(meta.scalar_i64("meta/train_step").unwrap(), 2999);
    let mut net = Network::from_state_dict(spec, &sd).unwrap();
    let fx = Npz::open(root().join("tests/fixtures/parity/fig3_seed66049.npz")).unwrap();
    let x: Vec<f32> = fx.f32("input").unwrap().iter().copied().collect();
    let t: Vec<f32> = fx.f32("target").unwrap().iter().copied().collect();
    let s = DynamicsSeries::compute(&mut net, &x, &t, DendriteSeries::Figure).unwrap();
    let d = s.dendrite_crop("H2E", FIGURE_CROP).unwrap();
    let a = s.activity_crop("H2E", FIGURE_CROP).unwrap();
    let last = d.nrows() - 1;
    // published: +0.040 (unit 88) and -0.040 (unit 51) at the last cropped row
    assert!(
        (d[[last, 88]] - 0.0401).abs() < 5e-4,
        "unit 88: {}",
        d[[last, 88]]
    );
    assert!(
        (d[[last, 51]] + 0.0396).abs() < 5e-4,
        "unit 51: {}",
        d[[last, 51]]
    );
    // both example units are active before the nudge (the rate-dW gate)
    assert!(a[[BEFORE_NUDGE_ROW, 88]] > 0.0 && a[[BEFORE_NUDGE_ROW, 51]] > 0.0);
}

#[test]
fn state_files_without_weights_are_refused() {
    let dir = std::env::temp_dir().join(format!("eiann_ref_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("empty.npz");
    let mut z = Npz::new("empty.npz");
    z.insert(
        "meta/x",
        eiann::npz::NpyArray::I64(ndarray::ArrayD::zeros(ndarray::IxDyn(&[]))),
    );
    z.write(&p).unwrap();
    let e = StateDict::from_npz(&p).unwrap_err().to_string();
    assert!(e.contains("holds no weight"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

/// The automatic example-unit rule reproduces the units recorded in the fig3 fixtures
/// (`fig3_seed66049_info.json`: auto units (94, 223); `fig3.npz`: (223, 417), stored as the example units).
#[test]
fn example_unit_rule_matches_the_fixtures() {
    use eiann::series::example_units;
    let dir = root().join("tests/fixtures/parity");
    let z = Npz::open(dir.join("fig3_seed66049.npz")).unwrap();
    let d = z
        .f32("dendritic_state_H2E_cropped")
        .unwrap()
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap();
    let a = z
        .f32("activity_dynamics_cropped/H2E")
        .unwrap()
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap();
    assert_eq!(example_units(d.view(), a.view()).unwrap(), (94, 223));
    if let Ok(z) = Npz::open(root().join("../shared/fixtures/parity/fig3.npz")) {
        let d = z
            .f32("dendritic_state_H2E_cropped")
            .unwrap()
            .into_dimensionality::<ndarray::Ix2>()
            .unwrap();
        let a = z
            .f32("activity_dynamics_cropped/H2E")
            .unwrap()
            .into_dimensionality::<ndarray::Ix2>()
            .unwrap();
        let want = (
            z.scalar_i64("positive_unit_idx").unwrap() as usize,
            z.scalar_i64("negative_unit_idx").unwrap() as usize,
        );
        assert_eq!(example_units(d.view(), a.view()).unwrap(), want);
    }
}
