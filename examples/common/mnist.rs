//! What the MNIST examples (`mnist`, `lenet`) share: training with Adam, a
//! cosine schedule and a twelfth of the images for validation, with a
//! progress bar on a terminal (a line per epoch otherwise), then testing.

use network::Zeroable;
use network::boxed_zeroed;
use network::dataset::Dataset;
use network::prelude::*;
use network::train::{Evaluation, ProgressBar};

/// Adam's initial learning rate, decayed by the cosine schedule to
/// [`FINAL_LEARNING_RATE`].
const LEARNING_RATE: f32 = 1e-3;
const FINAL_LEARNING_RATE: f64 = 1e-5;

/// Trains `net` on `train` for `epochs` in batches of `BATCH` (its
/// gradients and Adam's moments on the heap, like the network), then
/// returns its loss and accuracy on `test`.
pub fn fit_and_test<N, Train, Test, const BATCH: usize>(
    net: &mut N,
    epochs: usize,
    seed: u64,
    train: &Train,
    test: &Test,
) -> Result<Evaluation, Box<dyn std::error::Error>>
where
    N: Network<f32, 784, 10>,
    N::Gradients: Zeroable,
    SoftmaxCrossEntropy: Loss<N::OutputActivation>,
    Train: Dataset<f32, 784, 10> + ?Sized,
    Test: Dataset<f32, 784, 10> + ?Sized,
{
    let mut grads = boxed_zeroed::<N::Gradients>();
    let mut adam = Adam::new_boxed(AdamConfig::adam(LEARNING_RATE))?;
    let config = TrainConfig::new(epochs)
        .seed(seed)
        .validation_fraction(1.0 / 12.0)
        .schedule(Schedule::Cosine {
            epochs,
            min_learning_rate: FINAL_LEARNING_RATE,
        });
    let trainer = Trainer::<SoftmaxCrossEntropy, BATCH>::new(config)?;
    let mut bar = ProgressBar::new();
    trainer.fit_observed(
        net,
        &mut *adam,
        &mut *grads,
        train,
        &mut vec![0; train.len()],
        &mut bar,
    )?;
    bar.finish();
    let figures = trainer.evaluate(&*net, test)?;
    println!("test loss: {:.4}", figures.loss);
    println!("test accuracy: {:.4}", figures.accuracy);
    Ok(figures)
}
