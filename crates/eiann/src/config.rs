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
//! A config is read in three steps, each refusing what it can before the next one allocates:
//! 1. `check_yaml_size_and_nesting`, on the text: its size and how deep it nests;
//! 2. the raw step (`config/raw.rs`): the text as a YAML value (syntax errors and duplicate keys, with line
//!    and column), then as serde types that mirror the file, so that a value of the wrong type or an
//!    unknown key is refused at its YAML path;
//! 3. the checking step, one function per section: `check_training`, `check_layers` (with
//!    `check_population`), `locate_projections`, `check_projections` (with one function per group of
//!    settings: bounds, init, routing, constraint, rule) and `check_network`, the checks that need the
//!    whole spec. Values get their meaning here, and the caps of [`limits`] are applied before any
//!    weight exists.
//!
//! YAML is read with `serde_yaml_ng`, not `serde_yaml`: dtolnay's `serde_yaml` is deprecated and no
//! longer maintained, and `serde_yaml_ng` 0.10 is its maintained fork that differs from `serde_yaml`
//! 0.9.34 only in names, docs and lints: the same API, the same `unsafe-libyaml` parser and the same
//! messages (syntax errors keep their line and column), so switching changed no behaviour.
//! `serde_norway`, the other fork, moves to a fork of the parser (`unsafe-libyaml-norway`) and
//! changes its parser and loader code: more change to verify, for no gain here.

use std::path::Path;

use indexmap::IndexMap;
use serde_yaml_ng::Value;

use crate::error::{Error, Result};
use crate::limits;

mod raw;

use raw::{Flag, Map, Name, Num, RawPopulation, RawProjection, RawTraining, Whole};

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

use crate::rules::Refusal;
pub use crate::rules::Rule;

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
        let raw = raw::parse(text, file)?;
        let layer_cfg = raw
            .layer_config
            .as_ref()
            .ok_or_else(|| cx.err("layer_config", "missing required key"))?;
        let proj_cfg = raw
            .projection_config
            .as_ref()
            .ok_or_else(|| cx.err("projection_config", "missing required key"))?;
        let no_training = RawTraining::default();
        let training = check_training(&cx, given(&raw.training_kwargs).unwrap_or(&no_training))?;
        let (layers, populations, output) = check_layers(&cx, layer_cfg, training.tau)?;
        let no_settings = RawProjection::default();
        let sites = locate_projections(&cx, proj_cfg, &populations, &no_settings)?;
        let projections = check_projections(&cx, &sites, &populations, training.learning_rate)?;
        let spec = NetworkSpec {
            name: name.to_string(),
            source_yaml: text.to_string(),
            layers,
            populations,
            projections,
            output,
            tau: training.tau as f32,
            forward_steps: training.forward_steps,
            backward_steps: training.backward_steps,
            learning_rate: training.learning_rate,
        };
        check_network(&cx, &spec, &sites)?;
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

// The checking step: from the raw config (`raw`) to a [`NetworkSpec`], one section at a time, in
// EIANN's construction order: training kwargs, layers and populations, projections, then the
// network-wide checks that need the whole spec.

/// A key's value when it is given and not null (`None` for an absent key and for `null`).
fn given<T>(v: &Option<Option<T>>) -> Option<&T> {
    v.as_ref().and_then(Option::as_ref)
}

/// A string setting, absent and null both `None`.
fn name_of(v: &Option<Option<Name>>) -> Option<&str> {
    v.as_ref().and_then(Option::as_ref).map(|n| n.0.as_str())
}

/// A number setting, absent and null both `None`.
fn num_of(v: &Option<Option<Num>>) -> Option<f64> {
    v.and_then(|n| n.map(|n| n.0))
}

/// A boolean setting, absent and null both `None`.
fn flag_of(v: &Option<Option<Flag>>) -> Option<bool> {
    v.and_then(|f| f.map(|f| f.0))
}

