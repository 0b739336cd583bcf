//! EIANN network configs: read a YAML file verbatim and check it into a [`NetworkSpec`].
//!
//! The file format is EIANN's (`utils/data_utils.py` `read_from_yaml`, `build_EIANN_from_config`):
//! three top-level keys, `layer_config` (layer → population → population kwargs), `projection_config`
//! (post layer → post population → pre layer → pre population → projection kwargs) and
//! `training_kwargs` (keyword arguments of `Network.__init__`). Mapping order is significant and kept.
//! `!!python/tuple` sequences load as plain sequences. Every key EIANN documents for these objects is
//! accepted with EIANN's default; anything else is an [`Error::Config`] naming the file and the YAML path,
//! e.g. `projection_config.H1.E.Input.E.learning_rule: unknown rule "BP_like_9"`.
//!
//! Supported values (anything else is refused with a message saying so):
//! * activations: `relu`, `linear` (identity, EIANN's default), `sigmoid`, `tanh`, `softplus`;
//! * weight inits: `half_kaiming` (with `weight_init_args: (scale,)`), or none (keeps the
//!   `nn.Linear` default uniform(±1/√fan_in) init);
//! * constraints: `no_autapses`, `normalize_weight`, `clone_weight`;
//! * weight inits also `scaled_kaiming` (uniform(±scale/√fan_in), no sign constraint);
//!   `weight_bounds` as a `!!python/tuple` or a plain list, `null` for an open side;
//! * rules: `BP_like_2L`, `BP_like_2E`, `Backprop`, `Backprop_DendriticLoss` (`source: <layer>.<pop>`),
//!   `DendriticLoss_6`, `Hebb_WeightNorm`, `null`/`LearningRule` (no learning). A projection without a
//!   `learning_rule` key gets EIANN's default, `Backprop`. The autograd rules need `backward_steps ≥ 1`
//!   and relu / linear activations;
//! * `training_kwargs.optimizer: SGD` (the only optimizer; also the default), `verbose` (no effect).
//!
//! YAML is read with `serde_yaml_ng`, not `serde_yaml`: dtolnay's `serde_yaml` is deprecated and no
//! longer maintained, and `serde_yaml_ng` 0.10 is its maintained fork with the same API, the same
//! `unsafe-libyaml` parser and the same messages (syntax errors keep their line and column), so
//! switching changed no behaviour. `serde_norway`, the other fork, swaps in a fork of the parser
//! (`unsafe-libyaml-norway`) and rewords errors: more change for no gain here.

use std::path::Path;

use serde_yaml_ng::{Mapping, Value};

use crate::error::{Error, Result};
use crate::limits;

/// Activation function of a population (EIANN looks the name up in its utils, then in
/// `torch.nn.functional`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `torch.nn.functional.relu`.
    Relu,
    /// Identity (EIANN's `linear`, the default).
    Linear,
    /// `torch.sigmoid`.
    Sigmoid,
    /// `torch.tanh`.
    Tanh,
    /// `torch.nn.functional.softplus` (beta 1, threshold 20).
    Softplus,
}

impl Activation {
    /// Apply the activation to one value.
    #[inline]
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::Relu => {
                if x > 0.0 {
                    x
                } else {
                    0.0
                }
            }
            Activation::Linear => x,
            Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            Activation::Tanh => x.tanh(),
            Activation::Softplus => {
                if x > 20.0 {
                    x
                } else {
                    x.exp().ln_1p()
                }
            }
        }
    }

    /// Apply the activation to every value in place (the function is chosen once, not per value).
    #[inline]
    pub fn apply_in_place(self, values: &mut [f32]) {
        match self {
            Activation::Relu => {
                for v in values.iter_mut() {
                    *v = Activation::Relu.apply(*v);
                }
            }
            Activation::Linear => {}
            other => {
                for v in values.iter_mut() {
                    *v = other.apply(*v);
                }
            }
        }
    }
}

/// Which presynaptic value a projection reads (`direction` key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `F` / `forward`: the presynaptic population's current `activity`.
    Forward,
    /// `R` / `recurrent`: the presynaptic `prev_activity` (start-of-step snapshot).
    Recurrent,
}

/// In which phase a projection drives its postsynaptic population (`update_phase` key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdatePhase {
    /// `F` / `forward`: sensory phase only.
    Forward,
    /// `B` / `backward`: supervised (nudge) phase only.
    Backward,
    /// `A` / `all`: both phases.
    All,
}

impl UpdatePhase {
    /// Whether the projection is used in the forward (sensory) phase.
    pub fn in_forward(self) -> bool {
        matches!(self, UpdatePhase::Forward | UpdatePhase::All)
    }
    /// Whether the projection registers as a backward projection of its post population.
    pub fn in_backward(self) -> bool {
        matches!(self, UpdatePhase::Backward | UpdatePhase::All)
    }
}

/// Which compartment of the postsynaptic cell a projection targets (`compartment` key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compartment {
    /// `null` / `soma`: somatic input, summed into the state.
    Soma,
    /// `dend` / `dendrite`: dendritic input, summed into the dendritic state only.
    Dendrite,
}

/// Initial weight distribution (`weight_init` + `weight_init_args`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WeightInit {
    /// Keep `nn.Linear`'s default: uniform(−1/√fan_in, 1/√fan_in).
    LinearDefault,
    /// EIANN `half_kaiming_init(scale)`: uniform(0, b) for excitatory bounds, uniform(−b, 0) for
    /// inhibitory ones, `b = scale/√fan_in`.
    HalfKaiming { scale: f64 },
    /// EIANN `scaled_kaiming_init(scale)`: uniform(−b, b) with `b = scale/√fan_in` (no sign constraint).
    ScaledKaiming { scale: f64 },
}

