//! Gradient checking: back-propagation against central finite differences.

use nalgebra::SMatrix;

use crate::{Cache, Gradients, Loss, Network, Noise, Parameters, Scalar};

/// The largest disagreement found among a set of derivatives.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Disagreement {
    /// `max |analytic - numeric| / max(1, |analytic|, |numeric|)`: relative
    /// for large derivatives, absolute for small ones.
    pub max_error: f64,
    /// The flat index (in [`Parameters::slices`] order, or column-major over
    /// the inputs) where `max_error` was found.
    pub worst_index: usize,
    /// How many derivatives were compared.
    pub checked: usize,
}

impl Disagreement {
    fn record(&mut self, index: usize, analytic: f64, numeric: f64) {
        let scale = 1f64.max(analytic.abs()).max(numeric.abs());
        let error = (analytic - numeric).abs() / scale;
        // A NaN error is recorded as infinite, so it cannot hide.
        let error = if error.is_nan() { f64::INFINITY } else { error };
        if error > self.max_error {
            self.max_error = error;
            self.worst_index = index;
        }
        self.checked += 1;
    }
}

/// The result of [`check_gradients`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GradientCheck {
    /// Every parameter's `dL/dp`.
    pub parameters: Disagreement,
    /// Every input's `dL/dx`.
    pub inputs: Disagreement,
}

impl GradientCheck {
    /// The larger of the two maximum errors.
    pub fn max_error(&self) -> f64 {
        self.parameters.max_error.max(self.inputs.max_error)
    }
}

/// Compares the back-propagated gradients of the mean loss `L` with central
/// finite differences `(L(p + h) - L(p - h)) / 2h`, for every parameter and
/// every input.
///
/// The network is perturbed in place and restored bit for bit. Use `f64`
/// and `h` around `1e-6`. A network with dropout is checked as a training
/// pass with one fixed key: every loss is computed with the same masks.
pub fn check_gradients<T, N, L, const IN: usize, const OUT: usize, const B: usize>(
    network: &mut N,
    x: &SMatrix<T, IN, B>,
    targets: &SMatrix<T, OUT, B>,
    h: T,
) -> GradientCheck
where
    T: Scalar,
    N: Network<T, IN, OUT>,
    L: Loss<N::OutputActivation>,
{
    let noise = if N::RANDOM {
        Noise::seeded(0x6772_6164)
    } else {
        Noise::OFF
    };
    let mut grads = N::Gradients::zeros();
    let cache = network.forward_cache(x, noise);
    let delta_output = L::output_delta(cache.logits(), cache.output(), targets);
    let grad_input = network.backward_delta_into(x, &cache, &delta_output, &mut grads);
    let two_h = (h + h).to_f64();

    let mut report = GradientCheck::default();
    let mut index = 0;
    for (slice_index, grad_slice) in grads.slices().enumerate() {
        for (i, analytic) in grad_slice.iter().enumerate() {
            let original = parameter(network, slice_index, i);
            set_parameter(network, slice_index, i, original + h);
            let plus = loss::<T, N, L, IN, OUT, B>(network, x, targets, noise).to_f64();
            set_parameter(network, slice_index, i, original - h);
            let minus = loss::<T, N, L, IN, OUT, B>(network, x, targets, noise).to_f64();
            set_parameter(network, slice_index, i, original);
            report
                .parameters
                .record(index, analytic.to_f64(), (plus - minus) / two_h);
            index += 1;
        }
    }

    let mut shifted = *x;
    for i in 0..IN * B {
        let original = shifted[i];
        shifted[i] = original + h;
        let plus = loss::<T, N, L, IN, OUT, B>(network, &shifted, targets, noise).to_f64();
        shifted[i] = original - h;
        let minus = loss::<T, N, L, IN, OUT, B>(network, &shifted, targets, noise).to_f64();
        shifted[i] = original;
        report
            .inputs
            .record(i, grad_input[i].to_f64(), (plus - minus) / two_h);
    }
    report
}

/// The mean loss `L` of a pass made with `noise`.
fn loss<T, N, L, const IN: usize, const OUT: usize, const B: usize>(
    network: &N,
    x: &SMatrix<T, IN, B>,
    targets: &SMatrix<T, OUT, B>,
    noise: Noise,
) -> T
where
    T: Scalar,
    N: Network<T, IN, OUT>,
    L: Loss<N::OutputActivation>,
{
    let cache = network.forward_cache(x, noise);
    L::loss(cache.logits(), cache.output(), targets)
}

fn parameter<T: Scalar, P: Parameters<T>>(p: &P, slice: usize, i: usize) -> T {
    p.slices().nth(slice).map_or(T::zero(), |s| s[i])
}

fn set_parameter<T: Scalar, P: Parameters<T>>(p: &mut P, slice: usize, i: usize, value: T) {
    if let Some(s) = p.slices_mut().nth(slice) {
        s[i] = value;
    }
}
