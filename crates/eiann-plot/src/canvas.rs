//! A resolution-independent display list (in points) and its two renderers: anti-aliased PNG pixels and SVG.
//!
//! Both renderers go through plotters' drawing backends (`BitMapBackend`, `SVGBackend`). Geometry is
//! prepared here rather than by plotters' own rasterizer because matplotlib-quality output needs
//! anti-aliased wide strokes whose alpha is applied once per path (plotters strokes wide lines as
//! unsmoothed polygons and overlaps them at every joint, darkening translucent traces): strokes become
//! same-orientation polygons (segments + round joins + caps), a coverage rasterizer (ab_glyph's) turns
//! them into per-pixel coverage, and the backend blends each pixel once. Text is laid out with the
//! embedded font ([`super::font`]) so PNG and SVG place it identically; the SVG keeps it as `<text>`.

use super::font;
use eiann::{Error, Result};
use ab_glyph::{Font, Glyph};
use ab_glyph_rasterizer::{point, Rasterizer};
use plotters::prelude::{BitMapBackend, DrawingBackend, RGBAColor, SVGBackend, ShapeStyle};
use plotters_backend::{
    text_anchor::{HPos, Pos, VPos},
    BackendColor, BackendTextStyle, DrawingErrorKind, FontFamily, FontTransform,
};

/// A point in figure coordinates: points (1/72 in) from the top-left corner, y downwards.
pub(crate) type P = (f64, f64);

/// SVG user units per point (coordinates are integers in plotters' SVG backend; 0.1 pt resolution).
pub(crate) const SVG_UNITS_PER_PT: f64 = 10.0;

/// An sRGB colour with opacity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Paint {
    /// Red, green, blue (0–255).
    pub rgb: (u8, u8, u8),
    /// Opacity in 0..=1.
    pub alpha: f64,
}

impl Paint {
    /// An opaque colour.
    pub const fn rgb(r: u8, g: u8, b: u8) -> Paint {
        Paint {
            rgb: (r, g, b),
            alpha: 1.0,
        }
    }

    /// The same colour with opacity `alpha`.
    pub const fn alpha(self, alpha: f64) -> Paint {
        Paint {
            rgb: self.rgb,
            alpha,
        }
    }

    fn backend(self, coverage: f64) -> BackendColor {
        BackendColor {
            alpha: (self.alpha * coverage).clamp(0.0, 1.0),
            rgb: self.rgb,
        }
    }

    fn rgba(self) -> RGBAColor {
        RGBAColor(
            self.rgb.0,
            self.rgb.1,
            self.rgb.2,
            self.alpha.clamp(0.0, 1.0),
        )
    }
}

/// Axis-aligned rectangle in points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rect {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl Rect {
    pub fn new(x0: f64, y0: f64, x1: f64, y1: f64) -> Rect {
        Rect {
            x0: x0.min(x1),
            y0: y0.min(y1),
            x1: x0.max(x1),
            y1: y0.max(y1),
        }
    }
    pub fn width(&self) -> f64 {
        self.x1 - self.x0
    }
    pub fn height(&self) -> f64 {
        self.y1 - self.y0
    }
    pub fn union(&self, o: &Rect) -> Rect {
        Rect {
            x0: self.x0.min(o.x0),
            y0: self.y0.min(o.y0),
            x1: self.x1.max(o.x1),
            y1: self.y1.max(o.y1),
        }
    }
}

/// How an open stroke ends (matplotlib's `capstyle`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cap {
    /// Ends exactly at the end points (dashes, event ticks).
    Butt,
    /// Extends half a line width beyond the end points (matplotlib's solid lines).
    Projecting,
}

/// Horizontal alignment of text relative to its anchor, along the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HAlign {
    Left,
    Center,
    Right,
}

/// One element of the display list.
#[derive(Debug, Clone)]
pub(crate) enum Item {
    /// An open polyline of width `width` pt, optionally dashed (on/off lengths in pt) and clipped.
    Stroke {
        pts: Vec<P>,
        width: f64,
        paint: Paint,
        dash: Option<Vec<f64>>,
        cap: Cap,
        clip: Option<Rect>,
    },
    /// A filled polygon (nonzero rule), optionally clipped.
    Fill {
        pts: Vec<P>,
        paint: Paint,
        clip: Option<Rect>,
    },
    /// A filled disk (scatter marker).
    Disk {
        center: P,
        radius: f64,
        paint: Paint,
    },
    /// One line of text; `at` is the baseline anchor, `rot90` turns it to read bottom-to-top.
    Text {
        text: String,
        at: P,
        size: f64,
        paint: Paint,
        ha: HAlign,
        rot90: bool,
    },
}

