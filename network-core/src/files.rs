//! What saving and loading weights to and from files share, whatever the
//! format (feature `std`): an error that names the file, and a write that
//! never leaves half a file under the real name.

use std::fmt;
use std::path::{Path, PathBuf};
use std::vec::Vec;

/// What went wrong with a file of weights: the file system, or the format
/// `E` (the bytes are not this network's, or the network cannot be
/// written).
#[derive(Debug)]
pub enum FileProblem<E> {
    /// Reading, writing or renaming the file failed.
    Io(std::io::Error),
    /// The format refused the bytes or the network.
    Format(E),
}

/// A `save` or `load` that failed, with the file it was about
/// (`serialize::save`, or `safetensors::save` with that feature).
#[derive(Debug)]
pub struct FileError<E> {
    /// The file.
    pub path: PathBuf,
    /// `true` for a save, `false` for a load.
    pub saving: bool,
    /// What went wrong.
    pub problem: FileProblem<E>,
}

impl<E: fmt::Display> fmt::Display for FileError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        if self.saving {
            write!(f, "cannot save the network to `{path}`: ")?;
        } else {
            write!(f, "cannot load a network from `{path}`: ")?;
        }
        match &self.problem {
            FileProblem::Io(error) => write!(f, "{error}"),
            FileProblem::Format(error) => write!(f, "{error}"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for FileError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.problem {
            FileProblem::Io(error) => Some(error),
            FileProblem::Format(error) => Some(error),
        }
    }
}

/// Writes `bytes` (or reports their format's error) to the file at `path`,
/// replacing it: the bytes go to `<path>.partial` first, which is then
/// renamed, so a crash or a full disk never leaves a half-written file
/// under the real name.
pub(crate) fn save_bytes<E>(path: &Path, bytes: Result<Vec<u8>, E>) -> Result<(), FileError<E>> {
    let error = |problem| FileError {
        path: path.to_path_buf(),
        saving: true,
        problem,
    };
    let bytes = bytes.map_err(|e| error(FileProblem::Format(e)))?;
    let mut partial = std::ffi::OsString::from(path.as_os_str());
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, &bytes).map_err(|e| error(FileProblem::Io(e)))?;
    std::fs::rename(&partial, path).map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        error(FileProblem::Io(e))
    })
}

/// Reads the file at `path` and hands its bytes to `decode`.
pub(crate) fn load_bytes<E>(
    path: &Path,
    decode: impl FnOnce(&[u8]) -> Result<(), E>,
) -> Result<(), FileError<E>> {
    let error = |problem| FileError {
        path: path.to_path_buf(),
        saving: false,
        problem,
    };
    let bytes = std::fs::read(path).map_err(|e| error(FileProblem::Io(e)))?;
    decode(&bytes).map_err(|e| error(FileProblem::Format(e)))
}
