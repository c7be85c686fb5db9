//! Classifies Fisher's iris flowers with a 4-16-3 network trained by AdamW.
//!
//! Run with `cargo run --release --example iris`. Reads `data/iris.csv`,
//! holds out a seeded, stratified 20% of the flowers (10 per species) as a
//! test set, standardises the features inside the network (a `Standardize`
//! first layer fitted on the training rows, so the saved model carries its
//! preprocessing), trains with a validation split and early stopping, keeps
//! the weights of the best validation epoch, and ends with the line
//! `test accuracy: <fraction>`.

use std::process::ExitCode;

use network::dataset::stratified_split;
use network::load::read_csv;
use network::metrics::ConfusionMatrix;
use network::prelude::*;
use network::train::Progress;

network! {
    /// Four measurements in, standardised, three species out.
    pub struct Iris {
        input: 4,
        scale: Standardize,
        hidden: Dense<16, Tanh>,
        output: Dense<3, Softmax>,
    }
}

const SEED: u64 = 2024;
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv");

/// A sample: the measurements (in cm) and a one-hot target.
type Sample = ([f32; 4], [f32; 3]);

fn main() -> ExitCode {
    match run() {
        Ok(accuracy) => {
            println!("test accuracy: {accuracy:.4}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<f64, Box<dyn std::error::Error>> {
    let flowers = read_csv::<4, 3>(DATA)?;
    let mut order = vec![0; flowers.len()];
    let (train_rows, test_rows) = stratified_split::<3>(&flowers.labels, &mut order, 0.2, SEED)?;

    let sample = |i: usize| -> Sample {
        let mut target = [0.0; 3];
        target[flowers.labels[i]] = 1.0;
        (flowers.inputs[i].map(|x| x as f32), target)
    };
    let train: Vec<Sample> = train_rows.iter().map(|&i| sample(i)).collect();
    let test: Vec<Sample> = test_rows.iter().map(|&i| sample(i)).collect();
    println!(
        "iris: {} flowers, {} for training (a fifth of them for validation), {} for testing",
        flowers.len(),
        train.len(),
        test.len()
    );

    let mut net = Iris::<f32>::random(SEED);
    // The training rows' mean and deviation only, as a scaler is fitted.
    net.fit_statistics(&train[..])?;
    println!("standardisation: {:?}", net.scale);
    let mut grads = IrisGradients::zeros();
    let mut adamw = Adam::new(AdamConfig::adamw(0.01).with_weight_decay(0.1))?;
    let config = TrainConfig::new(300)
        .seed(SEED)
        .validation_fraction(0.2)
        .early_stopping(30, 1e-4)
        .restore_best_weights();
    let trainer = Trainer::<SoftmaxCrossEntropy, 8>::new(config)?;
    let mut progress = Progress::new();
    let summary = trainer.fit(
        &mut net,
        &mut adamw,
        &mut grads,
        &train[..],
        &mut vec![0; train.len()],
        |stats, _net| {
            if stats.epoch % 20 == 0 {
                progress.print(stats);
            }
            Control::Continue
        },
    )?;
    println!(
        "ran {} epochs{}; using the weights of epoch {} (validation loss {:.4})",
        summary.epochs_run,
        if summary.stopped_early {
            " (early stopping)"
        } else {
            ""
        },
        summary.best.map_or(0, |(epoch, _)| epoch + 1),
        summary.best.map_or(f64::NAN, |(_, loss)| loss)
    );
    let matrix: ConfusionMatrix<3> = trainer.confusion_matrix(&net, &test[..])?;
    println!("test set, per class (0 setosa, 1 versicolor, 2 virginica):\n{matrix}");
    let figures = trainer.evaluate(&net, &test[..])?;
    println!("test loss: {:.4}", figures.loss);
    Ok(figures.accuracy)
}
