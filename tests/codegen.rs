//! Weights to flash: `codegen::write_static` writes a trained network as Rust
//! source of a `static`. The checked-in outputs compile (they are
//! `include!`d here), hold the trained values, and are exactly what the
//! generator writes for the values they hold.
//!
//! To regenerate them after a change to training or to the generator:
//! `UPDATE_GENERATED=1 cargo test --test codegen`.

use std::path::Path;

use network::codegen::{CodegenError, StaticItem, write_static};
use network::prelude::*;

// The same declaration as in examples/cortex-m-common/src/lib.rs.
network! {
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Xor {
        input: 2,
        hidden: Dense<4, Tanh>,
        output: Dense<1, Sigmoid>,
    }
}

network! {
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Deep<const H: usize> {
        input: 3,
        first: Dense<H, Relu>,
        second: Dense<3, Tanh>,
        output: Dense<2, Identity>,
    }
}

/// The firmware's file: `pub static XOR_IN_FLASH: Xor<f32>`.
const XOR_FILE: &str = "examples/cortex-m4/src/xor_weights.rs";
mod xor_file {
    use super::Xor;
    include!("../examples/cortex-m4/src/xor_weights.rs");
}

/// A generic, three-layer `f64` network, private, with the runtime named by
/// another path.
const DEEP_FILE: &str = "tests/generated/deep_f64.rs";
mod deep_file {
    use super::Deep;
    use network as runtime;
    include!("generated/deep_f64.rs");
    pub fn get() -> &'static Deep<4, f64> {
        &DEEP
    }
}

network! {
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct SmallConv {
        input: [1, 6, 6],
        conv: Conv2d<2, 3, Tanh>,
        pool: MaxPool2d<2>,
        drop: Dropout<0.5>,
        output: Dense<2, Identity>,
    }
}

/// A convolution, a pooling and a dropout layer (no parameters) and a dense
/// layer.
const CONV_FILE: &str = "tests/generated/conv_f32.rs";
mod conv_file {
    use super::SmallConv;
    include!("generated/conv_f32.rs");
}

fn conv_source(net: &SmallConv<f32>) -> String {
    let mut source = String::new();
    write_static(&mut source, net, &StaticItem::new("CONV", "SmallConv<f32>")).unwrap();
    source
}

/// Trains XOR exactly as `train_xor` in examples/cortex-m-common/src/lib.rs does.
fn trained_xor() -> Xor<f32> {
    let x = SMatrix::<f32, 2, 4>::from_column_slice(&[0., 0., 0., 1., 1., 0., 1., 1.]);
    let t = SMatrix::<f32, 1, 4>::from_column_slice(&[0., 1., 1., 0.]);
    let mut xor = Xor::<f32>::random(2024);
    let mut grads = XorGradients::zeros();
    let sgd = Sgd::new(0.5).unwrap();
    for _ in 0..3000 {
        xor.loss_and_gradients::<HalfSquaredError>(&x, &t, &mut grads);
        sgd.step(&mut xor, &grads).unwrap();
    }
    xor
}

fn xor_source(xor: &Xor<f32>) -> String {
    let mut source = String::new();
    write_static(
        &mut source,
        xor,
        &StaticItem::new("XOR_IN_FLASH", "Xor<f32>"),
    )
    .unwrap();
    source
}

fn deep_source(deep: &Deep<4, f64>) -> String {
    let mut source = String::new();
    let item = StaticItem::new("DEEP", "Deep<4, f64>")
        .visibility("")
        .krate("runtime");
    write_static(&mut source, deep, &item).unwrap();
    source
}

