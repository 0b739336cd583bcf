//! Inhomogeneous Poisson spike trains with an absolute refractory period, drawn exactly like EIANN's
//! `utils.generate_inhomogeneous_poisson_spikes` (spec §9.2).

use super::numpy_rng::NumpyRandomState;
use super::params::NumpyScalars;
use crate::{Error, Result};

/// Upper clip of the refractory-corrected rate, in Hz (`np.clip(rate, 0, 50000)`).
pub const MAX_CORRECTED_RATE_HZ: f64 = 50_000.0;

/// The additive constant in the refractory correction `rate / (1 − rate·r_s + 1e-5)`.
const CORRECTION_EPS: f64 = 1e-5;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// Element type of a rate array: the generator's arithmetic happens in this dtype, as in NumPy.
///
/// The notebook passes float32 arrays for presynaptic neurons (`poisson_rates[...].numpy()`) and
/// float64 arrays for the two output units (`np.clip(python_floats, 0, None) * max_rate`). The
/// refractory correction, the clip, `M = max(rate)` and the acceptance ratio `rate[k] / M` are computed in
/// that dtype (Python scalars are cast to it); spike times are always float64.
pub trait RateSample: Copy + PartialOrd + sealed::Sealed + std::fmt::Debug {
    /// `rate / (1 − rate·r_s + 1e-5)` evaluated left to right in this dtype.
    fn refractory_corrected(self, r_s: f64) -> Self;
    /// `np.clip(rate, 0, 50000)` in this dtype.
    fn clip_corrected(self) -> Self;
    /// `rate[k] / M` in this dtype, widened to float64 for the comparison with the uniform draw.
    fn ratio(self, max: Self) -> f64;
    /// `(int(ceil(2·M·Ttot)), 1/M)`: the number of exponential draws and their scale.
    fn event_count_and_scale(max: Self, t_total_s: f64, scalars: NumpyScalars) -> (f64, f64);
    /// Widen to float64 (exact).
    fn to_f64(self) -> f64;
    /// The zero of this dtype.
    fn zero() -> Self;
}

impl RateSample for f32 {
    #[inline]
    fn refractory_corrected(self, r_s: f64) -> f32 {
        self / (1.0f32 - self * (r_s as f32) + CORRECTION_EPS as f32)
    }
    #[inline]
    fn clip_corrected(self) -> f32 {
        self.clamp(0.0, MAX_CORRECTED_RATE_HZ as f32)
    }
    #[inline]
    fn ratio(self, max: f32) -> f64 {
        f64::from(self / max)
    }
    fn event_count_and_scale(max: f32, t_total_s: f64, scalars: NumpyScalars) -> (f64, f64) {
        match scalars {
            // NumPy 1.x: float32 scalar op Python scalar → float64.
            NumpyScalars::Legacy1x => {
                let m = f64::from(max);
                ((2.0 * m * t_total_s).ceil(), 1.0 / m)
            }
            // NumPy ≥ 2 (NEP 50): Python scalars are weak, the result stays float32.
            NumpyScalars::Nep50 => (
                f64::from((2.0f32 * max * t_total_s as f32).ceil()),
                f64::from(1.0f32 / max),
            ),
        }
    }
    #[inline]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    #[inline]
    fn zero() -> f32 {
        0.0
    }
}

impl RateSample for f64 {
    #[inline]
    fn refractory_corrected(self, r_s: f64) -> f64 {
        self / (1.0 - self * r_s + CORRECTION_EPS)
    }
    #[inline]
    fn clip_corrected(self) -> f64 {
        self.clamp(0.0, MAX_CORRECTED_RATE_HZ)
    }
    #[inline]
    fn ratio(self, max: f64) -> f64 {
        self / max
    }
    fn event_count_and_scale(max: f64, t_total_s: f64, _: NumpyScalars) -> (f64, f64) {
        ((2.0 * max * t_total_s).ceil(), 1.0 / max)
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline]
    fn zero() -> f64 {
        0.0
    }
}

