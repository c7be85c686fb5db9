//! iRPROP− (resilient back-propagation without weight backtracking).

use super::{
    ConfigError, Optimizer, StepError, check_step, non_negative, positive, update_is_finite,
};
use crate::{Gradients, GradientsOf, Parameters, Scalar, Zeroable};

/// The hyperparameters of [`IRpropMinus`]; [`IRpropConfig::new`] gives the
/// usual defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IRpropConfig<T: Scalar> {
    /// A factor `lr` on every step (default `1`, the published rule).
    ///
    /// iRPROP− has no learning rate: each parameter's step size adapts to
    /// the signs of its gradients. This factor is what
    /// [`Optimizer::learning_rate`] reads and a [`Schedule`](crate::Schedule)
    /// sets, so a schedule shrinks every step without touching the adaptation
    /// (the step sizes `s`, their bounds and factors are unchanged).
    pub learning_rate: T,
    /// The growth `eta_plus` of a step size whose gradient kept its sign
    /// (default `1.2`).
    pub eta_plus: T,
    /// The shrink `eta_minus` of a step size whose gradient changed sign
    /// (default `0.5`).
    pub eta_minus: T,
    /// The smallest step size `min_step` a shrink goes down to (default `1e-6`).
    pub min_step: T,
    /// The largest step size `max_step` a growth goes up to (default `50`).
    pub max_step: T,
    /// The step size `s` of every parameter before the first step and after
    /// [`Optimizer::reset`] (default `0.1`).
    pub initial_step: T,
}

impl<T: Scalar> IRpropConfig<T> {
    /// iRPROP− with the defaults of Igel and Hüsken's paper and of FANN's
    /// `FANN_TRAIN_RPROP`: `eta_plus = 1.2`, `eta_minus = 0.5`, step sizes in
    /// `[1e-6, 50]` starting at `0.1`, and a step factor `lr = 1`.
    ///
    /// (FANN's own minimum is `0`, with every step size kept above `1e-4`
    /// before it is updated; here `min_step` must be above 0 and is the only
    /// lower bound.)
    pub fn new() -> Self {
        IRpropConfig {
            learning_rate: T::one(),
            eta_plus: T::constant(1.2),
            eta_minus: T::constant(0.5),
            min_step: T::constant(1e-6),
            max_step: T::constant(50.0),
            initial_step: T::constant(0.1),
        }
    }

    /// The same configuration with another step factor `lr`.
    pub fn with_learning_rate(self, learning_rate: T) -> Self {
        IRpropConfig {
            learning_rate,
            ..self
        }
    }

    /// The same configuration with other growth and shrink factors.
    pub fn with_factors(self, eta_plus: T, eta_minus: T) -> Self {
        IRpropConfig {
            eta_plus,
            eta_minus,
            ..self
        }
    }

    /// The same configuration with other bounds on the step sizes.
    pub fn with_step_bounds(self, min_step: T, max_step: T) -> Self {
        IRpropConfig {
            min_step,
            max_step,
            ..self
        }
    }

    /// The same configuration with another initial step size.
    pub fn with_initial_step(self, initial_step: T) -> Self {
        IRpropConfig {
            initial_step,
            ..self
        }
    }

    /// Checks the hyperparameters: a finite step factor `lr` of at least 0,
    /// `0 < eta_minus < 1 < eta_plus` with `eta_plus` finite, and finite step
    /// bounds with `0 < min_step <= initial_step <= max_step`. Every step
    /// checks them too, before it changes anything.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`]: [`ConfigError::LearningRate`],
    /// [`EtaMinus`](ConfigError::EtaMinus), [`EtaPlus`](ConfigError::EtaPlus),
    /// [`MinStep`](ConfigError::MinStep), [`MaxStep`](ConfigError::MaxStep)
    /// or [`InitialStep`](ConfigError::InitialStep), in that order.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let (zero, one) = (T::zero(), T::one());
        // Finite as `v - v == 0`, as `non_negative` tests it.
        #[allow(clippy::eq_op)]
        let finite = |v: T| v - v == zero;
        non_negative(self.learning_rate, ConfigError::LearningRate)?;
        if !(self.eta_minus > zero && self.eta_minus < one) {
            return Err(ConfigError::EtaMinus(self.eta_minus.to_f64()));
        }
        if !(self.eta_plus > one && finite(self.eta_plus)) {
            return Err(ConfigError::EtaPlus(self.eta_plus.to_f64()));
        }
        positive(self.min_step, ConfigError::MinStep)?;
        if !(self.max_step >= self.min_step && finite(self.max_step)) {
            return Err(ConfigError::MaxStep(self.max_step.to_f64()));
        }
        // Between two finite bounds, so finite.
        if !(self.initial_step >= self.min_step && self.initial_step <= self.max_step) {
            return Err(ConfigError::InitialStep(self.initial_step.to_f64()));
        }
        Ok(())
    }
}

