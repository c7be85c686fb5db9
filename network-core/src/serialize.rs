//! Weights in and out as bytes, without allocating: [`to_bytes`] writes into a
//! caller's fixed-size buffer, [`from_bytes`] reads from a slice. With the
//! `std` feature, `save` and `load` do the same with a file, and their
//! errors name it.
//!
//! # Format (version 2)
//!
//! Everything is little-endian.
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 4 | magic, the ASCII bytes `NNET` |
//! | 4 | 2 | format version, `2` (version 1 fingerprinted the declaration's text alone) |
//! | 6 | 1 | scalar type: `4` for `f32`, `8` for `f64` (its size in bytes) |
//! | 7 | 1 | reserved, `0` |
//! | 8 | 8 | architecture fingerprint, see [`fingerprint`] |
//! | 16 | 8 | value count: the parameters, plus the statistics of a `Standardize` or `MinMax` layer |
//! | 24 | `count * size` | the parameters, in [`Parameters::slices`] order (layer by layer, weights column-major then biases), then the statistics in [`Parameters::statistics`] order |
//! | end - 8 | 8 | checksum: FNV-1a 64 of every byte before it |
//!
//! What the checksum does and does not protect against: it detects
//! accidental corruption (a flipped bit, a truncated or padded transfer, a
//! file overwritten in part), which FNV-1a 64 misses with a probability of
//! about `2^-64`. It is not a signature: anyone can write bytes with a valid
//! checksum, so bytes from an untrusted source can give any weights (every
//! value is still checked to be finite, and the header to match the
//! network). Authenticate such bytes separately, for example with a MAC.
//!
//! [`serialized_size`] gives the exact size, so the buffer can be an array
//! sized at compile time:
//!
//! ```
//! # use network_macros::network;
//! use network_core::serialize::{from_bytes, serialized_size, to_bytes, DecodeError};
//! use network_core::{Network, Sigmoid, Tanh};
//!
//! network! {
//!     # #[network(crate = network_core)]
//!     #[derive(Clone, Copy, Debug, PartialEq)]
//!     struct Xor {
//!         input: 2,
//!         hidden: Dense<4, Tanh>,
//!         output: Dense<1, Sigmoid>,
//!     }
//! }
//!
//! const LEN: usize = serialized_size::<f32, Xor>();
//! assert_eq!(LEN, 24 + 17 * 4 + 8);
//! let net = Xor::<f32>::random(7);
//! let mut buffer = [0u8; LEN];
//! assert_eq!(to_bytes(&net, &mut buffer), Ok(LEN));
//!
//! let mut copy = Xor::<f32>::zeroed();
//! from_bytes(&mut copy, &buffer).unwrap();
//! assert_eq!(copy, net);
//!
//! // A truncated input is refused and leaves the destination as it was.
//! let before = copy;
//! assert!(matches!(from_bytes(&mut copy, &buffer[..40]), Err(DecodeError::Truncated { .. })));
//! assert_eq!(copy, before);
//! ```
//!
//! [`from_bytes`] checks everything before it writes anything: on any error
//! the destination network is exactly as it was.

use core::fmt;
use core::mem::size_of;

#[cfg(feature = "std")]
mod file;
#[cfg(feature = "std")]
pub use file::{BytesError, FileError, FileProblem, load, save};

use crate::{Network, Parameters, Scalar};

/// The four bytes every serialised network starts with.
pub const MAGIC: [u8; 4] = *b"NNET";

/// The format version [`to_bytes`] writes and the only one [`from_bytes`] reads.
pub const FORMAT_VERSION: u16 = 2;

/// The size of the header, in bytes.
pub const HEADER_LEN: usize = 24;

/// The size of the trailing checksum, in bytes.
pub const CHECKSUM_LEN: usize = 8;

/// The exact number of bytes [`to_bytes`] writes for `parameters` values of
/// type `T` (parameters and statistics): header, values and checksum.
pub const fn serialized_len<T: Scalar>(parameters: usize) -> usize {
    HEADER_LEN + parameters * size_of::<T>() + CHECKSUM_LEN
}

