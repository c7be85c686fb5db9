//! Levenberg–Marquardt and the natural gradient against the same steps
//! formed independently: Jacobians by central finite differences, the
//! normal matrix and the Fisher built explicitly, and the damped systems
//! solved by nalgebra's LU decomposition, all in `f64`.

use network::prelude::*;
use network::{
    DampedOutcome, DampingConfig, FisherLoss, LevenbergMarquardt, NaturalGradient, StepError,
};

network! {
    #[derive(Clone, Debug, PartialEq)]
    struct Curve { input: 1, hidden: Dense<3, Tanh>, output: Dense<1, Identity> }
}

network! {
    #[derive(Clone, Debug, PartialEq)]
    struct Straight { input: 1, output: Dense<1, Identity> }
}

network! {
    #[derive(Clone, Debug, PartialEq)]
    struct Classes { input: 2, hidden: Dense<3, Tanh>, output: Dense<3, Softmax> }
}

network! {
    #[derive(Clone, Debug, PartialEq)]
    struct Flags { input: 2, hidden: Dense<3, Tanh>, output: Dense<2, Identity> }
}

const CURVE_P: usize = 10;
const CLASSES_P: usize = 21;
const FLAGS_P: usize = 17;

fn curve_data() -> Vec<([f64; 1], [f64; 1])> {
    (0..8)
        .map(|i| {
            let x = -1.0 + 2.0 * i as f64 / 7.0;
            ([x], [(2.0 * x).sin()])
        })
        .collect()
}

fn classes_data() -> Vec<([f64; 2], [f64; 3])> {
    (0..9)
        .map(|i| {
            let (a, b) = ((i % 3) as f64 - 1.0, (i / 3) as f64 * 0.7 - 0.7);
            let mut t = [0.0; 3];
            t[(i + i / 3) % 3] = 1.0;
            ([a, b], t)
        })
        .collect()
}

fn flags_data() -> Vec<([f64; 2], [f64; 2])> {
    (0..6)
        .map(|i| {
            let (a, b) = (i as f64 * 0.4 - 1.0, (i % 2) as f64 - 0.5);
            ([a, b], [(i % 2) as f64, (i / 3) as f64])
        })
        .collect()
}

fn values<N: Parameters<f64>, const P: usize>(network: &N) -> SVector<f64, P> {
    SVector::from_iterator(network.slices().flatten().copied())
}

fn with_values<N: Parameters<f64> + Clone, const P: usize>(network: &N, w: &SVector<f64, P>) -> N {
    let mut changed = network.clone();
    for (p, &v) in changed.slices_mut().flatten().zip(w.iter()) {
        *p = v;
    }
    changed
}

/// The Jacobian of `f(w)` (`M` values) by central differences.
fn jacobian<const M: usize, const P: usize>(
    w: &SVector<f64, P>,
    f: impl Fn(&SVector<f64, P>) -> SVector<f64, M>,
) -> SMatrix<f64, M, P> {
    let h = 1e-6;
    let mut j = SMatrix::<f64, M, P>::zeros();
    for c in 0..P {
        let (mut up, mut down) = (*w, *w);
        up[c] += h;
        down[c] -= h;
        j.set_column(c, &((f(&up) - f(&down)) / (2.0 * h)));
    }
    j
}

fn assert_close<const P: usize>(found: &SVector<f64, P>, expected: &SVector<f64, P>, tol: f64) {
    let error = (found - expected).norm() / expected.norm();
    assert!(
        error < tol,
        "relative error {error:e}\nfound {found}\nexpected {expected}"
    );
}

