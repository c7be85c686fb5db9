//! Stride-1 convolutions as products on the padded input grid, without
//! `im2col`, for targets with vector registers.
//!
//! Pad each input channel to `H_p x W_p` (`H + 2 p_h` by `W + 2 p_w`) and
//! lay the output on the same row width: position `q = y W_p + x` for
//! `y < OH`, `x < W_p` (the columns `x >= OW` are computed and dropped).
//! The input that tap `k = (c k_h + i) k_w + j` of the kernel meets at `q`
//! is then `x_p[o_k + q]` with `o_k = c H_p W_p + i W_p + j`: for every tap
//! a contiguous run of the padded input, so the patch matrix of `im2col` is
//! never built, and one sample's products read `W_p / OW` times the useful
//! values (8 / 7 for LeNet's first layer, 7 / 5 for its second):
//!
//! - `z(q, co) = sum_k x_p[o_k + q] W^T(k, co)`: a product whose left
//!   factor's columns are runs of `x_p` ([`kernels::shifted_product`]);
//! - `dC/dW^T(k, co) = sum_q x_p[o_k + q] delta_g(q, co)`, with `delta` on
//!   the grid (zero in the dropped columns): dot products of runs
//!   ([`kernels::shifted_dots`], a vector of partial sums over `q`) for few output
//!   channels, or for as many as a vector has lanes and more, a vector over
//!   the channels per tap with `delta` transposed ([`kernels::shifted_columns`]: no
//!   partial sums to add up, which cost as much as the products for
//!   LeNet's second layer);
//! - `dC/dx_p(q, c) = sum_(co, i, j) delta_e[o'_(co,i,j) + q] W(co, c, i, j)`:
//!   the full convolution, the same product as the forward one, over `delta`
//!   on the grid with `(k_h - 1) W_p + k_w - 1` zeros before each channel,
//!   and the kernel flipped (`o' = co L + F - i W_p - j`).
//!
//! The kernels are compiled for AVX-512 and for AVX2 with FMA and chosen at
//! run time (with `std` on x86), as the matrix kernel is.

use crate::Scalar;
use crate::convolution::Conv2dShape;

/// Whether this module computes the layer `shape` with `scratch` values of
/// scratch (it needs stride 1, and the padded copies must fit).
pub(crate) fn applies(shape: &Conv2dShape, scratch: usize) -> bool {
    shape.stride == (1, 1) && shape.check().is_ok() && Grid::new(shape).needs() <= scratch
}

/// The sizes of one layer on its grid.
struct Grid {
    channels: usize,
    out_channels: usize,
    /// `H_p`, `W_p`.
    height: usize,
    width: usize,
    out_height: usize,
    out_width: usize,
    kernel: (usize, usize),
    padding: (usize, usize),
    /// `OH W_p`: the output positions on the grid.
    positions: usize,
    /// Values read past the end of a padded copy: a vector block and a row
    /// of taps.
    tail: usize,
}

/// The longest vector block of any kernel here (AVX-512, `f32`).
const MAX_BLOCK: usize = 32;

impl Grid {
    fn new(shape: &Conv2dShape) -> Self {
        let height = shape.in_height + 2 * shape.padding.0;
        let width = shape.in_width + 2 * shape.padding.1;
        Grid {
            channels: shape.in_channels,
            out_channels: shape.out_channels,
            height,
            width,
            out_height: shape.out_height(),
            out_width: shape.out_width(),
            kernel: shape.kernel,
            padding: shape.padding,
            positions: shape.out_height() * width,
            tail: MAX_BLOCK + shape.kernel.1,
        }
    }

    fn plane(&self) -> usize {
        self.height * self.width
    }

    fn taps(&self) -> usize {
        self.channels * self.kernel.0 * self.kernel.1
    }

    fn weights(&self) -> usize {
        self.taps() * self.out_channels
    }

    /// The padded input: every channel, then the tail.
    fn padded_len(&self) -> usize {
        self.channels * self.plane() + self.tail
    }

    /// `delta` on the grid, `positions` rounded up to a vector block per
    /// channel.
    fn delta_stride(&self) -> usize {
        self.positions.div_ceil(MAX_BLOCK) * MAX_BLOCK
    }

    /// Zeros before each channel of `delta` for the full convolution.
    fn front(&self) -> usize {
        (self.kernel.0 - 1) * self.width + self.kernel.1 - 1
    }

    /// One channel of `delta` for the full convolution: the zeros before,
    /// the grid, and a kernel's height of rows after.
    fn extended_plane(&self) -> usize {
        self.front() + self.positions + (self.kernel.0 - 1) * self.width
    }

    /// The scratch values the largest of the three passes needs.
    fn needs(&self) -> usize {
        let forward = self.padded_len() + self.weights() + self.out_channels * self.positions;
        let weights = self.padded_len() + self.out_channels * self.delta_stride();
        let input = self.out_channels * self.extended_plane()
            + self.tail
            + self.weights()
            + self.channels * self.plane();
        forward.max(weights).max(input)
    }

