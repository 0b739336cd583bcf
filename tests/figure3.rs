//! The Figure 3 pipeline on the original network (needs MNIST: `just data`; skipped with a note otherwise):
//! the published facts, the spiking run and every panel rendering (a test of eiann-plot, which draws them).

use std::path::{Path, PathBuf};

use eiann::data::Mnist;
use eiann::figure3::Figure3;
use eiann::spiking::stats::agreement;
use eiann::spiking::SpikingParams;
use eiann_plot as figures;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn original_network_figure_pipeline() {
    let dir = root().join("data/datasets/MNIST/raw");
    if !dir.join("train-images-idx3-ubyte").exists() {
        println!("MNIST absent (run `just data`): skipping");
        return;
    }
    let mnist = Mnist::load(&dir).unwrap();
    let fig = Figure3::original(&root(), &mnist).unwrap();
    assert_eq!((fig.train_step, fig.sample_index), (2999, 30702));
    assert!((fig.final_dendritic_state(88) - 0.040).abs() < 5e-4);
    assert!((fig.final_dendritic_state(51) + 0.040).abs() < 5e-4);
    let run = fig
        .simulate_example_units(&SpikingParams::default())
        .unwrap();
    let wc = run.weight_changes.as_ref().unwrap();
    for u in 0..2 {
        let a = agreement(&wc.rate_dw.row(u).to_vec(), &wc.spiking_dw.row(u).to_vec()).unwrap();
        assert!(a.pearson_r.unwrap() >= 0.9, "unit {u}: {a:?}");
    }
    let out = std::env::temp_dir().join(format!("eiann_fig3_{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    figures::rate_dynamics_example(&fig.rate_panel(), &Default::default())
        .and_then(|f| f.save(&out))
        .unwrap();
    figures::spiking_dynamics(&fig.spiking_panel(&run).unwrap(), &Default::default())
        .and_then(|f| f.save(&out))
        .unwrap();
    figures::dendritic_state_rate_vs_spiking(
        &fig.dendrite_comparison_panel(&run).unwrap(),
        &Default::default(),
    )
    .and_then(|f| f.save(&out))
    .unwrap();
    for unit in [129, 13] {
        figures::eligibility_trace_example(
            &fig.eligibility_panel(&run, unit).unwrap(),
            &Default::default(),
        )
        .and_then(|f| f.save(&out))
        .unwrap();
    }
    for name in [
        "rate_dynamics_example_H2E",
        "spiking_dynamics_H2E",
        "dendritic_state_rate_vs_spiking_H2E",
        "eligibility_trace_H1E_129",
        "eligibility_trace_H1E_13",
    ] {
        assert!(
            out.join(format!("{name}.png")).exists() && out.join(format!("{name}.svg")).exists(),
            "{name}"
        );
    }
    assert!(fig.eligibility_panel(&run, 500).is_err());
    std::fs::remove_dir_all(&out).ok();
}
