//! The loss of a network on a batch of inputs and targets, and its
//! gradients: the methods a call names only by their loss,
//! `net.loss_and_gradients::<HalfSquaredError>(&x, &t, &mut grads)`, the
//! batch size taken from the arguments.

use nalgebra::SMatrix;

use crate::__empty_batch as empty_batch;
use crate::network::with_training_cache;
use crate::{Cache, Deterministic, Loss, Network, Noise, Rng, Samples, Scalar, Targets};

/// The supervised-learning methods of every [`Network`]: the mean loss `L`
/// over a batch, `C = (1/B) sum_j L(a_L[:, j], t[:, j])`, its gradients
/// `dC/dtheta` and `dC/dx`, and each sample's loss.
///
/// `B`, the number of samples, is a parameter of the trait rather than of
/// each method, so that it is inferred from the arguments' types: a call
/// names the loss alone (`::<L>`), and targets with another number of
/// columns than the inputs are reported as such. Implemented for every
/// network and every `B`; in the prelude.
///
/// Each method takes one sample (an `SVector<T, IN>` or an array `[T; IN]`)
/// or a batch (an `SMatrix<T, IN, B>`, one sample per column), and targets
/// of the same form; a batch of `B = 0` samples is a compile error.
///
/// ```
/// # use network_macros::network;
/// use network_core::{Gradients, HalfSquaredError, Network, SMatrix, Supervised, Tanh, Identity};
///
/// network! {
///     # #[network(crate = network_core)]
///     struct Mlp {
///         input: 2,
///         hidden: Dense<4, Tanh>,
///         output: Dense<1, Identity>,
///     }
/// }
///
/// let net = Mlp::<f64>::random(1);
/// let mut grads = MlpGradients::zeros();
/// let x = SMatrix::<f64, 2, 3>::from_column_slice(&[0.0, 1.0, 1.0, 0.0, 1.0, 1.0]);
/// let t = SMatrix::<f64, 1, 3>::new(1.0, 1.0, 0.0);
/// let loss = net.loss_and_gradients::<HalfSquaredError>(&x, &t, &mut grads);
/// assert_eq!(loss, net.loss::<HalfSquaredError>(&x, &t));
/// ```
pub trait Supervised<T: Scalar, const IN: usize, const OUT: usize, const B: usize>:
    Network<T, IN, OUT>
{
    /// The mean loss `L` over the batch, every layer as at inference
    /// (dropout off).
    fn loss<L: Loss<Self::OutputActivation>>(
        &self,
        x: &impl Samples<T, IN, B>,
        targets: &impl Targets<T, OUT, B>,
    ) -> T;

    /// One forward and backward pass of a network without random layers:
    /// writes the gradients of the mean loss `L` into `grads` and returns
    /// that loss. A network with `Dropout` is not [`Deterministic`]: use
    /// [`Supervised::loss_and_gradients_with`].
    fn loss_and_gradients<L: Loss<Self::OutputActivation>>(
        &self,
        x: &impl Samples<T, IN, B>,
        targets: &impl Targets<T, OUT, B>,
        grads: &mut Self::Gradients,
    ) -> T
    where
        Self: Deterministic;

    /// Like [`Supervised::loss_and_gradients`], the dropout masks drawn
    /// from `rng` (which a network without `Dropout` leaves untouched).
    fn loss_and_gradients_with<L: Loss<Self::OutputActivation>>(
        &self,
        x: &impl Samples<T, IN, B>,
        targets: &impl Targets<T, OUT, B>,
        grads: &mut Self::Gradients,
        rng: &mut Rng,
    ) -> T;

    /// Like [`Supervised::loss_and_gradients`], and also returns `dC/dx`,
    /// the gradient of the mean loss with respect to each input (one column
    /// per sample): for saliency maps, adversarial examples, or a network
    /// whose input is another model's output.
    fn loss_gradients_and_input_gradient<L: Loss<Self::OutputActivation>>(
        &self,
        x: &impl Samples<T, IN, B>,
        targets: &impl Targets<T, OUT, B>,
        grads: &mut Self::Gradients,
    ) -> (T, SMatrix<T, IN, B>)
    where
        Self: Deterministic;

    /// The loss `L` of each sample (column) of the batch, every layer as at
    /// inference: their mean is [`Supervised::loss`].
    fn sample_losses<L: Loss<Self::OutputActivation>>(
        &self,
        x: &impl Samples<T, IN, B>,
        targets: &impl Targets<T, OUT, B>,
    ) -> [T; B];
}

/// Panics with `message` if a batch has no samples: called by a constant
/// (one of [`NotEmpty`]'s, `Trainer`'s), it is a compile error where that
/// constant is used. `#[track_caller]` so that rustc reports the constant,
/// not `core`'s panic machinery.
#[track_caller]
pub(crate) const fn not_empty(b: usize, message: &'static str) {
    if b == 0 {
        panic!("{}", message);
    }
}

/// Each method's check that its batch has samples, naming the method: no
/// bound can say `B >= 1` on stable Rust, so each method evaluates its
/// constant where it is instantiated (a compile error at `cargo build`,
/// not at `cargo check`).
struct NotEmpty<const B: usize>;

/// The message of a method's zero-batch check, naming the method: the one
/// source of that sentence, for [`NotEmpty`]'s checks and for those the
/// generated `forward_train` and `forward_train_with` make (through
/// `__private`). Not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __empty_batch {
    ($method:literal) => {
        concat!(
            "`",
            $method,
            "` was given a batch of 0 samples: a batch needs at least one column, one per sample"
        )
    };
}

