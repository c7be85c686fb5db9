//! A training loop: epochs of shuffled mini-batches, a validation split,
//! early stopping, learning-rate schedules and a per-epoch callback, all
//! without allocating.
//!
//! ```
//! use network_core::{Adam, AdamConfig, Control, Gradients, Network, SoftmaxCrossEntropy, TrainConfig, Trainer};
//! # use network_core::{Relu, Softmax};
//! # network_macros::network! { #[network(crate = network_core)] struct Net { input: 2, hidden: Dense<16, Relu>, output: Dense<2, Softmax> } }
//!
//! // Two clusters: class 0 around (-1, -1), class 1 around (1, 1).
//! let data: [([f32; 2], [f32; 2]); 40] = core::array::from_fn(|i| {
//!     let (class, jitter) = (i % 2, (i / 2) as f32 * 0.02);
//!     let centre = if class == 0 { -1.0 } else { 1.0 };
//!     ([centre + jitter, centre - jitter], if class == 0 { [1.0, 0.0] } else { [0.0, 1.0] })
//! });
//! let mut net = Net::<f32>::random(1);
//! let mut grads = NetGradients::<f32>::zeros();
//! let mut adam = Adam::new(AdamConfig::adam(0.01))?;
//! let mut order = [0; 40];
//! let trainer = Trainer::<SoftmaxCrossEntropy, 8>::new(TrainConfig::new(20).validation_fraction(0.25))?;
//! let summary = trainer
//!     .fit(&mut net, &mut adam, &mut grads, &data[..], &mut order, |_stats, _net| Control::Continue)?;
//! assert_eq!(summary.last.train_accuracy, 1.0);
//! assert_eq!(trainer.evaluate(&net, &data[..])?.accuracy, 1.0);
//! # Ok::<(), network_core::TrainError>(())
//! ```

#[cfg(feature = "progress")]
mod progress_bar;
#[cfg(feature = "progress")]
pub use progress_bar::ProgressBar;

use core::fmt;
use core::marker::PhantomData;

use nalgebra::{SMatrix, SVector};

use crate::dataset::{Batch, Dataset, split_len};
use crate::metrics::ConfusionMatrix;
use crate::network::with_training_cache;
use crate::supervised::not_empty;
use crate::{
    Activation, Cache, ConfigError, Loss, Network, Noise, Optimizer, Parameters, Rng, Scalar,
    Schedule, StepError, clip_global_norm,
};

/// The settings of a [`Trainer`]. Built with [`TrainConfig::new`] and the
/// builder methods; every field is public too.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainConfig {
    /// The maximum number of passes over the training samples.
    pub epochs: usize,
    /// Fixes the validation split and every epoch's order.
    pub seed: u64,
    /// Reshuffle the training samples every epoch (default `true`).
    pub shuffle: bool,
    /// The share of the samples held out for validation, chosen at random
    /// (by `seed`) once before the first epoch; `0` for none (the default).
    pub validation_fraction: f64,
    /// Stop when the validation loss has not improved by more than
    /// `min_delta` for this many epochs (needs a validation split).
    pub patience: Option<usize>,
    /// The improvement early stopping asks for.
    pub min_delta: f64,
    /// The learning rate at each epoch, from the optimizer's initial rate.
    pub schedule: Schedule,
    /// Clip the gradients to this global norm before each step.
    pub clip_norm: Option<f64>,
    /// At the end of training, put back the weights of the epoch with the
    /// lowest validation loss ([`Summary::best`]); needs a validation split
    /// and the `alloc` feature (the best weights are kept in a `Vec`).
    pub restore_best: bool,
}