impl<T: Scalar> Default for IRpropConfig<T> {
    /// [`IRpropConfig::new`].
    fn default() -> Self {
        Self::new()
    }
}

/// iRPROP− (Igel and Hüsken, 2000, "Improving the Rprop learning
/// algorithm"; FANN's default trainer), for each parameter `p` with
/// gradient `g`:
///
/// ```text
/// if g g_prev > 0:  s = min(eta_plus s, max_step)
/// if g g_prev < 0:  s = max(eta_minus s, min_step);  g = 0
/// p = p - lr sign(g) s          (sign(0) = 0)
/// g_prev = g
/// ```
///
/// Only the signs of the gradients matter: a step size grows while its
/// gradient keeps its sign and shrinks when it changes. After a change the
/// gradient is forgotten (`g = 0`): that parameter does not move in this
/// step, and in the next one `g g_prev = 0`, so its step size neither grows
/// nor shrinks again (the "−" of iRPROP−: no weight backtracking). The
/// signs are compared, not multiplied, so two tiny gradients whose product
/// would underflow to 0 still count as the same sign. `lr` is `1` in the
/// published rule (see [`IRpropConfig::learning_rate`]).
///
/// Differences from FANN's `fann_update_weights_irpropm`: FANN also grows
/// the step size when `g g_prev = 0` (this follows the paper, which keeps
/// it), and bounds the step sizes below by `1e-4` rather than `min_step`.
///
/// Rprop is a full-batch method: compute the gradients over the whole
/// training set for every step. On mini-batches the signs change from batch
/// to batch and the step sizes shrink towards `min_step`.
///
/// State: the previous gradients `g_prev` and the step sizes `s`, each a
/// value of the gradients' type `G`: `2 x P x size_of::<T>()` bytes for `P`
/// parameters (`G::PARAMETERS`), fixed at compile time.
#[derive(Clone, Debug, PartialEq)]
pub struct IRpropMinus<T: Scalar, G> {
    /// The hyperparameters; may be changed between steps.
    pub config: IRpropConfig<T>,
    /// The gradients `g_prev` of the previous step (0 where its sign
    /// changed, and before the first step).
    pub previous_gradients: G,
    /// The step size `s` of each parameter.
    pub step_sizes: G,
}

/// Sets every value of `values` to `value`.
fn fill<T: Scalar, G: Parameters<T>>(values: &mut G, value: T) {
    for slice in values.slices_mut() {
        slice.fill(value);
    }
}

impl<T: Scalar, G: Gradients<T>> IRpropMinus<T, G> {
    /// An optimizer that has taken no step: `g_prev = 0` and every step size
    /// at `config.initial_step`.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] of [`IRpropConfig::validate`].
    pub fn new(config: IRpropConfig<T>) -> Result<Self, ConfigError> {
        config.validate()?;
        let mut step_sizes = G::zeros();
        fill(&mut step_sizes, config.initial_step);
        Ok(IRpropMinus {
            config,
            previous_gradients: G::zeros(),
            step_sizes,
        })
    }
}

#[cfg(feature = "alloc")]
impl<T: Scalar + Zeroable, G: Gradients<T> + Zeroable> IRpropMinus<T, G> {
    /// Like [`IRpropMinus::new`], built directly on the heap: zeroed there,
    /// then each step size set to `config.initial_step` in place.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] of [`IRpropConfig::validate`], before anything
    /// is allocated.
    pub fn new_boxed(config: IRpropConfig<T>) -> Result<alloc::boxed::Box<Self>, ConfigError> {
        config.validate()?;
        let mut optimizer = crate::boxed_zeroed::<Self>();
        optimizer.config = config;
        fill(&mut optimizer.step_sizes, config.initial_step);
        Ok(optimizer)
    }
}

