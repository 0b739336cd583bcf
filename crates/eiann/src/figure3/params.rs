//! Figure 3's facts in one place (like brian2's `examples/frompapers/*/params.py`): the network config,
//! seeds, step counts, checkpoint, crop rows, example units and the spiking model's constants; the
//! spiking inputs and time constants are derived from the network, not written down twice.

use std::ops::Range;

use crate::config::NetworkSpec;
use crate::spiking::population::{spiking_inputs, SpikingInput};
use crate::spiking::SpikingParams;
use crate::Result;

// ---- The rate network and its training run -------------------------------------------------------

/// Stem of the Figure 3 network config (EIANN's `config_name`, used in pickle file names).
pub const CONFIG_NAME: &str = "20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized";

/// The Figure 3 network config, relative to the repository root.
pub const CONFIG: &str =
    "data/network_config/mnist/20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized.yaml";

/// The original network's checkpoint 30 (PyTorch EIANN, seeds 66049/257), relative to the repository root.
pub const REFERENCE_STATE: &str = "data/reference/eiann_pytorch_66049_257_step2999.npz";

/// Weight-initialisation seed of the figure's run.
pub const NETWORK_SEED: u64 = 66049;
/// Data-order seed of the figure's run.
pub const DATA_SEED: u64 = 257;
/// Training steps of the figure's run (one epoch of 3,000 samples).
pub const TRAIN_STEPS: usize = 3000;
/// Parameters are stored every this many steps (`param_history`).
pub const CHECKPOINT_EVERY: usize = 100;
/// The validation set is evaluated every this many steps (`just train`'s `--val-every`).
pub const VAL_EVERY: usize = 1000;
/// The checkpoint the notebook loads (`param_history[30]`, train step 2999); the sample shown is the
/// one trained at this step.
pub const CHECKPOINT_STEP: usize = 2999;
/// The sample trained at [`CHECKPOINT_STEP`] with [`DATA_SEED`] (MNIST training image 30702).
pub const PUBLISHED_SAMPLE: usize = 30702;

/// The paper's main DTP network (`BP_like_2E`, learned dendritic inhibition; EIANN's documentation
/// demonstrates DTP with it), relative to the repository root. The population notebook measures the
/// spiking-vs-rate agreement on it too, trained from [`NETWORK_SEED`]/[`DATA_SEED`] for [`TRAIN_STEPS`].
pub const DTP_5J_CONFIG: &str =
    "data/network_config/mnist/20241009_EIANN_2_hidden_mnist_BP_like_config_5J_complete_optimized.yaml";

// ---- What the figure shows -----------------------------------------------------------------------

/// The population whose units the figure shows.
pub const POPULATION: &str = "H2E";
/// Presynaptic population of the plastic projection compared (`H2E_H1E`).
pub const PLASTIC_PRE: &str = "H1E";
/// The published example units (positive, negative) of the original network. Other networks use the
/// automatic rule [`crate::series::example_units`]: among units active before the nudge, the largest
/// and the smallest final dendritic state.
pub const PUBLISHED_UNITS: (usize, usize) = (88, 51);
/// Rows of the 30-step series the figure crops (`[4:25]`: forward steps 4..14, backward steps 0..9).
pub const CROP: Range<usize> = 4..25;
/// Crop row of the last sensory step (`before_nudge_idx`): units active here are gated on.
pub const BEFORE_NUDGE_ROW: usize = 10;
/// Crop row of the first supervised step (`after_nudge_idx`).
pub const AFTER_NUDGE_ROW: usize = 11;

// ---- The spiking model ----------------------------------------------------------------------------

/// Milliseconds per rate-model step (`time_coefficient = 20`).
pub const MS_PER_RATE_STEP: usize = 20;
/// Absolute refractory period (`refractory_period = 1.0` ms).
pub const REFRACTORY_MS: f64 = 1.0;
/// Activity-to-rate factor (`max_rate = 450.0` Hz).
pub const MAX_RATE_HZ: f64 = 450.0;
/// Synaptic weight scale (`weight_scale = 2.3`).
pub const WEIGHT_SCALE: f64 = 2.3;
/// Dendrite-to-soma coupling gain (`v_dend * 3`).
pub const DEND_COUPLING: f32 = 3.0;
/// NumPy seed of every spike draw (`np.random.seed(42)`).
pub const SPIKE_SEED: u32 = 42;

/// The spiking parameters for `population` of `spec`: the constants above, with the time constants
/// from the network: `tau_soma = tau_ET = τ_population · ms per step` (60 ms for H2E: τ = 3 steps) and
/// `tau_dend = 1 step` (20 ms).
///
/// Errors: `population` is not in `spec`.
pub fn spiking_params(spec: &NetworkSpec, population: &str) -> Result<SpikingParams> {
    SpikingParams::from_network(spec, population, MS_PER_RATE_STEP).map(|p| SpikingParams {
        refractory_ms: REFRACTORY_MS,
        max_rate_hz: MAX_RATE_HZ,
        weight_scale: WEIGHT_SCALE,
        dend_coupling: DEND_COUPLING,
        seed: SPIKE_SEED,
        ..p
    })
}

/// The projections onto `population` the spiking model simulates, in projection (= RNG) order, with
/// their compartment and delay, read from `spec` ([`spiking_inputs`]).
pub fn inputs(spec: &NetworkSpec, population: &str) -> Result<Vec<SpikingInput>> {
    spiking_inputs(spec, population)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Compartment;

    fn spec() -> NetworkSpec {
        NetworkSpec::from_file(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../..")
                .join(CONFIG),
        )
        .expect("figure 3 config")
    }

    #[test]
    fn derived_parameters_are_the_notebooks() {
        let spec = spec();
        assert_eq!(
            spiking_params(&spec, POPULATION).unwrap(),
            SpikingParams::default()
        );
        let names: Vec<(String, Compartment, bool)> = inputs(&spec, POPULATION)
            .unwrap()
            .into_iter()
            .map(|i| (i.pre, i.compartment, i.recurrent))
            .collect();
        assert_eq!(
            names,
            vec![
                ("H1E".to_string(), Compartment::Soma, false),
                ("H2SomaI".to_string(), Compartment::Soma, true),
                ("H2DendI".to_string(), Compartment::Dendrite, true),
                ("OutputE".to_string(), Compartment::Dendrite, false),
            ]
        );
        assert!(spiking_params(&spec, "H9E").is_err());
    }

    #[test]
    fn the_time_constant_follows_the_yaml_tau() {
        let text = spec().source_yaml.replace("tau: 3", "tau: 5");
        let spec = NetworkSpec::from_yaml_str(&text, CONFIG_NAME, "edited").unwrap();
        let p = spiking_params(&spec, POPULATION).unwrap();
        assert_eq!(
            (p.tau_soma_ms, p.tau_et_ms, p.tau_dend_ms),
            (100.0, 100.0, 20.0)
        );
    }
}
