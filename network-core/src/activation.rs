//! Activation functions `a = f(z)` and their vector-Jacobian products.
//!
//! Every activation is a zero-sized type named in the `network!` spec
//! (`Dense<4, Tanh>`). Element-wise functions implement [`ElementWise`] and get
//! [`Activation`] for free; [`Softmax`] works on whole columns.

use core::marker::PhantomData;

use nalgebra::SMatrix;

use crate::wide::widest;
use crate::{InitScheme, Scalar};

/// An activation function applied to a layer's pre-activation `z`.
///
/// Matrices are `R` units by `C` samples: each column is one sample.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an activation function",
    label = "not an activation",
    note = "name a type that implements `network::Activation`, such as `Identity`, `Sigmoid`, `Tanh`, `Relu`, `LeakyRelu`, `Softplus`, `Swish`, `Mish`, `Gelu` or `Softmax`, or implement `network::ElementWise` for your own"
)]
pub trait Activation {
    /// A short human-readable name, e.g. `"tanh"`.
    const NAME: &'static str;
    /// The weight initialisation that suits a layer with this activation.
    const INIT: InitScheme = InitScheme::XavierUniform;

    /// `a = f(z)`, column by column.
    fn forward<T: Scalar, const R: usize, const C: usize>(z: &SMatrix<T, R, C>)
    -> SMatrix<T, R, C>;

    /// The backward step through the activation: given `z`, `a = f(z)` and
    /// `grad_a = dC/da`, returns `dC/dz` (for element-wise `f` this is
    /// `grad_a ∘ f'(z)`).
    fn backward<T: Scalar, const R: usize, const C: usize>(
        z: &SMatrix<T, R, C>,
        a: &SMatrix<T, R, C>,
        grad_a: &SMatrix<T, R, C>,
    ) -> SMatrix<T, R, C>;

    /// Writes `a = f(z)` into `a`, whatever it held: what the generated
    /// training pass calls, so that no matrix is returned by value. The
    /// default copies [`forward`](Activation::forward)'s result.
    #[inline]
    fn forward_into<T: Scalar, const R: usize, const C: usize>(
        z: &SMatrix<T, R, C>,
        a: &mut SMatrix<T, R, C>,
    ) {
        *a = Self::forward(z);
    }

    /// Whether `f` acts value by value (`a_i = f(z_i)`), so that
    /// `dC/dz = dC/da ∘ f'(z)` and [`derivative_in_place`](Activation::derivative_in_place)
    /// gives `f'`. Every [`ElementWise`] activation is; the generated
    /// backward pass then needs no storage beyond the cache.
    const ELEMENT_WISE: bool = false;

    /// For an element-wise `f` ([`ELEMENT_WISE`](Activation::ELEMENT_WISE)):
    /// overwrites `a`, which holds `f(z)`, with `f'(z)`, value by value.
    /// The generated code calls it only when `ELEMENT_WISE` is true; the
    /// default, for other activations, leaves `a` as it is.
    #[inline]
    fn derivative_in_place<T: Scalar, const R: usize, const C: usize>(
        _z: &SMatrix<T, R, C>,
        _a: &mut SMatrix<T, R, C>,
    ) {
    }
}

/// An activation applied to each unit independently: implement this for a
/// custom activation and it becomes an [`Activation`].
///
/// ```
/// use network_core::{ElementWise, Scalar};
///
/// /// `f(z) = z^2`, for illustration.
/// struct Square;
///
/// impl ElementWise for Square {
///     const NAME: &'static str = "square";
///     fn value<T: Scalar>(z: T) -> T {
///         z * z
///     }
///     fn derivative<T: Scalar>(z: T, _a: T) -> T {
///         z + z
///     }
/// }
/// ```
pub trait ElementWise {
    /// A short human-readable name.
    const NAME: &'static str;
    /// The weight initialisation that suits a layer with this activation.
    const INIT: InitScheme = InitScheme::XavierUniform;

    /// `f(z)`.
    fn value<T: Scalar>(z: T) -> T;

