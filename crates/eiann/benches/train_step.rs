//! One `train_step` of the Figure 3 network (forward 15 steps, forward-state snapshot, supervised phase
//! 15 steps, rules, constraints), single-threaded, on the fast path and on the plain reference path
//! (`Speed::Reference`: same bits, every speed-up off), plus the forward phase alone. Throughput in
//! samples/s. End-to-end timings (epochs, runs) are measured with the CLI (`just epoch`).

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use eiann::Speed;

fn bench(c: &mut Criterion) {
    let (net, xs, ts) = common::figure3_network();
    let mut g = c.benchmark_group("dtp_mnist_784_500_500_10");
    g.throughput(Throughput::Elements(1));
    for (name, speed) in [
        ("train_step", Speed::Fast),
        ("train_step_reference", Speed::Reference),
    ] {
        let mut train_net = net.clone();
        train_net.set_speed(speed);
        let mut i = 0;
        g.bench_function(name, |b| {
            b.iter(|| {
                let loss = train_net
                    .train_step(&xs[i % xs.len()], &ts[i % ts.len()])
                    .expect("step");
                i += 1;
                loss
            })
        });
    }
    // The same step on the same starting weights every iteration (a fresh clone, not timed): a fixed
    // workload, so two builds can be compared — the steps above keep training, so their weights (and
    // cost) drift with the number of iterations criterion happens to run.
    let mut k = 0;
    g.bench_function("train_step_fixed", |b| {
        b.iter_batched(
            || {
                k += 1;
                (net.clone(), (k - 1) % xs.len())
            },
            |(mut n, s)| n.train_step(&xs[s], &ts[s]).expect("step"),
            criterion::BatchSize::LargeInput,
        )
    });
    let mut fwd_net = net.clone();
    let mut j = 0;
    g.bench_function("forward_phase", |b| {
        b.iter(|| {
            let out = fwd_net.forward(&xs[j % xs.len()], None).expect("forward")[0];
            j += 1;
            out
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = bench
}
criterion_main!(benches);
