//! The Figure 3 analyses (`eiann::analyses`) against EIANN's outputs in every fixture folder present.
//!
//! Folder: `$EIANN_ANALYSES_DIR`, default `tests/fixtures/analyses` (a trimmed copy made by `trim.py`
//! there from `../shared/fixtures/analyses`; `.ci/run` also runs the full set). Every sub-folder holding
//! `inputs.npz` + `analyses.npz` (layout of `../shared/fixtures/analyses/*/README.md`) is checked; each
//! check uses whatever input arrays the folder holds and prints its max |difference|. The suite fails when
//! no folder is found. MNIST (`just data`) is needed for the InputE checks (test images are not stored).
//!
//! Tolerances: activity-derived values 1e-5 absolute, angles 0.01°, norms 1e-5 relative, orders exact.

use std::path::{Path, PathBuf};

use eiann::analyses::angle::{self, stochastic_binned3, AngleTracker, ParamSet, Variants};
use eiann::analyses::backprop::BackpropComparison;
use eiann::analyses::{class_activity, dendritic_state, seeds, selectivity};
use eiann::config::NetworkSpec;
use eiann::data::{resolve_mnist_dir, Mnist};
use eiann::npz::{NpyArray, Npz};
use eiann::state::StateDict;
use ndarray::{Array2, ArrayD, Axis, Ix2};

const ACT_TOL: f64 = 1e-5;
const ANGLE_TOL: f64 = 0.01;
const NORM_REL_TOL: f64 = 1e-5;
/// The raw step-averaged change's norm: EIANN's float32 `torch.norm` over 647,000 weight differences
/// against a float64 sum here (the angles built from the same vectors agree to < 0.01°).
const RAW_NORM_REL_TOL: f64 = 5e-5;
/// Raw predicted dW of the comparison network vs EIANN's (float32 sums in another order).
const DW_TOL: f64 = 1e-6;

/// The comparison ("backprop") network of the angle panel (spec §1).
const BPDALE_CONFIG: &str =
    "data/network_config/mnist/20231129_EIANN_2_hidden_mnist_bpDale_relu_SGD_config_G_complete_optimized.yaml";

const COMPARED: [&str; 3] = ["H1E_InputE", "H2E_H1E", "OutputE_H2E"];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture_dirs() -> Vec<PathBuf> {
    let root = std::env::var_os("EIANN_ANALYSES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("tests/fixtures/analyses"));
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| {
            panic!(
                "cannot read the analyses fixture folder {}: {e}",
                root.display()
            )
        })
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("inputs.npz").is_file() && p.join("analyses.npz").is_file())
        .collect();
    dirs.sort();
    assert!(
        !dirs.is_empty(),
        "no fixture folders (inputs.npz + analyses.npz) in {}",
        root.display()
    );
    dirs
}

/// Comparisons of one folder: prints each, collects failures.
struct Report {
    failures: Vec<String>,
    checks: usize,
}

impl Report {
    fn check(&mut self, what: &str, diff: f64, tol: f64) {
        self.checks += 1;
        let ok = diff <= tol; // NaN diff fails
        println!(
            "  {:<62} max |Δ| {diff:.3e} (tol {tol:.0e}){}",
            what,
            if ok { "" } else { "  FAIL" }
        );
        if !ok {
            self.failures.push(format!("{what}: {diff:e} > {tol:e}"));
        }
    }

    fn exact(&mut self, what: &str, ok: bool, detail: impl FnOnce() -> String) {
        self.checks += 1;
        println!("  {:<62} {}", what, if ok { "exact" } else { "DIFFERS" });
        if !ok {
            self.failures.push(format!("{what}: {}", detail()));
        }
    }
}

