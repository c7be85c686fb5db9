//! The finite-difference machinery shared by the activation and loss tests.

use network_core::nalgebra::SMatrix;

/// The finite-difference step: derivatives are estimated with the
/// fourth-order central difference
/// `(8 (f(z + h) - f(z - h)) - (f(z + 2h) - f(z - 2h))) / 12h`, whose truncation
/// error (`~h^4`) and rounding error (`~1e-16 / h`) are both near `1e-13` here.
pub const H: f64 = 1e-3;

/// Derivatives smaller than this are compared absolutely: the error is
/// `|analytic - numeric| / max(|analytic|, |numeric|, FLOOR)`, so below the floor
/// the bound `1e-6` means an absolute error below `1e-12`. (Tiny derivatives
/// sit where the function's own rounding dominates; GELU computes `Phi` with
/// `erfc` so that its left tail keeps full relative precision.)
pub const FLOOR: f64 = 1e-6;

/// The largest error allowed, as defined by [`relative_error`].
pub const TOLERANCE: f64 = 1e-6;

/// Relative above [`FLOOR`], absolute below it; a NaN counts as infinite.
pub fn relative_error(analytic: f64, numeric: f64) -> f64 {
    let error = (analytic - numeric).abs() / analytic.abs().max(numeric.abs()).max(FLOOR);
    if error.is_nan() { f64::INFINITY } else { error }
}

/// The largest [`relative_error`] between `analytic[k]` and the fourth-order
/// central difference along entry `k` of `z`, for every `k`.
///
/// `difference(plus, minus)` returns `f(plus) - f(minus)`; taking the
/// difference itself (rather than `f` twice) lets a caller cancel the terms
/// that do not move exactly.
pub fn max_central_difference_error<const R: usize, const C: usize>(
    z: &SMatrix<f64, R, C>,
    analytic: &SMatrix<f64, R, C>,
    difference: impl Fn(&SMatrix<f64, R, C>, &SMatrix<f64, R, C>) -> f64,
) -> f64 {
    let mut worst = 0.0f64;
    for k in 0..R * C {
        let shifted = |s: f64| {
            let (mut plus, mut minus) = (*z, *z);
            plus[k] += s;
            minus[k] -= s;
            difference(&plus, &minus)
        };
        let numeric = (8.0 * shifted(H) - shifted(2.0 * H)) / (12.0 * H);
        worst = worst.max(relative_error(analytic[k], numeric));
    }
    worst
}
