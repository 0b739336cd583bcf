//! The Figure 3 panels of the reference notebook (spec §10): rate dynamics, the six-axes spiking figure,
//! dendritic state rate vs spiking, and the eligibility-trace examples. Each takes its data
//! (`eiann::panels`) and a style value whose `Default` is the paper's look, and returns a [`Figure`].

use crate::axes::{Axes, Coord, Fill, Legend, Line, Marker, Text, TextBox, Ticks, VAlign};
use crate::canvas::HAlign;
use crate::color::*;
use crate::figure::Figure;
use crate::style::*;
pub use eiann::panels::{
    first_active_rows_reversed, split_spike_trains, DendriticComparisonPanel,
    EligibilityTracePanel, RateDynamicsPanel, SpikingPanel,
};
use eiann::{Error, Result};
use ndarray::ArrayView2;

// ---------------------------------------------------------------------------------------------------
// Shared helpers

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

/// Text in axes fractions with matplotlib's `bbox=dict(facecolor=c, boxstyle='round,pad=0.3', linewidth=0)`.
fn phase_text(size: f64, ha: HAlign, paint: Color) -> Text {
    Text {
        size,
        ha,
        va: VAlign::Baseline,
        coord: Coord::Axes,
        bbox: Some(TextBox { paint, pad: 0.3 }),
        ..Text::default()
    }
}

// ---------------------------------------------------------------------------------------------------
// Panel 1

/// Colours, labels and size of [`rate_dynamics_example`]; `Default` is the paper's.
#[derive(Debug, Clone, PartialEq)]
pub struct RateDynamicsStyle {
    /// Line of the positive unit (red, 1 pt).
    pub positive: Line,
    /// Line of the negative unit (steelblue, 1 pt).
    pub negative: Line,
    /// The nudge marker at x = 0 (red, 0.8 opacity, dashed, 1 pt).
    pub nudge: Line,
    /// The zero line of the dendritic state (gray, 0.7 opacity, dashed, 1 pt).
    pub zero: Line,
    /// y label of the top axes.
    pub dendrite_label: String,
    /// y label of the bottom axes.
    pub activity_label: String,
    /// x label.
    pub xlabel: String,
    /// The two phase names above the top axes.
    pub phases: (String, String),
    /// Box behind the phase names (gray, 0.2 opacity).
    pub phase_box: Color,
    /// Figure size in inches (2.35 × 2).
    pub size_in: (f64, f64),
}

impl Default for RateDynamicsStyle {
    fn default() -> Self {
        RateDynamicsStyle {
            positive: Line::solid(RED, 1.0),
            negative: Line::solid(STEELBLUE, 1.0),
            nudge: Line::dashed_line(RED.alpha(0.8), 1.0),
            zero: Line::dashed_line(GRAY.alpha(0.7), 1.0),
            dendrite_label: "Dendritic state".into(),
            activity_label: "Activity".into(),
            xlabel: "Timestep from nudge".into(),
            phases: ("sensory phase".into(), "supervised phase".into()),
            phase_box: GRAY.alpha(0.2),
            size_in: (2.35, 2.0),
        }
    }
}

