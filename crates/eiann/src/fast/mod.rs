//! Where the products `W·r` of the dynamics come from, and every other exact speed-up, behind one narrow
//! interface: [`crate::dynamics`] asks for "the somatic drive of population P from projection k" or "the
//! dendritic input of P", and [`FastPath`] answers.
//!
//! | speed-up | module | what it reuses | same bits because |
//! |---|---|---|---|
//! | clamped input computed once | here (`input_drive`) | `W·x` of projections from the input population, constant during a phase | same kernel on the same inputs |
//! | products of unchanged activities | [`reuse`] | supervised phase: interneuron products (SomaI → E, DendI → E), equal in all 15 steps | versions on activities |
//! | stacked evaluation | [`stacks`] | all forward-phase projections from one population in one kernel call; populations the output does not depend on skipped | same sums, other outputs side by side |
//! | SIMD kernels | [`kernels`] | gathered nonzero inputs, register tiles, AVX2; the adjoint's `Wᵀ·ū` by 8×8 tiles transposed in registers | same operations per element, same order |
//! | fused clamps, incremental constraints | [`crate::constraints`], the rules | the clamp done in the update pass; only changed columns re-constrained | clamping is element-wise and idempotent |
//! | dendritic states only where read | [`crate::rules::bp_like_2l`] | supervised phase: steps 1..14 are overwritten unread | nothing reads them |
//!
//! [`Speed::Reference`] switches every one of them off (and multiplies with the plain formula
//! [`kernels::matmat_plain`]): the same model, computed the obvious way. Tests run both and compare
//! every weight bit (`tests` below, and `fast_and_reference_paths_agree` in the train tests).
//! Compare linfa's k-means: the exact faster variant is a choice, the plain one stays beside it.

pub mod kernels;
pub(crate) mod reuse;
pub(crate) mod stacks;

use crate::config::{Compartment, Direction, NetworkSpec};
use crate::network::{PopulationState, Projection};
use reuse::{ActivityVersions, ProductCache};
use stacks::FusedDrives;

/// How the network computes: every exact speed-up on, or the plain reference path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Speed {
    /// Cached and reused products, stacked evaluation, fused clamps, incremental constraints, SIMD
    /// kernels (the default).
    #[default]
    Fast,
    /// No caches, no stacking, no fused clamps, full constraint passes, every dendritic state computed,
    /// products by the plain formula. Same bits, several times slower; for tests.
    Reference,
}

/// Which phase an integration step belongs to (it selects the somatic projections that drive it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The sensory (forward) phase: somatic projections with update phase F or A.
    Sensory,
    /// The supervised (backward, nudge) phase: all somatic projections (EIANN's backward activity
    /// update does not filter by phase).
    Supervised,
}

/// The presynaptic vector a projection reads: `activity` (direction F) or the start-of-step
/// `prev_activity` (R, then `true`, which selects the version in [`reuse`]).
#[inline]
pub(crate) fn presynaptic(pre: &PopulationState, direction: Direction) -> (&[f32], bool) {
    match direction {
        Direction::Forward => (&pre.activity, false),
        Direction::Recurrent => (&pre.prev_activity, true),
    }
}

/// The state of the speed-ups of one network (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct FastPath {
    speed: Speed,
    /// `W·x` of every projection whose presynaptic population is the clamped input (empty otherwise).
    input_drive: Vec<Vec<f32>>,
    /// Whether `input_drive` matches the current input and weights.
    input_drive_valid: bool,
    /// Activity versions and products of the supervised phase ([`reuse`]).
    versions: ActivityVersions,
    products: ProductCache,
    /// Stacked forward-phase products for evaluation with fixed weights ([`stacks`]).
    stacks: Option<Box<FusedDrives>>,
    /// Whether every weight satisfied its bounds and constraints after the last constraint pass (false
    /// after loading weights), so that the next pass may treat only changed columns.
    pub(crate) fully_constrained: bool,
    /// Set by [`crate::Network::train_step`] around its supervised phase: the constraint pass follows
    /// the autograd rules' optimizer steps with nothing reading those weights in between, so their SGD
    /// pass may clamp ([`FastPath::fused_sgd_clamp`]). A caller of [`crate::Network::backward`] alone
    /// sees EIANN's weights before `constrain_weights_and_biases`.
    pub(crate) constraint_pass_follows: bool,
    /// Products computed fresh (one buffer, reused).
    scratch: Vec<f32>,
}

