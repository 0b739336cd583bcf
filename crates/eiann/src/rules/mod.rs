//! Learning rules: one module per EIANN rule class, and the registry that is the only place the rest of
//! the code meets a rule.
//!
//! A rule class does up to four things, all written in its module:
//!
//! | what | EIANN | here |
//! |---|---|---|
//! | its settings, parsed and checked from `learning_rule_kwargs` | `__init__(projection, **kwargs)` | [`LearningRule::from_kwargs`], [`LearningRule::check`] |
//! | a class-level supervised (backward) phase, run once per training step | `backward(network, output, target)` (registered once per class in `backward_methods`) | [`LearningRule::BACKWARD`] |
//! | the weight update of one projection | `step()` | [`LearningRule::step`] |
//! | what it needs recorded in the sensory phase | `requires_grad` on the weight (autograd graph) | [`LearningRule::REQUIRES_GRAD`]: the sensory phase records the tape of [`crate::adjoint`] |
//!
//! | rule (EIANN class) | module | backward phase | `step`: `ΔW` |
//! |---|---|---|---|
//! | `LearningRule` / `null` | [`none`] | – | – (fixed weights) |
//! | `BP_like_2L` | [`bp_like_2l`] | 15-step nudge phase: dendritic state, plateaus, dendrite-to-soma | `lr · plateau_post ⊗ clamp(pre after the nudge phase, 0, 1)` |
//! | `DendriticLoss_6` | [`dendritic_loss_6`] | – | `sign·lr · clamp(forward dendritic state, −1, 1) ⊗ clamp(forward pre, 0, 1)` |
//! | `Hebb_WeightNorm` | [`hebb_weight_norm`] | – | `±lr · post ⊗ pre` (rows normalised by the `normalize_weight` constraint) |
//! | `BP_like_2E` | [`bp_like_2e`] | one instantaneous nudge: dendritic state, plateaus, `a = f(s + plateau)` | `lr · plateau_post ⊗ clamp(forward pre, 0, 1)` |
//! | `Backprop` | [`backprop`] | `∂MSE(output, target)/∂W` through the last `backward_steps` steps ([`crate::adjoint`]), then SGD | – (the optimizer stepped in the backward phase) |
//! | `Backprop_DendriticLoss` | [`backprop_dendritic_loss`] | `∂MSE(forward dendritic state of source, 0)/∂W` per source, then its local SGD | – |
//!
//! Every `step` update is an outer product `W = fl(W ± fl(fl(lr) · fl(a_i · b_j)))` with rule-specific vectors read
//! from quantities fixed before any rule's `step` runs, so the order in which projections update does not
//! matter. Weights are clamped to their bounds afterwards (`constrain_weights_and_biases`). The autograd
//! rules (`REQUIRES_GRAD`) instead step their SGD optimizer inside their backward method, on the exact
//! gradient of [`crate::adjoint`] (plain SGD, no optimizer state beyond the gradient buffers).
//!
//! # Adding a rule
//!
//! 1. Write `rules/<rule_name>.rs` with a settings type (`#[derive(Debug, Clone, Copy, PartialEq)]`)
//!    implementing [`LearningRule`]: `CLASS` (the EIANN class name as written in the YAML),
//!    `from_kwargs` (read every kwarg through [`RuleKwargs`], which names file and YAML path in errors;
//!    call [`RuleKwargs::known`] first so unknown keys are refused), `learning_rate`, and whichever of
//!    `check`, `BACKWARD`, `step`, `REQUIRES_GRAD` the class has. Its doc comment says which EIANN file and
//!    class it mirrors and states the update as an equation.
//!    * A backward method that changes weights (an optimizer step) calls [`Network::weights_changed`]
//!      so cached products are recomputed; one that moves activities uses the dynamics' own steps
//!      ([`Network::integrate`], [`Network::nudge`], [`Network::update_dendritic_state`]) so the fast
//!      path sees every change.
//!    * A rule differentiated through the dynamics sets `REQUIRES_GRAD = true`: the sensory phase then
//!      records the activities of its last `backward_steps` steps (the tape), and its backward method
//!      seeds [`crate::adjoint::gradients`] with its loss and steps the weights with
//!      [`crate::adjoint::sgd_step`]. [`backprop::check_differentiable`] refuses configs the adjoint
//!      does not cover.
//!    * `check` reports at the projection's `learning_rule` key ([`Refusal::Rule`]) or at a
//!      `training_kwargs` key ([`Refusal::Training`]).
//! 2. Add one line to the `registry!` below: `Variant => module::Type,` (and `pub mod module;`).
//! 3. Test it beside the code (`#[cfg(test)] mod tests` in the rule's file: settings parsing and the
//!    update on a small network), add its configs' case folders to the parity suite, and run one of its
//!    configs through the fast-versus-reference bit test (`train::tests::fast_and_reference_paths_agree`).
//!
//! Nothing else changes: parsing dispatches on `CLASS`, training calls every class's `BACKWARD` in EIANN's
//! registration order and every projection's `step`, and error messages list the registered classes.

