//! What the Cortex-M firmware crates (`examples/cortex-m4`,
//! `examples/cortex-m0`) share: the XOR network and its trainer, the stack
//! gauge, the instruction counter, the loss formatter, the semihosting exit
//! and the panic handler.
//!
//! Everything lives on the stack or in flash: no heap, no allocator. The code
//! is plain Thumb: it builds for `thumbv6m-none-eabi` (Cortex-M0, no FPU) as
//! for `thumbv7em-none-eabihf` (Cortex-M4F).
#![no_std]

use core::fmt;

use cortex_m::peripheral::syst::SystClkSource;
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

/// What [`train_xor`] reports.
#[derive(Clone, Copy, Debug)]
pub struct XorTrained {
    /// The trained network.
    pub net: Xor<f32>,
    /// How many of the four cases it gets right.
    pub correct: usize,
    /// The training epochs run (each one forward and backward pass over the
    /// batch of four, and one SGD step).
    pub epochs: u32,
    /// The instructions of those epochs, all together (saturating at
    /// `u32::MAX`), as [`InstructionCounter::count`] counts them: the loss
    /// printing is not included.
    pub instructions: u32,
}

impl XorTrained {
    /// The mean instructions per training epoch, rounded to the nearest.
    pub fn instructions_per_epoch(&self) -> u32 {
        let epochs = self.epochs.max(1);
        (self.instructions + epochs / 2) / epochs
    }
}

/// Trains XOR with plain gradient descent (learning rate 0.5, the four cases
/// as one batch), printing the loss every `report_every` epochs, and counts
/// the instructions of every epoch with `counter`.
pub fn train_xor(epochs: u32, report_every: u32, counter: &InstructionCounter) -> XorTrained {
    let x = xor_inputs();
    let t = xor_targets();
    let mut xor = Xor::<f32>::random(2024);
    let mut grads = XorGradients::zeros();
    let sgd = valid(Sgd::new(0.5));
    let mut trained = 0;
    let mut instructions = 0;
    for epoch in 0..=epochs {
        // The last pass only measures the loss of the trained network.
        let step = epoch < epochs;
        let (mut loss, mut finite) = (0.0, true);
        let counted = counter.count(&mut || {
            (loss, finite) = xor_epoch(&mut xor, &mut grads, &sgd, &x, &t, step);
        });
        if step {
            trained += 1;
            instructions = counted.saturating_add(instructions);
        }
        if epoch % report_every == 0 {
            hprintln!("xor   epoch {:5}  loss {}", epoch, Fixed(loss, 6));
        }
        if !finite {
            hprintln!("xor   a gradient is not finite");
            break;
        }
    }
    XorTrained {
        net: xor,
        correct: xor_correct(&xor.forward(&x)),
        epochs: trained,
        instructions,
    }
}

/// One epoch: the loss and gradients of the batch, then, if `step`, one SGD
/// step. Returns the loss (before the step) and whether the gradients were
/// finite.
fn xor_epoch(
    xor: &mut Xor<f32>,
    grads: &mut XorGradients<f32>,
    sgd: &Sgd<f32>,
    x: &SMatrix<f32, 2, 4>,
    t: &SMatrix<f32, 1, 4>,
    step: bool,
) -> (f32, bool) {
    let loss = xor.loss_and_gradients::<HalfSquaredError>(x, t, grads);
    (loss, !step || sgd.step(xor, grads).is_ok())
}

/// The `shift` of QEMU's `-icount shift=8` in the firmware crates' runners:
/// under it every guest instruction advances the virtual clock by exactly
/// 2^8 = 256 ns, whatever the host does.
pub const ICOUNT_SHIFT: u32 = 8;

/// SysTick's counter is 24 bits wide.
const SYST_MASK: u32 = 0x00FF_FFFF;

/// Counts guest instructions under QEMU's `-icount shift=`[`ICOUNT_SHIFT`],
/// with SysTick clocked by the processor clock.
///
/// Under `-icount` QEMU's virtual clock is the number of instructions executed
/// times 2^shift ns, so a timer on that clock counts instructions: at
/// `cpu_hz` SysTick advances `cpu_hz * 2^shift / 10^9` ticks per instruction
/// (6.4 at 25 MHz, 4.096 at 16 MHz), more than one, so rounding
/// ticks back to instructions is exact. An interval must stay below one
/// SysTick period, 2^24 ticks (2.6 million instructions at 25 MHz, 4.1 million
/// at 16 MHz).
///
/// [`InstructionCounter::new`] checks the counter against two hand-counted
/// loops of instructions and refuses to exist if it does not count them
/// exactly (as when the firmware runs without `-icount`).
#[derive(Clone, Copy, Debug)]
pub struct InstructionCounter {
    /// Instructions per tick, as the fraction `numerator / denominator`.
    numerator: u32,
    denominator: u32,
    /// What [`InstructionCounter::count`] counts for an empty closure.
    overhead: u32,
}

