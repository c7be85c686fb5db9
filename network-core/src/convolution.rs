//! The numeric kernels of convolution and pooling layers: forward passes and
//! the gradients of their backward passes, over plain slices, without
//! allocating.
//!
//! - [`Conv2dShape`] (and [`Conv2dShape::conv1d`]): the geometry of a
//!   convolution; [`conv2d_forward`], [`conv2d_backward_weights`] and
//!   [`conv2d_backward_input`].
//! - [`Pool2dShape`] (and [`Pool2dShape::pool1d`]): the geometry of a
//!   pooling layer; [`max_pool2d_forward`], [`max_pool2d_backward`],
//!   [`avg_pool2d_forward`] and [`avg_pool2d_backward`].
//!
//! # Layout
//!
//! PyTorch's, so that weights move between the two without transposes:
//!
//! - one sample is `C * H * W` values in channel, row, column order (NCHW for
//!   one sample); a batch is its samples back to back, sample `s` starting at
//!   `s * C * H * W`. That is the storage of a column-major
//!   `SMatrix<T, {C * H * W}, B>` whose columns are the samples;
//! - weights are `[out_channels, in_channels, kh, kw]`, row-major: `w[o, c,
//!   i, j]` is at `((o * in_channels + c) * kh + i) * kw + j`; biases are
//!   `[out_channels]`;
//! - a convolution is a cross-correlation (the kernel is not flipped), as in
//!   `torch.nn.functional.conv2d`, with zero padding.
//!
//! A 1-D convolution or pooling is the 2-D one over an input of height 1;
//! its weights `[out, in, 1, k]` are PyTorch's `Conv1d` weights `[out, in, k]`.
//!
//! The batch size is not a parameter: it is the length of the input slice
//! divided by the values per sample. Lengths that do not match the shape
//! are a caller's bug, and panic; the typed layers rule them out.

use core::fmt;
use core::ops::Range;

use crate::Scalar;

/// Why a [`Conv2dShape`] or [`Pool2dShape`] describes no layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShapeError {
    /// A channel count, an input size or a kernel size is zero.
    ZeroSize,
    /// A stride is zero.
    ZeroStride,
    /// Along some axis the kernel is longer than the (padded) input, so
    /// there is no output.
    KernelTooLarge,
    /// A size, or the number of values of a sample or of the weights,
    /// overflows `usize`.
    TooLarge,
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ShapeError::ZeroSize => "a channel count, input size or kernel size is zero",
            ShapeError::ZeroStride => "a stride is zero",
            ShapeError::KernelTooLarge => "the kernel is larger than the padded input",
            ShapeError::TooLarge => "a size overflows usize",
        })
    }
}

impl core::error::Error for ShapeError {}

/// The geometry of a 2-D convolution of one sample: `C_in x H x W` in,
/// `C_out x OH x OW` out, with `OH = floor((H + 2 p_h - k_h) / s_h) + 1`
/// and likewise `OW`.
///
/// Pairs are `(height, width)`. Only geometries that pass
/// [`check`](Conv2dShape::check) can be given to the kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conv2dShape {
    /// Input channels `C_in`.
    pub in_channels: usize,
    /// Input rows `H`.
    pub in_height: usize,
    /// Input columns `W`.
    pub in_width: usize,
    /// Output channels `C_out`: one kernel and one bias each.
    pub out_channels: usize,
    /// Kernel size `(k_h, k_w)`.
    pub kernel: (usize, usize),
    /// Stride `(s_h, s_w)`: how far the kernel moves between outputs.
    pub stride: (usize, usize),
    /// Zero padding `(p_h, p_w)`, added on both sides of each axis.
    pub padding: (usize, usize),
}

impl Conv2dShape {
    /// A 1-D convolution, `C_in x L -> C_out x (floor((L + 2p - k) / s) + 1)`:
    /// the 2-D one with height 1, kernel height 1, stride height 1 and no
    /// padding in height. Its weights `[out, in, 1, k]` are PyTorch's
    /// `Conv1d` weights `[out, in, k]`.
    pub const fn conv1d(
        in_channels: usize,
        length: usize,
        out_channels: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
    ) -> Self {
        Conv2dShape {
            in_channels,
            in_height: 1,
            in_width: length,
            out_channels,
            kernel: (1, kernel),
            stride: (1, stride),
            padding: (0, padding),
        }
    }

    /// `OH = floor((H + 2 p_h - k_h) / s_h) + 1`; `0` if the geometry has no
    /// output rows (zero stride, kernel too large).
    pub const fn out_height(&self) -> usize {
        out_len(self.in_height, self.padding.0, self.kernel.0, self.stride.0)
    }

    /// `OW = floor((W + 2 p_w - k_w) / s_w) + 1`; `0` if the geometry has no
    /// output columns (zero stride, kernel too large).
    pub const fn out_width(&self) -> usize {
        out_len(self.in_width, self.padding.1, self.kernel.1, self.stride.1)
    }

    /// `C_in H W`: the values of one input sample.
    pub const fn inputs(&self) -> usize {
        self.in_channels * self.in_height * self.in_width
    }

    /// `C_out OH OW`: the values of one output sample.
    pub const fn outputs(&self) -> usize {
        self.out_channels * self.out_height() * self.out_width()
    }

    /// `C_out C_in k_h k_w`: the number of weights (the biases are
    /// `out_channels` more).
    pub const fn weights(&self) -> usize {
        self.out_channels * self.in_channels * self.kernel.0 * self.kernel.1
    }

    /// `Ok(())` if the geometry describes a layer: no size or stride is
    /// zero, the kernel fits in the padded input along both axes, and no
    /// count overflows `usize`.
    ///
    /// A `const fn`, so that generated code can assert it at compile time:
    /// `const { assert!(SHAPE.check().is_ok()) }`. Every other method
    /// assumes it passed.
    ///
    /// # Errors
    ///
    /// The first rule broken, in the order [`ShapeError::ZeroSize`],
    /// [`ShapeError::ZeroStride`], [`ShapeError::TooLarge`] (of the padded
    /// input), [`ShapeError::KernelTooLarge`], [`ShapeError::TooLarge`] (of
    /// a count).
    pub const fn check(&self) -> Result<(), ShapeError> {
        let (kh, kw) = self.kernel;
        if self.in_channels == 0
            || self.in_height == 0
            || self.in_width == 0
            || self.out_channels == 0
            || kh == 0
            || kw == 0
        {
            return Err(ShapeError::ZeroSize);
        }
        if self.stride.0 == 0 || self.stride.1 == 0 {
            return Err(ShapeError::ZeroStride);
        }
        let (Some(h), Some(w)) = (
            padded(self.in_height, self.padding.0),
            padded(self.in_width, self.padding.1),
        ) else {
            return Err(ShapeError::TooLarge);
        };
        if kh > h || kw > w {
            return Err(ShapeError::KernelTooLarge);
        }
        let (oh, ow) = (self.out_height(), self.out_width());
        let (c_in, c_out) = (self.in_channels, self.out_channels);
        if product(&[c_in, self.in_height, self.in_width]).is_none()
            || product(&[c_out, oh, ow]).is_none()
            || product(&[c_out, c_in, kh, kw]).is_none()
        {
            return Err(ShapeError::TooLarge);
        }
        Ok(())
    }

