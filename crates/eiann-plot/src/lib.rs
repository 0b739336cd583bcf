//! Figure 3 panels drawn with plotters, shared by the notebooks and the tests.
//!
//! Every panel function takes a plain-data input struct (slices, `Vec`s, `ndarray` views; nothing from
//! the model), renders the panel once into a resolution-independent display list, and returns a
//! [`Figure`] holding a 300 dpi PNG (`figsize × 300` pixels) and an SVG whose text stays text. Given an
//! output folder, the panel is also written there as `<name>.png` and `<name>.svg` (atomically). In an
//! evcxr notebook a `Figure` displays inline as `image/png`.
//!
//! | function | notebook cell (reference `Figure_3.ipynb`) | default file name |
//! |---|---|---|
//! | [`rate_dynamics_example`] | 7 (panel 1) | `rate_dynamics_example_H2E` |
//! | [`spiking_dynamics`] | 12 (panel 2) | `spiking_dynamics_H2E` |
//! | [`dendritic_state_rate_vs_spiking`] | 13 (panel 3) | `dendritic_state_rate_vs_spiking_H2E` |
//! | [`eligibility_trace_example`] | 14, 15 (panels 4, 5) | `eligibility_trace_H1E_<unit>` |
//! | [`dw_agreement_scatter`] | population notebook | `dw_agreement_pooled` |
//! | [`pearson_r_histogram`] | population notebook | `dw_pearson_r_histogram` |
//! | [`agreement_vs_max_rate`] | population notebook | `agreement_vs_max_rate` |
//!
//! Style follows EIANN's `update_plot_defaults` (7 pt text, 0.5 pt axes, outward 3 pt ticks, no top/right
//! spines) and the notebook's colours. Text uses the embedded Lato font (SIL OFL, `assets/fonts/`), so
//! rendering needs no system fonts; the SVG names `Lato` first with sans-serif fallbacks.
//!
//! ```
//! use eiann_plot::{rate_dynamics_example, RateDynamicsPanel};
//! let d = ndarray::Array2::<f32>::from_shape_fn((21, 100), |(t, u)| ((t * u) as f32 * 0.1).sin());
//! let a = d.mapv(|v| v.max(0.0));
//! let fig = rate_dynamics_example(&RateDynamicsPanel::new(d, a, (88, 51)), None)?;
//! assert_eq!(fig.size_px(), (705, 600));
//! assert!(fig.svg().contains("Timestep from nudge"));
//! # Ok::<(), eiann::Error>(())
//! ```

mod axes;
mod canvas;
mod figure;
mod font;
mod panels;
mod population;
pub mod style;

pub use canvas::Paint;
pub use figure::{Figure, SavedFigure};
pub use panels::{
    dendritic_state_rate_vs_spiking, eligibility_trace_example, first_active_rows_reversed,
    rate_dynamics_example, spiking_dynamics, split_spike_trains, DendriticComparisonPanel,
    EligibilityTracePanel, RateDynamicsPanel, SpikingPanel,
};
pub use population::{
    agreement_vs_max_rate, dw_agreement_scatter, pearson_r, pearson_r_histogram,
    AgreementVsRatePanel, DwAgreementPanel, PearsonHistogramPanel,
};

#[cfg(test)]
mod tests;
