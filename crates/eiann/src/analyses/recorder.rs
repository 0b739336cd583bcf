//! The Figure 3 histories computed inside the one training loop (spec §2, §12), with memory bounded by
//! a few snapshots instead of EIANN's two state dicts per stored step: test loss and accuracy at every
//! stored step, the binned mean |forward dendritic state|, the stochastic angle vs the comparison
//! network's backprop step (the variant Figure 3 plots), and, after training, the class-averaged
//! activity and the selectivity of every population of the final network.
//!
//! [`Figure3Recorder`] is a [`TrainObserver`]; [`Figure3Recorder::finish`] returns the results as named
//! float32 arrays (keys under [`PREFIX`]) for [`crate::checkpoint::Checkpoint::records`].
//!
//! Not computed here: the step-averaged `angle_vs_bp` (its batch of 100 samples per stored step would
//! cost as many backprop steps as the training itself; [`crate::analyses::angle::AngleTracker`]
//! computes it from stored parameters) and EIANN's fallback comparison (a network whose architecture
//! does not match the comparison network is an error).

use std::time::Instant;

use ndarray::{Array2, ArrayD, IxDyn};

use crate::analyses::angle::{angle_row, compared_parameters, short_name, ParamSet};
use crate::analyses::backprop::BackpropComparison;
use crate::analyses::class_activity::class_averaged;
use crate::analyses::dendritic_state::{DendriticStateBins, BIN_SIZE};
use crate::analyses::selectivity::selectivity;
use crate::config::NetworkSpec;
use crate::data::Split;
use crate::error::{Error, Result};
use crate::evaluate::evaluate;
use crate::network::Network;
use crate::state::StateDict;
use crate::train::{Interval, TrainObserver};

/// Key prefix of everything the recorder stores.
pub const PREFIX: &str = "figure3/";
/// Test patterns per forward call of the final-network analyses.
const CHUNK: usize = 500;

/// What the recorder needs besides the network.
#[derive(Debug, Clone, Copy)]
pub struct Figure3Setup<'a> {
    /// The test set (evaluated at every stored step; the final analyses' patterns).
    pub test: &'a Split,
    /// The training file's items in file order (the comparison network's batches, §6.3).
    pub train: &'a Split,
    /// Spacing of the stored steps: grid `(0, −1, every)` (the paper: 100).
    pub every: usize,
    /// Threads of each test evaluation (the numbers do not depend on it).
    pub threads: usize,
}

/// Computes the Figure 3 histories while [`crate::train::train_observed`] runs.
#[derive(Debug)]
pub struct Figure3Recorder<'a> {
    setup: Figure3Setup<'a>,
    steps: Vec<usize>,
    next: usize,
    comparison: Option<BackpropComparison>,
    /// Compared weights entering the current stored step and the prediction from them.
    entering: Option<(ParamSet, ParamSet)>,
    dend_pops: Vec<usize>,
    bins: Option<DendriticStateBins>,
    test_loss: Vec<f32>,
    test_accuracy: Vec<f32>,
    /// Per compared parameter then `all_params`: the stochastic angle at each stored step.
    angles: Vec<Vec<f32>>,
    compared: Vec<String>,
    times: RecorderTimes,
}

/// Wall time spent by the recorder, by part (seconds; not stored in the checkpoint).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RecorderTimes {
    /// Test-set evaluations at the stored steps.
    pub test: f64,
    /// Comparison network steps and angles.
    pub angle: f64,
    /// Dendritic-state binning (every step).
    pub dendritic_state: f64,
    /// Final-network analyses (one test forward, class averages, selectivity).
    pub final_analyses: f64,
}

