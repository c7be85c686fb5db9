//! The training toolkit on generated networks: one step of every optimizer
//! against the published rules, state sizes, failed steps that change
//! nothing, partial mini-batches, the training loop's features, and a
//! 784-128-10 network trained with Adam in a default 2 MiB test thread.
#![cfg(feature = "std")]

use network::dataset::Batch;
use network::prelude::*;
use network::{
    AdamState, BatchOutcome, ConfigError, StepError, Summary, TrainError, boxed_zeroed,
    clip_global_norm,
};

network! {
    /// `y = w x + b`: two parameters, easy to follow by hand.
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Line {
        input: 1,
        output: Dense<1, Identity>,
    }
}

network! {
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Blobs {
        input: 2,
        hidden: Dense<8, Tanh>,
        output: Dense<3, Softmax>,
    }
}

network! {
    #[derive(Clone, Debug, PartialEq)]
    struct Mnist {
        input: 784,
        hidden: Dense<128, Relu>,
        output: Dense<10, Softmax>,
    }
}

/// `w = 1`, `b = 0.5`, one sample `x = 2`, `t = 1`: the output is 2.5, so
/// with the half squared error `dL/dw = 1.5 * 2 = 3` and `dL/db = 1.5`.
fn line_and_gradients() -> (Line<f64>, LineGradients<f64>) {
    let mut line = Line::<f64>::zeroed();
    line.output.w[0] = 1.0;
    line.output.b[0] = 0.5;
    let mut grads = LineGradients::zeros();
    let loss = line.loss_and_gradients::<HalfSquaredError>(&[2.0], &[1.0], &mut grads);
    assert_eq!(loss, 1.125);
    assert_eq!((grads.output.w[0], grads.output.b[0]), (3.0, 1.5));
    (line, grads)
}

fn assert_line(line: &Line<f64>, w: f64, b: f64) {
    let (w_found, b_found) = (line.output.w[0], line.output.b[0]);
    assert!(
        (w_found - w).abs() < 1e-12 && (b_found - b).abs() < 1e-12,
        "w = {w_found}, b = {b_found}; expected {w}, {b}"
    );
}

#[test]
fn one_step_of_each_optimizer_by_hand() {
    let eps = 1e-8;

    let (mut line, grads) = line_and_gradients();
    Sgd::new(0.1).unwrap().step(&mut line, &grads).unwrap();
    assert_line(&line, 1.0 - 0.1 * 3.0, 0.5 - 0.1 * 1.5);

    let (mut line, grads) = line_and_gradients();
    Sgd::new(0.1)
        .unwrap()
        .with_weight_decay(0.2)
        .unwrap()
        .step(&mut line, &grads)
        .unwrap();
    assert_line(&line, 1.0 - 0.1 * (3.0 + 0.2), 0.5 - 0.1 * (1.5 + 0.1));

    // Heavy ball: the velocity starts at zero, so step 1 is plain SGD.
    let (mut line, grads) = line_and_gradients();
    let mut momentum = Momentum::new(MomentumConfig::new(0.1, 0.9)).unwrap();
    momentum.step(&mut line, &grads).unwrap();
    assert_line(&line, 0.7, 0.35);

    // Nesterov: p -= lr (g + mu v) with v = g.
    let (mut line, grads) = line_and_gradients();
    let mut nesterov = Momentum::new(MomentumConfig::nesterov(0.1, 0.9)).unwrap();
    nesterov.step(&mut line, &grads).unwrap();
    assert_line(&line, 1.0 - 0.1 * 1.9 * 3.0, 0.5 - 0.1 * 1.9 * 1.5);

    // Adam, step 1: m_hat = g, v_hat = g^2, so p -= lr g / (|g| + eps).
    let (mut line, grads) = line_and_gradients();
    let mut adam = Adam::new(AdamConfig::adam(0.1)).unwrap();
    adam.step(&mut line, &grads).unwrap();
    assert_line(
        &line,
        1.0 - 0.1 * 3.0 / (3.0 + eps),
        0.5 - 0.1 * 1.5 / (1.5 + eps),
    );
    assert_eq!(adam.state.t, 1);

    // AdamW: the decay multiplies the weights by 1 - lr wd first.
    let (mut line, grads) = line_and_gradients();
    let mut adamw = Adam::new(AdamConfig::adamw(0.1).with_weight_decay(0.01)).unwrap();
    adamw.step(&mut line, &grads).unwrap();
    assert_line(
        &line,
        0.999 - 0.1 * 3.0 / (3.0 + eps),
        0.4995 - 0.1 * 1.5 / (1.5 + eps),
    );

    // RMSProp, step 1: v = (1 - alpha) g^2, so p -= lr g / (0.1 |g| + eps).
    let (mut line, grads) = line_and_gradients();
    let mut rmsprop = RmsProp::new(RmsPropConfig::new(0.01)).unwrap();
    rmsprop.step(&mut line, &grads).unwrap();
    assert_line(
        &line,
        1.0 - 0.01 * 3.0 / (0.3 + eps),
        0.5 - 0.01 * 1.5 / (0.15 + eps),
    );
}

