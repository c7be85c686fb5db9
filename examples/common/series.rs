//! What the time-series examples (`activity`, `gunpoint`) share: their
//! command line, their ending, and per-channel standardisation.

use std::process::ExitCode;

use network::load::Labeled;
use network::prelude::*;
use network::train::Progress;

/// What the command line asks for.
pub struct Options {
    /// Train two epochs and skip the accuracy target (for CI).
    pub smoke: bool,
    /// Seeds the initial weights and the batch order.
    pub seed: u64,
}

impl Options {
    /// `full`, or two epochs with `--smoke`.
    pub fn epochs(&self, full: usize) -> usize {
        if self.smoke { 2 } else { full }
    }
}

/// How an example trains: Adam with a cosine learning-rate schedule, for a
/// fixed number of epochs (no validation split: the training sets are a few
/// dozen series), printing a line every `report_every` epochs.
pub struct Recipe {
    pub learning_rate: f32,
    pub epochs: usize,
    pub report_every: usize,
}

/// Trains `net` on `train` in batches of `BATCH` as `recipe` says (two
/// epochs with `--smoke`), then returns its accuracy on `test`.
pub fn fit_and_test<N, const V: usize, const K: usize, const BATCH: usize>(
    net: &mut N,
    recipe: &Recipe,
    options: &Options,
    train: &[([f32; V], [f32; K])],
    test: &[([f32; V], [f32; K])],
) -> Result<f64, Box<dyn std::error::Error>>
where
    N: Network<f32, V, K>,
    SoftmaxCrossEntropy: Loss<N::OutputActivation>,
{
    let epochs = options.epochs(recipe.epochs);
    let mut grads = N::Gradients::zeros();
    let mut adam = Adam::new(AdamConfig::adam(recipe.learning_rate))?;
    let config = TrainConfig::new(epochs)
        .seed(options.seed)
        .schedule(Schedule::Cosine {
            epochs,
            min_learning_rate: 1e-5,
        });
    let trainer = Trainer::<SoftmaxCrossEntropy, BATCH>::new(config)?;
    let mut progress = Progress::new();
    let summary = trainer.fit(
        net,
        &mut adam,
        &mut grads,
        train,
        &mut vec![0; train.len()],
        |stats, _net| {
            if (stats.epoch + 1) % recipe.report_every == 0 || stats.epoch + 1 == stats.epochs {
                progress.print(stats);
            }
            Control::Continue
        },
    )?;
    println!(
        "ran {} epochs; final training loss {:.4}, accuracy {:.4}",
        summary.epochs_run, summary.last.train_loss, summary.last.train_accuracy
    );
    let figures = trainer.evaluate(&*net, test)?;
    println!("test loss: {:.4}", figures.loss);
    Ok(figures.accuracy)
}

/// `[--smoke] [--seed N]`, with `seed` unless `--seed` is given.
pub fn parse_args(seed: u64) -> Result<Options, String> {
    let mut options = Options { smoke: false, seed };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--smoke" => options.smoke = true,
            "--seed" => {
                let value = args.next().ok_or("--seed needs a value")?;
                options.seed = value
                    .parse()
                    .map_err(|_| format!("--seed needs an integer, not `{value}`"))?;
            }
            _ => return Err(format!("unknown argument `{arg}`")),
        }
    }
    Ok(options)
}

/// Parses the command line, runs `run` and prints its test accuracy; fails
/// below `target` unless `--smoke`.
pub fn main(
    name: &str,
    seed: u64,
    target: f64,
    run: impl FnOnce(&Options) -> Result<f64, Box<dyn std::error::Error>>,
) -> ExitCode {
    let options = match parse_args(seed) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("error: {error}\nusage: {name} [--smoke] [--seed N]");
            return ExitCode::FAILURE;
        }
    };
    match run(&options) {
        Ok(accuracy) => {
            println!("test accuracy: {accuracy:.4}");
            if options.smoke || accuracy >= target {
                ExitCode::SUCCESS
            } else {
                eprintln!("the test accuracy is below the target of {target}");
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Per-channel standardisation of series of `C` channels x `L` steps:
/// each channel's mean and standard deviation over every step of every
/// training series.
pub struct Standardiser<const C: usize, const L: usize> {
    mean: [f64; C],
    std: [f64; C],
}

impl<const C: usize, const L: usize> Standardiser<C, L> {
    /// The statistics of `train`, which must be the training split only, so
    /// that nothing about the test series leaks into training. `V` is
    /// `C L`, channel-major.
    pub fn fit<const V: usize>(train: &Labeled<f64, V>) -> Self {
        const { assert!(V == C * L, "a series has C x L values") };
        let n = (train.len() * L) as f64;
        let mut mean = [0.0; C];
        let mut variance = [0.0; C];
        for series in &train.inputs {
            for (c, m) in mean.iter_mut().enumerate() {
                *m += series[c * L..(c + 1) * L].iter().sum::<f64>() / n;
            }
        }
        for series in &train.inputs {
            for (c, v) in variance.iter_mut().enumerate() {
                let steps = &series[c * L..(c + 1) * L];
                *v += steps.iter().map(|x| (x - mean[c]).powi(2)).sum::<f64>() / n;
            }
        }
        Standardiser {
            mean,
            std: variance.map(|v| v.sqrt().max(1e-12)),
        }
    }

    /// `data` standardised, with one-hot targets over `K` classes.
    pub fn samples<const V: usize, const K: usize>(
        &self,
        data: &Labeled<f64, V>,
    ) -> Vec<([f32; V], [f32; K])> {
        data.inputs
            .iter()
            .zip(&data.labels)
            .map(|(series, &label)| {
                let x = std::array::from_fn(|i| {
                    let c = i / L;
                    ((series[i] - self.mean[c]) / self.std[c]) as f32
                });
                let mut t = [0.0; K];
                t[label] = 1.0;
                (x, t)
            })
            .collect()
    }
}