impl TrainConfig {
    /// Checks the settings: the schedule's factors (finite and above 0,
    /// a minimum rate at least 0), early stopping's `min_delta` (finite, at
    /// least 0) and its need for a validation split, the validation
    /// fraction (in `[0, 1)`) and the clipping norm (finite, above 0).
    /// [`Trainer::new`] checks them, and so does [`Trainer::fit`] (the
    /// fields are public), before anything is trained.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`].
    // Inlined (it is not generic), so that a configuration written as
    // constants stays constant through `Trainer::new` and `fit`: out of
    // line, a firmware that uses one schedule linked every schedule's code
    // (`pow` is 3 KB on a Cortex-M4).
    #[inline]
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(0.0..1.0).contains(&self.validation_fraction) {
            return Err(ConfigError::ValidationFraction(self.validation_fraction));
        }
        if (self.patience.is_some() || self.restore_best) && self.validation_fraction == 0.0 {
            return Err(ConfigError::EarlyStoppingWithoutValidation);
        }
        if self.restore_best && !cfg!(feature = "alloc") {
            return Err(ConfigError::RestoreBestNeedsAlloc);
        }
        if let Some(norm) = self.clip_norm.filter(|n| !(n.is_finite() && *n > 0.0)) {
            return Err(ConfigError::ClipNorm(norm));
        }
        let factor = |v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(ConfigError::Schedule(v))
            }
        };
        match self.schedule {
            Schedule::Constant => {}
            Schedule::StepDecay { factor: f, .. } => factor(f)?,
            Schedule::Exponential { gamma } => factor(gamma)?,
            Schedule::Cosine {
                min_learning_rate, ..
            } => {
                if !(min_learning_rate.is_finite() && min_learning_rate >= 0.0) {
                    return Err(ConfigError::Schedule(min_learning_rate));
                }
            }
        }
        if self.min_delta.is_finite() && self.min_delta >= 0.0 {
            Ok(())
        } else {
            Err(ConfigError::MinDelta(self.min_delta))
        }
    }

    /// `epochs` epochs, seed 0, reshuffled every epoch, no validation, no
    /// early stopping, constant learning rate, no clipping.
    pub fn new(epochs: usize) -> Self {
        TrainConfig {
            epochs,
            seed: 0,
            shuffle: true,
            validation_fraction: 0.0,
            patience: None,
            min_delta: 0.0,
            schedule: Schedule::Constant,
            clip_norm: None,
            restore_best: false,
        }
    }

    /// Sets the seed of the split and of the shuffling.
    pub fn seed(self, seed: u64) -> Self {
        TrainConfig { seed, ..self }
    }

    /// Turns per-epoch reshuffling on or off.
    pub fn shuffle(self, shuffle: bool) -> Self {
        TrainConfig { shuffle, ..self }
    }

    /// Holds out this share of the samples for validation.
    pub fn validation_fraction(self, validation_fraction: f64) -> Self {
        TrainConfig {
            validation_fraction,
            ..self
        }
    }

    /// Stops after `patience` epochs without a validation-loss improvement
    /// larger than `min_delta`.
    pub fn early_stopping(self, patience: usize, min_delta: f64) -> Self {
        TrainConfig {
            patience: Some(patience),
            min_delta,
            ..self
        }
    }

    /// Sets the learning-rate schedule.
    pub fn schedule(self, schedule: Schedule) -> Self {
        TrainConfig { schedule, ..self }
    }

    /// Clips the gradients to a global norm before every step.
    pub fn clip_norm(self, max_norm: f64) -> Self {
        TrainConfig {
            clip_norm: Some(max_norm),
            ..self
        }
    }

    /// Ends training with the weights of the epoch with the lowest
    /// validation loss, whether training stopped early or ran every epoch
    /// (Keras's `restore_best_weights`). Needs a validation split and the
    /// `alloc` feature; `fit` then keeps one copy of the weights on the
    /// heap.
    pub fn restore_best_weights(self) -> Self {
        TrainConfig {
            restore_best: true,
            ..self
        }
    }
}

/// What the callback tells [`Trainer::fit`] after each epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Go on with the next epoch.
    Continue,
    /// Stop now.
    Stop,
}

/// Runs `network` at inference (dropout off) over every sample of `data`
/// in batches of `B`, calling `visit` with each batch's cache, targets,
/// first sample and number of real samples: what evaluation, the
/// confusion matrix and `metrics::predict` share. `Err(sample)` for the
/// first sample with a NaN or infinite input (the batches before it are
/// visited).
pub(crate) fn inference_batches<T, N, D, const IN: usize, const OUT: usize, const B: usize>(
    network: &N,
    data: &D,
    mut visit: impl FnMut(&N::Cache<B>, &SMatrix<T, OUT, B>, usize, usize),
) -> Result<(), usize>
where
    T: Scalar,
    N: Network<T, IN, OUT>,
    D: Dataset<T, IN, OUT> + ?Sized,
{
    let mut batch = Batch::<T, IN, OUT, B>::zeros();
    let mut start = 0;
    while start < data.len() {
        let len = batch.fill_range(data, start);
        if let Some(j) = (0..len).find(|&j| batch.x.column(j).iter().any(|v| !v.is_finite())) {
            return Err(start + j);
        }
        let cache = network.forward_cache(&batch.x, Noise::OFF);
        visit(&cache, &batch.t, start, len);
        start += len.max(1);
    }
    Ok(())
}

