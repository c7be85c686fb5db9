//! Weights to and from files (feature `std`), in the format of
//! [`to_bytes`](super::to_bytes), with errors that name the file.

use std::fmt;
use std::path::{Path, PathBuf};

use super::{DecodeError, EncodeError, from_bytes, serialized_size, to_bytes};
use crate::{Network, Scalar};

/// What went wrong with a file of weights.
#[derive(Debug)]
pub enum FileProblem {
    /// Reading, writing or renaming the file failed.
    Io(std::io::Error),
    /// The network could not be encoded (a weight is NaN or infinite).
    Encode(EncodeError),
    /// The file's bytes are not weights of this network.
    Decode(DecodeError),
}

/// A [`save`] or [`load`] that failed, with the file it was about.
#[derive(Debug)]
pub struct FileError {
    /// The file.
    pub path: PathBuf,
    /// `true` for [`save`], `false` for [`load`].
    pub saving: bool,
    /// What went wrong.
    pub problem: FileProblem,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        if self.saving {
            write!(f, "cannot save the network to `{path}`: ")?;
        } else {
            write!(f, "cannot load a network from `{path}`: ")?;
        }
        match &self.problem {
            FileProblem::Io(error) => write!(f, "{error}"),
            FileProblem::Encode(error) => write!(f, "{error}"),
            FileProblem::Decode(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for FileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.problem {
            FileProblem::Io(error) => Some(error),
            FileProblem::Encode(error) => Some(error),
            FileProblem::Decode(error) => Some(error),
        }
    }
}

/// Writes `network`'s weights to the file at `path`, replacing it.
///
/// The bytes go to `<path>.partial` first, which is then renamed to `path`,
/// so a crash or a full disk never leaves a half-written file under the
/// real name.
///
/// # Errors
///
/// A [`FileError`] naming `path`: an I/O error, or a weight that is NaN or
/// infinite (nothing is written then).
pub fn save<T, N, const IN: usize, const OUT: usize>(
    network: &N,
    path: impl AsRef<Path>,
) -> Result<(), FileError>
where
    T: Scalar,
    N: Network<T, IN, OUT>,
{
    let path = path.as_ref();
    let error = |problem| FileError {
        path: path.to_path_buf(),
        saving: true,
        problem,
    };
    let mut bytes = std::vec![0u8; serialized_size::<T, N>()];
    to_bytes(network, &mut bytes).map_err(|e| error(FileProblem::Encode(e)))?;
    let mut partial = std::ffi::OsString::from(path.as_os_str());
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, &bytes).map_err(|e| error(FileProblem::Io(e)))?;
    std::fs::rename(&partial, path).map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        error(FileProblem::Io(e))
    })
}

/// Reads weights written by [`save`] (or [`to_bytes`]) from the file at
/// `path` into `network`. On error `network` is untouched.
///
/// # Errors
///
/// A [`FileError`] naming `path`: an I/O error (no such file, ...), or
/// bytes that are not weights of this network (another architecture or
/// scalar type, a truncated or corrupted file).
pub fn load<T, N, const IN: usize, const OUT: usize>(
    network: &mut N,
    path: impl AsRef<Path>,
) -> Result<(), FileError>
where
    T: Scalar,
    N: Network<T, IN, OUT>,
{
    let path = path.as_ref();
    let error = |problem| FileError {
        path: path.to_path_buf(),
        saving: false,
        problem,
    };
    let bytes = std::fs::read(path).map_err(|e| error(FileProblem::Io(e)))?;
    from_bytes(network, &bytes).map_err(|e| error(FileProblem::Decode(e)))
}
