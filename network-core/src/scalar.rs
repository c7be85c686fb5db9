//! The floating-point types a network can be built over.

use nalgebra::{ComplexField, RealField};

use crate::math;

/// A floating-point scalar a network computes in: `f32` (the default) or `f64`.
///
/// `RealField` gives the arithmetic and the elementary functions (through
/// `libm` in `no_std`); this trait adds what the runtime needs on top of it.
#[diagnostic::on_unimplemented(
    message = "a network computes in `f32` or `f64`, not in `{Self}`",
    label = "not `f32` or `f64`",
    note = "write `Net::<f32>` (the default) or `Net::<f64>`"
)]
pub trait Scalar:
    RealField + Copy + Default + core::fmt::Debug + core::fmt::Display + Send + Sync + 'static
{
    /// The Rust name of the type, `"f32"` or `"f64"`.
    const NAME: &'static str;

    /// The largest finite value, `f32::MAX` or `f64::MAX`.
    const MAX_FINITE: Self;

    /// The smallest positive normal value, `f32::MIN_POSITIVE` or
    /// `f64::MIN_POSITIVE`: below it values are subnormal.
    const MIN_POSITIVE: Self;

    /// Converts an `f64` constant (rounding to nearest for `f32`).
    fn constant(x: f64) -> Self;

    /// `max |x|` over `values` (0 when empty); NaN if any value is NaN,
    /// else infinity if any is infinite.
    ///
    /// Compared as integers (the bits without the sign, which order like
    /// the magnitudes, with infinity and then NaN above every finite
    /// value), so that the reduction vectorises: a floating-point `max`
    /// does not, because its order of evaluation is fixed.
    fn largest_magnitude(values: &[Self]) -> Self;

    /// The largest magnitudes of `so_far` (two magnitudes, as this returns
    /// them) and of `a` and of `b`, slices of the same length, in one pass
    /// over both: an optimizer's step bounds its update by the largest
    /// parameter and the largest gradient over all of a network's slices.
    /// One loop for both, carried from slice to slice as integers, cost a
    /// Cortex-M4 fewer instructions than a pass each.
    #[doc(hidden)]
    fn largest_magnitudes(so_far: (Self, Self), a: &[Self], b: &[Self]) -> (Self, Self);

    /// Widens (or copies) the value to `f64`.
    fn to_f64(self) -> f64;

    /// The error function.
    fn erf(self) -> Self;

    /// The complementary error function `1 - erf(x)`, accurate where
    /// `erf(x)` is close to 1; the exact GELU uses it.
    fn erfc(self) -> Self;

    /// `e^x`, accurate to 2 ulp and, for `f32`, branch-free, so that a loop
    /// applying it to a slice is vectorised; the activations and losses use it.
    ///
    /// For `f32` results below `f32::MIN_POSITIVE` (`x < -87.34`) are
    /// subnormal and rounded once; `x < -103.97` gives `0`. For `f64` it is
    /// [`exp`](nalgebra::ComplexField::exp).
    fn fast_exp(self) -> Self;

    /// `tanh x`, accurate to 2 ulp and, for `f32`, branch-free like
    /// [`fast_exp`](Scalar::fast_exp), on which it is built. For `f64` it is
    /// [`tanh`](nalgebra::ComplexField::tanh).
    fn fast_tanh(self) -> Self;

    /// The square root, correctly rounded like [`sqrt`](nalgebra::ComplexField::sqrt),
    /// but with the `std` feature computed by the platform's instruction
    /// (`core` has none): then a loop applying it to a slice is vectorised,
    /// which the optimizers' updates rely on.
    fn fast_sqrt(self) -> Self;

    /// `self b + c`: rounded once where the matrix kernel calls it, which is
    /// only in code compiled for the fused multiply-add instruction; an
    /// implementation detail of that kernel. The default, for scalar types
    /// other than `f32` and `f64`, is a multiplication and an addition.
    #[doc(hidden)]
    #[inline(always)]
    fn mul_add_fused(self, b: Self, c: Self) -> Self {
        self * b + c
    }

    /// `c (+)= a b` by the register-blocked matrix kernel, `a` and `b` given
    /// as `(data, row stride, column stride)`; an implementation detail of
    /// the dense layers.
    ///
    /// A method here, not a generic function, so that the `f32` and `f64`
    /// kernels are compiled once, in this crate: a generic kernel would be
    /// compiled and optimised again in every crate that declares a network,
    /// on every rebuild.
    #[doc(hidden)]
    fn blocked_gemm(
        dims: (usize, usize, usize),
        c: &mut [Self],
        a: (&[Self], usize, usize),
        b: (&[Self], usize, usize),
        add: bool,
    ) {
        crate::kernels::blocked_gemm(dims, c, a, b, add);
    }

    /// `c(q, j) (+)= sum_k src[offsets[k] + q] b(k, j)`: the stride-1
    /// convolution products of `grid`, compiled in this crate as
    /// [`Scalar::blocked_gemm`] is.
    #[doc(hidden)]
    #[cfg(vector_registers)]
    fn shifted_product(
        dims: (usize, usize),
        src: &[Self],
        offsets: &[usize],
        b: &[Self],
        c: &mut [Self],
        add: bool,
    ) {
        crate::grid::kernels::shifted_product(dims, src, offsets, b, c, add);
    }

    /// `out(k, j) += sum_q src[offsets[k] + q] d(q, j)`: the weight
    /// gradient of `grid`, compiled in this crate.
    #[doc(hidden)]
    #[cfg(vector_registers)]
    fn shifted_dots(
        dims: (usize, usize),
        src: &[Self],
        offsets: &[usize],
        d: &[Self],
        out: &mut [Self],
    ) {
        crate::grid::kernels::shifted_dots(dims, src, offsets, d, out);
    }

    /// `sums(k, j) += sum_q src[offsets[k] + q] rows(q, j)`: the weight
    /// gradient of `grid` with a vector over the output channels.
    #[doc(hidden)]
    #[cfg(vector_registers)]
    fn shifted_columns(
        dims: (usize, usize),
        src: &[Self],
        offsets: &[usize],
        rows: &[Self],
        sums: &mut [Self],
    ) {
        crate::grid::kernels::shifted_columns(dims, src, offsets, rows, sums);
    }
}

