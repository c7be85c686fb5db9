//! The numeric kernels of a dense layer, in one place so that they can be
//! tuned without touching the generated code.
//!
//! Every product is `C = A B` or `C += A B` on statically sized, column-major
//! matrices:
//!
//! - tiny products (at most 64 multiply-adds, such as XOR's) are plain loops
//!   the compiler unrolls for the exact shape;
//! - the others go to a register-blocked kernel in safe Rust: a block of `MR`
//!   rows by `NR` columns of `C` is accumulated in local arrays the compiler
//!   keeps in vector registers, from a packed panel of `A`. Its dimensions
//!   are run-time values, so it is compiled once per scalar type, not once
//!   per layer shape, which keeps builds fast;
//! - with the `matrixmultiply` feature (off by default), large `f32` and `f64` products (every dimension
//!   at least 32, at least 2^18 multiply-adds) go to
//!   [`matrixmultiply`](https://docs.rs/matrixmultiply), which blocks for the
//!   caches and picks AVX/FMA kernels at run time. It allocates one packing
//!   buffer per product: the only allocation in a training step, and only
//!   with that feature and such large layers;
//! - targets without vector registers (a Cortex-M4) use the plain loops for
//!   every size: as fast there, and much smaller in flash.
//!
//! Shapes are checked by the types: nothing here can be called with operands
//! that do not fit.

use nalgebra::{ArrayStorage, SMatrix, SVector};

use crate::Scalar;

/// `z = W a_prev + b 1^T`: the affine map of every column (sample).
#[inline]
pub fn affine<T: Scalar, const OUT: usize, const IN: usize, const B: usize>(
    w: &SMatrix<T, OUT, IN>,
    b: &SVector<T, OUT>,
    a_prev: &SMatrix<T, IN, B>,
) -> SMatrix<T, OUT, B> {
    let mut z = SMatrix::from_data(ArrayStorage([b.data.0[0]; B]));
    gemm::<T, OUT, IN, B>(
        z.as_mut_slice(),
        View::column_major(w.as_slice(), OUT),
        View::column_major(a_prev.as_slice(), IN),
        Write::Add,
    );
    z
}

/// `W^T delta`.
#[inline]
pub fn transposed_mul<T: Scalar, const OUT: usize, const IN: usize, const B: usize>(
    w: &SMatrix<T, OUT, IN>,
    delta: &SMatrix<T, OUT, B>,
) -> SMatrix<T, IN, B> {
    let mut out = SMatrix::from_data(ArrayStorage([[T::zero(); IN]; B]));
    gemm::<T, IN, OUT, B>(
        out.as_mut_slice(),
        View::row_major(w.as_slice(), OUT),
        View::column_major(delta.as_slice(), OUT),
        Write::Overwrite,
    );
    out
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
    gemm::<T, OUT, B, IN>(
        grad_w.as_mut_slice(),
        View::column_major(delta.as_slice(), OUT),
        View::row_major(a_prev.as_slice(), IN),
        Write::Overwrite,
    );
}

/// `grad_b = delta 1`: the sum of `delta` over the samples.
#[inline]
pub fn row_sum_into<T: Scalar, const OUT: usize, const B: usize>(
    grad_b: &mut SVector<T, OUT>,
    delta: &SMatrix<T, OUT, B>,
) {
    grad_b.as_mut_slice().fill(T::zero());
    for column in delta.as_slice().chunks_exact(OUT.max(1)) {
        for (g, d) in grad_b.iter_mut().zip(column) {
            *g += *d;
        }
    }
}

/// A read-only matrix over a slice: element `(r, c)` is `data[r * rs + c * cs]`.
#[derive(Clone, Copy, Debug)]
struct View<'a, T> {
    data: &'a [T],
    rs: usize,
    cs: usize,
}

impl<'a, T> View<'a, T> {
    /// The matrix stored column by column, `rows` values per column.
    fn column_major(data: &'a [T], rows: usize) -> Self {
        View {
            data,
            rs: 1,
            cs: rows,
        }
    }

