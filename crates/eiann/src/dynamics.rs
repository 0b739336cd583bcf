//! Rate dynamics: the forward (sensory) phase, `update_forward_state`, and the backward (supervised,
//! nudge) phase of `BP_like_2L` — one implementation used by training, the figure series and the tests.
//!
//! Mirrors EIANN `Network.forward`, `Population.forward`, `Network.update_forward_state` and
//! `BP_like_2L.backward` (spec §4, §4.1, §5). Every sum of projection inputs is formed as in PyTorch:
//! `delta = fl(-state + bias)`, then `delta = fl(delta + W·x)` per projection in iteration order,
//! `state = fl(state + fl(delta / tau))`. Each product `W·x` sums over presynaptic units in increasing order
//! (PyTorch's BLAS uses a blocked order, so single products may differ by ~1e-7 relative).

use crate::config::{Activation, Compartment, Direction, Rule};
use crate::drives::FusedDrives;
use crate::error::{Error, Result};
use crate::kernels::{has_avx2, matmat, matvec};
use crate::network::{Network, PopulationState};
use crate::record::Recording;

/// Which phase an integration step belongs to (selects the projections used).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Somatic projections with update phase F or A.
    Forward,
    /// All somatic projections (EIANN's backward activity update does not filter by phase).
    Backward,
}

/// The presynaptic vector a projection reads: `activity` (direction F) or the start-of-step
/// `prev_activity` (R, then `true`, which selects the version in [`crate::reuse`]).
fn presynaptic(pre: &PopulationState, direction: Direction) -> (&[f32], bool) {
    match direction {
        Direction::Forward => (&pre.activity, false),
        Direction::Recurrent => (&pre.prev_activity, true),
    }
}

/// One pass of a population's integration over one row: `delta += v` for one somatic drive, where
/// `delta` starts as `-state + bias` in the `first` pass, and the last pass (`finish`) ends the step with
/// `state += delta / tau; activity = f(state)`. Per element these are the operations of separate passes
/// in the same order (the same bits), with each row read once per drive instead of up to three times.
#[derive(Clone, Copy)]
struct Pass {
    first: bool,
    finish: bool,
    tau: f32,
}

impl Pass {
    /// The start of `delta`: `-state + bias`.
    #[inline(always)]
    fn start(s: f32, b: f32) -> f32 {
        -s + b
    }

    /// The end of the step: `state += delta / tau; activity = f(state)`.
    #[inline(always)]
    fn end(self, s: &mut f32, a: &mut f32, d: f32, f: &impl Fn(f32) -> f32) {
        *s += d / self.tau;
        *a = f(*s);
    }

    /// The pass over one row, with 8-lane AVX2 registers when the CPU has them (same operations).
    #[inline(always)]
    fn run(
        self,
        state: &mut [f32],
        activity: &mut [f32],
        delta: &mut [f32],
        bias: &[f32],
        v: &[f32],
        f: impl Fn(f32) -> f32,
    ) {
        #[cfg(target_arch = "x86_64")]
        if has_avx2() {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe { self.run_avx2(state, activity, delta, bias, v, f) };
            return;
        }
        self.run_body(state, activity, delta, bias, v, f)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn run_avx2(
        self,
        state: &mut [f32],
        activity: &mut [f32],
        delta: &mut [f32],
        bias: &[f32],
        v: &[f32],
        f: impl Fn(f32) -> f32,
    ) {
        self.run_body(state, activity, delta, bias, v, f)
    }

    #[inline(always)]
    fn run_body(
        self,
        state: &mut [f32],
        activity: &mut [f32],
        delta: &mut [f32],
        bias: &[f32],
        v: &[f32],
        f: impl Fn(f32) -> f32,
    ) {
        let elems = state
            .iter_mut()
            .zip(activity.iter_mut())
            .zip(delta.iter_mut())
            .zip(bias)
            .zip(v);
        match (self.first, self.finish) {
            (true, true) => {
                for ((((s, a), d), &b), &v) in elems {
                    *d = Pass::start(*s, b) + v;
                    self.end(s, a, *d, &f);
                }
            }
            (true, false) => {
                for ((((s, _), d), &b), &v) in elems {
                    *d = Pass::start(*s, b) + v;
                }
            }
            (false, true) => {
                for ((((s, a), d), _), &v) in elems {
                    *d += v;
                    self.end(s, a, *d, &f);
                }
            }
            (false, false) => {
                for ((((_, _), d), _), &v) in elems {
                    *d += v;
                }
            }
        }
    }
}

impl Network {
    /// Recompute the cached input drive `W·x` of every projection from the clamped input population.
    fn refresh_input_drive(&mut self) {
        let Network {
            spec,
            projections,
            pops,
            input_drive,
            batch,
            ..
        } = self;
        for (k, ps) in spec.projections.iter().enumerate() {
            if spec.populations[ps.pre].is_input {
                matmat(
                    &projections[k],
                    &pops[ps.pre].activity,
                    &mut input_drive[k],
                    *batch,
                );
            }
        }
        self.input_drive_valid = true;
    }