impl<'a> Figure3Recorder<'a> {
    /// A recorder for a run of `total_steps` steps of a network with spec `spec`; `comparison` = the
    /// backprop network of the angle panel (spec §1: bpDale config G), `None` for no angle.
    pub fn new(
        spec: &NetworkSpec,
        total_steps: usize,
        comparison: Option<NetworkSpec>,
        setup: Figure3Setup<'a>,
    ) -> Result<Self> {
        if setup.every == 0 {
            return Err(Error::invalid("Figure 3 recording interval", "must be ≥ 1"));
        }
        let steps = Interval::new(0, -1, setup.every as i64).steps(total_steps)?;
        let compared = compared_parameters(spec);
        let comparison = match comparison {
            Some(c) if !compared.is_empty() => Some(BackpropComparison::new(c, compared.clone())?),
            _ => None,
        };
        let dend_pops: Vec<usize> = (0..spec.populations.len())
            .filter(|&i| {
                spec.projections
                    .iter()
                    .any(|p| p.post == i && p.compartment == crate::config::Compartment::Dendrite)
            })
            .collect();
        let bins = if dend_pops.is_empty() {
            None
        } else {
            let pops: Vec<(&str, usize)> = dend_pops
                .iter()
                .map(|&i| {
                    (
                        spec.populations[i].fullname.as_str(),
                        spec.populations[i].size,
                    )
                })
                .collect();
            Some(DendriticStateBins::new(&pops, BIN_SIZE)?)
        };
        let n_angles = if comparison.is_some() {
            compared.len() + 1
        } else {
            0
        };
        Ok(Figure3Recorder {
            setup,
            steps,
            next: 0,
            comparison,
            entering: None,
            dend_pops,
            bins,
            test_loss: Vec::new(),
            test_accuracy: Vec::new(),
            angles: vec![Vec::new(); n_angles],
            compared,
            times: RecorderTimes::default(),
        })
    }

    /// The stored steps (grid P).
    pub fn steps(&self) -> &[usize] {
        &self.steps
    }

    /// Time spent so far, by part.
    pub fn times(&self) -> RecorderTimes {
        self.times
    }

    /// The records: the histories, then the final network's class averages and selectivity; and the
    /// time spent, by part.
    pub fn finish(self, net: &Network) -> Result<(StateDict, RecorderTimes)> {
        let mut times = self.times;
        let t0 = Instant::now();
        let mut out = StateDict::new();
        let put = |out: &mut StateDict, key: String, v: Vec<f32>| {
            let n = v.len();
            out.insert(
                format!("{PREFIX}{key}"),
                ArrayD::from_shape_vec(IxDyn(&[n]), v).expect("1-D"),
            );
        };
        let n = self.test_accuracy.len();
        put(
            &mut out,
            "steps".into(),
            self.steps[..n].iter().map(|&s| s as f32).collect(),
        );
        put(&mut out, "test_loss_history".into(), self.test_loss);
        put(&mut out, "test_accuracy_history".into(), self.test_accuracy);
        if let Some(bins) = &self.bins {
            let b = bins.finish();
            put(
                &mut out,
                "dendritic_state/steps".into(),
                b.steps.iter().map(|&s| s as f32).collect(),
            );
            for (p, v) in b.populations.iter().zip(&b.per_population) {
                put(&mut out, format!("dendritic_state/{p}"), v.to_vec());
            }
            put(&mut out, "dendritic_state/all".into(), b.all.to_vec());
        }
        let names: Vec<String> = self
            .compared
            .iter()
            .map(|k| short_name(k).to_string())
            .chain(["all_params".to_string()])
            .collect();
        for (name, v) in names.iter().zip(self.angles) {
            put(&mut out, format!("angle_vs_bp_stochastic/{name}"), v);
        }
        for (pop, a) in final_activities(net, self.setup.test)? {
            let labels: Vec<usize> = self.setup.test.labels.iter().map(|&l| l as usize).collect();
            let avg = class_averaged(a.view(), &labels, crate::data::NUM_CLASSES)?;
            out.insert(format!("{PREFIX}class_avg/{pop}"), avg.into_dyn());
            put(
                &mut out,
                format!("selectivity/{pop}"),
                selectivity(a.view()).to_vec(),
            );
        }
        times.final_analyses = t0.elapsed().as_secs_f64();
        Ok((out, times))
    }
}

