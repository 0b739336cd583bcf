//! The comparison ("backprop") network of the angle panel (spec §6.2–6.3): one SGD step of a
//! `Backprop`-trained network (bpDale, config G) on a batch, from the analysed network's weights, with
//! its weight constraints — the [`PredictedUpdate`] the angles compare against.
//!
//! The gradient is [`crate::adjoint`]'s (the one the `Backprop` rule trains with). For a batch of `b`
//! samples the batch-mean MSE gradient is the mean of the per-sample gradients (summed in float64,
//! divided by `b`, rounded once): PyTorch sums the batch inside its matrix products, so for `b > 1` the
//! bits differ at the ulp level; for `b = 1` (the stochastic variant Figure 3 plots) the step is the
//! `Backprop` rule's step exactly.

use crate::adjoint::{gradients_over, mse_grad, sgd_step, support, Seed};
use crate::analyses::angle::{ParamSet, PredictedUpdate};
use crate::config::NetworkSpec;
use crate::data::Split;
use crate::error::{Error, Result};
use crate::network::Network;
use crate::state::StateDict;

/// The comparison network and its scratch buffers. Load the weights entering a step with
/// [`load`](Self::load), then [`predict`](Self::predict) the update of a batch.
#[derive(Debug, Clone)]
pub struct BackpropComparison {
    net: Network,
    /// State-dict keys of the comparison network (all its weights and biases).
    keys: Vec<String>,
    /// The compared parameters (keys of `net`), in order.
    compared: Vec<String>,
    /// The state as loaded and its compared weights (the weights entering the step).
    loaded: StateDict,
    entering: Option<ParamSet>,
    x: Vec<f32>,
    y: Vec<f32>,
    seed: Vec<f32>,
    grads: Vec<Vec<f32>>,
    sums: Vec<Vec<f64>>,
}

impl BackpropComparison {
    /// A comparison network built from `spec` (e.g. the bpDale config G), comparing the parameters
    /// `compared` (state-dict keys, [`crate::analyses::angle::compared_parameters`] of the analysed
    /// network). Errors when the spec has no `Backprop` projection, records no forward step
    /// (`backward_steps` 0), or lacks one of the compared parameters.
    pub fn new(spec: NetworkSpec, compared: Vec<String>) -> Result<Self> {
        if !spec.projections.iter().any(|p| p.rule.requires_grad()) {
            return Err(Error::invalid(
                "comparison network",
                format!("{}: no projection learns by Backprop", spec.name),
            ));
        }
        if crate::rules::tape_depth(&spec) == 0 {
            return Err(Error::invalid(
                "comparison network",
                format!(
                    "{}: backward_steps is 0 (no step to differentiate)",
                    spec.name
                ),
            ));
        }
        let net = Network::new(spec, 0);
        let state = net.state_dict();
        let keys: Vec<String> = state.keys().map(str::to_string).collect();
        for k in &compared {
            if state.get(k).is_none() {
                return Err(Error::UnknownName {
                    kind: "compared parameter of the comparison network",
                    name: k.clone(),
                    hint: format!(" (the comparison network has {keys:?})"),
                });
            }
        }
        let n = net.projections.len();
        Ok(BackpropComparison {
            net,
            keys,
            compared,
            loaded: StateDict::new(),
            entering: None,
            x: Vec::new(),
            y: Vec::new(),
            seed: Vec::new(),
            grads: vec![Vec::new(); n],
            sums: vec![Vec::new(); n],
        })
    }

    /// EIANN's `network_architectures_match`: every parameter of the comparison network exists in
    /// `analysed` with the same shape (then the comparison branch applies; Figure 3's 5J, 5K, 5M).
    pub fn architectures_match(&self, analysed: &StateDict) -> bool {
        let own = self.net.state_dict();
        self.keys
            .iter()
            .all(|k| match (own.get(k), analysed.get(k)) {
                (Some(a), Some(b)) => a.shape() == b.shape(),
                _ => false,
            })
    }

    /// The compared parameters, in order.
    pub fn compared(&self) -> &[String] {
        &self.compared
    }