/// Where [`Trainer::fit_observed`] is, after each batch.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BatchProgress {
    /// The epoch, from 0.
    pub epoch: usize,
    /// The number of epochs asked for.
    pub epochs: usize,
    /// The batch within the epoch, from 0.
    pub batch: usize,
    /// The number of training batches per epoch.
    pub batches: usize,
    /// The training samples of this epoch seen so far.
    pub samples: usize,
    /// The mean training loss of this epoch so far.
    pub loss: f64,
}

/// What [`Trainer::fit_observed`] reports to while it trains: every batch
/// (for a progress bar) and every epoch (to print, keep or stop).
/// [`Trainer::fit`] takes a closure for the epochs alone.
pub trait Observer<N> {
    /// After each training batch; nothing by default.
    fn batch(&mut self, progress: &BatchProgress) {
        let _ = progress;
    }

    /// After each epoch, with its figures and the network: go on or stop.
    fn epoch(&mut self, stats: &EpochStats, network: &N) -> Control;
}

/// A closure over the epochs, as an [`Observer`].
struct Epochs<F>(F);

impl<N, F: FnMut(&EpochStats, &N) -> Control> Observer<N> for Epochs<F> {
    fn epoch(&mut self, stats: &EpochStats, network: &N) -> Control {
        (self.0)(stats, network)
    }
}

/// The figures of one epoch.
///
/// Accuracy is the share of samples whose predicted class (the largest
/// output, or `output >= 0.5` for a single output) is the target's (its
/// largest value, or `target >= 0.5`); it means something for classifiers
/// only.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EpochStats {
    /// The epoch, counted from 0.
    pub epoch: usize,
    /// The number of epochs asked for.
    pub epochs: usize,
    /// The learning rate used during this epoch.
    pub learning_rate: f64,
    /// The mean loss over the training samples, as computed during the
    /// epoch (each batch before its step).
    pub train_loss: f64,
    /// The accuracy on the training samples, during the epoch.
    pub train_accuracy: f64,
    /// The mean loss on the validation samples after the epoch.
    pub validation_loss: Option<f64>,
    /// The accuracy on the validation samples after the epoch.
    pub validation_accuracy: Option<f64>,
}

impl fmt::Display for EpochStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "epoch {:>3}/{}: loss {:.4}, accuracy {:.4}",
            self.epoch + 1,
            self.epochs,
            self.train_loss,
            self.train_accuracy
        )?;
        if let (Some(loss), Some(accuracy)) = (self.validation_loss, self.validation_accuracy) {
            write!(f, "; validation loss {loss:.4}, accuracy {accuracy:.4}")?;
        }
        write!(f, "; lr {:.3e}", self.learning_rate)
    }
}

/// How [`Trainer::fit`] ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// The number of epochs run.
    pub epochs_run: usize,
    /// The figures of the last epoch run.
    pub last: EpochStats,
    /// The epoch with the lowest validation loss and that loss; a
    /// non-finite loss is never the best (`None` if every one was).
    pub best: Option<(usize, f64)>,
    /// True if early stopping ended training.
    pub stopped_early: bool,
    /// True if the network was given back the weights of [`Summary::best`]
    /// ([`TrainConfig::restore_best_weights`]).
    pub restored_best: bool,
}

/// The loss and accuracy of a network on a dataset.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Evaluation {
    /// The mean loss per sample.
    pub loss: f64,
    /// The share of correctly classified samples (see [`EpochStats`]).
    pub accuracy: f64,
    /// The number of samples.
    pub samples: usize,
}

/// Why [`Trainer::fit`] could not train.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TrainError {
    /// The order buffer must have one slot per sample.
    OrderLength {
        /// The number of samples.
        expected: usize,
        /// The buffer's length.
        found: usize,
    },
    /// The dataset is empty.
    NoSamples,
    /// The validation fraction leaves no sample of this dataset to train on.
    InvalidValidationFraction(f64),
    /// Early stopping was asked for, but the validation fraction holds out
    /// no sample of this dataset.
    EarlyStoppingWithoutValidation,
    /// A setting of the [`TrainConfig`] is out of its range: nothing was
    /// trained.
    InvalidConfig(ConfigError),
    /// A sample to evaluate has a NaN or infinite input, which gives no
    /// loss or prediction to report.
    NonFiniteInput {
        /// The sample's index in the dataset evaluated.
        sample: usize,
    },
    /// A step failed; the network and the optimizer are as they were just
    /// before it.
    Step {
        /// The epoch, from 0.
        epoch: usize,
        /// The batch within the epoch, from 0.
        batch: usize,
        /// What went wrong.
        error: StepError,
    },
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TrainError::OrderLength { expected, found } => write!(
                f,
                "the order buffer has {found} slots but the dataset has {expected} samples"
            ),
            TrainError::NoSamples => f.write_str("the dataset has no samples"),
            TrainError::InvalidValidationFraction(fraction) => write!(
                f,
                "validation fraction {fraction} holds out every sample: none is left to train on"
            ),
            TrainError::EarlyStoppingWithoutValidation => f.write_str(
                "early stopping needs a validation split, but the validation fraction holds out no sample",
            ),
            TrainError::InvalidConfig(error) => write!(f, "{error}"),
            TrainError::NonFiniteInput { sample } => {
                write!(f, "sample {sample} has a NaN or infinite input")
            }
            TrainError::Step {
                epoch,
                batch,
                error,
            } => write!(f, "epoch {epoch}, batch {batch}: {error}"),
        }
    }
}