#[test]
fn a_levenberg_marquardt_step_solves_the_damped_normal_equations() {
    let data = curve_data();
    let net = Curve::<f64>::random(3);
    let w = values::<_, CURVE_P>(&net);
    // r(w): one residual per sample (one output unit).
    let residuals = |w: &SVector<f64, CURVE_P>| {
        let net = with_values(&net, w);
        SVector::<f64, 8>::from_iterator(data.iter().map(|(x, t)| net.forward(x)[0] - t[0]))
    };
    let j = jacobian(&w, residuals);
    let r = residuals(&w);
    let mu = 1e-3;
    let normal = j.transpose() * j;
    let expected = (normal + SMatrix::<f64, CURVE_P, CURVE_P>::identity() * mu)
        .lu()
        .solve(&(-j.transpose() * r))
        .unwrap();

    let mut lm = LevenbergMarquardt::<f64, CURVE_P>::new(DampingConfig::trainlm()).unwrap();
    let mut trained = net.clone();
    let outcome = lm.step(&mut trained, &data[..]).unwrap();
    let DampedOutcome::Lowered {
        before,
        after,
        mu: taken,
    } = outcome
    else {
        panic!("{outcome:?}");
    };
    assert_eq!(taken, mu, "the first trial was taken");
    assert!(after < before);
    assert!((before - r.norm_squared() / 8.0).abs() < 1e-15, "{before}");
    assert_close(lm.gradient(), &(j.transpose() * r), 1e-8);
    assert!((lm.normal_matrix() - normal).norm() < 1e-8 * normal.norm());
    assert_close(lm.direction(), &expected, 1e-7);
    assert_close(&values::<_, CURVE_P>(&trained), &(w + expected), 1e-9);
    assert_eq!(
        lm.mu, 1e-4,
        "mu shrinks tenfold after a step that lowers the loss"
    );
}

#[test]
fn rejected_trials_leave_the_parameters_bit_for_bit() {
    // Targets equal to the outputs: the loss is 0, so no trial can lower
    // it, and every mu up to the cap is tried and rejected.
    let net = Curve::<f64>::random(5);
    let data: Vec<([f64; 1], [f64; 1])> = (0..5)
        .map(|i| {
            let x = [i as f64 * 0.3 - 0.6];
            (x, [net.forward(&x)[0]])
        })
        .collect();
    let mut lm = LevenbergMarquardt::<f64, CURVE_P>::new(DampingConfig::trainlm()).unwrap();
    let mut trained = net.clone();
    let outcome = lm.step(&mut trained, &data[..]).unwrap();
    assert_eq!(outcome, DampedOutcome::DampingLimit { loss: 0.0 });
    let bits = |n: &Curve<f64>| {
        n.slices()
            .flatten()
            .map(|v| v.to_bits())
            .collect::<Vec<_>>()
    };
    assert_eq!(bits(&trained), bits(&net));
    assert!(lm.mu > 1e10, "every mu up to the cap was tried: {}", lm.mu);
}

#[test]
fn bad_settings_and_empty_data_are_refused() {
    let bad = DampingConfig {
        decrease: 1.5,
        ..DampingConfig::trainlm()
    };
    assert_eq!(
        LevenbergMarquardt::<f64, CURVE_P>::new(bad).unwrap_err(),
        network::ConfigError::Damping(1.5)
    );
    let mut lm = LevenbergMarquardt::<f64, CURVE_P>::new(DampingConfig::trainlm()).unwrap();
    let mut net = Curve::<f64>::random(1);
    let empty: [([f64; 1], [f64; 1]); 0] = [];
    assert_eq!(lm.step(&mut net, &empty[..]), Err(StepError::NoSamples));
    let zero_damping = DampingConfig::trainlm().with_initial(0.0);
    assert_eq!(
        NaturalGradient::<f64, CLASSES_P>::new(zero_damping).unwrap_err(),
        network::ConfigError::Damping(0.0)
    );
}

