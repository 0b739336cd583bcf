//! # eiann — EIANN's Dendritic Target Propagation network in Rust
//!
//! A float32 re-implementation of the parts of [EIANN](https://github.com/Milstein-Lab/EIANN) needed for
//! Figure 3 of Galloni et al. 2025 ("Dendritic Target Propagation in rate and spiking neurons").
//!
//! (Crate overview is completed as the modules land.)

pub mod checkpoint;
pub mod config;
pub mod constraints;
pub mod data;
pub mod dynamics;
pub mod error;
pub mod evaluate;
pub mod figure3;
pub mod figures;
pub mod kernels;
pub mod network;
pub mod npz;
pub mod record;
pub mod rng;
pub mod rules;
pub mod run;
pub mod samples;
pub mod series;
pub mod spiking;
pub mod state;
pub mod train;

pub use config::NetworkSpec;
pub use error::{Error, Result};
pub use network::Network;
pub use record::Recording;
pub use state::StateDict;
