//! The Figure 3 pipeline end to end, for the notebooks: pick a checkpoint and its sample, compute the
//! dendritic-state dynamics, choose the example units, run the spiking model, and fill each panel's input.
//!
//! ```no_run
//! # fn main() -> eiann::Result<()> {
//! use eiann::figure3::Figure3;
//! let mnist = eiann::data::Mnist::load(std::path::Path::new("data/datasets/MNIST/raw"))?;
//! let fig = Figure3::original(std::path::Path::new("."), &mnist)?; // the published network, units 88/51
//! let panel = eiann::figures::rate_dynamics_example(&fig.rate_panel(), None)?;
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};

use ndarray::Array2;

use crate::config::Rule;
use crate::data::Mnist;
use crate::error::{Error, Result};
use crate::figures::{
    first_active_rows_reversed, DendriticComparisonPanel, EligibilityTracePanel, RateDynamicsPanel,
    SpikingPanel,
};
use crate::network::Network;
use crate::run::{load_saved, train_run, RunSpec, SavedNetwork, FIGURE3_CONFIG, REFERENCE_STATE};
use crate::series::{example_units, DendriteSeries, DynamicsSeries, BEFORE_NUDGE_ROW, FIGURE_CROP};
use crate::spiking::population::{Compartment, PresynapticPopulation, H2E_INPUTS};
use crate::spiking::upsample::zoom_linear_1d;
use crate::spiking::{
    simulate_population, simulate_units, DtpPlasticity, SpikingParams, SpikingRun,
};

/// The population whose units the figure shows.
pub const POPULATION: &str = "H2E";
/// The published example units (positive, negative) of the original network.
pub const PUBLISHED_UNITS: (usize, usize) = (88, 51);
/// The checkpoint the notebook loads (`param_history[30]`, train step 2999).
pub const CHECKPOINT_STEP: usize = 2999;

/// One presynaptic population of H2E: name, cropped rates (21 × n), weight H2E ← pop (500 × n),
/// recurrent?, target compartment.
type Presynaptic = (String, Array2<f32>, Array2<f32>, bool, Compartment);

/// Everything the Figure 3 panels are drawn from, for one network and one sample.
#[derive(Debug, Clone)]
pub struct Figure3 {
    /// Where the weights come from (for titles and messages).
    pub source: String,
    /// Training step of the weights (the sample trained at that step is the one shown).
    pub train_step: usize,
    /// MNIST training-file index of the sample.
    pub sample_index: usize,
    /// The network with the checkpoint's weights (state after the figure's forward + backward pass).
    pub network: Network,
    /// The 30-step series of every population.
    pub series: DynamicsSeries,
    /// H2E dendritic state, cropped (21 × 500): the notebook's `dendritic_state`.
    pub dendritic_state: Array2<f32>,
    /// H2E activity, cropped (21 × 500): the notebook's `soma_activity`.
    pub soma_activity: Array2<f32>,
    /// Example units (positive, negative).
    pub units: (usize, usize),
    /// Learning rate of the H2E ← H1E projection (BP_like_2L).
    pub learning_rate: f64,
}

impl Figure3 {
    /// Figure data for `network` on MNIST training image `sample_index` (trained at `train_step`).
    /// `units = None` picks the example units by the automatic rule ([`example_units`]).
    pub fn from_network(
        source: impl Into<String>,
        mut network: Network,
        mnist: &Mnist,
        train_step: usize,
        sample_index: usize,
        units: Option<(usize, usize)>,
    ) -> Result<Figure3> {
        let split = mnist.full_dataset();
        if sample_index >= split.len() {
            return Err(Error::invalid(
                "sample index",
                format!("{sample_index} is not in the 50,000 training images"),
            ));
        }
        let x = split.image(sample_index).to_vec();
        let t = split.target(sample_index);
        let series = DynamicsSeries::compute(&mut network, &x, &t, DendriteSeries::Figure)?;
        let dendritic_state = series.dendrite_crop(POPULATION, FIGURE_CROP)?;
        let soma_activity = series.activity_crop(POPULATION, FIGURE_CROP)?;
        let units = match units {
            Some(u) => u,
            None => example_units(dendritic_state.view(), soma_activity.view())?,
        };
        let n = dendritic_state.ncols();
        if units.0 >= n || units.1 >= n {
            return Err(Error::invalid(
                "example units",
                format!("{units:?} out of range for {n} units"),
            ));
        }
        let spec = network.spec();
        let learning_rate = match spec.projections[spec.projection_index("H2E_H1E")?].rule {
            Rule::BpLike2L(r) => r.learning_rate,
            _ => return Err(Error::invalid("H2E_H1E", "has no BP_like_2L rule")),
        };
        Ok(Figure3 {
            source: source.into(),
            train_step,
            sample_index,
            network,
            series,
            dendritic_state,
            soma_activity,
            units,
            learning_rate,
        })
    }

