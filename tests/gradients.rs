//! Whole networks declared with `network!`, depth 1 to 4, every activation in a
//! hidden layer and every loss with every output layer it fits: the generated
//! backward pass against central finite differences (every parameter and every
//! input, one sample and batches), batch gradients against the mean of sample
//! gradients, and the agreement of the generated entry points.

use network::prelude::*;
use network::{Deterministic, GradientCheck, check_gradients};

// Depth 1: each output layer a loss can need.
network! {
    struct Affine { input: 3, output: Dense<3, Identity> }
}
network! {
    struct Probabilities { input: 3, output: Dense<4, Softmax> }
}
network! {
    struct Logistic { input: 3, output: Dense<2, Sigmoid> }
}

// Depth 2.
network! {
    struct TanhSigmoid { input: 3, hidden: Dense<5, Tanh>, output: Dense<2, Sigmoid> }
}
network! {
    struct SoftplusSoftmax { input: 3, hidden: Dense<4, Softplus>, output: Dense<3, Softmax> }
}
network! {
    struct IdentityTanh { input: 2, hidden: Dense<4, Identity>, output: Dense<2, Tanh> }
}

// Depth 3.
network! {
    struct ReluGelu {
        input: 4,
        first: Dense<6, Relu>,
        second: Dense<5, Gelu>,
        output: Dense<3, Softmax>,
    }
}
network! {
    struct SigmoidSilu {
        input: 3,
        first: Dense<4, Sigmoid>,
        second: Dense<4, Silu>,
        output: Dense<2, Identity>,
    }
}

// Depth 4.
network! {
    struct LeakyMishSwish {
        input: 3,
        first: Dense<5, LeakyRelu>,
        second: Dense<4, Mish>,
        third: Dense<4, Swish>,
        output: Dense<2, Identity>,
    }
}
network! {
    struct SteepLeakyGeluTanh {
        input: 3,
        first: Dense<5, LeakyRelu<1, 5>>,
        second: Dense<4, Gelu>,
        third: Dense<3, Tanh>,
        output: Dense<2, Softplus>,
    }
}

// Convolution and pooling, 2-D: padding, stride, max and average pooling,
// an implicit flatten into the dense output layer.
network! {
    struct SmallLeNet {
        input: [2, 7, 7],
        conv1: Conv2d<3, 3, Tanh, padding = 1>,
        pool1: MaxPool2d<2, stride = 1>,
        conv2: Conv2d<2, 3, Sigmoid, stride = 2>,
        pool2: AvgPool2d<2>,
        output: Dense<3, Softmax>,
    }
}

// 1-D: stride and padding, overlapping max windows, average pooling.
network! {
    struct Sequence {
        input: [2, 11],
        conv1: Conv1d<3, 3, Tanh, stride = 2, padding = 1>,
        pool1: MaxPool1d<3, stride = 1>,
        conv2: Conv1d<2, 2, Softplus>,
        pool2: AvgPool1d<2>,
        output: Dense<2, Identity>,
    }
}

/// The finite-difference step for [`check_gradients`].
const H: f64 = 1e-6;

/// The largest disagreement allowed by [`check_gradients`]'s measure
/// `|analytic - numeric| / max(1, |analytic|, |numeric|)`.
const TOLERANCE: f64 = 1e-6;

/// A network with seeded weights (the scheme its activations suit) and seeded
/// biases in `[-0.5, 0.5]`, so that a wrong bias term cannot hide behind zeros.
fn seeded<N: Network<f64, IN, OUT>, const IN: usize, const OUT: usize>(seed: u64) -> N {
    let mut network = N::random(seed);
    let mut rng = Rng::new(seed ^ 0xB1A5);
    // Slices alternate weights and biases, layer by layer.
    for bias in network.slices_mut().skip(1).step_by(2) {
        bias.fill_with(|| rng.uniform(-0.5, 0.5));
    }
    network
}

/// Inputs in `±[0.2, 1.5]`.
fn inputs<const IN: usize, const B: usize>(seed: u64) -> SMatrix<f64, IN, B> {
    let mut rng = Rng::new(seed);
    SMatrix::from_fn(|_, _| {
        let magnitude = rng.uniform(0.2, 1.5);
        if rng.below(2) == 0 {
            magnitude
        } else {
            -magnitude
        }
    })
}

/// Real-valued regression targets in `[-1, 1]`.
fn real<const OUT: usize, const B: usize>(seed: u64) -> SMatrix<f64, OUT, B> {
    let mut rng = Rng::new(seed);
    SMatrix::from_fn(|_, _| rng.uniform(-1.0, 1.0))
}

