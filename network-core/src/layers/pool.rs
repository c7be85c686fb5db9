//! Pooling layers, 1-D or 2-D, max or average: no parameters, `a = z`.

use core::fmt;
use core::marker::PhantomData;

use nalgebra::SMatrix;

use crate::Zeroable;
use crate::convolution::{
    Pool2dShape, avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward,
};
use crate::{Gradients, InitScheme, Layer, Noise, Rng, Scalar};

/// The geometry of one pooling layer, as a type (see
/// [`ConvGeometry`](crate::layers::ConvGeometry) for why).
pub trait PoolGeometry: 'static {
    /// The geometry; a 1-D pooling has height 1 ([`Pool2dShape::pool1d`]).
    const SHAPE: Pool2dShape;
}

/// How a pooling layer summarises its window.
pub trait PoolKind: 'static {
    /// `"MaxPool"` or `"AvgPool"`.
    const NAME: &'static str;
    /// Whether [`PoolKind::backward`] reads `x` (max pooling routes by it).
    const READS_INPUT: bool;
    /// `z` from `x`, window by window.
    fn forward<T: Scalar>(shape: &Pool2dShape, x: &[T], z: &mut [T]);
    /// `dC/dx` from `x` and `delta = dC/dz` (overwriting `grad_x`).
    fn backward<T: Scalar>(shape: &Pool2dShape, x: &[T], delta: &[T], grad_x: &mut [T]);
}

/// The maximum of each window; its gradient goes to the window's first
/// maximum, as in PyTorch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Max;

impl PoolKind for Max {
    const NAME: &'static str = "MaxPool";
    const READS_INPUT: bool = true;
    fn forward<T: Scalar>(shape: &Pool2dShape, x: &[T], z: &mut [T]) {
        max_pool2d_forward(shape, x, z);
    }
    fn backward<T: Scalar>(shape: &Pool2dShape, x: &[T], delta: &[T], grad_x: &mut [T]) {
        max_pool2d_backward(shape, x, delta, grad_x);
    }
}

/// The mean of each window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Average;

impl PoolKind for Average {
    const NAME: &'static str = "AvgPool";
    const READS_INPUT: bool = false;
    fn forward<T: Scalar>(shape: &Pool2dShape, x: &[T], z: &mut [T]) {
        avg_pool2d_forward(shape, x, z);
    }
    fn backward<T: Scalar>(shape: &Pool2dShape, _x: &[T], delta: &[T], grad_x: &mut [T]) {
        avg_pool2d_backward(shape, delta, grad_x);
    }
}

/// A pooling layer from `IN = C H W` to `OUT = C OH OW` values per sample:
/// `z` summarises each window of each channel (`M`: [`Max`] or
/// [`Average`]), and `a = z`. It has no parameters and takes no memory.
pub struct Pool<T, const IN: usize, const OUT: usize, G, M> {
    marker: PhantomData<Markers<T, G, M>>,
}

/// The types a [`Pool`] is generic over without holding any of them.
type Markers<T, G, M> = fn() -> (T, G, M);

impl<T: Scalar, const IN: usize, const OUT: usize, G: PoolGeometry, M> Pool<T, IN, OUT, G, M> {
    /// Proves, when the layer is used, that `IN` and `OUT` agree with the
    /// geometry (both are written by `network!`).
    const AGREES: () = {
        let shape = G::SHAPE;
        assert!(shape.check().is_ok(), "invalid pooling geometry");
        assert!(shape.inputs() == IN, "IN is not C H W");
        assert!(shape.outputs() == OUT, "OUT is not C OH OW");
    };

    /// The layer (it has no parameters).
    pub const fn new() -> Self {
        let () = Self::AGREES;
        Pool {
            marker: PhantomData,
        }
    }
}

impl<T: Scalar, const IN: usize, const OUT: usize, G: PoolGeometry, M> Default
    for Pool<T, IN, OUT, G, M>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<T, const IN: usize, const OUT: usize, G, M> Clone for Pool<T, IN, OUT, G, M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, const IN: usize, const OUT: usize, G, M> Copy for Pool<T, IN, OUT, G, M> {}

impl<T, const IN: usize, const OUT: usize, G, M> PartialEq for Pool<T, IN, OUT, G, M> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T, const IN: usize, const OUT: usize, G: PoolGeometry, M: PoolKind> fmt::Debug
    for Pool<T, IN, OUT, G, M>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(M::NAME).field("shape", &G::SHAPE).finish()
    }
}

/// The gradients of a layer without parameters: nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoGradients;

no_parameters!(NoGradients, [T: Scalar]);

impl<T: Scalar> Gradients<T> for NoGradients {
    fn zeros() -> Self {
        NoGradients
    }
}

no_parameters!(
    Pool<T, IN, OUT, G, M>,
    [T: Scalar, const IN: usize, const OUT: usize, G, M]
);

impl<T: Scalar, const IN: usize, const OUT: usize, G: PoolGeometry, M: PoolKind> Layer<T, IN, OUT>
    for Pool<T, IN, OUT, G, M>
{
    type Gradients = NoGradients;

    fn zeroed() -> Self {
        Self::new()
    }

    fn init(&mut self, _scheme: InitScheme, _rng: &mut Rng) {}

    const BACKWARD_READS_INPUT: bool = M::READS_INPUT;

    /// `z[c, y, x] = max` (or mean) of the window at `(y s_h, x s_w)`.
    fn pre_activation_into<const B: usize>(
        &self,
        a_prev: &SMatrix<T, IN, B>,
        _noise: Noise,
        z: &mut SMatrix<T, OUT, B>,
    ) {
        z.as_mut_slice().fill(T::zero());
        M::forward(&G::SHAPE, a_prev.as_slice(), z.as_mut_slice());
    }

    fn parameter_gradients_into<const B: usize>(
        &self,
        _delta: &SMatrix<T, OUT, B>,
        _a_prev: &SMatrix<T, IN, B>,
        _grads: &mut NoGradients,
    ) {
    }

    /// Max: `delta` routed to each window's first maximum; average: spread
    /// evenly over the window.
    fn input_gradient_into<const B: usize>(
        &self,
        delta: &SMatrix<T, OUT, B>,
        a_prev: &SMatrix<T, IN, B>,
        _noise: Noise,
        grad: &mut SMatrix<T, IN, B>,
    ) {
        grad.as_mut_slice().fill(T::zero());
        M::backward(
            &G::SHAPE,
            a_prev.as_slice(),
            delta.as_slice(),
            grad.as_mut_slice(),
        );
    }
}

// SAFETY: a `PhantomData` alone, zero-sized.
unsafe impl<T: Scalar + Zeroable, const IN: usize, const OUT: usize, G, M> Zeroable
    for Pool<T, IN, OUT, G, M>
{
}

// SAFETY: zero-sized.
unsafe impl Zeroable for NoGradients {}
