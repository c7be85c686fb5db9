//! Plain hand-written Rust: fixed-size arrays and index loops, written the way
//! a careful programmer would without any library — loop orders chosen so the
//! compiler can vectorise the inner loops (unit stride, no reductions across
//! them), but no blocking, packing or intrinsics.
//!
//! Weights are stored `w[i][o]` (input-major, i.e. a column-major `W`, as
//! nalgebra stores it), batches `x[s][i]` (sample-major).
#![allow(clippy::needless_range_loop)]

use crate::data::zeroed;

/// A dense layer from `I` inputs to `O` units.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense<const I: usize, const O: usize> {
    /// `w[i][o]`, the weight from input `i` to unit `o`.
    pub w: [[f32; O]; I],
    /// The bias of each unit.
    pub b: [f32; O],
}

impl<const I: usize, const O: usize> Dense<I, O> {
    /// A zeroed layer, allocated on the heap.
    pub fn boxed_zeros() -> Box<Self> {
        let w = zeroed::<O, I>();
        Box::new(Dense { w: *w, b: [0.0; O] })
    }

    /// The weights and biases as flat slices, weights first.
    pub fn parameters_mut(&mut self) -> [&mut [f32]; 2] {
        [self.w.as_flattened_mut(), &mut self.b]
    }

    /// Copies a column-major `O x I` weight matrix and the biases.
    pub fn load(&mut self, w_column_major: &[f32], b: &[f32]) {
        self.w.as_flattened_mut().copy_from_slice(w_column_major);
        self.b.copy_from_slice(b);
    }
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

// --- Workload A: 2-4-1, tanh, sigmoid, half squared error, SGD. ---

/// The XOR network of workload A.
#[derive(Clone, Debug, PartialEq)]
pub struct Xor {
    /// The hidden layer (tanh).
    pub l1: Dense<2, 4>,
    /// The output layer (sigmoid).
    pub l2: Dense<4, 1>,
}

impl Xor {
    /// The output for one sample.
    pub fn forward(&self, x: &[f32; 2]) -> f32 {
        let mut z2 = self.l2.b[0];
        for h in 0..4 {
            let z1 = self.l1.b[h] + self.l1.w[0][h] * x[0] + self.l1.w[1][h] * x[1];
            z2 += self.l2.w[h][0] * z1.tanh();
        }
        sigmoid(z2)
    }

    /// One SGD step on `0.5 (a - t)^2` for one sample; returns the loss before
    /// the step.
    pub fn train_step(&mut self, x: &[f32; 2], t: f32, lr: f32) -> f32 {
        let mut a1 = [0.0f32; 4];
        let mut z2 = self.l2.b[0];
        for h in 0..4 {
            a1[h] = (self.l1.b[h] + self.l1.w[0][h] * x[0] + self.l1.w[1][h] * x[1]).tanh();
            z2 += self.l2.w[h][0] * a1[h];
        }
        let a2 = sigmoid(z2);
        let loss = 0.5 * (a2 - t) * (a2 - t);
        let delta2 = (a2 - t) * a2 * (1.0 - a2);
        for h in 0..4 {
            let delta1 = self.l2.w[h][0] * delta2 * (1.0 - a1[h] * a1[h]);
            self.l2.w[h][0] -= lr * delta2 * a1[h];
            self.l1.w[0][h] -= lr * delta1 * x[0];
            self.l1.w[1][h] -= lr * delta1 * x[1];
            self.l1.b[h] -= lr * delta1;
        }
        self.l2.b[0] -= lr * delta2;
        loss
    }
}

// --- Workloads B and C: I-H-O, ReLU, softmax cross-entropy, batches. ---

/// A two-layer `I-H-O` network: ReLU hidden layer, softmax output.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp<const I: usize, const H: usize, const O: usize> {
    /// The hidden layer (ReLU).
    pub l1: Box<Dense<I, H>>,
    /// The output layer (softmax).
    pub l2: Box<Dense<H, O>>,
}

/// The gradients of an [`Mlp`], and the buffers of a training step for a
/// batch of `B`.
pub struct Workspace<const I: usize, const H: usize, const O: usize, const B: usize> {
    z1: Box<[[f32; H]; B]>,
    a1: Box<[[f32; H]; B]>,
    p: Box<[[f32; O]; B]>,
    delta1: Box<[[f32; H]; B]>,
    /// `dC/dW1`, `dC/db1`.
    pub g1: Box<Dense<I, H>>,
    /// `dC/dW2`, `dC/db2`.
    pub g2: Box<Dense<H, O>>,
}

impl<const I: usize, const H: usize, const O: usize, const B: usize> Default
    for Workspace<I, H, O, B>
{
    fn default() -> Self {
        Workspace {
            z1: zeroed(),
            a1: zeroed(),
            p: zeroed(),
            delta1: zeroed(),
            g1: Dense::boxed_zeros(),
            g2: Dense::boxed_zeros(),
        }
    }
}

fn affine<const I: usize, const O: usize, const B: usize>(
    layer: &Dense<I, O>,
    x: &[[f32; I]; B],
    z: &mut [[f32; O]; B],
) {
    for s in 0..B {
        z[s] = layer.b;
        for i in 0..I {
            let xi = x[s][i];
            for o in 0..O {
                z[s][o] += layer.w[i][o] * xi;
            }
        }
    }
}

/// Softmax of one column, in place.
fn softmax<const O: usize>(z: &mut [f32; O]) {
    let max = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in z.iter_mut() {
        *v /= sum;
    }
}

