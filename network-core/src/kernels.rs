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

// For the convolution kernels of `grid`.
#[cfg(all(vector_registers, any(fma_compiled_in, fma_detectable)))]
pub(crate) use blocked::Fused;
#[cfg(vector_registers)]
pub(crate) use blocked::MultiplyAdd;
#[cfg(all(vector_registers, not(fma_compiled_in)))]
pub(crate) use blocked::Unfused;

/// A matrix of zeros from an array expression, which the compiler writes
/// in place: with nalgebra's `zeros`, the generated `Cache::zeroed` of the
/// Cortex-M4's calibration network built the whole cache (4,352 bytes) in
/// its own frame and then copied it out.
#[inline(always)]
pub fn zeros<T: Scalar, const R: usize, const C: usize>() -> SMatrix<T, R, C> {
    SMatrix::from_array_storage(ArrayStorage([[T::zero(); R]; C]))
}

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

/// [`affine`], written into `z` (whatever it held): no matrix is returned.
#[inline]
pub fn affine_into<T: Scalar, const OUT: usize, const IN: usize, const B: usize>(
    w: &SMatrix<T, OUT, IN>,
    b: &SVector<T, OUT>,
    a_prev: &SMatrix<T, IN, B>,
    z: &mut SMatrix<T, OUT, B>,
) {
    for column in z.as_mut_slice().chunks_exact_mut(OUT) {
        column.copy_from_slice(b.as_slice());
    }
    gemm::<T, OUT, IN, B>(
        z.as_mut_slice(),
        View::column_major(w.as_slice(), OUT),
        View::column_major(a_prev.as_slice(), IN),
        Write::Add,
    );
}

/// `W^T delta`.
#[inline]
pub fn transposed_mul<T: Scalar, const OUT: usize, const IN: usize, const B: usize>(
    w: &SMatrix<T, OUT, IN>,
    delta: &SMatrix<T, OUT, B>,
) -> SMatrix<T, IN, B> {
    let mut out = SMatrix::from_data(ArrayStorage([[T::zero(); IN]; B]));
    transposed_mul_into(w, delta, &mut out);
    out
}

/// `out = W^T delta`, overwriting `out` (whose old values are never read).
#[inline]
pub fn transposed_mul_into<T: Scalar, const OUT: usize, const IN: usize, const B: usize>(
    w: &SMatrix<T, OUT, IN>,
    delta: &SMatrix<T, OUT, B>,
    out: &mut SMatrix<T, IN, B>,
) {
    gemm::<T, IN, OUT, B>(
        out.as_mut_slice(),
        View::row_major(w.as_slice(), OUT),
        View::column_major(delta.as_slice(), OUT),
        Write::Overwrite,
    );
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
    // Row by row over the storage: as fast as column-wise slices on x86
    // (nalgebra's element iterator was 10% of a 64-32-10 step), and it keeps
    // the stack of the Cortex-M4 demo 2 KB smaller than those did.
    let (grad_b, delta) = (grad_b.as_mut_slice(), delta.as_slice());
    for (i, g) in grad_b.iter_mut().enumerate() {
        *g = T::zero();
        for j in 0..B {
            *g += delta[j * OUT + i];
        }
    }
}

/// `x ∘= y`, value by value: the last step of a backward pass that turns
/// `dC/da` (in `x`) into `dC/dz` with `f'(z)` (in `y`).
#[inline]
pub fn hadamard_in_place<T: Scalar, const R: usize, const C: usize>(
    x: &mut SMatrix<T, R, C>,
    y: &SMatrix<T, R, C>,
) {
    for (x, &y) in x.as_mut_slice().iter_mut().zip(y.as_slice()) {
        *x *= y;
    }
}

