//! MNIST data: IDX parsing, checksum verification and EIANN's train/validation/test splits.
//!
//! * [`idx`] reads one IDX file (plain or `.gz`) and checks it against its own header.
//! * [`mnist`] finds the four files, verifies their SHA-256 and builds EIANN's splits
//!   ([`Mnist`]: train = training items 0..50,000, val = 50,000..60,000, test = the 10,000 test items),
//!   with pixels `fl(p / 255)` flattened to 784 and one-hot targets, as `get_MNIST_dataloaders` does.
//!
//! Nothing here touches the network: the files are fetched by `just data` (`data/fetch_mnist.sh`).
//!
//! ```no_run
//! use std::path::Path;
//! use eiann::data::{resolve_mnist_dir, Mnist, DEFAULT_MNIST_DIR};
//!
//! let dir = resolve_mnist_dir(None, &Path::new(".").join(DEFAULT_MNIST_DIR));
//! let mnist = Mnist::load(&dir)?;
//! // The figure's sample: dataset index 30702 is row 30702 of the 50,000-item train split.
//! let x = mnist.full_dataset().image(30_702); // 784 float32 pixels
//! let y = mnist.full_dataset().target(30_702); // one-hot [f32; 10]
//! # let _ = (x, y);
//! # Ok::<(), eiann::Error>(())
//! ```

pub mod idx;
pub mod mnist;
#[cfg(test)]
mod testutil;

pub use idx::{IdxImages, IMAGE_SIDE, IMAGE_SIZE, NUM_CLASSES};
pub use mnist::{
    find_idx_file, locate_mnist_dir, one_hot, pixel_to_f32, resolve_mnist_dir, sha256_hex,
    verify_checksums, Mnist, MnistFile, Split, DEFAULT_MNIST_DIR, FETCH_HINT, MNIST_DIR_ENV,
    MNIST_FILES, MNIST_SHA256, TEST_FILE_LEN, TRAINING_FILE_LEN, TRAIN_LEN, VAL_LEN,
};
