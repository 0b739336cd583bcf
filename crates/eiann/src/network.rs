//! The network object: populations (soma state, activity, dendritic state) and projections (weights),
//! built from a [`NetworkSpec`] and a seed exactly as EIANN's `Network.__init__` builds them.
//!
//! The phases that change this state live in [`crate::dynamics`] (forward / backward integration),
//! [`crate::rules`] (weight updates) and [`crate::constraints`] (bounds, normalisation, clones).

use ndarray::{Array2, ArrayD, IxDyn};

use crate::config::{Compartment, NetworkSpec, WeightInit};
use crate::error::{Error, Result};
use crate::fast::kernels::{self, Bounds};
use crate::fast::{FastPath, Speed};
use crate::rng::TorchRng;
use crate::rules::BackwardFn;
use crate::state::StateDict;

/// One projection's weights, stored **pre-major** (`wt[j * post + i] = W[i][j]`, the transpose of
/// PyTorch's `(post, pre)` layout), so that `W·x` is a sequence of contiguous `y += x_j · W[:, j]` updates
/// that skip silent presynaptic units. Each `y_i` is still summed over `j` in increasing order.
#[derive(Debug, Clone)]
pub struct Projection {
    /// Number of postsynaptic units (rows of `W`).
    pub post_size: usize,
    /// Number of presynaptic units (columns of `W`).
    pub pre_size: usize,
    /// Weights, pre-major.
    pub wt: Vec<f32>,
    /// Columns changed since the last constraint pass (lets training re-constrain only what changed).
    pub(crate) changes: ChangeSet,
}

/// Which columns (presynaptic units) of a weight matrix changed since the weights were last constrained.
#[derive(Debug, Clone, Default)]
pub(crate) struct ChangeSet {
    all: bool,
    cols: Vec<u32>,
    /// The changed weights (every weight after `mark_all`) are already within the projection's bounds
    /// (clamped by the update).
    clamped: bool,
}

impl ChangeSet {
    /// Record that column `j` changed.
    #[inline]
    pub(crate) fn mark_column(&mut self, j: usize) {
        if !self.all {
            self.cols.push(j as u32);
        }
    }
    /// Record that (possibly) every weight changed.
    pub(crate) fn mark_all(&mut self) {
        self.all = true;
        self.cols.clear();
        self.clamped = false;
    }
    /// Forget all changes (keeps capacity).
    pub(crate) fn clear(&mut self) {
        self.all = false;
        self.cols.clear();
        self.clamped = false;
    }
    /// Whether the changed weights are known to lie within the projection's bounds already; call it
    /// after marking the update's changes (marking resets it only through `mark_all` and `clear`).
    pub(crate) fn set_clamped(&mut self, clamped: bool) {
        self.clamped = clamped;
    }
    /// The changed weights lie within the projection's bounds already (no clamp needed).
    pub(crate) fn is_clamped(&self) -> bool {
        self.clamped
    }
    /// The changed-column list, for in-place use.
    pub(crate) fn cols_mut(&mut self) -> &mut Vec<u32> {
        &mut self.cols
    }
    /// Nothing changed.
    pub(crate) fn is_clean(&self) -> bool {
        !self.all && self.cols.is_empty()
    }
    /// The changed columns, or `None` when every column may have changed (or none did: see `is_clean`).
    pub(crate) fn columns(&self) -> Option<&[u32]> {
        if self.all {
            None
        } else {
            Some(&self.cols)
        }
    }
}

impl Projection {
    /// A `post × pre` projection with all weights zero.
    pub fn zeros(post: usize, pre: usize) -> Projection {
        Projection {
            post_size: post,
            pre_size: pre,
            wt: vec![0.0; post * pre],
            changes: ChangeSet::default(),
        }
    }

    /// Weight `W[i][j]` (post `i`, pre `j`).
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> f32 {
        self.wt[j * self.post_size + i]
    }

