//! Every loss: its output error `delta_L = dC/dz_L` against central finite
//! differences of the loss in `f64`, its values against references, its batch
//! mean, and its stability for logits of `1e4` and `1e30` in `f32` and `f64`.

use network_core::nalgebra::SMatrix;
use network_core::{
    Activation, Gelu, HalfSquaredError, Identity, LeakyRelu, Loss, MeanSquaredError, Mish, Relu,
    Rng, Scalar, Sigmoid, SigmoidCrossEntropy, Softmax, SoftmaxCrossEntropy, Softplus, Swish, Tanh,
};

mod common;

use common::{TOLERANCE, max_central_difference_error};

/// The loss as a function of the logits alone: `a = A(z)` is recomputed.
fn loss_of<L: Loss<A>, A: Activation, const OUT: usize, const B: usize>(
    z: &SMatrix<f64, OUT, B>,
    t: &SMatrix<f64, OUT, B>,
) -> f64 {
    L::loss(z, &A::forward(z), t)
}

/// The largest [`relative_error`] between `L::output_delta` and the central
/// difference of `L(z, A(z), t)` with respect to each entry of `z`.
fn max_delta_error<L: Loss<A>, A: Activation, const OUT: usize, const B: usize>(
    z: &SMatrix<f64, OUT, B>,
    t: &SMatrix<f64, OUT, B>,
) -> f64 {
    let delta = L::output_delta(z, &A::forward(z), t);
    max_central_difference_error(z, &delta, |plus, minus| {
        loss_of::<L, A, OUT, B>(plus, t) - loss_of::<L, A, OUT, B>(minus, t)
    })
}

/// What the targets of a loss look like.
#[derive(Clone, Copy)]
enum Targets {
    /// Any real numbers, in `[-1, 1]`.
    Real,
    /// One 1 per column, the rest 0.
    OneHot,
    /// A probability vector per column.
    Distribution,
    /// Each entry 0 or 1.
    Binary,
    /// Each entry in `[0, 1]`.
    Probability,
}

fn targets<const OUT: usize, const B: usize>(kind: Targets, rng: &mut Rng) -> SMatrix<f64, OUT, B> {
    let mut t = SMatrix::<f64, OUT, B>::zeros();
    for mut column in t.column_iter_mut() {
        match kind {
            Targets::Real => column.apply(|v| *v = rng.uniform(-1.0, 1.0)),
            Targets::OneHot => column[rng.below(OUT)] = 1.0,
            Targets::Distribution => {
                column.apply(|v| *v = rng.uniform(0.05, 1.0));
                let sum = column.sum();
                column /= sum;
            }
            Targets::Binary => column.apply(|v| *v = rng.below(2) as f64),
            Targets::Probability => column.apply(|v| *v = rng.uniform(0.0, 1.0)),
        }
    }
    t
}

/// Logits in `[-3, 3]`, at least `0.05` away from the ReLU kink at 0.
fn logits<const OUT: usize, const B: usize>(rng: &mut Rng) -> SMatrix<f64, OUT, B> {
    SMatrix::from_fn(|_, _| {
        let magnitude = rng.uniform(0.05, 3.0);
        if rng.below(2) == 0 {
            magnitude
        } else {
            -magnitude
        }
    })
}

/// Checks `L` with an `A` output layer over 50 random draws for batches of
/// 1 and 3 samples of 4 outputs; returns the largest error.
fn check<L: Loss<A>, A: Activation>(kind: Targets) -> f64 {
    let mut rng = Rng::new(0x10_55);
    let mut worst = 0.0f64;
    for _ in 0..50 {
        let (z, t) = (logits::<4, 1>(&mut rng), targets::<4, 1>(kind, &mut rng));
        worst = worst.max(max_delta_error::<L, A, 4, 1>(&z, &t));
        let (z, t) = (logits::<4, 3>(&mut rng), targets::<4, 3>(kind, &mut rng));
        worst = worst.max(max_delta_error::<L, A, 4, 3>(&z, &t));
    }
    println!("{} with {} output: max error {worst:.3e}", L::NAME, A::NAME);
    assert!(
        worst < TOLERANCE,
        "{} with a {} output: output_delta disagrees with finite differences (max error {worst:e})",
        L::NAME,
        A::NAME
    );
    worst
}