/// `out = x ∘ y`, value by value, overwriting `out`: `dC/dz` from `dC/da`
/// (in `x`) and `f'(z)` (in `y`) where `dC/da` needed a matrix of its own.
#[inline]
pub fn hadamard_into<T: Scalar, const R: usize, const C: usize>(
    out: &mut SMatrix<T, R, C>,
    x: &SMatrix<T, R, C>,
    y: &SMatrix<T, R, C>,
) {
    for ((out, &x), &y) in out
        .as_mut_slice()
        .iter_mut()
        .zip(x.as_slice())
        .zip(y.as_slice())
    {
        *out = x * y;
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
    if large::<M, K, N>() && !own_kernel_is_faster() && blas::gemm(M, K, N, a, b, c, write) {
        return;
    }
    #[cfg(vector_registers)]
    if M * K * N > SMALL {
        let (a, b) = ((a.data, a.rs, a.cs), (b.data, b.rs, b.cs));
        T::blocked_gemm((M, K, N), c, a, b, write == Write::Add);
        return;
    }
    plain_gemm::<T, M, K, N>(c, a, b, write);
}

/// Products of at most this many multiply-adds take [`plain_gemm`], whose
/// loops the compiler unrolls completely for the shape at hand.
#[cfg(vector_registers)]
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

/// Whether this crate's own kernel beats matrixmultiply on large products
/// too: where it runs in AVX-512's width. matrixmultiply packs both
/// operands on every call, where ours reads full panels of `a` in place;
/// for workload C-inf (784-128-10, batch 64) that was a third of
/// matrixmultiply's time, and ours took 0.36 to 0.46 s for 5,000 passes
/// against its 0.50 to 0.58 s (AMD EPYC Zen 5, back to back; workload C
/// 0.29 to 0.35 s against 0.33 to 0.42 s for 2,000 steps).
#[cfg(feature = "matrixmultiply")]
fn own_kernel_is_faster() -> bool {
    matches!(
        gemm_kernel(),
        GemmKernel::Avx512CompiledIn | GemmKernel::Avx512Detected
    )
}

/// Whether a product is large enough for the packed GEMM to pay off.
#[cfg(feature = "matrixmultiply")]
const fn large<const M: usize, const K: usize, const N: usize>() -> bool {
    M >= 32 && K >= 32 && N >= 32 && M * K * N >= 256 * 1024
}

/// The instructions the matrix products run on, on this machine: what
/// [`gemm_kernel`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GemmKernel {
    /// Plain loops for every product: targets without vector registers,
    /// such as a Cortex-M4, where register blocking would only cost flash.
    Plain,
    /// The register-blocked kernel with a multiplication and an addition:
    /// the target has no fused multiply-add compiled in, and either the CPU
    /// lacks AVX2 and FMA or the build has no `std` to ask it.
    Unfused,
    /// The register-blocked kernel with the fused multiply-add instruction,
    /// compiled in by the build's target (`-C target-cpu=native` on a CPU
    /// with FMA, or aarch64 with `std`).
    FusedCompiledIn,
    /// The register-blocked kernel compiled for AVX2 and FMA, chosen at run
    /// time because this CPU has them although the build's target does not
    /// (x86 with the `std` feature: a default build).
    FusedDetected,
    /// As [`FusedCompiledIn`](GemmKernel::FusedCompiledIn), with AVX-512F
    /// compiled in as well: blocks of 32 `f32` (16 `f64`) rows, two of its
    /// registers.
    Avx512CompiledIn,
    /// As [`FusedDetected`](GemmKernel::FusedDetected), with AVX-512's
    /// blocks: this CPU reports AVX-512F too.
    Avx512Detected,
}

/// Which instructions the register-blocked matrix kernel uses here.
///
/// Products of at most 64 multiply-adds always use plain loops, which the
/// compiler unrolls; with the `matrixmultiply` feature the largest go to
/// that crate, which picks its own kernels, unless this kernel runs in
/// AVX-512's width (where it is faster). Neither is reported here.
pub fn gemm_kernel() -> GemmKernel {
    if !cfg!(vector_registers) {
        return GemmKernel::Plain;
    }
    if cfg!(fma_compiled_in) {
        if cfg!(target_feature = "avx512f") {
            return GemmKernel::Avx512CompiledIn;
        }
        return GemmKernel::FusedCompiledIn;
    }
    #[cfg(fma_detectable)]
    if avx512_detected() {
        return GemmKernel::Avx512Detected;
    }
    #[cfg(fma_detectable)]
    if fma_detected() {
        return GemmKernel::FusedDetected;
    }
    GemmKernel::Unfused
}

/// Whether this CPU has AVX2 and FMA (the answer is cached by `std` after
/// the first call).
#[cfg(fma_detectable)]
#[inline]
pub(crate) fn fma_detected() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

/// Whether this CPU has AVX-512F as well as AVX2 and FMA.
#[cfg(fma_detectable)]
#[inline]
pub(crate) fn avx512_detected() -> bool {
    std::is_x86_feature_detected!("avx512f") && fma_detected()
}