/// A whole-number setting, absent and null both `None`.
fn whole_of(v: &Option<Option<Whole>>) -> Option<usize> {
    v.and_then(|w| w.map(|w| w.0))
}

const TRAINING: &str = "training_kwargs";

/// `training_kwargs`, checked.
struct Training {
    tau: f64,
    forward_steps: usize,
    backward_steps: usize,
    learning_rate: Option<f64>,
}

/// `training_kwargs`: time constant, steps per phase (capped), learning rate, optimizer, criterion.
fn check_training(cx: &Cx, t: &RawTraining) -> Result<Training> {
    let tp = TRAINING;
    let tau = num_of(&t.tau).unwrap_or(1.0);
    if tau <= 0.0 {
        return Err(cx.err(&cx.join(tp, "tau"), format!("must be positive, got {tau}")));
    }
    let forward_steps = whole_of(&t.forward_steps).unwrap_or(1);
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
    let backward_steps = whole_of(&t.backward_steps).unwrap_or(1);
    if backward_steps > limits::MAX_FORWARD_STEPS {
        return Err(cx.err(
            &cx.join(tp, "backward_steps"),
            format!(
                "{backward_steps} is more than the limit of {} steps per phase",
                limits::MAX_FORWARD_STEPS
            ),
        ));
    }
    if let Some(o) = name_of(&t.optimizer) {
        if o != "SGD" {
            return Err(cx.err(
                &cx.join(tp, "optimizer"),
                format!(
                    "unsupported optimizer \"{o}\" (only SGD, torch.optim.SGD with its defaults)"
                ),
            ));
        }
    }
    if let Some(c) = name_of(&t.criterion) {
        if c != "MSELoss" {
            return Err(cx.err(
                &cx.join(tp, "criterion"),
                format!("unsupported criterion \"{c}\" (only MSELoss)"),
            ));
        }
    }
    Ok(Training {
        tau,
        forward_steps,
        backward_steps,
        learning_rate: num_of(&t.learning_rate),
    })
}