/// With `UPDATE_GENERATED` set, rewrites the checked-in file with `source`.
/// Returns whether it did.
fn update(path: &str, source: &str) -> bool {
    if std::env::var_os("UPDATE_GENERATED").is_none() {
        return false;
    }
    std::fs::write(Path::new(env!("CARGO_MANIFEST_DIR")).join(path), source).unwrap();
    true
}

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// The largest difference between two networks' parameters.
fn max_difference<T: Scalar, P: Parameters<T>>(a: &P, b: &P) -> f64 {
    a.slices()
        .flatten()
        .zip(b.slices().flatten())
        .map(|(x, y)| (x.to_f64() - y.to_f64()).abs())
        .fold(0.0, f64::max)
}

#[test]
fn firmware_weights_are_the_host_trained_network() {
    let trained = trained_xor();
    if update(XOR_FILE, &xor_source(&trained)) {
        return;
    }
    // Not bit for bit: `tanh` and `exp` come from the platform's libm in
    // std builds and from the `libm` crate on the device, which differ in
    // the last bit; over 3000 steps that moves the weights by about 1e-6.
    let in_flash: &Xor<f32> = &xor_file::XOR_IN_FLASH;
    let difference = max_difference(in_flash, &trained);
    assert!(
        difference < 1e-4,
        "{XOR_FILE} is stale (weights differ by {difference}): run `UPDATE_GENERATED=1 cargo test --test codegen`"
    );
    let x = SMatrix::<f32, 2, 4>::from_column_slice(&[0., 0., 0., 1., 1., 0., 1., 1.]);
    let y = in_flash.forward(&x);
    assert!(y[0] < 0.5 && y[1] > 0.5 && y[2] > 0.5 && y[3] < 0.5, "{y}");
}

#[test]
fn generated_sources_are_fixed_points() {
    // Writing the compiled statics again gives the files byte for byte:
    // every literal parses back to the exact value it was printed from.
    assert_eq!(xor_source(&xor_file::XOR_IN_FLASH), read(XOR_FILE));
    assert_eq!(deep_source(deep_file::get()), read(DEEP_FILE));
}

#[test]
fn f64_generic_network_with_private_item_and_crate_path() {
    let deep = Deep::<4, f64>::random(7);
    let source = deep_source(&deep);
    if update(DEEP_FILE, &source) {
        return;
    }
    assert!(max_difference(deep_file::get(), &deep) < 1e-12);
    assert!(source.contains("\nstatic DEEP: Deep<4, f64> = Deep {\n"));
    assert!(source.contains("    first: runtime::Dense::new(\n"));
    assert!(source.contains("f64"));
    assert!(!source.contains("f32"));
}

#[test]
fn every_literal_round_trips() {
    // Awkward values: negative zero, subnormals, extremes, many digits.
    let mut deep = Deep::<4, f64>::zeroed();
    let specials = [
        -0.0,
        5e-324,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        0.1 + 0.2,
        1.0 / 3.0,
        -123456789.125,
        1e21,
    ];
    for (value, special) in deep.slices_mut().flatten().zip(specials.iter().cycle()) {
        *value = *special;
    }
    let source = deep_source(&deep);
    let literals: Vec<f64> = source
        .split(|c: char| c == '[' || c == ']' || c == ',' || c.is_whitespace())
        .filter_map(|word| word.strip_suffix("f64"))
        .filter_map(|number| number.parse().ok())
        .collect();
    let expected: Vec<f64> = deep.slices().flatten().copied().collect();
    assert_eq!(literals.len(), expected.len());
    for (literal, value) in literals.iter().zip(&expected) {
        assert_eq!(literal.to_bits(), value.to_bits(), "{literal} != {value}");
    }
}

#[test]
fn non_finite_weights_are_refused_before_writing() {
    let mut xor = trained_xor();
    xor.output.w[(0, 2)] = f32::INFINITY;
    let mut source = String::new();
    let result = write_static(&mut source, &xor, &StaticItem::new("X", "Xor"));
    assert_eq!(result, Err(CodegenError::NonFinite { index: 14 }));
    assert!(source.is_empty());
}

