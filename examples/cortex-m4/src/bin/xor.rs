//! The XOR-only firmware: trains XOR on the device, prints the instructions
//! per training epoch and the stack peak, and exits with success only if all
//! four cases come out right. Its `.text` is the flash footprint of training
//! a small network (see the README's footprint table).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use network_cortex_m4::{CPU_HZ, xor_firmware};

#[entry]
fn main() -> ! {
    xor_firmware(CPU_HZ)
}
