//! Micro-benchmark of the product kernel at the network's shapes and activity densities: one row
//! (training, `matvec`) and 32 rows side by side (evaluation, `matmat`).
use std::time::Instant;

use eiann::kernels::matmat;
use eiann::network::Projection;

fn main() {
    for batch in [1, 32] {
        for (post, pre, density) in [
            (500, 500, 0.3),
            (500, 500, 1.0),
            (50, 500, 0.3),
            (10, 500, 0.3),
            (500, 50, 0.5),
            (500, 784, 0.19),
        ] {
            let mut p = Projection::zeros(post, pre);
            let w: Vec<f32> = (0..post * pre)
                .map(|k| ((k * 7919) % 1000) as f32 * 1e-4)
                .collect();
            p.set_from_post_pre(&w);
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
            let n = 40_000 / batch;
            let t0 = Instant::now();
            for _ in 0..n {
                matmat(&p, std::hint::black_box(&x), &mut y, batch);
            }
            let dt = t0.elapsed().as_secs_f64() / n as f64;
            let nnz = x.iter().filter(|&&v| v != 0.0).count();
            println!(
                "batch {batch:2} {post}x{pre} density {density}: {:.2} µs  ({:.2} GMAC/s effective)",
                dt * 1e6,
                (post * nnz) as f64 / dt / 1e9
            );
        }
    }
}