/// One class per sample.
fn one_hot<const OUT: usize, const B: usize>(seed: u64) -> SMatrix<f64, OUT, B> {
    let mut rng = Rng::new(seed);
    let mut t = SMatrix::zeros();
    for j in 0..B {
        t[(rng.below(OUT), j)] = 1.0;
    }
    t
}

/// Independent probabilities in `[0, 1]`, as binary cross-entropy takes.
fn probabilities<const OUT: usize, const B: usize>(seed: u64) -> SMatrix<f64, OUT, B> {
    let mut rng = Rng::new(seed);
    SMatrix::from_fn(|_, _| rng.uniform(0.0, 1.0))
}

/// Every parameter's and every input's gradient of the mean loss `L` against
/// finite differences.
fn assert_gradients<N, L, const IN: usize, const OUT: usize, const B: usize>(
    name: &str,
    network: &mut N,
    x: &SMatrix<f64, IN, B>,
    t: &SMatrix<f64, OUT, B>,
) -> GradientCheck
where
    N: Network<f64, IN, OUT> + Deterministic,
    L: Loss<N::OutputActivation>,
{
    let report = check_gradients::<f64, N, L, IN, OUT, B>(network, x, t, H);
    println!(
        "{name}, {}, B = {B}: parameters {:.2e} ({} checked), inputs {:.2e} ({} checked)",
        L::NAME,
        report.parameters.max_error,
        report.parameters.checked,
        report.inputs.max_error,
        report.inputs.checked
    );
    assert_eq!(report.parameters.checked, N::PARAMETERS);
    assert_eq!(report.inputs.checked, IN * B);
    assert!(
        report.max_error() < TOLERANCE,
        "{name} with {}, B = {B}: back-propagation disagrees with finite differences: {report:?}",
        L::NAME
    );
    report
}

/// `|a - b| <= 1e-12 max(1, |a|, |b|)` for each pair of values.
fn assert_same_values<'a>(
    what: &str,
    a: impl IntoIterator<Item = &'a f64>,
    b: impl IntoIterator<Item = &'a f64>,
) {
    let (a, b): (Vec<f64>, Vec<f64>) = (
        a.into_iter().copied().collect(),
        b.into_iter().copied().collect(),
    );
    assert_eq!(a.len(), b.len(), "{what}: different lengths");
    for (k, (a, b)) in a.iter().zip(&b).enumerate() {
        let scale = 1f64.max(a.abs()).max(b.abs());
        assert!(
            (a - b).abs() <= 1e-12 * scale,
            "{what}: value {k} differs: {a} vs {b}"
        );
    }
}

/// The gradients of a batch equal the mean of each sample's gradients (each
/// sample alone is a batch of one), and so do the losses; `dC/dx` of the
/// batch is each sample's `dC/dx` divided by `B`.
fn assert_batch_is_mean_of_samples<N, L, const IN: usize, const OUT: usize, const B: usize>(
    name: &str,
    network: &N,
    x: &SMatrix<f64, IN, B>,
    t: &SMatrix<f64, OUT, B>,
) where
    N: Network<f64, IN, OUT> + Deterministic,
    L: Loss<N::OutputActivation>,
{
    let mut batch = N::Gradients::zeros();
    let batch_loss = network.loss_and_gradients::<L>(x, t, &mut batch);
    let cache = network.forward_train(x);
    let delta = L::output_delta(cache.logits(), cache.output(), t);
    let mut unused = N::Gradients::zeros();
    let batch_grad_x = network.backward_delta_into(x, &cache, &delta, &mut unused);

    let mut mean = N::Gradients::zeros();
    let mut sample = N::Gradients::zeros();
    let mut mean_loss = 0.0;
    for j in 0..B {
        let (x_j, t_j): (SVector<f64, IN>, SVector<f64, OUT>) =
            (x.column(j).into_owned(), t.column(j).into_owned());
        mean_loss += network.loss_and_gradients::<L>(&x_j, &t_j, &mut sample) / B as f64;
        mean.accumulate(&sample);

        let cache_j = network.forward_train(&x_j);
        let delta_j = L::output_delta(cache_j.logits(), cache_j.output(), &t_j);
        let grad_x_j =
            network.backward_delta_into(&x_j, &cache_j, &delta_j, &mut sample) / B as f64;
        assert_same_values(
            &format!("{name}: dC/dx of sample {j}"),
            batch_grad_x.column(j).iter(),
            grad_x_j.iter(),
        );
    }
    mean.scale(1.0 / B as f64);
    assert_same_values(&format!("{name}: mean loss"), [&batch_loss], [&mean_loss]);
    assert_same_values(
        &format!("{name}: gradients"),
        batch.slices().flatten(),
        mean.slices().flatten(),
    );
}

