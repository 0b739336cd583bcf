//! A small matplotlib-like axes: artists (lines, scatter, event rasters, fills, bands, bars, heat maps,
//! text), autoscaling, tick location and formatting, spines, grid lines, legend and tight layout,
//! producing display-list items for the renderers.

use crate::canvas::{rounded_rect, Cap, HAlign, Image, Item, Rect, P};
use crate::color::{Color, Colormap, BLACK, LIGHTGRAY, WHITE};
use crate::font::line_metrics;
use crate::style::*;

/// Vertical alignment of text (matplotlib's `verticalalignment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VAlign {
    /// The anchor is on the (first line's) baseline.
    Baseline,
    /// The anchor is in the middle of the text block.
    Center,
    /// The anchor is at the top of the text block.
    Top,
    /// The anchor is at the bottom of the text block.
    Bottom,
}

/// Coordinate system of a text position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coord {
    /// Data coordinates.
    Data,
    /// Axes fractions: (0,0) bottom-left, (1,1) top-right (matplotlib's `transform=ax.transAxes`).
    Axes,
}

/// Dash pattern of a line.
#[derive(Debug, Clone, PartialEq)]
pub enum Dash {
    /// `'-'`
    Solid,
    /// `'--'` (3.7 × 1.6 line widths, matplotlib's scaled dashes).
    Dashed,
    /// `':'` (1 × 1.65 line widths).
    Dotted,
    /// On/off lengths in pt.
    Custom(Vec<f64>),
}

/// How a line, event tick or outline is drawn: colour (with alpha), width in pt, dash pattern, and an
/// optional legend label. Built like `Line::new(RED).width(1.0).dashed().label("rate")`.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Colour and opacity.
    pub color: Color,
    /// Width in pt.
    pub width: f64,
    /// Dash pattern.
    pub dash: Dash,
    /// Legend label (the legend lists labelled artists once [`Axes::legend`] is set).
    pub label: Option<String>,
}

impl Line {
    /// A solid line of the style's default width (0.5 pt).
    pub fn new(color: Color) -> Line {
        Line {
            color,
            width: LINEWIDTH,
            dash: Dash::Solid,
            label: None,
        }
    }
    /// A solid line of colour `paint` and width `width` pt.
    pub fn solid(paint: Color, width: f64) -> Line {
        Line::new(paint).width(width)
    }
    /// A dashed line of colour `paint` and width `width` pt.
    pub fn dashed_line(paint: Color, width: f64) -> Line {
        Line::new(paint).width(width).dashed()
    }
    /// Sets the width in pt.
    pub fn width(mut self, width: f64) -> Line {
        self.width = width;
        self
    }
    /// Sets the opacity.
    pub fn alpha(mut self, alpha: f64) -> Line {
        self.color = self.color.alpha(alpha);
        self
    }
    /// Dashed (`'--'`).
    pub fn dashed(mut self) -> Line {
        self.dash = Dash::Dashed;
        self
    }
    /// Dotted (`':'`).
    pub fn dotted(mut self) -> Line {
        self.dash = Dash::Dotted;
        self
    }
    /// A legend label.
    pub fn label(mut self, label: impl Into<String>) -> Line {
        self.label = Some(label.into());
        self
    }
    /// The dash pattern in pt, `None` for solid lines.
    fn pattern(&self) -> Option<Vec<f64>> {
        let w = self.width.max(0.1);
        match &self.dash {
            Dash::Solid => None,
            Dash::Dashed => Some(vec![3.7 * w, 1.6 * w]),
            Dash::Dotted => Some(vec![w, 1.65 * w]),
            Dash::Custom(v) if v.iter().any(|x| *x > 0.0) => Some(v.clone()),
            Dash::Custom(_) => None,
        }
    }
}

/// Scatter markers: filled disks of `size` pt diameter (matplotlib's `s` is `size²`).
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// Face colour and opacity.
    pub color: Color,
    /// Diameter in pt.
    pub size: f64,
    /// Legend label.
    pub label: Option<String>,
}

impl Marker {
    /// Disks of matplotlib's default scatter size (`s=36`, 6 pt).
    pub fn new(color: Color) -> Marker {
        Marker {
            color,
            size: 6.0,
            label: None,
        }
    }
    /// Sets the diameter in pt.
    pub fn size(mut self, size: f64) -> Marker {
        self.size = size;
        self
    }
    /// Sets the opacity.
    pub fn alpha(mut self, alpha: f64) -> Marker {
        self.color = self.color.alpha(alpha);
        self
    }
    /// A legend label.
    pub fn label(mut self, label: impl Into<String>) -> Marker {
        self.label = Some(label.into());
        self
    }
}

/// A filled area (fill_between, bars, bands).
#[derive(Debug, Clone, PartialEq)]
pub struct Fill {
    /// Colour and opacity.
    pub color: Color,
    /// Legend label.
    pub label: Option<String>,
}

impl Fill {
    /// A fill of colour `color`.
    pub fn new(color: Color) -> Fill {
        Fill { color, label: None }
    }
    /// Sets the opacity.
    pub fn alpha(mut self, alpha: f64) -> Fill {
        self.color = self.color.alpha(alpha);
        self
    }
    /// A legend label.
    pub fn label(mut self, label: impl Into<String>) -> Fill {
        self.label = Some(label.into());
        self
    }
}

/// A rounded text box (matplotlib `bbox=dict(boxstyle='round,pad=...', linewidth=0)`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextBox {
    /// Box colour and opacity.
    pub paint: Color,
    /// Padding in units of the font size.
    pub pad: f64,
}

/// How a text is drawn: size (pt), colour, alignment, coordinates and an optional box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Text {
    /// Font size in pt.
    pub size: f64,
    /// Colour.
    pub color: Color,
    /// Horizontal alignment.
    pub ha: HAlign,
    /// Vertical alignment.
    pub va: VAlign,
    /// Coordinates of the position.
    pub coord: Coord,
    /// Box behind the text.
    pub bbox: Option<TextBox>,
}

impl Default for Text {
    fn default() -> Self {
        Text {
            size: FONT_SIZE,
            color: BLACK,
            ha: HAlign::Left,
            va: VAlign::Baseline,
            coord: Coord::Data,
            bbox: None,
        }
    }
}

/// Where the legend goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Legend {
    /// The corner covering the fewest data points (matplotlib's `loc='best'`, corners only).
    Best,
    /// `'upper right'`
    UpperRight,
    /// `'upper left'`
    UpperLeft,
    /// `'lower left'`
    LowerLeft,
    /// `'lower right'`
    LowerRight,
}

/// Legend entry key.
#[derive(Debug, Clone, PartialEq)]
enum LegendKey {
    Line(Line),
    Marker(Marker),
    Patch(Color),
}

/// A heat map: values on a regular grid, coloured by a map between `vmin` and `vmax`.
#[derive(Debug, Clone, PartialEq)]
struct Heat {
    values: Vec<f64>,
    rows: usize,
    cols: usize,
    /// (x0, x1, y0, y1) of the outer cell edges, row 0 at y0 (matplotlib `origin='lower'` + `extent`).
    extent: (f64, f64, f64, f64),
    cmap: Colormap,
    range: (f64, f64),
}

