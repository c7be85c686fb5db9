//! Names, as `cfg`s, the facts about the target that the matrix kernel
//! chooses its multiply-add by (see `kernels`), so that each is stated once.
//!
//! - `fma_compiled_in`: the build's target has a fused multiply-add
//!   instruction and the kernel can name it: x86 with the `fma` target
//!   feature (`-C target-cpu=native` on a recent CPU), or aarch64 with `std`.
//! - `fma_detectable`: x86 with `std`, FMA not compiled in: the kernel asks
//!   the CPU at run time and uses an AVX2 and FMA version if it has them.
//! - `vector_registers`: the target has SIMD registers (SSE2, NEON or wasm
//!   SIMD), so products use the register-blocked kernel and convolutions
//!   are matrix products; without them (a Cortex-M4) plain loops are as
//!   fast and smaller in flash.

use std::env;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(fma_compiled_in)");
    println!("cargo::rustc-check-cfg=cfg(fma_detectable)");
    println!("cargo::rustc-check-cfg=cfg(vector_registers)");
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let features = env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let has = |feature: &str| features.split(',').any(|f| f == feature);
    let std = env::var_os("CARGO_FEATURE_STD").is_some();
    let x86 = arch == "x86" || arch == "x86_64";
    if has("sse2") || has("neon") || has("simd128") {
        println!("cargo::rustc-cfg=vector_registers");
    }
    // Without `std`, aarch64's instruction could only be named through an
    // `unsafe` intrinsic that Miri cannot check here; two operations are
    // used there instead.
    let compiled_in = (x86 && has("fma")) || (std && arch == "aarch64" && has("neon"));
    if compiled_in {
        println!("cargo::rustc-cfg=fma_compiled_in");
    } else if std && x86 {
        println!("cargo::rustc-cfg=fma_detectable");
    }
}