/// `c (+)= a b` by the register-blocked kernel, with `a` and `b` given as
/// `(data, row stride, column stride)`: what [`Scalar::blocked_gemm`] runs.
#[doc(hidden)]
pub fn blocked_gemm<T: Scalar>(
    dims: (usize, usize, usize),
    c: &mut [T],
    (a, a_rs, a_cs): (&[T], usize, usize),
    (b, b_rs, b_cs): (&[T], usize, usize),
    add: bool,
) {
    let a = View {
        data: a,
        rs: a_rs,
        cs: a_cs,
    };
    let b = View {
        data: b,
        rs: b_rs,
        cs: b_cs,
    };
    let write = if add { Write::Add } else { Write::Overwrite };
    if dims.0 > 0 && dims.1 > 0 && dims.2 > 0 {
        blocked::gemm(dims, c, a, b, write);
    }
}

/// The register-blocked kernel, used on targets with vector registers.
///
/// Its dimensions are run-time values, so that it is compiled once per
/// scalar type rather than once per layer shape, and that once is in this
/// crate (see [`Scalar::blocked_gemm`]): rebuilding a crate that declares a
/// network does not optimise it again. Only the block sizes are constants.
mod blocked {
    #[cfg(target_arch = "x86_64")]
    use core::any::TypeId;
    use core::array;

    use super::{View, Write};
    use crate::Scalar;

    /// Rows of `C` per register block: two AVX registers of `f32` or `f64`.
    const MR_F32: usize = 16;
    const MR_F64: usize = 8;
    /// The same with AVX-512's registers, twice as wide: measured on a Zen 5
    /// core, the 64-32-10 training step of the benchmarks took 22% less
    /// time with these blocks than with AVX's.
    const WIDE_MR_F32: usize = 32;
    const WIDE_MR_F64: usize = 16;
    /// Columns of `C` per register block.
    const NR: usize = 4;
    /// The same for [`Pass::block_avx512`].
    #[cfg(target_arch = "x86_64")]
    const AVX512_NR: usize = 8;
    /// Columns of `A` per pass: a panel of `MR x KC` values stays in the L1
    /// cache while every column of `B` passes over it.
    const KC: usize = 64;

    /// `c (+)= a b` with `a` `m x k`, `b` `k x n` and `c` `m x n` column-major
    /// and contiguous; `m`, `k` and `n` are at least 1.
    ///
    /// The fused multiply-add instruction is used where it is compiled in
    /// and, with `std` on x86, where the CPU reports AVX2 and FMA at run
    /// time; elsewhere a multiplication and an addition. Never a call to a
    /// software `fma`, which is about 30 times slower than either.
    pub(super) fn gemm<T: Scalar>(
        dims: (usize, usize, usize),
        c: &mut [T],
        a: View<'_, T>,
        b: View<'_, T>,
        write: Write,
    ) {
        #[cfg(fma_compiled_in)]
        sized::<T, Fused, { cfg!(target_feature = "avx512f") }, { cfg!(target_feature = "avx512f") }>(
            dims, c, a, b, write,
        );
        #[cfg(not(fma_compiled_in))]
        {
            #[cfg(fma_detectable)]
            if super::avx512_detected() {
                // SAFETY: `avx512_fma` only needs the CPU to have AVX-512F,
                // AVX2 and FMA, which `avx512_detected` has just asked it.
                unsafe { avx512_fma::<T>(dims, c, a, b, write) };
                return;
            }
            #[cfg(fma_detectable)]
            if super::fma_detected() {
                // SAFETY: `avx2_fma` only needs the CPU to have AVX2 and
                // FMA, which `fma_detected` has just asked the CPU.
                unsafe { avx2_fma::<T>(dims, c, a, b, write) };
                return;
            }
            sized::<T, Unfused, false, false>(dims, c, a, b, write);
        }
    }

    /// [`sized`] with fused multiply-adds, compiled for AVX2 and FMA
    /// whatever the build's target: [`sized`] and everything it calls are
    /// inlined here, so they are all compiled with those instructions.
    #[cfg(all(fma_detectable, not(fma_compiled_in)))]
    #[target_feature(enable = "avx2,fma")]
    fn avx2_fma<T: Scalar>(
        dims: (usize, usize, usize),
        c: &mut [T],
        a: View<'_, T>,
        b: View<'_, T>,
        write: Write,
    ) {
        sized::<T, Fused, false, false>(dims, c, a, b, write);
    }