    /// The two spatial axes, rows then columns.
    fn axes(&self) -> (Axis, Axis) {
        let rows = Axis {
            len: self.in_height,
            stride: self.stride.0,
            padding: self.padding.0,
            out: self.out_height(),
        };
        let columns = Axis {
            len: self.in_width,
            stride: self.stride.1,
            padding: self.padding.1,
            out: self.out_width(),
        };
        (rows, columns)
    }

    /// Calls `f(tap, out_start, in_start, count)` for every kernel tap
    /// `tap = i k_w + j` and every output row whose tap lands in the input:
    /// outputs `out_start .. out_start + count` of an output channel plane
    /// read inputs `in_start, in_start + s_w, ...` of an input channel plane.
    ///
    /// The outputs that would read padding are cut off here, once per row
    /// and tap, so that the loops `f` runs have no test per element.
    pub(crate) fn for_each_tap_row(&self, mut f: impl FnMut(usize, usize, usize, usize)) {
        let (rows, columns) = self.axes();
        let (kh, kw) = self.kernel;
        for i in 0..kh {
            let out_rows = rows.valid(i);
            for j in 0..kw {
                let out_columns = columns.valid(j);
                if out_columns.is_empty() {
                    continue;
                }
                let in_column = columns.input(out_columns.start, j);
                for oy in out_rows.clone() {
                    let out_start = oy * columns.out + out_columns.start;
                    let in_start = rows.input(oy, i) * self.in_width + in_column;
                    f(i * kw + j, out_start, in_start, out_columns.len());
                }
            }
        }
    }
}

/// `floor((len + 2 padding - kernel) / stride) + 1`: the output length of a
/// convolution (or, with `padding` 0, a pooling) along one axis, or `0` if
/// there is none (a zero stride, a kernel longer than the padded input).
///
/// The code `network!` generates computes sizes from const items with it,
/// so that a kernel that does not fit is reported by the geometry's own
/// check rather than as an overflow.
pub const fn output_len(len: usize, kernel: usize, stride: usize, padding: usize) -> usize {
    out_len(len, padding, kernel, stride)
}

/// `floor((len + 2 padding - kernel) / stride) + 1`, or `0` if there is no
/// output.
const fn out_len(len: usize, padding: usize, kernel: usize, stride: usize) -> usize {
    match padded(len, padding) {
        Some(padded) if stride > 0 && padded >= kernel => (padded - kernel) / stride + 1,
        _ => 0,
    }
}

/// `len + 2 padding`, if it fits in `usize`.
const fn padded(len: usize, padding: usize) -> Option<usize> {
    match padding.checked_mul(2) {
        Some(both) => len.checked_add(both),
        None => None,
    }
}

/// The product of `factors`, if it fits in `usize`.
const fn product(factors: &[usize]) -> Option<usize> {
    let mut p: usize = 1;
    let mut i = 0;
    while i < factors.len() {
        p = match p.checked_mul(factors[i]) {
            Some(p) => p,
            None => return None,
        };
        i += 1;
    }
    Some(p)
}

/// One spatial axis of a convolution: `len` inputs, `out` outputs, output
/// `o`'s tap `k` at padded position `o stride + k`.
#[derive(Clone, Copy, Debug)]
struct Axis {
    len: usize,
    stride: usize,
    padding: usize,
    out: usize,
}

impl Axis {
    /// The outputs whose tap `k` reads an input rather than padding:
    /// `0 <= o stride + k - padding < len`.
    fn valid(self, k: usize) -> Range<usize> {
        let lo = if k >= self.padding {
            0
        } else {
            (self.padding - k).div_ceil(self.stride)
        };
        let hi = if self.len + self.padding <= k {
            0
        } else {
            ((self.len + self.padding - k - 1) / self.stride + 1).min(self.out)
        };
        lo.min(hi)..hi
    }

    /// The input read by output `o`'s tap `k`, for `o` in [`Axis::valid`]`(k)`.
    fn input(self, o: usize, k: usize) -> usize {
        o * self.stride + k - self.padding
    }
}

/// `z = W ⋆ x + b`: the cross-correlation of each sample of `x` with the
/// kernels, plus the biases, `z[o, y, x'] = b[o] + Σ_{c, i, j} w[o, c, i, j]
/// x[c, y s_h + i - p_h, x' s_w + j - p_w]` (padding reads as zero).
///
/// Overwrites `z`. The batch size is `x.len() / shape.inputs()`.
///
/// # Panics
///
/// If `shape` fails [`Conv2dShape::check`], `x` is not a whole number of
/// samples, or `w`, `b` or `z` does not have `shape.weights()`,
/// `shape.out_channels` or `batch * shape.outputs()` values.
pub fn conv2d_forward<T: Scalar>(shape: &Conv2dShape, w: &[T], b: &[T], x: &[T], z: &mut [T]) {
    let batch = conv_batch(shape, x.len(), shape.inputs(), "x");
    assert_len("w", w.len(), 1, shape.weights());
    assert_len("b", b.len(), 1, shape.out_channels);
    assert_len("z", z.len(), batch, shape.outputs());
    let (in_plane, out_plane) = planes(shape);
    let taps = shape.kernel.0 * shape.kernel.1;
    let sw = shape.stride.1;
    for (x, z) in x
        .chunks_exact(shape.inputs())
        .zip(z.chunks_exact_mut(shape.outputs()))
    {
        for ((z, w), &b) in z
            .chunks_exact_mut(out_plane)
            .zip(w.chunks_exact(shape.in_channels * taps))
            .zip(b)
        {
            z.fill(b);
            for (x, w) in x.chunks_exact(in_plane).zip(w.chunks_exact(taps)) {
                shape.for_each_tap_row(|tap, out_start, in_start, count| {
                    let z = &mut z[out_start..out_start + count];
                    axpy(w[tap], &x[in_start..], sw, z);
                });
            }
        }
    }
}

/// `grad_w = Σ_samples delta ⋆ x` and `grad_b = Σ_samples Σ_{y, x'} delta`:
/// `grad_w[o, c, i, j] = Σ_{s, y, x'} delta[s, o, y, x'] x[s, c, y s_h + i -
/// p_h, x' s_w + j - p_w]`, the gradients of the weights and biases given
/// `delta = dC/dz`.
///
/// Overwrites `grad_w` and `grad_b` (summed over the batch, like
/// [`outer_product_into`](crate::outer_product_into): `delta` carries any
/// `1/B` of a batch mean).
///
/// # Panics
///
/// If `shape` fails [`Conv2dShape::check`], `x` is not a whole number of
/// samples, or `delta`, `grad_w` or `grad_b` does not have
/// `batch * shape.outputs()`, `shape.weights()` or `shape.out_channels`
/// values.
pub fn conv2d_backward_weights<T: Scalar>(
    shape: &Conv2dShape,
    x: &[T],
    delta: &[T],
    grad_w: &mut [T],
    grad_b: &mut [T],
) {
    let batch = conv_batch(shape, x.len(), shape.inputs(), "x");
    assert_len("delta", delta.len(), batch, shape.outputs());
    assert_len("grad_w", grad_w.len(), 1, shape.weights());
    assert_len("grad_b", grad_b.len(), 1, shape.out_channels);
    let (in_plane, out_plane) = planes(shape);
    let taps = shape.kernel.0 * shape.kernel.1;
    let sw = shape.stride.1;
    grad_w.fill(T::zero());
    grad_b.fill(T::zero());
    for (x, delta) in x
        .chunks_exact(shape.inputs())
        .zip(delta.chunks_exact(shape.outputs()))
    {
        for ((delta, grad_w), grad_b) in delta
            .chunks_exact(out_plane)
            .zip(grad_w.chunks_exact_mut(shape.in_channels * taps))
            .zip(grad_b.iter_mut())
        {
            *grad_b += sum(delta);
            for (x, grad_w) in x.chunks_exact(in_plane).zip(grad_w.chunks_exact_mut(taps)) {
                shape.for_each_tap_row(|tap, out_start, in_start, count| {
                    let delta = &delta[out_start..out_start + count];
                    grad_w[tap] += dot(delta, &x[in_start..], sw);
                });
            }
        }
    }
}

