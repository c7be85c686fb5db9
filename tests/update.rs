//! A step whose updated parameters would be NaN or infinite is refused like
//! a non-finite gradient: `StepError::NonFiniteUpdate`, with the parameters
//! and the optimizer's state unchanged, bit for bit. (A huge learning rate
//! with finite gradients once gave `Ok` and infinite weights.)

use network::StepError;
use network::prelude::*;

network! {
    #[derive(Clone, Debug, PartialEq)]
    struct Line { input: 2, output: Dense<1, Identity> }
}

/// A network and the gradients of one batch, in `T`.
fn setup<T: Scalar>() -> (Line<T>, LineGradients<T>) {
    let net = Line::<T>::random(1);
    let mut grads = LineGradients::zeros();
    let c = T::constant;
    let x = SMatrix::<T, 2, 2>::new(c(1.0), c(0.5), c(-1.0), c(2.0));
    let t = SMatrix::<T, 1, 2>::new(c(1.0), c(-1.0));
    net.loss_and_gradients::<HalfSquaredError>(&x, &t, &mut grads);
    (net, grads)
}

/// The bits of every value, so that states compare exactly.
fn bits<T: Scalar>(values: &impl Parameters<T>) -> Vec<u64> {
    values
        .slices()
        .flatten()
        .map(|v| v.to_f64().to_bits())
        .collect()
}

/// Takes one ordinary step (so that the state is not all zeros), then
/// checks that a step after `spoil` is refused with nothing changed.
fn refused<T: Scalar, O>(mut optimizer: O, spoil: impl FnOnce(&mut O))
where
    O: Optimizer<T, LineGradients<T>> + Clone + core::fmt::Debug,
{
    let (mut net, grads) = setup::<T>();
    optimizer.step(&mut net, &grads).unwrap();
    spoil(&mut optimizer);
    let (before, state) = (net.clone(), format!("{optimizer:?}"));
    let result = optimizer.step(&mut net, &grads);
    assert_eq!(result, Err(StepError::NonFiniteUpdate), "{optimizer:?}");
    assert_eq!(bits(&net), bits(&before), "the parameters changed");
    assert_eq!(format!("{optimizer:?}"), state, "the state changed");
}

/// Sets the learning rate to the largest finite value of `T`.
fn huge_rate<T: Scalar, O: Optimizer<T, LineGradients<T>>>(optimizer: &mut O) {
    optimizer.set_learning_rate(T::max_value().unwrap());
}

#[test]
fn every_optimizer_refuses_an_update_that_overflows_in_f64() {
    refused::<f64, _>(Sgd::new(0.1).unwrap(), huge_rate);
    refused::<f64, _>(
        Sgd::new(0.1).unwrap().with_weight_decay(0.5).unwrap(),
        huge_rate,
    );
    refused::<f64, _>(
        Momentum::<f64, LineGradients<f64>>::new(MomentumConfig::new(0.1, 0.9)).unwrap(),
        huge_rate,
    );
    refused::<f64, _>(
        Momentum::<f64, LineGradients<f64>>::new(MomentumConfig::nesterov(0.1, 0.9)).unwrap(),
        huge_rate,
    );
    refused::<f64, _>(
        RmsProp::<f64, LineGradients<f64>>::new(RmsPropConfig::new(0.1)).unwrap(),
        huge_rate,
    );
    refused::<f64, _>(
        Adam::<f64, LineGradients<f64>>::new(AdamConfig::adam(0.1)).unwrap(),
        huge_rate,
    );
    refused::<f64, _>(
        Adam::<f64, LineGradients<f64>>::new(AdamConfig::adamw(0.1)).unwrap(),
        huge_rate,
    );
}

#[test]
fn every_optimizer_refuses_an_update_that_overflows_in_f32() {
    refused::<f32, _>(Sgd::new(0.1).unwrap(), huge_rate);
    refused::<f32, _>(
        Momentum::<f32, LineGradients<f32>>::new(MomentumConfig::nesterov(0.1, 0.9)).unwrap(),
        huge_rate,
    );
    refused::<f32, _>(
        RmsProp::<f32, LineGradients<f32>>::new(RmsPropConfig::new(0.1)).unwrap(),
        huge_rate,
    );
    refused::<f32, _>(
        Adam::<f32, LineGradients<f32>>::new(AdamConfig::adamw(0.1)).unwrap(),
        huge_rate,
    );
}

#[test]
fn a_state_that_would_overflow_is_refused() {
    // With a huge first moment and a small second one, Adam's
    // `lr m_hat / (sqrt(v_hat) + eps)` overflows at a rate of 1.
    refused::<f32, _>(
        Adam::<f32, LineGradients<f32>>::new(AdamConfig::adam(1.0)).unwrap(),
        |adam| {
            adam.state
                .m
                .slices_mut()
                .flatten()
                .for_each(|m| *m = f32::MAX);
            adam.state.v.fill_zero();
        },
    );
    // A huge velocity plus a huge weight decay overflow the velocity
    // `v = mu v + g + wd p` itself, at a tiny rate.
    refused::<f64, _>(
        Momentum::<f64, LineGradients<f64>>::new(MomentumConfig::new(0.1, 0.9)).unwrap(),
        |momentum| {
            momentum
                .velocity
                .slices_mut()
                .flatten()
                .for_each(|v| *v = f64::MAX);
            momentum.config.weight_decay = f64::MAX;
            momentum.config.learning_rate = 1e-300;
        },
    );
}

#[test]
fn parameters_already_infinite_are_refused() {
    let (mut net, grads) = setup::<f64>();
    net.output.b[0] = f64::INFINITY;
    let before = bits(&net);
    assert_eq!(
        Sgd::new(0.1).unwrap().step(&mut net, &grads),
        Err(StepError::NonFiniteUpdate)
    );
    assert_eq!(bits(&net), before);
}

#[test]
fn a_large_but_finite_update_is_taken() {
    // Near the top of the range, where a bound on the update's size cannot
    // promise a finite result, the exact update decides: here a weight of
    // 1e308 has no gradient and the bias moves by about 1e307, both finite.
    let (mut net, mut grads) = setup::<f64>();
    net.output.w[0] = 1e308;
    grads.output.w.fill(0.0);
    grads.output.b[0] = 1.0;
    let (rate, bias) = (1e307, net.output.b[0]);
    Sgd::new(rate).unwrap().step(&mut net, &grads).unwrap();
    assert_eq!(net.output.w[0], 1e308);
    assert_eq!(net.output.b[0], bias - rate);
}

#[test]
fn fit_reports_the_refused_step() {
    let data: Vec<([f32; 2], [f32; 1])> = (0..8)
        .map(|i| ([i as f32, 1.0], [2.0 * i as f32]))
        .collect();
    let (mut net, mut grads) = (Line::<f32>::random(2), LineGradients::zeros());
    let result = Trainer::<HalfSquaredError, 4>::new(TrainConfig::new(3))
        .unwrap()
        .fit(
            &mut net,
            &mut Sgd::new(1e38).unwrap(),
            &mut grads,
            &data[..],
            &mut [0; 8],
            |_, _| Control::Continue,
        );
    assert!(
        matches!(
            result,
            Err(network::TrainError::Step {
                epoch: 0,
                batch: 0,
                error: StepError::NonFiniteUpdate,
            })
        ),
        "{result:?}"
    );
    assert!(net.output.w.iter().all(|w| w.is_finite()));
}
