//! Render time of the Figure 3 panels (display list → 300 dpi PNG + SVG) on synthetic data of the
//! notebook's sizes: panel 1 (21 steps × 500 units) and panel 2 (six axes, 420 ms, 40 raster rows).

use criterion::{criterion_group, criterion_main, Criterion};
use eiann_plot::{rate_dynamics_example, spiking_dynamics, RateDynamicsPanel, SpikingPanel};
use ndarray::Array2;

fn rate_panel() -> RateDynamicsPanel {
    let d = Array2::from_shape_fn((21, 500), |(t, u)| {
        ((t * (u + 1)) as f32 * 0.05).sin() * 0.3
    });
    let a = d.mapv(|v| v.max(0.0));
    RateDynamicsPanel::new(d, a, (88, 51))
}

fn spiking_panel() -> SpikingPanel {
    let t = 420usize;
    let train = |k: usize| {
        (0..t as i64)
            .filter(|s| (s * 7 + k as i64 * 13) % 53 == 0)
            .collect::<Vec<_>>()
    };
    let trace = |k: usize| {
        (0..t)
            .map(|s| 0.3 * (1.0 - (-(s as f32) / (60.0 + k as f32))).exp())
            .collect::<Vec<f32>>()
    };
    let v = |sgn: f32| {
        (0..t)
            .map(|s| sgn * ((s as f32) / 60.0).sin() * 0.2)
            .collect::<Vec<f32>>()
    };
    let dw = |s: f32| {
        (0..500)
            .map(|j| s * (j as f32) * 1e-7)
            .collect::<Vec<f32>>()
    };
    let mut p = SpikingPanel::new();
    p.dend_exc_spikes = (0..10).map(train).collect();
    p.dend_inh_spikes = (10..20).map(train).collect();
    p.soma_exc_spikes = (20..30).map(train).collect();
    p.soma_inh_spikes = (30..40).map(train).collect();
    p.eligibility_traces = (0..10).map(trace).collect();
    p.dend_v = [v(1.0), v(-1.0)];
    p.soma_v = [v(0.5), v(0.4)];
    p.soma_spikes = [vec![230, 250, 300], vec![100, 120]];
    p.rate_dw = [dw(1.0), dw(-1.0)];
    p.spiking_dw = [dw(1.1), dw(-0.9)];
    p
}

fn bench(c: &mut Criterion) {
    let rate = rate_panel();
    let spiking = spiking_panel();
    c.bench_function("render rate_dynamics_example", |b| {
        b.iter(|| {
            rate_dynamics_example(&rate, &Default::default())
                .and_then(|f| f.render())
                .map(|r| r.png().len())
        })
    });
    c.bench_function("render spiking_dynamics", |b| {
        b.iter(|| {
            spiking_dynamics(&spiking, &Default::default())
                .and_then(|f| f.render())
                .map(|r| r.png().len())
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
