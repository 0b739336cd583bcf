//! A [`Figure`]: axes placed on a page of a given size (a tight grid like `plt.subplots` +
//! `tight_layout`, or rectangles like `fig.add_axes`), rendered to a 300 dpi PNG and an SVG, saved
//! atomically, and shown inline in evcxr notebooks.

use crate::axes::{tight_grid, Axes};
use crate::canvas::{Image, Rect, Scene};
use crate::raster::render_png;
use crate::style::SAVE_DPI;
use crate::svg::render_svg;
use eiann::{Error, Result};
use std::path::{Path, PathBuf};

/// Where an axes sits in its figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Placement {
    /// The next cell of the figure's grid (row by row), sized by tight layout.
    Grid,
    /// A fixed rectangle in figure fractions, matplotlib's `fig.add_axes([left, bottom, width, height])`
    /// (origin bottom-left); it is the data area, labels and ticks go outside it.
    At {
        /// Left edge, 0..1 of the figure width.
        left: f64,
        /// Bottom edge, 0..1 of the figure height.
        bottom: f64,
        /// Width, fraction of the figure width.
        width: f64,
        /// Height, fraction of the figure height.
        height: f64,
    },
}

/// A figure: its size in inches, a file name and its axes. Building it draws nothing; [`Figure::render`],
/// [`Figure::save`] and [`Figure::evcxr_display`] do.
///
/// Every panel function of this crate returns one, so a notebook cell can change a panel after the fact
/// (`fig.axes_mut(0)`), keep it, and show it by ending the cell with it.
#[derive(Debug, Clone)]
pub struct Figure {
    name: String,
    size_in: (f64, f64),
    axes: Vec<(Axes, Placement)>,
    grid: Option<(usize, usize)>,
    height_ratios: Vec<f64>,
}

/// A rendered figure: a 300 dpi PNG and an SVG (text kept as text) of the same drawing.
#[derive(Debug, Clone)]
pub struct Rendered {
    size_px: (u32, u32),
    png: Vec<u8>,
    svg: String,
}

/// Where [`Figure::save`] wrote the two files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedFigure {
    /// `<dir>/<name>.png`
    pub png: PathBuf,
    /// `<dir>/<name>.svg`
    pub svg: PathBuf,
}

impl Figure {
    /// An empty figure of `width × height` inches (matplotlib's `figsize`), named `"figure"`.
    pub fn new(width_in: f64, height_in: f64) -> Figure {
        Figure {
            name: "figure".to_string(),
            size_in: (width_in, height_in),
            axes: Vec::new(),
            grid: None,
            height_ratios: Vec::new(),
        }
    }

    /// The file stem used by [`Figure::save`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The same figure under another file stem.
    pub fn with_name(mut self, name: &str) -> Figure {
        self.name = name.to_string();
        self
    }

    /// Figure size in inches.
    pub fn size_in(&self) -> (f64, f64) {
        self.size_in
    }

    /// Grid of the [`Placement::Grid`] axes: `rows × cols` cells filled row by row (default: one column,
    /// one row per axes).
    pub fn grid(mut self, rows: usize, cols: usize) -> Figure {
        self.grid = Some((rows.max(1), cols.max(1)));
        self
    }

    /// Relative heights of the grid rows (`gridspec_kw={'height_ratios': ...}`).
    pub fn height_ratios(mut self, ratios: &[f64]) -> Figure {
        self.height_ratios = ratios.to_vec();
        self
    }

    /// Adds an axes in the next grid cell (builder form of [`Figure::push`]).
    pub fn with(mut self, ax: Axes) -> Figure {
        self.push(ax);
        self
    }

    /// Adds an axes in the next grid cell; returns its index.
    pub fn push(&mut self, ax: Axes) -> usize {
        self.axes.push((ax, Placement::Grid));
        self.axes.len() - 1
    }

