//! The embedded figure font (Lato Regular, SIL OFL 1.1) and the text metrics every layout decision uses.
//!
//! The font is compiled into the crate with `include_bytes!`, so figures render identically on any
//! machine without fontconfig or system fonts (see `assets/fonts/OFL.txt` for provenance and licence).

use ab_glyph::{Font, FontRef, GlyphId};
use std::sync::OnceLock;

/// Raw bytes of the embedded font file.
pub(crate) static FONT_BYTES: &[u8] = include_bytes!("../assets/fonts/Lato-Regular.ttf");

/// CSS `font-family` written into SVG text: the embedded font first, then close metric relatives.
pub(crate) const SVG_FONT_FAMILY: &str =
    "Lato, Avenir, 'Helvetica Neue', Helvetica, Arial, sans-serif";

/// The parsed font, or `None` if the embedded bytes could not be parsed (never expected; checked by a test).
fn font() -> Option<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).ok())
        .as_ref()
}

/// The parsed embedded font, as an error if it is unusable.
pub(crate) fn face() -> eiann::Result<&'static FontRef<'static>> {
    font().ok_or_else(|| {
        eiann::Error::invalid("embedded font", "Lato-Regular.ttf could not be parsed")
    })
}

/// Font units per em of the embedded font.
fn units_per_em(f: &FontRef<'static>) -> f32 {
    f.units_per_em().unwrap_or(1000.0)
}

/// Horizontal layout metrics of one line of text at a given em size (any length unit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LineMetrics {
    /// Advance width of the whole string.
    pub width: f64,
    /// Height above the baseline used for alignment: the ink top of "l" (matplotlib uses "lp").
    pub ascent: f64,
    /// Depth below the baseline used for alignment: the ink bottom of "p".
    pub descent: f64,
}

/// Ink extent of a glyph above (`top`) and below (`bottom`, positive) the baseline, in font units.
fn ink_extent(f: &FontRef<'static>, c: char) -> (f32, f32) {
    match f.outline(f.glyph_id(c)) {
        // ab_glyph stores unscaled bounds as min = (x_min, y_max), max = (x_max, y_min), y up.
        Some(o) => (o.bounds.min.y, -o.bounds.max.y),
        None => (0.0, 0.0),
    }
}

/// Advance width of `text` in font units, with pair kerning.
fn advance_units(f: &FontRef<'static>, text: &str) -> f32 {
    let mut x = 0.0f32;
    let mut prev: Option<GlyphId> = None;
    for c in text.chars() {
        let g = f.glyph_id(c);
        if let Some(p) = prev {
            x += f.kern_unscaled(p, g);
        }
        x += f.h_advance_unscaled(g);
        prev = Some(g);
    }
    x
}

/// Metrics of `text` (a single line) at em size `size`.
pub(crate) fn line_metrics(text: &str, size: f64) -> LineMetrics {
    match font() {
        Some(f) => {
            let k = size / f64::from(units_per_em(f));
            let (asc, _) = ink_extent(f, 'l');
            let (_, desc) = ink_extent(f, 'p');
            LineMetrics {
                width: f64::from(advance_units(f, text)) * k,
                ascent: f64::from(asc) * k,
                descent: f64::from(desc) * k,
            }
        }
        // Fallback so that layout never panics; rendering reports the font error.
        None => LineMetrics {
            width: 0.5 * size * text.chars().count() as f64,
            ascent: 0.72 * size,
            descent: 0.2 * size,
        },
    }
}

/// Per-glyph placement for rasterization: glyph id and pen x position (in px) of each char.
pub(crate) fn glyph_positions(
    f: &FontRef<'static>,
    text: &str,
    size_px: f32,
) -> Vec<(GlyphId, f32)> {
    let k = size_px / units_per_em(f);
    let mut out = Vec::with_capacity(text.len());
    let mut x = 0.0f32;
    let mut prev: Option<GlyphId> = None;
    for c in text.chars() {
        let g = f.glyph_id(c);
        if let Some(p) = prev {
            x += f.kern_unscaled(p, g) * k;
        }
        out.push((g, x));
        x += f.h_advance_unscaled(g) * k;
        prev = Some(g);
    }
    out
}

/// ab_glyph's `PxScale` (which measures ascent − descent) for an em size in px.
pub(crate) fn px_scale(f: &FontRef<'static>, em_px: f32) -> ab_glyph::PxScale {
    ab_glyph::PxScale::from(em_px * f.height_unscaled() / units_per_em(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_font_parses_and_has_needed_glyphs() {
        let f = face().expect("font");
        for c in ['Δ', '−', '×', 'e', '0', '⁻'] {
            assert_ne!(f.glyph_id(c).0, 0, "missing glyph {c}");
        }
        let m = line_metrics("Activity", 7.0);
        assert!(m.width > 15.0 && m.width < 35.0, "{m:?}");
        assert!(m.ascent > 4.0 && m.ascent < 6.5, "{m:?}");
        assert!(m.descent > 1.0 && m.descent < 2.5, "{m:?}");
    }
}