/// The two hand-counted loops of [`InstructionCounter::new`]'s check: what
/// they should count and what they counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoopCounts {
    /// 503 and 131,073: the instructions of the two loops.
    pub expected: [u32; 2],
    /// What the counter counted for them.
    pub counted: [u32; 2],
}

impl InstructionCounter {
    /// Starts SysTick, free-running from the processor clock (`cpu_hz`) with
    /// no interrupt, then checks it against two loops of known length (see
    /// [`LoopCounts`]). Takes over SysTick: nothing else may use it.
    ///
    /// # Errors
    ///
    /// The loops' counts, if either is not exactly the loop's length.
    pub fn new(cpu_hz: u32) -> Result<Self, LoopCounts> {
        // SAFETY: the firmware uses SysTick for nothing else, and this code
        // is the only code that touches it.
        let mut syst = unsafe { cortex_m::Peripherals::steal() }.SYST;
        syst.disable_interrupt();
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(SYST_MASK);
        syst.clear_current();
        syst.enable_counter();
        // Instructions per tick, 10^9 / (cpu_hz * 2^shift), reduced.
        const NS_PER_INSTRUCTION: u32 = 1 << ICOUNT_SHIFT;
        const { assert!(1_000_000_000 % NS_PER_INSTRUCTION == 0) };
        let (numerator, denominator) = (1_000_000_000 / NS_PER_INSTRUCTION, cpu_hz);
        let divisor = gcd(numerator, denominator);
        let mut counter = Self {
            numerator: numerator / divisor,
            denominator: denominator / divisor,
            overhead: 0,
        };
        // A stretch of 2^24 ticks times the numerator must fit in a u32.
        assert!(
            counter.numerator < 256,
            "SysTick is too slow to count instructions"
        );
        counter.overhead = counter.count(&mut || ());
        let counts = LoopCounts {
            expected: [3 + 2 * 250, 3 + 2 * 65_535],
            counted: [
                counter.count(&mut spin::<250>),
                counter.count(&mut spin::<65_535>),
            ],
        };
        if counts.counted == counts.expected {
            Ok(counter)
        } else {
            Err(counts)
        }
    }

    /// Calls `f` and returns the instructions it executed: from the call to
    /// the return, less what a call of an empty closure costs. At most 2^24
    /// ticks' worth (see [`InstructionCounter`]); `f` hands its results out
    /// through what it captures.
    ///
    /// The two reads of SysTick and the call of `f` between them are one
    /// block of assembly, so that the compiler can move none of its own
    /// instructions into the counted stretch, or out of it.
    pub fn count<F: FnMut()>(&self, f: &mut F) -> u32 {
        let (start, end): (u32, u32);
        // The counted call. Every register the C ABI lets `run` change is
        // declared clobbered (the core registers here, the FPU's
        // caller-saved ones where there is an FPU), and r4 and r5 are
        // callee-saved, so SysTick's address in r5 and the start in r4
        // survive the call.
        macro_rules! counted_call {
            ($($fpu:tt)*) => {
                // SAFETY: `run::<F>` is an `extern "C"` function taking a
                // pointer to `f`, which outlives the call; without `nostack`
                // the stack pointer is aligned for a call on entry to the
                // block, and the callee may use the stack below it.
                unsafe {
                    core::arch::asm!(
                        "ldr r4, [r5]",
                        "bl {run}",
                        "ldr r0, [r5]",
                        run = sym run::<F>,
                        inout("r0") f => end,
                        inout("r5") SYST_CVR => _,
                        out("r4") start,
                        out("r1") _,
                        out("r2") _,
                        out("r3") _,
                        out("r12") _,
                        out("lr") _,
                        $($fpu)*
                    )
                }
            };
        }
        #[cfg(target_abi = "eabihf")]
        counted_call!(
            out("d0") _, out("d1") _, out("d2") _, out("d3") _,
            out("d4") _, out("d5") _, out("d6") _, out("d7") _,
        );
        #[cfg(not(target_abi = "eabihf"))]
        counted_call!();
        // SysTick counts down and wraps from 0 to its reload value 2^24 - 1.
        let ticks = start.wrapping_sub(end) & SYST_MASK;
        let instructions = (ticks * self.numerator + self.denominator / 2) / self.denominator;
        instructions.saturating_sub(self.overhead)
    }
}

/// SysTick's current value register.
const SYST_CVR: usize = 0xE000_E018;

