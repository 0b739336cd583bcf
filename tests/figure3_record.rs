//! The Figure 3 histories recorded during training (`eiann::analyses::recorder`, `--figure3-every`):
//! the recorder does not change the run, its numbers are the analyses applied to the same run's stored
//! states, and on EIANN's 1,000-step 5J reference run (`../shared/fixtures/analyses`, trimmed copy in
//! tests/fixtures/analyses) what depends only on step 0 is EIANN's; later histories are printed beside
//! EIANN's (the two float32 trajectories drift apart). Needs MNIST (`just data`).

use std::path::{Path, PathBuf};

use eiann::analyses::angle::{angle_row, compared_parameters, ParamSet};
use eiann::analyses::backprop::BackpropComparison;
use eiann::analyses::class_activity::class_averaged;
use eiann::analyses::recorder::{final_activities, PREFIX};
use eiann::analyses::selectivity::selectivity;
use eiann::checkpoint::Checkpoint;
use eiann::config::NetworkSpec;
use eiann::data::{resolve_mnist_dir, Mnist};
use eiann::evaluate::evaluate;
use eiann::network::Network;
use eiann::npz::Npz;
use eiann::run::{train_run, RunSpec, COMPARISON_CONFIG};

use eiann::figure3::params::DTP_5J_CONFIG as CONFIG_5J;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn mnist() -> Mnist {
    let dir = resolve_mnist_dir(None, &repo().join("data/datasets/MNIST/raw"));
    Mnist::load(&dir).unwrap_or_else(|e| panic!("MNIST is needed (run `just data`): {e}"))
}

fn spec(steps: usize, figure3: Option<usize>, checkpoint_every: Option<usize>) -> RunSpec {
    RunSpec {
        config: repo().join(CONFIG_5J),
        network_seed: 66049,
        data_seed: 257,
        steps,
        epochs: 1,
        checkpoint_every,
        val_every: Some(100),
        test: false,
        threads: 1,
        figure3_every: figure3,
    }
}

fn rec(ck: &Checkpoint, key: &str) -> Vec<f32> {
    ck.records
        .get(&format!("{PREFIX}{key}"))
        .unwrap_or_else(|| panic!("record {key} missing"))
        .iter()
        .copied()
        .collect()
}

fn max_abs(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (x as f64 - y as f64).abs())
        .fold(0.0, f64::max)
}

#[test]
fn recording_does_not_change_the_run_and_matches_the_stored_states() {
    let mnist = mnist();
    let plain = train_run(&spec(200, None, Some(100)), &mnist, &mut |_| {}).unwrap();
    let recorded = train_run(&spec(200, Some(100), Some(100)), &mnist, &mut |_| {}).unwrap();
    let (a, b) = (&plain.checkpoint, &recorded.checkpoint);
    assert!(a.records.is_empty());
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a.loss_history), bits(&b.loss_history));
    assert_eq!(bits(&a.val_accuracy_history), bits(&b.val_accuracy_history));
    for (k, w) in a.final_state.iter() {
        assert_eq!(
            bits(w.as_slice().unwrap()),
            bits(b.final_state.get(k).unwrap().as_slice().unwrap()),
            "{k}"
        );
    }
    // Test accuracy at each stored step = evaluate() of the stored parameters.
    let steps = rec(b, "steps");
    assert_eq!(steps, [0.0, 99.0, 199.0]);
    let net_spec = NetworkSpec::from_file(repo().join(CONFIG_5J)).unwrap();
    let acc = rec(b, "test_accuracy_history");
    for (t, sd) in b.param_history.iter().enumerate() {
        let net = Network::from_state_dict(net_spec.clone(), sd).unwrap();
        let e = evaluate(&net, &mnist.test, 2).unwrap();
        assert_eq!(e.accuracy.to_bits(), acc[t].to_bits(), "t = {t}");
    }
    // The angle at t = 0 from the initial network and param_history[0].
    let compared = compared_parameters(&net_spec);
    let init = Network::new(net_spec.clone(), 66049).state_dict();
    let bp_spec = NetworkSpec::from_file(
        repo()
            .join("data/network_config/mnist")
            .join(COMPARISON_CONFIG),
    )
    .unwrap();
    let mut bp = BackpropComparison::new(bp_spec, compared.clone()).unwrap();
    bp.load(&init).unwrap();
    let predicted = bp.predict(&[b.sample_order[0]], &mnist.train).unwrap();
    let before = ParamSet::from_state(&init, &compared).unwrap();
    let after = ParamSet::from_state(&b.param_history[0], &compared).unwrap();
    let row = angle_row(&predicted, &after.minus(&before).unwrap(), true).unwrap();
    let angle = rec(b, "angle_vs_bp_stochastic/all_params");
    assert_eq!(angle.len(), 3);
    assert_eq!(row.all_params.to_bits(), angle[0].to_bits());
    // Two complete dendritic-state bins (steps 0..199), positive.
    let d = rec(b, "dendritic_state/all");
    assert_eq!(rec(b, "dendritic_state/steps"), [100.0, 200.0]);
    assert!(d.iter().all(|&v| v > 0.0 && v.is_finite()), "{d:?}");
    // Final-network analyses = those of the final state.
    let net = Network::from_state_dict(net_spec, &b.final_state).unwrap();
    let labels: Vec<usize> = mnist.test.labels.iter().map(|&l| l as usize).collect();
    for (pop, act) in final_activities(&net, &mnist.test).unwrap() {
        let avg = class_averaged(act.view(), &labels, 10).unwrap();
        let stored = b.records.get(&format!("{PREFIX}class_avg/{pop}")).unwrap();
        assert_eq!(stored.shape(), avg.shape());
        assert_eq!(
            max_abs(stored.as_slice().unwrap(), avg.as_slice().unwrap()),
            0.0
        );
        let sel = selectivity(act.view());
        assert_eq!(
            max_abs(
                &rec(b, &format!("selectivity/{pop}")),
                sel.as_slice().unwrap()
            ),
            0.0
        );
    }
}

