//! Spiking-model parity: replays every `fig3*.npz` fixture through the two-unit simulation and checks
//! presynaptic and output spike times (identical), voltages and final eligibility traces (≤ 1e-5) and
//! the rate / spiking ΔW (≤ 1e-6).
//!
//! Fixture folder: `$EIANN_PARITY_DIR` if set, else `tests/fixtures/parity` at the repository root.
//! This replays the *stored* rate activities (isolating the spiking model); `tests/parity.rs` runs the
//! same checks on activities computed by our rate model from the stored weights and sample.

use std::path::{Path, PathBuf};

#[path = "common/fig3_fixture.rs"]
mod fig3_fixture;

use fig3_fixture::check_fig3_fixture;

fn parity_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("EIANN_PARITY_DIR") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/parity")
}

fn fig3_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("fig3") && n.ends_with(".npz"))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn fig3_spiking_arrays_match_the_original() {
    let dir = parity_dir();
    let files = fig3_files(&dir);
    assert!(
        !files.is_empty(),
        "no fig3*.npz fixture in {} (set EIANN_PARITY_DIR)",
        dir.display()
    );
    let mut failed = Vec::new();
    for f in &files {
        let report = check_fig3_fixture(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        print!("{report}");
        failed.extend(
            report
                .failures()
                .into_iter()
                .map(|e| format!("{}: {}", f.display(), e.array)),
        );
    }
    assert!(failed.is_empty(), "outside tolerance: {failed:?}");
}

/// The whole-population run is the same code: its rows at the notebook's units equal the two-unit run,
/// and the agreement statistics / max-rate sweep run on real inputs.
#[test]
fn fig3_population_run_and_agreement_tables() {
    use eiann::npz::Npz;
    use eiann::spiking::stats::{aggregate_agreement, unit_agreement_table, write_csv, LabeledRun};
    use eiann::spiking::sweep::{max_rate_sweep, SweepSpec};
    use eiann::spiking::{simulate_population, SpikingParams};
    use fig3_fixture::Fig3Inputs;

    let dir = parity_dir();
    let files = fig3_files(&dir);
    assert!(!files.is_empty(), "no fig3*.npz in {}", dir.display());
    let params = SpikingParams::default();
    let mut runs = Vec::new();
    for f in &files {
        let file = f.display().to_string();
        let npz = Npz::open(f).expect("fixture");
        let inputs = Fig3Inputs::from_npz(&npz, &file).expect("inputs");
        let two = inputs.simulate(&params).expect("two-unit run");
        let all = simulate_population(&inputs.populations(), Some(&inputs.plasticity()), &params)
            .expect("population run");
        for (k, &u) in inputs.units.iter().enumerate() {
            assert_eq!(two.soma_v.row(k), all.soma_v.row(u), "{file}: unit {u}");
            assert_eq!(two.dend_v.row(k), all.dend_v.row(u), "{file}: unit {u}");
            let (a, b) = (
                two.weight_changes.as_ref().expect("dW"),
                all.weight_changes.as_ref().expect("dW"),
            );
            assert_eq!(a.spiking_dw.row(k), b.spiking_dw.row(u));
        }
        // Output spikes differ: in the population run, units before u⁺ draw from the RNG first.

        let table = unit_agreement_table(&two).expect("table");
        println!("{file}: two-unit agreement\n{table}");
        let sweep = max_rate_sweep(
            &inputs.populations(),
            &inputs.plasticity(),
            &inputs.units,
            &params,
            &SweepSpec {
                rates_hz: vec![50.0, 450.0],
                seeds_per_rate: 3,
                ..SweepSpec::standard()
            },
        )
        .expect("sweep");
        println!(
            "{file}: max-rate sweep (units {:?})\n{}",
            inputs.units,
            sweep.table().expect("table")
        );
        let label = f
            .file_stem()
            .map_or(file.clone(), |s| s.to_string_lossy().into_owned());
        runs.push((label, all));
    }
    let labeled: Vec<LabeledRun<'_>> = runs
        .iter()
        .map(|(label, run)| LabeledRun { label, run })
        .collect();
    let mut agg = aggregate_agreement(&labeled).expect("aggregate");
    println!("whole-population agreement over fixtures\n{agg}");
    let out = std::env::temp_dir().join(format!("eiann-spiking-agg-{}.csv", std::process::id()));
    write_csv(&mut agg, &out).expect("csv");
    let text = std::fs::read_to_string(&out).expect("read csv");
    assert_eq!(text.lines().count(), runs.len() + 2);
    std::fs::remove_file(&out).ok();
}

/// The standard max-rate sweep (12 rates, 24 seeds, both weight-scale rules) on the fixture's
/// network and sample, all active H2E units: what `figure3_population.ipynb` claims about it.
#[test]
fn fig3_max_rate_sweep_claims() {
    use eiann::npz::Npz;
    use eiann::spiking::sweep::{max_rate_sweep, RunStats, SweepSpec, WeightScaleRule};
    use eiann::spiking::{simulate_units, SpikingParams};
    use fig3_fixture::Fig3Inputs;
    let f = parity_dir().join("fig3_seed66049.npz");
    let npz = Npz::open(&f).expect("fixture");
    let inputs = Fig3Inputs::from_npz(&npz, &f.display().to_string()).expect("inputs");
    let params = SpikingParams::default();
    let (pops, plasticity) = (inputs.populations(), inputs.plasticity());
    let active: Vec<usize> = (0..inputs.soma_activity.ncols())
        .filter(|&u| plasticity.gate(u))
        .collect();
    let t0 = std::time::Instant::now();
    let s = max_rate_sweep(&pops, &plasticity, &active, &params, &SweepSpec::standard())
        .expect("sweep");
    println!(
        "standard sweep ({} runs of {} units): {:.2} s",
        s.points.len() * 24,
        active.len(),
        t0.elapsed().as_secs_f64()
    );
    println!("{}", s.table().expect("table"));
    let fixed: Vec<_> = s
        .points
        .iter()
        .filter(|p| p.rule == WeightScaleRule::Fixed)
        .collect();
    let comp: Vec<_> = s
        .points
        .iter()
        .filter(|p| p.rule == WeightScaleRule::RateCompensated)
        .collect();
    for (f, c) in fixed.iter().zip(&comp) {
        // r does not depend on the weight scale (same seeds); the compensated slope stays near 1.
        assert!(
            (f.pooled_r.mean - c.pooled_r.mean).abs() < 1e-4,
            "{f:?} {c:?}"
        );
        assert!(c.slope.mean > 0.5 && c.slope.mean < 2.0, "{c:?}");
        // Theory: within 0.15 everywhere, within 0.05 from 50 Hz up.
        let d = (f.theory.pooled_r - f.pooled_r.mean).abs();
        let tol = if f.max_rate_hz >= 50.0 { 0.05 } else { 0.15 };
        assert!(
            d < tol,
            "{} Hz: theory {} measured {:?}",
            f.max_rate_hz,
            f.theory.pooled_r,
            f.pooled_r
        );
        assert!(
            (f.theory.presynaptic_r - f.presynaptic_r.mean).abs() < 0.04,
            "{f:?}"
        );
    }
    // Below the rate cap the pooled r rises within its intervals (no step down beyond them).
    for w in fixed.windows(2).filter(|w| w[1].max_rate_hz <= 600.0) {
        assert!(
            w[1].pooled_r.hi >= w[0].pooled_r.lo,
            "{:?} -> {:?}",
            w[0],
            w[1]
        );
    }
    // The old design (seeds 42, 43, 44 at every rate): its 50 Hz runs have a low dendritic factor.
    let a_last = inputs.presynaptic[0].1.row(20);
    let d_last = inputs.dendritic_state.row(20);
    for seed in [42u32, 43, 44] {
        let p = SpikingParams {
            max_rate_hz: 50.0,
            seed,
            ..params.clone()
        };
        let run = simulate_units(&pops, Some(&plasticity), &active, &p).expect("run");
        let st = RunStats::of_run(&run, a_last, d_last).expect("stats");
        println!("50 Hz, seed {seed}: {st:?}");
        assert!(
            st.presynaptic_r.unwrap() > 0.7 && st.dendritic_r.unwrap() < 0.6,
            "{st:?}"
        );
    }
}