    /// Integrate population `pi` by one step (EIANN `Population.forward` and the body of
    /// `BP_like_2L.backward_update_layer_activity`). With `fused`, the products of its fused projections
    /// come from there (same bits, see [`crate::drives`]).
    fn integrate(&mut self, pi: usize, phase: Phase, mut fused: Option<&mut FusedDrives>) {
        let Network {
            spec,
            projections,
            pops,
            wiring,
            input_drive,
            scratch_delta,
            scratch_y,
            backward_versions,
            backward_products,
            batch,
            ..
        } = self;
        let batch = *batch;
        let pop = &spec.populations[pi];
        let n = pop.size;
        let delta = &mut scratch_delta[..batch * n];
        let contributes = |k: usize| {
            let ps = &spec.projections[k];
            ps.compartment == Compartment::Soma
                && (phase != Phase::Forward || ps.update_phase.in_forward())
        };
        let drives = wiring[pi]
            .incoming
            .iter()
            .filter(|&&k| contributes(k))
            .count();
        // Populations with a backward rule add their dendrite's contribution before the activation
        // (after the last drive); all others finish the step in the pass of their last drive.
        let dendrite_to_soma = phase == Phase::Backward && wiring[pi].bp_rule.is_some();
        let (tau, act) = (pop.tau, pop.activation);
        let mut seen = 0;
        for &k in wiring[pi].incoming.iter().filter(|&&k| contributes(k)) {
            let ps = &spec.projections[k];
            let (y, stride, offset): (&[f32], usize, usize) =
                if let Some(f) = fused.as_deref_mut().filter(|f| f.is_fused(k)) {
                    let (x, prev) = presynaptic(&pops[ps.pre], ps.direction);
                    f.drive(k, ps.pre, prev, x, batch)
                } else if spec.populations[ps.pre].is_input {
                    (&input_drive[k], n, 0)
                } else {
                    let (x, prev) = presynaptic(&pops[ps.pre], ps.direction);
                    if phase == Phase::Backward {
                        // Products of populations not integrated in this phase are reused
                        // (crate::reuse).
                        let version = backward_versions.of(ps.pre, prev);
                        let y = backward_products.product(k, version, batch * n, |y| {
                            matmat(&projections[k], x, y, batch)
                        });
                        (y, n, 0)
                    } else {
                        matmat(&projections[k], x, scratch_y, batch);
                        (&scratch_y[..batch * n], n, 0)
                    }
                };
            seen += 1;
            let pass = Pass {
                first: seen == 1,
                finish: seen == drives && !dendrite_to_soma,
                tau,
            };
            let me: &mut PopulationState = &mut pops[pi];
            let rows = me
                .state
                .chunks_exact_mut(n)
                .zip(me.activity.chunks_exact_mut(n))
                .zip(delta.chunks_exact_mut(n))
                .zip(y.chunks_exact(stride));
            for (((s, a), d), yrow) in rows {
                let v = &yrow[offset..offset + n];
                match act {
                    Activation::Relu => {
                        pass.run(s, a, d, &me.bias, v, |x| Activation::Relu.apply(x))
                    }
                    Activation::Linear => pass.run(s, a, d, &me.bias, v, |x| x),
                    other => pass.run(s, a, d, &me.bias, v, |x| other.apply(x)),
                }
            }
        }
        // Without somatic drives, the passes above did not run: delta is `-state + bias` alone.
        let me: &mut PopulationState = &mut pops[pi];
        if drives == 0 {
            for (drow, srow) in delta.chunks_exact_mut(n).zip(me.state.chunks_exact(n)) {
                for ((d, &s), &b) in drow.iter_mut().zip(srow).zip(&me.bias) {
                    *d = Pass::start(s, b);
                }
            }
        }
        let pass = Pass {
            first: false,
            finish: true,
            tau,
        };
        if dendrite_to_soma {
            // The backward phase runs with batch size 1 only: the activity is f(state + dendrite).
            let (state, activity) = (&mut me.state, &mut me.activity);
            for (((s, a), &d), &e) in state
                .iter_mut()
                .zip(activity.iter_mut())
                .zip(&*delta)
                .zip(&me.dend_to_soma)
            {
                pass.end(s, a, d, &|x| act.apply(x + e));
            }
        } else if drives == 0 {
            let (state, activity) = (&mut me.state, &mut me.activity);
            for ((s, a), &d) in state.iter_mut().zip(activity.iter_mut()).zip(&*delta) {
                pass.end(s, a, d, &|x| act.apply(x));
            }
        }
    }

