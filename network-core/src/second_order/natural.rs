//! The natural gradient for classification networks, with the exact
//! Fisher information of the model's predictive distribution.

use nalgebra::{SMatrix, SVector};

use super::normal::{
    DampedOutcome, DampedSystem, DampingConfig, Of, add_transposed_product, damped_optimizer,
    flatten, forward_one, jacobian, logits, sample,
};
use crate::activation::{Activation, Identity, Sigmoid, Softmax, sigmoid};
use crate::{
    Cache, ConfigError, Dataset, Deterministic, Gradients, Loss, Network, Scalar,
    SigmoidCrossEntropy, SoftmaxCrossEntropy, StepError, Supervised, Zeroable,
};

/// A loss that is the negative log-likelihood of a distribution over the
/// outputs, parametrised by the logits `z`: its Fisher information with
/// respect to `z` is what [`NaturalGradient`] needs.
pub trait FisherLoss<A: Activation>: Loss<A> {
    /// The Fisher information `F_z = E_y[(d ln p(y|z)/dz)(d ln p(y|z)/dz)^T]`
    /// of one sample's predictive distribution, with respect to its
    /// logits `z`.
    fn logit_fisher<T: Scalar, const OUT: usize>(z: &SVector<T, OUT>) -> SMatrix<T, OUT, OUT>;
}

/// Softmax: `F_z = diag(p) - p p^T`, `p = softmax(z)`.
fn softmax_fisher<T: Scalar, const OUT: usize>(z: &SVector<T, OUT>) -> SMatrix<T, OUT, OUT> {
    let p = Softmax::forward(z);
    SMatrix::from_diagonal(&p) - p * p.transpose()
}

/// Independent Bernoulli outputs: `F_z = diag(s (1 - s))`, `s = sigmoid(z)`,
/// with `1 - s` as `sigmoid(-z)` so that it does not cancel.
fn sigmoid_fisher<T: Scalar, const OUT: usize>(z: &SVector<T, OUT>) -> SMatrix<T, OUT, OUT> {
    SMatrix::from_diagonal(&z.map(|z| sigmoid(z) * sigmoid(-z)))
}

impl FisherLoss<Softmax> for SoftmaxCrossEntropy {
    fn logit_fisher<T: Scalar, const OUT: usize>(z: &SVector<T, OUT>) -> SMatrix<T, OUT, OUT> {
        softmax_fisher(z)
    }
}

impl FisherLoss<Identity> for SoftmaxCrossEntropy {
    fn logit_fisher<T: Scalar, const OUT: usize>(z: &SVector<T, OUT>) -> SMatrix<T, OUT, OUT> {
        softmax_fisher(z)
    }
}

impl FisherLoss<Sigmoid> for SigmoidCrossEntropy {
    fn logit_fisher<T: Scalar, const OUT: usize>(z: &SVector<T, OUT>) -> SMatrix<T, OUT, OUT> {
        sigmoid_fisher(z)
    }
}

impl FisherLoss<Identity> for SigmoidCrossEntropy {
    fn logit_fisher<T: Scalar, const OUT: usize>(z: &SVector<T, OUT>) -> SMatrix<T, OUT, OUT> {
        sigmoid_fisher(z)
    }
}

damped_optimizer! {
    /// The natural gradient (Amari, 1998), with the exact Fisher information of
    /// the model's predictive distribution:
    ///
    /// ```text
    /// g   = dC/dw                                   (C the mean loss over the data)
    /// F   = 1/n sum_s J_s^T F_z(z_s) J_s            (J_s = dz_L/dw of sample s)
    /// F_z = diag(p) - p p^T                         (softmax cross-entropy, p = softmax(z))
    /// F_z = diag(s (1 - s))                         (sigmoid cross-entropy, s = sigmoid(z))
    /// (F + mu I) dw = -g                            (solved by Cholesky)
    /// w' = w + dw, kept if C(w') < C(w)
    /// ```
    ///
    /// The Fisher is built exactly, from one backward pass per output unit and
    /// sample (full batch), so this suits small networks; for softmax and
    /// sigmoid cross-entropy it equals the generalised Gauss–Newton matrix, and
    /// the step is invariant to how the network's outputs are parametrised.
    /// The damping `mu` adapts as
    /// [`LevenbergMarquardt`](crate::LevenbergMarquardt)'s does ([`DampingConfig`]):
    /// trials of ever larger `mu` until one lowers the mean loss, the
    /// parameters bit for bit unchanged after a rejected one. It also keeps
    /// the system solvable where the Fisher is singular (a softmax's always
    /// is, by one dimension).
    ///
    /// `P` must be the network's parameter count (a compile error otherwise);
    /// the optimizer holds two `P x P` matrices, [`Self::BYTES`] in all (see
    /// the [module docs](crate::second_order)).
    NaturalGradient
}