#[derive(Debug, Clone)]
enum Artist {
    Line {
        xs: Vec<f64>,
        ys: Vec<f64>,
        style: Line,
        z: f64,
    },
    HLine {
        y: f64,
        style: Line,
        z: f64,
    },
    VLine {
        x: f64,
        style: Line,
        z: f64,
    },
    Segment {
        a: (f64, f64),
        b: (f64, f64),
        style: Line,
        z: f64,
    },
    FillBetween {
        xs: Vec<f64>,
        lo: Vec<f64>,
        hi: Vec<f64>,
        paint: Color,
        z: f64,
    },
    Scatter {
        xs: Vec<f64>,
        ys: Vec<f64>,
        diameter: f64,
        paint: Color,
        z: f64,
    },
    Events {
        times: Vec<f64>,
        offset: f64,
        length: f64,
        style: Line,
        z: f64,
    },
    Bars {
        edges: Vec<f64>,
        heights: Vec<f64>,
        paint: Color,
        z: f64,
    },
    Heat(Box<Heat>),
    Text {
        pos: (f64, f64),
        text: String,
        style: Text,
    },
}

/// Tick placement of one axis.
#[derive(Debug, Clone, PartialEq)]
pub enum Ticks {
    /// matplotlib's AutoLocator (MaxNLocator with steps 1, 2, 2.5, 5, 10).
    Auto,
    /// Exactly these positions (those inside the view).
    Fixed(Vec<f64>),
    /// No ticks at all.
    None,
}

/// A number that can be plotted: `f32`, `f64`, integers, or references to them (so `&Vec<f32>`,
/// `array.column(3)`, `0..21` and `v.iter()` all work as series).
pub trait Value {
    /// The value as `f64`.
    fn value(self) -> f64;
}

macro_rules! value_impls {
    ($($t:ty),*) => {$(
        impl Value for $t {
            fn value(self) -> f64 {
                self as f64
            }
        }
        impl Value for &$t {
            fn value(self) -> f64 {
                *self as f64
            }
        }
    )*};
}
value_impls!(f32, f64, i32, i64, u32, u64, usize);

/// Collects a series as `f64`.
fn values<I: IntoIterator>(it: I) -> Vec<f64>
where
    I::Item: Value,
{
    it.into_iter().map(Value::value).collect()
}

/// One axes (subplot): artists in data coordinates, limits, ticks, labels, title and legend.
///
/// Artist methods take any series of numbers ([`Value`]) and a style value, and return `&mut Self`
/// so calls chain. Non-finite values break lines and are skipped elsewhere.
#[derive(Debug, Clone)]
pub struct Axes {
    artists: Vec<Artist>,
    legend_entries: Vec<(String, LegendKey)>,
    xlim: Option<(f64, f64)>,
    ylim: Option<(f64, f64)>,
    xticks: Ticks,
    yticks: Ticks,
    xticklabels: bool,
    yticklabels: bool,
    xlabel: Option<(String, f64)>,
    ylabel: Option<(String, f64)>,
    title: Option<(String, f64, f64)>,
    xsci: (i32, i32),
    ysci: (i32, i32),
    y_sticky_zero: bool,
    grid: Option<Line>,
    legend: Option<Legend>,
    y_right: bool,
    frame: bool,
}

impl Default for Axes {
    fn default() -> Self {
        Axes {
            artists: Vec::new(),
            legend_entries: Vec::new(),
            xlim: None,
            ylim: None,
            xticks: Ticks::Auto,
            yticks: Ticks::Auto,
            xticklabels: true,
            yticklabels: true,
            xlabel: None,
            ylabel: None,
            title: None,
            xsci: (-5, 6),
            ysci: (-5, 6),
            y_sticky_zero: false,
            grid: None,
            legend: None,
            y_right: false,
            frame: false,
        }
    }
}

const Z_GRID: f64 = 0.5;
const Z_PATCH: f64 = 1.0;
const Z_LINE: f64 = 2.0;
const Z_SPINE: f64 = 2.5;
const Z_TEXT: f64 = 3.0;

impl Axes {
    /// An empty axes in the paper's style (left and bottom spines, outward ticks, 7 pt text).
    pub fn new() -> Self {
        Self::default()
    }

    fn note_label(&mut self, label: &Option<String>, key: LegendKey) {
        if let Some(l) = label {
            self.legend_entries.push((l.clone(), key));
        }
    }

    /// `ax.plot(xs, ys)`; non-finite values break the line.
    pub fn line<X, Y>(&mut self, xs: X, ys: Y, style: Line) -> &mut Self
    where
        X: IntoIterator,
        X::Item: Value,
        Y: IntoIterator,
        Y::Item: Value,
    {
        self.line_z(values(xs), values(ys), style, Z_LINE)
    }

    /// `ax.plot` with an explicit z-order (higher is drawn later).
    pub fn line_z(&mut self, xs: Vec<f64>, ys: Vec<f64>, style: Line, z: f64) -> &mut Self {
        self.note_label(&style.label, LegendKey::Line(style.clone()));
        self.artists.push(Artist::Line { xs, ys, style, z });
        self
    }

    /// `ax.axhline(y)` across the whole axes width.
    pub fn axhline(&mut self, y: f64, style: Line) -> &mut Self {
        self.note_label(&style.label, LegendKey::Line(style.clone()));
        self.artists.push(Artist::HLine {
            y,
            style,
            z: Z_LINE,
        });
        self
    }

    /// `ax.axvline(x)` across the whole axes height.
    pub fn axvline(&mut self, x: f64, style: Line) -> &mut Self {
        self.note_label(&style.label, LegendKey::Line(style.clone()));
        self.artists.push(Artist::VLine {
            x,
            style,
            z: Z_LINE,
        });
        self
    }

    /// A straight segment in data coordinates (`ax.plot([x0, x1], [y0, y1])`).
    pub fn segment(&mut self, a: (f64, f64), b: (f64, f64), style: Line) -> &mut Self {
        self.note_label(&style.label, LegendKey::Line(style.clone()));
        self.artists.push(Artist::Segment {
            a,
            b,
            style,
            z: Z_LINE,
        });
        self
    }

    /// `ax.fill_between(xs, lo, hi)`.
    pub fn fill_between<X, L, H>(&mut self, xs: X, lo: L, hi: H, fill: Fill) -> &mut Self
    where
        X: IntoIterator,
        X::Item: Value,
        L: IntoIterator,
        L::Item: Value,
        H: IntoIterator,
        H::Item: Value,
    {
        self.fill_between_z(values(xs), values(lo), values(hi), fill, Z_PATCH)
    }

    /// `ax.fill_between` with an explicit z-order.
    pub fn fill_between_z(
        &mut self,
        xs: Vec<f64>,
        lo: Vec<f64>,
        hi: Vec<f64>,
        fill: Fill,
        z: f64,
    ) -> &mut Self {
        self.note_label(&fill.label, LegendKey::Patch(fill.color));
        self.artists.push(Artist::FillBetween {
            xs,
            lo,
            hi,
            paint: fill.color,
            z,
        });
        self
    }