/// `grad_x = dC/dx`: the transposed convolution of `delta = dC/dz` with the
/// kernels, `grad_x[c, y s_h + i - p_h, x' s_w + j - p_w] += w[o, c, i, j]
/// delta[o, y, x']` over every `o, y, x', i, j` that lands in the input.
///
/// Overwrites `grad_x`; inputs no output reads (the last rows or columns
/// when the stride does not divide the padded length) get `0`. The batch
/// size is `delta.len() / shape.outputs()`.
///
/// # Panics
///
/// If `shape` fails [`Conv2dShape::check`], `delta` is not a whole number of
/// samples, or `w` or `grad_x` does not have `shape.weights()` or
/// `batch * shape.inputs()` values.
pub fn conv2d_backward_input<T: Scalar>(
    shape: &Conv2dShape,
    w: &[T],
    delta: &[T],
    grad_x: &mut [T],
) {
    let batch = conv_batch(shape, delta.len(), shape.outputs(), "delta");
    assert_len("w", w.len(), 1, shape.weights());
    assert_len("grad_x", grad_x.len(), batch, shape.inputs());
    let (in_plane, out_plane) = planes(shape);
    let taps = shape.kernel.0 * shape.kernel.1;
    let sw = shape.stride.1;
    grad_x.fill(T::zero());
    for (grad_x, delta) in grad_x
        .chunks_exact_mut(shape.inputs())
        .zip(delta.chunks_exact(shape.outputs()))
    {
        for (delta, w) in delta
            .chunks_exact(out_plane)
            .zip(w.chunks_exact(shape.in_channels * taps))
        {
            for (grad_x, w) in grad_x.chunks_exact_mut(in_plane).zip(w.chunks_exact(taps)) {
                shape.for_each_tap_row(|tap, out_start, in_start, count| {
                    let delta = &delta[out_start..out_start + count];
                    scatter(w[tap], delta, &mut grad_x[in_start..], sw);
                });
            }
        }
    }
}

/// The number of samples in a slice of `len` values, `per_sample` each,
/// after checking the shape.
fn conv_batch(shape: &Conv2dShape, len: usize, per_sample: usize, name: &str) -> usize {
    assert!(shape.check().is_ok(), "invalid convolution shape {shape:?}");
    batch(len, per_sample, name)
}

/// The values of one input and one output channel plane.
fn planes(shape: &Conv2dShape) -> (usize, usize) {
    (
        shape.in_height * shape.in_width,
        shape.out_height() * shape.out_width(),
    )
}

/// `len / per_sample`, checking that it is a whole number of samples.
fn batch(len: usize, per_sample: usize, name: &str) -> usize {
    assert!(
        len.is_multiple_of(per_sample),
        "{name} has {len} values, not a whole number of samples of {per_sample}"
    );
    len / per_sample
}

/// Checks that a slice holds `batch` samples of `per_sample` values.
fn assert_len(name: &str, len: usize, batch: usize, per_sample: usize) {
    assert!(
        batch.checked_mul(per_sample) == Some(len),
        "{name} has {len} values, expected {batch} x {per_sample}"
    );
}

/// `z[k] += a x[k stride]` for every `k` of `z`.
#[inline]
fn axpy<T: Scalar>(a: T, x: &[T], stride: usize, z: &mut [T]) {
    // Stride 1 (the common case) as a contiguous zip, which the compiler
    // vectorises; `step_by(1)` it does not.
    if stride == 1 {
        let n = z.len();
        for (z, &x) in z.iter_mut().zip(&x[..n]) {
            *z += a * x;
        }
    } else {
        for (z, &x) in z.iter_mut().zip(x.iter().step_by(stride)) {
            *z += a * x;
        }
    }
}

/// `Σ_k delta[k] x[k stride]`.
#[inline]
fn dot<T: Scalar>(delta: &[T], x: &[T], stride: usize) -> T {
    let mut sum = T::zero();
    if stride == 1 {
        for (&d, &x) in delta.iter().zip(&x[..delta.len()]) {
            sum += d * x;
        }
    } else {
        for (&d, &x) in delta.iter().zip(x.iter().step_by(stride)) {
            sum += d * x;
        }
    }
    sum
}

/// `grad_x[k stride] += a delta[k]` for every `k` of `delta`.
#[inline]
fn scatter<T: Scalar>(a: T, delta: &[T], grad_x: &mut [T], stride: usize) {
    if stride == 1 {
        let n = delta.len();
        for (g, &d) in grad_x[..n].iter_mut().zip(delta) {
            *g += a * d;
        }
    } else {
        for (g, &d) in grad_x.iter_mut().step_by(stride).zip(delta) {
            *g += a * d;
        }
    }
}

/// `Σ_k v[k]`.
#[inline]
fn sum<T: Scalar>(v: &[T]) -> T {
    v.iter().fold(T::zero(), |s, &v| s + v)
}

/// The geometry of a 2-D pooling layer over one sample: `C x H x W` in,
/// `C x OH x OW` out, with `OH = floor((H - k_h) / s_h) + 1` and likewise
/// `OW`. No padding.
///
/// Pairs are `(height, width)`. Only geometries that pass
/// [`check`](Pool2dShape::check) can be given to the kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pool2dShape {
    /// Channels `C`, pooled separately.
    pub channels: usize,
    /// Input rows `H`.
    pub in_height: usize,
    /// Input columns `W`.
    pub in_width: usize,
    /// Window size `(k_h, k_w)`.
    pub kernel: (usize, usize),
    /// Stride `(s_h, s_w)`; windows overlap if it is smaller than the kernel.
    pub stride: (usize, usize),
}

impl Pool2dShape {
    /// A 1-D pooling, `C x L -> C x (floor((L - k) / s) + 1)`: the 2-D one
    /// with height 1, window height 1 and stride height 1.
    pub const fn pool1d(channels: usize, length: usize, kernel: usize, stride: usize) -> Self {
        Pool2dShape {
            channels,
            in_height: 1,
            in_width: length,
            kernel: (1, kernel),
            stride: (1, stride),
        }
    }

    /// `OH = floor((H - k_h) / s_h) + 1`; `0` if the geometry has no output
    /// rows (zero stride, window too large).
    pub const fn out_height(&self) -> usize {
        out_len(self.in_height, 0, self.kernel.0, self.stride.0)
    }

