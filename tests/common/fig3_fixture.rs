//! Test support (shared by `tests/spiking_parity.rs`, `tests/parity.rs` and `benches/spiking.rs`):
//! replays a `fig3*.npz` parity fixture through the two-unit simulation and measures the difference of
//! every spiking array against its tolerance.
#![allow(dead_code)] // each including target uses a part

use std::path::Path;

use eiann::figure3::params::{self, BEFORE_NUDGE_ROW, CONFIG, PLASTIC_PRE, POPULATION};
use eiann::npz::Npz;
use eiann::spiking::{
    simulate_units, DtpPlasticity, PresynapticPopulation, SpikingInput, SpikingParams, SpikingRun,
};
use eiann::{Error, NetworkSpec, Result};
use ndarray::{Array1, Array2, ArrayD, Ix1, Ix2};

/// The spiking inputs of the figure's population, read from the Figure 3 config (the fixtures store
/// one array per presynaptic population, named after it).
pub fn figure_inputs() -> Result<Vec<SpikingInput>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let spec = NetworkSpec::from_file(root.join(CONFIG))?;
    params::inputs(&spec, POPULATION)
}

/// The inputs of the figure-3 spiking cells as stored in a `fig3*.npz` fixture (owned arrays).
#[derive(Debug, Clone)]
pub struct Fig3Inputs {
    /// `(input, cropped activity (21, n), weight H2E_<name> (500, n))` in projection order.
    pub presynaptic: Vec<(SpikingInput, Array2<f32>, Array2<f32>)>,
    /// Cropped H2E activity `(21, 500)` (`activity_dynamics_cropped/H2E`).
    pub soma_activity: Array2<f32>,
    /// Cropped H2E dendritic state `(21, 500)` (`dendritic_state_H2E_cropped`).
    pub dendritic_state: Array2<f32>,
    /// `learning_rate_H2E_H1E`.
    pub learning_rate: f64,
    /// `[positive_unit_idx, negative_unit_idx]`.
    pub units: [usize; 2],
}

fn dim2(a: ArrayD<f32>, file: &str, key: &str) -> Result<Array2<f32>> {
    a.into_dimensionality::<Ix2>().map_err(|e| Error::Npz {
        file: file.to_string(),
        message: format!("array \"{key}\" is not 2-D: {e}"),
    })
}

fn dim1<T>(a: ArrayD<T>, file: &str, key: &str) -> Result<Array1<T>> {
    a.into_dimensionality::<Ix1>().map_err(|e| Error::Npz {
        file: file.to_string(),
        message: format!("array \"{key}\" is not 1-D: {e}"),
    })
}

fn unit_index(npz: &Npz, key: &str) -> Result<usize> {
    let v = npz.scalar_i64(key)?;
    usize::try_from(v).map_err(|_| Error::invalid(key, format!("negative unit index {v}")))
}

impl Fig3Inputs {
    /// Read the inputs from an opened fixture.
    pub fn from_npz(npz: &Npz, file: &str) -> Result<Fig3Inputs> {
        let mut presynaptic = Vec::new();
        for input in figure_inputs()? {
            let akey = format!("activity_dynamics_cropped/{}", input.pre);
            let wkey = format!("weight/{}", input.projection);
            presynaptic.push((
                input,
                dim2(npz.f32(&akey)?, file, &akey)?,
                dim2(npz.f32(&wkey)?, file, &wkey)?,
            ));
        }
        Ok(Fig3Inputs {
            presynaptic,
            soma_activity: dim2(
                npz.f32("activity_dynamics_cropped/H2E")?,
                file,
                "activity_dynamics_cropped/H2E",
            )?,
            dendritic_state: dim2(
                npz.f32("dendritic_state_H2E_cropped")?,
                file,
                "dendritic_state_H2E_cropped",
            )?,
            learning_rate: f64::from(npz.scalar_f32("learning_rate_H2E_H1E")?),
            units: [
                unit_index(npz, "positive_unit_idx")?,
                unit_index(npz, "negative_unit_idx")?,
            ],
        })
    }

