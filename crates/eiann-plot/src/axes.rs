//! A small matplotlib-like axes: data artists, autoscaling, tick location/formatting, spines, labels and
//! tight layout, producing display-list items for [`super::canvas`].

use super::canvas::{rounded_rect, Cap, HAlign, Item, Paint, Rect, P};
use super::font::line_metrics;
use super::style::*;

/// Vertical alignment of text (matplotlib's `verticalalignment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VAlign {
    Baseline,
    Center,
    Top,
    Bottom,
}

/// Coordinate system of a text position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coord {
    Data,
    /// Axes fractions: (0,0) bottom-left, (1,1) top-right.
    Axes,
}

/// Line appearance: colour (with alpha), width in pt, dashed (matplotlib `'--'`) or solid.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineStyle {
    pub paint: Paint,
    pub width: f64,
    pub dashed: bool,
}

impl LineStyle {
    pub fn solid(paint: Paint, width: f64) -> Self {
        LineStyle {
            paint,
            width,
            dashed: false,
        }
    }
    pub fn dashed(paint: Paint, width: f64) -> Self {
        LineStyle {
            paint,
            width,
            dashed: true,
        }
    }
    /// matplotlib's `'--'` pattern scaled by the line width (`lines.scale_dashes`).
    fn dash(&self) -> Option<Vec<f64>> {
        let w = self.width.max(0.1);
        self.dashed.then(|| vec![3.7 * w, 1.6 * w])
    }
}

/// A rounded text box (matplotlib `bbox=dict(boxstyle='round,pad=...', linewidth=0)`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TextBox {
    pub paint: Paint,
    /// Padding in units of the font size.
    pub pad: f64,
}

/// Legend entry key.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LegendKey {
    Line(LineStyle),
}

#[derive(Debug, Clone)]
enum Artist {
    Line {
        xs: Vec<f64>,
        ys: Vec<f64>,
        style: LineStyle,
        z: f64,
    },
    HLine {
        y: f64,
        style: LineStyle,
        z: f64,
    },
    VLine {
        x: f64,
        style: LineStyle,
        z: f64,
    },
    Segment {
        a: (f64, f64),
        b: (f64, f64),
        style: LineStyle,
        z: f64,
    },
    FillBetween {
        xs: Vec<f64>,
        lo: Vec<f64>,
        hi: Vec<f64>,
        paint: Paint,
        z: f64,
    },
    Scatter {
        xs: Vec<f64>,
        ys: Vec<f64>,
        diameter: f64,
        paint: Paint,
        z: f64,
    },
    Events {
        times: Vec<f64>,
        offset: f64,
        length: f64,
        style: LineStyle,
        z: f64,
    },
    Bars {
        edges: Vec<f64>,
        heights: Vec<f64>,
        paint: Paint,
        z: f64,
    },
    Text {
        pos: (f64, f64),
        coord: Coord,
        text: String,
        size: f64,
        paint: Paint,
        ha: HAlign,
        va: VAlign,
        bbox: Option<TextBox>,
    },
}

/// Tick placement of one axis.
#[derive(Debug, Clone)]
pub(crate) enum Ticks {
    /// matplotlib's AutoLocator (MaxNLocator with steps 1, 2, 2.5, 5, 10).
    Auto,
    /// Exactly these positions (those inside the view).
    Fixed(Vec<f64>),
    /// No ticks at all.
    None,
}

/// One axes (subplot).
#[derive(Debug, Clone)]
pub(crate) struct Axes {
    artists: Vec<Artist>,
    pub xlim: Option<(f64, f64)>,
    pub ylim: Option<(f64, f64)>,
    pub xticks: Ticks,
    pub yticks: Ticks,
    pub xticklabels: bool,
    pub yticklabels: bool,
    pub xlabel: Option<(String, f64)>,
    pub ylabel: Option<(String, f64)>,
    /// Title text, font size, y in axes fractions.
    pub title: Option<(String, f64, f64)>,
    /// Scientific-notation limits per axis (matplotlib `scilimits`); `(0, 0)` forces it.
    pub xsci: (i32, i32),
    pub ysci: (i32, i32),
    /// Histogram-style sticky zero on y (no margin below 0).
    pub y_sticky_zero: bool,
    legend: Vec<(String, LegendKey)>,
}

