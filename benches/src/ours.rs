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
    let loss = net.loss_and_gradients::<HalfSquaredError, 1, _, _>(x, t, grads);
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
    let loss = net.loss_and_gradients::<SoftmaxCrossEntropy, 64, _, _>(x, t, grads);
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
    let loss = net.loss_and_gradients::<SoftmaxCrossEntropy, 32, _, _>(x, t, grads);
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
    /// Workload Conv: LeNet's second convolution alone (6 x 14 x 14 in,
    /// 16 kernels of 5 x 5), for its forward and backward passes.
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
    let loss = net.loss_and_gradients::<SoftmaxCrossEntropy, 32, _, _>(x, t, grads);
    match adam.step(net, grads) {
        Ok(()) => loss,
        Err(_) => f32::NAN,
    }
}

/// Workload Conv: the forward pass and the whole backward pass (weights,
/// biases and `dC/dx`) of the layer on a batch of 32, from `dC/dz = g`.
#[inline]
pub fn conv_layer_pass(
    net: &ConvLayer,
    grads: &mut ConvLayerGradients,
    x: &SMatrix<f32, 1176, 32>,
    g: &SMatrix<f32, 1600, 32>,
) -> f32 {
    let cache = net.forward_train(x);
    let grad_x =
        <ConvLayer as Network<f32, 1176, 1600>>::backward_delta_into(net, x, &cache, g, grads);
    grad_x[(0, 0)] + cache.z1[(0, 0)]
}