/// A figure's display list: its size in points and items with their z-order (stable within equal z).
#[derive(Debug, Clone)]
pub(crate) struct Scene {
    pub width_pt: f64,
    pub height_pt: f64,
    items: Vec<(f64, Item)>,
}

impl Scene {
    pub fn new(width_in: f64, height_in: f64) -> Scene {
        Scene {
            width_pt: width_in * 72.0,
            height_pt: height_in * 72.0,
            items: Vec::new(),
        }
    }

    pub fn push(&mut self, z: f64, item: Item) {
        self.items.push((z, item));
    }

    /// Items sorted by z-order (stable).
    fn sorted(&self) -> Vec<&Item> {
        let mut v: Vec<&(f64, Item)> = self.items.iter().collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v.into_iter().map(|(_, i)| i).collect()
    }
}

// ---------------------------------------------------------------------------------------------------
// Geometry helpers (all in points unless stated)

/// Splits a polyline into dashes following the on/off `pattern` (lengths in pt), starting "on".
pub(crate) fn dash_polyline(pts: &[P], pattern: &[f64]) -> Vec<Vec<P>> {
    let pattern: Vec<f64> = pattern.iter().map(|v| v.max(1e-3)).collect();
    if pattern.is_empty() || pts.len() < 2 {
        return vec![pts.to_vec()];
    }
    let mut out = Vec::new();
    let mut idx = 0usize; // index into pattern; even = on
    let mut left = pattern[0];
    let mut cur: Vec<P> = vec![pts[0]];
    for w in pts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let mut t = 0.0;
        while len - t > left {
            t += left;
            let p = (a.0 + (b.0 - a.0) * t / len, a.1 + (b.1 - a.1) * t / len);
            if idx.is_multiple_of(2) {
                cur.push(p);
                out.push(std::mem::take(&mut cur));
            } else {
                cur = vec![p];
            }
            idx = (idx + 1) % pattern.len();
            left = pattern[idx];
        }
        left -= len - t;
        if idx.is_multiple_of(2) {
            cur.push(b);
        }
    }
    if idx.is_multiple_of(2) && cur.len() >= 2 {
        out.push(cur);
    }
    out
}

/// Clips a polyline to a rectangle (Liang–Barsky per segment); returns the visible pieces.
pub(crate) fn clip_polyline(pts: &[P], r: &Rect) -> Vec<Vec<P>> {
    let mut out: Vec<Vec<P>> = Vec::new();
    let mut cur: Vec<P> = Vec::new();
    for w in pts.windows(2) {
        let (a, b) = (w[0], w[1]);
        match clip_segment(a, b, r) {
            Some((p, q, clipped_start, clipped_end)) => {
                if cur.is_empty() || clipped_start {
                    if cur.len() >= 2 {
                        out.push(std::mem::take(&mut cur));
                    }
                    cur = vec![p];
                }
                cur.push(q);
                if clipped_end {
                    out.push(std::mem::take(&mut cur));
                }
            }
            None => {
                if cur.len() >= 2 {
                    out.push(std::mem::take(&mut cur));
                }
                cur.clear();
            }
        }
    }
    if cur.len() >= 2 {
        out.push(cur);
    }
    out
}

/// Liang–Barsky: the visible part of segment a→b and whether its start / end were cut.
fn clip_segment(a: P, b: P, r: &Rect) -> Option<(P, P, bool, bool)> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let mut t0 = 0.0f64;
    let mut t1 = 1.0f64;
    for (p, q) in [
        (-dx, a.0 - r.x0),
        (dx, r.x1 - a.0),
        (-dy, a.1 - r.y0),
        (dy, r.y1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                if t > t1 {
                    return None;
                }
                t0 = t0.max(t);
            } else {
                if t < t0 {
                    return None;
                }
                t1 = t1.min(t);
            }
        }
    }
    Some((
        (a.0 + t0 * dx, a.1 + t0 * dy),
        (a.0 + t1 * dx, a.1 + t1 * dy),
        t0 > 0.0,
        t1 < 1.0,
    ))
}