/// Draw one spike train from a rate sampled every millisecond (Hz), mirroring EIANN's
/// `generate_inhomogeneous_poisson_spikes(rate, refractory_period)` (newer version, spec §9.2).
///
/// Algorithm (thinning): correct the rate for refractoriness, `r/(1 − r·r_s + 1e-5)` with
/// `r_s = refractory_ms/1000`, clip to [0, 50 000]; with `M = max`, draw `ceil(2·M·Ttot)` exponential
/// ISIs of scale `1/M` (`Ttot = len/1000` s), keep the cumulative times below `Ttot`, and accept each
/// candidate `t` (ms) with one uniform `U < rate[round(t)]/M` unless it is within `refractory_ms` of
/// the last accepted spike (unrounded times). Candidates rounding to `len` are skipped without a
/// uniform. Returns the accepted times rounded half-to-even, in ms.
///
/// RNG use is exactly NumPy's: `2·ceil(2·M·Ttot)` 32-bit outputs for the ISIs, two per candidate for
/// the uniforms. An all-zero rate (after correction) returns an empty train without touching `rng`.
/// An empty `rate` returns an empty train (the Python returns `[]`).
///
/// Implementation note: ISIs after the cumulative time has passed `Ttot` cannot produce candidates
/// (ISIs are non-negative), so their `ln` is skipped; their MT outputs are still consumed.
///
/// Errors: a negative or non-finite rate sample (the Python raises on negative rates and fails on NaN),
/// or a negative / non-finite refractory period.
pub fn generate_inhomogeneous_poisson_spikes<R: RateSample>(
    rate: &[R],
    refractory_ms: f64,
    scalars: NumpyScalars,
    rng: &mut NumpyRandomState,
) -> Result<Vec<i64>> {
    let mut corrected = Vec::with_capacity(rate.len());
    generate_with_buffer(rate, refractory_ms, scalars, rng, &mut corrected)
}

