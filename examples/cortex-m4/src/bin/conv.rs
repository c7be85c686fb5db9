//! A 1-D convolutional network trained on the device, with no heap: it tells
//! two motions of a 3-axis accelerometer apart (an oscillation along x, or
//! along z) from windows of 32 readings, and must classify at least 30 of
//! 32 held-out windows correctly. Run by `cargo run --release --bin conv`.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use network::prelude::*;
use network_cortex_m4::{Fixed, exit, paint_stack, stack_peak, valid};

network! {
    /// 3 axes x 32 readings in, two motions out (122 parameters).
    pub struct Motion {
        input: [3, 32],
        conv1: Conv1d<4, 5, Relu, stride = 2>, // 4 x 14
        pool1: MaxPool1d<2>,                   // 4 x 7 = 28 values
        output: Dense<2, Softmax>,
    }
}

/// Values per window: 3 axes of 32 readings, axis after axis.
const WINDOW: usize = 96;
/// Windows per set, half of each motion.
const WINDOWS: usize = 32;
const EPOCHS: usize = 60;
/// Of the 32 held-out windows, how many must be right.
const TARGET: usize = 30;

#[entry]
fn main() -> ! {
    paint_stack();
    let train = windows(1);
    let test = windows(2);
    let mut net = Motion::<f32>::random(3);
    let mut grads = MotionGradients::zeros();
    let mut adam = valid(Adam::new(AdamConfig::adam(0.02)));
    let mut order = [0usize; WINDOWS];
    let trainer = valid(Trainer::<SoftmaxCrossEntropy, 8>::new(
        TrainConfig::new(EPOCHS).seed(4),
    ));
    let fitted = trainer.fit(
        &mut net,
        &mut adam,
        &mut grads,
        &train[..],
        &mut order,
        |stats, _| {
            if stats.epoch % 20 == 0 || stats.epoch + 1 == stats.epochs {
                hprintln!(
                    "conv  epoch {:3}  loss {}",
                    stats.epoch,
                    Fixed(stats.train_loss as f32, 6)
                );
            }
            Control::Continue
        },
    );
    let correct = test
        .iter()
        .filter(|(x, t)| net.forward(x).imax() == t.iter().position(|&v| v == 1.0).unwrap_or(2))
        .count();
    hprintln!(
        "conv  {}/{} held-out windows right (target {}), {} parameters, stack peak {} bytes",
        correct,
        WINDOWS,
        TARGET,
        Motion::<f32>::PARAMETERS,
        stack_peak()
    );
    exit(fitted.is_ok() && correct >= TARGET)
}

/// 32 windows, alternately an oscillation along x (class 0) and along z
/// (class 1), each of random amplitude, period and phase, with noise on
/// every axis and gravity on z.
fn windows(seed: u64) -> [([f32; WINDOW], [f32; 2]); WINDOWS] {
    let mut rng = Rng::new(seed);
    core::array::from_fn(|k| {
        let class = k % 2;
        let axis = if class == 0 { 0 } else { 2 };
        let amplitude: f64 = rng.uniform(0.5, 1.5);
        let period: f64 = rng.uniform(6.0, 10.0);
        let phase: f64 = rng.uniform(0.0, core::f64::consts::TAU);
        let mut x = [0.0f32; WINDOW];
        for (i, v) in x.iter_mut().enumerate() {
            let (a, t) = (i / 32, (i % 32) as f64);
            let mut value = 0.2 * rng.normal();
            if a == 2 {
                value += 1.0;
            }
            if a == axis {
                value += amplitude * libm::sin(core::f64::consts::TAU * t / period + phase);
            }
            *v = value as f32;
        }
        let mut target = [0.0f32; 2];
        target[class] = 1.0;
        (x, target)
    })
}