    /// The weight matrix in PyTorch's `(post, pre)` layout.
    pub fn to_post_pre(&self) -> Array2<f32> {
        Array2::from_shape_fn((self.post_size, self.pre_size), |(i, j)| self.get(i, j))
    }

    /// `y = W·x` (see [`kernels::matmat_slices`]).
    pub fn matvec(&self, x: &[f32], y: &mut [f32]) {
        kernels::matmat_slices(&self.wt, self.post_size, self.pre_size, x, y, 1)
    }

    /// `W[i][j] = fl(W[i][j] ± fl(lr · fl(a_i · b_j)))` (minus when `subtract`), then, with `clamp`, the
    /// clamp of the constraint pass in the same pass ([`kernels::outer_update`]), so that pass may skip
    /// the updated weights: EIANN updates each projection once per step (its one learning rule) before
    /// clamping, so clamping right after the update gives the same bits. The updated columns are
    /// recorded in the change set, marked as clamped when `clamp` is given and no earlier change is
    /// pending.
    pub fn outer_update(
        &mut self,
        a: &[f32],
        b: &[f32],
        lr: f32,
        subtract: bool,
        clamp: Option<Bounds>,
    ) {
        let was_clean = self.changes.is_clean();
        let changes = &mut self.changes;
        kernels::outer_update(
            &mut self.wt,
            self.post_size,
            a,
            b,
            lr,
            subtract,
            clamp,
            &mut |j| changes.mark_column(j),
        );
        self.changes.set_clamped(was_clean && clamp.is_some());
    }

    /// Overwrite from a `(post, pre)` row-major slice.
    pub fn set_from_post_pre(&mut self, w: &[f32]) {
        let (post, pre) = (self.post_size, self.pre_size);
        for i in 0..post {
            for j in 0..pre {
                self.wt[j * post + i] = w[i * pre + j];
            }
        }
    }
}

/// The dynamic variables of one population (EIANN `Population` attributes of the same names).
#[derive(Debug, Clone, Default)]
pub struct PopulationState {
    /// Somatic pre-activation state (`state`); unused for the input population.
    pub state: Vec<f32>,
    /// `activity` = activation(state) (+ dend_to_soma in the backward phase).
    pub activity: Vec<f32>,
    /// `prev_activity`: the start-of-step snapshot read by recurrent projections.
    pub prev_activity: Vec<f32>,
    /// `forward_activity`: activity at the end of the forward phase.
    pub forward_activity: Vec<f32>,
    /// `forward_prev_activity`: prev_activity at the end of the forward phase.
    pub forward_prev_activity: Vec<f32>,
    /// `forward_dendritic_state` (populations with dendritic projections), not clamped.
    pub forward_dendritic_state: Vec<f32>,
    /// `dendritic_state` computed in the backward phase (clamped to [−1, 1]); for the output population,
    /// the clamped output error.
    pub dendritic_state: Vec<f32>,
    /// `plateau` (set once per supervised phase) for populations with a DTP (BP_like) projection.
    pub plateau: Vec<f32>,
    /// `dend_to_soma` (same as the plateau), added to the state in the backward phase.
    pub dend_to_soma: Vec<f32>,
    /// Bias (`parameter_dict.<pop>_bias`), zero unless loaded otherwise; added to the state in every step
    /// (as EIANN does even when `include_bias` is false).
    pub bias: Vec<f32>,
}

/// Static facts about a population derived from the spec, precomputed for the hot loop.
#[derive(Debug, Clone)]
pub(crate) struct PopulationWiring {
    /// Incoming projections in EIANN's iteration order.
    pub incoming: Vec<usize>,
    /// Whether any incoming projection has update phase B or A (`backward_projections` non-empty).
    pub has_backward_projections: bool,
    /// Whether any incoming projection targets the dendrite.
    pub has_dendrite: bool,
}

