//! Every activation against reference values, its backward step (the
//! vector-Jacobian product `dC/dz` given `dC/da`) against central finite
//! differences in `f64`, and its behaviour at extreme inputs in `f32` and `f64`.

use network_core::nalgebra::SMatrix;
use network_core::{
    Activation, Gelu, GeluTanh, Identity, LeakyRelu, Mish, Relu, Rng, Scalar, Sigmoid, Silu,
    Softmax, Softplus, Swish, Tanh,
};

mod common;

use common::{H, TOLERANCE, max_central_difference_error};

/// The largest [`relative_error`] between `A::backward(z, A(z), g)` and the
/// central difference of `phi(z) = sum(g ∘ A(z))`, perturbing one entry of `z`
/// at a time (so the check is the full vector-Jacobian product, not only its
/// diagonal).
fn max_backward_error<A: Activation, const R: usize, const C: usize>(
    z: &SMatrix<f64, R, C>,
    g: &SMatrix<f64, R, C>,
) -> f64 {
    let analytic = A::backward(z, &A::forward(z), g);
    // `phi(z + s e_k) - phi(z - s e_k)`; entries of `A(z)` that do not move
    // contribute exactly zero.
    max_central_difference_error(z, &analytic, |plus, minus| {
        g.component_mul(&(A::forward(plus) - A::forward(minus)))
            .sum()
    })
}

/// 1201 evenly spaced points in `[-6, 6]` (0 included); when `avoid_kink` is
/// set, without the points whose stencil `z ± 2h` would reach the kink at 0
/// (on this grid, only 0 itself: the next points are `±0.01`).
fn grid(avoid_kink: bool) -> Vec<f64> {
    (0..=1200)
        .map(|k| -6.0 + 12.0 * f64::from(k) / 1200.0)
        .filter(|z| !avoid_kink || z.abs() > 2.0 * H)
        .collect()
}

/// Checks an element-wise activation over the grid, 12 points at a time as a
/// 3x4 matrix, with upstream gradients `g` drawn from `±[0.5, 2]`; returns the
/// largest error.
fn check_element_wise<A: Activation>(avoid_kink: bool) -> f64 {
    let points = grid(avoid_kink);
    let mut rng = Rng::new(0x5EED);
    let mut worst = 0.0f64;
    for chunk in points.chunks(12) {
        let z = SMatrix::<f64, 3, 4>::from_fn(|i, j| chunk[(i + 3 * j) % chunk.len()]);
        let g = SMatrix::<f64, 3, 4>::from_fn(|_, _| {
            let magnitude = rng.uniform(0.5, 2.0);
            if rng.below(2) == 0 {
                magnitude
            } else {
                -magnitude
            }
        });
        worst = worst.max(max_backward_error::<A, 3, 4>(&z, &g));
    }
    println!("{}: max error {worst:.3e}", A::NAME);
    assert!(
        worst < TOLERANCE,
        "{}: backward disagrees with finite differences (max error {worst:e})",
        A::NAME
    );
    worst
}

#[test]
fn smooth_derivatives_match_finite_differences() {
    check_element_wise::<Identity>(false);
    check_element_wise::<Sigmoid>(false);
    check_element_wise::<Tanh>(false);
    check_element_wise::<Softplus>(false);
    check_element_wise::<Swish>(false);
    check_element_wise::<Silu>(false);
    check_element_wise::<Mish>(false);
    check_element_wise::<Gelu>(false);
    check_element_wise::<GeluTanh>(false);
}

#[test]
fn relu_family_derivatives_match_finite_differences_away_from_the_kink() {
    check_element_wise::<Relu>(true);
    check_element_wise::<LeakyRelu>(true);
    check_element_wise::<LeakyRelu<1, 5>>(true);
    check_element_wise::<LeakyRelu<3, 2>>(true);
}

#[test]
fn relu_family_derivative_at_the_kink_follows_the_documented_convention() {
    let z = SMatrix::<f64, 1, 1>::new(0.0);
    let g = SMatrix::<f64, 1, 1>::new(2.0);
    assert_eq!(Relu::backward(&z, &Relu::forward(&z), &g)[0], 0.0);
    let a = LeakyRelu::<1, 5>::forward(&z);
    assert_eq!(LeakyRelu::<1, 5>::backward(&z, &a, &g)[0], 0.4);
}