    /// `f'(z)`; `a = f(z)` is passed too because many derivatives are
    /// cheapest in terms of it (`tanh' = 1 - a^2`).
    fn derivative<T: Scalar>(z: T, a: T) -> T;
}

/// An activation a hidden layer (any layer but the last) may use: every
/// [`ElementWise`] one. [`Softmax`] normalises a whole layer and is not one;
/// `network!` requires this bound of every hidden layer's activation, so an
/// alias of `Softmax` is refused too. Implement it for your own whole-layer
/// activation if a hidden layer may use it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` may not be a hidden layer's activation: only an element-wise activation may (`Softmax` normalises a whole layer, so it may only be the output layer's)",
    label = "the activation of a layer that is followed by more layers",
    note = "a hidden layer's activation must implement `network::HiddenActivation`, as `Tanh`, `Relu`, `Sigmoid` and every other `network::ElementWise` activation do"
)]
pub trait HiddenActivation: Activation {}

#[diagnostic::do_not_recommend]
impl<E: ElementWise> HiddenActivation for E {}

/// The activation of hidden layer `L` (counted from 1) of a network:
/// `network!` implements it for each hidden layer with an activation, the
/// type on the user's token, so that one that is not a hidden layer's
/// activation is one error there. Not public API.
#[doc(hidden)]
pub trait HiddenLayer<const L: usize> {
    /// The activation the user named.
    type Activation: HiddenActivation;
}

/// The items of an [`Activation`] impl that forwards each of them to the
/// activation `$target`: the generated passes' wrappers below.
macro_rules! forward_activation_to {
    ($target:ty) => {
        const NAME: &'static str = <$target as Activation>::NAME;
        const INIT: InitScheme = <$target as Activation>::INIT;
        const ELEMENT_WISE: bool = <$target as Activation>::ELEMENT_WISE;

        #[inline(always)]
        fn forward<T: Scalar, const R: usize, const C: usize>(
            z: &SMatrix<T, R, C>,
        ) -> SMatrix<T, R, C> {
            <$target as Activation>::forward(z)
        }

        #[inline(always)]
        fn backward<T: Scalar, const R: usize, const C: usize>(
            z: &SMatrix<T, R, C>,
            a: &SMatrix<T, R, C>,
            grad_a: &SMatrix<T, R, C>,
        ) -> SMatrix<T, R, C> {
            <$target as Activation>::backward(z, a, grad_a)
        }

        #[inline(always)]
        fn forward_into<T: Scalar, const R: usize, const C: usize>(
            z: &SMatrix<T, R, C>,
            a: &mut SMatrix<T, R, C>,
        ) {
            <$target as Activation>::forward_into(z, a);
        }

        #[inline(always)]
        fn derivative_in_place<T: Scalar, const R: usize, const C: usize>(
            z: &SMatrix<T, R, C>,
            a: &mut SMatrix<T, R, C>,
        ) {
            <$target as Activation>::derivative_in_place(z, a);
        }
    };
}

/// Hidden layer `L`'s activation as the generated passes name it: the
/// activation of `N`'s [`HiddenLayer<L>`], reached through that trait
/// rather than by its name, so that an activation that is not one is not
/// reported again at every use. Not public API.
#[doc(hidden)]
pub struct HiddenLayerActivation<N, const L: usize>(PhantomData<fn() -> N>);

#[diagnostic::do_not_recommend]
impl<N: HiddenLayer<L>, const L: usize> Activation for HiddenLayerActivation<N, L> {
    forward_activation_to!(N::Activation);
}

/// The output layer's activation as the generated passes name it:
/// `N`'s [`Network::OutputActivation`](crate::Network::OutputActivation),
/// so that one that is not an activation is reported at that associated
/// type only. Not public API.
#[doc(hidden)]
pub struct OutputLayerActivation<N, S, const IN: usize, const OUT: usize>(
    PhantomData<fn() -> (N, S)>,
);