#[test]
fn item_fields_that_are_not_rust_are_refused_before_writing() {
    let xor = trained_xor();
    let item = StaticItem::new("XOR", "Xor<f32>");
    for (bad, field) in [
        (
            StaticItem {
                name: "X: Xor<f32> = todo!(); pub static Y",
                ..item
            },
            "name",
        ),
        (
            StaticItem {
                ty: "Xor<f32> = todo!(); fn f() -> Xor<f32>",
                ..item
            },
            "ty",
        ),
        (item.visibility("pub(everyone)"), "visibility"),
        (item.krate("network; use std"), "krate"),
    ] {
        let mut source = String::new();
        let result = write_static(&mut source, &xor, &bad);
        assert_eq!(result, Err(CodegenError::InvalidItem { field }), "{bad:?}");
        assert!(source.is_empty(), "nothing is written for {bad:?}");
    }
}

#[test]
fn writer_errors_are_reported() {
    /// A writer that accepts `room` bytes, then fails.
    struct Full {
        room: usize,
    }
    impl std::fmt::Write for Full {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.room = self.room.checked_sub(s.len()).ok_or(std::fmt::Error)?;
            Ok(())
        }
    }
    let xor = trained_xor();
    let full_length = xor_source(&xor).len();
    for room in [0, 10, full_length / 2, full_length - 1] {
        let result = write_static(
            &mut Full { room },
            &xor,
            &StaticItem::new("XOR_IN_FLASH", "Xor<f32>"),
        );
        assert_eq!(result, Err(CodegenError::Write), "room {room}");
    }
    let result = write_static(
        &mut Full { room: full_length },
        &xor,
        &StaticItem::new("XOR_IN_FLASH", "Xor<f32>"),
    );
    assert_eq!(result, Ok(()));
}

#[test]
fn convolutional_network_in_flash() {
    let net = SmallConv::<f32>::random(9);
    if update(CONV_FILE, &conv_source(&net)) {
        return;
    }
    // Not trained: the compiled static is the seeded network bit for bit,
    // and writing it again gives the file.
    assert_eq!(&conv_file::CONV, &net);
    assert_eq!(conv_source(&conv_file::CONV), read(CONV_FILE));
    let x = [0.25f32; 36];
    assert_eq!(conv_file::CONV.forward(&x), net.forward(&x));
}

network! {
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Scaled {
        input: 2,
        scale: Standardize,
        output: Dense<1, Identity>,
    }
}

/// A network whose first layer holds fitted statistics: they are written
/// as the layer's constructor argument.
const SCALED_FILE: &str = "tests/generated/scaled_f64.rs";
mod scaled_file {
    use super::Scaled;
    include!("generated/scaled_f64.rs");
}

fn scaled() -> Scaled<f64> {
    let mut net = Scaled::<f64>::random(4);
    let rows = [
        ([10.0, -1.0], [0.0]),
        ([30.0, -1.0], [0.0]),
        ([20.0, -1.0], [0.0]),
    ];
    net.fit_statistics(&rows[..]).unwrap();
    net
}

fn scaled_source(net: &Scaled<f64>) -> String {
    let mut source = String::new();
    write_static(&mut source, net, &StaticItem::new("SCALED", "Scaled<f64>")).unwrap();
    source
}

#[test]
fn statistics_in_flash() {
    let net = scaled();
    if update(SCALED_FILE, &scaled_source(&net)) {
        return;
    }
    assert_eq!(&scaled_file::SCALED, &net);
    assert_eq!(scaled_source(&scaled_file::SCALED), read(SCALED_FILE));
    let source = read(SCALED_FILE);
    assert!(source.contains("    scale: ::network::layers::Rescale::new(\n"));
    let x = [25.0, 3.0];
    assert_eq!(scaled_file::SCALED.forward(&x), net.forward(&x));

    let mut broken = net;
    broken.scale.statistics[(0, 1)] = f64::NAN;
    let result = write_static(&mut String::new(), &broken, &StaticItem::new("S", "Scaled"));
    assert_eq!(result, Err(CodegenError::NonFinite { index: 3 + 2 }));
}