// SAFETY: every field is `Zeroable`, so the all-zero bit pattern is a valid
// `IRpropMinus`. (Zero step sizes and a zero configuration are valid values,
// not useful ones: a step refuses that configuration, and `new_boxed` sets
// the configuration and the step sizes before it returns.)
unsafe impl<T: Scalar + Zeroable, G: Zeroable> Zeroable for IRpropMinus<T, G> {}

/// The rule for one parameter: its new value, the gradient to remember
/// (`g`, or 0 after a sign change) and its new step size.
#[inline(always)]
fn update<T: Scalar>(config: &IRpropConfig<T>, p: T, g: T, previous: T, step: T) -> (T, T, T) {
    let zero = T::zero();
    let (positive, negative) = (g > zero, g < zero);
    let (was_positive, was_negative) = (previous > zero, previous < zero);
    let (g, step) = if (positive && was_positive) || (negative && was_negative) {
        let grown = step * config.eta_plus;
        let step = if grown < config.max_step {
            grown
        } else {
            config.max_step
        };
        (g, step)
    } else if (positive && was_negative) || (negative && was_positive) {
        let shrunk = step * config.eta_minus;
        let step = if shrunk > config.min_step {
            shrunk
        } else {
            config.min_step
        };
        (zero, step)
    } else {
        (g, step)
    };
    let delta = config.learning_rate * step;
    let p = if g > zero {
        p - delta
    } else if g < zero {
        p + delta
    } else {
        p
    };
    (p, g, step)
}

impl<T: Scalar, G: Parameters<T>> IRpropMinus<T, G> {
    /// One iRPROP− step.
    ///
    /// The gradients must be those of `P` (`G: GradientsOf<P>`, as a
    /// network's gradients type is of that network): another network's are
    /// a compile error.
    ///
    /// # Errors
    ///
    /// As for every optimizer ([`StepError::InvalidConfig`],
    /// [`StepError::ShapeMismatch`], [`StepError::NonFiniteGradient`]), and
    /// [`StepError::NonFiniteUpdate`] if a new parameter or step size would
    /// be NaN or infinite (a parameter near the largest finite value with a
    /// large step, a huge `lr`, or a parameter that is already NaN). Nothing
    /// changes on error: neither the parameters nor the state.
    pub fn step<P: Parameters<T>>(
        &mut self,
        parameters: &mut P,
        gradients: &G,
    ) -> Result<(), StepError>
    where
        G: GradientsOf<P>,
    {
        self.apply(parameters, gradients)
    }

    /// [`Self::step`] without the tie of the gradients' type to the
    /// parameters' (their shapes are still checked at run time), for
    /// [`Optimizer::step`].
    fn apply<P: Parameters<T>>(
        &mut self,
        parameters: &mut P,
        gradients: &G,
    ) -> Result<(), StepError> {
        self.config.validate().map_err(StepError::InvalidConfig)?;
        check_step(
            parameters,
            gradients,
            &[&self.previous_gradients, &self.step_sizes],
        )?;
        let config = self.config;
        // The exact update of every parameter must be finite before any is
        // written: the rule is a few comparisons, cheap beside the gradients
        // it follows, so no bound is tried first.
        let finite = update_is_finite(
            parameters,
            gradients,
            [&self.previous_gradients, &self.step_sizes],
            |p, g, [previous, step]| {
                let (p, previous, step) = update(&config, p, g, previous, step);
                (p, [previous, step])
            },
        );
        if !finite {
            return Err(StepError::NonFiniteUpdate);
        }
        let state = self
            .previous_gradients
            .slices_mut()
            .zip(self.step_sizes.slices_mut());
        let slices = parameters.slices_mut().zip(gradients.slices()).zip(state);
        for ((p, g), (previous, step)) in slices {
            let elements = p.iter_mut().zip(g).zip(previous.iter_mut().zip(step));
            for ((p, &g), (previous, step)) in elements {
                (*p, *previous, *step) = update(&config, *p, g, *previous, *step);
            }
        }
        Ok(())
    }
}