    /// Borrowed views in the simulation's input form.
    pub fn populations(&self) -> Vec<PresynapticPopulation<'_>> {
        self.presynaptic
            .iter()
            .map(|(input, a, w)| PresynapticPopulation {
                name: &input.pre,
                activity: a.view(),
                weight: w.view(),
                recurrent: input.recurrent,
                compartment: input.compartment,
            })
            .collect()
    }

    /// The H2E ← H1E plasticity inputs.
    pub fn plasticity(&self) -> DtpPlasticity<'_> {
        DtpPlasticity {
            pre: PLASTIC_PRE,
            soma_activity: self.soma_activity.view(),
            dendritic_state: self.dendritic_state.view(),
            learning_rate: self.learning_rate,
            before_nudge_row: BEFORE_NUDGE_ROW,
        }
    }

    /// Run the notebook's two-unit simulation on these inputs.
    pub fn simulate(&self, params: &SpikingParams) -> Result<SpikingRun> {
        simulate_units(
            &self.populations(),
            Some(&self.plasticity()),
            &self.units,
            params,
        )
    }
}

/// One compared array.
#[derive(Debug, Clone, PartialEq)]
pub struct ParityEntry {
    /// Fixture key (or key group, e.g. `spike/pre_spike_times/H1E`).
    pub array: String,
    /// Max |Rust − fixture|; for spike times `0` if identical, `∞` if any count differs.
    pub max_abs_diff: f64,
    /// Largest accepted difference.
    pub tolerance: f64,
}

impl ParityEntry {
    /// Whether the difference is within tolerance.
    pub fn passed(&self) -> bool {
        self.max_abs_diff <= self.tolerance
    }
}

/// The comparison of one fixture file.
#[derive(Debug, Clone)]
pub struct ParityReport {
    /// The fixture file.
    pub file: String,
    /// Every compared array.
    pub entries: Vec<ParityEntry>,
}

impl ParityReport {
    /// Entries outside tolerance.
    pub fn failures(&self) -> Vec<&ParityEntry> {
        self.entries.iter().filter(|e| !e.passed()).collect()
    }
}

impl std::fmt::Display for ParityReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}", self.file)?;
        for e in &self.entries {
            writeln!(
                f,
                "  {:<40} max|diff| = {:<12e} (tol {:e}) {}",
                e.array,
                e.max_abs_diff,
                e.tolerance,
                if e.passed() { "ok" } else { "FAIL" }
            )?;
        }
        Ok(())
    }
}

/// Tolerance for voltages and traces (spec: ≤ 1e-5; currents use a different summation order).
pub const VOLTAGE_TOLERANCE: f64 = 1e-5;
/// Tolerance for ΔW arrays.
pub const DW_TOLERANCE: f64 = 1e-6;

fn max_abs_diff<'a>(
    a: impl IntoIterator<Item = &'a f32>,
    b: impl IntoIterator<Item = &'a f32>,
) -> f64 {
    a.into_iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).abs())
        .fold(0.0, f64::max)
}

fn spike_diff(got: &[i64], expected: &[i64]) -> f64 {
    if got.len() != expected.len() {
        return f64::INFINITY;
    }
    got.iter()
        .zip(expected)
        .map(|(a, b)| (a - b).abs() as f64)
        .fold(0.0, f64::max)
}