/// Clips a polygon to a rectangle (Sutherland–Hodgman).
pub(crate) fn clip_polygon(pts: &[P], r: &Rect) -> Vec<P> {
    let mut poly = pts.to_vec();
    type Inside = fn(P, &Rect) -> bool;
    type Cross = fn(P, P, &Rect) -> P;
    let edges: [(Inside, Cross); 4] = [
        (|p, r| p.0 >= r.x0, |a, b, r| lerp_x(a, b, r.x0)),
        (|p, r| p.0 <= r.x1, |a, b, r| lerp_x(a, b, r.x1)),
        (|p, r| p.1 >= r.y0, |a, b, r| lerp_y(a, b, r.y0)),
        (|p, r| p.1 <= r.y1, |a, b, r| lerp_y(a, b, r.y1)),
    ];
    for (inside, cross) in edges {
        if poly.is_empty() {
            break;
        }
        let input = std::mem::take(&mut poly);
        let mut prev = input[input.len() - 1];
        for &p in &input {
            match (inside(p, r), inside(prev, r)) {
                (true, true) => poly.push(p),
                (true, false) => {
                    poly.push(cross(prev, p, r));
                    poly.push(p);
                }
                (false, true) => poly.push(cross(prev, p, r)),
                (false, false) => {}
            }
            prev = p;
        }
    }
    poly
}

fn lerp_x(a: P, b: P, x: f64) -> P {
    let t = if b.0 == a.0 {
        0.0
    } else {
        (x - a.0) / (b.0 - a.0)
    };
    (x, a.1 + t * (b.1 - a.1))
}

fn lerp_y(a: P, b: P, y: f64) -> P {
    let t = if b.1 == a.1 {
        0.0
    } else {
        (y - a.1) / (b.1 - a.1)
    };
    (a.0 + t * (b.0 - a.0), y)
}

/// Signed area (shoelace); positive = clockwise on a y-down canvas.
fn signed_area(p: &[P]) -> f64 {
    let n = p.len();
    (0..n)
        .map(|i| {
            let (a, b) = (p[i], p[(i + 1) % n]);
            a.0 * b.1 - b.0 * a.1
        })
        .sum::<f64>()
        * 0.5
}

/// Regular polygon approximating a circle; `step` is the wanted chord length.
pub(crate) fn circle_polygon(c: P, r: f64, step: f64) -> Vec<P> {
    let n = ((std::f64::consts::TAU * r / step.max(1e-6)).ceil() as usize).clamp(8, 96);
    (0..n)
        .map(|i| {
            let a = std::f64::consts::TAU * i as f64 / n as f64;
            (c.0 + r * a.cos(), c.1 + r * a.sin())
        })
        .collect()
}

/// Rounded rectangle outline (matplotlib `boxstyle='round'`), corner radius `rad`.
pub(crate) fn rounded_rect(r: &Rect, rad: f64) -> Vec<P> {
    let rad = rad.min(r.width() / 2.0).min(r.height() / 2.0).max(0.0);
    let mut out = Vec::new();
    let corners = [
        ((r.x1 - rad, r.y0 + rad), -90.0f64),
        ((r.x1 - rad, r.y1 - rad), 0.0),
        ((r.x0 + rad, r.y1 - rad), 90.0),
        ((r.x0 + rad, r.y0 + rad), 180.0),
    ];
    for (c, start) in corners {
        for k in 0..=8 {
            let a = (start + 90.0 * k as f64 / 8.0).to_radians();
            out.push((c.0 + rad * a.cos(), c.1 + rad * a.sin()));
        }
    }
    out
}

