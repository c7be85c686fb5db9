//! `Scalar::fast_exp`, `Scalar::fast_tanh` and the sigmoid in `f32` against
//! `f64` references over a sweep of every 4099th bit pattern (about a million
//! inputs of both signs) and at the edges of their ranges.

use network_core::Scalar;
use network_core::activation::sigmoid;
use network_core::nalgebra::ComplexField;

/// Every 4099th `f32` bit pattern that is a finite number, both signs.
fn sweep() -> impl Iterator<Item = f32> {
    (0..=u32::MAX)
        .step_by(4099)
        .map(f32::from_bits)
        .filter(|x| x.is_finite())
}

/// The spacing of `f32` numbers at the normal `f32` magnitude `|exact|`.
fn ulp(exact: f64) -> f64 {
    let exponent = ((exact.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    2f64.powi(exponent - 23)
}

/// `|actual - exact|` in ulp of `exact`, which must be a normal `f32` magnitude.
fn ulp_error(actual: f32, exact: f64) -> f64 {
    let error = (f64::from(actual) - exact).abs() / ulp(exact);
    if error.is_nan() { f64::INFINITY } else { error }
}

const MIN_POSITIVE: f64 = f32::MIN_POSITIVE as f64;
/// The smallest positive subnormal `f32`, `2^-149`.
const SUBNORMAL_STEP: f64 = 1.401_298_464_324_817e-45;

#[test]
fn exp_is_within_2_ulp_of_f64() {
    let overflow = f64::from(f32::MAX) * (1.0 + f64::from(f32::EPSILON) / 2.0);
    let (mut worst_normal, mut worst_subnormal, mut at) = (0.0f64, 0.0f64, 0.0f32);
    for x in sweep() {
        let (actual, exact) = (x.fast_exp(), f64::from(x).exp());
        if exact >= overflow {
            assert_eq!(actual, f32::INFINITY, "exp({x:e})");
        } else if exact >= MIN_POSITIVE {
            let error = ulp_error(actual, exact);
            if error > worst_normal {
                (worst_normal, at) = (error, x);
            }
        } else {
            // Subnormal (or zero) results: measured in steps of 2^-149.
            let error = (f64::from(actual) - exact).abs() / SUBNORMAL_STEP;
            worst_subnormal = worst_subnormal.max(error);
        }
    }
    println!(
        "exp: max error {worst_normal:.3} ulp (at {at:e}), \
         {worst_subnormal:.3} subnormal steps below f32::MIN_POSITIVE"
    );
    assert!(worst_normal <= 2.0, "exp: {worst_normal} ulp at {at:e}");
    assert!(
        worst_subnormal <= 1.0,
        "exp: {worst_subnormal} subnormal steps"
    );
}

#[test]
fn exp_edges() {
    for tiny in [0.0, -0.0, 1e-30, -1e-30, 1e-45, -1e-45] {
        assert_eq!(f32::fast_exp(tiny), 1.0, "exp({tiny:e})");
    }
    assert_eq!(f32::fast_exp(1.0), core::f32::consts::E);
    // ln(f32::MAX) = 88.7228...
    assert!(ulp_error(f32::fast_exp(88.72), f64::from(88.72f32).exp()) <= 2.0);
    assert_eq!(f32::fast_exp(88.73), f32::INFINITY);
    assert_eq!(f32::fast_exp(1e30), f32::INFINITY);
    assert_eq!(f32::fast_exp(f32::INFINITY), f32::INFINITY);
    // e^-87.3 is just above f32::MIN_POSITIVE; e^-100 is subnormal.
    assert!(f32::fast_exp(-87.3) >= f32::MIN_POSITIVE);
    let subnormal = f32::fast_exp(-100.0);
    assert!(subnormal > 0.0 && subnormal < f32::MIN_POSITIVE);
    assert_eq!(f32::fast_exp(-103.98), 0.0);
    assert_eq!(f32::fast_exp(-1e30), 0.0);
    assert_eq!(f32::fast_exp(f32::NEG_INFINITY), 0.0);
    assert!(f32::fast_exp(f32::NAN).is_nan());
}

#[test]
fn tanh_is_within_2_ulp_of_f64() {
    let (mut worst, mut at) = (0.0f64, 0.0f32);
    for x in sweep() {
        let (actual, exact) = (x.fast_tanh(), f64::from(x).tanh());
        if exact.abs() < MIN_POSITIVE {
            assert_eq!(actual.to_bits(), x.to_bits(), "tanh({x:e})");
        } else {
            let error = ulp_error(actual, exact);
            if error > worst {
                (worst, at) = (error, x);
            }
        }
    }
    println!("tanh: max error {worst:.3} ulp (at {at:e})");
    assert!(worst <= 2.0, "tanh: {worst} ulp at {at:e}");
}

#[test]
fn tanh_edges() {
    // Below 2^-12, `x^3 / 3` is less than half an ulp of `x`.
    for x in [0.0, 1e-45, 1e-38, 1e-10, 2.4e-4] {
        assert_eq!(f32::fast_tanh(x).to_bits(), f32::to_bits(x), "tanh({x:e})");
        assert_eq!(
            f32::fast_tanh(-x).to_bits(),
            f32::to_bits(-x),
            "tanh(-{x:e})"
        );
    }
    for x in [9.02, 20.0, 1e30, f32::INFINITY] {
        assert_eq!(f32::fast_tanh(x), 1.0, "tanh({x:e})");
        assert_eq!(f32::fast_tanh(-x), -1.0, "tanh(-{x:e})");
    }
    assert!(f32::fast_tanh(f32::NAN).is_nan());
}

/// `sigmoid(z) = 1 / (1 + e^-z)` (as `e^z / (1 + e^z)` for `z < 0`) is within
/// 3 ulp wherever the result is a normal `f32`.
#[test]
fn sigmoid_is_within_3_ulp_of_f64() {
    let (mut worst, mut at) = (0.0f64, 0.0f32);
    for x in sweep() {
        let exact = 1.0 / (1.0 + (-f64::from(x)).exp());
        if exact >= MIN_POSITIVE {
            let error = ulp_error(sigmoid(x), exact);
            if error > worst {
                (worst, at) = (error, x);
            }
        }
    }
    println!("sigmoid: max error {worst:.3} ulp (at {at:e})");
    assert!(worst <= 3.0, "sigmoid: {worst} ulp at {at:e}");
}

/// `f64` keeps the `RealField` functions.
#[test]
fn f64_uses_the_accurate_functions() {
    for x in [-700.0, -1.5, 0.0, 0.3, 2.0, 700.0] {
        assert_eq!(f64::fast_exp(x), ComplexField::exp(x));
        assert_eq!(f64::fast_tanh(x), ComplexField::tanh(x));
    }
}