#[test]
fn softmax_vector_jacobian_product_matches_finite_differences() {
    let mut rng = Rng::new(7);
    let mut worst = 0.0f64;
    for _ in 0..200 {
        let z = SMatrix::<f64, 5, 3>::from_fn(|_, _| rng.uniform(-4.0, 4.0));
        let g = SMatrix::<f64, 5, 3>::from_fn(|_, _| rng.uniform(-2.0, 2.0));
        worst = worst.max(max_backward_error::<Softmax, 5, 3>(&z, &g));
    }
    println!("softmax: max error {worst:.3e}");
    assert!(worst < TOLERANCE, "softmax: max error {worst:e}");
}

/// `|actual - expected| <= 4 eps max(1, |expected|)`, entry by entry.
fn assert_values<A: Activation, const N: usize>(z: [f64; N], expected: [f64; N]) {
    let actual = A::forward(&SMatrix::<f64, 1, N>::from(z.map(|v| [v])));
    for k in 0..N {
        let tolerance = 4.0 * f64::EPSILON * expected[k].abs().max(1.0);
        assert!(
            (actual[k] - expected[k]).abs() <= tolerance,
            "{}({}) = {}, expected {}",
            A::NAME,
            z[k],
            actual[k],
            expected[k]
        );
    }
}

// Reference values computed with mpmath at 40 significant digits, rounded to f64.
const Z: [f64; 5] = [-2.0, -1.0, 0.0, 1.0, 2.5];

#[test]
fn forward_values_match_references() {
    assert_values::<Identity, 5>(Z, Z);
    assert_values::<Sigmoid, 5>(
        Z,
        [
            0.11920292202211756,
            0.2689414213699951,
            0.5,
            0.7310585786300049,
            0.9241418199787564,
        ],
    );
    assert_values::<Tanh, 5>(
        Z,
        [
            -0.9640275800758169,
            -0.7615941559557649,
            0.0,
            0.7615941559557649,
            0.9866142981514303,
        ],
    );
    assert_values::<Relu, 5>(Z, [0.0, 0.0, 0.0, 1.0, 2.5]);
    assert_values::<LeakyRelu, 5>(Z, [-0.02, -0.01, 0.0, 1.0, 2.5]);
    assert_values::<LeakyRelu<1, 5>, 5>(Z, [-0.4, -0.2, 0.0, 1.0, 2.5]);
    assert_values::<Softplus, 5>(
        Z,
        [
            0.1269280110429725,
            0.3132616875182228,
            core::f64::consts::LN_2,
            1.3132616875182228,
            2.5788897342925496,
        ],
    );
    let swish = [
        -0.23840584404423512,
        -0.2689414213699951,
        0.0,
        0.7310585786300049,
        2.310354549946891,
    ];
    assert_values::<Swish, 5>(Z, swish);
    assert_values::<Silu, 5>(Z, swish);
    assert_values::<Mish, 5>(
        Z,
        [
            -0.2525014826957089,
            -0.3034014613741089,
            0.0,
            0.8650983882673103,
            2.471392304557881,
        ],
    );
    assert_values::<Gelu, 5>(
        Z,
        [
            -0.04550026389635842,
            -0.15865525393145705,
            0.0,
            0.8413447460685429,
            2.4844758366855597,
        ],
    );
}

#[test]
fn softmax_values_match_references() {
    // Two columns: softmax works on each sample separately, and adding a
    // constant to a column does not change its softmax.
    let z = SMatrix::<f64, 3, 2>::new(1.0, 101.0, 2.0, 102.0, 3.0, 103.0);
    let a = Softmax::forward(&z);
    let expected = [0.09003057317038046, 0.24472847105479764, 0.6652409557748219];
    for j in 0..2 {
        for i in 0..3 {
            assert!(
                (a[(i, j)] - expected[i]).abs() <= 4.0 * f64::EPSILON,
                "softmax column {j}: {a}"
            );
        }
        assert!((a.column(j).sum() - 1.0).abs() <= 4.0 * f64::EPSILON);
    }
}

