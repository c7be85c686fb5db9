//! Optimizers: update rules that move parameters against their gradients.
//!
//! Every optimizer implements [`Optimizer`] for any network through
//! [`Parameters`]: the parameters and the gradients are walked as the same
//! sequence of slices, and an optimizer's state (momentum, moment estimates)
//! is another value of the gradients' type, so it is statically sized and
//! never allocates.
//!
//! | optimizer | state | rule |
//! | --- | --- | --- |
//! | [`Sgd`] | none | `p -= lr (g + wd p)` |
//! | [`Momentum`] | 1 x parameters | heavy-ball or Nesterov momentum |
//! | [`Adam`] | 2 x parameters + a step counter | Adam, or AdamW with decoupled decay |
//! | [`RmsProp`] | 1 x parameters | running mean of `g^2` |
//! | [`IRpropMinus`] | 2 x parameters | iRPROP−: a step size per parameter from the signs of `g` (full batch) |
//!
//! The rules follow PyTorch's `torch.optim`, with its defaults, so a
//! configuration carries over: the decays of [`Adam`] and [`RmsProp`] are
//! kept in `f64`, and `1 - beta`, `1 - alpha` and the bias corrections are
//! formed in `f64` and rounded to the scalar type once, as PyTorch forms
//! them. Where the order of operations differs, the results differ by
//! rounding only:
//!
//! - [`Adam`] multiplies `sqrt(v)` by `1 / sqrt(1 - beta2^t)` where PyTorch
//!   divides by `sqrt(1 - beta2^t)` (one division per element instead of
//!   two).
//! - [`Momentum`]'s velocity starts at zero, where PyTorch's starts at the
//!   first gradient; the first steps agree, since `mu 0 + d = d`.
//! - [`IRpropMinus`] is PyTorch's `Rprop` (which is iRPROP−) with FANN's
//!   initial step of `0.1` (PyTorch's is its `lr`, `0.01`) and a step
//!   factor of 1.
//!
//! # Failed steps change nothing
//!
//! An optimizer is built only from settings a step can use: `new` returns
//! a [`ConfigError`] otherwise (a finite learning rate and weight decay of
//! at least 0, decays in `[0, 1)`, an `epsilon` above 0; each
//! configuration's `validate` says the same). A step checks the settings
//! again (the fields are public, and a schedule sets the learning rate
//! between steps), then that every gradient `g` and its square are finite,
//! then that the update leaves every parameter and every state value
//! finite. If not, it returns
//! [`StepError::InvalidConfig`], [`StepError::NonFiniteGradient`] or
//! [`StepError::NonFiniteUpdate`] and neither the parameters nor the
//! optimizer's state (moments, step counter) change, bit for bit, so
//! training can resume from exactly where it was. (A NaN learning rate,
//! `epsilon = 0` or `beta1 = 1` once gave `Ok` and NaN weights, and a huge
//! learning rate `Ok` and infinite ones.)
//!
//! The update is checked without being computed twice: from the largest
//! `|p|`, `|g|` and `|state|` (one pass each, an integer maximum that
//! vectorises) a step bounds the size of everything it will compute, and
//! only when that bound comes within a factor of 2 of the largest finite
//! value does it compute the update once without storing it, to decide
//! exactly.
//!
//! # A training step
//!
//! ```
//! use network_core::{
//!     Adam, AdamConfig, Gradients, Network, Optimizer, SoftmaxCrossEntropy, Supervised,
//! };
//! # use network_core::{Dense, Relu, Softmax};
//! # network_macros::network! { #[network(crate = network_core)] struct Net { input: 2, hidden: Dense<8, Relu>, output: Dense<3, Softmax> } }
//! # use network_core::nalgebra::SMatrix;
//!
//! let mut net = Net::<f32>::random(1);
//! let mut grads = NetGradients::<f32>::zeros();
//! let mut adam = Adam::new(AdamConfig::adam(1e-3))?;
//! let x = SMatrix::<f32, 2, 4>::from_column_slice(&[0., 0., 0., 1., 1., 0., 1., 1.]);
//! let t = SMatrix::<f32, 3, 4>::from_column_slice(&[
//!     1., 0., 0., 0., 1., 0., 0., 1., 0., 0., 0., 1.,
//! ]);
//! let loss = net.loss_and_gradients::<SoftmaxCrossEntropy>(&x, &t, &mut grads);
//! assert!(loss.is_finite());
//! adam.step(&mut net, &grads)?;
//! # Ok::<(), network_core::StepError>(())
//! ```