/// Max |a − b| over two float series of equal length, NaN-aware (NaN == NaN); ∞ on a length mismatch.
fn max_diff(a: impl IntoIterator<Item = f64>, b: impl IntoIterator<Item = f64>) -> f64 {
    let (a, b): (Vec<f64>, Vec<f64>) = (a.into_iter().collect(), b.into_iter().collect());
    if a.len() != b.len() {
        return f64::INFINITY;
    }
    a.iter()
        .zip(&b)
        .map(|(x, y)| {
            if x.is_nan() && y.is_nan() {
                0.0
            } else {
                (x - y).abs()
            }
        })
        .fold(0.0, f64::max)
}

fn max_rel_diff(a: &[f64], b: &[f64]) -> f64 {
    if a.len() != b.len() {
        return f64::INFINITY;
    }
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / y.abs().max(1e-30))
        .fold(0.0, f64::max)
}

fn f32s(z: &Npz, key: &str) -> Vec<f64> {
    z.f32(key)
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(|&v| v as f64)
        .collect()
}

fn ints(z: &Npz, key: &str) -> Vec<i64> {
    match z.get(key).unwrap_or_else(|e| panic!("{e}")) {
        NpyArray::I64(a) => a.iter().copied().collect(),
        NpyArray::I32(a) => a.iter().map(|&v| v as i64).collect(),
        NpyArray::F32(a) => a.iter().map(|&v| v as i64).collect(),
        other => panic!("{key}: unexpected dtype {}", other.dtype()),
    }
}

fn usizes(z: &Npz, key: &str) -> Vec<usize> {
    ints(z, key).into_iter().map(|v| v as usize).collect()
}

fn scalar(z: &Npz, key: &str) -> f64 {
    match z.get(key).unwrap_or_else(|e| panic!("{e}")) {
        NpyArray::F32(a) => a.iter().next().copied().unwrap_or(f32::NAN) as f64,
        NpyArray::F64(a) => a.iter().next().copied().unwrap_or(f64::NAN),
        NpyArray::I64(a) => a.iter().next().copied().unwrap_or_default() as f64,
        other => panic!("{key}: unexpected dtype {}", other.dtype()),
    }
}

fn matrix(z: &Npz, key: &str) -> Array2<f32> {
    z.f32(key)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_dimensionality::<Ix2>()
        .unwrap_or_else(|e| panic!("{key}: {e}"))
}

/// Populations of a folder: the `class_avg/activity/<pop>` keys.
fn populations(out: &Npz) -> Vec<String> {
    out.keys()
        .filter_map(|k| k.strip_prefix("class_avg/activity/"))
        .map(str::to_string)
        .collect()
}

fn check_synthetic(out: &Npz, r: &mut Report) {
    let a = matrix(out, "synthetic/activity");
    let sel = selectivity::selectivity(a.view());
    r.check(
        "synthetic selectivity",
        max_diff(
            sel.iter().map(|&v| v as f64),
            f32s(out, "synthetic/selectivity"),
        ),
        ACT_TOL,
    );
    let sp = selectivity::sparsity(a.view());
    r.check(
        "synthetic sparsity",
        max_diff(
            sp.iter().map(|&v| v as f64),
            f32s(out, "synthetic/sparsity"),
        ),
        ACT_TOL,
    );
    let angles = [
        (
            "synthetic/angle_45",
            angle::vector_angle(&[1.0, 0.0, 0.0], &[1.0, 1.0, 0.0]),
        ),
        (
            "synthetic/angle_antiparallel",
            angle::vector_angle(&[1.0, 0.0, 0.0], &[-1.0, 0.0, 0.0]),
        ),
        (
            "synthetic/angle_zero_vector",
            angle::vector_angle(&[1.0, 0.0, 0.0], &[0.0, 0.0, 0.0]),
        ),
    ];
    for (key, got) in angles {
        let got = got.expect("equal lengths") as f64;
        r.check(key, max_diff([got], [scalar(out, key)]), ANGLE_TOL);
    }
}