/// Large inputs, where a naive formula overflows (`e^1000` in `f64`, `e^100` in
/// `f32`) or divides `inf` by `inf`.
const LARGE: [f64; 2] = [1e3, 1e30];

fn assert_close<T: Scalar>(what: &str, actual: T, expected: f64) {
    let actual = actual.to_f64();
    assert!(
        actual.is_finite() && (actual - expected).abs() <= 1e-6 * expected.abs().max(1.0),
        "{what} in {}: got {actual}, expected {expected}",
        T::NAME
    );
}

/// `A(±L)` and `A'(±L)` for `L` in [`LARGE`] are finite and equal the limits
/// `value(z)` and `slope(z)`.
fn check_extremes<T: Scalar, A: Activation>(value: fn(f64) -> f64, slope: fn(f64) -> f64) {
    for large in LARGE {
        for z in [large, -large] {
            let z_matrix = SMatrix::<T, 1, 1>::new(T::constant(z));
            let a = A::forward(&z_matrix);
            let grad = A::backward(&z_matrix, &a, &SMatrix::<T, 1, 1>::new(T::one()));
            assert_close(&format!("{}({z})", A::NAME), a[0], value(z));
            assert_close(&format!("{}'({z})", A::NAME), grad[0], slope(z));
        }
    }
}

fn extremes<T: Scalar>() {
    let positive = |z: f64| z.max(0.0);
    let step = |z: f64| if z > 0.0 { 1.0 } else { 0.0 };
    check_extremes::<T, Identity>(|z| z, |_| 1.0);
    check_extremes::<T, Sigmoid>(step, |_| 0.0);
    check_extremes::<T, Tanh>(f64::signum, |_| 0.0);
    check_extremes::<T, Relu>(positive, step);
    check_extremes::<T, LeakyRelu<1, 5>>(
        |z| if z > 0.0 { z } else { 0.2 * z },
        |z| if z > 0.0 { 1.0 } else { 0.2 },
    );
    check_extremes::<T, Softplus>(positive, step);
    check_extremes::<T, Swish>(positive, step);
    check_extremes::<T, Mish>(positive, step);
    check_extremes::<T, Gelu>(positive, step);
    check_extremes::<T, GeluTanh>(positive, step);

    // Softmax columns: a huge winner; a gap of 1 at 1e3 beside a huge loser;
    // three equal huge logits, positive and negative.
    for large in LARGE {
        let l = T::constant(large);
        let m = T::constant(1e3);
        let z = SMatrix::<T, 3, 4>::from_columns(&[
            [l, T::zero(), -l].into(),
            [m, m - T::one(), -l].into(),
            [l, l, l].into(),
            [-l, -l, -l].into(),
        ]);
        let a = Softmax::forward(&z);
        let third = 1.0 / 3.0;
        let expected = [
            [1.0, 0.0, 0.0],
            [0.7310585786300049, 0.2689414213699951, 0.0],
            [third, third, third],
            [third, third, third],
        ];
        for (j, column) in expected.iter().enumerate() {
            for (i, &value) in column.iter().enumerate() {
                assert_close(&format!("softmax at {large}, [{i}, {j}]"), a[(i, j)], value);
            }
        }
        let g = SMatrix::<T, 3, 4>::from_fn(|i, j| T::constant((i + j) as f64 - 2.0));
        let grad = Softmax::backward(&z, &a, &g);
        assert!(
            grad.iter().all(|v| v.is_finite()),
            "softmax backward: {grad}"
        );
    }
}

#[test]
fn extreme_inputs_give_finite_correct_values_in_f32() {
    extremes::<f32>();
}

#[test]
fn extreme_inputs_give_finite_correct_values_in_f64() {
    extremes::<f64>();
}

