//! Reverse mode through the rate dynamics: the exact gradient PyTorch's `loss.backward()` computes for
//! EIANN's `Backprop` and `Backprop_DendriticLoss` rules, hand-derived for this fixed dynamics and
//! evaluated in float32 over a [`Tape`] of the last `backward_steps` forward steps.
//!
//! ## The computation being differentiated (spec-rules §5.1)
//!
//! `Network.forward` records an autograd graph over the last `B = backward_steps` of the `T` integration
//! steps (`T0 = T − B`; everything before `T0` is a constant). At a recorded step `t`, every non-input
//! population `P`, in update order (layers in order, populations in order), does
//!
//! ```text
//! u_P(t) = −s_P(t−1) + b_P + Σ_{somatic Q→P, phase F/A}  W[P←Q] · r_PQ(t)
//! s_P(t) = s_P(t−1) + fl(u_P(t) / τ_P)          A_P(t) = f(s_P(t))          (f = relu or identity)
//! r_PQ(t) = A_Q(t)    if direction F and Q is updated before P (or Q is the input: r = x)
//!           A_Q(t−1)  if direction R, or direction F and Q is updated at or after P
//! ```
//!
//! ## The adjoint (ā = ∂L/∂A, s̄ = ∂L/∂s, ū = ∂L/∂u), derived from the three lines above
//!
//! * `A = f(s)`: `∂A/∂s = [A > 0]` for relu (torch's `threshold_backward` tests the output, so 0 at 0),
//!   1 for the identity.
//! * `s(t) = s(t−1) + u(t)/τ` and `u(t) = −s(t−1) + …`: `s(t−1)` reaches `L` through `A(t−1)`, through
//!   the identity branch of `s(t)` and through `−s(t−1)` inside `u(t)`, so
//!   `s̄(t−1) = ā(t−1) ⊙ f'(s(t−1)) + (s̄(t) − ū(t))` with `ū(t) = fl(s̄(t) / τ)` (division, as PyTorch's
//!   `DivBackward`, not a multiplication by `1/τ`). At `t = T − 1` the carry is absent; below `T0` the
//!   state is a constant, which is the truncation `backward_steps` asks for.
//! * `u(t) = … + W·r(t)`: `∂L/∂W += ū(t) ⊗ r(t)` (each product rounded once) and, when `r(t)` is a graph
//!   variable (a non-input population's activity at a step `≥ T0`), `ā_Q(step) += Wᵀ·ū(t)`.
//!
//! Walking `t = T−1 … T0` and, within a step, the populations in reverse update order visits every
//! consumer of `A_Q(t)` (same-step readers come later in the update order, next-step readers were
//! handled one step earlier) before `Q` itself, so each `ā` is complete when it is read.
//! The seeds: `Backprop` — `ā_Out(T−1) = fl(fl(A_Out − y) · fl(2/n))` (torch's `mse_loss_backward`);
//! `Backprop_DendriticLoss` — `ḡ = fl(D_S · fl(2/size S))` on the forward dendritic state
//! `D_S = Σ_{dend F} W·A_Q(T−1) + Σ_{dend R} W·A_Q(T−2)`, giving `ā_Q += Wᵀ·ḡ` at the read step
//! (spec-rules §6: the recursion seeded at DendI instead of the output).
//!
//! ## Summation orders (float32; PyTorch's own orders are BLAS's, so agreement is to ~1e-6 relative)
//!
//! * `Wᵀ·ū`: for each presynaptic unit `j`, `Σ_i W[i][j] ū_i` in increasing `i` over a contiguous column
//!   of the pre-major weights ([`kernels::transpose_matvec`]), then added to `ā_Q` in the order the consumers are
//!   visited (reverse update order; within a population, projection order). On PyTorch's own stored
//!   activities this reproduces every fixture gradient bit for bit.
//! * A weight's gradient sums its per-step contributions latest step first, as autograd's AccumulateGrad
//!   receives them: `g = (c(T−1) + c(T−2)) + …`.
//! * `s̄` at an inner step: `(ā ⊙ f') + (s̄(t+1) − ū(t+1))` — the ulp-level order inside autograd's input
//!   buffer is **[uncertain]** (spec-rules §5.2); the fixtures agree to ≤ 1e-6 of each gradient's max.
//!
//! [`sgd_step`] is `torch.optim.SGD` with the defaults (`p ← fl(p + fl(−lr)·g)`, one rounding: a fused
//! multiply-add, spec-rules §3.3).

