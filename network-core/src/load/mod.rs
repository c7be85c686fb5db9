//! Loading real data (needs the `std` feature): CSV tables of features plus an
//! integer label, and the IDX files MNIST is distributed in.
//!
//! Every loader checks its input completely and reports the first problem as
//! a [`LoadError`] that names the file and the line or byte offset, never
//! panicking. The results are [`Labeled`] samples, which
//! [`Labeled::classification`] views as a [`Dataset`](crate::Dataset).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::string::String;
use std::vec::Vec;

use crate::Scalar;
use crate::dataset::{Classification, DatasetError};

mod csv;
mod idx;

pub use csv::{parse_csv, read_csv};
pub use idx::{
    Mnist, parse_idx_images, parse_idx_labels, read_idx_images, read_idx_labels, read_mnist,
};

/// Samples with `IN` features of type `F` each and an integer label.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Labeled<F, const IN: usize> {
    /// One row of features per sample.
    pub inputs: Vec<[F; IN]>,
    /// One label per sample.
    pub labels: Vec<usize>,
}

impl<F: Copy + Into<f64>, const IN: usize> Labeled<F, IN> {
    /// The number of samples.
    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    /// True if there are no samples.
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }

    /// A dataset view in scalar type `T` with `OUT` classes (one-hot
    /// targets), or, with `OUT = 1`, two classes whose label 0 or 1 is the
    /// target of a single sigmoid output; every feature multiplied by
    /// `scale`.
    ///
    /// # Errors
    ///
    /// A [`DatasetError`] if a label is not below `OUT` (below 2 for
    /// `OUT = 1`).
    pub fn classification<T: Scalar, const OUT: usize>(
        &self,
        scale: f64,
    ) -> Result<Classification<'_, F, T, IN, OUT>, DatasetError> {
        Classification::new(&self.inputs, &self.labels, scale)
    }
}

/// Where in a file a problem was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// The file as a whole (it could not be opened or read).
    File,
    /// A line of a text file, from 1.
    Line(usize),
    /// A byte offset in a binary file, from 0.
    Byte(u64),
}

/// What was wrong with a file.
#[derive(Debug)]
#[non_exhaustive]
pub enum Problem {
    /// Opening or reading failed.
    Io(io::Error),
    /// A line is not valid UTF-8.
    NotUtf8,
    /// The CSV file has no header line.
    MissingHeader,
    /// The first line, which must be a header naming the columns, holds
    /// only numbers: the file has no header, and its first sample would be
    /// lost.
    HeaderIsData,
    /// The file holds no samples.
    NoSamples,
    /// A CSV line has the wrong number of columns.
    ColumnCount {
        /// `IN` features plus the label.
        expected: usize,
        /// The columns found.
        found: usize,
    },
    /// A feature is not a finite number.
    NotANumber {
        /// The column, from 1.
        column: usize,
        /// The text found.
        value: String,
    },
    /// A label is not a non-negative integer.
    NotALabel {
        /// The text found.
        value: String,
    },
    /// A label is not below the number of classes.
    LabelOutOfRange {
        /// The label.
        label: usize,
        /// The number of classes.
        classes: usize,
    },
    /// An IDX file does not start with the expected magic number.
    BadMagic {
        /// The magic number read (big-endian).
        found: u32,
        /// The one expected.
        expected: u32,
    },
    /// The file ends before the data its header announces.
    Truncated {
        /// The length the header implies, in bytes.
        expected: u64,
        /// The actual length.
        found: u64,
    },
    /// The file goes on after the data its header announces.
    TrailingBytes {
        /// The length the header implies, in bytes.
        expected: u64,
        /// The actual length.
        found: u64,
    },
    /// The images are not of the size the network takes.
    WrongImageSize {
        /// `IN`.
        expected: usize,
        /// `rows x cols` in the file.
        found: usize,
    },
    /// An image file and its label file hold different numbers of samples.
    CountMismatch {
        /// The images.
        images: usize,
        /// The labels.
        labels: usize,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Io(error) => write!(f, "{error}"),
            Problem::NotUtf8 => f.write_str("not valid UTF-8"),
            Problem::MissingHeader => f.write_str("empty file: expected a header line"),
            Problem::HeaderIsData => f.write_str(
                "the first line holds only numbers, like a sample, but must be a header naming the columns (add one, such as `x1,x2,label`)",
            ),
            Problem::NoSamples => f.write_str("no samples"),
            Problem::ColumnCount { expected, found } => write!(
                f,
                "expected {expected} comma-separated columns ({} features and a label), found {found}",
                expected - 1
            ),
            Problem::NotANumber { column, value } => {
                write!(f, "column {column}: `{value}` is not a finite number")
            }
            Problem::NotALabel { value } => {
                write!(f, "label `{value}` is not a non-negative integer")
            }
            Problem::LabelOutOfRange { label, classes } => write!(
                f,
                "label {label} is out of range: there are {classes} classes (0..{classes})"
            ),
            Problem::BadMagic { found, expected } => write!(
                f,
                "bad magic number {found:#010x}, expected {expected:#010x}: not an IDX file of this kind"
            ),
            Problem::Truncated { expected, found } => write!(
                f,
                "truncated: the header announces {expected} bytes, the file has {found}"
            ),
            Problem::TrailingBytes { expected, found } => write!(
                f,
                "the header announces {expected} bytes, but the file has {found}"
            ),
            Problem::WrongImageSize { expected, found } => write!(
                f,
                "images have {found} pixels, but the network takes {expected} inputs"
            ),
            Problem::CountMismatch { images, labels } => {
                write!(f, "{images} images but {labels} labels")
            }
        }
    }
}

/// A file could not be loaded: which file, where in it, and what was wrong.
#[derive(Debug)]
pub struct LoadError {
    /// The file.
    pub path: PathBuf,
    /// Where in the file.
    pub location: Location,
    /// What was wrong.
    pub problem: Problem,
}

impl LoadError {
    pub(crate) fn new(path: &Path, location: Location, problem: Problem) -> Self {
        LoadError {
            path: path.to_path_buf(),
            location,
            problem,
        }
    }

    /// True if the file does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(&self.problem, Problem::Io(e) if e.kind() == io::ErrorKind::NotFound)
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match self.location {
            Location::File => write!(f, "{path}: {}", self.problem),
            Location::Line(line) => write!(f, "{path}:{line}: {}", self.problem),
            Location::Byte(offset) => write!(f, "{path}: byte {offset}: {}", self.problem),
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.problem {
            Problem::Io(error) => Some(error),
            _ => None,
        }
    }
}