fn check_class_averages(out: &Npz, r: &mut Report) {
    for pop in populations(out) {
        let avg = matrix(out, &format!("class_avg/activity/{pop}"));
        let labels = class_activity::unit_labels(avg.view());
        let want = usizes(out, &format!("class_avg/unit_labels/{pop}"));
        r.exact(
            &format!("unit_labels/{pop} (from EIANN's class averages)"),
            labels.to_vec() == want,
            || format!("got {labels:?}, want {want:?}"),
        );
        let key = format!("heatmap/sort_idx_stable/{pop}");
        if !out.contains(&key) {
            continue;
        }
        let h = class_activity::heatmap_order(avg.view());
        let want = usizes(out, &key);
        r.exact(
            &format!("heatmap order (stable) {pop}"),
            h.order == want,
            || format!("got {:?}, want {want:?}", h.order),
        );
        let want_pref = usizes(out, &format!("heatmap/preferred_class_active/{pop}"));
        let want_n = scalar(out, &format!("heatmap/n_active/{pop}")) as usize;
        r.exact(
            &format!("heatmap preferred classes, n_active {pop}"),
            h.preferred_class_active == want_pref && h.n_active == want_n,
            || format!("n_active {} vs {want_n}", h.n_active),
        );
        // torch's (unstable) order: same class sequence, each class block the same set of units.
        let torch = usizes(out, &format!("heatmap/sort_idx/{pop}"));
        let blocks_equal = {
            let classes = |o: &[usize]| -> Vec<usize> { o.iter().map(|&u| labels[u]).collect() };
            let mut a = h.order.clone();
            let mut b = torch.clone();
            let same_seq = classes(&a[..h.n_active]) == classes(&b[..h.n_active.min(b.len())]);
            // sort within runs of equal class
            let sort_blocks = |o: &mut Vec<usize>| {
                let mut i = 0;
                while i < h.n_active {
                    let c = labels[o[i]];
                    let mut j = i;
                    while j < h.n_active && labels[o[j]] == c {
                        j += 1;
                    }
                    o[i..j].sort_unstable();
                    i = j;
                }
                o[h.n_active..].sort_unstable();
            };
            sort_blocks(&mut a);
            if b.len() == a.len() {
                sort_blocks(&mut b);
            }
            same_seq && a == b
        };
        r.exact(
            &format!("heatmap torch order = stable order block by block {pop}"),
            blocks_equal,
            || format!("torch {torch:?}"),
        );
        let img_key = format!("heatmap/drawn_image/{pop}");
        if out.contains(&img_key) {
            let img = class_activity::heatmap_image(avg.view(), &torch).expect("valid order");
            let want = matrix(out, &img_key);
            r.check(
                &format!("heatmap image (torch order) {pop}"),
                max_diff(
                    img.iter().map(|&v| v as f64),
                    want.iter().map(|&v| v as f64),
                ),
                0.0,
            );
        }
    }
}

fn check_input_population(out: &Npz, mnist: &Mnist, r: &mut Report) {
    let test = &mnist.test;
    let mut a = Array2::<f32>::zeros((test.len(), 784));
    for (i, mut row) in a.axis_iter_mut(Axis(0)).enumerate() {
        test.image_into(i, row.as_slice_mut().expect("contiguous row"));
    }
    let labels: Vec<usize> = test.labels.iter().map(|&l| usize::from(l)).collect();
    let avg = class_activity::class_averaged(a.view(), &labels, 10).expect("10 classes");
    r.check(
        "class_avg/activity/InputE (MNIST test images)",
        max_diff(
            avg.iter().map(|&v| v as f64),
            f32s(out, "class_avg/activity/InputE"),
        ),
        ACT_TOL,
    );
    let sel = selectivity::selectivity(a.view());
    r.check(
        "metrics/selectivity/InputE",
        max_diff(
            sel.iter().map(|&v| v as f64),
            f32s(out, "metrics/selectivity/InputE"),
        ),
        ACT_TOL,
    );
    if out.contains("metrics/sparsity/InputE") {
        let sp = selectivity::sparsity(a.view());
        r.check(
            "metrics/sparsity/InputE",
            max_diff(
                sp.iter().map(|&v| v as f64),
                f32s(out, "metrics/sparsity/InputE"),
            ),
            ACT_TOL,
        );
    }
    r.exact(
        "metrics/n_silent_units, n_silent_patterns InputE",
        selectivity::silent_units(a.view()) as f64 == scalar(out, "metrics/n_silent_units/InputE")
            && selectivity::silent_patterns(a.view()) as f64
                == scalar(out, "metrics/n_silent_patterns/InputE"),
        || format!("{} silent units", selectivity::silent_units(a.view())),
    );
}

