//! Levenberg–Marquardt for sum-of-squares losses.

use nalgebra::{SMatrix, SVector};

use super::normal::{
    DampedOutcome, DampedSystem, DampingConfig, Of, add_transposed_product, damped_optimizer,
    forward_one, jacobian, sample,
};
use crate::{
    Cache, ConfigError, Dataset, Deterministic, Gradients, Network, Scalar, StepError, Zeroable,
};

damped_optimizer! {
    /// Levenberg–Marquardt for a sum-of-squares fit:
    ///
    /// ```text
    /// r = a_L - t                       (one residual per output unit and sample)
    /// J = dr/dw                         (OUT n x P, by back-propagation)
    /// (J^T J + mu I) dw = -J^T r        (solved by Cholesky)
    /// w' = w + dw, kept if C(w') < C(w), C = mean squared error
    /// ```
    ///
    /// A step computes `J^T J` and `J^T r` once over every sample of the data
    /// (full batch: one forward pass and `OUT` backward passes per sample),
    /// then tries `mu`, `10 mu`, `100 mu`, ... until a trial lowers the loss;
    /// `mu` then shrinks tenfold for the next step (MATLAB's `trainlm`, see
    /// [`DampingConfig`]). A rejected trial leaves the parameters bit for bit
    /// as they were, and a step that passes the largest damping returns
    /// [`DampedOutcome::DampingLimit`] with the parameters unchanged.
    ///
    /// Small `mu` makes the step Gauss–Newton's; large `mu` makes it a short
    /// gradient step `-J^T r / mu`. The damping is `mu I`, as in `trainlm`.
    ///
    /// `P` must be the network's parameter count (a compile error otherwise);
    /// the optimizer holds two `P x P` matrices, [`Self::BYTES`] in all (see
    /// the [module docs](crate::second_order)).
    LevenbergMarquardt
}

impl<T: Scalar, const P: usize> LevenbergMarquardt<T, P> {
    /// `J^T J` of the last step's Jacobian.
    pub fn normal_matrix(&self) -> &SMatrix<T, P, P> {
        &self.system.matrix
    }

    /// One Levenberg–Marquardt step over every sample of `data`.
    ///
    /// # Errors
    ///
    /// [`StepError::InvalidConfig`] for bad settings,
    /// [`StepError::NoSamples`] for empty data,
    /// [`StepError::NonFiniteLoss`] or [`StepError::NonFiniteGradient`] if
    /// the loss or the Jacobian at the current parameters is not finite.
    /// Nothing changes then, neither the parameters nor `mu`.
    pub fn step<N, D, const IN: usize, const OUT: usize>(
        &mut self,
        network: &mut N,
        data: &D,
    ) -> Result<DampedOutcome<T>, StepError>
    where
        N: Network<T, IN, OUT> + Deterministic,
        D: Dataset<T, IN, OUT> + ?Sized,
    {
        const {
            assert!(
                P == N::PARAMETERS,
                "LevenbergMarquardt<T, P>: P must be the network's parameter count (`Net::<T>::PARAMETERS`)"
            )
        };
        self.config.validate()?;
        if data.is_empty() {
            return Err(StepError::NoSamples);
        }
        let before = self.linearise(network, data)?;
        let config = self.config;
        Ok(self
            .system
            .trials(&mut self.mu, &config, network, before, |network| {
                mean_squared_error(network, data)
            }))
    }

    /// Computes `J^T J` and `J^T r` at the current parameters and returns
    /// the loss there.
    fn linearise<N, D, const IN: usize, const OUT: usize>(
        &mut self,
        network: &N,
        data: &D,
    ) -> Result<T, StepError>
    where
        N: Network<T, IN, OUT>,
        D: Dataset<T, IN, OUT> + ?Sized,
    {
        let DampedSystem {
            matrix: normal,
            gradient,
            ..
        } = &mut self.system;
        normal.fill(T::zero());
        gradient.fill(T::zero());
        let mut grads = N::Gradients::zeros();
        let mut rows = SMatrix::<T, OUT, P>::zeros();
        let mut squares = T::zero();
        for index in 0..data.len() {
            let (x, t) = sample(data, index);
            let cache = forward_one(network, &x);
            let residual = cache.output() - t;
            squares += residual.norm_squared();
            jacobian(network, &x, &cache, Of::Outputs, &mut grads, &mut rows);
            add_transposed_product(normal, &rows, &rows);
            gradient.gemv_tr(T::one(), &rows, &residual.column(0), T::one());
        }
        let loss = squares / T::constant((OUT * data.len()) as f64);
        if !loss.is_finite() {
            return Err(StepError::NonFiniteLoss);
        }
        if !normal.iter().all(|v| v.is_finite()) {
            return Err(StepError::NonFiniteGradient);
        }
        Ok(loss)
    }
}

/// The mean squared error of `network` over `data`, `1/(OUT n) sum r^2`
/// (what [`MeanSquaredError`](crate::MeanSquaredError) reports).
fn mean_squared_error<T, N, D, const IN: usize, const OUT: usize>(network: &N, data: &D) -> T
where
    T: Scalar,
    N: Network<T, IN, OUT>,
    D: Dataset<T, IN, OUT> + ?Sized,
{
    let mut squares = T::zero();
    for index in 0..data.len() {
        let (x, t) = sample(data, index);
        squares += (network.forward(&x) - t).norm_squared();
    }
    squares / T::constant((OUT * data.len()) as f64)
}