    /// Adds an axes whose data area is `[left, bottom, width, height]` in figure fractions; returns its index.
    pub fn push_at(&mut self, ax: Axes, [left, bottom, width, height]: [f64; 4]) -> usize {
        self.axes.push((
            ax,
            Placement::At {
                left,
                bottom,
                width,
                height,
            },
        ));
        self.axes.len() - 1
    }

    /// Number of axes.
    pub fn len(&self) -> usize {
        self.axes.len()
    }

    /// True if the figure has no axes.
    pub fn is_empty(&self) -> bool {
        self.axes.is_empty()
    }

    /// Axes `i` (in the order they were added).
    pub fn axes(&self, i: usize) -> Option<&Axes> {
        self.axes.get(i).map(|(a, _)| a)
    }

    /// Axes `i`, to change it (labels, limits, more artists).
    pub fn axes_mut(&mut self, i: usize) -> Option<&mut Axes> {
        self.axes.get_mut(i).map(|(a, _)| a)
    }

    /// The data-area rectangle of every axes in points (y down), after layout.
    fn layout(&self) -> Result<Vec<Rect>> {
        let (wi, hi) = self.size_in;
        if !(wi.is_finite() && hi.is_finite() && wi > 0.0 && hi > 0.0) {
            return Err(Error::invalid(
                "figure size",
                format!("{wi} × {hi} in is not a positive size"),
            ));
        }
        let (w, h) = (wi * 72.0, hi * 72.0);
        let gridded: Vec<&Axes> = self
            .axes
            .iter()
            .filter(|(_, p)| *p == Placement::Grid)
            .map(|(a, _)| a)
            .collect();
        let (rows, cols) = self.grid.unwrap_or((gridded.len().max(1), 1));
        if gridded.len() > rows * cols {
            return Err(Error::invalid(
                "figure grid",
                format!("{} axes do not fit a {rows} × {cols} grid", gridded.len()),
            ));
        }
        let mut cells = if gridded.is_empty() {
            Vec::new()
        } else {
            tight_grid(&gridded, rows, cols, &self.height_ratios, (w, h))
        }
        .into_iter();
        let mut out = Vec::with_capacity(self.axes.len());
        for (_, p) in &self.axes {
            out.push(match *p {
                Placement::Grid => cells.next().unwrap_or(Rect::new(0.0, 0.0, w, h)),
                Placement::At {
                    left,
                    bottom,
                    width,
                    height,
                } => {
                    if ![left, bottom, width, height].iter().all(|v| v.is_finite())
                        || width <= 0.0
                        || height <= 0.0
                    {
                        return Err(Error::invalid(
                            "axes rectangle",
                            format!("[{left}, {bottom}, {width}, {height}] is not a rectangle"),
                        ));
                    }
                    Rect::new(
                        left * w,
                        (1.0 - bottom - height) * h,
                        (left + width) * w,
                        (1.0 - bottom) * h,
                    )
                }
            });
        }
        Ok(out)
    }

    fn scene(&self) -> Result<Scene> {
        let rects = self.layout()?;
        let mut scene = Scene::new(self.size_in.0, self.size_in.1);
        for ((ax, _), rect) in self.axes.iter().zip(rects) {
            let mut items = Vec::new();
            ax.render(rect, &mut items);
            for (z, it) in items {
                scene.push(z, it);
            }
        }
        Ok(scene)
    }

    /// Draws the figure: PNG at 300 dpi (`figsize × 300` pixels) and SVG.
    pub fn render(&self) -> Result<Rendered> {
        self.render_dpi(SAVE_DPI)
    }

    /// Draws the figure with the PNG at `dpi` (the SVG does not depend on it).
    pub fn render_dpi(&self, dpi: f64) -> Result<Rendered> {
        if !(dpi.is_finite() && dpi > 0.0) {
            return Err(Error::invalid(
                "dpi",
                format!("{dpi} is not a positive resolution"),
            ));
        }
        let scene = self.scene()?;
        let (png, size_px) = render_png(&scene, dpi)?;
        let svg = render_svg(&scene)?;
        Ok(Rendered { size_px, png, svg })
    }