#[test]
fn optimizer_state_is_what_the_rule_needs() {
    // Blobs: 2*8 + 8 + 8*3 + 3 = 51 parameters.
    const P: usize = 51;
    assert_eq!(Blobs::<f32>::PARAMETERS, P);
    let gradients = size_of::<BlobsGradients<f32>>();
    assert_eq!(gradients, P * 4);
    // Adam: m and v, and the step counter.
    assert_eq!(size_of::<AdamState<BlobsGradients<f32>>>(), 2 * P * 4 + 8);
    assert_eq!(size_of::<AdamState<BlobsGradients<f64>>>(), 2 * P * 8 + 8);
    // Momentum: the velocity; RMSProp: the running mean of g^2.
    let momentum =
        Momentum::<f32, BlobsGradients<f32>>::new(MomentumConfig::new(0.1, 0.9)).unwrap();
    assert_eq!(size_of_val(&momentum.velocity), P * 4);
    let rmsprop = RmsProp::<f32, BlobsGradients<f32>>::new(RmsPropConfig::new(0.1)).unwrap();
    assert_eq!(size_of_val(&rmsprop.square_average), P * 4);
    // iRPROP−: the previous gradients and the step sizes.
    let rprop = IRpropMinus::<f32, BlobsGradients<f32>>::new(IRpropConfig::new()).unwrap();
    assert_eq!(size_of_val(&rprop.previous_gradients), P * 4);
    assert_eq!(size_of_val(&rprop.step_sizes), P * 4);
    // SGD keeps nothing but its two hyperparameters.
    assert_eq!(size_of::<Sgd<f32>>(), 2 * 4);
}

/// Three well-separated clusters on a ring, one per class.
fn blobs(n: usize) -> Vec<([f32; 2], [f32; 3])> {
    let mut rng = Rng::new(99);
    (0..n)
        .map(|i| {
            let class = i % 3;
            let angle = class as f64 * 2.0 * std::f64::consts::PI / 3.0;
            let x = [
                (angle.cos() * 2.0 + 0.3 * rng.normal()) as f32,
                (angle.sin() * 2.0 + 0.3 * rng.normal()) as f32,
            ];
            let mut t = [0.0; 3];
            t[class] = 1.0;
            (x, t)
        })
        .collect()
}

fn train_blobs<O: Optimizer<f32, BlobsGradients<f32>>>(mut optimizer: O) -> (Summary, f64) {
    let data = blobs(90);
    let mut net = Blobs::<f32>::random(4);
    let mut grads = BlobsGradients::zeros();
    let trainer = Trainer::<SoftmaxCrossEntropy, 16>::new(TrainConfig::new(30).seed(1)).unwrap();
    let mut first_loss = None;
    let summary = trainer
        .fit(
            &mut net,
            &mut optimizer,
            &mut grads,
            &data[..],
            &mut [0; 90],
            |stats, _| {
                first_loss.get_or_insert(stats.train_loss);
                Control::Continue
            },
        )
        .unwrap();
    (summary, first_loss.unwrap())
}

#[test]
fn every_optimizer_learns_the_blobs() {
    let results = [
        ("sgd", train_blobs(Sgd::new(0.5).unwrap())),
        (
            "momentum",
            train_blobs(Momentum::new(MomentumConfig::new(0.1, 0.9)).unwrap()),
        ),
        (
            "nesterov",
            train_blobs(
                Momentum::new(MomentumConfig::nesterov(0.1, 0.9).with_weight_decay(1e-4)).unwrap(),
            ),
        ),
        (
            "adam",
            train_blobs(Adam::new(AdamConfig::adam(0.02)).unwrap()),
        ),
        (
            "adamw",
            train_blobs(Adam::new(AdamConfig::adamw(0.02)).unwrap()),
        ),
        (
            "rmsprop",
            train_blobs(RmsProp::new(RmsPropConfig::new(0.01)).unwrap()),
        ),
    ];
    for (name, (summary, first_loss)) in results {
        assert_eq!(summary.epochs_run, 30, "{name}");
        assert!(
            summary.last.train_loss < 0.2 * first_loss,
            "{name}: loss went from {first_loss} to {}",
            summary.last.train_loss
        );
        assert_eq!(summary.last.train_accuracy, 1.0, "{name}");
    }
}

