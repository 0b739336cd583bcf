//! Parity suite: every case file in the parity folder against the Rust model.
//!
//! Folder: `$EIANN_PARITY_DIR`, default `tests/fixtures/parity` (a trimmed copy of the golden arrays the
//! original PyTorch EIANN produced; see that folder's README). Every `*.npz` case file present is checked;
//! the suite fails when the folder holds none. Case kinds are recognised by file-name prefix
//! (`torch_rng`, `forward`, `backward`, `step`, `sequence`, `fig3`) and every array a file holds is
//! compared (arrays missing from a trimmed copy are skipped). Each comparison prints its max-abs-diff.
//!
//! Tolerances (from the core-model issue): activities, states, dendritic states, plateaus ≤ 1e-5;
//! weights after one step ≤ 1e-6; after the 50-step sequence ≤ 1e-5; losses ≤ 1e-6; raw half-Kaiming
//! weights and data orders exact; cloned / normalised initial weights ≤ 1e-6 relative.

use std::path::{Path, PathBuf};

#[path = "common/fig3_fixture.rs"]
mod fig3_fixture;

use eiann::npz::Npz;
use eiann::rng::{epoch_sample_order, TorchRng};
use eiann::series::{DendriteSeries, DynamicsSeries, FIGURE_CROP};
use eiann::{Network, NetworkSpec, Recording, StateDict};
use ndarray::{ArrayD, Axis};

const ACT_TOL: f64 = 1e-5;
const STEP_W_TOL: f64 = 1e-6;
const SEQ_W_TOL: f64 = 1e-5;
const LOSS_TOL: f64 = 1e-6;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn parity_dir() -> PathBuf {
    std::env::var_os("EIANN_PARITY_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("tests/fixtures/parity"))
}

fn spec() -> NetworkSpec {
    NetworkSpec::from_file(repo_root().join(
        "data/network_config/mnist/20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized.yaml",
    ))
    .expect("the repository's Figure 3 config loads")
}

/// Collects comparisons of one case file and prints each.
struct Report {
    case: String,
    failures: Vec<String>,
    count: usize,
    worst: f64,
}

impl Report {
    fn new(case: &str) -> Self {
        println!("== {case}");
        Report {
            case: case.to_string(),
            failures: Vec::new(),
            count: 0,
            worst: 0.0,
        }
    }

    fn check(&mut self, what: &str, got: &[f32], want: &[f32], tol: f64) {
        self.count += 1;
        if got.len() != want.len() {
            self.failures.push(format!(
                "{}: {what}: length {} vs expected {}",
                self.case,
                got.len(),
                want.len()
            ));
            println!(
                "   {what:<55} LENGTH MISMATCH {} vs {}",
                got.len(),
                want.len()
            );
            return;
        }
        let d = got
            .iter()
            .zip(want)
            .map(|(&a, &b)| {
                if a.is_nan() || b.is_nan() {
                    f64::INFINITY
                } else {
                    (a as f64 - b as f64).abs()
                }
            })
            .fold(0.0, f64::max);
        self.worst = self.worst.max(d);
        let ok = d <= tol;
        println!(
            "   {what:<55} max-abs-diff {d:.3e}  (tol {tol:.0e}){}",
            if ok { "" } else { "  FAIL" }
        );
        if !ok {
            self.failures.push(format!(
                "{}: {what}: max-abs-diff {d:.3e} > {tol:.0e}",
                self.case
            ));
        }
    }

    fn check_rel(&mut self, what: &str, got: &[f32], want: &[f32], rel: f64) {
        self.count += 1;
        let scale = want
            .iter()
            .fold(0f64, |m, &v| m.max((v as f64).abs()))
            .max(f64::MIN_POSITIVE);
        let d = got
            .iter()
            .zip(want)
            .map(|(&a, &b)| ((a as f64 - b as f64).abs()) / (b as f64).abs().max(scale * 1e-3))
            .fold(0.0, f64::max);
        let ok = got.len() == want.len() && d <= rel;
        println!(
            "   {what:<55} max-rel-diff {d:.3e}  (tol {rel:.0e}){}",
            if ok { "" } else { "  FAIL" }
        );
        if !ok {
            self.failures.push(format!(
                "{}: {what}: max-rel-diff {d:.3e} > {rel:.0e}",
                self.case
            ));
        }
    }

    fn exact<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, got: &[T], want: &[T]) {
        self.count += 1;
        let mismatches =
            got.iter().zip(want).filter(|(a, b)| a != b).count() + got.len().abs_diff(want.len());
        println!(
            "   {what:<55} {}",
            if mismatches == 0 {
                "identical".to_string()
            } else {
                format!("{mismatches} elements differ  FAIL")
            }
        );
        if mismatches != 0 {
            self.failures.push(format!(
                "{}: {what}: {mismatches} elements differ",
                self.case
            ));
        }
    }

    fn fail(&mut self, msg: String) {
        println!("   ERROR {msg}");
        self.failures.push(format!("{}: {msg}", self.case));
    }
}

