//! Regression of `sin x` on `[-pi, pi]`: a 1-16-16-1 tanh network trained by
//! plain mini-batch gradient descent (with an exponentially decaying step
//! size) on freshly drawn samples.
//!
//! Prints the progress, then, as its last line, `final mse: <value>`: the mean
//! squared error over 1000 evenly spaced points. Exits with status 1 if that
//! error is not below `1e-3`.
//!
//! `cargo run --release --example sine`

use std::f32::consts::PI;
use std::process::ExitCode;

use network::StepError;
use network::prelude::*;

network! {
    /// Approximates `sin x` for `x` in `[-pi, pi]`.
    struct Sine {
        input: 1,
        first: Dense<16, Tanh>,
        second: Dense<16, Tanh>,
        output: Dense<1, Identity>,
    }
}

/// Samples per gradient step.
const BATCH: usize = 16;
/// Gradient steps.
const STEPS: usize = 40_000;
/// The initial step size of gradient descent.
const LEARNING_RATE: f32 = 0.2;
/// The step size decays exponentially, to this fraction of `LEARNING_RATE`
/// at the last step, so that the last steps average out the sampling noise.
const FINAL_DECAY: f32 = 0.1;
/// The number of evenly spaced points the final error is measured on.
const GRID: usize = 1000;
/// The largest acceptable final mean squared error.
const TARGET_MSE: f32 = 1e-3;

/// The mean of `(net(x) - sin x)^2` over `GRID` evenly spaced `x` in `[-pi, pi]`.
fn grid_mse(net: &Sine) -> f32 {
    let total: f32 = (0..GRID)
        .map(|k| {
            let x = -PI + 2.0 * PI * k as f32 / (GRID - 1) as f32;
            let error = net.forward(&[x])[0] - x.sin();
            error * error
        })
        .sum();
    total / GRID as f32
}

/// Mini-batch gradient descent on freshly drawn samples, printing the
/// progress; stops early only if a gradient is not finite.
fn train(net: &mut Sine) -> Result<(), StepError> {
    let mut rng = Rng::new(11);
    let mut grads = SineGradients::zeros();
    let mut sgd = Sgd::new(LEARNING_RATE)?;
    for step in 1..=STEPS {
        let x = SMatrix::<f32, 1, BATCH>::from_fn(|_, _| rng.uniform(-PI, PI));
        let t = x.map(f32::sin);
        sgd.learning_rate = LEARNING_RATE * FINAL_DECAY.powf(step as f32 / STEPS as f32);
        let loss = net.loss_and_gradients::<HalfSquaredError>(&x, &t, &mut grads);
        sgd.step(net, &grads)?;
        if step % 5_000 == 0 {
            println!(
                "step {step:>6}: learning rate {:.3}, batch half squared error {loss:.3e}, grid mse {:.3e}",
                sgd.learning_rate,
                grid_mse(net)
            );
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    println!(
        "{} parameters, {STEPS} steps of {BATCH} samples, learning rate {LEARNING_RATE} decaying to {:.2}",
        <Sine>::PARAMETERS,
        LEARNING_RATE * FINAL_DECAY
    );
    let mut net = Sine::random(7);
    let trained = train(&mut net);
    if let Err(error) = &trained {
        println!("training stopped: {error}");
    }
    let mse = grid_mse(&net);
    println!("final mse: {mse:.3e}");
    if trained.is_ok() && mse < TARGET_MSE {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