#[diagnostic::do_not_recommend]
impl<S: Scalar, N: crate::Network<S, IN, OUT>, const IN: usize, const OUT: usize> Activation
    for OutputLayerActivation<N, S, IN, OUT>
{
    forward_activation_to!(N::OutputActivation);
}

#[diagnostic::do_not_recommend]
impl<E: ElementWise> Activation for E {
    const NAME: &'static str = E::NAME;
    const INIT: InitScheme = E::INIT;

    #[inline]
    fn forward<T: Scalar, const R: usize, const C: usize>(
        z: &SMatrix<T, R, C>,
    ) -> SMatrix<T, R, C> {
        // One pass, written straight into the result (no copy of `z` and no
        // zeroing first); LLVM vectorises it when `value` is branch-free (the
        // `f32` exponential and tanh are).
        z.map(E::value)
    }

    #[inline]
    fn backward<T: Scalar, const R: usize, const C: usize>(
        z: &SMatrix<T, R, C>,
        a: &SMatrix<T, R, C>,
        grad_a: &SMatrix<T, R, C>,
    ) -> SMatrix<T, R, C> {
        grad_a.zip_zip_map(z, a, |grad_a, z, a| grad_a * E::derivative(z, a))
    }

    #[inline]
    fn forward_into<T: Scalar, const R: usize, const C: usize>(
        z: &SMatrix<T, R, C>,
        a: &mut SMatrix<T, R, C>,
    ) {
        for (a, &z) in a.as_mut_slice().iter_mut().zip(z.as_slice()) {
            *a = E::value(z);
        }
    }

    const ELEMENT_WISE: bool = true;

    #[inline]
    fn derivative_in_place<T: Scalar, const R: usize, const C: usize>(
        z: &SMatrix<T, R, C>,
        a: &mut SMatrix<T, R, C>,
    ) {
        for (a, &z) in a.as_mut_slice().iter_mut().zip(z.as_slice()) {
            *a = E::derivative(z, *a);
        }
    }
}

/// `f(z) = z`: a linear layer, e.g. the output of a regression.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Identity;

impl ElementWise for Identity {
    const NAME: &'static str = "identity";
    #[inline]
    fn value<T: Scalar>(z: T) -> T {
        z
    }
    #[inline]
    fn derivative<T: Scalar>(_z: T, _a: T) -> T {
        T::one()
    }
}

/// The logistic sigmoid `1 / (1 + e^-z)`, computed without overflow for any `z`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sigmoid;

/// The logistic function, stable for large `|z|`; in `f32` within 3 ulp (2.0
/// measured) wherever the result is a normal number.
#[inline]
pub fn sigmoid<T: Scalar>(z: T) -> T {
    // One exponential, of a non-positive number, so it never overflows;
    // `e / (1 + e)` keeps the left tail's relative precision. A select, not a
    // branch, so that loops over it vectorise.
    let e = (-z.abs()).fast_exp();
    let numerator = if z >= T::zero() { T::one() } else { e };
    numerator / (T::one() + e)
}

/// `ln(1 + e^z)`, stable for large `|z|`.
#[inline]
pub fn softplus<T: Scalar>(z: T) -> T {
    z.max(T::zero()) + (-z.abs()).fast_exp().ln_1p()
}

impl ElementWise for Sigmoid {
    const NAME: &'static str = "sigmoid";
    #[inline]
    fn value<T: Scalar>(z: T) -> T {
        sigmoid(z)
    }
    /// `sigma'(z) = a (1 - a)` while `1 - a` keeps its digits (`|z| < 4`,
    /// where `1 - a > 0.018`), and `e / (1 + e)^2` with `e = exp(-|z|)`
    /// beyond: `a (1 - a)` cancels once the unit saturates (in `f32` it is
    /// `4e-4` off at `z = 4.8` and exactly 0 beyond `|z| = 9.1`), and the
    /// exponential costs more than the product where it is not needed.
    #[inline]
    fn derivative<T: Scalar>(z: T, a: T) -> T {
        if z.abs() < T::constant(4.0) {
            return a * (T::one() - a);
        }
        let e = (-z.abs()).fast_exp();
        let one_plus = T::one() + e;
        e / (one_plus * one_plus)
    }
}