    /// The lanes of a vector over the output channels for the weight
    /// gradient, the channels rounded up to whole vectors; 0 when there
    /// are fewer channels than lanes, and a vector over positions wastes
    /// less.
    fn column_lanes<T>(&self) -> usize {
        let lanes = kernels::lanes::<T>();
        if self.out_channels >= lanes {
            self.out_channels.div_ceil(lanes) * lanes
        } else {
            0
        }
    }

    /// The scratch the weight gradient by columns needs beyond the padded
    /// input.
    fn columns_needs(&self, lanes: usize) -> usize {
        (self.positions + self.taps()) * lanes
    }

    /// `o_k` for every tap `k = (c k_h + i) k_w + j`, into `offsets`.
    fn tap_offsets(&self, offsets: &mut [usize]) {
        let (kh, kw) = self.kernel;
        let mut k = 0;
        for c in 0..self.channels {
            for i in 0..kh {
                for j in 0..kw {
                    offsets[k] = c * self.plane() + i * self.width + j;
                    k += 1;
                }
            }
        }
    }

    /// Copies one sample `x` into the interior of `padded` (whose padding
    /// and tail the caller zeroed once).
    fn pad<T: Scalar>(&self, x: &[T], padded: &mut [T]) {
        let (w, h) = (
            self.width - 2 * self.padding.1,
            self.height - 2 * self.padding.0,
        );
        for (c, x) in x.chunks_exact(h * w).enumerate() {
            for (y, row) in x.chunks_exact(w).enumerate() {
                let start = c * self.plane() + (y + self.padding.0) * self.width + self.padding.1;
                copy(row, &mut padded[start..start + w]);
            }
        }
    }
}

/// The sum of `values` in 16 independent partial sums, which the compiler
/// keeps in vector registers: a single running sum is a chain of dependent
/// additions, four cycles each, and for LeNet's first layer took longer
/// than the weight gradient's products.
pub(crate) fn sum<T: Scalar>(values: &[T]) -> T {
    let mut partial = [T::zero(); 16];
    let mut chunks = values.chunks_exact(16);
    for chunk in &mut chunks {
        for (p, v) in partial.iter_mut().zip(chunk) {
            *p += *v;
        }
    }
    let rest = chunks.remainder().iter().fold(T::zero(), |t, v| t + *v);
    partial.iter().fold(rest, |t, p| t + *p)
}

/// Element by element: the rows are short, and `copy_from_slice` would call
/// `memcpy` for each.
#[inline(always)]
fn copy<T: Scalar>(from: &[T], to: &mut [T]) {
    for (t, f) in to.iter_mut().zip(from) {
        *t = *f;
    }
}

/// `z = W ⋆ x + b` for every sample (stride 1), as `im2col::forward`;
/// `scratch` holds at least `Grid::needs` values.
pub(crate) fn forward<T: Scalar>(
    shape: &Conv2dShape,
    w: &[T],
    b: &[T],
    x: &[T],
    z: &mut [T],
    scratch: &mut [T],
    offsets: &mut [usize],
) {
    let g = Grid::new(shape);
    let (padded, rest) = scratch.split_at_mut(g.padded_len());
    let (packed, rest) = rest.split_at_mut(g.weights());
    let on_grid = &mut rest[..g.out_channels * g.positions];
    padded.fill(T::zero());
    g.tap_offsets(offsets);
    // B(k, co) = W^T(k, co), row-major: the `co` of one tap side by side.
    let taps = g.taps();
    for (k, row) in packed.chunks_exact_mut(g.out_channels).enumerate() {
        for (co, v) in row.iter_mut().enumerate() {
            *v = w[co * taps + k];
        }
    }
    let out_plane = g.out_height * g.out_width;
    for (x, z) in x
        .chunks_exact(shape.inputs())
        .zip(z.chunks_exact_mut(shape.outputs()))
    {
        g.pad(x, padded);
        T::shifted_product(
            (g.positions, g.out_channels),
            padded,
            offsets,
            packed,
            on_grid,
            false,
        );
        for ((z, grid), b) in z
            .chunks_exact_mut(out_plane)
            .zip(on_grid.chunks_exact(g.positions))
            .zip(b)
        {
            for (z, grid) in z.chunks_exact_mut(g.out_width).zip(grid.chunks(g.width)) {
                for (z, v) in z.iter_mut().zip(grid) {
                    *z = *v + *b;
                }
            }
        }
    }
}

/// Places one sample of `delta` (`C_out x OH x OW`) on the grid: each
/// channel at `start + c stride`, rows `W_p` apart. The rest stays as the
/// caller zeroed it.
fn delta_on_grid<T: Scalar>(g: &Grid, delta: &[T], out: &mut [T], start: usize, stride: usize) {
    let plane = g.out_height * g.out_width;
    for (co, delta) in delta.chunks_exact(plane).enumerate() {
        for (y, row) in delta.chunks_exact(g.out_width).enumerate() {
            let at = start + co * stride + y * g.width;
            copy(row, &mut out[at..at + g.out_width]);
        }
    }
}

