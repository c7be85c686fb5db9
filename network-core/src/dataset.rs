//! Datasets of `(input, target)` samples, seeded index orders and
//! mini-batches of a constant size, all without allocating.
//!
//! - [`Dataset`]: anything that can write sample `i` into a column; slices
//!   of `(SVector, SVector)` or `([T; IN], [T; OUT])` pairs are datasets, and
//!   [`Classification`] views feature rows plus integer labels (one-hot
//!   targets on the fly, so images can stay `u8`).
//! - [`Subset`]: the samples at some indices of another dataset;
//!   [`shuffled_split`] and [`stratified_split`] make the indices for a
//!   seeded train/test split.
//! - [`Batch`]: `B` samples as the `IN x B` and `OUT x B` matrices a network
//!   takes, plus how many columns are real (the last batch of an epoch may
//!   be partial; see [`Batch::fill`]).

use core::fmt;
use core::marker::PhantomData;

use nalgebra::{SMatrix, SVector, SVectorViewMut};

use crate::{Rng, Scalar};

/// A finite sequence of samples, each an input of `IN` values and a target of
/// `OUT` values.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a dataset of this network's samples: {IN} inputs and {OUT} outputs each, in the network's scalar",
    label = "expected samples of {IN} inputs and {OUT} outputs",
    note = "pass a slice (`&data[..]`) of `([T; {IN}], [T; {OUT}])` or `(SVector<T, {IN}>, SVector<T, {OUT}>)` pairs, in the network's scalar `T`, or a `Classification` or `Subset` of that width"
)]
pub trait Dataset<T: Scalar, const IN: usize, const OUT: usize> {
    /// The number of samples.
    fn len(&self) -> usize;

    /// True if there are no samples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes sample `index` into `input` and `target` (typically two
    /// columns of a [`Batch`]).
    ///
    /// Callers keep `index < self.len()`; implementations may panic
    /// otherwise, as slice indexing does.
    fn write_sample(
        &self,
        index: usize,
        input: SVectorViewMut<'_, T, IN>,
        target: SVectorViewMut<'_, T, OUT>,
    );
}

#[diagnostic::do_not_recommend]
impl<T: Scalar, const IN: usize, const OUT: usize> Dataset<T, IN, OUT>
    for [(SVector<T, IN>, SVector<T, OUT>)]
{
    fn len(&self) -> usize {
        <[_]>::len(self)
    }

    fn write_sample(
        &self,
        index: usize,
        mut input: SVectorViewMut<'_, T, IN>,
        mut target: SVectorViewMut<'_, T, OUT>,
    ) {
        let (x, t) = &self[index];
        input.copy_from(x);
        target.copy_from(t);
    }
}

#[diagnostic::do_not_recommend]
impl<T: Scalar, const IN: usize, const OUT: usize> Dataset<T, IN, OUT> for [([T; IN], [T; OUT])] {
    fn len(&self) -> usize {
        <[_]>::len(self)
    }

    fn write_sample(
        &self,
        index: usize,
        mut input: SVectorViewMut<'_, T, IN>,
        mut target: SVectorViewMut<'_, T, OUT>,
    ) {
        let (x, t) = &self[index];
        input.copy_from_slice(x);
        target.copy_from_slice(t);
    }
}

#[diagnostic::do_not_recommend]
impl<T: Scalar, const IN: usize, const OUT: usize, D: Dataset<T, IN, OUT> + ?Sized>
    Dataset<T, IN, OUT> for &D
{
    fn len(&self) -> usize {
        (**self).len()
    }

    fn write_sample(
        &self,
        index: usize,
        input: SVectorViewMut<'_, T, IN>,
        target: SVectorViewMut<'_, T, OUT>,
    ) {
        (**self).write_sample(index, input, target);
    }
}

