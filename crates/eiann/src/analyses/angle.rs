//! Angle between the network's weight update and a backprop update from the same weights (spec §6): the
//! vector angle, per-parameter normalisation, `all_params` concatenation, and the bookkeeping of both
//! EIANN variants (`angle_vs_bp_stochastic`, plotted by Figure 3, and the step-averaged `angle_vs_bp`).
//!
//! The backprop update itself is supplied by the caller through [`PredictedUpdate`] ("the change of the
//! compared weights after one SGD step of the comparison network on this batch, from the weights entering
//! training step s"); this module decides which batches and snapshots are compared and how.
//! [`AngleTracker`] consumes the stored steps in order and keeps O(1) snapshots, so it can run during
//! training (spec §12) as well as over stored histories.

use ndarray::ArrayD;

use crate::config::{NetworkSpec, Rule, UpdatePhase};
use crate::error::{Error, Result};
use crate::state::StateDict;

/// Added to each parameter block's norm before dividing (EIANN's `+ 1e-10`).
pub const NORM_EPSILON: f32 = 1e-10;

/// Angle in degrees (0..180) between `u` and `v`, computed in float64 and returned as float32
/// (`RA.compute_vector_angle`): `acos(clamp(u·v / (‖u‖‖v‖), −1, 1))`. NaN when either vector is all zeros
/// (no epsilon). Errors when the lengths differ.
pub fn vector_angle(u: &[f32], v: &[f32]) -> Result<f32> {
    if u.len() != v.len() {
        return Err(Error::shape("vectors of an angle", u.len(), v.len()));
    }
    let (mut dot, mut uu, mut vv) = (0f64, 0f64, 0f64);
    for (&a, &b) in u.iter().zip(v) {
        let (a, b) = (a as f64, b as f64);
        dot += a * b;
        uu += a * a;
        vv += b * b;
    }
    let cos = dot / (uu.sqrt() * vv.sqrt());
    if cos.is_nan() {
        return Ok(f32::NAN);
    }
    Ok(cos.clamp(-1.0, 1.0).acos().to_degrees() as f32)
}

/// State-dict keys of the parameters compared with backprop (§6.1), in registration (config) order:
/// projections whose post and pre population names both end in `E`, that learn, and whose update phase
/// is not the backward phase. For 5J/5K/5M: `H1E_InputE`, `H2E_H1E`, `OutputE_H2E`.
pub fn compared_parameters(spec: &NetworkSpec) -> Vec<String> {
    spec.projections
        .iter()
        .filter(|p| {
            spec.populations[p.post].fullname.ends_with('E')
                && spec.populations[p.pre].fullname.ends_with('E')
                && !matches!(p.rule, Rule::None(_))
                && p.update_phase != UpdatePhase::Backward
        })
        .map(|p| format!("module_dict.{}.weight", p.name))
        .collect()
}

/// Short name of a state-dict key: `module_dict.H2E_H1E.weight` → `H2E_H1E` (other keys unchanged).
pub fn short_name(key: &str) -> &str {
    key.strip_prefix("module_dict.")
        .and_then(|k| k.strip_suffix(".weight"))
        .unwrap_or(key)
}

/// Named float32 tensors in a fixed order (the compared parameters): weights, updates, predictions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParamSet {
    entries: Vec<(String, ArrayD<f32>)>,
}

impl ParamSet {
    /// A set from `(key, tensor)` pairs, in that order.
    pub fn new(entries: Vec<(String, ArrayD<f32>)>) -> ParamSet {
        ParamSet { entries }
    }

    /// The tensors of `keys` taken from `state`, in the order of `keys`.
    pub fn from_state(state: &StateDict, keys: &[String]) -> Result<ParamSet> {
        keys.iter()
            .map(|k| {
                state
                    .get(k)
                    .map(|a| (k.clone(), a.clone()))
                    .ok_or_else(|| Error::UnknownName {
                        kind: "parameter",
                        name: k.clone(),
                        hint: String::new(),
                    })
            })
            .collect::<Result<Vec<_>>>()
            .map(ParamSet::new)
    }

    /// Keys in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// The `(key, tensor)` pairs in order.
    pub fn entries(&self) -> &[(String, ArrayD<f32>)] {
        &self.entries
    }