/// `dC/dW^T = sum X^T delta`, `dC/db = sum delta` over the samples (stride
/// 1), overwriting `grad_w` and `grad_b`, as `im2col::backward_weights`.
pub(crate) fn backward_weights<T: Scalar>(
    shape: &Conv2dShape,
    x: &[T],
    delta: &[T],
    grad_w: &mut [T],
    grad_b: &mut [T],
    scratch: &mut [T],
    offsets: &mut [usize],
) {
    let g = Grid::new(shape);
    let (padded, rest) = scratch.split_at_mut(g.padded_len());
    padded.fill(T::zero());
    grad_w.fill(T::zero());
    grad_b.fill(T::zero());
    g.tap_offsets(offsets);
    let out_plane = g.out_height * g.out_width;
    let lanes = g.column_lanes::<T>();
    let by_columns = lanes > 0 && rest.len() >= g.columns_needs(lanes);
    if by_columns {
        // delta as rows of channels, the sums as rows of `lanes` per tap,
        // both zero where a sample writes nothing.
        let (rows, rest) = rest.split_at_mut(g.positions * lanes);
        let sums = &mut rest[..g.taps() * lanes];
        rows.fill(T::zero());
        sums.fill(T::zero());
        for (x, delta) in x
            .chunks_exact(shape.inputs())
            .zip(delta.chunks_exact(shape.outputs()))
        {
            g.pad(x, padded);
            for (co, delta) in delta.chunks_exact(out_plane).enumerate() {
                for (y, row) in delta.chunks_exact(g.out_width).enumerate() {
                    for (x, v) in row.iter().enumerate() {
                        rows[(y * g.width + x) * lanes + co] = *v;
                    }
                }
            }
            T::shifted_columns((g.positions, lanes), padded, offsets, rows, sums);
        }
        let taps = g.taps();
        for (co, grad_w) in grad_w.chunks_exact_mut(taps).enumerate() {
            for (k, gw) in grad_w.iter_mut().enumerate() {
                *gw = sums[k * lanes + co];
            }
        }
    } else {
        let stride = g.delta_stride();
        let on_grid = &mut rest[..g.out_channels * stride];
        on_grid.fill(T::zero());
        for (x, delta) in x
            .chunks_exact(shape.inputs())
            .zip(delta.chunks_exact(shape.outputs()))
        {
            g.pad(x, padded);
            delta_on_grid(&g, delta, on_grid, 0, stride);
            T::shifted_dots((stride, g.out_channels), padded, offsets, on_grid, grad_w);
        }
    }
    for delta in delta.chunks_exact(shape.outputs()) {
        for (gb, plane) in grad_b.iter_mut().zip(delta.chunks_exact(out_plane)) {
            *gb += sum(plane);
        }
    }
}

/// `dC/dx`, the full convolution of `delta` with the kernels (stride 1),
/// overwriting `grad_x`, as `im2col::backward_input`.
pub(crate) fn backward_input<T: Scalar>(
    shape: &Conv2dShape,
    w: &[T],
    delta: &[T],
    grad_x: &mut [T],
    scratch: &mut [T],
    offsets: &mut [usize],
) {
    let g = Grid::new(shape);
    let plane_len = g.extended_plane();
    let (extended, rest) = scratch.split_at_mut(g.out_channels * plane_len + g.tail);
    let (packed, rest) = rest.split_at_mut(g.weights());
    let on_grid = &mut rest[..g.channels * g.plane()];
    extended.fill(T::zero());
    // Tap (co, i, j) of the flipped kernel reads delta at q - i W_p - j.
    let (kh, kw) = g.kernel;
    let (front, taps) = (g.front(), g.taps());
    // B(k, c) = W(co, c, i, j) for the flipped kernel's taps k = (co, i, j).
    for co in 0..g.out_channels {
        for i in 0..kh {
            for j in 0..kw {
                let k = (co * kh + i) * kw + j;
                for c in 0..g.channels {
                    packed[k * g.channels + c] = w[co * taps + (c * kh + i) * kw + j];
                }
            }
        }
    }
    // The flipped kernel has `C_out k_h k_w` taps and `offsets` room for
    // `C_in k_h k_w`: `C_in` output channels' taps at a time.
    let group = g.channels;
    let (h, width) = (g.height - 2 * g.padding.0, g.width - 2 * g.padding.1);
    for (delta, grad_x) in delta
        .chunks_exact(shape.outputs())
        .zip(grad_x.chunks_exact_mut(shape.inputs()))
    {
        delta_on_grid(&g, delta, extended, front, plane_len);
        for first in (0..g.out_channels).step_by(group) {
            let last = (first + group).min(g.out_channels);
            // Tap (co, i, j) reads delta at q - i W_p - j.
            let mut n = 0;
            for co in first..last {
                for i in 0..kh {
                    for j in 0..kw {
                        offsets[n] = co * plane_len + front - i * g.width - j;
                        n += 1;
                    }
                }
            }
            let rows = first * kh * kw * g.channels..last * kh * kw * g.channels;
            T::shifted_product(
                (g.plane(), g.channels),
                extended,
                &offsets[..n],
                &packed[rows],
                on_grid,
                first > 0,
            );
        }
        for (c, grad_x) in grad_x.chunks_exact_mut(h * width).enumerate() {
            for (y, row) in grad_x.chunks_exact_mut(width).enumerate() {
                let at = c * g.plane() + (y + g.padding.0) * g.width + g.padding.1;
                copy(&on_grid[at..at + width], row);
            }
        }
    }
}