impl core::error::Error for TrainError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            TrainError::Step { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl From<ConfigError> for TrainError {
    fn from(error: ConfigError) -> Self {
        TrainError::InvalidConfig(error)
    }
}

/// The loss and the number of correct predictions of one batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchOutcome<T> {
    /// The mean loss over the batch's real samples.
    pub loss: T,
    /// How many of them were classified correctly.
    pub correct: usize,
}

/// Trains networks with the loss `L` in mini-batches of `B` samples.
///
/// See the [module docs](self) for an example.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trainer<L, const B: usize> {
    /// The settings.
    pub config: TrainConfig,
    loss: PhantomData<fn() -> L>,
}

/// What a `Trainer` with `B = 0` is told.
const EMPTY_BATCH: &str =
    "`Trainer<L, B>` was given a batch size B of 0: a batch needs at least 1 sample";

impl<L, const B: usize> Trainer<L, B> {
    // A compile error where `Trainer::new` is instantiated with `B = 0`.
    const BATCH_IS_NOT_EMPTY: () = not_empty(B, EMPTY_BATCH);

    /// A trainer with these settings. `B = 0` is a compile error (at code
    /// generation: `cargo build`, not `cargo check`).
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] that [`TrainConfig::validate`] finds.
    pub fn new(config: TrainConfig) -> Result<Self, ConfigError> {
        let () = Self::BATCH_IS_NOT_EMPTY;
        config.validate()?;
        Ok(Trainer {
            config,
            loss: PhantomData,
        })
    }

    /// The mean loss of `batch`'s real samples, with the gradients of that
    /// mean written into `grads`; padding columns are masked out (see
    /// [`Batch`]). A network's dropout masks are drawn from `rng` (which a
    /// network without random layers leaves untouched).
    pub fn loss_and_gradients<T, N, const IN: usize, const OUT: usize>(
        &self,
        network: &N,
        batch: &Batch<T, IN, OUT, B>,
        grads: &mut N::Gradients,
        rng: &mut Rng,
    ) -> BatchOutcome<T>
    where
        T: Scalar,
        N: Network<T, IN, OUT>,
        L: Loss<N::OutputActivation>,
    {
        let len = batch.len.min(B);
        with_training_cache(network, &batch.x, N::training_noise(rng), |cache| {
            // The loss and the count first: the backward pass spends the
            // cache.
            let outcome = BatchOutcome {
                loss: masked_loss::<T, N::OutputActivation, L, OUT, B>(
                    cache.logits(),
                    cache.output(),
                    &batch.t,
                    len,
                ),
                correct: correct_predictions::<T, N::OutputActivation, L, OUT, B>(
                    cache.logits(),
                    cache.output(),
                    &batch.t,
                    len,
                ),
            };
            let mut delta = L::output_delta(cache.logits(), cache.output(), &batch.t);
            if len < B {
                // `output_delta` divides by B; the mean over `len` samples
                // divides by `len` instead, and padding contributes nothing.
                for j in len..B {
                    delta.column_mut(j).fill(T::zero());
                }
                if len > 0 {
                    delta *= T::constant(B as f64 / len as f64);
                }
            }
            *cache.logits_mut() = delta;
            network.backward_in_place(&batch.x, cache, grads);
            outcome
        })
    }

    /// One training step on `batch`: loss and gradients (dropout masks drawn
    /// from `rng`), optional clipping, then the optimizer's update.
    ///
    /// # Errors
    ///
    /// [`StepError::NonFiniteLoss`] if the loss is NaN or infinite, or the
    /// error of clipping or of the optimizer. On error neither the network nor
    /// the optimizer's state has changed.
    pub fn step<T, N, O, const IN: usize, const OUT: usize>(
        &self,
        network: &mut N,
        optimizer: &mut O,
        grads: &mut N::Gradients,
        batch: &Batch<T, IN, OUT, B>,
        rng: &mut Rng,
    ) -> Result<BatchOutcome<T>, StepError>
    where
        T: Scalar,
        N: Network<T, IN, OUT>,
        L: Loss<N::OutputActivation>,
        O: Optimizer<T, N::Gradients>,
    {
        let outcome = self.loss_and_gradients(network, batch, grads, rng);
        if !outcome.loss.is_finite() {
            return Err(StepError::NonFiniteLoss);
        }
        if let Some(max_norm) = self.config.clip_norm {
            clip_global_norm(grads, T::constant(max_norm))?;
        }
        optimizer.step(network, grads)?;
        Ok(outcome)
    }

    /// The mean loss and the accuracy of `network` on every sample of `data`,
    /// every layer as at inference (dropout off).
    ///
    /// # Errors
    ///
    /// [`TrainError::NoSamples`] if `data` is empty: a mean over no samples
    /// is no measurement (it once came out as a loss of 0);
    /// [`TrainError::NonFiniteInput`] for the first sample with a NaN or
    /// infinite input.
    pub fn evaluate<T, N, D, const IN: usize, const OUT: usize>(
        &self,
        network: &N,
        data: &D,
    ) -> Result<Evaluation, TrainError>
    where
        T: Scalar,
        N: Network<T, IN, OUT>,
        L: Loss<N::OutputActivation>,
        D: Dataset<T, IN, OUT> + ?Sized,
    {
        let mut totals = Totals::default();
        self.for_each_batch(network, data, |cache, t, len| {
            let (z, a) = (cache.logits(), cache.output());
            totals.add(
                masked_loss::<T, N::OutputActivation, L, OUT, B>(z, a, t, len),
                correct_predictions::<T, N::OutputActivation, L, OUT, B>(z, a, t, len),
                len,
            );
        })?;
        Ok(totals.evaluation())
    }

    /// The confusion matrix of `network` on every sample of `data`: each
    /// sample's class (its largest target, or, with one output, a target of
    /// at least 0.5) against the class predicted as [`Trainer::evaluate`]
    /// counts accuracy. `K` is the number of classes, `OUT` or 2 for one
    /// output (another `K` is a compile error, at `cargo build`); write it
    /// in the type: `let matrix: ConfusionMatrix<3> = trainer.confusion_matrix(&net, &test)?;`.
    ///
    /// # Errors
    ///
    /// As [`Trainer::evaluate`]: [`TrainError::NoSamples`] for empty data,
    /// [`TrainError::NonFiniteInput`] for a NaN or infinite input.
    pub fn confusion_matrix<const K: usize, T, N, D, const IN: usize, const OUT: usize>(
        &self,
        network: &N,
        data: &D,
    ) -> Result<ConfusionMatrix<K>, TrainError>
    where
        T: Scalar,
        N: Network<T, IN, OUT>,
        L: Loss<N::OutputActivation>,
        D: Dataset<T, IN, OUT> + ?Sized,
    {
        const {
            assert!(
                K == if OUT == 1 { 2 } else { OUT },
                "ConfusionMatrix<K>: K must be the number of classes, the network's outputs (2 for one output)"
            )
        };
        let mut matrix = ConfusionMatrix::new();
        self.for_each_batch(network, data, |cache, t, len| {
            for j in 0..len {
                let predicted = predicted_class::<T, N::OutputActivation, L, OUT, B>(
                    cache.logits(),
                    cache.output(),
                    j,
                );
                // Both classes are below `K` (the assertion above).
                let _ = matrix.add(actual_class(t, j), predicted);
            }
        })?;
        Ok(matrix)
    }

    /// Runs `network` at inference over `data` in batches of `B`, calling
    /// `visit` with each batch's cache, targets and number of real samples.
    fn for_each_batch<T, N, D, const IN: usize, const OUT: usize>(
        &self,
        network: &N,
        data: &D,
        mut visit: impl FnMut(&N::Cache<B>, &SMatrix<T, OUT, B>, usize),
    ) -> Result<(), TrainError>
    where
        T: Scalar,
        N: Network<T, IN, OUT>,
        D: Dataset<T, IN, OUT> + ?Sized,
    {
        if data.is_empty() {
            return Err(TrainError::NoSamples);
        }
        inference_batches::<T, N, D, IN, OUT, B>(network, data, |cache, t, _, len| {
            visit(cache, t, len)
        })
        .map_err(|sample| TrainError::NonFiniteInput { sample })
    }

    /// Trains `network` on `data` for up to `config.epochs` epochs.
    ///
    /// `order` (one slot per sample of `data`) holds the sample order; its
    /// last `round(len * validation_fraction)` entries are the validation
    /// samples, fixed for the whole run. Each epoch reshuffles the training
    /// part (if `shuffle`), sets the learning rate from the schedule, steps
    /// through every training sample once in batches of `B` (the last one
    /// partial if `B` does not divide the count; see [`Batch`]), evaluates
    /// the validation samples, and calls `callback` with the figures and the
    /// network. Training stops after `epochs`, when the callback returns
    /// [`Control::Stop`], or when early stopping triggers.
    ///
    /// # Errors
    ///
    /// A [`TrainError`] for a bad configuration (before anything changes) or
    /// a failed step (the network and the optimizer are then exactly as
    /// they were before that step).
    pub fn fit<T, N, O, D, F, const IN: usize, const OUT: usize>(
        &self,
        network: &mut N,
        optimizer: &mut O,
        grads: &mut N::Gradients,
        data: &D,
        order: &mut [usize],
        callback: F,
    ) -> Result<Summary, TrainError>
    where
        T: Scalar,
        N: Network<T, IN, OUT>,
        L: Loss<N::OutputActivation>,
        O: Optimizer<T, N::Gradients>,
        D: Dataset<T, IN, OUT> + ?Sized,
        F: FnMut(&EpochStats, &N) -> Control,
    {
        let mut epochs = Epochs(callback);
        self.fit_observed(network, optimizer, grads, data, order, &mut epochs)
    }

    /// Like [`Trainer::fit`], reporting every batch as well as every epoch
    /// to `observer` (a progress bar, say: `train::ProgressBar` with the
    /// `progress` feature).
    ///
    /// # Errors
    ///
    /// As [`Trainer::fit`].
    pub fn fit_observed<T, N, O, D, V, const IN: usize, const OUT: usize>(
        &self,
        network: &mut N,
        optimizer: &mut O,
        grads: &mut N::Gradients,
        data: &D,
        order: &mut [usize],
        observer: &mut V,
    ) -> Result<Summary, TrainError>
    where
        T: Scalar,
        N: Network<T, IN, OUT>,
        L: Loss<N::OutputActivation>,
        O: Optimizer<T, N::Gradients>,
        D: Dataset<T, IN, OUT> + ?Sized,
        V: Observer<N> + ?Sized,
    {
        let config = &self.config;
        if order.len() != data.len() {
            return Err(TrainError::OrderLength {
                expected: data.len(),
                found: order.len(),
            });
        }
        config.validate()?;
        let fraction = config.validation_fraction;
        if data.is_empty() {
            return Err(TrainError::NoSamples);
        }
        let held_out = split_len(data.len(), fraction);
        if held_out == data.len() {
            return Err(TrainError::InvalidValidationFraction(fraction));
        }
        if config.patience.is_some() && held_out == 0 {
            return Err(TrainError::EarlyStoppingWithoutValidation);
        }

        for (i, slot) in order.iter_mut().enumerate() {
            *slot = i;
        }
        let mut rng = Rng::new(config.seed);
        if held_out > 0 {
            rng.shuffle(order);
        }
        let (train, validation) = order.split_at_mut(data.len() - held_out);
        let base_rate = optimizer.learning_rate().to_f64();
        let mut batch = Batch::<T, IN, OUT, B>::zeros();
        let mut summary = Summary {
            epochs_run: 0,
            last: EpochStats::default(),
            best: None,
            stopped_early: false,
            restored_best: false,
        };
        let mut best_weights =
            BestWeights::<T>::new(config.restore_best && held_out > 0, N::PARAMETERS);
        let mut epochs_without_improvement = 0;

        let batches = train.len().div_ceil(B);
        for epoch in 0..config.epochs {
            let learning_rate = config.schedule.learning_rate(base_rate, epoch);
            optimizer.set_learning_rate(T::constant(learning_rate));
            if config.shuffle {
                rng.shuffle(train);
            }
            let mut totals = Totals::default();
            for (index, indices) in train.chunks(B).enumerate() {
                // `order` holds a permutation of `0..data.len()`, so every
                // index is in range.
                let len = batch.fill(data, indices).unwrap_or(0);
                let outcome = self
                    .step(network, optimizer, grads, &batch, &mut rng)
                    .map_err(|error| TrainError::Step {
                        epoch,
                        batch: index,
                        error,
                    })?;
                totals.add(outcome.loss, outcome.correct, len);
                observer.batch(&BatchProgress {
                    epoch,
                    epochs: config.epochs,
                    batch: index,
                    batches,
                    samples: totals.samples,
                    loss: totals.evaluation().loss,
                });
            }
            let train_figures = totals.evaluation();
            let subset = IndexView {
                data,
                indices: validation,
            };
            let validation_figures = if held_out > 0 {
                Some(
                    self.evaluate(network, &subset)
                        .map_err(|error| match error {
                            // The index within the validation samples, as the
                            // dataset numbers them.
                            TrainError::NonFiniteInput { sample } => TrainError::NonFiniteInput {
                                sample: validation[sample],
                            },
                            other => other,
                        })?,
                )
            } else {
                None
            };

            let stats = EpochStats {
                epoch,
                epochs: config.epochs,
                learning_rate,
                train_loss: train_figures.loss,
                train_accuracy: train_figures.accuracy,
                validation_loss: validation_figures.map(|v| v.loss),
                validation_accuracy: validation_figures.map(|v| v.accuracy),
            };
            summary.epochs_run = epoch + 1;
            summary.last = stats;
            if let Some(loss) = stats.validation_loss {
                // A NaN or infinite loss is never the best: it would compare
                // false against every later one and end training early.
                let improved = loss.is_finite()
                    && summary
                        .best
                        .is_none_or(|(_, best)| loss < best - config.min_delta);
                if improved {
                    summary.best = Some((epoch, loss));
                    best_weights.keep(network);
                    epochs_without_improvement = 0;
                } else {
                    epochs_without_improvement += 1;
                }
            }
            if observer.epoch(&stats, network) == Control::Stop {
                break;
            }
            if config
                .patience
                .is_some_and(|patience| epochs_without_improvement >= patience.max(1))
            {
                summary.stopped_early = true;
                break;
            }
        }
        summary.restored_best = best_weights.restore(network);
        Ok(summary)
    }
}