/// The exact number of bytes [`to_bytes`] writes for the network type `N`
/// over `T` (its parameters and its statistics); usable as an array length: `[0u8; serialized_size::<f32, Xor>()]`.
pub const fn serialized_size<T: Scalar, N: Parameters<T>>() -> usize {
    serialized_len::<T>(N::PARAMETERS + N::STATISTICS)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Continues an FNV-1a 64 hash over `bytes`.
const fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(FNV_PRIME);
        i += 1;
    }
    hash
}

/// The FNV-1a 64 hash of `bytes`, as used for the checksum.
pub const fn fnv1a_64(bytes: &[u8]) -> u64 {
    fnv1a(FNV_OFFSET, bytes)
}

/// The architecture fingerprint: FNV-1a 64 over the bytes of `architecture`
/// (a [`Network::ARCHITECTURE`] string), then each of `sizes` (its
/// [`Network::RESOLVED_SIZES`]) and `parameters`, each as a little-endian
/// `u64`.
pub const fn fingerprint(architecture: &str, sizes: &[usize], parameters: usize) -> u64 {
    let mut hash = fnv1a(FNV_OFFSET, architecture.as_bytes());
    let mut i = 0;
    while i < sizes.len() {
        hash = fnv1a(hash, &(sizes[i] as u64).to_le_bytes());
        i += 1;
    }
    fnv1a(hash, &(parameters as u64).to_le_bytes())
}

/// The fingerprint of the network type `N`, from its
/// [`Network::ARCHITECTURE`], [`Network::RESOLVED_SIZES`] and parameter count.
pub const fn network_fingerprint<
    T: Scalar,
    N: Network<T, IN, OUT>,
    const IN: usize,
    const OUT: usize,
>() -> u64 {
    fingerprint(N::ARCHITECTURE, N::RESOLVED_SIZES, N::PARAMETERS)
}

/// The scalar types the format can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarKind {
    /// `f32`, stored as 4 bytes.
    F32,
    /// `f64`, stored as 8 bytes.
    F64,
}

impl ScalarKind {
    /// The kind of `T`, or `None` for a scalar type the format cannot hold.
    pub fn of<T: Scalar>() -> Option<ScalarKind> {
        match (T::NAME, size_of::<T>()) {
            ("f32", 4) => Some(ScalarKind::F32),
            ("f64", 8) => Some(ScalarKind::F64),
            _ => None,
        }
    }

    /// The byte the header stores for this kind (its size in bytes).
    pub const fn code(self) -> u8 {
        match self {
            ScalarKind::F32 => 4,
            ScalarKind::F64 => 8,
        }
    }

    /// The kind a header byte stands for, if any.
    pub const fn from_code(code: u8) -> Option<ScalarKind> {
        match code {
            4 => Some(ScalarKind::F32),
            8 => Some(ScalarKind::F64),
            _ => None,
        }
    }

    /// The Rust name of the type, `"f32"` or `"f64"`.
    pub const fn name(self) -> &'static str {
        match self {
            ScalarKind::F32 => "f32",
            ScalarKind::F64 => "f64",
        }
    }
}

impl fmt::Display for ScalarKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why [`to_bytes`] wrote nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// The buffer holds `len` bytes but `needed` are required.
    BufferTooSmall {
        /// The bytes required, [`serialized_len`].
        needed: usize,
        /// The length of the buffer given.
        len: usize,
    },
    /// The parameter at this flat index (in [`Parameters::slices`] order) is
    /// NaN or infinite: such weights could not be loaded again.
    NonFinite {
        /// The flat index of the first non-finite parameter.
        index: usize,
    },
    /// The scalar type is neither `f32` nor `f64`.
    UnsupportedScalar,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::BufferTooSmall { needed, len } => write!(
                f,
                "the buffer holds {len} bytes but the network needs {needed}"
            ),
            EncodeError::NonFinite { index } => {
                write!(f, "parameter {index} is NaN or infinite")
            }
            EncodeError::UnsupportedScalar => {
                f.write_str("only f32 and f64 networks can be serialised")
            }
        }
    }
}