    /// The published figure: the original PyTorch network's checkpoint 30 ([`REFERENCE_STATE`] under
    /// `repo_root`), its sample (MNIST training image 30702) and units 88 / 51.
    pub fn original(repo_root: &Path, mnist: &Mnist) -> Result<Figure3> {
        let saved = load_saved(
            &repo_root.join(REFERENCE_STATE),
            Some(&repo_root.join(FIGURE3_CONFIG)),
        )?;
        Self::from_saved(
            "original PyTorch EIANN (checkpoint 30)",
            &saved,
            mnist,
            CHECKPOINT_STEP,
            Some(PUBLISHED_UNITS),
        )
    }

    /// Figure data from a saved network (pickle or state file) at `train_step`, on the sample trained at
    /// that step.
    pub fn from_saved(
        source: &str,
        saved: &SavedNetwork,
        mnist: &Mnist,
        train_step: usize,
        units: Option<(usize, usize)>,
    ) -> Result<Figure3> {
        let (network, _) = saved.network_at(Some(train_step))?;
        let sample = saved.sample_at_step(train_step).ok_or_else(|| {
            Error::invalid(
                "checkpoint",
                format!("records no sample for step {train_step}"),
            )
        })?;
        Self::from_network(source, network, mnist, train_step, sample, units)
    }

    /// Our own training run with the notebook's seeds (66049 / 257, 3,000 steps, checkpoints every 100):
    /// loaded from `pickle` when it exists, else trained (a few seconds) and saved there. Example units by
    /// the automatic rule.
    pub fn own_run(repo_root: &Path, pickle: &Path, mnist: &Mnist) -> Result<Figure3> {
        if !pickle.exists() {
            let out = train_run(
                &RunSpec::figure3(repo_root.join(FIGURE3_CONFIG)),
                mnist,
                &mut |_| {},
            )?;
            out.checkpoint.save(pickle)?;
        }
        let saved = load_saved(pickle, None)?;
        Self::from_saved(
            "eiann-rs training run (seeds 66049/257)",
            &saved,
            mnist,
            CHECKPOINT_STEP,
            None,
        )
    }

    /// EIANN's default pickle location for the Figure 3 run under `repo_root`.
    pub fn default_pickle(repo_root: &Path) -> PathBuf {
        crate::checkpoint::default_checkpoint_path(
            repo_root,
            "20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized",
            66049,
            257,
        )
    }

    /// Dendritic state of `unit` at the last cropped row (backward step 9).
    pub fn final_dendritic_state(&self, unit: usize) -> f32 {
        self.dendritic_state[[self.dendritic_state.nrows() - 1, unit]]
    }