/// The weights of the best epoch so far, when
/// [`TrainConfig::restore_best_weights`] asks for them.
struct BestWeights<T> {
    #[cfg(feature = "alloc")]
    values: Option<alloc::vec::Vec<T>>,
    #[cfg(not(feature = "alloc"))]
    values: core::marker::PhantomData<T>,
}

impl<T: Scalar> BestWeights<T> {
    /// Room for `parameters` weights if `wanted` (`TrainConfig::validate`
    /// refuses `restore_best` without `alloc`).
    fn new(wanted: bool, parameters: usize) -> Self {
        #[cfg(feature = "alloc")]
        {
            BestWeights {
                values: wanted.then(|| alloc::vec![T::zero(); parameters]),
            }
        }
        #[cfg(not(feature = "alloc"))]
        {
            let _ = (wanted, parameters);
            BestWeights {
                values: core::marker::PhantomData,
            }
        }
    }

    /// Copies `network`'s weights, if they are wanted.
    fn keep<N: Parameters<T>>(&mut self, network: &N) {
        #[cfg(feature = "alloc")]
        if let Some(values) = &mut self.values {
            for (v, &w) in values.iter_mut().zip(network.slices().flatten()) {
                *v = w;
            }
        }
        #[cfg(not(feature = "alloc"))]
        let _ = network;
    }

