//! A user's crate: the README's MNIST network and a 64-32-10 classifier,
//! trained on synthetic data, built with nothing but `network`.
//!
//! ```text
//! cargo run --release                 # check: a few steps of each, loss must fall
//! cargo run --release -- bench [S]    # median time per training step, S seconds each
//! RUSTFLAGS="-C target-cpu=native" cargo run --release -- bench
//! ```
//!
//! `benches/benches/workloads.rs` builds this crate both ways and runs
//! `bench` in the same run as the workspace's own workloads.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use network::prelude::*;
use network::{boxed_zeroed, gemm_kernel};

network! {
    /// Workload C of the benchmarks: MNIST-sized, 784-128-10.
    pub struct Mnist {
        input: 784,
        hidden: Dense<128, Relu>,
        output: Dense<10, Softmax>,
    }
}

network! {
    /// Workload B of the benchmarks: 64-32-10 (the digits example's size).
    pub struct Digits {
        input: 64,
        hidden: Dense<32, Relu>,
        output: Dense<10, Softmax>,
    }
}

/// Samples per training step, as in the benchmarks' workloads C and B.
const BATCH_C: usize = 64;
const BATCH_B: usize = 32;

/// `B` samples: inputs (one per column) and one-hot targets.
type Batch<const IN: usize, const OUT: usize, const B: usize> =
    (Box<SMatrix<f32, IN, B>>, Box<SMatrix<f32, OUT, B>>);

/// A batch of inputs in `[0, 1)` and one-hot targets, from a seeded LCG.
fn batch<const IN: usize, const OUT: usize, const B: usize>(seed: u64) -> Batch<IN, OUT, B> {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as u32
    };
    let mut x: Box<SMatrix<f32, IN, B>> = Box::new(SMatrix::zeros());
    for v in x.iter_mut() {
        *v = next() as f32 / (1u64 << 31) as f32;
    }
    let mut t: Box<SMatrix<f32, OUT, B>> = Box::new(SMatrix::zeros());
    for mut column in t.column_iter_mut() {
        column[next() as usize % OUT] = 1.0;
    }
    (x, t)
}

/// Workload C's state: the network, its gradients, SGD and four batches.
struct StepC {
    net: Box<Mnist>,
    grads: Box<MnistGradients>,
    sgd: Sgd<f32>,
    data: Vec<Batch<784, 10, BATCH_C>>,
}

impl StepC {
    fn new() -> Self {
        StepC {
            net: Mnist::random_boxed(1),
            grads: boxed_zeroed(),
            sgd: Sgd::new(0.05).unwrap(),
            data: (0..4).map(batch).collect(),
        }
    }

    /// One SGD step on batch `k % 4`; the loss before the step.
    fn step(&mut self, k: usize) -> f32 {
        let (x, t) = &self.data[k % self.data.len()];
        let loss = self
            .net
            .loss_and_gradients::<SoftmaxCrossEntropy>(&**x, &**t, &mut self.grads);
        self.sgd
            .step(&mut *self.net, &*self.grads)
            .map_or(f32::NAN, |()| loss)
    }
}

/// Workload B's state: the network, its gradients, Adam and four batches.
struct StepB {
    net: Digits,
    grads: DigitsGradients,
    adam: Adam<f32, DigitsGradients>,
    data: Vec<Batch<64, 10, BATCH_B>>,
}

impl StepB {
    fn new() -> Self {
        StepB {
            net: Digits::random(1),
            grads: DigitsGradients::zeros(),
            adam: Adam::new(AdamConfig::adam(0.01)).unwrap(),
            data: (0..4).map(batch).collect(),
        }
    }

    /// One Adam step on batch `k % 4`; the loss before the step.
    fn step(&mut self, k: usize) -> f32 {
        let (x, t) = &self.data[k % self.data.len()];
        let loss = self
            .net
            .loss_and_gradients::<SoftmaxCrossEntropy>(&**x, &**t, &mut self.grads);
        self.adam
            .step(&mut self.net, &self.grads)
            .map_or(f32::NAN, |()| loss)
    }
}

/// The median time of one call of `step`, over `samples` timed runs that
/// take about `seconds` in all, after a warm-up of a tenth of that.
fn median_step(seconds: f64, mut step: impl FnMut(usize) -> f32) -> Duration {
    let start = Instant::now();
    let mut calls = 0;
    while start.elapsed().as_secs_f64() < seconds / 10.0 {
        black_box(step(calls));
        calls += 1;
    }
    let per_call = start.elapsed().as_secs_f64() / calls as f64;
    const SAMPLES: usize = 21;
    let iters = ((seconds / SAMPLES as f64 / per_call) as usize).max(1);
    let mut times: Vec<Duration> = (0..SAMPLES)
        .map(|_| {
            let start = Instant::now();
            for k in 0..iters {
                black_box(step(k));
            }
            start.elapsed() / iters as u32
        })
        .collect();
    times.sort();
    times[SAMPLES / 2]
}

/// Trains each workload for a few steps on one repeated batch: the loss
/// must be finite and must fall.
fn check() -> Result<(), String> {
    let mut c = StepC::new();
    let first = c.step(0);
    let mut last = first;
    for _ in 0..20 {
        last = c.step(0);
    }
    println!("C (784-128-10, SGD, batch {BATCH_C}): loss {first:.4} -> {last:.4}");
    if !(last.is_finite() && last < first) {
        return Err(format!("workload C did not learn: {first} -> {last}"));
    }
    let mut b = StepB::new();
    let first = b.step(0);
    let mut last = first;
    for _ in 0..20 {
        last = b.step(0);
    }
    println!("B (64-32-10, Adam, batch {BATCH_B}): loss {first:.4} -> {last:.4}");
    if !(last.is_finite() && last < first) {
        return Err(format!("workload B did not learn: {first} -> {last}"));
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("matrix kernel: {:?}", gemm_kernel());
    match args.first().map(String::as_str) {
        None | Some("check") => match check() {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("{message}");
                ExitCode::FAILURE
            }
        },
        Some("bench") => {
            let seconds = match args.get(1).map(|s| s.parse::<f64>()) {
                None => 3.0,
                Some(Ok(s)) if s > 0.0 => s,
                Some(_) => {
                    eprintln!("usage: network-downstream bench [SECONDS > 0]");
                    return ExitCode::FAILURE;
                }
            };
            // One line per workload, `bench NAME NANOSECONDS`, read by the
            // benchmark harness.
            let mut c = StepC::new();
            let median = median_step(seconds, |k| c.step(k));
            println!("bench C {}", median.as_nanos());
            let mut b = StepB::new();
            let median = median_step(seconds, |k| b.step(k));
            println!("bench B {}", median.as_nanos());
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("unknown command `{other}`: expected `check` or `bench [SECONDS]`");
            ExitCode::FAILURE
        }
    }
}
