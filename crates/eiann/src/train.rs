//! Training: one EIANN `Network.train` step per sample (forward, forward-state snapshot, backward,
//! rules, constraints), and whole training runs with EIANN's sample order, checkpoint and validation
//! schedules and histories.

use crate::dynamics::mse_loss;
use crate::error::{Error, Result};
use crate::evaluate::{evaluate, Evaluation};
use crate::network::Network;
use crate::rng::{epoch_sample_order, TorchRng};
use crate::samples::Samples;
use crate::state::StateDict;
use std::collections::BTreeMap;
use std::sync::{mpsc, Arc, Mutex};

/// EIANN's `(start, stop, step)` schedule for `store_params_interval` / `val_interval` (spec §6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    /// First step (also always included).
    pub start: i64,
    /// Last step; negative values count from the end like Python (−1 = the last step).
    pub stop: i64,
    /// Spacing, counted backwards from `stop`.
    pub step: i64,
}

impl Interval {
    /// `(start, stop, step)`.
    pub const fn new(start: i64, stop: i64, step: i64) -> Self {
        Interval { start, stop, step }
    }

    /// The training steps selected among `total` steps: `stop, stop − step, …` down to `start`, in
    /// ascending order, with `start` prepended when absent. E.g. `(0, −1, 100)` over 3,000 steps gives
    /// `0, 99, 199, …, 2999`.
    pub fn steps(&self, total: usize) -> Result<Vec<usize>> {
        let bad = |m: String| {
            Error::invalid(
                format!("interval ({}, {}, {})", self.start, self.stop, self.step),
                m,
            )
        };
        if self.step <= 0 {
            return Err(bad("the step must be positive".into()));
        }
        if total == 0 {
            return Ok(Vec::new());
        }
        let total = total as i64;
        let end = if self.stop < 0 {
            total + self.stop
        } else {
            self.stop.min(total - 1)
        };
        if self.start < 0 || self.start >= total {
            return Err(bad(format!("start must be in 0..{total}")));
        }
        if end < 0 {
            return Err(bad(format!("stop is before the first of {total} steps")));
        }
        let mut v = Vec::new();
        let mut s = end;
        while s >= self.start {
            v.push(s as usize);
            s -= self.step;
        }
        v.reverse();
        if v.first() != Some(&(self.start as usize)) {
            v.insert(0, self.start as usize);
        }
        Ok(v)
    }
}

/// Settings of a training run (`Network.train` keyword arguments).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    /// Number of passes over the training set.
    pub epochs: usize,
    /// Steps per epoch (default: the whole training set).
    pub samples_per_epoch: Option<usize>,
    /// Seed of the data generator (`data_generator.manual_seed(data_seed)` before training).
    pub data_seed: u64,
    /// When to store the parameters (after the update of those steps); `None` = never.
    pub store_params_interval: Option<Interval>,
    /// When to evaluate on the validation set (after the update); `None` = never.
    pub val_interval: Option<Interval>,
    /// Validation threads (0 = one per core). Training itself is single-threaded; validation passes run
    /// on copies of the network beside it (see `Validation`), each on one thread.
    pub threads: usize,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            epochs: 1,
            samples_per_epoch: None,
            data_seed: 0,
            store_params_interval: None,
            val_interval: None,
            threads: 0,
        }
    }
}

/// What a training run records (EIANN `Network` attributes of the same names).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainHistory {
    /// Parameters after the update of each stored step (unchanged tensors shared between entries).
    pub param_history: Vec<StateDict>,
    /// The steps of `param_history` (−1 = the initial state, stored only when the interval step is 1).
    pub param_history_steps: Vec<i64>,
    /// Dataset index used at each training step.
    pub sample_order: Vec<i64>,
    /// Loss (MSE of the forward output, before the update) at each step.
    pub loss_history: Vec<f32>,
    /// Steps at which the validation set was evaluated.
    pub val_steps: Vec<i64>,
    /// Validation loss at those steps.
    pub val_loss: Vec<f32>,
    /// Validation accuracy (%) at those steps.
    pub val_accuracy: Vec<f32>,
}