impl<T: Scalar, G: Parameters<T>> Optimizer<T, G> for IRpropMinus<T, G> {
    fn step<P: Parameters<T>>(&mut self, parameters: &mut P, gradients: &G) -> Result<(), StepError>
    where
        G: GradientsOf<P>,
    {
        self.apply(parameters, gradients)
    }

    /// The step factor [`IRpropConfig::learning_rate`] (`1` by default).
    fn learning_rate(&self) -> T {
        self.config.learning_rate
    }

    /// Sets the step factor [`IRpropConfig::learning_rate`]: every step is
    /// `lr s`, while the step sizes `s` adapt as before.
    fn set_learning_rate(&mut self, learning_rate: T) {
        self.config.learning_rate = learning_rate;
    }

    /// Forgets the previous gradients (`g_prev = 0`) and sets every step size
    /// back to `config.initial_step`.
    fn reset(&mut self) {
        self.previous_gradients.fill_zero();
        fill(&mut self.step_sizes, self.config.initial_step);
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use crate::optim::test_util::{Other, Tiny, assert_close, values};

    fn bits(t: &Tiny) -> [u64; 3] {
        values(t).map(f64::to_bits)
    }

    /// Every value of the parameters and the state, bit for bit.
    fn snapshot(p: &Tiny, opt: &IRpropMinus<f64, Tiny>) -> [[u64; 3]; 3] {
        [
            bits(p),
            bits(&opt.previous_gradients),
            bits(&opt.step_sizes),
        ]
    }

    #[test]
    fn defaults_are_the_published_ones() {
        let c = IRpropConfig::<f64>::new();
        assert_eq!(
            (c.eta_plus, c.eta_minus, c.min_step, c.max_step),
            (1.2, 0.5, 1e-6, 50.0)
        );
        assert_eq!((c.initial_step, c.learning_rate), (0.1, 1.0));
        assert_eq!(IRpropConfig::<f64>::default(), c);
        let opt = IRpropMinus::<f64, Tiny>::new(c).unwrap();
        assert_eq!(values(&opt.step_sizes), [0.1; 3]);
        assert_eq!(values(&opt.previous_gradients), [0.0; 3]);
    }

    /// Seven steps with the default factors. Each parameter's expected step
    /// size and value, worked out by hand from the rule:
    ///
    /// - `a` (from 1): `+ + + - + 0 +`. The sizes grow 0.1 (the first step,
    ///   `g_prev = 0`), 0.12, 0.144; the sign change halves it to 0.072 with
    ///   no move; after it `g_prev = 0`, so the size stays 0.072 for the
    ///   following `+`, the `0` (no move) and the `+` after the `0`.
    /// - `b` (from -2): `- - + + + - -`: moves up 0.1, 0.12, holds (size
    ///   0.06), down 0.06, 0.072, holds (0.036), up 0.036.
    /// - `c` (from 0.5): `0, then 1e-200 three times, then -1e-200, 0, 0`.
    ///   The product of two `1e-200` underflows to 0, yet the signs agree,
    ///   so the size grows.
    #[test]
    fn steps_follow_the_published_rule_on_scripted_signs() {
        let gradients = [
            [2.0, -1.0, 0.0],
            [0.5, -1.0, 1e-200],
            [1e-3, 3.0, 1e-200],
            [-4.0, 1.0, 1e-200],
            [1.0, 250.0, -1e-200],
            [0.0, -1.0, 0.0],
            [3.0, -1e-3, 0.0],
        ];
        let sizes = [
            [0.1, 0.1, 0.1],
            [0.12, 0.12, 0.1],
            [0.144, 0.06, 0.12],
            [0.072, 0.06, 0.144],
            [0.072, 0.072, 0.072],
            [0.072, 0.036, 0.072],
            [0.072, 0.036, 0.072],
        ];
        let parameters = [
            [0.9, -1.9, 0.5],
            [0.78, -1.78, 0.4],
            [0.636, -1.78, 0.28],
            [0.636, -1.84, 0.136],
            [0.564, -1.912, 0.136],
            [0.564, -1.912, 0.136],
            [0.492, -1.876, 0.136],
        ];
        // `g`, or 0 after a change of sign.
        let remembered = [
            [2.0, -1.0, 0.0],
            [0.5, -1.0, 1e-200],
            [1e-3, 0.0, 1e-200],
            [0.0, 1.0, 1e-200],
            [1.0, 250.0, 0.0],
            [0.0, 0.0, 0.0],
            [3.0, -1e-3, 0.0],
        ];
        let mut p = Tiny([1.0, -2.0], [0.5]);
        let mut opt = IRpropMinus::<f64, Tiny>::new(IRpropConfig::new()).unwrap();
        for (step, g) in gradients.iter().enumerate() {
            opt.step(&mut p, &Tiny([g[0], g[1]], [g[2]])).unwrap();
            assert_close(values(&opt.step_sizes), sizes[step]);
            assert_close(values(&p), parameters[step]);
            assert_eq!(values(&opt.previous_gradients), remembered[step]);
        }
    }

    /// With `eta_plus = 2`, `eta_minus = 0.5` and sizes in `[0.01, 0.3]`:
    /// `a` keeps its sign and its size stops at 0.3; `b` alternates, so it
    /// shrinks every other step (a sign change, then a step from
    /// `g_prev = 0`) and stops at 0.01; `c` has no gradient and never moves.
    #[test]
    fn step_sizes_stop_at_their_bounds() {
        let config = IRpropConfig::new()
            .with_factors(2.0, 0.5)
            .with_step_bounds(0.01, 0.3);
        let mut opt = IRpropMinus::<f64, Tiny>::new(config).unwrap();
        let mut p = Tiny([0.0, 0.0], [0.25]);
        let a_sizes = [0.1, 0.2, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3];
        let a_values = [-0.1, -0.3, -0.6, -0.9, -1.2, -1.5, -1.8, -2.1, -2.4, -2.7];
        let b_sizes = [
            0.1, 0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125, 0.01, 0.01, 0.01,
        ];
        let b_values = [
            0.1, 0.1, 0.15, 0.15, 0.175, 0.175, 0.1875, 0.1875, 0.1975, 0.1975,
        ];
        for step in 0..10 {
            let b = if step % 2 == 0 { -1.0 } else { 1.0 };
            opt.step(&mut p, &Tiny([1.0, b], [0.0])).unwrap();
            assert_close(values(&opt.step_sizes), [a_sizes[step], b_sizes[step], 0.1]);
            assert_close(values(&p), [a_values[step], b_values[step], 0.25]);
        }
    }

    #[test]
    fn a_sign_change_holds_the_parameter_and_the_next_step_does_not_shrink() {
        let mut p = Tiny([1.0, 1.0], [1.0]);
        let mut opt = IRpropMinus::<f64, Tiny>::new(IRpropConfig::new()).unwrap();
        opt.step(&mut p, &Tiny([1.0, 1.0], [1.0])).unwrap();
        opt.step(&mut p, &Tiny([1.0, 1.0], [1.0])).unwrap();
        let held = bits(&p);
        // Every sign changes: no parameter moves, every size halves.
        opt.step(&mut p, &Tiny([-1.0, -2.0], [-3.0])).unwrap();
        assert_eq!(bits(&p), held);
        assert_close(values(&opt.step_sizes), [0.06; 3]);
        assert_eq!(values(&opt.previous_gradients), [0.0; 3]);
        // The opposite sign again: a move of the halved size, no new shrink.
        opt.step(&mut p, &Tiny([1.0, 1.0], [1.0])).unwrap();
        assert_close(values(&opt.step_sizes), [0.06; 3]);
        assert_close(values(&p), [1.0 - 0.22 - 0.06; 3]);
    }

    #[test]
    fn the_step_factor_scales_moves_not_step_sizes() {
        let mut p = Tiny([1.0, -2.0], [0.5]);
        let mut opt = IRpropMinus::<f64, Tiny>::new(IRpropConfig::new()).unwrap();
        assert_eq!(opt.learning_rate(), 1.0);
        opt.set_learning_rate(0.5);
        assert_eq!(opt.config.learning_rate, 0.5);
        let g = Tiny([1.0, -1.0], [0.0]);
        opt.step(&mut p, &g).unwrap();
        opt.step(&mut p, &g).unwrap();
        assert_close(values(&opt.step_sizes), [0.12, 0.12, 0.1]);
        assert_close(values(&p), [1.0 - 0.11, -2.0 + 0.11, 0.5]);
    }

    #[test]
    fn a_non_finite_gradient_changes_nothing() {
        let mut p = Tiny([1.0, -2.0], [0.5]);
        let mut opt = IRpropMinus::<f64, Tiny>::new(IRpropConfig::new()).unwrap();
        opt.step(&mut p, &Tiny([0.1, -0.2], [0.3])).unwrap();
        opt.step(&mut p, &Tiny([-0.1, -0.2], [0.0])).unwrap();
        let before = snapshot(&p, &opt);
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e200] {
            let g = Tiny([0.1, 0.2], [bad]);
            assert_eq!(opt.step(&mut p, &g), Err(StepError::NonFiniteGradient));
            assert_eq!(snapshot(&p, &opt), before);
        }
    }