    /// A line with a shaded band of ± `spread` around it (e.g. mean ± sd); the band has the line's
    /// colour at `band_alpha` opacity, the legend shows the line.
    pub fn band<X, M, S>(
        &mut self,
        xs: X,
        mean: M,
        spread: S,
        style: Line,
        band_alpha: f64,
    ) -> &mut Self
    where
        X: IntoIterator,
        X::Item: Value,
        M: IntoIterator,
        M::Item: Value,
        S: IntoIterator,
        S::Item: Value,
    {
        let (x, m, s) = (values(xs), values(mean), values(spread));
        let lo: Vec<f64> = m.iter().zip(&s).map(|(a, b)| a - b).collect();
        let hi: Vec<f64> = m.iter().zip(&s).map(|(a, b)| a + b).collect();
        self.fill_between_z(
            x.clone(),
            lo,
            hi,
            Fill::new(style.color.alpha(band_alpha)),
            Z_PATCH,
        );
        self.line_z(x, m, style, Z_LINE)
    }

    /// `ax.scatter(xs, ys)` with filled disk markers.
    pub fn scatter<X, Y>(&mut self, xs: X, ys: Y, marker: Marker) -> &mut Self
    where
        X: IntoIterator,
        X::Item: Value,
        Y: IntoIterator,
        Y::Item: Value,
    {
        self.scatter_z(values(xs), values(ys), marker, Z_LINE)
    }

    /// `ax.scatter` with an explicit z-order.
    pub fn scatter_z(&mut self, xs: Vec<f64>, ys: Vec<f64>, marker: Marker, z: f64) -> &mut Self {
        self.note_label(&marker.label, LegendKey::Marker(marker.clone()));
        self.artists.push(Artist::Scatter {
            xs,
            ys,
            diameter: marker.size,
            paint: marker.color,
            z,
        });
        self
    }

    /// One row of `ax.eventplot`: a vertical tick of `length` at each time, centred on `offset`.
    pub fn events<T>(&mut self, times: T, offset: f64, length: f64, style: Line) -> &mut Self
    where
        T: IntoIterator,
        T::Item: Value,
    {
        self.note_label(&style.label, LegendKey::Line(style.clone()));
        self.artists.push(Artist::Events {
            times: values(times),
            offset,
            length,
            style,
            z: Z_LINE,
        });
        self
    }

    /// A spike raster (`ax.eventplot(rows)`): row `i` at offset `first_offset + i`, ticks 0.8 high.
    pub fn raster<R, T>(&mut self, rows: R, first_offset: f64, style: Line) -> &mut Self
    where
        R: IntoIterator<Item = T>,
        T: IntoIterator,
        T::Item: Value,
    {
        let mut labelled = style.clone();
        for (i, row) in rows.into_iter().enumerate() {
            self.events(row, first_offset + i as f64, 0.8, labelled);
            labelled = Line {
                label: None,
                ..style.clone()
            };
        }
        self
    }

    /// Histogram bars (`ax.hist` output): `edges.len() == heights.len() + 1`.
    pub fn bars<E, H>(&mut self, edges: E, heights: H, fill: Fill) -> &mut Self
    where
        E: IntoIterator,
        E::Item: Value,
        H: IntoIterator,
        H::Item: Value,
    {
        self.note_label(&fill.label, LegendKey::Patch(fill.color));
        self.artists.push(Artist::Bars {
            edges: values(edges),
            heights: values(heights),
            paint: fill.color,
            z: Z_PATCH,
        });
        self
    }

    /// A heat map of `values` (row-major, `rows × cols`; row 0 at the bottom, like `imshow(...,
    /// origin='lower', aspect='auto')`) over `extent = (x0, x1, y0, y1)`, coloured by `cmap` from
    /// `range.0` to `range.1`. Draw its scale with [`Axes::colorbar`].
    pub fn heatmap<V>(
        &mut self,
        values_: V,
        rows: usize,
        cols: usize,
        extent: (f64, f64, f64, f64),
        cmap: Colormap,
        range: (f64, f64),
    ) -> &mut Self
    where
        V: IntoIterator,
        V::Item: Value,
    {
        self.artists.push(Artist::Heat(Box::new(Heat {
            values: values(values_),
            rows,
            cols,
            extent,
            cmap,
            range,
        })));
        self
    }

    /// A colour bar: a frame with the map from `range.0` (bottom) to `range.1` (top) and its ticks
    /// on the right; place it beside the heat map with [`crate::Figure::push_at`].
    pub fn colorbar(cmap: Colormap, range: (f64, f64), label: &str) -> Axes {
        let mut ax = Axes::new();
        let n = 256;
        let vals: Vec<f64> = (0..n)
            .map(|i| range.0 + (range.1 - range.0) * (i as f64 + 0.5) / n as f64)
            .collect();
        ax.heatmap(vals, n, 1, (0.0, 1.0, range.0, range.1), cmap, range);
        ax.xlim = Some((0.0, 1.0));
        ax.ylim = Some(range);
        ax.xticks = Ticks::None;
        ax.y_right = true;
        ax.frame = true;
        if !label.is_empty() {
            ax.set_ylabel(label);
        }
        ax
    }

    /// `ax.text(x, y, s)` with a [`Text`] style (size, colour, alignment, coordinates, box).
    pub fn text(&mut self, pos: (f64, f64), text: &str, style: Text) -> &mut Self {
        self.artists.push(Artist::Text {
            pos,
            text: text.to_string(),
            style,
        });
        self
    }

