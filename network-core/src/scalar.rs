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

    /// The error function, used by the exact GELU.
    fn erf(self) -> Self;
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
}
