//! Classification metrics, and predictions over a whole dataset.
//!
//! ```text
//! precision_k = TP_k / (TP_k + FP_k)      of the samples predicted k, the share that are k
//! recall_k    = TP_k / (TP_k + FN_k)      of the samples that are k, the share predicted k
//! F1_k        = 2 P_k R_k / (P_k + R_k)
//! macro average = the mean over the K classes
//! ```
//!
//! A [`ConfusionMatrix`] comes from [`Trainer::confusion_matrix`]
//! (which predicts as [`Trainer::evaluate`] counts accuracy), or is filled
//! by hand with [`ConfusionMatrix::add`]. [`predict`] writes a network's
//! outputs for every sample of a dataset, in batches of its own, and
//! [`probabilities`] turns one sample's logits into class probabilities.
//!
//! ```
//! use network_core::metrics::ConfusionMatrix;
//!
//! let mut matrix = ConfusionMatrix::<2>::new();
//! for (actual, predicted) in [(0, 0), (0, 1), (1, 1), (1, 1)] {
//!     matrix.add(actual, predicted)?;
//! }
//! assert_eq!(matrix.precision(1), Some(2.0 / 3.0));
//! assert_eq!(matrix.recall(0), Some(0.5));
//! assert_eq!(matrix.accuracy(), Some(0.75));
//! # Ok::<(), network_core::metrics::MetricsError>(())
//! ```
//!
//! [`Trainer::confusion_matrix`]: crate::Trainer::confusion_matrix
//! [`Trainer::evaluate`]: crate::Trainer::evaluate

use core::fmt;

use nalgebra::{SMatrix, SVector};

use crate::activation::{Activation, Softmax, sigmoid};
use crate::train::inference_batches;
use crate::{Cache, Dataset, Network, Noise, Scalar};

/// Why a metric or a prediction could not be formed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricsError {
    /// A class index is not below the number of classes.
    ClassOutOfRange {
        /// The index given.
        class: usize,
        /// The number of classes.
        classes: usize,
    },
    /// The output buffer does not have one slot per sample.
    OutputLength {
        /// The number of samples.
        expected: usize,
        /// The buffer's length.
        found: usize,
    },
    /// A sample has a NaN or infinite input.
    NonFiniteInput {
        /// The sample's index.
        sample: usize,
    },
}

impl fmt::Display for MetricsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            MetricsError::ClassOutOfRange { class, classes } => write!(
                f,
                "class {class} is out of range: there are {classes} classes (0..{classes})"
            ),
            MetricsError::OutputLength { expected, found } => write!(
                f,
                "the output buffer has {found} slots but the dataset has {expected} samples"
            ),
            MetricsError::NonFiniteInput { sample } => {
                write!(f, "sample {sample} has a NaN or infinite input")
            }
        }
    }
}

impl core::error::Error for MetricsError {}

/// Counts of (actual class, predicted class) pairs over `K` classes:
/// `count(a, p)` samples of class `a` were predicted as `p`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfusionMatrix<const K: usize> {
    counts: [[usize; K]; K],
}

impl<const K: usize> Default for ConfusionMatrix<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const K: usize> ConfusionMatrix<K> {
    /// No samples yet.
    pub fn new() -> Self {
        ConfusionMatrix {
            counts: [[0; K]; K],
        }
    }

    /// Counts one sample of class `actual` predicted as `predicted`.
    ///
    /// # Errors
    ///
    /// [`MetricsError::ClassOutOfRange`] if either is not below `K`
    /// (nothing is counted then).
    pub fn add(&mut self, actual: usize, predicted: usize) -> Result<(), MetricsError> {
        for class in [actual, predicted] {
            if class >= K {
                return Err(MetricsError::ClassOutOfRange { class, classes: K });
            }
        }
        self.counts[actual][predicted] += 1;
        Ok(())
    }

    /// The samples of class `actual` predicted as `predicted` (0 out of
    /// range).
    pub fn count(&self, actual: usize, predicted: usize) -> usize {
        self.counts
            .get(actual)
            .and_then(|row| row.get(predicted))
            .copied()
            .unwrap_or(0)
    }

    /// Every count, `[actual][predicted]`.
    pub fn counts(&self) -> &[[usize; K]; K] {
        &self.counts
    }

    /// The number of samples counted.
    pub fn samples(&self) -> usize {
        self.counts.iter().flatten().sum()
    }

    /// The share of samples predicted as their class; `None` for no
    /// samples.
    pub fn accuracy(&self) -> Option<f64> {
        let correct: usize = (0..K).map(|k| self.counts[k][k]).sum();
        ratio(correct, self.samples())
    }

    /// `TP / (TP + FP)` for `class`; `None` if no sample was predicted as
    /// it (or it is out of range).
    pub fn precision(&self, class: usize) -> Option<f64> {
        let predicted: usize = (0..K).map(|a| self.count(a, class)).sum();
        ratio(self.count(class, class), predicted)
    }

