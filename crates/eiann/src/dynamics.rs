//! The rate dynamics, stated once: one integration step of a population, the sensory (forward) phase,
//! and the snapshot that ends it (EIANN `Population.forward`, `Network.forward`,
//! `Network.update_forward_state`; spec §4, §4.1).
//!
//! For population `P` with time constant `τ` (in integration steps), bias `b` and activation `f`, one step
//! is
//!
//! ```text
//!     τ · Δs = −s + b + Σ_Q W_PQ · r_Q          (somatic drives, in projection order)
//!     s ← s + Δs,       a = f(s + n)
//!     D = Σ_Q' W_PQ' · r_Q'                      (dendritic input; clamped to [−1, 1] in the supervised phase)
//! ```
//!
//! where `r_Q` is the presynaptic activity (direction F) or its start-of-step copy `prev_activity`
//! (direction R), the somatic sum runs over the projections that act in the phase ([`Phase`]), and `n`
//! is the dendrite-to-soma nudge of a DTP rule's supervised phase (0 otherwise). In float32, exactly as
//! PyTorch forms it: `Δ = fl(−s + b)`, `Δ = fl(Δ + W·r)` per projection, `s = fl(s + fl(Δ / τ))` (a true
//! division). Each product `W·r` sums over presynaptic units in increasing order (PyTorch's BLAS uses a
//! blocked order, so single products may differ by ~1e-7 relative).
//!
//! Where the products come from — computed, reused because the presynaptic activity did not change,
//! stacked for evaluation batches, the clamped input computed once — is [`crate::fast`]'s business: this
//! module asks for "the somatic drive of P from projection k" and adds it. The supervised phases of the
//! learning rules ([`crate::rules`]) integrate with the same [`Network::integrate`] (or, for `BP_like_2E`,
//! apply the nudge once without integrating, [`Network::nudge`]). For the autograd rules the sensory
//! phase also records every population's activity over the last `backward_steps` steps, the tape their
//! adjoint reads ([`crate::adjoint`]).

use crate::config::{Activation, Compartment, Direction};
use crate::error::{Error, Result};
use crate::fast::kernels::{avx2_dispatch, matmat_slices};
use crate::fast::{drives_in, presynaptic};
use crate::network::{Network, PopulationState};
use crate::record::Recording;

pub use crate::fast::Phase;

/// One pass of a population's integration over one row of `n` units: `Δ += v` for one somatic drive `v`,
/// where `Δ` starts as `−s + b` in the `first` pass, and the last pass (`finish`) ends the step with
/// `s += Δ / τ; a = f(s)`. Per element these are the operations of separate passes in the same order
/// (the same bits), with each row read once per drive instead of up to three times.
#[derive(Clone, Copy)]
struct Pass {
    first: bool,
    finish: bool,
    tau: f32,
}

impl Pass {
    /// The start of `Δ`: `−s + b`.
    #[inline(always)]
    fn start(s: f32, b: f32) -> f32 {
        -s + b
    }

    /// The end of the step: `s += Δ / τ; a = f(s)`.
    #[inline(always)]
    fn end(self, s: &mut f32, a: &mut f32, d: f32, f: &impl Fn(f32) -> f32) {
        *s += d / self.tau;
        *a = f(*s);
    }
}

avx2_dispatch! {
    /// [`pass_body`], with 8-lane AVX2 registers when the CPU has them (same operations).
    fn run_pass[F: Fn(f32) -> f32](
        pass: Pass,
        state: &mut [f32],
        activity: &mut [f32],
        delta: &mut [f32],
        bias: &[f32],
        v: &[f32],
        f: F,
    ) => pass_body
}

#[inline(always)]
fn pass_body(
    pass: Pass,
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
    match (pass.first, pass.finish) {
        (true, true) => {
            for ((((s, a), d), &b), &v) in elems {
                *d = Pass::start(*s, b) + v;
                pass.end(s, a, *d, &f);
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
                pass.end(s, a, *d, &f);
            }
        }
        (false, false) => {
            for ((((_, _), d), _), &v) in elems {
                *d += v;
            }
        }
    }
}