    #[test]
    fn mismatched_shapes_change_nothing() {
        let mut p = Other([1.0], [2.0, 3.0]);
        let mut opt = IRpropMinus::<f64, Tiny>::new(IRpropConfig::new()).unwrap();
        let state = opt.clone();
        assert_eq!(
            // `apply`: `step` itself refuses these at compile time.
            opt.apply(&mut p, &Tiny([1.0, 1.0], [1.0])),
            Err(StepError::ShapeMismatch)
        );
        assert_eq!((p, opt), (Other([1.0], [2.0, 3.0]), state));
    }

    fn bad_configs() -> [(IRpropConfig<f64>, ConfigError); 14] {
        let c = IRpropConfig::<f64>::new();
        [
            (c.with_learning_rate(-1.0), ConfigError::LearningRate(-1.0)),
            (
                c.with_learning_rate(f64::INFINITY),
                ConfigError::LearningRate(f64::INFINITY),
            ),
            (c.with_factors(1.2, 1.0), ConfigError::EtaMinus(1.0)),
            (c.with_factors(1.2, 0.0), ConfigError::EtaMinus(0.0)),
            (
                c.with_factors(1.2, f64::NAN),
                ConfigError::EtaMinus(f64::NAN),
            ),
            (c.with_factors(1.0, 0.5), ConfigError::EtaPlus(1.0)),
            (
                c.with_factors(f64::INFINITY, 0.5),
                ConfigError::EtaPlus(f64::INFINITY),
            ),
            (c.with_step_bounds(0.0, 50.0), ConfigError::MinStep(0.0)),
            (c.with_step_bounds(-1e-6, 50.0), ConfigError::MinStep(-1e-6)),
            (
                c.with_step_bounds(1e-6, f64::INFINITY),
                ConfigError::MaxStep(f64::INFINITY),
            ),
            (c.with_step_bounds(0.2, 0.1), ConfigError::MaxStep(0.1)),
            (c.with_initial_step(60.0), ConfigError::InitialStep(60.0)),
            (c.with_initial_step(1e-7), ConfigError::InitialStep(1e-7)),
            (
                c.with_initial_step(f64::NAN),
                ConfigError::InitialStep(f64::NAN),
            ),
        ]
    }

