//! `LearningRule` (EIANN `rules/base.py`), also written `learning_rule: null`: the projection keeps its
//! weights (they are still clamped to their bounds and constrained after every step).

use super::{LearningRule, RuleKwargs};
use crate::error::Result;

/// No learning. Its only kwarg, `learning_rate`, is accepted and ignored (EIANN keeps it for the
/// optimizer, which never steps a weight without a gradient).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoLearning;

impl LearningRule for NoLearning {
    const CLASS: &'static str = "LearningRule";

    fn from_kwargs(kw: &RuleKwargs<'_>) -> Result<Self> {
        kw.known(&["learning_rate"])?;
        Ok(NoLearning)
    }

    fn learning_rate(&self) -> Option<f64> {
        None
    }
}
