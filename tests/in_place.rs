//! The in-place training pass: `forward_cache_into` writes every field of a
//! cache whatever it held, and `backward_in_place` (each `delta_l` written
//! over `z_l`, each hidden `f'` over `a_l`) gives exactly the gradients of
//! the textbook recursion `delta_(l-1) = f'(z_(l-1)) ∘ (dz_l/da_(l-1))^T
//! delta_l`, written here with the layers' by-value methods.

use network::prelude::*;
use network::{Layer, Noise};

network! {
    /// Every kind of layer: a convolution, a max pooling (which reads its
    /// input backwards, so its delta takes a matrix of its own), a dropout,
    /// and two dense layers.
    struct Mixed {
        input: [1, 6, 6],
        conv: Conv2d<2, 3, Tanh, padding = 1>,
        pool: MaxPool2d<2>,
        drop: Dropout<0.25>,
        hidden: Dense<5, Sigmoid>,
        output: Dense<3, Softmax>,
    }
}

network! {
    struct Scaled {
        input: 3,
        scale: Standardize,
        hidden: Dense<4, Gelu>,
        output: Dense<2, Identity>,
    }
}

fn inputs<const IN: usize, const B: usize>(seed: u64) -> SMatrix<f64, IN, B> {
    let mut rng = Rng::new(seed);
    SMatrix::from_fn(|_, _| rng.uniform(-1.5, 1.5))
}

/// A cache whose every value is NaN: what `forward_cache_into` overwrites.
fn poisoned<C: Cache<f64, OUT, B>, const OUT: usize, const B: usize>(
    mut cache: C,
    fields: impl Fn(&mut C) -> Vec<&mut [f64]>,
) -> C {
    for slice in fields(&mut cache) {
        slice.fill(f64::NAN);
    }
    cache
}

#[test]
fn forward_cache_into_overwrites_whatever_the_cache_held() {
    let net = Mixed::<f64>::random(3);
    let x = inputs::<36, 4>(1);
    let noise = Noise::seeded(9);
    let expected = net.forward_cache(&x, noise);
    let mut cache = poisoned(expected, |c| {
        vec![
            c.z1.as_mut_slice(),
            c.a1.as_mut_slice(),
            c.z2.as_mut_slice(),
            c.a2.as_mut_slice(),
            c.z3.as_mut_slice(),
            c.a3.as_mut_slice(),
            c.z4.as_mut_slice(),
            c.a4.as_mut_slice(),
            c.z5.as_mut_slice(),
            c.a5.as_mut_slice(),
        ]
    });
    cache.noise = Noise::OFF;
    net.forward_cache_into(&x, noise, &mut cache);
    assert_eq!(cache, expected);
}

#[test]
fn backward_in_place_is_the_textbook_recursion_exactly() {
    let net = Mixed::<f64>::random(5);
    let x = inputs::<36, 4>(2);
    let t = SMatrix::<f64, 3, 4>::from_fn(|i, j| f64::from(u8::from(i == j % 3)));
    let noise = Noise::seeded(11);
    let c = net.forward_cache(&x, noise);
    let delta5 = <SoftmaxCrossEntropy as Loss<Softmax>>::output_delta(&c.z5, &c.a5, &t);

    // The recursion with by-value matrices, layer by layer.
    let mut expected = MixedGradients::zeros();
    net.output
        .parameter_gradients_into(&delta5, &c.a4, &mut expected.output);
    let grad_a4 = net
        .output
        .input_gradient(&delta5, &c.a4, noise.for_layer(5));
    let delta4 = Sigmoid::backward(&c.z4, &c.a4, &grad_a4);
    net.hidden
        .parameter_gradients_into(&delta4, &c.a3, &mut expected.hidden);
    let grad_a3 = net
        .hidden
        .input_gradient(&delta4, &c.a3, noise.for_layer(4));
    let delta3 = Identity::backward(&c.z3, &c.a3, &grad_a3);
    let grad_a2 = net.drop.input_gradient(&delta3, &c.a2, noise.for_layer(3));
    let delta2 = Identity::backward(&c.z2, &c.a2, &grad_a2);
    let grad_a1 = net.pool.input_gradient(&delta2, &c.a1, noise.for_layer(2));
    let delta1 = Tanh::backward(&c.z1, &c.a1, &grad_a1);
    net.conv
        .parameter_gradients_into(&delta1, &x, &mut expected.conv);
    let grad_x = net.conv.input_gradient(&delta1, &x, noise.for_layer(1));

    let mut spent = c;
    *spent.logits_mut() = delta5;
    let mut grads = MixedGradients::zeros();
    let mut got_x = SMatrix::<f64, 36, 4>::from_element(f64::NAN);
    net.backward_in_place_with_input(&x, &mut spent, &mut grads, &mut got_x);
    assert_eq!(grads, expected);
    assert_eq!(got_x, grad_x);
    // The cache now holds the deltas over the pre-activations.
    assert_eq!((spent.z4, spent.z1), (delta4, delta1));

    // Without dC/dx, and through the by-value API over a copy.
    let mut spent = c;
    *spent.logits_mut() = delta5;
    let mut grads = MixedGradients::zeros();
    net.backward_in_place(&x, &mut spent, &mut grads);
    assert_eq!(grads, expected);
    let mut grads = MixedGradients::zeros();
    assert_eq!(net.backward_delta_into(&x, &c, &delta5, &mut grads), grad_x);
    assert_eq!(grads, expected);
}

#[test]
fn a_standardised_network_back_propagates_through_its_scale() {
    let mut net = Scaled::<f64>::random(2);
    let rows = [([1.0, 20.0, -3.0], [0.0; 2]), ([3.0, 10.0, 5.0], [0.0; 2])];
    net.fit_statistics(&rows[..]).unwrap();
    let x = inputs::<3, 5>(4);
    let t = inputs::<2, 5>(5);
    let c = net.forward_cache(&x, Noise::OFF);
    let delta3 = <HalfSquaredError as Loss<Identity>>::output_delta(&c.z3, &c.a3, &t);
    let mut expected = ScaledGradients::zeros();
    net.output
        .parameter_gradients_into(&delta3, &c.a2, &mut expected.output);
    let grad_a2 = net.output.input_gradient(&delta3, &c.a2, Noise::OFF);
    let delta2 = Gelu::backward(&c.z2, &c.a2, &grad_a2);
    net.hidden
        .parameter_gradients_into(&delta2, &c.a1, &mut expected.hidden);
    let grad_a1 = net.hidden.input_gradient(&delta2, &c.a1, Noise::OFF);
    let delta1 = Identity::backward(&c.z1, &c.a1, &grad_a1);
    let grad_x = net.scale.input_gradient(&delta1, &x, Noise::OFF);

    let mut grads = ScaledGradients::zeros();
    let (_, got_x) = net.loss_gradients_and_input_gradient::<HalfSquaredError>(&x, &t, &mut grads);
    assert_eq!(grads, expected);
    assert_eq!(got_x, grad_x);
}