/// `forward` equals the output kept by `forward_train`, and each column of a
/// batch equals the output for that sample alone.
fn assert_forward_is_consistent<N, const IN: usize, const OUT: usize, const B: usize>(
    name: &str,
    network: &N,
    x: &SMatrix<f64, IN, B>,
) where
    N: Network<f64, IN, OUT> + Deterministic,
{
    let y = network.forward(x);
    let cache = network.forward_train(x);
    assert_eq!(
        &y,
        cache.output(),
        "{name}: forward and forward_train disagree"
    );
    for j in 0..B {
        let x_j: SVector<f64, IN> = x.column(j).into_owned();
        assert_same_values(
            &format!("{name}: sample {j} alone"),
            y.column(j).iter(),
            network.forward(&x_j).iter(),
        );
    }
}

/// `backward(x, cache, dC/da_L)` equals `backward_delta_into` with the delta
/// taken through the output activation, and `parameter_gradients_into` gives
/// the same parameter gradients.
fn assert_backward_paths_agree<N, const IN: usize, const OUT: usize, const B: usize>(
    name: &str,
    network: &N,
    x: &SMatrix<f64, IN, B>,
    grad_output: &SMatrix<f64, OUT, B>,
) where
    N: Network<f64, IN, OUT> + Deterministic,
{
    let cache = network.forward_train(x);
    let (grads, grad_x) = network.backward(x, &cache, grad_output);

    let delta = N::OutputActivation::backward(cache.logits(), cache.output(), grad_output);
    let mut by_delta = N::Gradients::zeros();
    let grad_x_by_delta = network.backward_delta_into(x, &cache, &delta, &mut by_delta);
    let mut parameters_only = N::Gradients::zeros();
    network.parameter_gradients_into(x, &cache, &delta, &mut parameters_only);

    assert_eq!(grad_x, grad_x_by_delta, "{name}: dC/dx");
    assert_same_values(
        &format!("{name}: backward vs backward_delta_into"),
        grads.slices().flatten(),
        by_delta.slices().flatten(),
    );
    assert_same_values(
        &format!("{name}: parameter_gradients_into"),
        parameters_only.slices().flatten(),
        by_delta.slices().flatten(),
    );
}

/// The gradient check for one sample and for a batch of four, then the batch,
/// forward and backward consistency checks on the batch.
fn check<N, L, const IN: usize, const OUT: usize>(
    name: &str,
    seed: u64,
    targets: fn(u64) -> SMatrix<f64, OUT, 4>,
) where
    N: Network<f64, IN, OUT> + Deterministic,
    L: Loss<N::OutputActivation>,
{
    let mut network: N = seeded(seed);
    let x = inputs::<IN, 4>(seed + 1);
    let t = targets(seed + 2);
    let (x_0, t_0): (SVector<f64, IN>, SVector<f64, OUT>) =
        (x.column(0).into_owned(), t.column(0).into_owned());
    assert_gradients::<N, L, IN, OUT, 1>(name, &mut network, &x_0, &t_0);
    assert_gradients::<N, L, IN, OUT, 4>(name, &mut network, &x, &t);
    assert_batch_is_mean_of_samples::<N, L, IN, OUT, 4>(name, &network, &x, &t);
    assert_forward_is_consistent::<N, IN, OUT, 4>(name, &network, &x);
    assert_backward_paths_agree::<N, IN, OUT, 4>(name, &network, &x, &real(seed + 3));
}

/// The smallest `|z|` over some pre-activations, to keep ReLU layers away from
/// their kink (where finite differences are meaningless).
fn min_abs<const R: usize, const C: usize>(z: &SMatrix<f64, R, C>) -> f64 {
    z.iter().fold(f64::INFINITY, |m, v| m.min(v.abs()))
}