    /// `TP / (TP + FN)` for `class`; `None` if no sample is of it (or it is
    /// out of range).
    pub fn recall(&self, class: usize) -> Option<f64> {
        let actual: usize = self.counts.get(class).map_or(0, |row| row.iter().sum());
        ratio(self.count(class, class), actual)
    }

    /// `2 P R / (P + R)` for `class`: `None` if its precision or recall is
    /// undefined, `0` if both are 0.
    pub fn f1(&self, class: usize) -> Option<f64> {
        let (p, r) = (self.precision(class)?, self.recall(class)?);
        Some(if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        })
    }

    /// The mean precision over the `K` classes, an undefined one counted
    /// as 0 (scikit-learn's `zero_division=0`); `None` for no samples.
    pub fn macro_precision(&self) -> Option<f64> {
        self.macro_average(|k| self.precision(k))
    }

    /// The mean recall over the `K` classes, an undefined one counted as 0;
    /// `None` for no samples.
    pub fn macro_recall(&self) -> Option<f64> {
        self.macro_average(|k| self.recall(k))
    }

    /// The mean F1 over the `K` classes, an undefined one counted as 0;
    /// `None` for no samples.
    pub fn macro_f1(&self) -> Option<f64> {
        self.macro_average(|k| self.f1(k))
    }

    fn macro_average(&self, metric: impl Fn(usize) -> Option<f64>) -> Option<f64> {
        if self.samples() == 0 || K == 0 {
            return None;
        }
        Some((0..K).map(|k| metric(k).unwrap_or(0.0)).sum::<f64>() / K as f64)
    }
}

/// `part / whole`, `None` for a whole of 0.
fn ratio(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The counts as a table, a row per actual class, then each class's
/// precision, recall and F1 and their macro averages.
impl<const K: usize> fmt::Display for ConfusionMatrix<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let metric = |v: Option<f64>| v.map_or(f64::NAN, |v| v);
        write!(f, "actual \\ predicted")?;
        for k in 0..K {
            write!(f, " {k:>6}")?;
        }
        writeln!(f, " | precision recall     F1")?;
        for (actual, row) in self.counts.iter().enumerate() {
            write!(f, "{actual:>18}")?;
            for count in row {
                write!(f, " {count:>6}")?;
            }
            writeln!(
                f,
                " | {:>9.4} {:>6.4} {:>6.4}",
                metric(self.precision(actual)),
                metric(self.recall(actual)),
                metric(self.f1(actual))
            )?;
        }
        write!(
            f,
            "macro average: precision {:.4}, recall {:.4}, F1 {:.4}; accuracy {:.4}",
            metric(self.macro_precision()),
            metric(self.macro_recall()),
            metric(self.macro_f1()),
            metric(self.accuracy())
        )
    }
}

/// The batch [`predict`] runs its samples in.
const PREDICT_BATCH: usize = 16;

/// Writes `network`'s output for every sample of `data` into `outputs`, at
/// inference (dropout off), in batches of 16 (so there is neither a loop
/// nor a batch size to write).
///
/// # Errors
///
/// [`MetricsError::OutputLength`] unless `outputs` has one slot per sample;
/// [`MetricsError::NonFiniteInput`] for the first sample with a NaN or
/// infinite input (the outputs before it are written).
pub fn predict<T, N, D, const IN: usize, const OUT: usize>(
    network: &N,
    data: &D,
    outputs: &mut [[T; OUT]],
) -> Result<(), MetricsError>
where
    T: Scalar,
    N: Network<T, IN, OUT>,
    D: Dataset<T, IN, OUT> + ?Sized,
{
    if outputs.len() != data.len() {
        return Err(MetricsError::OutputLength {
            expected: data.len(),
            found: outputs.len(),
        });
    }
    inference_batches::<T, N, D, IN, OUT, PREDICT_BATCH>(network, data, |cache, _, start, len| {
        let y = cache.output();
        for (j, slot) in outputs[start..start + len].iter_mut().enumerate() {
            for (o, &v) in slot.iter_mut().zip(y.column(j).iter()) {
                *o = v;
            }
        }
    })
    .map_err(|sample| MetricsError::NonFiniteInput { sample })
}

/// The class probabilities of one sample from the output layer's logits
/// `z`, whatever its activation: `softmax(z)` for several outputs,
/// `sigmoid(z)` (the probability of class 1) for one. For a network that
/// outputs logits (an `Identity` output layer trained with a
/// cross-entropy) this is the one call from logits to probabilities; for a
/// `Softmax` or `Sigmoid` output it equals the output.
pub fn probabilities<T, N, const IN: usize, const OUT: usize>(network: &N, x: &[T; IN]) -> [T; OUT]
where
    T: Scalar,
    N: Network<T, IN, OUT>,
{
    let x = SMatrix::<T, IN, 1>::from_column_slice(x);
    let cache = network.forward_cache(&x, Noise::OFF);
    let z: SVector<T, OUT> = cache.logits().column(0).into_owned();
    let p = if OUT == 1 {
        z.map(sigmoid)
    } else {
        Softmax::forward(&z)
    };
    core::array::from_fn(|k| p[k])
}