    /// Number of tensors.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the set holds no tensor.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn check_matches(&self, other: &ParamSet, what: &str) -> Result<()> {
        let a: Vec<(&str, &[usize])> = self
            .entries
            .iter()
            .map(|(k, v)| (k.as_str(), v.shape()))
            .collect();
        let b: Vec<(&str, &[usize])> = other
            .entries
            .iter()
            .map(|(k, v)| (k.as_str(), v.shape()))
            .collect();
        if a != b {
            return Err(Error::shape(what, format!("{a:?}"), format!("{b:?}")));
        }
        Ok(())
    }

    /// `fl32(self − before)` entry by entry (an update from two snapshots). Keys and shapes must match.
    pub fn minus(&self, before: &ParamSet) -> Result<ParamSet> {
        self.check_matches(before, "parameter sets of a difference")?;
        Ok(ParamSet::new(
            self.entries
                .iter()
                .zip(&before.entries)
                .map(|((k, a), (_, b))| (k.clone(), a - b))
                .collect(),
        ))
    }

    /// ‖·‖₂ of each tensor (float64 sum, rounded to float32 like torch's `norm`).
    pub fn norms(&self) -> Vec<f32> {
        self.entries.iter().map(|(_, a)| l2(a.iter())).collect()
    }

    /// Non-zero entries of each tensor.
    pub fn n_nonzero(&self) -> Vec<usize> {
        self.entries
            .iter()
            .map(|(_, a)| a.iter().filter(|&&x| x != 0.0).count())
            .collect()
    }

    /// Each tensor divided by (its norm + 1e-10), in float32 (§6.4).
    pub fn normalised(&self) -> ParamSet {
        ParamSet::new(
            self.entries
                .iter()
                .map(|(k, a)| {
                    let d = l2(a.iter()) + NORM_EPSILON;
                    (k.clone(), a.mapv(|x| x / d))
                })
                .collect(),
        )
    }

    /// The `all_params` vector: every tensor flattened row-major, concatenated in order.
    pub fn concatenated(&self) -> Vec<f32> {
        let mut v = Vec::with_capacity(self.entries.iter().map(|(_, a)| a.len()).sum());
        for (_, a) in &self.entries {
            v.extend(a.iter().copied());
        }
        v
    }
}

fn l2<'a>(v: impl Iterator<Item = &'a f32>) -> f32 {
    v.map(|&x| (x as f64) * (x as f64)).sum::<f64>().sqrt() as f32
}

/// The batch of a predicted update: `sample_order[step .. step + b]`, truncated at the end of
/// `sample_order` (§6.3 step 2). Errors when `step` is past the end or `b` is 0.
pub fn batch(sample_order: &[usize], step: usize, b: usize) -> Result<&[usize]> {
    if b == 0 || step >= sample_order.len() {
        return Err(Error::invalid(
            "angle batch",
            format!(
                "step {step} with batch size {b} is outside the sample order ({} steps)",
                sample_order.len()
            ),
        ));
    }
    Ok(&sample_order[step..(step + b).min(sample_order.len())])
}

/// Batch size of the step-averaged variant: the **last** difference of the stored steps (§6.5).
pub fn step_averaged_batch_size(steps: &[usize]) -> Result<usize> {
    match steps {
        [.., a, b] if b > a => Ok(b - a),
        _ => Err(Error::invalid(
            "stored steps",
            format!("need ≥ 2 strictly increasing stored steps for the step-averaged angle, got {steps:?}"),
        )),
    }
}

/// The predicted backprop update the angles compare against. Implemented for closures
/// `FnMut(t, step, batch) -> Result<ParamSet>`.
pub trait PredictedUpdate {
    /// `W_after − W_before` (float32) of the compared parameters (same keys and shapes as the snapshots)
    /// after one SGD step of the comparison network on the training samples `batch` (train-file indices),
    /// starting from the weights entering training step `step` (stored snapshot `t`), with its weight
    /// constraints applied (spec §6.3).
    fn predicted_update(&mut self, t: usize, step: usize, batch: &[usize]) -> Result<ParamSet>;
}

impl<F: FnMut(usize, usize, &[usize]) -> Result<ParamSet>> PredictedUpdate for F {
    fn predicted_update(&mut self, t: usize, step: usize, batch: &[usize]) -> Result<ParamSet> {
        self(t, step, batch)
    }
}