impl core::error::Error for EncodeError {}

/// Why [`from_bytes`] refused the bytes; the destination was not changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The input has `len` bytes, fewer than the `needed` the header (or,
    /// once the header is read, the whole network) takes.
    Truncated {
        /// The bytes required.
        needed: usize,
        /// The length of the input.
        len: usize,
    },
    /// The input does not start with [`MAGIC`]: it is not a serialised network.
    BadMagic,
    /// The format version is not [`FORMAT_VERSION`].
    UnsupportedVersion(u16),
    /// The reserved header byte is not zero.
    BadHeader,
    /// The bytes hold another scalar type than the network's.
    WrongScalar {
        /// The network's scalar type.
        expected: ScalarKind,
        /// The scalar byte found in the header (see [`ScalarKind::code`]).
        found: u8,
    },
    /// The bytes were written by a network of another architecture.
    WrongArchitecture {
        /// The destination network's fingerprint.
        expected: u64,
        /// The fingerprint in the header.
        found: u64,
    },
    /// The header's value count does not match the network's (its
    /// parameters plus its statistics).
    WrongParameterCount {
        /// The destination network's value count.
        expected: usize,
        /// The count in the header.
        found: u64,
    },
    /// The input is longer than the header says: `len` bytes where exactly
    /// `expected` were due.
    TrailingBytes {
        /// The exact length of the serialised network.
        expected: usize,
        /// The length of the input.
        len: usize,
    },
    /// The checksum does not match: the bytes were corrupted.
    ChecksumMismatch,
    /// The value at this flat index is NaN or infinite.
    NonFinite {
        /// The flat index of the first non-finite value.
        index: usize,
    },
    /// The network's scalar type is neither `f32` nor `f64`.
    UnsupportedScalar,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated { needed, len } => {
                write!(f, "truncated: {len} bytes where {needed} are needed")
            }
            DecodeError::BadMagic => f.write_str("not a serialised network (bad magic bytes)"),
            DecodeError::UnsupportedVersion(version) => write!(
                f,
                "format version {version} is not supported (only {FORMAT_VERSION})"
            ),
            DecodeError::BadHeader => f.write_str("the reserved header byte is not zero"),
            DecodeError::WrongScalar { expected, found } => match ScalarKind::from_code(*found) {
                Some(kind) => write!(f, "the bytes hold {kind} values, the network is {expected}"),
                None => write!(
                    f,
                    "unknown scalar type code {found}, the network is {expected}"
                ),
            },
            DecodeError::WrongArchitecture { expected, found } => write!(
                f,
                "the bytes were written by another architecture (fingerprint {found:#018x}, expected {expected:#018x})"
            ),
            DecodeError::WrongParameterCount { expected, found } => write!(
                f,
                "the bytes hold {found} values, the network has {expected} (parameters and statistics)"
            ),
            DecodeError::TrailingBytes { expected, len } => {
                write!(f, "{len} bytes where exactly {expected} are expected")
            }
            DecodeError::ChecksumMismatch => {
                f.write_str("checksum mismatch: the bytes are corrupted")
            }
            DecodeError::NonFinite { index } => write!(f, "value {index} is NaN or infinite"),
            DecodeError::UnsupportedScalar => {
                f.write_str("only f32 and f64 networks can be deserialised")
            }
        }
    }
}

impl core::error::Error for DecodeError {}

/// Writes `network` into the start of `buffer` and returns the number of bytes
/// written ([`serialized_size`]). On error nothing is written.
pub fn to_bytes<T, N, const IN: usize, const OUT: usize>(
    network: &N,
    buffer: &mut [u8],
) -> Result<usize, EncodeError>
where
    T: Scalar,
    N: Network<T, IN, OUT>,
{
    to_slices(network, network_fingerprint::<T, N, IN, OUT>(), buffer)
}