#[test]
fn a_partial_batch_gives_the_gradients_of_its_real_samples() {
    let data = blobs(7);
    let net = Blobs::<f64>::random(8);
    let data: Vec<([f64; 2], [f64; 3])> = data
        .iter()
        .map(|(x, t)| (x.map(f64::from), t.map(f64::from)))
        .collect();
    let indices = [6, 2, 4];

    // Three real samples in a batch of five (two masked columns)...
    let mut padded = Batch::<f64, 2, 3, 5>::zeros();
    assert_eq!(padded.fill(&data[..], &indices), Ok(3));
    let mut padded_grads = BlobsGradients::zeros();
    let padded_outcome = Trainer::<SoftmaxCrossEntropy, 5>::new(TrainConfig::new(1))
        .unwrap()
        .loss_and_gradients(&net, &padded, &mut padded_grads, &mut Rng::new(0));

    // ... and the same three samples as a full batch of three.
    let mut full = Batch::<f64, 2, 3, 3>::zeros();
    assert_eq!(full.fill(&data[..], &indices), Ok(3));
    let mut full_grads = BlobsGradients::zeros();
    let full_outcome = Trainer::<SoftmaxCrossEntropy, 3>::new(TrainConfig::new(1))
        .unwrap()
        .loss_and_gradients(&net, &full, &mut full_grads, &mut Rng::new(0));
    let direct = net.loss::<SoftmaxCrossEntropy>(&full.x, &full.t);

    assert!((padded_outcome.loss - full_outcome.loss).abs() < 1e-12);
    assert!((full_outcome.loss - direct).abs() < 1e-12);
    assert_eq!(padded_outcome.correct, full_outcome.correct);
    for (a, b) in padded_grads
        .slices()
        .flatten()
        .zip(full_grads.slices().flatten())
    {
        assert!((a - b).abs() < 1e-12, "{a} != {b}");
    }
}

/// A dataset that counts how often each sample is read.
struct Counting<'a> {
    data: &'a [([f32; 2], [f32; 3])],
    reads: std::cell::RefCell<Vec<usize>>,
}

impl Dataset<f32, 2, 3> for Counting<'_> {
    fn len(&self) -> usize {
        self.data.len()
    }

    fn write_sample(
        &self,
        index: usize,
        input: network::nalgebra::SVectorViewMut<'_, f32, 2>,
        target: network::nalgebra::SVectorViewMut<'_, f32, 3>,
    ) {
        self.reads.borrow_mut()[index] += 1;
        self.data.write_sample(index, input, target);
    }
}

#[test]
fn an_epoch_sees_every_sample_once_with_a_partial_last_batch() {
    // 10 samples in batches of 4: 4 + 4 + 2, the last padded with 2 copies.
    let data = blobs(10);
    let counting = Counting {
        data: &data,
        reads: std::cell::RefCell::new(vec![0; 10]),
    };
    let mut net = Blobs::<f32>::random(2);
    let mut grads = BlobsGradients::zeros();
    // A zero learning rate keeps the network fixed, so the loss of the
    // epoch must equal the loss of a separate pass over all ten samples.
    let mut sgd = Sgd::new(0.0).unwrap();
    let trainer = Trainer::<SoftmaxCrossEntropy, 4>::new(TrainConfig::new(1).seed(3)).unwrap();
    let summary = trainer
        .fit(
            &mut net,
            &mut sgd,
            &mut grads,
            &counting,
            &mut [0; 10],
            |_, _| Control::Continue,
        )
        .unwrap();
    let reads = counting.reads.borrow().clone();
    assert!(
        reads.iter().all(|&n| n >= 1),
        "a sample was skipped: {reads:?}"
    );
    assert_eq!(
        reads.iter().sum::<usize>(),
        12,
        "10 samples + 2 padding columns"
    );

    let evaluation = trainer.evaluate(&net, &data[..]).unwrap();
    assert_eq!(evaluation.samples, 10);
    assert!((summary.last.train_loss - evaluation.loss).abs() < 1e-6);
    assert_eq!(summary.last.train_accuracy, evaluation.accuracy);
    // A batch size that does not divide the count, for evaluation too.
    let by_three = Trainer::<SoftmaxCrossEntropy, 3>::new(TrainConfig::new(1)).unwrap();
    assert!((by_three.evaluate(&net, &data[..]).unwrap().loss - evaluation.loss).abs() < 1e-6);
}

