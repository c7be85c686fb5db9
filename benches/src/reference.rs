//! The workloads in dfdx 0.13, on its default CPU device (`Cpu`), written as
//! dfdx's own examples train: `forward_mut(x.traced(grads))`, a loss,
//! `backward`, `Optimizer::update`, `zero_grads`.
//!
//! Run with `RAYON_NUM_THREADS=1` for one thread: dfdx's matmul asks rayon
//! for `current_num_threads()` workers.

use dfdx::optim::{Adam, Sgd};
use dfdx::prelude::*;

/// Workload A in dfdx.
pub type XorModel = (Linear<2, 4>, Tanh, Linear<4, 1>, Sigmoid);
/// Workload B in dfdx: the output is the logits, the loss applies the softmax.
pub type ModelB = (Linear<64, 32>, ReLU, Linear<32, 10>);
/// Workload C in dfdx: the output is the logits, the loss applies the softmax.
pub type ModelC = (Linear<784, 128>, ReLU, Linear<128, 10>);

type Built<M> = <M as BuildOnDevice<Cpu, f32>>::Built;

/// A dfdx linear layer.
pub type DfdxLinear<const I: usize, const O: usize> = dfdx::nn::modules::Linear<I, O, f32, Cpu>;

/// Copies a column-major `O x I` weight matrix (ours) into dfdx's row-major
/// `[O, I]` weight, and the biases.
pub fn load_linear<const I: usize, const O: usize>(
    layer: &mut DfdxLinear<I, O>,
    w_column_major: &[f32],
    b: &[f32],
) {
    let mut row_major = vec![0.0; I * O];
    for i in 0..I {
        for o in 0..O {
            row_major[o * I + i] = w_column_major[i * O + o];
        }
    }
    layer.weight.copy_from(&row_major);
    layer.bias.copy_from(b);
}

/// A model, its gradients and its optimizer: everything a dfdx training
/// step touches.
pub struct Trainer<M: BuildOnDevice<Cpu, f32>, O> {
    /// The device every tensor lives on.
    pub dev: Cpu,
    /// The model.
    pub model: Built<M>,
    grads: Option<Gradients<f32, Cpu>>,
    opt: O,
}

/// Workload A's trainer.
pub type XorTrainer = Trainer<XorModel, Sgd<Built<XorModel>, f32, Cpu>>;
/// Workload B's trainer.
pub type TrainerB = Trainer<ModelB, Adam<Built<ModelB>, f32, Cpu>>;
/// Workload C's trainer.
pub type TrainerC = Trainer<ModelC, Sgd<Built<ModelC>, f32, Cpu>>;

fn sgd<M>(model: &M, lr: f64) -> Sgd<M, f32, Cpu> {
    Sgd::new(
        model,
        SgdConfig {
            lr,
            momentum: None,
            weight_decay: None,
        },
    )
}

impl XorTrainer {
    /// A trainer with SGD at `lr`, whose weights are then loaded by the caller.
    pub fn new(lr: f64) -> Self {
        let dev = Cpu::default();
        let model = dev.build_module::<XorModel, f32>();
        let grads = Some(model.alloc_grads());
        let opt = sgd(&model, lr);
        Trainer {
            dev,
            model,
            grads,
            opt,
        }
    }

    /// Inference of one sample.
    pub fn infer(&self, x: &Tensor<Rank1<2>, f32, Cpu>) -> Tensor<Rank1<1>, f32, Cpu> {
        self.model.forward(x.clone())
    }

    /// One SGD step on `0.5 (a - t)^2`; returns the loss before the step.
    pub fn step(&mut self, x: &Tensor<Rank1<2>, f32, Cpu>, t: &Tensor<Rank1<1>, f32, Cpu>) -> f32 {
        let grads = self
            .grads
            .take()
            .expect("gradients are put back after each step");
        let y = self.model.forward_mut(x.clone().traced(grads));
        let loss = mse_loss(y, t.clone()) * 0.5;
        let value = loss.array();
        let mut grads = loss.backward();
        self.opt
            .update(&mut self.model, &grads)
            .expect("every parameter has a gradient");
        self.model.zero_grads(&mut grads);
        self.grads = Some(grads);
        value
    }
}

macro_rules! batch_trainer {
    ($trainer:ty, $i:literal, $o:literal, $b:literal) => {
        impl $trainer {
            /// One step on the mean softmax cross-entropy of a batch;
            /// returns the loss before the step.
            pub fn step(
                &mut self,
                x: &Tensor<Rank2<$b, $i>, f32, Cpu>,
                t: &Tensor<Rank2<$b, $o>, f32, Cpu>,
            ) -> f32 {
                let grads = self
                    .grads
                    .take()
                    .expect("gradients are put back after each step");
                let logits = self.model.forward_mut(x.clone().traced(grads));
                let loss = cross_entropy_with_logits_loss(logits, t.clone());
                let value = loss.array();
                let mut grads = loss.backward();
                self.opt
                    .update(&mut self.model, &grads)
                    .expect("every parameter has a gradient");
                self.model.zero_grads(&mut grads);
                self.grads = Some(grads);
                value
            }

            /// Inference: the softmax output of each sample.
            pub fn infer(
                &self,
                x: &Tensor<Rank2<$b, $i>, f32, Cpu>,
            ) -> Tensor<Rank2<$b, $o>, f32, Cpu> {
                self.model.forward(x.clone()).softmax::<Axis<1>>()
            }
        }
    };
}

batch_trainer!(TrainerB, 64, 10, 32);
batch_trainer!(TrainerC, 784, 10, 64);

impl TrainerB {
    /// A trainer with Adam at `lr` (betas 0.9, 0.999, eps 1e-8).
    pub fn new(lr: f64) -> Self {
        let dev = Cpu::default();
        let model = dev.build_module::<ModelB, f32>();
        let grads = Some(model.alloc_grads());
        let opt = Adam::new(
            &model,
            AdamConfig {
                lr,
                betas: [0.9, 0.999],
                eps: 1e-8,
                weight_decay: None,
            },
        );
        Trainer {
            dev,
            model,
            grads,
            opt,
        }
    }
}

impl TrainerC {
    /// A trainer with SGD at `lr`.
    pub fn new(lr: f64) -> Self {
        let dev = Cpu::default();
        let model = dev.build_module::<ModelC, f32>();
        let grads = Some(model.alloc_grads());
        let opt = sgd(&model, lr);
        Trainer {
            dev,
            model,
            grads,
            opt,
        }
    }
}

/// A `[B, N]` tensor from sample-major rows.
pub fn tensor<const N: usize, const B: usize>(
    dev: &Cpu,
    rows: &[[f32; N]; B],
) -> Tensor<Rank2<B, N>, f32, Cpu> {
    let mut t: Tensor<Rank2<B, N>, f32, Cpu> = dev.zeros();
    t.copy_from(rows.as_flattened());
    t
}

/// A `[N]` tensor.
pub fn vector<const N: usize>(dev: &Cpu, v: [f32; N]) -> Tensor<Rank1<N>, f32, Cpu> {
    dev.tensor(v)
}