/// One pass over every row of a population (the activation chosen once, not per value).
fn pass_rows(
    pass: Pass,
    me: &mut PopulationState,
    delta: &mut [f32],
    y: &[f32],
    stride: usize,
    offset: usize,
    act: Activation,
) {
    let n = me.bias.len();
    let rows = me
        .state
        .chunks_exact_mut(n)
        .zip(me.activity.chunks_exact_mut(n))
        .zip(delta.chunks_exact_mut(n))
        .zip(y.chunks_exact(stride));
    for (((s, a), d), yrow) in rows {
        let v = &yrow[offset..offset + n];
        match act {
            Activation::Relu => run_pass(pass, s, a, d, &me.bias, v, |x| Activation::Relu.apply(x)),
            Activation::Linear => run_pass(pass, s, a, d, &me.bias, v, |x| x),
            other => run_pass(pass, s, a, d, &me.bias, v, |x| other.apply(x)),
        }
    }
}

impl Network {
    /// Integrate population `pi` by one step of `phase` (module docs): `τ·Δs = −s + b + Σ W·r`,
    /// `s ← s + Δs`, `a = f(s + n)` with the nudge `n = dend_to_soma` when `nudged` (batch size 1), else 0.
    /// EIANN `Population.forward` and the body of `BP_like_2L.backward_update_layer_activity`.
    pub(crate) fn integrate(&mut self, pi: usize, phase: Phase, nudged: bool) {
        let Network {
            spec,
            projections,
            pops,
            wiring,
            fast,
            scratch_delta,
            batch,
            ..
        } = self;
        let batch = *batch;
        let pop = &spec.populations[pi];
        let n = pop.size;
        let delta = &mut scratch_delta[..batch * n];
        let drives = wiring[pi]
            .incoming
            .iter()
            .filter(|&&k| drives_in(spec, k, phase))
            .count();
        let (tau, act) = (pop.tau, pop.activation);
        // The somatic drives: Δ = −s + b + Σ W·r, the step ending in the pass of the last drive unless
        // a nudge is added before the activation.
        let mut seen = 0;
        for &k in wiring[pi]
            .incoming
            .iter()
            .filter(|&&k| drives_in(spec, k, phase))
        {
            let ps = &spec.projections[k];
            let (x, prev) = presynaptic(&pops[ps.pre], ps.direction);
            let pre_is_input = spec.populations[ps.pre].is_input;
            let (y, stride, offset) = fast.somatic_drive(
                k,
                ps.pre,
                pre_is_input,
                &projections[k],
                x,
                prev,
                phase,
                batch,
            );
            seen += 1;
            let pass = Pass {
                first: seen == 1,
                finish: seen == drives && !nudged,
                tau,
            };
            pass_rows(pass, &mut pops[pi], delta, y, stride, offset, act);
        }
        let me: &mut PopulationState = &mut pops[pi];
        if drives == 0 {
            // No somatic drive: Δ = −s + b alone.
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
        if nudged {
            // a = f(s + n): the supervised phase runs with batch size 1 only.
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
        fast.integrated(pi, phase);
    }

    /// The instantaneous nudge of a supervised phase without integration (`BP_like_2E`): `a = f(s + n)`
    /// with `n = dend_to_soma`, the state `s` kept (batch size 1).
    pub(crate) fn nudge(&mut self, pi: usize) {
        let act = self.spec.populations[pi].activation;
        let p = &mut self.pops[pi];
        for ((a, &s), &e) in p.activity.iter_mut().zip(&p.state).zip(&p.dend_to_soma) {
            *a = act.apply(s + e);
        }
        self.fast.integrated(pi, Phase::Supervised);
    }

    /// Start population `pi`'s step of the supervised phase: `prev_activity ← activity`.
    pub(crate) fn start_step(&mut self, pi: usize) {
        let p = &mut self.pops[pi];
        p.prev_activity.copy_from_slice(&p.activity);
        self.fast.step_started(pi);
    }

    /// A supervised phase starts (after the sensory phase and its snapshot).
    pub(crate) fn start_supervised_phase(&mut self) {
        let Network {
            spec,
            projections,
            pops,
            fast,
            ..
        } = self;
        fast.supervised_phase_started(spec, projections, pops);
    }

    /// EIANN `Network.forward(x)`: reset every population, clamp the input and integrate
    /// `forward_steps` steps of the sensory phase. Returns the output population's activity.
    /// With `record`, every population's activity after each step is appended to
    /// `record.forward_activity` (EIANN `store_dynamics=True`).
    ///
    /// With a batch size `B` set by [`Network::set_batch_size`], `x` holds `B` inputs one after the other
    /// and the returned slice `B` outputs; every sample gets exactly the bits it gets alone. During
    /// stacked evaluation ([`crate::evaluate`]) populations the output does not depend on are not
    /// integrated (they keep their reset values).
    pub fn forward(&mut self, x: &[f32], mut record: Option<&mut Recording>) -> Result<&[f32]> {
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
        if record.is_some() && self.fast.is_stacked() {
            return Err(Error::invalid(
                "recording",
                "dynamics cannot be recorded during stacked evaluation (skipped populations)",
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
        {
            let Network {
                spec,
                projections,
                pops,
                fast,
                batch,
                ..
            } = self;
            fast.sensory_phase_started(spec, projections, pops, *batch);
        }
        // The autograd rules' tape ([`crate::adjoint`]): single samples only.
        let taping = self.batch == 1 && !self.fast.is_stacked() && self.tape.depth() > 0;
        if taping && self.tape.records(-1) {
            for (pi, p) in self.pops.iter().enumerate() {
                self.tape.store(pi, -1, &p.activity);
            }
        }
        for t in 0..self.spec.forward_steps {
            // prev_activity ← activity; after step 0 only where a step changed the activity (the
            // input and populations not integrated keep theirs, so their copy already holds it).
            for (li, layer) in self.spec.layers.iter().enumerate() {
                for &pi in &layer.populations {
                    if t == 0 || (li != 0 && self.fast.integrates(pi)) {
                        let p = &mut self.pops[pi];
                        p.prev_activity.copy_from_slice(&p.activity);
                    }
                }
            }
            self.fast.all_steps_started();
            for li in 0..self.spec.layers.len() {
                for j in 0..self.spec.layers[li].populations.len() {
                    let pi = self.spec.layers[li].populations[j];
                    if li != 0 && self.fast.integrates(pi) {
                        self.integrate(pi, Phase::Sensory, false);
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
            self.sum_dendritic_inputs(pi, &mut fds, Phase::Sensory);
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
    pub(crate) fn require_single(&self, what: &str) -> Result<()> {
        if self.batch != 1 {
            return Err(Error::invalid(
                what,
                format!("needs batch size 1 (set to {})", self.batch),
            ));
        }
        Ok(())
    }

    /// The dendritic input `Σ_dend W·r` of population `pi` (dendritic projections in iteration order,
    /// summed from 0), written into `out`.
    fn sum_dendritic_inputs(&mut self, pi: usize, out: &mut [f32], phase: Phase) {
        let Network {
            spec,
            projections,
            pops,
            wiring,
            fast,
            ..
        } = self;
        out.fill(0.0);
        for &k in &wiring[pi].incoming {
            let ps = &spec.projections[k];
            if ps.compartment != Compartment::Dendrite {
                continue;
            }
            let (x, prev) = presynaptic(&pops[ps.pre], ps.direction);
            let y = fast.dendritic_drive(k, ps.pre, &projections[k], x, prev, phase);
            for (v, &y) in out.iter_mut().zip(y) {
                *v += y;
            }
        }
    }

    /// The dendritic state of the supervised phase (`BP_like_2L.update_layer_dendritic_state`):
    /// `D = clamp(Σ_dend W·r, −1, 1)` for population `pi`, from the current activities.
    pub(crate) fn update_dendritic_state(&mut self, pi: usize, phase: Phase) {
        let mut d = std::mem::take(&mut self.pops[pi].dendritic_state);
        self.sum_dendritic_inputs(pi, &mut d, phase);
        for v in d.iter_mut() {
            *v = v.clamp(-1.0, 1.0);
        }
        self.pops[pi].dendritic_state = d;
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
                let p = &self.projections[k];
                matmat_slices(&p.wt, p.post_size, p.pre_size, x, &mut y, 1);
                for (v, &w) in out[t * n..(t + 1) * n].iter_mut().zip(&y) {
                    *v += w;
                }
            }
        }
        out
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
        if !crate::fast::kernels::has_avx2() {
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
                pass_body(pass, &mut s1, &mut a1, &mut d1, &bias, &v, relu);
                run_pass(pass, &mut s2, &mut a2, &mut d2, &bias, &v, relu);
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
        recompute.fast.set_product_reuse(false);
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