/// Weight constraint applied after init and after every update (`weight_constraint`).
#[derive(Debug, Clone, PartialEq)]
pub enum Constraint {
    /// Zero the diagonal when pre is post.
    NoAutapses,
    /// `normalize_weight(scale, autapses=False)`: rows rescaled to L1 norm `scale`.
    NormalizeWeight { scale: f64, autapses: bool },
    /// `clone_weight(source, scale, sign, transpose)`: copy of another projection's weight.
    CloneWeight {
        /// Index of the source projection in [`NetworkSpec::projections`].
        source: usize,
        scale: f64,
        sign: f64,
        transpose: bool,
    },
}

pub use crate::rules::Rule;
use crate::rules::Refusal;

/// One population, checked (EIANN class `Population`; the first population of the first layer is `Input`).
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationSpec {
    /// Layer name (e.g. `H1`).
    pub layer: String,
    /// Population name inside its layer (e.g. `E`).
    pub name: String,
    /// Full name = layer + name (e.g. `H1E`).
    pub fullname: String,
    /// Index of the layer in [`NetworkSpec::layers`].
    pub layer_index: usize,
    /// Number of units.
    pub size: usize,
    /// Activation function (`linear` by default).
    pub activation: Activation,
    /// Integration time constant in integration steps (network `tau` unless set).
    pub tau: f32,
    /// Whether the bias is used (EIANN `include_bias`, default false; the bias stays 0 here since
    /// bias init and bias learning rules are not supported).
    pub include_bias: bool,
    /// True for the clamped input population (first population of the first layer).
    pub is_input: bool,
}

/// One projection, checked (EIANN class `Projection`, an `nn.Linear` without bias).
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionSpec {
    /// `<post fullname>_<pre fullname>`, e.g. `H2E_H1E`.
    pub name: String,
    /// Index of the postsynaptic population in [`NetworkSpec::populations`].
    pub post: usize,
    /// Index of the presynaptic population.
    pub pre: usize,
    pub weight_init: WeightInit,
    /// `(lower, upper)` clamp, open where `None`.
    pub weight_bounds: (Option<f64>, Option<f64>),
    pub constraint: Option<Constraint>,
    pub direction: Direction,
    pub update_phase: UpdatePhase,
    pub compartment: Compartment,
    pub rule: Rule,
}

/// A layer: a name and its populations' indices in [`NetworkSpec::populations`].
#[derive(Debug, Clone, PartialEq)]
pub struct LayerSpec {
    pub name: String,
    pub populations: Vec<usize>,
}

/// A checked network config: everything [`crate::network::Network`] needs, in EIANN's orders.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkSpec {
    /// Network name = config file stem.
    pub name: String,
    /// The YAML text the spec was read from (kept for checkpoints).
    pub source_yaml: String,
    pub layers: Vec<LayerSpec>,
    /// Populations in creation order (layer order, then population order within the layer).
    pub populations: Vec<PopulationSpec>,
    /// Projections in construction order (YAML order) = state-dict order = init order.
    pub projections: Vec<ProjectionSpec>,
    /// Index of the output population.
    pub output: usize,
    /// Network time constant in integration steps (`tau`, default 1).
    pub tau: f32,
    /// Number of steps of each phase (`forward_steps`, default 1; the backward phase uses it too).
    pub forward_steps: usize,
    /// `backward_steps` (default 1): how many of the last forward steps the autograd rules
    /// (`Backprop`, `Backprop_DendriticLoss`) differentiate; unused by the other rules.
    pub backward_steps: usize,
    /// Network-wide learning rate, the fallback of rules without their own.
    pub learning_rate: Option<f64>,
}

