//! The resolution-independent display list (in points, y downwards) that axes produce and the two
//! renderers ([`crate::raster`] for PNG, [`crate::svg`] for SVG) draw.

use crate::color::Color;

/// A point in figure coordinates: points (1/72 in) from the top-left corner, y downwards.
pub(crate) type P = (f64, f64);

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
pub enum HAlign {
    /// The anchor is the start of the text.
    Left,
    /// The anchor is the middle of the text.
    Center,
    /// The anchor is the end of the text.
    Right,
}

/// An RGBA image (row-major, top row first, straight alpha) stretched over a rectangle.
#[derive(Debug, Clone)]
pub(crate) struct Image {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

/// One element of the display list.
#[derive(Debug, Clone)]
pub(crate) enum Item {
    /// An open polyline of width `width` pt (round joins), optionally dashed (on/off lengths in pt)
    /// and clipped; its alpha applies once to the whole path.
    Stroke {
        pts: Vec<P>,
        width: f64,
        paint: Color,
        dash: Option<Vec<f64>>,
        cap: Cap,
        clip: Option<Rect>,
    },
    /// A filled polygon (nonzero rule), optionally clipped.
    Fill {
        pts: Vec<P>,
        paint: Color,
        clip: Option<Rect>,
    },
    /// A filled disk (scatter marker).
    Disk {
        center: P,
        radius: f64,
        paint: Color,
        clip: Option<Rect>,
    },
    /// An image drawn over `rect` with nearest-neighbour sampling (heat maps, colour bars).
    Image {
        image: Image,
        rect: Rect,
        clip: Option<Rect>,
    },
    /// One line of text; `at` is the baseline anchor, `rot90` turns it to read bottom-to-top.
    Text {
        text: String,
        at: P,
        size: f64,
        paint: Color,
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
    pub fn sorted(&self) -> Vec<&Item> {
        let mut v: Vec<&(f64, Item)> = self.items.iter().collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v.into_iter().map(|(_, i)| i).collect()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rect_normalises_and_unions() {
        let r = Rect::new(5.0, 4.0, 1.0, 2.0);
        assert_eq!((r.x0, r.y0, r.x1, r.y1), (1.0, 2.0, 5.0, 4.0));
        let u = r.union(&Rect::new(0.0, 3.0, 2.0, 9.0));
        assert_eq!((u.x0, u.y0, u.x1, u.y1), (0.0, 2.0, 5.0, 9.0));
        let rr = rounded_rect(&Rect::new(0.0, 0.0, 10.0, 4.0), 1.0);
        assert!(rr
            .iter()
            .all(|p| p.0 >= -1e-9 && p.0 <= 10.0 + 1e-9 && p.1 >= -1e-9 && p.1 <= 4.0 + 1e-9));
    }
}