impl<const B: usize> NotEmpty<B> {
    const LOSS: () = not_empty(B, empty_batch!("loss"));
    const LOSS_AND_GRADIENTS: () = not_empty(B, empty_batch!("loss_and_gradients"));
    const LOSS_AND_GRADIENTS_WITH: () = not_empty(B, empty_batch!("loss_and_gradients_with"));
    const LOSS_GRADIENTS_AND_INPUT_GRADIENT: () =
        not_empty(B, empty_batch!("loss_gradients_and_input_gradient"));
    const SAMPLE_LOSSES: () = not_empty(B, empty_batch!("sample_losses"));
}

impl<T, N, const IN: usize, const OUT: usize, const B: usize> Supervised<T, IN, OUT, B> for N
where
    T: Scalar,
    N: Network<T, IN, OUT>,
{
    fn loss<L: Loss<Self::OutputActivation>>(
        &self,
        x: &impl Samples<T, IN, B>,
        targets: &impl Targets<T, OUT, B>,
    ) -> T {
        let () = NotEmpty::<B>::LOSS;
        with_batch(x, targets, |x, targets| {
            let cache = self.forward_cache(x, Noise::OFF);
            L::loss(cache.logits(), cache.output(), targets)
        })
    }

    fn loss_and_gradients<L: Loss<Self::OutputActivation>>(
        &self,
        x: &impl Samples<T, IN, B>,
        targets: &impl Targets<T, OUT, B>,
        grads: &mut Self::Gradients,
    ) -> T
    where
        Self: Deterministic,
    {
        let () = NotEmpty::<B>::LOSS_AND_GRADIENTS;
        with_batch(x, targets, |x, targets| {
            loss_and_gradients_of::<T, Self, L, IN, OUT, B>(self, x, targets, grads, Noise::OFF)
        })
    }

    fn loss_and_gradients_with<L: Loss<Self::OutputActivation>>(
        &self,
        x: &impl Samples<T, IN, B>,
        targets: &impl Targets<T, OUT, B>,
        grads: &mut Self::Gradients,
        rng: &mut Rng,
    ) -> T {
        let () = NotEmpty::<B>::LOSS_AND_GRADIENTS_WITH;
        let noise = Self::training_noise(rng);
        with_batch(x, targets, |x, targets| {
            loss_and_gradients_of::<T, Self, L, IN, OUT, B>(self, x, targets, grads, noise)
        })
    }

    fn loss_gradients_and_input_gradient<L: Loss<Self::OutputActivation>>(
        &self,
        x: &impl Samples<T, IN, B>,
        targets: &impl Targets<T, OUT, B>,
        grads: &mut Self::Gradients,
    ) -> (T, SMatrix<T, IN, B>)
    where
        Self: Deterministic,
    {
        let () = NotEmpty::<B>::LOSS_GRADIENTS_AND_INPUT_GRADIENT;
        with_batch(x, targets, |x, targets| {
            with_training_cache(self, x, Noise::OFF, |cache| {
                let loss = L::loss(cache.logits(), cache.output(), targets);
                *cache.logits_mut() = L::output_delta(cache.logits(), cache.output(), targets);
                let mut grad_input = SMatrix::zeros();
                self.backward_in_place_with_input(x, cache, grads, &mut grad_input);
                (loss, grad_input)
            })
        })
    }

    fn sample_losses<L: Loss<Self::OutputActivation>>(
        &self,
        x: &impl Samples<T, IN, B>,
        targets: &impl Targets<T, OUT, B>,
    ) -> [T; B] {
        let () = NotEmpty::<B>::SAMPLE_LOSSES;
        with_batch(x, targets, |x, targets| {
            let cache = self.forward_cache(x, Noise::OFF);
            let (z, a) = (cache.logits(), cache.output());
            core::array::from_fn(|j| {
                let column =
                    |m: &SMatrix<T, OUT, B>| -> SMatrix<T, OUT, 1> { m.column(j).into_owned() };
                L::loss(&column(z), &column(a), &column(targets))
            })
        })
    }
}

/// Calls `f` with the inputs and the targets as matrices.
#[inline(always)]
fn with_batch<T, R, const IN: usize, const OUT: usize, const B: usize>(
    x: &impl Samples<T, IN, B>,
    targets: &impl Targets<T, OUT, B>,
    f: impl FnOnce(&SMatrix<T, IN, B>, &SMatrix<T, OUT, B>) -> R,
) -> R
where
    T: Scalar,
{
    x.with_matrix(|x| targets.with_matrix(|targets| f(x, targets)))
}

/// One training pass of `x` made with `noise`: the mean loss `L`, its
/// gradients written into `grads`.
fn loss_and_gradients_of<T, N, L, const IN: usize, const OUT: usize, const B: usize>(
    network: &N,
    x: &SMatrix<T, IN, B>,
    targets: &SMatrix<T, OUT, B>,
    grads: &mut N::Gradients,
    noise: Noise,
) -> T
where
    T: Scalar,
    N: Network<T, IN, OUT>,
    L: Loss<N::OutputActivation>,
{
    with_training_cache(network, x, noise, |cache| {
        let loss = L::loss(cache.logits(), cache.output(), targets);
        *cache.logits_mut() = L::output_delta(cache.logits(), cache.output(), targets);
        network.backward_in_place(x, cache, grads);
        loss
    })
}