impl NetworkSpec {
    /// Read and check a config file. The network name is the file stem.
    pub fn from_file(path: impl AsRef<Path>) -> Result<NetworkSpec> {
        let path = path.as_ref();
        let config_err = |message: String| Error::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, message),
        };
        let (file, len) = crate::input::open_regular(path).map_err(config_err)?;
        if len > limits::MAX_CONFIG_BYTES {
            return Err(config_err(format!(
                "{len} bytes is more than the limit of {} bytes for a network config",
                limits::MAX_CONFIG_BYTES
            )));
        }
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut std::io::Read::take(file, limits::MAX_CONFIG_BYTES + 1),
            &mut text,
        )
        .map_err(|e| Error::io(path, e))?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "network".to_string());
        Self::from_yaml_str(&text, &name, &path.display().to_string())
    }

    /// Check a config given as YAML text; `file` is used in error messages.
    pub fn from_yaml_str(text: &str, name: &str, file: &str) -> Result<NetworkSpec> {
        let cx = Cx { file };
        check_yaml_size_and_nesting(text, file)?;
        let root: Value = serde_yaml_ng::from_str(text).map_err(|e| Error::Config {
            file: file.to_string(),
            path: e
                .location()
                .map(|l| format!("line {} column {}", l.line(), l.column()))
                .unwrap_or_else(|| "(document)".into()),
            message: format!("not valid YAML: {e}"),
        })?;
        let root = cx.mapping(&root, "")?;
        cx.known_keys(
            root,
            "",
            &["layer_config", "projection_config", "training_kwargs"],
        )?;
        let layer_cfg = cx.mapping(cx.required(root, "", "layer_config")?, "layer_config")?;
        let proj_cfg = cx.mapping(
            cx.required(root, "", "projection_config")?,
            "projection_config",
        )?;
        let empty = Mapping::new();
        let train_cfg = match root.get("training_kwargs") {
            None | Some(Value::Null) => &empty,
            Some(v) => cx.mapping(v, "training_kwargs")?,
        };

        // training_kwargs
        let tp = "training_kwargs";
        cx.known_keys(
            train_cfg,
            tp,
            &[
                "tau",
                "forward_steps",
                "backward_steps",
                "learning_rate",
                "optimizer",
                "optimizer_kwargs",
                "criterion",
                "criterion_kwargs",
                "seed",
                "verbose",
            ],
        )?;
        let tau = cx.opt_f64(train_cfg, tp, "tau")?.unwrap_or(1.0);
        if tau <= 0.0 {
            return Err(cx.err(&cx.join(tp, "tau"), format!("must be positive, got {tau}")));
        }
        let forward_steps = cx.opt_usize(train_cfg, tp, "forward_steps")?.unwrap_or(1);
        if forward_steps == 0 {
            return Err(cx.err(&cx.join(tp, "forward_steps"), "must be at least 1"));
        }
        if forward_steps > limits::MAX_FORWARD_STEPS {
            return Err(cx.err(
                &cx.join(tp, "forward_steps"),
                format!(
                    "{forward_steps} is more than the limit of {} steps per phase",
                    limits::MAX_FORWARD_STEPS
                ),
            ));
        }
        let backward_steps = cx.opt_usize(train_cfg, tp, "backward_steps")?.unwrap_or(1);
        if backward_steps > limits::MAX_FORWARD_STEPS {
            return Err(cx.err(
                &cx.join(tp, "backward_steps"),
                format!(
                    "{backward_steps} is more than the limit of {} steps per phase",
                    limits::MAX_FORWARD_STEPS
                ),
            ));
        }
        let learning_rate = cx.opt_f64(train_cfg, tp, "learning_rate")?;
        if let Some(o) = cx.opt_str(train_cfg, tp, "optimizer")? {
            if o != "SGD" {
                return Err(cx.err(
                    &cx.join(tp, "optimizer"),
                    format!("unsupported optimizer \"{o}\" (only SGD, torch.optim.SGD with its defaults)"),
                ));
            }
        }
        if let Some(c) = cx.opt_str(train_cfg, tp, "criterion")? {
            if c != "MSELoss" {
                return Err(cx.err(
                    &cx.join(tp, "criterion"),
                    format!("unsupported criterion \"{c}\" (only MSELoss)"),
                ));
            }
        }

        // layer_config
        let mut layers = Vec::new();
        let mut populations: Vec<PopulationSpec> = Vec::new();
        let mut output_flag: Option<usize> = None;
        if layer_cfg.is_empty() {
            return Err(cx.err("layer_config", "no layers"));
        }
        for (li, (lname, lval)) in layer_cfg.iter().enumerate() {
            let lname = cx.key_str(lname, "layer_config")?;
            let lpath = cx.join("layer_config", &lname);
            let pops = cx.mapping(lval, &lpath)?;
            if pops.is_empty() {
                return Err(cx.err(&lpath, "layer has no populations"));
            }
            let mut idxs = Vec::new();
            for (pname, pval) in pops {
                let pname = cx.key_str(pname, &lpath)?;
                let ppath = cx.join(&lpath, &pname);
                let p = cx.mapping(pval, &ppath)?;
                cx.known_keys(
                    p,
                    &ppath,
                    &[
                        "size",
                        "activation",
                        "activation_kwargs",
                        "tau",
                        "include_bias",
                        "bias_init",
                        "bias_init_args",
                        "bias_bounds",
                        "bias_learning_rule",
                        "bias_learning_rule_kwargs",
                        "output_pop",
                    ],
                )?;
                let size =
                    cx.positive_usize(cx.required(p, &ppath, "size")?, &cx.join(&ppath, "size"))?;
                if size > limits::MAX_POPULATION_SIZE {
                    return Err(cx.err(
                        &cx.join(&ppath, "size"),
                        format!(
                            "{size} units is more than the limit of {} per population",
                            limits::MAX_POPULATION_SIZE
                        ),
                    ));
                }
                let activation = match cx.opt_str(p, &ppath, "activation")?.as_deref() {
                    None | Some("linear") => Activation::Linear,
                    Some("relu") => Activation::Relu,
                    Some("sigmoid") => Activation::Sigmoid,
                    Some("tanh") => Activation::Tanh,
                    Some("softplus") => Activation::Softplus,
                    Some(other) => {
                        return Err(cx.err(
                            &cx.join(&ppath, "activation"),
                            format!("unknown activation \"{other}\" (supported: relu, linear, sigmoid, tanh, softplus)"),
                        ))
                    }
                };
                if let Some(v) = p.get("activation_kwargs") {
                    let kp = cx.join(&ppath, "activation_kwargs");
                    if !matches!(v, Value::Null) && !cx.mapping(v, &kp)?.is_empty() {
                        return Err(
                            cx.err(&kp, "activation kwargs are not supported (expected none)")
                        );
                    }
                }
                let ptau = cx.opt_f64(p, &ppath, "tau")?.unwrap_or(tau);
                if ptau <= 0.0 {
                    return Err(cx.err(
                        &cx.join(&ppath, "tau"),
                        format!("must be positive, got {ptau}"),
                    ));
                }
                let include_bias = cx.opt_bool(p, &ppath, "include_bias")?.unwrap_or(false);
                for k in [
                    "bias_init",
                    "bias_init_args",
                    "bias_bounds",
                    "bias_learning_rule_kwargs",
                ] {
                    if let Some(v) = p.get(k) {
                        if !is_empty_value(v) {
                            return Err(cx.err(
                                &cx.join(&ppath, k),
                                "bias initialisation and bias bounds are not supported by eiann-rs (expected null)",
                            ));
                        }
                    }
                }
                match cx.opt_str(p, &ppath, "bias_learning_rule")?.as_deref() {
                    None | Some("BiasLearningRule") => {}
                    Some(other) => {
                        return Err(cx.err(
                            &cx.join(&ppath, "bias_learning_rule"),
                            format!("unsupported bias learning rule \"{other}\" (only null / BiasLearningRule)"),
                        ))
                    }
                }
                let idx = populations.len();
                if cx.opt_bool(p, &ppath, "output_pop")?.unwrap_or(false) {
                    if let Some(prev) = output_flag {
                        return Err(cx.err(
                            &cx.join(&ppath, "output_pop"),
                            format!(
                                "a second output population (already {})",
                                populations[prev].fullname
                            ),
                        ));
                    }
                    output_flag = Some(idx);
                }
                let fullname = format!("{lname}{pname}");
                if populations.iter().any(|q| q.fullname == fullname) {
                    return Err(cx.err(
                        &ppath,
                        format!("population full name \"{fullname}\" is not unique"),
                    ));
                }
                populations.push(PopulationSpec {
                    layer: lname.clone(),
                    name: pname,
                    fullname,
                    layer_index: li,
                    size,
                    activation,
                    tau: ptau as f32,
                    include_bias,
                    is_input: li == 0 && idxs.is_empty(),
                });
                idxs.push(idx);
            }
            layers.push(LayerSpec {
                name: lname,
                populations: idxs,
            });
        }
        if layers.len() < 2 {
            return Err(cx.err(
                "layer_config",
                "need an input layer and at least one more layer",
            ));
        }
        let output = match output_flag {
            Some(o) => o,
            None => layers[layers.len() - 1].populations[0],
        };
        if populations[output].is_input {
            return Err(cx.err(
                "layer_config",
                "the output population cannot be the input population",
            ));
        }

        // projection_config: first pass collects names, second pass resolves clone sources.
        struct Raw<'a> {
            path: String,
            kw: &'a Mapping,
            post: usize,
            pre: usize,
        }
        let mut raws: Vec<Raw> = Vec::new();
        let find_pop = |layer: &str, pop: &str| {
            populations
                .iter()
                .position(|p| p.layer == layer && p.name == pop)
        };
        for (post_l, v1) in proj_cfg {
            let post_l = cx.key_str(post_l, "projection_config")?;
            let p1 = cx.join("projection_config", &post_l);
            for (post_p, v2) in cx.mapping(v1, &p1)? {
                let post_p = cx.key_str(post_p, &p1)?;
                let p2 = cx.join(&p1, &post_p);
                let post = find_pop(&post_l, &post_p).ok_or_else(|| {
                    cx.err(
                        &p2,
                        format!("postsynaptic population {post_l}.{post_p} is not in layer_config"),
                    )
                })?;
                if populations[post].is_input {
                    return Err(cx.err(&p2, "the input population cannot receive projections"));
                }
                for (pre_l, v3) in cx.mapping(v2, &p2)? {
                    let pre_l = cx.key_str(pre_l, &p2)?;
                    let p3 = cx.join(&p2, &pre_l);
                    for (pre_p, v4) in cx.mapping(v3, &p3)? {
                        let pre_p = cx.key_str(pre_p, &p3)?;
                        let p4 = cx.join(&p3, &pre_p);
                        let pre = find_pop(&pre_l, &pre_p).ok_or_else(|| {
                            cx.err(
                                &p4,
                                format!(
                                    "presynaptic population {pre_l}.{pre_p} is not in layer_config"
                                ),
                            )
                        })?;
                        let kw = match v4 {
                            Value::Null => &empty,
                            v => cx.mapping(v, &p4)?,
                        };
                        raws.push(Raw {
                            path: p4,
                            kw,
                            post,
                            pre,
                        });
                    }
                }
            }
        }
        // EIANN registers projections grouped by post population in population creation order?
        // No: construction follows the YAML nesting order, which is what `raws` holds.
        let names: Vec<String> = raws
            .iter()
            .map(|r| {
                format!(
                    "{}_{}",
                    populations[r.post].fullname, populations[r.pre].fullname
                )
            })
            .collect();
        let dotted: Vec<String> = raws
            .iter()
            .map(|r| {
                let (a, b) = (&populations[r.post], &populations[r.pre]);
                format!("{}.{}.{}.{}", a.layer, a.name, b.layer, b.name)
            })
            .collect();
        let mut projections = Vec::with_capacity(raws.len());
        for (i, r) in raws.iter().enumerate() {
            let (kw, path) = (r.kw, r.path.as_str());
            cx.known_keys(
                kw,
                path,
                &[
                    "weight_init",
                    "weight_init_args",
                    "weight_bounds",
                    "weight_constraint",
                    "weight_constraint_kwargs",
                    "direction",
                    "update_phase",
                    "compartment",
                    "learning_rule",
                    "learning_rule_kwargs",
                ],
            )?;
            let weight_bounds = match kw.get("weight_bounds") {
                None | Some(Value::Null) => (None, None),
                Some(v) => {
                    let bp = cx.join(path, "weight_bounds");
                    let seq = cx.seq(v, &bp)?;
                    if seq.len() != 2 {
                        return Err(cx.err(
                            &bp,
                            format!("expected a (lower, upper) pair, got {} values", seq.len()),
                        ));
                    }
                    let lo = cx.opt_number(&seq[0], &format!("{bp}[0]"))?;
                    let hi = cx.opt_number(&seq[1], &format!("{bp}[1]"))?;
                    if let (Some(l), Some(h)) = (lo, hi) {
                        if l > h {
                            return Err(
                                cx.err(&bp, format!("lower bound {l} exceeds upper bound {h}"))
                            );
                        }
                    }
                    (lo, hi)
                }
            };
            let init_args: Vec<f64> = match kw.get("weight_init_args") {
                None | Some(Value::Null) => Vec::new(),
                Some(v) => {
                    let ap = cx.join(path, "weight_init_args");
                    cx.seq(v, &ap)?
                        .iter()
                        .enumerate()
                        .map(|(k, x)| cx.number(x, &format!("{ap}[{k}]")))
                        .collect::<Result<_>>()?
                }
            };
            let weight_init = match cx.opt_str(kw, path, "weight_init")?.as_deref() {
                None => {
                    if !init_args.is_empty() {
                        return Err(cx.err(&cx.join(path, "weight_init_args"), "given without a weight_init"));
                    }
                    WeightInit::LinearDefault
                }
                Some("half_kaiming") => {
                    if init_args.len() > 1 {
                        return Err(cx.err(
                            &cx.join(path, "weight_init_args"),
                            format!("half_kaiming takes one argument (scale), got {}", init_args.len()),
                        ));
                    }
                    let scale = init_args.first().copied().unwrap_or(1.0);
                    if (weight_bounds.0.is_none_or(|l| l < 0.0)) && (weight_bounds.1.is_none_or(|h| h > 0.0)) {
                        return Err(cx.err(
                            &cx.join(path, "weight_init"),
                            "half_kaiming needs sign-constraining weight_bounds: (0, null) for excitatory or (null, 0) for inhibitory weights",
                        ));
                    }
                    WeightInit::HalfKaiming { scale }
                }
                Some("scaled_kaiming") => {
                    if init_args.len() > 1 {
                        return Err(cx.err(
                            &cx.join(path, "weight_init_args"),
                            format!("scaled_kaiming takes one argument (scale), got {}", init_args.len()),
                        ));
                    }
                    WeightInit::ScaledKaiming { scale: init_args.first().copied().unwrap_or(1.0) }
                }
                Some(other) => {
                    return Err(cx.err(
                        &cx.join(path, "weight_init"),
                        format!("unsupported weight_init \"{other}\" (supported: half_kaiming, scaled_kaiming, or null for the nn.Linear default)"),
                    ))
                }
            };
            let direction = match cx.opt_str(kw, path, "direction")?.as_deref() {
                None | Some("F") | Some("forward") => Direction::Forward,
                Some("R") | Some("recurrent") => Direction::Recurrent,
                Some(other) => {
                    return Err(cx.err(
                        &cx.join(path, "direction"),
                        format!(
                            "unknown direction \"{other}\" (expected F/forward or R/recurrent)"
                        ),
                    ))
                }
            };
            let update_phase = match cx.opt_str(kw, path, "update_phase")?.as_deref() {
                None | Some("F") | Some("forward") => UpdatePhase::Forward,
                Some("B") | Some("backward") => UpdatePhase::Backward,
                Some("A") | Some("all") => UpdatePhase::All,
                Some(other) => {
                    return Err(cx.err(
                        &cx.join(path, "update_phase"),
                        format!("unknown update_phase \"{other}\" (expected F/forward, B/backward or A/all)"),
                    ))
                }
            };
            let compartment = match cx.opt_str(kw, path, "compartment")?.as_deref() {
                None | Some("soma") => Compartment::Soma,
                Some("dend") | Some("dendrite") => Compartment::Dendrite,
                Some(other) => {
                    return Err(cx.err(
                        &cx.join(path, "compartment"),
                        format!(
                            "unknown compartment \"{other}\" (expected null/soma or dend/dendrite)"
                        ),
                    ))
                }
            };
            // constraint
            let ckw_path = cx.join(path, "weight_constraint_kwargs");
            let ckw = match kw.get("weight_constraint_kwargs") {
                None | Some(Value::Null) => &empty,
                Some(v) => cx.mapping(v, &ckw_path)?,
            };
            let constraint = match cx.opt_str(kw, path, "weight_constraint")?.as_deref() {
                None => {
                    if !ckw.is_empty() {
                        return Err(cx.err(&ckw_path, "given without a weight_constraint"));
                    }
                    None
                }
                Some("no_autapses") => {
                    cx.known_keys(ckw, &ckw_path, &[])?;
                    Some(Constraint::NoAutapses)
                }
                Some("normalize_weight") => {
                    cx.known_keys(ckw, &ckw_path, &["scale", "autapses", "axis"])?;
                    let scale = cx.opt_f64(ckw, &ckw_path, "scale")?.unwrap_or(1.0);
                    let autapses = cx.opt_bool(ckw, &ckw_path, "autapses")?.unwrap_or(false);
                    if let Some(axis) = cx.opt_f64(ckw, &ckw_path, "axis")? {
                        if axis != 1.0 {
                            return Err(cx.err(&cx.join(&ckw_path, "axis"), "only axis 1 (normalise each postsynaptic unit's inputs) is supported"));
                        }
                    }
                    Some(Constraint::NormalizeWeight { scale, autapses })
                }
                Some("clone_weight") => {
                    cx.known_keys(ckw, &ckw_path, &["source", "scale", "sign", "transpose"])?;
                    let sp = cx.join(&ckw_path, "source");
                    let src = cx
                        .opt_str(ckw, &ckw_path, "source")?
                        .ok_or_else(|| cx.err(&sp, "missing (expected post_layer.post_pop.pre_layer.pre_pop)"))?;
                    let source = dotted.iter().position(|d| *d == src).ok_or_else(|| {
                        cx.err(&sp, format!("source projection \"{src}\" does not exist"))
                    })?;
                    if source == i {
                        return Err(cx.err(&sp, "a projection cannot clone itself"));
                    }
                    let scale = cx.opt_f64(ckw, &ckw_path, "scale")?.unwrap_or(1.0);
                    let sign = cx.opt_f64(ckw, &ckw_path, "sign")?.unwrap_or(1.0);
                    let transpose = cx.opt_bool(ckw, &ckw_path, "transpose")?.unwrap_or(true);
                    let (s, me) = (&raws[source], r);
                    let (sp_post, sp_pre) = (populations[s.post].size, populations[s.pre].size);
                    let (rows, cols) = if transpose { (sp_pre, sp_post) } else { (sp_post, sp_pre) };
                    if (rows, cols) != (populations[me.post].size, populations[me.pre].size) {
                        return Err(cx.err(
                            &sp,
                            format!(
                                "shape of the clone ({rows}×{cols}) does not match this projection ({}×{})",
                                populations[me.post].size, populations[me.pre].size
                            ),
                        ));
                    }
                    Some(Constraint::CloneWeight { source, scale, sign, transpose })
                }
                Some(other) => {
                    return Err(cx.err(
                        &cx.join(path, "weight_constraint"),
                        format!("unknown constraint \"{other}\" (supported: no_autapses, normalize_weight, clone_weight)"),
                    ))
                }
            };
            // learning rule
            let rp = cx.join(path, "learning_rule");
            let rkw_path = cx.join(path, "learning_rule_kwargs");
            let rkw = match kw.get("learning_rule_kwargs") {
                None | Some(Value::Null) => &empty,
                Some(v) => cx.mapping(v, &rkw_path)?,
            };
            let kwargs = RuleKwargs {
                cx: &cx,
                map: rkw,
                path: rkw_path.clone(),
                network_lr: learning_rate,
                populations: &populations,
            };
            let class = match kw.get("learning_rule") {
                // EIANN's default rule class (spec §1.2).
                None => "Backprop".to_string(),
                Some(Value::Null) => "LearningRule".to_string(),
                Some(v) => cx.string(v, &rp)?,
            };
            let rule = Rule::parse(&class, &kwargs).unwrap_or_else(|| {
                Err(cx.err(
                    &rp,
                    format!(
                        "unknown rule \"{class}\" (supported: {}, or null)",
                        Rule::CLASSES.join(", ")
                    ),
                ))
            })?;
            projections.push(ProjectionSpec {
                name: names[i].clone(),
                post: r.post,
                pre: r.pre,
                weight_init,
                weight_bounds,
                constraint,
                direction,
                update_phase,
                compartment,
                rule,
            });
        }
        let spec = NetworkSpec {
            name: name.to_string(),
            source_yaml: text.to_string(),
            layers,
            populations,
            projections,
            output,
            tau: tau as f32,
            forward_steps,
            backward_steps,
            learning_rate,
        };
        for (k, p) in spec.projections.iter().enumerate() {
            p.rule.check(k, &spec).map_err(|r| match r {
                Refusal::Rule(m) => cx.err(&cx.join(&raws[k].path, "learning_rule"), m),
                Refusal::Training { key, message } => cx.err(&cx.join(tp, key), message),
            })?;
        }
        let projections = &spec.projections;
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                return Err(cx.err(&raws[i].path, format!("projection {n} is defined twice")));
            }
        }
        for (i, p) in projections.iter().enumerate() {
            if let Some(Constraint::CloneWeight { source, .. }) = p.constraint {
                if matches!(
                    projections[source].constraint,
                    Some(Constraint::CloneWeight { .. })
                ) {
                    return Err(cx.err(
                        &cx.join(&raws[i].path, "weight_constraint_kwargs.source"),
                        format!(
                            "the source {} is itself a clone (chains are not supported)",
                            projections[source].name
                        ),
                    ));
                }
            }
        }
        let mut weights: u64 = 0;
        for (i, p) in projections.iter().enumerate() {
            let n = spec.populations[p.post].size as u64 * spec.populations[p.pre].size as u64;
            weights = weights.saturating_add(n);
            if weights > limits::MAX_NETWORK_WEIGHTS {
                return Err(cx.err(
                    &raws[i].path,
                    format!(
                        "the projections up to this one hold {weights} weights, more than the limit of {} \
                         for a whole network ({} GiB of float32)",
                        limits::MAX_NETWORK_WEIGHTS,
                        (limits::MAX_NETWORK_WEIGHTS * 4) >> 30
                    ),
                ));
            }
        }
        Ok(spec)
    }

    /// Index of the population with this full name.
    pub fn population_index(&self, fullname: &str) -> Result<usize> {
        find_population(
            self.populations.iter().map(|p| p.fullname.as_str()),
            fullname,
        )
    }

    /// Index of the projection with this name (`<Post>_<Pre>`).
    pub fn projection_index(&self, name: &str) -> Result<usize> {
        self.projections
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| Error::UnknownName {
                kind: "projection",
                name: name.to_string(),
                hint: String::new(),
            })
    }
}