    /// EIANN `Network.forward(x)`: reset every population, clamp the input and integrate
    /// `forward_steps` steps. Returns the output population's activity.
    /// With `record`, every population's activity after each step is appended to
    /// `record.forward_activity` (EIANN `store_dynamics=True`).
    ///
    /// With a batch size `B` set by [`Network::set_batch_size`], `x` holds `B` inputs one after the other
    /// and the returned slice `B` outputs; every sample gets exactly the bits it gets alone.
    pub fn forward(&mut self, x: &[f32], record: Option<&mut Recording>) -> Result<&[f32]> {
        self.forward_with(x, record, None)
    }

    /// [`Network::forward`], optionally with fused drives (evaluation with fixed weights): the stacked
    /// products and the skipping of populations the output does not depend on give the output the same
    /// bits; the skipped populations' activities stay at their reset values.
    pub(crate) fn forward_with(
        &mut self,
        x: &[f32],
        mut record: Option<&mut Recording>,
        mut fused: Option<&mut FusedDrives>,
    ) -> Result<&[f32]> {
        let input = self
            .spec
            .populations
            .iter()
            .position(|p| p.is_input)
            .ok_or_else(|| Error::invalid("network", "no input population"))?;
        let n_in = self.spec.populations[input].size * self.batch;
        if x.len() != n_in {
            return Err(Error::shape("forward input", n_in, x.len()));
        }
        if record.is_some() && self.batch != 1 {
            return Err(Error::invalid(
                "recording",
                "dynamics can only be recorded with batch size 1",
            ));
        }
        if record.is_some() && fused.is_some() {
            return Err(Error::invalid(
                "recording",
                "dynamics cannot be recorded with fused drives (skipped populations)",
            ));
        }
        if let Some(r) = record.as_deref_mut() {
            r.clear();
        }
        for (pi, p) in self.pops.iter_mut().enumerate() {
            if pi == input {
                continue;
            }
            let act = self.spec.populations[pi].activation;
            // EIANN adds the bias parameter whether or not `include_bias` is set (it is 0 unless loaded).
            for srow in p.state.chunks_exact_mut(p.bias.len().max(1)) {
                for (s, &b) in srow.iter_mut().zip(&p.bias) {
                    *s = 0.0 + b;
                }
            }
            p.activity.copy_from_slice(&p.state);
            act.apply_in_place(&mut p.activity);
        }
        self.pops[input].activity.copy_from_slice(x);
        if let Some(f) = fused.as_deref_mut() {
            f.reset_all();
            // The fused drives hold the input's products; the per-projection cache is not refreshed.
            self.input_drive_valid = false;
        } else {
            self.refresh_input_drive();
        }
        // The autograd rules' tape (crate::adjoint): single samples only.
        let taping = self.batch == 1 && fused.is_none() && self.tape.depth() > 0;
        if taping && self.tape.records(-1) {
            for (pi, p) in self.pops.iter().enumerate() {
                self.tape.store(pi, -1, &p.activity);
            }
        }
        let integrated_in_a_step = |li: usize, pi: usize, fused: Option<&FusedDrives>| {
            li != 0 && fused.is_none_or(|f| f.needed(pi))
        };
        for t in 0..self.spec.forward_steps {
            // prev_activity ← activity; after step 0 only where a step changed the activity (the
            // input and skipped populations keep theirs, so their copy already holds it).
            for (li, layer) in self.spec.layers.iter().enumerate() {
                for &pi in &layer.populations {
                    if t == 0 || integrated_in_a_step(li, pi, fused.as_deref()) {
                        let p = &mut self.pops[pi];
                        p.prev_activity.copy_from_slice(&p.activity);
                    }
                }
            }
            if let Some(f) = fused.as_deref_mut() {
                f.step_start();
            }
            for li in 0..self.spec.layers.len() {
                for j in 0..self.spec.layers[li].populations.len() {
                    let pi = self.spec.layers[li].populations[j];
                    if integrated_in_a_step(li, pi, fused.as_deref()) {
                        self.integrate(pi, Phase::Forward, fused.as_deref_mut());
                        if let Some(f) = fused.as_deref_mut() {
                            f.integrated(pi);
                        }
                    }
                    if let Some(r) = record.as_deref_mut() {
                        r.forward_activity[pi].extend_from_slice(&self.pops[pi].activity);
                    }
                    if taping && self.tape.records(t as isize) {
                        self.tape.store(pi, t as isize, &self.pops[pi].activity);
                    }
                }
            }
        }
        Ok(&self.pops[self.spec.output].activity)
    }

