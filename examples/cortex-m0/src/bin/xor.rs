//! The XOR firmware on a Cortex-M0: trains XOR (2-4-1, SGD, the four cases as
//! one batch) in software floating point, prints the instructions per
//! training epoch and the stack peak, and exits with success only if all four
//! cases come out right. The same trainer as examples/cortex-m4's `xor`.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use network_cortex_m_common::xor_firmware;

/// The clock of SysTick's processor-clock source on QEMU's `microbit`.
const CPU_HZ: u32 = 16_000_000;

#[entry]
fn main() -> ! {
    xor_firmware(CPU_HZ)
}