fn check_dendritic_state(inp: &Npz, out: &Npz, r: &mut Report) {
    let pops: Vec<String> = inp
        .keys()
        .filter_map(|k| k.strip_prefix("forward_dendritic_state_history/"))
        .map(str::to_string)
        .collect();
    if pops.is_empty() {
        println!("  (no forward_dendritic_state_history: no dendritic-state check)");
        return;
    }
    let hist: Vec<Array2<f32>> = pops
        .iter()
        .map(|p| matrix(inp, &format!("forward_dendritic_state_history/{p}")))
        .collect();
    let n_out = scalar(inp, "output_activity_history_len") as usize;
    let rows = hist.iter().map(|h| h.nrows()).min().unwrap_or(0);
    let n = n_out.min(rows); // a trimmed copy keeps the first rows only
    let views: Vec<(&str, ndarray::ArrayView2<f32>)> = pops
        .iter()
        .map(String::as_str)
        .zip(hist.iter().map(|h| h.view()))
        .collect();
    let b =
        dendritic_state::binned_mean_abs(&views, n, dendritic_state::BIN_SIZE).expect("binning");
    let nb = b.steps.len();
    assert!(
        nb >= 1,
        "fixture holds fewer dendritic-state rows than one bin"
    );
    for p in &pops {
        let want = f32s(out, &format!("dendstate/binned_mean_abs/{p}"));
        let got = b
            .population(p)
            .expect("population")
            .iter()
            .map(|&v| v as f64);
        r.check(
            &format!("dendstate/binned_mean_abs/{p} (bins 0..{nb})"),
            max_diff(got, want[..nb].iter().copied()),
            ACT_TOL,
        );
    }
    let want = f32s(out, "dendstate/binned_mean_abs/all");
    r.check(
        &format!("dendstate/binned_mean_abs/all (bins 0..{nb})"),
        max_diff(b.all.iter().map(|&v| v as f64), want[..nb].iter().copied()),
        ACT_TOL,
    );
    let steps = ints(out, "dendstate/steps");
    r.exact(
        "dendstate/steps",
        b.steps.iter().map(|&s| s as i64).collect::<Vec<_>>() == steps[..nb],
        || format!("{:?}", b.steps),
    );
}

fn param_set(z: &Npz, prefix: &str, row: usize) -> Option<ParamSet> {
    let mut entries = Vec::new();
    for p in COMPARED {
        let key = format!("{prefix}/module_dict.{p}.weight");
        let a = z.f32(&key).ok()?;
        if row >= a.shape()[0] {
            return None;
        }
        entries.push((
            format!("module_dict.{p}.weight"),
            a.index_axis(Axis(0), row).to_owned(),
        ));
    }
    Some(ParamSet::new(entries))
}

fn zeros_like(s: &ParamSet) -> ParamSet {
    ParamSet::new(
        s.entries()
            .iter()
            .map(|(k, a)| (k.clone(), ArrayD::zeros(a.shape())))
            .collect(),
    )
}