    /// The transpose of a column-major matrix with `rows` rows: its rows are
    /// the stored columns.
    fn row_major(data: &'a [T], rows: usize) -> Self {
        View {
            data,
            rs: rows,
            cs: 1,
        }
    }
}

/// Whether a product is added to `c` or replaces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Write {
    /// `c += a b`.
    Add,
    /// `c = a b`; the old values of `c` are never read.
    Overwrite,
}

/// `c (+)= a b` with `a` `M x K`, `b` `K x N` and `c` `M x N` column-major
/// and contiguous.
#[inline]
fn gemm<T: Scalar, const M: usize, const K: usize, const N: usize>(
    c: &mut [T],
    a: View<'_, T>,
    b: View<'_, T>,
    write: Write,
) {
    if M == 0 || N == 0 {
        return;
    }
    if K == 0 {
        if write == Write::Overwrite {
            c.fill(T::zero());
        }
        return;
    }
    #[cfg(feature = "matrixmultiply")]
    if large::<M, K, N>() && blas::gemm(M, K, N, a, b, c, write) {
        return;
    }
    #[cfg(any(
        target_feature = "sse2",
        target_feature = "neon",
        target_feature = "simd128"
    ))]
    if M * K * N > SMALL {
        blocked::gemm((M, K, N), c, a, b, write);
        return;
    }
    plain_gemm::<T, M, K, N>(c, a, b, write);
}

/// Products of at most this many multiply-adds take [`plain_gemm`], whose
/// loops the compiler unrolls completely for the shape at hand.
#[cfg(any(
    target_feature = "sse2",
    target_feature = "neon",
    target_feature = "simd128"
))]
const SMALL: usize = 64;

/// `c (+)= a b` as a plain loop, column by column of `c`: for tiny products,
/// and for targets with no vector registers (a Cortex-M4 has a scalar FPU),
/// where register blocking gains nothing and would cost flash.
#[inline]
fn plain_gemm<T: Scalar, const M: usize, const K: usize, const N: usize>(
    c: &mut [T],
    a: View<'_, T>,
    b: View<'_, T>,
    write: Write,
) {
    for (j, column) in c.chunks_exact_mut(M).enumerate() {
        if write == Write::Overwrite {
            column.fill(T::zero());
        }
        for k in 0..K {
            let b = b.data[k * b.rs + j * b.cs];
            for (i, c) in column.iter_mut().enumerate() {
                *c += a.data[i * a.rs + k * a.cs] * b;
            }
        }
    }
}

/// Whether a product is large enough for the packed GEMM to pay off.
#[cfg(feature = "matrixmultiply")]
const fn large<const M: usize, const K: usize, const N: usize>() -> bool {
    M >= 32 && K >= 32 && N >= 32 && M * K * N >= 256 * 1024
}

/// The register-blocked kernel, for targets with vector registers.
///
/// Its dimensions are run-time values, so that it is compiled once per
/// scalar type rather than once per layer shape: that keeps the build of a
/// network as fast as its shapes are many. Only the block sizes are constants.
#[cfg(any(
    test,
    target_feature = "sse2",
    target_feature = "neon",
    target_feature = "simd128"
))]
mod blocked {
    use core::array;

    use super::{View, Write};
    use crate::Scalar;

    /// Rows of `C` per register block: two AVX registers of `f32` or `f64`.
    const MR_F32: usize = 16;
    const MR_F64: usize = 8;
    /// Rows of the blocks that finish a panel.
    const MR_TAIL: usize = 8;
    /// Columns of `C` per register block.
    const NR: usize = 4;
    /// Columns of `A` per pass: a panel of `MR x KC` values stays in the L1
    /// cache while every column of `B` passes over it.
    const KC: usize = 64;

    /// `c (+)= a b` with `a` `m x k`, `b` `k x n` and `c` `m x n` column-major
    /// and contiguous; `m`, `k` and `n` are at least 1.
    pub(super) fn gemm<T: Scalar>(
        (m, k, n): (usize, usize, usize),
        c: &mut [T],
        a: View<'_, T>,
        b: View<'_, T>,
        write: Write,
    ) {
        if core::mem::size_of::<T>() <= 4 {
            row_panels::<T, MR_F32>((m, k, n), c, a, b, write);
        } else {
            row_panels::<T, MR_F64>((m, k, n), c, a, b, write);
        }
    }