#[test]
fn a_non_finite_loss_stops_training_and_changes_nothing() {
    let mut data = blobs(12);
    data[7].0[1] = f32::NAN;
    let mut net = Blobs::<f32>::random(5);
    let mut grads = BlobsGradients::zeros();
    let mut adam = Adam::new(AdamConfig::adam(0.01)).unwrap();
    // Batches of one, in order: steps 0..7 succeed, step 7 sees the NaN.
    let trainer =
        Trainer::<SoftmaxCrossEntropy, 1>::new(TrainConfig::new(3).shuffle(false)).unwrap();
    let error = trainer
        .fit(
            &mut net,
            &mut adam,
            &mut grads,
            &data[..],
            &mut [0; 12],
            |_, _| Control::Continue,
        )
        .unwrap_err();
    assert_eq!(
        error,
        TrainError::Step {
            epoch: 0,
            batch: 7,
            error: StepError::NonFiniteLoss
        }
    );
    assert_eq!(
        error.to_string(),
        "epoch 0, batch 7: the loss is NaN or infinite; the parameters were not changed"
    );

    // The same seven steps by hand give exactly the same network and state.
    let mut expected = Blobs::<f32>::random(5);
    let mut expected_adam = Adam::new(AdamConfig::adam(0.01)).unwrap();
    let mut batch = Batch::<f32, 2, 3, 1>::zeros();
    for i in 0..7 {
        batch.fill(&data[..], &[i]).unwrap();
        trainer
            .step(
                &mut expected,
                &mut expected_adam,
                &mut grads,
                &batch,
                &mut Rng::new(0),
            )
            .unwrap();
    }
    assert_eq!(net, expected);
    assert_eq!(adam.state, expected_adam.state);
    assert_eq!(adam.state.t, 7);

    // And the failing step itself, retried, still changes nothing.
    batch.fill(&data[..], &[7]).unwrap();
    let before = (net, adam.state.clone());
    assert_eq!(
        trainer.step(&mut net, &mut adam, &mut grads, &batch, &mut Rng::new(0)),
        Err(StepError::NonFiniteLoss)
    );
    assert_eq!((net, adam.state.clone()), before);
}

#[test]
fn clipping_and_non_finite_gradients_in_a_step() {
    let (mut line, mut grads) = line_and_gradients();
    assert_eq!(clip_global_norm(&mut grads, 1.0), Ok(11.25f64.sqrt()));
    let norm = grads.norm_squared().sqrt();
    assert!((norm - 1.0).abs() < 1e-6);

    // A gradient too large to square in f64 is refused by every optimizer,
    // and neither the weights nor the state move.
    grads.output.w[0] = 1e300;
    let before = line;
    let mut adam = Adam::new(AdamConfig::adam(0.1)).unwrap();
    assert_eq!(
        adam.step(&mut line, &grads),
        Err(StepError::NonFiniteGradient)
    );
    assert_eq!(adam.state.t, 0);
    assert_eq!(adam.state.m, LineGradients::zeros());
    let mut rmsprop = RmsProp::new(RmsPropConfig::new(0.1)).unwrap();
    assert_eq!(
        rmsprop.step(&mut line, &grads),
        Err(StepError::NonFiniteGradient)
    );
    assert_eq!(line, before);
}

#[test]
fn schedules_set_the_learning_rate_of_each_epoch() {
    let data = blobs(30);
    let mut net = Blobs::<f32>::random(1);
    let mut grads = BlobsGradients::zeros();
    let mut momentum = Momentum::new(MomentumConfig::new(0.1, 0.9)).unwrap();
    let schedule = Schedule::StepDecay {
        every: 2,
        factor: 0.5,
    };
    let trainer =
        Trainer::<SoftmaxCrossEntropy, 8>::new(TrainConfig::new(5).schedule(schedule)).unwrap();
    let mut rates = Vec::new();
    trainer
        .fit(
            &mut net,
            &mut momentum,
            &mut grads,
            &data[..],
            &mut [0; 30],
            |stats, _| {
                rates.push(stats.learning_rate);
                Control::Continue
            },
        )
        .unwrap();
    let expected = [0.1, 0.1, 0.05, 0.05, 0.025];
    for (rate, expected) in rates.iter().zip(expected) {
        assert!((rate - expected).abs() < 1e-7, "{rates:?}");
    }
    assert_eq!(rates.len(), 5);
    assert!((momentum.config.learning_rate - 0.025).abs() < 1e-7);
}

#[test]
fn early_stopping_and_the_callback_end_training() {
    let data = blobs(40);
    let mut grads = BlobsGradients::zeros();

    // With a zero learning rate the validation loss never improves after the
    // first epoch: patience 3 stops after epoch 4.
    let mut net = Blobs::<f32>::random(1);
    let config = TrainConfig::new(50)
        .validation_fraction(0.25)
        .early_stopping(3, 0.0);
    let summary = Trainer::<SoftmaxCrossEntropy, 8>::new(config)
        .unwrap()
        .fit(
            &mut net,
            &mut Sgd::new(0.0).unwrap(),
            &mut grads,
            &data[..],
            &mut [0; 40],
            |stats, _| {
                assert!(stats.validation_loss.is_some());
                Control::Continue
            },
        )
        .unwrap();
    assert_eq!(summary.epochs_run, 4);
    assert!(summary.stopped_early);
    assert_eq!(summary.best.map(|(epoch, _)| epoch), Some(0));
    assert_eq!(summary.last.validation_loss, summary.best.map(|(_, l)| l));

    // The callback can stop training; it sees the network after each epoch.
    let mut net = Blobs::<f32>::random(1);
    let initial = net;
    let mut seen = Vec::new();
    let summary = Trainer::<SoftmaxCrossEntropy, 8>::new(TrainConfig::new(50))
        .unwrap()
        .fit(
            &mut net,
            &mut Adam::new(AdamConfig::adam(0.01)).unwrap(),
            &mut grads,
            &data[..],
            &mut [0; 40],
            |stats, net| {
                seen.push((stats.epoch, *net != initial));
                if stats.epoch == 2 {
                    Control::Stop
                } else {
                    Control::Continue
                }
            },
        )
        .unwrap();
    assert_eq!(summary.epochs_run, 3);
    assert!(!summary.stopped_early);
    assert_eq!(seen, [(0, true), (1, true), (2, true)]);
    assert_eq!(summary.last.validation_loss, None);
}

