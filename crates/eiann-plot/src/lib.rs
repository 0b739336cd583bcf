//! # eiann-plot — figures for eiann, in the paper's style
//!
//! A small matplotlib-like plotting layer with no system dependencies (embedded Lato font, tiny-skia
//! rasterizer) and the Figure 3 panels of Galloni et al. 2025 drawn with it. Output is a 300 dpi PNG and
//! an SVG whose text stays text; in an evcxr (Jupyter) notebook a [`Figure`] ending a cell shows inline.
//!
//! ## The main types
//!
//! - [`Axes`]: one plot. Add artists — [`Axes::line`], [`Axes::scatter`], [`Axes::raster`] (spike
//!   rasters), [`Axes::fill_between`], [`Axes::band`] (mean ± sd), [`Axes::bars`], [`Axes::heatmap`],
//!   [`Axes::text`], [`Axes::axhline`] / [`Axes::axvline`] — each with a style value ([`Line`],
//!   [`Marker`], [`Fill`], [`Text`]); set labels, limits, [`Ticks`], [`Axes::grid`] and a [`Legend`] of
//!   the labelled artists. Series are anything iterable over numbers ([`Value`]): `Vec<f32>`, slices,
//!   `array.column(u)`, `0..21`.
//! - [`Figure`]: a page of a given size in inches holding axes, either in a tight grid
//!   ([`Figure::push`], [`Figure::grid`], [`Figure::height_ratios`]) or at rectangles in figure
//!   fractions ([`Figure::push_at`], e.g. a colour bar from [`Axes::colorbar`] beside a heat map).
//!   [`Figure::render`] gives a [`Rendered`] PNG + SVG, [`Figure::save`] writes both atomically,
//!   [`Figure::evcxr_display`] shows it inline.
//! - [`Color`] and the named colours of [`color`] (matplotlib's `'r'`, `'steelblue'`, `C0`, …),
//!   [`Colormap`] for heat maps.
//! - The Figure 3 panels: one function per panel taking the panel's data (`eiann::panels`, filled by
//!   `eiann::figure3::Figure3`) and a style value whose `Default` is the paper's look:
//!
//! | function | style | notebook cell (reference `Figure_3.ipynb`) | file name |
//! |---|---|---|---|
//! | [`rate_dynamics_example`] | [`RateDynamicsStyle`] | 7 (panel 1) | `rate_dynamics_example_H2E` |
//! | [`spiking_dynamics`] | [`SpikingStyle`] | 12 (panel 2) | `spiking_dynamics_H2E` |
//! | [`dendritic_state_rate_vs_spiking`] | [`DendriticComparisonStyle`] | 13 (panel 3) | `dendritic_state_rate_vs_spiking_H2E` |
//! | [`eligibility_trace_example`] | [`EligibilityTraceStyle`] | 14, 15 (panels 4, 5) | `eligibility_trace_H1E_<unit>` |
//! | [`dw_agreement_scatter`] | [`DwAgreementStyle`] | population notebook | `dw_agreement_pooled` |
//! | [`pearson_r_histogram`] | [`PearsonHistogramStyle`] | population notebook | `dw_pearson_r_histogram` |
//! | [`agreement_vs_max_rate`] | [`AgreementVsRateStyle`] | population notebook | `agreement_vs_max_rate` |
//!
//! Panel functions return the [`Figure`] unrendered, so it can still be changed (`fig.axes_mut(0)`).
//!
//! ## Your own plot
//!
//! ```
//! use eiann_plot::{color, Axes, Figure, Legend, Line, Ticks};
//! let t: Vec<f64> = (0..21).map(|s| s as f64 - 10.0).collect();
//! let state: Vec<f32> = t.iter().map(|&x| (x as f32 * 0.3).tanh()).collect();
//! let mut ax = Axes::new();
//! ax.line(&t, &state, Line::new(color::ORANGE).width(1.0).label("unit 7"))
//!     .axvline(0.0, Line::new(color::GRAY).dashed())
//!     .set_xlabel("Timestep from nudge")
//!     .set_ylabel("Dendritic state")
//!     .set_yticks(Ticks::Fixed(vec![-1.0, 0.0, 1.0]))
//!     .grid(true)
//!     .legend(Legend::UpperLeft);
//! let fig = Figure::new(3.0, 2.0).with_name("my_panel").with(ax);
//! let out = fig.render()?;                 // in a notebook, end the cell with `fig` instead
//! assert_eq!(out.size_px(), (900, 600));   // 300 dpi
//! assert!(out.svg().contains(">Dendritic state<"));
//! # Ok::<(), eiann::Error>(())
//! ```
//!
//! Style follows EIANN's `update_plot_defaults` (7 pt text, 0.5 pt axes, outward 3 pt ticks, no top/right
//! spines; [`style`]). Text uses the embedded Lato font (SIL OFL, `assets/fonts/`), so rendering needs
//! no system fonts; the SVG names `Lato` first with sans-serif fallbacks.
//!
//! ## Features
//!
//! `evcxr` (off by default): plotters' own `evcxr_figure` (the evcxr ecosystem's convention) re-exported
//! as [`plotters`](crate::plotters) with line and point series, and [`register_plotters_font`] to give it
//! the embedded font — no fontconfig or system fonts even then.

mod axes;
mod canvas;
pub mod color;
mod figure;
mod font;
mod panels;
mod population;
mod raster;
pub mod style;
mod svg;

pub use axes::{
    Axes, Coord, Dash, Fill, Legend, Line, Marker, Text, TextBox, Ticks, VAlign, Value,
};
pub use canvas::HAlign;
pub use color::{Color, Colormap};
pub use figure::{Figure, Placement, Rendered, SavedFigure};
pub use panels::{
    dendritic_state_rate_vs_spiking, eligibility_trace_example, first_active_rows_reversed,
    rate_dynamics_example, spiking_dynamics, split_spike_trains, DendriticComparisonPanel,
    DendriticComparisonStyle, EligibilityTracePanel, EligibilityTraceStyle, RateDynamicsPanel,
    RateDynamicsStyle, SpikingPanel, SpikingStyle,
};
pub use population::{
    agreement_vs_max_rate, dw_agreement_scatter, pearson_r, pearson_r_histogram,
    AgreementVsRatePanel, AgreementVsRateStyle, DwAgreementPanel, DwAgreementStyle,
    PearsonHistogramPanel, PearsonHistogramStyle,
};

/// plotters, for its `evcxr_figure` (feature `evcxr`).
#[cfg(feature = "evcxr")]
pub use plotters;

/// Registers the embedded Lato font with plotters' ab_glyph text backend as `sans-serif` (and
/// `Lato`), so plotters charts lay out their text without system fonts (feature `evcxr`).
#[cfg(feature = "evcxr")]
pub fn register_plotters_font() -> eiann::Result<()> {
    use plotters::style::{register_font, FontStyle};
    for name in ["sans-serif", "Lato"] {
        register_font(name, FontStyle::Normal, font::FONT_BYTES).map_err(|_| {
            eiann::Error::invalid("embedded font", "plotters rejected Lato-Regular.ttf")
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
