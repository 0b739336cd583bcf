//! Test helpers: self-cleaning temporary folders and writers for small synthetic IDX files.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::write::GzEncoder;
use flate2::Compression;

/// A fresh folder under the system temp dir, removed (with its contents) when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `eiann_data_<tag>_<pid>_<n>` in the system temp dir.
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("eiann_data_{tag}_{}_{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// The folder's path.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `bytes` to `name` inside the folder and returns its path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes `bytes` gzip-compressed to `path` and returns the path.
pub fn write_gz(path: &Path, bytes: &[u8]) -> PathBuf {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).unwrap();
    std::fs::write(path, enc.finish().unwrap()).unwrap();
    path.to_path_buf()
}

/// A well-formed IDX image file holding `count` 28×28 images with the given pixels.
pub fn idx_images_bytes(count: u32, pixels: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(16 + pixels.len());
    for word in [2051u32, count, 28, 28] {
        b.extend_from_slice(&word.to_be_bytes());
    }
    b.extend_from_slice(pixels);
    b
}

/// A well-formed IDX label file holding the given labels.
pub fn idx_labels_bytes(labels: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(8 + labels.len());
    for word in [2049u32, labels.len() as u32] {
        b.extend_from_slice(&word.to_be_bytes());
    }
    b.extend_from_slice(labels);
    b
}