/// `layer_config`: the layers, their populations in creation order, and the output population
/// (the one flagged `output_pop`, else the first of the last layer).
fn check_layers(
    cx: &Cx,
    layer_cfg: &Map<Map<RawPopulation>>,
    tau: f64,
) -> Result<(Vec<LayerSpec>, Vec<PopulationSpec>, usize)> {
    if layer_cfg.0.is_empty() {
        return Err(cx.err("layer_config", "no layers"));
    }
    let mut layers = Vec::new();
    let mut populations: Vec<PopulationSpec> = Vec::new();
    let mut output_flag: Option<usize> = None;
    for (li, (lname, pops)) in layer_cfg.0.iter().enumerate() {
        let lpath = cx.join("layer_config", lname);
        if pops.0.is_empty() {
            return Err(cx.err(&lpath, "layer has no populations"));
        }
        let mut idxs = Vec::new();
        for (pname, p) in &pops.0 {
            let ppath = cx.join(&lpath, pname);
            let (pop, is_output) = check_population(cx, &ppath, p, tau)?;
            let idx = populations.len();
            if is_output {
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
                name: pname.clone(),
                fullname,
                layer_index: li,
                is_input: li == 0 && idxs.is_empty(),
                ..pop
            });
            idxs.push(idx);
        }
        layers.push(LayerSpec {
            name: lname.clone(),
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
    Ok((layers, populations, output))
}

/// One population's settings at `ppath`: the spec's own facts (size within the cap, activation,
/// time constant, bias) with the names and place left for [`check_layers`], and whether it is
/// flagged as the output.
fn check_population(
    cx: &Cx,
    ppath: &str,
    p: &RawPopulation,
    tau: f64,
) -> Result<(PopulationSpec, bool)> {
    let size = match p.size {
        None => return Err(cx.err(&cx.join(ppath, "size"), "missing required key")),
        Some(Whole(0)) => return Err(cx.err(&cx.join(ppath, "size"), "must be at least 1")),
        Some(Whole(n)) => n,
    };
    if size > limits::MAX_POPULATION_SIZE {
        return Err(cx.err(
            &cx.join(ppath, "size"),
            format!(
                "{size} units is more than the limit of {} per population",
                limits::MAX_POPULATION_SIZE
            ),
        ));
    }
    let activation = match name_of(&p.activation) {
        None | Some("linear") => Activation::Linear,
        Some("relu") => Activation::Relu,
        Some("sigmoid") => Activation::Sigmoid,
        Some("tanh") => Activation::Tanh,
        Some("softplus") => Activation::Softplus,
        Some(other) => {
            return Err(cx.err(
                &cx.join(ppath, "activation"),
                format!(
                "unknown activation \"{other}\" (supported: relu, linear, sigmoid, tanh, softplus)"
            ),
            ))
        }
    };
    if given(&p.activation_kwargs).is_some_and(|m| !m.0.is_empty()) {
        return Err(cx.err(
            &cx.join(ppath, "activation_kwargs"),
            "activation kwargs are not supported (expected none)",
        ));
    }
    let ptau = num_of(&p.tau).unwrap_or(tau);
    if ptau <= 0.0 {
        return Err(cx.err(
            &cx.join(ppath, "tau"),
            format!("must be positive, got {ptau}"),
        ));
    }
    for (k, v) in [
        ("bias_init", &p.bias_init),
        ("bias_init_args", &p.bias_init_args),
        ("bias_bounds", &p.bias_bounds),
        ("bias_learning_rule_kwargs", &p.bias_learning_rule_kwargs),
    ] {
        if v.as_ref().is_some_and(|v| !is_empty_value(v)) {
            return Err(cx.err(
                &cx.join(ppath, k),
                "bias initialisation and bias bounds are not supported by eiann-rs (expected null)",
            ));
        }
    }
    match name_of(&p.bias_learning_rule) {
        None | Some("BiasLearningRule") => {}
        Some(other) => {
            return Err(cx.err(
                &cx.join(ppath, "bias_learning_rule"),
                format!(
                    "unsupported bias learning rule \"{other}\" (only null / BiasLearningRule)"
                ),
            ))
        }
    }
    let pop = PopulationSpec {
        layer: String::new(),
        name: String::new(),
        fullname: String::new(),
        layer_index: 0,
        size,
        activation,
        tau: ptau as f32,
        include_bias: flag_of(&p.include_bias).unwrap_or(false),
        is_input: false,
    };
    Ok((pop, flag_of(&p.output_pop).unwrap_or(false)))
}

/// Where a projection was written: its YAML path, its settings and its two populations.
struct Site<'a> {
    path: String,
    kw: &'a RawProjection,
    post: usize,
    pre: usize,
}

/// `projection_config`'s four levels: every projection's populations, in YAML order (EIANN's
/// construction order). A null settings entry stands for `no_settings`.
fn locate_projections<'a>(
    cx: &Cx,
    proj_cfg: &'a Map<Map<Map<Map<Option<RawProjection>>>>>,
    populations: &[PopulationSpec],
    no_settings: &'a RawProjection,
) -> Result<Vec<Site<'a>>> {
    let find_pop = |layer: &str, pop: &str| {
        populations
            .iter()
            .position(|p| p.layer == layer && p.name == pop)
    };
    let mut sites = Vec::new();
    for (post_l, v1) in &proj_cfg.0 {
        let p1 = cx.join("projection_config", post_l);
        for (post_p, v2) in &v1.0 {
            let p2 = cx.join(&p1, post_p);
            let post = find_pop(post_l, post_p).ok_or_else(|| {
                cx.err(
                    &p2,
                    format!("postsynaptic population {post_l}.{post_p} is not in layer_config"),
                )
            })?;
            if populations[post].is_input {
                return Err(cx.err(&p2, "the input population cannot receive projections"));
            }
            for (pre_l, v3) in &v2.0 {
                let p3 = cx.join(&p2, pre_l);
                for (pre_p, kw) in &v3.0 {
                    let p4 = cx.join(&p3, pre_p);
                    let pre = find_pop(pre_l, pre_p).ok_or_else(|| {
                        cx.err(
                            &p4,
                            format!(
                                "presynaptic population {pre_l}.{pre_p} is not in layer_config"
                            ),
                        )
                    })?;
                    sites.push(Site {
                        path: p4,
                        kw: kw.as_ref().unwrap_or(no_settings),
                        post,
                        pre,
                    });
                }
            }
        }
    }
    Ok(sites)
}

