//! Learning-rate schedules: the step size as a function of the epoch.

use crate::power::power;

/// How the learning rate changes from epoch to epoch, starting from a base
/// rate `lr0` at epoch 0 (the formulas are PyTorch's `lr_scheduler`s).
///
/// ```
/// use network_core::Schedule;
///
/// let cosine = Schedule::Cosine { epochs: 10, min_learning_rate: 0.0 };
/// assert_eq!(cosine.learning_rate(0.1, 0), 0.1);
/// assert!((cosine.learning_rate(0.1, 5) - 0.05).abs() < 1e-12);
/// assert_eq!(cosine.learning_rate(0.1, 10), 0.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Schedule {
    /// `lr = lr0` at every epoch.
    #[default]
    Constant,
    /// `lr = lr0 * factor^floor(epoch / every)`: multiplied by `factor` every
    /// `every` epochs (`StepLR`). `every = 0` means never.
    StepDecay {
        /// The number of epochs between two decays.
        every: usize,
        /// The factor applied at each decay, e.g. `0.1`.
        factor: f64,
    },
    /// `lr = lr0 * gamma^epoch` (`ExponentialLR`).
    Exponential {
        /// The factor applied every epoch, e.g. `0.95`.
        gamma: f64,
    },
    /// Cosine annealing from `lr0` down to `min_learning_rate` over `epochs`
    /// epochs, `lr = min + (lr0 - min) (1 + cos(pi * epoch / epochs)) / 2`
    /// (`CosineAnnealingLR`); it stays at the minimum after `epochs`.
    Cosine {
        /// The number of epochs to reach the minimum; `0` means no annealing.
        epochs: usize,
        /// The rate reached at the end.
        min_learning_rate: f64,
    },
}

impl Schedule {
    /// The learning rate at `epoch` (counted from 0) for the base rate `base`.
    pub fn learning_rate(&self, base: f64, epoch: usize) -> f64 {
        match *self {
            Schedule::Constant => base,
            Schedule::StepDecay { every, factor } => match epoch.checked_div(every) {
                Some(decays) => base * power(factor, decays as u64),
                None => base,
            },
            Schedule::Exponential { gamma } => base * power(gamma, epoch as u64),
            Schedule::Cosine {
                epochs,
                min_learning_rate: min,
            } => {
                if epochs == 0 {
                    return base;
                }
                let progress = epoch.min(epochs) as f64 / epochs as f64;
                min + (base - min) * cosine_weight(progress)
            }
        }
    }
}

/// `(1 + cos(pi p)) / 2` for `p` in `[0, 1]`, the share of the way from the
/// minimum rate back to the base rate, as `cos^2(pi p / 2)`, or as
/// `sin^2(pi (1 - p) / 2)` for `p > 1/2`.
///
/// Both arguments lie in `[0, pi/4]`, where Taylor series of 9 terms are
/// within half an ulp, so no range reduction is needed: `libm::cos`, whose
/// reduction serves arguments of any size, cost the Cortex-M4 `train`
/// firmware 5,600 B of flash and 328 B of its stack peak, for arguments
/// this schedule never passes. The squares also keep the
/// weight's relative accuracy near `p = 1`, where `1 + cos(pi p)` cancels.
fn cosine_weight(p: f64) -> f64 {
    let half_pi = core::f64::consts::FRAC_PI_2;
    if p <= 0.5 {
        let c = taylor(half_pi * p, &COS_TAYLOR);
        c * c
    } else {
        // `1 - p` is exact for `p` in `[1/2, 1]` (Sterbenz).
        let x = half_pi * (1.0 - p);
        let s = x * taylor(x, &SIN_TAYLOR);
        s * s
    }
}

/// `sum_k coefficients[k] x^(2k)`, by Horner's rule in `x^2`.
fn taylor(x: f64, coefficients: &[f64; 9]) -> f64 {
    let x2 = x * x;
    coefficients.iter().rev().fold(0.0, |sum, c| sum * x2 + c)
}