/// Position of population `name` among `names` (full names), or an error listing the known ones.
/// Refuse, in one linear pass and before the YAML parser sees it, a config text that is larger than
/// [`limits::MAX_CONFIG_BYTES`] or nests deeper than [`limits::MAX_YAML_DEPTH`] (flow collections `[`/`{`
/// inside each other, or block collections indented deeper than [`limits::MAX_YAML_INDENT`] columns). The
/// parser's own nesting check comes only after it has spent time quadratic in the depth.
fn check_yaml_size_and_nesting(text: &str, file: &str) -> Result<()> {
    let refuse = |line: usize, message: String| Error::Config {
        file: file.to_string(),
        path: format!("line {line}"),
        message,
    };
    if text.len() as u64 > limits::MAX_CONFIG_BYTES {
        return Err(refuse(
            1,
            format!(
                "{} bytes is more than the limit of {} bytes for a network config",
                text.len(),
                limits::MAX_CONFIG_BYTES
            ),
        ));
    }
    let mut depth = 0usize;
    for (n, line) in text.lines().enumerate() {
        // `- - - x` nests sequences on one line: dashes count as indentation.
        let indent = line.len() - line.trim_start_matches([' ', '-']).len();
        if indent > limits::MAX_YAML_INDENT && !line.trim().is_empty() {
            return Err(refuse(
                n + 1,
                format!(
                    "indented {indent} columns, deeper than the limit of {} (configs nest a few levels)",
                    limits::MAX_YAML_INDENT
                ),
            ));
        }
        // Quotes and comments: brackets inside them are text, not nesting.
        let mut quote: Option<char> = None;
        for c in line.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '#') => break,
                (None, '[' | '{') => {
                    depth += 1;
                    if depth > limits::MAX_YAML_DEPTH {
                        return Err(refuse(
                            n + 1,
                            format!(
                                "YAML nested deeper than the limit of {} levels",
                                limits::MAX_YAML_DEPTH
                            ),
                        ));
                    }
                }
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    Ok(())
}