/// `<post fullname>_<pre fullname>`, the projection's name.
fn projection_name(populations: &[PopulationSpec], s: &Site) -> String {
    format!(
        "{}_{}",
        populations[s.post].fullname, populations[s.pre].fullname
    )
}

/// Every projection's settings, checked (clone sources are found among all the sites).
fn check_projections(
    cx: &Cx,
    sites: &[Site],
    populations: &[PopulationSpec],
    network_lr: Option<f64>,
) -> Result<Vec<ProjectionSpec>> {
    // `post_layer.post_pop.pre_layer.pre_pop`, as `clone_weight`'s source names a projection.
    let dotted: Vec<String> = sites
        .iter()
        .map(|s| {
            let (a, b) = (&populations[s.post], &populations[s.pre]);
            format!("{}.{}.{}.{}", a.layer, a.name, b.layer, b.name)
        })
        .collect();
    let mut projections = Vec::with_capacity(sites.len());
    for (i, s) in sites.iter().enumerate() {
        let path = s.path.as_str();
        let weight_bounds = check_weight_bounds(cx, path, s.kw)?;
        let weight_init = check_weight_init(cx, path, s.kw, weight_bounds)?;
        let (direction, update_phase, compartment) = check_routing(cx, path, s.kw)?;
        let constraint = check_constraint(cx, i, sites, &dotted, populations)?;
        let rule = check_rule(cx, path, s.kw, network_lr, populations)?;
        projections.push(ProjectionSpec {
            name: projection_name(populations, s),
            post: s.post,
            pre: s.pre,
            weight_init,
            weight_bounds,
            constraint,
            direction,
            update_phase,
            compartment,
            rule,
        });
    }
    Ok(projections)
}

/// `weight_bounds`: a `(lower, upper)` pair, null for an open side.
fn check_weight_bounds(
    cx: &Cx,
    path: &str,
    kw: &RawProjection,
) -> Result<(Option<f64>, Option<f64>)> {
    let Some(seq) = given(&kw.weight_bounds) else {
        return Ok((None, None));
    };
    let bp = cx.join(path, "weight_bounds");
    let &[lo, hi] = &seq.0[..] else {
        return Err(cx.err(
            &bp,
            format!("expected a (lower, upper) pair, got {} values", seq.0.len()),
        ));
    };
    let (lo, hi) = (lo.map(|n| n.0), hi.map(|n| n.0));
    if let (Some(l), Some(h)) = (lo, hi) {
        if l > h {
            return Err(cx.err(&bp, format!("lower bound {l} exceeds upper bound {h}")));
        }
    }
    Ok((lo, hi))
}