#[test]
fn the_validation_split_is_held_out_of_training() {
    let data = blobs(20);
    let counting = Counting {
        data: &data,
        reads: std::cell::RefCell::new(vec![0; 20]),
    };
    let mut net = Blobs::<f32>::random(1);
    let mut grads = BlobsGradients::zeros();
    // 15 training samples in batches of 5: no padding; 5 validation samples
    // read once per epoch after training.
    let trainer = Trainer::<SoftmaxCrossEntropy, 5>::new(
        TrainConfig::new(2).validation_fraction(0.25).seed(8),
    )
    .unwrap();
    trainer
        .fit(
            &mut net,
            &mut Sgd::new(0.1).unwrap(),
            &mut grads,
            &counting,
            &mut [0; 20],
            |_, _| Control::Continue,
        )
        .unwrap();
    let reads = counting.reads.borrow();
    assert_eq!(reads.iter().sum::<usize>(), 40);
    assert!(reads.iter().all(|&n| n == 2), "{reads:?}");
}

#[test]
fn bad_configurations_are_refused_before_training() {
    let data = blobs(10);
    let mut net = Blobs::<f32>::random(1);
    let before = net;
    let mut grads = BlobsGradients::zeros();
    let mut sgd = Sgd::new(0.1).unwrap();
    let fit = |config: TrainConfig,
               order: &mut [usize],
               net: &mut Blobs<f32>,
               grads: &mut BlobsGradients<f32>,
               sgd: &mut Sgd<f32>| {
        // Built with good settings, then given `config` (a public field), so
        // that `fit`'s own checks are what is tested.
        let mut trainer = Trainer::<SoftmaxCrossEntropy, 4>::new(TrainConfig::new(1)).unwrap();
        trainer.config = config;
        trainer.fit(net, sgd, grads, &data[..], order, |_, _| Control::Continue)
    };
    let cases = [
        (
            TrainConfig::new(1),
            9,
            TrainError::OrderLength {
                expected: 10,
                found: 9,
            },
        ),
        (
            TrainConfig::new(1).validation_fraction(1.0),
            10,
            TrainError::InvalidConfig(ConfigError::ValidationFraction(1.0)),
        ),
        (
            TrainConfig::new(1).validation_fraction(-0.5),
            10,
            TrainError::InvalidConfig(ConfigError::ValidationFraction(-0.5)),
        ),
        (
            TrainConfig::new(1).validation_fraction(0.99),
            10,
            TrainError::InvalidValidationFraction(0.99),
        ),
        (
            TrainConfig::new(1).early_stopping(2, 0.0),
            10,
            TrainError::InvalidConfig(ConfigError::EarlyStoppingWithoutValidation),
        ),
        // A fraction that holds out none of these 10 samples.
        (
            TrainConfig::new(1)
                .validation_fraction(0.01)
                .early_stopping(2, 0.0),
            10,
            TrainError::EarlyStoppingWithoutValidation,
        ),
    ];
    for (config, len, expected) in cases {
        let mut order = vec![0; len];
        let error = fit(config, &mut order, &mut net, &mut grads, &mut sgd).unwrap_err();
        assert_eq!(error, expected);
        assert_eq!(net, before);
    }
    let empty: [([f32; 2], [f32; 3]); 0] = [];
    let error = Trainer::<SoftmaxCrossEntropy, 4>::new(TrainConfig::new(1))
        .unwrap()
        .fit(
            &mut net,
            &mut sgd,
            &mut grads,
            &empty[..],
            &mut [],
            |_, _| Control::Continue,
        )
        .unwrap_err();
    assert_eq!(error, TrainError::NoSamples);
    // Clipping with a bad norm is refused before training.
    let error = fit(
        TrainConfig::new(1).clip_norm(0.0),
        &mut [0; 10],
        &mut net,
        &mut grads,
        &mut sgd,
    )
    .unwrap_err();
    assert_eq!(error, TrainError::InvalidConfig(ConfigError::ClipNorm(0.0)));
    assert_eq!(net, before);
}