pub(crate) fn find_population<'a>(
    names: impl Iterator<Item = &'a str> + Clone,
    name: &str,
) -> Result<usize> {
    names
        .clone()
        .position(|n| n == name)
        .ok_or_else(|| Error::UnknownName {
            kind: "population",
            name: name.to_string(),
            hint: format!("; known: {}", names.collect::<Vec<_>>().join(", ")),
        })
}

fn is_empty_value(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Sequence(s) => s.is_empty(),
        Value::Mapping(m) => m.is_empty(),
        _ => false,
    }
}

/// A projection's `learning_rule_kwargs`, read by its rule's `from_kwargs` ([`crate::rules`]): typed
/// values whose errors name the file and the YAML path, and the network's `learning_rate` fallback.
pub struct RuleKwargs<'a> {
    cx: &'a Cx<'a>,
    map: &'a Mapping,
    /// YAML path of the kwargs mapping (`projection_config.<...>.learning_rule_kwargs`).
    path: String,
    /// `training_kwargs.learning_rate`, the fallback of rules without their own.
    network_lr: Option<f64>,
    /// Every population of the network (for kwargs naming one, e.g. `source: H1.E`).
    populations: &'a [PopulationSpec],
}

impl std::fmt::Debug for RuleKwargs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleKwargs")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl RuleKwargs<'_> {
    /// Refuse any key not in `known`.
    pub fn known(&self, known: &[&str]) -> Result<()> {
        self.cx.known_keys(self.map, &self.path, known)
    }

    /// An optional number.
    pub fn f64(&self, key: &str) -> Result<Option<f64>> {
        self.cx.opt_f64(self.map, &self.path, key)
    }

    /// An optional boolean.
    pub fn bool(&self, key: &str) -> Result<Option<bool>> {
        self.cx.opt_bool(self.map, &self.path, key)
    }

    /// An optional name (string).
    pub fn str(&self, key: &str) -> Result<Option<String>> {
        self.cx.opt_str(self.map, &self.path, key)
    }

    /// An optional population named `<layer>.<population>` (e.g. `H1.E`), as its index in
    /// [`NetworkSpec::populations`]; an error if no population has that name.
    pub fn population(&self, key: &str) -> Result<Option<usize>> {
        let Some(name) = self.str(key)? else {
            return Ok(None);
        };
        name.split_once('.')
            .and_then(|(l, p)| {
                self.populations
                    .iter()
                    .position(|q| q.layer == l && q.name == p)
            })
            .map(Some)
            .ok_or_else(|| {
                self.error(
                    key,
                    format!("{key} population \"{name}\" is not in layer_config (expected <layer>.<population>)"),
                )
            })
    }

    /// The rule's `learning_rate`, or the network's when the rule has none (EIANN's fallback).
    pub fn learning_rate(&self) -> Result<f64> {
        match self.f64("learning_rate")?.or(self.network_lr) {
            Some(v) => Ok(v),
            None => Err(self.error(
                "learning_rate",
                "missing, and training_kwargs has no learning_rate to fall back on",
            )),
        }
    }

    /// An error at `learning_rule_kwargs.<key>`.
    pub fn error(&self, key: &str, message: impl Into<String>) -> Error {
        self.cx.err(&self.cx.join(&self.path, key), message)
    }
}

