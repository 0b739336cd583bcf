//! Learning rules: the weight updates applied after the backward phase (EIANN `LearningRule.step`).
//!
//! Every rule is an outer-product update `W = fl(W ± fl(fl(lr) · fl(a_i · b_j)))` with rule-specific
//! vectors `a` (postsynaptic) and `b` (presynaptic), read from quantities fixed before any rule runs, so
//! the order in which projections are updated does not matter.
//!
//! | rule (EIANN class) | file | `a` (post) | `b` (pre) | sign |
//! |---|---|---|---|---|
//! | `BP_like_2L` | [`bp_like`] | plateau | clamp(activity after the backward phase, 0, 1) | + |
//! | `DendriticLoss_6` | [`dendritic_loss`] | clamp(forward dendritic state, −1, 1) | clamp(forward (prev) activity, 0, 1) | `sign` |
//! | `Hebb_WeightNorm` | [`hebbian`] | forward activity | forward (prev) activity | `sign` |
//! | `LearningRule` / null | – | – | – | no update |

pub mod bp_like;
pub mod dendritic_loss;
pub mod hebbian;

use crate::config::Rule;
use crate::network::Network;

impl Network {
    /// Apply every projection's learning rule once (EIANN: `for layer, pop, proj: learning_rule.step()`).
    /// Weights are not constrained here; call [`Network::constrain_weights`] afterwards.
    pub fn step_rules(&mut self) {
        self.input_drive_valid = false;
        for k in 0..self.spec.projections.len() {
            match self.spec.projections[k].rule {
                Rule::None => {}
                Rule::BpLike2L { .. } => bp_like::step(self, k),
                Rule::DendriticLoss6 { .. } => dendritic_loss::step(self, k),
                Rule::HebbWeightNorm { .. } => hebbian::step(self, k),
            }
        }
    }
}
