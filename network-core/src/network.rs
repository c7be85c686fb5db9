//! The traits every generated network implements, so that optimizers,
//! training loops and gradient checks are written once for all networks.

use nalgebra::SMatrix;

use crate::{Activation, Noise, Rng, Scalar};

/// A fixed set of parameters seen as a sequence of slices of scalars.
///
/// Networks and their gradients list their slices in the same order (layer by
/// layer, weights then biases), so optimizers can zip them.
///
/// Besides the trained parameters, a set may hold *statistics*: values that
/// are part of the model but are fitted on data rather than trained, such as
/// the mean and scale of a `Standardize` input layer. Optimizers, gradients
/// and their checks see only [`slices`](Parameters::slices); serialisation
/// ([`to_bytes`](crate::to_bytes), `write_static`, safetensors) stores both.
/// Most sets have no statistics, the default.
pub trait Parameters<T: Scalar> {
    /// The total number of scalars in all the slices.
    const PARAMETERS: usize;

    /// The total number of scalars in all the [`statistics`](Parameters::statistics)
    /// slices: 0 unless the set has a layer fitted on data.
    const STATISTICS: usize = 0;

    /// The slices, in declaration order.
    fn slices(&self) -> impl Iterator<Item = &[T]>;

    /// The slices, mutably, in the order of [`Parameters::slices`].
    fn slices_mut(&mut self) -> impl Iterator<Item = &mut [T]>;

    /// The statistics (fitted, not trained), one slice per layer that has
    /// them, in declaration order; none by default.
    fn statistics(&self) -> impl Iterator<Item = &[T]> {
        core::iter::empty()
    }

    /// The statistics, mutably, in the order of [`Parameters::statistics`].
    fn statistics_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        core::iter::empty()
    }

    /// Every stored value: the parameters' slices, then the statistics'.
    /// What serialisation writes and reads, [`PARAMETERS`](Parameters::PARAMETERS)
    /// `+` [`STATISTICS`](Parameters::STATISTICS) values in all.
    fn stored(&self) -> impl Iterator<Item = &[T]> {
        self.slices().chain(self.statistics())
    }

    /// Sets every value to zero.
    fn fill_zero(&mut self) {
        for slice in self.slices_mut() {
            slice.fill(T::zero());
        }
    }

    /// `self += other`, value by value.
    fn accumulate(&mut self, other: &Self) {
        for (mine, theirs) in self.slices_mut().zip(other.slices()) {
            for (m, t) in mine.iter_mut().zip(theirs) {
                *m += *t;
            }
        }
    }

    /// `self *= factor`, value by value.
    fn scale(&mut self, factor: T) {
        for slice in self.slices_mut() {
            for v in slice {
                *v *= factor;
            }
        }
    }

    /// The squared Euclidean norm over all values.
    fn norm_squared(&self) -> T {
        self.slices()
            .flatten()
            .fold(T::zero(), |acc, v| acc + *v * *v)
    }

    /// True if every value is finite (no NaN, no infinity).
    fn all_finite(&self) -> bool {
        self.slices().flatten().all(|v| v.is_finite())
    }
}

/// The type of the gradients of `Self`'s parameters: `network!`
/// implements it for each network (`Net`'s are `NetGradients`); implement
/// it for hand-written [`Parameters`] whose gradients are passed to an
/// optimizer's step.
pub trait HasGradients {
    /// The gradients: the same slices as `Self`'s parameters, in the same
    /// order.
    type Gradients;
}

/// `Self` holds the gradients of the parameters of a `P`: `Self` is
/// `P`'s [`HasGradients::Gradients`]. An optimizer's step requires it, so
/// that the gradients of another network are a compile error.
#[diagnostic::on_unimplemented(
    message = "`{Self}` are not the gradients of `{P}`",
    label = "the gradients of another network",
    note = "pass the gradients that `{P}`'s `loss_and_gradients` writes"
)]
pub trait GradientsOf<P> {}