use crate::config::{Activation, Compartment, Direction, NetworkSpec};
use crate::error::{Error, Result};
use crate::fast::kernels::Bounds;
use crate::fast::{kernels, Speed};
use crate::network::{Network, Projection};

/// Every population's activity over the last forward steps, as the adjoint needs it: rows for steps
/// `T0 − 1 ..= T − 1` with `T0 = T − depth` (step −1 is the reset activity `f(bias)`).
#[derive(Debug, Clone, Default)]
pub struct Tape {
    depth: usize,
    steps: usize,
    sizes: Vec<usize>,
    /// Per population: `(depth + 1) × size` values, row `r` = step `T0 − 1 + r`.
    rows: Vec<Vec<f32>>,
    /// Adjoint work buffers (kept to avoid allocating in the training step).
    abar: Vec<Vec<f32>>,
    sbar: Vec<Vec<f32>>,
    ubar: Vec<Vec<f32>>,
}

impl Tape {
    /// An empty tape recording the last `depth` steps (`min(depth, forward_steps)`; 0 records nothing).
    pub fn new(spec: &NetworkSpec, depth: usize) -> Tape {
        let steps = spec.forward_steps;
        let depth = depth.min(steps);
        let sizes: Vec<usize> = spec.populations.iter().map(|p| p.size).collect();
        let cap = |n: usize| {
            if depth == 0 {
                Vec::new()
            } else {
                vec![0f32; n]
            }
        };
        Tape {
            depth,
            steps,
            rows: sizes.iter().map(|&n| cap((depth + 1) * n)).collect(),
            abar: sizes.iter().map(|&n| cap(depth * n)).collect(),
            sbar: sizes.iter().map(|&n| cap(n)).collect(),
            ubar: sizes.iter().map(|&n| cap(n)).collect(),
            sizes,
        }
    }

    /// Number of recorded (differentiated) steps `B`.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// First differentiated step `T0 = T − B`.
    pub fn first_step(&self) -> usize {
        self.steps - self.depth
    }

    /// Whether the activity after forward step `t` (−1 = reset) is kept.
    #[inline]
    pub fn records(&self, t: isize) -> bool {
        self.depth > 0 && t >= self.first_step() as isize - 1
    }

    /// Store population `pi`'s activity after step `t` (ignored unless [`Tape::records`]).
    #[inline]
    pub fn store(&mut self, pi: usize, t: isize, activity: &[f32]) {
        if !self.records(t) {
            return;
        }
        let r = (t - (self.first_step() as isize - 1)) as usize;
        let n = self.sizes[pi];
        self.rows[pi][r * n..(r + 1) * n].copy_from_slice(&activity[..n]);
    }

    /// Population `pi`'s activity after step `t` (`T0 − 1 ≤ t ≤ T − 1`).
    #[inline]
    pub fn activity(&self, pi: usize, t: isize) -> &[f32] {
        let r = (t - (self.first_step() as isize - 1)) as usize;
        let n = self.sizes[pi];
        &self.rows[pi][r * n..(r + 1) * n]
    }

    /// A tape from a full per-step recording (`forward_activity[pi]` = `forward_steps × size`), for tests
    /// and analyses; the reset row is `f(bias)` with the given biases.
    pub fn from_steps(
        spec: &NetworkSpec,
        depth: usize,
        forward_activity: &[Vec<f32>],
        bias: &[Vec<f32>],
    ) -> Result<Tape> {
        let mut tape = Tape::new(spec, depth);
        for (pi, p) in spec.populations.iter().enumerate() {
            let rows = forward_activity
                .get(pi)
                .ok_or_else(|| Error::invalid("tape", "one series per population expected"))?;
            if rows.len() != spec.forward_steps * p.size {
                return Err(Error::shape(
                    "tape rows",
                    spec.forward_steps * p.size,
                    rows.len(),
                ));
            }
            let reset: Vec<f32> = if p.is_input {
                rows[..p.size].to_vec()
            } else {
                let b = bias.get(pi).map(Vec::as_slice).unwrap_or(&[]);
                (0..p.size)
                    .map(|i| p.activation.apply(0.0 + b.get(i).copied().unwrap_or(0.0)))
                    .collect()
            };
            tape.store(pi, -1, &reset);
            for t in 0..spec.forward_steps {
                tape.store(pi, t as isize, &rows[t * p.size..(t + 1) * p.size]);
            }
        }
        Ok(tape)
    }
}