/// One compared pair: angles per parameter and of `all_params`, with the diagnostics the fixtures hold.
#[derive(Debug, Clone, PartialEq)]
pub struct AngleRow {
    /// Angle (°) of each compared parameter, in order.
    pub per_param: Vec<f32>,
    /// Angle (°) of the concatenated vectors.
    pub all_params: f32,
    /// ‖predicted dW‖₂ of each parameter before normalisation.
    pub predicted_raw_norm: Vec<f32>,
    /// Non-zero entries of each predicted dW.
    pub predicted_n_nonzero: Vec<usize>,
    /// ‖`all_params`‖₂ of the (normalised) predicted vector.
    pub all_params_norm_predicted: f32,
    /// ‖`all_params`‖₂ of the actual vector (normalised or raw, per variant).
    pub all_params_norm_actual: f32,
}

/// Compare a raw predicted update with an actual one: the prediction is normalised per parameter; the
/// actual update too when `normalise_actual` (stochastic variant), not for the step-averaged variant.
pub fn angle_row(
    predicted: &ParamSet,
    actual: &ParamSet,
    normalise_actual: bool,
) -> Result<AngleRow> {
    predicted.check_matches(actual, "predicted vs actual update")?;
    let p = predicted.normalised();
    let a = if normalise_actual {
        actual.normalised()
    } else {
        actual.clone()
    };
    let per_param = p
        .entries
        .iter()
        .zip(&a.entries)
        .map(|((_, x), (_, y))| {
            let (x, y): (Vec<f32>, Vec<f32>) =
                (x.iter().copied().collect(), y.iter().copied().collect());
            vector_angle(&x, &y)
        })
        .collect::<Result<Vec<_>>>()?;
    let (pc, ac) = (p.concatenated(), a.concatenated());
    Ok(AngleRow {
        per_param,
        all_params: vector_angle(&pc, &ac)?,
        predicted_raw_norm: predicted.norms(),
        predicted_n_nonzero: predicted.n_nonzero(),
        all_params_norm_predicted: l2(pc.iter()),
        all_params_norm_actual: l2(ac.iter()),
    })
}

/// One variant's series over the stored steps.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AngleSeries {
    /// Snapshot index t of each row.
    pub t: Vec<usize>,
    /// Plotted x of each row: `P[t]` (stochastic) or `P[t+1]` (step-averaged, EIANN's
    /// `val_history_train_steps[1:]`).
    pub steps: Vec<usize>,
    /// The rows.
    pub rows: Vec<AngleRow>,
}

impl AngleSeries {
    /// The `all_params` angles.
    pub fn all_params(&self) -> Vec<f32> {
        self.rows.iter().map(|r| r.all_params).collect()
    }

    /// The angles of compared parameter `i`.
    pub fn param(&self, i: usize) -> Vec<f32> {
        self.rows
            .iter()
            .map(|r| r.per_param.get(i).copied().unwrap_or(f32::NAN))
            .collect()
    }
}

/// Which of EIANN's two variants to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variants {
    /// `angle_vs_bp_stochastic`: batch = the one sample of step P[t], vs the normalised single-step update.
    pub stochastic: bool,
    /// `angle_vs_bp`: batch of P[T−1] − P[T−2] samples from P[t], vs the raw change P⁻[t+1] − P⁻[t].
    pub step_averaged: bool,
}

impl Variants {
    /// Both variants.
    pub const BOTH: Variants = Variants {
        stochastic: true,
        step_averaged: true,
    };
}

/// Computes both angle variants from the stored steps in order, holding only the previous step's
/// weights and prediction. Feed [`push`](Self::push) with t = 0, 1, … (any prefix of the stored steps).
#[derive(Debug, Clone)]
pub struct AngleTracker {
    steps: Vec<usize>,
    sample_order: Vec<usize>,
    variants: Variants,
    avg_batch: usize,
    next_t: usize,
    /// Weights entering P[t−1] and the raw step-averaged prediction from them.
    pending: Option<(ParamSet, ParamSet)>,
    stochastic: AngleSeries,
    step_averaged: AngleSeries,
}

/// What [`AngleTracker::finish`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct AngleHistories {
    /// `angle_vs_bp_stochastic` (Figure 3's panel).
    pub stochastic: AngleSeries,
    /// `angle_vs_bp`.
    pub step_averaged: AngleSeries,
}