// Not recommended: the message names `P`, and rustc would otherwise say
// only that `P`'s gradients are another type.
#[diagnostic::do_not_recommend]
impl<P: HasGradients<Gradients = G>, G> GradientsOf<P> for G {}

/// The gradients of a network: the same shapes as its parameters.
pub trait Gradients<T: Scalar>: Parameters<T> + Clone {
    /// All-zero gradients.
    fn zeros() -> Self;
}

/// What a training forward pass keeps for the backward pass: every layer's
/// `z` and `a`, for a batch of `B` samples.
pub trait Cache<T: Scalar, const OUT: usize, const B: usize>: Clone {
    /// A cache of zeros, for [`Network::forward_cache_into`] to fill.
    fn zeroed() -> Self;
    /// The output layer's pre-activation `z_L` (the logits).
    fn logits(&self) -> &SMatrix<T, OUT, B>;
    /// The storage of `z_L`, where [`Network::backward_in_place`] expects
    /// `delta_L = dC/dz_L`.
    fn logits_mut(&mut self) -> &mut SMatrix<T, OUT, B>;
    /// The network's output `a_L`.
    fn output(&self) -> &SMatrix<T, OUT, B>;
    /// The key the pass was made with (kept only by a network with a
    /// random layer, such as `Dropout`; [`Noise::OFF`] otherwise).
    fn noise(&self) -> Noise {
        Noise::OFF
    }
}

/// One layer's parameters seen as PyTorch's tensors: the entries of
/// [`Network::LAYER_TENSORS`].
///
/// A layer with parameters has two slices ([`Parameters::slices`]): its
/// weights, which hold the `weight` tensor (row-major, or transposed, see
/// [`transposed`](LayerTensors::transposed)), then its biases, which hold
/// the `bias` tensor.
///
/// ```
/// use network_core::LayerTensors;
///
/// // A `Conv2d<6, 5, Relu>` on one input channel: PyTorch's
/// // `Conv2d(1, 6, 5)`, whose weight is `[6, 1, 5, 5]`.
/// let conv = LayerTensors {
///     weight: &[6, 1, 5, 5],
///     bias: &[6],
///     transposed: false,
///     ..LayerTensors::NONE
/// };
/// assert!(conv.has_parameters());
/// assert_eq!(conv.weight_len(), 150);
/// assert!(!LayerTensors::NONE.has_parameters());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerTensors {
    /// The shape of PyTorch's `weight`: `[out, in]` (`Linear`),
    /// `[out, in, k]` (`Conv1d`), `[out, in, kh, kw]` (`Conv2d`); empty for
    /// a layer without parameters.
    pub weight: &'static [usize],
    /// The shape of PyTorch's `bias`, `[out]`; empty for a layer without
    /// parameters.
    pub bias: &'static [usize],
    /// Whether the weight slice holds the `weight` tensor transposed: a
    /// 2-D `weight` `[rows, cols]` whose element `(r, c)` is at `c * rows +
    /// r` (`Dense`'s column-major `W`). Otherwise the slice is the tensor in
    /// row-major order (a convolution's kernels).
    pub transposed: bool,
    /// The names of the layer's statistics (values fitted on data, not
    /// trained; see [`Parameters::statistics`]): `["mean", "inv_std"]` for a
    /// `Standardize` layer, empty for the others. Such a layer has one
    /// statistics slice, these vectors one after the other, each of shape
    /// [`statistics_shape`](LayerTensors::statistics_shape); safetensors
    /// names them `<layer>.<name>`, as PyTorch names a module's buffers.
    pub statistics: &'static [&'static str],
    /// The shape of each statistics vector, `[IN]`; empty without statistics.
    pub statistics_shape: &'static [usize],
}

impl LayerTensors {
    /// A layer without parameters or statistics (pooling, dropout): no
    /// tensors.
    pub const NONE: LayerTensors = LayerTensors {
        weight: &[],
        bias: &[],
        transposed: false,
        statistics: &[],
        statistics_shape: &[],
    };