/// Panel 1 (notebook cell 7, `rate_dynamics_example_<population>`): dendritic state (top) and somatic
/// activity (bottom) of two units against the time step from the nudge.
pub fn rate_dynamics_example(
    panel: &RateDynamicsPanel,
    style: &RateDynamicsStyle,
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

    let mut top = Axes::new();
    top.axhline(0.0, style.zero.clone())
        .line(x.clone(), col(d, up), style.positive.clone())
        .line(x.clone(), col(d, un), style.negative.clone())
        .axvline(0.0, style.nudge.clone())
        .set_ylabel(&style.dendrite_label)
        .show_xticklabels(false)
        .set_yticks(Ticks::Fixed(vec![0.0]))
        .set_xlim(xlim.0, xlim.1)
        .text(
            (0.42, 1.1),
            &style.phases.0,
            phase_text(FONT_SIZE, HAlign::Right, style.phase_box),
        )
        .text(
            (0.58, 1.1),
            &style.phases.1,
            phase_text(FONT_SIZE, HAlign::Left, style.phase_box),
        );

    let mut bottom = Axes::new();
    bottom
        .line(x.clone(), col(s, up), style.positive.clone())
        .line(x, col(s, un), style.negative.clone())
        .axvline(0.0, style.nudge.clone())
        .set_ylabel(&style.activity_label)
        .set_yticks(Ticks::Fixed(vec![0.0]))
        .set_xlim(xlim.0, xlim.1)
        .set_xlabel(&style.xlabel);

    Ok(Figure::new(style.size_in.0, style.size_in.1)
        .with_name(&format!("rate_dynamics_example_{}", panel.population))
        .with(top)
        .with(bottom))
}

// ---------------------------------------------------------------------------------------------------
// Panel 2

/// Colours, labels and size of [`spiking_dynamics`]; `Default` is the paper's.
#[derive(Debug, Clone, PartialEq)]
pub struct SpikingStyle {
    /// Colour of the positive unit's traces and spikes (red).
    pub positive: Color,
    /// Colour of the negative unit's traces and spikes (blue).
    pub negative: Color,
    /// Raster ticks of excitatory inputs (red).
    pub excitatory: Color,
    /// Raster ticks of inhibitory inputs (blue).
    pub inhibitory: Color,
    /// Eligibility traces (red; lines at 0.7, fills at 0.1 opacity).
    pub eligibility: Color,
    /// ΔW markers of the positive / negative unit (darkred / darkblue at 0.3 opacity).
    pub dw: (Color, Color),
    /// Names of the raster groups (dendrite E, dendrite I, soma E, soma I).
    pub raster_names: [String; 4],
    /// Titles of the two raster axes.
    pub raster_titles: (String, String),
    /// x label of the time axes.
    pub xlabel: String,
    /// y labels of the eligibility, dendrite and soma axes.
    pub trace_labels: [String; 3],
    /// Axis labels of the ΔW scatter (x, y).
    pub dw_labels: (String, String),
    /// The phase names above the dendrite axes, and their box colour.
    pub phases: (String, String),
    /// Box behind the phase names (lightgray, 0.5 opacity).
    pub phase_box: Color,
    /// Figure size in inches (6.5 × 3).
    pub size_in: (f64, f64),
}

impl Default for SpikingStyle {
    fn default() -> Self {
        SpikingStyle {
            positive: RED,
            negative: BLUE,
            excitatory: RED,
            inhibitory: BLUE,
            eligibility: RED,
            dw: (DARKRED.alpha(0.3), DARKBLUE.alpha(0.3)),
            raster_names: [
                "OutputE".into(),
                "H2DendI".into(),
                "H1E".into(),
                "H2SomaI".into(),
            ],
            raster_titles: ("Inputs to dendrite".into(), "Inputs to soma".into()),
            xlabel: "Time from nudge (ms)".into(),
            trace_labels: [
                "Eligibility traces \n(H1E units)".into(),
                "Dendrite Vm".into(),
                "Soma Vm".into(),
            ],
            dw_labels: ("ΔW (rate model)".into(), "ΔW (spiking)".into()),
            phases: ("sensory phase".into(), "supervised phase".into()),
            phase_box: LIGHTGRAY.alpha(0.5),
            size_in: (6.5, 3.0),
        }
    }
}