/// Outline polygons of a stroked polyline (segments, round joins, caps), all oriented the same way so a
/// nonzero coverage accumulation unions them without double-counting.
fn stroke_polygons(pts: &[P], width: f64, cap: Cap) -> Vec<Vec<P>> {
    let mut p: Vec<P> = Vec::with_capacity(pts.len());
    for &q in pts {
        if p.last()
            .is_none_or(|l: &P| (l.0 - q.0).abs() + (l.1 - q.1).abs() > 1e-9)
        {
            p.push(q);
        }
    }
    let h = width / 2.0;
    let mut polys = Vec::new();
    if p.len() < 2 {
        if let (Some(&c), Cap::Projecting) = (p.first(), cap) {
            polys.push(vec![
                (c.0 - h, c.1 - h),
                (c.0 + h, c.1 - h),
                (c.0 + h, c.1 + h),
                (c.0 - h, c.1 + h),
            ]);
        }
        return polys;
    }
    let last = p.len() - 2;
    for (i, w) in p.windows(2).enumerate() {
        let (mut a, mut b) = (w[0], w[1]);
        let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let d = ((b.0 - a.0) / len, (b.1 - a.1) / len);
        if cap == Cap::Projecting {
            if i == 0 {
                a = (a.0 - d.0 * h, a.1 - d.1 * h);
            }
            if i == last {
                b = (b.0 + d.0 * h, b.1 + d.1 * h);
            }
        }
        let n = (-d.1 * h, d.0 * h);
        polys.push(vec![
            (a.0 + n.0, a.1 + n.1),
            (b.0 + n.0, b.1 + n.1),
            (b.0 - n.0, b.1 - n.1),
            (a.0 - n.0, a.1 - n.1),
        ]);
        if i > 0 {
            polys.push(circle_polygon(a, h, h.max(0.05) * 0.5));
        }
    }
    for poly in &mut polys {
        if signed_area(poly) < 0.0 {
            poly.reverse();
        }
    }
    polys
}

/// The visible pieces of a stroke after dashing and clipping.
fn stroke_pieces(pts: &[P], dash: Option<&[f64]>, clip: Option<&Rect>) -> Vec<Vec<P>> {
    let dashed = match dash {
        Some(d) => dash_polyline(pts, d),
        None => vec![pts.to_vec()],
    };
    match clip {
        Some(r) => dashed.iter().flat_map(|d| clip_polyline(d, r)).collect(),
        None => dashed,
    }
}

// ---------------------------------------------------------------------------------------------------
// PNG rendering

fn backend_err<E: std::error::Error + Send + Sync>(e: DrawingErrorKind<E>) -> Error {
    Error::invalid("figure rendering", e.to_string())
}

/// Rasterizes polygons (already in px) into coverage and blends `paint` once per pixel.
fn fill_coverage<B: DrawingBackend>(
    be: &mut B,
    polys: &[Vec<P>],
    paint: Paint,
    (w, h): (u32, u32),
) -> Result<()> {
    let canvas = Rect::new(-1.0, -1.0, f64::from(w) + 1.0, f64::from(h) + 1.0);
    let clipped: Vec<Vec<P>> = polys
        .iter()
        .map(|p| clip_polygon(p, &canvas))
        .filter(|p| p.len() >= 3)
        .collect();
    let mut bb: Option<Rect> = None;
    for p in clipped.iter().flatten() {
        let r = Rect::new(p.0, p.1, p.0, p.1);
        bb = Some(bb.map_or(r, |b| b.union(&r)));
    }
    let Some(bb) = bb else { return Ok(()) };
    let (x0, y0) = (bb.x0.floor(), bb.y0.floor());
    let bw = (bb.x1.ceil() - x0) as usize + 2;
    let bh = (bb.y1.ceil() - y0) as usize + 1;
    let mut r = Rasterizer::new(bw, bh);
    for poly in &clipped {
        for i in 0..poly.len() {
            let (a, b) = (poly[i], poly[(i + 1) % poly.len()]);
            r.draw_line(
                point((a.0 - x0) as f32, (a.1 - y0) as f32),
                point((b.0 - x0) as f32, (b.1 - y0) as f32),
            );
        }
    }
    let mut result = Ok(());
    r.for_each_pixel_2d(|x, y, c| {
        if c > 1.0 / 512.0 && result.is_ok() {
            let (px, py) = (x0 as i32 + x as i32, y0 as i32 + y as i32);
            if px >= 0 && py >= 0 && (px as u32) < w && (py as u32) < h {
                result = be
                    .draw_pixel((px, py), paint.backend(f64::from(c)))
                    .map_err(backend_err);
            }
        }
    });
    result
}