#[test]
fn depth_1() {
    check::<Affine<f64>, HalfSquaredError, 3, 3>("affine", 10, real);
    check::<Affine<f64>, MeanSquaredError, 3, 3>("affine", 11, real);
    check::<Affine<f64>, SoftmaxCrossEntropy, 3, 3>("affine", 12, one_hot);
    check::<Affine<f64>, SigmoidCrossEntropy, 3, 3>("affine", 13, probabilities);
    check::<Probabilities<f64>, SoftmaxCrossEntropy, 3, 4>("probabilities", 14, one_hot);
    check::<Probabilities<f64>, HalfSquaredError, 3, 4>("probabilities", 15, one_hot);
    check::<Probabilities<f64>, MeanSquaredError, 3, 4>("probabilities", 16, real);
    check::<Logistic<f64>, SigmoidCrossEntropy, 3, 2>("logistic", 17, probabilities);
    check::<Logistic<f64>, HalfSquaredError, 3, 2>("logistic", 18, probabilities);
    check::<Logistic<f64>, MeanSquaredError, 3, 2>("logistic", 19, real);
}

#[test]
fn depth_2() {
    check::<TanhSigmoid<f64>, SigmoidCrossEntropy, 3, 2>("tanh-sigmoid", 20, probabilities);
    check::<TanhSigmoid<f64>, MeanSquaredError, 3, 2>("tanh-sigmoid", 21, real);
    check::<SoftplusSoftmax<f64>, SoftmaxCrossEntropy, 3, 3>("softplus-softmax", 22, one_hot);
    check::<SoftplusSoftmax<f64>, HalfSquaredError, 3, 3>("softplus-softmax", 23, one_hot);
    check::<IdentityTanh<f64>, HalfSquaredError, 2, 2>("identity-tanh", 24, real);
    check::<IdentityTanh<f64>, MeanSquaredError, 2, 2>("identity-tanh", 25, real);
}

#[test]
fn depth_3() {
    let network: ReluGelu<f64> = seeded(30);
    let cache = network.forward_train(&inputs::<4, 4>(31));
    assert!(min_abs(&cache.z1) > 1e-3, "a ReLU input is near its kink");
    check::<ReluGelu<f64>, SoftmaxCrossEntropy, 4, 3>("relu-gelu", 30, one_hot);
    check::<ReluGelu<f64>, MeanSquaredError, 4, 3>("relu-gelu", 30, real);
    check::<SigmoidSilu<f64>, SigmoidCrossEntropy, 3, 2>("sigmoid-silu", 32, probabilities);
    check::<SigmoidSilu<f64>, SoftmaxCrossEntropy, 3, 2>("sigmoid-silu", 33, one_hot);
    check::<SigmoidSilu<f64>, HalfSquaredError, 3, 2>("sigmoid-silu", 34, real);
}

#[test]
fn depth_4() {
    let network: LeakyMishSwish<f64> = seeded(40);
    let cache = network.forward_train(&inputs::<3, 4>(41));
    assert!(
        min_abs(&cache.z1) > 1e-3,
        "a leaky ReLU input is near its kink"
    );
    check::<LeakyMishSwish<f64>, HalfSquaredError, 3, 2>("leaky-mish-swish", 40, real);
    check::<LeakyMishSwish<f64>, MeanSquaredError, 3, 2>("leaky-mish-swish", 40, real);
    check::<LeakyMishSwish<f64>, SoftmaxCrossEntropy, 3, 2>("leaky-mish-swish", 40, one_hot);
    check::<LeakyMishSwish<f64>, SigmoidCrossEntropy, 3, 2>("leaky-mish-swish", 40, probabilities);

    let network: SteepLeakyGeluTanh<f64> = seeded(42);
    let cache = network.forward_train(&inputs::<3, 4>(43));
    assert!(
        min_abs(&cache.z1) > 1e-3,
        "a leaky ReLU input is near its kink"
    );
    check::<SteepLeakyGeluTanh<f64>, MeanSquaredError, 3, 2>("steep-leaky-gelu-tanh", 42, real);
    check::<SteepLeakyGeluTanh<f64>, HalfSquaredError, 3, 2>("steep-leaky-gelu-tanh", 42, real);
}