    /// Input of panel 1 (`rate_dynamics_example_H2E`).
    pub fn rate_panel(&self) -> RateDynamicsPanel<'_> {
        RateDynamicsPanel::new(
            self.dendritic_state.view(),
            self.soma_activity.view(),
            self.units,
        )
    }

    /// The presynaptic populations of H2E with their cropped rates and weights, in the notebook's order.
    fn presynaptic(&self) -> Result<Vec<Presynaptic>> {
        H2E_INPUTS
            .iter()
            .map(|&(name, compartment, recurrent)| {
                Ok((
                    name.to_string(),
                    self.series.activity_crop(name, FIGURE_CROP)?,
                    self.network.weight(&format!("{POPULATION}_{name}"))?,
                    recurrent,
                    compartment,
                ))
            })
            .collect()
    }

    #[cfg(feature = "tables")]
    /// Agreement of spiking and rate ΔW as the maximum firing rate varies (see
    /// [`crate::spiking::stats::max_rate_sweep`]), for `units` (default: the two example units).
    pub fn max_rate_sweep(
        &self,
        rates_hz: &[f64],
        seeds: &[u32],
        units: Option<&[usize]>,
    ) -> Result<polars::prelude::DataFrame> {
        let pre = self.presynaptic()?;
        let pops = Self::populations(&pre);
        let plasticity = self.plasticity();
        let example = [self.units.0, self.units.1];
        crate::spiking::stats::max_rate_sweep(
            &pops,
            &plasticity,
            units.unwrap_or(&example),
            &SpikingParams::default(),
            rates_hz,
            seeds,
        )
    }

    fn plasticity(&self) -> DtpPlasticity<'_> {
        DtpPlasticity {
            pre: "H1E",
            soma_activity: self.soma_activity.view(),
            dendritic_state: self.dendritic_state.view(),
            learning_rate: self.learning_rate,
            before_nudge_row: BEFORE_NUDGE_ROW,
        }
    }

    fn populations(pre: &[Presynaptic]) -> Vec<PresynapticPopulation<'_>> {
        pre.iter()
            .map(
                |(name, a, w, recurrent, compartment)| PresynapticPopulation {
                    name,
                    activity: a.view(),
                    weight: w.view(),
                    recurrent: *recurrent,
                    compartment: *compartment,
                },
            )
            .collect()
    }

    fn simulate(&self, params: &SpikingParams, units: Option<&[usize]>) -> Result<SpikingRun> {
        let pre = self.presynaptic()?;
        let pops = Self::populations(&pre);
        let plasticity = self.plasticity();
        match units {
            Some(u) => simulate_units(&pops, Some(&plasticity), u, params),
            None => simulate_population(&pops, Some(&plasticity), params),
        }
    }

    /// The notebook's spiking simulation of the two example units (NumPy seed 42 by default).
    pub fn simulate_example_units(&self, params: &SpikingParams) -> Result<SpikingRun> {
        self.simulate(params, Some(&[self.units.0, self.units.1]))
    }

    /// The same equations for all 500 H2E units at once.
    pub fn simulate_all_units(&self, params: &SpikingParams) -> Result<SpikingRun> {
        self.simulate(params, None)
    }

    /// Input of panel 2 (`spiking_dynamics_H2E`) from a two-unit run.
    pub fn spiking_panel(&self, run: &SpikingRun) -> Result<SpikingPanel> {
        let wc = run
            .weight_changes
            .as_ref()
            .ok_or_else(|| Error::invalid("spiking run", "holds no weight changes"))?;
        if run.units.len() != 2 || wc.rate_dw.nrows() != 2 {
            return Err(Error::invalid(
                "spiking run",
                "the panel needs a run of exactly the two example units",
            ));
        }
        let h1e = run.population("H1E")?;
        let rows = first_active_rows_reversed(&h1e.spike_times, 10);
        let et = run.eligibility("H1E")?;
        let first10 = |name: &str| -> Result<Vec<Vec<i64>>> {
            Ok(run
                .population(name)?
                .spike_times
                .iter()
                .take(10)
                .cloned()
                .collect())
        };
        let row = |a: &Array2<f32>, i: usize| a.row(i).to_vec();
        let mut panel = SpikingPanel::new();
        panel.dend_exc_spikes = first10("OutputE")?;
        panel.dend_inh_spikes = first10("H2DendI")?;
        panel.soma_exc_spikes = rows.iter().map(|&j| h1e.spike_times[j].clone()).collect();
        panel.soma_inh_spikes = first10("H2SomaI")?;
        panel.eligibility_traces = rows.iter().map(|&j| et.column(j).to_vec()).collect();
        panel.dend_v = [row(&run.dend_v, 0), row(&run.dend_v, 1)];
        panel.soma_v = [row(&run.soma_v, 0), row(&run.soma_v, 1)];
        panel.soma_spikes = [run.output_spikes[0].clone(), run.output_spikes[1].clone()];
        panel.rate_dw = [row(&wc.rate_dw, 0), row(&wc.rate_dw, 1)];
        panel.spiking_dw = [row(&wc.spiking_dw, 0), row(&wc.spiking_dw, 1)];
        Ok(panel)
    }

    /// Input of panel 3: rate-model dendritic state upsampled ×20 vs the spiking dendrite potential.
    pub fn dendrite_comparison_panel(&self, run: &SpikingRun) -> Result<DendriticComparisonPanel> {
        let c = SpikingParams::default().ms_per_rate_step;
        let up = |u: usize| zoom_linear_1d(&self.dendritic_state.column(u).to_vec(), c);
        Ok(DendriticComparisonPanel {
            rate: [up(self.units.0)?, up(self.units.1)?],
            spiking: [run.dend_v.row(0).to_vec(), run.dend_v.row(1).to_vec()],
            population: POPULATION.to_string(),
        })
    }

    /// Input of panels 4–5: H1E unit `unit`'s upsampled rate and its eligibility trace.
    pub fn eligibility_panel(
        &self,
        run: &SpikingRun,
        unit: usize,
    ) -> Result<EligibilityTracePanel> {
        let a = self.series.activity_crop("H1E", FIGURE_CROP)?;
        if unit >= a.ncols() {
            return Err(Error::invalid(
                "H1E unit",
                format!("{unit} out of range for {} units", a.ncols()),
            ));
        }
        let c = SpikingParams::default().ms_per_rate_step;
        Ok(EligibilityTracePanel {
            unit,
            pre_rate: zoom_linear_1d(&a.column(unit).to_vec(), c)?,
            trace: run.eligibility("H1E")?.column(unit).to_vec(),
            population: "H1E".to_string(),
        })
    }
}

