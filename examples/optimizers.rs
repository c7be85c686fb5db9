//! Epochs and wall time to a target training loss for Levenberg–Marquardt,
//! iRPROP−, the natural gradient, Adam and SGD, on sine regression, iris
//! and digits (the calibration curve is still to be wired: see
//! [`calibration_task`]), as medians over weight seeds 1 to 10.
//!
//! Run with `cargo run --release --example optimizers`. Every method is
//! full batch, so that an epoch is one pass over the training set for all
//! of them: LM and the natural gradient build their `P x P` system over
//! every sample, and iRPROP−, Adam and SGD take one step per epoch on the
//! gradient of the mean loss over every sample. A run stops when the
//! full-batch training loss is at or below the task's target, at the
//! method's epoch cap, at LM's or NG's damping limit, or at a failed step.
//! Prints a summary line per task and method, then the markdown table.

use std::error::Error;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use network::load::read_csv;
use network::prelude::*;
use network::{
    Batch, ConfigError, DampedOutcome, DampingConfig, Deterministic, FisherLoss,
    LevenbergMarquardt, NaturalGradient, StepError,
};

/// The firmware's calibration curve, from its one source (of which this
/// table needs the network and its samples only).
#[path = "cortex-m4/src/calibration.rs"]
#[allow(dead_code)]
mod calibration;

network! {
    /// `sin x` on `[-pi, pi]`.
    struct Sine {
        input: 1,
        hidden: Dense<8, Tanh>,
        output: Dense<1, Identity>,
    }
}

network! {
    /// Four measurements in, three species out (the README's network).
    struct Iris {
        input: 4,
        hidden: Dense<16, Tanh>,
        output: Dense<3, Softmax>,
    }
}

network! {
    /// 64 pixels in, ten digits out: a hidden layer small enough for a
    /// `P x P` system per epoch.
    struct Digits {
        input: 64,
        hidden: Dense<8, Tanh>,
        output: Dense<10, Softmax>,
    }
}

/// The weight seeds of every method and task.
const SEEDS: std::ops::RangeInclusive<u64> = 1..=10;
const IRIS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv");
const DIGITS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.csv");

/// How a task is trained: its target, the learning rates of the first-order
/// methods and every method's epoch cap.
#[derive(Clone, Copy, Debug)]
struct Settings {
    /// The target of the task's loss (mean squared error or softmax
    /// cross-entropy).
    target: f64,
    /// LM's target on a classification task, where LM minimises the mean
    /// squared error of the softmax outputs against one-hot targets: about
    /// the mean squared error that the networks trained on the
    /// cross-entropy have when they reach `target` (measured: iris
    /// 0.009 to 0.010 at 0.05, digits 0.0035 to 0.0046 at 0.1).
    lm_target: Option<f64>,
    adam_learning_rate: f64,
    sgd_learning_rate: f64,
    /// The epoch caps of LM and NG (second order), then of iRPROP−, Adam
    /// and SGD.
    second_order_cap: usize,
    first_order_cap: usize,
    sgd_cap: usize,
}

/// Why a run stopped.
#[derive(Clone, Copy, Debug, PartialEq)]
enum End {
    /// The loss reached the target after this many epochs.
    Target(usize),
    /// The epoch cap came first.
    Cap,
    /// No damping up to the maximum lowered the loss, after this many epochs.
    DampingLimit(usize),
    /// A step refused to run, after this many epochs.
    Failed(usize, StepError),
}

/// One training run: how it ended, its last full-batch loss and the wall
/// time of its training loop.
#[derive(Clone, Copy, Debug)]
struct Run {
    end: End,
    loss: f64,
    time: Duration,
}

impl Run {
    fn epochs(&self) -> Option<usize> {
        match self.end {
            End::Target(epochs) => Some(epochs),
            _ => None,
        }
    }
}

