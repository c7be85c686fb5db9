//! The thermistor calibration of `train` fitted by Levenberg–Marquardt on
//! the device, run by `cargo run --release --bin lm`: from the same weights
//! (seed 1) and the same 32 readings, full-batch steps with MATLAB's
//! `trainlm` damping until the largest error from -20 to 80 °C is below
//! 0.5 °C, at most `EPOCHS` of them (Adam takes 6,000 epochs in `train`).
//!
//! The optimizer, two 49 x 49 matrices and three vectors of 49 (19,840
//! bytes, `LevenbergMarquardt::BYTES`), is a local of `main`, on the stack
//! with everything else, built in place (`LevenbergMarquardt::new_in`); the
//! stack peak it prints includes it. It exits with success only if the
//! target is reached.
#![no_std]
#![no_main]

use core::mem::MaybeUninit;

use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use network::{DampedOutcome, DampingConfig, LevenbergMarquardt};
use network_cortex_m4::{
    Calibration, calibration_max_error, calibration_samples, exit, paint_stack, stack_peak, valid,
};

/// At most this many steps; the host example needs at most 60 for any of
/// seeds 1 to 20.
const EPOCHS: usize = 100;
const TARGET: f32 = 0.5;

type Lm = LevenbergMarquardt<f32, { Calibration::<f32>::PARAMETERS }>;

#[entry]
fn main() -> ! {
    paint_stack();
    let data = calibration_samples();
    let mut net = Calibration::<f32>::random(1);
    // Built in place: `LevenbergMarquardt::new` would return it through a
    // temporary and a `Result`, two more copies of its 19,840 bytes on the
    // stack (a peak of 61,312 bytes instead of 23,752).
    let mut slot = MaybeUninit::uninit();
    let lm = valid(Lm::new_in(&mut slot, DampingConfig::trainlm()));
    let mut max_error = calibration_max_error(&net);
    let mut epochs = 0;
    while epochs < EPOCHS && max_error >= TARGET {
        match lm.step(&mut net, &data[..]) {
            Ok(DampedOutcome::Lowered { after, mu, .. }) => {
                epochs += 1;
                max_error = calibration_max_error(&net);
                hprintln!(
                    "lm    epoch {:3}  loss {:.3e}  mu {:.0e}  max error {:.3} C",
                    epochs,
                    after,
                    mu,
                    max_error
                );
            }
            Ok(DampedOutcome::DampingLimit { .. }) => {
                hprintln!("lm    the damping limit is reached");
                break;
            }
            Err(error) => {
                hprintln!("lm    step failed: {}", error);
                exit(false)
            }
        }
    }
    let success = max_error < TARGET;
    hprintln!(
        "lm    max error {:.3} C from -20 to 80 C after {} epochs (target < {} C), {} optimizer bytes",
        max_error,
        epochs,
        TARGET,
        Lm::BYTES
    );
    hprintln!("lm    stack peak {} bytes", stack_peak());
    hprintln!("{}", if success { "target reached" } else { "FAILED" });
    exit(success)
}