/// Compare a finished two-unit run with the fixture's spiking arrays.
pub fn compare_run(npz: &Npz, file: &str, run: &SpikingRun) -> Result<ParityReport> {
    let mut entries = Vec::new();
    let mut push = |array: String, max_abs_diff: f64, tolerance: f64| {
        entries.push(ParityEntry {
            array,
            max_abs_diff,
            tolerance,
        })
    };
    let inputs = figure_inputs()?;
    for name in inputs.iter().map(|i| &i.pre) {
        let flat_key = format!("spike/pre_spike_times_flat/{name}");
        let flat = dim1(npz.i64(&flat_key)?, file, &flat_key)?;
        let count_key = format!("spike/pre_spike_counts/{name}");
        let counts = dim1(npz.i64(&count_key)?, file, &count_key)?;
        let pop = run.population(name)?;
        let mut diff = if counts.len() == pop.n_neurons() {
            0.0
        } else {
            f64::INFINITY
        };
        let mut offset = 0usize;
        for (times, &c) in pop.spike_times.iter().zip(counts.iter()) {
            let c = usize::try_from(c).unwrap_or(usize::MAX);
            let expected = flat
                .as_slice()
                .and_then(|s| s.get(offset..offset.saturating_add(c)));
            diff = match expected {
                Some(e) => diff.max(spike_diff(times, e)),
                None => f64::INFINITY,
            };
            offset = offset.saturating_add(c);
        }
        push(format!("spike/pre_spike_times/{name}"), diff, 0.0);
    }
    let soma = dim2(npz.f32("spike/soma_v")?, file, "spike/soma_v")?;
    let dend = dim2(npz.f32("spike/dend_v")?, file, "spike/dend_v")?;
    let shape_ok = soma.dim() == run.soma_v.dim() && dend.dim() == run.dend_v.dim();
    let inf_unless = |ok: bool, v: f64| if ok { v } else { f64::INFINITY };
    push(
        "spike/soma_v".into(),
        inf_unless(shape_ok, max_abs_diff(&run.soma_v, &soma)),
        VOLTAGE_TOLERANCE,
    );
    push(
        "spike/dend_v".into(),
        inf_unless(shape_ok, max_abs_diff(&run.dend_v, &dend)),
        VOLTAGE_TOLERANCE,
    );
    for name in inputs.iter().map(|i| &i.pre) {
        let key = format!("spike/ET_final/{name}");
        let expected = dim1(npz.f32(&key)?, file, &key)?;
        let got = run.final_eligibility(name)?;
        push(
            key,
            inf_unless(got.len() == expected.len(), max_abs_diff(got, &expected)),
            VOLTAGE_TOLERANCE,
        );
    }
    for (k, sign) in ["positive", "negative"].into_iter().enumerate() {
        let key = format!("spike/soma_spikes_{sign}");
        let expected = dim1(npz.i64(&key)?, file, &key)?.to_vec();
        push(key, spike_diff(&run.output_spikes[k], &expected), 0.0);
    }
    let dw = run
        .weight_changes
        .as_ref()
        .ok_or_else(|| Error::invalid("spiking run", "was simulated without plasticity inputs"))?;
    for (k, sign) in ["positive", "negative"].into_iter().enumerate() {
        for (kind, got) in [("rate_dW", &dw.rate_dw), ("spiking_dW", &dw.spiking_dw)] {
            let key = format!("{kind}/{sign}_unit");
            let expected = dim1(npz.f32(&key)?, file, &key)?;
            let row = got.row(k);
            push(
                key,
                inf_unless(row.len() == expected.len(), max_abs_diff(row, &expected)),
                DW_TOLERANCE,
            );
        }
    }
    Ok(ParityReport {
        file: file.to_string(),
        entries,
    })
}

/// Load a `fig3*.npz` fixture, run the two-unit simulation with the notebook's parameters and compare
/// every spiking array (presynaptic spike times, voltages, final eligibility traces, output spikes,
/// rate and spiking ΔW).
pub fn check_fig3_fixture(path: impl AsRef<Path>) -> Result<ParityReport> {
    let path = path.as_ref();
    let file = path.display().to_string();
    let npz = Npz::open(path)?;
    let inputs = Fig3Inputs::from_npz(&npz, &file)?;
    let run = inputs.simulate(&SpikingParams::default())?;
    compare_run(&npz, &file, &run)
}
