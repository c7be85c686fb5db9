//! Loss functions `C(a_L, t)` and the output error `delta_L = dC/dz_L`.
//!
//! The loss of a batch is the mean of the per-sample losses, and
//! [`Loss::output_delta`] is the gradient of that mean; back-propagating it
//! therefore yields the mean of the per-sample gradients.
//!
//! A loss is typed by the output activation it is computed with: the
//! cross-entropies are fused with their activation (`delta_L = (a_L - t) / B`),
//! so no `ln(0)` or `0/0` can appear, and using one with an output layer it
//! does not fit is a compile error.

use nalgebra::SMatrix;

use crate::Scalar;
use crate::activation::{Activation, Identity, Sigmoid, Softmax, sigmoid, softplus};

/// A loss function for a network whose output layer uses activation `A`.
///
/// `z` is the output layer's pre-activation, `a = A(z)` its output and `t` the
/// targets, each `OUT` units by `B` samples.
#[diagnostic::on_unimplemented(
    message = "the loss `{Self}` cannot be used with a `{A}` output layer",
    label = "this loss does not fit the network's output activation",
    note = "`SoftmaxCrossEntropy` needs a `Softmax` (or `Identity`, for logits) output layer; `SigmoidCrossEntropy` needs `Sigmoid` (or `Identity`); `HalfSquaredError` and `MeanSquaredError` fit any output layer"
)]
// `A` has no `Activation` bound here (every impl and every user of a loss
// has one): with it, an output layer's type that is not an activation was
// a second error, at each `Loss<A>` the generated code names.
pub trait Loss<A> {
    /// A short human-readable name.
    const NAME: &'static str;

    /// The mean over the `B` samples of the per-sample loss.
    fn loss<T: Scalar, const OUT: usize, const B: usize>(
        z: &SMatrix<T, OUT, B>,
        a: &SMatrix<T, OUT, B>,
        t: &SMatrix<T, OUT, B>,
    ) -> T;

    /// `delta_L = dC/dz_L` of the mean loss returned by [`Loss::loss`].
    fn output_delta<T: Scalar, const OUT: usize, const B: usize>(
        z: &SMatrix<T, OUT, B>,
        a: &SMatrix<T, OUT, B>,
        t: &SMatrix<T, OUT, B>,
    ) -> SMatrix<T, OUT, B>;

    /// For a network with one output, whether a sample with output `a`
    /// (pre-activation `z`) is predicted as class 1: `a >= 0.5`, a
    /// probability, unless the loss says otherwise (on logits, `z >= 0`).
    fn predicts_one<T: Scalar>(z: T, a: T) -> bool {
        let _ = z;
        a >= T::constant(0.5)
    }
}

fn batch_size<T: Scalar, const B: usize>() -> T {
    T::constant(B as f64)
}

/// Half squared error `1/2 ||a - t||^2` per sample, averaged over the batch.
///
/// Its gradient with respect to the output is simply `a - t`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HalfSquaredError;

#[diagnostic::do_not_recommend]
impl<A: Activation> Loss<A> for HalfSquaredError {
    const NAME: &'static str = "half squared error";

    fn loss<T: Scalar, const OUT: usize, const B: usize>(
        _z: &SMatrix<T, OUT, B>,
        a: &SMatrix<T, OUT, B>,
        t: &SMatrix<T, OUT, B>,
    ) -> T {
        (a - t).norm_squared() / (T::constant(2.0) * batch_size::<T, B>())
    }

    fn output_delta<T: Scalar, const OUT: usize, const B: usize>(
        z: &SMatrix<T, OUT, B>,
        a: &SMatrix<T, OUT, B>,
        t: &SMatrix<T, OUT, B>,
    ) -> SMatrix<T, OUT, B> {
        let grad_a = (a - t) / batch_size::<T, B>();
        A::backward(z, a, &grad_a)
    }
}

/// Mean squared error `1/OUT ||a - t||^2` per sample, averaged over the batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MeanSquaredError;

#[diagnostic::do_not_recommend]
impl<A: Activation> Loss<A> for MeanSquaredError {
    const NAME: &'static str = "mean squared error";

    fn loss<T: Scalar, const OUT: usize, const B: usize>(
        _z: &SMatrix<T, OUT, B>,
        a: &SMatrix<T, OUT, B>,
        t: &SMatrix<T, OUT, B>,
    ) -> T {
        (a - t).norm_squared() / T::constant((OUT * B) as f64)
    }

    fn output_delta<T: Scalar, const OUT: usize, const B: usize>(
        z: &SMatrix<T, OUT, B>,
        a: &SMatrix<T, OUT, B>,
        t: &SMatrix<T, OUT, B>,
    ) -> SMatrix<T, OUT, B> {
        let grad_a = (a - t) * (T::constant(2.0) / T::constant((OUT * B) as f64));
        A::backward(z, a, &grad_a)
    }
}