fn flat(a: &ArrayD<f32>) -> Vec<f32> {
    a.iter().copied().collect()
}

/// Weights and biases stored under `<prefix>weight/<Post>_<Pre>` / `<prefix>bias/<Pop>`.
fn state_from_npz(z: &Npz, prefix: &str) -> Option<StateDict> {
    let mut sd = StateDict::new();
    for k in z.keys() {
        if let Some(name) = k.strip_prefix(&format!("{prefix}weight/")) {
            sd.insert(StateDict::weight_key(name), z.f32(k).ok()?);
        }
    }
    if sd.is_empty() {
        return None;
    }
    for k in z.keys() {
        if let Some(name) = k.strip_prefix(&format!("{prefix}bias/")) {
            sd.insert(StateDict::bias_key(name), z.f32(k).ok()?);
        }
    }
    Some(sd)
}

/// The starting weights of a case: from the file itself, else from its sibling `forward*.npz`
/// (backward / step / sequence cases continue the forward case's network).
fn starting_state(z: &Npz, path: &Path, prefix: &str) -> Result<StateDict, String> {
    if let Some(sd) = state_from_npz(z, "") {
        return Ok(sd);
    }
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let sibling = path.with_file_name(name.replacen(prefix, "forward", 1));
    let f = Npz::open(&sibling)
        .map_err(|e| format!("needs the starting weights of {}: {e}", sibling.display()))?;
    state_from_npz(&f, "").ok_or_else(|| format!("{} holds no weights", sibling.display()))
}

fn check_torch_rng(z: &Npz, r: &mut Report) {
    let spec = spec();
    let seeds: Vec<u64> = {
        let mut s: Vec<u64> = z
            .keys()
            .filter_map(|k| k.strip_prefix("seed")?.split('/').next()?.parse().ok())
            .collect();
        s.dedup();
        s
    };
    for seed in seeds {
        let net = Network::new(spec.clone(), seed);
        let sd = net.state_dict();
        if let Ok(keys) = z.strings(&format!("seed{seed}/__keys__")) {
            let ours: Vec<String> = sd.keys().map(String::from).collect();
            r.exact(
                &format!("seed{seed}/__keys__ (state_dict order)"),
                &ours,
                &keys,
            );
        }
        for (key, t) in sd.iter() {
            let zk = format!("seed{seed}/{key}");
            let Ok(want) = z.f32(&zk) else { continue };
            let derived = spec
                .projections
                .iter()
                .find(|p| StateDict::weight_key(&p.name) == key)
                .is_some_and(|p| {
                    matches!(
                        p.constraint,
                        Some(eiann::config::Constraint::CloneWeight { .. })
                            | Some(eiann::config::Constraint::NormalizeWeight { .. })
                    )
                });
            if derived {
                r.check_rel(&zk, &flat(t), &flat(&want), 1e-6);
            } else {
                let got: Vec<u32> = t.iter().map(|v| v.to_bits()).collect();
                let want: Vec<u32> = want.iter().map(|v| v.to_bits()).collect();
                r.exact(&format!("{zk} (bits)"), &got, &want);
            }
        }
    }
    for k in z.keys() {
        if let Some(rest) = k.strip_prefix("sample_order_data_seed") {
            let Ok(seed) = rest.parse::<u64>() else {
                continue;
            };
            let want: Vec<i64> = z
                .i64(k)
                .map(|a| a.iter().copied().collect())
                .unwrap_or_default();
            let got: Vec<i64> = epoch_sample_order(&mut TorchRng::new(seed), want.len())
                .into_iter()
                .map(|v| v as i64)
                .collect();
            r.exact(k, &got, &want);
        } else if let Some(rest) = k.strip_prefix("randperm_") {
            let mut it = rest.split("_seed");
            let (Some(Ok(n)), Some(Ok(seed))) = (
                it.next().map(str::parse::<usize>),
                it.next().map(str::parse::<u64>),
            ) else {
                continue;
            };
            let want: Vec<i64> = z
                .i64(k)
                .map(|a| a.iter().copied().collect())
                .unwrap_or_default();
            let got: Vec<i64> = TorchRng::new(seed)
                .randperm(n)
                .into_iter()
                .map(|v| v as i64)
                .collect();
            r.exact(k, &got, &want);
        } else if let Some(rest) = k.strip_prefix("uniform_seed") {
            let parts: Vec<&str> = rest.split('_').collect();
            let num =
                |s: &str| -> Option<f64> { s.replace('m', "-").replace('p', ".").parse().ok() };
            let (Some(seed), Some(lo), Some(hi)) = (
                parts.first().and_then(|s| s.parse::<u64>().ok()),
                parts.get(1).and_then(|s| num(s)),
                parts.get(2).and_then(|s| num(s)),
            ) else {
                continue;
            };
            let want = z.f32(k).map(|a| flat(&a)).unwrap_or_default();
            let mut got = vec![0f32; want.len()];
            TorchRng::new(seed).fill_uniform(&mut got, lo, hi);
            let gb: Vec<u32> = got.iter().map(|v| v.to_bits()).collect();
            let wb: Vec<u32> = want.iter().map(|v| v.to_bits()).collect();
            r.exact(&format!("{k} (bits)"), &gb, &wb);
        }
    }
}