/// The hyperbolic tangent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tanh;

impl ElementWise for Tanh {
    const NAME: &'static str = "tanh";
    #[inline]
    fn value<T: Scalar>(z: T) -> T {
        z.fast_tanh()
    }
    /// `tanh'(z) = 1 - a^2` while that keeps its digits (`|z| < 2`, where
    /// `1 - a > 0.036`), and `4 e / (1 + e)^2` with `e = exp(-2 |z|)`
    /// (`sech^2 z`) beyond, where `1 - a^2` cancels.
    #[inline]
    fn derivative<T: Scalar>(z: T, a: T) -> T {
        if z.abs() < T::constant(2.0) {
            return T::one() - a * a;
        }
        let e = (-(z.abs() + z.abs())).fast_exp();
        let one_plus = T::one() + e;
        (e + e + e + e) / (one_plus * one_plus)
    }
}

/// The rectified linear unit `max(z, 0)`; its derivative at `0` is taken as
/// `0`. NaN stays NaN, in the value and in the derivative.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Relu;

impl ElementWise for Relu {
    const NAME: &'static str = "relu";
    const INIT: InitScheme = InitScheme::HeUniform;
    #[inline]
    fn value<T: Scalar>(z: T) -> T {
        // `z < 0` is false for NaN, which is returned as it is.
        if z < T::zero() { T::zero() } else { z }
    }
    #[inline]
    fn derivative<T: Scalar>(z: T, _a: T) -> T {
        if z > T::zero() {
            T::one()
        } else if z <= T::zero() {
            T::zero()
        } else {
            z
        }
    }
}

/// Leaky ReLU: `z` for `z > 0`, `slope * z` otherwise, with
/// `slope = NUM / DEN` (default `1/100`). NaN stays NaN.
///
/// `LeakyRelu<1, 5>` has slope 0.2. `DEN` must not be zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LeakyRelu<const NUM: u32 = 1, const DEN: u32 = 100>;

impl<const NUM: u32, const DEN: u32> LeakyRelu<NUM, DEN> {
    const DEN_IS_NOT_ZERO: () = assert!(DEN != 0, "LeakyRelu<NUM, DEN>: DEN must not be zero");

    /// The slope for negative inputs, `NUM / DEN`.
    #[inline]
    pub fn slope<T: Scalar>() -> T {
        let () = Self::DEN_IS_NOT_ZERO;
        T::constant(f64::from(NUM) / f64::from(DEN))
    }
}

impl<const NUM: u32, const DEN: u32> ElementWise for LeakyRelu<NUM, DEN> {
    const NAME: &'static str = "leaky relu";
    const INIT: InitScheme = InitScheme::HeUniform;
    #[inline]
    fn value<T: Scalar>(z: T) -> T {
        if z > T::zero() {
            z
        } else {
            Self::slope::<T>() * z
        }
    }
    #[inline]
    fn derivative<T: Scalar>(z: T, _a: T) -> T {
        if z > T::zero() {
            T::one()
        } else if z <= T::zero() {
            Self::slope()
        } else {
            // NaN.
            z
        }
    }
}

/// Softplus `ln(1 + e^z)`, a smooth ReLU; its derivative is the sigmoid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Softplus;

impl ElementWise for Softplus {
    const NAME: &'static str = "softplus";
    #[inline]
    fn value<T: Scalar>(z: T) -> T {
        softplus(z)
    }
    #[inline]
    fn derivative<T: Scalar>(z: T, _a: T) -> T {
        sigmoid(z)
    }
}

/// Swish, also called SiLU: `z * sigmoid(z)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swish;

/// SiLU is the same function as [`Swish`] (with `beta = 1`).
pub type Silu = Swish;