#[test]
fn same_seed_same_training() {
    let run = || {
        let data = blobs(30);
        let mut net = Blobs::<f32>::random(6);
        let mut grads = BlobsGradients::zeros();
        let mut adam = Adam::new(AdamConfig::adam(0.01)).unwrap();
        let config = TrainConfig::new(3).seed(11).validation_fraction(0.2);
        Trainer::<SoftmaxCrossEntropy, 4>::new(config)
            .unwrap()
            .fit(
                &mut net,
                &mut adam,
                &mut grads,
                &data[..],
                &mut [0; 30],
                |_, _| Control::Continue,
            )
            .unwrap();
        net
    };
    let (a, b) = (run(), run());
    let bits =
        |net: &Blobs<f32>| -> Vec<u32> { net.slices().flatten().map(|v| v.to_bits()).collect() };
    assert_eq!(bits(&a), bits(&b));
}

#[test]
fn boxed_construction_matches_the_stack() {
    let mut boxed = boxed_zeroed::<Blobs<f32>>();
    assert_eq!(*boxed, Blobs::zeroed());
    boxed.init(&mut Rng::new(21));
    assert_eq!(*boxed, Blobs::random(21));
    assert_eq!(*Blobs::<f32>::random_boxed(21), Blobs::random(21));
    let grads = boxed_zeroed::<BlobsGradients<f64>>();
    assert_eq!(*grads, BlobsGradients::zeros());
    let adam = Adam::<f32, BlobsGradients<f32>>::new_boxed(AdamConfig::adam(0.1)).unwrap();
    assert_eq!(*adam, Adam::new(AdamConfig::adam(0.1)).unwrap());
    let momentum =
        Momentum::<f32, BlobsGradients<f32>>::new_boxed(MomentumConfig::nesterov(0.1, 0.9))
            .unwrap();
    assert_eq!(
        *momentum,
        Momentum::new(MomentumConfig::nesterov(0.1, 0.9)).unwrap()
    );
    let rmsprop = RmsProp::<f32, BlobsGradients<f32>>::new_boxed(RmsPropConfig::new(0.1)).unwrap();
    assert_eq!(*rmsprop, RmsProp::new(RmsPropConfig::new(0.1)).unwrap());
    // Zeroed on the heap, then every step size set to the initial one.
    let config = IRpropConfig::new().with_initial_step(0.05);
    let rprop = IRpropMinus::<f32, BlobsGradients<f32>>::new_boxed(config).unwrap();
    assert_eq!(*rprop, IRpropMinus::new(config).unwrap());
    assert!(rprop.step_sizes.slices().flatten().all(|&s| s == 0.05));
}

/// 64 synthetic 28x28 images: class `k` lights up a 3-pixel-high band at row
/// `2k + 4` (plus noise), so a linear layer can tell them apart.
fn synthetic_digits() -> (Vec<[u8; 784]>, Vec<usize>) {
    let mut rng = Rng::new(5);
    (0..64)
        .map(|i| {
            let class = i % 10;
            let mut image = [0u8; 784];
            for (p, pixel) in image.iter_mut().enumerate() {
                let row = p / 28;
                let band = (2 * class + 4..2 * class + 7).contains(&row);
                *pixel = if band { 200 } else { 0 } + rng.below(40) as u8;
            }
            (image, class)
        })
        .unzip()
}

/// The test thread keeps Rust's default 2 MiB stack, and a debug build keeps
/// every temporary: the 1.6 MB of network, gradients and Adam state must
/// never be on the stack.
#[test]
fn a_784_128_10_network_trains_with_adam_in_a_default_test_thread() {
    let (images, labels) = synthetic_digits();
    let data =
        network::Classification::<u8, f32, 784, 10>::new(&images, &labels, 1.0 / 255.0).unwrap();

    let mut net = Mnist::<f32>::random_boxed(3);
    let mut grads = boxed_zeroed::<MnistGradients<f32>>();
    let mut adam = Adam::<f32, MnistGradients<f32>>::new_boxed(AdamConfig::adam(1e-3)).unwrap();
    assert_eq!(
        size_of_val(&*adam),
        (2 * Mnist::<f32>::PARAMETERS) * 4 + 8 + size_of::<AdamConfig<f32>>()
    );

    let trainer = Trainer::<SoftmaxCrossEntropy, 16>::new(TrainConfig::new(3).seed(2)).unwrap();
    let before = trainer.evaluate(&*net, &data).unwrap();
    let summary = trainer
        .fit(
            &mut *net,
            &mut *adam,
            &mut *grads,
            &data,
            &mut [0; 64],
            |_, _| Control::Continue,
        )
        .unwrap();
    let after = trainer.evaluate(&*net, &data).unwrap();
    assert_eq!(adam.state.t, 3 * 4);
    assert!(
        after.loss < 0.5 * before.loss,
        "loss {} -> {}",
        before.loss,
        after.loss
    );
    assert!(after.accuracy > 0.9, "{after:?}");
    assert!(summary.last.train_loss.is_finite());

    // One explicit step through `Trainer::step`, also on the heap.
    let mut batch = Box::new(Batch::<f32, 784, 10, 16>::zeros());
    batch.fill(&data, &[0, 1, 2]).unwrap();
    let outcome: BatchOutcome<f32> = trainer
        .step(&mut *net, &mut *adam, &mut *grads, &batch, &mut Rng::new(0))
        .unwrap();
    assert!(outcome.loss.is_finite() && outcome.correct <= 3);
}