impl Default for Axes {
    fn default() -> Self {
        Axes {
            artists: Vec::new(),
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
            legend: Vec::new(),
        }
    }
}

const Z_PATCH: f64 = 1.0;
const Z_LINE: f64 = 2.0;
const Z_SPINE: f64 = 2.5;
const Z_TEXT: f64 = 3.0;

impl Axes {
    pub fn new() -> Self {
        Self::default()
    }

    /// `ax.plot(xs, ys)`; non-finite values break the line.
    pub fn plot(&mut self, xs: Vec<f64>, ys: Vec<f64>, style: LineStyle) {
        self.artists.push(Artist::Line {
            xs,
            ys,
            style,
            z: Z_LINE,
        });
    }

    /// `ax.axhline(y)` across the whole axes width.
    pub fn axhline(&mut self, y: f64, style: LineStyle) {
        self.artists.push(Artist::HLine {
            y,
            style,
            z: Z_LINE,
        });
    }

    /// `ax.axvline(x)` across the whole axes height.
    pub fn axvline(&mut self, x: f64, style: LineStyle) {
        self.artists.push(Artist::VLine {
            x,
            style,
            z: Z_LINE,
        });
    }

    /// A straight segment in data coordinates (`ax.plot([x0, x1], [y0, y1])`).
    pub fn segment(&mut self, a: (f64, f64), b: (f64, f64), style: LineStyle) {
        self.artists.push(Artist::Segment {
            a,
            b,
            style,
            z: Z_LINE,
        });
    }

    /// `ax.fill_between(xs, lo, hi)` with the given z-order.
    pub fn fill_between(&mut self, xs: Vec<f64>, lo: Vec<f64>, hi: Vec<f64>, paint: Paint, z: f64) {
        self.artists.push(Artist::FillBetween {
            xs,
            lo,
            hi,
            paint,
            z,
        });
    }

    /// `ax.scatter(xs, ys, s=diameter², facecolor=paint)` (edge drawn in the face colour).
    pub fn scatter(&mut self, xs: Vec<f64>, ys: Vec<f64>, diameter: f64, paint: Paint, z: f64) {
        self.artists.push(Artist::Scatter {
            xs,
            ys,
            diameter,
            paint,
            z,
        });
    }

    /// One row of `ax.eventplot`: a vertical tick of `length` at each time, centred on `offset`.
    pub fn events(&mut self, times: Vec<f64>, offset: f64, length: f64, style: LineStyle) {
        self.artists.push(Artist::Events {
            times,
            offset,
            length,
            style,
            z: Z_LINE,
        });
    }

    /// Histogram bars (`ax.hist` output): `edges.len() == heights.len() + 1`.
    pub fn bars(&mut self, edges: Vec<f64>, heights: Vec<f64>, paint: Paint) {
        self.artists.push(Artist::Bars {
            edges,
            heights,
            paint,
            z: Z_PATCH,
        });
    }

    /// `ax.text(...)`, optionally with a rounded box.
    #[allow(clippy::too_many_arguments)]
    pub fn text(
        &mut self,
        pos: (f64, f64),
        coord: Coord,
        text: &str,
        size: f64,
        ha: HAlign,
        va: VAlign,
        bbox: Option<TextBox>,
    ) {
        self.artists.push(Artist::Text {
            pos,
            coord,
            text: text.to_string(),
            size,
            paint: BLACK,
            ha,
            va,
            bbox,
        });
    }

    /// Adds a legend entry (drawn by [`Axes::render`] at the best corner).
    pub fn legend_entry(&mut self, label: &str, key: LegendKey) {
        self.legend.push((label.to_string(), key));
    }