/// One line of text to rasterize, in pixel units.
struct TextRun<'a> {
    text: &'a str,
    at: P,
    size_px: f64,
    paint: Paint,
    ha: HAlign,
    rot90: bool,
}

/// Draws one line of text into the bitmap with the embedded font.
fn text_bitmap<B: DrawingBackend>(be: &mut B, run: &TextRun<'_>, (w, h): (u32, u32)) -> Result<()> {
    let TextRun {
        text,
        at,
        size_px,
        paint,
        ha,
        rot90,
    } = *run;
    let f = font::face()?;
    let width = font::line_metrics(text, size_px).width;
    let shift = match ha {
        HAlign::Left => 0.0,
        HAlign::Center => -width / 2.0,
        HAlign::Right => -width,
    };
    // Origin of the baseline in the text's own frame (x along the text), and where it lands.
    let (ox, oy) = if rot90 {
        (at.0.round(), (at.1 - shift).round())
    } else {
        (at.0 + shift, at.1)
    };
    let (fx, fy) = if rot90 {
        (0.0, 0.0)
    } else {
        (ox - ox.floor(), oy - oy.floor())
    };
    let (ix, iy) = (ox.floor() as i32, oy.floor() as i32);
    let scale = font::px_scale(f, size_px as f32);
    let mut result = Ok(());
    for (gid, gx) in font::glyph_positions(f, text, size_px as f32) {
        let glyph = Glyph {
            id: gid,
            scale,
            position: point(fx as f32 + gx, fy as f32),
        };
        let Some(og) = f.outline_glyph(glyph) else {
            continue;
        };
        let b = og.px_bounds();
        og.draw(|gx, gy, c| {
            if c <= 1.0 / 512.0 || result.is_err() {
                return;
            }
            let lx = b.min.x as i32 + gx as i32;
            let ly = b.min.y as i32 + gy as i32;
            let (px, py) = if rot90 {
                (ix + ly, iy - lx - 1)
            } else {
                (ix + lx, iy + ly)
            };
            if px >= 0 && py >= 0 && (px as u32) < w && (py as u32) < h {
                result = be
                    .draw_pixel((px, py), paint.backend(f64::from(c)))
                    .map_err(backend_err);
            }
        });
    }
    result
}

/// Renders the scene to an RGB pixel buffer at `dpi` (white background) and encodes it as PNG.
pub(crate) fn render_png(scene: &Scene, dpi: f64) -> Result<(Vec<u8>, (u32, u32))> {
    let s = dpi / 72.0;
    let (w, h) = (
        (scene.width_pt * s).round().max(1.0) as u32,
        (scene.height_pt * s).round().max(1.0) as u32,
    );
    let mut buf = vec![255u8; w as usize * h as usize * 3];
    {
        let mut be = BitMapBackend::with_buffer(&mut buf, (w, h));
        let px = |p: &P| (p.0 * s, p.1 * s);
        for item in scene.sorted() {
            match item {
                Item::Stroke {
                    pts,
                    width,
                    paint,
                    dash,
                    cap,
                    clip,
                } => {
                    let polys: Vec<Vec<P>> = stroke_pieces(pts, dash.as_deref(), clip.as_ref())
                        .iter()
                        .flat_map(|piece| {
                            let piece: Vec<P> = piece.iter().map(px).collect();
                            stroke_polygons(&piece, width * s, *cap)
                        })
                        .collect();
                    fill_coverage(&mut be, &polys, *paint, (w, h))?;
                }
                Item::Fill { pts, paint, clip } => {
                    let poly = match clip {
                        Some(r) => clip_polygon(pts, r),
                        None => pts.clone(),
                    };
                    let poly: Vec<P> = poly.iter().map(px).collect();
                    fill_coverage(&mut be, &[poly], *paint, (w, h))?;
                }
                Item::Disk {
                    center,
                    radius,
                    paint,
                } => {
                    let poly = circle_polygon(px(center), radius * s, 0.5);
                    fill_coverage(&mut be, &[poly], *paint, (w, h))?;
                }
                Item::Text {
                    text,
                    at,
                    size,
                    paint,
                    ha,
                    rot90,
                } => {
                    let run = TextRun {
                        text,
                        at: px(at),
                        size_px: size * s,
                        paint: *paint,
                        ha: *ha,
                        rot90: *rot90,
                    };
                    text_bitmap(&mut be, &run, (w, h))?
                }
            }
        }
        be.present().map_err(backend_err)?;
    }
    let png = encode_png(&buf, w, h, dpi)?;
    Ok((png, (w, h)))
}

