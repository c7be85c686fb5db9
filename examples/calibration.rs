//! Fits the thermistor calibration curve of the Cortex-M4 firmware (a
//! 1-16-1 tanh network, 32 readings from -20 to 80 °C; the same source
//! file, `examples/cortex-m4/src/calibration.rs`) with Levenberg–Marquardt
//! for weight seeds 1 to 20, and with the firmware's Adam for comparison.
//!
//! Run with `cargo run --release --example calibration`. LM (MATLAB's
//! `trainlm` damping, full batch) stops at the first epoch after which the
//! largest error over every whole degree from -20 to 80 °C is below
//! 0.5 °C, at the damping limit, or after `LM_EPOCHS` epochs. Adam runs as
//! the firmware does: learning rate 0.05 with a cosine schedule to 0 over
//! 6,000 epochs of full batches of 32. Prints a line per seed, the wall
//! time of each method, and `seeds within 0.5 °C: <n>/20` for each; exits
//! with failure unless LM's count is 20/20 (Adam's is for comparison only).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use network::{DampedOutcome, DampingConfig, LevenbergMarquardt, StepError, TrainError};

#[path = "cortex-m4/src/calibration.rs"]
mod calibration;
use calibration::{
    ADAM_EPOCHS, Calibration, calibration_max_error, calibration_samples, train_with_adam,
};

/// The largest acceptable error, in degrees Celsius.
const TARGET: f32 = 0.5;
/// The weight seeds.
const SEEDS: u64 = 20;
/// At most this many LM epochs per seed: a tenth of Adam's would be 600;
/// the slowest of seeds 1 to 20 needed 60 when this was set.
const LM_EPOCHS: usize = 100;

type Samples = [([f32; 1], [f32; 1]); 32];
type Lm = LevenbergMarquardt<f32, { Calibration::<f32>::PARAMETERS }>;

/// Levenberg–Marquardt from the weights of `seed` until the calibration
/// target is met; returns the epochs taken and the largest error.
fn fit_lm(seed: u64, data: &Samples) -> Result<(usize, f32), StepError> {
    let mut net = Calibration::<f32>::random(seed);
    let mut lm = Lm::new(DampingConfig::trainlm())?;
    let mut max_error = calibration_max_error(&net);
    let mut epochs = 0;
    while epochs < LM_EPOCHS && max_error >= TARGET {
        if let DampedOutcome::DampingLimit { .. } = lm.step(&mut net, &data[..])? {
            break;
        }
        epochs += 1;
        max_error = calibration_max_error(&net);
    }
    Ok((epochs, max_error))
}

/// The firmware's training from the weights of `seed`; returns the largest
/// error.
fn fit_adam(seed: u64) -> Result<f32, TrainError> {
    let mut net = Calibration::<f32>::random(seed);
    train_with_adam(&mut net, |_| ())?;
    Ok(calibration_max_error(&net))
}

fn main() -> ExitCode {
    let data = calibration_samples();
    let (mut lm_time, mut adam_time) = (Duration::ZERO, Duration::ZERO);
    let (mut lm_within, mut adam_within) = (0, 0);
    let mut lm_most_epochs = 0;
    println!("seed  LM epochs  LM max error  Adam max error ({ADAM_EPOCHS} epochs)");
    for seed in 1..=SEEDS {
        let start = Instant::now();
        let lm = fit_lm(seed, &data);
        lm_time += start.elapsed();
        let start = Instant::now();
        let adam = fit_adam(seed);
        adam_time += start.elapsed();
        let (epochs, lm_error) = match lm {
            Ok(fitted) => fitted,
            Err(error) => {
                eprintln!("seed {seed}: LM failed: {error}");
                return ExitCode::FAILURE;
            }
        };
        let adam_error = match adam {
            Ok(error) => error,
            Err(error) => {
                eprintln!("seed {seed}: Adam failed: {error}");
                return ExitCode::FAILURE;
            }
        };
        lm_within += usize::from(lm_error < TARGET);
        adam_within += usize::from(adam_error < TARGET);
        lm_most_epochs = lm_most_epochs.max(epochs);
        println!("{seed:4}  {epochs:9}  {lm_error:10.4} C  {adam_error:12.4} C");
    }
    println!(
        "LM:   {:.1} ms for {SEEDS} seeds, at most {lm_most_epochs} epochs",
        lm_time.as_secs_f64() * 1e3
    );
    println!(
        "Adam: {:.1} ms for {SEEDS} seeds, {ADAM_EPOCHS} epochs each",
        adam_time.as_secs_f64() * 1e3
    );
    println!("Adam seeds within {TARGET} °C: {adam_within}/{SEEDS}");
    println!("seeds within {TARGET} °C: {lm_within}/{SEEDS}");
    if lm_within == SEEDS as usize {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