    /// The x axis label.
    pub fn set_xlabel(&mut self, s: &str) -> &mut Self {
        self.xlabel = Some((s.to_string(), LABEL_PAD));
        self
    }
    /// The y axis label.
    pub fn set_ylabel(&mut self, s: &str) -> &mut Self {
        self.ylabel = Some((s.to_string(), LABEL_PAD));
        self
    }
    /// The x axis label with its gap to the tick labels in pt (matplotlib's `labelpad`, default 4).
    pub fn set_xlabel_pad(&mut self, s: &str, pad: f64) -> &mut Self {
        self.xlabel = Some((s.to_string(), pad));
        self
    }
    /// The y axis label with its gap to the tick labels in pt.
    pub fn set_ylabel_pad(&mut self, s: &str, pad: f64) -> &mut Self {
        self.ylabel = Some((s.to_string(), pad));
        self
    }
    /// A title of the default size above the axes.
    pub fn set_title(&mut self, s: &str) -> &mut Self {
        self.title = Some((s.to_string(), FONT_SIZE, 1.0));
        self
    }
    /// A title of `size` pt at height `y` in axes fractions (matplotlib's `title(..., y=...)`).
    pub fn set_title_at(&mut self, s: &str, size: f64, y: f64) -> &mut Self {
        self.title = Some((s.to_string(), size, y));
        self
    }
    /// Fixed x limits (otherwise the data limits with 5 % margins).
    pub fn set_xlim(&mut self, lo: f64, hi: f64) -> &mut Self {
        self.xlim = Some((lo, hi));
        self
    }
    /// Fixed y limits.
    pub fn set_ylim(&mut self, lo: f64, hi: f64) -> &mut Self {
        self.ylim = Some((lo, hi));
        self
    }
    /// x tick placement.
    pub fn set_xticks(&mut self, t: Ticks) -> &mut Self {
        self.xticks = t;
        self
    }
    /// y tick placement.
    pub fn set_yticks(&mut self, t: Ticks) -> &mut Self {
        self.yticks = t;
        self
    }
    /// Shows or hides the x tick labels (ticks stay).
    pub fn show_xticklabels(&mut self, on: bool) -> &mut Self {
        self.xticklabels = on;
        self
    }
    /// Shows or hides the y tick labels.
    pub fn show_yticklabels(&mut self, on: bool) -> &mut Self {
        self.yticklabels = on;
        self
    }
    /// Scientific notation limits of the x tick labels (matplotlib `scilimits`; `(0, 0)` forces it).
    pub fn set_xsci(&mut self, lim: (i32, i32)) -> &mut Self {
        self.xsci = lim;
        self
    }
    /// Scientific notation limits of the y tick labels.
    pub fn set_ysci(&mut self, lim: (i32, i32)) -> &mut Self {
        self.ysci = lim;
        self
    }
    /// Histogram-style y autoscaling: no margin below 0.
    pub fn set_y_sticky_zero(&mut self, on: bool) -> &mut Self {
        self.y_sticky_zero = on;
        self
    }
    /// Grid lines at the major ticks of both axes (`ax.grid(True)`), light gray by default.
    pub fn grid(&mut self, on: bool) -> &mut Self {
        self.grid = on.then(|| Line::new(LIGHTGRAY).width(0.5));
        self
    }
    /// Grid lines in a given style.
    pub fn grid_style(&mut self, style: Line) -> &mut Self {
        self.grid = Some(style);
        self
    }
    /// Shows a legend of the labelled artists (`ax.legend(loc=...)`).
    pub fn legend(&mut self, loc: Legend) -> &mut Self {
        self.legend = Some(loc);
        self
    }
    /// y ticks, tick labels and label on the right (colour bars).
    pub fn set_y_right(&mut self, on: bool) -> &mut Self {
        self.y_right = on;
        self
    }
    /// All four spines (a closed frame) instead of left and bottom only.
    pub fn set_frame(&mut self, on: bool) -> &mut Self {
        self.frame = on;
        self
    }
    /// Labels of the legend entries, in order.
    pub fn legend_labels(&self) -> Vec<&str> {
        self.legend_entries
            .iter()
            .map(|(l, _)| l.as_str())
            .collect()
    }
    /// Number of artists drawn (lines, fills, markers, text, ...).
    pub fn artist_count(&self) -> usize {
        self.artists.len()
    }

    /// Data limits of all artists, ignoring non-finite values.
    fn data_limits(&self) -> (Span, Span) {
        let (mut x, mut y) = (Span::default(), Span::default());
        for a in &self.artists {
            match a {
                Artist::Line { xs, ys, .. } | Artist::Scatter { xs, ys, .. } => {
                    for (&u, &v) in xs.iter().zip(ys) {
                        if u.is_finite() && v.is_finite() {
                            x.add(u);
                            y.add(v);
                        }
                    }
                }
                Artist::HLine { y: v, .. } => y.add(*v),
                Artist::VLine { x: u, .. } => x.add(*u),
                Artist::Segment { a, b, .. } => {
                    x.add(a.0);
                    x.add(b.0);
                    y.add(a.1);
                    y.add(b.1);
                }
                Artist::FillBetween { xs, lo, hi, .. } => {
                    for i in 0..xs.len().min(lo.len()).min(hi.len()) {
                        if xs[i].is_finite() && lo[i].is_finite() && hi[i].is_finite() {
                            x.add(xs[i]);
                            y.add(lo[i]);
                            y.add(hi[i]);
                        }
                    }
                }
                Artist::Events {
                    times,
                    offset,
                    length,
                    ..
                } => {
                    for &t in times {
                        x.add(t);
                    }
                    if !times.is_empty() {
                        y.add(offset - length / 2.0);
                        y.add(offset + length / 2.0);
                    }
                }
                Artist::Bars { edges, heights, .. } => {
                    for &e in edges {
                        x.add(e);
                    }
                    y.add(0.0);
                    for &h in heights {
                        y.add(h);
                    }
                }
                Artist::Heat(h) => {
                    x.add(h.extent.0);
                    x.add(h.extent.1);
                    y.add(h.extent.2);
                    y.add(h.extent.3);
                }
                Artist::Text { .. } => {}
            }
        }
        (x, y)
    }

    /// The view limits: explicit ones, else data limits with matplotlib's 5 % margins (none for heat maps).
    pub fn view_limits(&self) -> ((f64, f64), (f64, f64)) {
        let (dx, dy) = self.data_limits();
        let tight = self.artists.iter().any(|a| matches!(a, Artist::Heat(_)));
        let m = if tight { 0.0 } else { 0.05 };
        let xl = self.xlim.unwrap_or_else(|| dx.with_margin(m, false));
        let yl = self
            .ylim
            .unwrap_or_else(|| dy.with_margin(m, self.y_sticky_zero));
        (nonsingular(xl), nonsingular(yl))
    }