    /// Renders and writes `<dir>/<name>.png` and `<dir>/<name>.svg` (creating `dir`), each atomically.
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<SavedFigure> {
        self.render()?.save(dir, &self.name)
    }

    /// evcxr's rich-output hook: a `Figure` ending a notebook cell is shown inline as `image/png`
    /// (a rendering error is shown as text instead).
    pub fn evcxr_display(&self) {
        match self.render() {
            Ok(r) => r.evcxr_display(),
            Err(e) => println!("figure {}: {e}", self.name),
        }
    }
}

impl Rendered {
    /// PNG size in pixels.
    pub fn size_px(&self) -> (u32, u32) {
        self.size_px
    }

    /// The encoded PNG file.
    pub fn png(&self) -> &[u8] {
        &self.png
    }

    /// The SVG document.
    pub fn svg(&self) -> &str {
        &self.svg
    }

    /// The PNG as base64 (standard alphabet, padded).
    pub fn png_base64(&self) -> String {
        base64(&self.png)
    }

    /// Writes `<dir>/<name>.png` and `<dir>/<name>.svg` (creating `dir`), each atomically: the bytes go
    /// to a temporary file in the same folder which is then renamed over the target.
    pub fn save(&self, dir: impl AsRef<Path>, name: &str) -> Result<SavedFigure> {
        let dir = dir.as_ref();
        if name.is_empty() || name.contains(['/', '\\']) {
            return Err(Error::invalid(
                "figure name",
                format!("{name:?} is not a file stem"),
            ));
        }
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let png = dir.join(format!("{name}.png"));
        let svg = dir.join(format!("{name}.svg"));
        write_atomic(&png, &self.png)?;
        write_atomic(&svg, self.svg.as_bytes())?;
        Ok(SavedFigure { png, svg })
    }

    /// Prints the PNG between `EVCXR_BEGIN_CONTENT image/png` and `EVCXR_END_CONTENT`, which the Jupyter
    /// kernel turns into an inline `image/png` output.
    pub fn evcxr_display(&self) {
        println!(
            "EVCXR_BEGIN_CONTENT image/png\n{}\nEVCXR_END_CONTENT",
            self.png_base64()
        );
    }
}

/// Writes `bytes` to `path` via a temporary sibling file and a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let file_name = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

/// An RGBA image as a PNG file (for images embedded in SVG).
pub(crate) fn encode_rgba_png(img: &Image) -> Result<Vec<u8>> {
    let perr = |e: png::EncodingError| Error::invalid("PNG encoding", e.to_string());
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, img.width, img.height);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc.write_header().map_err(perr)?;
        wr.write_image_data(&img.rgba).map_err(perr)?;
        wr.finish().map_err(perr)?;
    }
    Ok(out)
}

/// Standard base64 with padding (RFC 4648 §4).
pub(crate) fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(A[(n >> 18) as usize & 63] as char);
        out.push(A[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            A[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            A[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn bad_sizes_and_rectangles_are_errors() {
        assert!(Figure::new(0.0, 2.0).with(Axes::new()).render().is_err());
        assert!(Figure::new(f64::NAN, 2.0).render().is_err());
        assert!(
            Figure::new(100.0, 100.0).render().is_err(),
            "30,000 px side is refused"
        );
        let mut f = Figure::new(2.0, 2.0);
        f.push_at(Axes::new(), [0.1, 0.1, -0.5, 0.5]);
        assert!(f.render().is_err());
        let f = Figure::new(2.0, 2.0)
            .grid(1, 1)
            .with(Axes::new())
            .with(Axes::new());
        assert!(f.render().is_err(), "two axes in a 1 × 1 grid");
        assert!(Figure::new(1.0, 1.0).render_dpi(0.0).is_err());
        let r = Figure::new(1.0, 1.0)
            .with(Axes::new())
            .render()
            .expect("empty axes");
        assert!(r.save(std::env::temp_dir(), "../x").is_err());
    }
}
