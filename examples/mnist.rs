//! Trains a 784-128-10 network on MNIST with Adam.
//!
//! Run with `cargo run --release --example mnist -- DIR`, where `DIR` holds
//! the four uncompressed IDX files (`train-images-idx3-ubyte`,
//! `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
//! `t10k-labels-idx1-ubyte`). Prints a progress line per epoch and ends with
//! the line `test accuracy: <fraction>` on the 10,000 test images.
//!
//! The network, its gradients and Adam's state (1.6 MB in all) are built
//! directly on the heap (`random_boxed`, `boxed_zeroed`, `new_boxed`).

use std::path::PathBuf;
use std::process::ExitCode;

use network::load::read_mnist;
use network::prelude::*;

#[path = "common/mnist.rs"]
mod common;

network! {
    /// 28x28 pixels in, ten digits out.
    pub struct Mnist {
        input: 784,
        hidden: Dense<128, Relu>,
        output: Dense<10, Softmax>,
    }
}

const SEED: u64 = 1;
const EPOCHS: usize = 8;
const BATCH: usize = 32;

const WHERE: &str = "Download the four files from https://yann.lecun.com/exdb/mnist/ \
(or the mirror https://ossci-datasets.s3.amazonaws.com/mnist/), decompress them with \
`gunzip *.gz`, and pass their directory: cargo run --release --example mnist -- DIR";

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: mnist DIR\n{WHERE}");
        return ExitCode::FAILURE;
    };
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
    println!(
        "mnist: {} training images (1/12 of them for validation), {} test images",
        mnist.train.len(),
        mnist.test.len()
    );

    let mut net = Mnist::<f32>::random_boxed(SEED);
    if let Err(error) =
        common::fit_and_test::<_, _, _, BATCH>(&mut *net, EPOCHS, SEED, &train, &test)
    {
        eprintln!("error: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
