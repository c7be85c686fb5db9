//! The build script of the firmware crates (`build = "../cortex-m-common/memory_x.rs"`):
//! puts the crate's `memory.x` where the linker script of cortex-m-rt
//! (`link.x`) finds it.

use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let crate_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    fs::copy(crate_dir.join("memory.x"), out.join("memory.x")).expect("memory.x is readable");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
}
