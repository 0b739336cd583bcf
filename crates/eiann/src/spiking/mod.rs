//! The spiking version of the rate network (spec §9): Poisson conversion, two-compartment neurons,
//! eligibility traces and rate-vs-spiking weight changes.
//!
//! Data flow, mirroring the seed notebook's "Run spiking simulation" cells:
//!
//! 1. [`PresynapticPopulation`]s (plain arrays: cropped rate-model activity, projection weight,
//!    direction, compartment) are turned into 1 ms firing rates ([`rates::poisson_rates`], using the
//!    SciPy-exact [`upsample::zoom_linear`]) and Poisson spike trains
//!    ([`poisson::generate_inhomogeneous_poisson_spikes`], driven by NumPy's legacy generator
//!    [`numpy_rng::NumpyRandomState`]).
//! 2. Spikes become currents, eligibility traces and soma/dendrite potentials
//!    ([`two_compartment`]); output spikes are drawn from the somatic potential.
//! 3. [`weight_change`] forms the notebook's `rate_dW` and `spiking_dW`; [`stats`] measures their
//!    agreement (per unit, pooled, over runs); [`sweep`] sweeps the maximal rate with many spike
//!    seeds and bootstrap intervals, beside the noise-only prediction of [`theory`].
//!
//! [`simulate_units`] runs the notebook's two-unit experiment; [`simulate_population`] runs every
//! postsynaptic unit through the same code.
//! All parameters live in [`SpikingParams`].

pub mod numpy_rng;
pub mod params;
pub mod poisson;
pub mod population;
pub mod rates;
pub mod simulation;
pub mod stats;
pub mod sweep;
pub mod theory;
pub mod two_compartment;
pub mod upsample;
pub mod weight_change;

pub use numpy_rng::NumpyRandomState;
pub use params::{NumpyScalars, SpikingParams, DT_MS};
pub use poisson::generate_inhomogeneous_poisson_spikes;
pub use population::{
    generate_presynaptic_spikes, spiking_inputs, Compartment, PresynapticPopulation,
    PresynapticSpikes, SpikingInput,
};
pub use simulation::{simulate_population, simulate_units, SpikingRun};
pub use weight_change::{DtpPlasticity, WeightChanges};