    pub fn set_xlabel(&mut self, s: &str) {
        self.xlabel = Some((s.to_string(), LABEL_PAD));
    }
    pub fn set_ylabel(&mut self, s: &str) {
        self.ylabel = Some((s.to_string(), LABEL_PAD));
    }

    /// Data limits of all artists: (xmin, xmax, ymin, ymax), ignoring non-finite values.
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
                Artist::Text { .. } => {}
            }
        }
        (x, y)
    }

    /// The view limits: explicit ones, else data limits with matplotlib's 5 % margins.
    pub fn view_limits(&self) -> ((f64, f64), (f64, f64)) {
        let (dx, dy) = self.data_limits();
        let xl = self.xlim.unwrap_or_else(|| dx.with_margin(0.05, false));
        let yl = self
            .ylim
            .unwrap_or_else(|| dy.with_margin(0.05, self.y_sticky_zero));
        (nonsingular(xl), nonsingular(yl))
    }

    /// Draws the axes into `out` with its data area at `rect`; returns the bounding box of all ink
    /// (including text layout boxes), which tight layout uses.
    pub fn render(&self, rect: Rect, out: &mut Vec<(f64, Item)>) -> Rect {
        let ((x0, x1), (y0, y1)) = self.view_limits();
        let tx = |x: f64| rect.x0 + (x - x0) / (x1 - x0) * rect.width();
        let ty = |y: f64| rect.y1 - (y - y0) / (y1 - y0) * rect.height();
        let clip = Some(rect);
        let mut bb = rect;
        let stroke = |out: &mut Vec<(f64, Item)>, pts: Vec<P>, st: &LineStyle, z: f64, cap: Cap| {
            out.push((
                z,
                Item::Stroke {
                    pts,
                    width: st.width,
                    paint: st.paint,
                    dash: st.dash(),
                    cap: if st.dashed { Cap::Butt } else { cap },
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
                            stroke(out, std::mem::take(&mut run), style, *z, Cap::Projecting);
                        }
                    }
                    if !run.is_empty() {
                        stroke(out, run, style, *z, Cap::Projecting);
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
                    );
                }
                Artist::Segment { a, b, style, z } => {
                    stroke(
                        out,
                        vec![(tx(a.0), ty(a.1)), (tx(b.0), ty(b.1))],
                        style,
                        *z,
                        Cap::Projecting,
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
                        stroke(out, vec![(xx, ya), (xx, yb)], style, *z, Cap::Butt);
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
                                paint: Paint::rgb(255, 255, 255),
                                dash: None,
                                cap: Cap::Butt,
                                clip,
                            },
                        ));
                    }
                }
                Artist::Text {
                    pos,
                    coord,
                    text,
                    size,
                    paint,
                    ha,
                    va,
                    bbox,
                } => {
                    let at = match coord {
                        Coord::Data => (tx(pos.0), ty(pos.1)),
                        Coord::Axes => (
                            rect.x0 + pos.0 * rect.width(),
                            rect.y1 - pos.1 * rect.height(),
                        ),
                    };
                    let r = put_text(out, text, at, *size, *paint, *ha, *va, false, Z_TEXT);
                    let r = match bbox {
                        Some(b) => {
                            let pad = b.pad * size;
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
                    // Text inside the axes never counts for layout; only what sticks out does.
                    bb = bb.union(&r);
                }
            }
        }

        // Spines (left, bottom), matplotlib draws them above lines.
        let spine = LineStyle::solid(BLACK, AXES_LINEWIDTH);
        stroke(
            out,
            vec![(rect.x0, rect.y0), (rect.x0, rect.y1)],
            &spine,
            Z_SPINE,
            Cap::Projecting,
        );
        stroke(
            out,
            vec![(rect.x0, rect.y1), (rect.x1, rect.y1)],
            &spine,
            Z_SPINE,
            Cap::Projecting,
        );
        // `stroke` clips to the axes; spines and ticks must not be clipped.
        for (_, item) in out.iter_mut().rev().take(2) {
            if let Item::Stroke { clip, .. } = item {
                *clip = None;
            }
        }

        // X ticks and labels.
        let xt = tick_positions(&self.xticks, (x0, x1), rect.width(), 3.0);
        let (xlabels, xoffset) = format_ticks(&xt, self.xsci);
        let tick_y = rect.y1 + TICK_LENGTH;
        let mut xlab_bottom = rect.y1;
        for (i, &v) in xt.iter().enumerate() {
            let xx = tx(v);
            push_tick(out, (xx, rect.y1), (xx, tick_y));
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

        // Y ticks and labels.
        let yt = tick_positions(&self.yticks, (y0, y1), rect.height(), 2.0);
        let (ylabels, yoffset) = format_ticks(&yt, self.ysci);
        let tick_x = rect.x0 - TICK_LENGTH;
        let mut ylab_left = rect.x0;
        for (i, &v) in yt.iter().enumerate() {
            let yy = ty(v);
            push_tick(out, (rect.x0, yy), (tick_x, yy));
            if self.yticklabels {
                // matplotlib's 'center_baseline': the middle of the ascent sits on the tick.
                let m = line_metrics(&ylabels[i], FONT_SIZE);
                let r = put_text(
                    out,
                    &ylabels[i],
                    (tick_x - TICK_PAD, yy + m.ascent / 2.0),
                    FONT_SIZE,
                    BLACK,
                    HAlign::Right,
                    VAlign::Baseline,
                    false,
                    Z_TEXT,
                );
                ylab_left = ylab_left.min(r.x0);
                bb = bb.union(&r);
            }
        }
        let mut yoffset_rect = None;
        if let (Some(off), true) = (&yoffset, self.yticklabels) {
            let r = put_text(
                out,
                off,
                (rect.x0, rect.y0 - 3.0),
                FONT_SIZE,
                BLACK,
                HAlign::Left,
                VAlign::Baseline,
                false,
                Z_TEXT,
            );
            bb = bb.union(&r);
            yoffset_rect = Some(r);
        }
        if let Some((s, pad)) = &self.ylabel {
            // Rotated 90°: "bottom" of the text faces the axis.
            let r = put_text(
                out,
                s,
                (ylab_left - pad, (rect.y0 + rect.y1) / 2.0),
                FONT_SIZE,
                BLACK,
                HAlign::Center,
                VAlign::Bottom,
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

        if !self.legend.is_empty() {
            self.render_legend(rect, out, &tx, &ty);
        }
        bb
    }

    /// Frameless legend at the emptiest corner (matplotlib `loc='best'` restricted to corners).
    fn render_legend(
        &self,
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
            .legend
            .iter()
            .map(|(s, _)| line_metrics(s, fs).width)
            .fold(0.0, f64::max);
        let n = self.legend.len() as f64;
        let (w, h) = (handle + gap + text_w, n * row_h + (n - 1.0) * spacing);
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
        let corners = [
            (rect.x1 - border - w, rect.y0 + border),
            (rect.x0 + border, rect.y0 + border),
            (rect.x0 + border, rect.y1 - border - h),
            (rect.x1 - border - w, rect.y1 - border - h),
        ];
        let score = |c: &P| {
            pts.iter()
                .filter(|p| p.0 >= c.0 && p.0 <= c.0 + w && p.1 >= c.1 && p.1 <= c.1 + h)
                .count()
        };
        let best = corners
            .iter()
            .min_by_key(|c| score(c))
            .copied()
            .unwrap_or(corners[0]);
        for (i, (label, key)) in self.legend.iter().enumerate() {
            let top = best.1 + i as f64 * (row_h + spacing);
            let mid = top + row_h / 2.0;
            match key {
                LegendKey::Line(st) => out.push((
                    Z_TEXT,
                    Item::Stroke {
                        pts: vec![(best.0, mid), (best.0 + handle, mid)],
                        width: st.width,
                        paint: st.paint,
                        dash: st.dash(),
                        cap: Cap::Butt,
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
    paint: Paint,
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
