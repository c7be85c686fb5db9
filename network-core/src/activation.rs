//! Activation functions `a = f(z)` and their vector-Jacobian products.
//!
//! Every activation is a zero-sized type named in the `network!` spec
//! (`Dense<4, Tanh>`). Element-wise functions implement [`ElementWise`] and get
//! [`Activation`] for free; [`Softmax`] works on whole columns.

use nalgebra::SMatrix;

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
    /// True only for [`Softmax`]: the macro keeps it to the output layer.
    const NORMALISES_COLUMNS: bool = false;

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

impl<E: ElementWise> Activation for E {
    const NAME: &'static str = E::NAME;
    const INIT: InitScheme = E::INIT;

    #[inline]
    fn forward<T: Scalar, const R: usize, const C: usize>(
        z: &SMatrix<T, R, C>,
    ) -> SMatrix<T, R, C> {
        z.map(E::value)
    }

    #[inline]
    fn backward<T: Scalar, const R: usize, const C: usize>(
        z: &SMatrix<T, R, C>,
        a: &SMatrix<T, R, C>,
        grad_a: &SMatrix<T, R, C>,
    ) -> SMatrix<T, R, C> {
        z.zip_zip_map(a, grad_a, |z, a, g| g * E::derivative(z, a))
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

/// The logistic function, stable for large `|z|`.
#[inline]
pub fn sigmoid<T: Scalar>(z: T) -> T {
    // One exponential, of a non-positive number, so it never overflows.
    let e = (-z.abs()).exp();
    if z >= T::zero() {
        T::one() / (T::one() + e)
    } else {
        e / (T::one() + e)
    }
}

/// `ln(1 + e^z)`, stable for large `|z|`.
#[inline]
pub fn softplus<T: Scalar>(z: T) -> T {
    z.max(T::zero()) + (-z.abs()).exp().ln_1p()
}

impl ElementWise for Sigmoid {
    const NAME: &'static str = "sigmoid";
    #[inline]
    fn value<T: Scalar>(z: T) -> T {
        sigmoid(z)
    }
    #[inline]
    fn derivative<T: Scalar>(_z: T, a: T) -> T {
        a * (T::one() - a)
    }
}

/// The hyperbolic tangent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tanh;

impl ElementWise for Tanh {
    const NAME: &'static str = "tanh";
    #[inline]
    fn value<T: Scalar>(z: T) -> T {
        z.tanh()
    }
    #[inline]
    fn derivative<T: Scalar>(_z: T, a: T) -> T {
        T::one() - a * a
    }
}

/// The rectified linear unit `max(z, 0)`; its derivative at `0` is taken as `0`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Relu;

impl ElementWise for Relu {
    const NAME: &'static str = "relu";
    const INIT: InitScheme = InitScheme::HeUniform;
    #[inline]
    fn value<T: Scalar>(z: T) -> T {
        if z > T::zero() { z } else { T::zero() }
    }
    #[inline]
    fn derivative<T: Scalar>(z: T, _a: T) -> T {
        if z > T::zero() { T::one() } else { T::zero() }
    }
}

/// Leaky ReLU: `z` for `z > 0`, `slope * z` otherwise, with
/// `slope = NUM / DEN` (default `1/100`).
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
        } else {
            Self::slope()
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
        z * softplus(z).tanh()
    }
    #[inline]
    fn derivative<T: Scalar>(z: T, _a: T) -> T {
        let t = softplus(z).tanh();
        t + z * (T::one() - t * t) * sigmoid(z)
    }
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
        let pdf =
            (-z * z / T::constant(2.0)).exp() / T::constant(2.0 * core::f64::consts::PI).sqrt();
        normal_cdf(z) + z * pdf
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

impl Activation for Softmax {
    const NAME: &'static str = "softmax";
    const NORMALISES_COLUMNS: bool = true;

    fn forward<T: Scalar, const R: usize, const C: usize>(
        z: &SMatrix<T, R, C>,
    ) -> SMatrix<T, R, C> {
        let mut a = *z;
        for mut column in a.column_iter_mut() {
            let max = column.max();
            column.apply(|v| *v = (*v - max).exp());
            let sum = column.sum();
            column /= sum;
        }
        a
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