/// Reads a network written by [`to_bytes`] into `network`. The input must be
/// exactly [`serialized_size`] bytes long. On error `network` is untouched.
pub fn from_bytes<T, N, const IN: usize, const OUT: usize>(
    network: &mut N,
    bytes: &[u8],
) -> Result<(), DecodeError>
where
    T: Scalar,
    N: Network<T, IN, OUT>,
{
    from_slices(network, network_fingerprint::<T, N, IN, OUT>(), bytes)
}

/// [`to_bytes`] for any set of [`Parameters`], with an explicit fingerprint
/// (for parameters that are not a [`Network`], such as gradients or
/// optimizer state).
pub fn to_slices<T: Scalar, P: Parameters<T>>(
    parameters: &P,
    fingerprint: u64,
    buffer: &mut [u8],
) -> Result<usize, EncodeError> {
    let kind = ScalarKind::of::<T>().ok_or(EncodeError::UnsupportedScalar)?;
    let count = P::PARAMETERS + P::STATISTICS;
    let needed = serialized_len::<T>(count);
    if buffer.len() < needed {
        return Err(EncodeError::BufferTooSmall {
            needed,
            len: buffer.len(),
        });
    }
    if let Some(index) = parameters.stored().flatten().position(|v| !v.is_finite()) {
        return Err(EncodeError::NonFinite { index });
    }
    let buffer = &mut buffer[..needed];
    let (header, rest) = buffer.split_at_mut(HEADER_LEN);
    header[0..4].copy_from_slice(&MAGIC);
    header[4..6].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    header[6] = kind.code();
    header[7] = 0;
    header[8..16].copy_from_slice(&fingerprint.to_le_bytes());
    header[16..24].copy_from_slice(&(count as u64).to_le_bytes());
    let (values, _) = rest.split_at_mut(needed - HEADER_LEN - CHECKSUM_LEN);
    let width = kind.code() as usize;
    for (chunk, value) in values
        .chunks_exact_mut(width)
        .zip(parameters.stored().flatten())
    {
        encode(kind, *value, chunk);
    }
    let checksum = fnv1a_64(&buffer[..needed - CHECKSUM_LEN]);
    buffer[needed - CHECKSUM_LEN..].copy_from_slice(&checksum.to_le_bytes());
    Ok(needed)
}

/// [`from_bytes`] for any set of [`Parameters`], with an explicit fingerprint.
pub fn from_slices<T: Scalar, P: Parameters<T>>(
    parameters: &mut P,
    fingerprint: u64,
    bytes: &[u8],
) -> Result<(), DecodeError> {
    let kind = ScalarKind::of::<T>().ok_or(DecodeError::UnsupportedScalar)?;
    let values = validate(kind, P::PARAMETERS + P::STATISTICS, fingerprint, bytes)?;
    // Everything is checked: from here on nothing can fail.
    let width = kind.code() as usize;
    let (trained, statistics) = values.split_at(P::PARAMETERS * width);
    for (value, chunk) in parameters
        .slices_mut()
        .flatten()
        .zip(trained.chunks_exact(width))
    {
        *value = decode(kind, chunk);
    }
    for (value, chunk) in parameters
        .statistics_mut()
        .flatten()
        .zip(statistics.chunks_exact(width))
    {
        *value = decode(kind, chunk);
    }
    Ok(())
}