/// `weight_init` with its `weight_init_args` (half_kaiming needs sign-constraining bounds).
fn check_weight_init(
    cx: &Cx,
    path: &str,
    kw: &RawProjection,
    weight_bounds: (Option<f64>, Option<f64>),
) -> Result<WeightInit> {
    let init_args: Vec<f64> =
        given(&kw.weight_init_args).map_or_else(Vec::new, |s| s.0.iter().map(|n| n.0).collect());
    let args_path = || cx.join(path, "weight_init_args");
    let one_scale = |init: &str| {
        if init_args.len() > 1 {
            return Err(cx.err(
                &args_path(),
                format!("{init} takes one argument (scale), got {}", init_args.len()),
            ));
        }
        Ok(init_args.first().copied().unwrap_or(1.0))
    };
    match name_of(&kw.weight_init) {
        None => {
            if !init_args.is_empty() {
                return Err(cx.err(&args_path(), "given without a weight_init"));
            }
            Ok(WeightInit::LinearDefault)
        }
        Some("half_kaiming") => {
            let scale = one_scale("half_kaiming")?;
            if weight_bounds.0.is_none_or(|l| l < 0.0) && weight_bounds.1.is_none_or(|h| h > 0.0) {
                return Err(cx.err(
                    &cx.join(path, "weight_init"),
                    "half_kaiming needs sign-constraining weight_bounds: (0, null) for excitatory or (null, 0) for inhibitory weights",
                ));
            }
            Ok(WeightInit::HalfKaiming { scale })
        }
        Some("scaled_kaiming") => Ok(WeightInit::ScaledKaiming {
            scale: one_scale("scaled_kaiming")?,
        }),
        Some(other) => Err(cx.err(
            &cx.join(path, "weight_init"),
            format!("unsupported weight_init \"{other}\" (supported: half_kaiming, scaled_kaiming, or null for the nn.Linear default)"),
        )),
    }
}

/// `direction`, `update_phase` and `compartment`.
fn check_routing(
    cx: &Cx,
    path: &str,
    kw: &RawProjection,
) -> Result<(Direction, UpdatePhase, Compartment)> {
    let direction = match name_of(&kw.direction) {
        None | Some("F") | Some("forward") => Direction::Forward,
        Some("R") | Some("recurrent") => Direction::Recurrent,
        Some(other) => {
            return Err(cx.err(
                &cx.join(path, "direction"),
                format!("unknown direction \"{other}\" (expected F/forward or R/recurrent)"),
            ))
        }
    };
    let update_phase = match name_of(&kw.update_phase) {
        None | Some("F") | Some("forward") => UpdatePhase::Forward,
        Some("B") | Some("backward") => UpdatePhase::Backward,
        Some("A") | Some("all") => UpdatePhase::All,
        Some(other) => {
            return Err(cx.err(
                &cx.join(path, "update_phase"),
                format!(
                    "unknown update_phase \"{other}\" (expected F/forward, B/backward or A/all)"
                ),
            ))
        }
    };
    let compartment = match name_of(&kw.compartment) {
        None | Some("soma") => Compartment::Soma,
        Some("dend") | Some("dendrite") => Compartment::Dendrite,
        Some(other) => {
            return Err(cx.err(
                &cx.join(path, "compartment"),
                format!("unknown compartment \"{other}\" (expected null/soma or dend/dendrite)"),
            ))
        }
    };
    Ok((direction, update_phase, compartment))
}