use core::fmt;

use crate::wide::widest;
use crate::{GradientsOf, Parameters, Scalar};

mod adam;
mod momentum;
mod rmsprop;
mod rprop;
mod sgd;

pub use adam::{Adam, AdamConfig, AdamState};
pub use momentum::{Momentum, MomentumConfig};
pub use rmsprop::{RmsProp, RmsPropConfig};
pub use rprop::{IRpropConfig, IRpropMinus};
pub use sgd::Sgd;

/// Why a training step refused to touch the parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StepError {
    /// A gradient (or its square) was NaN or infinite; the parameters and the
    /// optimizer's state were left as they were.
    NonFiniteGradient,
    /// The update would have made a parameter (or the optimizer's state) NaN
    /// or infinite, for example with a huge learning rate; nothing was
    /// changed.
    NonFiniteUpdate,
    /// The loss was NaN or infinite; no update was made.
    NonFiniteLoss,
    /// The parameters, the gradients or the optimizer's state do not have the
    /// same shapes.
    ShapeMismatch,
    /// The maximum norm given to gradient clipping was not a positive number.
    InvalidClipNorm,
    /// A hyperparameter no step can use (a NaN or negative learning rate,
    /// a decay outside `[0, 1)`, a zero `epsilon`): nothing was changed.
    InvalidConfig(ConfigError),
    /// A full-batch step was given no samples.
    NoSamples,
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepError::NonFiniteGradient => {
                f.write_str("a gradient is NaN or infinite; the parameters were not changed")
            }
            StepError::NonFiniteUpdate => f.write_str(
                "the update would make a parameter NaN or infinite; the parameters were not changed",
            ),
            StepError::NonFiniteLoss => {
                f.write_str("the loss is NaN or infinite; the parameters were not changed")
            }
            StepError::ShapeMismatch => {
                f.write_str("parameters and gradients have different shapes")
            }
            StepError::InvalidClipNorm => {
                f.write_str("the maximum gradient norm must be a positive number")
            }
            StepError::InvalidConfig(error) => {
                write!(f, "{error}; the parameters were not changed")
            }
            StepError::NoSamples => f.write_str("the data has no samples to take a step on"),
        }
    }
}

impl core::error::Error for StepError {}

impl From<ConfigError> for StepError {
    fn from(error: ConfigError) -> Self {
        StepError::InvalidConfig(error)
    }
}