/// The overrides for a concrete type: [`Scalar::mul_add_fused`] by the
/// instruction, and [`Scalar::blocked_gemm`] not generic and never inlined,
/// so that its kernel is compiled in this crate.
macro_rules! blocked_gemm_compiled_here {
    ($t:ident) => {
        #[cfg(any(fma_compiled_in, fma_detectable))]
        #[inline(always)]
        fn mul_add_fused(self, b: Self, c: Self) -> Self {
            crate::fused::$t(self, b, c)
        }

        #[inline(never)]
        fn blocked_gemm(
            dims: (usize, usize, usize),
            c: &mut [Self],
            a: (&[Self], usize, usize),
            b: (&[Self], usize, usize),
            add: bool,
        ) {
            crate::kernels::blocked_gemm(dims, c, a, b, add);
        }

        #[cfg(vector_registers)]
        #[inline(never)]
        fn shifted_product(
            dims: (usize, usize),
            src: &[Self],
            offsets: &[usize],
            b: &[Self],
            c: &mut [Self],
            add: bool,
        ) {
            crate::grid::kernels::shifted_product(dims, src, offsets, b, c, add);
        }

        #[cfg(vector_registers)]
        #[inline(never)]
        fn shifted_dots(
            dims: (usize, usize),
            src: &[Self],
            offsets: &[usize],
            d: &[Self],
            out: &mut [Self],
        ) {
            crate::grid::kernels::shifted_dots(dims, src, offsets, d, out);
        }

        #[cfg(vector_registers)]
        #[inline(never)]
        fn shifted_columns(
            dims: (usize, usize),
            src: &[Self],
            offsets: &[usize],
            rows: &[Self],
            sums: &mut [Self],
        ) {
            crate::grid::kernels::shifted_columns(dims, src, offsets, rows, sums);
        }
    };
}

