//! What the Cortex-M firmware crates (`examples/cortex-m4`) share: the XOR network and its trainer, the stack gauge, the loss
//! formatter, the semihosting exit and the panic handler.
//!
//! Everything lives on the stack or in flash: no heap, no allocator. The code
//! is plain Thumb: it builds for `thumbv6m-none-eabi` (Cortex-M0, no FPU) as
//! for `thumbv7em-none-eabihf` (Cortex-M4F).
#![no_std]

use core::fmt;

use cortex_m_semihosting::{debug, hprintln};
use network::prelude::*;

network! {
    /// Learns XOR: 2 inputs, 4 tanh units, 1 sigmoid output (17 parameters).
    #[derive(Clone, Copy, Debug)]
    pub struct Xor {
        input: 2,
        hidden: Dense<4, Tanh>,
        output: Dense<1, Sigmoid>,
    }
}

/// The four XOR cases as one batch, one sample per column.
pub fn xor_inputs() -> SMatrix<f32, 2, 4> {
    SMatrix::from_column_slice(&[0., 0., 0., 1., 1., 0., 1., 1.])
}

/// The XOR of each column of [`xor_inputs`].
pub fn xor_targets() -> SMatrix<f32, 1, 4> {
    SMatrix::from_column_slice(&[0., 1., 1., 0.])
}

/// How many of the four XOR cases `outputs` gets right (threshold 0.5).
pub fn xor_correct(outputs: &SMatrix<f32, 1, 4>) -> usize {
    outputs
        .iter()
        .zip(xor_targets().iter())
        .filter(|(y, t)| (**y > 0.5) == (**t > 0.5))
        .count()
}

/// Trains XOR with plain gradient descent, printing the loss every
/// `report_every` epochs; returns how many of the four cases the trained
/// network gets right.
pub fn train_xor(epochs: u32, report_every: u32) -> (Xor<f32>, usize) {
    let x = xor_inputs();
    let t = xor_targets();
    let mut xor = Xor::<f32>::random(2024);
    let mut grads = XorGradients::zeros();
    let sgd = Sgd::new(0.5);
    for epoch in 0..=epochs {
        let loss = xor.loss_and_gradients::<HalfSquaredError, 4, _, _>(&x, &t, &mut grads);
        if epoch % report_every == 0 {
            hprintln!("xor   epoch {:5}  loss {}", epoch, Micros(loss));
        }
        if epoch < epochs && sgd.step(&mut xor, &grads).is_err() {
            hprintln!("xor   a gradient is not finite");
            break;
        }
    }
    let correct = xor_correct(&xor.forward(&x));
    (xor, correct)
}

unsafe extern "C" {
    /// The lowest address of the stack (the end of `.bss`), from cortex-m-rt.
    static mut _stack_end: u32;
    /// One past the highest address of the stack, from cortex-m-rt.
    static mut _stack_start: u32;
}

const PAINT: u32 = 0x5EAB_A55E;

/// Fills the free stack below the caller with a pattern, so that
/// [`stack_peak`] can later tell how deep the stack ever went.
#[inline(never)]
pub fn paint_stack() {
    let bottom = &raw mut _stack_end;
    // Keep clear of this function's own frame.
    let limit = (cortex_m::register::msp::read() as usize - 64) as *mut u32;
    let mut word = bottom;
    while word < limit {
        // SAFETY: the words between the end of `.bss` and the stack pointer
        // belong to no Rust object, and no interrupt is enabled.
        unsafe {
            word.write_volatile(PAINT);
            word = word.add(1);
        }
    }
}

/// The most stack used since [`paint_stack`], in bytes.
pub fn stack_peak() -> usize {
    let bottom = &raw mut _stack_end;
    let top = &raw mut _stack_start;
    let mut word = bottom;
    // SAFETY: reads of the stack area only, below the live frames.
    while word < top && unsafe { word.read_volatile() } == PAINT {
        word = unsafe { word.add(1) };
    }
    top as usize - word as usize
}

/// Prints a loss with six decimals using integer formatting only: core's
/// float formatting (`{:.6}` of an `f32`) would add about 10 KB of flash to
/// the XOR-only firmware.
pub struct Micros(pub f32);

impl fmt::Display for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = self.0;
        if !(0.0..4000.0).contains(&value) {
            return f.write_str(if value.is_nan() {
                "NaN"
            } else {
                "out of range"
            });
        }
        let micros = (value * 1e6 + 0.5) as u32;
        write!(f, "{}.{:06}", micros / 1_000_000, micros % 1_000_000)
    }
}

/// Leaves QEMU with exit code 0 if `success`, 1 otherwise.
pub fn exit(success: bool) -> ! {
    debug::exit(if success {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    // Without a debugger attached `exit` returns; wait forever then.
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    hprintln!("panicked");
    exit(false)
}