    /// Whether the layer has parameters, hence a `weight` and a `bias`.
    pub const fn has_parameters(&self) -> bool {
        !self.weight.is_empty()
    }

    /// Whether the layer has statistics, hence one statistics slice.
    pub const fn has_statistics(&self) -> bool {
        !self.statistics.is_empty()
    }

    /// The values of one statistics vector: the product of
    /// [`statistics_shape`](LayerTensors::statistics_shape) (0 without
    /// statistics).
    pub const fn statistic_len(&self) -> usize {
        product(self.statistics_shape)
    }

    /// The values of the `weight` tensor: the product of its shape (0
    /// without parameters).
    pub const fn weight_len(&self) -> usize {
        product(self.weight)
    }

    /// The values of the `bias` tensor (0 without parameters).
    pub const fn bias_len(&self) -> usize {
        product(self.bias)
    }
}

/// The product of a shape's dimensions; 0 for an empty shape (no tensor).
const fn product(shape: &[usize]) -> usize {
    if shape.is_empty() {
        return 0;
    }
    let mut total = 1;
    let mut i = 0;
    while i < shape.len() {
        total *= shape[i];
        i += 1;
    }
    total
}

/// An input that is NaN or infinite, refused by
/// [`Network::forward_checked`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NonFiniteInput {
    /// The sample: the column of the batch.
    pub sample: usize,
    /// The feature: the row within the sample.
    pub feature: usize,
}

impl core::fmt::Display for NonFiniteInput {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "input {} of sample {} is NaN or infinite",
            self.feature, self.sample
        )
    }
}

impl core::error::Error for NonFiniteInput {}

/// A network whose training pass draws no random numbers: it has no
/// `Dropout` layer. Only such a network trains without a random stream
/// ([`Network::forward_train`],
/// [`Supervised::loss_and_gradients`](crate::Supervised::loss_and_gradients));
/// `network!` implements it where it holds.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has a `Dropout` layer: its training pass needs a random stream",
    label = "use `forward_train_with(&x, &mut rng)` or `loss_and_gradients_with(.., &mut rng)`"
)]
pub trait Deterministic {}

