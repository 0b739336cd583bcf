//! The rendered [`Figure`]: PNG bytes + SVG text, atomic saving, and inline display in evcxr notebooks.

use super::canvas::{render_png, render_svg, Scene};
use super::style::SAVE_DPI;
use eiann::{Error, Result};
use std::path::{Path, PathBuf};

/// A rendered figure panel: a 300 dpi PNG and an SVG (text kept as text) of the same drawing.
///
/// Returned by every panel function of [`crate::figures`]. In an evcxr notebook a `Figure` that ends a
/// cell is shown inline (see [`Figure::evcxr_display`]).
#[derive(Debug, Clone)]
pub struct Figure {
    name: String,
    size_in: (f64, f64),
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
    /// Renders a scene to both formats.
    pub(crate) fn from_scene(name: &str, scene: &Scene) -> Result<Figure> {
        let (png, size_px) = render_png(scene, SAVE_DPI)?;
        let svg = render_svg(scene)?;
        Ok(Figure {
            name: name.to_string(),
            size_in: (scene.width_pt / 72.0, scene.height_pt / 72.0),
            size_px,
            png,
            svg,
        })
    }

    /// The file stem used by [`Figure::save`], e.g. `rate_dynamics_example_H2E`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Figure size in inches (as passed to matplotlib's `figsize`).
    pub fn size_in(&self) -> (f64, f64) {
        self.size_in
    }

    /// PNG size in pixels (`figsize × 300`).
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

    /// Writes `<dir>/<name>.png` and `<dir>/<name>.svg` (creating `dir`), each atomically: the bytes go
    /// to a temporary file in the same folder which is then renamed over the target.
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<SavedFigure> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let png = dir.join(format!("{}.png", self.name));
        let svg = dir.join(format!("{}.svg", self.name));
        write_atomic(&png, &self.png)?;
        write_atomic(&svg, self.svg.as_bytes())?;
        Ok(SavedFigure { png, svg })
    }

    /// The same figure under another file stem (for [`Figure::save`]).
    pub fn with_name(mut self, name: &str) -> Figure {
        self.name = name.to_string();
        self
    }

    /// The PNG as base64 (standard alphabet, padded).
    pub fn png_base64(&self) -> String {
        base64(&self.png)
    }

    /// evcxr's rich-output hook: prints the PNG between `EVCXR_BEGIN_CONTENT image/png` and
    /// `EVCXR_END_CONTENT`, which the Jupyter kernel turns into an inline `image/png` output.
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
    use super::base64;

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
}