    /// Writes the kept weights back into `network`; whether there were any.
    fn restore<N: Parameters<T>>(&self, network: &mut N) -> bool {
        #[cfg(feature = "alloc")]
        if let Some(values) = &self.values {
            for (w, &v) in network.slices_mut().flatten().zip(values.iter()) {
                *w = v;
            }
            return true;
        }
        #[cfg(not(feature = "alloc"))]
        let _ = network;
        false
    }
}

/// Prints one line per epoch with the time taken (needs the `std` feature).
///
/// ```no_run
/// # use network_core::{Control, train::Progress};
/// let mut progress = Progress::new();
/// let callback = |stats: &network_core::EpochStats, _net: &()| {
///     progress.print(stats);
///     Control::Continue
/// };
/// ```
#[cfg(feature = "std")]
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    start: std::time::Instant,
    last: std::time::Instant,
}

#[cfg(feature = "std")]
impl Progress {
    /// Starts the clock.
    pub fn new() -> Self {
        let now = std::time::Instant::now();
        Progress {
            start: now,
            last: now,
        }
    }

    /// The epoch's figures followed by the time the epoch took and the total
    /// so far, e.g. `epoch   2/10: loss 0.2315, accuracy 0.9330; lr 1.000e-3 (1.8 s, total 3.6 s)`.
    pub fn line(&mut self, stats: &EpochStats) -> std::string::String {
        let now = std::time::Instant::now();
        let epoch = now.duration_since(self.last).as_secs_f64();
        let total = now.duration_since(self.start).as_secs_f64();
        self.last = now;
        std::format!("{stats} ({epoch:.1} s, total {total:.1} s)")
    }

