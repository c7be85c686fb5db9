//! Adam and AdamW.

use super::{
    ConfigError, Largest, Optimizer, StepError, bounded, check_step, decay, flush_subnormal,
    largest, non_negative, positive, update_is_finite,
};
use crate::power::power;
use crate::wide::widest;
use crate::{Gradients, GradientsOf, Parameters, Scalar, Zeroable};

/// The hyperparameters of [`Adam`]; the defaults are PyTorch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig<T: Scalar> {
    /// The step size `lr` (default `1e-3`).
    pub learning_rate: T,
    /// The decay `beta1` of the first-moment estimate (default `0.9`).
    ///
    /// The decays are kept in `f64` whatever `T` is: `1 - beta` and the
    /// bias corrections `1 - beta^t` are formed in `f64` and rounded to `T`
    /// once, as PyTorch does (in `f32`, `1 - 0.999` formed in `f32` is
    /// `1.3e-5` off).
    pub beta1: f64,
    /// The decay `beta2` of the second-moment estimate (default `0.999`).
    pub beta2: f64,
    /// `eps`, added to `sqrt(v_hat)` (default `1e-8`).
    pub epsilon: T,
    /// The weight decay `wd` (default `0` for Adam, `0.01` for AdamW).
    pub weight_decay: T,
    /// `true` for AdamW: the decay shrinks the weights directly,
    /// `p -= lr wd p`, instead of being added to the gradient as an L2 term.
    pub decoupled_weight_decay: bool,
}

impl<T: Scalar> AdamConfig<T> {
    /// Adam (Kingma and Ba, 2015) with PyTorch's defaults and the given step size.
    pub fn adam(learning_rate: T) -> Self {
        AdamConfig {
            learning_rate,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: T::constant(1e-8),
            weight_decay: T::zero(),
            decoupled_weight_decay: false,
        }
    }

    /// AdamW (Loshchilov and Hutter, 2019) with PyTorch's defaults:
    /// decoupled weight decay `0.01`.
    pub fn adamw(learning_rate: T) -> Self {
        AdamConfig {
            weight_decay: T::constant(0.01),
            decoupled_weight_decay: true,
            ..Self::adam(learning_rate)
        }
    }

    /// The same configuration with another weight decay.
    pub fn with_weight_decay(self, weight_decay: T) -> Self {
        AdamConfig {
            weight_decay,
            ..self
        }
    }

    /// The same configuration with other moment decays.
    pub fn with_betas(self, beta1: f64, beta2: f64) -> Self {
        AdamConfig {
            beta1,
            beta2,
            ..self
        }
    }

    /// Checks the hyperparameters: a finite learning rate and weight decay,
    /// each at least 0, both betas in `[0, 1)` and a finite `epsilon` above
    /// 0 (`beta1 = 1` or `epsilon = 0` would make the update NaN).
    /// [`Adam::new`] checks them, and so does every step, before it changes
    /// anything.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`].
    #[inline]
    pub fn validate(&self) -> Result<(), ConfigError> {
        non_negative(self.learning_rate, ConfigError::LearningRate)?;
        decay(self.beta1, ConfigError::Beta1)?;
        decay(self.beta2, ConfigError::Beta2)?;
        positive(self.epsilon, ConfigError::Epsilon)?;
        non_negative(self.weight_decay, ConfigError::WeightDecay)
    }
}

/// What [`Adam`] remembers between steps: two values per parameter and a
/// step counter.
#[derive(Clone, Debug, PartialEq)]
#[repr(C)]
pub struct AdamState<G> {
    /// The first-moment estimate `m`.
    pub m: G,
    /// The second-moment estimate `v`.
    pub v: G,
    /// The number of successful steps `t`.
    pub t: u64,
}

/// Adam and AdamW, as in PyTorch's `torch.optim.Adam` and `AdamW`:
///
/// ```text
/// t = t + 1
/// p = p - lr wd p          (AdamW only)
/// g = g + wd p             (Adam only)
/// m = beta1 m + (1 - beta1) g
/// v = beta2 v + (1 - beta2) g^2
/// p = p - lr m_hat / (sqrt(v_hat) + eps)
/// ```
///
/// with the bias corrections `m_hat = m / (1 - beta1^t)` and
/// `v_hat = v / (1 - beta2^t)`. A subnormal `m` or `v` is stored as 0: a
/// moment that decays once its gradient stops (a ReLU unit that died) would
/// otherwise stay subnormal for good, and make every later step slow on CPUs
/// that compute subnormals with a microcode assist (4 times slower training
/// of workload B on a Xeon). State: [`AdamState`], `2 x` the parameters plus
/// the counter.
#[derive(Clone, Debug, PartialEq)]
pub struct Adam<T: Scalar, G> {
    /// The hyperparameters; may be changed between steps.
    pub config: AdamConfig<T>,
    /// The moment estimates and the step counter.
    pub state: AdamState<G>,
}

