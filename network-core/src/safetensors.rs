//! PyTorch interop (feature `safetensors`): a network's parameters to and
//! from the [safetensors](https://huggingface.co/docs/safetensors) format,
//! under PyTorch's names and in PyTorch's layouts.
//!
//! Layer `hidden` of a network has the tensors `hidden.weight` and
//! `hidden.bias`, as the `state_dict()` of a PyTorch module whose
//! submodules are named like the layers:
//!
//! | layer | `<layer>.weight` | `<layer>.bias` | PyTorch |
//! | --- | --- | --- | --- |
//! | `Dense<OUT, _>` after `IN` values | `[OUT, IN]` | `[OUT]` | `Linear(IN, OUT)` |
//! | `Conv1d<C, K, _>` after `C_in x L` | `[C, C_in, K]` | `[C]` | `Conv1d(C_in, C, K)` |
//! | `Conv2d<C, K, _>` after `C_in x H x W` | `[C, C_in, K, K]` | `[C]` | `Conv2d(C_in, C, K)` |
//!
//! A `Standardize` or `MinMax` input layer over `IN` values has no
//! parameters but two statistics, which a PyTorch module would hold as
//! buffers: `<layer>.mean` and `<layer>.inv_std` (or `<layer>.min` and
//! `<layer>.inv_range`), each `[IN]`, for `z = (x - mean) * inv_std`. From
//! scikit-learn's `StandardScaler`, `mean` is `mean_` and `inv_std` is
//! `1 / scale_`.
//!
//! Pooling and dropout layers have no tensors. Every tensor is row-major
//! (C order), as safetensors requires; `Dense`'s column-major `W` is
//! transposed on the way in and out, a convolution's kernels already are
//! PyTorch's layout ([`Network::LAYER_TENSORS`] says which).
//!
//! Loading checks the file against the network's declaration: every tensor
//! must be there with its exact shape, in `F32` or `F64` (either loads into
//! an `f32` or `f64` network: widening is exact, narrowing rounds to
//! nearest), with finite values. Tensors the network does not have are an
//! error by default ([`Extra::Refuse`]): a file from another architecture
//! should not half-load. [`Extra::Ignore`] skips them, for a state dict
//! that also holds buffers or other models' tensors. On any error the
//! network is left untouched.
//!
//! ```
//! # use network_macros::network;
//! use network_core::safetensors::{SafetensorsError, from_safetensors, to_safetensors};
//! use network_core::{Identity, Network, Tanh};
//!
//! network! {
//!     # #[network(crate = network_core)]
//!     struct Mlp {
//!         input: 3,
//!         hidden: Dense<5, Tanh>,
//!         output: Dense<2, Identity>,
//!     }
//! }
//!
//! let trained = Mlp::<f32>::random(7);
//! // Bytes that `safetensors.torch.load_file` reads as
//! // {"hidden.weight": [5, 3], "hidden.bias": [5], "output.weight": [2, 5], ...}.
//! let bytes = to_safetensors(&trained).unwrap();
//!
//! let mut copy = Mlp::<f32>::zeroed();
//! from_safetensors(&mut copy, &bytes).unwrap();
//! assert_eq!(copy.hidden.w, trained.hidden.w);
//!
//! // A network of another shape refuses the file, naming the tensor.
//! network! {
//!     # #[network(crate = network_core)]
//!     struct Wider {
//!         input: 3,
//!         hidden: Dense<6, Tanh>,
//!         output: Dense<2, Identity>,
//!     }
//! }
//! let mut wider = Wider::<f32>::zeroed();
//! let error = from_safetensors(&mut wider, &bytes).unwrap_err();
//! assert_eq!(
//!     error.to_string(),
//!     "tensor `hidden.weight` has shape [5, 3], but the network's is [6, 3]"
//! );
//! assert!(matches!(error, SafetensorsError::WrongShape { .. }));
//! ```

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use ::safetensors::tensor::TensorView;
use ::safetensors::{Dtype, SafeTensorError, SafeTensors};