/// Raster axes of two groups of rows: E rows at 0..nE, I rows at nE+0.5…, a dashed separator and the
/// two group names.
#[allow(clippy::too_many_arguments)]
fn raster_axes(
    exc: &[Vec<i64>],
    inh: &[Vec<i64>],
    nudge: f64,
    xlim: (f64, f64),
    names: (&str, &str),
    inh_label_dy: f64,
    title: &str,
    style: &SpikingStyle,
) -> Axes {
    let mut ax = Axes::new();
    let ne = exc.len() as f64;
    let shift = |s: &Vec<i64>| s.iter().map(|&t| t as f64 - nudge).collect::<Vec<f64>>();
    ax.raster(
        exc.iter().map(shift),
        0.0,
        Line::solid(style.excitatory, LINEWIDTH),
    )
    .raster(
        inh.iter().map(shift),
        ne + 0.5,
        Line::solid(style.inhibitory, LINEWIDTH),
    )
    .axhline(ne, Line::dashed_line(BLACK.alpha(0.5), 0.3));
    let x_text = xlim.0 + 10.0;
    let label = Text {
        size: 6.0,
        va: VAlign::Center,
        ..Text::default()
    };
    ax.text((x_text, ne + inh_label_dy), names.1, label)
        .text((x_text, ne - 9.0), names.0, label)
        .set_xlim(xlim.0, xlim.1)
        .set_ylim(-1.0, ne + inh.len() as f64)
        .set_ylabel_pad("Neuron", -0.5)
        .set_title_at(title, 7.0, 0.9);
    ax
}

/// Panel 2 (notebook cell 12, `spiking_dynamics_<population>`): input rasters to dendrite and soma,
/// eligibility traces, dendrite and soma Vm with output spikes, and the ΔW rate-vs-spiking scatter with
/// an identity line; two columns of three axes at the notebook's GridSpec rectangles.
pub fn spiking_dynamics(panel: &SpikingPanel, style: &SpikingStyle) -> Result<Figure> {
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
    let n = &style.raster_names;

    let dend = raster_axes(
        &panel.dend_exc_spikes,
        &panel.dend_inh_spikes,
        nudge,
        xlim,
        (&n[0], &n[1]),
        5.0,
        &style.raster_titles.0,
        style,
    );
    let mut soma = raster_axes(
        &panel.soma_exc_spikes,
        &panel.soma_inh_spikes,
        nudge,
        xlim,
        (&n[2], &n[3]),
        7.0,
        &style.raster_titles.1,
        style,
    );
    soma.set_xlabel_pad(&style.xlabel, -0.3);

    let mut et = Axes::new();
    for (i, tr) in panel.eligibility_traces.iter().enumerate() {
        let off = 0.15 * i as f64;
        let y: Vec<f64> = tr.iter().map(|&v| f64::from(v) + off).collect();
        et.line(
            time.clone(),
            y.clone(),
            Line::solid(style.eligibility.alpha(0.7), 0.5),
        );
        et.fill_between_z(
            time.clone(),
            vec![off; t_len],
            y,
            Fill::new(style.eligibility.alpha(0.1)),
            -(i as f64),
        );
    }
    et.set_ylabel(&style.trace_labels[0])
        .set_xlabel_pad(&style.xlabel, -0.3)
        .set_yticks(Ticks::None)
        .set_xlim(xlim.0, xlim.1);

    let vm_axes = |v: &[Vec<f32>; 2], ylabel: &str, pad: f64| {
        let mut ax = Axes::new();
        ax.axhline(0.0, Line::dashed_line(GRAY, 0.5))
            .axvline(0.0, Line::dashed_line(style.positive, 1.0))
            .line(
                time.clone(),
                to_f64(&v[0]),
                Line::solid(style.positive.alpha(0.7), 0.5),
            )
            .line(
                time.clone(),
                to_f64(&v[1]),
                Line::solid(style.negative.alpha(0.6), 0.5),
            )
            .set_ylabel_pad(ylabel, pad)
            .set_xlim(xlim.0, xlim.1);
        ax
    };
    let mut dv = vm_axes(&panel.dend_v, &style.trace_labels[1], -0.5);
    dv.text(
        (0.3, 1.0),
        &style.phases.0,
        phase_text(6.0, HAlign::Center, style.phase_box),
    )
    .text(
        (0.7, 1.0),
        &style.phases.1,
        phase_text(6.0, HAlign::Center, style.phase_box),
    );
    let mut sv = vm_axes(&panel.soma_v, &style.trace_labels[2], -1.0);
    for (spikes, paint, off) in [
        (&panel.soma_spikes[0], style.positive, 0.23),
        (&panel.soma_spikes[1], style.negative, 0.20),
    ] {
        let t: Vec<f64> = spikes.iter().map(|&s| s as f64 - nudge).collect();
        sv.events(t, off, 0.02, Line::solid(paint.alpha(0.6), 0.5));
    }
    sv.set_xlabel_pad(&style.xlabel, -0.3);

    let mut dw = Axes::new();
    let marker = 3f64.sqrt() + 0.2;
    dw.scatter_z(
        to_f64(&panel.rate_dw[0]),
        to_f64(&panel.spiking_dw[0]),
        Marker::new(style.dw.0).size(marker),
        10.0,
    );
    dw.scatter_z(
        to_f64(&panel.rate_dw[1]),
        to_f64(&panel.spiking_dw[1]),
        Marker::new(style.dw.1).size(marker),
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
            Line::dashed_line(GRAY, 0.5),
        );
    }
    dw.axvline(0.0, Line::solid(GRAY.alpha(0.5), 0.5))
        .axhline(0.0, Line::solid(GRAY.alpha(0.5), 0.5))
        .set_xlabel(&style.dw_labels.0)
        .set_ylabel(&style.dw_labels.1)
        .set_xsci((0, 0))
        .set_ysci((0, 0));

    // Two GridSpecs 3×1: left 0.07–0.45, right 0.56–0.99, top 0.95, bottom 0.13, hspace 0.6.
    let cell_h = (0.95 - 0.13) / (3.0 + 2.0 * 0.6);
    let cell = |l: f64, r: f64, row: usize| {
        let top = 0.95 - row as f64 * cell_h * 1.6;
        [l, top - cell_h, r - l, cell_h]
    };
    let mut fig = Figure::new(style.size_in.0, style.size_in.1)
        .with_name(&format!("spiking_dynamics_{}", panel.population));
    fig.push_at(dend, cell(0.07, 0.45, 0));
    fig.push_at(soma, cell(0.07, 0.45, 1));
    fig.push_at(et, cell(0.07, 0.45, 2));
    fig.push_at(dv, cell(0.56, 0.99, 0));
    fig.push_at(sv, cell(0.56, 0.99, 1));
    fig.push_at(dw, cell(0.56, 0.99, 2));
    Ok(fig)
}

