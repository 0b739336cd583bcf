//! Parses MNIST's IDX files (plain or `.gz`), checking magic number, image size and length against the header.
//!
//! The IDX format (LeCun's MNIST page) is a big-endian header followed by raw unsigned bytes:
//!
//! | file kind | header (big-endian u32 each)               | body                       |
//! |-----------|---------------------------------------------|----------------------------|
//! | images    | magic 2051, count, rows (28), cols (28)     | `count × 28 × 28` pixels   |
//! | labels    | magic 2049, count                           | `count` labels, each 0..=9 |
//!
//! This mirrors what `torchvision.datasets.MNIST` does when it first reads the raw files
//! (`read_image_file` / `read_label_file` in `torchvision/datasets/mnist.py`), but every check that
//! torchvision leaves to an assertion or to a later index error is reported here as an
//! [`Error::Data`] naming the file.

use std::io::Read;
use std::path::Path;

use flate2::read::GzDecoder;

use crate::error::{Error, Result};
use crate::limits::MAX_IDX_BYTES;

/// Magic number of an IDX image file: unsigned bytes (0x08), 3 dimensions (0x03).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX label file: unsigned bytes (0x08), 1 dimension (0x01).
pub const LABELS_MAGIC: u32 = 0x0000_0801;
/// Height and width of an MNIST image in pixels.
pub const IMAGE_SIDE: usize = 28;
/// Pixels per flattened MNIST image (28 × 28 = 784, the size of EIANN's `Input` population).
pub const IMAGE_SIZE: usize = IMAGE_SIDE * IMAGE_SIDE;
/// Number of digit classes (the length of a one-hot target; labels are 0..=9).
pub const NUM_CLASSES: usize = 10;

/// Header length of an IDX image file in bytes (magic, count, rows, cols).
const IMAGES_HEADER_LEN: usize = 16;
/// Header length of an IDX label file in bytes (magic, count).
const LABELS_HEADER_LEN: usize = 8;

/// The raw contents of an IDX image file: `count` images of 28 × 28 unsigned-byte pixels, row-major.
///
/// Keeps the whole file buffer (header included) so parsing never copies the 47 MB of pixels.
#[derive(Clone, PartialEq, Eq)]
pub struct IdxImages {
    /// The complete file contents (decompressed), header first.
    bytes: Vec<u8>,
    /// Number of images, from the header (already checked against the length).
    count: usize,
}

impl IdxImages {
    /// Number of images in the file.
    pub fn count(&self) -> usize {
        self.count
    }

    /// All pixels, image after image, each image row-major (`count × 784` bytes).
    pub fn pixels(&self) -> &[u8] {
        &self.bytes[IMAGES_HEADER_LEN..]
    }

    /// The 784 pixels of image `i`, row-major (what `torch.flatten` of the 28 × 28 image gives).
    ///
    /// # Panics
    /// If `i >= self.count()`.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.pixels()[i * IMAGE_SIZE..(i + 1) * IMAGE_SIZE]
    }
}

impl std::fmt::Debug for IdxImages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdxImages")
            .field("count", &self.count)
            .field("rows", &IMAGE_SIDE)
            .field("cols", &IMAGE_SIDE)
            .finish()
    }
}

/// Reads a whole file into memory, decompressing it when its name ends in `.gz`.
///
/// Equivalent of torchvision's `open_maybe_compressed_file(path).read()`.
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let file_name = path.display().to_string();
    let (file, size) = crate::input::open_regular(path).map_err(|why| Error::Data {
        file: file_name.clone(),
        message: format!("{why}; expected an MNIST IDX file"),
    })?;
    let too_big =
        || Error::Data {
            file: file_name.clone(),
            message: format!(
            "holds more than {MAX_IDX_BYTES} bytes{} (limit; MNIST's largest file has 47,040,016)",
            if is_gz(path) { " after gzip decompression" } else { "" }
        ),
        };
    let mut bytes = Vec::new();
    if is_gz(path) {
        GzDecoder::new(file)
            .take(MAX_IDX_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::Data {
                file: file_name.clone(),
                message: format!("cannot decompress gzip data: {e}"),
            })?;
    } else {
        if size > MAX_IDX_BYTES {
            return Err(too_big());
        }
        bytes.reserve_exact(usize::try_from(size).unwrap_or(0));
        file.take(MAX_IDX_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(path, e))?;
    }
    if bytes.len() as u64 > MAX_IDX_BYTES {
        return Err(too_big());
    }
    Ok(bytes)
}