pub mod backprop;
pub mod backprop_dendritic_loss;
pub mod bp_like_2e;
pub mod bp_like_2l;
pub mod dendritic_loss_6;
pub mod hebb_weight_norm;
pub mod none;
pub(crate) mod plateau;

use std::fmt::Debug;

use crate::config::NetworkSpec;
pub use crate::config::RuleKwargs;
use crate::error::Result;
use crate::network::Network;
use crate::record::Recording;

/// What the supervised phase is given: EIANN's `backward(network, output, target, store_history,
/// store_dynamics)` arguments (the output is the network's own output population).
#[derive(Debug)]
pub struct Supervision<'a> {
    /// The target of the output population.
    pub target: &'a [f32],
    /// EIANN `store_dynamics`: also integrate populations the phase would otherwise leave alone (values
    /// of the learned weights do not depend on it).
    pub store_dynamics: bool,
    /// Per-step recording of the phase, if asked for.
    pub record: Option<&'a mut Recording>,
}

/// Why a rule refuses the network it is attached to ([`LearningRule::check`]); the config error names
/// the YAML key.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// Reported at the projection's `learning_rule` key.
    Rule(String),
    /// Reported at `training_kwargs.<key>`.
    Training {
        /// The `training_kwargs` key at fault.
        key: &'static str,
        /// What is wrong and what was expected.
        message: String,
    },
}

impl From<String> for Refusal {
    fn from(m: String) -> Refusal {
        Refusal::Rule(m)
    }
}

impl From<&str> for Refusal {
    fn from(m: &str) -> Refusal {
        Refusal::Rule(m.to_string())
    }
}

