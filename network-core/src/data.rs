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

impl<T: Scalar, const N: usize, const B: usize> Samples<T, N, B> for SMatrix<T, N, B> {
    #[inline]
    fn with_matrix<R>(&self, f: impl FnOnce(&SMatrix<T, N, B>) -> R) -> R {
        f(self)
    }
}

impl<T: Scalar, const N: usize> Samples<T, N, 1> for [T; N] {
    #[inline]
    fn with_matrix<R>(&self, f: impl FnOnce(&SMatrix<T, N, 1>) -> R) -> R {
        f(&SMatrix::from(*self))
    }
}

/// Targets for `B` samples of a network with `N` outputs: an
/// `SMatrix<T, N, B>` or an array `[T; N]`.
#[diagnostic::on_unimplemented(
    message = "this network's outputs have width {N}, but the targets are `{Self}`",
    label = "expected one row per output ({N}) and one column per sample",
    note = "pass an `SVector<T, {N}>`, an array `[T; {N}]`, or a batch `SMatrix<T, {N}, B>` with one column per sample"
)]
pub trait Targets<T: Scalar, const N: usize, const B: usize> {
    /// Calls `f` with the targets as an `N x B` matrix.
    fn with_matrix<R>(&self, f: impl FnOnce(&SMatrix<T, N, B>) -> R) -> R;
}

impl<T: Scalar, const N: usize, const B: usize> Targets<T, N, B> for SMatrix<T, N, B> {
    #[inline]
    fn with_matrix<R>(&self, f: impl FnOnce(&SMatrix<T, N, B>) -> R) -> R {
        f(self)
    }
}

impl<T: Scalar, const N: usize> Targets<T, N, 1> for [T; N] {
    #[inline]
    fn with_matrix<R>(&self, f: impl FnOnce(&SMatrix<T, N, 1>) -> R) -> R {
        f(&SMatrix::from(*self))
    }
}
