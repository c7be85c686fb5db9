//! Learning-rate schedules: the step size as a function of the epoch.

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
                Some(decays) => base * libm::pow(factor, decays as f64),
                None => base,
            },
            Schedule::Exponential { gamma } => base * libm::pow(gamma, epoch as f64),
            Schedule::Cosine {
                epochs,
                min_learning_rate: min,
            } => {
                if epochs == 0 {
                    return base;
                }
                let progress = epoch.min(epochs) as f64 / epochs as f64;
                min + (base - min) * (1.0 + libm::cos(core::f64::consts::PI * progress)) / 2.0
            }
        }
    }
}

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
}