/// An EIANN network: spec, weights and the state of every population.
#[derive(Debug, Clone)]
pub struct Network {
    pub(crate) spec: NetworkSpec,
    pub(crate) projections: Vec<Projection>,
    pub(crate) pops: Vec<PopulationState>,
    pub(crate) wiring: Vec<PopulationWiring>,
    /// Non-input layers in reverse order (`Output, H2, H1` here), as population index lists.
    pub(crate) reversed_layers: Vec<Vec<usize>>,
    /// The class-level backward methods of the rules, in EIANN's registration order.
    pub(crate) backward_methods: Vec<BackwardFn>,
    /// Where the products come from and the other exact speed-ups ([`crate::fast`]).
    pub(crate) fast: FastPath,
    /// Scratch vectors (no allocation in the step loop): the rules' post- and presynaptic vectors,
    /// row sums of the normalisation, the integration's `Δ`.
    pub(crate) scratch_a: Vec<f32>,
    pub(crate) scratch_y: Vec<f32>,
    pub(crate) scratch_rowsum: Vec<f64>,
    pub(crate) scratch_delta: Vec<f32>,
    /// Number of samples integrated side by side in the forward phase (1 for training).
    pub(crate) batch: usize,
    /// The seed the weights were drawn with (None when loaded from a state dict).
    pub seed: Option<u64>,
    /// Activities of the last forward steps, for the autograd rules' adjoint ([`crate::adjoint`]).
    pub(crate) tape: crate::adjoint::Tape,
    /// Gradient buffers of the autograd rules (pre-major, per projection).
    pub(crate) grads: Vec<Vec<f32>>,
}

impl Network {
    /// Build and initialise a network as `Network(layer_config, projection_config, seed=seed, ...)` does:
    /// `torch.manual_seed(seed)`, `nn.Linear` default init of every projection (construction order),
    /// `half_kaiming` of every projection (same order), then `constrain_weights_and_biases()`.
    pub fn new(spec: NetworkSpec, seed: u64) -> Network {
        let mut net = Self::zeroed(spec);
        net.seed = Some(seed);
        let mut rng = TorchRng::new(seed);
        // Pass 1: nn.Linear(in, out) default init: kaiming_uniform_(a=√5) ⇒ uniform(±1/√fan_in).
        let mut defaults: Vec<Vec<f32>> = Vec::with_capacity(net.projections.len());
        for p in &net.projections {
            let fan_in = p.pre_size as f64;
            let gain = (2.0 / (1.0 + 5f64.sqrt().powi(2))).sqrt();
            let std = gain / fan_in.sqrt();
            let bound = 3f64.sqrt() * std;
            let mut w = vec![0f32; p.post_size * p.pre_size];
            rng.fill_uniform(&mut w, -bound, bound);
            defaults.push(w);
        }
        // Pass 2: init_weights_and_biases (layers → populations → projections = construction order).
        for (k, ps) in net.spec.projections.iter().enumerate() {
            let p = &mut net.projections[k];
            match ps.weight_init {
                WeightInit::LinearDefault => p.set_from_post_pre(&defaults[k]),
                WeightInit::HalfKaiming { scale } => {
                    let b = scale * (1.0 / (p.pre_size as f64).sqrt());
                    let mut w = vec![0f32; p.post_size * p.pre_size];
                    let excitatory = ps.weight_bounds.0.is_some_and(|lo| lo >= 0.0);
                    if excitatory {
                        rng.fill_uniform(&mut w, 0.0, b);
                    } else {
                        rng.fill_uniform(&mut w, -b, 0.0);
                    }
                    p.set_from_post_pre(&w);
                }
                WeightInit::ScaledKaiming { scale } => {
                    // `W.uniform_(−b, b)`, b = scale·(1/√fan_in) in float64 (spec-rules §2).
                    let b = scale * (1.0 / (p.pre_size as f64).sqrt());
                    let mut w = vec![0f32; p.post_size * p.pre_size];
                    rng.fill_uniform(&mut w, -b, b);
                    p.set_from_post_pre(&w);
                }
            }
        }
        net.constrain_weights();
        net
    }