/// Error context: the file name, and helpers that read typed values at a YAML path.
struct Cx<'a> {
    file: &'a str,
}

impl Cx<'_> {
    fn err(&self, path: &str, message: impl Into<String>) -> Error {
        Error::Config {
            file: self.file.to_string(),
            path: if path.is_empty() {
                "(top level)".into()
            } else {
                path.to_string()
            },
            message: message.into(),
        }
    }

    fn join(&self, path: &str, key: &str) -> String {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    }

    fn kind(v: &Value) -> &'static str {
        match v {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Sequence(_) => "a list",
            Value::Mapping(_) => "a mapping",
            Value::Tagged(_) => "a tagged value",
        }
    }

    fn mapping<'v>(&self, v: &'v Value, path: &str) -> Result<&'v Mapping> {
        match v {
            Value::Mapping(m) => Ok(m),
            Value::Tagged(t) => Err(self.err(path, format!("unsupported YAML tag {}", t.tag))),
            other => Err(self.err(
                path,
                format!("expected a mapping, got {}", Self::kind(other)),
            )),
        }
    }

    fn seq<'v>(&self, v: &'v Value, path: &str) -> Result<&'v Vec<Value>> {
        match v {
            Value::Sequence(s) => Ok(s),
            Value::Tagged(t) => Err(self.err(path, format!("unsupported YAML tag {}", t.tag))),
            other => Err(self.err(
                path,
                format!("expected a list or tuple, got {}", Self::kind(other)),
            )),
        }
    }

    fn key_str(&self, k: &Value, path: &str) -> Result<String> {
        match k {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            other => Err(self.err(
                path,
                format!("keys must be names, got {}", Self::kind(other)),
            )),
        }
    }

    fn known_keys(&self, m: &Mapping, path: &str, known: &[&str]) -> Result<()> {
        for k in m.keys() {
            let k = self.key_str(k, path)?;
            if !known.contains(&k.as_str()) {
                let hint = if known.is_empty() {
                    "this constraint takes no arguments".to_string()
                } else {
                    format!("expected one of: {}", known.join(", "))
                };
                return Err(self.err(
                    &self.join(path, &k),
                    format!("unknown key \"{k}\" ({hint})"),
                ));
            }
        }
        Ok(())
    }

    fn required<'v>(&self, m: &'v Mapping, path: &str, key: &str) -> Result<&'v Value> {
        m.get(key)
            .ok_or_else(|| self.err(&self.join(path, key), "missing required key"))
    }

    fn number(&self, v: &Value, path: &str) -> Result<f64> {
        match v {
            Value::Number(n) => n
                .as_f64()
                .filter(|x| x.is_finite())
                .ok_or_else(|| self.err(path, format!("expected a finite number, got {n}"))),
            other => Err(self.err(
                path,
                format!("expected a number, got {}", Self::kind(other)),
            )),
        }
    }

    fn opt_number(&self, v: &Value, path: &str) -> Result<Option<f64>> {
        match v {
            Value::Null => Ok(None),
            v => self.number(v, path).map(Some),
        }
    }

    fn string(&self, v: &Value, path: &str) -> Result<String> {
        match v {
            Value::String(s) => Ok(s.clone()),
            other => Err(self.err(
                path,
                format!("expected a name (string), got {}", Self::kind(other)),
            )),
        }
    }

    fn opt_f64(&self, m: &Mapping, path: &str, key: &str) -> Result<Option<f64>> {
        match m.get(key) {
            None => Ok(None),
            Some(v) => self.opt_number(v, &self.join(path, key)),
        }
    }

    fn opt_str(&self, m: &Mapping, path: &str, key: &str) -> Result<Option<String>> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => self.string(v, &self.join(path, key)).map(Some),
        }
    }

    fn opt_bool(&self, m: &Mapping, path: &str, key: &str) -> Result<Option<bool>> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.err(
                &self.join(path, key),
                format!("expected true or false, got {}", Self::kind(other)),
            )),
        }
    }

    fn opt_usize(&self, m: &Mapping, path: &str, key: &str) -> Result<Option<usize>> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => self.nonneg_usize(v, &self.join(path, key)).map(Some),
        }
    }

    fn nonneg_usize(&self, v: &Value, path: &str) -> Result<usize> {
        match v {
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    usize::try_from(u).map_err(|_| self.err(path, format!("{u} is too large")))
                } else if let Some(i) = n.as_i64() {
                    Err(self.err(path, format!("must not be negative, got {i}")))
                } else {
                    Err(self.err(path, format!("expected a whole number, got {n}")))
                }
            }
            other => Err(self.err(
                path,
                format!("expected a whole number, got {}", Self::kind(other)),
            )),
        }
    }

    fn positive_usize(&self, v: &Value, path: &str) -> Result<usize> {
        let n = self.nonneg_usize(v, path)?;
        if n == 0 {
            return Err(self.err(path, "must be at least 1"));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_nesting_is_refused_before_parsing() {
        let flow = format!("{}{}", "[".repeat(65), "]".repeat(65));
        let e = check_yaml_size_and_nesting(&flow, "f.yaml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("f.yaml: line 1") && e.contains("64 levels"),
            "{e}"
        );
        assert!(check_yaml_size_and_nesting(&"[".repeat(64), "f.yaml").is_ok());
        // Brackets inside quotes and comments are text.
        let quoted = format!("a: '{}' # {}", "[".repeat(100), "{".repeat(100));
        assert!(check_yaml_size_and_nesting(&quoted, "f.yaml").is_ok());
        let dashes = format!("x:\n{}1\n", "- ".repeat(200));
        let e = check_yaml_size_and_nesting(&dashes, "f.yaml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("256"), "{e}");
        let big = "#".repeat(limits::MAX_CONFIG_BYTES as usize + 1);
        assert!(check_yaml_size_and_nesting(&big, "f.yaml").is_err());
    }

    pub(crate) fn figure3_config_path() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data/network_config/mnist/20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized.yaml")
    }

    #[test]
    fn figure3_config_matches_spec_tables() {
        let spec = NetworkSpec::from_file(figure3_config_path()).unwrap();
        let names: Vec<_> = spec
            .populations
            .iter()
            .map(|p| p.fullname.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "InputE",
                "H1E",
                "H1SomaI",
                "H1DendI",
                "H2E",
                "H2SomaI",
                "H2DendI",
                "OutputE",
                "OutputSomaI"
            ]
        );
        assert_eq!(spec.projections.len(), 23);
        assert_eq!(spec.projections[3].name, "H1E_H2E");
        assert_eq!(spec.projections[9].name, "H2E_H1E");
        assert_eq!(spec.populations[spec.output].fullname, "OutputE");
        assert_eq!(spec.tau, 3.0);
        assert_eq!(spec.forward_steps, 15);
        match spec.projections[3].constraint {
            Some(Constraint::CloneWeight {
                source,
                scale,
                transpose,
                ..
            }) => {
                assert_eq!(source, 9);
                assert_eq!(scale, 0.4464837982480015);
                assert!(transpose);
            }
            ref c => panic!("unexpected {c:?}"),
        }
        assert_eq!(spec.projections[2].compartment, Compartment::Dendrite);
        assert_eq!(spec.projections[2].direction, Direction::Recurrent);
        assert_eq!(spec.projections[3].direction, Direction::Forward);
        assert_eq!(spec.projections[2].weight_bounds, (None, Some(0.0)));
        assert!(
            matches!(spec.projections[7].rule, Rule::HebbWeightNorm(crate::rules::hebb_weight_norm::HebbWeightNorm { sign, forward_only: true, .. }) if sign == 1.0)
        );
        assert!(matches!(
            spec.projections[0].rule,
            Rule::BpLike2L(crate::rules::bp_like_2l::BpLike2L {
                relu_gate: true,
                forward_only: false,
                ..
            })
        ));
    }
}
