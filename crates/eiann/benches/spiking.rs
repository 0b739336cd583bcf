//! Criterion benches of the spiking model on the figure-3 inputs (`fig3_seed66049.npz`: the notebook's
//! network, sample and units): presynaptic spike generation alone, the notebook's two-unit simulation,
//! and the whole H2E population (500 units) — both simulations include spike generation.
//!
//! Fixture folder: `$EIANN_PARITY_DIR`, else `tests/fixtures/parity`, else `/work/shared/fixtures/parity`.

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion};

#[path = "../../../tests/common/fig3_fixture.rs"]
mod fig3_fixture;
use eiann::npz::Npz;
use eiann::spiking::{
    generate_presynaptic_spikes, simulate_population, NumpyRandomState, SpikingParams,
};
use fig3_fixture::Fig3Inputs;

fn fixture_path() -> PathBuf {
    let name = "fig3_seed66049.npz";
    if let Some(dir) = std::env::var_os("EIANN_PARITY_DIR") {
        return PathBuf::from(dir).join(name);
    }
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/parity");
    if local.join(name).exists() {
        return local.join(name);
    }
    PathBuf::from("/work/shared/fixtures/parity").join(name)
}

fn bench(c: &mut Criterion) {
    let path = fixture_path();
    let npz = Npz::open(&path).expect("fig3 fixture");
    let inputs = Fig3Inputs::from_npz(&npz, &path.display().to_string()).expect("fig3 inputs");
    let params = SpikingParams::default();
    let pops = inputs.populations();
    let plasticity = inputs.plasticity();

    let mut g = c.benchmark_group("spiking_fig3_h2e");
    g.sample_size(30);
    g.bench_function("spike_generation", |b| {
        b.iter(|| {
            let mut rng = NumpyRandomState::new(params.seed);
            generate_presynaptic_spikes(&pops, &params, &mut rng).expect("spikes")
        })
    });
    g.bench_function("two_units", |b| {
        b.iter(|| inputs.simulate(&params).expect("two-unit run"))
    });
    g.bench_function("whole_population_500", |b| {
        b.iter(|| simulate_population(&pops, Some(&plasticity), &params).expect("population run"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