/// Reads and checks an IDX image file (plain or `.gz`); see [`parse_idx_images`].
pub fn read_idx_images(path: &Path) -> Result<IdxImages> {
    parse_idx_images(read_maybe_gz(path)?, &path.display().to_string())
}

/// Reads and checks an IDX label file (plain or `.gz`); see [`parse_idx_labels`].
pub fn read_idx_labels(path: &Path) -> Result<Vec<u8>> {
    parse_idx_labels(&read_maybe_gz(path)?, &path.display().to_string())
}

/// Parses the contents of an IDX image file (already decompressed). `file` names it in errors.
///
/// Checks: magic number 2051, 28 × 28 images, and that the length is exactly
/// `16 + count × 784` bytes (a shorter file is reported as truncated, with the byte counts).
pub fn parse_idx_images(bytes: Vec<u8>, file: &str) -> Result<IdxImages> {
    let header = header_words::<4>(&bytes, file, "an IDX image file")?;
    check_magic(header[0], IMAGES_MAGIC, file)?;
    let (count, rows, cols) = (header[1] as usize, header[2] as usize, header[3] as usize);
    if rows != IMAGE_SIDE || cols != IMAGE_SIDE {
        return Err(data_error(
            file,
            format!("images are {rows}×{cols} pixels, expected {IMAGE_SIDE}×{IMAGE_SIDE} (MNIST)"),
        ));
    }
    let body = count
        .checked_mul(IMAGE_SIZE)
        .ok_or_else(|| data_error(file, format!("image count {count} in the header is absurd")))?;
    check_length(
        bytes.len(),
        IMAGES_HEADER_LEN,
        body,
        &format!("{count} images of {IMAGE_SIDE}×{IMAGE_SIDE}"),
        file,
    )?;
    Ok(IdxImages { bytes, count })
}

/// Parses the contents of an IDX label file (already decompressed). `file` names it in errors.
///
/// Checks: magic number 2049, length exactly `8 + count` bytes, every label ≤ 9.
pub fn parse_idx_labels(bytes: &[u8], file: &str) -> Result<Vec<u8>> {
    let header = header_words::<2>(bytes, file, "an IDX label file")?;
    check_magic(header[0], LABELS_MAGIC, file)?;
    let count = header[1] as usize;
    check_length(
        bytes.len(),
        LABELS_HEADER_LEN,
        count,
        &format!("{count} labels"),
        file,
    )?;
    let labels = &bytes[LABELS_HEADER_LEN..];
    if let Some((i, &bad)) = labels
        .iter()
        .enumerate()
        .find(|(_, &l)| l as usize >= NUM_CLASSES)
    {
        return Err(data_error(
            file,
            format!(
                "label {bad} at index {i} is not a digit class (expected 0..={})",
                NUM_CLASSES - 1
            ),
        ));
    }
    Ok(labels.to_vec())
}

/// Whether the path names a gzip file (extension `.gz`).
fn is_gz(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "gz")
}

/// Shorthand for an [`Error::Data`].
fn data_error(file: &str, message: String) -> Error {
    Error::Data {
        file: file.to_string(),
        message,
    }
}

/// The first `N` big-endian u32 words of the header; errors if the file is shorter than the header.
fn header_words<const N: usize>(bytes: &[u8], file: &str, kind: &str) -> Result<[u32; N]> {
    let header_len = 4 * N;
    if bytes.len() < header_len {
        return Err(data_error(
            file,
            format!(
                "truncated: {} bytes present, but the header of {kind} alone is {header_len} bytes{}",
                bytes.len(),
                gz_note(file)
            ),
        ));
    }
    let mut words = [0u32; N];
    for (k, word) in words.iter_mut().enumerate() {
        let b = &bytes[4 * k..4 * k + 4];
        *word = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    }
    Ok(words)
}

