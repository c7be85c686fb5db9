//! IDX, the format of the MNIST files: a big-endian header (magic number
//! `0x0000_08_NN` for unsigned bytes in `NN` dimensions, then each
//! dimension's size as a `u32`) followed by the raw bytes.

use std::format;
use std::path::{Path, PathBuf};
use std::vec::Vec;

use super::{Labeled, LoadError, Location, Problem};

/// The magic number of an IDX file of unsigned bytes with `dimensions`
/// dimensions.
const fn magic(dimensions: u8) -> u32 {
    0x0000_0800 | dimensions as u32
}

/// Checks the header of an IDX file of unsigned bytes with `DIMS`
/// dimensions and the file's length; returns the sizes and the data.
fn parse_header<'a, const DIMS: usize>(
    bytes: &'a [u8],
    path: &Path,
) -> Result<([usize; DIMS], &'a [u8]), LoadError> {
    let error =
        |offset: usize, problem| LoadError::new(path, Location::Byte(offset as u64), problem);
    let header_len = 4 + 4 * DIMS;
    let truncated = |expected: usize| {
        error(
            bytes.len(),
            Problem::Truncated {
                expected: expected as u64,
                found: bytes.len() as u64,
            },
        )
    };
    let word = |i: usize| -> Option<u32> {
        let word = bytes.get(4 * i..4 * i + 4)?;
        Some(u32::from_be_bytes([word[0], word[1], word[2], word[3]]))
    };
    let expected_magic = magic(DIMS as u8);
    let found_magic = word(0).ok_or_else(|| truncated(header_len))?;
    if found_magic != expected_magic {
        return Err(error(
            0,
            Problem::BadMagic {
                found: found_magic,
                expected: expected_magic,
            },
        ));
    }
    let mut sizes = [0; DIMS];
    let mut total: u64 = header_len as u64;
    let mut items: u64 = 1;
    for (i, size) in sizes.iter_mut().enumerate() {
        let value = word(i + 1).ok_or_else(|| truncated(header_len))?;
        *size = value as usize;
        items = items.saturating_mul(u64::from(value));
    }
    total = total.saturating_add(items);
    let found = bytes.len() as u64;
    if found < total {
        return Err(error(
            bytes.len(),
            Problem::Truncated {
                expected: total,
                found,
            },
        ));
    }
    if found > total {
        return Err(LoadError::new(
            path,
            Location::Byte(total),
            Problem::TrailingBytes {
                expected: total,
                found,
            },
        ));
    }
    Ok((sizes, &bytes[header_len..]))
}

/// Parses an IDX image file (magic `0x00000803`: `count x rows x cols`
/// unsigned bytes) whose images have `IN = rows * cols` pixels, row-major.
/// `path` only names the file in errors.
///
/// # Errors
///
/// A [`LoadError`] with the byte offset for a bad magic number, a file
/// shorter or longer than its header announces, or images that are not
/// `IN` pixels.
pub fn parse_idx_images<const IN: usize>(
    bytes: &[u8],
    path: &Path,
) -> Result<Vec<[u8; IN]>, LoadError> {
    let ([count, rows, cols], data) = parse_header::<3>(bytes, path)?;
    let pixels = rows.saturating_mul(cols);
    if pixels != IN || IN == 0 {
        return Err(LoadError::new(
            path,
            Location::Byte(8),
            Problem::WrongImageSize {
                expected: IN,
                found: pixels,
            },
        ));
    }
    let (images, rest) = data.as_chunks::<IN>();
    debug_assert!(rest.is_empty() && images.len() == count);
    Ok(images.to_vec())
}

/// Parses an IDX label file (magic `0x00000801`: one unsigned byte per
/// sample), each label in `0..OUT`. `path` only names the file in errors.
///
/// # Errors
///
/// A [`LoadError`] with the byte offset for a bad magic number, a file
/// shorter or longer than its header announces, or a label not below `OUT`.
pub fn parse_idx_labels<const OUT: usize>(
    bytes: &[u8],
    path: &Path,
) -> Result<Vec<usize>, LoadError> {
    let ([_count], data) = parse_header::<1>(bytes, path)?;
    if let Some(i) = data.iter().position(|&label| usize::from(label) >= OUT) {
        return Err(LoadError::new(
            path,
            Location::Byte(8 + i as u64),
            Problem::LabelOutOfRange {
                label: usize::from(data[i]),
                classes: OUT,
            },
        ));
    }
    Ok(data.iter().map(|&label| usize::from(label)).collect())
}

fn read(path: &Path) -> Result<Vec<u8>, LoadError> {
    std::fs::read(path).map_err(|e| LoadError::new(path, Location::File, Problem::Io(e)))
}

/// Reads an uncompressed IDX image file; see [`parse_idx_images`].
///
/// # Errors
///
/// As [`parse_idx_images`], or an I/O error.
pub fn read_idx_images<const IN: usize>(
    path: impl AsRef<Path>,
) -> Result<Vec<[u8; IN]>, LoadError> {
    let path = path.as_ref();
    parse_idx_images(&read(path)?, path)
}

/// Reads an uncompressed IDX label file; see [`parse_idx_labels`].
///
/// # Errors
///
/// As [`parse_idx_labels`], or an I/O error.
pub fn read_idx_labels<const OUT: usize>(path: impl AsRef<Path>) -> Result<Vec<usize>, LoadError> {
    let path = path.as_ref();
    parse_idx_labels::<OUT>(&read(path)?, path)
}

/// The MNIST training and test sets, pixels as `u8` (`0..=255`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mnist {
    /// The 60,000 training images and their labels.
    pub train: Labeled<u8, 784>,
    /// The 10,000 test images and their labels.
    pub test: Labeled<u8, 784>,
}

/// The standard file names, as published (`train-images-idx3-ubyte`) or as
/// many mirrors spell them (`train-images.idx3-ubyte`).
fn mnist_file(dir: &Path, set: &str, kind: &str, dims: u8) -> PathBuf {
    let published = dir.join(format!("{set}-{kind}-idx{dims}-ubyte"));
    if published.exists() {
        return published;
    }
    let dotted = dir.join(format!("{set}-{kind}.idx{dims}-ubyte"));
    if dotted.exists() { dotted } else { published }
}

fn read_set(dir: &Path, set: &str) -> Result<Labeled<u8, 784>, LoadError> {
    let images_path = mnist_file(dir, set, "images", 3);
    let labels_path = mnist_file(dir, set, "labels", 1);
    let inputs = read_idx_images::<784>(&images_path)?;
    let labels = read_idx_labels::<10>(&labels_path)?;
    if inputs.len() != labels.len() {
        return Err(LoadError::new(
            &labels_path,
            Location::File,
            Problem::CountMismatch {
                images: inputs.len(),
                labels: labels.len(),
            },
        ));
    }
    Ok(Labeled { inputs, labels })
}

/// Reads the four uncompressed MNIST files from `dir`:
/// `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
/// `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte` (a `.` instead of
/// the last `-` is accepted too).
///
/// # Errors
///
/// The first [`LoadError`] met; [`LoadError::is_not_found`] tells a missing
/// file apart.
pub fn read_mnist(dir: impl AsRef<Path>) -> Result<Mnist, LoadError> {
    let dir = dir.as_ref();
    Ok(Mnist {
        train: read_set(dir, "train")?,
        test: read_set(dir, "t10k")?,
    })
}