fn pops(spec: &NetworkSpec) -> Vec<String> {
    spec.populations
        .iter()
        .map(|p| p.fullname.clone())
        .collect()
}

fn check_forward(z: &Npz, r: &mut Report) -> Result<(), String> {
    let spec = spec();
    let sd = state_from_npz(z, "").ok_or("no weights in forward case")?;
    let mut net = Network::from_state_dict(spec.clone(), &sd).map_err(|e| e.to_string())?;
    let input = flat(&z.f32("input").map_err(|e| e.to_string())?);
    let mut rec = Recording::new(&spec);
    let out = net
        .forward(&input, Some(&mut rec))
        .map_err(|e| e.to_string())?
        .to_vec();
    net.update_forward_state(Some(&mut rec))
        .map_err(|e| e.to_string())?;
    if let (Ok(o), Ok(t)) = (z.f32("output"), z.f32("target")) {
        r.check("output", &out, &flat(&o), ACT_TOL);
        if let Ok(l) = z.scalar_f32("loss") {
            r.check(
                "loss",
                &[eiann::dynamics::mse_loss(&out, &flat(&t))],
                &[l],
                LOSS_TOL,
            );
        }
    }
    for p in pops(&spec) {
        let st = net.population(&p).map_err(|e| e.to_string())?;
        for (key, got) in [
            (
                format!("forward_steps_activity/{p}"),
                rec.forward_activity(&p)
                    .map(|a| a.into_raw_vec_and_offset().0)
                    .unwrap_or_default(),
            ),
            (format!("final_activity/{p}"), st.activity.clone()),
            (format!("final_state/{p}"), st.state.clone()),
            (
                format!("forward_dendritic_state/{p}"),
                st.forward_dendritic_state.clone(),
            ),
            (
                format!("forward_dendritic_state_steps/{p}"),
                rec.forward_dendritic_state(&p)
                    .map(|a| a.into_raw_vec_and_offset().0)
                    .unwrap_or_default(),
            ),
        ] {
            if let Ok(want) = z.f32(&key) {
                r.check(&key, &got, &flat(&want), ACT_TOL);
            }
        }
    }
    Ok(())
}