/// Why a dataset view could not be made.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DatasetError {
    /// The scale the features are multiplied by must be finite and above 0
    /// (NaN gave NaN inputs, 0 gave inputs that are all 0).
    InvalidScale(f64),
    /// There are not as many labels as feature rows.
    LengthMismatch {
        /// The number of feature rows.
        inputs: usize,
        /// The number of labels.
        labels: usize,
    },
    /// A label is not below the number of classes (the network's outputs).
    LabelOutOfRange {
        /// The sample.
        index: usize,
        /// Its label.
        label: usize,
        /// The number of classes.
        classes: usize,
    },
    /// An index points past the end of the dataset.
    IndexOutOfRange {
        /// The offending index.
        index: usize,
        /// The dataset's length.
        len: usize,
    },
}

impl fmt::Display for DatasetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DatasetError::InvalidScale(scale) => write!(
                f,
                "the features' scale is {scale}, but must be a finite number above 0"
            ),
            DatasetError::LengthMismatch { inputs, labels } => {
                write!(f, "{inputs} feature rows but {labels} labels")
            }
            DatasetError::LabelOutOfRange {
                index,
                label,
                classes,
            } => write!(
                f,
                "sample {index} has label {label}, but there are only {classes} classes (0..{classes})"
            ),
            DatasetError::IndexOutOfRange { index, len } => {
                write!(
                    f,
                    "index {index} is out of range for a dataset of {len} samples"
                )
            }
        }
    }
}

impl core::error::Error for DatasetError {}

/// A classification dataset viewed over borrowed slices: feature rows of any
/// numeric type `F` (`u8` pixels, `f64`...) and integer labels; sample `i`
/// is `inputs[i] * scale` with the one-hot target of `labels[i]`, in the
/// scalar type `T` of the network.
///
/// ```
/// use network_core::dataset::{Classification, Dataset};
/// use network_core::nalgebra::SVector;
///
/// let pixels = [[0u8, 255], [255, 0]];
/// let labels = [1, 0];
/// let data = Classification::<u8, f32, 2, 3>::new(&pixels, &labels, 1.0 / 255.0).unwrap();
/// let (mut x, mut t) = (SVector::<f32, 2>::zeros(), SVector::<f32, 3>::zeros());
/// data.write_sample(0, x.column_mut(0), t.column_mut(0));
/// assert_eq!((x, t), (SVector::from([0.0, 1.0]), SVector::from([0.0, 1.0, 0.0])));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Classification<'a, F, T, const IN: usize, const OUT: usize> {
    inputs: &'a [[F; IN]],
    labels: &'a [usize],
    scale: f64,
    scalar: PhantomData<fn() -> T>,
}

impl<'a, F: Copy + Into<f64>, T: Scalar, const IN: usize, const OUT: usize>
    Classification<'a, F, T, IN, OUT>
{
    /// A view of `inputs` labelled by `labels`, every feature multiplied by
    /// `scale`. With `OUT` outputs the labels are below `OUT` and the targets
    /// one-hot; with one output (binary classification, a sigmoid) the
    /// labels are 0 or 1 and the target is the label itself.
    ///
    /// # Errors
    ///
    /// [`DatasetError::InvalidScale`], [`DatasetError::LengthMismatch`] or
    /// [`DatasetError::LabelOutOfRange`].
    pub fn new(
        inputs: &'a [[F; IN]],
        labels: &'a [usize],
        scale: f64,
    ) -> Result<Self, DatasetError> {
        if !(scale.is_finite() && scale > 0.0) {
            return Err(DatasetError::InvalidScale(scale));
        }
        if inputs.len() != labels.len() {
            return Err(DatasetError::LengthMismatch {
                inputs: inputs.len(),
                labels: labels.len(),
            });
        }
        let classes = Self::CLASSES;
        if let Some((index, &label)) = labels.iter().enumerate().find(|(_, l)| **l >= classes) {
            return Err(DatasetError::LabelOutOfRange {
                index,
                label,
                classes,
            });
        }
        Ok(Classification {
            inputs,
            labels,
            scale,
            scalar: PhantomData,
        })
    }

    /// The number of classes: `OUT`, or 2 for a single output.
    pub const CLASSES: usize = if OUT == 1 { 2 } else { OUT };

    /// The label of sample `index`.
    pub fn label(&self, index: usize) -> Option<usize> {
        self.labels.get(index).copied()
    }
}

