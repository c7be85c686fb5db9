//! Convolutions as matrix products, for targets with vector registers: each
//! sample's input is unfolded into the matrix of the patches its kernel sees
//! (`im2col`), so that the forward pass and both gradients are products for
//! the register-blocked kernel (which picks AVX2 and FMA at run time).
//!
//! With `P = OH OW` output positions and `K = C_in k_h k_w` weights per
//! output channel, one sample's patches are `X` (`P x K`, column-major:
//! column `k = (c k_h + i) k_w + j` holds input channel `c` shifted by tap
//! `(i, j)`, zero where it reads padding). A layer's weights are stored as
//! `W^T` (`K x C_out`), and one sample of `z` or `delta` in channel-major
//! order is a `P x C_out` column-major matrix, so:
//!
//! - `z = X W^T + 1 b^T`;
//! - `dC/dW^T = sum over samples of X^T delta`, `dC/db = sum of delta`;
//! - `dC/dX = delta W`, folded back onto the input (`col2im`, which adds
//!   where patches overlap).
//!
//! The direct loops of [`convolution`](crate::convolution) compute the same
//! and are the reference the tests compare with.

use crate::Scalar;
use crate::convolution::Conv2dShape;

/// Writes one sample's patches into `cols` (`P x K`, column-major). Only
/// the entries that read the input are written: the padding entries are
/// the same for every sample and stay as the caller zeroed them.
fn im2col<T: Scalar>(shape: &Conv2dShape, x: &[T], cols: &mut [T]) {
    let positions = shape.out_height() * shape.out_width();
    let taps = shape.kernel.0 * shape.kernel.1;
    let plane = shape.in_height * shape.in_width;
    let sw = shape.stride.1;
    for (c, x) in x.chunks_exact(plane).enumerate() {
        shape.for_each_tap_row(|tap, out_start, in_start, count| {
            let column = (c * taps + tap) * positions;
            let cols = &mut cols[column + out_start..column + out_start + count];
            for (v, x) in cols.iter_mut().zip(x[in_start..].iter().step_by(sw)) {
                *v = *x;
            }
        });
    }
}

/// `grad_x = col2im(dcols)`: each patch entry's gradient added to the input
/// value it was copied from. Overwrites `grad_x` (one sample).
fn col2im<T: Scalar>(shape: &Conv2dShape, dcols: &[T], grad_x: &mut [T]) {
    let positions = shape.out_height() * shape.out_width();
    let taps = shape.kernel.0 * shape.kernel.1;
    let plane = shape.in_height * shape.in_width;
    let sw = shape.stride.1;
    grad_x.fill(T::zero());
    for (c, grad_x) in grad_x.chunks_exact_mut(plane).enumerate() {
        shape.for_each_tap_row(|tap, out_start, in_start, count| {
            let column = (c * taps + tap) * positions;
            let dcols = &dcols[column + out_start..column + out_start + count];
            for (g, d) in grad_x[in_start..].iter_mut().step_by(sw).zip(dcols) {
                *g += *d;
            }
        });
    }
}

/// The sizes every function here checks: `(P, K, samples)`.
fn sizes(
    shape: &Conv2dShape,
    samples_len: usize,
    per_sample: usize,
    scratch: usize,
) -> (usize, usize, usize) {
    assert!(shape.check().is_ok(), "invalid convolution shape {shape:?}");
    let positions = shape.out_height() * shape.out_width();
    let kernel = shape.in_channels * shape.kernel.0 * shape.kernel.1;
    assert!(
        samples_len.is_multiple_of(per_sample) && scratch == positions * kernel,
        "a batch of whole samples and a scratch of P x K values"
    );
    (positions, kernel, samples_len / per_sample)
}

/// `z = W ⋆ x + b` for every sample, as [`conv2d_forward`]
/// (crate::convolution::conv2d_forward) computes it, by `z = X W^T + 1 b^T`;
/// `w` is `W^T` (`K x C_out`, column-major) and `cols` a scratch of `P K`
/// values.
pub(crate) fn forward<T: Scalar>(
    shape: &Conv2dShape,
    w: &[T],
    b: &[T],
    x: &[T],
    z: &mut [T],
    cols: &mut [T],
) {
    let (positions, kernel, _) = sizes(shape, x.len(), shape.inputs(), cols.len());
    let channels = shape.out_channels;
    cols.fill(T::zero());
    for (x, z) in x
        .chunks_exact(shape.inputs())
        .zip(z.chunks_exact_mut(shape.outputs()))
    {
        im2col(shape, x, cols);
        for (plane, b) in z.chunks_exact_mut(positions).zip(b) {
            plane.fill(*b);
        }
        T::blocked_gemm(
            (positions, kernel, channels),
            z,
            (cols, 1, positions),
            (w, 1, kernel),
            true,
        );
    }
}

