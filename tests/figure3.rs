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

/// The spiking-vs-rate agreement over 100 samples for the original network and our own run
/// (`figure3::agreement_over_samples`): what `figure3_population.ipynb` tabulates and asserts.
#[test]
fn agreement_over_many_samples() {
    use eiann::figure3::params::{CHECKPOINT_STEP, PLASTIC_PRE, POPULATION};
    use eiann::figure3::{agreement_over_samples, agreement_samples};
    use eiann::run::load_saved;
    let dir = root().join("data/datasets/MNIST/raw");
    if !dir.join("train-images-idx3-ubyte").exists() {
        println!("MNIST absent (run `just data`): skipping");
        return;
    }
    let mnist = Mnist::load(&dir).unwrap();
    let samples = agreement_samples(100, 14);
    let original = Figure3::original(&root(), &mnist).unwrap();
    let own_pickle = std::env::temp_dir().join(format!("eiann_own_{}.pkl", std::process::id()));
    let _ = Figure3::own_run(&root(), &own_pickle, &mnist).unwrap();
    let (own, _) = load_saved(&own_pickle, None)
        .unwrap()
        .network_at(Some(CHECKPOINT_STEP))
        .unwrap();
    std::fs::remove_file(&own_pickle).ok();
    for (label, net) in [("original", &original.network), ("eiann-rs", &own)] {
        let t0 = std::time::Instant::now();
        let one =
            agreement_over_samples(net, &mnist, &samples, POPULATION, PLASTIC_PRE, 1).unwrap();
        let secs = t0.elapsed().as_secs_f64();
        let two =
            agreement_over_samples(net, &mnist, &samples, POPULATION, PLASTIC_PRE, 2).unwrap();
        assert_eq!(one, two, "{label}: thread count changed the results");
        let mut pooled: Vec<f64> = one.iter().filter_map(|s| s.pooled_r).collect();
        pooled.sort_by(f64::total_cmp);
        let unit: Vec<f64> = one.iter().flat_map(|s| s.unit_r.iter().copied()).collect();
        let q = |v: &[f64], p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
        let mut unit_sorted = unit.clone();
        unit_sorted.sort_by(f64::total_cmp);
        println!(
            "{label}: {} samples in {secs:.1} s; pooled r min {:.3} q10 {:.3} median {:.3} q90 {:.3}; \
             per-unit r (n = {}) q10 {:.3} median {:.3}; fraction of units with r < 0: {:.3}",
            one.len(),
            pooled[0],
            q(&pooled, 0.1),
            q(&pooled, 0.5),
            q(&pooled, 0.9),
            unit.len(),
            q(&unit_sorted, 0.1),
            q(&unit_sorted, 0.5),
            unit.iter().filter(|&&r| r < 0.0).count() as f64 / unit.len() as f64,
        );
        assert_eq!(pooled.len(), samples.len(), "{label}: undefined pooled r");
        assert!(
            q(&pooled, 0.5) > 0.8,
            "{label}: median pooled r {}",
            q(&pooled, 0.5)
        );
    }
}
