//! Hyperparameters no step can use are typed errors, before anything
//! changes: a NaN learning rate made `Sgd::step` return `Ok` with NaN
//! weights, and `epsilon = 0` or `beta1 = 1` did the same to Adam.

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
    net.loss_and_gradients::<HalfSquaredError, 2, _, _>(&x, &t, &mut grads);
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

#[test]
fn sgd_refuses_nan_negative_and_infinite_rates() {
    refused(Sgd::new(f64::NAN), ConfigError::LearningRate(f64::NAN));
    refused(Sgd::new(-0.1), ConfigError::LearningRate(-0.1));
    refused(
        Sgd::new(f64::INFINITY),
        ConfigError::LearningRate(f64::INFINITY),
    );
    refused(
        Sgd::new(0.1).with_weight_decay(-1.0),
        ConfigError::WeightDecay(-1.0),
    );
    assert_eq!(Sgd::new(0.1).validate(), Ok(()));
}

#[test]
fn momentum_refuses_a_momentum_outside_zero_to_one() {
    refused(
        Momentum::<f64, LineGradients<f64>>::new(MomentumConfig::new(0.1, 1.0)),
        ConfigError::Momentum(1.0),
    );
    refused(
        Momentum::<f64, LineGradients<f64>>::new(MomentumConfig::nesterov(0.1, -0.5)),
        ConfigError::Momentum(-0.5),
    );
    refused(
        Momentum::<f64, LineGradients<f64>>::new(MomentumConfig::new(f64::NAN, 0.9)),
        ConfigError::LearningRate(f64::NAN),
    );
}

#[test]
fn rmsprop_refuses_a_bad_alpha_or_epsilon() {
    let config = RmsPropConfig::new(0.01);
    refused(
        RmsProp::<f64, LineGradients<f64>>::new(RmsPropConfig {
            alpha: 1.0,
            ..config
        }),
        ConfigError::Alpha(1.0),
    );
    refused(
        RmsProp::<f64, LineGradients<f64>>::new(RmsPropConfig {
            epsilon: 0.0,
            ..config
        }),
        ConfigError::Epsilon(0.0),
    );
}

#[test]
fn adam_refuses_beta1_of_one_and_epsilon_of_zero() {
    let config = AdamConfig::adam(1e-3);
    refused(
        Adam::<f64, LineGradients<f64>>::new(config.with_betas(1.0, 0.999)),
        ConfigError::Beta1(1.0),
    );
    refused(
        Adam::<f64, LineGradients<f64>>::new(config.with_betas(0.9, 1.5)),
        ConfigError::Beta2(1.5),
    );
    refused(
        Adam::<f64, LineGradients<f64>>::new(AdamConfig {
            epsilon: 0.0,
            ..config
        }),
        ConfigError::Epsilon(0.0),
    );
    refused(
        Adam::<f64, LineGradients<f64>>::new(AdamConfig::adamw(f64::NAN)),
        ConfigError::LearningRate(f64::NAN),
    );
    assert_eq!(AdamConfig::<f64>::adam(1e-3).validate(), Ok(()));
}

#[test]
fn fit_refuses_bad_schedules_and_min_delta_before_training() {
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
        let result = Trainer::<HalfSquaredError, 4>::new(config).fit(
            &mut net,
            &mut Sgd::new(0.01),
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