// ---------------------------------------------------------------------------------------------------
// Panel 3

/// Colours, labels and size of [`dendritic_state_rate_vs_spiking`]; `Default` is the paper's.
#[derive(Debug, Clone, PartialEq)]
pub struct DendriticComparisonStyle {
    /// Rate-model lines of the positive / negative unit (orange / navy, solid, labelled "Rate model").
    pub rate: (Line, Line),
    /// Spiking-model lines (red / blue at 0.7, dashed, labelled "Spiking model").
    pub spiking: (Line, Line),
    /// Title.
    pub title: String,
    /// Axis labels (x, y).
    pub labels: (String, String),
    /// The phase names above the axes.
    pub phases: (String, String),
    /// Figure size in inches (6 × 2).
    pub size_in: (f64, f64),
}

impl Default for DendriticComparisonStyle {
    fn default() -> Self {
        let rate = |c| Line::solid(c, LINEWIDTH).label("Rate model");
        let spk = |c: Color| Line::dashed_line(c.alpha(0.7), LINEWIDTH).label("Spiking model");
        DendriticComparisonStyle {
            rate: (rate(ORANGE), rate(NAVY)),
            spiking: (spk(RED), spk(BLUE)),
            title: "Dendritic state: rate vs spiking models".into(),
            labels: ("Time steps".into(), "Dendritic state".into()),
            phases: ("sensory phase".into(), "supervised phase".into()),
            size_in: (6.0, 2.0),
        }
    }
}