/// EIANN's 1,000-step 5J run, recorded here in one training loop: what depends only on step 0 equals
/// EIANN's; the later histories are printed beside EIANN's (the trajectories drift, see below).
#[test]
fn recorded_5j_run_reproduces_eiann_histories() {
    let root = std::env::var_os("EIANN_ANALYSES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("tests/fixtures/analyses"));
    let out = Npz::open(root.join("5J_66049_257_1000steps/analyses.npz")).unwrap();
    let mnist = mnist();
    let run = train_run(&spec(1000, Some(100), None), &mnist, &mut |_| {}).unwrap();
    let ck = &run.checkpoint;
    let want = |k: &str| -> Vec<f32> { out.f32(k).unwrap().iter().copied().collect() };
    let failures = std::cell::RefCell::new(Vec::new());
    let report = |what: &str, d: f64, tol: f64| {
        println!("{what:<48} max |Δ| {d:.3e} (tol {tol:.0e})");
        if d.is_nan() || d > tol {
            failures.borrow_mut().push(format!("{what}: {d} > {tol}"));
        }
    };
    let show = |what: &str, a: &[f32], b: &[f32]| {
        println!("{what}\n  ours  {a:?}\n  EIANN {b:?}");
    };
    show(
        "test accuracy",
        &rec(ck, "test_accuracy_history"),
        &want("history/test_accuracy_history"),
    );
    show(
        "val accuracy",
        &ck.val_accuracy_history,
        &want("history/val_accuracy_history"),
    );
    show(
        "dendritic state",
        &rec(ck, "dendritic_state/all"),
        &want("dendstate/binned_mean_abs/all"),
    );
    show(
        "angle",
        &rec(ck, "angle_vs_bp_stochastic/all_params"),
        &want("angle_vs_bp_stochastic/all_params"),
    );
    // Step 0 (one update from the same initial weights): the recorder's numbers are EIANN's.
    let first = |v: Vec<f32>| v[0];
    report(
        "test accuracy at P[0] = step 0 (%)",
        (first(rec(ck, "test_accuracy_history")) - first(want("history/test_accuracy_history")))
            .abs() as f64,
        0.0,
    );
    report(
        "angle_vs_bp_stochastic all_params at step 0 (°)",
        (first(rec(ck, "angle_vs_bp_stochastic/all_params"))
            - first(want("angle_vs_bp_stochastic/all_params")))
        .abs() as f64,
        0.01,
    );
    report(
        "first dendritic-state bin (steps 0..99)",
        (first(rec(ck, "dendritic_state/all")) - first(want("dendstate/binned_mean_abs/all"))).abs()
            as f64,
        1e-5,
    );
    // Later the two float32 trajectories drift apart (the 5J training is not bit-exact with PyTorch's
    // over hundreds of steps: test accuracy differs by one pattern at step 99 and by ~1 point at step
    // 999), so the rest is reported, and only checked to stay in the same regime.
    let mean = |v: &[f32]| v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
    println!(
        "drift over 1,000 steps (reported): test acc {:.2} pts, val acc {:.2} pts, dend state {:.2e}, angle {:.2}°",
        max_abs(&rec(ck, "test_accuracy_history"), &want("history/test_accuracy_history")),
        max_abs(&ck.val_accuracy_history, &want("history/val_accuracy_history")),
        max_abs(&rec(ck, "dendritic_state/all"), &want("dendstate/binned_mean_abs/all")),
        max_abs(
            &rec(ck, "angle_vs_bp_stochastic/all_params"),
            &want("angle_vs_bp_stochastic/all_params"),
        ),
    );
    report(
        "final test accuracy, same regime (pts)",
        max_abs(
            &rec(ck, "test_accuracy_history")[10..],
            &want("history/test_accuracy_history")[10..],
        ),
        3.0,
    );
    for pop in ["H1DendI", "H2DendI"] {
        let (ours, theirs) = (
            mean(&rec(ck, &format!("selectivity/{pop}"))),
            mean(&want(&format!("metrics/selectivity/{pop}"))),
        );
        println!("mean selectivity {pop}: ours {ours:.5}, EIANN {theirs:.5}");
        report(
            &format!("mean selectivity {pop}, same regime"),
            (ours - theirs).abs(),
            0.05,
        );
    }
    let f = failures.into_inner();
    assert!(f.is_empty(), "{}", f.join("\n"));
}