/// [`generate_inhomogeneous_poisson_spikes`] reusing `scratch` for the corrected rates (no allocation
/// per neuron in the population loop).
pub(crate) fn generate_with_buffer<R: RateSample>(
    rate: &[R],
    refractory_ms: f64,
    scalars: NumpyScalars,
    rng: &mut NumpyRandomState,
    scratch: &mut Vec<R>,
) -> Result<Vec<i64>> {
    if rate.is_empty() {
        return Ok(Vec::new());
    }
    if !(refractory_ms.is_finite() && refractory_ms >= 0.0) {
        return Err(Error::invalid(
            "refractory period",
            format!("must be finite and >= 0 ms, got {refractory_ms}"),
        ));
    }
    if let Some((k, &r)) = rate
        .iter()
        .enumerate()
        .find(|(_, r)| !(r.to_f64() >= 0.0 && r.to_f64().is_finite()))
    {
        return Err(Error::invalid(
            "firing rate",
            format!("rates must be finite and >= 0 Hz; sample {k} is {r:?}"),
        ));
    }
    let r_s = refractory_ms / 1000.0;
    scratch.clear();
    scratch.extend(
        rate.iter()
            .map(|&r| r.refractory_corrected(r_s).clip_corrected()),
    );
    let corrected = &scratch[..];
    let max = corrected
        .iter()
        .copied()
        .fold(R::zero(), |m, r| if r > m { r } else { m });
    if max.to_f64() == 0.0 {
        return Ok(Vec::new());
    }
    let len = corrected.len();
    let t_total_s = len as f64 / 1000.0;
    let (n_events, scale) = R::event_count_and_scale(max, t_total_s, scalars);
    let n_events = n_events as u64;

    // Cumulative ISIs below Ttot (a prefix: cumulative sums of non-negative ISIs never decrease).
    let mut candidates_ms = Vec::new();
    let mut cum_s = 0.0f64;
    let mut drawn = 0u64;
    while drawn < n_events {
        drawn += 1;
        cum_s += rng.exponential(scale);
        if cum_s < t_total_s {
            candidates_ms.push(cum_s * 1000.0);
        } else {
            break;
        }
    }
    for _ in drawn..n_events {
        rng.next_u32();
        rng.next_u32();
    }

    let mut accepted: Vec<f64> = Vec::new();
    for t in candidates_ms {
        let k = t.round_ties_even() as usize;
        if k == len {
            continue;
        }
        let accept = rng.random_sample() < corrected[k].ratio(max);
        let isi_ms = accepted.last().map_or(f64::INFINITY, |&last| t - last);
        if accept && isi_ms >= refractory_ms {
            accepted.push(t);
        }
    }
    Ok(accepted
        .into_iter()
        .map(|t| t.round_ties_even() as i64)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gen<R: RateSample>(rate: &[R], rng: &mut NumpyRandomState) -> Vec<i64> {
        generate_inhomogeneous_poisson_spikes(rate, 1.0, NumpyScalars::Legacy1x, rng).unwrap()
    }

    #[test]
    fn constant_rate_mean_count() {
        // 50 Hz for 420 ms: corrected rate 50/(1 − 0.05 + 1e-5) ≈ 52.63 Hz, then the refractory period
        // removes ~5 % of it again: expected count ≈ 21 spikes.
        let rate = vec![50.0f32; 420];
        let n_seeds = 400;
        let mut total = 0usize;
        for seed in 0..n_seeds {
            let mut rng = NumpyRandomState::new(seed);
            total += gen(&rate, &mut rng).len();
        }
        let mean = total as f64 / n_seeds as f64;
        // Poisson sd of the mean over 400 trains ≈ sqrt(21/400) ≈ 0.23.
        assert!((mean - 21.0).abs() < 1.2, "mean count {mean}");
    }

    #[test]
    fn high_rate_respects_refractory_period() {
        let rate = vec![900.0f32; 420];
        for seed in 0..20 {
            let mut rng = NumpyRandomState::new(seed);
            let s = gen(&rate, &mut rng);
            assert!(s.len() > 100, "seed {seed}: {} spikes", s.len());
            // Unrounded ISIs are >= 1 ms, so rounded times are strictly increasing.
            assert!(s.windows(2).all(|w| w[1] > w[0]), "seed {seed}");
            assert!(s.iter().all(|&t| (0..420).contains(&t)));
        }
        // Float64 rates (the soma path) obey the same rule.
        let rate = vec![700.0f64; 420];
        let mut rng = NumpyRandomState::new(3);
        let s = gen(&rate, &mut rng);
        assert!(s.windows(2).all(|w| w[1] > w[0]));
    }

    #[test]
    fn zero_rate_is_empty_and_draws_nothing() {
        let mut rng = NumpyRandomState::new(42);
        assert!(gen(&[0.0f32; 420], &mut rng).is_empty());
        assert!(gen::<f64>(&[], &mut rng).is_empty());
        // The stream is untouched: the next draw is the first of seed 42.
        assert_eq!(rng.random_sample(), 0.3745401188473625);
    }

    #[test]
    fn rng_use_depends_only_on_max_rate() {
        // Two trains with the same maximum consume the same number of draws.
        let a: Vec<f32> = (0..420)
            .map(|t| if t == 7 { 300.0 } else { 10.0 })
            .collect();
        let b: Vec<f32> = (0..420)
            .map(|t| if t == 300 { 300.0 } else { 200.0 })
            .collect();
        let mut ra = NumpyRandomState::new(5);
        let mut rb = NumpyRandomState::new(5);
        gen(&a, &mut ra);
        gen(&b, &mut rb);
        // Candidate counts coincide because the ISIs are the same draws.
        assert_eq!(ra.next_u32(), rb.next_u32());
    }

    #[test]
    fn precision_variants_agree_on_spike_times() {
        let rate: Vec<f32> = (0..420)
            .map(|t| 300.0 * (t as f32 / 70.0).sin().abs())
            .collect();
        for seed in 0..10 {
            let mut r1 = NumpyRandomState::new(seed);
            let mut r2 = NumpyRandomState::new(seed);
            let a =
                generate_inhomogeneous_poisson_spikes(&rate, 1.0, NumpyScalars::Legacy1x, &mut r1)
                    .unwrap();
            let b = generate_inhomogeneous_poisson_spikes(&rate, 1.0, NumpyScalars::Nep50, &mut r2)
                .unwrap();
            assert_eq!(a, b, "seed {seed}");
        }
    }

    #[test]
    fn invalid_rates_are_errors() {
        let mut rng = NumpyRandomState::new(42);
        let e = generate_inhomogeneous_poisson_spikes(
            &[1.0f32, -0.5, 2.0],
            1.0,
            NumpyScalars::Legacy1x,
            &mut rng,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("sample 1"), "{e}");
        assert!(generate_inhomogeneous_poisson_spikes(
            &[f64::NAN],
            1.0,
            NumpyScalars::Legacy1x,
            &mut rng
        )
        .is_err());
        assert!(generate_inhomogeneous_poisson_spikes(
            &[1.0f64],
            -1.0,
            NumpyScalars::Legacy1x,
            &mut rng
        )
        .is_err());
    }
}