/// Panel 3 (notebook cell 13, `dendritic_state_rate_vs_spiking_<population>`): rate-model dendritic
/// state vs spiking dendrite Vm of both units over time, with a legend.
pub fn dendritic_state_rate_vs_spiking(
    panel: &DendriticComparisonPanel,
    style: &DendriticComparisonStyle,
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
    ax.axhline(0.0, Line::dashed_line(BLACK.alpha(0.5), 0.5));
    let styles = [
        (&style.rate.0, &style.spiking.0),
        (&style.rate.1, &style.spiking.1),
    ];
    for (i, (rate_style, spike_style)) in styles.into_iter().enumerate() {
        ax.line(x.clone(), to_f64(&panel.rate[i]), rate_style.clone());
        ax.line(x.clone(), to_f64(&panel.spiking[i]), spike_style.clone());
    }
    let bx = GRAY.alpha(0.2);
    ax.text(
        (0.4, 1.0),
        &style.phases.0,
        phase_text(8.0, HAlign::Right, bx),
    )
    .text(
        (0.6, 1.0),
        &style.phases.1,
        phase_text(8.0, HAlign::Left, bx),
    )
    .set_title_at(&style.title, 1.2 * FONT_SIZE, 1.1)
    .set_xlabel(&style.labels.0)
    .set_ylabel(&style.labels.1)
    .legend(Legend::Best);
    let pop = if panel.population.is_empty() {
        "H2E"
    } else {
        &panel.population
    };
    Ok(Figure::new(style.size_in.0, style.size_in.1)
        .with_name(&format!("dendritic_state_rate_vs_spiking_{pop}"))
        .with(ax))
}

// ---------------------------------------------------------------------------------------------------
// Panels 4 and 5

/// Colours, labels and size of [`eligibility_trace_example`]; `Default` is the paper's.
#[derive(Debug, Clone, PartialEq)]
pub struct EligibilityTraceStyle {
    /// The upsampled presynaptic rate (steelblue, labelled "Pre-rate dynamics").
    pub rate: Line,
    /// The eligibility trace (green, dashed, labelled "Eligibility trace").
    pub trace: Line,
    /// Axis labels (x, y).
    pub labels: (String, String),
    /// Figure size in inches (4 × 1.5).
    pub size_in: (f64, f64),
}

impl Default for EligibilityTraceStyle {
    fn default() -> Self {
        EligibilityTraceStyle {
            rate: Line::solid(STEELBLUE, LINEWIDTH).label("Pre-rate dynamics"),
            trace: Line::dashed_line(GREEN, LINEWIDTH).label("Eligibility trace"),
            labels: ("Time steps".into(), "Activity / Eligibility".into()),
            size_in: (4.0, 1.5),
        }
    }
}

/// Panels 4/5 (notebook cells 14–15, `eligibility_trace_<pop>_<unit>`): upsampled presynaptic rate vs
/// eligibility trace of one unit.
pub fn eligibility_trace_example(
    panel: &EligibilityTracePanel,
    style: &EligibilityTraceStyle,
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
    ax.line(x.clone(), to_f64(&panel.pre_rate), style.rate.clone())
        .line(x, to_f64(&panel.trace), style.trace.clone())
        .legend(Legend::Best)
        .set_title_at(
            &format!("Eligibility trace for {pop}, example unit: {}", panel.unit),
            1.2 * FONT_SIZE,
            1.0,
        )
        .set_xlabel(&style.labels.0)
        .set_ylabel(&style.labels.1);
    Ok(Figure::new(style.size_in.0, style.size_in.1)
        .with_name(&format!("eligibility_trace_{pop}_{}", panel.unit))
        .with(ax))
}