#[diagnostic::do_not_recommend]
impl Scalar for f32 {
    const NAME: &'static str = "f32";
    const MAX_FINITE: Self = f32::MAX;
    const MIN_POSITIVE: Self = f32::MIN_POSITIVE;

    #[inline]
    fn largest_magnitude(values: &[Self]) -> Self {
        let bits = values
            .iter()
            .fold(0, |largest: u32, x| largest.max(x.to_bits() & 0x7fff_ffff));
        f32::from_bits(bits)
    }

    #[inline]
    fn largest_magnitudes(so_far: (Self, Self), a: &[Self], b: &[Self]) -> (Self, Self) {
        let magnitude = |x: &f32| x.to_bits() & 0x7fff_ffff;
        let start = (magnitude(&so_far.0), magnitude(&so_far.1));
        let (a, b) = a.iter().zip(b).fold(start, |(la, lb), (x, y)| {
            (la.max(magnitude(x)), lb.max(magnitude(y)))
        });
        (f32::from_bits(a), f32::from_bits(b))
    }

    #[inline]
    fn constant(x: f64) -> Self {
        x as f32
    }

    #[inline]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }

    #[inline]
    fn erf(self) -> Self {
        libm::erff(self)
    }

    #[inline]
    fn erfc(self) -> Self {
        libm::erfcf(self)
    }

    #[inline]
    fn fast_exp(self) -> Self {
        math::exp_f32(self)
    }

    #[inline]
    fn fast_tanh(self) -> Self {
        math::tanh_f32(self)
    }

    #[inline]
    fn fast_sqrt(self) -> Self {
        #[cfg(feature = "std")]
        {
            std::primitive::f32::sqrt(self)
        }
        #[cfg(not(feature = "std"))]
        {
            libm::sqrtf(self)
        }
    }

    blocked_gemm_compiled_here!(f32);
}

#[diagnostic::do_not_recommend]
impl Scalar for f64 {
    const NAME: &'static str = "f64";
    const MAX_FINITE: Self = f64::MAX;
    const MIN_POSITIVE: Self = f64::MIN_POSITIVE;

    #[inline]
    fn largest_magnitude(values: &[Self]) -> Self {
        let bits = values.iter().fold(0, |largest: u64, x| {
            largest.max(x.to_bits() & 0x7fff_ffff_ffff_ffff)
        });
        f64::from_bits(bits)
    }

    #[inline]
    fn largest_magnitudes(so_far: (Self, Self), a: &[Self], b: &[Self]) -> (Self, Self) {
        let magnitude = |x: &f64| x.to_bits() & 0x7fff_ffff_ffff_ffff;
        let start = (magnitude(&so_far.0), magnitude(&so_far.1));
        let (a, b) = a.iter().zip(b).fold(start, |(la, lb), (x, y)| {
            (la.max(magnitude(x)), lb.max(magnitude(y)))
        });
        (f64::from_bits(a), f64::from_bits(b))
    }

    #[inline]
    fn constant(x: f64) -> Self {
        x
    }

    #[inline]
    fn to_f64(self) -> f64 {
        self
    }

    #[inline]
    fn erf(self) -> Self {
        libm::erf(self)
    }

    #[inline]
    fn erfc(self) -> Self {
        libm::erfc(self)
    }

    #[inline]
    fn fast_exp(self) -> Self {
        ComplexField::exp(self)
    }

    #[inline]
    fn fast_tanh(self) -> Self {
        ComplexField::tanh(self)
    }

    #[inline]
    fn fast_sqrt(self) -> Self {
        #[cfg(feature = "std")]
        {
            std::primitive::f64::sqrt(self)
        }
        #[cfg(not(feature = "std"))]
        {
            libm::sqrt(self)
        }
    }

    blocked_gemm_compiled_here!(f64);
}