/// Projection `i`'s `weight_constraint` with its `weight_constraint_kwargs` (a clone's source is
/// another site, of the right shape).
fn check_constraint(
    cx: &Cx,
    i: usize,
    sites: &[Site],
    dotted: &[String],
    populations: &[PopulationSpec],
) -> Result<Option<Constraint>> {
    let (path, kw) = (sites[i].path.as_str(), sites[i].kw);
    let no_kwargs = IndexMap::new();
    let ckw = Kwargs {
        cx,
        map: given(&kw.weight_constraint_kwargs).map_or(&no_kwargs, |m| &m.0),
        path: cx.join(path, "weight_constraint_kwargs"),
    };
    const NO_ARGUMENTS: &str = "this constraint takes no arguments";
    match name_of(&kw.weight_constraint) {
        None => {
            if !ckw.map.is_empty() {
                return Err(cx.err(&ckw.path, "given without a weight_constraint"));
            }
            Ok(None)
        }
        Some("no_autapses") => {
            ckw.known(&[], NO_ARGUMENTS)?;
            Ok(Some(Constraint::NoAutapses))
        }
        Some("normalize_weight") => {
            ckw.known(&["scale", "autapses", "axis"], NO_ARGUMENTS)?;
            let scale = ckw.f64("scale")?.unwrap_or(1.0);
            let autapses = ckw.bool("autapses")?.unwrap_or(false);
            if let Some(axis) = ckw.f64("axis")? {
                if axis != 1.0 {
                    return Err(ckw.error(
                        "axis",
                        "only axis 1 (normalise each postsynaptic unit's inputs) is supported",
                    ));
                }
            }
            Ok(Some(Constraint::NormalizeWeight { scale, autapses }))
        }
        Some("clone_weight") => {
            ckw.known(&["source", "scale", "sign", "transpose"], NO_ARGUMENTS)?;
            let src = ckw.str("source")?.ok_or_else(|| {
                ckw.error(
                    "source",
                    "missing (expected post_layer.post_pop.pre_layer.pre_pop)",
                )
            })?;
            let source = dotted.iter().position(|d| *d == src).ok_or_else(|| {
                ckw.error(
                    "source",
                    format!("source projection \"{src}\" does not exist"),
                )
            })?;
            if source == i {
                return Err(ckw.error("source", "a projection cannot clone itself"));
            }
            let scale = ckw.f64("scale")?.unwrap_or(1.0);
            let sign = ckw.f64("sign")?.unwrap_or(1.0);
            let transpose = ckw.bool("transpose")?.unwrap_or(true);
            let (s, me) = (&sites[source], &sites[i]);
            let (sp_post, sp_pre) = (populations[s.post].size, populations[s.pre].size);
            let (rows, cols) = if transpose {
                (sp_pre, sp_post)
            } else {
                (sp_post, sp_pre)
            };
            let (my_rows, my_cols) = (populations[me.post].size, populations[me.pre].size);
            if (rows, cols) != (my_rows, my_cols) {
                return Err(ckw.error(
                    "source",
                    format!(
                        "shape of the clone ({rows}×{cols}) does not match this projection ({my_rows}×{my_cols})"
                    ),
                ));
            }
            Ok(Some(Constraint::CloneWeight {
                source,
                scale,
                sign,
                transpose,
            }))
        }
        Some(other) => Err(cx.err(
            &cx.join(path, "weight_constraint"),
            format!("unknown constraint \"{other}\" (supported: no_autapses, normalize_weight, clone_weight)"),
        )),
    }
}

/// `learning_rule` (absent: EIANN's default `Backprop`; null: no learning) read by the rule class
/// from its `learning_rule_kwargs` ([`crate::rules`]).
fn check_rule(
    cx: &Cx,
    path: &str,
    kw: &RawProjection,
    network_lr: Option<f64>,
    populations: &[PopulationSpec],
) -> Result<Rule> {
    let no_kwargs = IndexMap::new();
    let kwargs = RuleKwargs {
        kw: Kwargs {
            cx,
            map: given(&kw.learning_rule_kwargs).map_or(&no_kwargs, |m| &m.0),
            path: cx.join(path, "learning_rule_kwargs"),
        },
        network_lr,
        populations,
    };
    let class = match &kw.learning_rule {
        // EIANN's default rule class (spec §1.2).
        None => "Backprop",
        Some(None) => "LearningRule",
        Some(Some(Name(class))) => class.as_str(),
    };
    Rule::parse(class, &kwargs).unwrap_or_else(|| {
        // The learning rules, then the one that does not learn.
        let none = <crate::rules::none::NoLearning as crate::rules::LearningRule>::CLASS;
        let learning: Vec<&str> = Rule::CLASSES
            .iter()
            .copied()
            .filter(|c| *c != none)
            .collect();
        Err(cx.err(
            &cx.join(path, "learning_rule"),
            format!(
                "unknown rule \"{class}\" (supported: {}, or null / {none} for no learning)",
                learning.join(", ")
            ),
        ))
    })
}

