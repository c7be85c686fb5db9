//! The fully connected layer `z = W a_prev + b` and its gradients.

use core::fmt;
use core::marker::PhantomData;

use nalgebra::{SMatrix, SVector};

use crate::Zeroable;
use crate::{Activation, Gradients, InitScheme, Layer, Noise, Parameters, Rng, Scalar, kernels};

/// A fully connected layer from `IN` to `OUT` units with activation `A`:
/// `z = W a_prev + b`, `a = f(z)`.
///
/// Its parameters are the weights, column-major, then the biases. It holds
/// exactly its parameters: `size_of` is
/// `(OUT * IN + OUT) * size_of::<T>()`.
#[repr(C)]
pub struct Dense<T: Scalar, const IN: usize, const OUT: usize, A> {
    /// The weights `W`, `OUT x IN`: row `i` feeds unit `i`.
    pub w: SMatrix<T, OUT, IN>,
    /// The biases `b`, one per unit.
    pub b: SVector<T, OUT>,
    activation: PhantomData<fn() -> A>,
}

impl<T: Scalar, const IN: usize, const OUT: usize, A> Dense<T, IN, OUT, A> {
    /// The number of parameters, `OUT * IN + OUT`.
    pub const PARAMETERS: usize = <Self as Parameters<T>>::PARAMETERS;

    /// A layer with the given weights and biases.
    pub const fn new(w: SMatrix<T, OUT, IN>, b: SVector<T, OUT>) -> Self {
        Dense {
            w,
            b,
            activation: PhantomData,
        }
    }

    /// A layer whose parameters are all zero.
    pub fn zeros() -> Self {
        Self::new(crate::kernels::zeros(), crate::kernels::zeros())
    }

    /// Draws the weights from `scheme` (fan-in `IN`, fan-out `OUT`) and zeroes
    /// the biases; overrides the activation's default for this layer.
    pub fn init_with(&mut self, scheme: InitScheme, rng: &mut Rng) {
        self.w
            .apply(|w| *w = T::constant(scheme.sample(rng, IN, OUT)));
        self.b.fill(T::zero());
    }

    /// `z = W a_prev + b` for each column (sample) of `a_prev`.
    #[inline]
    pub fn affine<const B: usize>(&self, a_prev: &SMatrix<T, IN, B>) -> SMatrix<T, OUT, B> {
        kernels::affine(&self.w, &self.b, a_prev)
    }

    /// `W^T delta`: carries a layer's error back to its inputs.
    #[inline]
    pub fn transposed_mul<const B: usize>(&self, delta: &SMatrix<T, OUT, B>) -> SMatrix<T, IN, B> {
        kernels::transposed_mul(&self.w, delta)
    }

    /// The parameters as two slices: the weights (column-major), then the biases.
    pub fn parameters(&self) -> [&[T]; 2] {
        [self.w.as_slice(), self.b.as_slice()]
    }

    /// The parameters as two mutable slices, in the order of [`Dense::parameters`].
    pub fn parameters_mut(&mut self) -> [&mut [T]; 2] {
        [self.w.as_mut_slice(), self.b.as_mut_slice()]
    }
}

impl<T: Scalar, const IN: usize, const OUT: usize, A: Activation> Dense<T, IN, OUT, A> {
    /// Draws the weights from the scheme that suits the activation,
    /// [`A::INIT`](Activation::INIT), and zeroes the biases.
    pub fn init(&mut self, rng: &mut Rng) {
        self.init_with(A::INIT, rng);
    }
}

impl<T: Scalar, const IN: usize, const OUT: usize, A> Clone for Dense<T, IN, OUT, A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Scalar, const IN: usize, const OUT: usize, A> Copy for Dense<T, IN, OUT, A> {}

impl<T: Scalar, const IN: usize, const OUT: usize, A> PartialEq for Dense<T, IN, OUT, A> {
    fn eq(&self, other: &Self) -> bool {
        self.w == other.w && self.b == other.b
    }
}

impl<T: Scalar, const IN: usize, const OUT: usize, A: Activation> fmt::Debug
    for Dense<T, IN, OUT, A>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dense")
            .field("inputs", &IN)
            .field("outputs", &OUT)
            .field("activation", &A::NAME)
            .field("w", &self.w)
            .field("b", &self.b)
            .finish()
    }
}

