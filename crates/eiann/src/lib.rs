//! # eiann — EIANN's Dendritic Target Propagation network in Rust
//!
//! A float32 re-implementation of the parts of [EIANN](https://github.com/Milstein-Lab/EIANN) needed for
//! Figure 3 of Galloni et al. 2025 ("Dendritic Target Propagation in rate and spiking neurons").
//!
//! (Crate overview is completed as the modules land.)

pub mod checkpoint;
pub mod data;
pub mod error;
pub mod figures;
pub mod npz;
pub mod spiking;
pub mod state;

pub use error::{Error, Result};
pub use state::StateDict;
