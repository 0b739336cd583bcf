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

pub mod backprop;
pub mod backprop_dendritic_loss;
pub mod bp_like;
pub mod bp_like_2e;
pub mod dendritic_loss;
pub mod hebbian;

use crate::config::{NetworkSpec, Rule};
use crate::error::Result;
use crate::network::Network;
use crate::record::Recording;

/// Forward steps the autograd rules differentiate (`backward_steps`, at most `forward_steps`), 0 when
/// no projection uses `Backprop` or `Backprop_DendriticLoss`.
pub(crate) fn tape_depth(spec: &NetworkSpec) -> usize {
    if spec.projections.iter().any(|p| p.rule.requires_grad()) {
        spec.backward_steps.min(spec.forward_steps)
    } else {
        0
    }
}

/// A rule class's backward method (EIANN `network.backward_methods`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backward {
    BpLike2L,
    BpLike2E,
    Backprop,
    BackpropDendriticLoss,
}

impl Network {
    /// The supervised phase: every registered class-level `backward` in EIANN's registration order
    /// (`network.backward_methods`: projections in construction order, each rule class once; spec-rules
    /// §3.2). `store_dynamics` and `record` only concern `BP_like_2L`'s iterated phase.
    pub fn backward(
        &mut self,
        target: &[f32],
        store_dynamics: bool,
        mut record: Option<&mut Recording>,
    ) -> Result<()> {
        if self.batch != 1 {
            return Err(crate::Error::invalid(
                "backward",
                format!("needs batch size 1 (set to {})", self.batch),
            ));
        }
        let mut order: Vec<Backward> = Vec::new();
        for p in &self.spec.projections {
            let b = match p.rule {
                Rule::BpLike2L { .. } => Backward::BpLike2L,
                Rule::BpLike2E { .. } => Backward::BpLike2E,
                Rule::Backprop { .. } => Backward::Backprop,
                Rule::BackpropDendriticLoss { .. } => Backward::BackpropDendriticLoss,
                _ => continue,
            };
            if !order.contains(&b) {
                order.push(b);
            }
        }
        for b in order {
            match b {
                Backward::BpLike2L => {
                    self.bp_like_2l_backward(target, store_dynamics, record.as_deref_mut())?
                }
                Backward::BpLike2E => bp_like_2e::backward(self, target)?,
                Backward::Backprop => backprop::backward(self, target)?,
                Backward::BackpropDendriticLoss => backprop_dendritic_loss::backward(self)?,
            }
        }
        Ok(())
    }

    /// Apply every projection's learning rule once (EIANN: `for layer, pop, proj: learning_rule.step()`).
    /// Weights are not constrained here; call [`Network::constrain_weights`] afterwards.
    pub fn step_rules(&mut self) {
        self.input_drive_valid = false;
        for k in 0..self.spec.projections.len() {
            match self.spec.projections[k].rule {
                // Backprop / Backprop_DendriticLoss have no `step`: their optimizers step in the backward
                // methods.
                Rule::None | Rule::Backprop { .. } | Rule::BackpropDendriticLoss { .. } => {}
                Rule::BpLike2E { .. } => bp_like_2e::step(self, k),
                Rule::BpLike2L { .. } => bp_like::step(self, k),
                Rule::DendriticLoss6 { .. } => dendritic_loss::step(self, k),
                Rule::HebbWeightNorm { .. } => hebbian::step(self, k),
            }
        }
    }
}

impl Network {
    /// The gradient `∂L/∂W` (PyTorch's `.grad`, `(post, pre)`) the autograd rules computed for projection
    /// `<Post>_<Pre>` in the last backward phase, or `None` if it has none.
    pub fn gradient(&self, projection: &str) -> Result<Option<ndarray::Array2<f32>>> {
        let k = self.spec.projection_index(projection)?;
        if !self.spec.projections[k].rule.requires_grad() {
            return Ok(None);
        }
        let Some(g) = self.grads.get(k).filter(|g| !g.is_empty()) else {
            return Ok(None);
        };
        let p = &self.projections[k];
        Ok(Some(ndarray::Array2::from_shape_fn(
            (p.post_size, p.pre_size),
            |(i, j)| g[j * p.post_size + i],
        )))
    }
}