/// Events reported while training runs (for progress bars).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TrainEvent {
    /// Step `step` (0-based) of `total` finished with this loss.
    Step {
        step: usize,
        total: usize,
        loss: f32,
    },
    /// The validation set was evaluated after step `step`.
    Validation { step: usize, eval: Evaluation },
}

impl Network {
    /// Exactly one step of EIANN's `Network.train` for one sample (batch size 1, `store_dynamics=False`):
    /// `forward` → loss (MSE, recorded only) → `update_forward_state` → `BP_like_2L.backward` →
    /// every rule's `step()` → `constrain_weights_and_biases()`. Returns the loss, computed before the
    /// update. Allocation-free. The constraint pass touches only the weights the rules changed, which
    /// gives the same bits as EIANN's full pass (see [`Network::constrain_weights`]).
    pub fn train_step(&mut self, input: &[f32], target: &[f32]) -> Result<f32> {
        if self.batch != 1 {
            return Err(crate::Error::invalid(
                "train_step",
                format!("needs batch size 1 (set to {})", self.batch),
            ));
        }
        let out_size = self.spec.populations[self.spec.output].size;
        if target.len() != out_size {
            return Err(crate::Error::shape("target", out_size, target.len()));
        }
        let loss = mse_loss(self.forward(input, None)?, target);
        self.update_forward_state(None)?;
        self.fast.constraint_pass_follows = true;
        let backward = self.backward(target, false, None);
        self.fast.constraint_pass_follows = false;
        backward?;
        self.step_rules();
        self.constrain_changed();
        Ok(loss)
    }
}

/// EIANN `Network.train(train_loader, val_loader, epochs, samples_per_epoch, store_params=...,
/// store_params_interval, val_interval)` with a shuffled batch-size-1 loader whose generator is seeded with
/// `opts.data_seed` just before training. Calls `on_event` after every step and validation.
pub fn train(
    net: &mut Network,
    train_set: &dyn Samples,
    val_set: Option<&dyn Samples>,
    opts: &TrainOptions,
    on_event: &mut dyn FnMut(TrainEvent),
) -> Result<TrainHistory> {
    train_observed(net, train_set, val_set, opts, on_event, &mut NoObserver)
}

/// Looks at the network around every training step of [`train_observed`] (read-only), e.g. to compute
/// analyses during training instead of storing parameter histories.
pub trait TrainObserver {
    /// Before step `step` (0-based) trains on the item with dataset index `index`: the weights entering
    /// the step.
    fn before_step(&mut self, step: usize, index: usize, net: &Network) -> Result<()>;
    /// After step `step`'s update and constraints: the weights leaving the step, and the step's forward
    /// phase state (activities, forward dendritic states).
    fn after_step(&mut self, step: usize, net: &Network) -> Result<()>;
}

/// The observer that looks at nothing.
struct NoObserver;

impl TrainObserver for NoObserver {
    fn before_step(&mut self, _: usize, _: usize, _: &Network) -> Result<()> {
        Ok(())
    }
    fn after_step(&mut self, _: usize, _: &Network) -> Result<()> {
        Ok(())
    }
}