/// The checks that need the whole spec: each rule's own (activations, steps), projections defined
/// twice, chains of clones, and the cap on the network's weights.
fn check_network(cx: &Cx, spec: &NetworkSpec, sites: &[Site]) -> Result<()> {
    for (k, p) in spec.projections.iter().enumerate() {
        p.rule.check(k, spec).map_err(|r| match r {
            Refusal::Rule(m) => cx.err(&cx.join(&sites[k].path, "learning_rule"), m),
            Refusal::Training { key, message } => cx.err(&cx.join(TRAINING, key), message),
        })?;
    }
    let projections = &spec.projections;
    for (i, p) in projections.iter().enumerate() {
        if projections[..i].iter().any(|q| q.name == p.name) {
            return Err(cx.err(
                &sites[i].path,
                format!("projection {} is defined twice", p.name),
            ));
        }
    }
    for (i, p) in projections.iter().enumerate() {
        if let Some(Constraint::CloneWeight { source, .. }) = p.constraint {
            if matches!(
                projections[source].constraint,
                Some(Constraint::CloneWeight { .. })
            ) {
                return Err(cx.err(
                    &cx.join(&sites[i].path, "weight_constraint_kwargs.source"),
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
                &sites[i].path,
                format!(
                    "the projections up to this one hold {weights} weights, more than the limit of {} \
                     for a whole network ({} GiB of float32)",
                    limits::MAX_NETWORK_WEIGHTS,
                    (limits::MAX_NETWORK_WEIGHTS * 4) >> 30
                ),
            ));
        }
    }
    Ok(())
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

/// An open kwargs mapping (a constraint's or a rule's), read one typed value at a time with the
/// raw layer's types, so its errors read like the rest of the config's.
struct Kwargs<'a> {
    cx: &'a Cx<'a>,
    map: &'a IndexMap<String, Value>,
    /// YAML path of the mapping.
    path: String,
}

impl Kwargs<'_> {
    /// Refuse any key not in `known` (`none_hint` says why when nothing is).
    fn known(&self, known: &[&str], none_hint: &str) -> Result<()> {
        match self.map.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(self.error(k, raw::unknown_key(k, known, none_hint))),
            None => Ok(()),
        }
    }

    /// The value at `key` as a `T`; `None` when the key is absent.
    fn get<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        self.map
            .get(key)
            .map(|v| raw::read(v).map_err(|m| self.error(key, m)))
            .transpose()
    }

    fn f64(&self, key: &str) -> Result<Option<f64>> {
        Ok(num_of(&self.get(key)?))
    }

    fn bool(&self, key: &str) -> Result<Option<bool>> {
        Ok(flag_of(&self.get(key)?))
    }

    fn str(&self, key: &str) -> Result<Option<String>> {
        Ok(self.get::<Option<Name>>(key)?.flatten().map(|n| n.0))
    }

    fn error(&self, key: &str, message: impl Into<String>) -> Error {
        self.cx.err(&self.cx.join(&self.path, key), message)
    }
}

/// A projection's `learning_rule_kwargs`, read by its rule's `from_kwargs` ([`crate::rules`]): typed
/// values whose errors name the file and the YAML path, and the network's `learning_rate` fallback.
pub struct RuleKwargs<'a> {
    /// The mapping at `projection_config.<...>.learning_rule_kwargs`.
    kw: Kwargs<'a>,
    /// `training_kwargs.learning_rate`, the fallback of rules without their own.
    network_lr: Option<f64>,
    /// Every population of the network (for kwargs naming one, e.g. `source: H1.E`).
    populations: &'a [PopulationSpec],
}

impl std::fmt::Debug for RuleKwargs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleKwargs")
            .field("path", &self.kw.path)
            .finish_non_exhaustive()
    }
}

impl RuleKwargs<'_> {
    /// Refuse any key not in `known`.
    pub fn known(&self, known: &[&str]) -> Result<()> {
        self.kw.known(known, "this rule takes no keyword arguments")
    }

    /// An optional number.
    pub fn f64(&self, key: &str) -> Result<Option<f64>> {
        self.kw.f64(key)
    }

    /// An optional boolean.
    pub fn bool(&self, key: &str) -> Result<Option<bool>> {
        self.kw.bool(key)
    }

    /// An optional name (string).
    pub fn str(&self, key: &str) -> Result<Option<String>> {
        self.kw.str(key)
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
        self.kw.error(key, message)
    }
}

