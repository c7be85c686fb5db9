//! Inverted dropout: `z = m ∘ a_prev / (1 - p)` in training, `z = a_prev` at
//! inference, `a = z`.

use core::fmt;
use core::marker::PhantomData;

use nalgebra::SMatrix;

use crate::Zeroable;
use crate::{InitScheme, Layer, Noise, Rng, Scalar};

use super::NoGradients;

/// The rate of one dropout layer, as a type: `network!` writes one for each
/// `Dropout<p>` it declares.
pub trait DropoutRate: 'static {
    /// `p`, the probability that a value is dropped: in `[0, 1)`.
    const RATE: f64;
}

/// Inverted dropout over `N` values per sample (Srivastava et al., 2014, as
/// PyTorch's `nn.Dropout`).
///
/// In a training pass (one given a [`Noise`] key), each value is kept with
/// probability `1 - p` and scaled by `1 / (1 - p)`, or set to zero:
/// `z = m ∘ a_prev / (1 - p)` with `m_i ~ Bernoulli(1 - p)`, so the
/// expected value of `z` is `a_prev`; at inference (`Noise::OFF`: `forward`,
/// `loss`, evaluation) `z = a_prev`. `a = z`. Its backward pass is the same
/// mask: `dC/da_prev = m ∘ delta / (1 - p)`; the mask is regenerated from the
/// key the cache keeps, never stored. `p` is a multiple of `2^-24` (the
/// nearest one to the declared rate). No parameters, no memory.
pub struct Dropout<T, const N: usize, R> {
    marker: PhantomData<fn() -> (T, R)>,
}

impl<T: Scalar, const N: usize, R: DropoutRate> Dropout<T, N, R> {
    /// A value is kept when its 24 random bits are below this.
    const KEEP_BELOW: u32 = {
        assert!(
            R::RATE >= 0.0 && R::RATE < 1.0,
            "a dropout rate is in [0, 1)"
        );
        let keep = (1.0 - R::RATE) * (1u32 << 24) as f64;
        // Rounded to the nearest integer, at least 1 (a rate below 1 keeps
        // something).
        let below = (keep + 0.5) as u32;
        if below == 0 { 1 } else { below }
    };

    /// The layer (it has no parameters).
    pub const fn new() -> Self {
        let _ = Self::KEEP_BELOW;
        Dropout {
            marker: PhantomData,
        }
    }

    /// `1 / (1 - p)` for the `p` actually applied.
    fn scale() -> T {
        T::constant((1u32 << 24) as f64 / Self::KEEP_BELOW as f64)
    }

    /// `m ∘ v / (1 - p)`, with the mask of `noise`; `v` unchanged without a
    /// key.
    fn masked<const B: usize>(v: &SMatrix<T, N, B>, noise: Noise, out: &mut SMatrix<T, N, B>) {
        out.as_mut_slice().copy_from_slice(v.as_slice());
        if !noise.is_on() {
            return;
        }
        let scale = Self::scale();
        for (i, value) in out.as_mut_slice().iter_mut().enumerate() {
            let kept = noise.bits24(i).is_some_and(|bits| bits < Self::KEEP_BELOW);
            *value = if kept { *value * scale } else { T::zero() };
        }
    }
}

impl<T: Scalar, const N: usize, R: DropoutRate> Default for Dropout<T, N, R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, const N: usize, R> Clone for Dropout<T, N, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, const N: usize, R> Copy for Dropout<T, N, R> {}

impl<T, const N: usize, R> PartialEq for Dropout<T, N, R> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T, const N: usize, R: DropoutRate> fmt::Debug for Dropout<T, N, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dropout").field("rate", &R::RATE).finish()
    }
}

no_parameters!(Dropout<T, N, R>, [T: Scalar, const N: usize, R]);

impl<T: Scalar, const N: usize, R: DropoutRate> Layer<T, N, N> for Dropout<T, N, R> {
    type Gradients = NoGradients;

    fn zeroed() -> Self {
        Self::new()
    }

    fn init(&mut self, _scheme: InitScheme, _rng: &mut Rng) {}

    /// `z = m ∘ a_prev / (1 - p)` with a key, `a_prev` without.
    fn pre_activation_into<const B: usize>(
        &self,
        a_prev: &SMatrix<T, N, B>,
        noise: Noise,
        z: &mut SMatrix<T, N, B>,
    ) {
        Self::masked(a_prev, noise, z);
    }

    fn parameter_gradients_into<const B: usize>(
        &self,
        _delta: &SMatrix<T, N, B>,
        _a_prev: &SMatrix<T, N, B>,
        _grads: &mut NoGradients,
    ) {
    }

    /// `m ∘ delta / (1 - p)`, with the forward pass's mask.
    fn input_gradient_into<const B: usize>(
        &self,
        delta: &SMatrix<T, N, B>,
        _a_prev: &SMatrix<T, N, B>,
        noise: Noise,
        grad: &mut SMatrix<T, N, B>,
    ) {
        Self::masked(delta, noise, grad);
    }
}

// SAFETY: a `PhantomData` alone, zero-sized.
unsafe impl<T: Scalar + Zeroable, const N: usize, R> Zeroable for Dropout<T, N, R> {}

#[cfg(test)]
mod tests {
    use super::*;

    struct Half;
    impl DropoutRate for Half {
        const RATE: f64 = 0.5;
    }
    struct Never;
    impl DropoutRate for Never {
        const RATE: f64 = 0.0;
    }

    type Half64 = Dropout<f64, 1000, Half>;

    #[test]
    fn inference_is_the_identity() {
        let x = SMatrix::<f64, 1000, 2>::from_fn(|i, j| (i + 7 * j) as f64 - 3.0);
        let layer = Half64::new();
        assert_eq!(layer.pre_activation(&x, Noise::OFF), x);
        assert_eq!(layer.input_gradient(&x, &x, Noise::OFF), x);
    }

    #[test]
    fn training_keeps_about_half_scaled_by_two_with_the_same_mask_backward() {
        let x = SMatrix::<f64, 1000, 2>::from_element(1.5);
        let layer = Half64::new();
        let noise = Noise::seeded(42).for_layer(1);
        let z = layer.pre_activation(&x, noise);
        let kept = z.iter().filter(|&&v| v != 0.0).count();
        // 2000 Bernoulli(1/2) draws: the standard deviation is 22.4.
        assert!((900..=1100).contains(&kept), "kept {kept} of 2000");
        assert!(z.iter().all(|&v| v == 0.0 || v == 3.0));
        let delta = SMatrix::<f64, 1000, 2>::from_element(-2.0);
        let grad = layer.input_gradient(&delta, &x, noise);
        for (g, v) in grad.iter().zip(z.iter()) {
            assert_eq!(*g == 0.0, *v == 0.0, "the backward mask is the forward one");
        }
        // Another key, another mask; the same key, the same mask.
        assert_ne!(layer.pre_activation(&x, Noise::seeded(43).for_layer(1)), z);
        assert_eq!(layer.pre_activation(&x, noise), z);
    }

    #[test]
    fn a_zero_rate_keeps_everything_unscaled() {
        let x = SMatrix::<f32, 64, 3>::from_fn(|i, j| (i * 3 + j) as f32);
        let layer = Dropout::<f32, 64, Never>::new();
        assert_eq!(layer.pre_activation(&x, Noise::seeded(1)), x);
    }
}
