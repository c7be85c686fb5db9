//! Trains a LeNet-5-style convolutional network on MNIST with Adam.
//!
//! ```text
//! cargo run --release --example lenet -- DIR            # the full training
//! cargo run --release --example lenet -- DIR --smoke    # 2,048 images, 1 epoch
//! ```
//!
//! `DIR` holds the four uncompressed IDX files, as for the `mnist` example
//! (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
//! `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`). Prints a line per
//! epoch and ends with `test accuracy: <fraction>` on the 10,000 test
//! images; the full training exits with failure below 0.990 (LeCun et al.
//! 1998 report 0.9905 for LeNet-5 without distortions).
//!
//! The network is LeNet-5's shape with ReLU, max pooling and the first
//! convolution padded to keep 28 x 28 (as the original padded its input to
//! 32 x 32): 61,706 parameters. Every shape below is checked by the macro:
//! change a kernel to 7 and it says which layer no longer fits.

use std::path::PathBuf;
use std::process::ExitCode;

use network::dataset::Subset;
use network::load::read_mnist;
use network::prelude::*;

#[path = "common/mnist.rs"]
mod common;

network! {
    /// 1 x 28 x 28 pixels in, ten digits out.
    pub struct LeNet {
        input: [1, 28, 28],
        conv1: Conv2d<6, 5, Relu, padding = 2>, // 6 x 28 x 28
        pool1: MaxPool2d<2>,                     // 6 x 14 x 14
        conv2: Conv2d<16, 5, Relu>,              // 16 x 10 x 10
        pool2: MaxPool2d<2>,                     // 16 x 5 x 5 = 400 values
        fc1: Dense<120, Relu>,
        fc2: Dense<84, Relu>,
        output: Dense<10, Softmax>,
    }
}

const SEED: u64 = 1;
const EPOCHS: usize = 10;
const BATCH: usize = 32;
/// The accuracy the full training must reach on the test images.
const TARGET: f64 = 0.990;
/// The training images of `--smoke`.
const SMOKE_IMAGES: usize = 2048;

/// The training forward pass keeps every layer's `z` and `a` for a batch:
/// 2.1 MB for 32 images, on the stack (see the in-place training issue).
/// The training runs in a thread with room for it.
const STACK: usize = 64 << 20;

const WHERE: &str = "Download the four files from https://yann.lecun.com/exdb/mnist/ \
(or the mirror https://ossci-datasets.s3.amazonaws.com/mnist/), decompress them with \
`gunzip *.gz`, and pass their directory: cargo run --release --example lenet -- DIR";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let smoke = args.iter().any(|a| a == "--smoke");
    let Some(dir) = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
    else {
        eprintln!("usage: lenet DIR [--smoke]\n{WHERE}");
        return ExitCode::FAILURE;
    };
    match std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || run(dir, smoke))
        .map(|thread| thread.join())
    {
        Ok(Ok(code)) => code,
        _ => {
            eprintln!("the training thread could not start or panicked");
            ExitCode::FAILURE
        }
    }
}

fn run(dir: PathBuf, smoke: bool) -> ExitCode {
    let mnist = match read_mnist(&dir) {
        Ok(mnist) => mnist,
        Err(error) => {
            eprintln!("error: {error}");
            if error.is_not_found() {
                eprintln!("{WHERE}");
            }
            return ExitCode::FAILURE;
        }
    };
    let (train, test) = match (
        mnist.train.classification::<f32, 10>(1.0 / 255.0),
        mnist.test.classification::<f32, 10>(1.0 / 255.0),
    ) {
        (Ok(train), Ok(test)) => (train, test),
        (Err(error), _) | (_, Err(error)) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let (images, epochs) = if smoke {
        (SMOKE_IMAGES.min(train.len()), 1)
    } else {
        (train.len(), EPOCHS)
    };
    let first: Vec<usize> = (0..images).collect();
    let train = match Subset::new(&train, &first) {
        Ok(train) => train,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "lenet: {} parameters; {images} training images (1/12 of them for validation), {} test images",
        LeNet::<f32>::PARAMETERS,
        test.len()
    );

    let mut net = LeNet::<f32>::random_boxed(SEED);
    let figures =
        match common::fit_and_test::<_, _, _, BATCH>(&mut *net, epochs, SEED, &train, &test) {
            Ok(figures) => figures,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        };
    if !smoke && figures.accuracy < TARGET {
        eprintln!("below the target of {TARGET}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
