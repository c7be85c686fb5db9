//! The calibration's training and nothing else, so that its size is the
//! size of the training code: trains the thermistor calibration as the
//! `train` firmware does ([`train_with_adam`] from the weights of seed 1),
//! checks it is within 0.5 degrees Celsius from -20 to 80, and reports
//! through the exit code and a fixed line. Nothing is formatted, so core's
//! formatting code is not linked: `arm-none-eabi-size` of this binary is
//! the training code plus the start-up code and semihosting's output and
//! exit.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use network_cortex_m4::{Calibration, calibration_max_error, exit, train_with_adam};

#[entry]
fn main() -> ! {
    let mut net = Calibration::<f32>::random(1);
    let calibrated = train_with_adam(&mut net, |_| ()).is_ok() && calibration_max_error(&net) < 0.5;
    if calibrated {
        hprintln!("calibrated within 0.5 C from -20 to 80 C");
    } else {
        hprintln!("FAILED");
    }
    exit(calibrated)
}
