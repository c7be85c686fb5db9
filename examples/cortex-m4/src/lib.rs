//! What the Cortex-M4 firmware binaries share beyond what every Cortex-M
//! firmware shares (`network-cortex-m-common`, re-exported here): the
//! thermistor calibration network and its training data, and XOR weights in
//! flash.
//!
//! Everything lives on the stack or in flash: no heap, no allocator.
#![no_std]

pub use network_cortex_m_common::{
    Fixed, InstructionCounter, Xor, exit, paint_stack, stack_peak, train_xor, valid, xor_correct,
    xor_firmware, xor_inputs,
};

/// The clock of SysTick's processor-clock source on QEMU's `mps2-an386`.
pub const CPU_HZ: u32 = 25_000_000;

mod calibration;
pub use calibration::{
    ADAM_EPOCHS, ADAM_LEARNING_RATE, Calibration, CalibrationGradients, adc_reading,
    calibration_input, calibration_max_error, calibration_samples, celsius_of_output,
    train_with_adam,
};

// `pub static XOR_IN_FLASH: Xor<f32>`, written on the host by
// `network::codegen::write_static` (see tests/codegen.rs in the root crate).
include!("xor_weights.rs");