use crate::serialize::ScalarKind;
use crate::{LayerTensors, Network, Scalar};

#[cfg(feature = "std")]
mod file;
#[cfg(feature = "std")]
pub use file::{FileError, FileProblem, load, load_with, save};

/// What [`from_safetensors_with`] does with a tensor of the file that the
/// network does not have.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Extra {
    /// Refuse the file with [`SafetensorsError::Unexpected`] (the default):
    /// a file of another architecture is not half-loaded.
    #[default]
    Refuse,
    /// Skip it: for a PyTorch state dict that also holds buffers (such as
    /// a batch norm's running statistics) or a larger model's tensors.
    Ignore,
}

/// Why a network's parameters could not be read from, or written as,
/// safetensors. Every variant about a tensor names it.
#[derive(Debug)]
pub enum SafetensorsError {
    /// The bytes are not a safetensors file: truncated, a bad header, offsets
    /// that do not cover the data, ... (the `safetensors` crate's error).
    Parse(SafeTensorError),
    /// The network has this tensor, the file does not.
    Missing {
        /// The tensor's name, `"hidden.weight"`.
        name: String,
    },
    /// The file has this tensor, the network does not (refused by
    /// [`Extra::Refuse`]).
    Unexpected {
        /// The tensor's name, as in the file.
        name: String,
    },
    /// The tensor's shape in the file is not the network's.
    WrongShape {
        /// The tensor's name.
        name: String,
        /// The network's shape, in PyTorch's order (`[out, in]`).
        expected: Vec<usize>,
        /// The file's shape.
        found: Vec<usize>,
    },
    /// The tensor's values are neither `F32` nor `F64` (convert them with
    /// `.float()` or `.double()` in PyTorch before saving).
    WrongDtype {
        /// The tensor's name.
        name: String,
        /// The scalar type of the network, which reads `F32` and `F64`.
        expected: ScalarKind,
        /// The file's type, such as `BF16`.
        found: Dtype,
    },
    /// A value of the tensor is NaN or infinite (in the file when loading,
    /// in the network when saving; an `F64` value too large for `f32`
    /// counts as infinite).
    NonFinite {
        /// The tensor's name.
        name: String,
        /// The value's index in the tensor, in row-major order.
        index: usize,
    },
    /// The network's scalar type is neither `f32` nor `f64`.
    UnsupportedScalar,
    /// The network's [`Network::LAYER_TENSORS`] do not match its parameter
    /// slices; networks generated by `network!` always match.
    Inconsistent,
}

impl fmt::Display for SafetensorsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SafetensorsError::Parse(error) => write!(f, "not a safetensors file: {error}"),
            SafetensorsError::Missing { name } => {
                write!(
                    f,
                    "the file has no tensor `{name}`, which the network needs"
                )
            }
            SafetensorsError::Unexpected { name } => write!(
                f,
                "the file has a tensor `{name}`, which the network does not (use `Extra::Ignore` to skip it)"
            ),
            SafetensorsError::WrongShape {
                name,
                expected,
                found,
            } => write!(
                f,
                "tensor `{name}` has shape {found:?}, but the network's is {expected:?}"
            ),
            SafetensorsError::WrongDtype {
                name,
                expected,
                found,
            } => write!(
                f,
                "tensor `{name}` holds {found:?} values; an {expected} network reads F32 or F64"
            ),
            SafetensorsError::NonFinite { name, index } => {
                write!(f, "value {index} of tensor `{name}` is NaN or infinite")
            }
            SafetensorsError::UnsupportedScalar => {
                f.write_str("safetensors holds f32 and f64 networks only")
            }
            SafetensorsError::Inconsistent => {
                f.write_str("the network's layer tensors do not match its parameters")
            }
        }
    }
}

impl core::error::Error for SafetensorsError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            SafetensorsError::Parse(error) => Some(error),
            _ => None,
        }
    }
}

impl From<SafeTensorError> for SafetensorsError {
    fn from(error: SafeTensorError) -> Self {
        SafetensorsError::Parse(error)
    }
}

