//! Learns XOR with a 2-4-1 network and plain gradient descent.
//!
//! Run with `cargo run --release --example xor`. Prints the loss as it falls,
//! then the four predictions; exits with status 1 if any prediction is on the
//! wrong side of 0.5.

use std::process::ExitCode;

use network::prelude::*;

network! {
    /// Learns XOR: two inputs, one hidden layer of four tanh units, one
    /// sigmoid output.
    #[derive(Clone, Debug)]
    pub struct Xor {
        input: 2,
        hidden: Dense<4, Tanh>,
        output: Dense<1, Sigmoid>,
    }
}

/// The four cases as one batch: one column per sample.
fn truth_table() -> (SMatrix<f32, 2, 4>, SMatrix<f32, 1, 4>) {
    let inputs = SMatrix::<f32, 2, 4>::from_column_slice(&[0., 0., 0., 1., 1., 0., 1., 1.]);
    let targets = SMatrix::<f32, 1, 4>::from_column_slice(&[0., 1., 1., 0.]);
    (inputs, targets)
}

fn main() -> ExitCode {
    let (inputs, targets) = truth_table();
    let mut xor = Xor::random(2024);
    let mut grads = XorGradients::zeros();
    let sgd = match Sgd::new(0.5) {
        Ok(sgd) => sgd,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };

    for epoch in 0..=3000 {
        let loss = xor.loss_and_gradients::<HalfSquaredError>(&inputs, &targets, &mut grads);
        if let Err(error) = sgd.step(&mut xor, &grads) {
            eprintln!("training stopped at epoch {epoch}: {error}");
            return ExitCode::FAILURE;
        }
        if epoch % 500 == 0 {
            println!("epoch {epoch:>4}: loss {loss:.6}");
        }
    }

    let mut learned = true;
    for (x, t) in inputs.column_iter().zip(targets.iter()) {
        let y = xor.forward(&[x[0], x[1]])[0];
        learned &= (y > 0.5) == (*t > 0.5);
        println!("{} xor {} = {y:.3} (want {t})", x[0], x[1]);
    }
    if learned {
        println!("learned XOR");
        ExitCode::SUCCESS
    } else {
        println!("did not learn XOR");
        ExitCode::FAILURE
    }
}
