//! The Figure 3 pipeline end to end, for the notebooks: pick a checkpoint and its sample, compute the
//! dendritic-state dynamics, choose the example units, run the spiking model, and fill each panel's input.
//!
//! ```no_run
//! # fn main() -> eiann::Result<()> {
//! use eiann::figure3::Figure3;
//! let mnist = eiann::data::Mnist::load(std::path::Path::new("data/datasets/MNIST/raw"))?;
//! let fig = Figure3::original(std::path::Path::new("."), &mnist)?; // the published network, units 88/51
//! let panel = fig.rate_panel(); // owned data; `eiann_plot::rate_dynamics_example` draws it
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};

use ndarray::Array2;

use crate::config::Rule;
use crate::data::Mnist;
use crate::error::{Error, Result};
use crate::network::Network;
use crate::panels::{
    first_active_rows_reversed, DendriticComparisonPanel, EligibilityTracePanel, RateDynamicsPanel,
    SpikingPanel,
};
use crate::run::{load_saved, train_run, RunSpec, SavedNetwork};
use crate::series::{example_units, DendriteSeries, DynamicsSeries};
use crate::spiking::population::{Compartment, PresynapticPopulation};
use crate::spiking::upsample::zoom_linear_1d;
use crate::spiking::{
    simulate_population, simulate_units, DtpPlasticity, SpikingParams, SpikingRun,
};

pub mod params;

