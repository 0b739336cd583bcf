//! Tests of the panel functions: synthetic fixture-sized data, the real parity fixture when present, and
//! rejection of bad input.

use super::*;
use ndarray::Array2;
use std::path::{Path, PathBuf};

/// A fresh, empty scratch folder for one test (under `$EIANN_FIG_OUT` when set, to look at the output).
fn scratch(name: &str) -> PathBuf {
    if let Some(out) = std::env::var_os("EIANN_FIG_OUT") {
        return PathBuf::from(out).join(name);
    }
    let d = std::env::temp_dir().join(format!("eiann-figures-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Removes a scratch folder unless the output is being kept for inspection.
fn cleanup(dir: &Path) {
    if std::env::var_os("EIANN_FIG_OUT").is_none() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let be = |o: usize| u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
    (be(16), be(20))
}

/// Saves a figure into `dir` (for `Result::and_then`).
fn saved(fig: Figure, dir: &Path) -> eiann::Result<Figure> {
    fig.save(dir)?;
    Ok(fig)
}

/// Checks both files on disk and the text labels of the SVG.
fn check_saved(fig: &Figure, dir: &Path, px: (u32, u32), labels: &[&str]) {
    let png = std::fs::read(dir.join(format!("{}.png", fig.name()))).expect("png written");
    assert_eq!(png_size(&png), px, "{}", fig.name());
    let rendered = fig.render().expect("render");
    assert_eq!(png, rendered.png(), "rendering is deterministic");
    let svg =
        std::fs::read_to_string(dir.join(format!("{}.svg", fig.name()))).expect("svg written");
    assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
    for l in labels {
        assert!(
            svg.contains(&format!(">{l}<")),
            "{} lacks text {l:?}",
            fig.name()
        );
    }
    // No temporary files left behind.
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        assert!(!e.file_name().to_string_lossy().ends_with(".tmp"));
    }
}

fn synthetic_rate() -> (Array2<f32>, Array2<f32>) {
    let d = Array2::from_shape_fn((21, 500), |(t, u)| {
        let t = t as f32 - 10.0;
        if t <= 0.0 {
            0.3 * (-(t + 5.0).powi(2) / 4.0).exp()
        } else if u % 2 == 0 {
            0.5
        } else {
            -0.5
        }
    });
    let a = Array2::from_shape_fn((21, 500), |(t, u)| {
        ((t as f32 - 3.0) * 0.05 * (1.0 + (u % 3) as f32)).max(0.0)
    });
    (d, a)
}

fn synthetic_spiking() -> SpikingPanel {
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
    let mut p = SpikingPanel::new();
    p.dend_exc_spikes = (0..10).map(train).collect();
    p.dend_inh_spikes = (10..20).map(train).collect();
    p.soma_exc_spikes = (20..30).map(train).collect();
    p.soma_inh_spikes = (30..40).map(train).collect();
    p.eligibility_traces = (0..10).map(trace).collect();
    let v = |sgn: f32| {
        (0..t)
            .map(|s| sgn * ((s as f32) / 60.0).sin() * 0.2)
            .collect::<Vec<f32>>()
    };
    p.dend_v = [v(1.0), v(-1.0)];
    p.soma_v = [v(0.5), v(0.4)];
    p.soma_spikes = [vec![230, 250, 300], vec![100, 120]];
    let dw = |s: f32| {
        (0..500)
            .map(|j| s * (j as f32) * 1e-7)
            .collect::<Vec<f32>>()
    };
    p.rate_dw = [dw(1.0), dw(-1.0)];
    p.spiking_dw = [dw(1.1), dw(-0.9)];
    p
}

#[test]
fn rate_panel_from_synthetic_data() {
    let (d, a) = synthetic_rate();
    let dir = scratch("rate");
    let fig = rate_dynamics_example(
        &RateDynamicsPanel::new(d.clone(), a.clone(), (88, 51)),
        &Default::default(),
    )
    .and_then(|f| saved(f, &dir))
    .expect("render");
    assert_eq!(fig.name(), "rate_dynamics_example_H2E");
    check_saved(
        &fig,
        &dir,
        (705, 600),
        &[
            "Dendritic state",
            "Activity",
            "Timestep from nudge",
            "sensory phase",
            "supervised phase",
            "0",
        ],
    );
    cleanup(&dir);
}

#[test]
fn spiking_panel_from_synthetic_data() {
    let dir = scratch("spiking");
    let fig = spiking_dynamics(&synthetic_spiking(), &Default::default())
        .and_then(|f| saved(f, &dir))
        .expect("render");
    assert_eq!(fig.name(), "spiking_dynamics_H2E");
    check_saved(
        &fig,
        &dir,
        (1950, 900),
        &[
            "Inputs to dendrite",
            "Inputs to soma",
            "Time from nudge (ms)",
            "Dendrite Vm",
            "Soma Vm",
            "ΔW (rate model)",
            "ΔW (spiking)",
            "H2DendI",
            "OutputE",
            "H1E",
            "H2SomaI",
            "(H1E units)",
        ],
    );
    cleanup(&dir);
}

#[test]
fn comparison_and_trace_panels_from_synthetic_data() {
    let dir = scratch("small");
    let s = |k: f32| {
        (0..420)
            .map(|i| (i as f32 / 50.0 + k).sin())
            .collect::<Vec<f32>>()
    };
    let p3 = DendriticComparisonPanel {
        rate: [s(0.0), s(1.0)],
        spiking: [s(0.1), s(1.1)],
        population: "H2E".into(),
    };
    let f3 = dendritic_state_rate_vs_spiking(&p3, &Default::default())
        .and_then(|f| saved(f, &dir))
        .expect("panel 3");
    check_saved(
        &f3,
        &dir,
        (1800, 600),
        &[
            "Dendritic state: rate vs spiking models",
            "Rate model",
            "Spiking model",
        ],
    );
    for unit in [129, 13] {
        let p = EligibilityTracePanel {
            unit,
            pre_rate: s(0.0),
            trace: s(0.3),
            population: "H1E".into(),
        };
        let f = eligibility_trace_example(&p, &Default::default())
            .and_then(|f| saved(f, &dir))
            .expect("panel 4/5");
        assert_eq!(f.name(), format!("eligibility_trace_H1E_{unit}"));
        check_saved(
            &f,
            &dir,
            (1200, 450),
            &[
                &format!("Eligibility trace for H1E, example unit: {unit}"),
                "Time steps",
                "Activity / Eligibility",
            ],
        );
    }
    cleanup(&dir);
}

#[test]
fn population_panels_from_synthetic_data() {
    let dir = scratch("population");
    let x: Vec<f32> = (0..5000)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) * 1e-6)
        .collect();
    let y: Vec<f32> = x
        .iter()
        .enumerate()
        .map(|(i, v)| v * 1.1 + ((i % 7) as f32 - 3.0) * 3e-6)
        .collect();
    let f = dw_agreement_scatter(
        &DwAgreementPanel {
            rate_dw: x.clone(),
            spiking_dw: y.clone(),
            title: Some("pooled".into()),
        },
        &Default::default(),
    )
    .and_then(|f| saved(f, &dir))
    .expect("scatter");
    check_saved(&f, &dir, (780, 720), &["ΔW (rate model)", "ΔW (spiking)"]);
    let r = pearson_r(&x, &y).expect("r");
    assert!(r > 0.9 && r <= 1.0, "{r}");

    let rs: Vec<f32> = (0..500)
        .map(|i| 0.5 + 0.49 * ((i as f32) * 0.37).sin())
        .collect();
    let f = pearson_r_histogram(
        &PearsonHistogramPanel { r: rs, bins: 0 },
        &Default::default(),
    )
    .and_then(|f| saved(f, &dir))
    .expect("hist");
    check_saved(
        &f,
        &dir,
        (900, 600),
        &["Pearson r (rate vs spiking ΔW)", "Units"],
    );

    let f = agreement_vs_max_rate(
        &AgreementVsRatePanel {
            max_rate_hz: vec![50.0, 100.0, 200.0, 450.0, 1000.0],
            agreement: vec![0.2, 0.4, 0.6, 0.8, 0.85],
            spread: Some(vec![0.1, 0.08, 0.05, 0.03, 0.03]),
            ylabel: String::new(),
        },
        &Default::default(),
    )
    .and_then(|f| saved(f, &dir))
    .expect("line");
    check_saved(&f, &dir, (900, 600), &["Max rate (Hz)", "Median Pearson r"]);
    cleanup(&dir);
}