impl<T: Scalar, G: Gradients<T>> Adam<T, G> {
    /// An optimizer with zero moments.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] that [`AdamConfig::validate`] finds: nothing
    /// is built from settings no step could use.
    pub fn new(config: AdamConfig<T>) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Adam {
            config,
            state: AdamState {
                m: G::zeros(),
                v: G::zeros(),
                t: 0,
            },
        })
    }
}

#[cfg(feature = "alloc")]
impl<T: Scalar + Zeroable, G: Zeroable> Adam<T, G> {
    /// Like [`Adam::new`], built directly on the heap: the moments of a large
    /// network never pass through the stack.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] that [`AdamConfig::validate`] finds: nothing
    /// is built from settings no step could use.
    pub fn new_boxed(config: AdamConfig<T>) -> Result<alloc::boxed::Box<Self>, ConfigError> {
        config.validate()?;
        let mut optimizer = crate::boxed_zeroed::<Self>();
        optimizer.config = config;
        Ok(optimizer)
    }
}

// SAFETY: every field is `Zeroable` (`u64` and `bool` are valid when zero),
// so the all-zero bit pattern is a valid `AdamState` and a valid `Adam`.
unsafe impl<G: Zeroable> Zeroable for AdamState<G> {}
// SAFETY: as above.
unsafe impl<T: Scalar + Zeroable, G: Zeroable> Zeroable for Adam<T, G> {}

impl<T: Scalar, G: Parameters<T>> Adam<T, G> {
    /// Applies one update, as [`Optimizer::step`] does (callable without
    /// the trait in scope, and with the gradients' type tied to the
    /// optimizer's, as [`Sgd::step`](crate::Sgd::step) is called).
    ///
    /// The gradients must be those of `P` (`G: GradientsOf<P>`, as a
    /// network's gradients type is of that network): another network's are
    /// a compile error.
    ///
    /// # Errors
    ///
    /// See [`Optimizer::step`]: on error nothing changes.
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
        let AdamState { m, v, t } = &mut self.state;
        let Largest {
            parameter: largest_parameter,
            gradient: largest_gradient,
        } = check_step(parameters, gradients, &[m, v])?;
        let AdamConfig {
            learning_rate: lr,
            beta1,
            beta2,
            epsilon: eps,
            weight_decay: wd,
            decoupled_weight_decay: decoupled,
        } = self.config;
        let step = t.saturating_add(1);
        // The constants in f64, each rounded to `T` once, as PyTorch forms
        // them.
        let bias_correction1 = 1.0 - power(beta1, step);
        let bias_correction2_sqrt = libm::sqrt(1.0 - power(beta2, step));
        let step_size = T::constant(lr.to_f64() / bias_correction1);
        // `sqrt(v_hat) = sqrt(v) / sqrt(1 - beta2^t)`: a multiplication by the
        // reciprocal, so that an element costs one division, not two (the
        // divisions were most of the update's time). PyTorch divides; the
        // results differ by rounding only.
        let inverse_correction2 = T::constant(1.0 / bias_correction2_sqrt);
        let (keep1, keep2) = (T::constant(beta1), T::constant(beta2));
        let (take1, take2) = (T::constant(1.0 - beta1), T::constant(1.0 - beta2));
        let shrink = T::one() - lr * wd;
        // The update of one parameter from its (possibly decayed) gradient.
        let update = move |p: T, g: T, m: T, v: T| {
            let m = flush_subnormal(keep1 * m + take1 * g);
            let v = flush_subnormal(keep2 * v + take2 * g * g);
            (
                p - step_size * m / (v.fast_sqrt() * inverse_correction2 + eps),
                [m, v],
            )
        };
        let update_decoupled = move |p: T, g: T, [m, v]: [T; 2]| update(p * shrink, g, m, v);
        let update_coupled = move |p: T, g: T, [m, v]: [T; 2]| update(p, g + wd * p, m, v);