    /// Panels of `MR` rows, then of `MR_TAIL` rows, then one of at most 4.
    fn row_panels<T: Scalar, const MR: usize>(
        dims: (usize, usize, usize),
        c: &mut [T],
        a: View<'_, T>,
        b: View<'_, T>,
        write: Write,
    ) {
        let m = dims.0;
        let mut i = 0;
        if MR <= m {
            let mut panels = Panels::<T, MR>::new();
            while i + MR <= m {
                panels.row_panel(dims, c, a, b, (i, MR), write);
                i += MR;
            }
        }
        if m - i > 4 {
            let mut panels = Panels::<T, MR_TAIL>::new();
            while m - i > 4 {
                let rows = MR_TAIL.min(m - i);
                panels.row_panel(dims, c, a, b, (i, rows), write);
                i += rows;
            }
        }
        if i < m {
            Panels::<T, 4>::new().row_panel(dims, c, a, b, (i, m - i), write);
        }
    }

    /// A packed copy of `MR` rows of `A`, `KC` deep, so that the inner loop
    /// reads it as one contiguous array.
    struct Panels<T, const MR: usize> {
        a: [[T; MR]; KC],
    }

    impl<T: Scalar, const MR: usize> Panels<T, MR> {
        fn new() -> Self {
            Panels {
                a: [[T::zero(); MR]; KC],
            }
        }

        /// Rows `i..i + rows` of `c (+)= a b`, computed `MR` at a time
        /// (`rows <= MR`; the rows past `rows` are never stored), `KC`
        /// columns of `a` at a time.
        fn row_panel(
            &mut self,
            (m, k, n): (usize, usize, usize),
            c: &mut [T],
            a: View<'_, T>,
            b: View<'_, T>,
            (i, rows): (usize, usize),
            write: Write,
        ) {
            let mut k0 = 0;
            while k0 < k {
                let depth = KC.min(k - k0);
                // Only the first pass may overwrite; the others add to it.
                let write = if k0 == 0 { write } else { Write::Add };
                for (kk, column) in self.a[..depth].iter_mut().enumerate() {
                    let start = i * a.rs + (k0 + kk) * a.cs;
                    if a.rs == 1 {
                        column[..rows].copy_from_slice(&a.data[start..start + rows]);
                    } else {
                        for (r, v) in column[..rows].iter_mut().enumerate() {
                            *v = a.data[start + r * a.rs];
                        }
                    }
                }
                let a_panel = &self.a[..depth];
                let mut j = 0;
                if b.rs == 1 {
                    // The columns of `B` are contiguous: read them in place.
                    let column = |j: usize| &b.data[k0 + j * b.cs..][..depth];
                    while j + NR <= n {
                        let columns: [&[T]; NR] = array::from_fn(|jj| column(j + jj));
                        block(m, c, (i, j), rows, write, a_panel, Columns(columns));
                        j += NR;
                    }
                    while j < n {
                        block(m, c, (i, j), rows, write, a_panel, Columns([column(j)]));
                        j += 1;
                    }
                } else {
                    let mut rows_of_b = [[T::zero(); NR]; KC];
                    let rows_of_b = &mut rows_of_b[..depth];
                    while j + NR <= n {
                        pack_b(rows_of_b, b, k0, j);
                        block(m, c, (i, j), rows, write, a_panel, Rows(rows_of_b));
                        j += NR;
                    }
                    let mut rows_of_b = [[T::zero(); 1]; KC];
                    let rows_of_b = &mut rows_of_b[..depth];
                    while j < n {
                        pack_b(rows_of_b, b, k0, j);
                        block(m, c, (i, j), rows, write, a_panel, Rows(rows_of_b));
                        j += 1;
                    }
                }
                k0 += depth;
            }
        }
    }