    #[test]
    fn invalid_configs_are_refused_by_new_and_by_step() {
        // Compared as text: a NaN is not equal to itself.
        let text = |v: &dyn core::fmt::Debug| std::format!("{v:?}");
        for (config, expected) in bad_configs() {
            assert_eq!(
                config.validate().map_err(|e| text(&e)),
                Err(text(&expected))
            );
            let built = IRpropMinus::<f64, Tiny>::new(config);
            assert_eq!(
                built.map(|_| ()).map_err(|e| text(&e)),
                Err(text(&expected))
            );

            let mut p = Tiny([1.0, -2.0], [0.5]);
            let mut opt = IRpropMinus::<f64, Tiny>::new(IRpropConfig::new()).unwrap();
            opt.step(&mut p, &Tiny([0.1, 0.2], [-0.3])).unwrap();
            let before = snapshot(&p, &opt);
            opt.config = config;
            let result = opt.step(&mut p, &Tiny([0.1, -0.2], [-0.3]));
            assert_eq!(
                result.map_err(|e| text(&e)),
                Err(text(&StepError::InvalidConfig(expected)))
            );
            assert_eq!(snapshot(&p, &opt), before, "{expected:?}");
        }
    }

    #[test]
    fn an_update_that_would_overflow_changes_nothing() {
        // A valid, if extreme, configuration: the first step is 1e300.
        let config = IRpropConfig::new()
            .with_step_bounds(1e-6, 1e300)
            .with_initial_step(1e300);
        let mut opt = IRpropMinus::<f64, Tiny>::new(config).unwrap();
        // f64::MAX - 1e300 is finite: the check is exact, not a bound.
        let mut p = Tiny([f64::MAX, 1.0], [-1.0]);
        opt.step(&mut p, &Tiny([1.0, 0.0], [0.0])).unwrap();
        assert_eq!(values(&p), [f64::MAX - 1e300, 1.0, -1.0]);
        // From the start again, `a` would go past f64::MAX; `c` alone could
        // move.
        let mut opt = IRpropMinus::<f64, Tiny>::new(config).unwrap();
        let mut p = Tiny([f64::MAX, 1.0], [-1.0]);
        let before = snapshot(&p, &opt);
        assert_eq!(
            opt.step(&mut p, &Tiny([-1.0, 0.0], [1.0])),
            Err(StepError::NonFiniteUpdate)
        );
        assert_eq!(snapshot(&p, &opt), before);

        // With the defaults, a huge factor `lr` does the same.
        let mut opt = IRpropMinus::<f64, Tiny>::new(IRpropConfig::new()).unwrap();
        opt.set_learning_rate(f64::MAX);
        // 0.1 f64::MAX: finite, but not once added to 1.7e308.
        let mut p = Tiny([1.0, 2.0], [1.7e308]);
        let before = snapshot(&p, &opt);
        assert_eq!(
            opt.step(&mut p, &Tiny([0.0, 0.0], [-1.0])),
            Err(StepError::NonFiniteUpdate)
        );
        assert_eq!(snapshot(&p, &opt), before);
        // A NaN parameter would stay NaN: refused too.
        let mut p = Tiny([f64::NAN, 2.0], [3.0]);
        opt.set_learning_rate(1.0);
        assert_eq!(
            opt.step(&mut p, &Tiny([0.0, 1.0], [1.0])),
            Err(StepError::NonFiniteUpdate)
        );
        assert_eq!(values(&p)[1..], [2.0, 3.0]);
        assert_eq!(
            std::format!("{}", StepError::NonFiniteUpdate),
            "the update would make a parameter NaN or infinite; the parameters were not changed"
        );
    }