/// One tensor of the network: its name, PyTorch's shape, and whether its
/// slice holds it transposed.
struct Tensor {
    name: String,
    shape: &'static [usize],
    transposed: bool,
}

/// The network's tensors in [`Parameters::stored`](crate::Parameters::stored)
/// order (every layer's `weight` and `bias`, then every layer's statistics),
/// checked against its slices' lengths: the values of the stored slices, one
/// after the other, are those of the tensors, one after the other.
fn tensors<T, N, const IN: usize, const OUT: usize>(
    network: &N,
) -> Result<Vec<Tensor>, SafetensorsError>
where
    T: Scalar,
    N: Network<T, IN, OUT>,
{
    if N::LAYER_TENSORS.len() != N::LAYER_NAMES.len() {
        return Err(SafetensorsError::Inconsistent);
    }
    let layers = || N::LAYER_NAMES.iter().zip(N::LAYER_TENSORS);
    let mut tensors = Vec::new();
    for (layer, tensor) in layers() {
        let &LayerTensors {
            weight,
            bias,
            transposed,
            ..
        } = tensor;
        if !tensor.has_parameters() {
            continue;
        }
        if transposed && weight.len() != 2 {
            return Err(SafetensorsError::Inconsistent);
        }
        tensors.push(Tensor {
            name: alloc::format!("{layer}.weight"),
            shape: weight,
            transposed,
        });
        tensors.push(Tensor {
            name: alloc::format!("{layer}.bias"),
            shape: bias,
            transposed: false,
        });
    }
    let parameters = tensors.len();
    for (layer, tensor) in layers() {
        for statistic in tensor.statistics {
            tensors.push(Tensor {
                name: alloc::format!("{layer}.{statistic}"),
                shape: tensor.statistics_shape,
                transposed: false,
            });
        }
    }
    let len = |t: &Tensor| t.shape.iter().product::<usize>();
    if parameters != network.slices().count()
        || !tensors[..parameters]
            .iter()
            .map(len)
            .eq(network.slices().map(<[T]>::len))
        || !crate::network::statistics_agree(network)
    {
        return Err(SafetensorsError::Inconsistent);
    }
    Ok(tensors)
}

/// The position in the layer's slice of the tensor's row-major element
/// `index`.
fn slot(tensor: &Tensor, index: usize) -> usize {
    match (tensor.transposed, tensor.shape) {
        (true, &[rows, cols]) => (index % cols) * rows + index / cols,
        _ => index,
    }
}

/// Reads a network's parameters from safetensors bytes, refusing tensors the
/// network does not have: [`from_safetensors_with`] with [`Extra::Refuse`].
///
/// # Errors
///
/// As [`from_safetensors_with`]; `network` is untouched on error.
///
/// ```
/// # use network_macros::network;
/// use network_core::safetensors::{from_safetensors, to_safetensors};
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
/// let bytes = to_safetensors(&Xor::<f64>::random(3)).unwrap();
/// // An f64 file loads into an f32 network, rounded to nearest.
/// let mut xor = Xor::<f32>::zeroed();
/// from_safetensors(&mut xor, &bytes).unwrap();
/// assert!(xor.hidden.w.iter().any(|&w| w != 0.0));
/// ```
pub fn from_safetensors<T, N, const IN: usize, const OUT: usize>(
    network: &mut N,
    bytes: &[u8],
) -> Result<(), SafetensorsError>
where
    T: Scalar,
    N: Network<T, IN, OUT>,
{
    from_safetensors_with(network, bytes, Extra::Refuse)
}