/// The gradients of a [`Dense`] layer's loss: same shapes as its parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct DenseGradients<T: Scalar, const IN: usize, const OUT: usize> {
    /// `dC/dW`, `OUT x IN`.
    pub w: SMatrix<T, OUT, IN>,
    /// `dC/db`.
    pub b: SVector<T, OUT>,
}

impl<T: Scalar, const IN: usize, const OUT: usize> DenseGradients<T, IN, OUT> {
    /// All-zero gradients.
    pub fn zeros() -> Self {
        DenseGradients {
            w: crate::kernels::zeros(),
            b: crate::kernels::zeros(),
        }
    }

    /// The gradients as two slices, in the order of [`Dense::parameters`].
    pub fn parameters(&self) -> [&[T]; 2] {
        [self.w.as_slice(), self.b.as_slice()]
    }

    /// The gradients as two mutable slices, in the order of [`Dense::parameters`].
    pub fn parameters_mut(&mut self) -> [&mut [T]; 2] {
        [self.w.as_mut_slice(), self.b.as_mut_slice()]
    }
}

weights_then_biases!(
    Dense<T, IN, OUT, A>,
    [T: Scalar, const IN: usize, const OUT: usize, A],
    OUT * IN + OUT
);
weights_then_biases!(
    DenseGradients<T, IN, OUT>,
    [T: Scalar, const IN: usize, const OUT: usize],
    Dense::<T, IN, OUT, ()>::PARAMETERS
);

impl<T: Scalar, const IN: usize, const OUT: usize> Gradients<T> for DenseGradients<T, IN, OUT> {
    fn zeros() -> Self {
        DenseGradients::zeros()
    }
}

impl<T: Scalar, const IN: usize, const OUT: usize, A> Layer<T, IN, OUT> for Dense<T, IN, OUT, A> {
    type Gradients = DenseGradients<T, IN, OUT>;

    fn zeroed() -> Self {
        Dense::zeros()
    }

    fn init(&mut self, scheme: InitScheme, rng: &mut Rng) {
        self.init_with(scheme, rng);
    }

    /// `z = W a_prev + b 1^T`, built in the result (no zeroing first).
    #[inline]
    fn pre_activation<const B: usize>(
        &self,
        a_prev: &SMatrix<T, IN, B>,
        _noise: Noise,
    ) -> SMatrix<T, OUT, B> {
        self.affine(a_prev)
    }

    /// `z = W a_prev + b 1^T`.
    #[inline]
    fn pre_activation_into<const B: usize>(
        &self,
        a_prev: &SMatrix<T, IN, B>,
        _noise: Noise,
        z: &mut SMatrix<T, OUT, B>,
    ) {
        kernels::affine_into(&self.w, &self.b, a_prev, z);
    }

    /// `dC/dW = delta a_prev^T`, `dC/db = delta 1`.
    #[inline]
    fn parameter_gradients_into<const B: usize>(
        &self,
        delta: &SMatrix<T, OUT, B>,
        a_prev: &SMatrix<T, IN, B>,
        grads: &mut DenseGradients<T, IN, OUT>,
    ) {
        kernels::outer_product_into(&mut grads.w, delta, a_prev);
        kernels::row_sum_into(&mut grads.b, delta);
    }

    /// `W^T delta`.
    #[inline]
    fn input_gradient_into<const B: usize>(
        &self,
        delta: &SMatrix<T, OUT, B>,
        _a_prev: &SMatrix<T, IN, B>,
        _noise: Noise,
        grad: &mut SMatrix<T, IN, B>,
    ) {
        kernels::transposed_mul_into(&self.w, delta, grad);
    }
}

// SAFETY: a `Dense` is two nalgebra matrices, which are arrays of `T` (plus
// zero-sized markers), and a `PhantomData`; zero `T`s make a valid layer.
unsafe impl<T: Scalar + Zeroable, const IN: usize, const OUT: usize, A> Zeroable
    for Dense<T, IN, OUT, A>
{
}

// SAFETY: as for `Dense`: two arrays of `T`.
unsafe impl<T: Scalar + Zeroable, const IN: usize, const OUT: usize> Zeroable
    for DenseGradients<T, IN, OUT>
{
}
