//! Conversions from user data to the matrices a network takes, with compile
//! errors that say how many inputs or outputs were expected.

use nalgebra::SMatrix;

use crate::Scalar;

/// Data that holds `B` samples of `N` inputs each: an `SMatrix<T, N, B>`
/// (`SVector<T, N>` for one sample) or an array `[T; N]`.
#[diagnostic::on_unimplemented(
    message = "this network takes inputs of width {N}, but was given `{Self}`",
    label = "expected one row per input ({N}) and one column per sample",
    note = "pass an `SVector<T, {N}>`, an array `[T; {N}]`, or a batch `SMatrix<T, {N}, B>` with one column per sample"
)]
pub trait Samples<T: Scalar, const N: usize, const B: usize> {
    /// Calls `f` with the data as an `N x B` matrix.
    fn with_matrix<R>(&self, f: impl FnOnce(&SMatrix<T, N, B>) -> R) -> R;
}

/// The data types [`Samples`] takes: a matrix, or an array for one sample.
/// Hidden behind its one blanket impl, so that a mismatch reads as
/// [`Samples`]' message alone, rather than adding rustc's note on this
/// trait's impl for the other size.
#[doc(hidden)]
pub trait DataMatrix<T: Scalar, const N: usize, const B: usize> {
    /// Calls `f` with the data as an `N x B` matrix.
    fn with_data<R>(&self, f: impl FnOnce(&SMatrix<T, N, B>) -> R) -> R;
}

impl<T: Scalar, const N: usize, const B: usize> DataMatrix<T, N, B> for SMatrix<T, N, B> {
    #[inline]
    fn with_data<R>(&self, f: impl FnOnce(&SMatrix<T, N, B>) -> R) -> R {
        f(self)
    }
}

impl<T: Scalar, const N: usize> DataMatrix<T, N, 1> for [T; N] {
    #[inline]
    fn with_data<R>(&self, f: impl FnOnce(&SMatrix<T, N, 1>) -> R) -> R {
        f(&SMatrix::from(*self))
    }
}

#[diagnostic::do_not_recommend]
impl<T: Scalar, const N: usize, const B: usize, D: DataMatrix<T, N, B>> Samples<T, N, B> for D {
    #[inline]
    fn with_matrix<R>(&self, f: impl FnOnce(&SMatrix<T, N, B>) -> R) -> R {
        self.with_data(f)
    }
}

/// Targets for `B` samples of a network with `N` outputs: an
/// `SMatrix<T, N, B>` or an array `[T; N]`.
///
/// Both impls take a matrix or an array of any size and check its size
/// against `N x B` in a where-clause, so that a wrong size is reported with
/// the size it has ("but are 1 x 5") rather than as a nalgebra type.
#[diagnostic::on_unimplemented(
    message = "the targets must be {N} x {B}: one row per output ({N}) and one column per sample, as many as the inputs ({B}), but are `{Self}`",
    label = "expected {N} x {B}",
    note = "pass an `SVector<T, {N}>`, an array `[T; {N}]`, or a batch `SMatrix<T, {N}, {B}>` with one column per sample"
)]
pub trait Targets<T: Scalar, const N: usize, const B: usize> {
    /// Calls `f` with the targets as an `N x B` matrix.
    fn with_matrix<R>(&self, f: impl FnOnce(&SMatrix<T, N, B>) -> R) -> R;
}

/// The size check behind [`Targets`]' impls: targets of `ROWS x COLUMNS`
/// are the `N x B` a network with `N` outputs takes for `B` samples. It
/// holds only where the two sizes are equal, and then [`cast`] is the
/// identity between the two matrix types.
///
/// [`cast`]: TargetShape::cast
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "the targets must be {N} x {B}: one row per output ({N}) and one column per sample, as many as the inputs ({B}), but are {ROWS} x {COLUMNS}",
    label = "expected {N} x {B}, found {ROWS} x {COLUMNS}",
    note = "pass an `SVector<T, {N}>`, an array `[T; {N}]`, or a batch `SMatrix<T, {N}, {B}>` with one column per sample"
)]
pub trait TargetShape<const ROWS: usize, const COLUMNS: usize, const N: usize, const B: usize> {
    /// The same matrix, as the type of the size it was checked to have.
    fn cast<T: Scalar>(targets: &SMatrix<T, ROWS, COLUMNS>) -> &SMatrix<T, N, B>;
}

impl<const N: usize, const B: usize> TargetShape<N, B, N, B> for () {
    #[inline(always)]
    fn cast<T: Scalar>(targets: &SMatrix<T, N, B>) -> &SMatrix<T, N, B> {
        targets
    }
}

impl<T: Scalar, const ROWS: usize, const COLUMNS: usize, const N: usize, const B: usize>
    Targets<T, N, B> for SMatrix<T, ROWS, COLUMNS>
where
    (): TargetShape<ROWS, COLUMNS, N, B>,
{
    #[inline]
    fn with_matrix<R>(&self, f: impl FnOnce(&SMatrix<T, N, B>) -> R) -> R {
        f(<() as TargetShape<ROWS, COLUMNS, N, B>>::cast(self))
    }
}

// An array's own type says its length (`[f32; 2]`), so a wrong one is
// reported as the array, and a type that is neither (a `Vec`) is not told
// about this impl as well as the matrix's.
#[diagnostic::do_not_recommend]
impl<T: Scalar, const ROWS: usize, const N: usize, const B: usize> Targets<T, N, B> for [T; ROWS]
where
    (): TargetShape<ROWS, 1, N, B>,
{
    #[inline]
    fn with_matrix<R>(&self, f: impl FnOnce(&SMatrix<T, N, B>) -> R) -> R {
        let column = SMatrix::<T, ROWS, 1>::from(*self);
        f(<() as TargetShape<ROWS, 1, N, B>>::cast(&column))
    }
}
