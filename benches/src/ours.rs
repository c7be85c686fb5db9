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