/// The natural-gradient system formed by hand: the logits' Jacobian by
/// differences, `F = 1/n sum J^T F_z J` and `g` by differences of the mean
/// loss, giving `(F + lambda I) dw = -g` as the matrix and the right-hand
/// side (solved by LU at the call, where `P` is a number).
fn natural_system<L, N, const IN: usize, const OUT: usize, const P: usize>(
    net: &N,
    data: &[([f64; IN], [f64; OUT])],
    damping: f64,
) -> (SMatrix<f64, P, P>, SVector<f64, P>)
where
    N: Network<f64, IN, OUT> + Clone,
    L: FisherLoss<N::OutputActivation>,
{
    let w = values::<_, P>(net);
    let mut fisher = SMatrix::<f64, P, P>::zeros();
    for (x, _) in data {
        let x = SMatrix::<f64, IN, 1>::from_column_slice(x);
        let logits = |w: &SVector<f64, P>| {
            let cache = with_values(net, w).forward_cache(&x, network::Noise::OFF);
            SVector::<f64, OUT>::from_column_slice(cache.logits().as_slice())
        };
        let j = jacobian(&w, logits);
        fisher += j.transpose() * L::logit_fisher(&logits(&w)) * j;
    }
    fisher /= data.len() as f64;
    let mean_loss = |w: &SVector<f64, P>| {
        let net = with_values(net, w);
        let total: f64 = data
            .iter()
            .map(|(x, t)| {
                let x = SMatrix::<f64, IN, 1>::from_column_slice(x);
                let t = SMatrix::<f64, OUT, 1>::from_column_slice(t);
                net.loss::<L>(&x, &t)
            })
            .sum();
        SVector::<f64, 1>::new(total / data.len() as f64)
    };
    let g = jacobian(&w, mean_loss).transpose();
    (fisher + SMatrix::<f64, P, P>::identity() * damping, -g)
}

#[test]
fn a_natural_gradient_step_uses_the_softmax_fisher() {
    let data = classes_data();
    let net = Classes::<f64>::random(2);
    // The first damping this step accepts (1e-2 does not lower the loss).
    let damping = 0.1;
    let (a, b) = natural_system::<SoftmaxCrossEntropy, _, 2, 3, CLASSES_P>(&net, &data, damping);
    let expected = a.lu().solve(&b).unwrap();
    let config = DampingConfig::trainlm().with_initial(damping);
    let mut ng = NaturalGradient::<f64, CLASSES_P>::new(config).unwrap();
    let mut trained = net.clone();
    let outcome = ng
        .step::<SoftmaxCrossEntropy, _, _, 2, 3>(&mut trained, &data[..])
        .unwrap();
    assert!(
        matches!(outcome, DampedOutcome::Lowered { mu, .. } if mu == damping),
        "{outcome:?}"
    );
    assert_close(ng.direction(), &expected, 1e-6);
    let moved = values::<_, CLASSES_P>(&trained) - values::<_, CLASSES_P>(&net);
    assert_close(&moved, ng.direction(), 1e-12);
}

#[test]
fn a_natural_gradient_step_uses_the_sigmoid_fisher() {
    let data = flags_data();
    let net = Flags::<f64>::random(4);
    let damping = 1e-3;
    let (a, b) = natural_system::<SigmoidCrossEntropy, _, 2, 2, FLAGS_P>(&net, &data, damping);
    let expected = a.lu().solve(&b).unwrap();
    let config = DampingConfig::trainlm().with_initial(damping);
    let mut ng = NaturalGradient::<f64, FLAGS_P>::new(config).unwrap();
    let mut trained = net.clone();
    let outcome = ng
        .step::<SigmoidCrossEntropy, _, _, 2, 2>(&mut trained, &data[..])
        .unwrap();
    assert!(
        matches!(outcome, DampedOutcome::Lowered { mu, .. } if mu == damping),
        "{outcome:?}"
    );
    assert_close(ng.direction(), &expected, 1e-6);
}

/// `steps` full-batch Adam steps (learning rate `lr`) on `data`; the mean
/// loss `L` after them.
fn adam_loss<L, N, const IN: usize, const OUT: usize>(
    net: &mut N,
    data: &[([f64; IN], [f64; OUT])],
    lr: f64,
    steps: usize,
) -> f64
where
    N: Network<f64, IN, OUT> + network::Deterministic,
    L: Loss<N::OutputActivation>,
{
    let x = SMatrix::<f64, IN, 8>::from_fn(|i, s| data[s].0[i]);
    let t = SMatrix::<f64, OUT, 8>::from_fn(|k, s| data[s].1[k]);
    let mut adam = Adam::<f64, N::Gradients>::new(AdamConfig::adam(lr)).unwrap();
    let mut grads = N::Gradients::zeros();
    for _ in 0..steps {
        net.loss_and_gradients::<L>(&x, &t, &mut grads);
        adam.step(net, &grads).unwrap();
    }
    net.loss::<L>(&x, &t)
}

