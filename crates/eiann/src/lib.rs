//! # eiann — EIANN's Dendritic Target Propagation network in Rust
//!
//! A float32 re-implementation of the parts of [EIANN](https://github.com/Milstein-Lab/EIANN) needed for
//! Figure 3 of Galloni et al. 2025 ("Dendritic Target Propagation in rate and spiking neurons"): the same
//! network, numerically (checked against golden arrays of the PyTorch original, see `tests/parity.rs`).
//!
//! ## EIANN's concepts and where they live
//!
//! | EIANN | here |
//! |---|---|
//! | YAML config (`layer_config`, `projection_config`, `training_kwargs`) | [`config::NetworkSpec`] (checked; errors name the YAML path) |
//! | `Network` | [`Network`] ([`network`]): built from a spec and a seed like `Network.__init__` |
//! | `Population` (soma state, activity, dendritic state, plateau) | [`network::PopulationState`], static facts in [`config::PopulationSpec`] |
//! | `Projection` (an `nn.Linear`: weight, bounds, constraint, direction, phase, compartment) | [`network::Projection`] (weights) + [`config::ProjectionSpec`] |
//! | compartment `None`/`soma` vs `dend` | [`config::Compartment`]: somatic inputs sum into the state, dendritic ones into the dendritic state |
//! | `direction` F / R | [`config::Direction`]: current activity vs start-of-step `prev_activity` |
//! | `update_phase` F / B / A, the sensory and supervised phases | [`config::UpdatePhase`]; [`Network::forward`] in [`dynamics`] (the integration step as an equation), [`Network::backward`] runs every rule class's supervised phase ([`rules`]) |
//! | learning rules `BP_like_2L`, `DendriticLoss_6`, `Hebb_WeightNorm` | [`rules`]: one module per class (settings, supervised phase, update), the registry [`rules::Rule`]; the recipe for adding one is in [`rules`] |
//! | weight constraints (`clamp`, `no_autapses`, `normalize_weight`, `clone_weight`) | [`constraints`] |
//! | `Network.train`, `param_history`, `sample_order`, intervals | [`Network::train_step`], [`train::train`], [`train::Interval`] |
//! | evaluation (`Network.test`, validation) | [`evaluate`]: batches of 32 samples, each population's projections stacked into one product, same bits as one by one |
//! | (speed-ups: cached, reused and stacked products, SIMD kernels, fused clamps) | [`fast`], behind one interface, with a plain reference path [`Speed::Reference`] that gives the same bits |
//! | `store_dynamics` recordings | [`Recording`] ([`record`]) — an option of the one implementation of the dynamics |
//! | `compute_dendritic_state_dynamics` | [`series::DynamicsSeries`] |
//! | `torch.manual_seed`, `uniform_`, `randperm`, DataLoader order | [`rng`] |
//! | `get_MNIST_dataloaders` | [`data`] |
//! | pickled networks | [`checkpoint`] (plain pickle, readable with the Python standard library) |
//! | Figure 3 analyses (`generate_fig3`: class averages, selectivity, dendritic state, angle vs backprop) | [`analyses`] |
//! | many runs (configs × seeds) on one machine or a Slurm array, results table | [`sweep`] |
//! | the notebook's spiking cells | [`spiking`]; the whole figure pipeline: [`figure3`]; the panels' data: [`panels`] (drawn by the `eiann-plot` crate) |
//!
//! ## Features
//!
//! `tables` (default): the agreement statistics as polars `DataFrame`s (`spiking::stats` tables,
//! `figure3::Figure3::max_rate_sweep`, CSV output). Without it the crate builds without polars, which is
//! how the panel notebooks load it (a smaller evcxr session).
//!
//! ## Example
//!
//! ```
//! use eiann::{Network, NetworkSpec};
//! let spec = NetworkSpec::from_file(concat!(env!("CARGO_MANIFEST_DIR"),
//!     "/../../data/network_config/mnist/20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized.yaml"))?;
//! let mut net = Network::new(spec, 66049); // same initial weights as EIANN with network seed 66049
//! let x = vec![0.5f32; 784];
//! let mut target = vec![0f32; 10];
//! target[3] = 1.0;
//! let loss = net.train_step(&x, &target)?; // one EIANN `Network.train` step
//! assert!(loss > 0.0);
//! # Ok::<(), eiann::Error>(())
//! ```

pub mod adjoint;
pub mod analyses;
pub mod checkpoint;
pub mod config;
pub mod constraints;
pub mod data;
pub mod display;
pub mod dynamics;
pub mod error;
pub mod evaluate;
pub mod fast;
pub mod figure3;
pub mod input;
pub mod limits;
pub mod network;
pub mod npz;
pub mod panels;
pub mod record;
pub mod rng;
pub mod rules;
pub mod run;
pub mod samples;
pub mod series;
pub mod spiking;
pub mod state;
pub mod sweep;
pub mod train;

pub use config::NetworkSpec;
pub use error::{Error, Result};
pub use fast::Speed;
pub use network::Network;
pub use record::Recording;
pub use state::StateDict;