impl TrainObserver for Figure3Recorder<'_> {
    fn before_step(&mut self, step: usize, index: usize, net: &Network) -> Result<()> {
        if self.steps.get(self.next) != Some(&step) {
            return Ok(());
        }
        let t0 = Instant::now();
        if let Some(c) = self.comparison.as_mut() {
            let state = net.state_dict();
            if !c.architectures_match(&state) {
                return Err(Error::invalid(
                    "Figure 3 angle",
                    format!(
                        "network {} does not have every parameter of the comparison network \
                         (EIANN's fallback comparison is not implemented)",
                        net.spec().name
                    ),
                ));
            }
            c.load(&state)?;
            let predicted = c.predict(&[index], self.setup.train)?;
            let entering = ParamSet::from_state(&state, &self.compared)?;
            self.entering = Some((entering, predicted));
        }
        self.times.angle += t0.elapsed().as_secs_f64();
        Ok(())
    }

    fn after_step(&mut self, step: usize, net: &Network) -> Result<()> {
        let t0 = Instant::now();
        if let Some(bins) = self.bins.as_mut() {
            let states: Vec<&[f32]> = self
                .dend_pops
                .iter()
                .map(|&i| net.population_at(i).forward_dendritic_state.as_slice())
                .collect();
            bins.push_step(&states)?;
        }
        self.times.dendritic_state += t0.elapsed().as_secs_f64();
        if self.steps.get(self.next) != Some(&step) {
            return Ok(());
        }
        let t0 = Instant::now();
        if let Some((entering, predicted)) = self.entering.take() {
            let leaving = ParamSet::from_state(&net.state_dict(), &self.compared)?;
            let row = angle_row(&predicted, &leaving.minus(&entering)?, true)?;
            for (v, a) in self
                .angles
                .iter_mut()
                .zip(row.per_param.iter().chain([&row.all_params]))
            {
                v.push(*a);
            }
        }
        self.times.angle += t0.elapsed().as_secs_f64();
        let t0 = Instant::now();
        let e = evaluate(net, self.setup.test, self.setup.threads)?;
        self.test_loss.push(e.loss);
        self.test_accuracy.push(e.accuracy);
        self.times.test += t0.elapsed().as_secs_f64();
        self.next += 1;
        Ok(())
    }
}

/// Every non-input population's final forward activity on `data` (patterns × units), in population
/// order (spec §3.1, §7: one forward of the test set, no learning).
pub fn final_activities(net: &Network, data: &Split) -> Result<Vec<(String, Array2<f32>)>> {
    let spec = net.spec();
    let n = data.len();
    let n_in = spec
        .populations
        .iter()
        .find(|p| p.is_input)
        .map_or(0, |p| p.size);
    let pops: Vec<usize> = (0..spec.populations.len())
        .filter(|&i| !spec.populations[i].is_input)
        .collect();
    let mut out: Vec<Array2<f32>> = pops
        .iter()
        .map(|&i| Array2::zeros((n, spec.populations[i].size)))
        .collect();
    let mut copy = net.clone();
    let mut x = Vec::new();
    let mut start = 0;
    while start < n {
        let b = CHUNK.min(n - start);
        copy.set_batch_size(b)?;
        x.clear();
        x.resize(b * n_in, 0.0);
        for j in 0..b {
            data.image_into(start + j, &mut x[j * n_in..(j + 1) * n_in]);
        }
        copy.forward(&x, None)?;
        for (o, &pi) in out.iter_mut().zip(&pops) {
            let size = spec.populations[pi].size;
            let act = &copy.population_at(pi).activity;
            for j in 0..b {
                o.row_mut(start + j)
                    .as_slice_mut()
                    .expect("contiguous row")
                    .copy_from_slice(&act[j * size..(j + 1) * size]);
            }
        }
        start += b;
    }
    Ok(pops
        .iter()
        .map(|&i| spec.populations[i].fullname.clone())
        .zip(out)
        .collect())
}