/// The stored snapshots as (t, weights entering P[t], weights leaving P[t]) for the compared parameters.
/// 5J layout: `single_step_dW` (+ `prev_param_history` when kept); bpDale layout: prev + param.
fn snapshots(inp: &Npz) -> Vec<(usize, Option<ParamSet>, ParamSet, ParamSet)> {
    if !inp.contains("snapshot_index") {
        return Vec::new();
    }
    let index = usizes(inp, "snapshot_index");
    let mut v = Vec::new();
    for (row, &t) in index.iter().enumerate() {
        if let Some(dw) = param_set(inp, "single_step_dW", row) {
            let prev = param_set(inp, "prev_param_history", row);
            // actual single-step update = dW (param = prev + dW bit-exactly in this layout)
            let (before, after) = (zeros_like(&dw), dw);
            v.push((t, prev, before, after));
        } else if let (Some(prev), Some(after)) = (
            param_set(inp, "prev_param_history", row),
            param_set(inp, "param_history", row),
        ) {
            v.push((t, Some(prev.clone()), prev, after));
        }
    }
    v
}

fn check_angles(inp: &Npz, out: &Npz, r: &mut Report) {
    let steps = usizes(inp, "param_history_steps");
    let sample_order = usizes(inp, "sample_order");
    let b = angle::step_averaged_batch_size(&steps).expect("≥ 2 stored steps");
    r.exact(
        "angle/stored_history_step_size (step-averaged batch size)",
        b as f64 == scalar(out, "angle/stored_history_step_size"),
        || format!("{b}"),
    );

    // Plot transform of the stochastic series and the x of both variants.
    let theta: Vec<f32> = out
        .f32("angle_vs_bp_stochastic/all_params")
        .expect("stochastic angles")
        .iter()
        .copied()
        .collect();
    let val_steps = usizes(inp, "val_history_train_steps");
    let (m, x) = stochastic_binned3(&theta, &val_steps).expect("lengths match");
    r.check(
        "angle_plot/stochastic_binned3",
        max_diff(
            m.iter().map(|&v| v as f64),
            f32s(out, "angle_plot/stochastic_binned3"),
        ),
        ANGLE_TOL,
    );
    r.exact(
        "angle_plot/stochastic_binned3_steps",
        x == usizes(out, "angle_plot/stochastic_binned3_steps"),
        || format!("{x:?}"),
    );
    r.exact(
        "angle_plot/stepavg_steps = P[1:]",
        val_steps[1..] == usizes(out, "angle_plot/stepavg_steps")[..],
        || format!("{val_steps:?}"),
    );

    let snaps = snapshots(inp);
    if snaps.is_empty() {
        println!("  (no per-snapshot weights: angle series not re-computed)");
        return;
    }
    // Stochastic variant: the stored prediction at t = 0 (5J layout), or — for a backprop-trained network
    // compared with its own rule (bpDale) — its actual update at every stored t (self-consistency).
    let self_consistent = !inp.contains("single_step_dW/module_dict.H1E_InputE.weight");
    let stored_t0: Option<ParamSet> = (|| {
        let mut entries = Vec::new();
        for p in COMPARED {
            let k = format!("module_dict.{p}.weight");
            entries.push((
                k,
                out.f32(&format!(
                    "angle_vs_bp_stochastic_diag/predicted_raw_dW_t0/{p}"
                ))
                .ok()?,
            ));
        }
        Some(ParamSet::new(entries))
    })();
    let mut tracker = AngleTracker::new(
        steps.clone(),
        sample_order.clone(),
        Variants {
            stochastic: true,
            step_averaged: false,
        },
    )
    .expect("tracker");
    let mut calls = Vec::new();
    for (t, _, before, after) in &snaps {
        if *t != calls.len() {
            break; // snapshots must be a prefix 0..k for the streaming tracker
        }
        let actual = after.minus(before).expect("same keys");
        let mut predictor = |tt: usize, step: usize, batch: &[usize]| {
            calls.push((tt, step, batch.to_vec()));
            if self_consistent {
                Ok(actual.clone())
            } else if tt == 0 {
                stored_t0
                    .clone()
                    .ok_or_else(|| eiann::Error::invalid("fixture", "no predicted_raw_dW_t0"))
            } else {
                Err(eiann::Error::invalid(
                    "fixture",
                    "no stored prediction for t > 0",
                ))
            }
        };
        if !self_consistent && *t > 0 {
            break;
        }
        tracker
            .push(*t, before.clone(), after, &mut predictor)
            .expect("push");
    }
    r.exact(
        "stochastic batches = [sample_order[P[t]]]",
        calls
            .iter()
            .all(|(t, s, b)| *s == steps[*t] && b == &vec![sample_order[steps[*t]]]),
        || format!("{calls:?}"),
    );
    let h = tracker.finish().stochastic;
    let n = h.rows.len();
    let label = if self_consistent {
        "own update as prediction"
    } else {
        "stored prediction"
    };
    for (i, p) in COMPARED.iter().enumerate() {
        let want = f32s(out, &format!("angle_vs_bp_stochastic/{p}"));
        r.check(
            &format!("angle_vs_bp_stochastic/{p} t<{n} ({label})"),
            max_diff(
                h.param(i).iter().map(|&v| v as f64),
                want[..n].iter().copied(),
            ),
            ANGLE_TOL,
        );
    }
    let want = f32s(out, "angle_vs_bp_stochastic/all_params");
    r.check(
        &format!("angle_vs_bp_stochastic/all_params t<{n} ({label})"),
        max_diff(
            h.all_params().iter().map(|&v| v as f64),
            want[..n].iter().copied(),
        ),
        ANGLE_TOL,
    );
    let d = "angle_vs_bp_stochastic_diag";
    let norm_actual: Vec<f64> = h
        .rows
        .iter()
        .map(|r| r.all_params_norm_actual as f64)
        .collect();
    r.check(
        &format!("{d}/all_params_norm_actual t<{n} (rel)"),
        max_rel_diff(
            &norm_actual,
            &f32s(out, &format!("{d}/all_params_norm_actual"))[..n],
        ),
        NORM_REL_TOL,
    );
    if !self_consistent {
        for (i, p) in COMPARED.iter().enumerate() {
            let want = f32s(out, &format!("{d}/predicted_raw_norm/{p}"))[0];
            r.check(
                &format!("{d}/predicted_raw_norm/{p} t=0 (rel)"),
                max_rel_diff(&[h.rows[0].predicted_raw_norm[i] as f64], &[want]),
                NORM_REL_TOL,
            );
            let nz = ints(out, &format!("{d}/predicted_n_nonzero/{p}"))[0];
            r.exact(
                &format!("{d}/predicted_n_nonzero/{p} t=0"),
                h.rows[0].predicted_n_nonzero[i] as i64 == nz,
                || format!("{}", h.rows[0].predicted_n_nonzero[i]),
            );
        }
        let want = f32s(out, &format!("{d}/all_params_norm_predicted"))[0];
        r.check(
            &format!("{d}/all_params_norm_predicted t=0 (rel)"),
            max_rel_diff(&[h.rows[0].all_params_norm_predicted as f64], &[want]),
            NORM_REL_TOL,
        );
    }

    // Step-averaged variant: the actual vector A_t = P⁻[t+1] − P⁻[t] (raw), checked through its norm.
    let prevs: Vec<(usize, &ParamSet)> = snaps
        .iter()
        .filter_map(|(t, p, _, _)| p.as_ref().map(|p| (*t, p)))
        .collect();
    let mut got = Vec::new();
    let mut want = Vec::new();
    let stored = f32s(out, "angle_vs_bp_diag/all_params_norm_actual");
    for w in prevs.windows(2) {
        if w[1].0 == w[0].0 + 1 {
            let a = w[1].1.minus(w[0].1).expect("same keys");
            let norm = a
                .concatenated()
                .iter()
                .map(|&x| (x as f64) * (x as f64))
                .sum::<f64>()
                .sqrt();
            got.push(norm);
            want.push(stored[w[0].0]);
        }
    }
    if got.is_empty() {
        println!("  (fewer than two consecutive prev_param_history snapshots: step-averaged actual not checked)");
    } else {
        r.check(
            &format!(
                "angle_vs_bp_diag/all_params_norm_actual ({} t, rel)",
                got.len()
            ),
            max_rel_diff(&got, &want),
            RAW_NORM_REL_TOL,
        );
    }
}