    /// EIANN `Network.update_forward_state()`: snapshot `forward_activity` / `forward_prev_activity` of every
    /// population and compute the (unclamped) `forward_dendritic_state` of populations with dendritic
    /// projections. With `record` holding this sample's forward activities, also the per-step forward
    /// dendritic state (`forward_dendritic_state_steps`).
    pub fn update_forward_state(&mut self, mut record: Option<&mut Recording>) -> Result<()> {
        self.require_single("update_forward_state")?;
        for p in self.pops.iter_mut() {
            p.forward_activity.copy_from_slice(&p.activity);
            p.forward_prev_activity.copy_from_slice(&p.prev_activity);
        }
        let steps = self.spec.forward_steps;
        for pi in 0..self.pops.len() {
            if !self.wiring[pi].has_dendrite {
                continue;
            }
            let mut fds = std::mem::take(&mut self.pops[pi].forward_dendritic_state);
            self.sum_dendritic_inputs(pi, &mut fds, false);
            self.pops[pi].forward_dendritic_state = fds;
            if let Some(r) = record.as_deref_mut() {
                let sizes: Vec<usize> = self.spec.populations.iter().map(|p| p.size).collect();
                let fwd = &r.forward_activity;
                let buf = self.dendritic_series(pi, steps, |pre, k| {
                    fwd[pre].get(k * sizes[pre]..(k + 1) * sizes[pre])
                });
                r.forward_dendritic_state[pi] = buf;
            }
        }
        Ok(())
    }

    /// Error unless the batch size is 1 (the supervised phase and learning are per sample).
    fn require_single(&self, what: &str) -> Result<()> {
        if self.batch != 1 {
            return Err(Error::invalid(
                what,
                format!("needs batch size 1 (set to {})", self.batch),
            ));
        }
        Ok(())
    }

    /// `Σ_dend W·x` over the dendritic projections of population `pi` (in iteration order, starting from
    /// 0), with `x` the presynaptic `activity` (F) or `prev_activity` (R); written into `out`.
    /// In the supervised phase (`backward`), products are reused while their input is unchanged.
    fn sum_dendritic_inputs(&mut self, pi: usize, out: &mut [f32], backward: bool) {
        let n = self.spec.populations[pi].size;
        out.fill(0.0);
        for &k in &self.wiring[pi].incoming {
            let ps = &self.spec.projections[k];
            if ps.compartment != Compartment::Dendrite {
                continue;
            }
            let (x, prev) = presynaptic(&self.pops[ps.pre], ps.direction);
            let p = &self.projections[k];
            let y: &[f32] = if backward {
                let version = self.backward_versions.of(ps.pre, prev);
                self.backward_products
                    .product(k, version, n, |y| matvec(p, x, y))
            } else {
                matvec(p, x, &mut self.scratch_y);
                &self.scratch_y[..n]
            };
            for (v, &y) in out.iter_mut().zip(y) {
                *v += y;
            }
        }
    }