    #[test]
    fn reset_restores_the_initial_state() {
        let config = IRpropConfig::new().with_initial_step(0.25);
        let mut opt = IRpropMinus::<f64, Tiny>::new(config).unwrap();
        let fresh = opt.clone();
        let mut p = Tiny([1.0, -2.0], [0.5]);
        for g in [1.0, 1.0, -1.0, 1.0] {
            opt.step(&mut p, &Tiny([g, -g], [g])).unwrap();
        }
        assert_ne!(opt, fresh);
        opt.reset();
        assert_eq!(opt, fresh);
        assert_eq!(values(&opt.step_sizes), [0.25; 3]);
    }

    #[test]
    fn state_is_two_values_per_parameter() {
        let opt = IRpropMinus::<f64, Tiny>::new(IRpropConfig::new()).unwrap();
        let state = size_of_val(&opt.previous_gradients) + size_of_val(&opt.step_sizes);
        assert_eq!(state, 2 * 3 * 8);
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn boxed_construction_matches_new() {
        let config = IRpropConfig::new().with_initial_step(0.5);
        let boxed = IRpropMinus::<f64, Tiny>::new_boxed(config).unwrap();
        assert_eq!(*boxed, IRpropMinus::new(config).unwrap());
        let bad = config.with_initial_step(100.0);
        assert_eq!(
            IRpropMinus::<f64, Tiny>::new_boxed(bad).map(|_| ()),
            Err(ConfigError::InitialStep(100.0))
        );
    }
}