/// The state entering stored step `row` for the comparison network: `fixed/*` ∪ the compared E→E
/// weights of `prev_param_history` (None when the folder does not hold them).
fn entering_state(inp: &Npz, row: usize) -> Option<StateDict> {
    let mut sd = StateDict::new();
    for k in inp.keys() {
        if let Some(name) = k.strip_prefix("fixed/") {
            sd.insert(name, inp.f32(k).ok()?);
        }
    }
    if sd.is_empty() {
        return None;
    }
    for (name, a) in param_set(inp, "prev_param_history", row)?.entries() {
        sd.insert(name.clone(), a.clone());
    }
    Some(sd)
}

/// The angles with the comparison network's own backprop step as the prediction (spec §6.3, both
/// variants), on every stored snapshot the folder holds with its full entering state.
fn check_backprop_prediction(inp: &Npz, out: &Npz, mnist: &Mnist, r: &mut Report) {
    let snaps = snapshots(inp);
    let rows: Vec<(usize, StateDict)> = snaps
        .iter()
        .enumerate()
        .map_while(|(row, (t, ..))| {
            (*t == row)
                .then(|| entering_state(inp, row))
                .flatten()
                .map(|sd| (row, sd))
        })
        .collect();
    if rows.is_empty() {
        println!(
            "  (no fixed/ + prev_param_history/ weights: backprop prediction not re-computed)"
        );
        return;
    }
    let spec = NetworkSpec::from_file(repo_root().join(BPDALE_CONFIG)).expect("bpDale config");
    let compared: Vec<String> = COMPARED
        .iter()
        .map(|p| format!("module_dict.{p}.weight"))
        .collect();
    let mut bp = BackpropComparison::new(spec, compared).expect("comparison network");
    r.exact(
        "comparison network's architecture matches (every bpDale key present)",
        bp.architectures_match(&rows[0].1),
        || "a key is missing or misshapen".to_string(),
    );
    let steps = usizes(inp, "param_history_steps");
    let sample_order = usizes(inp, "sample_order");
    if out.contains("angle_vs_bp_stochastic_diag/predicted_raw_dW_t0/H1E_InputE") {
        bp.load(&rows[0].1).expect("load t = 0");
        let d = bp
            .predict(&[sample_order[steps[0]]], &mnist.train)
            .expect("prediction");
        for (i, p) in COMPARED.iter().enumerate() {
            let want = f32s(
                out,
                &format!("angle_vs_bp_stochastic_diag/predicted_raw_dW_t0/{p}"),
            );
            r.check(
                &format!("predicted raw dW t=0 {p} (comparison network's backprop step)"),
                max_diff(d.entries()[i].1.iter().map(|&v| v as f64), want),
                DW_TOL,
            );
        }
    }
    let mut tracker =
        AngleTracker::new(steps.clone(), sample_order, Variants::BOTH).expect("tracker");
    for (row, sd) in &rows {
        let (t, _, before, after) = &snaps[*row];
        // 5J layout: before = 0, after = dW; the tracker needs the entering weights themselves.
        let entering = ParamSet::from_state(sd, bp.compared()).expect("compared keys");
        let actual = after.minus(before).expect("same keys");
        let leaving = ParamSet::new(
            entering
                .entries()
                .iter()
                .zip(actual.entries())
                .map(|((k, a), (_, d))| (k.clone(), a + d))
                .collect(),
        );
        bp.load(sd).expect("load");
        let mut predictor = bp.predictor(&mnist.train);
        // The stochastic row compares with the stored actual update (exact for both layouts).
        tracker
            .push(*t, entering, &leaving, &mut predictor)
            .expect("push");
    }
    let h = tracker.finish();
    let n = h.stochastic.rows.len();
    for (i, p) in COMPARED.iter().chain(["all_params"].iter()).enumerate() {
        let got = if *p == "all_params" {
            h.stochastic.all_params()
        } else {
            h.stochastic.param(i)
        };
        let want = f32s(out, &format!("angle_vs_bp_stochastic/{p}"));
        r.check(
            &format!("angle_vs_bp_stochastic/{p} t<{n} (backprop prediction)"),
            max_diff(got.iter().map(|&v| v as f64), want[..n].iter().copied()),
            ANGLE_TOL,
        );
    }
    let m = h.step_averaged.rows.len();
    if m == 0 {
        println!("  (one snapshot only: step-averaged angle not re-computed)");
        return;
    }
    for (i, p) in COMPARED.iter().chain(["all_params"].iter()).enumerate() {
        let got = if *p == "all_params" {
            h.step_averaged.all_params()
        } else {
            h.step_averaged.param(i)
        };
        let want = f32s(out, &format!("angle_vs_bp/{p}"));
        r.check(
            &format!(
                "angle_vs_bp/{p} t<{m} (backprop prediction, batch {})",
                angle::step_averaged_batch_size(&steps).unwrap_or(0)
            ),
            max_diff(got.iter().map(|&v| v as f64), want[..m].iter().copied()),
            ANGLE_TOL,
        );
    }
}

