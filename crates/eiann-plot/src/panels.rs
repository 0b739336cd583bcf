//! The Figure 3 panels of the reference notebook (spec §10): rate dynamics, the six-axes spiking figure,
//! dendritic state rate vs spiking, and the eligibility-trace examples.

use super::axes::{tight_grid, Axes, Coord, LegendKey, LineStyle, TextBox, Ticks, VAlign};
use super::canvas::{HAlign, Rect, Scene};
use super::figure::Figure;
use super::style::*;
use eiann::{Error, Result};
use ndarray::ArrayView2;
pub use eiann::panels::{
    first_active_rows_reversed, split_spike_trains, DendriticComparisonPanel, EligibilityTracePanel,
    RateDynamicsPanel, SpikingPanel,
};
use std::path::Path;

// ---------------------------------------------------------------------------------------------------
// Shared helpers

/// Builds the figure from axes placed at rects, renders it and saves it when `out_dir` is given.
pub(crate) fn finish(
    name: &str,
    size_in: (f64, f64),
    axes: &[(&Axes, Rect)],
    out_dir: Option<&Path>,
) -> Result<Figure> {
    let mut scene = Scene::new(size_in.0, size_in.1);
    for (ax, rect) in axes {
        let mut items = Vec::new();
        ax.render(*rect, &mut items);
        for (z, it) in items {
            scene.push(z, it);
        }
    }
    let fig = Figure::from_scene(name, &scene)?;
    if let Some(dir) = out_dir {
        fig.save(dir)?;
    }
    Ok(fig)
}

/// Lays out `axes` as a tight `rows × 1` stack (plt.subplots + tight_layout) and finishes the figure.
pub(crate) fn finish_tight(
    name: &str,
    size_in: (f64, f64),
    axes: &[&Axes],
    height_ratios: &[f64],
    out_dir: Option<&Path>,
) -> Result<Figure> {
    let rects = tight_grid(
        axes,
        axes.len(),
        1,
        height_ratios,
        (size_in.0 * 72.0, size_in.1 * 72.0),
    );
    let placed: Vec<(&Axes, Rect)> = axes.iter().copied().zip(rects).collect();
    finish(name, size_in, &placed, out_dir)
}

pub(crate) fn to_f64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}

pub(crate) fn require_len(what: &str, expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::shape(what, expected, got))
    }
}

pub(crate) fn require_nonempty(what: &str, len: usize) -> Result<()> {
    if len == 0 {
        Err(Error::invalid(what, "empty series: nothing to plot"))
    } else {
        Ok(())
    }
}

/// Rejects series without a single finite value (they cannot be scaled onto an axis).
pub(crate) fn require_finite(what: &str, v: &[f32]) -> Result<()> {
    if v.iter().any(|x| x.is_finite()) {
        Ok(())
    } else {
        Err(Error::invalid(what, "no finite value to plot"))
    }
}

/// matplotlib's `bbox=dict(facecolor=c, alpha=a, boxstyle='round,pad=0.3', linewidth=0)`.
fn phase_box(paint: super::canvas::Paint, alpha: f64) -> Option<TextBox> {
    Some(TextBox {
        paint: paint.alpha(alpha),
        pad: 0.3,
    })
}

// ---------------------------------------------------------------------------------------------------
// Panel 1