    /// `OW = floor((W - k_w) / s_w) + 1`; `0` if the geometry has no output
    /// columns (zero stride, window too large).
    pub const fn out_width(&self) -> usize {
        out_len(self.in_width, 0, self.kernel.1, self.stride.1)
    }

    /// `C H W`: the values of one input sample.
    pub const fn inputs(&self) -> usize {
        self.channels * self.in_height * self.in_width
    }

    /// `C OH OW`: the values of one output sample.
    pub const fn outputs(&self) -> usize {
        self.channels * self.out_height() * self.out_width()
    }

    /// `Ok(())` if the geometry describes a layer: no size or stride is
    /// zero, the window fits in the input along both axes, and no count
    /// overflows `usize`. A `const fn`, like [`Conv2dShape::check`].
    ///
    /// # Errors
    ///
    /// The first rule broken, in the order [`ShapeError::ZeroSize`],
    /// [`ShapeError::ZeroStride`], [`ShapeError::KernelTooLarge`],
    /// [`ShapeError::TooLarge`].
    pub const fn check(&self) -> Result<(), ShapeError> {
        let (kh, kw) = self.kernel;
        if self.channels == 0 || self.in_height == 0 || self.in_width == 0 || kh == 0 || kw == 0 {
            return Err(ShapeError::ZeroSize);
        }
        if self.stride.0 == 0 || self.stride.1 == 0 {
            return Err(ShapeError::ZeroStride);
        }
        if kh > self.in_height || kw > self.in_width {
            return Err(ShapeError::KernelTooLarge);
        }
        if product(&[self.channels, self.in_height, self.in_width]).is_none() {
            return Err(ShapeError::TooLarge);
        }
        Ok(())
    }

    /// Calls `f(out, start)` for every window of a channel plane: output
    /// `out` of the output plane pools the window whose top-left value is
    /// `start` in the input plane.
    fn for_each_window(&self, mut f: impl FnMut(usize, usize)) {
        let (ow, (sh, sw)) = (self.out_width(), self.stride);
        for oy in 0..self.out_height() {
            for ox in 0..ow {
                f(oy * ow + ox, oy * sh * self.in_width + ox * sw);
            }
        }
    }

    /// The input and output channel planes of a slice of `len` inputs, after
    /// checking the shape: every channel of every sample is pooled alike, so
    /// the kernels loop over planes, not over samples and channels.
    fn planes(&self, len: usize, name: &str) -> (usize, usize) {
        assert!(self.check().is_ok(), "invalid pooling shape {self:?}");
        let samples = batch(len, self.inputs(), name);
        (
            samples * self.channels,
            self.out_height() * self.out_width(),
        )
    }
}

/// `out = max_{window} x`: the largest value of each window; a NaN in the
/// window gives NaN, as in PyTorch.
///
/// Overwrites `out`. The batch size is `x.len() / shape.inputs()`.
///
/// # Panics
///
/// If `shape` fails [`Pool2dShape::check`], `x` is not a whole number of
/// samples, or `out` does not have `batch * shape.outputs()` values.
pub fn max_pool2d_forward<T: Scalar>(shape: &Pool2dShape, x: &[T], out: &mut [T]) {
    let (planes, out_plane) = shape.planes(x.len(), "x");
    assert_len("out", out.len(), planes, out_plane);
    let in_plane = shape.in_height * shape.in_width;
    for (x, out) in x
        .chunks_exact(in_plane)
        .zip(out.chunks_exact_mut(out_plane))
    {
        shape.for_each_window(|o, start| out[o] = x[window_argmax(shape, x, start)]);
    }
}

/// `grad_x = dC/dx` of max pooling: each window's `delta` goes to the input
/// that was its maximum, `grad_x[argmax] += delta`.
///
/// The arg-max is recomputed from `x`, so no indices need be kept from the
/// forward pass: the first maximum in row-major window order (PyTorch's
/// choice among ties), or the first NaN if the window has one. Overwrites
/// `grad_x`; where windows overlap (stride smaller than the kernel), an
/// input that is the maximum of several gets the sum of their `delta`s.
///
/// # Panics
///
/// If `shape` fails [`Pool2dShape::check`], `x` is not a whole number of
/// samples, or `delta` or `grad_x` does not have `batch * shape.outputs()`
/// or `x.len()` values.
pub fn max_pool2d_backward<T: Scalar>(shape: &Pool2dShape, x: &[T], delta: &[T], grad_x: &mut [T]) {
    let (planes, out_plane) = shape.planes(x.len(), "x");
    assert_len("delta", delta.len(), planes, out_plane);
    assert_len("grad_x", grad_x.len(), 1, x.len());
    let in_plane = shape.in_height * shape.in_width;
    grad_x.fill(T::zero());
    for ((x, delta), grad_x) in x
        .chunks_exact(in_plane)
        .zip(delta.chunks_exact(out_plane))
        .zip(grad_x.chunks_exact_mut(in_plane))
    {
        shape.for_each_window(|o, start| grad_x[window_argmax(shape, x, start)] += delta[o]);
    }
}

/// The index in a channel plane `x` of the first maximum of the window whose
/// top-left value is at `start`, in row-major window order; the first NaN if
/// the window has one.
#[inline]
fn window_argmax<T: Scalar>(shape: &Pool2dShape, x: &[T], start: usize) -> usize {
    let (kh, kw) = shape.kernel;
    let (mut argmax, mut max) = (start, x[start]);
    for i in 0..kh {
        let row = start + i * shape.in_width;
        for (j, &v) in x[row..row + kw].iter().enumerate() {
            // `partial_cmp` is `None` only for a NaN: no comparison would
            // pick it, and it must win.
            if v.partial_cmp(&v).is_none() {
                return row + j;
            }
            if v > max {
                (argmax, max) = (row + j, v);
            }
        }
    }
    argmax
}

/// `out = (1 / (k_h k_w)) Σ_{window} x`: the mean of each window.
///
/// Overwrites `out`. The batch size is `x.len() / shape.inputs()`.
///
/// # Panics
///
/// If `shape` fails [`Pool2dShape::check`], `x` is not a whole number of
/// samples, or `out` does not have `batch * shape.outputs()` values.
pub fn avg_pool2d_forward<T: Scalar>(shape: &Pool2dShape, x: &[T], out: &mut [T]) {
    let (planes, out_plane) = shape.planes(x.len(), "x");
    assert_len("out", out.len(), planes, out_plane);
    let (in_plane, (kh, kw)) = (shape.in_height * shape.in_width, shape.kernel);
    let n = T::constant((kh * kw) as f64);
    for (x, out) in x
        .chunks_exact(in_plane)
        .zip(out.chunks_exact_mut(out_plane))
    {
        shape.for_each_window(|o, start| {
            let rows = (0..kh).map(|i| start + i * shape.in_width);
            out[o] = rows.fold(T::zero(), |s, row| s + sum(&x[row..row + kw])) / n;
        });
    }
}