    /// The dendritic input of population `pi` along a recorded series of `n_rows` steps:
    /// `D[k] = Σ_F W·A_pre[k] + Σ_R W·A_pre[k−1]` (R terms absent at `k = 0`), summed in projection order
    /// from 0, not clamped. `rows(pre, k)` gives population `pre`'s activity at step `k` (`None`: skip).
    /// Serves `forward_dendritic_state_steps` and the figure's dendritic series ([`crate::series`]).
    /// Returns `n_rows × size(pi)` values, row-major.
    pub(crate) fn dendritic_series<'a>(
        &self,
        pi: usize,
        n_rows: usize,
        rows: impl Fn(usize, usize) -> Option<&'a [f32]>,
    ) -> Vec<f32> {
        let n = self.spec.populations[pi].size;
        let mut out = vec![0f32; n_rows * n];
        let mut y = vec![0f32; n];
        for &k in &self.wiring[pi].incoming {
            let ps = &self.spec.projections[k];
            if ps.compartment != Compartment::Dendrite {
                continue;
            }
            for t in 0..n_rows {
                let src = match ps.direction {
                    Direction::Forward => Some(t),
                    Direction::Recurrent => t.checked_sub(1),
                };
                let Some(x) = src.and_then(|s| rows(ps.pre, s)) else {
                    continue;
                };
                matvec(&self.projections[k], x, &mut y);
                for (v, &w) in out[t * n..(t + 1) * n].iter_mut().zip(&y) {
                    *v += w;
                }
            }
        }
        out
    }

    /// `BP_like_2L.update_layer_dendritic_state`: `D = clamp(Σ_dend W·x, −1, 1)` for population `pi`.
    fn update_dendritic_state(&mut self, pi: usize) {
        let mut d = std::mem::take(&mut self.pops[pi].dendritic_state);
        self.sum_dendritic_inputs(pi, &mut d, true);
        for v in d.iter_mut() {
            *v = v.clamp(-1.0, 1.0);
        }
        self.pops[pi].dendritic_state = d;
    }

    /// `BP_like_2L.backward_update_layer_plateaus` at backward step 0 for population `pi`.
    fn compute_plateau(&mut self, pi: usize, target: &[f32]) {
        let Some(k) = self.wiring[pi].bp_rule else {
            return;
        };
        let Rule::BpLike2L {
            max_pop_fraction,
            relu_gate,
            ..
        } = self.spec.projections[k].rule
        else {
            return;
        };
        let is_output = pi == self.spec.output;
        let p = &mut self.pops[pi];
        if is_output {
            for (i, e) in p.plateau.iter_mut().enumerate() {
                let err = (target[i] - p.activity[i]).clamp(-1.0, 1.0);
                p.dendritic_state[i] = err;
                *e = if relu_gate && p.forward_activity[i] == 0.0 {
                    0.0
                } else {
                    err
                };
            }
            p.dend_to_soma.copy_from_slice(&p.plateau);
            return;
        }
        let n = p.plateau.len();
        let gated = |i: usize| {
            if relu_gate && p.forward_activity[i] == 0.0 {
                0.0
            } else {
                p.dendritic_state[i]
            }
        };
        let max_units = (max_pop_fraction * n as f64).ceil() as usize;
        let mut plateau = std::mem::take(&mut p.plateau);
        plateau.fill(0.0);
        if max_units >= n {
            for (i, v) in plateau.iter_mut().enumerate() {
                *v = gated(i);
            }
        } else {
            // Positive candidates sorted by L descending (stable), first max_units kept; negative
            // candidates sorted by L descending, last max_units kept.
            let mut pos: Vec<usize> = (0..n).filter(|&i| gated(i) > 0.0).collect();
            pos.sort_by(|&a, &b| gated(b).total_cmp(&gated(a)));
            let mut neg: Vec<usize> = (0..n).filter(|&i| gated(i) < 0.0).collect();
            neg.sort_by(|&a, &b| gated(b).total_cmp(&gated(a)));
            let neg_keep = neg.len().saturating_sub(max_units);
            for &i in pos.iter().take(max_units).chain(&neg[neg_keep..]) {
                plateau[i] = gated(i);
            }
        }
        p.dend_to_soma.copy_from_slice(&plateau);
        p.plateau = plateau;
    }

