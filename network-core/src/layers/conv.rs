//! A convolution layer, 1-D or 2-D: `z = W ⋆ a_prev + b`, `a = f(z)`.

use core::fmt;
use core::marker::PhantomData;

use nalgebra::{SMatrix, SVector};

use crate::Zeroable;
use crate::convolution::Conv2dShape;
#[cfg(not(vector_registers))]
use crate::convolution::{conv2d_backward_input, conv2d_backward_weights, conv2d_forward};
use crate::{Activation, Gradients, InitScheme, Layer, Noise, Rng, Scalar};

/// The geometry of one convolution layer, as a type: `network!` declares one
/// for each convolution it generates, so that the layer's type carries every
/// size while stable Rust cannot compute `(L + 2p - k) / s + 1` from const
/// parameters.
pub trait ConvGeometry: 'static {
    /// The geometry; a 1-D convolution has height 1
    /// ([`Conv2dShape::conv1d`]).
    const SHAPE: Conv2dShape;
}

/// A convolution layer: `OUT_CHANNELS` kernels of `KERNEL = C_in k_h k_w`
/// weights slid over the input (a cross-correlation, PyTorch's convention),
/// `z[o] = W[o] ⋆ a_prev + b[o]`, then `a = f(z)`.
///
/// `IN` and `OUT` are the values per sample, `C_in H W` and `C_out OH OW`
/// (channel, row, column order); `G` gives the geometry. Its parameters are
/// the weights, in PyTorch's `[out, in, kh, kw]` order, then the biases, so
/// weights move between the two without transposes. It holds exactly its
/// parameters: `size_of` is `(KERNEL + 1) * OUT_CHANNELS * size_of::<T>()`.
/// `POSITIONS = OH OW` sizes the patch matrix of its matrix products.
#[repr(C)]
pub struct Conv<
    T: Scalar,
    const IN: usize,
    const OUT: usize,
    const KERNEL: usize,
    const OUT_CHANNELS: usize,
    const POSITIONS: usize,
    G,
    A,
> {
    /// The weights: column `o` is output channel `o`'s kernel, in input
    /// channel, row, column order.
    pub w: SMatrix<T, KERNEL, OUT_CHANNELS>,
    /// The biases, one per output channel.
    pub b: SVector<T, OUT_CHANNELS>,
    marker: PhantomData<fn() -> (G, A)>,
}

impl<
    T: Scalar,
    const IN: usize,
    const OUT: usize,
    const KERNEL: usize,
    const OUT_CHANNELS: usize,
    const POSITIONS: usize,
    G: ConvGeometry,
    A,
