//! Hyperparameters no step can use are typed errors, when the optimizer or
//! the trainer is built and again at every step, before anything changes: a
//! NaN learning rate made `Sgd::step` return `Ok` with NaN weights, and
//! `epsilon = 0` or `beta1 = 1` did the same to Adam.

use network::prelude::*;
use network::{ConfigError, StepError};

network! {
    #[derive(Clone, Debug, PartialEq)]
    struct Line { input: 2, output: Dense<1, Identity> }
}

fn setup() -> (Line<f64>, LineGradients<f64>) {
    let net = Line::<f64>::random(1);
    let mut grads = LineGradients::zeros();
    let x = SMatrix::<f64, 2, 2>::new(1.0, 0.5, -1.0, 2.0);
    let t = SMatrix::<f64, 1, 2>::new(1.0, -1.0);
    net.loss_and_gradients::<HalfSquaredError>(&x, &t, &mut grads);
    (net, grads)
}

/// The same text, so that errors and states holding NaN compare.
fn same(a: impl core::fmt::Debug, b: impl core::fmt::Debug) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

/// `step` refuses `optimizer` with `expected` and leaves the network and
/// the optimizer as they were (compared as text: a NaN setting is not equal
/// to itself).
fn refused<O: Optimizer<f64, LineGradients<f64>> + Clone + core::fmt::Debug>(
    mut optimizer: O,
    expected: ConfigError,
) {
    let (mut net, grads) = setup();
    let (before, state) = (net.clone(), optimizer.clone());
    let result = optimizer.step(&mut net, &grads);
    assert!(
        same(result, Err::<(), _>(StepError::InvalidConfig(expected))),
        "{result:?}, expected {expected:?}"
    );
    assert_eq!(net, before, "{expected:?}: the parameters changed");
    assert!(
        same(&optimizer, &state),
        "{expected:?}: the optimizer's state changed"
    );
}

/// `result`, what a constructor returned, is the error `expected`.
fn refused_at_build<O: core::fmt::Debug>(result: Result<O, ConfigError>, expected: ConfigError) {
    assert!(
        same(&result, Err::<O, _>(expected)),
        "{result:?}, expected {expected:?}"
    );
}

/// `build` refuses `bad`, and an optimizer built from `good` whose settings
/// are then replaced by `bad` (its fields are public) refuses to step.
fn refused_at_build_and_step<C: Copy, O>(
    build: impl Fn(C) -> Result<O, ConfigError>,
    good: C,
    bad: C,
    replace: impl Fn(&mut O, C),
    expected: ConfigError,
) where
    O: Optimizer<f64, LineGradients<f64>> + Clone + core::fmt::Debug,
{
    refused_at_build(build(bad), expected);
    let mut optimizer = build(good).unwrap();
    replace(&mut optimizer, bad);
    refused(optimizer, expected);
}

#[test]
fn sgd_refuses_nan_negative_and_infinite_rates() {
    for rate in [f64::NAN, -0.1, f64::INFINITY] {
        let expected = ConfigError::LearningRate(rate);
        refused_at_build(Sgd::new(rate), expected);
        refused(
            Sgd {
                learning_rate: rate,
                weight_decay: 0.0,
            },
            expected,
        );
    }
    let expected = ConfigError::WeightDecay(-1.0);
    refused_at_build(Sgd::new(0.1).unwrap().with_weight_decay(-1.0), expected);
    refused(
        Sgd {
            learning_rate: 0.1,
            weight_decay: -1.0,
        },
        expected,
    );
    assert_eq!(Sgd::new(0.1).unwrap().validate(), Ok(()));
}

#[test]
fn momentum_refuses_a_momentum_outside_zero_to_one() {
    let good = MomentumConfig::new(0.1, 0.9);
    for (bad, expected) in [
        (MomentumConfig::new(0.1, 1.0), ConfigError::Momentum(1.0)),
        (
            MomentumConfig::nesterov(0.1, -0.5),
            ConfigError::Momentum(-0.5),
        ),
        (
            MomentumConfig::new(f64::NAN, 0.9),
            ConfigError::LearningRate(f64::NAN),
        ),
    ] {
        refused_at_build_and_step(
            Momentum::<f64, LineGradients<f64>>::new,
            good,
            bad,
            |optimizer, config| optimizer.config = config,
            expected,
        );
    }
}

#[test]
fn rmsprop_refuses_a_bad_alpha_or_epsilon() {
    let good = RmsPropConfig::new(0.01);
    for (bad, expected) in [
        (
            RmsPropConfig { alpha: 1.0, ..good },
            ConfigError::Alpha(1.0),
        ),
        (
            RmsPropConfig {
                epsilon: 0.0,
                ..good
            },
            ConfigError::Epsilon(0.0),
        ),
    ] {
        refused_at_build_and_step(
            RmsProp::<f64, LineGradients<f64>>::new,
            good,
            bad,
            |optimizer, config| optimizer.config = config,
            expected,
        );
    }
}

#[test]
fn irprop_refuses_bad_factors_and_step_bounds_in_new_and_in_step() {
    let config = IRpropConfig::<f64>::new();
    // Built valid, then given the bad configuration, as a caller may set
    // `config` between steps.
    let with = |bad: IRpropConfig<f64>| {
        let mut rprop = IRpropMinus::<f64, LineGradients<f64>>::new(config).unwrap();
        rprop.config = bad;
        rprop
    };
    let cases = [
        (config.with_factors(1.0, 0.5), ConfigError::EtaPlus(1.0)),
        (config.with_factors(1.2, 1.5), ConfigError::EtaMinus(1.5)),
        (
            config.with_step_bounds(0.0, 50.0),
            ConfigError::MinStep(0.0),
        ),
        (config.with_step_bounds(1.0, 0.5), ConfigError::MaxStep(0.5)),
        (
            config.with_initial_step(51.0),
            ConfigError::InitialStep(51.0),
        ),
        (
            config.with_learning_rate(f64::NAN),
            ConfigError::LearningRate(f64::NAN),
        ),
    ];
    for (bad, expected) in cases {
        let built = IRpropMinus::<f64, LineGradients<f64>>::new(bad).map(|_| ());
        assert!(same(built, Err::<(), _>(expected)), "{expected:?}");
        refused(with(bad), expected);
    }
    assert_eq!(config.validate(), Ok(()));
    assert_eq!(
        ConfigError::EtaMinus(1.5).to_string(),
        "the eta_minus is 1.5, but must be in (0, 1)"
    );
}