    /// `BP_like_2L.backward(network, output, target)`: the supervised phase. `forward_steps` steps, layers
    /// top-down (`Output, H2, H1`): dendritic state, plateaus (step 0 only), then activities.
    /// `store_dynamics` also integrates populations without backward projections (the DendI
    /// populations), exactly like EIANN; weight updates do not depend on it. With `record`, backward
    /// activities and in-loop dendritic states are appended.
    pub(crate) fn bp_like_2l_backward(
        &mut self,
        target: &[f32],
        store_dynamics: bool,
        mut record: Option<&mut Recording>,
    ) -> Result<()> {
        self.require_single("backward")?;
        let out = self.spec.output;
        if target.len() != self.spec.populations[out].size {
            return Err(Error::shape(
                "target",
                self.spec.populations[out].size,
                target.len(),
            ));
        }
        if self.input_drive_stale() {
            self.refresh_input_drive();
        }
        // Products are reused within this phase only (the weights change after it).
        self.backward_versions.renew_all();
        self.backward_products.clear();
        let layers = std::mem::take(&mut self.reversed_layers);
        for layer in &layers {
            for &pi in layer {
                if self.wiring[pi].bp_rule.is_some() {
                    let p = &mut self.pops[pi];
                    p.plateau.fill(0.0);
                    p.dend_to_soma.fill(0.0);
                }
            }
        }
        let steps = self.spec.forward_steps;
        for t in 0..steps {
            // The dendritic state is read at step 0 (plateaus) and, after the phase, as the population's
            // state; every step overwrites it from the current activities alone. So without a recording,
            // steps 1..last−1 need not compute it: same results, 2 of 15 dendritic sums instead of 15.
            let dendrites_needed = t == 0 || t + 1 == steps || record.is_some();
            for layer in &layers {
                for &pi in layer {
                    if dendrites_needed
                        && self.wiring[pi].has_backward_projections
                        && self.wiring[pi].has_dendrite
                    {
                        self.update_dendritic_state(pi);
                        if let Some(r) = record.as_deref_mut() {
                            r.dendritic_state_inloop[pi]
                                .extend_from_slice(&self.pops[pi].dendritic_state);
                        }
                    }
                }
                if t == 0 {
                    for &pi in layer {
                        self.compute_plateau(pi, target);
                    }
                }
                for &pi in layer {
                    let p = &mut self.pops[pi];
                    p.prev_activity.copy_from_slice(&p.activity);
                    self.backward_versions.prev_copied(pi);
                }
                for &pi in layer {
                    if self.wiring[pi].has_backward_projections || pi == out || store_dynamics {
                        self.integrate(pi, Phase::Backward, None);
                        self.backward_versions.integrated(pi);
                        if store_dynamics {
                            if let Some(r) = record.as_deref_mut() {
                                r.backward_activity[pi].extend_from_slice(&self.pops[pi].activity);
                            }
                        }
                    }
                }
            }
        }
        self.reversed_layers = layers;
        Ok(())
    }

    /// Whether the cached input drive may not match the current weights and input.
    fn input_drive_stale(&self) -> bool {
        !self.input_drive_valid
    }
}