fn check_histories(out: &Npz, r: &mut Report) {
    // One seed aggregated = itself with SD 0 (the multi-seed statistics are unit-tested in the crate).
    let acc = out
        .f32("history/test_accuracy_history")
        .expect("test accuracy");
    let n = acc.len();
    let y = acc.into_shape_with_order((1, n)).expect("1 × T");
    let a = seeds::aggregate(y.view()).expect("one seed");
    r.check(
        "seed aggregate of history/test_accuracy_history (1 seed)",
        max_diff(
            a.mean.iter().copied(),
            f32s(out, "history/test_accuracy_history"),
        )
        .max(a.sd.iter().fold(0.0, |m, v| f64::max(m, v.abs()))),
        ACT_TOL,
    );
}

#[test]
fn analyses_match_every_fixture_folder() {
    let mnist_dir = resolve_mnist_dir(None, &repo_root().join("data/datasets/MNIST/raw"));
    let mnist = Mnist::load(&mnist_dir)
        .unwrap_or_else(|e| panic!("MNIST is needed (run `just data`): {e}"));
    let mut failures = Vec::new();
    for dir in fixture_dirs() {
        println!("== {}", dir.display());
        let inp = Npz::open(dir.join("inputs.npz")).expect("inputs.npz");
        let out = Npz::open(dir.join("analyses.npz")).expect("analyses.npz");
        let mut r = Report {
            failures: Vec::new(),
            checks: 0,
        };
        check_synthetic(&out, &mut r);
        check_class_averages(&out, &mut r);
        check_input_population(&out, &mnist, &mut r);
        check_dendritic_state(&inp, &out, &mut r);
        check_angles(&inp, &out, &mut r);
        check_backprop_prediction(&inp, &out, &mnist, &mut r);
        check_histories(&out, &mut r);
        println!("  {} checks, {} failed", r.checks, r.failures.len());
        failures.extend(
            r.failures
                .into_iter()
                .map(|f| format!("{}: {f}", dir.display())),
        );
    }
    assert!(
        failures.is_empty(),
        "analyses differ from the fixtures:\n{}",
        failures.join("\n")
    );
}
