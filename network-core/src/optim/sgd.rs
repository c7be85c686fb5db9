//! Plain stochastic gradient descent.

use super::{
    ConfigError, Largest, Optimizer, StepError, bounded, check_step, non_negative, update_is_finite,
};
use crate::wide::widest;
use crate::{GradientsOf, Parameters, Scalar};

/// Plain gradient descent with optional L2 weight decay:
/// `p <- p - learning_rate * (g + weight_decay * p)`.
///
/// Stateless, so one `Sgd` can drive any number of networks; see
/// [`Momentum`](crate::Momentum) for heavy-ball and Nesterov momentum.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd<T: Scalar> {
    /// The step size.
    pub learning_rate: T,
    /// The L2 penalty `weight_decay * p` added to each gradient (PyTorch's
    /// `weight_decay`); zero by default.
    pub weight_decay: T,
}

impl<T: Scalar> Sgd<T> {
    /// Gradient descent with the given step size and no weight decay.
    ///
    /// # Errors
    ///
    /// [`ConfigError::LearningRate`] unless the rate is finite and at least 0.
    pub fn new(learning_rate: T) -> Result<Self, ConfigError> {
        Sgd {
            learning_rate,
            weight_decay: T::zero(),
        }
        .validated()
    }

    /// The same optimizer with L2 weight decay.
    ///
    /// # Errors
    ///
    /// [`ConfigError::WeightDecay`] unless the decay is finite and at least 0.
    pub fn with_weight_decay(self, weight_decay: T) -> Result<Self, ConfigError> {
        Sgd {
            weight_decay,
            ..self
        }
        .validated()
    }

    /// `self` if [`Sgd::validate`] accepts it.
    fn validated(self) -> Result<Self, ConfigError> {
        self.validate().map(|()| self)
    }

    /// Checks the hyperparameters: a finite learning rate and weight decay,
    /// each at least 0. The constructors check them, and so does every step
    /// before it changes anything (the fields are public, and a schedule
    /// sets the rate between steps).
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`].
    // Inlined (as every optimizer's `validate`): the constructor and every
    // step call it, and out of line it cost a Cortex-M4 XOR epoch 17
    // instructions.
    #[inline]
    pub fn validate(&self) -> Result<(), ConfigError> {
        non_negative(self.learning_rate, ConfigError::LearningRate)?;
        non_negative(self.weight_decay, ConfigError::WeightDecay)
    }

    /// Applies one update. If a hyperparameter or any gradient is not
    /// usable, or an updated parameter would not be finite, returns an
    /// error and leaves `parameters` exactly as they were.
    ///
    /// # Errors
    ///
    /// [`StepError::InvalidConfig`], [`StepError::NonFiniteGradient`],
    /// [`StepError::NonFiniteUpdate`] or [`StepError::ShapeMismatch`].
    ///
    /// The gradients must be those of `P` (`G: GradientsOf<P>`, as a
    /// network's gradients type is of that network): another network's are
    /// a compile error.
    pub fn step<P: Parameters<T>, G: Parameters<T> + GradientsOf<P>>(
        &self,
        parameters: &mut P,
        gradients: &G,
    ) -> Result<(), StepError> {
        self.apply(parameters, gradients)
    }

    /// [`Self::step`] without the tie of the gradients' type to the
    /// parameters' (their shapes are still checked at run time), for
    /// [`Optimizer::step`].
    fn apply<P: Parameters<T>, G: Parameters<T>>(
        &self,
        parameters: &mut P,
        gradients: &G,
    ) -> Result<(), StepError> {
        self.validate().map_err(StepError::InvalidConfig)?;
        let Largest {
            parameter: largest_parameter,
            gradient: largest_gradient,
        } = check_step(parameters, gradients, &[])?;
        let Sgd {
            learning_rate: lr,
            weight_decay: wd,
        } = *self;
        let update = move |p: T, g: T| p - lr * (g + wd * p);
        let bound = largest_parameter + lr * (largest_gradient + wd * largest_parameter);
        if !bounded(bound)
            && !update_is_finite(parameters, gradients, [], |p, g, []| (update(p, g), []))
        {
            return Err(StepError::NonFiniteUpdate);
        }
        // Compiled for the CPU's widest vectors, the constants owned by the
        // closures (see `widest`).
        widest(
            #[inline(always)]
            move || {
                for (p, g) in parameters.slices_mut().zip(gradients.slices()) {
                    for (p, &g) in p.iter_mut().zip(g) {
                        *p = update(*p, g);
                    }
                }
            },
        );
        Ok(())
    }
}

impl<T: Scalar, G: Parameters<T>> Optimizer<T, G> for Sgd<T> {
    fn step<P: Parameters<T>>(&mut self, parameters: &mut P, gradients: &G) -> Result<(), StepError>
    where
        G: GradientsOf<P>,
    {
        self.apply(parameters, gradients)
    }

    fn learning_rate(&self) -> T {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: T) {
        self.learning_rate = learning_rate;
    }

    fn reset(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::test_util::{Other, Tiny, assert_close, values};

    #[test]
    fn one_step_by_hand() {
        let mut p = Tiny([1.0, -2.0], [0.5]);
        let g = Tiny([0.1, 0.2], [-0.4]);
        Sgd::new(0.5)
            .unwrap()
            .with_weight_decay(0.1)
            .unwrap()
            .step(&mut p, &g)
            .unwrap();
        // p - 0.5 * (g + 0.1 p)
        assert_close(
            values(&p),
            [
                1.0 - 0.5 * (0.1 + 0.1),
                -2.0 - 0.5 * (0.2 - 0.2),
                0.5 - 0.5 * (-0.4 + 0.05),
            ],
        );
    }

    #[test]
    fn non_finite_gradient_changes_nothing() {
        let mut p = Tiny([1.0, -2.0], [0.5]);
        let before = p;
        for bad in [f64::NAN, f64::INFINITY, 1e200] {
            let g = Tiny([0.1, bad], [0.0]);
            assert_eq!(
                // `apply`: `step` itself refuses these at compile time.
                Sgd::new(0.5).unwrap().apply(&mut p, &g),
                Err(StepError::NonFiniteGradient)
            );
            assert_eq!(p, before);
        }
    }

    #[test]
    fn shape_mismatch_is_refused() {
        let mut p = Tiny([1.0, -2.0], [0.5]);
        let g = Other([0.0], [0.0, 0.0]);
        assert_eq!(
            // `apply`: `step` itself refuses these at compile time.
            Sgd::new(0.5).unwrap().apply(&mut p, &g),
            Err(StepError::ShapeMismatch)
        );
        assert_eq!(p, Tiny([1.0, -2.0], [0.5]));
    }

    #[test]
    fn stateless() {
        assert_eq!(core::mem::size_of::<Sgd<f32>>(), 2 * 4);
    }
}