/// Runs a damped method until it stops or `steps` are done; its last loss.
fn damped_loss<T: Copy>(steps: usize, mut step: impl FnMut() -> DampedOutcome<T>) -> T {
    let mut last = None;
    for _ in 0..steps {
        match step() {
            DampedOutcome::Lowered { after, .. } => last = Some(after),
            DampedOutcome::DampingLimit { loss } => return loss,
        }
    }
    last.unwrap()
}

#[test]
fn levenberg_marquardt_needs_a_hundredth_of_adams_epochs() {
    let data = curve_data();
    let mut lm_net = Curve::<f64>::random(3);
    let mut lm = LevenbergMarquardt::<f64, CURVE_P>::new(DampingConfig::trainlm()).unwrap();
    let lm_loss = damped_loss(30, || lm.step(&mut lm_net, &data[..]).unwrap());
    let mut adam_net = Curve::<f64>::random(3);
    let adam_loss = adam_loss::<MeanSquaredError, _, 1, 1>(&mut adam_net, &data, 1e-2, 3000);
    assert!(
        lm_loss < adam_loss,
        "30 LM steps: {lm_loss:e}; 3000 Adam steps: {adam_loss:e}"
    );
}

#[test]
fn the_natural_gradient_needs_a_tenth_of_adams_epochs() {
    let data = &classes_data()[..8];
    let mut ng_net = Classes::<f64>::random(2);
    let mut ng = NaturalGradient::<f64, CLASSES_P>::new(DampingConfig::trainlm()).unwrap();
    let ng_loss = damped_loss(30, || {
        ng.step::<SoftmaxCrossEntropy, _, _, 2, 3>(&mut ng_net, data)
            .unwrap()
    });
    let mut adam_net = Classes::<f64>::random(2);
    let adam_loss = adam_loss::<SoftmaxCrossEntropy, _, 2, 3>(&mut adam_net, data, 1e-2, 300);
    assert!(
        ng_loss < adam_loss,
        "30 natural steps: {ng_loss:e}; 300 Adam steps: {adam_loss:e}"
    );
}

#[test]
fn optimizer_bytes_are_two_matrices_and_three_vectors() {
    let values = 2 * CURVE_P * CURVE_P + 3 * CURVE_P;
    assert!(LevenbergMarquardt::<f32, CURVE_P>::BYTES >= values * 4);
    assert!(LevenbergMarquardt::<f32, CURVE_P>::BYTES <= values * 4 + 64);
    assert!(NaturalGradient::<f32, CURVE_P>::BYTES <= values * 4 + 64);
}

#[test]
fn the_damping_never_shrinks_to_zero() {
    // For a linear model the Gauss-Newton step is exact, so the first trial,
    // at a damping of 1e-300, is accepted, and a decrease of 1e-30 would
    // take mu to 0 (below the smallest f64); a damping of 0 grown tenfold
    // stays 0, so once at the minimum the trials would never reach the
    // limit.
    let config = DampingConfig {
        initial: 1e-300,
        decrease: 1e-30,
        ..DampingConfig::trainlm()
    };
    let data: Vec<([f64; 1], [f64; 1])> = (0..6)
        .map(|i| {
            (
                [i as f64],
                [2.0 * i as f64 + if i % 2 == 0 { 0.5 } else { -0.5 }],
            )
        })
        .collect();
    let mut net = Straight::<f64>::random(3);
    let mut lm = LevenbergMarquardt::<f64, 2>::new(config).unwrap();
    let first = lm.step(&mut net, &data[..]).unwrap();
    assert!(matches!(first, DampedOutcome::Lowered { .. }), "{first:?}");
    assert!(lm.mu > 0.0, "mu reached 0");
    // The next steps end (at a rounding-sized gain or at the limit).
    for _ in 0..3 {
        let _ = lm.step(&mut net, &data[..]).unwrap();
        assert!(lm.mu > 0.0, "mu reached 0");
    }
}