        // With D the largest decayed gradient and P' the largest decayed
        // parameter: |m'| <= M + D, |v'| <= V + D^2, and the denominator is
        // at least eps, so |p'| <= P' + step_size (M + D) / eps.
        let (d, decayed) = if decoupled {
            (largest_gradient, largest_parameter * (T::one() + lr * wd))
        } else {
            (largest_gradient + wd * largest_parameter, largest_parameter)
        };
        let largest_m = largest(m);
        let bound =
            d * d + largest(v) + largest_m + d + decayed + step_size * (largest_m + d) / eps;
        if !bounded(bound) {
            let finite = if decoupled {
                update_is_finite(parameters, gradients, [&*m, &*v], update_decoupled)
            } else {
                update_is_finite(parameters, gradients, [&*m, &*v], update_coupled)
            };
            if !finite {
                return Err(StepError::NonFiniteUpdate);
            }
        }

        let slices = parameters
            .slices_mut()
            .zip(gradients.slices())
            .zip(m.slices_mut().zip(v.slices_mut()));
        // The update compiled for the CPU's widest vectors, the constants
        // owned by the closures (see `widest`).
        widest(
            #[inline(always)]
            move || {
                for ((p, g), (m, v)) in slices {
                    let elements = p.iter_mut().zip(g).zip(m.iter_mut().zip(v));
                    // One loop per kind of decay, each free of branches, so that
                    // both vectorise.
                    if decoupled {
                        for ((p, &g), (m, v)) in elements {
                            (*p, [*m, *v]) = update_decoupled(*p, g, [*m, *v]);
                        }
                    } else {
                        for ((p, &g), (m, v)) in elements {
                            (*p, [*m, *v]) = update_coupled(*p, g, [*m, *v]);
                        }
                    }
                }
            },
        );
        *t = step;
        Ok(())
    }
}

impl<T: Scalar, G: Parameters<T>> Optimizer<T, G> for Adam<T, G> {
    fn step<P: Parameters<T>>(&mut self, parameters: &mut P, gradients: &G) -> Result<(), StepError>
    where
        G: GradientsOf<P>,
    {
        self.apply(parameters, gradients)
    }

    fn learning_rate(&self) -> T {
        self.config.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: T) {
        self.config.learning_rate = learning_rate;
    }

