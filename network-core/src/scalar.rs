//! The floating-point types a network can be built over.

use nalgebra::RealField;

/// A floating-point scalar a network computes in: `f32` (the default) or `f64`.
///
/// `RealField` gives the arithmetic and the elementary functions (through
/// `libm` in `no_std`); this trait adds what the runtime needs on top of it.
pub trait Scalar:
    RealField + Copy + Default + core::fmt::Debug + core::fmt::Display + Send + Sync + 'static
{
    /// The Rust name of the type, `"f32"` or `"f64"`.
    const NAME: &'static str;

    /// Converts an `f64` constant (rounding to nearest for `f32`).
    fn constant(x: f64) -> Self;

    /// Widens (or copies) the value to `f64`.
    fn to_f64(self) -> f64;

    /// The error function.
    fn erf(self) -> Self;

    /// The complementary error function `1 - erf(x)`, accurate where
    /// `erf(x)` is close to 1; the exact GELU uses it.
    fn erfc(self) -> Self;
}

impl Scalar for f32 {
    const NAME: &'static str = "f32";

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
}

impl Scalar for f64 {
    const NAME: &'static str = "f64";

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
}
