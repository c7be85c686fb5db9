//! Gradient clipping by global norm.

use crate::{Parameters, Scalar, StepError};

/// Scales the gradients down so that their global Euclidean norm (over every
/// parameter of every layer) is at most `max_norm`, as PyTorch's
/// `clip_grad_norm_`: if `norm > max_norm`, every gradient is multiplied by
/// `max_norm / (norm + 1e-6)`.
///
/// Returns the norm before clipping. The sum of squares is accumulated in
/// `f64`, so `f32` gradients do not overflow it early.
///
/// ```
/// use network_core::{Gradients, clip_global_norm};
/// # use network_core::Identity;
/// # network_macros::network! { #[network(crate = network_core)] struct Line { input: 1, output: Dense<1, Identity> } }
///
/// let mut g = LineGradients::<f64>::zeros();
/// g.output.w[0] = 3.0;
/// g.output.b[0] = 4.0;
/// assert_eq!(clip_global_norm(&mut g, 1.0), Ok(5.0));
/// assert!((g.output.w[0] - 0.6).abs() < 1e-6 && (g.output.b[0] - 0.8).abs() < 1e-6);
/// ```
///
/// # Errors
///
/// [`StepError::NonFiniteGradient`] if the norm is NaN or infinite and
/// [`StepError::InvalidClipNorm`] if `max_norm` is not a positive number; in
/// both cases the gradients are left as they were.
pub fn clip_global_norm<T: Scalar, G: Parameters<T>>(
    gradients: &mut G,
    max_norm: T,
) -> Result<T, StepError> {
    let max_norm = max_norm.to_f64();
    if !(max_norm > 0.0 && max_norm.is_finite()) {
        return Err(StepError::InvalidClipNorm);
    }
    let norm = libm::sqrt(
        gradients
            .slices()
            .flatten()
            .map(|g| g.to_f64() * g.to_f64())
            .sum::<f64>(),
    );
    if !norm.is_finite() {
        return Err(StepError::NonFiniteGradient);
    }
    let coefficient = max_norm / (norm + 1e-6);
    if coefficient < 1.0 {
        gradients.scale(T::constant(coefficient));
    }
    Ok(T::constant(norm))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::test_util::{Tiny, values};

    #[test]
    fn clips_only_above_the_limit() {
        let mut g = Tiny([3.0, 0.0], [-4.0]);
        assert_eq!(clip_global_norm(&mut g, 10.0), Ok(5.0));
        assert_eq!(values(&g), [3.0, 0.0, -4.0]);
        assert_eq!(clip_global_norm(&mut g, 2.5), Ok(5.0));
        let scale = 2.5 / (5.0 + 1e-6);
        assert_eq!(values(&g), [3.0 * scale, 0.0, -4.0 * scale]);
        let norm = values(&g).iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!((norm - 2.5).abs() < 1e-6);
    }

    #[test]
    fn refuses_bad_input_without_touching_gradients() {
        let mut g = Tiny([3.0, f64::NAN], [-4.0]);
        assert_eq!(
            clip_global_norm(&mut g, 1.0),
            Err(StepError::NonFiniteGradient)
        );
        assert!(g.0[1].is_nan() && g.0[0] == 3.0 && g.1[0] == -4.0);
        let mut g = Tiny([3.0, 0.0], [-4.0]);
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(
                clip_global_norm(&mut g, bad),
                Err(StepError::InvalidClipNorm)
            );
            assert_eq!(values(&g), [3.0, 0.0, -4.0]);
        }
    }

    struct Single([f32; 2]);

    impl Parameters<f32> for Single {
        const PARAMETERS: usize = 2;
        fn slices(&self) -> impl Iterator<Item = &[f32]> {
            core::iter::once(&self.0[..])
        }
        fn slices_mut(&mut self) -> impl Iterator<Item = &mut [f32]> {
            core::iter::once(&mut self.0[..])
        }
    }

    #[test]
    fn f32_gradients_do_not_overflow_the_sum() {
        // 3e20^2 overflows f32, but not the f64 accumulator.
        let mut g = Single([3e20, 4e20]);
        let norm = clip_global_norm(&mut g, 1.0).unwrap();
        assert!((norm / 5e20 - 1.0).abs() < 1e-6);
        assert!((g.0[0] - 0.6).abs() < 1e-6 && (g.0[1] - 0.8).abs() < 1e-6);
    }
}