    fn reset(&mut self) {
        self.state.m.fill_zero();
        self.state.v.fill_zero();
        self.state.t = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::test_util::{Pair, Tiny, assert_close, assert_state_decays_to_zero, values};

    /// In `f32`, `1 - beta` is formed in `f64` and rounded once, as PyTorch
    /// forms it: after one step from zero with `g = 1`, `m = 1 - beta1` and
    /// `v = 1 - beta2` are the `f32` nearest `0.1` and `0.001` (formed in
    /// `f32`, `1 - 0.999` is `1.3e-5` off).
    #[test]
    fn f32_constants_are_formed_in_f64() {
        let mut adam = Adam::<f32, Pair>::new(AdamConfig::adam(1e-3)).unwrap();
        let mut p = Pair([0.5, -0.5]);
        adam.step(&mut p, &Pair([1.0, 1.0])).unwrap();
        assert_eq!(adam.state.m.0, [0.1f32; 2]);
        assert_eq!(adam.state.v.0, [0.001f32; 2]);
        // The first step moves each parameter by lr (m_hat / sqrt(v_hat) = 1).
        assert!((p.0[0] - (0.5 - 1e-3)).abs() < 1e-7, "{:?}", p.0);
    }

    /// The published rule, written out for one scalar.
    fn reference(p: f64, g: f64, m: f64, v: f64, t: i32, c: &AdamConfig<f64>) -> [f64; 3] {
        let mut p = p;
        let mut g = g;
        if c.decoupled_weight_decay {
            p *= 1.0 - c.learning_rate * c.weight_decay;
        } else {
            g += c.weight_decay * p;
        }
        let m = c.beta1 * m + (1.0 - c.beta1) * g;
        let v = c.beta2 * v + (1.0 - c.beta2) * g * g;
        let m_hat = m / (1.0 - c.beta1.powi(t));
        let v_hat = v / (1.0 - c.beta2.powi(t));
        [
            p - c.learning_rate * m_hat / (v_hat.sqrt() + c.epsilon),
            m,
            v,
        ]
    }

    #[test]
    fn first_step_moves_each_weight_by_the_learning_rate() {
        // With bias correction, step 1 is p -= lr * g / (|g| + eps): a move of
        // almost exactly lr against the sign of g, whatever g's size.
        let mut p = Tiny([1.0, -2.0], [0.5]);
        let g = Tiny([0.1, -30.0], [1e-3]);
        let mut adam = Adam::<f64, Tiny>::new(AdamConfig::adam(0.01)).unwrap();
        adam.step(&mut p, &g).unwrap();
        let eps = 1e-8;
        assert_close(
            values(&p),
            [
                1.0 - 0.01 * 0.1 / (0.1 + eps),
                -2.0 + 0.01 * 30.0 / (30.0 + eps),
                0.5 - 0.01 * 1e-3 / (1e-3 + eps),
            ],
        );
        assert_close(values(&adam.state.m), [0.01, -3.0, 1e-4]);
        assert_close(values(&adam.state.v), [1e-5, 0.9, 1e-9]);
        assert_eq!(adam.state.t, 1);
    }

    #[test]
    fn three_steps_match_the_published_rule() {
        for config in [
            AdamConfig::adam(0.05).with_weight_decay(0.1),
            AdamConfig::adamw(0.05).with_weight_decay(0.1),
            AdamConfig::adam(0.05).with_betas(0.5, 0.75),
        ] {
            let mut p = Tiny([1.0, -2.0], [0.5]);
            let mut adam = Adam::<f64, Tiny>::new(config).unwrap();
            let mut expected = [[1.0, 0.0, 0.0], [-2.0, 0.0, 0.0], [0.5, 0.0, 0.0]];
            let grads = [[0.3, -0.2, 0.1], [0.5, 0.5, -1.0], [-0.1, 0.0, 0.7]];
            for (step, g) in grads.iter().enumerate() {
                adam.step(&mut p, &Tiny([g[0], g[1]], [g[2]])).unwrap();
                for (e, &g) in expected.iter_mut().zip(g) {
                    *e = reference(e[0], g, e[1], e[2], step as i32 + 1, &config);
                }
                assert_close(values(&p), expected.map(|e| e[0]));
                assert_close(values(&adam.state.m), expected.map(|e| e[1]));
                assert_close(values(&adam.state.v), expected.map(|e| e[2]));
            }
        }
    }

    #[test]
    fn adamw_decays_weights_without_gradient() {
        // With g = 0 only the decoupled decay acts: p *= 1 - lr wd.
        let mut p = Tiny([1.0, -2.0], [0.5]);
        let mut adamw = Adam::<f64, Tiny>::new(AdamConfig::adamw(0.1)).unwrap();
        adamw.step(&mut p, &Tiny::zeros()).unwrap();
        assert_close(values(&p), [0.999, -1.998, 0.4995]);
    }

    #[test]
    fn failed_step_changes_neither_weights_nor_state() {
        let mut p = Tiny([1.0, -2.0], [0.5]);
        let mut adam = Adam::<f64, Tiny>::new(AdamConfig::adam(0.01)).unwrap();
        adam.step(&mut p, &Tiny([0.1, 0.2], [0.3])).unwrap();
        let (p_before, state_before) = (p, adam.state.clone());
        for bad in [f64::NAN, f64::NEG_INFINITY, 1e200] {
            let g = Tiny([0.1, 0.2], [bad]);
            assert_eq!(adam.step(&mut p, &g), Err(StepError::NonFiniteGradient));
            assert_eq!(p, p_before);
            assert_eq!(adam.state, state_before);
        }
    }

    #[test]
    fn moments_without_gradient_decay_to_zero_through_no_subnormal() {
        let mut adam = Adam::<f32, Pair>::new(AdamConfig::adam(1e-3)).unwrap();
        let mut p = Pair([0.5, -0.5]);
        assert_state_decays_to_zero(100_000, |g| {
            adam.step(&mut p, g).unwrap();
            let AdamState { m, v, .. } = &adam.state;
            [m.0[0], m.0[1], v.0[0], v.0[1]]
        });
    }

    #[test]
    fn reset_forgets_the_moments() {
        let mut p = Tiny([1.0, -2.0], [0.5]);
        let mut adam = Adam::<f64, Tiny>::new(AdamConfig::adam(0.01)).unwrap();
        adam.step(&mut p, &Tiny([0.1, 0.2], [0.3])).unwrap();
        adam.reset();
        assert_eq!(
            adam.state,
            Adam::<f64, Tiny>::new(AdamConfig::adam(0.01))
                .unwrap()
                .state
        );
    }

    #[test]
    fn state_is_two_values_per_parameter_and_a_counter() {
        // `Tiny` holds 3 f64 parameters.
        assert_eq!(core::mem::size_of::<AdamState<Tiny>>(), 2 * 3 * 8 + 8);
    }
}