/// A class-level backward method: runs once per training step for the whole network.
pub type BackwardFn = fn(&mut Network, &mut Supervision<'_>) -> Result<()>;

/// One EIANN learning-rule class (see the module docs for the recipe).
pub trait LearningRule: Debug + Clone + Copy + PartialEq + Sized + 'static {
    /// EIANN class name, as written after `learning_rule:` in the YAML.
    const CLASS: &'static str;

    /// The class's own `backward` (EIANN appends it to `network.backward_methods` the first time a
    /// projection with this class is built); `None` when it inherits `LearningRule.backward`, a no-op.
    const BACKWARD: Option<BackwardFn> = None;

    /// EIANN `requires_grad` on the projection's weight: the rule differentiates through the dynamics,
    /// so the sensory phase records the last `backward_steps` steps (the tape of [`crate::adjoint`]).
    const REQUIRES_GRAD: bool = false;

    /// Parse and check the settings from the projection's `learning_rule_kwargs`.
    fn from_kwargs(kw: &RuleKwargs<'_>) -> Result<Self>;

    /// Check the rule against the projection `k` it is attached to, once the whole config is read
    /// (projections in order, the first refusal is reported).
    fn check(&self, _k: usize, _spec: &NetworkSpec) -> std::result::Result<(), Refusal> {
        Ok(())
    }

    /// The learning rate the rule applies (`None`: the projection does not learn).
    fn learning_rate(&self) -> Option<f64>;

    /// `LearningRule.step()` for projection `k`: the weight update after every backward method ran.
    /// Weights are constrained afterwards by the network.
    fn step(&self, _net: &mut Network, _k: usize) {}
}

macro_rules! registry {
    ($($(#[$doc:meta])* $variant:ident => $module:ident :: $ty:ident,)+) => {
        /// A projection's learning rule: one variant per registered EIANN rule class, holding that class's
        /// checked settings. Every method only forwards to the class's module.
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub enum Rule {
            $($(#[$doc])* $variant($module::$ty),)+
        }

        impl Rule {
            /// The EIANN class names of every registered rule, in registry order.
            pub const CLASSES: &'static [&'static str] = &[$(<$module::$ty as LearningRule>::CLASS),+];

            /// The rule registered under `class`, parsed from its kwargs; `None` if no rule has that name.
            pub(crate) fn parse(class: &str, kw: &RuleKwargs<'_>) -> Option<Result<Rule>> {
                $(if class == <$module::$ty as LearningRule>::CLASS {
                    return Some(<$module::$ty as LearningRule>::from_kwargs(kw).map(Rule::$variant));
                })+
                None
            }

            /// EIANN class name of the rule.
            pub fn class_name(&self) -> &'static str {
                match self { $(Rule::$variant(_) => <$module::$ty as LearningRule>::CLASS,)+ }
            }

            /// The learning rate the rule applies (`None`: fixed weights).
            pub fn learning_rate(&self) -> Option<f64> {
                match self { $(Rule::$variant(r) => r.learning_rate(),)+ }
            }

            /// The class's own backward method, if it has one.
            pub(crate) fn backward(&self) -> Option<BackwardFn> {
                match self { $(Rule::$variant(_) => <$module::$ty as LearningRule>::BACKWARD,)+ }
            }

            /// Whether EIANN sets `requires_grad` on the projection's weight (the autograd rules).
            pub fn requires_grad(&self) -> bool {
                match self { $(Rule::$variant(_) => <$module::$ty as LearningRule>::REQUIRES_GRAD,)+ }
            }

            pub(crate) fn check(&self, k: usize, spec: &NetworkSpec) -> std::result::Result<(), Refusal> {
                match self { $(Rule::$variant(r) => r.check(k, spec),)+ }
            }

            pub(crate) fn step(&self, net: &mut Network, k: usize) {
                match self { $(Rule::$variant(r) => r.step(net, k),)+ }
            }
        }
    };
}

registry! {
    /// `null` / `LearningRule`: no learning.
    None => none::NoLearning,
    /// `BP_like_2L`: dendritic target propagation with an iterated nudge phase.
    BpLike2L => bp_like_2l::BpLike2L,
    /// `BP_like_2E`: dendritic target propagation with one instantaneous nudge.
    BpLike2E => bp_like_2e::BpLike2E,
    /// `Backprop`: the exact gradient of the output loss through the dynamics, SGD.
    Backprop => backprop::Backprop,
    /// `Backprop_DendriticLoss`: the gradient of a population's dendritic loss, its own SGD.
    BackpropDendriticLoss => backprop_dendritic_loss::BackpropDendriticLoss,
    /// `DendriticLoss_6`: dendritic inhibition learns to cancel the top-down dendritic input.
    DendriticLoss6 => dendritic_loss_6::DendriticLoss6,
    /// `Hebb_WeightNorm`: Hebbian update, rows normalised by a constraint.
    HebbWeightNorm => hebb_weight_norm::HebbWeightNorm,
}

/// Forward steps the autograd rules differentiate (`backward_steps`, at most `forward_steps`), 0 when
/// no projection's rule [requires a gradient](LearningRule::REQUIRES_GRAD).
pub(crate) fn tape_depth(spec: &NetworkSpec) -> usize {
    if spec.projections.iter().any(|p| p.rule.requires_grad()) {
        spec.backward_steps.min(spec.forward_steps)
    } else {
        0
    }
}

/// The class-level backward methods of a network in EIANN's registration order (`backward_methods`):
/// each class that has its own `backward`, in the order its first projection is constructed. (EIANN
/// registers `BiasLearningRule.backward` first and `LearningRule.backward` for classes that inherit it;
/// both are no-ops and are left out.)
pub(crate) fn backward_methods(spec: &NetworkSpec) -> Vec<BackwardFn> {
    let mut classes: Vec<&'static str> = Vec::new();
    let mut methods = Vec::new();
    for p in &spec.projections {
        if let Some(f) = p.rule.backward() {
            if !classes.contains(&p.rule.class_name()) {
                classes.push(p.rule.class_name());
                methods.push(f);
            }
        }
    }
    methods
}

impl Network {
    /// EIANN `for m in network.backward_methods: m(network, output, target)`: the supervised phase of
    /// every rule class that has one, in registration order. For the Figure 3 network that is
    /// `BP_like_2L.backward`, the 15-step nudge phase. `store_dynamics` also integrates populations
    /// without backward projections (EIANN does so when it stores dynamics; learned weights do not depend
    /// on it). With `record`, per-step values of the phase are appended.
    pub fn backward(
        &mut self,
        target: &[f32],
        store_dynamics: bool,
        record: Option<&mut Recording>,
    ) -> crate::Result<()> {
        self.require_single("backward")?;
        let out = self.spec.output;
        if target.len() != self.spec.populations[out].size {
            return Err(crate::Error::shape(
                "target",
                self.spec.populations[out].size,
                target.len(),
            ));
        }
        let mut sup = Supervision {
            target,
            store_dynamics,
            record,
        };
        for i in 0..self.backward_methods.len() {
            (self.backward_methods[i])(self, &mut sup)?;
        }
        Ok(())
    }

    /// Apply every projection's learning rule once (EIANN: `for layer, pop, proj: learning_rule.step()`).
    /// Weights are not constrained here; call [`Network::constrain_weights`] afterwards.
    pub fn step_rules(&mut self) {
        self.weights_changed();
        for k in 0..self.spec.projections.len() {
            let rule = self.spec.projections[k].rule;
            rule.step(self, k);
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