#[test]
fn adam_refuses_beta1_of_one_and_epsilon_of_zero() {
    let good = AdamConfig::adam(1e-3);
    for (bad, expected) in [
        (good.with_betas(1.0, 0.999), ConfigError::Beta1(1.0)),
        (good.with_betas(0.9, 1.5), ConfigError::Beta2(1.5)),
        (
            AdamConfig {
                epsilon: 0.0,
                ..good
            },
            ConfigError::Epsilon(0.0),
        ),
        (
            AdamConfig::adamw(f64::NAN),
            ConfigError::LearningRate(f64::NAN),
        ),
    ] {
        refused_at_build_and_step(
            Adam::<f64, LineGradients<f64>>::new,
            good,
            bad,
            |optimizer, config| optimizer.config = config,
            expected,
        );
    }
    assert_eq!(AdamConfig::<f64>::adam(1e-3).validate(), Ok(()));
}

#[test]
fn boxed_constructors_refuse_bad_settings_too() {
    refused_at_build(
        Adam::<f64, LineGradients<f64>>::new_boxed(AdamConfig::adam(-1.0)),
        ConfigError::LearningRate(-1.0),
    );
    refused_at_build(
        Momentum::<f64, LineGradients<f64>>::new_boxed(MomentumConfig::new(0.1, 2.0)),
        ConfigError::Momentum(2.0),
    );
    refused_at_build(
        RmsProp::<f64, LineGradients<f64>>::new_boxed(RmsPropConfig::new(f64::INFINITY)),
        ConfigError::LearningRate(f64::INFINITY),
    );
}

#[test]
fn trainer_refuses_bad_settings_when_built() {
    for (config, expected) in [
        (
            TrainConfig::new(3).validation_fraction(1.0),
            ConfigError::ValidationFraction(1.0),
        ),
        (
            TrainConfig::new(3).validation_fraction(f64::NAN),
            ConfigError::ValidationFraction(f64::NAN),
        ),
        (
            TrainConfig::new(3).validation_fraction(-0.25),
            ConfigError::ValidationFraction(-0.25),
        ),
        (
            TrainConfig::new(3).early_stopping(2, 0.0),
            ConfigError::EarlyStoppingWithoutValidation,
        ),
        (
            TrainConfig::new(3).clip_norm(0.0),
            ConfigError::ClipNorm(0.0),
        ),
        (
            TrainConfig::new(3).clip_norm(f64::NAN),
            ConfigError::ClipNorm(f64::NAN),
        ),
        (
            TrainConfig::new(3).schedule(Schedule::Exponential { gamma: -1.0 }),
            ConfigError::Schedule(-1.0),
        ),
    ] {
        refused_at_build(Trainer::<HalfSquaredError, 4>::new(config), expected);
        assert_eq!(
            config.validate().map_err(|e| format!("{e:?}")),
            Err(format!("{expected:?}"))
        );
    }
    assert!(
        Trainer::<HalfSquaredError, 4>::new(TrainConfig::new(3).validation_fraction(0.25)).is_ok()
    );
}

#[test]
fn trainer_and_fit_refuse_bad_schedules_and_min_delta_before_training() {
    let data: Vec<([f64; 2], [f64; 1])> = (0..8)
        .map(|i| ([i as f64, 1.0], [2.0 * i as f64]))
        .collect();
    let nan_gamma = TrainConfig::new(3).schedule(Schedule::Exponential { gamma: f64::NAN });
    let zero_factor = TrainConfig::new(3).schedule(Schedule::StepDecay {
        every: 1,
        factor: 0.0,
    });
    let negative_minimum = TrainConfig::new(3).schedule(Schedule::Cosine {
        epochs: 3,
        min_learning_rate: -1.0,
    });
    let nan_min_delta = TrainConfig::new(3)
        .validation_fraction(0.25)
        .early_stopping(2, f64::NAN);
    for (config, expected) in [
        (nan_gamma, ConfigError::Schedule(f64::NAN)),
        (zero_factor, ConfigError::Schedule(0.0)),
        (negative_minimum, ConfigError::Schedule(-1.0)),
        (nan_min_delta, ConfigError::MinDelta(f64::NAN)),
    ] {
        let (mut net, mut grads) = (Line::<f64>::random(2), LineGradients::zeros());
        let before = net.clone();
        refused_at_build(Trainer::<HalfSquaredError, 4>::new(config), expected);
        // `config` is a public field: `fit` checks it again.
        let mut trainer = Trainer::<HalfSquaredError, 4>::new(TrainConfig::new(3)).unwrap();
        trainer.config = config;
        let result = trainer.fit(
            &mut net,
            &mut Sgd::new(0.01).unwrap(),
            &mut grads,
            &data[..],
            &mut [0; 8],
            |_, _| Control::Continue,
        );
        let want = Err::<(), _>(network::TrainError::InvalidConfig(expected));
        assert!(
            same(result.map(|_| ()), want),
            "{result:?}, expected {expected:?}"
        );
        assert_eq!(net, before, "nothing is trained");
    }
}