    /// Draws the axes into `out` with its data area at `rect`; returns the bounding box of all ink
    /// (including text layout boxes), which tight layout uses.
    pub(crate) fn render(&self, rect: Rect, out: &mut Vec<(f64, Item)>) -> Rect {
        let ((x0, x1), (y0, y1)) = self.view_limits();
        let tx = |x: f64| rect.x0 + (x - x0) / (x1 - x0) * rect.width();
        let ty = |y: f64| rect.y1 - (y - y0) / (y1 - y0) * rect.height();
        let clip = Some(rect);
        let mut bb = rect;
        let stroke = |out: &mut Vec<(f64, Item)>,
                      pts: Vec<P>,
                      st: &Line,
                      z: f64,
                      cap: Cap,
                      clip: Option<Rect>| {
            let dash = st.pattern();
            out.push((
                z,
                Item::Stroke {
                    pts,
                    width: st.width,
                    paint: st.color,
                    cap: if dash.is_some() { Cap::Butt } else { cap },
                    dash,
                    clip,
                },
            ));
        };
        for a in &self.artists {
            match a {
                Artist::Line { xs, ys, style, z } => {
                    let mut run: Vec<P> = Vec::new();
                    for (&u, &v) in xs.iter().zip(ys) {
                        if u.is_finite() && v.is_finite() {
                            run.push((tx(u), ty(v)));
                        } else if !run.is_empty() {
                            stroke(
                                out,
                                std::mem::take(&mut run),
                                style,
                                *z,
                                Cap::Projecting,
                                clip,
                            );
                        }
                    }
                    if !run.is_empty() {
                        stroke(out, run, style, *z, Cap::Projecting, clip);
                    }
                }
                Artist::HLine { y, style, z } => {
                    let yy = ty(*y);
                    stroke(
                        out,
                        vec![(rect.x0, yy), (rect.x1, yy)],
                        style,
                        *z,
                        Cap::Projecting,
                        clip,
                    );
                }
                Artist::VLine { x, style, z } => {
                    let xx = tx(*x);
                    stroke(
                        out,
                        vec![(xx, rect.y1), (xx, rect.y0)],
                        style,
                        *z,
                        Cap::Projecting,
                        clip,
                    );
                }
                Artist::Segment { a, b, style, z } => {
                    stroke(
                        out,
                        vec![(tx(a.0), ty(a.1)), (tx(b.0), ty(b.1))],
                        style,
                        *z,
                        Cap::Projecting,
                        clip,
                    );
                }
                Artist::FillBetween {
                    xs,
                    lo,
                    hi,
                    paint,
                    z,
                } => {
                    let n = xs.len().min(lo.len()).min(hi.len());
                    let mut poly: Vec<P> = (0..n)
                        .filter(|&i| xs[i].is_finite() && hi[i].is_finite())
                        .map(|i| (tx(xs[i]), ty(hi[i])))
                        .collect();
                    poly.extend(
                        (0..n)
                            .rev()
                            .filter(|&i| xs[i].is_finite() && lo[i].is_finite())
                            .map(|i| (tx(xs[i]), ty(lo[i]))),
                    );
                    if poly.len() >= 3 {
                        out.push((
                            *z,
                            Item::Fill {
                                pts: poly,
                                paint: *paint,
                                clip,
                            },
                        ));
                    }
                }
                Artist::Scatter {
                    xs,
                    ys,
                    diameter,
                    paint,
                    z,
                } => {
                    for (&u, &v) in xs.iter().zip(ys) {
                        let c = (tx(u), ty(v));
                        if u.is_finite()
                            && v.is_finite()
                            && c.0 >= rect.x0
                            && c.0 <= rect.x1
                            && c.1 >= rect.y0
                            && c.1 <= rect.y1
                        {
                            out.push((
                                *z,
                                Item::Disk {
                                    center: c,
                                    radius: diameter / 2.0,
                                    paint: *paint,
                                    clip: None,
                                },
                            ));
                        }
                    }
                }
                Artist::Events {
                    times,
                    offset,
                    length,
                    style,
                    z,
                } => {
                    let (ya, yb) = (ty(offset - length / 2.0), ty(offset + length / 2.0));
                    for &t in times.iter().filter(|t| t.is_finite()) {
                        let xx = tx(t);
                        stroke(out, vec![(xx, ya), (xx, yb)], style, *z, Cap::Butt, clip);
                    }
                }
                Artist::Bars {
                    edges,
                    heights,
                    paint,
                    z,
                } => {
                    for (i, &h) in heights.iter().enumerate() {
                        if i + 1 >= edges.len() || h <= 0.0 || !h.is_finite() {
                            continue;
                        }
                        let (a, b) = (tx(edges[i]), tx(edges[i + 1]));
                        let (c, d) = (ty(0.0), ty(h));
                        out.push((
                            *z,
                            Item::Fill {
                                pts: vec![(a, c), (b, c), (b, d), (a, d)],
                                paint: *paint,
                                clip,
                            },
                        ));
                        // White hairline between bars, like matplotlib's default bar edges on a filled hist.
                        out.push((
                            *z + 0.01,
                            Item::Stroke {
                                pts: vec![(a, c), (a, d), (b, d), (b, c)],
                                width: 0.3,
                                paint: WHITE,
                                dash: None,
                                cap: Cap::Butt,
                                clip,
                            },
                        ));
                    }
                }
                Artist::Heat(h) => {
                    if let Some(image) = heat_image(h) {
                        let (ex0, ex1, ey0, ey1) = h.extent;
                        out.push((
                            Z_PATCH - 0.5,
                            Item::Image {
                                image,
                                rect: Rect::new(tx(ex0), ty(ey1), tx(ex1), ty(ey0)),
                                clip,
                            },
                        ));
                    }
                }
                Artist::Text { pos, text, style } => {
                    let at = match style.coord {
                        Coord::Data => (tx(pos.0), ty(pos.1)),
                        Coord::Axes => (
                            rect.x0 + pos.0 * rect.width(),
                            rect.y1 - pos.1 * rect.height(),
                        ),
                    };
                    let r = put_text(
                        out,
                        text,
                        at,
                        style.size,
                        style.color,
                        style.ha,
                        style.va,
                        false,
                        Z_TEXT,
                    );
                    let r = match style.bbox {
                        Some(b) => {
                            let pad = b.pad * style.size;
                            let br = Rect::new(r.x0 - pad, r.y0 - pad, r.x1 + pad, r.y1 + pad);
                            out.push((
                                Z_TEXT - 0.01,
                                Item::Fill {
                                    pts: rounded_rect(&br, pad),
                                    paint: b.paint,
                                    clip: None,
                                },
                            ));
                            br
                        }
                        None => r,
                    };
                    bb = bb.union(&r);
                }
            }
        }

        // Spines (left, bottom; all four for a frame), drawn above lines and never clipped.
        let spine = Line::solid(BLACK, AXES_LINEWIDTH);
        let mut spines = vec![
            vec![(rect.x0, rect.y0), (rect.x0, rect.y1)],
            vec![(rect.x0, rect.y1), (rect.x1, rect.y1)],
        ];
        if self.frame {
            spines.push(vec![(rect.x1, rect.y1), (rect.x1, rect.y0)]);
            spines.push(vec![(rect.x1, rect.y0), (rect.x0, rect.y0)]);
        }
        for s in spines {
            stroke(out, s, &spine, Z_SPINE, Cap::Projecting, None);
        }

        // X ticks and labels.
        let xt = tick_positions(&self.xticks, (x0, x1), rect.width(), 3.0);
        let (xlabels, xoffset) = format_ticks(&xt, self.xsci);
        let tick_y = rect.y1 + TICK_LENGTH;
        let mut xlab_bottom = rect.y1;
        for (i, &v) in xt.iter().enumerate() {
            let xx = tx(v);
            push_tick(out, (xx, rect.y1), (xx, tick_y));
            if let Some(g) = &self.grid {
                stroke(
                    out,
                    vec![(xx, rect.y1), (xx, rect.y0)],
                    g,
                    Z_GRID,
                    Cap::Butt,
                    clip,
                );
            }
            if self.xticklabels {
                let r = put_text(
                    out,
                    &xlabels[i],
                    (xx, tick_y + TICK_PAD),
                    FONT_SIZE,
                    BLACK,
                    HAlign::Center,
                    VAlign::Top,
                    false,
                    Z_TEXT,
                );
                xlab_bottom = xlab_bottom.max(r.y1);
                bb = bb.union(&r);
            }
        }
        if let (Some(off), true) = (&xoffset, self.xticklabels) {
            let r = put_text(
                out,
                off,
                (rect.x1, xlab_bottom + 3.0),
                FONT_SIZE,
                BLACK,
                HAlign::Right,
                VAlign::Top,
                false,
                Z_TEXT,
            );
            bb = bb.union(&r);
        }
        if let Some((s, pad)) = &self.xlabel {
            let r = put_text(
                out,
                s,
                ((rect.x0 + rect.x1) / 2.0, xlab_bottom + pad),
                FONT_SIZE,
                BLACK,
                HAlign::Center,
                VAlign::Top,
                false,
                Z_TEXT,
            );
            bb = bb.union(&r);
        }

        // Y ticks and labels (left, or right for colour bars).
        let yt = tick_positions(&self.yticks, (y0, y1), rect.height(), 2.0);
        let (ylabels, yoffset) = format_ticks(&yt, self.ysci);
        let (edge, dir) = if self.y_right {
            (rect.x1, 1.0)
        } else {
            (rect.x0, -1.0)
        };
        let tick_x = edge + dir * TICK_LENGTH;
        let mut ylab_outer = edge;
        for (i, &v) in yt.iter().enumerate() {
            let yy = ty(v);
            push_tick(out, (edge, yy), (tick_x, yy));
            if let Some(g) = &self.grid {
                stroke(
                    out,
                    vec![(rect.x0, yy), (rect.x1, yy)],
                    g,
                    Z_GRID,
                    Cap::Butt,
                    clip,
                );
            }
            if self.yticklabels {
                // matplotlib's 'center_baseline': the middle of the ascent sits on the tick.
                let m = line_metrics(&ylabels[i], FONT_SIZE);
                let r = put_text(
                    out,
                    &ylabels[i],
                    (tick_x + dir * TICK_PAD, yy + m.ascent / 2.0),
                    FONT_SIZE,
                    BLACK,
                    if self.y_right {
                        HAlign::Left
                    } else {
                        HAlign::Right
                    },
                    VAlign::Baseline,
                    false,
                    Z_TEXT,
                );
                ylab_outer = if self.y_right {
                    ylab_outer.max(r.x1)
                } else {
                    ylab_outer.min(r.x0)
                };
                bb = bb.union(&r);
            }
        }
        let mut yoffset_rect = None;
        if let (Some(off), true) = (&yoffset, self.yticklabels) {
            let r = put_text(
                out,
                off,
                (edge, rect.y0 - 3.0),
                FONT_SIZE,
                BLACK,
                if self.y_right {
                    HAlign::Right
                } else {
                    HAlign::Left
                },
                VAlign::Baseline,
                false,
                Z_TEXT,
            );
            bb = bb.union(&r);
            yoffset_rect = Some(r);
        }
        if let Some((s, pad)) = &self.ylabel {
            // Rotated 90°: "bottom" of the text faces the axis (for a right-hand axis, its top).
            let r = put_text(
                out,
                s,
                (ylab_outer + dir * pad, (rect.y0 + rect.y1) / 2.0),
                FONT_SIZE,
                BLACK,
                HAlign::Center,
                if self.y_right {
                    VAlign::Top
                } else {
                    VAlign::Bottom
                },
                true,
                Z_TEXT,
            );
            bb = bb.union(&r);
        }

        if let Some((s, size, yfrac)) = &self.title {
            let mut y = rect.y1 - yfrac * rect.height() - TITLE_PAD;
            // As matplotlib does, a title sits above the y axis' offset text ("1e−3") when there is one.
            if let Some(off) = yoffset_rect {
                let descent = line_metrics("lp", *size).descent;
                y = y.min(off.y0.min(off.y1) - descent - TITLE_PAD / 2.0);
            }
            let r = put_text(
                out,
                s,
                ((rect.x0 + rect.x1) / 2.0, y),
                *size,
                BLACK,
                HAlign::Center,
                VAlign::Baseline,
                false,
                Z_TEXT,
            );
            bb = bb.union(&r);
        }

        if let (Some(loc), false) = (self.legend, self.legend_entries.is_empty()) {
            self.render_legend(loc, rect, out, &tx, &ty);
        }
        bb
    }

