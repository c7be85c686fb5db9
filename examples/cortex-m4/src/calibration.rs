//! The thermistor calibration: the network, its training data and its
//! error in degrees.
//!
//! One source for the firmware (`network_cortex_m4` re-exports it) and for
//! the host example `examples/calibration.rs`, which includes this file with
//! `#[path]`: it uses only `network`, whose floats' elementary functions
//! (nalgebra's `ComplexField`) are the platform's on the host and `libm`'s
//! on the device.

use network::nalgebra::ComplexField;
use network::prelude::*;
use network::{Summary, TrainError};

network! {
    /// Calibrates a thermistor: the ADC reading of a voltage divider in, the
    /// temperature out (49 parameters).
    #[derive(Clone, Copy, Debug)]
    pub struct Calibration {
        input: 1,
        hidden: Dense<16, Tanh>,
        output: Dense<1, Identity>,
    }
}

/// The thermistor: a 10 kOhm NTC (beta 3950 K) under a 10 kOhm resistor,
/// read by a 12-bit ADC. Returns the ADC count at `celsius`.
pub fn adc_reading(celsius: f32) -> f32 {
    let kelvin = celsius + 273.15;
    let ntc = 10_000.0 * ComplexField::exp(3950.0 * (1.0 / kelvin - 1.0 / 298.15));
    let fraction = 10_000.0 / (10_000.0 + ntc);
    ComplexField::round(fraction * 4095.0)
}

/// The network's input for an ADC count: centred and scaled to about `[-2, 2]`.
pub fn calibration_input(adc: f32) -> f32 {
    (adc / 4095.0 - 0.5) * 4.0
}

/// The temperature for a network output (trained on `(celsius - 30) / 50`).
pub fn celsius_of_output(output: f32) -> f32 {
    output * 50.0 + 30.0
}

/// The training set: 32 readings from -20 to 80 degrees Celsius.
pub fn calibration_samples() -> [([f32; 1], [f32; 1]); 32] {
    core::array::from_fn(|j| {
        let celsius = -20.0 + 100.0 * j as f32 / 31.0;
        (
            [calibration_input(adc_reading(celsius))],
            [(celsius - 30.0) / 50.0],
        )
    })
}

/// The largest error, in degrees, at every whole degree from -20 to 80.
pub fn calibration_max_error(net: &Calibration<f32>) -> f32 {
    (-20..=80)
        .map(|celsius| {
            let celsius = celsius as f32;
            let x = [calibration_input(adc_reading(celsius))];
            ComplexField::abs(celsius_of_output(net.forward(&x)[0]) - celsius)
        })
        .fold(0.0, f32::max)
}

/// The firmware's training: Adam at learning rate [`ADAM_LEARNING_RATE`]
/// with a cosine schedule down to 0 over [`ADAM_EPOCHS`] epochs of full
/// batches of the 32 [`calibration_samples`], in mean squared error, from
/// `net`'s weights as they are. `on_epoch` sees each epoch's statistics.
///
/// Everything it needs is on its own stack: the samples (256 B), the
/// gradients (196 B), Adam's moments (392 B) and the training cache
/// (4,352 B).
///
/// # Errors
///
/// [`TrainError::Step`] if a loss or an update is not finite (the network
/// then keeps its last finite weights).
pub fn train_with_adam(
    net: &mut Calibration<f32>,
    mut on_epoch: impl FnMut(&EpochStats),
) -> Result<Summary, TrainError> {
    let data = calibration_samples();
    let mut order = [0usize; 32];
    let mut grads = CalibrationGradients::zeros();
    let mut adam = Adam::new(AdamConfig::adam(ADAM_LEARNING_RATE))?;
    let trainer = Trainer::<MeanSquaredError, 32>::new(TrainConfig::new(ADAM_EPOCHS).schedule(
        Schedule::Cosine {
            epochs: ADAM_EPOCHS,
            min_learning_rate: 0.0,
        },
    ))?;
    trainer.fit(
        net,
        &mut adam,
        &mut grads,
        &data[..],
        &mut order,
        |stats, _| {
            on_epoch(stats);
            Control::Continue
        },
    )
}

/// The epochs of [`train_with_adam`].
pub const ADAM_EPOCHS: usize = 6000;
/// The learning rate that [`train_with_adam`]'s cosine schedule starts from.
pub const ADAM_LEARNING_RATE: f32 = 0.05;
