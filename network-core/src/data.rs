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

/// The data types [`Samples`] and [`Targets`] take: a matrix, or an array
/// for one sample. Hidden behind the two traits' one blanket impl each, so
/// that a mismatch reads as those traits' messages alone, rather than
/// adding rustc's note on this trait's impl for the other size.
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
#[diagnostic::on_unimplemented(
    message = "the targets must be {N} x {B}: one row per output ({N}) and one column per sample, as many as the inputs ({B}), but are `{Self}`",
    label = "expected {N} x {B}",
    note = "pass an `SVector<T, {N}>`, an array `[T; {N}]`, or a batch `SMatrix<T, {N}, {B}>` with one column per sample"
)]
pub trait Targets<T: Scalar, const N: usize, const B: usize> {
    /// Calls `f` with the targets as an `N x B` matrix.
    fn with_matrix<R>(&self, f: impl FnOnce(&SMatrix<T, N, B>) -> R) -> R;
}

#[diagnostic::do_not_recommend]
impl<T: Scalar, const N: usize, const B: usize, D: DataMatrix<T, N, B>> Targets<T, N, B> for D {
    #[inline]
    fn with_matrix<R>(&self, f: impl FnOnce(&SMatrix<T, N, B>) -> R) -> R {
        self.with_data(f)
    }
}