/// Mean squared error `mean((output − target)²)` (PyTorch `MSELoss`), summed in index order.
pub fn mse_loss(output: &[f32], target: &[f32]) -> f32 {
    let mut s = 0f32;
    for (o, t) in output.iter().zip(target) {
        let d = o - t;
        s += d * d;
    }
    s / output.len().max(1) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mse_is_mean_of_squares() {
        assert_eq!(mse_loss(&[1.0, 0.0], &[0.0, 0.0]), 0.5);
    }

    /// The AVX2 and portable integration passes give the same bits for every kind of pass.
    #[test]
    fn integration_pass_is_the_same_with_avx2() {
        if !has_avx2() {
            return;
        }
        let n = 53;
        let vals = |k: usize| -> Vec<f32> {
            (0..n)
                .map(|i| ((i * 7919 + k * 104729) % 89) as f32 / 17.0 - 2.5)
                .collect()
        };
        let (bias, v) = (vals(1), vals(2));
        for first in [false, true] {
            for finish in [false, true] {
                let pass = Pass {
                    first,
                    finish,
                    tau: 3.0,
                };
                let (mut s1, mut a1, mut d1) = (vals(3), vals(4), vals(5));
                let (mut s2, mut a2, mut d2) = (s1.clone(), a1.clone(), d1.clone());
                let relu = |x: f32| Activation::Relu.apply(x);
                pass.run_body(&mut s1, &mut a1, &mut d1, &bias, &v, relu);
                // SAFETY: AVX2 is present (checked above).
                unsafe { pass.run_avx2(&mut s2, &mut a2, &mut d2, &bias, &v, relu) };
                let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&s1), bits(&s2));
                assert_eq!(bits(&a1), bits(&a2));
                assert_eq!(bits(&d1), bits(&d2));
            }
        }
    }

    /// Without a recording, the supervised phase computes dendritic states only at its first and
    /// last step (the only ones read); every population ends with the bits of the recorded phase,
    /// which computes them at every step.
    #[test]
    fn backward_without_recording_ends_in_the_same_state() {
        let spec = crate::NetworkSpec::from_file(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "../../data/network_config/mnist/20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized.yaml",
        ))
        .unwrap();
        let mut plain = Network::new(spec, 11);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for s in 0..4 {
            let x: Vec<f32> = (0..784)
                .map(|p| ((p * 17 + s * 5) % 9) as f32 / 9.0)
                .collect();
            let mut t = vec![0f32; 10];
            t[(3 * s) % 10] = 1.0;
            plain.forward(&x, None).unwrap();
            plain.update_forward_state(None).unwrap();
            let mut recorded = plain.clone();
            let mut rec = Recording::new(recorded.spec());
            recorded.backward(&t, false, Some(&mut rec)).unwrap();
            plain.backward(&t, false, None).unwrap();
            assert!(rec.dendritic_state_inloop.iter().any(|d| !d.is_empty()));
            for (pa, pb) in plain.pops.iter().zip(&recorded.pops) {
                assert_eq!(bits(&pa.activity), bits(&pb.activity), "sample {s}");
                assert_eq!(
                    bits(&pa.dendritic_state),
                    bits(&pb.dendritic_state),
                    "sample {s}"
                );
                assert_eq!(bits(&pa.plateau), bits(&pb.plateau), "sample {s}");
            }
            assert!(plain
                .pops
                .iter()
                .any(|p| p.dendritic_state.iter().any(|&d| d != 0.0)));
            plain.step_rules();
            plain.constrain_weights();
        }
    }

    /// Reusing the interneurons' products in the supervised phase gives the bits of recomputing every
    /// product in every step: same losses, states and weights over several training steps.
    #[test]
    fn backward_product_reuse_gives_the_bits_of_recomputation() {
        let spec = crate::NetworkSpec::from_file(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "../../data/network_config/mnist/20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized.yaml",
        ))
        .unwrap();
        let mut reuse = Network::new(spec, 5);
        let mut recompute = reuse.clone();
        recompute.backward_products.set_reuse(false);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for s in 0..12 {
            let x: Vec<f32> = (0..784)
                .map(|p| {
                    if (p * 13 + 7 * s) % 4 == 0 {
                        ((p + s) % 97) as f32 / 97.0
                    } else {
                        0.0
                    }
                })
                .collect();
            let mut t = vec![0f32; 10];
            t[s % 10] = 1.0;
            let a = reuse.train_step(&x, &t).unwrap();
            let b = recompute.train_step(&x, &t).unwrap();
            assert_eq!(a.to_bits(), b.to_bits(), "loss at step {s}");
            for (pa, pb) in reuse.pops.iter().zip(&recompute.pops) {
                assert_eq!(bits(&pa.activity), bits(&pb.activity), "step {s}");
                assert_eq!(
                    bits(&pa.dendritic_state),
                    bits(&pb.dendritic_state),
                    "step {s}"
                );
            }
        }
        for (pa, pb) in reuse.projections.iter().zip(&recompute.projections) {
            assert_eq!(bits(&pa.wt), bits(&pb.wt));
        }
        assert!(reuse
            .pops
            .iter()
            .any(|p| p.dendritic_state.iter().any(|&d| d != 0.0)));
    }
}
