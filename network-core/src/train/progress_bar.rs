//! A progress bar on the terminal for long training (feature `progress`).

use std::format;
use std::string::String;

use super::{BatchProgress, Control, EpochStats, Observer, Progress};

/// A terminal progress bar for [`Trainer::fit_observed`](super::Trainer::fit_observed):
/// the batches of the whole run, the epoch and batch, the running loss,
/// batches per second and the time left, redrawn as training goes (by the
/// `indicatif` crate), with one line per finished epoch printed above it.
///
/// It draws only on a terminal; when the output is a file or a pipe (CI,
/// logs) it prints what [`Progress`] prints instead, one line per epoch
/// with its time, so the same code serves both.
///
/// ```no_run
/// # use network_core::train::ProgressBar;
/// # fn run<N>(fit: impl FnOnce(&mut ProgressBar)) {
/// let mut bar = ProgressBar::new();
/// fit(&mut bar); // trainer.fit_observed(&mut net, &mut adam, &mut grads, &data, &mut order, &mut bar)
/// bar.finish();
/// # }
/// ```
#[derive(Debug)]
pub struct ProgressBar {
    bar: indicatif::ProgressBar,
    started: bool,
    lines: Progress,
    /// Training samples seen in earlier epochs, and in this one so far.
    samples: (usize, usize),
}

impl Default for ProgressBar {
    fn default() -> Self {
        Self::new()
    }
}

impl ProgressBar {
    /// A bar on standard error, sized when training starts.
    pub fn new() -> Self {
        let style = indicatif::ProgressStyle::with_template(
            "{bar:30} {percent:>3}% {msg} | {elapsed_precise} elapsed, {eta_precise} left",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        let bar = indicatif::ProgressBar::new(0).with_style(style);
        ProgressBar {
            bar,
            started: false,
            lines: Progress::new(),
            samples: (0, 0),
        }
    }

    /// Leaves the bar drawn at its last position.
    pub fn finish(&self) {
        self.bar.finish();
    }

    /// The text beside the bar for `progress`, `rate` samples a second.
    fn message(progress: &BatchProgress, rate: f64) -> String {
        format!(
            "epoch {}/{} batch {}/{} loss {:.4} | {rate:.0} samples/s",
            progress.epoch + 1,
            progress.epochs,
            progress.batch + 1,
            progress.batches,
            progress.loss
        )
    }
}

impl<N> Observer<N> for ProgressBar {
    fn batch(&mut self, progress: &BatchProgress) {
        if !self.started {
            self.started = true;
            self.bar
                .set_length((progress.epochs * progress.batches) as u64);
            self.bar.reset_elapsed();
        }
        if progress.batch == 0 {
            self.samples = (self.samples.0 + self.samples.1, 0);
        }
        self.samples.1 = progress.samples;
        let seconds = self.bar.elapsed().as_secs_f64();
        let rate = (self.samples.0 + self.samples.1) as f64 / seconds.max(1e-9);
        let done = progress.epoch * progress.batches + progress.batch + 1;
        self.bar.set_position(done as u64);
        self.bar.set_message(Self::message(progress, rate));
    }

    fn epoch(&mut self, stats: &EpochStats, _network: &N) -> Control {
        let line = self.lines.line(stats);
        if self.bar.is_hidden() {
            std::println!("{line}");
        } else {
            self.bar.println(line);
        }
        Control::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_counts_from_one() {
        let progress = BatchProgress {
            epoch: 0,
            epochs: 3,
            batch: 4,
            batches: 10,
            samples: 160,
            loss: 0.25,
        };
        assert_eq!(
            ProgressBar::message(&progress, 1234.4),
            "epoch 1/3 batch 5/10 loss 0.2500 | 1234 samples/s"
        );
    }

    #[test]
    fn the_bar_spans_every_batch_of_the_run() {
        let mut bar = ProgressBar::new();
        let mut progress = BatchProgress {
            epochs: 3,
            batches: 10,
            ..BatchProgress::default()
        };
        Observer::<()>::batch(&mut bar, &progress);
        assert_eq!(bar.bar.length(), Some(30));
        assert_eq!(bar.bar.position(), 1);
        progress.epoch = 2;
        progress.batch = 9;
        Observer::<()>::batch(&mut bar, &progress);
        assert_eq!(bar.bar.position(), 30);
    }
}
