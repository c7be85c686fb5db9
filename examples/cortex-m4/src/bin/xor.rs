//! The XOR-only firmware: trains XOR on the device and exits with success
//! only if all four cases come out right. Its `.text` is the flash footprint
//! of training a small network (see the README's footprint table).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use network_cortex_m4::{exit, paint_stack, stack_peak, train_xor};

#[entry]
fn main() -> ! {
    paint_stack();
    let (_, correct) = train_xor(3000, 500);
    hprintln!(
        "xor   {}/4 correct, stack peak {} bytes",
        correct,
        stack_peak()
    );
    exit(correct == 4)
}