/// Panel 1 (notebook cell 7, `rate_dynamics_example_H2E.png/.svg`): dendritic state (top) and somatic
/// activity (bottom) of two units against the time step from the nudge, 2.35 × 2 in. Saved into `out_dir`
/// when given.
pub fn rate_dynamics_example(
    panel: &RateDynamicsPanel,
    out_dir: Option<&Path>,
) -> Result<Figure> {
    let d = &panel.dendritic_state.view();
    let s = &panel.soma_activity.view();
    if d.dim() != s.dim() {
        return Err(Error::shape(
            "rate panel: soma_activity vs dendritic_state",
            format!("{:?}", d.dim()),
            format!("{:?}", s.dim()),
        ));
    }
    let (rows, n) = d.dim();
    if rows < 2 || n == 0 {
        return Err(Error::invalid(
            "rate panel",
            format!("need at least 2 time steps and 1 unit, got shape ({rows}, {n})"),
        ));
    }
    for u in [panel.units.0, panel.units.1] {
        if u >= n {
            return Err(Error::invalid(
                "rate panel unit",
                format!("unit {u} out of range 0..{n}"),
            ));
        }
    }
    if panel.before_nudge_row >= rows {
        return Err(Error::invalid(
            "rate panel before_nudge_row",
            format!(
                "{} is not a row of the {rows}-step series",
                panel.before_nudge_row
            ),
        ));
    }
    let x: Vec<f64> = (0..rows)
        .map(|r| r as f64 - panel.before_nudge_row as f64)
        .collect();
    let xlim = (x[0], x[rows - 1]);
    let col = |a: &ArrayView2<'_, f32>, u: usize| -> Vec<f64> {
        a.column(u).iter().map(|&v| f64::from(v)).collect()
    };
    let (up, un) = panel.units;
    let nudge = LineStyle::dashed(RED.alpha(0.8), 1.0);

    let mut top = Axes::new();
    top.axhline(0.0, LineStyle::dashed(GRAY.alpha(0.7), 1.0));
    top.plot(x.clone(), col(d, up), LineStyle::solid(RED, 1.0));
    top.plot(x.clone(), col(d, un), LineStyle::solid(STEELBLUE, 1.0));
    top.axvline(0.0, nudge);
    top.set_ylabel("Dendritic state");
    top.xticklabels = false;
    top.yticks = Ticks::Fixed(vec![0.0]);
    top.xlim = Some(xlim);
    let bx = phase_box(GRAY, 0.2);
    top.text(
        (0.42, 1.1),
        Coord::Axes,
        "sensory phase",
        FONT_SIZE,
        HAlign::Right,
        VAlign::Baseline,
        bx,
    );
    top.text(
        (0.58, 1.1),
        Coord::Axes,
        "supervised phase",
        FONT_SIZE,
        HAlign::Left,
        VAlign::Baseline,
        bx,
    );

    let mut bottom = Axes::new();
    bottom.plot(x.clone(), col(s, up), LineStyle::solid(RED, 1.0));
    bottom.plot(x, col(s, un), LineStyle::solid(STEELBLUE, 1.0));
    bottom.axvline(0.0, nudge);
    bottom.set_ylabel("Activity");
    bottom.yticks = Ticks::Fixed(vec![0.0]);
    bottom.xlim = Some(xlim);
    bottom.set_xlabel("Timestep from nudge");

    finish_tight(
        &format!("rate_dynamics_example_{}", panel.population),
        (2.35, 2.0),
        &[&top, &bottom],
        &[1.0, 1.0],
        out_dir,
    )
}

// ---------------------------------------------------------------------------------------------------
// Panel 2





/// Raster axes of two groups of rows: E rows red at 0..nE, I rows blue at nE+0.5…, a dashed separator
/// and the two group names.
fn raster_axes(
    exc: &[Vec<i64>],
    inh: &[Vec<i64>],
    nudge: f64,
    xlim: (f64, f64),
    names: (&str, &str),
    inh_label_dy: f64,
    title: &str,
) -> Axes {
    let mut ax = Axes::new();
    let ne = exc.len() as f64;
    let shift = |s: &Vec<i64>| s.iter().map(|&t| t as f64 - nudge).collect::<Vec<f64>>();
    for (i, s) in exc.iter().enumerate() {
        ax.events(shift(s), i as f64, 0.8, LineStyle::solid(RED, LINEWIDTH));
    }
    for (k, s) in inh.iter().enumerate() {
        ax.events(
            shift(s),
            ne + 0.5 + k as f64,
            0.8,
            LineStyle::solid(BLUE, LINEWIDTH),
        );
    }
    ax.axhline(ne, LineStyle::dashed(BLACK.alpha(0.5), 0.3));
    let x_text = xlim.0 + 10.0;
    ax.text(
        (x_text, ne + inh_label_dy),
        Coord::Data,
        names.1,
        6.0,
        HAlign::Left,
        VAlign::Center,
        None,
    );
    ax.text(
        (x_text, ne - 9.0),
        Coord::Data,
        names.0,
        6.0,
        HAlign::Left,
        VAlign::Center,
        None,
    );
    ax.xlim = Some(xlim);
    ax.ylim = Some((-1.0, ne + inh.len() as f64));
    ax.ylabel = Some(("Neuron".to_string(), -0.5));
    ax.title = Some((title.to_string(), 7.0, 0.9));
    ax
}