    /// Copies rows `k0..` of columns `j..j + NR` of `b` into `panel`.
    fn pack_b<T: Scalar, const NR: usize>(
        panel: &mut [[T; NR]],
        b: View<'_, T>,
        k0: usize,
        j: usize,
    ) {
        for (kk, row) in panel.iter_mut().enumerate() {
            let start = (k0 + kk) * b.rs + j * b.cs;
            if b.cs == 1 {
                row.copy_from_slice(&b.data[start..start + NR]);
            } else {
                for (jj, v) in row.iter_mut().enumerate() {
                    *v = b.data[start + jj * b.cs];
                }
            }
        }
    }

    /// `NR` columns of `B` over the depths of a block.
    trait BlockOfB<T, const NR: usize> {
        /// Row `kk` of the block; `kk` is less than `depth`, the length of
        /// the block's packed panel of `A`.
        fn row(&self, kk: usize) -> [T; NR];
        /// The same block, cut to `depth` rows.
        fn cut(self, depth: usize) -> Self;
    }

    /// Packed rows of `B`.
    struct Rows<'a, T, const NR: usize>(&'a [[T; NR]]);

    impl<T: Scalar, const NR: usize> BlockOfB<T, NR> for Rows<'_, T, NR> {
        #[inline(always)]
        fn row(&self, kk: usize) -> [T; NR] {
            self.0[kk]
        }
        #[inline(always)]
        fn cut(self, depth: usize) -> Self {
            Rows(&self.0[..depth])
        }
    }

    /// Contiguous columns of `B`, read in place.
    struct Columns<'a, T, const NR: usize>([&'a [T]; NR]);

    impl<T: Scalar, const NR: usize> BlockOfB<T, NR> for Columns<'_, T, NR> {
        #[inline(always)]
        fn row(&self, kk: usize) -> [T; NR] {
            array::from_fn(|jj| self.0[jj][kk])
        }
        #[inline(always)]
        fn cut(self, depth: usize) -> Self {
            // Every column as long as the panel of `A`: the loop in `block`
            // then needs no bounds checks.
            Columns(self.0.map(|column| &column[..depth]))
        }
    }

    /// The `MR x NR` block of `c` at `(i, j)` (of which `rows` rows are
    /// real): `c (+)= a b` over the packed depths, the sums kept in
    /// registers.
    #[inline(always)]
    fn block<T: Scalar, const MR: usize, const NR: usize>(
        m: usize,
        c: &mut [T],
        (i, j): (usize, usize),
        rows: usize,
        write: Write,
        a: &[[T; MR]],
        b: impl BlockOfB<T, NR>,
    ) {
        let b = b.cut(a.len());
        let mut sums = [[T::zero(); MR]; NR];
        for (kk, a) in a.iter().enumerate() {
            for (sum, b) in sums.iter_mut().zip(b.row(kk)) {
                for (s, a) in sum.iter_mut().zip(a) {
                    *s += *a * b;
                }
            }
        }
        for (jj, sum) in sums.iter().enumerate() {
            let column = &mut c[(j + jj) * m + i..][..rows];
            match write {
                Write::Add => {
                    for (c, s) in column.iter_mut().zip(sum) {
                        *c += *s;
                    }
                }
                Write::Overwrite => column.copy_from_slice(&sum[..rows]),
            }
        }
    }
}

/// Large products through matrixmultiply.
#[cfg(feature = "matrixmultiply")]
mod blas {
    use core::any::TypeId;

    use super::{View, Write};
    use crate::Scalar;

    /// The largest index a `rows x cols` view with strides `(rs, cs)` reads.
    fn last_index<T>(view: View<'_, T>, rows: usize, cols: usize) -> usize {
        (rows - 1) * view.rs + (cols - 1) * view.cs
    }