/// A feedforward network with `IN` inputs and `OUT` outputs, generated by
/// `network!`.
///
/// Data is column-major: a batch of `B` samples is a `SMatrix<T, IN, B>`, and a
/// single sample is `B = 1`, i.e. an `SVector<T, IN>`.
pub trait Network<T: Scalar, const IN: usize, const OUT: usize>: Parameters<T> + Sized {
    /// The number of layers (the input is not a layer).
    const LAYERS: usize;
    /// Whether a training pass draws random numbers: the network has a
    /// random layer such as `Dropout`.
    const RANDOM: bool;
    /// The declaration as written, normalised: `"input: 2, hidden: Dense<4, Tanh>,
    /// output: Dense<1, Sigmoid>"`. Serialisation fingerprints it.
    const ARCHITECTURE: &'static str;
    /// Every size of the declaration with its const items and parameters
    /// resolved, in order: the input's width, then each layer's. Together
    /// with [`Network::ARCHITECTURE`] it tells apart two instantiations of
    /// one const-generic declaration (`Mlp<4, 3>` and `Mlp<1, 6>`), which
    /// serialisation must not confuse.
    const RESOLVED_SIZES: &'static [usize];
    /// The field name of every layer, in order: `["hidden", "output"]`.
    /// [`codegen`](crate::codegen) writes struct literals with them.
    const LAYER_NAMES: &'static [&'static str];
    /// How [`codegen`](crate::codegen) writes each layer, in order: the path
    /// of its `const fn` constructor under the runtime crate (`"Dense::new"`,
    /// `"layers::Conv::new"`, `"layers::Pool::new"`) and the rows of its
    /// weight matrix, or `0` for a layer without parameters (whose
    /// constructor takes none). A layer with parameters has two slices,
    /// its weights then its biases.
    const LAYER_CONSTRUCTORS: &'static [(&'static str, usize)];
    /// Each layer's parameters as PyTorch's tensors, in order: the shapes
    /// of its `weight` and `bias` (`[out, in]` and `[out]` for `Dense`,
    /// `[out, in, k]` for `Conv1d`, `[out, in, kh, kw]` for `Conv2d`) and
    /// whether its weight slice holds that tensor transposed;
    /// [`LayerTensors::NONE`] for a layer without parameters. The
    /// `safetensors` import and export (feature `safetensors`) name them
    /// `<layer>.weight` and `<layer>.bias` after
    /// [`LAYER_NAMES`](Network::LAYER_NAMES).
    ///
    /// ```
    /// # use network_macros::network;
    /// use network_core::{LayerTensors, Network, Tanh, Identity};
    ///
    /// network! {
    ///     # #[network(crate = network_core)]
    ///     struct Mlp {
    ///         input: 3,
    ///         hidden: Dense<5, Tanh>,
    ///         output: Dense<2, Identity>,
    ///     }
    /// }
    ///
    /// let hidden = <Mlp as Network<f32, 3, 2>>::LAYER_TENSORS[0];
    /// assert_eq!(
    ///     hidden,
    ///     LayerTensors { weight: &[5, 3], bias: &[5], transposed: true, ..LayerTensors::NONE }
    /// );
    /// ```
    const LAYER_TENSORS: &'static [LayerTensors];
    /// The activation of the output layer, which decides which losses fit.
    type OutputActivation: Activation;
    /// The gradients of every parameter.
    type Gradients: Gradients<T> + GradientsOf<Self>;
    /// The values a training forward pass keeps for a batch of `B` samples.
    type Cache<const B: usize>: Cache<T, OUT, B>;

    /// A network whose parameters are all zero (a starting point for
    /// [`Network::init`] or for loading weights).
    fn zeroed() -> Self;

    /// Draws every layer's weights (the scheme suits its activation) and zeroes
    /// the biases.
    fn init(&mut self, rng: &mut Rng);

    /// A freshly initialised network; the same seed gives bit-identical weights.
    fn random(seed: u64) -> Self {
        let mut network = Self::zeroed();
        network.init(&mut Rng::new(seed));
        network
    }

    /// Like [`Network::random`] (the same weights), built directly on the
    /// heap: a large network never passes through the stack (see
    /// `boxed_zeroed`). Needs the `alloc` feature.
    #[cfg(feature = "alloc")]
    fn random_boxed(seed: u64) -> alloc::boxed::Box<Self>
    where
        Self: crate::Zeroable,
    {
        let mut network = crate::boxed_zeroed::<Self>();
        network.init(&mut Rng::new(seed));
        network
    }

    /// Inference: the output for each column of `x`, keeping nothing.
    ///
    /// Unchecked: a NaN or infinite input gives NaN or infinite outputs for
    /// its sample (every activation keeps NaN), never a confident answer;
    /// [`Network::forward_checked`] refuses such inputs instead.
    fn forward<const B: usize>(&self, x: &SMatrix<T, IN, B>) -> SMatrix<T, OUT, B>;

    /// [`Network::forward`], or the first NaN or infinite input if `x` has
    /// one.
    ///
    /// # Errors
    ///
    /// [`NonFiniteInput`], naming the sample (column) and the feature (row).
    fn forward_checked<const B: usize>(
        &self,
        x: &SMatrix<T, IN, B>,
    ) -> Result<SMatrix<T, OUT, B>, NonFiniteInput> {
        for (sample, column) in x.column_iter().enumerate() {
            if let Some(feature) = column.iter().position(|v| !v.is_finite()) {
                return Err(NonFiniteInput { sample, feature });
            }
        }
        Ok(self.forward(x))
    }

    /// The forward pass that keeps each layer's `z` and `a` (and `noise`):
    /// a training pass with a key, every layer as at inference with
    /// [`Noise::OFF`].
    ///
    /// The cache is built as it is returned: each `z_l` and `a_l` is
    /// computed where the result lives (nothing is zeroed first), which for
    /// a small network is the fastest pass.
    fn forward_cache<const B: usize>(&self, x: &SMatrix<T, IN, B>, noise: Noise) -> Self::Cache<B>;

    /// [`Network::forward_cache`], written into `cache` field by field
    /// (whatever it held), so that no matrix is returned by value: a
    /// training loop that keeps one cache for every batch needs no other
    /// storage for the pass.
    fn forward_cache_into<const B: usize>(
        &self,
        x: &SMatrix<T, IN, B>,
        noise: Noise,
        cache: &mut Self::Cache<B>,
    );

    /// Back-propagation in the cache's own storage: `cache` holds the
    /// forward pass of `x` with `delta_L = dC/dz_L` written over `z_L`
    /// ([`Cache::logits_mut`]); writes every parameter's gradient into
    /// `grads` (overwriting it). Each layer's `delta_l` is written over its
    /// `z_l`, and each hidden activation's derivative over its `a_l`, so
    /// the pass needs no memory beyond the cache, and spends it. The
    /// exceptions take one matrix of a layer's size for its `dC/da`: below
    /// a layer that reads its input backwards (max pooling), and at a
    /// whole-layer hidden activation.
    fn backward_in_place<const B: usize>(
        &self,
        x: &SMatrix<T, IN, B>,
        cache: &mut Self::Cache<B>,
        grads: &mut Self::Gradients,
    );

    /// [`Network::backward_in_place`], also writing `dC/dx` into `grad_x`.
    fn backward_in_place_with_input<const B: usize>(
        &self,
        x: &SMatrix<T, IN, B>,
        cache: &mut Self::Cache<B>,
        grads: &mut Self::Gradients,
        grad_x: &mut SMatrix<T, IN, B>,
    );

    /// The key for a training pass drawn from `rng`, if the network has a
    /// random layer ([`RANDOM`](Network::RANDOM)); `Noise::OFF`, leaving
    /// `rng` untouched, if it has none.
    fn training_noise(rng: &mut Rng) -> Noise {
        if Self::RANDOM {
            Noise::draw(rng)
        } else {
            Noise::OFF
        }
    }

    /// The training forward pass of a network without random layers: keeps
    /// each layer's `z` and `a`. A network with `Dropout` is not
    /// [`Deterministic`]: its masks need [`Network::forward_train_with`].
    fn forward_train<const B: usize>(&self, x: &SMatrix<T, IN, B>) -> Self::Cache<B>
    where
        Self: Deterministic,
    {
        self.forward_cache(x, Noise::OFF)
    }

    /// The training forward pass, its dropout masks drawn from `rng`.
    fn forward_train_with<const B: usize>(
        &self,
        x: &SMatrix<T, IN, B>,
        rng: &mut Rng,
    ) -> Self::Cache<B> {
        self.forward_cache(x, Self::training_noise(rng))
    }

    /// Back-propagates the output error `delta_L = dC/dz_L`: writes every
    /// parameter's gradient into `grads` (overwriting it) and returns `dC/dx`.
    /// It leaves `cache` as it was, working in a copy of it
    /// ([`Network::backward_in_place_with_input`] spends the cache instead).
    fn backward_delta_into<const B: usize>(
        &self,
        x: &SMatrix<T, IN, B>,
        cache: &Self::Cache<B>,
        delta_output: &SMatrix<T, OUT, B>,
        grads: &mut Self::Gradients,
    ) -> SMatrix<T, IN, B> {
        let mut spent = cache.clone();
        spent
            .logits_mut()
            .as_mut_slice()
            .copy_from_slice(delta_output.as_slice());
        let mut grad_x = SMatrix::zeros();
        self.backward_in_place_with_input(x, &mut spent, grads, &mut grad_x);
        grad_x
    }

    /// Like [`Network::backward_delta_into`] but skips `dC/dx`, which
    /// training does not need (for a wide input it is a third of the work).
    fn parameter_gradients_into<const B: usize>(
        &self,
        x: &SMatrix<T, IN, B>,
        cache: &Self::Cache<B>,
        delta_output: &SMatrix<T, OUT, B>,
        grads: &mut Self::Gradients,
    ) {
        let mut spent = cache.clone();
        spent
            .logits_mut()
            .as_mut_slice()
            .copy_from_slice(delta_output.as_slice());
        self.backward_in_place(x, &mut spent, grads);
    }

    /// Back-propagates `dC/da_L` (the gradient of the loss with respect to the
    /// output): writes every parameter's gradient into `grads` and returns `dC/dx`.
    fn backward_into<const B: usize>(
        &self,
        x: &SMatrix<T, IN, B>,
        cache: &Self::Cache<B>,
        grad_output: &SMatrix<T, OUT, B>,
        grads: &mut Self::Gradients,
    ) -> SMatrix<T, IN, B> {
        let delta_output =
            Self::OutputActivation::backward(cache.logits(), cache.output(), grad_output);
        self.backward_delta_into(x, cache, &delta_output, grads)
    }

    /// Like [`Network::backward_into`], returning fresh gradients and `dC/dx`.
    fn backward<const B: usize>(
        &self,
        x: &SMatrix<T, IN, B>,
        cache: &Self::Cache<B>,
        grad_output: &SMatrix<T, OUT, B>,
    ) -> (Self::Gradients, SMatrix<T, IN, B>) {
        let mut grads = Self::Gradients::zeros();
        let grad_input = self.backward_into(x, cache, grad_output, &mut grads);
        (grads, grad_input)
    }
}

