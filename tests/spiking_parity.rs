//! Spiking-model parity: replays every `fig3*.npz` fixture through the two-unit simulation and checks
//! presynaptic and output spike times (identical), voltages and final eligibility traces (≤ 1e-5) and
//! the rate / spiking ΔW (≤ 1e-6).
//!
//! Fixture folder: `$EIANN_PARITY_DIR` if set; else `tests/fixtures/parity` at the repository root if it
//! holds a `fig3*.npz`; else `/work/shared/fixtures/parity`.

use std::path::{Path, PathBuf};

use eiann::spiking::fixture::check_fig3_fixture;

fn parity_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("EIANN_PARITY_DIR") {
        return PathBuf::from(dir);
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let local = repo.join("tests/fixtures/parity");
    if !fig3_files(&local).is_empty() {
        return local;
    }
    PathBuf::from("/work/shared/fixtures/parity")
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