impl<T: Scalar, const P: usize> NaturalGradient<T, P> {
    /// The Fisher information `F` of the last step.
    pub fn fisher(&self) -> &SMatrix<T, P, P> {
        &self.system.matrix
    }

    /// One natural-gradient step with the loss `L` over every sample of
    /// `data`.
    ///
    /// # Errors
    ///
    /// [`StepError::InvalidConfig`] for bad settings,
    /// [`StepError::NoSamples`] for empty data,
    /// [`StepError::NonFiniteLoss`] or [`StepError::NonFiniteGradient`] for
    /// a loss, gradient or Fisher that is not finite. The parameters and
    /// `mu` are then unchanged.
    pub fn step<L, N, D, const IN: usize, const OUT: usize>(
        &mut self,
        network: &mut N,
        data: &D,
    ) -> Result<DampedOutcome<T>, StepError>
    where
        N: Network<T, IN, OUT> + Deterministic,
        L: FisherLoss<N::OutputActivation>,
        D: Dataset<T, IN, OUT> + ?Sized,
    {
        const {
            assert!(
                P == N::PARAMETERS,
                "NaturalGradient<T, P>: P must be the network's parameter count (`Net::<T>::PARAMETERS`)"
            )
        };
        self.config.validate()?;
        if data.is_empty() {
            return Err(StepError::NoSamples);
        }
        let before = self.fisher_and_gradient::<L, N, D, IN, OUT>(network, data)?;
        let config = self.config;
        Ok(self
            .system
            .trials(&mut self.mu, &config, network, before, |network| {
                mean_loss::<L, T, N, D, IN, OUT>(network, data)
            }))
    }

    /// Computes `F` and `g` at the current parameters and returns the mean
    /// loss there.
    fn fisher_and_gradient<L, N, D, const IN: usize, const OUT: usize>(
        &mut self,
        network: &N,
        data: &D,
    ) -> Result<T, StepError>
    where
        N: Network<T, IN, OUT>,
        L: FisherLoss<N::OutputActivation>,
        D: Dataset<T, IN, OUT> + ?Sized,
    {
        let DampedSystem {
            matrix: fisher,
            gradient,
            ..
        } = &mut self.system;
        fisher.fill(T::zero());
        gradient.fill(T::zero());
        let scale = T::one() / T::constant(data.len() as f64);
        let mut grads = N::Gradients::zeros();
        let mut sample_gradient = SVector::<T, P>::zeros();
        let mut rows = SMatrix::<T, OUT, P>::zeros();
        let mut loss = T::zero();
        for index in 0..data.len() {
            let (x, t) = sample(data, index);
            let cache = forward_one(network, &x);
            let (z, a) = (cache.logits(), cache.output());
            loss += L::loss(z, a, &t);
            let delta = L::output_delta(z, a, &t);
            network.parameter_gradients_into(&x, &cache, &delta, &mut grads);
            flatten(&grads, &mut sample_gradient);
            gradient.axpy(scale, &sample_gradient, T::one());
            let logit_fisher = L::logit_fisher(&logits(&cache));
            jacobian(network, &x, &cache, Of::Logits, &mut grads, &mut rows);
            let weighted = logit_fisher * rows * scale;
            add_transposed_product(fisher, &rows, &weighted);
        }
        let loss = loss * scale;
        if !loss.is_finite() {
            return Err(StepError::NonFiniteLoss);
        }
        let finite = gradient.iter().chain(fisher.iter()).all(|v| v.is_finite());
        if finite {
            Ok(loss)
        } else {
            Err(StepError::NonFiniteGradient)
        }
    }
}

/// The mean loss `L` of `network` over `data`.
fn mean_loss<L, T, N, D, const IN: usize, const OUT: usize>(network: &N, data: &D) -> T
where
    T: Scalar,
    N: Network<T, IN, OUT>,
    L: Loss<N::OutputActivation>,
    D: Dataset<T, IN, OUT> + ?Sized,
{
    let mut total = T::zero();
    for index in 0..data.len() {
        let (x, t) = sample(data, index);
        total += network.loss::<L>(&x, &t);
    }
    total / T::constant(data.len() as f64)
}