/// Reads a network's parameters from safetensors bytes: `<layer>.weight`
/// and `<layer>.bias` for every layer with parameters, and the statistics
/// of a `Standardize` or `MinMax` layer (`<layer>.mean` and
/// `<layer>.inv_std`, or `<layer>.min` and `<layer>.inv_range`), in the
/// shapes of [`Network::LAYER_TENSORS`], `F32` or `F64`. `extra` says what to do with
/// the file's other tensors.
///
/// Everything is decoded and checked into a scratch copy first (one heap
/// buffer per tensor), so on error `network` is untouched.
///
/// # Errors
///
/// [`SafetensorsError::Parse`] if the bytes are not safetensors (truncated,
/// ...); then the first of, tensor by tensor in declaration order (the
/// parameters' tensors, then the statistics'):
/// [`Missing`](SafetensorsError::Missing),
/// [`WrongDtype`](SafetensorsError::WrongDtype),
/// [`WrongShape`](SafetensorsError::WrongShape),
/// [`NonFinite`](SafetensorsError::NonFinite); then, with
/// [`Extra::Refuse`], [`Unexpected`](SafetensorsError::Unexpected) for the
/// first other tensor in name order.
///
/// ```
/// # use network_macros::network;
/// use network_core::safetensors::{Extra, SafetensorsError, from_safetensors_with, to_safetensors};
/// use network_core::{Identity, Network, Tanh};
///
/// network! {
///     # #[network(crate = network_core)]
///     struct Big {
///         input: 3,
///         hidden: Dense<5, Tanh>,
///         output: Dense<2, Identity>,
///     }
/// }
/// network! {
///     # #[network(crate = network_core)]
///     /// The first layer of `Big` alone.
///     struct Small {
///         input: 3,
///         hidden: Dense<5, Tanh>,
///     }
/// }
///
/// let bytes = to_safetensors(&Big::<f32>::random(1)).unwrap();
/// let mut small = Small::<f32>::zeroed();
/// let refused = from_safetensors_with(&mut small, &bytes, Extra::Refuse).unwrap_err();
/// assert!(matches!(refused, SafetensorsError::Unexpected { name } if name == "output.bias"));
/// from_safetensors_with(&mut small, &bytes, Extra::Ignore).unwrap();
/// ```
pub fn from_safetensors_with<T, N, const IN: usize, const OUT: usize>(
    network: &mut N,
    bytes: &[u8],
    extra: Extra,
) -> Result<(), SafetensorsError>
where
    T: Scalar,
    N: Network<T, IN, OUT>,
{
    let kind = ScalarKind::of::<T>().ok_or(SafetensorsError::UnsupportedScalar)?;
    let tensors = tensors(network)?;
    let file = SafeTensors::deserialize(bytes)?;
    let mut scratch: Vec<Vec<T>> = Vec::with_capacity(tensors.len());
    for tensor in &tensors {
        let view = match file.tensor(&tensor.name) {
            Ok(view) => view,
            Err(SafeTensorError::TensorNotFound(_)) => {
                return Err(SafetensorsError::Missing {
                    name: tensor.name.clone(),
                });
            }
            Err(error) => return Err(error.into()),
        };
        scratch.push(decode(tensor, &view, kind)?);
    }
    if extra == Extra::Refuse {
        let mut names = file.names();
        names.sort_unstable();
        if let Some(name) = names
            .into_iter()
            .find(|name| !tensors.iter().any(|t| t.name == *name))
        {
            return Err(SafetensorsError::Unexpected {
                name: name.to_string(),
            });
        }
    }
    // Everything is checked: from here on nothing can fail. The tensors'
    // values, one after the other, are the stored slices'.
    // `tensors` checked that their lengths agree.
    let mut values = scratch.iter().flatten();
    for (slot, value) in network.slices_mut().flatten().zip(values.by_ref()) {
        *slot = *value;
    }
    for (slot, value) in network.statistics_mut().flatten().zip(values) {
        *slot = *value;
    }
    Ok(())
}