/// [`train`] with an observer called before and after every step (it does not change the run: the
/// same bits with or without it).
pub fn train_observed(
    net: &mut Network,
    train_set: &dyn Samples,
    val_set: Option<&dyn Samples>,
    opts: &TrainOptions,
    on_event: &mut dyn FnMut(TrainEvent),
    observer: &mut dyn TrainObserver,
) -> Result<TrainHistory> {
    let n = train_set.len();
    if n == 0 {
        return Err(Error::invalid("training set", "it holds no sample"));
    }
    let in_size = net
        .spec()
        .populations
        .iter()
        .find(|p| p.is_input)
        .map_or(0, |p| p.size);
    if train_set.input_size() != in_size {
        return Err(Error::shape(
            "training input size",
            in_size,
            train_set.input_size(),
        ));
    }
    let out_size = net.output().len();
    if train_set.num_classes() != out_size {
        return Err(Error::shape(
            "number of classes",
            out_size,
            train_set.num_classes(),
        ));
    }
    let per_epoch = opts.samples_per_epoch.unwrap_or(n);
    if per_epoch == 0 || per_epoch > n {
        return Err(Error::invalid(
            "samples_per_epoch",
            format!("must be in 1..={n}, got {per_epoch}"),
        ));
    }
    let total = opts.epochs * per_epoch;
    let store = match opts.store_params_interval {
        Some(iv) => iv.steps(total)?,
        None => Vec::new(),
    };
    let val_steps = match (opts.val_interval, val_set) {
        (Some(iv), Some(_)) => iv.steps(total)?,
        (Some(_), None) => {
            return Err(Error::invalid(
                "val_interval",
                "given without a validation set",
            ))
        }
        _ => Vec::new(),
    };
    let mut h = TrainHistory::default();
    if opts.store_params_interval.is_some_and(|iv| iv.step == 1) {
        h.param_history.push(net.state_dict());
        h.param_history_steps.push(-1);
    }
    h.loss_history.reserve(total);
    h.sample_order.reserve(total);
    let workers = match (val_set, val_steps.is_empty()) {
        (Some(_), false) => resolve_threads(opts.threads),
        _ => 0,
    };
    let mut x = vec![0f32; in_size];
    let mut t = vec![0f32; out_size];
    std::thread::scope(|scope| -> Result<TrainHistory> {
        let mut validation = val_set
            .filter(|_| workers > 0)
            .map(|v| Validation::start(scope, v, workers, val_steps.clone()));
        let mut rng = TorchRng::new(opts.data_seed);
        let (mut next_store, mut next_val) = (0, 0);
        let mut step = 0usize;
        for _epoch in 0..opts.epochs {
            let order = epoch_sample_order(&mut rng, n);
            for &i in order.iter().take(per_epoch) {
                train_set.input_into(i, &mut x);
                train_set.target_into(i, &mut t);
                observer.before_step(step, train_set.dataset_index(i), net)?;
                let loss = net.train_step(&x, &t)?;
                observer.after_step(step, net)?;
                h.loss_history.push(loss);
                h.sample_order.push(train_set.dataset_index(i) as i64);
                if store.get(next_store) == Some(&step) {
                    let mut sd = net.state_dict();
                    if let Some(prev) = h.param_history.last() {
                        sd.share_unchanged(prev);
                    }
                    h.param_history.push(sd);
                    h.param_history_steps.push(step as i64);
                    next_store += 1;
                }
                on_event(TrainEvent::Step { step, total, loss });
                if let Some(val) = validation.as_mut() {
                    if val_steps.get(next_val) == Some(&step) {
                        val.submit(step, net, on_event)?;
                        next_val += 1;
                    }
                    val.report_finished(on_event)?;
                }
                step += 1;
            }
        }
        if let Some(val) = validation {
            for (step, eval) in val.finish(on_event)? {
                h.val_steps.push(step as i64);
                h.val_loss.push(eval.loss);
                h.val_accuracy.push(eval.accuracy);
            }
        }
        Ok(h)
    })
}

/// `0` = all cores.
fn resolve_threads(threads: usize) -> usize {
    if threads == 0 {
        std::thread::available_parallelism().map_or(1, |t| t.get())
    } else {
        threads
    }
}

/// Validation that runs beside training: at each validation step the network is copied and the copy
/// is evaluated by one of `workers` threads while training goes on, so the validation passes use the
/// cores that training (single-threaded) leaves idle. Each evaluation is single-threaded and gives the
/// bits [`evaluate`] gives with any thread count; results are reported and recorded in step order.
/// At most `2 × workers` copies wait at a time (training pauses until one is done), which bounds memory.
struct Validation<'scope> {
    jobs: Option<mpsc::Sender<(usize, Network)>>,
    results: mpsc::Receiver<(usize, Result<Evaluation>)>,
    /// Validation steps, in order; `reported` of them have been passed to `on_event`.
    steps: Vec<usize>,
    reported: usize,
    done: BTreeMap<usize, Evaluation>,
    pending: usize,
    max_pending: usize,
    _workers: Vec<std::thread::ScopedJoinHandle<'scope, ()>>,
}