    /// Frameless legend in a corner (matplotlib's legend without frame; `Best` = emptiest corner).
    fn render_legend(
        &self,
        loc: Legend,
        rect: Rect,
        out: &mut Vec<(f64, Item)>,
        tx: &dyn Fn(f64) -> f64,
        ty: &dyn Fn(f64) -> f64,
    ) {
        let fs = FONT_SIZE;
        let m = line_metrics("lp", fs);
        let row_h = m.ascent + m.descent;
        let handle = 1.2 * fs;
        let gap = 0.5 * fs;
        let spacing = 0.3 * fs;
        let border = 0.4 * fs + 0.5 * fs;
        let text_w = self
            .legend_entries
            .iter()
            .map(|(s, _)| line_metrics(s, fs).width)
            .fold(0.0, f64::max);
        let n = self.legend_entries.len() as f64;
        let (w, h) = (handle + gap + text_w, n * row_h + (n - 1.0) * spacing);
        let corners = [
            (rect.x1 - border - w, rect.y0 + border),
            (rect.x0 + border, rect.y0 + border),
            (rect.x0 + border, rect.y1 - border - h),
            (rect.x1 - border - w, rect.y1 - border - h),
        ];
        let best = match loc {
            Legend::UpperRight => corners[0],
            Legend::UpperLeft => corners[1],
            Legend::LowerLeft => corners[2],
            Legend::LowerRight => corners[3],
            Legend::Best => {
                // Score corners by how many data points fall inside the legend box.
                let mut pts: Vec<P> = Vec::new();
                for a in &self.artists {
                    if let Artist::Line { xs, ys, .. } | Artist::Scatter { xs, ys, .. } = a {
                        pts.extend(
                            xs.iter()
                                .zip(ys)
                                .filter(|(u, v)| u.is_finite() && v.is_finite())
                                .map(|(&u, &v)| (tx(u), ty(v))),
                        );
                    }
                }
                let score = |c: &P| {
                    pts.iter()
                        .filter(|p| p.0 >= c.0 && p.0 <= c.0 + w && p.1 >= c.1 && p.1 <= c.1 + h)
                        .count()
                };
                corners
                    .iter()
                    .min_by_key(|c| score(c))
                    .copied()
                    .unwrap_or(corners[0])
            }
        };
        for (i, (label, key)) in self.legend_entries.iter().enumerate() {
            let top = best.1 + i as f64 * (row_h + spacing);
            let mid = top + row_h / 2.0;
            match key {
                LegendKey::Line(st) => out.push((
                    Z_TEXT,
                    Item::Stroke {
                        pts: vec![(best.0, mid), (best.0 + handle, mid)],
                        width: st.width,
                        paint: st.color,
                        dash: st.pattern(),
                        cap: Cap::Butt,
                        clip: None,
                    },
                )),
                LegendKey::Marker(mk) => out.push((
                    Z_TEXT,
                    Item::Disk {
                        center: (best.0 + handle / 2.0, mid),
                        radius: mk.size.min(row_h) / 2.0,
                        paint: mk.color,
                        clip: None,
                    },
                )),
                LegendKey::Patch(c) => out.push((
                    Z_TEXT,
                    Item::Fill {
                        pts: vec![
                            (best.0, top + 0.1 * row_h),
                            (best.0 + handle, top + 0.1 * row_h),
                            (best.0 + handle, top + 0.9 * row_h),
                            (best.0, top + 0.9 * row_h),
                        ],
                        paint: *c,
                        clip: None,
                    },
                )),
            }
            put_text(
                out,
                label,
                (best.0 + handle + gap, top + m.ascent),
                fs,
                BLACK,
                HAlign::Left,
                VAlign::Baseline,
                false,
                Z_TEXT,
            );
        }
    }
}

