//! The SVG renderer: the display list as SVG 1.1 elements in points (sized in inches like matplotlib's
//! SVGs), with text kept as `<text>` in the embedded font's family, dashes as `stroke-dasharray`, clipping
//! as `<clipPath>` and images as embedded PNGs.

use crate::canvas::{Cap, HAlign, Item, Rect, Scene, P};
use crate::color::Color;
use crate::font::SVG_FONT_FAMILY;
use eiann::Result;
use std::fmt::Write;

/// Coordinates with at most 3 decimals (1/1000 pt), without trailing zeros.
fn num(v: f64) -> String {
    let s = format!("{:.3}", if v.is_finite() { v } else { 0.0 });
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" || s.is_empty() {
        "0".to_string()
    } else {
        s.to_string()
    }
}

fn points(pts: &[P]) -> String {
    let mut s = String::with_capacity(pts.len() * 14);
    for p in pts.iter().filter(|p| p.0.is_finite() && p.1.is_finite()) {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(&num(p.0));
        s.push(',');
        s.push_str(&num(p.1));
    }
    s
}

/// Escapes text for XML content and attributes.
fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            _ => o.push(c),
        }
    }
    o
}

fn fill_attrs(c: Color) -> String {
    let a = c.opacity();
    if a < 1.0 {
        format!(r#"fill="{}" fill-opacity="{}""#, c.to_hex(), num(a))
    } else {
        format!(r#"fill="{}""#, c.to_hex())
    }
}

/// Renders the scene as an SVG document (text kept as `<text>`), sized in inches, coordinates in pt.
pub(crate) fn render_svg(scene: &Scene) -> Result<String> {
    let (w, h) = (scene.width_pt, scene.height_pt);
    let mut clips: Vec<Rect> = Vec::new();
    let mut body = String::new();
    let mut clip_attr = |clip: &Option<Rect>| -> String {
        match clip {
            None => String::new(),
            Some(r) => {
                let i = clips.iter().position(|c| c == r).unwrap_or_else(|| {
                    clips.push(*r);
                    clips.len() - 1
                });
                format!(r#" clip-path="url(#c{i})""#)
            }
        }
    };
    for item in scene.sorted() {
        // Writing into a String cannot fail.
        let _ = match item {
            Item::Stroke {
                pts,
                width,
                paint,
                dash,
                cap,
                clip,
            } => {
                let dash = dash
                    .as_ref()
                    .map(|d| {
                        let v: Vec<String> = d.iter().map(|x| num(*x)).collect();
                        format!(r#" stroke-dasharray="{}""#, v.join(","))
                    })
                    .unwrap_or_default();
                let cap = match cap {
                    Cap::Butt => "butt",
                    Cap::Projecting => "square",
                };
                let a = paint.opacity();
                let op = if a < 1.0 {
                    format!(r#" stroke-opacity="{}""#, num(a))
                } else {
                    String::new()
                };
                writeln!(
                    body,
                    r#"<polyline fill="none" stroke="{}"{op} stroke-width="{}" stroke-linecap="{cap}"{dash}{} points="{}"/>"#,
                    paint.to_hex(),
                    num(*width),
                    clip_attr(clip),
                    points(pts)
                )
            }
            Item::Fill { pts, paint, clip } => writeln!(
                body,
                r#"<polygon {}{} points="{}"/>"#,
                fill_attrs(*paint),
                clip_attr(clip),
                points(pts)
            ),
            Item::Disk {
                center,
                radius,
                paint,
                clip,
            } => writeln!(
                body,
                r#"<circle cx="{}" cy="{}" r="{}" {}{}/>"#,
                num(center.0),
                num(center.1),
                num(*radius),
                fill_attrs(*paint),
                clip_attr(clip)
            ),
            Item::Image { image, rect, clip } => {
                let png = crate::figure::encode_rgba_png(image)?;
                writeln!(
                    body,
                    r#"<image x="{}" y="{}" width="{}" height="{}" preserveAspectRatio="none" style="image-rendering:pixelated"{} href="data:image/png;base64,{}"/>"#,
                    num(rect.x0),
                    num(rect.y0),
                    num(rect.width()),
                    num(rect.height()),
                    clip_attr(clip),
                    crate::figure::base64(&png)
                )
            }
            Item::Text {
                text,
                at,
                size,
                paint,
                ha,
                rot90,
            } => {
                let anchor = match ha {
                    HAlign::Left => "start",
                    HAlign::Center => "middle",
                    HAlign::Right => "end",
                };
                let rot = if *rot90 {
                    format!(r#" transform="rotate(-90 {} {})""#, num(at.0), num(at.1))
                } else {
                    String::new()
                };
                writeln!(
                    body,
                    r#"<text x="{}" y="{}" text-anchor="{anchor}" font-size="{}" {}{rot}>{}</text>"#,
                    num(at.0),
                    num(at.1),
                    num(*size),
                    fill_attrs(*paint),
                    escape(text)
                )
            }
        };
    }
    let mut out = String::with_capacity(body.len() + 1024);
    let _ = writeln!(
        out,
        r#"<svg width="{:.4}in" height="{:.4}in" viewBox="0 0 {} {}" xmlns="http://www.w3.org/2000/svg" version="1.1">"#,
        w / 72.0,
        h / 72.0,
        num(w),
        num(h)
    );
    if !clips.is_empty() {
        out.push_str("<defs>\n");
        for (i, r) in clips.iter().enumerate() {
            let _ = writeln!(
                out,
                r#"<clipPath id="c{i}"><rect x="{}" y="{}" width="{}" height="{}"/></clipPath>"#,
                num(r.x0),
                num(r.y0),
                num(r.width()),
                num(r.height())
            );
        }
        out.push_str("</defs>\n");
    }
    let _ = writeln!(
        out,
        r##"<rect width="100%" height="100%" fill="#FFFFFF"/>"##
    );
    let _ = writeln!(
        out,
        r#"<g stroke-linejoin="round" font-family="{}">"#,
        SVG_FONT_FAMILY.replace('\'', "&apos;")
    );
    out.push_str(&body);
    out.push_str("</g>\n</svg>\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_text_and_clips() {
        assert_eq!(num(1.5), "1.5");
        assert_eq!(num(2.0), "2");
        assert_eq!(num(-0.0001), "0");
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        let mut s = Scene::new(1.0, 1.0);
        let clip = Some(Rect::new(1.0, 1.0, 50.0, 50.0));
        s.push(
            0.0,
            Item::Stroke {
                pts: vec![(0.0, 0.0), (72.0, 72.0)],
                width: 1.0,
                paint: Color::rgb(255, 0, 0).alpha(0.5),
                dash: Some(vec![3.7, 1.6]),
                cap: Cap::Butt,
                clip,
            },
        );
        s.push(
            1.0,
            Item::Text {
                text: "ΔW <x>".into(),
                at: (10.0, 20.0),
                size: 7.0,
                paint: Color::rgb(0, 0, 0),
                ha: HAlign::Center,
                rot90: true,
            },
        );
        let svg = render_svg(&s).expect("svg");
        assert!(svg.starts_with("<svg width=\"1.0000in\""));
        assert!(svg.contains(r#"stroke-dasharray="3.7,1.6""#));
        assert!(svg.contains(r#"stroke-opacity="0.5""#));
        assert!(svg.contains(r#"clip-path="url(#c0)""#) && svg.contains(r#"<clipPath id="c0">"#));
        assert!(svg.contains(">ΔW &lt;x&gt;</text>"));
        assert!(svg.contains("rotate(-90 10 20)"));
    }
}