/// `cos x = sum_k (-1)^k x^(2k) / (2k)!`, to `x^16`: the first term left
/// out, `x^18 / 18!`, is below `2e-18` for `|x| <= pi/4`.
const COS_TAYLOR: [f64; 9] = [
    1.0,
    -1.0 / 2.0,
    1.0 / 24.0,
    -1.0 / 720.0,
    1.0 / 40_320.0,
    -1.0 / 3_628_800.0,
    1.0 / 479_001_600.0,
    -1.0 / 87_178_291_200.0,
    1.0 / 20_922_789_888_000.0,
];

/// `sin x / x = sum_k (-1)^k x^(2k) / (2k + 1)!`, to `x^16`: the first term
/// left out, `x^18 / 19!`, is below `1e-19` for `|x| <= pi/4`. (Every
/// factorial here is below `2^53`, so each coefficient is one rounding.)
const SIN_TAYLOR: [f64; 9] = [
    1.0,
    -1.0 / 6.0,
    1.0 / 120.0,
    -1.0 / 5_040.0,
    1.0 / 362_880.0,
    -1.0 / 39_916_800.0,
    1.0 / 6_227_020_800.0,
    -1.0 / 1_307_674_368_000.0,
    1.0 / 355_687_428_096_000.0,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn constant() {
        for epoch in [0, 1, 100] {
            assert_eq!(Schedule::Constant.learning_rate(0.3, epoch), 0.3);
        }
    }

    #[test]
    fn step_decay() {
        let s = Schedule::StepDecay {
            every: 3,
            factor: 0.5,
        };
        let rates: [f64; 7] = core::array::from_fn(|e| s.learning_rate(1.0, e));
        assert_eq!(rates, [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]);
        let never = Schedule::StepDecay {
            every: 0,
            factor: 0.5,
        };
        assert_eq!(never.learning_rate(1.0, 10), 1.0);
    }

    #[test]
    fn exponential() {
        let s = Schedule::Exponential { gamma: 0.9 };
        assert_eq!(s.learning_rate(0.1, 0), 0.1);
        assert!(close(s.learning_rate(0.1, 1), 0.09));
        assert!(close(s.learning_rate(0.1, 2), 0.081));
    }

    #[test]
    fn cosine() {
        let s = Schedule::Cosine {
            epochs: 4,
            min_learning_rate: 0.01,
        };
        let expected = |e: f64| 0.01 + 0.09 * (1.0 + (core::f64::consts::PI * e / 4.0).cos()) / 2.0;
        for e in 0..=4 {
            assert!(close(s.learning_rate(0.1, e), expected(e as f64)));
        }
        assert!(close(s.learning_rate(0.1, 2), 0.055));
        assert!(close(s.learning_rate(0.1, 9), 0.01));
        let flat = Schedule::Cosine {
            epochs: 0,
            min_learning_rate: 0.0,
        };
        assert_eq!(flat.learning_rate(0.1, 3), 0.1);
    }

    /// The weight against `std`'s cosine everywhere on `[0, 1]`, and against
    /// `std`'s sine near `p = 1`, where `1 + cos(pi p)` cancels and only a
    /// relative comparison tells.
    #[test]
    fn cosine_weight_is_accurate() {
        use core::f64::consts::{FRAC_PI_2, PI};
        let mut worst_absolute = 0.0_f64;
        for i in 0..=100_000 {
            let p = i as f64 / 100_000.0;
            let want = (1.0 + (PI * p).cos()) / 2.0;
            worst_absolute = worst_absolute.max((cosine_weight(p) - want).abs());
        }
        assert!(worst_absolute <= 3e-16, "{worst_absolute:e}");
        let mut worst_relative = 0.0_f64;
        for i in 0..=1000 {
            let p = 1.0 - i as f64 * 1e-6;
            let want = (FRAC_PI_2 * (1.0 - p)).sin().powi(2);
            if want > 0.0 {
                worst_relative = worst_relative.max((cosine_weight(p) - want).abs() / want);
            }
        }
        assert!(worst_relative <= 1e-15, "{worst_relative:e}");
        assert_eq!(cosine_weight(0.0), 1.0);
        assert_eq!(cosine_weight(1.0), 0.0);
        assert!((cosine_weight(0.5) - 0.5).abs() <= 2.0 * f64::EPSILON);
    }
}