/// Encodes an RGB8 buffer as PNG carrying its resolution (pHYs) like matplotlib's `savefig(dpi=...)`.
fn encode_png(rgb: &[u8], w: u32, h: u32, dpi: f64) -> Result<Vec<u8>> {
    let perr = |e: png::EncodingError| Error::invalid("PNG encoding", e.to_string());
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let ppm = (dpi / 0.0254).round() as u32;
        enc.set_pixel_dims(Some(png::PixelDimensions {
            xppu: ppm,
            yppu: ppm,
            unit: png::Unit::Meter,
        }));
        let mut wr = enc.write_header().map_err(perr)?;
        wr.write_image_data(rgb).map_err(perr)?;
        wr.finish().map_err(perr)?;
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------------
// SVG rendering

/// Text style handed to plotters' SVG backend: only family, size, colour, anchor and rotation are used.
struct SvgText {
    size_units: f64,
    color: BackendColor,
    anchor: Pos,
    transform: FontTransform,
}

impl BackendTextStyle for SvgText {
    type FontError = std::fmt::Error;

    fn color(&self) -> BackendColor {
        self.color
    }
    fn size(&self) -> f64 {
        // plotters writes font-size = size / 1.24.
        self.size_units * 1.24
    }
    fn transform(&self) -> FontTransform {
        self.transform.clone()
    }
    fn anchor(&self) -> Pos {
        self.anchor
    }
    fn family(&self) -> FontFamily<'_> {
        FontFamily::Name(font::SVG_FONT_FAMILY)
    }
    fn layout_box(
        &self,
        _text: &str,
    ) -> std::result::Result<((i32, i32), (i32, i32)), Self::FontError> {
        Ok(((0, 0), (0, 0)))
    }
    fn draw<E, DrawFunc: FnMut(i32, i32, BackendColor) -> std::result::Result<(), E>>(
        &self,
        _text: &str,
        _pos: (i32, i32),
        _draw: DrawFunc,
    ) -> std::result::Result<std::result::Result<(), E>, Self::FontError> {
        Ok(Ok(()))
    }
}

/// Renders the scene as an SVG document (text kept as `<text>`), sized in inches.
pub(crate) fn render_svg(scene: &Scene) -> Result<String> {
    let k = SVG_UNITS_PER_PT;
    let (w, h) = (
        (scene.width_pt * k).round().max(1.0) as u32,
        (scene.height_pt * k).round().max(1.0) as u32,
    );
    let q = |p: &P| ((p.0 * k).round() as i32, (p.1 * k).round() as i32);
    let mut out = String::new();
    {
        let mut be = SVGBackend::with_string(&mut out, (w, h));
        be.draw_rect(
            (0, 0),
            (w as i32, h as i32),
            &ShapeStyle {
                color: RGBAColor(255, 255, 255, 1.0),
                filled: true,
                stroke_width: 0,
            },
            true,
        )
        .map_err(backend_err)?;
        for item in scene.sorted() {
            match item {
                Item::Stroke {
                    pts,
                    width,
                    paint,
                    dash,
                    clip,
                    ..
                } => {
                    let style = ShapeStyle {
                        color: paint.rgba(),
                        filled: false,
                        stroke_width: (width * k).round().max(1.0) as u32,
                    };
                    for piece in stroke_pieces(pts, dash.as_deref(), clip.as_ref()) {
                        be.draw_path(piece.iter().map(q), &style)
                            .map_err(backend_err)?;
                    }
                }
                Item::Fill { pts, paint, clip } => {
                    let poly = match clip {
                        Some(r) => clip_polygon(pts, r),
                        None => pts.clone(),
                    };
                    if poly.len() >= 3 {
                        let style = ShapeStyle {
                            color: paint.rgba(),
                            filled: true,
                            stroke_width: 0,
                        };
                        be.fill_polygon(poly.iter().map(q), &style)
                            .map_err(backend_err)?;
                    }
                }
                Item::Disk {
                    center,
                    radius,
                    paint,
                } => {
                    let style = ShapeStyle {
                        color: paint.rgba(),
                        filled: true,
                        stroke_width: 0,
                    };
                    be.draw_circle(
                        q(center),
                        (radius * k).round().max(1.0) as u32,
                        &style,
                        true,
                    )
                    .map_err(backend_err)?;
                }
                Item::Text {
                    text,
                    at,
                    size,
                    paint,
                    ha,
                    rot90,
                } => {
                    // plotters places a top-anchored line's baseline 0.76 em below (or, rotated, right of) the anchor.
                    let em = size * 0.76;
                    let anchor_pt = if *rot90 {
                        (at.0 - em, at.1)
                    } else {
                        (at.0, at.1 - em)
                    };
                    let style = SvgText {
                        size_units: size * k,
                        color: paint.backend(1.0),
                        anchor: Pos::new(
                            match ha {
                                HAlign::Left => HPos::Left,
                                HAlign::Center => HPos::Center,
                                HAlign::Right => HPos::Right,
                            },
                            VPos::Top,
                        ),
                        transform: if *rot90 {
                            FontTransform::Rotate270
                        } else {
                            FontTransform::None
                        },
                    };
                    be.draw_text(text, &style, q(&anchor_pt))
                        .map_err(backend_err)?;
                }
            }
        }
        be.present().map_err(backend_err)?;
    }
    Ok(finish_svg(out, scene, (w, h)))
}