/// A hyperparameter out of its range, with its value: what each
/// optimizer's `validate` reports, and what a step refuses to run with
/// ([`StepError::InvalidConfig`]) before it changes anything.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ConfigError {
    /// A learning rate must be finite and at least 0.
    LearningRate(f64),
    /// A weight decay must be finite and at least 0.
    WeightDecay(f64),
    /// A momentum factor must be in `[0, 1)`.
    Momentum(f64),
    /// Adam's `beta1` must be in `[0, 1)`.
    Beta1(f64),
    /// Adam's `beta2` must be in `[0, 1)`.
    Beta2(f64),
    /// RMSProp's `alpha` must be in `[0, 1)`.
    Alpha(f64),
    /// An `epsilon` must be finite and above 0.
    Epsilon(f64),
    /// A schedule's factor (`StepDecay`'s `factor`, `Exponential`'s
    /// `gamma`) must be finite and above 0, and its minimum rate finite and
    /// at least 0.
    Schedule(f64),
    /// Early stopping's `min_delta` must be finite and at least 0.
    MinDelta(f64),
    /// The validation fraction must be in `[0, 1)`.
    ValidationFraction(f64),
    /// The maximum norm of gradient clipping must be finite and above 0.
    ClipNorm(f64),
    /// Early stopping, or restoring the best weights, needs a validation
    /// split (a validation fraction above 0).
    EarlyStoppingWithoutValidation,
    /// Restoring the best weights keeps a copy of them on the heap: it needs
    /// the `alloc` feature.
    RestoreBestNeedsAlloc,
    /// iRPROP−'s growth factor `eta_plus` must be finite and above 1.
    EtaPlus(f64),
    /// iRPROP−'s shrink factor `eta_minus` must be in `(0, 1)`.
    EtaMinus(f64),
    /// iRPROP−'s smallest step `min_step` must be finite and above 0.
    MinStep(f64),
    /// iRPROP−'s largest step `max_step` must be finite and at least
    /// `min_step`.
    MaxStep(f64),
    /// iRPROP−'s `initial_step` must be finite, at least `min_step` and at
    /// most `max_step`.
    InitialStep(f64),
    /// A second-order method's damping, or a factor of its schedule, is out
    /// of its range (see
    /// [`DampingConfig::validate`](crate::DampingConfig::validate)).
    Damping(f64),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, value, range) = match *self {
            ConfigError::EarlyStoppingWithoutValidation => {
                return f.write_str(
                    "early stopping and restoring the best weights need a validation split: set a validation fraction above 0",
                );
            }
            ConfigError::RestoreBestNeedsAlloc => {
                return f.write_str(
                    "restoring the best weights keeps a copy of them on the heap: enable the `alloc` feature",
                );
            }
            ConfigError::LearningRate(v) => ("learning rate", v, "a finite number of at least 0"),
            ConfigError::WeightDecay(v) => ("weight decay", v, "a finite number of at least 0"),
            ConfigError::Momentum(v) => ("momentum", v, "in [0, 1)"),
            ConfigError::Beta1(v) => ("beta1", v, "in [0, 1)"),
            ConfigError::Beta2(v) => ("beta2", v, "in [0, 1)"),
            ConfigError::Alpha(v) => ("alpha", v, "in [0, 1)"),
            ConfigError::Epsilon(v) => ("epsilon", v, "a finite number above 0"),
            ConfigError::Schedule(v) => (
                "schedule's factor or minimum",
                v,
                "a finite number above 0 (at least 0 for a minimum)",
            ),
            ConfigError::MinDelta(v) => (
                "early stopping's min_delta",
                v,
                "a finite number of at least 0",
            ),
            ConfigError::Damping(v) => (
                "damping setting",
                v,
                "finite and above 0 (a decrease in (0, 1), an increase above 1, a maximum of at least the start)",
            ),
            ConfigError::ValidationFraction(v) => ("validation fraction", v, "in [0, 1)"),
            ConfigError::ClipNorm(v) => ("maximum gradient norm", v, "a finite number above 0"),
            ConfigError::EtaPlus(v) => ("eta_plus", v, "a finite number above 1"),
            ConfigError::EtaMinus(v) => ("eta_minus", v, "in (0, 1)"),
            ConfigError::MinStep(v) => ("minimum step", v, "a finite number above 0"),
            ConfigError::MaxStep(v) => (
                "maximum step",
                v,
                "a finite number of at least the minimum step",
            ),
            ConfigError::InitialStep(v) => (
                "initial step",
                v,
                "a finite number between the minimum and the maximum step",
            ),
        };
        write!(f, "the {name} is {value}, but must be {range}")
    }
}

impl core::error::Error for ConfigError {}

