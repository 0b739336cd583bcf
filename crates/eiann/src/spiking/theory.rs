//! The agreement between spiking and rate-model ΔW that Poisson spike noise alone predicts: means and
//! variances of the filtered spike trains, plugged into the pooled and per-unit Pearson r.
//!
//! # Derivation
//!
//! Time runs over `t = 0..T−1` (1 ms samples). The DTP weight change of the plastic projection, for a
//! gated postsynaptic unit `u` and presynaptic neuron `j`, is
//!
//! * rate model: `x_uj = λ · A_j · D_u` with `A_j` the presynaptic activity and `D_u` the dendritic
//!   state at the last step,
//! * spiking model: `y_uj = λ · E_j · V_u` with `E_j` the final eligibility trace and `V_u` the final
//!   dendritic potential ([`super::weight_change`]).
//!
//! Both are **outer products**: one presynaptic vector times one postsynaptic vector. The learning rate
//! `λ` and the gate cancel in every correlation.
//!
//! **Filtered spike trains.** A spike train on the 1 ms grid is `s_j(t) ∈ {0, 1}`. The trace update
//! `ET ← ET + (−ET + g·s)/τ_E` and the dendrite update `v ← v + (−v + I)/τ_d` are first-order filters:
//!
//! ```text
//! E_j = (g/τ_E) Σ_t k_E^(T−1−t) s_j(t),                 k_E = 1 − 1/τ_E
//! V_u = (g/τ_d) Σ_t k_d^(T−1−t) Σ_{j ∈ dendritic inputs} W_uj s_j(t),   k_d = 1 − 1/τ_d
//! ```
//!
//! (`g` the weight scale; somatic inputs do not enter ΔW). The generator corrects the rate `r` for
//! the refractory period `r_s` (`r' = clip(r/(1 − r·r_s + 10⁻⁵), 0, 50 000)`) and then removes spikes
//! closer than `r_s`, so a stationary train fires at `r_eff = r'/(1 + r'·r_s)` (= `r` below the cap).
//! That is a **dead-time-modified Poisson process**: a renewal process whose intervals are `r_s` plus
//! an exponential of rate `r'`. Its mean count per sample is `p_j(t) = r_eff,j(t) · 1 ms`, and its
//! counts over windows much longer than `r_s` have the Fano factor `F = 1/(1 + r'·r_s)² = (1 −
//! r_eff·r_s)²` (renewal theory: `F = CV²` of the intervals, `CV = (1/r')/(r_s + 1/r')`). The filters
//! below have time constants of tens of ms ≫ `r_s`, so they see the train's low-frequency noise, whose
//! power is `r_eff · F`: each sample contributes the variance `p (1 − r_eff·r_s)²` (Poisson shot noise
//! `p`, reduced by the refractory period; at 1 kHz the train becomes regular and the noise vanishes).
//! Hence, for a filter `h(t) = c·k^(T−1−t)`,
//!
//! ```text
//! mean:      μ_j = Σ_t h(t) p_j(t)          variance:  σ_j² = Σ_t h(t)² p_j(t) (1 − r_eff,j(t)·r_s)²
//! ```
//!
//! (A first version treated the samples as independent Bernoulli variables, variance `p(1 − p)`: with
//! `r_s` = one sample that ignores the negative correlation the dead time leaves between neighbouring
//! samples, and overstated the variance by 1.7× at 400 Hz — caught by the test below, which compares
//! these moments with the generator's own trains over 3,000 seeds.)
//!
//! giving `μ_j, σ_j²` for `E_j` (`c = g/τ_E`) and `ν_j, ω_j²` for each dendritic input
//! (`c = 1/τ_d`), so `m_u = E[V_u] = g Σ_j W_uj ν_j`, `s_u² = Var V_u = g² Σ_j W_uj² ω_j²`. The
//! presynaptic (H1E) and dendritic (H2DendI, OutputE) trains are independent, so `E` and `V` are.
//!
//! **Pooled r.** Over the `N = n_u·n_j` pairs, Pearson r is
//! `(S_xy − S_x S_y / N) / √((S_xx − S_x²/N)(S_yy − S_y²/N))`. With outer products every sum factorises
//! (`S_xy = Σ_j A_j E_j · Σ_u D_u V_u`, `S_y = Σ_j E_j · Σ_u V_u`, ...), and the expected sums are
//!
//! ```text
//! E[S_xy]  = (Σ A_j μ_j)(Σ D_u m_u)        E[S_y]  = (Σ μ_j)(Σ m_u)
//! E[S_yy]  = (Σ μ_j² + σ_j²)(Σ m_u² + s_u²)
//! E[S_y²]  = ((Σ μ_j)² + Σ σ_j²)((Σ m_u)² + g² Σ_j (Σ_u W_uj)² ω_j²)
//! ```
//!
//! The prediction is r with these expectations in place of the sums (first order in the noise, i.e.
//! the ratio of expectations; it ignores the curvature of the square root and the fluctuations of the
//! sample variances). When a filter window holds only a few spikes it falls below the mean measured r
//! (the unit test's toy network at 20 Hz: 0.22 against 0.39, interval 0.23–0.52); with many spikes the
//! two agree. The OLS slope `(S_xy − S_x S_y/N)/(S_xx −
//! S_x²/N)` is linear in `y`, so its expectation is exact under the model; it scales as `g²`, which is
//! why the rate-compensated sweep holds `g · max_rate` fixed. Deterministic differences between the
//! models — the trace and dendrite filter the rate history (the recurrent inputs arrive one rate step
//! late) instead of reading the last step, and rates above the cap saturate — are part of the means
//! `μ, m` and so of the prediction.
//!
//! **Per-unit r.** For one unit, `x_j ∝ A_j D_u` and `y_j ∝ E_j V_u`, so its r is
//! `sign(D_u V_u) · ρ` with `ρ = corr_j(A, E)` — the same magnitude for every unit of a run. `ρ` is
//! predicted as above (one factor), and `sign(V_u) = sign(D_u)` with probability
//! `Φ(sign(D_u) m_u / s_u)` for a Gaussian `V_u`, so the expected per-unit r is
//! `ρ · mean_u (2Φ(sign(D_u) m_u / s_u) − 1)`.
//!
//! Float32 rounding and the rounding of spike times to whole milliseconds are ignored.

