//! Weights to and from files (feature `std`), in the format of
//! [`to_bytes`](super::to_bytes), with errors that name the file.

use core::fmt;
use std::path::Path;

use super::{DecodeError, EncodeError, from_bytes, serialized_size, to_bytes};
use crate::files::{load_bytes, save_bytes};
use crate::{Network, Scalar};

pub use crate::files::FileProblem;

/// Why the bytes of a file could not be written or read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BytesError {
    /// The network could not be encoded (a weight is NaN or infinite).
    Encode(EncodeError),
    /// The file's bytes are not weights of this network.
    Decode(DecodeError),
}

impl fmt::Display for BytesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BytesError::Encode(error) => write!(f, "{error}"),
            BytesError::Decode(error) => write!(f, "{error}"),
        }
    }
}

impl core::error::Error for BytesError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            BytesError::Encode(error) => Some(error),
            BytesError::Decode(error) => Some(error),
        }
    }
}

/// A [`save`] or [`load`] that failed, with the file it was about; its
/// [`FileProblem::Format`] is a [`BytesError`].
pub type FileError = crate::files::FileError<BytesError>;

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
    let mut bytes = std::vec![0u8; serialized_size::<T, N>()];
    let encoded = to_bytes(network, &mut bytes).map(|_| bytes);
    save_bytes(path.as_ref(), encoded.map_err(BytesError::Encode))
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
    load_bytes(path.as_ref(), |bytes| {
        from_bytes(network, bytes).map_err(BytesError::Decode)
    })
}