#[diagnostic::do_not_recommend]
impl<T: Scalar, F: Copy + Into<f64>, const IN: usize, const OUT: usize> Dataset<T, IN, OUT>
    for Classification<'_, F, T, IN, OUT>
{
    fn len(&self) -> usize {
        self.inputs.len()
    }

    fn write_sample(
        &self,
        index: usize,
        mut input: SVectorViewMut<'_, T, IN>,
        mut target: SVectorViewMut<'_, T, OUT>,
    ) {
        for (x, &f) in input.iter_mut().zip(&self.inputs[index]) {
            *x = T::constant(f.into() * self.scale);
        }
        let label = self.labels[index];
        if OUT == 1 {
            target[0] = T::constant(label as f64);
        } else {
            target.fill(T::zero());
            target[label] = T::one();
        }
    }
}

/// The samples of `data` at `indices`, in that order.
#[derive(Clone, Copy, Debug)]
pub struct Subset<'a, D: ?Sized> {
    data: &'a D,
    indices: &'a [usize],
}

impl<'a, D: ?Sized> Subset<'a, D> {
    /// A view of `data` through `indices`.
    ///
    /// # Errors
    ///
    /// [`DatasetError::IndexOutOfRange`] if an index is not below `data.len()`.
    pub fn new<T: Scalar, const IN: usize, const OUT: usize>(
        data: &'a D,
        indices: &'a [usize],
    ) -> Result<Self, DatasetError>
    where
        D: Dataset<T, IN, OUT>,
    {
        let len = data.len();
        match indices.iter().find(|&&i| i >= len) {
            Some(&index) => Err(DatasetError::IndexOutOfRange { index, len }),
            None => Ok(Subset { data, indices }),
        }
    }

    /// The indices into the underlying dataset.
    pub fn indices(&self) -> &'a [usize] {
        self.indices
    }
}

#[diagnostic::do_not_recommend]
impl<T: Scalar, const IN: usize, const OUT: usize, D: Dataset<T, IN, OUT> + ?Sized>
    Dataset<T, IN, OUT> for Subset<'_, D>
{
    fn len(&self) -> usize {
        self.indices.len()
    }

    fn write_sample(
        &self,
        index: usize,
        input: SVectorViewMut<'_, T, IN>,
        target: SVectorViewMut<'_, T, OUT>,
    ) {
        self.data.write_sample(self.indices[index], input, target);
    }
}

/// Fills `order` with `0..order.len()` in a random order fixed by `seed`, and
/// splits it into the first part and the last `round(len * fraction)`
/// indices (clamped to `0..=len`): a seeded train/test split.
///
/// ```
/// use network_core::dataset::shuffled_split;
///
/// let mut order = [0; 10];
/// let (train, test) = shuffled_split(&mut order, 0.2, 7);
/// assert_eq!((train.len(), test.len()), (8, 2));
/// ```
pub fn shuffled_split(order: &mut [usize], fraction: f64, seed: u64) -> (&[usize], &[usize]) {
    for (i, slot) in order.iter_mut().enumerate() {
        *slot = i;
    }
    Rng::new(seed).shuffle(order);
    let held_out = split_len(order.len(), fraction);
    order.split_at(order.len() - held_out)
}