> Conv<T, IN, OUT, KERNEL, OUT_CHANNELS, POSITIONS, G, A>
{
    /// Proves, when the layer is used, that the const parameters agree with
    /// the geometry (they are all written by `network!`, so this never fails
    /// for a generated network).
    const AGREES: () = {
        let shape = G::SHAPE;
        assert!(shape.check().is_ok(), "invalid convolution geometry");
        assert!(shape.inputs() == IN, "IN is not C_in H W");
        assert!(shape.outputs() == OUT, "OUT is not C_out OH OW");
        assert!(shape.out_channels == OUT_CHANNELS, "OUT_CHANNELS");
        assert!(
            shape.weights() == KERNEL * OUT_CHANNELS,
            "KERNEL is not C_in kh kw"
        );
    };

    /// A layer with the given weights and biases.
    pub const fn new(w: SMatrix<T, KERNEL, OUT_CHANNELS>, b: SVector<T, OUT_CHANNELS>) -> Self {
        let () = Self::AGREES;
        Conv {
            w,
            b,
            marker: PhantomData,
        }
    }

    /// A layer whose parameters are all zero.
    pub fn zeros() -> Self {
        Self::new(crate::kernels::zeros(), crate::kernels::zeros())
    }

    /// Runs `pass` with the scratch of one pass, on the stack:
    /// `POSITIONS * KERNEL` values (78 KB in `f32` for LeNet's first layer),
    /// and the way to use it. A stride-1 layer whose padded copies fit in it
    /// runs on the padded grid (`grid`, no patches, with a table of the
    /// taps' offsets); any other holds the patches of one sample (`P x K`)
    /// for the matrix products of `im2col`. Targets without vector registers
    /// use the direct loops and need none.
    #[cfg(vector_registers)]
    fn with_scratch<R>(pass: impl FnOnce(Scratch<'_, T>) -> R) -> R {
        let mut scratch = SMatrix::<T, POSITIONS, KERNEL>::zeros();
        let scratch = scratch.as_mut_slice();
        if crate::grid::applies(&G::SHAPE, scratch.len()) {
            pass(Scratch::Grid(scratch, &mut [0; KERNEL]))
        } else {
            pass(Scratch::Patches(scratch))
        }
    }

    /// Draws the weights from `scheme` and zeroes the biases. The fans are
    /// PyTorch's: `C_in k_h k_w` in, `C_out k_h k_w` out.
    pub fn init_with(&mut self, scheme: InitScheme, rng: &mut Rng) {
        let (kh, kw) = G::SHAPE.kernel;
        let fan_out = OUT_CHANNELS * kh * kw;
        self.w
            .apply(|w| *w = T::constant(scheme.sample(rng, KERNEL, fan_out)));
        self.b.fill(T::zero());
    }
}

impl<
    T: Scalar,
    const IN: usize,
    const OUT: usize,
    const K: usize,
    const C: usize,
    const P: usize,
    G,
    A,
> Clone for Conv<T, IN, OUT, K, C, P, G, A>
{
    fn clone(&self) -> Self {
        *self
    }
}

impl<
    T: Scalar,
    const IN: usize,
    const OUT: usize,
    const K: usize,
    const C: usize,
    const P: usize,
    G,
    A,
> Copy for Conv<T, IN, OUT, K, C, P, G, A>
{
}

impl<
    T: Scalar,
    const IN: usize,
    const OUT: usize,
    const K: usize,
    const C: usize,
    const P: usize,
    G,
    A,
> PartialEq for Conv<T, IN, OUT, K, C, P, G, A>
{
    fn eq(&self, other: &Self) -> bool {
        self.w == other.w && self.b == other.b
    }
}

impl<
    T: Scalar,
    const IN: usize,
    const OUT: usize,
    const K: usize,
    const C: usize,
    const P: usize,
    G: ConvGeometry,
    A: Activation,
> fmt::Debug for Conv<T, IN, OUT, K, C, P, G, A>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conv")
            .field("shape", &G::SHAPE)
            .field("activation", &A::NAME)
            .field("w", &self.w)
            .field("b", &self.b)
            .finish()
    }
}

/// The gradients of a [`Conv`] layer's loss: same shapes as its parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct ConvGradients<T: Scalar, const KERNEL: usize, const OUT_CHANNELS: usize> {
    /// `dC/dW`, in the layout of [`Conv::w`].
    pub w: SMatrix<T, KERNEL, OUT_CHANNELS>,
    /// `dC/db`.
    pub b: SVector<T, OUT_CHANNELS>,
}

impl<T: Scalar, const K: usize, const C: usize> ConvGradients<T, K, C> {
    /// All-zero gradients.
    pub fn zeros() -> Self {
        ConvGradients {
            w: crate::kernels::zeros(),
            b: crate::kernels::zeros(),
        }
    }
}

weights_then_biases!(
    Conv<T, IN, OUT, K, C, P, G, A>,
    [T: Scalar, const IN: usize, const OUT: usize, const K: usize, const C: usize, const P: usize, G, A],
    (K + 1) * C
);
weights_then_biases!(
    ConvGradients<T, K, C>,
    [T: Scalar, const K: usize, const C: usize],
    (K + 1) * C
);

impl<T: Scalar, const K: usize, const C: usize> Gradients<T> for ConvGradients<T, K, C> {
    fn zeros() -> Self {
        ConvGradients::zeros()
    }
}

impl<
    T: Scalar,
    const IN: usize,
    const OUT: usize,
    const K: usize,
    const C: usize,
    const P: usize,
    G: ConvGeometry,
    A,