/// Error context: the file name, and the YAML path of what is wrong.
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

    /// Values of the wrong YAML type are refused at their path, in the words of the other errors.
    #[test]
    fn wrong_types_are_refused_at_their_path() {
        let g = std::fs::read_to_string(figure3_config_path()).unwrap();
        let h1e = "layer_config.H1.E";
        let h1e_input = "projection_config.H1.E.Input.E";
        for (from, to, path, message) in [
            (
                "size: 500",
                "size: !foo 500",
                format!("{h1e}.size"),
                "expected a whole number, got a tagged value",
            ),
            (
                "size: 500",
                "size: 5.5",
                format!("{h1e}.size"),
                "expected a whole number, got 5.5",
            ),
            (
                "size: 500",
                "size: [1, 2]",
                format!("{h1e}.size"),
                "expected a whole number, got a list",
            ),
            (
                "size: 500",
                "size: null",
                format!("{h1e}.size"),
                "expected a whole number, got null",
            ),
            (
                "size: 500",
                "size: 500\n      [a]: 1",
                format!("{h1e}:"),
                "keys must be names, got a list",
            ),
            (
                "size: 500",
                "size: 500\n      sise: !x 3",
                format!("{h1e}.sise"),
                "unknown key \"sise\" (expected one of: size,",
            ),
            (
                "size: 500",
                "size: 500\n      activation_kwargs: !t {}",
                format!("{h1e}.activation_kwargs"),
                "unsupported YAML tag !t",
            ),
            (
                "tau: 3",
                "tau: .inf",
                "training_kwargs.tau".into(),
                "expected a finite number, got .inf",
            ),
            (
                "weight_bounds: !!python/tuple",
                "weight_bounds: !tuple",
                format!("{h1e_input}.weight_bounds"),
                "unsupported YAML tag !tuple",
            ),
            (
                "          - 0\n          - null",
                "          - 0\n          - x",
                format!("{h1e_input}.weight_bounds[1]"),
                "expected a number, got a string",
            ),
            (
                "relu_gate: true",
                "relu_gate: [true]",
                format!("{h1e_input}.learning_rule_kwargs.relu_gate"),
                "expected true or false, got a list",
            ),
            (
                "learning_rule: BP_like_2L",
                "learning_rule: 7",
                format!("{h1e_input}.learning_rule"),
                "expected a name (string), got a number",
            ),
            (
                "  Input:\n",
                "  Input: 3\n  Other:\n",
                "layer_config.Input".into(),
                "expected a mapping, got a number",
            ),
            (
                "layer_config:",
                "!top\nlayer_config:",
                "(top level)".into(),
                "unsupported YAML tag !top",
            ),
            // The caps, in the checking step, before anything is allocated.
            (
                "size: 500",
                "size: 1000000000000",
                format!("{h1e}.size"),
                "units is more than the limit of",
            ),
            (
                "forward_steps: 15",
                "forward_steps: 1000000000000",
                "training_kwargs.forward_steps".into(),
                "is more than the limit of",
            ),
        ] {
            assert!(g.contains(from), "{from:?} not in the config");
            let e = NetworkSpec::from_yaml_str(&g.replacen(from, to, 1), "n", "f.yaml")
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with(&format!("f.yaml: {path}")) && e.contains(message),
                "{to:?}: {e}"
            );
        }
        let two_ones =
            "layer_config:\n  1: {E: {size: 4}}\n  '1': {E: {size: 2}}\nprojection_config: {}\n";
        let e = NetworkSpec::from_yaml_str(two_ones, "n", "f.yaml")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "f.yaml: layer_config.1: key \"1\" is given twice");
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