impl AngleTracker {
    /// A tracker for the stored steps `steps` (P, strictly increasing, inside `sample_order`).
    pub fn new(steps: Vec<usize>, sample_order: Vec<usize>, variants: Variants) -> Result<Self> {
        if steps.is_empty() || steps.windows(2).any(|w| w[1] <= w[0]) {
            return Err(Error::invalid(
                "stored steps",
                format!("must be non-empty and strictly increasing, got {steps:?}"),
            ));
        }
        if let Some(&last) = steps.last() {
            if last >= sample_order.len() {
                return Err(Error::invalid(
                    "stored steps",
                    format!(
                        "step {last} is outside the sample order ({} steps)",
                        sample_order.len()
                    ),
                ));
            }
        }
        let avg_batch = if variants.step_averaged {
            step_averaged_batch_size(&steps)?
        } else {
            0
        };
        Ok(AngleTracker {
            steps,
            sample_order,
            variants,
            avg_batch,
            next_t: 0,
            pending: None,
            stochastic: AngleSeries::default(),
            step_averaged: AngleSeries::default(),
        })
    }

    /// Batch size of the step-averaged variant (0 when it is not computed).
    pub fn step_averaged_batch_size(&self) -> usize {
        self.avg_batch
    }

    /// Stored step `t` (must be the next one): `before` = compared weights entering step P[t], `after` =
    /// leaving it. Asks `predictor` for the stochastic prediction of t and, for t ≤ T−2, the step-averaged
    /// one; completes the step-averaged row of t − 1.
    pub fn push(
        &mut self,
        t: usize,
        before: ParamSet,
        after: &ParamSet,
        predictor: &mut dyn PredictedUpdate,
    ) -> Result<()> {
        if t != self.next_t || t >= self.steps.len() {
            return Err(Error::invalid(
                "angle snapshot",
                format!(
                    "expected stored step index {} of {}, got {t}",
                    self.next_t,
                    self.steps.len()
                ),
            ));
        }
        let step = self.steps[t];
        if self.variants.stochastic {
            let b = batch(&self.sample_order, step, 1)?;
            let predicted = predictor.predicted_update(t, step, b)?;
            let actual = after.minus(&before)?;
            self.stochastic
                .rows
                .push(angle_row(&predicted, &actual, true)?);
            self.stochastic.t.push(t);
            self.stochastic.steps.push(step);
        }
        if self.variants.step_averaged {
            if let Some((prev_before, prev_pred)) = self.pending.take() {
                let actual = before.minus(&prev_before)?;
                self.step_averaged
                    .rows
                    .push(angle_row(&prev_pred, &actual, false)?);
                self.step_averaged.t.push(t - 1);
                self.step_averaged.steps.push(step);
            }
            if t + 1 < self.steps.len() {
                let b = batch(&self.sample_order, step, self.avg_batch)?;
                let predicted = predictor.predicted_update(t, step, b)?;
                self.pending = Some((before, predicted));
            }
        }
        self.next_t += 1;
        Ok(())
    }

    /// The series computed so far.
    pub fn finish(self) -> AngleHistories {
        AngleHistories {
            stochastic: self.stochastic,
            step_averaged: self.step_averaged,
        }
    }
}

