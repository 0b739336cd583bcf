//! Evaluation throughput (forward phase only, as validation runs it) of the trained Figure 3 network on
//! 1,024 images built from the fixture's 50 MNIST samples, one thread: the fast path (32 images side by
//! side, stacked products) and the plain reference path (one image at a time, plain products). Reported
//! per image. The epoch's validation time is measured end to end by `just epoch`.

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use eiann::evaluate::evaluate;
use eiann::samples::InMemorySamples;
use eiann::Speed;

fn bench(c: &mut Criterion) {
    let (net, xs, _) = common::figure3_network();
    let n = 1024;
    let mut inputs = ndarray::Array2::<f32>::zeros((n, xs[0].len()));
    for i in 0..n {
        inputs
            .row_mut(i)
            .assign(&ndarray::ArrayView1::from(&xs[i % xs.len()][..]));
    }
    let data = InMemorySamples {
        inputs,
        labels: (0..n).map(|i| i % 10).collect(),
        classes: 10,
    };
    let mut g = c.benchmark_group("evaluate_1024_images_1_thread");
    g.throughput(Throughput::Elements(n as u64));
    for (name, speed) in [("fast", Speed::Fast), ("reference", Speed::Reference)] {
        let mut net = net.clone();
        net.set_speed(speed);
        g.bench_function(name, |b| {
            b.iter(|| evaluate(&net, &data, 1).expect("evaluate").accuracy)
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion().sample_size(10);
    targets = bench
}
criterion_main!(benches);
