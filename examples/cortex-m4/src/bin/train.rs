//! The full demonstration, run by `cargo run --release`: on the device,
//!
//! 1. trains XOR with SGD to 4/4 correct;
//! 2. trains a thermistor calibration curve with Adam and a cosine schedule
//!    (`Trainer::fit`) to within 0.5 degrees Celsius from -20 to 80;
//! 3. round-trips the calibration through `to_bytes` / `from_bytes` in a
//!    stack buffer;
//! 4. runs inference from XOR weights compiled into flash
//!    (`src/xor_weights.rs`, written on the host by `codegen::write_static`).
//!
//! It exits with success only if every target is reached.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use network::prelude::*;
use network::serialize::{from_bytes, serialized_size, to_bytes};
use network_cortex_m4::{
    ADAM_EPOCHS, CPU_HZ, Calibration, Fixed, InstructionCounter, XOR_IN_FLASH, adc_reading,
    calibration_input, calibration_max_error, celsius_of_output, exit, paint_stack, stack_peak,
    train_with_adam, train_xor, xor_correct, xor_inputs,
};

const CALIBRATION_TARGET: f32 = 0.5;
/// The calibration's loss is kept every this many epochs.
const LOSS_EVERY: usize = 500;
/// The losses kept: every [`LOSS_EVERY`] epochs and at the last.
type Losses = [f32; ADAM_EPOCHS / LOSS_EVERY + 1];

#[entry]
fn main() -> ! {
    paint_stack();

    let Ok(counter) = InstructionCounter::new(CPU_HZ) else {
        hprintln!("the instruction counter is wrong: run QEMU with -icount");
        exit(false)
    };
    let xor_ok = xor_phase(&counter);
    let calibration_ok = calibration_phase();

    let flash_ok = xor_correct(&XOR_IN_FLASH.forward(&xor_inputs())) == 4;
    hprintln!(
        "flash xor from weights in flash at {:p}: {}",
        &XOR_IN_FLASH,
        if flash_ok { "4/4 correct" } else { "WRONG" }
    );

    hprintln!("stack peak {} bytes", stack_peak());
    let success = xor_ok && calibration_ok && flash_ok;
    hprintln!(
        "{}",
        if success {
            "all targets reached"
        } else {
            "FAILED"
        }
    );
    exit(success)
}

/// Trains XOR and prints the result; true if all 4 are correct. Not
/// inlined, so that nothing of it stays in `main`'s frame.
#[inline(never)]
fn xor_phase(counter: &InstructionCounter) -> bool {
    let xor = train_xor(3000, 500, counter);
    hprintln!(
        "xor   {}/4 correct after training on the device, {} instructions per epoch",
        xor.correct,
        xor.instructions_per_epoch()
    );
    xor.correct == 4
}

/// Trains the calibration, prints its losses and errors, and round-trips
/// it through bytes; true if every target is reached. Its frame holds the
/// network and the losses that training fills, and nothing else while
/// training runs: the printing is in frames of its own.
#[inline(never)]
fn calibration_phase() -> bool {
    let mut calibration = Calibration::<f32>::zeroed();
    let mut losses: Losses = [f32::NAN; ADAM_EPOCHS / LOSS_EVERY + 1];
    let max_error = train_calibration(&mut calibration, &mut losses);
    report_calibration(&calibration, max_error, &losses) && round_trip(&calibration)
}

/// Prints the calibration's losses, its largest error and a few readings;
/// true if the error is within the target.
#[inline(never)]
fn report_calibration(calibration: &Calibration<f32>, max_error: f32, losses: &Losses) -> bool {
    for (i, loss) in losses.iter().enumerate() {
        let epoch = (i * LOSS_EVERY).min(ADAM_EPOCHS - 1);
        hprintln!("calib epoch {:5}  loss {}", epoch, Fixed(*loss, 8));
    }
    hprintln!(
        "calib max error {} C from -20 to 80 C (target < {} C)",
        Fixed(max_error, 3),
        Fixed(CALIBRATION_TARGET, 1)
    );
    for celsius in [-20.0, 0.0, 25.0, 50.0, 80.0] {
        let adc = adc_reading(celsius);
        let predicted = celsius_of_output(calibration.forward(&[calibration_input(adc)])[0]);
        hprintln!(
            "calib adc {:4} -> {:7} C (true {:6} C)",
            Fixed(adc, 0),
            Fixed(predicted, 2),
            Fixed(celsius, 1)
        );
    }
    max_error < CALIBRATION_TARGET
}

/// Round-trips the calibration through `to_bytes` / `from_bytes` in a
/// stack buffer, and checks that a truncated copy is refused. Not inlined,
/// so that its buffer and copy are not in the training's frame.
#[inline(never)]
fn round_trip(calibration: &Calibration<f32>) -> bool {
    let mut buffer = [0u8; serialized_size::<f32, Calibration>()];
    let mut restored = Calibration::<f32>::zeroed();
    let ok = to_bytes(calibration, &mut buffer) == Ok(buffer.len())
        && from_bytes(&mut restored, &buffer).is_ok()
        && bits_equal(&restored, calibration)
        && from_bytes(&mut restored, &buffer[..buffer.len() - 1]).is_err();
    hprintln!(
        "bytes {} bytes round-trip: {}",
        buffer.len(),
        if ok { "ok" } else { "FAILED" }
    );
    ok
}

/// Trains the calibration network ([`train_with_adam`] from the weights of
/// seed 1) and keeps its loss every [`LOSS_EVERY`] epochs and at the last;
/// returns its largest error. Not inlined, and printing nothing on success,
/// so that its frame is the training's alone and no formatter's frame sits
/// on top of it.
#[inline(never)]
fn train_calibration(net: &mut Calibration<f32>, losses: &mut Losses) -> f32 {
    *net = Calibration::<f32>::random(1);
    let fitted = train_with_adam(net, |stats| {
        if stats.epoch % LOSS_EVERY == 0 || stats.epoch + 1 == stats.epochs {
            losses[stats.epoch.div_ceil(LOSS_EVERY)] = stats.train_loss as f32;
        }
    });
    if let Err(error) = fitted {
        // Not `{error}`: its `Display` would link float formatting.
        let _ = error;
        hprintln!("calib training failed (a bad setting, or a non-finite loss or update)");
        return f32::INFINITY;
    }
    calibration_max_error(net)
}

fn bits_equal<N: Parameters<f32>>(a: &N, b: &N) -> bool {
    a.slices()
        .flatten()
        .zip(b.slices().flatten())
        .all(|(x, y)| x.to_bits() == y.to_bits())
}
