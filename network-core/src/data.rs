//! Conversions from user data to the matrices a network takes, with compile
//! errors that say how many inputs or outputs were expected.

use nalgebra::SMatrix;

use crate::Scalar;

/// Data that holds `B` samples of `N` inputs each: an `SMatrix<T, N, B>`
/// (`SVector<T, N>` for one sample) or an array `[T; N]`.
#[diagnostic::on_unimplemented(
    message = "this network takes {N} inputs per sample, but was given `{Self}`",
    label = "expected {N} inputs (rows) per sample",
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
    message = "this network has {N} outputs per sample, but the targets are `{Self}`",
    label = "expected {N} target values (rows) per sample",
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
