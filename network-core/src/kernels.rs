//! The numeric kernels of a dense layer, in one place so that they can be
//! tuned (or routed to a GEMM) without touching the generated code.

use nalgebra::{SMatrix, SVector};

use crate::Scalar;

/// `z = W a_prev + b 1^T`: the affine map of every column (sample).
#[inline]
pub fn affine<T: Scalar, const OUT: usize, const IN: usize, const B: usize>(
    w: &SMatrix<T, OUT, IN>,
    b: &SVector<T, OUT>,
    a_prev: &SMatrix<T, IN, B>,
) -> SMatrix<T, OUT, B> {
    let mut z = w * a_prev;
    for mut column in z.column_iter_mut() {
        column += b;
    }
    z
}

/// `W^T delta`.
#[inline]
pub fn transposed_mul<T: Scalar, const OUT: usize, const IN: usize, const B: usize>(
    w: &SMatrix<T, OUT, IN>,
    delta: &SMatrix<T, OUT, B>,
) -> SMatrix<T, IN, B> {
    w.tr_mul(delta)
}

/// `grad_w = delta a_prev^T`, written into `grad_w` without a temporary.
///
/// Summed over the columns (samples): `delta` already carries the `1/B` of the
/// batch mean (see [`Loss::output_delta`](crate::Loss::output_delta)).
#[inline]
pub fn outer_product_into<T: Scalar, const OUT: usize, const IN: usize, const B: usize>(
    grad_w: &mut SMatrix<T, OUT, IN>,
    delta: &SMatrix<T, OUT, B>,
    a_prev: &SMatrix<T, IN, B>,
) {
    grad_w.fill(T::zero());
    for j in 0..B {
        grad_w.ger(T::one(), &delta.column(j), &a_prev.column(j), T::one());
    }
}

/// `grad_b = delta 1`: the sum of `delta` over the samples.
#[inline]
pub fn row_sum_into<T: Scalar, const OUT: usize, const B: usize>(
    grad_b: &mut SVector<T, OUT>,
    delta: &SMatrix<T, OUT, B>,
) {
    grad_b.fill(T::zero());
    for j in 0..B {
        *grad_b += delta.column(j);
    }
}