    /// A network with all weights zero (to be filled by [`Network::load_state_dict`]).
    fn zeroed(spec: NetworkSpec) -> Network {
        let projections = spec
            .projections
            .iter()
            .map(|p| Projection::zeros(spec.populations[p.post].size, spec.populations[p.pre].size))
            .collect();
        let pops = spec
            .populations
            .iter()
            .map(|p| {
                let z = vec![0f32; p.size];
                PopulationState {
                    state: z.clone(),
                    activity: z.clone(),
                    prev_activity: z.clone(),
                    forward_activity: z.clone(),
                    forward_prev_activity: z.clone(),
                    forward_dendritic_state: z.clone(),
                    dendritic_state: z.clone(),
                    plateau: z.clone(),
                    dend_to_soma: z.clone(),
                    bias: z,
                }
            })
            .collect();
        let wiring = (0..spec.populations.len())
            .map(|pi| {
                let incoming: Vec<usize> = (0..spec.projections.len())
                    .filter(|&k| spec.projections[k].post == pi)
                    .collect();
                PopulationWiring {
                    has_backward_projections: incoming
                        .iter()
                        .any(|&k| spec.projections[k].update_phase.in_backward()),
                    has_dendrite: incoming
                        .iter()
                        .any(|&k| spec.projections[k].compartment == Compartment::Dendrite),
                    incoming,
                }
            })
            .collect();
        let reversed_layers = spec
            .layers
            .iter()
            .skip(1)
            .rev()
            .map(|l| l.populations.clone())
            .collect();
        let max_size = spec.populations.iter().map(|p| p.size).max().unwrap_or(0);
        let tape = crate::adjoint::Tape::new(&spec, crate::rules::tape_depth(&spec));
        Network {
            backward_methods: crate::rules::backward_methods(&spec),
            fast: FastPath::new(&spec),
            spec,
            projections,
            pops,
            wiring,
            reversed_layers,
            scratch_a: vec![0.0; max_size],
            scratch_rowsum: vec![0.0; max_size],
            scratch_delta: vec![0.0; max_size],
            scratch_y: vec![0.0; max_size],
            batch: 1,
            seed: None,
            tape,
            grads: Vec::new(),
        }
    }

    /// Number of samples the forward phase integrates side by side (1 unless set).
    pub fn batch_size(&self) -> usize {
        self.batch
    }

    /// Set how many samples [`Network::forward`] integrates side by side (for fast evaluation; each
    /// sample gets exactly the bits it gets alone). The supervised phase and learning need batch size 1.
    pub fn set_batch_size(&mut self, batch: usize) -> Result<()> {
        if batch == 0 {
            return Err(Error::invalid("batch size", "must be at least 1"));
        }
        if batch == self.batch {
            return Ok(());
        }
        self.batch = batch;
        for (p, spec) in self.pops.iter_mut().zip(&self.spec.populations) {
            for v in [&mut p.state, &mut p.activity, &mut p.prev_activity] {
                v.clear();
                v.resize(batch * spec.size, 0.0);
            }
        }
        let max = self
            .spec
            .populations
            .iter()
            .map(|p| p.size)
            .max()
            .unwrap_or(0);
        self.scratch_delta.resize(batch * max, 0.0);
        self.fast.resize(&self.spec, batch);
        Ok(())
    }

    /// Build a network from a spec and load every parameter from `state` (EIANN `load_state_dict`).
    pub fn from_state_dict(spec: NetworkSpec, state: &StateDict) -> Result<Network> {
        let mut net = Self::zeroed(spec);
        net.load_state_dict(state)?;
        Ok(net)
    }