impl FastPath {
    pub(crate) fn new(spec: &NetworkSpec) -> FastPath {
        let input_drive = spec
            .projections
            .iter()
            .map(|p| {
                if spec.populations[p.pre].is_input {
                    vec![0f32; spec.populations[p.post].size]
                } else {
                    Vec::new()
                }
            })
            .collect();
        let max = spec.populations.iter().map(|p| p.size).max().unwrap_or(0);
        FastPath {
            speed: Speed::Fast,
            input_drive,
            input_drive_valid: false,
            versions: ActivityVersions::new(spec.populations.len()),
            products: ProductCache::new(spec.projections.len()),
            stacks: None,
            fully_constrained: false,
            constraint_pass_follows: false,
            scratch: vec![0.0; max],
        }
    }

    pub(crate) fn speed(&self) -> Speed {
        self.speed
    }

    pub(crate) fn set_speed(&mut self, speed: Speed) {
        self.speed = speed;
        self.input_drive_valid = false;
        self.stacks = None;
        self.products.clear();
    }

    fn fast(&self) -> bool {
        self.speed == Speed::Fast
    }

    /// The clamp a rule may fuse into its update (`None` on the reference path: the constraint pass
    /// clamps).
    pub(crate) fn fused_clamp(
        &self,
        bounds: (Option<f64>, Option<f64>),
    ) -> Option<kernels::Bounds> {
        if self.fast() {
            kernels::Bounds::of(bounds)
        } else {
            None
        }
    }

    /// The clamp the autograd rules may fuse into their SGD pass: [`FastPath::fused_clamp`] while
    /// [`crate::Network::train_step`] runs the supervised phase, else `None`.
    pub(crate) fn fused_sgd_clamp(
        &self,
        bounds: (Option<f64>, Option<f64>),
    ) -> Option<kernels::Bounds> {
        self.fused_clamp(bounds)
            .filter(|_| self.constraint_pass_follows)
    }

    /// Whether the constraint pass may touch only the weights that changed.
    pub(crate) fn incremental_constraints(&self) -> bool {
        self.fast() && self.fully_constrained
    }

    /// Whether the supervised phase may skip dendritic states nothing reads.
    pub(crate) fn skip_unread_dendrites(&self) -> bool {
        self.fast()
    }

    /// The batch size changed: products of the input are resized and recomputed.
    pub(crate) fn resize(&mut self, spec: &NetworkSpec, batch: usize) {
        for (d, ps) in self.input_drive.iter_mut().zip(&spec.projections) {
            if spec.populations[ps.pre].is_input {
                d.clear();
                d.resize(batch * spec.populations[ps.post].size, 0.0);
            }
        }
        let max = spec.populations.iter().map(|p| p.size).max().unwrap_or(0);
        self.scratch.resize(batch * max, 0.0);
        self.input_drive_valid = false;
    }

    /// Some weights changed (a rule, a constraint pass, a load): cached products and stacks are stale.
    pub(crate) fn weights_changed(&mut self) {
        self.input_drive_valid = false;
        self.stacks = None;
    }

    /// Weights were loaded from outside: the next constraint pass must be complete.
    pub(crate) fn weights_loaded(&mut self) {
        self.weights_changed();
        self.fully_constrained = false;
    }

    /// Stack the forward-phase products for evaluating this network's current weights (dropped as soon
    /// as a weight changes). Only on the fast path.
    pub(crate) fn stack_for_evaluation(&mut self, stacks: FusedDrives) {
        if self.fast() {
            self.stacks = Some(Box::new(stacks));
        }
    }

    /// Whether the output depends on population `pi` in the sensory phase (with stacked evaluation,
    /// populations it does not depend on are not integrated).
    pub(crate) fn integrates(&self, pi: usize) -> bool {
        self.stacks.as_ref().is_none_or(|s| s.needed(pi))
    }

    /// Whether stacked evaluation is on (recordings are then refused: skipped populations).
    pub(crate) fn is_stacked(&self) -> bool {
        self.stacks.is_some()
    }

    /// A sensory phase starts with a new clamped input: every population was reset.
    pub(crate) fn sensory_phase_started(
        &mut self,
        spec: &NetworkSpec,
        projections: &[Projection],
        pops: &[PopulationState],
        batch: usize,
    ) {
        if let Some(s) = self.stacks.as_deref_mut() {
            s.reset_all();
            // The stacks hold the input's products; the per-projection cache is not refreshed.
            self.input_drive_valid = false;
        } else if self.fast() {
            self.refresh_input_drive(spec, projections, pops, batch);
        }
    }

    fn refresh_input_drive(
        &mut self,
        spec: &NetworkSpec,
        projections: &[Projection],
        pops: &[PopulationState],
        batch: usize,
    ) {
        for (k, ps) in spec.projections.iter().enumerate() {
            if spec.populations[ps.pre].is_input {
                let p = &projections[k];
                kernels::matmat_slices(
                    &p.wt,
                    p.post_size,
                    p.pre_size,
                    &pops[ps.pre].activity,
                    &mut self.input_drive[k],
                    batch,
                );
            }
        }
        self.input_drive_valid = true;
    }