/// `grad_x = dC/dx` of average pooling: every input of a window gets
/// `delta / (k_h k_w)`, summed over the windows that contain it.
///
/// Overwrites `grad_x`. The batch size is `grad_x.len() / shape.inputs()`.
///
/// # Panics
///
/// If `shape` fails [`Pool2dShape::check`], `grad_x` is not a whole number
/// of samples, or `delta` does not have `batch * shape.outputs()` values.
pub fn avg_pool2d_backward<T: Scalar>(shape: &Pool2dShape, delta: &[T], grad_x: &mut [T]) {
    let (planes, out_plane) = shape.planes(grad_x.len(), "grad_x");
    assert_len("delta", delta.len(), planes, out_plane);
    let (in_plane, (kh, kw)) = (shape.in_height * shape.in_width, shape.kernel);
    let n = T::constant((kh * kw) as f64);
    grad_x.fill(T::zero());
    for (delta, grad_x) in delta
        .chunks_exact(out_plane)
        .zip(grad_x.chunks_exact_mut(in_plane))
    {
        shape.for_each_window(|o, start| {
            let share = delta[o] / n;
            for i in 0..kh {
                let row = start + i * shape.in_width;
                for g in &mut grad_x[row..row + kw] {
                    *g += share;
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::vec;
    use std::vec::Vec;

    use super::*;
    use crate::Rng;

    /// `n` uniform values in `[-1, 1)`.
    fn random(rng: &mut Rng, n: usize) -> Vec<f64> {
        (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect()
    }

    /// `|got - want| <= tolerance max(1, |want|)` for every value.
    fn assert_close(got: &[f64], want: &[f64], tolerance: f64, what: &str) {
        assert_eq!(got.len(), want.len(), "{what}: lengths");
        for (k, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= tolerance * w.abs().max(1.0),
                "{what}[{k}]: {g} != {w}"
            );
        }
    }

    /// Geometries for the convolution tests: strides 1 and 2, unequal
    /// strides, padding 0, 1 and 2, non-square kernels, a kernel larger than
    /// the unpadded input, a 1x1 kernel, strides that leave the last inputs
    /// unread, several channels, and 1-D convolutions.
    const CONVOLUTIONS: [Conv2dShape; 9] = [
        shape(1, (5, 5), 1, (3, 3), (1, 1), (0, 0)),
        shape(2, (6, 7), 3, (3, 2), (2, 1), (1, 0)),
        shape(3, (7, 5), 2, (2, 3), (1, 2), (2, 1)),
        shape(2, (5, 5), 2, (3, 3), (2, 2), (2, 2)),
        shape(1, (4, 3), 2, (5, 4), (1, 1), (2, 1)),
        shape(2, (8, 9), 3, (1, 1), (3, 2), (0, 0)),
        shape(1, (6, 6), 1, (3, 3), (2, 2), (0, 0)),
        Conv2dShape::conv1d(3, 11, 2, 4, 2, 1),
        Conv2dShape::conv1d(2, 9, 3, 3, 1, 0),
    ];

    const fn shape(
        in_channels: usize,
        (in_height, in_width): (usize, usize),
        out_channels: usize,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Conv2dShape {
        Conv2dShape {
            in_channels,
            in_height,
            in_width,
            out_channels,
            kernel,
            stride,
            padding,
        }
    }

    /// `z` by the definition: every output, channel and tap, with an
    /// explicit test for padding.
    fn naive_conv(s: &Conv2dShape, w: &[f64], b: &[f64], x: &[f64]) -> Vec<f64> {
        let (h, wd) = (s.in_height as isize, s.in_width as isize);
        let (kh, kw) = s.kernel;
        let oh = (s.in_height + 2 * s.padding.0 - kh) / s.stride.0 + 1;
        let ow = (s.in_width + 2 * s.padding.1 - kw) / s.stride.1 + 1;
        let (inputs, outputs) = (
            s.in_channels * s.in_height * s.in_width,
            s.out_channels * oh * ow,
        );
        let batch = x.len() / inputs;
        let mut z = vec![f64::NAN; batch * outputs];
        for n in 0..batch {
            for o in 0..s.out_channels {
                for y in 0..oh {
                    for xo in 0..ow {
                        let mut sum = b[o];
                        for c in 0..s.in_channels {
                            for i in 0..kh {
                                for j in 0..kw {
                                    let iy = (y * s.stride.0 + i) as isize - s.padding.0 as isize;
                                    let ix = (xo * s.stride.1 + j) as isize - s.padding.1 as isize;
                                    if iy < 0 || ix < 0 || iy >= h || ix >= wd {
                                        continue;
                                    }
                                    let (iy, ix) = (iy as usize, ix as usize);
                                    let w = w[((o * s.in_channels + c) * kh + i) * kw + j];
                                    sum += w * x
                                        [n * inputs + (c * s.in_height + iy) * s.in_width + ix];
                                }
                            }
                        }
                        z[n * outputs + (o * oh + y) * ow + xo] = sum;
                    }
                }
            }
        }
        z
    }

    fn forward(s: &Conv2dShape, w: &[f64], b: &[f64], x: &[f64]) -> Vec<f64> {
        let mut z = vec![f64::NAN; x.len() / s.inputs() * s.outputs()];
        conv2d_forward(s, w, b, x, &mut z);
        z
    }

    /// `x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]`, `w = [[1, 2], [3, 4]]`,
    /// `b = 0.5`. Without padding, `z[0, 0] = 1·1 + 2·2 + 4·3 + 5·4 + 0.5 =
    /// 37.5`, and likewise `47.5, 67.5, 77.5`. With padding 1 the output is
    /// 4x4; its first row sees only the last kernel row over the input's
    /// first row: `4·1`, `3·1 + 4·2`, `3·2 + 4·3`, `3·3`; its last row only
    /// the first kernel row over the input's last row: `2·7`, `7 + 2·8`,
    /// `8 + 2·9`, `9`; the middle rows `2·1 + 4·4 = 18, 37, 47, 1·3 + 3·6 =
    /// 21` and `2·4 + 4·7 = 36, 67, 77, 1·6 + 3·9 = 33`. With padding 1
    /// and stride 2, rows and columns 0 and 2 of that.
    #[test]
    fn small_example_by_hand() {
        let x: Vec<f64> = (1..=9).map(f64::from).collect();
        let (w, b) = ([1.0, 2.0, 3.0, 4.0], [0.5]);
        let unpadded = shape(1, (3, 3), 1, (2, 2), (1, 1), (0, 0));
        assert_eq!(forward(&unpadded, &w, &b, &x), [37.5, 47.5, 67.5, 77.5]);

        let padded = Conv2dShape {
            padding: (1, 1),
            ..unpadded
        };
        let want = [
            4.0, 11.0, 18.0, 9.0, //
            18.0, 37.0, 47.0, 21.0, //
            36.0, 67.0, 77.0, 33.0, //
            14.0, 23.0, 26.0, 9.0,
        ];
        let want: Vec<f64> = want.iter().map(|z| z + 0.5).collect();
        assert_eq!(forward(&padded, &w, &b, &x), want);

        let strided = Conv2dShape {
            stride: (2, 2),
            ..padded
        };
        assert_eq!(forward(&strided, &w, &b, &x), [4.5, 18.5, 36.5, 77.5]);
    }

    #[test]
    fn forward_matches_the_definition() {
        let mut rng = Rng::new(1);
        for s in &CONVOLUTIONS {
            for batch in [1, 3] {
                let w = random(&mut rng, s.weights());
                let b = random(&mut rng, s.out_channels);
                let x = random(&mut rng, batch * s.inputs());
                let want = naive_conv(s, &w, &b, &x);
                assert_close(&forward(s, &w, &b, &x), &want, 1e-12, "z");
            }
        }
    }

    /// `C = Σ r ∘ z`, so that `dC/dz = r`.
    fn loss(s: &Conv2dShape, w: &[f64], b: &[f64], x: &[f64], r: &[f64]) -> f64 {
        forward(s, w, b, x).iter().zip(r).map(|(z, r)| z * r).sum()
    }

    /// `(f(v + eps e_k) - f(v - eps e_k)) / 2 eps` for every `k`.
    fn central_differences(v: &[f64], mut f: impl FnMut(&[f64]) -> f64) -> Vec<f64> {
        let eps = 1e-5;
        let mut v = v.to_vec();
        (0..v.len())
            .map(|k| {
                let v0 = v[k];
                v[k] = v0 + eps;
                let up = f(&v);
                v[k] = v0 - eps;
                let down = f(&v);
                v[k] = v0;
                (up - down) / (2.0 * eps)
            })
            .collect()
    }

    /// `dC/dw`, `dC/db` (NaN-filled beforehand: they must be overwritten).
    fn weight_gradients(s: &Conv2dShape, x: &[f64], delta: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let mut grad_w = vec![f64::NAN; s.weights()];
        let mut grad_b = vec![f64::NAN; s.out_channels];
        conv2d_backward_weights(s, x, delta, &mut grad_w, &mut grad_b);
        (grad_w, grad_b)
    }

    fn input_gradient(s: &Conv2dShape, w: &[f64], delta: &[f64]) -> Vec<f64> {
        let mut grad_x = vec![f64::NAN; delta.len() / s.outputs() * s.inputs()];
        conv2d_backward_input(s, w, delta, &mut grad_x);
        grad_x
    }

    #[test]
    fn backward_matches_finite_differences() {
        let mut rng = Rng::new(2);
        for s in &CONVOLUTIONS {
            for batch in [1, 3] {
                let w = random(&mut rng, s.weights());
                let b = random(&mut rng, s.out_channels);
                let x = random(&mut rng, batch * s.inputs());
                let r = random(&mut rng, batch * s.outputs());
                let (grad_w, grad_b) = weight_gradients(s, &x, &r);
                let grad_x = input_gradient(s, &w, &r);

                let fd_w = central_differences(&w, |w| loss(s, w, &b, &x, &r));
                let fd_b = central_differences(&b, |b| loss(s, &w, b, &x, &r));
                let fd_x = central_differences(&x, |x| loss(s, &w, &b, x, &r));
                assert_close(&grad_w, &fd_w, 1e-6, "grad_w");
                assert_close(&grad_b, &fd_b, 1e-6, "grad_b");
                assert_close(&grad_x, &fd_x, 1e-6, "grad_x");
            }
        }
    }

    #[test]
    fn batch_weight_gradients_are_sums_over_samples() {
        let mut rng = Rng::new(3);
        for s in &CONVOLUTIONS {
            let x = random(&mut rng, 3 * s.inputs());
            let delta = random(&mut rng, 3 * s.outputs());
            let (grad_w, grad_b) = weight_gradients(s, &x, &delta);
            let (mut sum_w, mut sum_b) = (vec![0.0; s.weights()], vec![0.0; s.out_channels]);
            for (x, delta) in x.chunks(s.inputs()).zip(delta.chunks(s.outputs())) {
                let (w, b) = weight_gradients(s, x, delta);
                sum_w.iter_mut().zip(&w).for_each(|(s, w)| *s += w);
                sum_b.iter_mut().zip(&b).for_each(|(s, b)| *s += b);
            }
            assert_close(&grad_w, &sum_w, 1e-12, "grad_w");
            assert_close(&grad_b, &sum_b, 1e-12, "grad_b");
        }
    }

    #[test]
    fn f32_agrees_with_f64() {
        let s = &CONVOLUTIONS[2];
        let mut rng = Rng::new(4);
        let w = random(&mut rng, s.weights());
        let b = random(&mut rng, s.out_channels);
        let x = random(&mut rng, 3 * s.inputs());
        let delta = random(&mut rng, 3 * s.outputs());
        let single = |v: &[f64]| v.iter().map(|&v| v as f32).collect::<Vec<f32>>();
        let double = |v: &[f32]| v.iter().map(|&v| f64::from(v)).collect::<Vec<f64>>();
        let (w32, b32, x32, delta32) = (single(&w), single(&b), single(&x), single(&delta));

        let mut z = vec![f32::NAN; delta.len()];
        conv2d_forward(s, &w32, &b32, &x32, &mut z);
        assert_close(&double(&z), &forward(s, &w, &b, &x), 1e-5, "z");

        let (mut grad_w, mut grad_b) = (vec![f32::NAN; w.len()], vec![f32::NAN; b.len()]);
        conv2d_backward_weights(s, &x32, &delta32, &mut grad_w, &mut grad_b);
        let (want_w, want_b) = weight_gradients(s, &x, &delta);
        assert_close(&double(&grad_w), &want_w, 1e-5, "grad_w");
        assert_close(&double(&grad_b), &want_b, 1e-5, "grad_b");

        let mut grad_x = vec![f32::NAN; x.len()];
        conv2d_backward_input(s, &w32, &delta32, &mut grad_x);
        assert_close(
            &double(&grad_x),
            &input_gradient(s, &w, &delta),
            1e-5,
            "grad_x",
        );
    }

    #[test]
    #[should_panic(expected = "not a whole number of samples")]
    fn partial_samples_panic() {
        let s = &CONVOLUTIONS[0];
        let x = vec![0.0; s.inputs() + 1];
        let mut z = vec![0.0; s.outputs()];
        conv2d_forward(s, &[0.0; 9], &[0.0], &x, &mut z);
    }

    #[test]
    #[should_panic(expected = "z has 8 values, expected 1 x 9")]
    fn wrong_output_length_panics() {
        let s = &CONVOLUTIONS[0];
        let x = vec![0.0; s.inputs()];
        let mut z = vec![0.0; 8];
        conv2d_forward(s, &[0.0; 9], &[0.0], &x, &mut z);
    }

    #[test]
    fn check_rejects_invalid_convolutions() {
        let valid = shape(2, (4, 4), 3, (3, 3), (1, 1), (0, 0));
        assert_eq!(valid.check(), Ok(()));
        let zero_in = Conv2dShape {
            in_channels: 0,
            ..valid
        };
        let zero_out = Conv2dShape {
            out_channels: 0,
            ..valid
        };
        let zero_kernel = Conv2dShape {
            kernel: (3, 0),
            ..valid
        };
        assert_eq!(zero_in.check(), Err(ShapeError::ZeroSize));
        assert_eq!(zero_out.check(), Err(ShapeError::ZeroSize));
        assert_eq!(zero_kernel.check(), Err(ShapeError::ZeroSize));
        let zero_stride = Conv2dShape {
            stride: (1, 0),
            ..valid
        };
        assert_eq!(zero_stride.check(), Err(ShapeError::ZeroStride));
        let too_large = Conv2dShape {
            kernel: (3, 5),
            ..valid
        };
        assert_eq!(too_large.check(), Err(ShapeError::KernelTooLarge));
        // Padding 1 makes the padded input 6 wide: a kernel of 6 fits, 7 not.
        let padded = |k| Conv2dShape {
            kernel: (3, k),
            padding: (0, 1),
            ..valid
        };
        assert_eq!(padded(6).check(), Ok(()));
        assert_eq!(padded(6).out_width(), 1);
        assert_eq!(padded(7).check(), Err(ShapeError::KernelTooLarge));
        assert_eq!(padded(7).out_width(), 0);
        let overflow = Conv2dShape {
            padding: (usize::MAX / 2 + 1, 0),
            ..valid
        };
        assert_eq!(overflow.check(), Err(ShapeError::TooLarge));
        let huge = Conv2dShape {
            in_height: usize::MAX / 2,
            ..valid
        };
        assert_eq!(huge.check(), Err(ShapeError::TooLarge));
    }

    #[test]
    fn check_accepts_lenet_and_a_1d_geometry() {
        const C1: Conv2dShape = shape(1, (28, 28), 6, (5, 5), (1, 1), (2, 2));
        const S2: Pool2dShape = pool(6, (28, 28), (2, 2), (2, 2));
        const C3: Conv2dShape = shape(6, (14, 14), 16, (5, 5), (1, 1), (0, 0));
        const S4: Pool2dShape = pool(16, (10, 10), (2, 2), (2, 2));
        const SEQUENCE: Conv2dShape = Conv2dShape::conv1d(6, 100, 8, 5, 2, 0);
        // At compile time, as generated code will check them.
        const {
            assert!(C1.check().is_ok() && S2.check().is_ok() && C3.check().is_ok());
            assert!(S4.check().is_ok() && SEQUENCE.check().is_ok());
        };
        assert_eq!(
            (C1.out_height(), C1.out_width(), C1.outputs()),
            (28, 28, 6 * 28 * 28)
        );
        assert_eq!(
            (S2.out_height(), S2.out_width(), S2.outputs()),
            (14, 14, 6 * 14 * 14)
        );
        assert_eq!(S2.inputs(), C1.outputs());
        assert_eq!(
            (C3.out_height(), C3.out_width(), C3.inputs()),
            (10, 10, S2.outputs())
        );
        assert_eq!((S4.out_height(), S4.out_width(), S4.outputs()), (5, 5, 400));
        assert_eq!((C1.weights(), C3.weights()), (150, 2400));
        assert_eq!((SEQUENCE.out_height(), SEQUENCE.out_width()), (1, 48));
        assert_eq!((SEQUENCE.inputs(), SEQUENCE.outputs()), (600, 8 * 48));
        assert_eq!(SEQUENCE.weights(), 8 * 6 * 5);
    }

    #[test]
    fn check_rejects_invalid_pools() {
        let valid = pool(2, (4, 5), (2, 3), (2, 2));
        assert_eq!(valid.check(), Ok(()));
        assert_eq!((valid.out_height(), valid.out_width()), (2, 2));
        let zero = Pool2dShape {
            channels: 0,
            ..valid
        };
        assert_eq!(zero.check(), Err(ShapeError::ZeroSize));
        let zero_stride = Pool2dShape {
            stride: (0, 1),
            ..valid
        };
        assert_eq!(zero_stride.check(), Err(ShapeError::ZeroStride));
        assert_eq!(zero_stride.out_height(), 0);
        let too_large = Pool2dShape {
            kernel: (5, 1),
            ..valid
        };
        assert_eq!(too_large.check(), Err(ShapeError::KernelTooLarge));
        assert_eq!(Pool2dShape::pool1d(3, 10, 3, 2).out_width(), 4);
    }

    const fn pool(
        channels: usize,
        (in_height, in_width): (usize, usize),
        kernel: (usize, usize),
        stride: (usize, usize),
    ) -> Pool2dShape {
        Pool2dShape {
            channels,
            in_height,
            in_width,
            kernel,
            stride,
        }
    }

    /// Pooling geometries: tiling windows, a remainder left unread, unequal
    /// strides, overlapping windows, one window over the whole plane, 1-D.
    const POOLS: [Pool2dShape; 6] = [
        pool(2, (6, 6), (2, 2), (2, 2)),
        pool(1, (7, 5), (3, 2), (2, 1)),
        pool(3, (5, 5), (3, 3), (1, 1)),
        pool(1, (4, 4), (4, 4), (1, 1)),
        pool(2, (5, 7), (2, 3), (3, 2)),
        Pool2dShape::pool1d(2, 10, 3, 2),
    ];

    /// Max (or mean) pooling by the definition.
    fn naive_pool(s: &Pool2dShape, x: &[f64], max: bool) -> Vec<f64> {
        let (kh, kw) = s.kernel;
        let oh = (s.in_height - kh) / s.stride.0 + 1;
        let ow = (s.in_width - kw) / s.stride.1 + 1;
        let planes = x.len() / (s.in_height * s.in_width);
        let mut out = Vec::new();
        for p in 0..planes {
            for y in 0..oh {
                for xo in 0..ow {
                    let window =
                        (0..kh)
                            .flat_map(|i| (0..kw).map(move |j| (i, j)))
                            .map(|(i, j)| {
                                let (iy, ix) = (y * s.stride.0 + i, xo * s.stride.1 + j);
                                x[(p * s.in_height + iy) * s.in_width + ix]
                            });
                    out.push(if max {
                        window.fold(f64::NEG_INFINITY, f64::max)
                    } else {
                        window.sum::<f64>() / (kh * kw) as f64
                    });
                }
            }
        }
        out
    }

    fn max_pool(s: &Pool2dShape, x: &[f64]) -> Vec<f64> {
        let mut out = vec![f64::NAN; x.len() / s.inputs() * s.outputs()];
        max_pool2d_forward(s, x, &mut out);
        out
    }

    fn avg_pool(s: &Pool2dShape, x: &[f64]) -> Vec<f64> {
        let mut out = vec![f64::NAN; x.len() / s.inputs() * s.outputs()];
        avg_pool2d_forward(s, x, &mut out);
        out
    }

    fn max_pool_gradient(s: &Pool2dShape, x: &[f64], delta: &[f64]) -> Vec<f64> {
        let mut grad_x = vec![f64::NAN; x.len()];
        max_pool2d_backward(s, x, delta, &mut grad_x);
        grad_x
    }

    fn avg_pool_gradient(s: &Pool2dShape, delta: &[f64]) -> Vec<f64> {
        let mut grad_x = vec![f64::NAN; delta.len() / s.outputs() * s.inputs()];
        avg_pool2d_backward(s, delta, &mut grad_x);
        grad_x
    }

    /// `n` distinct values, `0.1` apart, in a random order: max pooling is
    /// differentiable there, and steps of `1e-5` change no arg-max.
    fn distinct(rng: &mut Rng, n: usize) -> Vec<f64> {
        let mut x: Vec<f64> = (0..n).map(|k| k as f64 * 0.1 - 1.0).collect();
        rng.shuffle(&mut x);
        x
    }

    #[test]
    fn pools_match_the_definition() {
        let mut rng = Rng::new(5);
        for s in &POOLS {
            for batch in [1, 3] {
                let x = random(&mut rng, batch * s.inputs());
                assert_close(&max_pool(s, &x), &naive_pool(s, &x, true), 0.0, "max");
                assert_close(&avg_pool(s, &x), &naive_pool(s, &x, false), 1e-12, "avg");
            }
        }
    }

    #[test]
    fn pool_gradients_match_finite_differences() {
        let mut rng = Rng::new(6);
        for s in &POOLS {
            for batch in [1, 3] {
                let x = distinct(&mut rng, batch * s.inputs());
                let r = random(&mut rng, batch * s.outputs());
                let dot = |out: Vec<f64>| out.iter().zip(&r).map(|(o, r)| o * r).sum::<f64>();
                let fd_max = central_differences(&x, |x| dot(max_pool(s, x)));
                let fd_avg = central_differences(&x, |x| dot(avg_pool(s, x)));
                assert_close(&max_pool_gradient(s, &x, &r), &fd_max, 1e-6, "max");
                assert_close(&avg_pool_gradient(s, &r), &fd_avg, 1e-6, "avg");
            }
        }
    }

    /// Two channels, one 2x2 window each: `[1, 3; 3, 2]` (a tie within the
    /// first row and the second) and `[5, 0; 0, 5]` (a tie across rows). The
    /// first maximum in row-major order wins.
    #[test]
    fn ties_go_to_the_first_maximum() {
        let s = pool(2, (2, 2), (2, 2), (2, 2));
        let x = [1.0, 3.0, 3.0, 2.0, 5.0, 0.0, 0.0, 5.0];
        assert_eq!(max_pool(&s, &x), [3.0, 5.0]);
        let grad_x = max_pool_gradient(&s, &x, &[10.0, 20.0]);
        assert_eq!(grad_x, [0.0, 10.0, 0.0, 0.0, 20.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn nan_propagates_and_takes_the_gradient() {
        let s = pool(1, (2, 2), (2, 2), (2, 2));
        let x = [1.0, f64::NAN, f64::NAN, 3.0];
        assert!(max_pool(&s, &x)[0].is_nan());
        assert_eq!(max_pool_gradient(&s, &x, &[1.0]), [0.0, 1.0, 0.0, 0.0]);
        // A NaN first in the window, larger values after it.
        let x = [f64::NAN, 1.0, 2.0, 3.0];
        assert!(max_pool(&s, &x)[0].is_nan());
        assert_eq!(max_pool_gradient(&s, &x, &[1.0]), [1.0, 0.0, 0.0, 0.0]);
    }

    /// 3x3, 2x2 windows at stride 1: the four windows overlap at the centre.
    /// All four have their maximum there, so it gets `1 + 2 + 3 + 4`; for
    /// the mean each input gets a quarter of the `delta` of every window
    /// that holds it (the corners one, the edges two, the centre all four).
    #[test]
    fn overlapping_windows_accumulate() {
        let s = pool(1, (3, 3), (2, 2), (1, 1));
        let x = [0.1, 0.2, 0.3, 0.4, 9.0, 0.5, 0.6, 0.7, 0.8];
        let delta = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(max_pool(&s, &x), [9.0; 4]);
        let mut want = [0.0; 9];
        want[4] = 10.0;
        assert_eq!(max_pool_gradient(&s, &x, &delta), want);
        let want = [1.0, 3.0, 2.0, 4.0, 10.0, 6.0, 3.0, 7.0, 4.0].map(|g| g / 4.0);
        assert_eq!(avg_pool_gradient(&s, &delta), want);
    }
}

/// What the tests of the faster convolution paths (`im2col`, `grid`) share:
/// the three passes of one path against the direct loops here.
#[cfg(all(test, vector_registers))]
pub(crate) mod testing {
    extern crate std;
    use std::vec;
    use std::vec::Vec;

    use super::{Conv2dShape, conv2d_backward_input, conv2d_backward_weights, conv2d_forward};
    use crate::Rng;

    /// LeNet-5's first convolution: 1 x 28 x 28, 6 kernels of 5 x 5,
    /// padding 2.
    pub(crate) const LENET_CONV1: Conv2dShape = Conv2dShape {
        in_channels: 1,
        in_height: 28,
        in_width: 28,
        out_channels: 6,
        kernel: (5, 5),
        stride: (1, 1),
        padding: (2, 2),
    };

    /// LeNet-5's second convolution: 6 x 14 x 14, 16 kernels of 5 x 5.
    pub(crate) const LENET_CONV2: Conv2dShape = Conv2dShape {
        in_channels: 6,
        in_height: 14,
        in_width: 14,
        out_channels: 16,
        kernel: (5, 5),
        stride: (1, 1),
        padding: (0, 0),
    };

    /// One path's three passes, each writing into a buffer filled with NaN
    /// (so that a value it forgets to write shows).
    pub(crate) trait Passes {
        fn forward(&mut self, shape: &Conv2dShape, w: &[f64], b: &[f64], x: &[f64], z: &mut [f64]);
        fn backward_weights(
            &mut self,
            shape: &Conv2dShape,
            x: &[f64],
            delta: &[f64],
            grad_w: &mut [f64],
            grad_b: &mut [f64],
        );
        fn backward_input(
            &mut self,
            shape: &Conv2dShape,
            w: &[f64],
            delta: &[f64],
            grad_x: &mut [f64],
        );
    }

    fn values(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = Rng::new(seed);
        (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect()
    }

    fn close(what: &str, shape: &Conv2dShape, a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x - y).abs() <= 1e-12 * (1.0 + y.abs()),
                "{what}[{i}] of {shape:?}: {x} vs {y}"
            );
        }
    }

    /// `passes` against the direct loops, for every shape and batches of 1
    /// and 3.
    pub(crate) fn check(shapes: &[Conv2dShape], passes: &mut impl Passes) {
        for (n, shape) in shapes.iter().enumerate() {
            for batch in [1, 3] {
                let seed = 10 * n as u64 + batch as u64;
                let w = values(shape.weights(), seed);
                let b = values(shape.out_channels, seed + 1);
                let x = values(batch * shape.inputs(), seed + 2);
                let delta = values(batch * shape.outputs(), seed + 3);

                let (mut want, mut got) = (vec![0.0; delta.len()], vec![f64::NAN; delta.len()]);
                conv2d_forward(shape, &w, &b, &x, &mut want);
                passes.forward(shape, &w, &b, &x, &mut got);
                close("z", shape, &got, &want);

                let (mut want_w, mut got_w) = (vec![0.0; w.len()], vec![f64::NAN; w.len()]);
                let (mut want_b, mut got_b) = (vec![0.0; b.len()], vec![f64::NAN; b.len()]);
                conv2d_backward_weights(shape, &x, &delta, &mut want_w, &mut want_b);
                passes.backward_weights(shape, &x, &delta, &mut got_w, &mut got_b);
                close("dW", shape, &got_w, &want_w);
                close("db", shape, &got_b, &want_b);

                let (mut want_x, mut got_x) = (vec![0.0; x.len()], vec![f64::NAN; x.len()]);
                conv2d_backward_input(shape, &w, &delta, &mut want_x);
                passes.backward_input(shape, &w, &delta, &mut got_x);
                close("dx", shape, &got_x, &want_x);
            }
        }
    }
}