use params::{
    BEFORE_NUDGE_ROW, CONFIG, CONFIG_NAME, CROP, DATA_SEED, MS_PER_RATE_STEP, NETWORK_SEED,
    PLASTIC_PRE, REFERENCE_STATE,
};
pub use params::{CHECKPOINT_STEP, POPULATION, PUBLISHED_UNITS};

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
        let dendritic_state = series.dendrite_crop(POPULATION, CROP)?;
        let soma_activity = series.activity_crop(POPULATION, CROP)?;
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
        let plastic = format!("{POPULATION}_{PLASTIC_PRE}");
        let learning_rate = match spec.projections[spec.projection_index(&plastic)?].rule {
            Rule::BpLike2L(r) => r.learning_rate,
            _ => return Err(Error::invalid(plastic, "has no BP_like_2L rule")),
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
            Some(&repo_root.join(CONFIG)),
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
                &RunSpec::figure3(repo_root.join(CONFIG)),
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
        crate::checkpoint::default_checkpoint_path(repo_root, CONFIG_NAME, NETWORK_SEED, DATA_SEED)
    }

    /// Dendritic state of `unit` at the last cropped row (backward step 9).
    pub fn final_dendritic_state(&self, unit: usize) -> f32 {
        self.dendritic_state[[self.dendritic_state.nrows() - 1, unit]]
    }

    /// Input of panel 1 (`rate_dynamics_example_H2E`).
    pub fn rate_panel(&self) -> RateDynamicsPanel {
        RateDynamicsPanel::new(
            self.dendritic_state.clone(),
            self.soma_activity.clone(),
            self.units,
        )
    }

    /// The spiking parameters of [`POPULATION`], derived from this network's config
    /// ([`params::spiking_params`]; the notebook's values for the Figure 3 config).
    pub fn spiking_params(&self) -> Result<SpikingParams> {
        params::spiking_params(self.network.spec(), POPULATION)
    }

    /// The presynaptic populations of [`POPULATION`] (every projection onto it, read from the config)
    /// with their cropped rates and weights, in projection order.
    fn presynaptic(&self) -> Result<Vec<Presynaptic>> {
        params::inputs(self.network.spec(), POPULATION)?
            .into_iter()
            .map(|input| {
                Ok((
                    input.pre.clone(),
                    self.series.activity_crop(&input.pre, CROP)?,
                    self.network.weight(&input.projection)?,
                    input.recurrent,
                    input.compartment,
                ))
            })
            .collect()
    }

    /// The max-rate sweep of the spiking-vs-rate agreement ([`crate::spiking::sweep::max_rate_sweep`])
    /// for `units` (default: every unit active before the nudge), from the default spiking parameters.
    pub fn max_rate_sweep(
        &self,
        spec: &crate::spiking::sweep::SweepSpec,
        units: Option<&[usize]>,
    ) -> Result<crate::spiking::sweep::Sweep> {
        let pre = self.presynaptic()?;
        let pops = Self::populations(&pre);
        let plasticity = self.plasticity();
        let active = self.active_units();
        crate::spiking::sweep::max_rate_sweep(
            &pops,
            &plasticity,
            units.unwrap_or(&active),
            &self.spiking_params()?,
            spec,
        )
    }

    /// The H2E units active before the nudge (the learning gate is open).
    pub fn active_units(&self) -> Vec<usize> {
        (0..self.soma_activity.ncols())
            .filter(|&u| self.soma_activity[[BEFORE_NUDGE_ROW, u]] > 0.0)
            .collect()
    }

    fn plasticity(&self) -> DtpPlasticity<'_> {
        DtpPlasticity {
            pre: PLASTIC_PRE,
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

    /// The same equations for the given units of [`POPULATION`].
    pub fn simulate_units(&self, params: &SpikingParams, units: &[usize]) -> Result<SpikingRun> {
        self.simulate(params, Some(units))
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
        let h1e = run.population(PLASTIC_PRE)?;
        let rows = first_active_rows_reversed(&h1e.spike_times, 10);
        let et = run.eligibility(PLASTIC_PRE)?;
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
        let c = MS_PER_RATE_STEP;
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
        let a = self.series.activity_crop(PLASTIC_PRE, CROP)?;
        if unit >= a.ncols() {
            return Err(Error::invalid(
                "H1E unit",
                format!("{unit} out of range for {} units", a.ncols()),
            ));
        }
        let c = MS_PER_RATE_STEP;
        Ok(EligibilityTracePanel {
            unit,
            pre_rate: zoom_linear_1d(&a.column(unit).to_vec(), c)?,
            trace: run.eligibility(PLASTIC_PRE)?.column(unit).to_vec(),
            population: PLASTIC_PRE.to_string(),
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

/// The spiking-vs-rate agreement of one sample's whole-population run.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleAgreement {
    /// MNIST training-file index.
    pub sample_index: usize,
    /// Units active before the nudge (learning gate on).
    pub n_gated: usize,
    /// Pearson r pooled over the gated units' synapses (`None` if undefined).
    pub pooled_r: Option<f64>,
    /// OLS slope of spiking on rate ΔW, pooled.
    pub slope: Option<f64>,
    /// Pearson r of every gated unit whose r is defined.
    pub unit_r: Vec<f64>,
}

/// Spiking-vs-rate agreement of `population` of `network` on each of `samples` (MNIST training
/// indices): for every sample, the 30-step rate series (forward + backward pass, as in the figure),
/// then the spiking model on every unit of `population` with the parameters and inputs derived from
/// the network's config ([`params::spiking_params`], [`params::inputs`]) and the plastic projection
/// `<population>_<plastic_pre>`. Works for any network and population of the DTP family; the learning
/// rate only scales both ΔW, so the statistics do not depend on it (1.0 is used for rules without one).
///
/// Samples run on `threads` threads (0 = all cores); results are in `samples` order and independent of
/// the thread count (every sample uses the notebook's spike seed).
///
/// Errors: a sample index outside the training set, an unknown population or projection, and whatever
/// the series or the spiking model reject.
pub fn agreement_over_samples(
    network: &Network,
    mnist: &Mnist,
    samples: &[usize],
    population: &str,
    plastic_pre: &str,
    threads: usize,
) -> Result<Vec<SampleAgreement>> {
    let split = mnist.full_dataset();
    if let Some(&bad) = samples.iter().find(|&&s| s >= split.len()) {
        return Err(Error::invalid(
            "sample index",
            format!("{bad} is not in the {} training images", split.len()),
        ));
    }
    let spec = network.spec();
    let params = params::spiking_params(spec, population)?;
    let inputs = params::inputs(spec, population)?;
    let plastic = format!("{population}_{plastic_pre}");
    let learning_rate = spec.projections[spec.projection_index(&plastic)?]
        .rule
        .learning_rate()
        .unwrap_or(1.0);
    let weights: Vec<Array2<f32>> = inputs
        .iter()
        .map(|i| network.weight(&i.projection))
        .collect::<Result<_>>()?;
    // Each sample starts from a fresh copy of the network (as `Figure3::from_network` does), so a
    // sample's result does not depend on which samples ran before it on the same thread.
    let one = |sample: usize| -> Result<SampleAgreement> {
        let mut net = network.clone();
        let x = split.image(sample).to_vec();
        let t = split.target(sample);
        let series = DynamicsSeries::compute(&mut net, &x, &t, DendriteSeries::Figure)?;
        let dendritic_state = series.dendrite_crop(population, CROP)?;
        let soma_activity = series.activity_crop(population, CROP)?;
        let activities: Vec<Array2<f32>> = inputs
            .iter()
            .map(|i| series.activity_crop(&i.pre, CROP))
            .collect::<Result<_>>()?;
        let pops: Vec<PresynapticPopulation<'_>> = inputs
            .iter()
            .zip(activities.iter().zip(&weights))
            .map(|(i, (a, w))| PresynapticPopulation {
                name: &i.pre,
                activity: a.view(),
                weight: w.view(),
                recurrent: i.recurrent,
                compartment: i.compartment,
            })
            .collect();
        let plasticity = DtpPlasticity {
            pre: plastic_pre,
            soma_activity: soma_activity.view(),
            dendritic_state: dendritic_state.view(),
            learning_rate,
            before_nudge_row: BEFORE_NUDGE_ROW,
        };
        let run = simulate_population(&pops, Some(&plasticity), &params)?;
        let (rate, spiking) = pooled_dw(&run)?;
        let pooled = crate::spiking::stats::agreement(&rate, &spiking)?;
        let unit_r = unit_pearson_r(&run)?.into_iter().map(f64::from).collect();
        let n_gated = run
            .weight_changes
            .as_ref()
            .map_or(0, |w| w.gate.iter().filter(|&&g| g).count());
        Ok(SampleAgreement {
            sample_index: sample,
            n_gated,
            pooled_r: pooled.pearson_r,
            slope: pooled.slope,
            unit_r,
        })
    };
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .clamp(1, samples.len().max(1));
    let chunk = samples.len().div_ceil(threads).max(1);
    let parts: Vec<Result<Vec<SampleAgreement>>> = std::thread::scope(|s| {
        let handles: Vec<_> = samples
            .chunks(chunk)
            .map(|part| {
                let one = &one;
                s.spawn(move || part.iter().map(|&i| one(i)).collect())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(Error::invalid(
                        "sample agreement",
                        "a worker thread panicked",
                    ))
                })
            })
            .collect()
    });
    let mut out = Vec::with_capacity(samples.len());
    for p in parts {
        out.extend(p?);
    }
    Ok(out)
}

/// `n` distinct MNIST training indices (of the 50,000) drawn with `rand`'s `StdRng` from `seed`, in
/// ascending order: the samples of the many-sample agreement. `n` is capped at 50,000.
pub fn agreement_samples(n: usize, seed: u64) -> Vec<usize> {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut v = rand::seq::index::sample(&mut rng, 50_000, n.min(50_000)).into_vec();
    v.sort_unstable();
    v
}
