//! The workloads declared with `network!`: the code a user writes.

use network::prelude::*;

network! {
    /// Workload A: XOR, 2-4-1.
    pub struct XorNet {
        input: 2,
        hidden: Dense<4, Tanh>,
        output: Dense<1, Sigmoid>,
    }
}

network! {
    /// Workload B: 64-32-10.
    pub struct NetB {
        input: 64,
        hidden: Dense<32, Relu>,
        output: Dense<10, Softmax>,
    }
}

network! {
    /// Workload C: 784-128-10, MNIST-sized.
    pub struct NetC {
        input: 784,
        hidden: Dense<128, Relu>,
        output: Dense<10, Softmax>,
    }
}

/// A batch of `B` samples of `N` values, from the sample-major arrays.
pub fn batch<const N: usize, const B: usize>(rows: &[[f32; N]; B]) -> Box<SMatrix<f32, N, B>> {
    let mut m: Box<SMatrix<f32, N, B>> = boxed_zeros();
    m.as_mut_slice().copy_from_slice(rows.as_flattened());
    m
}

/// A zeroed matrix allocated on the heap.
pub fn boxed_zeros<const R: usize, const C: usize>() -> Box<SMatrix<f32, R, C>> {
    Box::new(SMatrix::zeros())
}

/// Workload A: one SGD step on one sample; returns the loss before the step.
#[inline]
pub fn xor_step(
    net: &mut XorNet,
    grads: &mut XorNetGradients,
    sgd: &Sgd<f32>,
    x: &SVector<f32, 2>,
    t: &SVector<f32, 1>,
) -> f32 {
    let loss = net.loss_and_gradients::<HalfSquaredError>(x, t, grads);
    match sgd.step(net, grads) {
        Ok(()) => loss,
        Err(_) => f32::NAN,
    }
}

/// Workload C: one SGD step on a batch of 64; returns the loss before the step.
#[inline]
pub fn c_step(
    net: &mut NetC,
    grads: &mut NetCGradients,
    sgd: &Sgd<f32>,
    x: &SMatrix<f32, 784, 64>,
    t: &SMatrix<f32, 10, 64>,
) -> f32 {
    let loss = net.loss_and_gradients::<SoftmaxCrossEntropy>(x, t, grads);
    match sgd.step(net, grads) {
        Ok(()) => loss,
        Err(_) => f32::NAN,
    }
}

/// Workload B: one Adam step on a batch of 32; returns the loss before the step.
#[inline]
pub fn b_step(
    net: &mut NetB,
    grads: &mut NetBGradients,
    adam: &mut Adam<f32, NetBGradients>,
    x: &SMatrix<f32, 64, 32>,
    t: &SMatrix<f32, 10, 32>,
) -> f32 {
    let loss = net.loss_and_gradients::<SoftmaxCrossEntropy>(x, t, grads);
    match adam.step(net, grads) {
        Ok(()) => loss,
        Err(_) => f32::NAN,
    }
}

network! {
    /// Workload LeNet: LeNet-5 as in `examples/lenet.rs`.
    pub struct LeNet {
        input: [1, 28, 28],
        conv1: Conv2d<6, 5, Relu, padding = 2>,
        pool1: MaxPool2d<2>,
        conv2: Conv2d<16, 5, Relu>,
        pool2: MaxPool2d<2>,
        fc1: Dense<120, Relu>,
        fc2: Dense<84, Relu>,
        output: Dense<10, Softmax>,
    }
}

network! {
    /// Workload Conv: LeNet's first convolution alone (1 x 28 x 28 in, 6
    /// kernels of 5 x 5, padding 2).
    pub struct ConvLayer1 {
        input: [1, 28, 28],
        conv: Conv2d<6, 5, Identity, padding = 2>,
    }
}

network! {
    /// Workload Conv: LeNet's second convolution alone (6 x 14 x 14 in,
    /// 16 kernels of 5 x 5).
    pub struct ConvLayer {
        input: [6, 14, 14],
        conv: Conv2d<16, 5, Identity>,
    }
}

/// Workload LeNet: one Adam step on a batch of 32; returns the loss before
/// the step.
#[inline]
pub fn lenet_step(
    net: &mut LeNet,
    grads: &mut LeNetGradients,
    adam: &mut Adam<f32, LeNetGradients>,
    x: &SMatrix<f32, 784, 32>,
    t: &SMatrix<f32, 10, 32>,
) -> f32 {
    let loss = net.loss_and_gradients::<SoftmaxCrossEntropy>(x, t, grads);
    match adam.step(net, grads) {
        Ok(()) => loss,
        Err(_) => f32::NAN,
    }
}

/// Workload Conv: LeNet's two convolutions as its training step runs them
/// on a batch of 32: the first's forward pass and weight gradient (its
/// `dC/dx` is not needed), the second's forward pass and whole backward
/// pass, from `dC/dz = g1, g2`.
#[inline]
pub fn conv_layers_pass(
    (net1, net2): (&ConvLayer1, &ConvLayer),
    (grads1, grads2): (&mut ConvLayer1Gradients, &mut ConvLayerGradients),
    (x1, g1): (&SMatrix<f32, 784, 32>, &SMatrix<f32, 4704, 32>),
    (x2, g2): (&SMatrix<f32, 1176, 32>, &SMatrix<f32, 1600, 32>),
) -> f32 {
    // As the training step runs them: in place, each cache spent by its
    // backward pass.
    let mut cache1 = net1.forward_train(x1);
    let z1 = cache1.z1[(0, 0)];
    cache1.z1.copy_from(g1);
    <ConvLayer1 as Network<f32, 784, 4704>>::backward_in_place(net1, x1, &mut cache1, grads1);
    let mut cache2 = net2.forward_train(x2);
    let z2 = cache2.z1[(0, 0)];
    cache2.z1.copy_from(g2);
    let mut grad_x = SMatrix::<f32, 1176, 32>::zeros();
    <ConvLayer as Network<f32, 1176, 1600>>::backward_in_place_with_input(
        net2,
        x2,
        &mut cache2,
        grads2,
        &mut grad_x,
    );
    grad_x[(0, 0)] + z1 + z2
}
