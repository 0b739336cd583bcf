//! Colours: sRGB with opacity, matplotlib's named colours, and colour maps for heat maps.

/// An sRGB colour with opacity (straight, not premultiplied).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Color {
    /// Red, green, blue (0–255).
    pub rgb: (u8, u8, u8),
    /// Opacity in 0..=1.
    pub alpha: f64,
}

impl Color {
    /// An opaque colour.
    pub const fn rgb(r: u8, g: u8, b: u8) -> Color {
        Color {
            rgb: (r, g, b),
            alpha: 1.0,
        }
    }

    /// The same colour with opacity `alpha` (matplotlib's `alpha=`).
    pub const fn alpha(self, alpha: f64) -> Color {
        Color {
            rgb: self.rgb,
            alpha,
        }
    }

    /// A colour from `"#rrggbb"` (or `"rrggbb"`); `None` if it is not six hex digits.
    pub fn hex(s: &str) -> Option<Color> {
        let h = s.strip_prefix('#').unwrap_or(s);
        if h.len() != 6 || !h.is_ascii() {
            return None;
        }
        let c = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok();
        Some(Color::rgb(c(0)?, c(2)?, c(4)?))
    }

    /// `#rrggbb` (SVG colour).
    pub fn to_hex(self) -> String {
        format!("#{:02X}{:02X}{:02X}", self.rgb.0, self.rgb.1, self.rgb.2)
    }

    /// Opacity clamped to 0..=1 (non-finite → 1).
    pub(crate) fn opacity(self) -> f64 {
        if self.alpha.is_finite() {
            self.alpha.clamp(0.0, 1.0)
        } else {
            1.0
        }
    }
}

/// A colour map for heat maps and colour bars: anchors at evenly spaced positions in 0..=1, linearly
/// interpolated in sRGB.
#[derive(Debug, Clone, PartialEq)]
pub struct Colormap {
    anchors: Vec<(u8, u8, u8)>,
}

impl Colormap {
    /// A map through the given colours (at least one), evenly spaced from 0 to 1.
    pub fn new(colors: &[Color]) -> Colormap {
        let mut anchors: Vec<(u8, u8, u8)> = colors.iter().map(|c| c.rgb).collect();
        if anchors.is_empty() {
            anchors.push((0, 0, 0));
        }
        Colormap { anchors }
    }

    /// matplotlib's `viridis` (sequential), sampled at 9 anchors.
    pub fn viridis() -> Colormap {
        Colormap::new(&[
            Color::rgb(68, 1, 84),
            Color::rgb(71, 44, 122),
            Color::rgb(59, 81, 139),
            Color::rgb(44, 113, 142),
            Color::rgb(33, 144, 141),
            Color::rgb(39, 173, 129),
            Color::rgb(92, 200, 99),
            Color::rgb(170, 220, 50),
            Color::rgb(253, 231, 37),
        ])
    }

    /// matplotlib's `RdBu_r` (diverging: blue below the middle, white at it, red above), 11 anchors.
    pub fn rdbu_r() -> Colormap {
        Colormap::new(&[
            Color::rgb(5, 48, 97),
            Color::rgb(33, 102, 172),
            Color::rgb(67, 147, 195),
            Color::rgb(146, 197, 222),
            Color::rgb(209, 229, 240),
            Color::rgb(247, 247, 247),
            Color::rgb(253, 219, 199),
            Color::rgb(244, 165, 130),
            Color::rgb(214, 96, 77),
            Color::rgb(178, 24, 43),
            Color::rgb(103, 0, 31),
        ])
    }

    /// The colour at `t` in 0..=1 (clamped; NaN → the lowest colour).
    pub fn at(&self, t: f64) -> Color {
        let n = self.anchors.len();
        let t = if t.is_finite() {
            t.clamp(0.0, 1.0)
        } else {
            0.0
        };
        if n == 1 {
            let (r, g, b) = self.anchors[0];
            return Color::rgb(r, g, b);
        }
        let pos = t * (n - 1) as f64;
        let i = (pos.floor() as usize).min(n - 2);
        let f = pos - i as f64;
        let (a, b) = (self.anchors[i], self.anchors[i + 1]);
        let mix = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * f).round() as u8;
        Color::rgb(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }
}

/// matplotlib `'r'`.
pub const RED: Color = Color::rgb(255, 0, 0);
/// matplotlib `'b'`.
pub const BLUE: Color = Color::rgb(0, 0, 255);
/// matplotlib `'k'`.
pub const BLACK: Color = Color::rgb(0, 0, 0);
/// `'white'`.
pub const WHITE: Color = Color::rgb(255, 255, 255);
/// CSS/matplotlib `'steelblue'`.
pub const STEELBLUE: Color = Color::rgb(70, 130, 180);
/// CSS/matplotlib `'gray'`.
pub const GRAY: Color = Color::rgb(128, 128, 128);
/// CSS/matplotlib `'lightgray'`.
pub const LIGHTGRAY: Color = Color::rgb(211, 211, 211);
/// CSS/matplotlib `'darkred'`.
pub const DARKRED: Color = Color::rgb(139, 0, 0);
/// CSS/matplotlib `'darkblue'`.
pub const DARKBLUE: Color = Color::rgb(0, 0, 139);
/// CSS/matplotlib `'orange'`.
pub const ORANGE: Color = Color::rgb(255, 165, 0);
/// CSS/matplotlib `'navy'`.
pub const NAVY: Color = Color::rgb(0, 0, 128);
/// CSS/matplotlib `'green'`.
pub const GREEN: Color = Color::rgb(0, 128, 0);
/// matplotlib's default colour cycle, first entry (`'C0'`).
pub const C0: Color = Color::rgb(31, 119, 180);
/// `'C1'`.
pub const C1: Color = Color::rgb(255, 127, 14);
/// `'C2'`.
pub const C2: Color = Color::rgb(44, 160, 44);
/// `'C3'`.
pub const C3: Color = Color::rgb(214, 39, 40);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_colormap_ends() {
        assert_eq!(Color::hex("#1f77b4"), Some(C0));
        assert_eq!(C0.to_hex(), "#1F77B4");
        assert_eq!(Color::hex("#12345"), None);
        assert_eq!(Color::hex("zz0000"), None);
        let m = Colormap::viridis();
        assert_eq!(m.at(0.0).rgb, (68, 1, 84));
        assert_eq!(m.at(1.0).rgb, (253, 231, 37));
        assert_eq!(m.at(2.0), m.at(1.0));
        assert_eq!(Colormap::rdbu_r().at(0.5).rgb, (247, 247, 247));
    }
}