/// Like [`shuffled_split`], but holds out `round(n_c * fraction)` samples of
/// each class `c` (its count `n_c` taken from `labels`, each below
/// `CLASSES`), so both parts keep the class proportions: a seeded,
/// stratified train/test split. `order` needs one slot per label.
///
/// ```
/// use network_core::dataset::stratified_split;
///
/// let labels = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1];
/// let mut order = [0; 10];
/// let (train, test) = stratified_split::<2>(&labels, &mut order, 0.4, 7).unwrap();
/// assert_eq!((train.len(), test.len()), (6, 4));
/// assert_eq!(test.iter().filter(|&&i| labels[i] == 0).count(), 2);
/// ```
///
/// # Errors
///
/// [`DatasetError::LengthMismatch`] if `order` and `labels` differ in length,
/// [`DatasetError::LabelOutOfRange`] for a label not below `CLASSES`.
pub fn stratified_split<'o, const CLASSES: usize>(
    labels: &[usize],
    order: &'o mut [usize],
    fraction: f64,
    seed: u64,
) -> Result<(&'o [usize], &'o [usize]), DatasetError> {
    if order.len() != labels.len() {
        return Err(DatasetError::LengthMismatch {
            inputs: order.len(),
            labels: labels.len(),
        });
    }
    let mut counts = [0; CLASSES];
    for (index, &label) in labels.iter().enumerate() {
        match counts.get_mut(label) {
            Some(count) => *count += 1,
            None => {
                return Err(DatasetError::LabelOutOfRange {
                    index,
                    label,
                    classes: CLASSES,
                });
            }
        }
    }
    let quotas = counts.map(|count| split_len(count, fraction));
    let mut taken = [0; CLASSES];
    for (i, slot) in order.iter_mut().enumerate() {
        *slot = i;
    }
    let mut rng = Rng::new(seed);
    rng.shuffle(order);
    // Move the first `quota` samples of each class (in the shuffled order)
    // to the end; `end` is where the held-out part starts.
    let (mut i, mut end) = (0, order.len());
    while i < end {
        let class = labels[order[i]];
        if taken[class] < quotas[class] {
            taken[class] += 1;
            end -= 1;
            order.swap(i, end);
        } else {
            i += 1;
        }
    }
    let (train, test) = order.split_at_mut(end);
    rng.shuffle(train);
    rng.shuffle(test);
    Ok((train, test))
}

/// `round(len * fraction)`, clamped to `0..=len`; NaN counts as zero.
pub(crate) fn split_len(len: usize, fraction: f64) -> usize {
    let held_out = libm::round(len as f64 * fraction);
    if held_out >= len as f64 {
        len
    } else if held_out > 0.0 {
        held_out as usize
    } else {
        0
    }
}

/// `B` samples as the matrices a network takes: inputs `x` (`IN x B`) and
/// targets `t` (`OUT x B`), one sample per column, of which the first `len`
/// are real.
///
/// The last batch of an epoch usually has fewer than `B` samples. Its unused
/// columns repeat the batch's first sample (so they hold ordinary, finite
/// data), and the training loop masks them: their output error is set to
/// zero and the mean is taken over the `len` real samples only, so a partial
/// batch gives exactly the loss and gradients of a batch of `len`. No
/// sample is dropped or counted twice.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Batch<T: Scalar, const IN: usize, const OUT: usize, const B: usize> {
    /// The inputs, one column per sample.
    pub x: SMatrix<T, IN, B>,
    /// The targets, one column per sample.
    pub t: SMatrix<T, OUT, B>,
    /// How many columns, from the first, are real samples (`0..=B`).
    pub len: usize,
}

impl<T: Scalar, const IN: usize, const OUT: usize, const B: usize> Batch<T, IN, OUT, B> {
    /// An empty batch (all zeros, `len = 0`).
    pub fn zeros() -> Self {
        Batch {
            x: SMatrix::zeros(),
            t: SMatrix::zeros(),
            len: 0,
        }
    }

    /// Loads the samples of `data` at `indices` (the first `B` of them) into
    /// the columns, repeats the first one in the unused columns, and returns
    /// how many were loaded.
    ///
    /// # Errors
    ///
    /// [`DatasetError::IndexOutOfRange`] if an index is not below
    /// `data.len()`; the batch is then left empty (`len = 0`).
    pub fn fill<D: Dataset<T, IN, OUT> + ?Sized>(
        &mut self,
        data: &D,
        indices: &[usize],
    ) -> Result<usize, DatasetError> {
        self.len = 0;
        let indices = &indices[..indices.len().min(B)];
        if let Some(&index) = indices.iter().find(|&&i| i >= data.len()) {
            return Err(DatasetError::IndexOutOfRange {
                index,
                len: data.len(),
            });
        }
        for (column, &index) in indices.iter().enumerate() {
            data.write_sample(index, self.x.column_mut(column), self.t.column_mut(column));
        }
        if let Some(&first) = indices.first() {
            for column in indices.len()..B {
                data.write_sample(first, self.x.column_mut(column), self.t.column_mut(column));
            }
        }
        self.len = indices.len();
        Ok(self.len)
    }