/// `dC/dW^T = sum X^T delta` and `dC/db = sum delta` over the samples,
/// overwriting `grad_w` (`K x C_out`) and `grad_b`.
pub(crate) fn backward_weights<T: Scalar>(
    shape: &Conv2dShape,
    x: &[T],
    delta: &[T],
    grad_w: &mut [T],
    grad_b: &mut [T],
    cols: &mut [T],
) {
    let (positions, kernel, _) = sizes(shape, x.len(), shape.inputs(), cols.len());
    let channels = shape.out_channels;
    cols.fill(T::zero());
    grad_b.fill(T::zero());
    for (s, (x, delta)) in x
        .chunks_exact(shape.inputs())
        .zip(delta.chunks_exact(shape.outputs()))
        .enumerate()
    {
        im2col(shape, x, cols);
        T::blocked_gemm(
            (kernel, positions, channels),
            grad_w,
            (cols, positions, 1),
            (delta, 1, positions),
            s > 0,
        );
        for (g, plane) in grad_b.iter_mut().zip(delta.chunks_exact(positions)) {
            *g += crate::grid::sum(plane);
        }
    }
    if x.is_empty() {
        grad_w.fill(T::zero());
    }
}

/// `dC/dx`: `delta W` folded back onto each sample's input, overwriting
/// `grad_x`; `dcols` is a scratch of `P K` values.
pub(crate) fn backward_input<T: Scalar>(
    shape: &Conv2dShape,
    w: &[T],
    delta: &[T],
    grad_x: &mut [T],
    dcols: &mut [T],
) {
    let (positions, kernel, _) = sizes(shape, delta.len(), shape.outputs(), dcols.len());
    let channels = shape.out_channels;
    for (delta, grad_x) in delta
        .chunks_exact(shape.outputs())
        .zip(grad_x.chunks_exact_mut(shape.inputs()))
    {
        T::blocked_gemm(
            (positions, channels, kernel),
            dcols,
            (delta, 1, positions),
            (w, kernel, 1),
            false,
        );
        col2im(shape, dcols, grad_x);
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec;
    use std::vec::Vec;

    use super::*;
    use crate::convolution::testing::{LENET_CONV1, Passes, check};

    /// The im2col passes, with a scratch of `P K` values filled with NaN
    /// before each.
    struct Im2col {
        cols: Vec<f64>,
    }

    impl Im2col {
        fn scratch(&mut self, shape: &Conv2dShape) -> &mut [f64] {
            let len = shape.out_height() * shape.out_width() * shape.weights() / shape.out_channels;
            self.cols = vec![f64::NAN; len];
            &mut self.cols
        }
    }

    impl Passes for Im2col {
        fn forward(&mut self, shape: &Conv2dShape, w: &[f64], b: &[f64], x: &[f64], z: &mut [f64]) {
            forward(shape, w, b, x, z, self.scratch(shape));
        }
        fn backward_weights(
            &mut self,
            shape: &Conv2dShape,
            x: &[f64],
            delta: &[f64],
            grad_w: &mut [f64],
            grad_b: &mut [f64],
        ) {
            backward_weights(shape, x, delta, grad_w, grad_b, self.scratch(shape));
        }
        fn backward_input(
            &mut self,
            shape: &Conv2dShape,
            w: &[f64],
            delta: &[f64],
            grad_x: &mut [f64],
        ) {
            backward_input(shape, w, delta, grad_x, self.scratch(shape));
        }
    }

    /// The products against the direct loops, for strides, paddings,
    /// non-square kernels, several channels, 1-D, and batches of 1 and 3.
    #[test]
    fn products_match_the_direct_loops() {
        let shapes = [
            Conv2dShape {
                in_channels: 2,
                in_height: 7,
                in_width: 6,
                out_channels: 3,
                kernel: (3, 2),
                stride: (2, 1),
                padding: (1, 2),
            },
            LENET_CONV1,
            Conv2dShape::conv1d(3, 20, 4, 5, 3, 1),
        ];
        check(&shapes, &mut Im2col { cols: Vec::new() });
    }
}