/// Panel 2 (notebook cell 12, `spiking_dynamics_H2E.png/.svg`): input rasters to dendrite and soma,
/// eligibility traces, dendrite and soma Vm with output spikes, and the ΔW rate-vs-spiking scatter with
/// an identity line; 6.5 × 3 in. Saved into `out_dir` when given.
pub fn spiking_dynamics(panel: &SpikingPanel, out_dir: Option<&Path>) -> Result<Figure> {
    let t_len = panel.dend_v[0].len();
    require_nonempty("spiking panel dend_v", t_len)?;
    for (what, v) in [
        ("spiking panel dend_v[1]", &panel.dend_v[1]),
        ("spiking panel soma_v[0]", &panel.soma_v[0]),
        ("spiking panel soma_v[1]", &panel.soma_v[1]),
    ] {
        require_len(what, t_len, v.len())?;
    }
    for v in panel.dend_v.iter().chain(&panel.soma_v) {
        require_finite("spiking panel voltage trace", v)?;
    }
    require_len(
        "spiking panel eligibility_traces (one per soma_exc_spikes row)",
        panel.soma_exc_spikes.len(),
        panel.eligibility_traces.len(),
    )?;
    for tr in &panel.eligibility_traces {
        require_len("spiking panel eligibility trace", t_len, tr.len())?;
    }
    for i in 0..2 {
        require_nonempty("spiking panel rate_dw", panel.rate_dw[i].len())?;
        require_len(
            "spiking panel spiking_dw vs rate_dw",
            panel.rate_dw[i].len(),
            panel.spiking_dw[i].len(),
        )?;
    }
    let (xl0, xl1) = panel.xlim_ms;
    if !(xl0.is_finite() && xl1.is_finite() && xl0 < xl1) {
        return Err(Error::invalid(
            "spiking panel xlim_ms",
            format!("{:?} is not an interval", panel.xlim_ms),
        ));
    }
    let nudge = panel.nudge_time_ms as f64;
    let time: Vec<f64> = (0..t_len).map(|t| t as f64 - nudge).collect();
    let xlim = panel.xlim_ms;
    let xlabel = ("Time from nudge (ms)".to_string(), -0.3);

    let dend = raster_axes(
        &panel.dend_exc_spikes,
        &panel.dend_inh_spikes,
        nudge,
        xlim,
        ("OutputE", "H2DendI"),
        5.0,
        "Inputs to dendrite",
    );
    let mut soma = raster_axes(
        &panel.soma_exc_spikes,
        &panel.soma_inh_spikes,
        nudge,
        xlim,
        ("H1E", "H2SomaI"),
        7.0,
        "Inputs to soma",
    );
    soma.xlabel = Some(xlabel.clone());

    let mut et = Axes::new();
    for (i, tr) in panel.eligibility_traces.iter().enumerate() {
        let off = 0.15 * i as f64;
        let y: Vec<f64> = tr.iter().map(|&v| f64::from(v) + off).collect();
        et.plot(
            time.clone(),
            y.clone(),
            LineStyle::solid(RED.alpha(0.7), 0.5),
        );
        et.fill_between(
            time.clone(),
            vec![off; t_len],
            y,
            RED.alpha(0.1),
            -(i as f64),
        );
    }
    et.ylabel = Some(("Eligibility traces \n(H1E units)".to_string(), LABEL_PAD));
    et.xlabel = Some(xlabel.clone());
    et.yticks = Ticks::None;
    et.xlim = Some(xlim);

    let vm_axes = |v: &[Vec<f32>; 2], ylabel: &str, pad: f64| {
        let mut ax = Axes::new();
        ax.axhline(0.0, LineStyle::dashed(GRAY, 0.5));
        ax.axvline(0.0, LineStyle::dashed(RED, 1.0));
        ax.plot(
            time.clone(),
            to_f64(&v[0]),
            LineStyle::solid(RED.alpha(0.7), 0.5),
        );
        ax.plot(
            time.clone(),
            to_f64(&v[1]),
            LineStyle::solid(BLUE.alpha(0.6), 0.5),
        );
        ax.ylabel = Some((ylabel.to_string(), pad));
        ax.xlim = Some(xlim);
        ax
    };
    let mut dv = vm_axes(&panel.dend_v, "Dendrite Vm", -0.5);
    let bx = phase_box(LIGHTGRAY, 0.5);
    dv.text(
        (0.3, 1.0),
        Coord::Axes,
        "sensory phase",
        6.0,
        HAlign::Center,
        VAlign::Baseline,
        bx,
    );
    dv.text(
        (0.7, 1.0),
        Coord::Axes,
        "supervised phase",
        6.0,
        HAlign::Center,
        VAlign::Baseline,
        bx,
    );
    let mut sv = vm_axes(&panel.soma_v, "Soma Vm", -1.0);
    for (spikes, paint, off) in [
        (&panel.soma_spikes[0], RED, 0.23),
        (&panel.soma_spikes[1], BLUE, 0.20),
    ] {
        let t: Vec<f64> = spikes.iter().map(|&s| s as f64 - nudge).collect();
        sv.events(t, off, 0.02, LineStyle::solid(paint.alpha(0.6), 0.5));
    }
    sv.xlabel = Some(xlabel);

    let mut dw = Axes::new();
    let marker = 3f64.sqrt() + 0.2;
    dw.scatter(
        to_f64(&panel.rate_dw[0]),
        to_f64(&panel.spiking_dw[0]),
        marker,
        DARKRED.alpha(0.3),
        10.0,
    );
    dw.scatter(
        to_f64(&panel.rate_dw[1]),
        to_f64(&panel.spiking_dw[1]),
        marker,
        DARKBLUE.alpha(0.3),
        10.0,
    );
    let fmax = |v: &[f32]| {
        v.iter()
            .copied()
            .filter(|x| x.is_finite())
            .fold(f32::NEG_INFINITY, f32::max)
    };
    let fmin = |v: &[f32]| {
        v.iter()
            .copied()
            .filter(|x| x.is_finite())
            .fold(f32::INFINITY, f32::min)
    };
    let max_val = f64::from(fmax(&panel.rate_dw[0]).max(fmax(&panel.spiking_dw[0])));
    let min_val = f64::from(fmin(&panel.rate_dw[1]).min(fmin(&panel.spiking_dw[1])));
    if max_val.is_finite() && min_val.is_finite() {
        dw.segment(
            (min_val, min_val),
            (max_val, max_val),
            LineStyle::dashed(GRAY, 0.5),
        );
    }
    dw.axvline(0.0, LineStyle::solid(GRAY.alpha(0.5), 0.5));
    dw.axhline(0.0, LineStyle::solid(GRAY.alpha(0.5), 0.5));
    dw.set_xlabel("ΔW (rate model)");
    dw.set_ylabel("ΔW (spiking)");
    dw.xsci = (0, 0);
    dw.ysci = (0, 0);

    // Two GridSpecs 3×1: left 0.07–0.45, right 0.56–0.99, top 0.95, bottom 0.13, hspace 0.6.
    let (w, h) = (6.5 * 72.0, 3.0 * 72.0);
    let cell_h = (0.95 - 0.13) * h / (3.0 + 2.0 * 0.6);
    let cell = |l: f64, r: f64, row: usize| {
        let y0 = (1.0 - 0.95) * h + row as f64 * cell_h * 1.6;
        Rect::new(l * w, y0, r * w, y0 + cell_h)
    };
    finish(
        &format!("spiking_dynamics_{}", panel.population),
        (6.5, 3.0),
        &[
            (&dend, cell(0.07, 0.45, 0)),
            (&soma, cell(0.07, 0.45, 1)),
            (&et, cell(0.07, 0.45, 2)),
            (&dv, cell(0.56, 0.99, 0)),
            (&sv, cell(0.56, 0.99, 1)),
            (&dw, cell(0.56, 0.99, 2)),
        ],
        out_dir,
    )
}

