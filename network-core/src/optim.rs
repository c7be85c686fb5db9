//! Optimizers: update rules that move parameters against their gradients.

use core::fmt;

use crate::{Parameters, Scalar};

/// Why an optimizer step refused to touch the parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepError {
    /// A gradient was NaN or infinite; the parameters were left as they were.
    NonFiniteGradient,
    /// The parameters and the gradients do not have the same number of values.
    ShapeMismatch,
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepError::NonFiniteGradient => {
                f.write_str("a gradient is NaN or infinite; the parameters were not changed")
            }
            StepError::ShapeMismatch => {
                f.write_str("parameters and gradients have different numbers of values")
            }
        }
    }
}

impl core::error::Error for StepError {}

/// Plain gradient descent: `p <- p - learning_rate * g`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd<T: Scalar> {
    /// The step size.
    pub learning_rate: T,
}

impl<T: Scalar> Sgd<T> {
    /// Gradient descent with the given step size.
    pub const fn new(learning_rate: T) -> Self {
        Sgd { learning_rate }
    }

    /// Applies one update. If any gradient is not finite, returns an error and
    /// leaves `parameters` exactly as they were.
    pub fn step<P: Parameters<T>, G: Parameters<T>>(
        &self,
        parameters: &mut P,
        gradients: &G,
    ) -> Result<(), StepError> {
        if P::PARAMETERS != G::PARAMETERS {
            return Err(StepError::ShapeMismatch);
        }
        if !gradients.all_finite() {
            return Err(StepError::NonFiniteGradient);
        }
        for (p, g) in parameters.slices_mut().zip(gradients.slices()) {
            for (p, g) in p.iter_mut().zip(g) {
                *p -= self.learning_rate * *g;
            }
        }
        Ok(())
    }
}