/// A starting adjoint `ā_P(t) += v` (the loss's gradient with respect to an activity).
#[derive(Debug, Clone)]
pub struct Seed<'a> {
    pub population: usize,
    pub step: usize,
    pub grad: &'a [f32],
}

/// The autograd rules' refusal when the forward phase recorded no step to differentiate.
pub(crate) fn require_tape(net: &Network, rule: &'static str) -> Result<()> {
    if net.tape.depth() == 0 {
        return Err(Error::invalid(
            rule,
            "no forward step was recorded for the gradient (backward_steps is 0)",
        ));
    }
    Ok(())
}

/// One `optimizer.step()` of the autograd rules (`Backprop`, `Backprop_DendriticLoss`): the gradients of
/// the `wanted` projections from `seeds` ([`gradients`]), then SGD on each with its own rule's learning
/// rate (its parameter group in EIANN's optimizer). `grads` is the network's reusable gradient store.
pub(crate) fn descend(
    net: &mut Network,
    seeds: &[Seed<'_>],
    wanted: &[bool],
    grads: &mut [Vec<f32>],
) {
    match net.speed() {
        Speed::Fast => {
            let live = support(&net.spec, wanted);
            gradients_over(
                &net.spec,
                &net.projections,
                &mut net.tape,
                seeds,
                wanted,
                &live,
                grads,
            )
        }
        Speed::Reference => gradients(
            &net.spec,
            &net.projections,
            &mut net.tape,
            seeds,
            wanted,
            grads,
        ),
    }
    // Inside a training step on the fast path the weight bounds are applied in the SGD pass and the
    // constraint pass skips the clamp: clamping is element-wise and idempotent, and nothing changes or
    // reads these weights between the step and the constraint pass, so the bits after the pass are
    // those of `sgd_step` then the clamp.
    for (k, ps) in net.spec.projections.iter().enumerate() {
        if let (true, Some(lr)) = (wanted[k], ps.rule.learning_rate()) {
            let clamp = net.fast.fused_sgd_clamp(ps.weight_bounds);
            let p = &mut net.projections[k];
            let was_clean = p.changes.is_clean();
            sgd_step_clamped(&mut p.wt, &grads[k], lr, clamp);
            p.changes.mark_all();
            p.changes.set_clamped(was_clean && clamp.is_some());
        }
    }
}

/// `(∂L/∂W)` for every projection with `wanted[k]`, written pre-major into `grads[k]` (overwritten; other
/// entries untouched), by the recursion of the module docs from `seeds`, through every population, with
/// the plain formulas ([`kernels::transpose_matvec_plain`], the element loop of the outer products): the
/// reference path. [`gradients_over`] with [`support`] gives the same bits with less work and the SIMD
/// kernels.
pub fn gradients(
    spec: &NetworkSpec,
    weights: &[Projection],
    tape: &mut Tape,
    seeds: &[Seed<'_>],
    wanted: &[bool],
    grads: &mut [Vec<f32>],
) {
    let every = vec![true; spec.populations.len()];
    recursion(
        spec,
        weights,
        tape,
        seeds,
        wanted,
        &every,
        grads,
        Speed::Reference,
    )
}

/// The populations whose adjoint can reach a wanted gradient: `P` is live when a wanted projection ends
/// at `P` (its gradient reads `ū_P`), or when `P` reads, through a somatic projection of the sensory
/// phase, a live non-input population `Q` (then `ā_Q += Wᵀ·ū_P` feeds `ū_Q`). The least fixed point of
/// these two rules. Every value the recursion computes outside it is never read by a wanted gradient,
/// so skipping it changes no bit. (In `Backprop_DendriticLoss`, 5M, only the DendI population of the
/// source's layer is live: no somatic path leads from the excitatory or SomaI populations back to it.)
pub fn support(spec: &NetworkSpec, wanted: &[bool]) -> Vec<bool> {
    let mut live = vec![false; spec.populations.len()];
    for (ps, _) in spec.projections.iter().zip(wanted).filter(|(_, &w)| w) {
        live[ps.post] = true;
    }
    loop {
        let mut grew = false;
        for ps in &spec.projections {
            if ps.compartment == Compartment::Soma
                && ps.update_phase.in_forward()
                && !spec.populations[ps.pre].is_input
                && live[ps.pre]
                && !live[ps.post]
            {
                live[ps.post] = true;
                grew = true;
            }
        }
        if !grew {
            return live;
        }
    }
}

/// [`gradients`] restricted to the populations with `live[P]` (a superset of [`support`]): the adjoint
/// of a population outside is neither computed nor propagated. Products by the SIMD kernels
/// ([`kernels::transpose_matvec`], [`kernels::outer_accumulate`]), same bits.
pub fn gradients_over(
    spec: &NetworkSpec,
    weights: &[Projection],
    tape: &mut Tape,
    seeds: &[Seed<'_>],
    wanted: &[bool],
    live: &[bool],
    grads: &mut [Vec<f32>],
) {
    recursion(spec, weights, tape, seeds, wanted, live, grads, Speed::Fast)
}

/// The recursion of the module docs over the `live` populations; `speed` picks the kernels.
#[allow(clippy::too_many_arguments)]
fn recursion(
    spec: &NetworkSpec,
    weights: &[Projection],
    tape: &mut Tape,
    seeds: &[Seed<'_>],
    wanted: &[bool],
    live: &[bool],
    grads: &mut [Vec<f32>],
    speed: Speed,
) {
    let depth = tape.depth;
    if depth == 0 {
        return;
    }
    let t0 = tape.first_step();
    let t_last = spec.forward_steps - 1;
    for k in 0..weights.len() {
        if wanted[k] {
            grads[k].clear();
            grads[k].resize(weights[k].wt.len(), 0.0);
        }
    }
    for a in tape.abar.iter_mut() {
        a.fill(0.0);
    }
    for s in seeds {
        if s.step < t0 || spec.populations[s.population].is_input || !live[s.population] {
            continue;
        }
        let n = tape.sizes[s.population];
        let r = s.step - t0;
        for (a, &g) in tape.abar[s.population][r * n..(r + 1) * n]
            .iter_mut()
            .zip(s.grad)
        {
            *a += g;
        }
    }
    let mut tmp: Vec<f32> = Vec::new();
    for t in (t0..=t_last).rev() {
        let r = t - t0;
        for pi in (0..spec.populations.len()).rev() {
            let pop = &spec.populations[pi];
            if pop.is_input || !live[pi] {
                continue;
            }
            let n = pop.size;
            let tau = pop.tau;
            let (sbar, ubar) = (&mut tape.sbar[pi], &mut tape.ubar[pi]);
            let abar = &tape.abar[pi][r * n..(r + 1) * n];
            let act = &tape.rows[pi][(r + 1) * n..(r + 2) * n];
            let relu = pop.activation == Activation::Relu;
            let carry = t < t_last;
            for i in 0..n {
                let local = if relu && act[i] <= 0.0 { 0.0 } else { abar[i] };
                sbar[i] = if carry {
                    local + (sbar[i] - ubar[i])
                } else {
                    local
                };
                ubar[i] = sbar[i] / tau;
            }
            if ubar.iter().all(|&u| u == 0.0) {
                continue;
            }
            for k in 0..spec.projections.len() {
                let ps = &spec.projections[k];
                if ps.post != pi
                    || ps.compartment != Compartment::Soma
                    || !ps.update_phase.in_forward()
                {
                    continue;
                }
                let q = ps.pre;
                let read = if spec.populations[q].is_input {
                    t as isize
                } else {
                    match ps.direction {
                        Direction::Forward if q < pi => t as isize,
                        _ => t as isize - 1,
                    }
                };
                let w = &weights[k];
                let post = w.post_size;
                if wanted[k] {
                    let x = &tape.rows[q][((read - t0 as isize + 1) as usize) * w.pre_size..]
                        [..w.pre_size];
                    let u = &tape.ubar[pi];
                    match speed {
                        Speed::Fast => kernels::outer_accumulate(&mut grads[k], post, u, x),
                        Speed::Reference => {
                            kernels::outer_accumulate_plain(&mut grads[k], post, u, x)
                        }
                    }
                }
                if !spec.populations[q].is_input && live[q] && read >= t0 as isize {
                    tmp.clear();
                    tmp.resize(w.pre_size, 0.0);
                    match speed {
                        Speed::Fast => {
                            kernels::transpose_matvec(&w.wt, post, &tape.ubar[pi], &mut tmp)
                        }
                        Speed::Reference => {
                            kernels::transpose_matvec_plain(&w.wt, post, &tape.ubar[pi], &mut tmp)
                        }
                    }
                    let rq = read as usize - t0;
                    let m = w.pre_size;
                    for (a, &v) in tape.abar[q][rq * m..(rq + 1) * m].iter_mut().zip(&tmp) {
                        *a += v;
                    }
                }
            }
        }
    }
}

/// `out = Wᵀ·v` for a projection (`out_j = Σ_i W[i][j] v_i`, each sum in increasing `i`: the order PyTorch's
/// CPU kernel used for every fixture, bit-identical gradients on its activities); see
/// [`kernels::transpose_matvec`].
pub fn transpose_matvec(w: &Projection, v: &[f32], out: &mut Vec<f32>) {
    out.clear();
    out.resize(w.pre_size, 0.0);
    kernels::transpose_matvec(&w.wt, w.post_size, v, out);
}

/// The seeds of `Backprop_DendriticLoss`'s loss `MSE(D_S, 0)` for source population `source` with forward
/// dendritic state `d`: `ḡ = fl(D_S · fl(2/size S))`, and `ā_Q += Wᵀ·ḡ` at the step each dendritic input
/// was read (`T−1` for direction F, `T−2` for R). Returns `(population, step, ā)` triples. Dendritic
/// projections from the input carry no gradient.
pub fn dendritic_loss_seeds(
    spec: &NetworkSpec,
    weights: &[Projection],
    source: usize,
    d: &[f32],
) -> Vec<(usize, usize, Vec<f32>)> {
    let norm = (2.0 / d.len().max(1) as f64) as f32;
    let gbar: Vec<f32> = d.iter().map(|&v| v * norm).collect();
    let t_last = spec.forward_steps - 1;
    let mut out = Vec::new();
    for (k, ps) in spec.projections.iter().enumerate() {
        if ps.post != source
            || ps.compartment != Compartment::Dendrite
            || spec.populations[ps.pre].is_input
        {
            continue;
        }
        let step = match ps.direction {
            Direction::Forward => Some(t_last),
            Direction::Recurrent => t_last.checked_sub(1),
        };
        let Some(step) = step else { continue };
        let mut v = Vec::new();
        transpose_matvec(&weights[k], &gbar, &mut v);
        out.push((ps.pre, step, v));
    }
    out
}

/// The adjoint of `MSELoss` (mean) with respect to its input: `fl(fl(a − y) · fl(2/n))`.
pub fn mse_grad(output: &[f32], target: &[f32], out: &mut Vec<f32>) {
    let norm = (2.0 / output.len().max(1) as f64) as f32;
    out.clear();
    out.extend(output.iter().zip(target).map(|(&a, &y)| (a - y) * norm));
}

/// `torch.optim.SGD.step` (defaults) on a weight: `w ← fl(w + fl(−lr)·g)`, one rounding (a fused
/// multiply-add; with the CPU's FMA instructions when it has them, same bits either way).
pub fn sgd_step(w: &mut [f32], g: &[f32], lr: f64) {
    sgd_step_clamped(w, g, lr, None)
}

/// [`sgd_step`], then, with `clamp`, the clamp of the weight bounds ([`Bounds::apply`]) in the same
/// pass: the bits of `sgd_step` followed by [`Bounds::apply_all`].
pub fn sgd_step_clamped(w: &mut [f32], g: &[f32], lr: f64, clamp: Option<Bounds>) {
    let alpha = (-lr) as f32;
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("fma") && std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports FMA and AVX2 (checked just above).
        unsafe { sgd_fma(w, g, alpha, clamp) };
        return;
    }
    sgd_body(w, g, alpha, clamp)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma,avx2")]
unsafe fn sgd_fma(w: &mut [f32], g: &[f32], alpha: f32, clamp: Option<Bounds>) {
    sgd_body(w, g, alpha, clamp)
}

#[inline(always)]
fn sgd_body(w: &mut [f32], g: &[f32], alpha: f32, clamp: Option<Bounds>) {
    match clamp {
        None => {
            for (w, &g) in w.iter_mut().zip(g) {
                *w = g.mul_add(alpha, *w);
            }
        }
        Some(c) => {
            for (w, &g) in w.iter_mut().zip(g) {
                *w = c.apply(g.mul_add(alpha, *w));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The clamp fused into the SGD pass gives the bits of the step followed by the clamp, on the FMA
    /// path and the portable one.
    #[test]
    fn sgd_with_clamp_equals_sgd_then_clamp() {
        let w0: Vec<f32> = (0..203)
            .map(|i| ((i * 7919) % 61) as f32 / 30.0 - 1.0)
            .collect();
        let g: Vec<f32> = (0..203)
            .map(|i| ((i * 31) % 17) as f32 / 4.0 - 2.0)
            .collect();
        for bounds in [
            (Some(0.0), None),
            (None, Some(0.0)),
            (Some(-0.25), Some(0.5)),
        ] {
            let clamp = Bounds::of(bounds);
            let mut apart = w0.clone();
            sgd_step(&mut apart, &g, 0.3);
            clamp.unwrap().apply_all(&mut apart);
            let mut fused = w0.clone();
            sgd_step_clamped(&mut fused, &g, 0.3, clamp);
            let mut portable = w0.clone();
            sgd_body(&mut portable, &g, (-0.3f64) as f32, clamp);
            let bits = |w: &[f32]| w.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&fused), bits(&apart), "{bounds:?}");
            assert_eq!(bits(&portable), bits(&apart), "{bounds:?}");
            assert!(apart
                .iter()
                .any(|&v| v == clamp.unwrap().lo || v == clamp.unwrap().hi));
        }
    }

    #[test]
    fn sgd_rounds_once() {
        // w + (−lr)·g = 1 − (1 + 2⁻¹²)² = −(2⁻¹¹ + 2⁻²⁴) exactly; rounding the product first gives −2⁻¹¹.
        let e = 2f32.powi(-12);
        let mut w = [1.0f32];
        sgd_step(&mut w, &[1.0 + e], 1.0 + e as f64);
        assert_eq!(w[0], -(2f32.powi(-11) + 2f32.powi(-24)));
        let two_roundings = 1.0 + (-(1.0 + e)) * (1.0 + e);
        assert_ne!(w[0], two_roundings);
    }

    fn config(stem: &str) -> NetworkSpec {
        NetworkSpec::from_file(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../data/network_config/mnist")
                .join(format!("{stem}.yaml")),
        )
        .expect("config")
    }

    fn live_names(spec: &NetworkSpec, wanted: &[bool]) -> Vec<String> {
        support(spec, wanted)
            .iter()
            .zip(&spec.populations)
            .filter(|(&l, _)| l)
            .map(|(_, p)| p.fullname.clone())
            .collect()
    }

    #[test]
    fn support_of_the_dendritic_loss_is_its_dendi_population() {
        let spec = config("20241113_EIANN_2_hidden_mnist_BP_like_config_5M_complete_optimized");
        for (source, dendi) in [("H1E", "H1DendI"), ("H2E", "H2DendI")] {
            let s = spec.population_index(source).expect("source");
            let wanted: Vec<bool> = spec
                .projections
                .iter()
                .map(|p| matches!(p.rule, crate::rules::Rule::BackpropDendriticLoss(r) if r.source == s))
                .collect();
            assert!(wanted.iter().any(|&w| w));
            assert_eq!(live_names(&spec, &wanted), [dendi]);
        }
    }

    #[test]
    fn support_of_backprop_reaches_every_population_on_a_path() {
        // bpDale G learns only E←E; SomaI feeds E somatically, so its adjoint is needed too.
        let spec =
            config("20231129_EIANN_2_hidden_mnist_bpDale_relu_SGD_config_G_complete_optimized");
        let wanted: Vec<bool> = spec
            .projections
            .iter()
            .map(|p| p.rule.requires_grad())
            .collect();
        let every: Vec<String> = spec
            .populations
            .iter()
            .filter(|p| !p.is_input)
            .map(|p| p.fullname.clone())
            .collect();
        assert_eq!(live_names(&spec, &wanted), every);
        // Nothing wanted: nothing live.
        assert!(support(&spec, &vec![false; wanted.len()])
            .iter()
            .all(|&l| !l));
    }

    #[test]
    fn mse_grad_is_two_over_n() {
        let mut g = Vec::new();
        mse_grad(&[1.0, 0.0], &[0.0, 0.0], &mut g);
        assert_eq!(g, vec![1.0, 0.0]);
    }
}
