//! Safetensors files (feature `std`), with errors that name the file.

use std::fmt;
use std::path::{Path, PathBuf};

use super::{Extra, SafetensorsError, from_safetensors_with, to_safetensors};
use crate::{Network, Scalar};

/// What went wrong with a safetensors file.
#[derive(Debug)]
pub enum FileProblem {
    /// Reading, writing or renaming the file failed.
    Io(std::io::Error),
    /// The file's tensors are not this network's (or the network could not
    /// be written).
    Tensors(SafetensorsError),
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
            FileProblem::Tensors(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for FileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.problem {
            FileProblem::Io(error) => Some(error),
            FileProblem::Tensors(error) => Some(error),
        }
    }
}

/// Writes `network`'s parameters to the safetensors file at `path`
/// ([`to_safetensors`]), replacing it. The bytes go to `<path>.partial`
/// first, which is then renamed, so a crash never leaves half a file.
///
/// # Errors
///
/// A [`FileError`] naming `path`: an I/O error, or a parameter that is NaN
/// or infinite (nothing is written then).
///
/// ```no_run
/// # use network_macros::network;
/// use network_core::{Network, Sigmoid, Tanh};
///
/// network! {
///     # #[network(crate = network_core)]
///     struct Xor {
///         input: 2,
///         hidden: Dense<4, Tanh>,
///         output: Dense<1, Sigmoid>,
///     }
/// }
///
/// let xor = Xor::<f32>::random(1);
/// network_core::safetensors::save(&xor, "xor.safetensors")?;
/// // In Python: safetensors.torch.load_file("xor.safetensors")
/// # Ok::<(), network_core::safetensors::FileError>(())
/// ```
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
    let bytes = to_safetensors(network).map_err(|e| error(FileProblem::Tensors(e)))?;
    let mut partial = std::ffi::OsString::from(path.as_os_str());
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, &bytes).map_err(|e| error(FileProblem::Io(e)))?;
    std::fs::rename(&partial, path).map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        error(FileProblem::Io(e))
    })
}

/// Reads the safetensors file at `path` into `network`, refusing tensors
/// the network does not have: [`load_with`] with [`Extra::Refuse`].
///
/// # Errors
///
/// As [`load_with`]; `network` is untouched on error.
///
/// ```no_run
/// # use network_macros::network;
/// use network_core::{Network, Sigmoid, Tanh};
///
/// network! {
///     # #[network(crate = network_core)]
///     struct Xor {
///         input: 2,
///         hidden: Dense<4, Tanh>,
///         output: Dense<1, Sigmoid>,
///     }
/// }
///
/// // Written by `safetensors.torch.save_file(model.state_dict(), "xor.safetensors")`.
/// let mut xor = Xor::<f32>::zeroed();
/// network_core::safetensors::load(&mut xor, "xor.safetensors")?;
/// # Ok::<(), network_core::safetensors::FileError>(())
/// ```
pub fn load<T, N, const IN: usize, const OUT: usize>(
    network: &mut N,
    path: impl AsRef<Path>,
) -> Result<(), FileError>
where
    T: Scalar,
    N: Network<T, IN, OUT>,
{
    load_with(network, path, Extra::Refuse)
}

/// Reads the safetensors file at `path` into `network`
/// ([`from_safetensors_with`]); `extra` says what to do with tensors the
/// network does not have. On error `network` is untouched.
///
/// # Errors
///
/// A [`FileError`] naming `path`: an I/O error (no such file, ...), or
/// tensors that are not this network's (see [`SafetensorsError`]).
///
/// ```no_run
/// # use network_macros::network;
/// use network_core::safetensors::Extra;
/// use network_core::{Network, Sigmoid, Tanh};
///
/// network! {
///     # #[network(crate = network_core)]
///     struct Xor {
///         input: 2,
///         hidden: Dense<4, Tanh>,
///         output: Dense<1, Sigmoid>,
///     }
/// }
///
/// let mut xor = Xor::<f32>::zeroed();
/// network_core::safetensors::load_with(&mut xor, "state_dict.safetensors", Extra::Ignore)?;
/// # Ok::<(), network_core::safetensors::FileError>(())
/// ```
pub fn load_with<T, N, const IN: usize, const OUT: usize>(
    network: &mut N,
    path: impl AsRef<Path>,
    extra: Extra,
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
    from_safetensors_with(network, &bytes, extra).map_err(|e| error(FileProblem::Tensors(e)))
}