/// A dataset whose targets are NaN for the reads `nan_reads` (counted over
/// every read `fit` makes, training and validation). (Inputs are checked:
/// a NaN input is an error.)
struct NanWhile<'a> {
    data: &'a [([f32; 2], [f32; 3])],
    reads: std::cell::Cell<usize>,
    nan_reads: std::ops::Range<usize>,
}

impl Dataset<f32, 2, 3> for NanWhile<'_> {
    fn len(&self) -> usize {
        self.data.len()
    }

    fn write_sample(
        &self,
        index: usize,
        input: network::nalgebra::SVectorViewMut<'_, f32, 2>,
        mut target: network::nalgebra::SVectorViewMut<'_, f32, 3>,
    ) {
        let read = self.reads.get();
        self.reads.set(read + 1);
        self.data.write_sample(index, input, target.column_mut(0));
        if self.nan_reads.contains(&read) {
            target.fill(f32::NAN);
        }
    }
}

#[test]
fn a_nan_validation_loss_is_never_the_best() {
    // 16 samples, 4 held out, batches of 4: each epoch reads 12 training
    // samples, then the 4 validation ones. Those of the first epoch are NaN.
    let data = blobs(16);
    let nan_first_validation = NanWhile {
        data: &data,
        reads: std::cell::Cell::new(0),
        nan_reads: 12..16,
    };
    let mut net = Blobs::<f32>::random(2);
    let mut grads = BlobsGradients::zeros();
    let trainer = Trainer::<SoftmaxCrossEntropy, 4>::new(
        TrainConfig::new(3)
            .seed(5)
            .validation_fraction(0.25)
            .early_stopping(2, 0.0),
    )
    .unwrap();
    let mut losses = Vec::new();
    let summary = trainer
        .fit(
            &mut net,
            &mut Sgd::new(0.01).unwrap(),
            &mut grads,
            &nan_first_validation,
            &mut [0; 16],
            |stats, _| {
                losses.push(stats.validation_loss);
                Control::Continue
            },
        )
        .unwrap();
    assert!(losses[0].is_some_and(f64::is_nan), "{losses:?}");
    let (epoch, loss) = summary.best.expect("a finite validation loss is the best");
    assert!(
        loss.is_finite() && epoch > 0,
        "best {:?}, losses {losses:?}",
        summary.best
    );
    // The NaN epoch did not count as a best that later epochs fail to beat:
    // the best is the lowest of the finite ones.
    let lowest = (1..losses.len())
        .map(|e| (e, losses[e].unwrap()))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    assert_eq!(summary.best, lowest, "{losses:?}");
    assert_eq!(summary.epochs_run, 3);
}

#[test]
fn evaluating_no_samples_is_an_error() {
    let net = Blobs::<f32>::random(2);
    let trainer = Trainer::<SoftmaxCrossEntropy, 4>::new(TrainConfig::new(1)).unwrap();
    let empty: &[([f32; 2], [f32; 3])] = &[];
    assert_eq!(
        trainer.evaluate(&net, empty),
        Err(network::TrainError::NoSamples),
        "a loss of 0 over no samples is no measurement"
    );
}

#[test]
fn evaluating_a_non_finite_input_is_an_error_that_names_the_sample() {
    let net = Blobs::<f32>::random(2);
    let trainer = Trainer::<SoftmaxCrossEntropy, 4>::new(TrainConfig::new(1)).unwrap();
    let mut data = blobs(10);
    data[6].0[1] = f32::NAN;
    assert_eq!(
        trainer.evaluate(&net, &data[..]),
        Err(network::TrainError::NonFiniteInput { sample: 6 }),
        "a NaN input gives no loss to report"
    );
    data[6].0[1] = f32::INFINITY;
    assert_eq!(
        trainer.evaluate(&net, &data[..]),
        Err(network::TrainError::NonFiniteInput { sample: 6 })
    );
}

#[test]
fn a_non_finite_validation_input_stops_fit_naming_the_sample() {
    let mut data = blobs(16);
    let trainer = Trainer::<SoftmaxCrossEntropy, 4>::new(
        TrainConfig::new(2).seed(9).validation_fraction(0.25),
    )
    .unwrap();
    let fit = |data: &[([f32; 2], [f32; 3])], order: &mut [usize]| {
        trainer.fit(
            &mut Blobs::<f32>::random(2),
            &mut Sgd::new(0.01).unwrap(),
            &mut BlobsGradients::zeros(),
            data,
            order,
            |_, _| Control::Continue,
        )
    };
    let mut order = [0; 16];
    fit(&data, &mut order).unwrap();
    // The validation samples are the last four of the order.
    let held_out = order[13];
    data[held_out].0[0] = f32::NAN;
    assert_eq!(
        fit(&data, &mut order),
        Err(network::TrainError::NonFiniteInput { sample: held_out })
    );
}