    /// [`sized`] with fused multiply-adds and AVX-512's blocks, compiled for
    /// AVX-512F, AVX2 and FMA whatever the build's target.
    #[cfg(all(fma_detectable, not(fma_compiled_in)))]
    #[target_feature(enable = "avx512f,avx2,fma")]
    fn avx512_fma<T: Scalar>(
        dims: (usize, usize, usize),
        c: &mut [T],
        a: View<'_, T>,
        b: View<'_, T>,
        write: Write,
    ) {
        sized::<T, Fused, true, true>(dims, c, a, b, write);
    }

    /// The block height for `T`: two vector registers of its lanes, AVX-512's
    /// if `WIDE`, else AVX's. `AVX512` says that AVX-512F is compiled in or
    /// that this is inlined into [`avx512_fma`], so that AVX-512's
    /// intrinsics may run; the tests run AVX-512's blocks without it, in
    /// plain Rust, on any CPU.
    #[inline(always)]
    pub(super) fn sized<T: Scalar, F: MultiplyAdd, const WIDE: bool, const AVX512: bool>(
        dims: (usize, usize, usize),
        c: &mut [T],
        a: View<'_, T>,
        b: View<'_, T>,
        write: Write,
    ) {
        let all = 0..dims.0;
        match (core::mem::size_of::<T>() <= 4, WIDE) {
            (true, false) => row_panels::<T, F, MR_F32, false>(dims, all, c, a, b, write),
            (false, false) => row_panels::<T, F, MR_F64, false>(dims, all, c, a, b, write),
            (true, true) => {
                wide_then_narrow::<T, F, WIDE_MR_F32, MR_F32, AVX512>(dims, c, a, b, write)
            }
            (false, true) => {
                wide_then_narrow::<T, F, WIDE_MR_F64, MR_F64, AVX512>(dims, c, a, b, write)
            }
        }
    }

    /// The rows of `c` in panels of `WIDE` rows as far as they go, the rest
    /// in panels of `NARROW`: a wide panel with few rows would multiply
    /// mostly padding (an output layer of 10 units, a convolution of 6
    /// channels).
    #[inline(always)]
    fn wide_then_narrow<
        T: Scalar,
        F: MultiplyAdd,
        const WIDE: usize,
        const NARROW: usize,
        const AVX512: bool,
    >(
        dims: (usize, usize, usize),
        c: &mut [T],
        a: View<'_, T>,
        b: View<'_, T>,
        write: Write,
    ) {
        let split = dims.0 / WIDE * WIDE;
        row_panels::<T, F, WIDE, AVX512>(dims, 0..split, c, a, b, write);
        row_panels::<T, F, NARROW, AVX512>(dims, split..dims.0, c, a, b, write);
    }

    /// Panels of `MR` rows of `c` (those in `range`), `KC` columns of `a` at
    /// a time. Full panels
    /// of a column-major `a` are read in place; the others (a transposed `a`,
    /// the last rows) are first packed into a contiguous copy.
    ///
    /// Always inlined, with everything below it, so that [`avx2_fma`]
    /// compiles the whole kernel for its instructions.
    #[inline(always)]
    ///
    /// `AVX512` says that AVX-512F is compiled in, or that this is inlined
    /// into [`avx512_fma`].
    fn row_panels<T: Scalar, F: MultiplyAdd, const MR: usize, const AVX512: bool>(
        (m, k, n): (usize, usize, usize),
        range: core::ops::Range<usize>,
        c: &mut [T],
        a: View<'_, T>,
        b: View<'_, T>,
        write: Write,
    ) {
        // Zeroed only if some panel needs packing.
        let mut packed: Option<[[T; MR]; KC]> = None;
        let mut i = range.start;
        while i < range.end {
            let rows = MR.min(range.end - i);
            let mut k0 = 0;
            while k0 < k {
                let depth = KC.min(k - k0);
                let pass = Pass {
                    m,
                    i,
                    rows,
                    k0,
                    depth,
                    // Only the first pass may overwrite; the others add to it.
                    write: if k0 == 0 { write } else { Write::Add },
                };
                if a.rs == 1 && rows == MR {
                    let a = Checked::new(a, (i, k0), (MR, depth));
                    pass.columns::<T, F, MR, AVX512>(c, InPlace::new(a), b, n);
                } else {
                    let panel = packed.get_or_insert_with(|| [[T::zero(); MR]; KC]);
                    let panel = &mut panel[..depth];
                    for (kk, column) in panel.iter_mut().enumerate() {
                        let start = i * a.rs + (k0 + kk) * a.cs;
                        if a.rs == 1 {
                            // An element-wise loop the compiler vectorises:
                            // `copy_from_slice` would call `memcpy` for a few
                            // values.
                            let source = &a.data[start..start + rows];
                            for (v, x) in column[..rows].iter_mut().zip(source) {
                                *v = *x;
                            }
                        } else {
                            for (r, v) in column[..rows].iter_mut().enumerate() {
                                *v = a.data[start + r * a.rs];
                            }
                        }
                    }
                    pass.columns::<T, F, MR, AVX512>(c, Packed(panel), b, n);
                }
                k0 += depth;
            }
            i += rows;
        }
    }