fn check_squared_error<L>(kind: Targets)
where
    L: Loss<Identity>
        + Loss<Sigmoid>
        + Loss<Tanh>
        + Loss<Relu>
        + Loss<LeakyRelu>
        + Loss<LeakyRelu<1, 5>>
        + Loss<Softplus>
        + Loss<Swish>
        + Loss<Mish>
        + Loss<Gelu>
        + Loss<Softmax>,
{
    check::<L, Identity>(kind);
    check::<L, Sigmoid>(kind);
    check::<L, Tanh>(kind);
    check::<L, Relu>(kind);
    check::<L, LeakyRelu>(kind);
    check::<L, LeakyRelu<1, 5>>(kind);
    check::<L, Softplus>(kind);
    check::<L, Swish>(kind);
    check::<L, Mish>(kind);
    check::<L, Gelu>(kind);
    check::<L, Softmax>(kind);
}

#[test]
fn half_squared_error_delta_matches_finite_differences() {
    check_squared_error::<HalfSquaredError>(Targets::Real);
}

#[test]
fn mean_squared_error_delta_matches_finite_differences() {
    check_squared_error::<MeanSquaredError>(Targets::Real);
}

#[test]
fn softmax_cross_entropy_delta_matches_finite_differences() {
    for kind in [Targets::OneHot, Targets::Distribution] {
        check::<SoftmaxCrossEntropy, Softmax>(kind);
        check::<SoftmaxCrossEntropy, Identity>(kind);
    }
}

#[test]
fn sigmoid_cross_entropy_delta_matches_finite_differences() {
    for kind in [Targets::Binary, Targets::Probability] {
        check::<SigmoidCrossEntropy, Sigmoid>(kind);
        check::<SigmoidCrossEntropy, Identity>(kind);
    }
}

fn assert_near(what: &str, actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= 1e-14 * expected.abs().max(1.0),
        "{what}: got {actual}, expected {expected}"
    );
}

#[test]
fn loss_values_match_references() {
    // Two samples of three outputs, targets zero: squared norms 14 and 2.
    let z = SMatrix::<f64, 3, 2>::new(1.0, 1.0, 2.0, -1.0, 3.0, 0.0);
    let zero = SMatrix::<f64, 3, 2>::zeros();
    assert_near(
        "half squared error",
        <HalfSquaredError as Loss<Identity>>::loss(&z, &z, &zero),
        (14.0 + 2.0) / (2.0 * 2.0),
    );
    assert_near(
        "mean squared error",
        <MeanSquaredError as Loss<Identity>>::loss(&z, &z, &zero),
        (14.0 + 2.0) / (3.0 * 2.0),
    );

    // Logits [1, 2, 3] with the third class correct: ln(e + e^2 + e^3) - 3.
    // Logits [0, 0, 0] with the first class correct: ln 3.
    let z = SMatrix::<f64, 3, 2>::new(1.0, 0.0, 2.0, 0.0, 3.0, 0.0);
    let t = SMatrix::<f64, 3, 2>::new(0.0, 1.0, 0.0, 0.0, 1.0, 0.0);
    let expected = (0.4076059644443803 + 3f64.ln()) / 2.0;
    let a = Softmax::forward(&z);
    assert_near(
        "softmax cross-entropy",
        <SoftmaxCrossEntropy as Loss<Softmax>>::loss(&z, &a, &t),
        expected,
    );
    assert_near(
        "softmax cross-entropy on logits",
        <SoftmaxCrossEntropy as Loss<Identity>>::loss(&z, &z, &t),
        expected,
    );

    // Logit 0 costs ln 2 whatever the target; logit 2 with target 1 costs
    // ln(1 + e^-2), with target 0 it costs ln(1 + e^2) = 2 + ln(1 + e^-2).
    let z = SMatrix::<f64, 3, 1>::new(0.0, 2.0, 2.0);
    let t = SMatrix::<f64, 3, 1>::new(0.3, 1.0, 0.0);
    let expected = core::f64::consts::LN_2 + 2.0 * 0.1269280110429725 + 2.0;
    let a = Sigmoid::forward(&z);
    assert_near(
        "sigmoid cross-entropy",
        <SigmoidCrossEntropy as Loss<Sigmoid>>::loss(&z, &a, &t),
        expected,
    );
    assert_near(
        "sigmoid cross-entropy on logits",
        <SigmoidCrossEntropy as Loss<Identity>>::loss(&z, &z, &t),
        expected,
    );
}