/// One tensor of the file as the values of its slice, checked.
fn decode<T: Scalar>(
    tensor: &Tensor,
    view: &TensorView<'_>,
    kind: ScalarKind,
) -> Result<Vec<T>, SafetensorsError> {
    let name = || tensor.name.clone();
    let width = match view.dtype() {
        Dtype::F32 => 4,
        Dtype::F64 => 8,
        found => {
            return Err(SafetensorsError::WrongDtype {
                name: name(),
                expected: kind,
                found,
            });
        }
    };
    if view.shape() != tensor.shape {
        return Err(SafetensorsError::WrongShape {
            name: name(),
            expected: tensor.shape.to_vec(),
            found: view.shape().to_vec(),
        });
    }
    let len = tensor.shape.iter().product::<usize>();
    let data = view.data();
    if data.len() != len * width {
        // The crate checks this when it parses; kept for safety.
        return Err(SafetensorsError::Parse(SafeTensorError::TensorInvalidInfo));
    }
    let mut values = alloc::vec![T::zero(); len];
    for (index, chunk) in data.chunks_exact(width).enumerate() {
        let value = match chunk {
            [a, b, c, d] => f64::from(f32::from_le_bytes([*a, *b, *c, *d])),
            [a, b, c, d, e, f, g, h] => f64::from_le_bytes([*a, *b, *c, *d, *e, *f, *g, *h]),
            _ => unreachable!("chunks of 4 or 8 bytes"),
        };
        let value = T::constant(value);
        if !value.is_finite() {
            return Err(SafetensorsError::NonFinite {
                name: name(),
                index,
            });
        }
        values[slot(tensor, index)] = value;
    }
    Ok(values)
}

/// Writes a network's parameters as safetensors bytes, under PyTorch's names
/// and in its layouts (see the [module](self) docs), as `F32` for an `f32`
/// network and `F64` for an `f64` one. PyTorch reads them with
/// `model.load_state_dict(safetensors.torch.load_file(path))` when its
/// submodules are named like the layers.
///
/// # Errors
///
/// [`SafetensorsError::NonFinite`] if a parameter is NaN or infinite (the
/// file would not load back); [`SafetensorsError::UnsupportedScalar`] for a
/// scalar type other than `f32` and `f64`.
///
/// ```
/// # use network_macros::network;
/// use network_core::safetensors::to_safetensors;
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
/// let bytes = to_safetensors(&Xor::<f32>::random(1)).unwrap();
/// // 8 bytes of header length, the JSON header, then (8 + 4 + 4 + 1) f32s.
/// let header = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
/// assert_eq!(bytes.len(), 8 + header + 17 * 4);
/// ```
pub fn to_safetensors<T, N, const IN: usize, const OUT: usize>(
    network: &N,
) -> Result<Vec<u8>, SafetensorsError>
where
    T: Scalar,
    N: Network<T, IN, OUT>,
{
    let kind = ScalarKind::of::<T>().ok_or(SafetensorsError::UnsupportedScalar)?;
    let tensors = tensors(network)?;
    let (dtype, width) = match kind {
        ScalarKind::F32 => (Dtype::F32, 4),
        ScalarKind::F64 => (Dtype::F64, 8),
    };
    let mut buffers: Vec<Vec<u8>> = Vec::with_capacity(tensors.len());
    let mut stored = network.stored().flatten();
    for tensor in &tensors {
        let slice: Vec<T> = stored
            .by_ref()
            .take(tensor.shape.iter().product())
            .copied()
            .collect();
        let mut bytes = alloc::vec![0u8; slice.len() * width];
        for (index, chunk) in bytes.chunks_exact_mut(width).enumerate() {
            let value = slice[slot(tensor, index)];
            if !value.is_finite() {
                return Err(SafetensorsError::NonFinite {
                    name: tensor.name.clone(),
                    index,
                });
            }
            let value = value.to_f64();
            match kind {
                // Exact: the value is an f32.
                ScalarKind::F32 => chunk.copy_from_slice(&(value as f32).to_le_bytes()),
                ScalarKind::F64 => chunk.copy_from_slice(&value.to_le_bytes()),
            }
        }
        buffers.push(bytes);
    }
    let mut views = Vec::with_capacity(tensors.len());
    for (tensor, bytes) in tensors.iter().zip(&buffers) {
        views.push((
            tensor.name.as_str(),
            TensorView::new(dtype, tensor.shape.to_vec(), bytes)?,
        ));
    }
    Ok(::safetensors::serialize(views, None)?)
}