/// Figure 3's plotted transform of the stochastic `all_params` series (§6.6): NaN → 0°, means of
/// consecutive triples (trailing T mod 3 values dropped), x = the step of each triple's first value.
pub fn stochastic_binned3(theta: &[f32], steps: &[usize]) -> Result<(Vec<f32>, Vec<usize>)> {
    if theta.len() != steps.len() {
        return Err(Error::shape(
            "angles vs their steps",
            steps.len(),
            theta.len(),
        ));
    }
    let means = theta
        .chunks_exact(3)
        .map(|c| {
            let z = |x: f32| if x.is_nan() { 0.0 } else { x };
            (z(c[0]) + z(c[1]) + z(c[2])) / 3.0
        })
        .collect::<Vec<f32>>();
    let x = steps.iter().step_by(3).take(means.len()).copied().collect();
    Ok((means, x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{arr1, ArrayD, IxDyn};

    fn set(v: &[&[f32]]) -> ParamSet {
        ParamSet::new(
            v.iter()
                .enumerate()
                .map(|(i, x)| {
                    (
                        format!("p{i}"),
                        ArrayD::from_shape_vec(IxDyn(&[x.len()]), x.to_vec()).unwrap(),
                    )
                })
                .collect(),
        )
    }

    #[test]
    fn vector_angle_cases() {
        assert!((vector_angle(&[1.0, 0.0, 0.0], &[1.0, 1.0, 0.0]).unwrap() - 45.0).abs() < 1e-5);
        assert_eq!(
            vector_angle(&[1.0, 0.0, 0.0], &[-1.0, 0.0, 0.0]).unwrap(),
            180.0
        );
        assert!(vector_angle(&[1.0, 0.0, 0.0], &[0.0; 3]).unwrap().is_nan());
        assert!(vector_angle(&[1.0], &[1.0, 2.0]).is_err());
    }

    #[test]
    fn normalisation_weights_blocks_equally() {
        let s = set(&[&[3.0, 4.0], &[0.0, 10.0]]);
        let n = s.normalised();
        assert_eq!(n.entries()[0].1, arr1(&[0.6f32, 0.8]).into_dyn());
        assert_eq!(n.concatenated(), vec![0.6, 0.8, 0.0, 1.0]);
        assert_eq!(s.norms(), vec![5.0, 10.0]);
        assert_eq!(s.n_nonzero(), vec![2, 1]);
        // an all-zero block stays zero (1e-10 guard)
        assert_eq!(
            set(&[&[0.0, 0.0]]).normalised().concatenated(),
            vec![0.0, 0.0]
        );
    }

    #[test]
    fn batches_truncate_at_the_end() {
        let order: Vec<usize> = (100..110).collect();
        assert_eq!(batch(&order, 2, 3).unwrap(), &[102, 103, 104]);
        assert_eq!(batch(&order, 9, 100).unwrap(), &[109]);
        assert!(batch(&order, 10, 1).is_err());
        assert!(batch(&order, 0, 0).is_err());
        assert_eq!(step_averaged_batch_size(&[0, 4, 9]).unwrap(), 5);
        assert!(step_averaged_batch_size(&[3]).is_err());
    }

    #[test]
    fn tracker_pairs_snapshots_and_batches() {
        // Weights w_t entering P[t] = t, leaving = t + 0.5 (two blocks).
        let steps = vec![0, 2, 5];
        let order: Vec<usize> = (10..16).collect();
        let w = |x: f32| set(&[&[x, 0.0], &[0.0, x]]);
        let mut calls: Vec<(usize, usize, Vec<usize>)> = Vec::new();
        let mut pred = |t: usize, s: usize, b: &[usize]| {
            calls.push((t, s, b.to_vec()));
            Ok(set(&[&[1.0, 0.0], &[0.0, 1.0]]))
        };
        let mut tr = AngleTracker::new(steps.clone(), order, Variants::BOTH).unwrap();
        assert_eq!(tr.step_averaged_batch_size(), 3);
        for t in 0..3 {
            tr.push(t, w(t as f32), &w(t as f32 + 0.5), &mut pred)
                .unwrap();
        }
        assert!(tr.push(3, w(0.0), &w(0.0), &mut pred).is_err());
        let h = tr.finish();
        assert_eq!(h.stochastic.steps, vec![0, 2, 5]);
        assert_eq!(h.step_averaged.steps, vec![2, 5]);
        assert_eq!(h.step_averaged.t, vec![0, 1]);
        assert!(h.stochastic.all_params().iter().all(|a| a.abs() < 1e-3));
        assert!(h.step_averaged.all_params().iter().all(|a| a.abs() < 1e-3));
        assert_eq!(
            calls,
            vec![
                (0, 0, vec![10]),
                (0, 0, vec![10, 11, 12]),
                (1, 2, vec![12]),
                (1, 2, vec![12, 13, 14]),
                (2, 5, vec![15]),
            ]
        );
    }

    #[test]
    fn binned3() {
        let (m, x) = stochastic_binned3(
            &[3.0, f32::NAN, 6.0, 1.0, 1.0, 1.0, 9.0],
            &[0, 1, 2, 3, 4, 5, 6],
        )
        .unwrap();
        assert_eq!(m, vec![3.0, 1.0]);
        assert_eq!(x, vec![0, 3]);
    }
}