/// A method's runs over every seed, or why it does not apply to the task.
enum Cell {
    Runs { runs: Vec<Run>, cap: usize },
    NotApplicable(&'static str),
}

/// One row of the table.
struct Row {
    task: &'static str,
    network: String,
    target: String,
    /// LM, iRPROP−, NG, Adam, SGD.
    cells: [Cell; 5],
}

/// A task's row, or `None` for a task not wired yet.
type Task = fn() -> Result<Option<Row>, Box<dyn Error>>;

const METHODS: [&str; 5] = ["LM", "iRPROP−", "NG", "Adam", "SGD"];

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let started = Instant::now();
    let mut rows = Vec::new();
    let tasks: [Task; 4] = [
        || sine_task().map(Some),
        calibration_task,
        || iris_task().map(Some),
        || digits_task().map(Some),
    ];
    for task in tasks {
        if let Some(row) = task()? {
            summarise(&row);
            rows.push(row);
        }
    }
    println!();
    print_table(&rows);
    println!();
    println!("whole run: {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

// ---------------------------------------------------------------------------
// The tasks
// ---------------------------------------------------------------------------

/// 32 evenly spaced points of `sin x` on `[-pi, pi]`, 1-8-1 tanh, `f64`.
fn sine_task() -> Result<Row, Box<dyn Error>> {
    let data: Vec<([f64; 1], [f64; 1])> = (0..32)
        .map(|j| {
            let x = -std::f64::consts::PI + 2.0 * std::f64::consts::PI * j as f64 / 31.0;
            ([x], [x.sin()])
        })
        .collect();
    let settings = Settings {
        target: 1e-3,
        lm_target: None,
        adam_learning_rate: 0.01,
        sgd_learning_rate: 0.3,
        second_order_cap: 500,
        first_order_cap: 10_000,
        sgd_cap: 50_000,
    };
    regression_row::<f64, Sine<f64>, _, 1, 1, { Sine::<f64>::PARAMETERS }, 32>(
        "sine",
        "1-8-1 tanh",
        &data[..],
        settings,
    )
}

/// The Cortex-M4 firmware's thermistor calibration (its source file,
/// included by path): 32 readings, the 1-16-1 network, `f32`. The target,
/// a mean squared error of 2e-5 on the scaled output (`celsius = 50 y +
/// 30`), is about where the largest error from -20 to 80 °C falls below
/// the firmware's 0.5 °C; Adam's rate is the firmware's.
fn calibration_task() -> Result<Option<Row>, Box<dyn Error>> {
    let data = calibration::calibration_samples();
    let settings = Settings {
        target: 2e-5,
        lm_target: None,
        adam_learning_rate: 0.05,
        sgd_learning_rate: 0.5,
        second_order_cap: 500,
        first_order_cap: 10_000,
        sgd_cap: 50_000,
    };
    regression_row::<
        f32,
        calibration::Calibration<f32>,
        _,
        1,
        1,
        { calibration::Calibration::<f32>::PARAMETERS },
        32,
    >("calibration", "1-16-1 tanh", &data[..], settings)
    .map(Some)
}

/// Fisher's 150 iris flowers, every one a training sample, standardised;
/// the README's 4-16-3 network, `f64`.
fn iris_task() -> Result<Row, Box<dyn Error>> {
    let flowers = read_csv::<4, 3>(IRIS)?;
    let n = flowers.len() as f64;
    let mut mean = [0.0; 4];
    let mut variance = [0.0; 4];
    for row in &flowers.inputs {
        for (m, x) in mean.iter_mut().zip(row) {
            *m += x / n;
        }
    }
    for row in &flowers.inputs {
        for ((v, m), x) in variance.iter_mut().zip(mean).zip(row) {
            *v += (x - m) * (x - m) / n;
        }
    }
    let data: Vec<([f64; 4], [f64; 3])> = flowers
        .inputs
        .iter()
        .zip(&flowers.labels)
        .map(|(row, &label)| {
            let features =
                std::array::from_fn(|f| (row[f] - mean[f]) / variance[f].sqrt().max(1e-12));
            let mut target = [0.0; 3];
            target[label] = 1.0;
            (features, target)
        })
        .collect();
    let settings = Settings {
        target: 0.05,
        lm_target: Some(0.01),
        adam_learning_rate: 0.01,
        sgd_learning_rate: 0.5,
        second_order_cap: 500,
        first_order_cap: 10_000,
        sgd_cap: 50_000,
    };
    classification_row::<f64, Iris<f64>, _, 4, 3, { Iris::<f64>::PARAMETERS }, 150>(
        "iris",
        "4-16-3 tanh, softmax",
        &data[..],
        settings,
    )
}

/// All 1,797 8x8 digits (pixels scaled to `[0, 1]`), 64-8-10, `f32`.
fn digits_task() -> Result<Row, Box<dyn Error>> {
    let images = read_csv::<64, 10>(DIGITS)?;
    let data = images.classification::<f32, 10>(1.0 / 16.0)?;
    let settings = Settings {
        target: 0.1,
        lm_target: Some(0.004),
        adam_learning_rate: 0.01,
        sgd_learning_rate: 0.5,
        second_order_cap: 100,
        first_order_cap: 10_000,
        sgd_cap: 50_000,
    };
    classification_row::<f32, Digits<f32>, _, 64, 10, { Digits::<f32>::PARAMETERS }, 128>(
        "digits",
        "64-8-10 tanh, softmax",
        &data,
        settings,
    )
}

/// Every method on a regression task, the loss the mean squared error. The
/// natural gradient does not apply: with a Gaussian likelihood its Fisher
/// is `J^T J`, so it is Levenberg–Marquardt.
fn regression_row<T, N, D, const IN: usize, const OUT: usize, const P: usize, const B: usize>(
    task: &'static str,
    architecture: &str,
    data: &D,
    settings: Settings,
) -> Result<Row, Box<dyn Error>>
where
    T: Scalar + Zeroable,
    N: Network<T, IN, OUT> + Deterministic,
    D: Dataset<T, IN, OUT> + ?Sized,
{
    let s = settings;
    let cells = [
        over_seeds(s.second_order_cap, |seed| {
            lm::<T, N, D, IN, OUT, P, B>(seed, data, s.target, s.second_order_cap)
        })?,
        over_seeds(s.first_order_cap, |seed| {
            rprop::<MeanSquaredError, T, N, D, IN, OUT, B>(seed, data, s.target, s.first_order_cap)
        })?,
        Cell::NotApplicable("n/a (= LM)"),
        over_seeds(s.first_order_cap, |seed| {
            adam::<MeanSquaredError, T, N, D, IN, OUT, B>(
                seed,
                data,
                s.target,
                s.first_order_cap,
                s.adam_learning_rate,
            )
        })?,
        over_seeds(s.sgd_cap, |seed| {
            sgd::<MeanSquaredError, T, N, D, IN, OUT, B>(
                seed,
                data,
                s.target,
                s.sgd_cap,
                s.sgd_learning_rate,
            )
        })?,
    ];
    Ok(Row {
        task,
        network: format!("{architecture} (P = {P})"),
        target: format!("MSE {}", s.target),
        cells,
    })
}

/// Every method on a classification task: the softmax cross-entropy for
/// all but LM, which minimises the mean squared error of the softmax
/// outputs against the one-hot targets (towards `settings.lm_target`).
fn classification_row<T, N, D, const IN: usize, const OUT: usize, const P: usize, const B: usize>(
    task: &'static str,
    architecture: &str,
    data: &D,
    settings: Settings,
) -> Result<Row, Box<dyn Error>>
where
    T: Scalar + Zeroable,
    N: Network<T, IN, OUT> + Deterministic,
    SoftmaxCrossEntropy: FisherLoss<N::OutputActivation>,
    D: Dataset<T, IN, OUT> + ?Sized,
{
    let s = settings;
    let lm_target = s
        .lm_target
        .ok_or("a classification task needs an LM target")?;
    type Ce = SoftmaxCrossEntropy;
    let cells = [
        over_seeds(s.second_order_cap, |seed| {
            lm::<T, N, D, IN, OUT, P, B>(seed, data, lm_target, s.second_order_cap)
        })?,
        over_seeds(s.first_order_cap, |seed| {
            rprop::<Ce, T, N, D, IN, OUT, B>(seed, data, s.target, s.first_order_cap)
        })?,
        over_seeds(s.second_order_cap, |seed| {
            natural::<Ce, T, N, D, IN, OUT, P, B>(seed, data, s.target, s.second_order_cap)
        })?,
        over_seeds(s.first_order_cap, |seed| {
            adam::<Ce, T, N, D, IN, OUT, B>(
                seed,
                data,
                s.target,
                s.first_order_cap,
                s.adam_learning_rate,
            )
        })?,
        over_seeds(s.sgd_cap, |seed| {
            sgd::<Ce, T, N, D, IN, OUT, B>(seed, data, s.target, s.sgd_cap, s.sgd_learning_rate)
        })?,
    ];
    Ok(Row {
        task,
        network: format!("{architecture} (P = {P})"),
        target: format!("CE {} (LM: MSE {lm_target})", s.target),
        cells,
    })
}

/// A method's runs from every seed.
fn over_seeds(
    cap: usize,
    mut run: impl FnMut(u64) -> Result<Run, Box<dyn Error>>,
) -> Result<Cell, Box<dyn Error>> {
    let runs = SEEDS.map(&mut run).collect::<Result<_, _>>()?;
    Ok(Cell::Runs { runs, cap })
}

// ---------------------------------------------------------------------------
// The methods
// ---------------------------------------------------------------------------

/// Levenberg–Marquardt (MATLAB's `trainlm` damping) from `seed`, on the
/// mean squared error.
fn lm<T, N, D, const IN: usize, const OUT: usize, const P: usize, const B: usize>(
    seed: u64,
    data: &D,
    target: f64,
    cap: usize,
) -> Result<Run, Box<dyn Error>>
where
    T: Scalar + Zeroable,
    N: Network<T, IN, OUT> + Deterministic,
    D: Dataset<T, IN, OUT> + ?Sized,
{
    let mut net = N::random(seed);
    let mut lm = LevenbergMarquardt::<T, P>::new_boxed(DampingConfig::trainlm())?;
    let initial = mean_loss::<MeanSquaredError, T, N, D, IN, OUT, B>(&net, data)?;
    Ok(damped(&mut net, initial, target, cap, |net| {
        lm.step(net, data)
    }))
}

/// The natural gradient (exact Fisher, `trainlm` damping) from `seed`, on
/// the loss `L`.
fn natural<L, T, N, D, const IN: usize, const OUT: usize, const P: usize, const B: usize>(
    seed: u64,
    data: &D,
    target: f64,
    cap: usize,
) -> Result<Run, Box<dyn Error>>
where
    L: FisherLoss<N::OutputActivation>,
    T: Scalar + Zeroable,
    N: Network<T, IN, OUT> + Deterministic,
    D: Dataset<T, IN, OUT> + ?Sized,
{
    let mut net = N::random(seed);
    let mut ng = NaturalGradient::<T, P>::new_boxed(DampingConfig::trainlm())?;
    let initial = mean_loss::<L, T, N, D, IN, OUT, B>(&net, data)?;
    Ok(damped(&mut net, initial, target, cap, |net| {
        ng.step::<L, _, _, IN, OUT>(net, data)
    }))
}

/// iRPROP− with its published defaults from `seed`.
fn rprop<L, T, N, D, const IN: usize, const OUT: usize, const B: usize>(
    seed: u64,
    data: &D,
    target: f64,
    cap: usize,
) -> Result<Run, Box<dyn Error>>
where
    L: Loss<N::OutputActivation>,
    T: Scalar,
    N: Network<T, IN, OUT>,
    D: Dataset<T, IN, OUT> + ?Sized,
{
    let mut optimizer = IRpropMinus::<T, N::Gradients>::new(IRpropConfig::new())?;
    first_order::<L, T, N, D, _, IN, OUT, B>(seed, &mut optimizer, data, target, cap)
}

/// Adam (PyTorch's defaults but the learning rate) from `seed`.
fn adam<L, T, N, D, const IN: usize, const OUT: usize, const B: usize>(
    seed: u64,
    data: &D,
    target: f64,
    cap: usize,
    learning_rate: f64,
) -> Result<Run, Box<dyn Error>>
where
    L: Loss<N::OutputActivation>,
    T: Scalar,
    N: Network<T, IN, OUT>,
    D: Dataset<T, IN, OUT> + ?Sized,
{
    let config = AdamConfig::adam(T::constant(learning_rate));
    let mut optimizer = Adam::<T, N::Gradients>::new(config)?;
    first_order::<L, T, N, D, _, IN, OUT, B>(seed, &mut optimizer, data, target, cap)
}

/// Plain gradient descent from `seed`.
fn sgd<L, T, N, D, const IN: usize, const OUT: usize, const B: usize>(
    seed: u64,
    data: &D,
    target: f64,
    cap: usize,
    learning_rate: f64,
) -> Result<Run, Box<dyn Error>>
where
    L: Loss<N::OutputActivation>,
    T: Scalar,
    N: Network<T, IN, OUT>,
    D: Dataset<T, IN, OUT> + ?Sized,
{
    let mut optimizer = Sgd::new(T::constant(learning_rate))?;
    first_order::<L, T, N, D, _, IN, OUT, B>(seed, &mut optimizer, data, target, cap)
}

/// Damped steps until the loss is at most `target`, `cap` steps, the
/// damping limit or a failed step.
fn damped<T: Scalar, N>(
    net: &mut N,
    initial: f64,
    target: f64,
    cap: usize,
    mut step: impl FnMut(&mut N) -> Result<DampedOutcome<T>, StepError>,
) -> Run {
    let start = Instant::now();
    let mut loss = initial;
    let mut end = End::Cap;
    if loss <= target {
        end = End::Target(0);
    } else {
        for epoch in 1..=cap {
            match step(net) {
                Ok(DampedOutcome::Lowered { after, .. }) => loss = after.to_f64(),
                Ok(DampedOutcome::DampingLimit { .. }) => {
                    end = End::DampingLimit(epoch - 1);
                    break;
                }
                Err(error) => {
                    end = End::Failed(epoch - 1, error);
                    break;
                }
            }
            if loss <= target {
                end = End::Target(epoch);
                break;
            }
        }
    }
    Run {
        end,
        loss,
        time: start.elapsed(),
    }
}

/// A first-order optimizer from `seed`, one step per epoch on the
/// full-batch gradient, until the full-batch loss is at most `target` or
/// `cap` steps have been taken (or a step fails).
fn first_order<L, T, N, D, O, const IN: usize, const OUT: usize, const B: usize>(
    seed: u64,
    optimizer: &mut O,
    data: &D,
    target: f64,
    cap: usize,
) -> Result<Run, Box<dyn Error>>
where
    L: Loss<N::OutputActivation>,
    T: Scalar,
    N: Network<T, IN, OUT>,
    D: Dataset<T, IN, OUT> + ?Sized,
    O: Optimizer<T, N::Gradients>,
{
    let mut net = N::random(seed);
    let mut full = FullBatch::<L, T, N, IN, OUT, B>::new()?;
    let start = Instant::now();
    let mut end = End::Cap;
    let mut loss = f64::INFINITY;
    for epoch in 0..=cap {
        loss = full.loss_and_gradients(&net, data).to_f64();
        if loss <= target {
            end = End::Target(epoch);
            break;
        }
        if !loss.is_finite() {
            end = End::Failed(epoch, StepError::NonFiniteLoss);
            break;
        }
        if epoch == cap {
            break;
        }
        if let Err(error) = optimizer.step(&mut net, &full.grads) {
            end = End::Failed(epoch, error);
            break;
        }
    }
    Ok(Run {
        end,
        loss,
        time: start.elapsed(),
    })
}

// ---------------------------------------------------------------------------
// Full-batch losses and gradients
// ---------------------------------------------------------------------------

/// The mean loss `L` over every sample of a dataset and its gradient,
/// computed in batches of `B` columns and weighted by their sizes.
struct FullBatch<
    L,
    T: Scalar,
    N: Network<T, IN, OUT>,
    const IN: usize,
    const OUT: usize,
    const B: usize,
> {
    trainer: Trainer<L, B>,
    /// The gradient of the mean loss over the whole dataset.
    grads: N::Gradients,
    part: N::Gradients,
    batch: Box<Batch<T, IN, OUT, B>>,
    rng: Rng,
}

impl<L, T, N, const IN: usize, const OUT: usize, const B: usize> FullBatch<L, T, N, IN, OUT, B>
where
    L: Loss<N::OutputActivation>,
    T: Scalar,
    N: Network<T, IN, OUT>,
{
    fn new() -> Result<Self, ConfigError> {
        Ok(FullBatch {
            trainer: Trainer::new(TrainConfig::new(1).shuffle(false))?,
            grads: N::Gradients::zeros(),
            part: N::Gradients::zeros(),
            batch: Box::new(Batch::zeros()),
            rng: Rng::new(0),
        })
    }

    /// The mean loss over `data`, with its gradient in `self.grads`.
    fn loss_and_gradients<D: Dataset<T, IN, OUT> + ?Sized>(&mut self, net: &N, data: &D) -> T {
        let n = data.len();
        self.grads.fill_zero();
        let mut loss = T::zero();
        let mut start = 0;
        while start < n {
            let len = self.batch.fill_range(data, start);
            let outcome =
                self.trainer
                    .loss_and_gradients(net, &self.batch, &mut self.part, &mut self.rng);
            let weight = T::constant(len as f64 / n as f64);
            if len < n {
                self.part.scale(weight);
            }
            self.grads.accumulate(&self.part);
            loss += outcome.loss * weight;
            start += len.max(1);
        }
        loss
    }
}

/// The mean loss `L` of `net` over `data`.
fn mean_loss<L, T, N, D, const IN: usize, const OUT: usize, const B: usize>(
    net: &N,
    data: &D,
) -> Result<f64, Box<dyn Error>>
where
    L: Loss<N::OutputActivation>,
    T: Scalar,
    N: Network<T, IN, OUT>,
    D: Dataset<T, IN, OUT> + ?Sized,
{
    let trainer = Trainer::<L, B>::new(TrainConfig::new(1))?;
    Ok(trainer.evaluate(net, data)?.loss)
}

// ---------------------------------------------------------------------------
// Medians and the table
// ---------------------------------------------------------------------------

/// The median of `values` (the mean of the middle two for an even count);
/// infinite values sort last.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The median epochs to the target, a run that missed it counting as
/// infinitely many.
fn median_epochs(runs: &[Run]) -> f64 {
    median(
        runs.iter()
            .map(|run| run.epochs().map_or(f64::INFINITY, |e| e as f64))
            .collect(),
    )
}

/// The median wall time, over the runs that reached the target if the
/// median run did, else over all runs (then the time to their stop).
fn median_time(runs: &[Run]) -> f64 {
    let reached = median_epochs(runs).is_finite();
    median(
        runs.iter()
            .filter(|run| !reached || run.epochs().is_some())
            .map(|run| run.time.as_secs_f64())
            .collect(),
    )
}

fn format_time(seconds: f64) -> String {
    if seconds < 1e-3 {
        format!("{:.2} ms", seconds * 1e3)
    } else if seconds < 0.1 {
        format!("{:.1} ms", seconds * 1e3)
    } else if seconds < 1.0 {
        format!("{:.0} ms", seconds * 1e3)
    } else {
        format!("{seconds:.1} s")
    }
}

/// The two table cells of a method: median epochs and median time.
fn cells(cell: &Cell) -> (String, String) {
    match cell {
        Cell::NotApplicable(why) => (why.to_string(), "".into()),
        Cell::Runs { runs, cap } => {
            let reached = runs.iter().filter(|run| run.epochs().is_some()).count();
            let epochs = median_epochs(runs);
            let time = format_time(median_time(runs));
            if epochs.is_finite() {
                let count = if reached < runs.len() {
                    format!(" ({reached}/{})", runs.len())
                } else {
                    String::new()
                };
                (format!("{epochs}{count}"), time)
            } else {
                (
                    format!("not reached in {cap} ({reached}/{})", runs.len()),
                    format!("({time})"),
                )
            }
        }
    }
}

fn print_table(rows: &[Row]) {
    let mut header = String::from("| task | network | target loss |");
    let mut rule = String::from("| --- | --- | --- |");
    for method in METHODS {
        header.push_str(&format!(" {method} epochs | {method} time |"));
        rule.push_str(" ---: | ---: |");
    }
    println!("{header}");
    println!("{rule}");
    for row in rows {
        let mut line = format!("| {} | {} | {} |", row.task, row.network, row.target);
        for cell in &row.cells {
            let (epochs, time) = cells(cell);
            line.push_str(&format!(" {epochs} | {time} |"));
        }
        println!("{line}");
    }
}

/// One line per task and method: how many runs reached the target, the
/// range of their epochs, and how the others stopped.
fn summarise(row: &Row) {
    for (method, cell) in METHODS.iter().zip(&row.cells) {
        let Cell::Runs { runs, .. } = cell else {
            continue;
        };
        let epochs: Vec<usize> = runs.iter().filter_map(Run::epochs).collect();
        let range = match (epochs.iter().min(), epochs.iter().max()) {
            (Some(min), Some(max)) => format!("epochs {min}..={max}"),
            _ => "no run reached the target".into(),
        };
        let mut stops = Vec::new();
        for (seed, run) in SEEDS.zip(runs) {
            match run.end {
                End::Target(_) => {}
                End::Cap => stops.push(format!("seed {seed} at the cap, loss {:.3e}", run.loss)),
                End::DampingLimit(epochs) => stops.push(format!(
                    "seed {seed} at the damping limit after {epochs} epochs, loss {:.3e}",
                    run.loss
                )),
                End::Failed(epochs, error) => {
                    stops.push(format!("seed {seed} failed after {epochs} epochs: {error}"));
                }
            }
        }
        let total: f64 = runs.iter().map(|run| run.time.as_secs_f64()).sum();
        println!(
            "{} {method}: {}/{} reached, {range}, {:.2} s in all{}{}",
            row.task,
            epochs.len(),
            runs.len(),
            total,
            if stops.is_empty() { "" } else { "; " },
            stops.join("; ")
        );
    }
}