impl<'scope> Validation<'scope> {
    fn start<'env>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        data: &'env dyn Samples,
        workers: usize,
        steps: Vec<usize>,
    ) -> Validation<'scope> {
        let (job_tx, job_rx) = mpsc::channel::<(usize, Network)>();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let (res_tx, res_rx) = mpsc::channel();
        let handles = (0..workers)
            .map(|_| {
                let jobs = Arc::clone(&job_rx);
                let results = res_tx.clone();
                scope.spawn(move || loop {
                    let job = match jobs.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok((step, snapshot)) = job else { return };
                    let eval = evaluate(&snapshot, data, 1);
                    drop(snapshot);
                    if results.send((step, eval)).is_err() {
                        return;
                    }
                })
            })
            .collect();
        Validation {
            jobs: Some(job_tx),
            results: res_rx,
            steps,
            reported: 0,
            done: BTreeMap::new(),
            pending: 0,
            max_pending: 2 * workers,
            _workers: handles,
        }
    }

    /// Queue the evaluation of a copy of `net` after `step`, waiting first while too many copies wait.
    fn submit(
        &mut self,
        step: usize,
        net: &Network,
        on_event: &mut dyn FnMut(TrainEvent),
    ) -> Result<()> {
        while self.pending >= self.max_pending {
            self.receive_one()?;
            self.report(on_event);
        }
        let jobs = self.jobs.as_ref().ok_or_else(stopped)?;
        jobs.send((step, net.clone())).map_err(|_| stopped())?;
        self.pending += 1;
        Ok(())
    }

    /// Record the results that are ready, without waiting, and report those now in step order.
    fn report_finished(&mut self, on_event: &mut dyn FnMut(TrainEvent)) -> Result<()> {
        while let Ok((step, eval)) = self.results.try_recv() {
            self.pending -= 1;
            self.done.insert(step, eval?);
        }
        self.report(on_event);
        Ok(())
    }

    fn receive_one(&mut self) -> Result<()> {
        let (step, eval) = self.results.recv().map_err(|_| stopped())?;
        self.pending -= 1;
        self.done.insert(step, eval?);
        Ok(())
    }

    fn report(&mut self, on_event: &mut dyn FnMut(TrainEvent)) {
        while let Some(&step) = self.steps.get(self.reported) {
            let Some(&eval) = self.done.get(&step) else {
                break;
            };
            on_event(TrainEvent::Validation { step, eval });
            self.reported += 1;
        }
    }

    /// Wait for every queued evaluation; the results in step order.
    fn finish(mut self, on_event: &mut dyn FnMut(TrainEvent)) -> Result<Vec<(usize, Evaluation)>> {
        self.jobs = None;
        while self.pending > 0 {
            self.receive_one()?;
            self.report(on_event);
        }
        Ok(std::mem::take(&mut self.done).into_iter().collect())
    }
}

fn stopped() -> Error {
    Error::invalid("validation", "the validation threads stopped unexpectedly")
}

#[cfg(test)]
mod tests {
    use crate::config::NetworkSpec;
    use crate::network::Network;