fn check_backward(z: &Npz, path: &Path, r: &mut Report) -> Result<(), String> {
    let spec = spec();
    let sd = starting_state(z, path, "backward")?;
    let input = flat(&z.f32("input").map_err(|e| e.to_string())?);
    let target = flat(&z.f32("target").map_err(|e| e.to_string())?);
    for (prefix, store_dynamics) in [("", true), ("nodyn/", false)] {
        let mut net = Network::from_state_dict(spec.clone(), &sd).map_err(|e| e.to_string())?;
        let mut rec = Recording::new(&spec);
        net.forward(&input, Some(&mut rec))
            .map_err(|e| e.to_string())?;
        net.update_forward_state(Some(&mut rec))
            .map_err(|e| e.to_string())?;
        net.backward(&target, store_dynamics, Some(&mut rec))
            .map_err(|e| e.to_string())?;
        let series = if store_dynamics {
            Some(
                DynamicsSeries::from_recording(&net, &rec, DendriteSeries::Figure)
                    .map_err(|e| e.to_string())?,
            )
        } else {
            None
        };
        for p in pops(&spec) {
            let st = net.population(&p).map_err(|e| e.to_string())?;
            let mut cands: Vec<(String, Vec<f32>)> = vec![
                (
                    format!("{prefix}backward_final_activity/{p}"),
                    st.activity.clone(),
                ),
                (
                    format!("{prefix}backward_final_state/{p}"),
                    st.state.clone(),
                ),
                (
                    format!("{prefix}dendritic_state/{p}"),
                    st.dendritic_state.clone(),
                ),
                (format!("{prefix}plateau/{p}"), st.plateau.clone()),
                (format!("{prefix}dend_to_soma/{p}"), st.dend_to_soma.clone()),
                (
                    format!("{prefix}dendritic_state_steps/{p}"),
                    rec.dendritic_state_inloop(&p)
                        .map(|a| a.into_raw_vec_and_offset().0)
                        .unwrap_or_default(),
                ),
            ];
            if store_dynamics {
                cands.push((
                    format!("backward_steps_activity/{p}"),
                    rec.backward_activity(&p)
                        .map(|a| a.into_raw_vec_and_offset().0)
                        .unwrap_or_default(),
                ));
            }
            if let Some(s) = &series {
                cands.push((
                    format!("activity_dynamics/{p}"),
                    s.activity(&p)
                        .map(|a| a.iter().copied().collect())
                        .unwrap_or_default(),
                ));
                cands.push((
                    format!("dendrite_dynamics/{p}"),
                    s.dendrite(&p)
                        .map(|a| a.iter().copied().collect())
                        .unwrap_or_default(),
                ));
            }
            for (key, got) in cands {
                if let Ok(want) = z.f32(&key) {
                    r.check(&key, &got, &flat(&want), ACT_TOL);
                }
            }
        }
    }
    Ok(())
}

fn compare_state(r: &mut Report, net: &Network, z: &Npz, prefix: &str, tol: f64) {
    let sd = net.state_dict();
    for k in z.keys().filter(|k| k.starts_with(prefix)) {
        let rest = &k[prefix.len()..];
        let key = if let Some(n) = rest.strip_prefix("weight/") {
            StateDict::weight_key(n)
        } else if let Some(n) = rest.strip_prefix("bias/") {
            StateDict::bias_key(n)
        } else {
            continue;
        };
        match (sd.get(&key), z.f32(k)) {
            (Some(got), Ok(want)) => r.check(k, &flat(got), &flat(&want), tol),
            _ => r.fail(format!("{k}: no such parameter in the network")),
        }
    }
}