/// `value` is finite and at least 0, or `error(value)`.
pub(crate) fn non_negative<T: Scalar>(
    value: T,
    error: fn(f64) -> ConfigError,
) -> Result<(), ConfigError> {
    // Compared in `T`, and finite by `finite`: a step checks this every
    // time.
    if value >= T::zero() && finite(value) {
        Ok(())
    } else {
        Err(error(value.to_f64()))
    }
}

/// `value` is in `[0, 1)`, or `error(value)`.
pub(crate) fn decay(value: f64, error: fn(f64) -> ConfigError) -> Result<(), ConfigError> {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err(error(value))
    }
}

/// `value` is finite and above 0, or `error(value)`.
pub(crate) fn positive<T: Scalar>(
    value: T,
    error: fn(f64) -> ConfigError,
) -> Result<(), ConfigError> {
    if value > T::zero() && finite(value) {
        Ok(())
    } else {
        Err(error(value.to_f64()))
    }
}

/// An update rule for parameters whose gradients have type `G`.
///
/// `G` is usually a network's `Gradients` type; stateful optimizers keep
/// their state in values of that type. See the [module docs](self) for a
/// complete training step.
pub trait Optimizer<T: Scalar, G: Parameters<T>> {
    /// Applies one update to `parameters` given their `gradients`.
    ///
    /// # Errors
    ///
    /// [`StepError::InvalidConfig`] if a setting is out of its range,
    /// [`StepError::NonFiniteGradient`] if a gradient or its square is not
    /// finite, [`StepError::NonFiniteUpdate`] if the update would make a
    /// parameter or a state value NaN or infinite,
    /// [`StepError::ShapeMismatch`] if `parameters` and `gradients` have
    /// different shapes. On error nothing changes: neither the parameters
    /// nor the optimizer's state.
    ///
    /// The gradients must be those of `P` (`G: GradientsOf<P>`, as a
    /// network's gradients type is of that network): another network's are
    /// a compile error, as with each optimizer's own `step`.
    fn step<P: Parameters<T>>(
        &mut self,
        parameters: &mut P,
        gradients: &G,
    ) -> Result<(), StepError>
    where
        G: GradientsOf<P>;

    /// The current step size.
    fn learning_rate(&self) -> T;

    /// Changes the step size (a [`Schedule`](crate::Schedule) does this once per epoch).
    fn set_learning_rate(&mut self, learning_rate: T);

    /// Forgets the state (momentum, moment estimates, step counter), as if
    /// no step had been taken.
    fn reset(&mut self);
}

/// Checks that `parameters`, `gradients` and every `state` have the same
/// slice lengths and that every gradient and its square are finite, and
/// returns the largest `|p|` and `|g|`, which bound the update.
///
/// Squares are checked because Adam and RMSProp accumulate `g^2`: a finite
/// gradient of `1e20` would still poison their state with infinity.
pub(crate) fn check_step<T: Scalar, P: Parameters<T>, G: Parameters<T>>(
    parameters: &P,
    gradients: &G,
    states: &[&G],
) -> Result<Largest<T>, StepError> {
    if P::PARAMETERS != G::PARAMETERS {
        return Err(StepError::ShapeMismatch);
    }
    // The parameters' shape is checked in the pass that finds the largest
    // parameter and gradient (one loop over the slices, not two); the
    // largest square is the square of the largest magnitude (NaN or
    // infinite if any gradient is).
    let largest = widest(
        #[inline(always)]
        || {
            let mut parameter_slices = parameters.slices();
            let mut largest = (T::zero(), T::zero());
            for gradient in gradients.slices() {
                match parameter_slices.next() {
                    Some(parameter) if parameter.len() == gradient.len() => {
                        largest = T::largest_magnitudes(largest, parameter, gradient);
                    }
                    _ => return None,
                }
            }
            parameter_slices.next().is_none().then_some(largest)
        },
    );
    let Some(largest) = largest else {
        return Err(StepError::ShapeMismatch);
    };
    for state in states {
        let mut state_slices = state.slices();
        for gradient in gradients.slices() {
            if state_slices.next().map(<[T]>::len) != Some(gradient.len()) {
                return Err(StepError::ShapeMismatch);
            }
        }
    }
    let (parameter, gradient) = largest;
    let largest = Largest {
        parameter,
        gradient,
    };
    if finite(largest.gradient * largest.gradient) {
        Ok(largest)
    } else {
        Err(StepError::NonFiniteGradient)
    }
}