/// Errors unless `magic` is the expected one; recognises the swapped (image vs label) case.
fn check_magic(magic: u32, expected: u32, file: &str) -> Result<()> {
    if magic == expected {
        return Ok(());
    }
    let (want, other) = if expected == IMAGES_MAGIC {
        ("an IDX image file", "an IDX label file")
    } else {
        ("an IDX label file", "an IDX image file")
    };
    let hint = if magic == IMAGES_MAGIC || magic == LABELS_MAGIC {
        format!(" (that is {other}: were the file names swapped?)")
    } else if magic.to_le_bytes() == expected.to_be_bytes() {
        " (byte-swapped: the header must be big-endian)".to_string()
    } else if magic >> 16 == 0x1f8b {
        " (looks gzip-compressed: name it with a .gz suffix)".to_string()
    } else {
        String::new()
    };
    Err(data_error(
        file,
        format!(
            "wrong magic number {magic} (0x{magic:08x}), expected {expected} (0x{expected:08x}) for {want}{hint}"
        ),
    ))
}

/// Errors unless the file length is exactly `header + body` bytes.
fn check_length(len: usize, header: usize, body: usize, what: &str, file: &str) -> Result<()> {
    let expected = header + body;
    if len < expected {
        Err(data_error(
            file,
            format!(
                "truncated: the header announces {what} = {expected} bytes (with the {header}-byte header), \
                 but only {len} bytes are present ({} missing){}",
                expected - len,
                gz_note(file)
            ),
        ))
    } else if len > expected {
        Err(data_error(
            file,
            format!(
                "the header announces {what} = {expected} bytes (with the {header}-byte header), \
                 but {len} bytes are present ({} unexpected trailing bytes){}",
                len - expected,
                gz_note(file)
            ),
        ))
    } else {
        Ok(())
    }
}

