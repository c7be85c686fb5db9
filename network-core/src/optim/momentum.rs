//! Stochastic gradient descent with heavy-ball or Nesterov momentum.

use super::{
    ConfigError, Largest, Optimizer, StepError, bounded, check_step, decay, flush_subnormal,
    largest, non_negative, update_is_finite, update_with_state,
};
use crate::{Gradients, GradientsOf, Parameters, Scalar, Zeroable};

/// The hyperparameters of [`Momentum`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MomentumConfig<T: Scalar> {
    /// The step size `lr`.
    pub learning_rate: T,
    /// The momentum factor `mu`, typically `0.9`.
    pub momentum: T,
    /// Nesterov's accelerated gradient instead of heavy-ball momentum.
    pub nesterov: bool,
    /// The L2 penalty `wd * p` added to each gradient.
    pub weight_decay: T,
}

impl<T: Scalar> MomentumConfig<T> {
    /// Heavy-ball momentum, no weight decay.
    pub fn new(learning_rate: T, momentum: T) -> Self {
        MomentumConfig {
            learning_rate,
            momentum,
            nesterov: false,
            weight_decay: T::zero(),
        }
    }

    /// Nesterov momentum, no weight decay.
    pub fn nesterov(learning_rate: T, momentum: T) -> Self {
        MomentumConfig {
            nesterov: true,
            ..Self::new(learning_rate, momentum)
        }
    }

    /// The same configuration with L2 weight decay.
    pub fn with_weight_decay(self, weight_decay: T) -> Self {
        MomentumConfig {
            weight_decay,
            ..self
        }
    }

    /// Checks the hyperparameters: a finite learning rate and weight decay,
    /// each at least 0, and a momentum in `[0, 1)`. [`Momentum::new`] checks
    /// them, and so does every step, before it changes anything.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`].
    #[inline]
    pub fn validate(&self) -> Result<(), ConfigError> {
        non_negative(self.learning_rate, ConfigError::LearningRate)?;
        decay(self.momentum.to_f64(), ConfigError::Momentum)?;
        non_negative(self.weight_decay, ConfigError::WeightDecay)
    }
}

/// SGD with momentum, as in PyTorch's `torch.optim.SGD` (without dampening):
///
/// ```text
/// d = g + wd p
/// v = mu v + d
/// p = p - lr (d + mu v)   (Nesterov)
/// p = p - lr v            (heavy ball)
/// ```
///
/// The velocity `v` starts at zero, so the first step equals PyTorch's
/// (which starts it at `d`). A subnormal `v` is stored as 0: a velocity
/// that decays once its gradient stops would otherwise stay subnormal for
/// good, and make every later step slow on CPUs that compute subnormals
/// with a microcode assist. State: one value per parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Momentum<T: Scalar, G> {
    /// The hyperparameters; may be changed between steps.
    pub config: MomentumConfig<T>,
    /// The velocity `v`, shaped like the gradients.
    pub velocity: G,
}

impl<T: Scalar, G: Gradients<T>> Momentum<T, G> {
    /// An optimizer with zero velocity.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] that [`MomentumConfig::validate`] finds: nothing
    /// is built from settings no step could use.
    pub fn new(config: MomentumConfig<T>) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Momentum {
            config,
            velocity: G::zeros(),
        })
    }
}

#[cfg(feature = "alloc")]
impl<T: Scalar + Zeroable, G: Zeroable> Momentum<T, G> {
    /// Like [`Momentum::new`], built directly on the heap: the velocity of a
    /// large network never passes through the stack.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] that [`MomentumConfig::validate`] finds: nothing
    /// is built from settings no step could use.
    pub fn new_boxed(config: MomentumConfig<T>) -> Result<alloc::boxed::Box<Self>, ConfigError> {
        config.validate()?;
        let mut optimizer = crate::boxed_zeroed::<Self>();
        optimizer.config = config;
        Ok(optimizer)
    }
}

// SAFETY: every field is `Zeroable` (`bool` is `false` when zero), so the
// all-zero bit pattern is a valid `Momentum`.
unsafe impl<T: Scalar + Zeroable, G: Zeroable> Zeroable for Momentum<T, G> {}