use ndarray::ArrayView2;

use super::params::SpikingParams;
use super::population::{validate_populations, Compartment, PresynapticPopulation};
use super::rates::poisson_rates;
use super::weight_change::DtpPlasticity;
use crate::{Error, Result};

/// The theory's prediction for one set of parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TheoryPrediction {
    /// Expected pooled Pearson r over the gated units.
    pub pooled_r: f64,
    /// Expected mean per-unit Pearson r.
    pub unit_r: f64,
    /// Expected `corr_j(A, E)` (the magnitude of every per-unit r).
    pub presynaptic_r: f64,
    /// Expected OLS slope of spiking on rate ΔW (pooled).
    pub slope: f64,
}

/// Mean and variance of `E = c Σ_t k^(T−1−t) s(t)` for the generator's dead-time Poisson train `s(t)`
/// with the rates `rate_hz` (Hz, one per ms) after its refractory correction (per-sample mean `p(t)`,
/// low-frequency variance `p(t)·(1 − p(t)·r_s/1 ms)²`; see the module docs).
///
/// Returns `(mean, variance)`.
pub fn filtered_train_moments(rate_hz: &[f32], c: f64, k: f64, refractory_ms: f64) -> (f64, f64) {
    let mut mean = 0.0;
    let mut var = 0.0;
    // Walk backwards from the last sample: the weight of sample t is c·k^(T−1−t).
    let mut w = c;
    for &r in rate_hz.iter().rev() {
        let p = spike_probability(f64::from(r), refractory_ms);
        // r_eff · r_s, with p = r_eff · 1 ms.
        let dead = (p * refractory_ms).min(1.0);
        mean += w * p;
        var += w * w * p * (1.0 - dead) * (1.0 - dead);
        w *= k;
    }
    (mean, var)
}

/// Probability of a spike in one 1 ms sample for a rate `r` (Hz): the stationary rate of the
/// refractory-corrected, dead-time-thinned train (`r'/(1 + r'·r_s)`, `r' = clip(r/(1 − r·r_s +
/// 10⁻⁵), 0, 50 000)`), times 1 ms, at most 1.
pub fn spike_probability(r: f64, refractory_ms: f64) -> f64 {
    let r_s = refractory_ms / 1000.0;
    let corrected = (r / (1.0 - r * r_s + 1e-5)).clamp(0.0, super::poisson::MAX_CORRECTED_RATE_HZ);
    let effective = corrected / (1.0 + corrected * r_s);
    (effective / 1000.0).clamp(0.0, 1.0)
}

