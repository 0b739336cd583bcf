//! The plot style of the paper's figures (EIANN `update_plot_defaults`): sizes in pt and the save
//! resolution. Named colours are in [`crate::color`].

/// Default font size (pt) of every label and tick label.
pub const FONT_SIZE: f64 = 7.0;
/// Axes spine line width (pt).
pub const AXES_LINEWIDTH: f64 = 0.5;
/// Default line width (pt) of plotted lines.
pub const LINEWIDTH: f64 = 0.5;
/// Tick length (pt), drawn outwards.
pub const TICK_LENGTH: f64 = 3.0;
/// Tick line width (pt).
pub const TICK_WIDTH: f64 = 0.5;
/// Gap (pt) between a tick and its label (matplotlib default 3.5).
pub const TICK_PAD: f64 = 3.5;
/// Gap (pt) between tick labels and the axis label (matplotlib default 4).
pub const LABEL_PAD: f64 = 4.0;
/// Gap (pt) between the axes top and its title (matplotlib default 6).
pub const TITLE_PAD: f64 = 6.0;
/// Resolution of saved PNGs (the notebook saves with `dpi=300`).
pub const SAVE_DPI: f64 = 300.0;
/// tight_layout's padding, in units of the font size (matplotlib default 1.08).
pub const TIGHT_PAD: f64 = 1.08;
