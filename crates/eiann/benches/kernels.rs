//! The product kernel at the network's shapes and activity densities: one row (training) and 32 rows side
//! by side (evaluation), the SIMD kernel beside the plain formula it must equal. Sizes and density in the
//! benchmark id.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use eiann::fast::kernels::{matmat_plain, matmat_slices};

mod common;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("matmat");
    for batch in [1usize, 32] {
        for (post, pre, density) in [(500, 500, 0.3), (50, 500, 0.3), (500, 784, 0.19)] {
            let wt: Vec<f32> = (0..post * pre)
                .map(|k| ((k * 7919) % 1000) as f32 * 1e-4)
                .collect();
            let x: Vec<f32> = (0..pre * batch)
                .map(|j| {
                    if ((j * 2654435761usize) % 1000) as f64 / 1000.0 < density {
                        0.5
                    } else {
                        0.0
                    }
                })
                .collect();
            let mut y = vec![0f32; post * batch];
            g.throughput(Throughput::Elements(batch as u64));
            let id = format!("{post}x{pre}_density{density}_batch{batch}");
            g.bench_with_input(BenchmarkId::new("simd", &id), &x, |b, x| {
                b.iter(|| matmat_slices(&wt, post, pre, std::hint::black_box(x), &mut y, batch))
            });
            g.bench_with_input(BenchmarkId::new("plain", &id), &x, |b, x| {
                b.iter(|| matmat_plain(&wt, post, pre, std::hint::black_box(x), &mut y, batch))
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = bench
}
criterion_main!(benches);