/// Whether `network`'s statistics slices are the ones its
/// [`Network::LAYER_TENSORS`] describe: one per layer with statistics, each
/// of its named vectors' values. `network!` always makes them agree;
/// `write_static` and safetensors check before they rely on that layout.
pub(crate) fn statistics_agree<T, N, const IN: usize, const OUT: usize>(network: &N) -> bool
where
    T: Scalar,
    N: Network<T, IN, OUT>,
{
    network.statistics().map(<[T]>::len).eq(N::LAYER_TENSORS
        .iter()
        .filter(|tensors| tensors.has_statistics())
        .map(|tensors| tensors.statistics.len() * tensors.statistic_len()))
}

/// The largest cache that [`with_training_cache`] builds as the by-value
/// pass returns it; a larger one is zeroed and filled in place.
/// Measured: a by-value cache is copied out of the pass field by field (a
/// 64-32-10 network's 10.5 KB made `memmove` 4% of its training step on
/// x86, which the in-place pass saves, 8% of the step in all), while
/// zeroing XOR's 160 bytes first cost its Cortex-M4 epoch 21 instructions.
const BY_VALUE_CACHE_BYTES: usize = 256;

/// Runs `f` on the training pass of `x` made with `noise`, its cache built
/// in this frame (so that `f` can spend it in place): by value up to
/// [`BY_VALUE_CACHE_BYTES`], else zeroed and filled by
/// [`Network::forward_cache_into`]. Every training step goes through it.
/// Always inlined: a cache returned from a function is copied on a
/// Cortex-M4's stack.
#[inline(always)]
pub(crate) fn with_training_cache<T, N, R, const IN: usize, const OUT: usize, const B: usize>(
    network: &N,
    x: &SMatrix<T, IN, B>,
    noise: Noise,
    f: impl FnOnce(&mut N::Cache<B>) -> R,
) -> R
where
    T: Scalar,
    N: Network<T, IN, OUT>,
{
    if size_of::<N::Cache<B>>() > BY_VALUE_CACHE_BYTES {
        let mut cache = N::Cache::<B>::zeroed();
        network.forward_cache_into(x, noise, &mut cache);
        f(&mut cache)
    } else {
        f(&mut network.forward_cache(x, noise))
    }
}