/// The loss of a batch is the mean of its samples' losses, and its delta is
/// each sample's delta divided by the batch size.
fn check_batch_mean<L: Loss<A>, A: Activation>(kind: Targets) {
    let mut rng = Rng::new(3);
    let z = logits::<4, 3>(&mut rng);
    let t = targets::<4, 3>(kind, &mut rng);
    let a = A::forward(&z);
    let batch_loss = L::loss(&z, &a, &t);
    let batch_delta = L::output_delta(&z, &a, &t);
    let mut mean = 0.0;
    for j in 0..3 {
        let (z_j, t_j) = (z.column(j).into_owned(), t.column(j).into_owned());
        let a_j = A::forward(&z_j);
        mean += L::loss(&z_j, &a_j, &t_j) / 3.0;
        let delta_j = L::output_delta(&z_j, &a_j, &t_j) / 3.0;
        for i in 0..4 {
            assert_near(
                &format!("{} delta [{i}, {j}]", L::NAME),
                batch_delta[(i, j)],
                delta_j[i],
            );
        }
    }
    assert_near(L::NAME, batch_loss, mean);
}

#[test]
fn batch_loss_is_the_mean_of_sample_losses() {
    check_batch_mean::<HalfSquaredError, Tanh>(Targets::Real);
    check_batch_mean::<MeanSquaredError, Softmax>(Targets::Real);
    check_batch_mean::<SoftmaxCrossEntropy, Softmax>(Targets::Distribution);
    check_batch_mean::<SoftmaxCrossEntropy, Identity>(Targets::OneHot);
    check_batch_mean::<SigmoidCrossEntropy, Sigmoid>(Targets::Probability);
    check_batch_mean::<SigmoidCrossEntropy, Identity>(Targets::Binary);
}

/// `|actual - expected| <= 1e-6 max(1, |expected|)` and finite.
fn assert_close<T: Scalar>(what: &str, actual: T, expected: f64) {
    let actual = actual.to_f64();
    assert!(
        actual.is_finite() && (actual - expected).abs() <= 1e-6 * expected.abs().max(1.0),
        "{what} in {}: got {actual}, expected {expected}",
        T::NAME
    );
}

fn assert_matrix_close<T: Scalar, const R: usize, const C: usize>(
    what: &str,
    actual: &SMatrix<T, R, C>,
    expected: [[f64; R]; C],
) {
    for (j, column) in expected.iter().enumerate() {
        for (i, &value) in column.iter().enumerate() {
            assert_close(&format!("{what} [{i}, {j}]"), actual[(i, j)], value);
        }
    }
}

/// Softmax cross-entropy of logits `[l, 0, -l]`: correct class 0 costs 0,
/// class 1 costs the gap `l`, class 2 costs `2l`; the deltas are `a - t`.
fn softmax_cross_entropy_is_stable<T: Scalar, A: Activation>(large: f64)
where
    SoftmaxCrossEntropy: Loss<A>,
{
    let l = T::constant(large);
    let z = SMatrix::<T, 3, 3>::from_columns(&[[l, T::zero(), -l].into(); 3]);
    let t = SMatrix::<T, 3, 3>::identity();
    let a = A::forward(&z);
    let what = format!("softmax cross-entropy with {} output at {large}", A::NAME);
    for j in 0..3 {
        let (z_j, t_j, a_j) = (
            z.column(j).into_owned(),
            t.column(j).into_owned(),
            a.column(j).into_owned(),
        );
        let loss = <SoftmaxCrossEntropy as Loss<A>>::loss(&z_j, &a_j, &t_j);
        assert_close(&format!("{what}, class {j}"), loss, j as f64 * large);
    }
    let loss = <SoftmaxCrossEntropy as Loss<A>>::loss(&z, &a, &t);
    assert_close(&format!("{what}, batch"), loss, large);
    let delta = <SoftmaxCrossEntropy as Loss<A>>::output_delta(&z, &a, &t);
    let third = 1.0 / 3.0;
    assert_matrix_close(
        &format!("{what}, delta"),
        &delta,
        [[0.0, 0.0, 0.0], [third, -third, 0.0], [third, 0.0, -third]],
    );
}

/// Sigmoid cross-entropy of logits `±l`: right costs 0, wrong costs `l`.
fn sigmoid_cross_entropy_is_stable<T: Scalar, A: Activation>(large: f64)
where
    SigmoidCrossEntropy: Loss<A>,
{
    let l = T::constant(large);
    let z = SMatrix::<T, 4, 1>::new(l, -l, l, -l);
    let t = SMatrix::<T, 4, 1>::new(T::one(), T::zero(), T::zero(), T::one());
    let a = A::forward(&z);
    let what = format!("sigmoid cross-entropy with {} output at {large}", A::NAME);
    let loss = <SigmoidCrossEntropy as Loss<A>>::loss(&z, &a, &t);
    assert_close(&what, loss, 2.0 * large);
    let delta = <SigmoidCrossEntropy as Loss<A>>::output_delta(&z, &a, &t);
    assert_matrix_close(&format!("{what}, delta"), &delta, [[0.0, 0.0, 1.0, -1.0]]);
}

