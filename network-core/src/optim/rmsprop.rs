//! RMSProp.

use super::{
    ConfigError, Largest, Optimizer, StepError, bounded, check_step, decay, flush_subnormal,
    largest, non_negative, positive, update_is_finite, update_with_state,
};
use crate::{Gradients, GradientsOf, Parameters, Scalar, Zeroable};

/// The hyperparameters of [`RmsProp`]; the defaults are PyTorch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmsPropConfig<T: Scalar> {
    /// The step size `lr` (PyTorch's default is `1e-2`).
    pub learning_rate: T,
    /// The decay `alpha` of the running mean of `g^2` (default `0.99`).
    ///
    /// Kept in `f64` whatever `T` is, as Adam's betas are: `1 - alpha` is
    /// formed in `f64` and rounded to `T` once, as PyTorch forms it.
    pub alpha: f64,
    /// `eps`, added to `sqrt(v)` (default `1e-8`).
    pub epsilon: T,
    /// The L2 penalty `wd * p` added to each gradient (default `0`).
    pub weight_decay: T,
}

impl<T: Scalar> RmsPropConfig<T> {
    /// RMSProp with PyTorch's defaults and the given step size.
    pub fn new(learning_rate: T) -> Self {
        RmsPropConfig {
            learning_rate,
            alpha: 0.99,
            epsilon: T::constant(1e-8),
            weight_decay: T::zero(),
        }
    }

    /// The same configuration with L2 weight decay.
    pub fn with_weight_decay(self, weight_decay: T) -> Self {
        RmsPropConfig {
            weight_decay,
            ..self
        }
    }

    /// Checks the hyperparameters: a finite learning rate and weight decay,
    /// each at least 0, `alpha` in `[0, 1)` and a finite `epsilon` above 0.
    /// The optimizer's constructors check them, and so does every step,
    /// before it changes anything.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`].
    #[inline]
    pub fn validate(&self) -> Result<(), ConfigError> {
        non_negative(self.learning_rate, ConfigError::LearningRate)?;
        decay(self.alpha, ConfigError::Alpha)?;
        positive(self.epsilon, ConfigError::Epsilon)?;
        non_negative(self.weight_decay, ConfigError::WeightDecay)
    }
}

/// RMSProp (Hinton, 2012), as in PyTorch's `torch.optim.RMSprop` (not
/// centred, without momentum):
///
/// ```text
/// g = g + wd p
/// v = alpha v + (1 - alpha) g^2
/// p = p - lr g / (sqrt(v) + eps)
/// ```
///
/// A subnormal `v` is stored as 0: an average that decays once its
/// gradient stops would otherwise stay subnormal for good, and make every
/// later step slow on CPUs that compute subnormals with a microcode assist.
/// State: one value per parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct RmsProp<T: Scalar, G> {
    /// The hyperparameters; may be changed between steps.
    pub config: RmsPropConfig<T>,
    /// The running mean `v` of the squared gradients.
    pub square_average: G,
}

impl<T: Scalar, G: Gradients<T>> RmsProp<T, G> {
    /// An optimizer whose running mean starts at zero.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] that [`RmsPropConfig::validate`] finds: nothing
    /// is built from settings no step could use.
    pub fn new(config: RmsPropConfig<T>) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(RmsProp {
            config,
            square_average: G::zeros(),
        })
    }
}

#[cfg(feature = "alloc")]
impl<T: Scalar + Zeroable, G: Zeroable> RmsProp<T, G> {
    /// Like [`RmsProp::new`], built directly on the heap.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] that [`RmsPropConfig::validate`] finds: nothing
    /// is built from settings no step could use.
    pub fn new_boxed(config: RmsPropConfig<T>) -> Result<alloc::boxed::Box<Self>, ConfigError> {
        config.validate()?;
        let mut optimizer = crate::boxed_zeroed::<Self>();
        optimizer.config = config;
        Ok(optimizer)
    }
}

// SAFETY: every field is `Zeroable`, so the all-zero bit pattern is a valid
// `RmsProp`.
unsafe impl<T: Scalar + Zeroable, G: Zeroable> Zeroable for RmsProp<T, G> {}

impl<T: Scalar, G: Parameters<T>> RmsProp<T, G> {
    /// Applies one update, as [`Optimizer::step`] does (callable without
    /// the trait in scope, and with the gradients' type tied to the
    /// optimizer's, as [`Sgd::step`](crate::Sgd::step) is called).
    ///
    /// The gradients must be those of `P` (`G: GradientsOf<P>`, as a
    /// network's gradients type is of that network): another network's are
    /// a compile error.
    ///
    /// # Errors
    ///
    /// See [`Optimizer::step`]: on error nothing changes.
    pub fn step<P: Parameters<T>>(
        &mut self,
        parameters: &mut P,
        gradients: &G,
    ) -> Result<(), StepError>
    where
        G: GradientsOf<P>,
    {
        self.apply(parameters, gradients)
    }

