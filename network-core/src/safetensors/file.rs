//! Safetensors files (feature `std`), with errors that name the file.

use std::path::Path;

use super::{Extra, SafetensorsError, from_safetensors_with, to_safetensors};
use crate::files::{load_bytes, save_bytes};
use crate::{Network, Scalar};

pub use crate::files::FileProblem;

/// A [`save`] or [`load`] that failed, with the file it was about; its
/// [`FileProblem::Format`] is a [`SafetensorsError`].
pub type FileError = crate::files::FileError<SafetensorsError>;

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
    save_bytes(path.as_ref(), to_safetensors(network))
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
    load_bytes(path.as_ref(), |bytes| {
        from_safetensors_with(network, bytes, extra)
    })
}