    /// A block of a matrix whose extent in its slice was checked once, so
    /// that the inner loop reads it without a bounds check per element:
    /// element `(r, c)` of the block is `data[r * rs + c * cs]`.
    #[derive(Clone, Copy)]
    struct Checked<'a, T> {
        data: &'a [T],
        rs: usize,
        cs: usize,
        rows: usize,
        cols: usize,
    }

    impl<'a, T: Scalar> Checked<'a, T> {
        /// The `rows x cols` block of `view` at `(i, j)`; `rows` and `cols`
        /// are at least 1. Panics (a bug, never bad input: the shapes are
        /// checked by the types) if the block does not fit in the slice.
        #[inline(always)]
        fn new(view: View<'a, T>, (i, j): (usize, usize), (rows, cols): (usize, usize)) -> Self {
            let first = i * view.rs + j * view.cs;
            let last = first + (rows - 1) * view.rs + (cols - 1) * view.cs;
            Checked {
                data: &view.data[first..=last],
                rs: view.rs,
                cs: view.cs,
                rows,
                cols,
            }
        }

        /// Element `(r, c)` of the block.
        ///
        /// # Safety
        /// `r < self.rows` and `c < self.cols`.
        #[inline(always)]
        unsafe fn get(&self, r: usize, c: usize) -> T {
            debug_assert!(r < self.rows && c < self.cols);
            // SAFETY: with `r < rows` and `c < cols` (the caller's promise),
            // `r * rs + c * cs <= (rows - 1) * rs + (cols - 1) * cs`, which
            // is `data.len() - 1` by the slicing in `new`.
            unsafe { *self.data.get_unchecked(r * self.rs + c * self.cs) }
        }
    }

    /// `MR` rows of `A` over the depths of a pass.
    trait PanelOfA<T, const MR: usize>: Copy {
        /// The pass's depth: how many columns the panel has.
        fn depth(&self) -> usize;
        /// Column `kk` of the panel.
        ///
        /// # Safety
        /// `kk < self.depth()`.
        unsafe fn column(&self, kk: usize) -> [T; MR];
        /// Where column `kk` of the panel starts: `MR` contiguous values
        /// (for [`Pass::block_avx512`]).
        ///
        /// # Safety
        /// `kk < self.depth()`.
        #[cfg(target_arch = "x86_64")]
        unsafe fn column_start(&self, kk: usize) -> *const T;
    }

    /// A packed copy of the panel, column after column.
    #[derive(Clone, Copy)]
    struct Packed<'a, T, const MR: usize>(&'a [[T; MR]]);

    impl<T: Scalar, const MR: usize> PanelOfA<T, MR> for Packed<'_, T, MR> {
        #[inline(always)]
        fn depth(&self) -> usize {
            self.0.len()
        }
        #[inline(always)]
        unsafe fn column(&self, kk: usize) -> [T; MR] {
            debug_assert!(kk < self.0.len());
            // SAFETY: `kk < depth()`, the length of the slice.
            unsafe { *self.0.get_unchecked(kk) }
        }
        #[cfg(target_arch = "x86_64")]
        #[inline(always)]
        unsafe fn column_start(&self, kk: usize) -> *const T {
            debug_assert!(kk < self.0.len());
            // SAFETY: `kk < depth()`, the length of the slice.
            unsafe { self.0.get_unchecked(kk).as_ptr() }
        }
    }

    /// `MR` rows of a column-major `A` (`rs == 1`), read where they are.
    /// Built only by [`InPlace::new`], which checks the shape its reads
    /// rely on.
    #[derive(Clone, Copy)]
    struct InPlace<'a, T, const MR: usize>(Checked<'a, T>);

    impl<'a, T: Scalar, const MR: usize> InPlace<'a, T, MR> {
        /// The panel `block`, which must be `MR` contiguous rows (`rs == 1`).
        #[inline(always)]
        fn new(block: Checked<'a, T>) -> Self {
            assert!(block.rs == 1 && block.rows == MR);
            InPlace(block)
        }
    }

    impl<T: Scalar, const MR: usize> PanelOfA<T, MR> for InPlace<'_, T, MR> {
        #[inline(always)]
        fn depth(&self) -> usize {
            self.0.cols
        }
        #[inline(always)]
        unsafe fn column(&self, kk: usize) -> [T; MR] {
            let Checked {
                data,
                rs,
                cs,
                rows,
                cols,
            } = self.0;
            debug_assert!(rs == 1 && rows == MR && kk < cols);
            // SAFETY: the column is `data[kk * cs..kk * cs + MR]`: `rs == 1`
            // and `rows == MR` (asserted by `InPlace::new`), and with
            // `kk < cols` (the caller's promise) its last element,
            // `(MR - 1) + kk * cs`, is at most `(rows - 1) * rs + (cols - 1)
            // * cs = data.len() - 1` (see `Checked::new`). `[T; MR]` has the
            // alignment of `T`, so the read is aligned.
            unsafe { data.as_ptr().add(kk * cs).cast::<[T; MR]>().read() }
        }
        #[cfg(target_arch = "x86_64")]
        #[inline(always)]
        unsafe fn column_start(&self, kk: usize) -> *const T {
            debug_assert!(kk < self.0.cols);
            // SAFETY: as in `column`: the column's `MR` values start at
            // `kk * cs`, within `data`.
            unsafe { self.0.data.as_ptr().add(kk * self.0.cs) }
        }
    }

    /// One pass: depths `k0..k0 + depth` of rows `i..i + rows` of the
    /// `m`-row `c`.
    #[derive(Clone, Copy)]
    struct Pass {
        m: usize,
        i: usize,
        rows: usize,
        k0: usize,
        depth: usize,
        write: Write,
    }

    impl Pass {
        /// Every column of `c`, `NR` at a time (`f32` panels of 16 rows
        /// where `AVX512`: [`Pass::block_avx512`]'s 8 at a time first).
        #[inline(always)]
        fn columns<T: Scalar, F: MultiplyAdd, const MR: usize, const AVX512: bool>(
            self,
            c: &mut [T],
            a: impl PanelOfA<T, MR>,
            b: View<'_, T>,
            n: usize,
        ) {
            let mut j = 0;
            #[cfg(target_arch = "x86_64")]
            if AVX512 && MR == 16 && TypeId::of::<T>() == TypeId::of::<f32>() {
                while j + AVX512_NR <= n {
                    let b = Checked::new(b, (self.k0, j), (self.depth, AVX512_NR));
                    // SAFETY: `T` is `f32` and `MR` is 16 (just checked), and
                    // `AVX512` is set only where AVX-512F is compiled in and
                    // inside `avx512_fma`, which only runs on a CPU that has
                    // it (see `sized`).
                    unsafe { self.block_avx512(c, j, a, b) };
                    j += AVX512_NR;
                }
            }
            while j + NR <= n {
                let b = Checked::new(b, (self.k0, j), (self.depth, NR));
                self.block::<T, F, MR, NR>(c, j, a, b);
                j += NR;
            }
            while j < n {
                let b = Checked::new(b, (self.k0, j), (self.depth, 1));
                self.block::<T, F, MR, 1>(c, j, a, b);
                j += 1;
            }
        }

        /// The `MR x NR` block of `c` at column `j`: `c (+)= a b` over the
        /// pass's depths, the sums kept in registers.
        #[inline(always)]
        fn block<T: Scalar, F: MultiplyAdd, const MR: usize, const NR: usize>(
            self,
            c: &mut [T],
            j: usize,
            a: impl PanelOfA<T, MR>,
            b: Checked<'_, T>,
        ) {
            let depth = a.depth();
            assert!(b.rows == depth && b.cols == NR);
            let mut sums = [[T::zero(); MR]; NR];
            for kk in 0..depth {
                // SAFETY: `kk < depth`, which is `a`'s depth and (asserted
                // above) `b`'s row count; `jj < NR`, `b`'s column count.
                let a = unsafe { a.column(kk) };
                let b: [T; NR] = array::from_fn(|jj| unsafe { b.get(kk, jj) });
                for (sum, b) in sums.iter_mut().zip(b) {
                    for (s, a) in sum.iter_mut().zip(a) {
                        *s = F::multiply_add(a, b, *s);
                    }
                }
            }
            let Pass {
                m, i, rows, write, ..
            } = self;
            for (jj, sum) in sums.iter().enumerate() {
                let start = (j + jj) * m + i;
                if rows == MR {
                    // A length known at compile time: no call to `memcpy`.
                    store(&mut c[start..start + MR], sum, write);
                } else {
                    store(&mut c[start..start + rows], &sum[..rows], write);
                }
            }
        }
    }

    impl Pass {
        /// [`Pass::block`] for a 16-row panel of `f32` and
        /// [`AVX512_NR`] columns, in AVX-512's registers: one per column of
        /// sums, 8 in flight. Written with intrinsics because LLVM compiles
        /// the generic block at this height to AVX and SSE registers with 4
        /// sums: on a Zen 5, a 16 x 32 x 32 product took 375 ns that way
        /// and 200 ns like this, and workload B's 10 x 32 x 32 ones 585 ns
        /// and 285 ns. The panel's last rows are stored with masks. The same
        /// fused multiply-adds in the same order as the generic block, so
        /// the same bits.
        ///
        /// # Safety
        /// `T` is `f32`, and the CPU has AVX-512F. (`MR` must be 16, which
        /// is asserted.)
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f")]
        unsafe fn block_avx512<T: Scalar, const MR: usize>(
            self,
            c: &mut [T],
            j: usize,
            a: impl PanelOfA<T, MR>,
            b: Checked<'_, T>,
        ) {
            use core::arch::x86_64::{
                _mm512_add_ps, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_mask_storeu_ps,
                _mm512_maskz_loadu_ps, _mm512_set1_ps, _mm512_setzero_ps,
            };
            use core::mem::transmute_copy;
            let depth = a.depth();
            assert!(MR == 16 && b.rows == depth && b.cols == AVX512_NR);
            assert!(self.rows >= 1 && self.rows <= 16);
            let mut sums = [_mm512_setzero_ps(); AVX512_NR];
            for kk in 0..depth {
                // SAFETY: `kk < depth`, `a`'s depth and (asserted above)
                // `b`'s row count, and `jj < AVX512_NR`, `b`'s column
                // count; `T` is `f32` (the caller's promise) and `MR` is 16
                // (asserted above), so the load reads the column's 16
                // `f32` values.
                let column = unsafe { _mm512_loadu_ps(a.column_start(kk).cast::<f32>()) };
                for (jj, sum) in sums.iter_mut().enumerate() {
                    let b: f32 = unsafe { transmute_copy(&b.get(kk, jj)) };
                    *sum = _mm512_fmadd_ps(column, _mm512_set1_ps(b), *sum);
                }
            }
            let Pass {
                m, i, rows, write, ..
            } = self;
            // The panel's first `rows` lanes (all 16 but in its last rows).
            let lanes = u16::MAX >> (16 - rows);
            for (jj, &sum) in sums.iter().enumerate() {
                let start = (j + jj) * m + i;
                let c = c[start..start + rows].as_mut_ptr().cast::<f32>();
                // SAFETY: the masked load and store touch the first `rows`
                // values at `c`, which are the slice just taken, of `f32`
                // (the caller's promise).
                unsafe {
                    let sum = match write {
                        Write::Add => _mm512_add_ps(_mm512_maskz_loadu_ps(lanes, c), sum),
                        Write::Overwrite => sum,
                    };
                    _mm512_mask_storeu_ps(c, lanes, sum);
                }
            }
        }
    }

    /// `c = sum` or `c += sum`.
    #[inline(always)]
    fn store<T: Scalar>(c: &mut [T], sum: &[T], write: Write) {
        match write {
            Write::Add => {
                for (c, s) in c.iter_mut().zip(sum) {
                    *c += *s;
                }
            }
            // Element by element: for the short columns of a panel's last
            // rows, a call to `memcpy` would cost more than the copy.
            Write::Overwrite => {
                for (c, s) in c.iter_mut().zip(sum) {
                    *c = *s;
                }
            }
        }
    }

    /// How the kernel forms `a b + c`: a type parameter rather than a `cfg`,
    /// because [`avx2_fma`] needs the fused form in a build whose target
    /// has no FMA.
    pub(crate) trait MultiplyAdd {
        /// `a b + c`.
        fn multiply_add<T: Scalar>(a: T, b: T, c: T) -> T;
    }

    /// One instruction, rounded once: only where FMA is compiled in, or
    /// inside [`avx2_fma`] (elsewhere it would be a library call).
    #[cfg(any(fma_compiled_in, fma_detectable))]
    pub(crate) struct Fused;

    #[cfg(any(fma_compiled_in, fma_detectable))]
    impl MultiplyAdd for Fused {
        #[inline(always)]
        fn multiply_add<T: Scalar>(a: T, b: T, c: T) -> T {
            a.mul_add_fused(b, c)
        }
    }

    /// A multiplication, then an addition.
    #[cfg(not(fma_compiled_in))]
    pub(crate) struct Unfused;

    #[cfg(not(fma_compiled_in))]
    impl MultiplyAdd for Unfused {
        #[inline(always)]
        fn multiply_add<T: Scalar>(a: T, b: T, c: T) -> T {
            a * b + c
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
    /// and both ways of writing, through the register kernel (as dispatched
    /// here, and with separate multiply and add, in AVX's blocks and in
    /// AVX-512's, unless FMA is compiled in),
    /// the plain loop of targets without vector registers and, with
    /// `std`, through matrixmultiply, against the definition. Small, so that
    /// it runs under Miri, which checks the `unsafe` call into matrixmultiply:
    /// `cargo +nightly miri test -p network-core --features matrixmultiply --lib kernels`.
    fn layouts<T: Scalar, const M: usize, const K: usize, const N: usize>() {
        // Room for every view of both operands (see the strides below).
        const ROOM: usize = 4 * 40 * 70 + 4 * 70 * 8;
        const { assert!(4 * M * K + 4 * K * N <= ROOM && M * N <= 320) };
        let values: [T; ROOM] = array::from_fn(|v| T::constant(((v * 37) % 29) as f64 / 7.0 - 2.0));
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
                    let start: [T; 320] = array::from_fn(|v| T::constant(v as f64 / 3.0));
                    let start = &start[..M * N];
                    let mut want = [T::zero(); 320];
                    let want = &mut want[..M * N];
                    want.copy_from_slice(start);
                    naive((M, K, N), a, b, want, write);
                    let close =
                        |x: &T, y: &T| (*x - *y).abs() <= T::constant(1e-5) * (T::one() + y.abs());
                    let mut got = [T::zero(); 320];
                    let got = &mut got[..M * N];
                    // The kernel as dispatched on this machine, and each
                    // multiply-add this build can run.
                    got.copy_from_slice(start);
                    blocked::gemm((M, K, N), got, a, b, write);
                    assert!(got.iter().zip(&*want).all(|(x, y)| close(x, y)));
                    #[cfg(not(fma_compiled_in))]
                    {
                        // AVX's blocks and AVX-512's (plain Rust either
                        // way, so Miri checks the reads of both).
                        got.copy_from_slice(start);
                        blocked::sized::<T, blocked::Unfused, false, false>(
                            (M, K, N),
                            got,
                            a,
                            b,
                            write,
                        );
                        assert!(got.iter().zip(&*want).all(|(x, y)| close(x, y)));
                        got.copy_from_slice(start);
                        blocked::sized::<T, blocked::Unfused, true, false>(
                            (M, K, N),
                            got,
                            a,
                            b,
                            write,
                        );
                        assert!(got.iter().zip(&*want).all(|(x, y)| close(x, y)));
                    }
                    got.copy_from_slice(start);
                    plain_gemm::<T, M, K, N>(got, a, b, write);
                    assert!(got.iter().zip(&*want).all(|(x, y)| close(x, y)));
                    #[cfg(feature = "matrixmultiply")]
                    {
                        got.copy_from_slice(start);
                        assert!(blas::gemm(M, K, N, a, b, got, write));
                        assert!(got.iter().zip(&*want).all(|(x, y)| close(x, y)));
                    }
                }
            }
        }
    }

    #[test]
    fn gemm_layouts_match_a_plain_loop() {
        // Full panels read in place and packed last rows, full blocks of
        // columns and single ones.
        layouts::<f32, 19, 6, 7>();
        layouts::<f64, 19, 6, 7>();
        // A full panel of AVX-512's 32 rows of `f32`, read in place.
        layouts::<f32, 33, 2, 2>();
        // AVX-512's 16-row `f32` panels with 8 columns at a time
        // (`block_avx512`), read in place and packed, then the last column.
        layouts::<f32, 18, 3, 9>();
        // Depths past `KC` (a second pass that adds), several full panels:
        // smaller under Miri, which is slow.
        if cfg!(miri) {
            layouts::<f32, 17, 66, 1>();
        } else {
            layouts::<f32, 40, 70, 8>();
            layouts::<f64, 35, 70, 5>();
        }
    }
}