> Layer<T, IN, OUT> for Conv<T, IN, OUT, K, C, P, G, A>
{
    type Gradients = ConvGradients<T, K, C>;

    fn zeroed() -> Self {
        Conv::zeros()
    }

    fn init(&mut self, scheme: InitScheme, rng: &mut Rng) {
        self.init_with(scheme, rng);
    }

    /// `z = W ⋆ a_prev + b`.
    fn pre_activation_into<const B: usize>(
        &self,
        a_prev: &SMatrix<T, IN, B>,
        _noise: Noise,
        z: &mut SMatrix<T, OUT, B>,
    ) {
        // A slice's `fill` is a `memset`; nalgebra's goes element by
        // element through an iterator (it made LeNet's step 20% slower).
        z.as_mut_slice().fill(T::zero());
        let (w, b, x) = (self.w.as_slice(), self.b.as_slice(), a_prev.as_slice());
        #[cfg(vector_registers)]
        Self::with_scratch(|scratch| match scratch {
            Scratch::Grid(scratch, offsets) => {
                crate::grid::forward(&G::SHAPE, w, b, x, z.as_mut_slice(), scratch, offsets);
            }
            Scratch::Patches(scratch) => {
                crate::im2col::forward(&G::SHAPE, w, b, x, z.as_mut_slice(), scratch);
            }
        });
        #[cfg(not(vector_registers))]
        conv2d_forward(&G::SHAPE, w, b, x, z.as_mut_slice());
    }

    /// `dC/dW = delta ⋆ a_prev` (a correlation of `delta` with the input),
    /// `dC/db = Σ delta`.
    fn parameter_gradients_into<const B: usize>(
        &self,
        delta: &SMatrix<T, OUT, B>,
        a_prev: &SMatrix<T, IN, B>,
        grads: &mut ConvGradients<T, K, C>,
    ) {
        let (x, delta) = (a_prev.as_slice(), delta.as_slice());
        let (grad_w, grad_b) = (grads.w.as_mut_slice(), grads.b.as_mut_slice());
        #[cfg(vector_registers)]
        Self::with_scratch(|scratch| match scratch {
            Scratch::Grid(scratch, offsets) => {
                crate::grid::backward_weights(
                    &G::SHAPE,
                    x,
                    delta,
                    grad_w,
                    grad_b,
                    scratch,
                    offsets,
                );
            }
            Scratch::Patches(scratch) => {
                crate::im2col::backward_weights(&G::SHAPE, x, delta, grad_w, grad_b, scratch);
            }
        });
        #[cfg(not(vector_registers))]
        conv2d_backward_weights(&G::SHAPE, x, delta, grad_w, grad_b);
    }

    /// `dC/da_prev`: the full convolution of `delta` with the kernels.
    fn input_gradient_into<const B: usize>(
        &self,
        delta: &SMatrix<T, OUT, B>,
        _a_prev: &SMatrix<T, IN, B>,
        _noise: Noise,
        grad: &mut SMatrix<T, IN, B>,
    ) {
        grad.as_mut_slice().fill(T::zero());
        let (w, delta) = (self.w.as_slice(), delta.as_slice());
        #[cfg(vector_registers)]
        Self::with_scratch(|scratch| match scratch {
            Scratch::Grid(scratch, offsets) => {
                crate::grid::backward_input(
                    &G::SHAPE,
                    w,
                    delta,
                    grad.as_mut_slice(),
                    scratch,
                    offsets,
                );
            }
            Scratch::Patches(scratch) => {
                crate::im2col::backward_input(&G::SHAPE, w, delta, grad.as_mut_slice(), scratch);
            }
        });
        #[cfg(not(vector_registers))]
        conv2d_backward_input(&G::SHAPE, w, delta, grad.as_mut_slice());
    }
}

/// How a pass of [`Conv`] uses its scratch (see `Conv::with_scratch`).
#[cfg(vector_registers)]
enum Scratch<'a, T> {
    /// On the padded grid: the scratch, and a table of the taps' offsets.
    Grid(&'a mut [T], &'a mut [usize]),
    /// The patches of one sample, for `im2col`.
    Patches(&'a mut [T]),
}

// SAFETY: as for `Dense`: two arrays of `T` and a `PhantomData`.
unsafe impl<
    T: Scalar + Zeroable,
    const IN: usize,
    const OUT: usize,
    const K: usize,
    const C: usize,
    const P: usize,
    G,
    A,
> Zeroable for Conv<T, IN, OUT, K, C, P, G, A>
{
}

// SAFETY: as for `Dense`: two arrays of `T`.
unsafe impl<T: Scalar + Zeroable, const K: usize, const C: usize> Zeroable
    for ConvGradients<T, K, C>
{
}
