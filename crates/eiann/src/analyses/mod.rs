//! The analyses behind the published Figure 3 ("Fig3_dendI", `../shared/spec/eiann-analyses.md`): library
//! functions over arrays (views in, owned results out), no plotting.
//!
//! | quantity (spec §) | module |
//! |---|---|
//! | accuracy (or any) histories aggregated over seeds: mean and population SD (§4, §5.2, §6.6) | [`seeds`] |
//! | binned mean \|forward dendritic state\| (§5.1), batch and streaming | [`dendritic_state`] |
//! | selectivity per unit, sparsity per pattern and their means (§7, §8.1) | [`selectivity`] |
//! | class-averaged activity, preferred classes, the heat map's unit order and image (§3) | [`class_activity`] |
//! | angle between the network's update and backprop, both variants (§6) | [`angle`] |
//! | the comparison network's backprop step, the prediction the angles compare against (§6.2–6.3) | [`backprop`] |
//! | all of the above computed inside the training loop, stored in the checkpoint (§2, §12) | [`recorder`] |
//! | the published Figure 3 panels' data (per network, aggregated over seeds) from recorded runs (§3–§9) | [`dendi_figure`] |

pub mod angle;
pub mod backprop;
pub mod class_activity;
pub mod dendi_figure;
pub mod dendritic_state;
pub mod recorder;
pub mod seeds;
pub mod selectivity;