fn check_step(z: &Npz, path: &Path, r: &mut Report) -> Result<(), String> {
    let spec = spec();
    let w = starting_state(z, path, "step")?;
    if let (Ok(x), Ok(t)) = (z.f32("input"), z.f32("target")) {
        let mut net = Network::from_state_dict(spec.clone(), &w).map_err(|e| e.to_string())?;
        let loss = net
            .train_step(&flat(&x), &flat(&t))
            .map_err(|e| e.to_string())?;
        if let Ok(l) = z.scalar_f32("train_loss") {
            r.check("train_loss", &[loss], &[l], LOSS_TOL);
        }
        compare_state(r, &net, z, "after/", STEP_W_TOL);
    }
    if let (Ok(xs), Ok(ts)) = (z.f32("extra_inputs"), z.f32("extra_targets")) {
        let losses = z.f32("extra_train_loss").ok();
        for (j, (x, t)) in xs.axis_iter(Axis(0)).zip(ts.axis_iter(Axis(0))).enumerate() {
            let mut net = Network::from_state_dict(spec.clone(), &w).map_err(|e| e.to_string())?;
            let x: Vec<f32> = x.iter().copied().collect();
            let t: Vec<f32> = t.iter().copied().collect();
            let loss = net.train_step(&x, &t).map_err(|e| e.to_string())?;
            if let Some(l) = &losses {
                r.check(
                    &format!("extra_train_loss[{j}]"),
                    &[loss],
                    &[l[[j]]],
                    LOSS_TOL,
                );
            }
            let got = net.state_dict();
            for (key, before) in w.iter() {
                let npz_key = key
                    .strip_prefix("module_dict.")
                    .and_then(|s| s.strip_suffix(".weight"))
                    .map(|n| format!("weight/{n}"))
                    .or_else(|| {
                        key.strip_prefix("parameter_dict.")
                            .and_then(|s| s.strip_suffix("_bias"))
                            .map(|n| format!("bias/{n}"))
                    })
                    .unwrap_or_default();
                let want: Vec<f32> = if let Ok(a) = z.f32(&format!("extra{j}/after/{npz_key}")) {
                    flat(&a)
                } else if let Ok(d) = z.f32(&format!("extra{j}/delta/{npz_key}")) {
                    before.iter().zip(d.iter()).map(|(&b, &d)| b + d).collect()
                } else {
                    flat(before)
                };
                let g = got.get(key).map(flat).unwrap_or_default();
                r.check(&format!("extra{j}/{npz_key}"), &g, &want, STEP_W_TOL);
            }
        }
    }
    Ok(())
}

fn check_sequence(z: &Npz, path: &Path, r: &mut Report) -> Result<(), String> {
    let spec = spec();
    let w = starting_state(z, path, "sequence")?;
    let xs = z.f32("inputs").map_err(|e| e.to_string())?;
    let ts = z.f32("targets").map_err(|e| e.to_string())?;
    let mut net = Network::from_state_dict(spec, &w).map_err(|e| e.to_string())?;
    let mut losses = Vec::new();
    for (x, t) in xs.axis_iter(Axis(0)).zip(ts.axis_iter(Axis(0))) {
        let x: Vec<f32> = x.iter().copied().collect();
        let t: Vec<f32> = t.iter().copied().collect();
        losses.push(net.train_step(&x, &t).map_err(|e| e.to_string())?);
    }
    if let Ok(l) = z.f32("loss") {
        r.check("loss (per step)", &losses, &flat(&l), LOSS_TOL);
    }
    compare_state(r, &net, z, "after/", SEQ_W_TOL);
    Ok(())
}