/// Calls `f`: the callee of [`InstructionCounter::count`]'s assembly.
extern "C" fn run<F: FnMut()>(f: &mut F) {
    f();
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Goes `N` times round a loop of two instructions, 1 <= `N` <= 65,535:
/// 3 + 2 `N` instructions in all, counted by hand.
#[inline(always)]
fn spin<const N: u32>() {
    const { assert!(N >= 1 && N <= 0xFFFF) };
    // SAFETY: only changes r2 (a scratch register of the C ABI, so that the
    // closure calling this needs no prologue) and the flags.
    unsafe {
        core::arch::asm!(
            "movs r2, #{high}",
            "lsls r2, r2, #8",
            "adds r2, #{low}",
            "2:",
            "subs r2, #1",
            "bne 2b",
            high = const N >> 8,
            low = const N & 0xFF,
            out("r2") _,
            options(nomem, nostack),
        );
    }
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

/// A number, `.0`, printed with `.1` decimals (rounded to nearest, a `-`
/// before a negative one) using integer formatting only: core's float
/// formatting would add about 10 KB of flash, and its frames about 2.5 KB
/// of stack, to a firmware. Right-aligned in a width (`{:7}`), as
/// `{:7.2}` would be; values whose scaled magnitude does not fit a `u32`
/// print as `out of range`.
/// One function for every number of decimals (a const parameter made a copy
/// of it per count).
pub struct Fixed(pub f32, pub u32);

impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Fixed(value, decimals) = *self;
        if value.is_nan() {
            return f.write_str("NaN");
        }
        // 10^decimals is exact in f32 up to 10^10.
        let decimals = decimals.min(9);
        let scale = (0..decimals).fold(1.0f32, |scale, _| scale * 10.0);
        let scaled = value.abs() * scale + 0.5;
        // `u32::MAX as f32` rounds up to 2^32, which does not fit (nor does
        // infinity; NaN was printed above).
        if scaled >= 4_294_967_040.0 {
            return f.write_str("out of range");
        }
        let mut scaled = scaled as u32;
        let negative = value < 0.0 && scaled > 0;
        // The digits from the last, then the sign: no integer formatting
        // either, which keeps the XOR firmware as small as it was.
        let mut text = [b' '; 16];
        let mut start = text.len();
        let mut digits = 0;
        while digits <= decimals || scaled > 0 {
            if digits == decimals && decimals > 0 {
                start -= 1;
                text[start] = b'.';
            }
            start -= 1;
            text[start] = b'0' + (scaled % 10) as u8;
            scaled /= 10;
            digits += 1;
        }
        if negative {
            start -= 1;
            text[start] = b'-';
        }
        // Right-aligned in the width, as a number is; ASCII, one character
        // at a time (no UTF-8 check to link).
        let width = f.width().unwrap_or(0).min(text.len());
        let start = start.min(text.len() - width);
        text[start..]
            .iter()
            .try_for_each(|&byte| fmt::Write::write_char(f, char::from(byte)))
    }
}

/// The XOR-only firmware of each crate: checks the instruction counter,
/// trains XOR for 3,000 epochs, prints the result, the instructions per
/// epoch and the stack peak, and exits with success only if all four cases
/// come out right. `cpu_hz` is the clock of the board's SysTick.
pub fn xor_firmware(cpu_hz: u32) -> ! {
    paint_stack();
    let counter = match InstructionCounter::new(cpu_hz) {
        Ok(counter) => counter,
        Err(counts) => {
            hprintln!(
                "loops of {} and {} instructions counted as {} and {}: is QEMU run with -icount shift={}?",
                counts.expected[0],
                counts.expected[1],
                counts.counted[0],
                counts.counted[1],
                ICOUNT_SHIFT
            );
            exit(false)
        }
    };
    let trained = train_xor(3000, 500, &counter);
    hprintln!(
        "xor   {}/4 correct, {} instructions per epoch ({} epochs, {} instructions)",
        trained.correct,
        trained.instructions_per_epoch(),
        trained.epochs,
        trained.instructions
    );
    hprintln!("xor   stack peak {} bytes", stack_peak());
    exit(trained.correct == 4)
}

/// The optimizer or trainer that `built` holds; if its settings were
/// refused, says so and leaves QEMU with exit code 1. (The message is fixed:
/// printing the `ConfigError` would link the formatting of floats.)
///
/// Always inlined, so that the settings stay constants through the
/// constructor: out of line, the convolutional firmware had 592 B more text.
#[inline(always)]
pub fn valid<T>(built: Result<T, network::ConfigError>) -> T {
    match built {
        Ok(built) => built,
        Err(_) => {
            hprintln!("a setting is out of its range");
            exit(false)
        }
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
