//! `a b + c` rounded once, by the target's fused multiply-add instruction:
//! the bodies of [`Scalar::mul_add_fused`](crate::Scalar::mul_add_fused)
//! for `f32` and `f64`.
//!
//! Only the matrix kernel calls these, and only where the instruction is
//! compiled in (`fma_compiled_in`, see `build.rs`) or inside its AVX2 and
//! FMA version (`fma_detectable`). `nalgebra`'s `mul_add` is not used: in a
//! `no_std` build of `num-traits` it is `libm::fmaf`, a function call per
//! multiply-add that made training 20 times slower.

/// With `std`: the `fma` intrinsic, which is one instruction in any code
/// compiled for FMA, a target's or a `#[target_feature]` function's.
#[cfg(feature = "std")]
macro_rules! fused {
    ($name:ident, $t:ty) => {
        #[inline(always)]
        pub(crate) fn $name(a: $t, b: $t, c: $t) -> $t {
            <$t>::mul_add(a, b, c)
        }
    };
}

#[cfg(feature = "std")]
fused!(f32, f32);
#[cfg(feature = "std")]
fused!(f64, f64);

/// `a b + c` rounded once, without `std`: the x86 intrinsic on one lane.
#[cfg(all(not(feature = "std"), fma_compiled_in))]
#[inline(always)]
pub(crate) fn f32(a: f32, b: f32, c: f32) -> f32 {
    #[cfg(target_arch = "x86")]
    use core::arch::x86::{_mm_cvtss_f32, _mm_fmadd_ss, _mm_set_ss};
    #[cfg(target_arch = "x86_64")]
    use core::arch::x86_64::{_mm_cvtss_f32, _mm_fmadd_ss, _mm_set_ss};
    // SAFETY: these intrinsics need SSE and FMA, which the target has:
    // without `std`, `fma_compiled_in` means an x86 target with the `fma`
    // target feature (which implies SSE). They touch no memory.
    unsafe { _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(a), _mm_set_ss(b), _mm_set_ss(c))) }
}

/// `a b + c` rounded once, without `std`: the x86 intrinsic on one lane.
#[cfg(all(not(feature = "std"), fma_compiled_in))]
#[inline(always)]
pub(crate) fn f64(a: f64, b: f64, c: f64) -> f64 {
    #[cfg(target_arch = "x86")]
    use core::arch::x86::{_mm_cvtsd_f64, _mm_fmadd_sd, _mm_set_sd};
    #[cfg(target_arch = "x86_64")]
    use core::arch::x86_64::{_mm_cvtsd_f64, _mm_fmadd_sd, _mm_set_sd};
    // SAFETY: as for `f32`: SSE2 and FMA are target features of this build.
    unsafe { _mm_cvtsd_f64(_mm_fmadd_sd(_mm_set_sd(a), _mm_set_sd(b), _mm_set_sd(c))) }
}

#[cfg(test)]
mod tests {
    /// `(1 + 2^-12)^2 = 1 + 2^-11 + 2^-24` in `f32` (and `(1 + 2^-27)^2` in
    /// `f64`): a rounded product loses the last term, a single rounding of
    /// `a a + c` keeps it.
    #[test]
    fn rounds_once() {
        let a = 1.0 + f32::EPSILON * 2048.0;
        let c = -(1.0 + f32::EPSILON * 4096.0);
        assert_eq!(a * a + c, 0.0);
        assert_eq!(super::f32(a, a, c), f32::EPSILON / 2.0);
        let a = 1.0 + f64::EPSILON * 2f64.powi(25);
        let c = -(1.0 + f64::EPSILON * 2f64.powi(26));
        assert_eq!(a * a + c, 0.0);
        assert_eq!(super::f64(a, a, c), f64::EPSILON / 4.0);
    }
}
