//! The parser as it was before the raw / checked split, kept (test-only) to check that the split
//! changes no result. To be deleted once the comparison has run.
#![allow(dead_code)]

use serde_yaml_ng::{Mapping, Value};

use super::*;

pub(super) fn from_yaml_str(text: &str, name: &str, file: &str) -> Result<NetworkSpec> {
    let cx = OldCx { file };
    let new_cx = Cx { file };
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
                format!(
                    "unsupported optimizer \"{o}\" (only SGD, torch.optim.SGD with its defaults)"
                ),
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
                    return Err(cx.err(&kp, "activation kwargs are not supported (expected none)"));
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
                Some(other) => return Err(cx.err(
                    &cx.join(&ppath, "bias_learning_rule"),
                    format!(
                        "unsupported bias learning rule \"{other}\" (only null / BiasLearningRule)"
                    ),
                )),
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
                        return Err(cx.err(&bp, format!("lower bound {l} exceeds upper bound {h}")));
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
                    format!("unknown direction \"{other}\" (expected F/forward or R/recurrent)"),
                ))
            }
        };
        let update_phase = match cx.opt_str(kw, path, "update_phase")?.as_deref() {
            None | Some("F") | Some("forward") => UpdatePhase::Forward,
            Some("B") | Some("backward") => UpdatePhase::Backward,
            Some("A") | Some("all") => UpdatePhase::All,
            Some(other) => return Err(cx.err(
                &cx.join(path, "update_phase"),
                format!(
                    "unknown update_phase \"{other}\" (expected F/forward, B/backward or A/all)"
                ),
            )),
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
        let rkw_owned: indexmap::IndexMap<String, Value> = rkw
            .iter()
            .map(|(k, v)| Ok((cx.key_str(k, &rkw_path)?, v.clone())))
            .collect::<Result<_>>()?;
        let kwargs = RuleKwargs {
            kw: Kwargs {
                cx: &new_cx,
                map: &rkw_owned,
                path: rkw_path.clone(),
            },
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

fn is_empty_value(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Sequence(s) => s.is_empty(),
        Value::Mapping(m) => m.is_empty(),
        _ => false,
    }
}

/// Error context: the file name, and helpers that read typed values at a YAML path.
struct OldCx<'a> {
    file: &'a str,
}

impl OldCx<'_> {
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