#[test]
fn evcxr_display_payload_is_base64_png() {
    let (d, a) = synthetic_rate();
    let fig = rate_dynamics_example(
        &RateDynamicsPanel::new(d.clone(), a.clone(), (1, 2)),
        &Default::default(),
    )
    .expect("render");
    let fig = fig.render().expect("render");
    let b64 = fig.png_base64();
    assert!(b64.starts_with("iVBORw0KGgo"), "PNG magic in base64");
    assert_eq!(b64.len(), fig.png().len().div_ceil(3) * 4);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let (d, a) = synthetic_rate();
    // Unit out of range.
    let e = rate_dynamics_example(
        &RateDynamicsPanel::new(d.clone(), a.clone(), (500, 1)),
        &Default::default(),
    );
    assert!(matches!(e, Err(eiann::Error::Invalid { .. })), "{e:?}");
    // Mismatched shapes.
    let short = a.slice(ndarray::s![..20, ..]).to_owned();
    let e = rate_dynamics_example(
        &RateDynamicsPanel::new(d.clone(), short.clone(), (1, 2)),
        &Default::default(),
    );
    assert!(matches!(e, Err(eiann::Error::Shape { .. })), "{e:?}");
    // Empty series.
    let empty = Array2::<f32>::zeros((0, 500));
    let e = rate_dynamics_example(
        &RateDynamicsPanel::new(empty.clone(), empty.clone(), (1, 2)),
        &Default::default(),
    );
    assert!(e.is_err());
    // Nudge row outside the series.
    let mut p = RateDynamicsPanel::new(d.clone(), a.clone(), (1, 2));
    p.before_nudge_row = 21;
    assert!(rate_dynamics_example(&p, &Default::default()).is_err());

    let mut s = synthetic_spiking();
    s.soma_v[1].pop();
    assert!(matches!(
        spiking_dynamics(&s, &Default::default()),
        Err(eiann::Error::Shape { .. })
    ));
    let mut s = synthetic_spiking();
    s.eligibility_traces.pop();
    assert!(matches!(
        spiking_dynamics(&s, &Default::default()),
        Err(eiann::Error::Shape { .. })
    ));
    let mut s = synthetic_spiking();
    s.rate_dw[0].clear();
    assert!(spiking_dynamics(&s, &Default::default()).is_err());
    assert!(spiking_dynamics(&SpikingPanel::new(), &Default::default()).is_err());
    let mut s = synthetic_spiking();
    s.dend_v = [vec![f32::NAN; 420], vec![f32::NAN; 420]];
    assert!(spiking_dynamics(&s, &Default::default()).is_err());

    assert!(dendritic_state_rate_vs_spiking(
        &DendriticComparisonPanel::default(),
        &Default::default()
    )
    .is_err());
    let p = DendriticComparisonPanel {
        rate: [vec![0.0; 4], vec![0.0; 4]],
        spiking: [vec![0.0; 4], vec![0.0; 3]],
        population: String::new(),
    };
    assert!(matches!(
        dendritic_state_rate_vs_spiking(&p, &Default::default()),
        Err(eiann::Error::Shape { .. })
    ));
    let p = EligibilityTracePanel {
        unit: 3,
        pre_rate: vec![1.0; 5],
        trace: vec![1.0; 6],
        population: String::new(),
    };
    assert!(matches!(
        eligibility_trace_example(&p, &Default::default()),
        Err(eiann::Error::Shape { .. })
    ));
    assert!(
        eligibility_trace_example(&EligibilityTracePanel::default(), &Default::default()).is_err()
    );

    assert!(dw_agreement_scatter(&DwAgreementPanel::default(), &Default::default()).is_err());
    let p = DwAgreementPanel {
        rate_dw: vec![1.0, 2.0],
        spiking_dw: vec![1.0],
        title: None,
    };
    assert!(matches!(
        dw_agreement_scatter(&p, &Default::default()),
        Err(eiann::Error::Shape { .. })
    ));
    assert!(pearson_r_histogram(&PearsonHistogramPanel::default(), &Default::default()).is_err());
    assert!(pearson_r_histogram(
        &PearsonHistogramPanel {
            r: vec![2.0],
            bins: 10
        },
        &Default::default()
    )
    .is_err());
    assert!(agreement_vs_max_rate(&AgreementVsRatePanel::default(), &Default::default()).is_err());
    let p = AgreementVsRatePanel {
        max_rate_hz: vec![1.0, 2.0],
        agreement: vec![0.5],
        spread: None,
        ylabel: String::new(),
    };
    assert!(matches!(
        agreement_vs_max_rate(&p, &Default::default()),
        Err(eiann::Error::Shape { .. })
    ));
    assert!(pearson_r(&[1.0, 1.0], &[1.0, 2.0]).is_err());

    assert!(split_spike_trains(&[1, 2, 3], &[1, 1]).is_err());
    assert!(split_spike_trains(&[1, 2], &[1, 5]).is_err());
    assert!(split_spike_trains(&[1, 2], &[-1, 3]).is_err());
    assert_eq!(
        split_spike_trains(&[1, 2, 3], &[2, 0, 1]).expect("split"),
        vec![vec![1, 2], vec![], vec![3]]
    );
    assert_eq!(
        first_active_rows_reversed(&[vec![], vec![1], vec![2], vec![], vec![3]], 2),
        vec![2, 1]
    );

    // A file where the output folder should be is an I/O error.
    let blocker =
        std::env::temp_dir().join(format!("eiann-figures-{}-blocker", std::process::id()));
    std::fs::write(&blocker, b"x").expect("write");
    let e = rate_dynamics_example(
        &RateDynamicsPanel::new(d.clone(), a.clone(), (1, 2)),
        &Default::default(),
    )
    .and_then(|f| saved(f, &blocker));
    assert!(matches!(e, Err(eiann::Error::Io { .. })), "{e:?}");
    let _ = std::fs::remove_file(&blocker);
}