// ---------------------------------------------------------------------------------------------------
// Panel 3


/// Panel 3 (notebook cell 13, not saved by the notebook): rate-model dendritic state (orange / navy) vs
/// spiking dendrite Vm (red / blue dashed) of both units over time, 6 × 2 in. Saved into `out_dir` when given.
pub fn dendritic_state_rate_vs_spiking(
    panel: &DendriticComparisonPanel,
    out_dir: Option<&Path>,
) -> Result<Figure> {
    let n = panel.rate[0].len();
    require_nonempty("dendritic comparison rate[0]", n)?;
    require_len("dendritic comparison rate[1]", n, panel.rate[1].len())?;
    require_len("dendritic comparison spiking[0]", n, panel.spiking[0].len())?;
    require_len("dendritic comparison spiking[1]", n, panel.spiking[1].len())?;
    for v in panel.rate.iter().chain(&panel.spiking) {
        require_finite("dendritic comparison series", v)?;
    }
    let x: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let mut ax = Axes::new();
    ax.axhline(0.0, LineStyle::dashed(BLACK.alpha(0.5), 0.5));
    let styles = [
        (
            LineStyle::solid(ORANGE, LINEWIDTH),
            LineStyle::dashed(RED.alpha(0.7), LINEWIDTH),
        ),
        (
            LineStyle::solid(NAVY, LINEWIDTH),
            LineStyle::dashed(BLUE.alpha(0.7), LINEWIDTH),
        ),
    ];
    for (i, (rate_style, spike_style)) in styles.into_iter().enumerate() {
        ax.plot(x.clone(), to_f64(&panel.rate[i]), rate_style);
        ax.plot(x.clone(), to_f64(&panel.spiking[i]), spike_style);
        ax.legend_entry("Rate model", LegendKey::Line(rate_style));
        ax.legend_entry("Spiking model", LegendKey::Line(spike_style));
    }
    let bx = phase_box(GRAY, 0.2);
    ax.text(
        (0.4, 1.0),
        Coord::Axes,
        "sensory phase",
        8.0,
        HAlign::Right,
        VAlign::Baseline,
        bx,
    );
    ax.text(
        (0.6, 1.0),
        Coord::Axes,
        "supervised phase",
        8.0,
        HAlign::Left,
        VAlign::Baseline,
        bx,
    );
    ax.title = Some((
        "Dendritic state: rate vs spiking models".to_string(),
        1.2 * FONT_SIZE,
        1.1,
    ));
    ax.set_xlabel("Time steps");
    ax.set_ylabel("Dendritic state");
    let pop = if panel.population.is_empty() {
        "H2E"
    } else {
        &panel.population
    };
    finish_tight(
        &format!("dendritic_state_rate_vs_spiking_{pop}"),
        (6.0, 2.0),
        &[&ax],
        &[1.0],
        out_dir,
    )
}