/// The fused cross-entropy gradients equal the chain rule through the output
/// activation: `dC/da = -t / (a B)` through softmax, and
/// `dC/da = (a - t) / (a (1 - a) B)` through the sigmoid.
#[test]
fn fused_cross_entropies_match_the_unfused_chain_rule() {
    let network: ReluGelu<f64> = seeded(50);
    let x = inputs::<4, 4>(51);
    let t = one_hot::<3, 4>(52);
    let mut fused = ReluGeluGradients::zeros();
    network.loss_and_gradients::<SoftmaxCrossEntropy>(&x, &t, &mut fused);
    let cache = network.forward_train(&x);
    let grad_a = -t.component_div(&cache.a3) / 4.0;
    let (unfused, _) = network.backward(&x, &cache, &grad_a);
    assert_same_values(
        "softmax cross-entropy",
        fused.slices().flatten(),
        unfused.slices().flatten(),
    );

    let network: TanhSigmoid<f64> = seeded(53);
    let x = inputs::<3, 4>(54);
    let t = probabilities::<2, 4>(55);
    let mut fused = TanhSigmoidGradients::zeros();
    network.loss_and_gradients::<SigmoidCrossEntropy>(&x, &t, &mut fused);
    let cache = network.forward_train(&x);
    let grad_a = (cache.a2 - t).component_div(&cache.a2.map(|a| a * (1.0 - a))) / 4.0;
    let (unfused, _) = network.backward(&x, &cache, &grad_a);
    assert_same_values(
        "sigmoid cross-entropy",
        fused.slices().flatten(),
        unfused.slices().flatten(),
    );
}

/// The default scalar is `f32`; such networks train: one small step of plain
/// gradient descent lowers the loss.
fn one_f32_step_lowers_the_loss<N, L, const IN: usize, const OUT: usize>(
    name: &str,
    t: SMatrix<f32, OUT, 4>,
) where
    N: Network<f32, IN, OUT> + Deterministic,
    L: Loss<N::OutputActivation>,
{
    let mut network = N::random(60);
    let x = inputs::<IN, 4>(61).cast::<f32>();
    let mut grads = N::Gradients::zeros();
    let before = network.loss_and_gradients::<L>(&x, &t, &mut grads);
    assert!(
        grads.all_finite() && grads.norm_squared() > 0.0,
        "{name}: {before}"
    );
    Sgd::new(0.05f32)
        .unwrap()
        .step(&mut network, &grads)
        .unwrap();
    let after = network.loss::<L>(&x, &t);
    println!("{name} (f32): loss {before} -> {after}");
    assert!(after < before, "{name}: loss {before} -> {after}");
}

#[test]
fn f32_networks_train() {
    let _: Affine = Affine::<f32>::zeroed();
    one_f32_step_lowers_the_loss::<Affine, SoftmaxCrossEntropy, 3, 3>(
        "affine",
        one_hot::<3, 4>(62).cast(),
    );
    one_f32_step_lowers_the_loss::<TanhSigmoid, SigmoidCrossEntropy, 3, 2>(
        "tanh-sigmoid",
        probabilities::<2, 4>(63).cast(),
    );
    one_f32_step_lowers_the_loss::<ReluGelu, SoftmaxCrossEntropy, 4, 3>(
        "relu-gelu",
        one_hot::<3, 4>(64).cast(),
    );
    one_f32_step_lowers_the_loss::<SteepLeakyGeluTanh, MeanSquaredError, 3, 2>(
        "steep-leaky-gelu-tanh",
        real::<2, 4>(65).cast(),
    );
    // The generated inherent methods take arrays for single samples.
    let network: LeakyMishSwish = LeakyMishSwish::random(66);
    let mut grads = LeakyMishSwishGradients::zeros();
    let loss = network.loss_and_gradients::<HalfSquaredError>(
        &[0.5f32, -0.25, 1.0],
        &[1.0f32, 0.0],
        &mut grads,
    );
    assert!(loss.is_finite() && grads.all_finite());
}

#[test]
fn convolutions_and_pooling() {
    // 2 x 7 x 7 -> conv 3 x 7 x 7 -> max 3 x 6 x 6 -> conv 2 x 2 x 2 ->
    // average 2 x 1 x 1 -> 3.
    assert_eq!(SmallLeNet::<f64>::INPUTS, 98);
    assert_eq!(
        SmallLeNet::<f64>::PARAMETERS,
        (2 * 9 + 1) * 3 + (3 * 9 + 1) * 2 + (2 + 1) * 3
    );
    check::<SmallLeNet<f64>, SoftmaxCrossEntropy, 98, 3>("small-lenet", 50, one_hot);
    check::<SmallLeNet<f64>, HalfSquaredError, 98, 3>("small-lenet", 51, real);
    // 2 x 11 -> conv 3 x 6 -> max 3 x 4 -> conv 2 x 3 -> average 2 x 1 -> 2.
    assert_eq!(
        Sequence::<f64>::PARAMETERS,
        (2 * 3 + 1) * 3 + (3 * 2 + 1) * 2 + (2 + 1) * 2
    );
    check::<Sequence<f64>, HalfSquaredError, 22, 2>("sequence", 52, real);
    check::<Sequence<f64>, MeanSquaredError, 22, 2>("sequence", 53, real);
}
