//! The PNG renderer: tiny-skia rasterizes every path (anti-aliased, round joins, dashes, one alpha per
//! path, clipping by mask), text is drawn with the embedded font's glyph coverage (ab_glyph), and the
//! pixels are encoded with their resolution (pHYs) like matplotlib's `savefig(dpi=...)`.

use crate::canvas::{Cap, HAlign, Item, Rect, Scene, P};
use crate::color::Color;
use crate::font;
use ab_glyph::{point, Font, Glyph};
use eiann::{Error, Result};
use tiny_skia::{
    FillRule, FilterQuality, LineCap, LineJoin, Mask, Paint, PathBuilder, Pixmap, PixmapPaint,
    Stroke, StrokeDash, Transform,
};

/// Largest canvas side in pixels (a 40 in figure at 300 dpi); bigger requests are an error.
const MAX_SIDE_PX: u32 = 12_000;

fn sk_paint(c: Color) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color_rgba8(
        c.rgb.0,
        c.rgb.1,
        c.rgb.2,
        (c.opacity() * 255.0).round() as u8,
    );
    p.anti_alias = true;
    p
}

fn polyline(pts: &[P], closed: bool) -> Option<tiny_skia::Path> {
    let mut pb = PathBuilder::new();
    let mut it = pts.iter().filter(|p| p.0.is_finite() && p.1.is_finite());
    let first = it.next()?;
    pb.move_to(first.0 as f32, first.1 as f32);
    for p in it {
        pb.line_to(p.0 as f32, p.1 as f32);
    }
    if closed {
        pb.close();
    }
    pb.finish()
}

/// Clip masks by rectangle (axes clip their artists to the data area; one mask per axes).
struct Masks {
    size: (u32, u32),
    scale: Transform,
    cache: Vec<(Rect, Mask)>,
}

impl Masks {
    fn get(&mut self, r: Option<&Rect>) -> Option<&Mask> {
        let r = r?;
        let i = match self.cache.iter().position(|(k, _)| k == r) {
            Some(i) => i,
            None => {
                let mut m = Mask::new(self.size.0, self.size.1)?;
                let rect =
                    tiny_skia::Rect::from_ltrb(r.x0 as f32, r.y0 as f32, r.x1 as f32, r.y1 as f32)?;
                m.fill_path(
                    &PathBuilder::from_rect(rect),
                    FillRule::Winding,
                    true,
                    self.scale,
                );
                self.cache.push((*r, m));
                self.cache.len() - 1
            }
        };
        Some(&self.cache[i].1)
    }
}

/// Renders the scene to RGB pixels at `dpi` (white background) and encodes them as PNG.
pub(crate) fn render_png(scene: &Scene, dpi: f64) -> Result<(Vec<u8>, (u32, u32))> {
    let s = dpi / 72.0;
    let side = |pt: f64| (pt * s).round().max(1.0);
    let (wf, hf) = (side(scene.width_pt), side(scene.height_pt));
    if !(wf.is_finite() && hf.is_finite())
        || wf > f64::from(MAX_SIDE_PX)
        || hf > f64::from(MAX_SIDE_PX)
    {
        return Err(Error::invalid(
            "figure size",
            format!("{wf} × {hf} px exceeds {MAX_SIDE_PX} px per side"),
        ));
    }
    let (w, h) = (wf as u32, hf as u32);
    let mut pm = Pixmap::new(w, h).ok_or_else(|| {
        Error::invalid("figure rendering", format!("cannot allocate {w} × {h} px"))
    })?;
    pm.fill(tiny_skia::Color::WHITE);
    let ts = Transform::from_scale(s as f32, s as f32);
    let mut masks = Masks {
        size: (w, h),
        scale: ts,
        cache: Vec::new(),
    };
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
                let Some(path) = polyline(pts, false) else {
                    continue;
                };
                let mut st = Stroke {
                    width: *width as f32,
                    line_cap: match cap {
                        Cap::Butt => LineCap::Butt,
                        Cap::Projecting => LineCap::Square,
                    },
                    line_join: LineJoin::Round,
                    ..Stroke::default()
                };
                if let Some(d) = dash {
                    let d: Vec<f32> = d.iter().map(|v| v.max(1e-3) as f32).collect();
                    st.dash = StrokeDash::new(d, 0.0);
                }
                pm.stroke_path(&path, &sk_paint(*paint), &st, ts, masks.get(clip.as_ref()));
            }
            Item::Fill { pts, paint, clip } => {
                if let Some(path) = polyline(pts, true) {
                    pm.fill_path(
                        &path,
                        &sk_paint(*paint),
                        FillRule::Winding,
                        ts,
                        masks.get(clip.as_ref()),
                    );
                }
            }
            Item::Disk {
                center,
                radius,
                paint,
                clip,
            } => {
                if let Some(path) =
                    PathBuilder::from_circle(center.0 as f32, center.1 as f32, *radius as f32)
                {
                    pm.fill_path(
                        &path,
                        &sk_paint(*paint),
                        FillRule::Winding,
                        ts,
                        masks.get(clip.as_ref()),
                    );
                }
            }
            Item::Image { image, rect, clip } => {
                let Some(mut src) = Pixmap::new(image.width, image.height) else {
                    continue;
                };
                for (px, rgba) in src.pixels_mut().iter_mut().zip(image.rgba.chunks_exact(4)) {
                    let c = tiny_skia::ColorU8::from_rgba(rgba[0], rgba[1], rgba[2], rgba[3]);
                    *px = c.premultiply();
                }
                let t = Transform::from_row(
                    (rect.width() / f64::from(image.width)) as f32,
                    0.0,
                    0.0,
                    (rect.height() / f64::from(image.height)) as f32,
                    rect.x0 as f32,
                    rect.y0 as f32,
                )
                .post_concat(ts);
                let pp = PixmapPaint {
                    quality: FilterQuality::Nearest,
                    ..PixmapPaint::default()
                };
                pm.draw_pixmap(0, 0, src.as_ref(), &pp, t, masks.get(clip.as_ref()));
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
                    at: (at.0 * s, at.1 * s),
                    size_px: size * s,
                    paint: *paint,
                    ha: *ha,
                    rot90: *rot90,
                };
                draw_text(&mut pm, &run)?;
            }
        }
    }
    // The background is opaque, so the premultiplied pixels are the colours themselves.
    let rgb: Vec<u8> = pm
        .pixels()
        .iter()
        .flat_map(|p| {
            let c = p.demultiply();
            [c.red(), c.green(), c.blue()]
        })
        .collect();
    Ok((encode_png(&rgb, w, h, dpi)?, (w, h)))
}