/// The largest errors of `A` in `f32` against `A` in `f64` at the same inputs,
/// the points of `[-12, 12]` 0.01 apart: of the forward value, relative; of
/// the backward step with upstream gradients `g` in `±[0.5, 2]`, relative to
/// `max(|dC/dz|, |g|)`, since derivatives written in terms of `a`
/// (`a (1 - a)`, `1 - a^2`) lose relative precision where they are small,
/// and terms like `z (1 - a)` (Swish, Mish) carry an absolute error of about
/// `|z| f32::EPSILON / 2`: up to `7e-7` at `|z| = 12`.
///
/// The `f64` path calls the `RealField` functions and the `f32` path the
/// branch-free `fast_exp`/`fast_tanh`, so this covers the latter.
fn max_f32_errors<A: Activation>() -> (f64, f64) {
    let points: Vec<f32> = (0..=2400).map(|k| -12.0 + 0.01 * k as f32).collect();
    let mut rng = Rng::new(0xF32);
    let (mut forward, mut backward) = (0.0f64, 0.0f64);
    let error = |actual: f32, exact: f64, scale: f64| {
        let error = (f64::from(actual) - exact).abs() / scale;
        if error.is_nan() { f64::INFINITY } else { error }
    };
    for chunk in points.chunks(12) {
        let z = SMatrix::<f32, 3, 4>::from_fn(|i, j| chunk[(i + 3 * j) % chunk.len()]);
        let g = SMatrix::<f32, 3, 4>::from_fn(|_, _| {
            let magnitude = rng.uniform(0.5, 2.0) as f32;
            if rng.below(2) == 0 {
                magnitude
            } else {
                -magnitude
            }
        });
        let (z64, g64) = (z.map(f64::from), g.map(f64::from));
        let (a, a64) = (A::forward(&z), A::forward(&z64));
        let grad = A::backward(&z, &a, &g);
        let grad64 = A::backward(&z64, &a64, &g64);
        for (&actual, &exact) in a.iter().zip(&a64) {
            forward = forward.max(error(actual, exact, exact.abs().max(f64::MIN_POSITIVE)));
        }
        for ((&actual, &exact), &g) in grad.iter().zip(&grad64).zip(&g64) {
            backward = backward.max(error(actual, exact, exact.abs().max(g.abs())));
        }
    }
    println!(
        "{} in f32: max error {forward:.3e} forward, {backward:.3e} backward",
        A::NAME
    );
    (forward, backward)
}

#[test]
fn f32_agrees_with_f64() {
    // GELU's value is the exception: rounding `-z / sqrt 2` to `f32` moves
    // `erfc` by `2 (z^2 / 2)` times that relative error, `1e-5` at `z = -12`.
    for (name, (forward, backward), forward_tolerance) in [
        (Sigmoid::NAME, max_f32_errors::<Sigmoid>(), 1e-6),
        (Tanh::NAME, max_f32_errors::<Tanh>(), 1e-6),
        (Softplus::NAME, max_f32_errors::<Softplus>(), 1e-6),
        (Swish::NAME, max_f32_errors::<Swish>(), 1e-6),
        (Mish::NAME, max_f32_errors::<Mish>(), 1e-6),
        (Gelu::NAME, max_f32_errors::<Gelu>(), 2e-5),
        (Softmax::NAME, max_f32_errors::<Softmax>(), 1e-6),
    ] {
        assert!(
            forward < forward_tolerance,
            "{name}: f32 forward off by {forward:e}"
        );
        assert!(backward < 2e-6, "{name}: f32 backward off by {backward:e}");
    }
}