/// Cross-entropy `-sum_i t_i ln softmax(z)_i` per sample, averaged over the batch.
///
/// Targets are one-hot (or any probability vector). Computed from the logits
/// with log-sum-exp, so large logits give neither overflow nor NaN; the fused
/// gradient is `softmax(z) - t` (scaled by `1/B`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SoftmaxCrossEntropy;

/// The mean cross-entropy `ln(sum_i e^(z_i)) sum(t) - t·z` of the logits `z`
/// whose softmax is `softmax`.
///
/// The log-sum-exp is read off the softmax, which has already paid for the
/// exponentials: the largest probability is `1 / sum_i e^(z_i - max z)`, so
/// `ln sum_i e^(z_i) = max z - ln(max softmax)`. That probability is at least
/// `1/OUT`, so its logarithm is finite even where the others underflowed to 0.
///
/// The column sums go to arrays in one loop and the logarithms, calls the
/// vectoriser cannot see through, are taken in a second: in one loop the
/// calls kept the sums scalar, and workload B's 10x32 loss took about
/// 350 ns, 286 ns split (Zen 5, `target-cpu=native`).
fn softmax_cross_entropy<T: Scalar, const OUT: usize, const B: usize>(
    z: &SMatrix<T, OUT, B>,
    softmax: &SMatrix<T, OUT, B>,
    t: &SMatrix<T, OUT, B>,
) -> T {
    if !cfg!(vector_registers) {
        // Nothing is vectorised on such a target (a Cortex-M4): one loop,
        // without the arrays, is the smaller code.
        let mut total = T::zero();
        for j in 0..B {
            let (z_j, t_j) = (z.column(j), t.column(j));
            let log_sum_exp = z_j.max() - softmax.column(j).max().ln();
            total += log_sum_exp * t_j.sum() - t_j.dot(&z_j);
        }
        return total / batch_size::<T, B>();
    }
    if OUT == 0 {
        return T::zero();
    }
    let mut largest_z = [T::zero(); B];
    let mut largest_softmax = [T::zero(); B];
    let mut totals = [T::zero(); B];
    let mut dots = [T::zero(); B];
    let columns = z
        .as_slice()
        .chunks_exact(OUT)
        .zip(softmax.as_slice().chunks_exact(OUT))
        .zip(t.as_slice().chunks_exact(OUT));
    for (j, ((z_j, a_j), t_j)) in columns.enumerate() {
        let (mut max_z, mut max_a) = (z_j[0], a_j[0]);
        let (mut total, mut dot) = (T::zero(), T::zero());
        for ((&z, &a), &t) in z_j.iter().zip(a_j).zip(t_j) {
            max_z = if z > max_z { z } else { max_z };
            max_a = if a > max_a { a } else { max_a };
            total += t;
            dot += t * z;
        }
        (largest_z[j], largest_softmax[j]) = (max_z, max_a);
        (totals[j], dots[j]) = (total, dot);
    }
    let mut total = T::zero();
    for j in 0..B {
        let log_sum_exp = largest_z[j] - largest_softmax[j].ln();
        total += log_sum_exp * totals[j] - dots[j];
    }
    total / batch_size::<T, B>()
}

/// `(softmax(z) * sum(t) - t) / B`: the gradient of the mean cross-entropy.
///
/// Where every target column sums to exactly 1 (one-hot targets, or
/// probabilities that happen to), `softmax * 1 - t` is `softmax - t`
/// exactly, and the delta is one loop over the whole block. A loop per
/// column instead was vectorised across the columns, with gathers and
/// scatters at the stride of a column: 320 elements of workload B (10
/// outputs, 32 samples) took about 260 ns that way, 80 ns in one loop
/// (Zen 5, `target-cpu=native`).
fn softmax_cross_entropy_delta<T: Scalar, const OUT: usize, const B: usize>(
    softmax: &SMatrix<T, OUT, B>,
    t: &SMatrix<T, OUT, B>,
) -> SMatrix<T, OUT, B> {
    // Without vector registers (a Cortex-M4) there are no gathers to save,
    // and the check would only add code.
    if OUT == 0 || !cfg!(vector_registers) {
        return softmax_cross_entropy_delta_by_column(softmax, t);
    }
    // Summed as `t.column(j).sum()` is, from zero in order.
    let mut totals = [T::zero(); B];
    for (total, column) in totals.iter_mut().zip(t.as_slice().chunks_exact(OUT)) {
        *total = column.iter().fold(T::zero(), |sum, &v| sum + v);
    }
    if totals.iter().all(|&total| total == T::one()) {
        let batch = batch_size::<T, B>();
        let mut delta = SMatrix::<T, OUT, B>::zeros();
        for ((d, &a), &t) in delta
            .as_mut_slice()
            .iter_mut()
            .zip(softmax.as_slice())
            .zip(t.as_slice())
        {
            *d = (a - t) / batch;
        }
        return delta;
    }
    softmax_cross_entropy_delta_by_column(softmax, t)
}