/// Clarifies that byte counts of a `.gz` file refer to its decompressed contents.
fn gz_note(file: &str) -> &'static str {
    if file.ends_with(".gz") {
        " after gzip decompression"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::testutil::{idx_images_bytes, idx_labels_bytes, write_gz, TempDir};

    #[test]
    fn parses_good_image_and_label_files() {
        let dir = TempDir::new("idx_good");
        let pixels: Vec<u8> = (0..3 * IMAGE_SIZE).map(|i| (i % 256) as u8).collect();
        let img_path = dir.write("imgs", &idx_images_bytes(3, &pixels));
        let lab_path = dir.write("labs", &idx_labels_bytes(&[7, 0, 9]));
        let imgs = read_idx_images(&img_path).unwrap();
        assert_eq!(imgs.count(), 3);
        assert_eq!(imgs.pixels(), &pixels[..]);
        assert_eq!(imgs.image(1), &pixels[IMAGE_SIZE..2 * IMAGE_SIZE]);
        assert_eq!(read_idx_labels(&lab_path).unwrap(), vec![7, 0, 9]);
    }

    #[test]
    fn reads_gz_files_like_plain_ones() {
        let dir = TempDir::new("idx_gz");
        let pixels: Vec<u8> = (0..2 * IMAGE_SIZE).map(|i| (i * 7 % 256) as u8).collect();
        let img_gz = write_gz(&dir.path().join("imgs.gz"), &idx_images_bytes(2, &pixels));
        let lab_gz = write_gz(&dir.path().join("labs.gz"), &idx_labels_bytes(&[3, 4]));
        assert_eq!(read_idx_images(&img_gz).unwrap().pixels(), &pixels[..]);
        assert_eq!(read_idx_labels(&lab_gz).unwrap(), vec![3, 4]);
    }

    #[test]
    fn corrupt_gz_is_a_data_error_naming_the_file() {
        let dir = TempDir::new("idx_badgz");
        let path = dir.write("labs.gz", b"this is not gzip at all");
        let msg = read_idx_labels(&path).unwrap_err().to_string();
        assert!(msg.contains("labs.gz") && msg.contains("gzip"), "{msg}");
    }

    #[test]
    fn truncated_image_file_reports_expected_and_present_bytes() {
        let mut bytes = idx_images_bytes(2, &vec![0u8; 2 * IMAGE_SIZE]);
        bytes.truncate(bytes.len() - 100);
        let msg = parse_idx_images(bytes, "t.idx").unwrap_err().to_string();
        let expected = 16 + 2 * IMAGE_SIZE;
        assert!(msg.starts_with("t.idx: truncated"), "{msg}");
        assert!(msg.contains(&format!("{expected} bytes")), "{msg}");
        assert!(
            msg.contains(&format!("only {} bytes", expected - 100)),
            "{msg}"
        );
        assert!(msg.contains("100 missing"), "{msg}");
    }

    #[test]
    fn truncated_gz_label_file_says_decompressed() {
        let dir = TempDir::new("idx_truncgz");
        let mut bytes = idx_labels_bytes(&[1, 2, 3, 4]);
        bytes.pop();
        let path = write_gz(&dir.path().join("labs.gz"), &bytes);
        let msg = read_idx_labels(&path).unwrap_err().to_string();
        assert!(
            msg.contains("truncated") && msg.contains("12 bytes"),
            "{msg}"
        );
        assert!(
            msg.contains("only 11 bytes") && msg.contains("after gzip decompression"),
            "{msg}"
        );
    }

    #[test]
    fn file_shorter_than_header_is_truncated() {
        let msg = parse_idx_labels(&[0, 0, 8], "l").unwrap_err().to_string();
        assert!(
            msg.contains("truncated") && msg.contains("3 bytes present"),
            "{msg}"
        );
        let msg = parse_idx_images(vec![], "i").unwrap_err().to_string();
        assert!(
            msg.contains("truncated") && msg.contains("16 bytes"),
            "{msg}"
        );
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let mut bytes = idx_labels_bytes(&[1, 2]);
        bytes.push(0);
        let msg = parse_idx_labels(&bytes, "l").unwrap_err().to_string();
        assert!(msg.contains("1 unexpected trailing bytes"), "{msg}");
    }

    #[test]
    fn wrong_magic_numbers_are_rejected() {
        // A label file handed to the image parser.
        let msg = parse_idx_images(idx_labels_bytes(&[1; 20]), "x")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("wrong magic number 2049"), "{msg}");
        assert!(
            msg.contains("expected 2051") && msg.contains("swapped"),
            "{msg}"
        );
        // An image file handed to the label parser.
        let msg = parse_idx_labels(&idx_images_bytes(1, &[0; IMAGE_SIZE]), "y")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("wrong magic number 2051") && msg.contains("expected 2049"),
            "{msg}"
        );
        // Little-endian header.
        let mut bytes = idx_labels_bytes(&[1]);
        bytes[..4].copy_from_slice(&LABELS_MAGIC.to_le_bytes());
        let msg = parse_idx_labels(&bytes, "z").unwrap_err().to_string();
        assert!(msg.contains("big-endian"), "{msg}");
        // Gzip data under a plain name.
        let msg = parse_idx_labels(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0], "w")
            .unwrap_err()
            .to_string();
        assert!(msg.contains(".gz suffix"), "{msg}");
    }

    #[test]
    fn non_28x28_images_are_rejected() {
        let mut bytes = idx_images_bytes(1, &[0; IMAGE_SIZE]);
        bytes[8..12].copy_from_slice(&32u32.to_be_bytes());
        let msg = parse_idx_images(bytes, "i").unwrap_err().to_string();
        assert!(
            msg.contains("32×28") && msg.contains("expected 28×28"),
            "{msg}"
        );
    }

    #[test]
    fn labels_above_nine_are_rejected() {
        let msg = parse_idx_labels(&idx_labels_bytes(&[0, 9, 10, 3]), "l")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("label 10 at index 2"), "{msg}");
    }

    #[test]
    fn missing_file_and_directory_are_data_errors_with_the_path() {
        let dir = TempDir::new("idx_missing");
        let path = dir.path().join("nope-idx1-ubyte");
        let err = read_idx_labels(&path).unwrap_err();
        assert!(matches!(err, Error::Data { .. }));
        let msg = err.to_string();
        assert!(
            msg.contains("nope-idx1-ubyte") && msg.contains("does not exist"),
            "{msg}"
        );
        let msg = read_idx_labels(dir.path()).unwrap_err().to_string();
        assert!(msg.contains("is a directory, not a regular file"), "{msg}");
    }

    #[test]
    fn gzip_bomb_stops_at_the_limit() {
        let dir = TempDir::new("idx_bomb");
        let path = dir.path().join("t10k-labels-idx1-ubyte.gz");
        // 80 MiB of zeros compress to about 80 kB.
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..80 {
            std::io::Write::write_all(&mut enc, &zeros).unwrap();
        }
        std::fs::write(&path, enc.finish().unwrap()).unwrap();
        let msg = read_idx_labels(&path).unwrap_err().to_string();
        assert!(msg.contains("after gzip decompression (limit"), "{msg}");
    }
}