/// Checks every header field, the length, the checksum and every value, and
/// returns the bytes of the values.
fn validate(
    kind: ScalarKind,
    count: usize,
    fingerprint: u64,
    bytes: &[u8],
) -> Result<&[u8], DecodeError> {
    let Some((header, _)) = bytes.split_first_chunk::<HEADER_LEN>() else {
        return Err(DecodeError::Truncated {
            needed: HEADER_LEN,
            len: bytes.len(),
        });
    };
    if header[0..4] != MAGIC {
        return Err(DecodeError::BadMagic);
    }
    let version = u16::from_le_bytes([header[4], header[5]]);
    if version != FORMAT_VERSION {
        return Err(DecodeError::UnsupportedVersion(version));
    }
    if header[6] != kind.code() {
        return Err(DecodeError::WrongScalar {
            expected: kind,
            found: header[6],
        });
    }
    if header[7] != 0 {
        return Err(DecodeError::BadHeader);
    }
    let found = u64::from_le_bytes(read_8(&header[8..16]));
    if found != fingerprint {
        return Err(DecodeError::WrongArchitecture {
            expected: fingerprint,
            found,
        });
    }
    let found = u64::from_le_bytes(read_8(&header[16..24]));
    if found != count as u64 {
        return Err(DecodeError::WrongParameterCount {
            expected: count,
            found,
        });
    }
    let width = kind.code() as usize;
    let expected = HEADER_LEN + count * width + CHECKSUM_LEN;
    if bytes.len() < expected {
        return Err(DecodeError::Truncated {
            needed: expected,
            len: bytes.len(),
        });
    }
    if bytes.len() > expected {
        return Err(DecodeError::TrailingBytes {
            expected,
            len: bytes.len(),
        });
    }
    let (body, checksum) = bytes.split_at(expected - CHECKSUM_LEN);
    if fnv1a_64(body) != u64::from_le_bytes(read_8(checksum)) {
        return Err(DecodeError::ChecksumMismatch);
    }
    let values = &body[HEADER_LEN..];
    if let Some(index) = values.chunks_exact(width).position(|chunk| match kind {
        ScalarKind::F32 => !f32::from_le_bytes(read_4(chunk)).is_finite(),
        ScalarKind::F64 => !f64::from_le_bytes(read_8(chunk)).is_finite(),
    }) {
        return Err(DecodeError::NonFinite { index });
    }
    Ok(values)
}

fn read_4(bytes: &[u8]) -> [u8; 4] {
    let mut out = [0; 4];
    out.copy_from_slice(bytes);
    out
}

fn read_8(bytes: &[u8]) -> [u8; 8] {
    let mut out = [0; 8];
    out.copy_from_slice(bytes);
    out
}

/// Writes `value` as `kind` into `out` (4 or 8 bytes). The `f32` round trip
/// through `f64` is exact.
fn encode<T: Scalar>(kind: ScalarKind, value: T, out: &mut [u8]) {
    match kind {
        ScalarKind::F32 => out.copy_from_slice(&(value.to_f64() as f32).to_le_bytes()),
        ScalarKind::F64 => out.copy_from_slice(&value.to_f64().to_le_bytes()),
    }
}

fn decode<T: Scalar>(kind: ScalarKind, bytes: &[u8]) -> T {
    match kind {
        ScalarKind::F32 => T::constant(f64::from(f32::from_le_bytes(read_4(bytes)))),
        ScalarKind::F64 => T::constant(f64::from_le_bytes(read_8(bytes))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_reference_values() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn fingerprint_depends_on_both_parts() {
        let a = fingerprint("input: 2, output: Dense<1, Sigmoid>", &[2, 1], 3);
        assert_ne!(
            a,
            fingerprint("input: 2, output: Dense<1, Tanh>", &[2, 1], 3)
        );
        assert_ne!(
            a,
            fingerprint("input: 2, output: Dense<1, Sigmoid>", &[2, 1], 4)
        );
        assert_ne!(
            a,
            fingerprint("input: 2, output: Dense<1, Sigmoid>", &[1, 2], 3)
        );
    }

    #[test]
    fn scalar_codes_round_trip() {
        for kind in [ScalarKind::F32, ScalarKind::F64] {
            assert_eq!(ScalarKind::from_code(kind.code()), Some(kind));
        }
        assert_eq!(ScalarKind::of::<f32>(), Some(ScalarKind::F32));
        assert_eq!(ScalarKind::of::<f64>(), Some(ScalarKind::F64));
        assert_eq!(ScalarKind::from_code(2), None);
    }
}