// ---------------------------------------------------------------------------------------------------
// The parity fixture (skipped when the shared folder is not present)

/// `fig3_seed66049.npz` from `$EIANN_SHARED_DIR/fixtures/parity`, the repo's sibling `shared/`, or /work/shared.
fn fixture() -> Option<PathBuf> {
    let rel = "fixtures/parity/fig3_seed66049.npz";
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Some(d) = std::env::var_os("EIANN_SHARED_DIR") {
        roots.push(PathBuf::from(d));
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    roots.push(manifest.join("../../shared"));
    roots.push(manifest.join("../../../shared"));
    roots.push(PathBuf::from("/work/shared"));
    roots.into_iter().map(|r| r.join(rel)).find(|p| p.exists())
}

/// Opens an npz; if some member is unsupported by this checkout's reader (e.g. Fortran-order weights),
/// keeps every member that parses — the panels only need the figure arrays.
fn open_lenient(path: &Path) -> eiann::npz::Npz {
    use std::io::Read;
    if let Ok(n) = eiann::npz::Npz::open(path) {
        return n;
    }
    let mut npz = eiann::npz::Npz::new(path.display().to_string());
    let f = std::fs::File::open(path).expect("open fixture");
    let mut zip = zip::ZipArchive::new(f).expect("zip");
    for i in 0..zip.len() {
        let mut m = zip.by_index(i).expect("member");
        let name = m.name().map(|n| n.to_string()).unwrap_or_default();
        let mut buf = Vec::new();
        m.read_to_end(&mut buf).expect("read member");
        if let Ok(a) = eiann::npz::parse_npy(&buf) {
            npz.insert(name.trim_end_matches(".npy"), a);
        }
    }
    npz
}

/// scipy.ndimage.zoom(x, 20, order=1) along one axis (spec §9.1).
fn zoom20(x: &[f32]) -> Vec<f32> {
    let n = x.len();
    let m = 20 * n;
    let step = (n as f64 - 1.0) / (m as f64 - 1.0);
    (0..m)
        .map(|o| {
            let c = o as f64 * step;
            let i = c.floor() as usize;
            let w0 = 1.0 - (c - i as f64);
            let w1 = 1.0 - w0;
            let next = if i + 1 < n { f64::from(x[i + 1]) } else { 0.0 };
            (f64::from(x[i]) * w0 + next * w1) as f32
        })
        .collect()
}

/// Eligibility trace of one spike train (spec §9.3): ET ← ET + (−ET + 2.3·s)/60, recorded every ms.
fn eligibility_trace(spikes: &[i64], t_len: usize) -> Vec<f32> {
    let mut s = vec![0.0f32; t_len];
    for &t in spikes {
        if let Some(v) = usize::try_from(t).ok().and_then(|t| s.get_mut(t)) {
            *v = 1.0;
        }
    }
    let mut et = 0.0f32;
    s.iter()
        .map(|&x| {
            et += (-et + x * 2.3) / 60.0;
            et
        })
        .collect()
}

#[test]
fn panels_from_parity_fixture() {
    let Some(path) = fixture() else {
        eprintln!("parity fixture not found; skipped");
        return;
    };
    let npz = open_lenient(&path);
    let f2 = |k: &str| {
        npz.f32(k)
            .expect(k)
            .into_dimensionality::<ndarray::Ix2>()
            .expect("2-D")
    };
    let f1 = |k: &str| npz.f32(k).expect(k).iter().copied().collect::<Vec<f32>>();
    let i1 = |k: &str| npz.i64(k).expect(k).iter().copied().collect::<Vec<i64>>();
    let out = std::env::var_os("EIANN_FIG_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| scratch("fixture"));

    let d = f2("dendritic_state_H2E_cropped");
    let a = f2("activity_dynamics_cropped/H2E");
    let (up, un) = (88usize, 51usize);
    let fig = rate_dynamics_example(
        &RateDynamicsPanel::new(d.clone(), a.clone(), (up, un)),
        &Default::default(),
    )
    .and_then(|f| saved(f, &out))
    .expect("panel 1");
    check_saved(&fig, &out, (705, 600), &["Dendritic state", "Activity"]);

    let trains = |pre: &str| {
        split_spike_trains(
            &i1(&format!("spike/pre_spike_times_flat/{pre}")),
            &i1(&format!("spike/pre_spike_counts/{pre}")),
        )
        .expect("split")
    };
    let (h1e, somai, dendi, oute) = (
        trains("H1E"),
        trains("H2SomaI"),
        trains("H2DendI"),
        trains("OutputE"),
    );
    let rows = first_active_rows_reversed(&h1e, 10);
    let soma_v = f2("spike/soma_v");
    let dend_v = f2("spike/dend_v");
    let t_len = soma_v.ncols();
    let row = |m: &Array2<f32>, i: usize| m.row(i).to_vec();
    let mut p = SpikingPanel::new();
    p.dend_exc_spikes = oute[..10].to_vec();
    p.dend_inh_spikes = dendi[..10].to_vec();
    p.soma_exc_spikes = rows.iter().map(|&r| h1e[r].clone()).collect();
    p.soma_inh_spikes = somai[..10].to_vec();
    p.eligibility_traces = rows
        .iter()
        .map(|&r| eligibility_trace(&h1e[r], t_len))
        .collect();
    p.dend_v = [row(&dend_v, 0), row(&dend_v, 1)];
    p.soma_v = [row(&soma_v, 0), row(&soma_v, 1)];
    p.soma_spikes = [
        i1("spike/soma_spikes_positive"),
        i1("spike/soma_spikes_negative"),
    ];
    p.rate_dw = [f1("rate_dW/positive_unit"), f1("rate_dW/negative_unit")];
    p.spiking_dw = [
        f1("spiking_dW/positive_unit"),
        f1("spiking_dW/negative_unit"),
    ];
    let fig = spiking_dynamics(&p, &Default::default())
        .and_then(|f| saved(f, &out))
        .expect("panel 2");
    check_saved(&fig, &out, (1950, 900), &["Soma Vm", "ΔW (spiking)"]);

    let col = |m: &Array2<f32>, u: usize| m.column(u).to_vec();
    let p3 = DendriticComparisonPanel {
        rate: [zoom20(&col(&d, up)), zoom20(&col(&d, un))],
        spiking: [row(&dend_v, 0), row(&dend_v, 1)],
        population: "H2E".into(),
    };
    dendritic_state_rate_vs_spiking(&p3, &Default::default())
        .and_then(|f| saved(f, &out))
        .expect("panel 3");
    let a1 = f2("activity_dynamics_cropped/H1E");
    for unit in [129usize, 13] {
        let p = EligibilityTracePanel {
            unit,
            pre_rate: zoom20(&col(&a1, unit)),
            trace: eligibility_trace(&h1e[unit], t_len),
            population: "H1E".into(),
        };
        eligibility_trace_example(&p, &Default::default())
            .and_then(|f| saved(f, &out))
            .expect("panel 4/5");
    }
    // Pooled agreement of the two example units (the population notebook pools many more).
    let rate: Vec<f32> = p.rate_dw.concat();
    let spk: Vec<f32> = p.spiking_dw.concat();
    dw_agreement_scatter(
        &DwAgreementPanel {
            rate_dw: rate,
            spiking_dw: spk,
            title: None,
        },
        &Default::default(),
    )
    .and_then(|f| saved(f, &out))
    .expect("pooled");
    cleanup(&out);
}