/// `g.w = x^T delta` summed over the batch, `g.b = sum of delta`.
fn weight_gradients<const I: usize, const O: usize, const B: usize>(
    g: &mut Dense<I, O>,
    x: &[[f32; I]; B],
    delta: &[[f32; O]; B],
) {
    for i in 0..I {
        let row = &mut g.w[i];
        *row = [0.0; O];
        for s in 0..B {
            let xi = x[s][i];
            for o in 0..O {
                row[o] += xi * delta[s][o];
            }
        }
    }
    g.b = [0.0; O];
    for s in 0..B {
        for o in 0..O {
            g.b[o] += delta[s][o];
        }
    }
}

impl<const I: usize, const H: usize, const O: usize> Mlp<I, H, O> {
    /// A zeroed network on the heap.
    pub fn zeros() -> Self {
        Mlp {
            l1: Dense::boxed_zeros(),
            l2: Dense::boxed_zeros(),
        }
    }

    /// Inference: the softmax output of each sample, written into `out`.
    /// `hidden` is scratch space.
    pub fn forward<const B: usize>(
        &self,
        x: &[[f32; I]; B],
        hidden: &mut [[f32; H]; B],
        out: &mut [[f32; O]; B],
    ) {
        affine(&self.l1, x, hidden);
        for v in hidden.as_flattened_mut() {
            *v = v.max(0.0);
        }
        affine(&self.l2, hidden, out);
        for column in out.iter_mut() {
            softmax(column);
        }
    }

    /// Forward and backward passes: fills `ws.g1`, `ws.g2` with the gradients
    /// of the mean cross-entropy and returns that loss.
    pub fn loss_and_gradients<const B: usize>(
        &self,
        x: &[[f32; I]; B],
        t: &[[f32; O]; B],
        ws: &mut Workspace<I, H, O, B>,
    ) -> f32 {
        affine(&self.l1, x, &mut ws.z1);
        for s in 0..B {
            for h in 0..H {
                ws.a1[s][h] = ws.z1[s][h].max(0.0);
            }
        }
        affine(&self.l2, &ws.a1, &mut ws.p);
        let mut loss = 0.0;
        let scale = 1.0 / B as f32;
        for s in 0..B {
            let z = &mut ws.p[s];
            let max = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            let mut sum = 0.0;
            for v in z.iter() {
                sum += (*v - max).exp();
            }
            let log_sum = max + sum.ln();
            for o in 0..O {
                loss += t[s][o] * (log_sum - z[o]);
                // delta2 = (softmax - t) / B, overwriting the logits.
                z[o] = ((z[o] - log_sum).exp() - t[s][o]) * scale;
            }
        }
        let delta2 = &ws.p;
        weight_gradients(&mut ws.g2, &ws.a1, delta2);
        for s in 0..B {
            for h in 0..H {
                let mut back = 0.0;
                for o in 0..O {
                    back += self.l2.w[h][o] * delta2[s][o];
                }
                ws.delta1[s][h] = if ws.z1[s][h] > 0.0 { back } else { 0.0 };
            }
        }
        weight_gradients(&mut ws.g1, x, &ws.delta1);
        loss * scale
    }

    /// `p <- p - lr g` for every parameter.
    pub fn sgd_step<const B: usize>(&mut self, ws: &mut Workspace<I, H, O, B>, lr: f32) {
        let params = self.l1.parameters_mut().into_iter();
        let params = params.chain(self.l2.parameters_mut());
        let grads = ws.g1.parameters_mut().into_iter();
        let grads = grads.chain(ws.g2.parameters_mut());
        for (p, g) in params.zip(grads) {
            for (p, g) in p.iter_mut().zip(g.iter()) {
                *p -= lr * *g;
            }
        }
    }
}

/// Adam (Kingma and Ba, 2015) state for an [`Mlp`]: first and second moments.
pub struct Adam<const I: usize, const H: usize, const O: usize> {
    m: Mlp<I, H, O>,
    v: Mlp<I, H, O>,
    t: i32,
    /// The step size.
    pub lr: f32,
    /// Decay of the first moment.
    pub beta1: f32,
    /// Decay of the second moment.
    pub beta2: f32,
    /// Added to `sqrt(v_hat)`.
    pub eps: f32,
}

impl<const I: usize, const H: usize, const O: usize> Adam<I, H, O> {
    /// Adam with `beta1 = 0.9`, `beta2 = 0.999`, `eps = 1e-8`.
    pub fn new(lr: f32) -> Self {
        Adam {
            m: Mlp::zeros(),
            v: Mlp::zeros(),
            t: 0,
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }

    /// One Adam update of `net` with the gradients in `ws`.
    pub fn step<const B: usize>(&mut self, net: &mut Mlp<I, H, O>, ws: &mut Workspace<I, H, O, B>) {
        self.t += 1;
        let (b1, b2) = (self.beta1, self.beta2);
        let c1 = 1.0 / (1.0 - b1.powi(self.t));
        let c2 = 1.0 / (1.0 - b2.powi(self.t));
        let params = net.l1.parameters_mut().into_iter();
        let params = params.chain(net.l2.parameters_mut());
        let grads = ws.g1.parameters_mut().into_iter();
        let grads = grads.chain(ws.g2.parameters_mut());
        let ms = self.m.l1.parameters_mut().into_iter();
        let ms = ms.chain(self.m.l2.parameters_mut());
        let vs = self.v.l1.parameters_mut().into_iter();
        let vs = vs.chain(self.v.l2.parameters_mut());
        for (((p, g), m), v) in params.zip(grads).zip(ms).zip(vs) {
            for i in 0..p.len() {
                let g = g[i];
                m[i] = b1 * m[i] + (1.0 - b1) * g;
                v[i] = b2 * v[i] + (1.0 - b2) * g * g;
                let m_hat = m[i] * c1;
                let v_hat = v[i] * c2;
                p[i] -= self.lr * m_hat / (v_hat.sqrt() + self.eps);
            }
        }
    }
}