impl ElementWise for Swish {
    const NAME: &'static str = "swish";
    const INIT: InitScheme = InitScheme::HeUniform;
    #[inline]
    fn value<T: Scalar>(z: T) -> T {
        z * sigmoid(z)
    }
    #[inline]
    fn derivative<T: Scalar>(z: T, _a: T) -> T {
        let s = sigmoid(z);
        s + z * s * (T::one() - s)
    }
}

/// Mish: `z * tanh(softplus(z))`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mish;

impl ElementWise for Mish {
    const NAME: &'static str = "mish";
    const INIT: InitScheme = InitScheme::HeUniform;
    #[inline]
    fn value<T: Scalar>(z: T) -> T {
        z * tanh_softplus_and_sigmoid(z).0
    }
    #[inline]
    fn derivative<T: Scalar>(z: T, _a: T) -> T {
        let (t, s) = tanh_softplus_and_sigmoid(z);
        t + z * (T::one() - t * t) * s
    }
}

/// `(tanh(softplus(z)), sigmoid(z))` from the one exponential `w = e^-|z|`.
///
/// With `u = e^z`, `tanh(ln(1 + u)) = u (u + 2) / (u (u + 2) + 2)`; for `z >= 0`
/// numerator and denominator are divided by `u^2 = 1 / w^2`, so nothing
/// overflows and no logarithm or tanh is needed.
#[inline]
fn tanh_softplus_and_sigmoid<T: Scalar>(z: T) -> (T, T) {
    let (one, two) = (T::one(), T::constant(2.0));
    let w = (-z.abs()).fast_exp();
    let non_negative = z >= T::zero();
    let numerator = if non_negative {
        one + two * w
    } else {
        w * (w + two)
    };
    let denominator = numerator + if non_negative { two * w * w } else { two };
    let sigmoid = if non_negative { one } else { w } / (one + w);
    (numerator / denominator, sigmoid)
}

/// GELU, the exact form `z * Phi(z)` with `Phi` the standard normal CDF.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Gelu;

impl ElementWise for Gelu {
    const NAME: &'static str = "gelu";
    const INIT: InitScheme = InitScheme::HeUniform;
    #[inline]
    fn value<T: Scalar>(z: T) -> T {
        z * normal_cdf(z)
    }
    #[inline]
    fn derivative<T: Scalar>(z: T, _a: T) -> T {
        // d/dz [z Phi(z)] = Phi(z) + z phi(z)
        let pdf = (-z * z / T::constant(2.0)).fast_exp()
            / T::constant(2.0 * core::f64::consts::PI).sqrt();
        normal_cdf(z) + z * pdf
    }
}

/// GELU's tanh approximation, PyTorch's `approximate='tanh'`:
/// `0.5 z (1 + tanh(u))` with `u = sqrt(2 / pi) (z + 0.044715 z^3)`.
///
/// Computed as `z sigma(2u)` (the same function: `(1 + tanh u) / 2 =
/// sigma(2u)`), which keeps its relative precision in the left tail where
/// `1 + tanh u` would cancel; its derivative is `sigma(2u) + z sigma'(2u) 2
/// u'(z)`, with `sigma'` from one exponential as for [`Sigmoid`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GeluTanh;

impl GeluTanh {
    /// `sqrt(2 / pi)`.
    const SCALE: f64 = 0.797_884_560_802_865_4;
    /// The cubic term's coefficient.
    const CUBIC: f64 = 0.044_715;

    /// `2u`.
    #[inline]
    fn two_u<T: Scalar>(z: T) -> T {
        T::constant(2.0 * Self::SCALE) * (z + T::constant(Self::CUBIC) * z * z * z)
    }
}