/// The kernels, on run-time sizes, for [`Scalar::shifted_product`] and
/// [`Scalar::shifted_dots`].
pub(crate) mod kernels {
    use crate::Scalar;

    /// The lanes of a vector of `T` in the kernels [`dispatch`] runs here.
    pub(crate) fn lanes<T>() -> usize {
        let size = core::mem::size_of::<T>().max(1);
        #[cfg(all(
            any(fma_detectable, fma_compiled_in),
            any(target_arch = "x86", target_arch = "x86_64")
        ))]
        if widest() >= 2 && avx512() {
            return 64 / size;
        }
        #[cfg(fma_detectable)]
        if widest() >= 1 && crate::kernels::fma_detected() {
            return 32 / size;
        }
        (16 / size).max(1)
    }

    /// Runs `$kernel` with the widest vectors this CPU has: AVX-512, AVX2
    /// with FMA (both chosen at run time with `std` on x86), or what the
    /// build's target gives; `MR` is two vectors of `T`, `L` one.
    macro_rules! dispatch {
        ($kernel:ident [$($extra:tt)*], $($arg:expr),*) => {{
            let single = core::mem::size_of::<T>() <= 4;
            #[cfg(all(any(fma_detectable, fma_compiled_in), any(target_arch = "x86", target_arch = "x86_64")))]
            if widest() >= 2 && avx512() {
                // SAFETY: `avx512` has just asked the CPU (or the build's
                // target guarantees) AVX-512F, AVX2 and FMA, all that the
                // kernels of `x86` need.
                unsafe {
                    if single {
                        x86::$kernel::<T, 32, 16>($($arg),*)
                    } else {
                        x86::$kernel::<T, 16, 8>($($arg),*)
                    }
                }
                return;
            }
            #[cfg(fma_detectable)]
            if widest() >= 1 && crate::kernels::fma_detected() {
                // SAFETY: the CPU has AVX2 and FMA, all that `x86::avx2`
                // needs.
                unsafe {
                    if single {
                        x86::avx2::$kernel::<T, 16, 8>($($arg),*)
                    } else {
                        x86::avx2::$kernel::<T, 8, 4>($($arg),*)
                    }
                }
                return;
            }
            if single {
                generic::$kernel::<T, Plain, 8, 4 $($extra)*>($($arg),*)
            } else {
                generic::$kernel::<T, Plain, 4, 2 $($extra)*>($($arg),*)
            }
        }};
    }

    /// `c(q, j) (+)= sum_k src[offsets[k] + q] b(k, j)` for `q < m`,
    /// `j < n` (adding to `c` if `add`): `b` row-major (`k x n`), `c`
    /// column-major (`m x n`). `src` holds every `offsets[k] + q` for `q`
    /// below `m` rounded up to 32.
    pub(crate) fn shifted_product<T: Scalar>(
        (m, n): (usize, usize),
        src: &[T],
        offsets: &[usize],
        b: &[T],
        c: &mut [T],
        add: bool,
    ) {
        dispatch!(product [, 6], (m, n), src, offsets, b, c, add)
    }

    /// `sums(k, j) += sum_(q < m) src[offsets[k] + q] rows(q, j)`, `rows`
    /// row-major with `lanes` columns (a multiple of [`lanes`]), `sums`
    /// row-major (`offsets.len() x lanes`): the weight gradient with a
    /// vector over the output channels, for layers with many of them.
    pub(crate) fn shifted_columns<T: Scalar>(
        (m, lanes): (usize, usize),
        src: &[T],
        offsets: &[usize],
        rows: &[T],
        sums: &mut [T],
    ) {
        dispatch!(columns [], (m, lanes), src, offsets, rows, sums)
    }

    /// `out(k, j) += sum_(q < m) src[offsets[k] + q] d(q, j)`, `d`
    /// column-major with `m` rows (a multiple of 32), `out` column-major
    /// with `offsets.len()` rows.
    pub(crate) fn shifted_dots<T: Scalar>(
        (m, n): (usize, usize),
        src: &[T],
        offsets: &[usize],
        d: &[T],
        out: &mut [T],
    ) {
        dispatch!(dots [], (m, n), src, offsets, d, out)
    }

    /// The widest kernels a test lets [`dispatch`] choose: 2 for AVX-512, 1
    /// for AVX2, 0 for the build's target alone.
    #[cfg(test)]
    pub(crate) static WIDEST: core::sync::atomic::AtomicU8 = core::sync::atomic::AtomicU8::new(2);

    #[cfg(test)]
    #[allow(dead_code)]
    fn widest() -> u8 {
        WIDEST.load(core::sync::atomic::Ordering::Relaxed)
    }

    #[cfg(not(test))]
    #[allow(dead_code)]
    #[inline(always)]
    fn widest() -> u8 {
        2
    }

    #[cfg(all(
        any(fma_detectable, fma_compiled_in),
        any(target_arch = "x86", target_arch = "x86_64")
    ))]
    fn avx512() -> bool {
        #[cfg(target_feature = "avx512f")]
        return true;
        #[cfg(all(not(target_feature = "avx512f"), fma_detectable))]
        return std::is_x86_feature_detected!("avx512f");
        #[cfg(all(not(target_feature = "avx512f"), not(fma_detectable)))]
        return false;
    }

    /// The multiply-add of a build without the run-time kernels: the
    /// instruction where FMA is compiled in, two operations otherwise.
    #[cfg(fma_compiled_in)]
    use crate::kernels::Fused as Plain;
    #[cfg(not(fma_compiled_in))]
    use crate::kernels::Unfused as Plain;

    /// The three kernels of [`generic`] compiled for the instructions
    /// `$features`, with register blocks of `$nr` columns in `product`:
    /// everything they call is inlined into them.
    #[cfg(all(
        any(fma_detectable, fma_compiled_in),
        any(target_arch = "x86", target_arch = "x86_64")
    ))]
    macro_rules! compiled_for {
        ($features:literal, $nr:literal) => {
            #[target_feature(enable = $features)]
            pub(crate) fn product<T: Scalar, const MR: usize, const L: usize>(
                dims: (usize, usize),
                src: &[T],
                offsets: &[usize],
                b: &[T],
                c: &mut [T],
                add: bool,
            ) {
                generic::product::<T, Fused, MR, L, $nr>(dims, src, offsets, b, c, add);
            }

            #[target_feature(enable = $features)]
            pub(crate) fn columns<T: Scalar, const MR: usize, const L: usize>(
                dims: (usize, usize),
                src: &[T],
                offsets: &[usize],
                rows: &[T],
                sums: &mut [T],
            ) {
                generic::columns::<T, Fused, MR, L>(dims, src, offsets, rows, sums);
            }

            #[target_feature(enable = $features)]
            pub(crate) fn dots<T: Scalar, const MR: usize, const L: usize>(
                dims: (usize, usize),
                src: &[T],
                offsets: &[usize],
                d: &[T],
                out: &mut [T],
            ) {
                generic::dots::<T, Fused, MR, L>(dims, src, offsets, d, out);
            }
        };
    }

    /// The kernels for x86: AVX-512 here (32 vector registers: blocks of 8
    /// columns), AVX2 and FMA in `avx2` (16 registers: blocks of 6).
    #[cfg(all(
        any(fma_detectable, fma_compiled_in),
        any(target_arch = "x86", target_arch = "x86_64")
    ))]
    mod x86 {
        use super::generic;
        use crate::Scalar;
        use crate::kernels::Fused;

        compiled_for!("avx512f,avx2,fma", 8);

        #[cfg(fma_detectable)]
        pub(super) mod avx2 {
            use super::generic;
            use crate::Scalar;
            use crate::kernels::Fused;

            compiled_for!("avx2,fma", 6);
        }
    }

    /// The kernels in plain Rust over arrays, which the compiler turns into
    /// vector instructions of the enclosing function's target.
    mod generic {
        use crate::Scalar;
        use crate::kernels::MultiplyAdd;

        /// [`super::shifted_product`] in blocks of `MR` positions by up to
        /// `NR` columns (6 or 8: `2 NR` sums and three operands fill 16
        /// vector registers, or 19 of AVX-512's 32), the sums in registers.
        #[inline(always)]
        pub(super) fn product<
            T: Scalar,
            F: MultiplyAdd,
            const MR: usize,
            const L: usize,
            const NR: usize,
        >(
            (m, n): (usize, usize),
            src: &[T],
            offsets: &[usize],
            b: &[T],
            c: &mut [T],
            add: bool,
        ) {
            let padded = m.div_ceil(MR) * MR;
            assert!(
                offsets.iter().all(|&o| o + padded <= src.len())
                    && b.len() >= offsets.len() * n
                    && c.len() >= m * n,
                "the shifted product's buffers are too short"
            );
            let mut i = 0;
            while i < m {
                let rows = MR.min(m - i);
                let mut j = 0;
                while j < n {
                    let cols = NR.min(n - j);
                    let at = (i, j, rows, add);
                    match cols {
                        8 => product_block::<T, F, MR, 8>(at, (m, n), src, offsets, b, c),
                        7 => product_block::<T, F, MR, 7>(at, (m, n), src, offsets, b, c),
                        6 => product_block::<T, F, MR, 6>(at, (m, n), src, offsets, b, c),
                        5 => product_block::<T, F, MR, 5>(at, (m, n), src, offsets, b, c),
                        4 => product_block::<T, F, MR, 4>(at, (m, n), src, offsets, b, c),
                        3 => product_block::<T, F, MR, 3>(at, (m, n), src, offsets, b, c),
                        2 => product_block::<T, F, MR, 2>(at, (m, n), src, offsets, b, c),
                        _ => product_block::<T, F, MR, 1>(at, (m, n), src, offsets, b, c),
                    }
                    j += cols;
                }
                i += rows;
            }
        }

        #[inline(always)]
        fn product_block<T: Scalar, F: MultiplyAdd, const MR: usize, const NB: usize>(
            (i, j, rows, add): (usize, usize, usize, bool),
            (m, n): (usize, usize),
            src: &[T],
            offsets: &[usize],
            b: &[T],
            c: &mut [T],
        ) {
            let mut sums = [[T::zero(); MR]; NB];
            for (k, &offset) in offsets.iter().enumerate() {
                // SAFETY: `product` checked that `src` holds `offset + q`
                // for every `q` below `m` rounded up to `MR`, and `i` is a
                // multiple of `MR` below `m`; and that `b` holds
                // `offsets.len()` rows of `n`, with `j + NB <= n`.
                let (a, b) =
                    unsafe { (read::<T, MR>(src, offset + i), read::<T, NB>(b, k * n + j)) };
                for (sum, b) in sums.iter_mut().zip(b) {
                    for (s, a) in sum.iter_mut().zip(a) {
                        *s = F::multiply_add(a, b, *s);
                    }
                }
            }
            if rows == MR {
                // Lengths known at compile time: the sums stay in registers
                // (a run-time length makes the compiler keep them in memory).
                for (jj, sum) in sums.iter().enumerate() {
                    let start = (j + jj) * m + i;
                    let c: &mut [T; MR] =
                        c[start..].first_chunk_mut().expect("`product` checked `c`");
                    store(c, sum, add);
                }
            } else {
                let done = sums;
                for (jj, sum) in done.iter().enumerate() {
                    let start = (j + jj) * m + i;
                    store(&mut c[start..start + rows], sum, add);
                }
            }
        }

        /// `c = sum` or `c += sum`, as far as `c` goes.
        #[inline(always)]
        fn store<T: Scalar>(c: &mut [T], sum: &[T], add: bool) {
            if add {
                for (c, s) in c.iter_mut().zip(sum) {
                    *c += *s;
                }
            } else {
                for (c, s) in c.iter_mut().zip(sum) {
                    *c = *s;
                }
            }
        }

        /// The `N` values of `data` from `start`, unchecked.
        ///
        /// # Safety
        ///
        /// `start + N <= data.len()`.
        #[inline(always)]
        unsafe fn read<T: Copy, const N: usize>(data: &[T], start: usize) -> [T; N] {
            debug_assert!(start + N <= data.len());
            // SAFETY: the caller guarantees that `data[start..start + N]`
            // exists; `[T; N]` has `T`'s alignment, which `data` has.
            unsafe { data.as_ptr().add(start).cast::<[T; N]>().read() }
        }

        /// The sum of the lanes of `v`, halving: `log2 L` vector additions.
        #[inline(always)]
        fn total<T: Scalar, const L: usize>(mut v: [T; L]) -> T {
            let mut width = L / 2;
            while width > 0 {
                for l in 0..width {
                    let right = v[l + width];
                    v[l] += right;
                }
                width /= 2;
            }
            v[0]
        }

        /// Taps and columns per register block of [`dots`] (15 sums and
        /// eight operands; five taps fit LeNet's 5 x 5 kernels exactly).
        const TK: usize = 5;
        const TN: usize = 3;

        /// [`super::shifted_dots`] in blocks of up to `TK` taps by `TN`
        /// columns, each sum a vector of `L` partial sums.
        #[inline(always)]
        pub(super) fn dots<T: Scalar, F: MultiplyAdd, const MR: usize, const L: usize>(
            (m, n): (usize, usize),
            src: &[T],
            offsets: &[usize],
            d: &[T],
            out: &mut [T],
        ) {
            let taps = offsets.len();
            assert!(
                m.is_multiple_of(L)
                    && offsets.iter().all(|&o| o + m <= src.len())
                    && d.len() >= m * n
                    && out.len() >= taps * n,
                "the shifted dot products' buffers are too short"
            );
            let mut k = 0;
            while k < taps {
                let tk = TK.min(taps - k);
                let mut j = 0;
                while j < n {
                    let tn = TN.min(n - j);
                    let at = (k, j, taps, m);
                    match (tk, tn) {
                        (5, 3) => dots_block::<T, F, L, 5, 3>(at, src, offsets, d, out),
                        (5, 2) => dots_block::<T, F, L, 5, 2>(at, src, offsets, d, out),
                        (5, _) => dots_block::<T, F, L, 5, 1>(at, src, offsets, d, out),
                        (4, 3) => dots_block::<T, F, L, 4, 3>(at, src, offsets, d, out),
                        (4, 2) => dots_block::<T, F, L, 4, 2>(at, src, offsets, d, out),
                        (4, _) => dots_block::<T, F, L, 4, 1>(at, src, offsets, d, out),
                        (3, 3) => dots_block::<T, F, L, 3, 3>(at, src, offsets, d, out),
                        (3, 2) => dots_block::<T, F, L, 3, 2>(at, src, offsets, d, out),
                        (3, _) => dots_block::<T, F, L, 3, 1>(at, src, offsets, d, out),
                        (2, 3) => dots_block::<T, F, L, 2, 3>(at, src, offsets, d, out),
                        (2, 2) => dots_block::<T, F, L, 2, 2>(at, src, offsets, d, out),
                        (2, _) => dots_block::<T, F, L, 2, 1>(at, src, offsets, d, out),
                        (_, 3) => dots_block::<T, F, L, 1, 3>(at, src, offsets, d, out),
                        (_, 2) => dots_block::<T, F, L, 1, 2>(at, src, offsets, d, out),
                        _ => dots_block::<T, F, L, 1, 1>(at, src, offsets, d, out),
                    }
                    j += tn;
                }
                k += tk;
            }
        }

        /// [`super::shifted_columns`] in blocks of `L` columns by up to 12
        /// taps.
        #[inline(always)]
        pub(super) fn columns<T: Scalar, F: MultiplyAdd, const MR: usize, const L: usize>(
            (m, lanes): (usize, usize),
            src: &[T],
            offsets: &[usize],
            rows: &[T],
            sums: &mut [T],
        ) {
            let taps = offsets.len();
            assert!(
                lanes.is_multiple_of(L)
                    && offsets.iter().all(|&o| o + m <= src.len())
                    && rows.len() >= m * lanes
                    && sums.len() >= taps * lanes,
                "the column sums' buffers are too short"
            );
            let mut j = 0;
            while j < lanes {
                let mut k = 0;
                while k < taps {
                    let at = (k, j, lanes, m);
                    k += match taps - k {
                        12.. => columns_block::<T, F, L, 12>(at, src, offsets, rows, sums),
                        8.. => columns_block::<T, F, L, 8>(at, src, offsets, rows, sums),
                        4.. => columns_block::<T, F, L, 4>(at, src, offsets, rows, sums),
                        2.. => columns_block::<T, F, L, 2>(at, src, offsets, rows, sums),
                        _ => columns_block::<T, F, L, 1>(at, src, offsets, rows, sums),
                    };
                }
                j += L;
            }
        }

        /// Taps `k..k + KB` of [`columns`], columns `j..j + L`: adds their
        /// sums into `sums` and returns `KB`.
        #[inline(always)]
        fn columns_block<T: Scalar, F: MultiplyAdd, const L: usize, const KB: usize>(
            (k, j, lanes, m): (usize, usize, usize, usize),
            src: &[T],
            offsets: &[usize],
            rows: &[T],
            sums: &mut [T],
        ) -> usize {
            let offsets: [usize; KB] = *offsets[k..].first_chunk().expect("KB taps");
            let mut acc = [[T::zero(); L]; KB];
            for q in 0..m {
                // SAFETY: `columns` checked that `rows` holds `m` rows of
                // `lanes` values and that `src` holds `offset + q` for
                // every `q < m`; `q < m` and `j + L <= lanes`.
                let dv = unsafe { read::<T, L>(rows, q * lanes + j) };
                for (acc, offset) in acc.iter_mut().zip(offsets) {
                    let [a] = unsafe { read::<T, 1>(src, offset + q) };
                    for (s, dv) in acc.iter_mut().zip(dv) {
                        *s = F::multiply_add(a, dv, *s);
                    }
                }
            }
            for (kk, acc) in acc.iter().enumerate() {
                let start = (k + kk) * lanes + j;
                let sums: &mut [T; L] = sums[start..]
                    .first_chunk_mut()
                    .expect("`columns` checked `sums`");
                store(sums, acc, true);
            }
            KB
        }

        #[inline(always)]
        fn dots_block<
            T: Scalar,
            F: MultiplyAdd,
            const L: usize,
            const KB: usize,
            const NB: usize,
        >(
            (k, j, taps, m): (usize, usize, usize, usize),
            src: &[T],
            offsets: &[usize],
            d: &[T],
            out: &mut [T],
        ) {
            let mut sums = [[[T::zero(); L]; NB]; KB];
            let offsets: [usize; KB] = *offsets[k..].first_chunk().expect("KB taps");
            let columns: [usize; NB] = core::array::from_fn(|jj| (j + jj) * m);
            let mut q = 0;
            while q < m {
                let mut dv = [[T::zero(); L]; NB];
                for (dv, column) in dv.iter_mut().zip(columns) {
                    // SAFETY: `dots` checked that `d` holds `n` columns of
                    // `m` values, `m` a multiple of `L`; `q < m` steps by
                    // `L` and `j + NB <= n`.
                    *dv = unsafe { read::<T, L>(d, column + q) };
                }
                for (sums, offset) in sums.iter_mut().zip(offsets) {
                    // SAFETY: `dots` checked that `src` holds `offset + q`
                    // for every `q < m`, and `q + L <= m`.
                    let a = unsafe { read::<T, L>(src, offset + q) };
                    for (sum, dv) in sums.iter_mut().zip(&dv) {
                        for ((s, a), dv) in sum.iter_mut().zip(a).zip(dv) {
                            *s = F::multiply_add(a, *dv, *s);
                        }
                    }
                }
                q += L;
            }
            let totals: [[T; NB]; KB] =
                core::array::from_fn(|kk| core::array::from_fn(|jj| total(sums[kk][jj])));
            for (kk, totals) in totals.iter().enumerate() {
                for (jj, t) in totals.iter().enumerate() {
                    out[(j + jj) * taps + k + kk] += *t;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec;
    use std::vec::Vec;

    use super::*;
    use crate::convolution::testing::{LENET_CONV1, LENET_CONV2, Passes, check};

    /// The grid passes, with scratch filled with NaN before each.
    struct OnGrid {
        scratch: Vec<f64>,
        offsets: Vec<usize>,
    }

    impl OnGrid {
        fn buffers(&mut self, shape: &Conv2dShape) -> (&mut [f64], &mut [usize]) {
            let needs = Grid::new(shape).needs();
            assert!(applies(shape, needs));
            self.scratch = vec![f64::NAN; needs];
            self.offsets = vec![usize::MAX; shape.weights() / shape.out_channels];
            (&mut self.scratch, &mut self.offsets)
        }
    }

    impl Passes for OnGrid {
        fn forward(&mut self, shape: &Conv2dShape, w: &[f64], b: &[f64], x: &[f64], z: &mut [f64]) {
            let (scratch, offsets) = self.buffers(shape);
            forward(shape, w, b, x, z, scratch, offsets);
        }
        fn backward_weights(
            &mut self,
            shape: &Conv2dShape,
            x: &[f64],
            delta: &[f64],
            grad_w: &mut [f64],
            grad_b: &mut [f64],
        ) {
            let (scratch, offsets) = self.buffers(shape);
            backward_weights(shape, x, delta, grad_w, grad_b, scratch, offsets);
        }
        fn backward_input(
            &mut self,
            shape: &Conv2dShape,
            w: &[f64],
            delta: &[f64],
            grad_x: &mut [f64],
        ) {
            let (scratch, offsets) = self.buffers(shape);
            backward_input(shape, w, delta, grad_x, scratch, offsets);
        }
    }

    /// The three passes against the direct loops: paddings, non-square
    /// kernels, 1-D, few and many output channels (both ways of summing the
    /// weight gradient), one sample and three.
    #[test]
    fn passes_match_the_direct_loops() {
        let square = |c, h, o, k, p| Conv2dShape {
            in_channels: c,
            in_height: h,
            in_width: h,
            out_channels: o,
            kernel: (k, k),
            stride: (1, 1),
            padding: (p, p),
        };
        #[cfg(not(miri))]
        let shapes = [
            LENET_CONV1,
            LENET_CONV2,
            square(3, 9, 20, 3, 1),
            Conv2dShape {
                in_channels: 2,
                in_height: 7,
                in_width: 6,
                out_channels: 3,
                kernel: (3, 2),
                stride: (1, 1),
                padding: (1, 2),
            },
            Conv2dShape::conv1d(3, 20, 4, 5, 1, 2),
            Conv2dShape::conv1d(6, 100, 17, 3, 1, 0),
        ];
        // Under Miri (which checks the unchecked reads), small shapes that
        // still take both ways of summing the weight gradient.
        #[cfg(miri)]
        let shapes = [
            square(2, 5, 3, 3, 1),
            Conv2dShape::conv1d(2, 12, 17, 3, 1, 1),
        ];
        // Miri has no CPU features to detect: every level is the generic
        // kernels there.
        let levels: &[u8] = if cfg!(miri) { &[0] } else { &[2, 1, 0] };
        for &widest in levels {
            kernels::WIDEST.store(widest, core::sync::atomic::Ordering::Relaxed);
            check(
                &shapes,
                &mut OnGrid {
                    scratch: Vec::new(),
                    offsets: Vec::new(),
                },
            );
        }
        kernels::WIDEST.store(2, core::sync::atomic::Ordering::Relaxed);
    }

    #[test]
    fn lenet_fits_its_im2col_scratch() {
        for shape in [LENET_CONV1, LENET_CONV2] {
            let im2col =
                shape.out_height() * shape.out_width() * shape.weights() / shape.out_channels;
            assert!(applies(&shape, im2col), "{shape:?}");
        }
    }

    #[test]
    fn strides_and_small_scratch_are_left_to_im2col() {
        let mut shape = Conv2dShape::conv1d(2, 10, 3, 3, 2, 0);
        assert!(!applies(&shape, 1 << 20));
        shape.stride = (1, 1);
        assert!(applies(&shape, 1 << 20));
        assert!(!applies(&shape, 10));
    }

    #[test]
    fn sums_in_lanes_are_sums() {
        let v: Vec<f64> = (0..37).map(f64::from).collect();
        assert_eq!(sum(&v), 666.0);
        assert_eq!(sum::<f64>(&[]), 0.0);
    }
}