    /// Load the comparison network's parameters from the analysed network's state (only the keys the
    /// comparison network has; absent biases are zero). Errors when a weight is missing or misshapen.
    pub fn load(&mut self, analysed: &StateDict) -> Result<()> {
        let mut sd = StateDict::new();
        for k in &self.keys {
            match analysed.get_shared(k) {
                Some(a) => sd.insert_shared(k.clone(), a.clone()),
                None if k.ends_with("_bias") => {}
                None => {
                    return Err(Error::UnknownName {
                        kind: "parameter the comparison network needs",
                        name: k.clone(),
                        hint: " (is the analysed network's architecture the comparison network's?)"
                            .to_string(),
                    })
                }
            }
        }
        self.net.load_state_dict(&sd)?;
        self.entering = Some(ParamSet::from_state(&sd, &self.compared)?);
        self.loaded = sd;
        Ok(())
    }

    /// `W_after − W_before` of the compared parameters after one SGD step on the train-file items
    /// `batch` of `data` (MSE mean over batch and outputs, the comparison network's learning rates, then
    /// its constraints), from the weights of the last [`load`](Self::load). The network is reloaded
    /// afterwards, so several batches can be predicted from the same weights.
    pub fn predict(&mut self, batch: &[usize], data: &Split) -> Result<ParamSet> {
        let before = self
            .entering
            .clone()
            .ok_or_else(|| Error::invalid("comparison network", "predict called before load"))?;
        if batch.is_empty() {
            return Err(Error::invalid("comparison batch", "holds no sample"));
        }
        let spec = &self.net.spec;
        let out = spec.output;
        let n_in = spec
            .populations
            .iter()
            .find(|p| p.is_input)
            .map_or(0, |p| p.size);
        let n_out = spec.populations[out].size;
        let wanted: Vec<bool> = spec
            .projections
            .iter()
            .map(|p| p.rule.requires_grad())
            .collect();
        let live = support(spec, &wanted);
        let last = spec.forward_steps - 1;
        self.x.resize(n_in, 0.0);
        self.y.resize(n_out, 0.0);
        for (k, s) in self.sums.iter_mut().enumerate() {
            s.clear();
            if wanted[k] {
                s.resize(self.net.projections[k].wt.len(), 0.0);
            }
        }
        for &index in batch {
            let row = data.row_of(index).ok_or_else(|| {
                Error::invalid(
                    "comparison batch",
                    format!("train-file item {index} is not in the data split"),
                )
            })?;
            data.image_into(row, &mut self.x);
            let label = usize::from(data.label(row));
            if label >= n_out {
                return Err(Error::shape("label", n_out, label + 1));
            }
            self.y.fill(0.0);
            self.y[label] = 1.0;
            self.net.forward(&self.x, None)?;
            mse_grad(&self.net.pops[out].activity, &self.y, &mut self.seed);
            let seeds = [Seed {
                population: out,
                step: last,
                grad: &self.seed,
            }];
            let net = &mut self.net;
            // Only the populations a wanted gradient depends on (same bits as every population).
            gradients_over(
                &net.spec,
                &net.projections,
                &mut net.tape,
                &seeds,
                &wanted,
                &live,
                &mut self.grads,
            );
            for (k, s) in self.sums.iter_mut().enumerate() {
                if wanted[k] {
                    for (a, &g) in s.iter_mut().zip(&self.grads[k]) {
                        *a += g as f64;
                    }
                }
            }
        }
        let b = batch.len() as f64;
        for (k, &want) in wanted.iter().enumerate() {
            let lr = self.net.spec.projections[k].rule.learning_rate();
            if let (true, Some(lr)) = (want, lr) {
                let g = &mut self.grads[k];
                g.clear();
                g.extend(self.sums[k].iter().map(|&s| (s / b) as f32));
                sgd_step(&mut self.net.projections[k].wt, g, lr);
            }
        }
        self.net.constrain_weights();
        let after = ParamSet::from_state(&self.net.state_dict(), &self.compared)?;
        let d = after.minus(&before);
        // Back to the loaded weights for the next batch from the same state.
        self.net.load_state_dict(&self.loaded)?;
        d
    }

    /// A [`PredictedUpdate`] over `data` from the weights of the last [`load`](Self::load).
    pub fn predictor<'a>(&'a mut self, data: &'a Split) -> impl PredictedUpdate + 'a {
        move |_t: usize, _step: usize, batch: &[usize]| self.predict(batch, data)
    }
}