    /// Overwrite weights and biases from a state dict with EIANN's key names. Every weight of the network
    /// must be present with its exact shape; biases are optional (zero when absent); unknown keys are an
    /// error (like PyTorch's strict loading). Nothing is changed if any check fails.
    pub fn load_state_dict(&mut self, state: &StateDict) -> Result<()> {
        let mut expected: Vec<String> = Vec::new();
        for (k, ps) in self.spec.projections.iter().enumerate() {
            let key = StateDict::weight_key(&ps.name);
            let t = state.require(&key)?;
            let p = &self.projections[k];
            if t.shape() != [p.post_size, p.pre_size] {
                return Err(Error::shape(
                    &key,
                    format!("{:?}", [p.post_size, p.pre_size]),
                    format!("{:?}", t.shape()),
                ));
            }
            expected.push(key);
        }
        for p in self.spec.populations.iter().filter(|p| !p.is_input) {
            let key = StateDict::bias_key(&p.fullname);
            if let Some(t) = state.get(&key) {
                if t.shape() != [p.size] {
                    return Err(Error::shape(
                        &key,
                        format!("[{}]", p.size),
                        format!("{:?}", t.shape()),
                    ));
                }
            }
            expected.push(key);
        }
        if let Some(extra) = state.keys().find(|k| !expected.iter().any(|e| e == k)) {
            return Err(Error::UnknownName {
                kind: "state_dict key",
                name: extra.to_string(),
                hint: format!("; network {} has no such parameter", self.spec.name),
            });
        }
        for (k, ps) in self.spec.projections.iter().enumerate() {
            let t = state.require(&StateDict::weight_key(&ps.name))?;
            let v: Vec<f32> = t.iter().copied().collect();
            self.projections[k].set_from_post_pre(&v);
        }
        for (pi, p) in self.spec.populations.iter().enumerate() {
            if let Some(t) = state.get(&StateDict::bias_key(&p.fullname)) {
                self.pops[pi].bias = t.iter().copied().collect();
            }
        }
        self.fast.weights_loaded();
        Ok(())
    }

    /// The parameters as an EIANN state dict: every projection weight `(post, pre)` in construction
    /// order, then every non-input population's bias.
    pub fn state_dict(&self) -> StateDict {
        let mut sd = StateDict::new();
        for (k, ps) in self.spec.projections.iter().enumerate() {
            sd.insert(
                StateDict::weight_key(&ps.name),
                self.projections[k].to_post_pre().into_dyn(),
            );
        }
        for (pi, p) in self.spec.populations.iter().enumerate() {
            if !p.is_input {
                sd.insert(
                    StateDict::bias_key(&p.fullname),
                    ArrayD::from_shape_vec(IxDyn(&[p.size]), self.pops[pi].bias.clone())
                        .unwrap_or_else(|_| ArrayD::zeros(IxDyn(&[p.size]))),
                );
            }
        }
        sd
    }

    /// How the network computes: [`Speed::Fast`] (the default) or the plain [`Speed::Reference`] path,
    /// which gives the same bits with every speed-up off.
    pub fn set_speed(&mut self, speed: Speed) {
        self.fast.set_speed(speed);
    }

    /// The current [`Speed`].
    pub fn speed(&self) -> Speed {
        self.fast.speed()
    }

    /// Some weights changed (a rule step, a constraint pass): cached products are stale.
    pub(crate) fn weights_changed(&mut self) {
        self.fast.weights_changed();
    }

    /// The clamp a rule may fuse into its update of projection `k` (the projection's bounds on the fast
    /// path; `None` on the reference path, where the constraint pass clamps).
    pub(crate) fn update_clamp(&self, k: usize) -> Option<Bounds> {
        self.fast
            .fused_clamp(self.spec.projections[k].weight_bounds)
    }

    /// The checked config this network was built from.
    pub fn spec(&self) -> &NetworkSpec {
        &self.spec
    }