/// The largest `|p|` and `|g|` of a step, as [`check_step`] finds them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Largest<T> {
    /// `max |p|` over the parameters.
    pub(crate) parameter: T,
    /// `max |g|` over the gradients: NaN if one is NaN, else infinity if
    /// one is infinite.
    pub(crate) gradient: T,
}

/// Whether `x` is finite, as `x - x == 0` (NaN for NaN and infinities):
/// on a Cortex-M4 this form cost 44 fewer instructions per XOR epoch than
/// `is_finite` in the settings' checks.
#[allow(clippy::eq_op)]
fn finite<T: Scalar>(x: T) -> bool {
    x - x == T::zero()
}

/// `x`, or `0` where `x` is subnormal (`0 < |x| < T::MIN_POSITIVE`): what
/// the optimizers store as their running averages.
///
/// An average whose gradient has stopped (a ReLU unit that died) decays
/// geometrically, and rounding then keeps it at a few units of the last
/// subnormal place for good (`0.9 x` rounds back to `x` below 5 units).
/// Every later step then multiplies a subnormal, which Intel's cores do
/// with a microcode assist: on an Intel Xeon with AVX-512, 200,000 steps of
/// the benchmarks' workload B (where 225 of Adam's 2,410 moments got stuck)
/// took 12.5 s instead of 3.0 s, 80% of it in Adam. Below the smallest
/// normal value an average moves no parameter a representable amount
/// (the update is `lr` times it over at least `eps`, or `lr` times it),
/// so 0 is the same step. Two comparisons, branch-free, so the loops
/// still vectorise; NaN passes through.
#[inline(always)]
pub(crate) fn flush_subnormal<T: Scalar>(x: T) -> T {
    if x < T::MIN_POSITIVE && x > -T::MIN_POSITIVE {
        T::zero()
    } else {
        x
    }
}

/// `max |x|` over every value of `values`: NaN if one is NaN, else
/// infinity if one is infinite.
pub(crate) fn largest<T: Scalar, P: Parameters<T>>(values: &P) -> T {
    widest(
        #[inline(always)]
        || largest_of(values),
    )
}

/// [`largest`], as the target compiles it.
#[inline(always)]
fn largest_of<T: Scalar, P: Parameters<T>>(values: &P) -> T {
    values.slices().fold(T::zero(), |largest, slice| {
        let candidate = T::largest_magnitude(slice);
        // A NaN candidate replaces, and a NaN `largest` stays.
        #[allow(clippy::eq_op)]
        let nan = candidate != candidate;
        if nan || candidate > largest {
            candidate
        } else {
            largest
        }
    })
}

/// Whether every value computed with magnitudes up to `bound` is finite.
///
/// Each optimizer bounds the magnitude of everything its update computes
/// by a sum of products of the largest inputs (`|p|`, `|g|`, `|state|`)
/// and its settings, formed in `T` from non-negative terms: an overflow
/// or NaN on the way makes the bound infinite or NaN, and below half of
/// `T::MAX_FINITE` the rounding of the update's few operations cannot
/// reach infinity. Ordinary steps pass this test and pay for three or
/// four integer passes over the values; a step that fails it pays for
/// [`update_is_finite`], the exact answer.
pub(crate) fn bounded<T: Scalar>(bound: T) -> bool {
    bound <= T::MAX_FINITE * T::constant(0.5)
}