    /// Loads the samples `start..` (at most `B` of them) of `data`, as
    /// [`Batch::fill`] with consecutive indices; returns how many were loaded
    /// (zero past the end).
    pub fn fill_range<D: Dataset<T, IN, OUT> + ?Sized>(&mut self, data: &D, start: usize) -> usize {
        let indices: [usize; B] = core::array::from_fn(|j| start.saturating_add(j));
        let available = data.len().saturating_sub(start).min(B);
        // Every index below `start + available` is in range.
        self.fill(data, &indices[..available]).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs() -> [([f64; 2], [f64; 1]); 5] {
        core::array::from_fn(|i| ([i as f64, -(i as f64)], [10.0 * i as f64]))
    }

    #[test]
    fn partial_batch_repeats_the_first_sample() {
        let data = pairs();
        let mut batch = Batch::<f64, 2, 1, 4>::zeros();
        assert_eq!(batch.fill(&data[..], &[4, 2]), Ok(2));
        assert_eq!(
            batch.x,
            SMatrix::<f64, 2, 4>::new(4.0, 2.0, 4.0, 4.0, -4.0, -2.0, -4.0, -4.0)
        );
        assert_eq!(batch.t, SMatrix::<f64, 1, 4>::new(40.0, 20.0, 40.0, 40.0));
        assert_eq!(batch.len, 2);
        // More than B indices: only the first B are loaded.
        assert_eq!(batch.fill(&data[..], &[0, 1, 2, 3, 4]), Ok(4));
        assert_eq!(batch.t, SMatrix::<f64, 1, 4>::new(0.0, 10.0, 20.0, 30.0));
    }

    #[test]
    fn a_scale_that_is_not_a_finite_positive_number_is_an_error() {
        let (inputs, labels) = ([[1.0f64, 2.0], [3.0, 4.0]], [0usize, 1]);
        for scale in [f64::NAN, 0.0, -1.0, f64::INFINITY] {
            let view = Classification::<f64, f32, 2, 2>::new(&inputs, &labels, scale);
            assert!(
                matches!(view, Err(DatasetError::InvalidScale(s)) if s.to_bits() == scale.to_bits()),
                "scale {scale}: {:?}",
                view.err()
            );
        }
        assert!(Classification::<f64, f32, 2, 2>::new(&inputs, &labels, 0.5).is_ok());
    }

    #[test]
    fn bad_index_is_an_error_not_a_panic() {
        let data = pairs();
        let mut batch = Batch::<f64, 2, 1, 4>::zeros();
        assert_eq!(
            batch.fill(&data[..], &[1, 5]),
            Err(DatasetError::IndexOutOfRange { index: 5, len: 5 })
        );
        assert_eq!(batch.len, 0);
        assert_eq!(batch.fill_range(&data[..], 3), 2);
        assert_eq!(batch.t, SMatrix::<f64, 1, 4>::new(30.0, 40.0, 30.0, 30.0));
        assert_eq!(batch.fill_range(&data[..], 5), 0);
        assert_eq!(batch.fill_range(&data[..], usize::MAX), 0);
        assert_eq!(batch.fill(&data[..], &[]), Ok(0));
    }

    #[test]
    fn vectors_and_arrays_are_datasets() {
        let vectors: [(SVector<f32, 2>, SVector<f32, 1>); 2] = [
            (SVector::from([1.0, 2.0]), SVector::from([3.0])),
            (SVector::from([4.0, 5.0]), SVector::from([6.0])),
        ];
        let mut batch = Batch::<f32, 2, 1, 2>::zeros();
        assert_eq!(batch.fill(&vectors[..], &[1, 0]), Ok(2));
        assert_eq!(batch.x, SMatrix::<f32, 2, 2>::new(4.0, 1.0, 5.0, 2.0));
        assert_eq!(Dataset::<f32, 2, 1>::len(&&vectors[..]), 2);
    }

    #[test]
    fn classification_checks_its_labels() {
        let inputs = [[1u8, 2], [3, 4], [5, 6]];
        assert_eq!(
            Classification::<u8, f64, 2, 3>::new(&inputs, &[0, 1], 1.0).unwrap_err(),
            DatasetError::LengthMismatch {
                inputs: 3,
                labels: 2
            }
        );
        assert_eq!(
            Classification::<u8, f64, 2, 3>::new(&inputs, &[0, 3, 1], 1.0).unwrap_err(),
            DatasetError::LabelOutOfRange {
                index: 1,
                label: 3,
                classes: 3
            }
        );
        let data = Classification::<u8, f64, 2, 3>::new(&inputs, &[2, 0, 1], 0.5).unwrap();
        let mut batch = Batch::<f64, 2, 3, 2>::zeros();
        assert_eq!(batch.fill(&data, &[0, 2]), Ok(2));
        assert_eq!(batch.x, SMatrix::<f64, 2, 2>::new(0.5, 2.5, 1.0, 3.0));
        assert_eq!(
            batch.t,
            SMatrix::<f64, 3, 2>::new(0.0, 0.0, 0.0, 1.0, 1.0, 0.0)
        );
        assert_eq!(data.label(2), Some(1));
        assert_eq!(data.label(3), None);
    }

    #[test]
    fn subsets_and_splits() {
        let data = pairs();
        let mut order = [0; 5];
        let (train, test) = shuffled_split(&mut order, 0.4, 3);
        assert_eq!((train.len(), test.len()), (3, 2));
        let mut all: [usize; 5] = core::array::from_fn(|i| order[i]);
        all.sort_unstable();
        assert_eq!(all, [0, 1, 2, 3, 4]);

        let subset = Subset::new(&data[..], &order[3..]).unwrap();
        let mut batch = Batch::<f64, 2, 1, 2>::zeros();
        assert_eq!(batch.fill(&subset, &[1, 0]), Ok(2));
        assert_eq!(batch.t[0], 10.0 * order[4] as f64);
        assert_eq!(batch.t[1], 10.0 * order[3] as f64);
        assert_eq!(
            Subset::new(&data[..], &[0, 7]).unwrap_err(),
            DatasetError::IndexOutOfRange { index: 7, len: 5 }
        );
    }

    #[test]
    fn stratified_split_keeps_class_proportions() {
        let labels: [usize; 30] = core::array::from_fn(|i| if i < 20 { 0 } else { 1 + i % 2 });
        let mut order = [0; 30];
        let (train, test) = stratified_split::<3>(&labels, &mut order, 0.2, 5).unwrap();
        assert_eq!((train.len(), test.len()), (24, 6));
        let count = |part: &[usize], class| part.iter().filter(|&&i| labels[i] == class).count();
        assert_eq!([count(test, 0), count(test, 1), count(test, 2)], [4, 1, 1]);
        assert_eq!(
            [count(train, 0), count(train, 1), count(train, 2)],
            [16, 4, 4]
        );
        let mut all = order;
        all.sort_unstable();
        assert_eq!(all, core::array::from_fn::<usize, 30, _>(|i| i));

        let mut again = [0; 30];
        let (_, test_again) = stratified_split::<3>(&labels, &mut again, 0.2, 5).unwrap();
        assert_eq!(test_again, &order[24..]);

        let mut short = [0; 29];
        assert!(matches!(
            stratified_split::<3>(&labels, &mut short, 0.2, 5),
            Err(DatasetError::LengthMismatch { .. })
        ));
        assert_eq!(
            stratified_split::<2>(&labels, &mut order, 0.2, 5).unwrap_err(),
            DatasetError::LabelOutOfRange {
                index: 21,
                label: 2,
                classes: 2
            }
        );
    }

    #[test]
    fn split_lengths_are_clamped() {
        assert_eq!(split_len(10, 0.25), 3);
        assert_eq!(split_len(10, 0.0), 0);
        assert_eq!(split_len(10, -1.0), 0);
        assert_eq!(split_len(10, 2.0), 10);
        assert_eq!(split_len(10, f64::NAN), 0);
        assert_eq!(split_len(0, 0.5), 0);
    }
}