    /// Prints [`Progress::line`] to standard output.
    pub fn print(&mut self, stats: &EpochStats) {
        std::println!("{}", self.line(stats));
    }
}

#[cfg(feature = "std")]
impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

/// A dataset seen through a slice of indices known to be in range.
struct IndexView<'a, D: ?Sized> {
    data: &'a D,
    indices: &'a [usize],
}

impl<T: Scalar, const IN: usize, const OUT: usize, D: Dataset<T, IN, OUT> + ?Sized>
    Dataset<T, IN, OUT> for IndexView<'_, D>
{
    fn len(&self) -> usize {
        self.indices.len()
    }

    fn write_sample(
        &self,
        index: usize,
        input: nalgebra::SVectorViewMut<'_, T, IN>,
        target: nalgebra::SVectorViewMut<'_, T, OUT>,
    ) {
        self.data.write_sample(self.indices[index], input, target);
    }
}

/// Running sums over batches, weighted by their real sample counts.
#[derive(Default)]
struct Totals {
    loss: f64,
    correct: usize,
    samples: usize,
}

impl Totals {
    fn add<T: Scalar>(&mut self, mean_loss: T, correct: usize, samples: usize) {
        if samples > 0 {
            self.loss += mean_loss.to_f64() * samples as f64;
            self.correct += correct;
            self.samples += samples;
        }
    }