/// Sizes the document in inches (like matplotlib's pt-sized SVGs) and makes polyline joins round.
fn finish_svg(svg: String, scene: &Scene, (w, h): (u32, u32)) -> String {
    let old = format!(r#"<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}""#);
    let new = format!(
        r#"<svg width="{:.4}in" height="{:.4}in" viewBox="0 0 {w} {h}""#,
        scene.width_pt / 72.0,
        scene.height_pt / 72.0
    );
    let mut s = svg.replacen(&old, &new, 1);
    // plotters puts text content on its own line; keep it tight so the text is exactly the label.
    let mut tight = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(i) = rest.find("<text ") {
        let (head, tail) = rest.split_at(i);
        tight.push_str(head);
        match (tail.find(">\n"), tail.find("\n</text>")) {
            (Some(a), Some(b)) if a < b => {
                tight.push_str(&tail[..=a]);
                tight.push_str(&tail[a + 2..b]);
                tight.push_str("</text>");
                rest = &tail[b + "\n</text>".len()..];
            }
            _ => {
                tight.push_str(tail);
                rest = "";
            }
        }
    }
    tight.push_str(rest);
    s = tight;
    if let Some(end) = s.find(">\n") {
        s.insert_str(end + 2, "<g stroke-linejoin=\"round\">\n");
    }
    if let Some(close) = s.rfind("</svg>") {
        s.insert_str(close, "</g>\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashes_cover_expected_fraction() {
        let d = dash_polyline(&[(0.0, 0.0), (10.0, 0.0)], &[2.0, 1.0]);
        // on [0,2], [3,5], [6,8], [9,10]
        assert_eq!(d.len(), 4);
        assert!((d[1][0].0 - 3.0).abs() < 1e-9 && (d[1][1].0 - 5.0).abs() < 1e-9);
        assert!((d[3][1].0 - 10.0).abs() < 1e-9);
    }

    #[test]
    fn polyline_clipping_splits_pieces() {
        let r = Rect::new(0.0, 0.0, 10.0, 10.0);
        let pieces = clip_polyline(
            &[
                (-5.0, 5.0),
                (5.0, 5.0),
                (5.0, 15.0),
                (5.0, 20.0),
                (8.0, 5.0),
            ],
            &r,
        );
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[0][0], (0.0, 5.0));
        assert_eq!(pieces[0].last().copied(), Some((5.0, 10.0)));
    }

    #[test]
    fn polygon_clipping() {
        let r = Rect::new(0.0, 0.0, 10.0, 10.0);
        let p = clip_polygon(&[(-5.0, -5.0), (5.0, -5.0), (5.0, 5.0), (-5.0, 5.0)], &r);
        assert!((signed_area(&p).abs() - 25.0).abs() < 1e-9);
    }
}