/// Rate and spiking ΔW of every gated unit of a run, concatenated (for pooled scatter plots).
pub fn pooled_dw(run: &SpikingRun) -> Result<(Vec<f32>, Vec<f32>)> {
    let wc = run
        .weight_changes
        .as_ref()
        .ok_or_else(|| Error::invalid("spiking run", "holds no weight changes"))?;
    let (mut rate, mut spiking) = (Vec::new(), Vec::new());
    for (u, &g) in wc.gate.iter().enumerate() {
        if g {
            rate.extend(wc.rate_dw.row(u).iter().copied());
            spiking.extend(wc.spiking_dw.row(u).iter().copied());
        }
    }
    Ok((rate, spiking))
}

/// Pearson r of spiking vs rate ΔW for every gated unit of a run (units with undefined r are skipped).
pub fn unit_pearson_r(run: &SpikingRun) -> Result<Vec<f32>> {
    let wc = run
        .weight_changes
        .as_ref()
        .ok_or_else(|| Error::invalid("spiking run", "holds no weight changes"))?;
    let mut out = Vec::new();
    for (u, &g) in wc.gate.iter().enumerate() {
        if g {
            let a = crate::spiking::stats::agreement(
                &wc.rate_dw.row(u).to_vec(),
                &wc.spiking_dw.row(u).to_vec(),
            )?;
            if let Some(r) = a.pearson_r {
                out.push(r as f32);
            }
        }
    }
    Ok(out)
}

#[cfg(feature = "tables")]
/// A float column of a table as plain values (nulls become NaN), e.g. to plot a sweep.
pub fn column_values(df: &polars::prelude::DataFrame, name: &str) -> Result<Vec<f32>> {
    let col = df.column(name).map_err(|e| Error::UnknownName {
        kind: "table column",
        name: name.to_string(),
        hint: format!("; {e}"),
    })?;
    let ca = col
        .cast(&polars::prelude::DataType::Float64)
        .map_err(|e| Error::invalid(format!("column {name}"), e.to_string()))?;
    let ca = ca
        .f64()
        .map_err(|e| Error::invalid(format!("column {name}"), e.to_string()))?;
    Ok((0..ca.len())
        .map(|i| ca.get(i).map_or(f32::NAN, |x| x as f32))
        .collect())
}