// ---------------------------------------------------------------------------------------------------
// Panels 4 and 5


/// Panels 4/5 (notebook cells 14–15, not saved by the notebook): upsampled presynaptic rate (steelblue)
/// vs eligibility trace (green dashed) of one unit, 4 × 1.5 in. File `eligibility_trace_<pop>_<unit>`.
pub fn eligibility_trace_example(
    panel: &EligibilityTracePanel,
    out_dir: Option<&Path>,
) -> Result<Figure> {
    require_nonempty("eligibility panel pre_rate", panel.pre_rate.len())?;
    require_len(
        "eligibility panel trace vs pre_rate",
        panel.pre_rate.len(),
        panel.trace.len(),
    )?;
    require_finite("eligibility panel pre_rate", &panel.pre_rate)?;
    require_finite("eligibility panel trace", &panel.trace)?;
    let pop = if panel.population.is_empty() {
        "H1E"
    } else {
        &panel.population
    };
    let x: Vec<f64> = (0..panel.pre_rate.len()).map(|i| i as f64).collect();
    let mut ax = Axes::new();
    let rate_style = LineStyle::solid(STEELBLUE, LINEWIDTH);
    let trace_style = LineStyle::dashed(GREEN, LINEWIDTH);
    ax.plot(x.clone(), to_f64(&panel.pre_rate), rate_style);
    ax.plot(x, to_f64(&panel.trace), trace_style);
    ax.legend_entry("Pre-rate dynamics", LegendKey::Line(rate_style));
    ax.legend_entry("Eligibility trace", LegendKey::Line(trace_style));
    ax.title = Some((
        format!("Eligibility trace for {pop}, example unit: {}", panel.unit),
        1.2 * FONT_SIZE,
        1.0,
    ));
    ax.set_xlabel("Time steps");
    ax.set_ylabel("Activity / Eligibility");
    finish_tight(
        &format!("eligibility_trace_{pop}_{}", panel.unit),
        (4.0, 1.5),
        &[&ax],
        &[1.0],
        out_dir,
    )
}