/// The colours of a heat map, top image row = highest data row; `None` if the shape does not match.
fn heat_image(h: &Heat) -> Option<Image> {
    if h.rows == 0 || h.cols == 0 || h.values.len() != h.rows.checked_mul(h.cols)? {
        return None;
    }
    let (lo, hi) = h.range;
    let span = if (hi - lo).abs() > 0.0 && (hi - lo).is_finite() {
        hi - lo
    } else {
        1.0
    };
    let mut rgba = Vec::with_capacity(h.values.len() * 4);
    for r in (0..h.rows).rev() {
        for c in 0..h.cols {
            let v = h.values[r * h.cols + c];
            if v.is_finite() {
                let col = h.cmap.at((v - lo) / span);
                rgba.extend_from_slice(&[col.rgb.0, col.rgb.1, col.rgb.2, 255]);
            } else {
                rgba.extend_from_slice(&[0, 0, 0, 0]);
            }
        }
    }
    Some(Image {
        width: u32::try_from(h.cols).ok()?,
        height: u32::try_from(h.rows).ok()?,
        rgba,
    })
}
fn push_tick(out: &mut Vec<(f64, Item)>, a: P, b: P) {
    out.push((
        Z_SPINE,
        Item::Stroke {
            pts: vec![a, b],
            width: TICK_WIDTH,
            paint: BLACK,
            dash: None,
            cap: Cap::Butt,
            clip: None,
        },
    ));
}

/// Emits (possibly multi-line) text anchored at `at` with matplotlib alignment semantics and returns its
/// layout box. Rotated text (`rot90`) reads bottom-to-top; `ha`/`va` then refer to the rotated frame.
#[allow(clippy::too_many_arguments)]
pub(crate) fn put_text(
    out: &mut Vec<(f64, Item)>,
    text: &str,
    at: P,
    size: f64,
    paint: Color,
    ha: HAlign,
    va: VAlign,
    rot90: bool,
    z: f64,
) -> Rect {
    let lines: Vec<&str> = text.split('\n').collect();
    let lp = line_metrics("lp", size);
    let pitch = 1.2 * (lp.ascent + lp.descent);
    let n = lines.len() as f64;
    let block_h = lp.ascent + lp.descent + (n - 1.0) * pitch;
    let width = lines
        .iter()
        .map(|l| line_metrics(l, size).width)
        .fold(0.0, f64::max);
    // In the text frame: u along the baseline, v downwards; first baseline at v = 0.
    let top_v = match va {
        VAlign::Top => 0.0,
        VAlign::Bottom => -block_h,
        VAlign::Center => -block_h / 2.0,
        VAlign::Baseline => -lp.ascent - (n - 1.0) * pitch,
    };
    let first_baseline = top_v + lp.ascent;
    let u0 = match ha {
        HAlign::Left => 0.0,
        HAlign::Center => -width / 2.0,
        HAlign::Right => -width,
    };
    let map = |u: f64, v: f64| -> P {
        if rot90 {
            (at.0 + v, at.1 - u)
        } else {
            (at.0 + u, at.1 + v)
        }
    };
    for (i, l) in lines.iter().enumerate() {
        let v = first_baseline + i as f64 * pitch;
        // Each line is aligned like the block (matplotlib's default multialignment).
        out.push((
            z,
            Item::Text {
                text: l.to_string(),
                at: map(0.0, v),
                size,
                paint,
                ha,
                rot90,
            },
        ));
    }
    let (a, b) = (map(u0, top_v), map(u0 + width, top_v + block_h));
    Rect::new(a.0, a.1, b.0, b.1)
}

/// Running min/max of finite values.
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    lo: Option<f64>,
    hi: Option<f64>,
}

impl Span {
    fn add(&mut self, v: f64) {
        if v.is_finite() {
            self.lo = Some(self.lo.map_or(v, |l| l.min(v)));
            self.hi = Some(self.hi.map_or(v, |h| h.max(v)));
        }
    }
    fn with_margin(&self, m: f64, sticky_zero: bool) -> (f64, f64) {
        match (self.lo, self.hi) {
            (Some(lo), Some(hi)) => {
                let d = (hi - lo) * m;
                let lo2 = if sticky_zero && lo >= 0.0 {
                    lo.min(0.0)
                } else {
                    lo - d
                };
                (lo2, hi + d)
            }
            _ => (0.0, 1.0),
        }
    }
}

/// matplotlib's `nonsingular`: widen an empty interval.
fn nonsingular((a, b): (f64, f64)) -> (f64, f64) {
    if (b - a).abs() > 1e-12 * a.abs().max(b.abs()).max(1e-300) {
        (a.min(b), a.max(b))
    } else if a == 0.0 {
        (-0.001, 0.001)
    } else {
        (a - 0.001 * a.abs(), a + 0.001 * a.abs())
    }
}

/// Tick positions inside the view. `chars_per_tick` is matplotlib's label-size heuristic (3 for x, 2 for y).
fn tick_positions(
    t: &Ticks,
    (lo, hi): (f64, f64),
    axis_len_pt: f64,
    chars_per_tick: f64,
) -> Vec<f64> {
    let tol = 1e-10 * (hi - lo).abs();
    let inside = |v: &f64| *v >= lo - tol && *v <= hi + tol;
    match t {
        Ticks::None => Vec::new(),
        Ticks::Fixed(v) => v.iter().copied().filter(inside).collect(),
        Ticks::Auto => {
            let nbins = ((axis_len_pt / (FONT_SIZE * chars_per_tick)).floor() as i64).clamp(1, 9);
            max_n_locator(lo, hi, nbins as f64)
                .into_iter()
                .filter(inside)
                .collect()
        }
    }
}

/// matplotlib's `MaxNLocator(nbins, steps=[1, 2, 2.5, 5, 10])._raw_ticks`.
pub(crate) fn max_n_locator(vmin: f64, vmax: f64, nbins: f64) -> Vec<f64> {
    let dv = (vmax - vmin).abs();
    let meanv = (vmax + vmin) / 2.0;
    let (scale, offset) = {
        let scale = 10f64.powf((dv / nbins).log10().floor());
        let offset = if meanv.abs() / dv < 100.0 {
            0.0
        } else {
            10f64.powf((meanv.abs()).log10().floor()).copysign(meanv)
        };
        (scale, offset)
    };
    let (v0, v1) = (vmin - offset, vmax - offset);
    let steps: Vec<f64> = [0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0, 20.0]
        .iter()
        .map(|s| s * scale)
        .collect();
    let raw = (v1 - v0) / nbins;
    let istep = steps
        .iter()
        .position(|&s| s >= raw)
        .unwrap_or(steps.len() - 1);
    let mut ticks = Vec::new();
    for &step in steps[..=istep].iter().rev() {
        let best_vmin = (v0 / step).floor() * step;
        let edge = |x: f64| {
            let d = x / step;
            let (m, r) = (d.floor(), d - d.floor());
            (m, r)
        };
        let low = {
            let (m, r) = edge(v0 - best_vmin);
            if (r - 1.0).abs() < 1e-10 {
                m + 1.0
            } else {
                m
            }
        };
        let high = {
            let (m, r) = edge(v1 - best_vmin);
            if r.abs() < 1e-10 {
                m
            } else {
                m + 1.0
            }
        };
        ticks = ((low as i64)..=(high as i64))
            .map(|k| k as f64 * step + best_vmin + offset)
            .collect();
        let n = ticks
            .iter()
            .filter(|&&t| t <= vmax + 1e-12 * dv && t >= vmin - 1e-12 * dv)
            .count();
        if n >= 2 {
            break;
        }
    }
    ticks
}