    fn evaluation(&self) -> Evaluation {
        let n = self.samples.max(1) as f64;
        Evaluation {
            loss: self.loss / n,
            accuracy: self.correct as f64 / n,
            samples: self.samples,
        }
    }
}

/// The mean loss over the first `len` columns (all `B` of them in one call
/// when the batch is full, column by column otherwise).
fn masked_loss<T, A, L, const OUT: usize, const B: usize>(
    z: &SMatrix<T, OUT, B>,
    a: &SMatrix<T, OUT, B>,
    t: &SMatrix<T, OUT, B>,
    len: usize,
) -> T
where
    T: Scalar,
    A: Activation,
    L: Loss<A>,
{
    if len >= B {
        return L::loss(z, a, t);
    }
    let mut total = T::zero();
    for j in 0..len {
        let column = |m: &SMatrix<T, OUT, B>| -> SVector<T, OUT> { m.column(j).into_owned() };
        total += L::loss(&column(z), &column(a), &column(t));
    }
    total / T::constant(len.max(1) as f64)
}

/// The class column `j` is predicted as: the largest output, or, for a
/// single output, 1 if [`Loss::predicts_one`].
fn predicted_class<T, A, L, const OUT: usize, const B: usize>(
    z: &SMatrix<T, OUT, B>,
    a: &SMatrix<T, OUT, B>,
    j: usize,
) -> usize
where
    T: Scalar,
    A: Activation,
    L: Loss<A>,
{
    match OUT {
        0 => 0,
        1 => usize::from(L::predicts_one(z[(0, j)], a[(0, j)])),
        _ => a.column(j).imax(),
    }
}

/// The class of target column `j`: the largest target, or, for a single
/// output, 1 if it is at least 0.5.
fn actual_class<T: Scalar, const OUT: usize, const B: usize>(
    targets: &SMatrix<T, OUT, B>,
    j: usize,
) -> usize {
    match OUT {
        0 => 0,
        1 => usize::from(targets[(0, j)] >= T::constant(0.5)),
        _ => targets.column(j).imax(),
    }
}

/// How many of the first `len` columns are predicted as their targets'
/// classes.
fn correct_predictions<T, A, L, const OUT: usize, const B: usize>(
    z: &SMatrix<T, OUT, B>,
    a: &SMatrix<T, OUT, B>,
    targets: &SMatrix<T, OUT, B>,
    len: usize,
) -> usize
where
    T: Scalar,
    A: Activation,
    L: Loss<A>,
{
    (0..len.min(B))
        .filter(|&j| predicted_class::<T, A, L, OUT, B>(z, a, j) == actual_class(targets, j))
        .count()
}