/// Squared errors of saturated outputs: finite, with the saturated units'
/// deltas exactly zero.
fn squared_errors_are_stable<T: Scalar>(large: f64) {
    let l = T::constant(large);
    let z = SMatrix::<T, 2, 1>::new(l, -l);
    let t = SMatrix::<T, 2, 1>::new(T::zero(), T::one());
    let a = Sigmoid::forward(&z);
    let what = format!("half squared error with sigmoid output at {large}");
    assert_close(
        &what,
        <HalfSquaredError as Loss<Sigmoid>>::loss(&z, &a, &t),
        1.0,
    );
    let delta = <HalfSquaredError as Loss<Sigmoid>>::output_delta(&z, &a, &t);
    assert_matrix_close(&format!("{what}, delta"), &delta, [[0.0, 0.0]]);

    let a = Softmax::forward(&z);
    let what = format!("mean squared error with softmax output at {large}");
    assert_close(
        &what,
        <MeanSquaredError as Loss<Softmax>>::loss(&z, &a, &t),
        1.0,
    );
    let delta = <MeanSquaredError as Loss<Softmax>>::output_delta(&z, &a, &t);
    assert_matrix_close(&format!("{what}, delta"), &delta, [[0.0, 0.0]]);
}

fn stable<T: Scalar>() {
    for large in [1e4, 1e30] {
        softmax_cross_entropy_is_stable::<T, Softmax>(large);
        softmax_cross_entropy_is_stable::<T, Identity>(large);
        sigmoid_cross_entropy_is_stable::<T, Sigmoid>(large);
        sigmoid_cross_entropy_is_stable::<T, Identity>(large);
        squared_errors_are_stable::<T>(large);
    }
}

#[test]
fn large_logits_give_finite_correct_losses_in_f32() {
    stable::<f32>();
}

#[test]
fn large_logits_give_finite_correct_losses_in_f64() {
    stable::<f64>();
}

/// The largest errors of `L` in `f32` against `L` in `f64` at the same logits
/// (in `[-12, 12]`) and targets, over 50 batches of 3 samples of 10 outputs:
/// of the loss, relative; of `delta_L`, relative to `1/B`, the scale of
/// `(a - t) / B`.
///
/// The `f64` path calls the `RealField` functions and the `f32` path the
/// branch-free `fast_exp`, so this covers the latter.
fn max_f32_errors<L: Loss<A>, A: Activation>(kind: Targets) -> (f64, f64) {
    let mut rng = Rng::new(0xF32);
    let (mut loss_error, mut delta_error) = (0.0f64, 0.0f64);
    for _ in 0..50 {
        let z = (logits::<10, 3>(&mut rng) * 4.0).map(|v| v as f32);
        let t = targets::<10, 3>(kind, &mut rng).map(|v| v as f32);
        let (z64, t64) = (z.map(f64::from), t.map(f64::from));
        let (a, a64) = (A::forward(&z), A::forward(&z64));
        let (loss, loss64) = (L::loss(&z, &a, &t), L::loss(&z64, &a64, &t64));
        loss_error = loss_error.max((f64::from(loss) - loss64).abs() / loss64.abs());
        let delta = L::output_delta(&z, &a, &t);
        let delta64 = L::output_delta(&z64, &a64, &t64);
        for (&actual, &exact) in delta.iter().zip(&delta64) {
            delta_error = delta_error.max((f64::from(actual) - exact).abs() * 3.0);
        }
    }
    println!(
        "{} with {} output in f32: max error {loss_error:.3e} loss, {delta_error:.3e} delta",
        L::NAME,
        A::NAME
    );
    (loss_error, delta_error)
}

#[test]
fn f32_agrees_with_f64() {
    for (loss, delta) in [
        max_f32_errors::<SoftmaxCrossEntropy, Softmax>(Targets::OneHot),
        max_f32_errors::<SoftmaxCrossEntropy, Identity>(Targets::Distribution),
        max_f32_errors::<SigmoidCrossEntropy, Sigmoid>(Targets::Binary),
        max_f32_errors::<SigmoidCrossEntropy, Identity>(Targets::Probability),
    ] {
        assert!(
            loss < 1e-6 && delta < 1e-6,
            "loss {loss:e}, delta {delta:e}"
        );
    }
}