/// Standard normal CDF `Φ(x) = erfc(−x/√2)/2`.
fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// Pearson r from the five sums of `N` pairs; `None` for a degenerate variance.
fn pearson(n: f64, sx: f64, sy: f64, sxx: f64, syy: f64, sxy: f64) -> Option<f64> {
    let vx = sxx - sx * sx / n;
    let vy = syy - sy * sy / n;
    (vx > 0.0 && vy > 0.0).then(|| (sxy - sx * sy / n) / (vx * vy).sqrt())
}

/// The prediction for simulating `units` of the populations `pops` with `params` (see the module docs):
/// only gated units (`plasticity.gate`) count, as in [`super::stats`].
///
/// Errors: as [`super::simulate_units`] (shapes, unknown plastic population, invalid parameters); no
/// gated unit; a degenerate variance (e.g. silent presynaptic neurons).
pub fn predict(
    pops: &[PresynapticPopulation<'_>],
    plasticity: &DtpPlasticity<'_>,
    units: &[usize],
    params: &SpikingParams,
) -> Result<TheoryPrediction> {
    let (steps, n_post) = validate_populations(pops)?;
    params.validate()?;
    plasticity.validate(steps, n_post)?;
    if let Some(&bad) = units.iter().find(|&&u| u >= n_post) {
        return Err(Error::invalid(
            "unit index",
            format!("unit {bad} is out of range for a postsynaptic population of {n_post}"),
        ));
    }
    let plastic = pops
        .iter()
        .find(|p| p.name == plasticity.pre)
        .ok_or_else(|| Error::UnknownName {
            kind: "presynaptic population",
            name: plasticity.pre.to_string(),
            hint: String::new(),
        })?;
    let gated: Vec<usize> = units
        .iter()
        .copied()
        .filter(|&u| plasticity.gate(u))
        .collect();
    if gated.is_empty() {
        return Err(Error::invalid(
            "theory",
            "no simulated unit is gated on (active before the nudge)",
        ));
    }
    let g = params.weight_scale;
    let r_s = params.refractory_ms;
    let last = steps - 1;

    // Presynaptic factor: E_j, filtered by the trace.
    let tau_e = f64::from(params.tau_et_ms);
    let rates = poisson_rates(plastic.activity, plastic.recurrent, params)?;
    let column_moments = |rates: ArrayView2<'_, f32>, c: f64, k: f64| -> Vec<(f64, f64)> {
        rates
            .columns()
            .into_iter()
            .map(|col| filtered_train_moments(&col.to_vec(), c, k, r_s))
            .collect()
    };
    let e = column_moments(rates.view(), g / tau_e, 1.0 - 1.0 / tau_e);
    let a = plastic.activity.row(last);
    let nj = a.len() as f64;
    let (mut sa, mut saa, mut sm, mut smm_var, mut sam, mut svar) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for (&aj, &(mu, var)) in a.iter().zip(&e) {
        let aj = f64::from(aj);
        sa += aj;
        saa += aj * aj;
        sm += mu;
        smm_var += mu * mu + var;
        sam += aj * mu;
        svar += var;
    }
    let presynaptic_r = pearson(nj, sa, sm, saa, smm_var, sam).ok_or_else(|| {
        Error::invalid(
            "theory",
            format!(
                "presynaptic activity of {} or its expected trace has no variance",
                plastic.name
            ),
        )
    })?;
    // E[(Σ E_j)²] = (Σ μ)² + Σ σ².
    let e_sum_sq = sm * sm + svar;

    // Dendritic factor: V_u, filtered by the dendrite.
    let tau_d = f64::from(params.tau_dend_ms);
    let nu = gated.len();
    let mut m = vec![0.0f64; nu];
    let mut s2 = vec![0.0f64; nu];
    let mut col_sum_var = 0.0; // g² Σ_j (Σ_u W_uj)² ω_j²
    for p in pops
        .iter()
        .filter(|p| p.compartment == Compartment::Dendrite)
    {
        let rates = poisson_rates(p.activity, p.recurrent, params)?;
        let xi = column_moments(rates.view(), 1.0 / tau_d, 1.0 - 1.0 / tau_d);
        for (j, &(nu_j, om2)) in xi.iter().enumerate() {
            let mut col = 0.0;
            for (k, &u) in gated.iter().enumerate() {
                let w = f64::from(p.weight[(u, j)]);
                m[k] += g * w * nu_j;
                s2[k] += g * g * w * w * om2;
                col += w;
            }
            col_sum_var += g * g * col * col * om2;
        }
    }
    let d: Vec<f64> = gated
        .iter()
        .map(|&u| f64::from(plasticity.dendritic_state[(last, u)]))
        .collect();
    let (sd, sdd, sdm, smu, smu2) = d.iter().zip(m.iter().zip(&s2)).fold(
        (0.0, 0.0, 0.0, 0.0, 0.0),
        |acc, (&du, (&mu, &s2u))| {
            (
                acc.0 + du,
                acc.1 + du * du,
                acc.2 + du * mu,
                acc.3 + mu,
                acc.4 + mu * mu + s2u,
            )
        },
    );
    let v_sum_sq = smu * smu + col_sum_var;

    let n = nj * nu as f64;
    let sx = sa * sd;
    let sxx = saa * sdd;
    let sy = sm * smu;
    let sxy = sam * sdm;
    let syy = smm_var * smu2;
    let vx = sxx - sx * sx / n;
    let vy = syy - e_sum_sq * v_sum_sq / n;
    if !(vx > 0.0 && vy > 0.0) {
        return Err(Error::invalid(
            "theory",
            "the rate or the expected spiking ΔW has no variance over the gated units",
        ));
    }
    let cov = sxy - sx * sy / n;
    let sign_term: f64 = d
        .iter()
        .zip(m.iter().zip(&s2))
        .map(|(&du, (&mu, &s2u))| {
            let signed = du.signum() * mu;
            let p_agree = if s2u > 0.0 {
                normal_cdf(signed / s2u.sqrt())
            } else if signed > 0.0 {
                1.0
            } else if signed < 0.0 {
                0.0
            } else {
                0.5
            };
            2.0 * p_agree - 1.0
        })
        .sum::<f64>()
        / nu as f64;
    Ok(TheoryPrediction {
        pooled_r: cov / (vx * vy).sqrt(),
        unit_r: presynaptic_r * sign_term,
        presynaptic_r,
        slope: cov / vx,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spiking::numpy_rng::NumpyRandomState;
    use crate::spiking::params::NumpyScalars;
    use crate::spiking::poisson::generate_inhomogeneous_poisson_spikes;

    #[test]
    fn normal_cdf_values() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.0) - 0.841_344_746).abs() < 2e-7);
        assert!((normal_cdf(-1.96) - 0.024_997_895).abs() < 2e-7);
        assert!(normal_cdf(-40.0) >= 0.0 && normal_cdf(40.0) <= 1.0);
    }

    #[test]
    fn spike_probability_follows_the_rate_below_the_cap() {
        for r in [1.0, 10.0, 100.0, 450.0] {
            let p = spike_probability(r, 1.0);
            // r'/(1 + r' r_s) = r/(1 + 1e-5) for r' = r/(1 − r r_s + 1e-5).
            assert!((p * 1000.0 - r).abs() < 1e-5 * r + 1e-9, "{r}: {p}");
        }
        // At the cap the train is nearly regular: 50 000/(1 + 50) Hz.
        assert!((spike_probability(1000.0, 1.0) - 50.0 / 51.0).abs() < 1e-12);
        assert_eq!(spike_probability(0.0, 1.0), 0.0);
    }

    /// The moments of a filtered train match the generator's spike trains (the generator the
    /// simulation uses) over many seeds, at a low and a near-cap rate.
    #[test]
    fn filtered_moments_match_the_generator() {
        let (tau, g) = (60.0f64, 2.3f64);
        let (c, k) = (g / tau, 1.0 - 1.0 / tau);
        for rate in [30.0f32, 400.0] {
            let train: Vec<f32> = (0..420)
                .map(|t| rate * (0.5 + 0.5 * (t as f32 / 90.0).sin().abs()))
                .collect();
            let (mean, var) = filtered_train_moments(&train, c, k, 1.0);
            let n = 3000;
            let (mut s, mut ss) = (0.0, 0.0);
            for seed in 0..n {
                let mut rng = NumpyRandomState::new(1000 + seed);
                let times = generate_inhomogeneous_poisson_spikes(
                    &train,
                    1.0,
                    NumpyScalars::Legacy1x,
                    &mut rng,
                )
                .unwrap();
                let x: f64 = times.iter().map(|&t| c * k.powi(419 - t as i32)).sum();
                s += x;
                ss += x * x;
            }
            let m = s / n as f64;
            let v = ss / n as f64 - m * m;
            // Standard error of the mean: sqrt(var/n); the variance within 10 %.
            assert!(
                (m - mean).abs() < 4.0 * (var / n as f64).sqrt(),
                "rate {rate}: mean {m} vs {mean}"
            );
            assert!((v / var - 1.0).abs() < 0.1, "rate {rate}: var {v} vs {var}");
        }
    }
}