/// A NaN input gives a NaN value and a NaN backward step, in every
/// activation: a sample containing NaN must not come out as a confident
/// class (ReLU once mapped NaN to 0).
#[test]
fn nan_propagates_through_every_activation() {
    fn check<A: Activation>(name: &str) {
        let z = SMatrix::<f64, 3, 1>::new(f64::NAN, 0.5, -0.5);
        let a = A::forward(&z);
        assert!(a[0].is_nan(), "{name}: value of NaN is {}", a[0]);
        // The loss of a NaN output is NaN, and so is its gradient.
        let g = SMatrix::<f64, 3, 1>::new(f64::NAN, 1.0, 1.0);
        let delta = A::backward(&z, &a, &g);
        assert!(delta[0].is_nan(), "{name}: backward of NaN is {}", delta[0]);
        let z32 = z.cast::<f32>();
        assert!(A::forward(&z32)[0].is_nan(), "{name}: f32 value of NaN");
    }
    check::<Identity>("identity");
    check::<Sigmoid>("sigmoid");
    check::<Tanh>("tanh");
    check::<Relu>("relu");
    check::<LeakyRelu>("leaky relu");
    check::<LeakyRelu<1, 5>>("leaky relu 1/5");
    check::<Softplus>("softplus");
    check::<Swish>("swish");
    check::<Silu>("silu");
    check::<Mish>("mish");
    check::<Gelu>("gelu");
    check::<GeluTanh>("gelu (tanh)");
    check::<Softmax>("softmax");
}

/// The derivatives of sigmoid and tanh in `f32`, relative to the exact
/// value, over a sweep into saturation: `a (1 - a)` and `1 - a^2` cancel
/// there (4e-4 off at `z = 4.8` and exactly 0 beyond `|z| = 9.1` for the
/// sigmoid), the forms from `z` do not.
#[test]
fn saturated_f32_derivatives_keep_their_relative_precision() {
    use network_core::ElementWise;
    fn check<A: ElementWise>(name: &str, limit: f32, exact: fn(f64) -> f64) {
        let mut worst = (0.0f64, 0.0f32);
        for k in 0..=4000 {
            let z = -limit + 2.0 * limit * k as f32 / 4000.0;
            let got = f64::from(A::derivative(z, A::value(z)));
            let want = exact(f64::from(z));
            // A NaN error counts as the worst.
            let error = (got - want).abs() / want;
            let error = if error.is_nan() { f64::INFINITY } else { error };
            if error > worst.0 {
                worst = (error, z);
            }
        }
        println!(
            "{name}: worst relative error {:.2e} at z = {}",
            worst.0, worst.1
        );
        assert!(
            worst.0 < 1e-5,
            "{name}'s f32 derivative is {:.2e} off at z = {}",
            worst.0,
            worst.1
        );
    }
    // sigma' = e / (1 + e)^2, tanh' = 4 e / (1 + e)^2, with e = exp(-|z|)
    // and exp(-2 |z|), in f64.
    check::<Sigmoid>("sigmoid", 30.0, |z| {
        let e = (-z.abs()).exp();
        e / ((1.0 + e) * (1.0 + e))
    });
    check::<Tanh>("tanh", 15.0, |z| {
        let e = (-2.0 * z.abs()).exp();
        4.0 * e / ((1.0 + e) * (1.0 + e))
    });
}

/// GELU's tanh approximation against PyTorch's formula
/// `0.5 z (1 + tanh(sqrt(2 / pi) (z + 0.044715 z^3)))` (reference values
/// from it in f64), and in f32 against f64 wherever its value is within
/// f32's range (below `z = -8` it underflows to 0 in f32, as it must).
#[test]
fn gelu_tanh_is_pytorchs_tanh_approximation() {
    use network_core::ElementWise;
    assert_values::<GeluTanh, 8>(
        [-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0],
        [
            -0.0036373920817729943,
            -0.15880800939172324,
            -0.15428599017485606,
            0.0,
            0.34571400982514394,
            0.8411919906082768,
            1.954597694087775,
            2.996362607918227,
        ],
    );
    let (mut value, mut slope) = (0.0f64, 0.0f64);
    for k in 0..=2000 {
        let z = -8.0 + 20.0 * k as f32 / 2000.0;
        let (a32, a64) = (GeluTanh::value(z), GeluTanh::value(f64::from(z)));
        let (d32, d64) = (
            GeluTanh::derivative(z, a32),
            GeluTanh::derivative(f64::from(z), a64),
        );
        value = value.max((f64::from(a32) - a64).abs() / a64.abs().max(1e-30));
        slope = slope.max((f64::from(d32) - d64).abs() / d64.abs().max(1.0));
    }
    assert!(value < 1e-5, "f32 value off by {value:e}");
    assert!(slope < 2e-6, "f32 derivative off by {slope:e}");
}