#[test]
fn forward_checked_refuses_non_finite_inputs_and_forward_keeps_nan() {
    let net = Blobs::<f32>::random(2);
    let mut x = SMatrix::<f32, 2, 3>::from_element(0.5);
    assert_eq!(net.forward_checked(&x), Ok(net.forward(&x)));
    x[(1, 2)] = f32::NAN;
    assert_eq!(
        net.forward_checked(&x),
        Err(network::NonFiniteInput {
            sample: 2,
            feature: 1
        })
    );
    let y = net.forward(&x);
    assert!(y.column(2).iter().all(|v| v.is_nan()), "{y}");
    assert!(y.column(0).iter().all(|v| v.is_finite()));
    assert_eq!(
        net.forward_checked(&[f32::INFINITY, 0.0]),
        Err(network::NonFiniteInput {
            sample: 0,
            feature: 0
        })
    );
}

#[test]
fn restore_best_weights_ends_with_the_best_epochs_weights() {
    // Noisy, overlapping blobs with a large learning rate: the validation
    // loss goes up and down, so the best epoch is not the last.
    let data = blobs(60);
    let config = TrainConfig::new(40)
        .seed(3)
        .validation_fraction(0.3)
        .restore_best_weights();
    let trainer = Trainer::<SoftmaxCrossEntropy, 4>::new(config).unwrap();
    let mut net = Blobs::<f32>::random(4);
    let mut grads = BlobsGradients::zeros();
    let mut adam = Adam::new(AdamConfig::adam(0.2)).unwrap();
    let mut history = Vec::new();
    let summary = trainer
        .fit(
            &mut net,
            &mut adam,
            &mut grads,
            &data[..],
            &mut [0; 60],
            |_, net| {
                history.push(*net);
                Control::Continue
            },
        )
        .unwrap();
    let (best, _) = summary.best.unwrap();
    assert!(
        best + 1 < summary.epochs_run,
        "the best epoch ({best}) is the last: a weak test"
    );
    assert!(summary.restored_best);
    assert_eq!(net, history[best], "the weights of epoch {best}");
    assert_ne!(net, history[summary.epochs_run - 1]);

    // Without a validation split there is no best epoch to restore.
    let no_split = TrainConfig::new(3).restore_best_weights();
    assert_eq!(
        Trainer::<SoftmaxCrossEntropy, 4>::new(no_split).unwrap_err(),
        ConfigError::EarlyStoppingWithoutValidation
    );
}

#[test]
fn fit_observed_reports_every_batch_and_trains_as_fit_does() {
    struct Record(Vec<network::BatchProgress>, usize);
    impl network::Observer<Blobs<f32>> for Record {
        fn batch(&mut self, progress: &network::BatchProgress) {
            self.0.push(*progress);
        }
        fn epoch(&mut self, _: &EpochStats, _: &Blobs<f32>) -> Control {
            self.1 += 1;
            Control::Continue
        }
    }
    let data = blobs(30);
    let config = TrainConfig::new(3).seed(5).validation_fraction(0.2);
    let trainer = Trainer::<SoftmaxCrossEntropy, 4>::new(config).unwrap();
    let run = |observe: bool| {
        let mut net = Blobs::<f32>::random(6);
        let mut grads = BlobsGradients::zeros();
        let mut adam = Adam::new(AdamConfig::adam(0.01)).unwrap();
        let mut record = Record(Vec::new(), 0);
        let summary = if observe {
            trainer.fit_observed(
                &mut net,
                &mut adam,
                &mut grads,
                &data[..],
                &mut [0; 30],
                &mut record,
            )
        } else {
            trainer.fit(
                &mut net,
                &mut adam,
                &mut grads,
                &data[..],
                &mut [0; 30],
                |_, _| Control::Continue,
            )
        }
        .unwrap();
        (net, summary, record)
    };
    let (observed, summary, record) = run(true);
    let (plain, plain_summary, _) = run(false);
    assert_eq!(observed, plain);
    assert_eq!(summary, plain_summary);
    // 24 training samples in batches of 4: 6 batches per epoch, 3 epochs.
    assert_eq!(record.1, 3);
    assert_eq!(record.0.len(), 18);
    let last = record.0[17];
    assert_eq!(
        (
            last.epoch,
            last.epochs,
            last.batch,
            last.batches,
            last.samples
        ),
        (2, 3, 5, 6, 24)
    );
    assert!((last.loss - summary.last.train_loss).abs() < 1e-12);
}