    /// `c (+)= a b` for `f32` or `f64`, with `a` `m x k`, `b` `k x n` and
    /// `c` `m x n` column-major and contiguous. Returns `false`, touching
    /// nothing, for any other scalar type.
    pub(super) fn gemm<T: Scalar>(
        m: usize,
        k: usize,
        n: usize,
        a: View<'_, T>,
        b: View<'_, T>,
        c: &mut [T],
        write: Write,
    ) -> bool {
        // matrixmultiply never reads `c` when `beta` is zero.
        let beta = match write {
            Write::Add => 1.0,
            Write::Overwrite => 0.0,
        };
        assert!(m > 0 && k > 0 && n > 0);
        assert!(last_index(a, m, k) < a.data.len());
        assert!(last_index(b, k, n) < b.data.len());
        assert!(c.len() == m * n);
        let strides = |v: View<'_, T>| (v.rs as isize, v.cs as isize);
        let ((rsa, csa), (rsb, csb)) = (strides(a), strides(b));
        if TypeId::of::<T>() == TypeId::of::<f32>() {
            // SAFETY: `T` is `f32`, so the casts keep the element type. The
            // asserts above show that every index matrixmultiply forms for
            // `a` (`r * rsa + c * csa`, r < m, c < k) and `b` lies inside
            // their slices, and that `c` holds exactly `m x n` values at
            // strides (1, m). `c` is borrowed mutably, so it aliases neither
            // `a` nor `b`.
            unsafe {
                matrixmultiply::sgemm(
                    m,
                    k,
                    n,
                    1.0,
                    a.data.as_ptr().cast::<f32>(),
                    rsa,
                    csa,
                    b.data.as_ptr().cast::<f32>(),
                    rsb,
                    csb,
                    beta as f32,
                    c.as_mut_ptr().cast::<f32>(),
                    1,
                    m as isize,
                );
            }
            true
        } else if TypeId::of::<T>() == TypeId::of::<f64>() {
            // SAFETY: as for `f32`, with `T` being `f64`.
            unsafe {
                matrixmultiply::dgemm(
                    m,
                    k,
                    n,
                    1.0,
                    a.data.as_ptr().cast::<f64>(),
                    rsa,
                    csa,
                    b.data.as_ptr().cast::<f64>(),
                    rsb,
                    csb,
                    beta,
                    c.as_mut_ptr().cast::<f64>(),
                    1,
                    m as isize,
                );
            }
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use core::array;

    use super::*;

    /// A deterministic, irregular test matrix.
    fn matrix<T: Scalar, const R: usize, const C: usize>(seed: usize) -> SMatrix<T, R, C> {
        SMatrix::from_fn(|r, c| {
            let v = (r * 31 + c * 17 + seed * 7) % 23;
            T::constant(v as f64 / 8.0 - 1.25)
        })
    }

    fn assert_close<T: Scalar, const R: usize, const C: usize>(
        got: &SMatrix<T, R, C>,
        want: &SMatrix<T, R, C>,
    ) {
        for (g, w) in got.iter().zip(want.iter()) {
            let tolerance = T::constant(1e-4) * (T::one() + w.abs());
            assert!((*g - *w).abs() <= tolerance, "{g} != {w}");
        }
    }

    /// Every kernel against nalgebra's plain products, for one shape.
    fn check<T: Scalar, const OUT: usize, const IN: usize, const B: usize>() {
        let w = matrix::<T, OUT, IN>(1);
        let b = matrix::<T, OUT, 1>(2);
        let x = matrix::<T, IN, B>(3);
        let delta = matrix::<T, OUT, B>(4);

        let mut z = w * x;
        for mut column in z.column_iter_mut() {
            column += b;
        }
        assert_close(&affine(&w, &b, &x), &z);
        assert_close(&transposed_mul(&w, &delta), &(w.transpose() * delta));

        // The old gradient is overwritten, never read: not even a NaN survives.
        let mut grad_w = SMatrix::<T, OUT, IN>::repeat(T::constant(f64::NAN));
        outer_product_into(&mut grad_w, &delta, &x);
        assert_close(&grad_w, &(delta * x.transpose()));

        let mut grad_b = SMatrix::<T, OUT, 1>::repeat(T::constant(f64::NAN));
        row_sum_into(&mut grad_b, &delta);
        assert_close(&grad_b, &(delta * SMatrix::<T, B, 1>::repeat(T::one())));
    }

    #[test]
    fn small_shapes_match_nalgebra() {
        check::<f32, 1, 1, 1>();
        check::<f32, 4, 2, 1>();
        check::<f32, 1, 4, 1>();
        check::<f64, 3, 5, 7>();
        check::<f32, 21, 13, 9>();
        check::<f64, 13, 21, 6>();
        check::<f32, 10, 32, 32>();
    }

    #[test]
    fn empty_batches_are_fine() {
        check::<f32, 3, 2, 0>();
    }

    /// Large enough for matrixmultiply with `std`, and for the panels of
    /// `transposed_mul` to wrap past `KC`.
    #[test]
    #[cfg_attr(
        miri,
        ignore = "slow under Miri; `gemm_layouts_match_a_plain_loop` covers the same code"
    )]
    fn large_shapes_match_nalgebra() {
        check::<f32, 33, 130, 64>();
        check::<f64, 64, 33, 130>();
    }

