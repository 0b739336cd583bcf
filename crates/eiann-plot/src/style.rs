//! The plot style of the paper's figures (EIANN `update_plot_defaults`) and matplotlib's named colours.

use super::canvas::Paint;

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

/// matplotlib `'r'`.
pub const RED: Paint = Paint::rgb(255, 0, 0);
/// matplotlib `'b'`.
pub const BLUE: Paint = Paint::rgb(0, 0, 255);
/// matplotlib `'k'`.
pub const BLACK: Paint = Paint::rgb(0, 0, 0);
/// CSS/matplotlib `'steelblue'`.
pub const STEELBLUE: Paint = Paint::rgb(70, 130, 180);
/// CSS/matplotlib `'gray'`.
pub const GRAY: Paint = Paint::rgb(128, 128, 128);
/// CSS/matplotlib `'lightgray'`.
pub const LIGHTGRAY: Paint = Paint::rgb(211, 211, 211);
/// CSS/matplotlib `'darkred'`.
pub const DARKRED: Paint = Paint::rgb(139, 0, 0);
/// CSS/matplotlib `'darkblue'`.
pub const DARKBLUE: Paint = Paint::rgb(0, 0, 139);
/// CSS/matplotlib `'orange'`.
pub const ORANGE: Paint = Paint::rgb(255, 165, 0);
/// CSS/matplotlib `'navy'`.
pub const NAVY: Paint = Paint::rgb(0, 0, 128);
/// CSS/matplotlib `'green'`.
pub const GREEN: Paint = Paint::rgb(0, 128, 0);
/// matplotlib's default colour cycle, first entry (`'C0'`).
pub const C0: Paint = Paint::rgb(31, 119, 180);
