//! Powers with a whole exponent, for bias corrections and decaying
//! learning rates.

/// `base^exponent` by repeated squaring: a few multiplications, where
/// `libm::pow` would add about 3 KB of `f64` code to a Cortex-M4 firmware
/// (whose FPU has no `f64`; measured: `libm::math::pow::pow` is 3,008 B in
/// the `conv` firmware). Within a few ulps of the exact power, far below the
/// precision of the `T` it is rounded to.
pub(crate) fn power(base: f64, mut exponent: u64) -> f64 {
    let (mut result, mut square) = (1.0, base);
    while exponent > 0 {
        if exponent & 1 == 1 {
            result *= square;
        }
        square *= square;
        exponent >>= 1;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powers_by_squaring_are_powers() {
        for (base, exponent) in [
            (0.9, 1),
            (0.999, 7),
            (0.999, 1000),
            (0.5, 60),
            (0.9, 1 << 40),
        ] {
            let want = libm::pow(base, exponent as f64);
            let got = power(base, exponent);
            assert!(
                (got - want).abs() <= 1e-14 * want.max(f64::MIN_POSITIVE),
                "{base}^{exponent}"
            );
        }
        assert_eq!(power(0.999, 0), 1.0);
    }
}