    /// `c (+)= a b` by the definition, for any layout.
    fn naive<T: Scalar>(
        (m, k, n): (usize, usize, usize),
        a: View<'_, T>,
        b: View<'_, T>,
        c: &mut [T],
        write: Write,
    ) {
        for i in 0..m {
            for j in 0..n {
                let mut sum = T::zero();
                for p in 0..k {
                    sum += a.data[i * a.rs + p * a.cs] * b.data[p * b.rs + j * b.cs];
                }
                let c = &mut c[i + j * m];
                *c = if write == Write::Add { *c + sum } else { sum };
            }
        }
    }

    /// Every operand layout (columns contiguous, rows contiguous, neither)
    /// and both ways of writing, through the register kernel, the plain loop
    /// of targets without vector registers and, with
    /// `std`, through matrixmultiply, against the definition. Small, so that
    /// it runs under Miri, which checks the `unsafe` call into matrixmultiply:
    /// `cargo +nightly miri test -p network-core --features matrixmultiply --lib kernels`.
    fn layouts<T: Scalar>() {
        const M: usize = 19;
        const K: usize = 6;
        const N: usize = 7;
        let values: [T; 4 * M * K + 4 * K * N] =
            array::from_fn(|v| T::constant(((v * 37) % 29) as f64 / 7.0 - 2.0));
        let (a_data, b_data) = values.split_at(4 * M * K);
        let a_views = [
            View::column_major(a_data, M),
            View::row_major(a_data, K),
            View {
                data: a_data,
                rs: 2 * K + 1,
                cs: 2,
            },
        ];
        let b_views = [
            View::column_major(b_data, K),
            View::row_major(b_data, N),
            View {
                data: b_data,
                rs: 3,
                cs: 3 * K + 2,
            },
        ];
        for a in a_views {
            for b in b_views {
                for write in [Write::Add, Write::Overwrite] {
                    let start: [T; M * N] = array::from_fn(|v| T::constant(v as f64 / 3.0));
                    let mut want = start;
                    naive((M, K, N), a, b, &mut want, write);
                    let mut got = start;
                    blocked::gemm((M, K, N), &mut got, a, b, write);
                    let close = |x: &T, y: &T| (*x - *y).abs() <= T::constant(1e-4);
                    assert!(got.iter().zip(&want).all(|(x, y)| close(x, y)));
                    let mut got = start;
                    plain_gemm::<T, M, K, N>(&mut got, a, b, write);
                    assert!(got.iter().zip(&want).all(|(x, y)| close(x, y)));
                    #[cfg(feature = "matrixmultiply")]
                    {
                        let mut got = start;
                        assert!(blas::gemm(M, K, N, a, b, &mut got, write));
                        assert!(got.iter().zip(&want).all(|(x, y)| close(x, y)));
                    }
                }
            }
        }
    }

    #[test]
    fn gemm_layouts_match_a_plain_loop() {
        layouts::<f32>();
        layouts::<f64>();
    }
}