impl<T: Scalar, G: Parameters<T>> Momentum<T, G> {
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
        } = check_step(parameters, gradients, &[&self.velocity])?;
        let MomentumConfig {
            learning_rate: lr,
            momentum: mu,
            nesterov,
            weight_decay: wd,
        } = self.config;
        let update = move |p: T, g: T, v: T| {
            let d = g + wd * p;
            let v = flush_subnormal(mu * v + d);
            (p - lr * if nesterov { d + mu * v } else { v }, v)
        };
        // |d| <= D = G + wd P, |v'| <= V' = mu V + D, |p'| <= P + lr (D + V').
        let d = largest_gradient + wd * largest_parameter;
        let v = mu * largest(&self.velocity) + d;
        let bound = v + largest_parameter + lr * (d + v);
        if !bounded(bound)
            && !update_is_finite(parameters, gradients, [&self.velocity], |p, g, [v]| {
                let (p, v) = update(p, g, v);
                (p, [v])
            })
        {
            return Err(StepError::NonFiniteUpdate);
        }
        update_with_state(parameters, gradients, &mut self.velocity, update);
        Ok(())
    }
}

impl<T: Scalar, G: Parameters<T>> Optimizer<T, G> for Momentum<T, G> {
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
        self.velocity.fill_zero();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::test_util::{Pair, Tiny, assert_close, assert_state_decays_to_zero, values};

    #[test]
    fn heavy_ball_two_steps_by_hand() {
        let mut p = Tiny([1.0, -2.0], [0.5]);
        let g = Tiny([0.1, 0.2], [-0.4]);
        let mut opt = Momentum::<f64, Tiny>::new(MomentumConfig::new(0.1, 0.9)).unwrap();
        opt.step(&mut p, &g).unwrap();
        // v = g; p = p - 0.1 g
        assert_close(values(&opt.velocity), [0.1, 0.2, -0.4]);
        assert_close(values(&p), [0.99, -2.02, 0.54]);
        opt.step(&mut p, &g).unwrap();
        // v = 0.9 g + g = 1.9 g; p = p - 0.1 * 1.9 g
        assert_close(values(&opt.velocity), [0.19, 0.38, -0.76]);
        assert_close(values(&p), [0.99 - 0.019, -2.02 - 0.038, 0.54 + 0.076]);
    }

    #[test]
    fn nesterov_with_weight_decay_by_hand() {
        let mut p = Tiny([1.0, -2.0], [0.5]);
        let g = Tiny([0.1, 0.2], [-0.4]);
        let config = MomentumConfig::nesterov(0.1, 0.9).with_weight_decay(0.01);
        let mut opt = Momentum::<f64, Tiny>::new(config).unwrap();
        opt.step(&mut p, &g).unwrap();
        // d = g + 0.01 p = [0.11, 0.18, -0.395]; v = d; p -= 0.1 (d + 0.9 d)
        let d = [0.11, 0.18, -0.395];
        assert_close(values(&opt.velocity), d);
        assert_close(
            values(&p),
            [1.0 - 0.19 * d[0], -2.0 - 0.19 * d[1], 0.5 - 0.19 * d[2]],
        );
    }

    #[test]
    fn velocity_without_gradient_decays_to_zero_through_no_subnormal() {
        let mut momentum = Momentum::<f32, Pair>::new(MomentumConfig::new(0.1, 0.9)).unwrap();
        let mut p = Pair([0.5, -0.5]);
        assert_state_decays_to_zero(10_000, |g| {
            momentum.step(&mut p, g).unwrap();
            momentum.velocity.0
        });
    }

    #[test]
    fn failed_step_keeps_velocity() {
        let mut p = Tiny([1.0, -2.0], [0.5]);
        let mut opt = Momentum::<f64, Tiny>::new(MomentumConfig::new(0.1, 0.9)).unwrap();
        opt.step(&mut p, &Tiny([0.1, 0.2], [-0.4])).unwrap();
        let (p_before, v_before) = (p, opt.velocity);
        let bad = Tiny([0.1, f64::NAN], [-0.4]);
        assert_eq!(opt.step(&mut p, &bad), Err(StepError::NonFiniteGradient));
        assert_eq!((p, opt.velocity), (p_before, v_before));
    }

    #[test]
    fn state_is_one_value_per_parameter() {
        assert_eq!(core::mem::size_of::<Tiny>(), 3 * 8);
        let opt = Momentum::<f64, Tiny>::new(MomentumConfig::new(0.1, 0.9)).unwrap();
        assert_eq!(core::mem::size_of_val(&opt.velocity), 3 * 8);
    }
}
