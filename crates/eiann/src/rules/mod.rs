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
//! | what it needs recorded in the sensory phase | (autograd graph, `store_dynamics` lists) | [`LearningRule::tape_depth`] |
//!
//! | rule (EIANN class) | module | backward phase | `step`: `ΔW` |
//! |---|---|---|---|
//! | `LearningRule` / `null` | [`none`] | – | – (fixed weights) |
//! | `BP_like_2L` | [`bp_like_2l`] | 15-step nudge phase: dendritic state, plateaus, dendrite-to-soma | `lr · plateau_post ⊗ clamp(pre after the nudge phase, 0, 1)` |
//! | `DendriticLoss_6` | [`dendritic_loss_6`] | – | `sign·lr · clamp(forward dendritic state, −1, 1) ⊗ clamp(forward pre, 0, 1)` |
//! | `Hebb_WeightNorm` | [`hebb_weight_norm`] | – | `±lr · post ⊗ pre` (rows normalised by the `normalize_weight` constraint) |
//!
//! Every update is an outer product `W = fl(W ± fl(fl(lr) · fl(a_i · b_j)))` with rule-specific vectors read
//! from quantities fixed before any rule's `step` runs, so the order in which projections update does not
//! matter. Weights are clamped to their bounds afterwards (`constrain_weights_and_biases`).
//!
//! # Adding a rule
//!
//! 1. Write `rules/<rule_name>.rs` with a settings type (`#[derive(Debug, Clone, Copy, PartialEq)]`)
//!    implementing [`LearningRule`]: `CLASS` (the EIANN class name as written in the YAML),
//!    `from_kwargs` (read every kwarg through [`RuleKwargs`], which names file and YAML path in errors;
//!    call [`RuleKwargs::known`] first so unknown keys are refused), `learning_rate`, and whichever of
//!    `check`, `BACKWARD`, `step`, `tape_depth` the class has. Its doc comment says which EIANN file and
//!    class it mirrors and states the update as an equation.
//! 2. Add one line to the `registry!` below: `Variant => module::Type,` (and `pub mod module;`).
//! 3. Test it beside the code (`#[cfg(test)] mod tests` in the rule's file: settings parsing and the
//!    update on a small network) and add its configs' case folders to the parity suite.
//!
//! Nothing else changes: parsing dispatches on `CLASS`, training calls every class's `BACKWARD` in EIANN's
//! registration order and every projection's `step`, and error messages list the registered classes.

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

/// A class-level backward method: runs once per training step for the whole network.
pub type BackwardFn = fn(&mut Network, &mut Supervision<'_>) -> Result<()>;

/// One EIANN learning-rule class (see the module docs for the recipe).
pub trait LearningRule: Debug + Clone + Copy + PartialEq + Sized + 'static {
    /// EIANN class name, as written after `learning_rule:` in the YAML.
    const CLASS: &'static str;

    /// The class's own `backward` (EIANN appends it to `network.backward_methods` the first time a
    /// projection with this class is built); `None` when it inherits `LearningRule.backward`, a no-op.
    const BACKWARD: Option<BackwardFn> = None;

    /// Parse and check the settings from the projection's `learning_rule_kwargs`.
    fn from_kwargs(kw: &RuleKwargs<'_>) -> Result<Self>;

    /// Check the rule against the projection `k` it is attached to, once the whole config is read; the
    /// message is reported at the projection's `learning_rule` key.
    fn check(&self, _k: usize, _spec: &NetworkSpec) -> std::result::Result<(), String> {
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

            pub(crate) fn check(&self, k: usize, spec: &NetworkSpec) -> std::result::Result<(), String> {
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
    /// `DendriticLoss_6`: dendritic inhibition learns to cancel the top-down dendritic input.
    DendriticLoss6 => dendritic_loss_6::DendriticLoss6,
    /// `Hebb_WeightNorm`: Hebbian update, rows normalised by a constraint.
    HebbWeightNorm => hebb_weight_norm::HebbWeightNorm,
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