/// Formats tick values like matplotlib's ScalarFormatter (unicode minus, minimal decimals); returns the
/// labels and, in scientific mode, the offset text (e.g. "1e−5").
pub(crate) fn format_ticks(ticks: &[f64], scilimits: (i32, i32)) -> (Vec<String>, Option<String>) {
    let maxabs = ticks.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let oom = if maxabs > 0.0 {
        maxabs.log10().floor() as i32
    } else {
        0
    };
    let sci = scilimits == (0, 0) || oom <= scilimits.0 || oom >= scilimits.1;
    let div = if sci && maxabs > 0.0 {
        10f64.powi(oom)
    } else {
        1.0
    };
    let vals: Vec<f64> = ticks.iter().map(|v| v / div).collect();
    let scale = vals.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-300);
    let decimals = (0..=12)
        .find(|&d| {
            let p = 10f64.powi(d);
            vals.iter()
                .all(|v| ((v * p).round() / p - v).abs() <= 1e-9 * scale)
        })
        .unwrap_or(12) as usize;
    let labels = vals
        .iter()
        .map(|v| {
            let s = format!("{:.*}", decimals, v);
            let s = if s
                .trim_start_matches('-')
                .chars()
                .all(|c| c == '0' || c == '.')
            {
                s.trim_start_matches('-').to_string()
            } else {
                s
            };
            s.replace('-', "\u{2212}")
        })
        .collect();
    let offset =
        (sci && maxabs > 0.0 && oom != 0).then(|| format!("1e{oom}").replace('-', "\u{2212}"));
    (labels, offset)
}

/// Places axes in a grid of `rows × cols` cells inside a `w × h` pt figure so that every axes' ink fits
/// with matplotlib's tight_layout padding (1.08 × font size around and between cells).
pub(crate) fn tight_grid(
    axes: &[&Axes],
    rows: usize,
    cols: usize,
    height_ratios: &[f64],
    (w, h): (f64, f64),
) -> Vec<Rect> {
    let pad = TIGHT_PAD * FONT_SIZE;
    let ratios: Vec<f64> = if height_ratios.len() == rows {
        height_ratios.to_vec()
    } else {
        vec![1.0; rows]
    };
    let rsum: f64 = ratios.iter().sum();
    // Start from matplotlib's default subplot parameters.
    let (mut left, mut right, mut top, mut bottom) = (0.125 * w, 0.1 * w, 0.12 * h, 0.11 * h);
    let mut vgaps = vec![0.2 * h / rows as f64; rows.saturating_sub(1)];
    let mut hgaps = vec![0.2 * w / cols as f64; cols.saturating_sub(1)];
    let mut rects = Vec::new();
    for _ in 0..4 {
        let avail_h = (h - top - bottom - vgaps.iter().sum::<f64>()).max(h * 0.05);
        let avail_w = (w - left - right - hgaps.iter().sum::<f64>()).max(w * 0.05);
        let cw = avail_w / cols as f64;
        rects.clear();
        for (i, _) in axes.iter().enumerate() {
            let (r, c) = (i / cols, i % cols);
            let y0 = top
                + vgaps[..r].iter().sum::<f64>()
                + ratios[..r].iter().sum::<f64>() / rsum * avail_h;
            let ch = ratios[r.min(rows - 1)] / rsum * avail_h;
            let x0 = left + hgaps[..c].iter().sum::<f64>() + c as f64 * cw;
            rects.push(Rect::new(x0, y0, x0 + cw, y0 + ch));
        }
        // Measure each axes' decorations at its current place.
        let ext: Vec<(f64, f64, f64, f64)> = axes
            .iter()
            .zip(&rects)
            .map(|(ax, r)| {
                let mut tmp = Vec::new();
                let bb = ax.render(*r, &mut tmp);
                (r.x0 - bb.x0, bb.x1 - r.x1, r.y0 - bb.y0, bb.y1 - r.y1)
            })
            .collect();
        let cell = |r: usize, c: usize| ext.get(r * cols + c).copied();
        let col_max = |c: usize, f: fn(&(f64, f64, f64, f64)) -> f64| {
            (0..rows)
                .filter_map(|r| cell(r, c))
                .map(|e| f(&e))
                .fold(0.0, f64::max)
        };
        let row_max = |r: usize, f: fn(&(f64, f64, f64, f64)) -> f64| {
            (0..cols)
                .filter_map(|c| cell(r, c))
                .map(|e| f(&e))
                .fold(0.0, f64::max)
        };
        left = col_max(0, |e| e.0) + pad;
        right = col_max(cols - 1, |e| e.1) + pad;
        top = row_max(0, |e| e.2) + pad;
        bottom = row_max(rows - 1, |e| e.3) + pad;
        vgaps = (0..rows.saturating_sub(1))
            .map(|r| row_max(r, |e| e.3) + row_max(r + 1, |e| e.2) + pad)
            .collect();
        hgaps = (0..cols.saturating_sub(1))
            .map(|c| col_max(c, |e| e.1) + col_max(c + 1, |e| e.0) + pad)
            .collect();
    }
    rects
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locator_matches_matplotlib_examples() {
        assert_eq!(
            max_n_locator(-10.0, 10.0, 6.0),
            vec![-10.0, -5.0, 0.0, 5.0, 10.0]
        );
        assert_eq!(
            max_n_locator(-200.0, 200.0, 9.0),
            (0..9).map(|k| -200.0 + 50.0 * k as f64).collect::<Vec<_>>()
        );
        assert_eq!(
            max_n_locator(-200.0, 200.0, 4.0),
            vec![-200.0, -100.0, 0.0, 100.0, 200.0]
        );
        let t = max_n_locator(0.0, 1.0, 5.0);
        assert_eq!(t.len(), 6);
        assert!((t[1] - 0.2).abs() < 1e-12);
    }

    #[test]
    fn formatter_plain_and_sci() {
        let (l, o) = format_ticks(&[-10.0, -5.0, 0.0, 5.0, 10.0], (-5, 6));
        assert_eq!(l, vec!["\u{2212}10", "\u{2212}5", "0", "5", "10"]);
        assert!(o.is_none());
        let (l, o) = format_ticks(&[0.0, 0.25, 0.5], (-5, 6));
        assert_eq!(l, vec!["0.00", "0.25", "0.50"]);
        assert!(o.is_none());
        let (l, o) = format_ticks(&[-2e-5, 0.0, 2e-5, 4e-5], (0, 0));
        assert_eq!(l, vec!["\u{2212}2", "0", "2", "4"]);
        assert_eq!(o.as_deref(), Some("1e\u{2212}5"));
    }
}