    /// Weight matrix `(post, pre)` of the projection named `<Post>_<Pre>`.
    pub fn weight(&self, projection: &str) -> Result<Array2<f32>> {
        Ok(self.projections[self.spec.projection_index(projection)?].to_post_pre())
    }

    /// Projection by index (construction order).
    pub fn projection(&self, k: usize) -> &Projection {
        &self.projections[k]
    }

    /// All projections' weights, construction order.
    pub fn projections(&self) -> &[Projection] {
        &self.projections
    }

    /// State of the population with this full name (e.g. `H2E`).
    pub fn population(&self, fullname: &str) -> Result<&PopulationState> {
        Ok(&self.pops[self.spec.population_index(fullname)?])
    }

    /// State of population `i` (creation order).
    pub fn population_at(&self, i: usize) -> &PopulationState {
        &self.pops[i]
    }

    /// Activity of the output population.
    pub fn output(&self) -> &[f32] {
        &self.pops[self.spec.output].activity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proj(post: usize, pre: usize, post_pre: &[f32]) -> Projection {
        let mut p = Projection::zeros(post, pre);
        p.set_from_post_pre(post_pre);
        p
    }

    /// The clamp fused into the update gives the bits of the update followed by the constraint pass's
    /// clamp of the changed columns, and is recorded as done only for the first update of a pass.
    #[test]
    fn outer_update_with_clamp_equals_update_then_clamp() {
        let (post, pre) = (37, 11);
        let w0: Vec<f32> = (0..post * pre)
            .map(|i| ((i * 7919) % 61) as f32 / 30.0 - 1.0)
            .collect();
        let a: Vec<f32> = (0..post)
            .map(|i| ((i * 31) % 17) as f32 / 8.0 - 1.0)
            .collect();
        let b: Vec<f32> = (0..pre)
            .map(|j| if j % 3 == 0 { 0.0 } else { j as f32 / 7.0 })
            .collect();
        for (bounds, subtract) in [
            ((Some(0.0), None), false),
            ((None, Some(0.0)), true),
            ((Some(-0.25), Some(0.5)), false),
        ] {
            let clamp = Bounds::of(bounds);
            let mut fused = proj(post, pre, &w0);
            let mut apart = fused.clone();
            fused.outer_update(&a, &b, 0.75, subtract, clamp);
            apart.outer_update(&a, &b, 0.75, subtract, None);
            assert!(fused.changes.is_clamped() && !apart.changes.is_clamped());
            let cols = apart.changes.columns().unwrap().to_vec();
            assert_eq!(fused.changes.columns().unwrap(), &cols[..]);
            crate::constraints::clamp_columns(&mut apart, bounds, &cols);
            let bits = |p: &Projection| p.wt.iter().map(|w| w.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&fused), bits(&apart), "{bounds:?}");
            assert!(bits(&fused) != bits(&proj(post, pre, &w0)));
            // A second update before the constraint pass leaves the clamp to the pass.
            fused.outer_update(&a, &b, 0.75, subtract, clamp);
            assert!(!fused.changes.is_clamped());
        }
    }

    #[test]
    fn outer_update_records_changed_columns() {
        let mut p = proj(2, 3, &[0.0; 6]);
        p.outer_update(&[1.0, 2.0], &[0.0, 0.5, 1.0], 0.5, false, None);
        assert_eq!(
            p.to_post_pre().as_slice().unwrap(),
            &[0.0, 0.25, 0.5, 0.0, 0.5, 1.0]
        );
        assert_eq!(p.changes.columns(), Some(&[1u32, 2][..]));
    }

    #[test]
    fn pre_major_layout_round_trips() {
        let mut p = Projection::zeros(2, 3);
        p.set_from_post_pre(&[1., 2., 3., 4., 5., 6.]);
        assert_eq!(p.get(1, 0), 4.0);
        assert_eq!(
            p.to_post_pre().as_slice().unwrap(),
            &[1., 2., 3., 4., 5., 6.]
        );
    }
}