impl ElementWise for GeluTanh {
    const NAME: &'static str = "gelu (tanh)";
    const INIT: InitScheme = InitScheme::HeUniform;
    #[inline]
    fn value<T: Scalar>(z: T) -> T {
        z * sigmoid(Self::two_u(z))
    }
    #[inline]
    fn derivative<T: Scalar>(z: T, _a: T) -> T {
        let v = Self::two_u(z);
        let e = (-v.abs()).fast_exp();
        let one_plus = T::one() + e;
        let sigmoid_slope = e / (one_plus * one_plus);
        // d(2u)/dz = 2 sqrt(2 / pi) (1 + 3 * 0.044715 z^2).
        let dv =
            T::constant(2.0 * Self::SCALE) * (T::one() + T::constant(3.0 * Self::CUBIC) * z * z);
        // Where the sigmoid is flat its slope is 0 and `dv` may have
        // overflowed (`z^2` at `|z| = 1e30`): the term is 0, not `0 * inf`.
        let term = if sigmoid_slope > T::zero() {
            z * sigmoid_slope * dv
        } else {
            T::zero()
        };
        sigmoid(v) + term
    }
}

#[inline]
fn normal_cdf<T: Scalar>(z: T) -> T {
    // Phi(z) = erfc(-z / sqrt 2) / 2, which keeps full relative precision in
    // the left tail where `1 + erf(..)` would cancel to zero.
    T::constant(0.5) * (-z / T::constant(core::f64::consts::SQRT_2)).erfc()
}

/// Softmax over each column: `a_i = e^(z_i) / sum_j e^(z_j)`.
///
/// Computed as `e^(z_i - max z)` so that large logits never overflow. Only the
/// output layer may use it; pair it with
/// [`SoftmaxCrossEntropy`](crate::SoftmaxCrossEntropy) for the fused, stable
/// gradient `a - t`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Softmax;

/// [`Softmax`]'s forward pass, column by column, written into `a`.
#[inline(always)]
fn softmax_into<T: Scalar, const R: usize, const C: usize>(
    z: &SMatrix<T, R, C>,
    a: &mut SMatrix<T, R, C>,
) {
    a.as_mut_slice().copy_from_slice(z.as_slice());
    if R == 0 {
        return;
    }
    // Three passes over the column-major storage, each a simple loop: the
    // exponential runs over the whole batch at once and is vectorised.
    for column in a.as_mut_slice().chunks_exact_mut(R) {
        let max = column.iter().fold(column[0], |max, &v| max.max(v));
        for v in column.iter_mut() {
            *v -= max;
        }
    }
    for v in a.as_mut_slice() {
        *v = v.fast_exp();
    }
    for column in a.as_mut_slice().chunks_exact_mut(R) {
        let sum = column.iter().fold(T::zero(), |sum, &v| sum + v);
        // One division per sample, not per element.
        let inverse = T::one() / sum;
        for v in column.iter_mut() {
            *v *= inverse;
        }
    }
}

#[diagnostic::do_not_recommend]
impl Activation for Softmax {
    const NAME: &'static str = "softmax";

    fn forward<T: Scalar, const R: usize, const C: usize>(
        z: &SMatrix<T, R, C>,
    ) -> SMatrix<T, R, C> {
        let mut a = SMatrix::zeros();
        Self::forward_into(z, &mut a);
        a
    }

    fn forward_into<T: Scalar, const R: usize, const C: usize>(
        z: &SMatrix<T, R, C>,
        a: &mut SMatrix<T, R, C>,
    ) {
        // Compiled for the CPU's widest vectors (see `widest`).
        widest(
            #[inline(always)]
            || softmax_into(z, a),
        );
    }

    fn backward<T: Scalar, const R: usize, const C: usize>(
        _z: &SMatrix<T, R, C>,
        a: &SMatrix<T, R, C>,
        grad_a: &SMatrix<T, R, C>,
    ) -> SMatrix<T, R, C> {
        // J^T g for J = diag(a) - a a^T, column by column: a ∘ (g - a·g).
        let mut grad_z = SMatrix::<T, R, C>::zeros();
        for j in 0..C {
            let a_j = a.column(j);
            let g_j = grad_a.column(j);
            let dot = a_j.dot(&g_j);
            grad_z.set_column(j, &a_j.zip_map(&g_j, |a, g| a * (g - dot)));
        }
        grad_z
    }
}