    /// A supervised phase starts (the weights may have changed since the sensory phase): the input's
    /// products are brought up to date and products are reused within this phase only.
    pub(crate) fn supervised_phase_started(
        &mut self,
        spec: &NetworkSpec,
        projections: &[Projection],
        pops: &[PopulationState],
    ) {
        if self.fast() {
            if !self.input_drive_valid {
                self.refresh_input_drive(spec, projections, pops, 1);
            }
            self.versions.renew_all();
            self.products.clear();
        }
    }

    /// Every population's `prev_activity` was set to its activity (start of a sensory step).
    pub(crate) fn all_steps_started(&mut self) {
        if let Some(s) = self.stacks.as_deref_mut() {
            s.step_start();
        }
    }

    /// Population `pi`'s `prev_activity` was set to its activity (start of its supervised step).
    pub(crate) fn step_started(&mut self, pi: usize) {
        self.versions.prev_copied(pi);
    }

    /// Population `pi` was integrated (its activity changed).
    pub(crate) fn integrated(&mut self, pi: usize, phase: Phase) {
        match phase {
            Phase::Sensory => {
                if let Some(s) = self.stacks.as_deref_mut() {
                    s.integrated(pi);
                }
            }
            Phase::Supervised => self.versions.integrated(pi),
        }
    }

    /// **The somatic drive** `W_k · r` of projection `k` into a population of `n` units, for `batch`
    /// rows, with `r` = `x`, the presynaptic population's activity (or `prev_activity` when `prev`).
    /// Returns the products as rows of `stride` values, the projection's `n` outputs starting at
    /// `offset` in each row.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub(crate) fn somatic_drive(
        &mut self,
        k: usize,
        pre: usize,
        pre_is_input: bool,
        p: &Projection,
        x: &[f32],
        prev: bool,
        phase: Phase,
        batch: usize,
    ) -> (&[f32], usize, usize) {
        let n = p.post_size;
        if !self.fast() {
            kernels::matmat_plain(&p.wt, n, p.pre_size, x, &mut self.scratch, batch);
            return (&self.scratch[..batch * n], n, 0);
        }
        if let Some(s) = self.stacks.as_deref_mut().filter(|s| s.is_fused(k)) {
            return s.drive(k, pre, prev, x, batch);
        }
        if pre_is_input {
            return (&self.input_drive[k], n, 0);
        }
        if phase == Phase::Supervised {
            // Products of populations not integrated in this phase are reused ([`reuse`]).
            let version = self.versions.of(pre, prev);
            let y = self.products.product(k, version, batch * n, |y| {
                kernels::matmat_slices(&p.wt, n, p.pre_size, x, y, batch)
            });
            return (y, n, 0);
        }
        kernels::matmat_slices(&p.wt, n, p.pre_size, x, &mut self.scratch, batch);
        (&self.scratch[..batch * n], n, 0)
    }

    /// **The dendritic input** `W_k · r` of dendritic projection `k` (batch 1), reused within the
    /// supervised phase while `r` is unchanged.
    #[inline]
    pub(crate) fn dendritic_drive(
        &mut self,
        k: usize,
        pre: usize,
        p: &Projection,
        x: &[f32],
        prev: bool,
        phase: Phase,
    ) -> &[f32] {
        let n = p.post_size;
        if !self.fast() {
            kernels::matmat_plain(&p.wt, n, p.pre_size, x, &mut self.scratch, 1);
            return &self.scratch[..n];
        }
        if phase == Phase::Supervised {
            let version = self.versions.of(pre, prev);
            return self.products.product(k, version, n, |y| {
                kernels::matmat_slices(&p.wt, n, p.pre_size, x, y, 1)
            });
        }
        kernels::matmat_slices(&p.wt, n, p.pre_size, x, &mut self.scratch, 1);
        &self.scratch[..n]
    }

    /// Recompute every product on every call (tests compare both ways).
    #[cfg(test)]
    pub(crate) fn set_product_reuse(&mut self, on: bool) {
        self.products.set_reuse(on);
    }
}

/// The somatic projections into population `pi` that drive it in `phase`, in EIANN's iteration order.
#[inline]
pub(crate) fn drives_in(spec: &NetworkSpec, k: usize, phase: Phase) -> bool {
    let ps = &spec.projections[k];
    ps.compartment == Compartment::Soma
        && (phase == Phase::Supervised || ps.update_phase.in_forward())
}
