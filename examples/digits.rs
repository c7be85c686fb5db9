//! Recognises 8x8 handwritten digits with a 64-64-10 network trained by
//! Adam, and draws the loss curves as an SVG.
//!
//! Run with `cargo run --release --example digits [-- loss.svg]`. Reads
//! `data/digits.csv` (1797 images, pixels 0..16), holds out a seeded 20% as a
//! test set, standardises every pixel inside the network (a `Standardize`
//! first layer fitted on the training images), trains with a 10% validation split, early stopping and a cosine
//! learning-rate schedule, writes the training and validation loss per epoch
//! to `digits-loss.svg` (or the path given), and ends with the line
//! `test accuracy: <fraction>`.

use std::fmt::Write as _;
use std::process::ExitCode;

use network::dataset::{Subset, shuffled_split};
use network::load::read_csv;
use network::metrics::ConfusionMatrix;
use network::prelude::*;
use network::train::Progress;

network! {
    /// 64 pixels in, standardised, ten digits out.
    pub struct Digits {
        input: 64,
        scale: Standardize,
        hidden: Dense<64, Relu>,
        output: Dense<10, Softmax>,
    }
}

const SEED: u64 = 7;
const EPOCHS: usize = 100;
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.csv");

fn main() -> ExitCode {
    let svg_path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "digits-loss.svg".into());
    match run(&svg_path) {
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

fn run(svg_path: &str) -> Result<f64, Box<dyn std::error::Error>> {
    let images = read_csv::<64, 10>(DATA)?;
    // The pixels as they are (0..16): the network standardises them.
    let all = images.classification::<f32, 10>(1.0)?;
    let mut order = vec![0; images.len()];
    let (train_rows, test_rows) = shuffled_split(&mut order, 0.2, SEED);
    let train = Subset::new(&all, train_rows)?;
    let test = Subset::new(&all, test_rows)?;
    println!(
        "digits: {} images, {} for training (a tenth of them for validation), {} for testing",
        images.len(),
        train_rows.len(),
        test_rows.len()
    );

    let mut net = Digits::<f32>::random(SEED);
    // Each pixel's mean and deviation over the training images only; the
    // corners, blank in every one of them, keep scale 1.
    net.fit_statistics(&train)?;
    let mut grads = DigitsGradients::zeros();
    let mut adam = Adam::new(AdamConfig::adam(2e-3))?;
    let config = TrainConfig::new(EPOCHS)
        .seed(SEED)
        .validation_fraction(0.1)
        .early_stopping(15, 1e-4)
        .restore_best_weights()
        .schedule(Schedule::Cosine {
            epochs: EPOCHS,
            min_learning_rate: 1e-5,
        });
    let trainer = Trainer::<SoftmaxCrossEntropy, 32>::new(config)?;
    let mut progress = Progress::new();
    let mut curve = Vec::new();
    let summary = trainer.fit(
        &mut net,
        &mut adam,
        &mut grads,
        &train,
        &mut vec![0; train.len()],
        |stats, _net| {
            progress.print(stats);
            curve.push((stats.train_loss, stats.validation_loss.unwrap_or(f64::NAN)));
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

    std::fs::write(svg_path, loss_curve_svg(&curve))?;
    println!("wrote the loss curves to {svg_path}");
    let matrix: ConfusionMatrix<10> = trainer.confusion_matrix(&net, &test)?;
    println!("test set, per digit:\n{matrix}");
    Ok(trainer.evaluate(&net, &test)?.accuracy)
}

/// A line chart of the training and validation loss per epoch on a
/// logarithmic loss axis, as a self-contained SVG document.
fn loss_curve_svg(curve: &[(f64, f64)]) -> String {
    const WIDTH: f64 = 640.0;
    const HEIGHT: f64 = 400.0;
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = 20.0;
    const TOP: f64 = 40.0;
    const BOTTOM: f64 = 50.0;
    let epochs = curve.len().max(2);
    let losses = || {
        curve
            .iter()
            .flat_map(|&(t, v)| [t, v])
            .filter(|l| l.is_finite() && *l > 0.0)
    };
    // Whole decades around the data.
    let low = losses().fold(f64::INFINITY, f64::min).log10().floor();
    let high = losses().fold(f64::NEG_INFINITY, f64::max).log10().ceil();
    let (low, high) = if low.is_finite() && high > low {
        (low, high)
    } else {
        (-3.0, 1.0)
    };
    let (x0, x1, y0, y1) = (LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM, TOP);
    let x = |epoch: usize| x0 + (x1 - x0) * epoch as f64 / (epochs - 1) as f64;
    let y = |loss: f64| y0 - (y0 - y1) * (loss.log10() - low) / (high - low);

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="24" text-anchor="middle" font-size="15">digits (64-64-10): softmax cross-entropy per epoch</text>"#,
        (x0 + x1) / 2.0
    );
    // Horizontal grid lines at each decade, labelled.
    for decade in (low as i32)..=(high as i32) {
        let loss = 10f64.powi(decade);
        let ty = y(loss);
        let _ = writeln!(
            svg,
            r##"<line x1="{x0}" y1="{ty:.1}" x2="{x1}" y2="{ty:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{loss}</text>"##,
            x0 - 6.0,
            ty + 4.0
        );
    }
    // Epoch ticks: five, evenly spaced.
    for tick in 0..=4 {
        let epoch = (epochs - 1) * tick / 4;
        let tx = x(epoch);
        let _ = writeln!(
            svg,
            r#"<line x1="{tx:.1}" y1="{y0}" x2="{tx:.1}" y2="{}" stroke="black"/><text x="{tx:.1}" y="{}" text-anchor="middle">{}</text>"#,
            y0 + 5.0,
            y0 + 18.0,
            epoch + 1
        );
    }
    let _ = writeln!(
        svg,
        r#"<path d="M{x0},{y1} L{x0},{y0} L{x1},{y0}" fill="none" stroke="black"/>"#
    );
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">epoch</text>"#,
        (x0 + x1) / 2.0,
        HEIGHT - 10.0
    );
    let _ = writeln!(
        svg,
        r#"<text x="18" y="{0}" text-anchor="middle" transform="rotate(-90 18 {0})">loss (log scale)</text>"#,
        (y0 + y1) / 2.0
    );
    // The two curves and their legend.
    for (series, colour, label, legend_y) in [
        (0, "#1f77b4", "training", TOP + 12.0),
        (1, "#d62728", "validation", TOP + 30.0),
    ] {
        let points: Vec<String> = curve
            .iter()
            .enumerate()
            .map(|(epoch, &(t, v))| (epoch, if series == 0 { t } else { v }))
            .filter(|(_, loss)| loss.is_finite() && *loss > 0.0)
            .map(|(epoch, loss)| format!("{:.1},{:.1}", x(epoch), y(loss)))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            points.join(" ")
        );
        let lx = x1 - 110.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{lx}" y1="{legend_y}" x2="{}" y2="{legend_y}" stroke="{colour}" stroke-width="2"/><text x="{}" y="{}">{label}</text>"#,
            lx + 24.0,
            lx + 30.0,
            legend_y + 4.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}