    fn spec() -> NetworkSpec {
        NetworkSpec::from_file(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "../../data/network_config/mnist/20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized.yaml",
        ))
        .unwrap()
    }

    /// Sparse MNIST-like synthetic images: a blob of lit pixels whose position depends on `s`.
    fn sample(s: usize) -> (Vec<f32>, Vec<f32>) {
        let x: Vec<f32> = (0..784usize)
            .map(|p| {
                let (r, c) = ((p / 28) as i32, (p % 28) as i32);
                let (cr, cc) = ((8 + (s * 7) % 12) as i32, (8 + (s * 5) % 12) as i32);
                let d2 = (r - cr).pow(2) + (c - cc).pow(2);
                if d2 < 30 {
                    ((40 - d2) as f32 / 40.0).min(1.0)
                } else {
                    0.0
                }
            })
            .collect();
        let mut t = vec![0f32; 10];
        t[s % 10] = 1.0;
        (x, t)
    }

    #[test]
    fn incremental_constraints_match_the_full_pass_bit_for_bit() {
        let mut fast = Network::new(spec(), 66049);
        let mut full = fast.clone();
        for s in 0..12 {
            let (x, t) = sample(s);
            let l1 = fast.train_step(&x, &t).unwrap();
            full.forward(&x, None).unwrap();
            full.update_forward_state(None).unwrap();
            full.backward(&t, false, None).unwrap();
            full.step_rules();
            full.constrain_weights();
            assert!(l1.is_finite());
            for (a, b) in fast.projections().iter().zip(full.projections()) {
                assert!(
                    a.wt.iter()
                        .zip(&b.wt)
                        .all(|(u, v)| u.to_bits() == v.to_bits()),
                    "step {s}"
                );
            }
        }
    }

    /// The plain reference path (every speed-up off) and the fast path give the same bits: 200 training
    /// steps from each of two seeds (every loss and every weight), then the same evaluation, for the
    /// config `stem` of `data/network_config/mnist/`.
    fn fast_and_reference_paths_agree(stem: &str) {
        use crate::fast::Speed;
        use crate::samples::InMemorySamples;
        let spec = || {
            NetworkSpec::from_file(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../../data/network_config/mnist")
                    .join(format!("{stem}.yaml")),
            )
            .unwrap()
        };
        let bits =
            |p: &crate::network::Projection| p.wt.iter().map(|w| w.to_bits()).collect::<Vec<_>>();
        for seed in [66049, 7] {
            let mut fast = Network::new(spec(), seed);
            let mut plain = fast.clone();
            plain.set_speed(Speed::Reference);
            assert_eq!(plain.speed(), Speed::Reference);
            for s in 0..200 {
                let (x, t) = sample(s * 7 + seed as usize % 5);
                let a = fast.train_step(&x, &t).unwrap();
                let b = plain.train_step(&x, &t).unwrap();
                assert_eq!(
                    a.to_bits(),
                    b.to_bits(),
                    "{stem}: loss, seed {seed} step {s}"
                );
            }
            for (k, (a, b)) in fast
                .projections()
                .iter()
                .zip(plain.projections())
                .enumerate()
            {
                assert!(
                    bits(a) == bits(b),
                    "{stem}, seed {seed}: projection {k} differs"
                );
            }
            assert!(
                fast.projections()
                    .iter()
                    .zip(Network::new(spec(), seed).projections())
                    .any(|(a, b)| bits(a) != bits(b)),
                "{stem}: the weights learned"
            );
            let n = 45;
            let mut inputs = ndarray::Array2::<f32>::zeros((n, 784));
            for r in 0..n {
                let (x, _) = sample(r + 3);
                inputs.row_mut(r).assign(&ndarray::ArrayView1::from(&x[..]));
            }
            let data = InMemorySamples {
                inputs,
                labels: (0..n).map(|i| (i + 3) % 10).collect(),
                classes: 10,
            };
            let ef = crate::evaluate::evaluate(&fast, &data, 2).unwrap();
            let er = crate::evaluate::evaluate(&plain, &data, 1).unwrap();
            assert_eq!(ef, er, "{stem}, seed {seed}: evaluation");
        }
    }

    #[test]
    fn fast_and_reference_paths_agree_bit_for_bit() {
        fast_and_reference_paths_agree(
            "20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized",
        );
    }

    #[test]
    fn fast_and_reference_paths_agree_bit_for_bit_bp_like_2e() {
        fast_and_reference_paths_agree(
            "20241009_EIANN_2_hidden_mnist_BP_like_config_5J_complete_optimized",
        );
    }

    #[test]
    fn fast_and_reference_paths_agree_bit_for_bit_backprop() {
        fast_and_reference_paths_agree(
            "20231129_EIANN_2_hidden_mnist_bpDale_relu_SGD_config_G_complete_optimized",
        );
    }

    #[test]
    fn fast_and_reference_paths_agree_bit_for_bit_backprop_dendritic_loss() {
        fast_and_reference_paths_agree(
            "20241113_EIANN_2_hidden_mnist_BP_like_config_5M_complete_optimized",
        );
    }

    #[test]
    fn interval_rules_follow_eiann() {
        use super::Interval;
        let v = Interval::new(0, -1, 100).steps(3000).unwrap();
        assert_eq!(v.len(), 31);
        assert_eq!(&v[..3], &[0, 99, 199]);
        assert_eq!(*v.last().unwrap(), 2999);
        assert_eq!(
            Interval::new(0, -1, 1000).steps(50_000).unwrap()[..2],
            [0, 999]
        );
        assert_eq!(Interval::new(0, -1, 1).steps(3).unwrap(), vec![0, 1, 2]);
        assert_eq!(
            Interval::new(0, -1, 100).steps(250).unwrap(),
            vec![0, 49, 149, 249]
        );
        assert_eq!(
            Interval::new(10, 20, 5).steps(100).unwrap(),
            vec![10, 15, 20]
        );
        assert_eq!(
            Interval::new(0, -1, 100).steps(0).unwrap(),
            Vec::<usize>::new()
        );
        assert!(Interval::new(0, -1, 0).steps(10).is_err());
        assert!(Interval::new(5, -1, 1).steps(3).is_err());
    }

    #[test]
    fn training_run_records_eiann_histories() {
        use super::{train, Interval, TrainEvent, TrainOptions};
        use crate::samples::InMemorySamples;
        let n = 40;
        let mut inputs = ndarray::Array2::<f32>::zeros((n, 784));
        let mut labels = Vec::new();
        for s in 0..n {
            let (x, _) = sample(s);
            inputs.row_mut(s).assign(&ndarray::ArrayView1::from(&x[..]));
            labels.push(s % 10);
        }
        let data = InMemorySamples {
            inputs,
            labels,
            classes: 10,
        };
        let opts = TrainOptions {
            epochs: 2,
            samples_per_epoch: Some(25),
            data_seed: 257,
            store_params_interval: Some(Interval::new(0, -1, 10)),
            val_interval: Some(Interval::new(0, -1, 25)),
            threads: 2,
        };
        let mut net = Network::new(spec(), 66049);
        let mut events = 0;
        let mut val_events = Vec::new();
        let h = train(&mut net, &data, Some(&data), &opts, &mut |e| match e {
            TrainEvent::Step { .. } => events += 1,
            TrainEvent::Validation { step, eval } => val_events.push((step as i64, eval.accuracy)),
        })
        .unwrap();
        assert_eq!(events, 50);
        // Validation runs beside training, yet is reported in step order and evaluates the network
        // exactly as it was after that step.
        let want_events: Vec<(i64, f32)> = h
            .val_steps
            .iter()
            .copied()
            .zip(h.val_accuracy.iter().copied())
            .collect();
        assert_eq!(val_events, want_events);
        let last = crate::evaluate::evaluate(&net, &data, 1).unwrap();
        assert_eq!(
            (h.val_loss[2], h.val_accuracy[2]),
            (last.loss, last.accuracy)
        );
        let at0 = Network::from_state_dict(spec(), &h.param_history[0]).unwrap();
        let first = crate::evaluate::evaluate(&at0, &data, 1).unwrap();
        assert_eq!(
            (h.val_loss[0], h.val_accuracy[0]),
            (first.loss, first.accuracy)
        );
        assert_eq!(h.loss_history.len(), 50);
        assert_eq!(h.param_history_steps, vec![0, 9, 19, 29, 39, 49]);
        assert_eq!(h.val_steps, vec![0, 24, 49]);
        let mut rng = crate::rng::TorchRng::new(257);
        let first = crate::rng::epoch_sample_order(&mut rng, n);
        let second = crate::rng::epoch_sample_order(&mut rng, n);
        let want: Vec<i64> = first[..25]
            .iter()
            .chain(&second[..25])
            .map(|&i| i as i64)
            .collect();
        assert_eq!(h.sample_order, want);
        assert_eq!(h.param_history.last().unwrap(), &net.state_dict());
        // the same run again gives the same bits, whatever the validation thread count
        let mut net2 = Network::new(spec(), 66049);
        let opts1 = TrainOptions { threads: 1, ..opts };
        let h2 = train(&mut net2, &data, Some(&data), &opts1, &mut |_| {}).unwrap();
        assert_eq!(h, h2);
    }

    #[test]
    fn same_seed_same_bits() {
        let a = Network::new(spec(), 1234).state_dict();
        let b = Network::new(spec(), 1234).state_dict();
        assert_eq!(a, b);
        assert_ne!(a, Network::new(spec(), 1235).state_dict());
    }
}
