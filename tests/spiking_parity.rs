//! Spiking-model parity: replays every `fig3*.npz` fixture through the two-unit simulation and checks
//! presynaptic and output spike times (identical), voltages and final eligibility traces (≤ 1e-5) and
//! the rate / spiking ΔW (≤ 1e-6).
//!
//! Fixture folder: `$EIANN_PARITY_DIR` if set, else `tests/fixtures/parity` at the repository root.
//! This replays the *stored* rate activities (isolating the spiking model); `tests/parity.rs` runs the
//! same checks on activities computed by our rate model from the stored weights and sample.

use std::path::{Path, PathBuf};

use eiann::spiking::fixture::check_fig3_fixture;

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
    use eiann::spiking::fixture::Fig3Inputs;
    use eiann::spiking::stats::{
        aggregate_agreement, max_rate_sweep, unit_agreement_table, write_csv, LabeledRun,
    };
    use eiann::spiking::{simulate_population, SpikingParams};

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
            &[50.0, 100.0, 200.0, 450.0, 1000.0],
            &[42, 43, 44],
        )
        .expect("sweep");
        println!("{file}: max-rate sweep (units {:?})\n{sweep}", inputs.units);
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