/// [`softmax_cross_entropy_delta`] column by column, for any targets.
fn softmax_cross_entropy_delta_by_column<T: Scalar, const OUT: usize, const B: usize>(
    softmax: &SMatrix<T, OUT, B>,
    t: &SMatrix<T, OUT, B>,
) -> SMatrix<T, OUT, B> {
    let mut delta = *softmax;
    for j in 0..B {
        let total = t.column(j).sum();
        let mut column = delta.column_mut(j);
        column *= total;
        column -= t.column(j);
    }
    delta / batch_size::<T, B>()
}

#[diagnostic::do_not_recommend]
impl Loss<Softmax> for SoftmaxCrossEntropy {
    const NAME: &'static str = "softmax cross-entropy";

    fn loss<T: Scalar, const OUT: usize, const B: usize>(
        z: &SMatrix<T, OUT, B>,
        a: &SMatrix<T, OUT, B>,
        t: &SMatrix<T, OUT, B>,
    ) -> T {
        softmax_cross_entropy(z, a, t)
    }

    fn output_delta<T: Scalar, const OUT: usize, const B: usize>(
        _z: &SMatrix<T, OUT, B>,
        a: &SMatrix<T, OUT, B>,
        t: &SMatrix<T, OUT, B>,
    ) -> SMatrix<T, OUT, B> {
        softmax_cross_entropy_delta(a, t)
    }
}

/// With an `Identity` output layer the network outputs logits and the loss
/// applies the softmax itself.
#[diagnostic::do_not_recommend]
impl Loss<Identity> for SoftmaxCrossEntropy {
    const NAME: &'static str = "softmax cross-entropy (on logits)";

    fn loss<T: Scalar, const OUT: usize, const B: usize>(
        z: &SMatrix<T, OUT, B>,
        _a: &SMatrix<T, OUT, B>,
        t: &SMatrix<T, OUT, B>,
    ) -> T {
        softmax_cross_entropy(z, &Softmax::forward(z), t)
    }

    fn output_delta<T: Scalar, const OUT: usize, const B: usize>(
        z: &SMatrix<T, OUT, B>,
        _a: &SMatrix<T, OUT, B>,
        t: &SMatrix<T, OUT, B>,
    ) -> SMatrix<T, OUT, B> {
        softmax_cross_entropy_delta(&Softmax::forward(z), t)
    }
}

/// Binary cross-entropy `-[t ln s + (1 - t) ln(1 - s)]` with `s = sigmoid(z)`,
/// summed over the outputs and averaged over the batch.
///
/// Computed from the logits as `softplus(z) - t z`, which never takes `ln 0`;
/// the fused gradient is `sigmoid(z) - t` (scaled by `1/B`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigmoidCrossEntropy;

fn sigmoid_cross_entropy<T: Scalar, const OUT: usize, const B: usize>(
    z: &SMatrix<T, OUT, B>,
    t: &SMatrix<T, OUT, B>,
) -> T {
    z.zip_fold(t, T::zero(), |acc, z, t| acc + softplus(z) - t * z) / batch_size::<T, B>()
}

#[diagnostic::do_not_recommend]
impl Loss<Sigmoid> for SigmoidCrossEntropy {
    const NAME: &'static str = "sigmoid cross-entropy";

    fn loss<T: Scalar, const OUT: usize, const B: usize>(
        z: &SMatrix<T, OUT, B>,
        _a: &SMatrix<T, OUT, B>,
        t: &SMatrix<T, OUT, B>,
    ) -> T {
        sigmoid_cross_entropy(z, t)
    }

    fn output_delta<T: Scalar, const OUT: usize, const B: usize>(
        _z: &SMatrix<T, OUT, B>,
        a: &SMatrix<T, OUT, B>,
        t: &SMatrix<T, OUT, B>,
    ) -> SMatrix<T, OUT, B> {
        (a - t) / batch_size::<T, B>()
    }
}

/// With an `Identity` output layer the network outputs logits and the loss
/// applies the sigmoid itself.
#[diagnostic::do_not_recommend]
impl Loss<Identity> for SigmoidCrossEntropy {
    const NAME: &'static str = "sigmoid cross-entropy (on logits)";

    /// The logit `z` is at least 0: the probability `sigmoid(z)` is at
    /// least one half.
    fn predicts_one<T: Scalar>(z: T, _a: T) -> bool {
        z >= T::zero()
    }

    fn loss<T: Scalar, const OUT: usize, const B: usize>(
        z: &SMatrix<T, OUT, B>,
        _a: &SMatrix<T, OUT, B>,
        t: &SMatrix<T, OUT, B>,
    ) -> T {
        sigmoid_cross_entropy(z, t)
    }

    fn output_delta<T: Scalar, const OUT: usize, const B: usize>(
        z: &SMatrix<T, OUT, B>,
        _a: &SMatrix<T, OUT, B>,
        t: &SMatrix<T, OUT, B>,
    ) -> SMatrix<T, OUT, B> {
        z.zip_map(t, |z, t| sigmoid(z) - t) / batch_size::<T, B>()
    }
}