fn check_fig3(z: &Npz, r: &mut Report) -> Result<(), String> {
    let spec = spec();
    let sd = state_from_npz(z, "").ok_or("no weights in fig3 case")?;
    let mut net = Network::from_state_dict(spec.clone(), &sd).map_err(|e| e.to_string())?;
    let input = flat(&z.f32("input").map_err(|e| e.to_string())?);
    let target = flat(&z.f32("target").map_err(|e| e.to_string())?);
    let mut rec = Recording::new(&spec);
    net.forward(&input, Some(&mut rec))
        .map_err(|e| e.to_string())?;
    net.update_forward_state(Some(&mut rec))
        .map_err(|e| e.to_string())?;
    net.backward(&target, true, Some(&mut rec))
        .map_err(|e| e.to_string())?;
    let series = DynamicsSeries::from_recording(&net, &rec, DendriteSeries::Figure)
        .map_err(|e| e.to_string())?;
    for p in pops(&spec) {
        for (key, got) in [
            (
                format!("activity_dynamics_full/{p}"),
                series
                    .activity(&p)
                    .map(|a| a.iter().copied().collect::<Vec<_>>())
                    .unwrap_or_default(),
            ),
            (
                format!("dendrite_dynamics_full/{p}"),
                series
                    .dendrite(&p)
                    .map(|a| a.iter().copied().collect())
                    .unwrap_or_default(),
            ),
            (
                format!("activity_dynamics_cropped/{p}"),
                series
                    .activity_crop(&p, FIGURE_CROP)
                    .map(|a| a.iter().copied().collect())
                    .unwrap_or_default(),
            ),
            (
                format!("dendritic_state_steps_inloop/{p}"),
                rec.dendritic_state_inloop(&p)
                    .map(|a| a.iter().copied().collect())
                    .unwrap_or_default(),
            ),
        ] {
            if let Ok(want) = z.f32(&key) {
                r.check(&key, &got, &flat(&want), ACT_TOL);
            }
        }
    }
    if let Ok(want) = z.f32("dendritic_state_H2E_cropped") {
        let got = series
            .dendrite_crop("H2E", FIGURE_CROP)
            .map_err(|e| e.to_string())?;
        r.check(
            "dendritic_state_H2E_cropped",
            &got.iter().copied().collect::<Vec<_>>(),
            &flat(&want),
            ACT_TOL,
        );
    }
    // Spiking model (spec §9) on the fixture's stored rate series, weights and units. (Driven by our own
    // rate series, which match to ~1e-6, a thinning decision can flip for a uniform lying within that
    // noise of its threshold — one H1E spike in these files — so exact spike parity is defined on the
    // stored rates, as the fixtures README intends.)
    if z.contains("spike/soma_v") {
        use fig3_fixture::{compare_run, Fig3Inputs};
        let inputs = Fig3Inputs::from_npz(z, &z.file).map_err(|e| e.to_string())?;
        let run = inputs
            .simulate(&eiann::spiking::params::SpikingParams::default())
            .map_err(|e| e.to_string())?;
        let report = compare_run(z, &z.file, &run).map_err(|e| e.to_string())?;
        for e in &report.entries {
            let what = format!("spiking: {}", e.array);
            if e.tolerance == 0.0 {
                r.exact(&what, &[e.max_abs_diff == 0.0], &[true]);
            } else {
                r.check(&what, &[e.max_abs_diff as f32], &[0.0], e.tolerance);
            }
        }
    }
    // sample bookkeeping: the stored sample is the one trained at the saved step
    if let (Ok(order), Ok(step), Ok(idx)) = (
        z.i64("sample_order_3000"),
        z.scalar_i64("saved_step"),
        z.scalar_i64("sample_index"),
    ) {
        r.exact(
            "sample_index == sample_order[saved_step]",
            &[order[[step as usize]]],
            &[idx],
        );
    }
    Ok(())
}

#[test]
fn parity_against_pytorch_eiann() {
    let dir = parity_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("parity folder {} cannot be read: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "npz"))
        .collect();
    files.sort();
    const KINDS: [&str; 6] = [
        "torch_rng",
        "forward",
        "backward",
        "step",
        "sequence",
        "fig3",
    ];
    let cases: Vec<(&str, PathBuf)> = files
        .into_iter()
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_string();
            KINDS.iter().find(|k| name.starts_with(*k)).map(|k| (*k, p))
        })
        .collect();
    assert!(
        !cases.is_empty(),
        "no parity case file (torch_rng/forward/backward/step/sequence/fig3 *.npz) in {}",
        dir.display()
    );
    println!(
        "parity folder: {} ({} case files)",
        dir.display(),
        cases.len()
    );
    let mut failures = Vec::new();
    let mut summary = Vec::new();
    for (kind, path) in &cases {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let mut r = Report::new(&name);
        match Npz::open(path) {
            Err(e) => r.fail(e.to_string()),
            Ok(z) => {
                let res = match *kind {
                    "torch_rng" => {
                        check_torch_rng(&z, &mut r);
                        Ok(())
                    }
                    "forward" => check_forward(&z, &mut r),
                    "backward" => check_backward(&z, path, &mut r),
                    "step" => check_step(&z, path, &mut r),
                    "sequence" => check_sequence(&z, path, &mut r),
                    _ => check_fig3(&z, &mut r),
                };
                if let Err(e) = res {
                    r.fail(e);
                }
            }
        }
        if r.count == 0 {
            r.fail("no array of this file was recognised".into());
        }
        summary.push(format!(
            "{name}: {} comparisons, max-abs-diff {:.3e}, {} failures",
            r.count,
            r.worst,
            r.failures.len()
        ));
        failures.extend(r.failures);
    }
    println!("\nparity summary:");
    for s in &summary {
        println!("  {s}");
    }
    assert!(
        failures.is_empty(),
        "{} parity failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
