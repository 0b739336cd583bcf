//! The crate's error type: every failure names the file, key or value that was wrong and why.

use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `eiann`. Messages are written for the person who supplied the input:
/// they name the file, the key (as a YAML or array path) and what was expected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A network config file is malformed. `path` is the YAML key path, e.g.
    /// `projection_config.H1.E.Input.E.learning_rule`.
    #[error("{file}: {path}: {message}")]
    Config {
        file: String,
        path: String,
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A `.npy`/`.npz` array file is malformed or lacks a key.
    #[error("{file}: {message}")]
    Npz { file: String, message: String },
    /// A data set file (MNIST IDX) is missing or malformed.
    #[error("{file}: {message}")]
    Data { file: String, message: String },
    /// A checkpoint (pickle) is malformed, truncated or foreign.
    #[error("{file}: {message}")]
    Checkpoint { file: String, message: String },
    /// Array shapes or sizes do not fit together.
    #[error("shape mismatch in {what}: expected {expected}, got {got}")]
    Shape {
        what: String,
        expected: String,
        got: String,
    },
    /// A name (population, projection, key) that does not exist.
    #[error("unknown {kind} \"{name}\"{hint}")]
    UnknownName {
        kind: &'static str,
        name: String,
        /// Extra help, e.g. "; known: H1E, H2E" (starts with "; " when non-empty).
        hint: String,
    },
    /// An argument outside its valid range (negative rate, empty series, ...).
    #[error("invalid {what}: {message}")]
    Invalid { what: String, message: String },
}

impl Error {
    /// Wrap an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// An [`Error::Invalid`] with the given subject and message.
    pub fn invalid(what: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            what: what.into(),
            message: message.into(),
        }
    }

    /// An [`Error::Shape`] describing a mismatch.
    pub fn shape(what: impl Into<String>, expected: impl ToString, got: impl ToString) -> Self {
        Error::Shape {
            what: what.into(),
            expected: expected.to_string(),
            got: got.to_string(),
        }
    }
}