/// `(p, v) = update(p, g, v)` for every parameter `p` with its gradient `g`
/// and its one state value `v` (Momentum's velocity, RMSProp's mean
/// square), compiled for the CPU's widest vectors (see [`widest`]; `update`
/// should own its constants, as a `move` closure of copies).
///
/// The shapes must have passed [`check_step`].
pub(crate) fn update_with_state<T: Scalar, P: Parameters<T>, G: Parameters<T>>(
    parameters: &mut P,
    gradients: &G,
    state: &mut G,
    update: impl Fn(T, T, T) -> (T, T),
) {
    let slices = parameters
        .slices_mut()
        .zip(gradients.slices())
        .zip(state.slices_mut());
    widest(
        #[inline(always)]
        move || {
            for ((p, g), v) in slices {
                for ((p, &g), v) in p.iter_mut().zip(g).zip(v) {
                    (*p, *v) = update(*p, g, *v);
                }
            }
        },
    );
}

/// Whether `update(p, g, state)`, applied to every parameter with its
/// gradient and its `S` state values, gives only finite values, without
/// changing anything: the exact test behind [`bounded`].
///
/// The shapes must have passed [`check_step`]. `update` must be the
/// function the optimizer's own loop applies, so that both compute the
/// same values.
pub(crate) fn update_is_finite<T: Scalar, P: Parameters<T>, G: Parameters<T>, const S: usize>(
    parameters: &P,
    gradients: &G,
    states: [&G; S],
    update: impl Fn(T, T, [T; S]) -> (T, [T; S]),
) -> bool {
    let mut state_slices = states.map(Parameters::slices);
    for (p, g) in parameters.slices().zip(gradients.slices()) {
        let s: [&[T]; S] = core::array::from_fn(|k| state_slices[k].next().unwrap_or(&[]));
        for (i, (&p, &g)) in p.iter().zip(g).enumerate() {
            let state = core::array::from_fn(|k| s[k].get(i).copied().unwrap_or(T::zero()));
            let (p, state) = update(p, g, state);
            if !finite(p) || !state.into_iter().all(finite) {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
pub(crate) mod test_util {
    //! A tiny two-parameter "network" for checking update rules by hand.

    use crate::{Gradients, Parameters};

    /// Two slices: `[a, b]` and `[c]`.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Tiny(pub [f64; 2], pub [f64; 1]);

    impl Parameters<f64> for Tiny {
        const PARAMETERS: usize = 3;
        fn slices(&self) -> impl Iterator<Item = &[f64]> {
            [&self.0[..], &self.1[..]].into_iter()
        }
        fn slices_mut(&mut self) -> impl Iterator<Item = &mut [f64]> {
            [&mut self.0[..], &mut self.1[..]].into_iter()
        }
    }

    impl Gradients<f64> for Tiny {
        fn zeros() -> Self {
            Tiny([0.0; 2], [0.0])
        }
    }

    // SAFETY: `Tiny` is two arrays of `f64`, valid when all zero.
    unsafe impl crate::Zeroable for Tiny {}

    impl crate::HasGradients for Tiny {
        type Gradients = Tiny;
    }

    /// Two `f32` parameters.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Pair(pub [f32; 2]);

    impl Parameters<f32> for Pair {
        const PARAMETERS: usize = 2;
        fn slices(&self) -> impl Iterator<Item = &[f32]> {
            [&self.0[..]].into_iter()
        }
        fn slices_mut(&mut self) -> impl Iterator<Item = &mut [f32]> {
            [&mut self.0[..]].into_iter()
        }
    }

    impl Gradients<f32> for Pair {
        fn zeros() -> Self {
            Pair([0.0; 2])
        }
    }

    /// `Tiny` with a different slice split, for shape checks.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Other(pub [f64; 1], pub [f64; 2]);

    impl Parameters<f64> for Other {
        const PARAMETERS: usize = 3;
        fn slices(&self) -> impl Iterator<Item = &[f64]> {
            [&self.0[..], &self.1[..]].into_iter()
        }
        fn slices_mut(&mut self) -> impl Iterator<Item = &mut [f64]> {
            [&mut self.0[..], &mut self.1[..]].into_iter()
        }
    }

    impl crate::HasGradients for Pair {
        type Gradients = Pair;
    }

    pub fn values(p: &Tiny) -> [f64; 3] {
        [p.0[0], p.0[1], p.1[0]]
    }

    /// Steps an optimizer with zero gradients after one step with a
    /// gradient of 1, as a unit whose gradient stops (a ReLU that died)
    /// is stepped: `step` takes the gradient and returns the optimizer's
    /// state values. They must decay to exactly 0 within `steps` and never
    /// be subnormal: a product with a subnormal takes a microcode assist
    /// on Intel's cores, 100 times slower, and rounding kept such decaying
    /// values at a few units of the last subnormal place for good.
    pub fn assert_state_decays_to_zero<const S: usize>(
        steps: usize,
        mut step: impl FnMut(&Pair) -> [f32; S],
    ) {
        step(&Pair([1.0, -1.0]));
        for k in 1..=steps {
            let state = step(&Pair([0.0; 2]));
            assert!(
                state.iter().all(|v| *v == 0.0 || v.is_normal()),
                "step {k}: a state value is subnormal: {state:?}"
            );
            if state.iter().all(|v| *v == 0.0) {
                return;
            }
        }
        panic!("the state is not 0 after {steps} steps without gradient");
    }

    pub fn assert_close(actual: [f64; 3], expected: [f64; 3]) {
        for (a, e) in actual.iter().zip(&expected) {
            assert!(
                (a - e).abs() <= 1e-12 * e.abs().max(1.0),
                "{actual:?} != {expected:?}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::test_util::Tiny;

    #[test]
    fn largest_is_the_largest_magnitude_and_keeps_nan_and_infinity() {
        assert_eq!(largest(&Tiny([1.0, -3.0], [2.0])), 3.0);
        assert_eq!(largest(&Tiny([-0.0, 0.0], [-0.0])), 0.0);
        assert_eq!(
            largest(&Tiny([1.0, f64::NEG_INFINITY], [2.0])),
            f64::INFINITY
        );
        assert!(largest(&Tiny([f64::NAN, f64::INFINITY], [2.0])).is_nan());
        assert!(largest(&Tiny([1.0, 2.0], [-f64::NAN])).is_nan());
        assert_eq!(f32::largest_magnitude(&[]), 0.0);
        assert_eq!(f32::largest_magnitude(&[-f32::MAX, 1.0]), f32::MAX);
        assert!(f32::largest_magnitude(&[f32::INFINITY, f32::NAN]).is_nan());
    }

    #[test]
    fn bounded_leaves_room_for_rounding() {
        assert!(bounded(0.5 * f32::MAX));
        assert!(!bounded(0.6 * f32::MAX));
        assert!(!bounded(f64::INFINITY));
        assert!(!bounded(f64::NAN));
    }

    #[test]
    fn update_is_finite_checks_every_new_value() {
        let (p, g) = (Tiny([1.0, 2.0], [3.0]), Tiny([0.0; 2], [0.0]));
        let state = Tiny([0.0, 0.0], [1e308]);
        let double_state = |p: f64, _g: f64, [s]: [f64; 1]| (p, [2.0 * s]);
        assert!(!update_is_finite(&p, &g, [&state], double_state));
        let halve_state = |p: f64, _g: f64, [s]: [f64; 1]| (p, [0.5 * s]);
        assert!(update_is_finite(&p, &g, [&state], halve_state));
        let overflow_parameter = |p: f64, _g: f64, []: [f64; 0]| (p * 1e308, []);
        assert!(!update_is_finite(&p, &g, [], overflow_parameter));
    }
}