/// One line of text to rasterize, in pixel units.
struct TextRun<'a> {
    text: &'a str,
    at: P,
    size_px: f64,
    paint: Color,
    ha: HAlign,
    rot90: bool,
}

/// Blends `paint` at `coverage` (0..=1) over pixel (x, y) (source-over, premultiplied).
fn blend(pm: &mut Pixmap, x: i32, y: i32, paint: Color, coverage: f32) {
    let (w, h) = (pm.width() as i32, pm.height() as i32);
    if x < 0 || y < 0 || x >= w || y >= h {
        return;
    }
    let a = (paint.opacity() as f32 * coverage).clamp(0.0, 1.0);
    let idx = (y * w + x) as usize;
    let px = &mut pm.pixels_mut()[idx];
    let mix = |src: u8, dst: u8| (f32::from(src) * a + f32::from(dst) * (1.0 - a)).round() as u8;
    let out_a = mix(255, px.alpha());
    let (r, g, b) = (
        mix(paint.rgb.0, px.red()),
        mix(paint.rgb.1, px.green()),
        mix(paint.rgb.2, px.blue()),
    );
    if let Some(c) =
        tiny_skia::PremultipliedColorU8::from_rgba(r.min(out_a), g.min(out_a), b.min(out_a), out_a)
    {
        *px = c;
    }
}

/// Draws one line of text with the embedded font (glyph coverage from ab_glyph).
fn draw_text(pm: &mut Pixmap, run: &TextRun<'_>) -> Result<()> {
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
            if c <= 1.0 / 512.0 {
                return;
            }
            let lx = b.min.x as i32 + gx as i32;
            let ly = b.min.y as i32 + gy as i32;
            let (px, py) = if rot90 {
                (ix + ly, iy - lx - 1)
            } else {
                (ix + lx, iy + ly)
            };
            blend(pm, px, py, paint, c);
        });
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A translucent polyline doubling back on itself is blended once: its pixels are never darker than
    /// one layer of the colour (the old per-segment rasterizers darkened every joint).
    #[test]
    fn one_alpha_per_path() {
        let mut scene = Scene::new(1.0, 1.0);
        scene.push(
            0.0,
            Item::Stroke {
                pts: vec![(10.0, 36.0), (60.0, 36.0), (12.0, 36.5), (60.0, 37.0)],
                width: 4.0,
                paint: Color::rgb(0, 0, 0).alpha(0.5),
                dash: None,
                cap: Cap::Butt,
                clip: None,
            },
        );
        let (png, (w, h)) = render_png(&scene, 72.0).expect("render");
        assert_eq!((w, h), (72, 72));
        let dec = png::Decoder::new(std::io::Cursor::new(png));
        let mut r = dec.read_info().expect("png");
        let mut buf = vec![0; r.output_buffer_size().expect("size")];
        r.next_frame(&mut buf).expect("frame");
        let darkest = buf.iter().copied().min().expect("pixels");
        assert!((125..=130).contains(&darkest), "darkest channel {darkest}");
    }
}