    /// [`Self::step`] without the tie of the gradients' type to the
    /// parameters' (their shapes are still checked at run time), for
    /// [`Optimizer::step`].
    fn apply<P: Parameters<T>>(
        &mut self,
        parameters: &mut P,
        gradients: &G,
    ) -> Result<(), StepError> {
        self.config.validate().map_err(StepError::InvalidConfig)?;
        let Largest {
            parameter: largest_parameter,
            gradient: largest_gradient,
        } = check_step(parameters, gradients, &[&self.square_average])?;
        let RmsPropConfig {
            learning_rate: lr,
            alpha,
            epsilon: eps,
            weight_decay: wd,
        } = self.config;
        let (keep, take) = (T::constant(alpha), T::constant(1.0 - alpha));
        let update = move |p: T, g: T, v: T| {
            let g = g + wd * p;
            let v = flush_subnormal(keep * v + take * g * g);
            (p - lr * g / (v.fast_sqrt() + eps), v)
        };
        // |g + wd p| <= D = G + wd P, |v'| <= V + D^2, and the denominator
        // is at least eps: |p'| <= P + lr D / eps.
        let d = largest_gradient + wd * largest_parameter;
        let bound = d * d + largest(&self.square_average) + largest_parameter + lr * d / eps;
        if !bounded(bound)
            && !update_is_finite(
                parameters,
                gradients,
                [&self.square_average],
                |p, g, [v]| {
                    let (p, v) = update(p, g, v);
                    (p, [v])
                },
            )
        {
            return Err(StepError::NonFiniteUpdate);
        }
        update_with_state(parameters, gradients, &mut self.square_average, update);
        Ok(())
    }
}

impl<T: Scalar, G: Parameters<T>> Optimizer<T, G> for RmsProp<T, G> {
    fn step<P: Parameters<T>>(&mut self, parameters: &mut P, gradients: &G) -> Result<(), StepError>
    where
        G: GradientsOf<P>,
    {
        self.apply(parameters, gradients)
    }

    fn learning_rate(&self) -> T {
        self.config.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: T) {
        self.config.learning_rate = learning_rate;
    }

    fn reset(&mut self) {
        self.square_average.fill_zero();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::test_util::{Pair, Tiny, assert_close, assert_state_decays_to_zero, values};

    /// In `f32`, `1 - alpha` is formed in `f64` and rounded once, as PyTorch
    /// forms it: after one step from zero with `g = 1`, `v` is the `f32`
    /// nearest `0.01` (formed in `f32` from `alpha = 0.99f32` it is
    /// `9.9999905e-3`, 7 ulps off).
    #[test]
    fn square_average_without_gradient_decays_to_zero_through_no_subnormal() {
        let mut rmsprop = RmsProp::<f32, Pair>::new(RmsPropConfig::new(1e-3)).unwrap();
        let mut p = Pair([0.5, -0.5]);
        assert_state_decays_to_zero(20_000, |g| {
            rmsprop.step(&mut p, g).unwrap();
            rmsprop.square_average.0
        });
    }

    #[test]
    fn f32_constants_are_formed_in_f64() {
        let mut rmsprop = RmsProp::<f32, Pair>::new(RmsPropConfig::new(1e-2)).unwrap();
        let mut p = Pair([0.5, -0.5]);
        rmsprop.step(&mut p, &Pair([1.0, 1.0])).unwrap();
        assert_eq!(rmsprop.square_average.0, [0.01f32; 2]);
    }

    #[test]
    fn two_steps_by_hand() {
        let mut p = Tiny([1.0, -2.0], [0.5]);
        let mut opt = RmsProp::<f64, Tiny>::new(RmsPropConfig::new(0.01)).unwrap();
        let g = Tiny([0.1, -0.2], [0.0]);
        opt.step(&mut p, &g).unwrap();
        // v = 0.01 g^2, so g / sqrt(v) = sign(g) * 10.
        assert_close(values(&opt.square_average), [1e-4, 4e-4, 0.0]);
        let eps = 1e-8;
        let p1 = [
            1.0 - 0.01 * 0.1 / (0.01 + eps),
            -2.0 + 0.01 * 0.2 / (0.02 + eps),
            0.5,
        ];
        assert_close(values(&p), p1);
        opt.step(&mut p, &g).unwrap();
        // v = 0.99 * 0.01 g^2 + 0.01 g^2 = 0.0199 g^2
        let v = [0.0199 * 0.01, 0.0199 * 0.04, 0.0];
        assert_close(values(&opt.square_average), v);
        assert_close(
            values(&p),
            [
                p1[0] - 0.01 * 0.1 / (v[0].sqrt() + eps),
                p1[1] + 0.01 * 0.2 / (v[1].sqrt() + eps),
                0.5,
            ],
        );
    }

    #[test]
    fn weight_decay_adds_to_the_gradient() {
        let mut p = Tiny([1.0, -2.0], [0.5]);
        let config = RmsPropConfig::new(0.01).with_weight_decay(0.5);
        let mut opt = RmsProp::<f64, Tiny>::new(config).unwrap();
        opt.step(&mut p, &Tiny::zeros()).unwrap();
        // g = 0.5 p, v = 0.01 g^2: each weight moves by lr * 10 towards zero.
        let eps = 1e-8;
        let step = |p: f64| p - 0.01 * (0.5 * p) / ((0.01f64 * 0.25 * p * p).sqrt() + eps);
        assert_close(values(&p), [step(1.0), step(-2.0), step(0.5)]);
    }

    #[test]
    fn failed_step_changes_nothing() {
        let mut p = Tiny([1.0, -2.0], [0.5]);
        let mut opt = RmsProp::<f64, Tiny>::new(RmsPropConfig::new(0.01)).unwrap();
        opt.step(&mut p, &Tiny([0.1, 0.2], [0.3])).unwrap();
        let before = (p, opt.square_average);
        let bad = Tiny([f64::INFINITY, 0.2], [0.3]);
        assert_eq!(opt.step(&mut p, &bad), Err(StepError::NonFiniteGradient));
        assert_eq!((p, opt.square_average), before);
    }

    #[test]
    fn state_is_one_value_per_parameter() {
        let opt = RmsProp::<f64, Tiny>::new(RmsPropConfig::new(0.01)).unwrap();
        assert_eq!(core::mem::size_of_val(&opt.square_average), 3 * 8);
    }
}
