//! The constants of the spiking model (spec §9), gathered in one documented struct.

/// Simulation resolution: one sample of every rate / voltage / trace series is one millisecond.
///
/// The notebook's whole pipeline assumes 1 ms steps (`generate_inhomogeneous_poisson_spikes` reads its
/// rate array as 1 ms samples, spike times are integer milliseconds), so this is a constant, not a
/// parameter.
pub const DT_MS: f64 = 1.0;

/// Which NumPy promotion rules the Poisson generator's scalar arithmetic follows (spec §9.2, §11.1.9).
///
/// With float32 presynaptic rates, the maximum `M` is a NumPy `float32` scalar. The event count
/// `2·M·Ttot` and the exponential scale `1/M` are computed in float64 under NumPy 1.x (legacy
/// promotion of all-scalar expressions) and in float32 under NumPy ≥ 2 (NEP 50). The two choices
/// give ISIs differing at the 1e-8 level and could, in rare cases, change the event count.
///
/// The fixtures were produced with NumPy 1.24.4, so [`NumpyScalars::Legacy1x`] is the default. Both
/// variants reproduce every spike of both `fig3*.npz` fixtures (the differences are absorbed by the
/// rounding of spike times to integer milliseconds), so the fixtures alone cannot tell them apart;
/// the default follows the documented NumPy version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NumpyScalars {
    /// NumPy 1.x: `2·M·Ttot` and `1/M` in float64 (the fixtures' NumPy 1.24.4).
    #[default]
    Legacy1x,
    /// NumPy ≥ 2 (NEP 50): `2·M·Ttot` and `1/M` in the rate's dtype (float32 for presynaptic rates).
    Nep50,
}

/// Parameters of the spiking simulation, defaulting to the values of the seed notebook's
/// "Run spiking simulation" cells (Galloni et al. 2025, Figure 3).
///
/// Floating-point fields are stored as the notebook writes them (Python floats, i.e. f64); every use
/// with a float32 array rounds the constant to float32 first, exactly as NumPy / PyTorch do.
#[derive(Debug, Clone, PartialEq)]
pub struct SpikingParams {
    /// Milliseconds per rate-model step (`time_coefficient = 20`): the zoom factor of the rate series
    /// and the delay of recurrent inputs.
    pub ms_per_rate_step: usize,
    /// Absolute refractory period in ms (`refractory_period = 1.0`). Also sets the presynaptic rate cap
    /// `1000 / refractory_ms` Hz.
    pub refractory_ms: f64,
    /// Factor from rate-model activity to firing rate in Hz (`max_rate = 450.0`).
    pub max_rate_hz: f64,
    /// Synaptic weight scale `g` (`weight_scale = 2.3`): currents are `g · s·Wᵀ`, and each spike adds
    /// `g` to the eligibility-trace drive.
    pub weight_scale: f64,
    /// Somatic membrane time constant in ms (`tau_neuron = network.tau · time_coefficient = 3 · 20`).
    pub tau_soma_ms: f32,
    /// Dendritic time constant in ms (`tau_dend = time_coefficient = 20`).
    pub tau_dend_ms: f32,
    /// Eligibility-trace time constant in ms (`tau_ET = tau_neuron = 60`).
    pub tau_et_ms: f32,
    /// Gain of the dendrite-to-soma coupling (`v_dend * 3` in the soma update).
    pub dend_coupling: f32,
    /// Seed of the NumPy legacy `RandomState` (`np.random.seed(42)`) that drives every spike draw.
    pub seed: u32,
    /// NumPy scalar-promotion rules for the Poisson generator; see [`NumpyScalars`].
    pub numpy_scalars: NumpyScalars,
}

impl Default for SpikingParams {
    fn default() -> Self {
        SpikingParams {
            ms_per_rate_step: 20,
            refractory_ms: 1.0,
            max_rate_hz: 450.0,
            weight_scale: 2.3,
            tau_soma_ms: 60.0,
            tau_dend_ms: 20.0,
            tau_et_ms: 60.0,
            dend_coupling: 3.0,
            seed: 42,
            numpy_scalars: NumpyScalars::Legacy1x,
        }
    }
}

impl SpikingParams {
    /// The notebook's parameters with the time constants of `population` in `spec`:
    /// `tau_soma = tau_ET = τ · ms_per_rate_step` (τ the population's integration time constant in
    /// steps, the network `tau` unless the population sets one) and `tau_dend = ms_per_rate_step`
    /// (one rate step), as the notebook's `tau_neuron = network.tau * time_coefficient`,
    /// `tau_dend = time_coefficient`.
    ///
    /// Errors: `population` is not in `spec`; `ms_per_rate_step` is 0.
    pub fn from_network(
        spec: &crate::config::NetworkSpec,
        population: &str,
        ms_per_rate_step: usize,
    ) -> crate::Result<SpikingParams> {
        let pop = &spec.populations[spec.population_index(population)?];
        let step = ms_per_rate_step as f32;
        let params = SpikingParams {
            ms_per_rate_step,
            tau_soma_ms: pop.tau * step,
            tau_dend_ms: step,
            tau_et_ms: pop.tau * step,
            ..SpikingParams::default()
        };
        params.validate()?;
        Ok(params)
    }

    /// Presynaptic rate cap in Hz, `1000 / refractory_ms` (the notebook's
    /// `torch.clip(..., 0, 1000/(refractory_period))`).
    pub fn rate_cap_hz(&self) -> f64 {
        1000.0 / self.refractory_ms
    }

    /// Check that every parameter is usable (positive time constants, non-zero step length, ...).
    pub fn validate(&self) -> crate::Result<()> {
        use crate::Error;
        if self.ms_per_rate_step == 0 {
            return Err(Error::invalid(
                "SpikingParams::ms_per_rate_step",
                "must be at least 1 ms per rate step",
            ));
        }
        let positive = [
            ("SpikingParams::refractory_ms", self.refractory_ms),
            ("SpikingParams::max_rate_hz", self.max_rate_hz),
            ("SpikingParams::tau_soma_ms", f64::from(self.tau_soma_ms)),
            ("SpikingParams::tau_dend_ms", f64::from(self.tau_dend_ms)),
            ("SpikingParams::tau_et_ms", f64::from(self.tau_et_ms)),
        ];
        for (what, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::invalid(
                    what,
                    format!("must be finite and > 0, got {v}"),
                ));
            }
        }
        for (what, v) in [
            ("SpikingParams::weight_scale", self.weight_scale),
            (
                "SpikingParams::dend_coupling",
                f64::from(self.dend_coupling),
            ),
        ] {
            if !v.is_finite() {
                return Err(Error::invalid(what, format!("must be finite, got {v}")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_notebooks() {
        let p = SpikingParams::default();
        assert_eq!(p.ms_per_rate_step, 20);
        assert_eq!(p.rate_cap_hz(), 1000.0);
        assert_eq!(
            (p.tau_soma_ms, p.tau_dend_ms, p.tau_et_ms),
            (60.0, 20.0, 60.0)
        );
        assert!(p.validate().is_ok());
    }

    #[test]
    fn invalid_params_are_errors() {
        let p = SpikingParams {
            tau_dend_ms: 0.0,
            ..SpikingParams::default()
        };
        let e = p.validate().unwrap_err().to_string();
        assert!(e.contains("tau_dend_ms"), "{e}");
        let p = SpikingParams {
            ms_per_rate_step: 0,
            ..SpikingParams::default()
        };
        assert!(p.validate().is_err());
    }
}
