//! Opening input files: only regular files are read, so a directory, FIFO or device given as an input
//! is a clear error naming the path and what it is, never a hang or an endless read.

use std::fs::{File, Metadata};
use std::path::Path;

/// What kind of file system object `meta` describes, for error messages ("a directory", "a FIFO", ...).
pub fn kind_of(meta: &Metadata) -> &'static str {
    let ft = meta.file_type();
    if ft.is_file() {
        return "a regular file";
    }
    if ft.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if ft.is_socket() {
            return "a socket";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
    }
    "not a regular file"
}

/// Why `path` cannot be read as an input file, as a message without the path (`None`: it is a
/// regular file, following symbolic links). A missing file says "does not exist".
pub fn not_a_regular_file(path: &Path) -> Option<String> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => None,
        Ok(meta) => Some(format!("is {}, not a regular file", kind_of(&meta))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some("does not exist".to_string()),
        Err(e) => Some(format!("cannot be read: {e}")),
    }
}

/// Open `path` for reading after checking that it is a regular file; returns the file and its size.
/// The error is the message of [`not_a_regular_file`] or of the failed open (without the path).
pub fn open_regular(path: &Path) -> std::result::Result<(File, u64), String> {
    if let Some(why) = not_a_regular_file(path) {
        return Err(why);
    }
    let file = File::open(path).map_err(|e| format!("cannot be opened: {e}"))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read its metadata: {e}"))?;
    if !meta.is_file() {
        // Replaced between the check and the open.
        return Err(format!("is {}, not a regular file", kind_of(&meta)));
    }
    Ok((file, meta.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_and_missing_files_are_named() {
        let dir = std::env::temp_dir();
        assert_eq!(
            not_a_regular_file(&dir).as_deref(),
            Some("is a directory, not a regular file")
        );
        let missing = dir.join("eiann-input-test-does-not-exist");
        assert_eq!(
            not_a_regular_file(&missing).as_deref(),
            Some("does not exist")
        );
        assert!(open_regular(&dir).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_refused() {
        let msg = not_a_regular_file(Path::new("/dev/null")).unwrap();
        assert!(msg.contains("character device"), "{msg}");
    }
}
