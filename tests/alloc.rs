//! Training never allocates: a counting global allocator watches whole
//! training epochs (forward, loss, backward, optimizer step), inference and
//! (de)serialisation, and must see zero allocations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use network::prelude::*;
use network::serialize::{from_bytes, serialized_size, to_bytes};
use network::{DampingConfig, LevenbergMarquardt, NaturalGradient};

/// Counts the allocations made by the current thread (the test harness runs
/// other tests on other threads at the same time).
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    // `try_with` fails only while the thread is being torn down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every call is forwarded to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The number of allocations `f` makes on this thread, and its result.
fn allocations<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = ALLOCATIONS.with(Cell::get);
    let result = f();
    (ALLOCATIONS.with(Cell::get) - before, result)
}

network! {
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Xor {
        input: 2,
        hidden: Dense<4, Tanh>,
        output: Dense<1, Sigmoid>,
    }
}

network! {
    /// A regression network trained in mini-batches.
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Curve {
        input: 1,
        hidden: Dense<16, Tanh>,
        mid: Dense<8, Relu>,
        output: Dense<1, Identity>,
    }
}

fn xor_data() -> (SMatrix<f32, 2, 4>, SMatrix<f32, 1, 4>) {
    (
        SMatrix::from_column_slice(&[0., 0., 0., 1., 1., 0., 1., 1.]),
        SMatrix::from_column_slice(&[0., 1., 1., 0.]),
    )
}

/// 64 samples of `y = sin(3x)` on `[-1, 1]`.
fn curve_data() -> (SMatrix<f32, 1, 64>, SMatrix<f32, 1, 64>) {
    let x = SMatrix::<f32, 1, 64>::from_fn(|_, j| -1.0 + 2.0 * j as f32 / 63.0);
    (x, x.map(|x| (3.0 * x).sin()))
}

#[test]
fn the_counter_counts() {
    let (n, v) = allocations(|| Vec::<u8>::with_capacity(16));
    assert_eq!(n, 1);
    let (n, _) = allocations(|| {
        let mut v = v;
        v.extend_from_slice(&[0; 64]);
        v
    });
    assert_eq!(n, 1, "growing a Vec reallocates");
    let (n, _) = allocations(|| format!("{}", 1.5));
    assert!(n >= 1);
}

#[test]
fn full_batch_sgd_epochs_do_not_allocate() {
    let (x, t) = xor_data();
    let mut xor = Xor::<f32>::random(2024);
    let mut grads = XorGradients::zeros();
    let sgd = Sgd::new(0.5).unwrap();
    let (n, (first, last)) = allocations(|| {
        let mut losses = (f32::NAN, f32::NAN);
        for epoch in 0..3000 {
            let loss = xor.loss_and_gradients::<HalfSquaredError>(&x, &t, &mut grads);
            sgd.step(&mut xor, &grads).unwrap();
            if epoch == 0 {
                losses.0 = loss;
            }
            losses.1 = loss;
        }
        losses
    });
    assert_eq!(n, 0, "SGD training allocated {n} times");
    assert!(last < first / 10.0, "loss {first} -> {last}");
    let y = xor.forward(&x);
    assert!(y[0] < 0.5 && y[1] > 0.5 && y[2] > 0.5 && y[3] < 0.5, "{y}");
}

#[test]
fn full_batch_adam_epochs_do_not_allocate() {
    let (x, t) = xor_data();
    let mut xor = Xor::<f32>::random(2024);
    let mut grads = XorGradients::zeros();
    // Built outside the counted region, like the network: its moments live
    // wherever the caller puts it (here on the stack).
    let mut adam = Adam::new(AdamConfig::adam(0.05)).unwrap();
    let (n, (first, last)) = allocations(|| {
        let mut losses = (f32::NAN, f32::NAN);
        for epoch in 0..500 {
            let loss = xor.loss_and_gradients::<HalfSquaredError>(&x, &t, &mut grads);
            adam.step(&mut xor, &grads).unwrap();
            if epoch == 0 {
                losses.0 = loss;
            }
            losses.1 = loss;
        }
        losses
    });
    assert_eq!(n, 0, "Adam training allocated {n} times");
    assert_eq!(adam.state.t, 500);
    assert!(last < first / 10.0, "loss {first} -> {last}");
}

#[test]
fn full_batch_irprop_epochs_do_not_allocate() {
    let (x, t) = xor_data();
    let mut xor = Xor::<f32>::random(2024);
    let mut grads = XorGradients::zeros();
    // Its previous gradients and step sizes live with the optimizer, built
    // outside the counted region.
    let mut rprop = IRpropMinus::new(IRpropConfig::new()).unwrap();
    let (n, (first, last)) = allocations(|| {
        let mut losses = (f32::NAN, f32::NAN);
        for epoch in 0..300 {
            let loss = xor.loss_and_gradients::<HalfSquaredError>(&x, &t, &mut grads);
            rprop.step(&mut xor, &grads).unwrap();
            if epoch == 0 {
                losses.0 = loss;
            }
            losses.1 = loss;
        }
        losses
    });
    assert_eq!(n, 0, "iRPROP- training allocated {n} times");
    assert!(last < first / 10.0, "loss {first} -> {last}");
}

#[test]
fn second_order_steps_do_not_allocate() {
    let data: [([f32; 2], [f32; 1]); 4] = [
        ([0.0, 0.0], [0.0]),
        ([0.0, 1.0], [1.0]),
        ([1.0, 0.0], [1.0]),
        ([1.0, 1.0], [0.0]),
    ];
    let mut xor = Xor::<f32>::random(2024);
    // The normal matrix and the Fisher live with the optimizers, built
    // outside the counted regions.
    const P: usize = Xor::<f32>::PARAMETERS;
    let mut lm = LevenbergMarquardt::<f32, P>::new(DampingConfig::trainlm()).unwrap();
    let (n, outcome) = allocations(|| {
        let mut outcome = None;
        for _ in 0..20 {
            outcome = Some(lm.step(&mut xor, &data[..]).unwrap());
        }
        outcome
    });
    assert_eq!(n, 0, "Levenberg-Marquardt allocated {n} times");
    assert!(outcome.is_some());
    let mut xor = Xor::<f32>::random(2024);
    let mut natural = NaturalGradient::<f32, P>::new(DampingConfig::trainlm()).unwrap();
    let (n, _) = allocations(|| {
        for _ in 0..20 {
            let _ = natural
                .step::<SigmoidCrossEntropy, _, _, 2, 1>(&mut xor, &data[..])
                .unwrap();
        }
    });
    assert_eq!(n, 0, "the natural gradient allocated {n} times");
}

/// 64 `(x, sin 3x)` samples as a dataset of arrays.
fn curve_samples() -> [([f32; 1], [f32; 1]); 64] {
    core::array::from_fn(|j| {
        let x = -1.0 + 2.0 * j as f32 / 63.0;
        ([x], [(3.0 * x).sin()])
    })
}

/// `Trainer::fit`: shuffling, mini-batches (the last one partial), a
/// validation split, a schedule, clipping and the per-epoch callback.
fn fit_allocations<O: Optimizer<f32, CurveGradients<f32>>>(optimizer: &mut O) -> (usize, f64, f64) {
    let step_decay = Schedule::StepDecay {
        every: 20,
        factor: 0.5,
    };
    fit_allocations_with(optimizer, step_decay, Some(10.0))
}

/// [`fit_allocations`] with a given schedule and clipping (or none).
fn fit_allocations_with<O: Optimizer<f32, CurveGradients<f32>>>(
    optimizer: &mut O,
    schedule: Schedule,
    clip_norm: Option<f64>,
) -> (usize, f64, f64) {
    let data = curve_samples();
    let mut order = [0usize; 64];
    let mut net = Curve::<f32>::random(11);
    let mut grads = CurveGradients::zeros();
    let config = TrainConfig::new(60)
        .seed(5)
        .validation_fraction(0.25)
        .schedule(schedule);
    let config = match clip_norm {
        Some(norm) => config.clip_norm(norm),
        None => config,
    };
    let trainer = Trainer::<MeanSquaredError, 10>::new(config).unwrap();
    let mut first = None;
    let (n, summary) = allocations(|| {
        trainer.fit(
            &mut net,
            optimizer,
            &mut grads,
            &data[..],
            &mut order,
            |stats, _| {
                first.get_or_insert(stats.train_loss);
                Control::Continue
            },
        )
    });
    let summary = summary.unwrap();
    assert_eq!(summary.epochs_run, 60);
    (n, first.unwrap(), summary.last.train_loss)
}

#[test]
fn trainer_fit_with_sgd_does_not_allocate() {
    let (n, first, last) = fit_allocations(&mut Sgd::new(0.1).unwrap());
    assert_eq!(n, 0, "Trainer::fit with SGD allocated {n} times");
    assert!(last < first / 2.0, "loss {first} -> {last}");
}

#[test]
fn trainer_fit_with_adam_does_not_allocate() {
    let (n, first, last) = fit_allocations(&mut Adam::new(AdamConfig::adam(0.01)).unwrap());
    assert_eq!(n, 0, "Trainer::fit with Adam allocated {n} times");
    assert!(last < first / 5.0, "loss {first} -> {last}");
}

#[test]
fn every_optimizer_option_and_schedule_trains_without_allocating() {
    fn check<O: Optimizer<f32, CurveGradients<f32>>>(
        name: &str,
        mut optimizer: O,
        schedule: Schedule,
        clip_norm: Option<f64>,
    ) {
        let (n, first, last) = fit_allocations_with(&mut optimizer, schedule, clip_norm);
        let what = format!("{name}, {schedule:?}, clipping {clip_norm:?}");
        assert_eq!(n, 0, "Trainer::fit with {what} allocated {n} times");
        assert!(last < first, "{what}: loss {first} -> {last}");
    }
    let schedules = [
        Schedule::Constant,
        Schedule::StepDecay {
            every: 20,
            factor: 0.5,
        },
        Schedule::Exponential { gamma: 0.97 },
        Schedule::Cosine {
            epochs: 60,
            min_learning_rate: 1e-4,
        },
    ];
    for schedule in schedules {
        for clip in [None, Some(10.0)] {
            check("SGD", Sgd::new(0.1).unwrap(), schedule, clip);
            check(
                "SGD with weight decay",
                Sgd::new(0.1).unwrap().with_weight_decay(1e-4).unwrap(),
                schedule,
                clip,
            );
            let momentum = MomentumConfig::new(0.05, 0.9).with_weight_decay(1e-4);
            check("momentum", Momentum::new(momentum).unwrap(), schedule, clip);
            let nesterov = MomentumConfig::nesterov(0.05, 0.9);
            check("Nesterov", Momentum::new(nesterov).unwrap(), schedule, clip);
            let rmsprop = RmsPropConfig::new(0.01).with_weight_decay(1e-4);
            check("RMSProp", RmsProp::new(rmsprop).unwrap(), schedule, clip);
            check(
                "Adam",
                Adam::new(AdamConfig::adam(0.01)).unwrap(),
                schedule,
                clip,
            );
            let adamw = AdamConfig::adamw(0.01).with_weight_decay(0.01);
            check("AdamW", Adam::new(adamw).unwrap(), schedule, clip);
            // Mini-batches, although iRPROP− is meant for full batches: the
            // allocation count is what is checked here.
            let rprop = IRpropMinus::new(IRpropConfig::new()).unwrap();
            check("iRPROP-", rprop, schedule, clip);
        }
    }
}

#[test]
fn mini_batch_epoch_with_explicit_steps_does_not_allocate() {
    // The generic trait path: forward_train, loss, output delta, backward,
    // step, one mini-batch of 8 at a time, in f64.
    let (x, t) = curve_data();
    let (x, t) = (x.cast::<f64>(), t.cast::<f64>());
    let mut net = Curve::<f64>::random(3);
    let mut grads = CurveGradients::zeros();
    let sgd = Sgd::new(0.05).unwrap();
    let (n, (first, last)) = allocations(|| {
        let mut epoch_loss = |net: &mut Curve<f64>| {
            let mut total = 0.0;
            for batch in 0..8 {
                let xb: SMatrix<f64, 1, 8> = x.fixed_columns::<8>(batch * 8).into_owned();
                let tb: SMatrix<f64, 1, 8> = t.fixed_columns::<8>(batch * 8).into_owned();
                let cache = Network::forward_train(net, &xb);
                total += <MeanSquaredError as Loss<Identity>>::loss(&cache.z3, &cache.a3, &tb);
                let delta =
                    <MeanSquaredError as Loss<Identity>>::output_delta(&cache.z3, &cache.a3, &tb);
                Network::parameter_gradients_into(net, &xb, &cache, &delta, &mut grads);
                sgd.step(net, &grads).unwrap();
            }
            total / 8.0
        };
        let first = epoch_loss(&mut net);
        let mut last = first;
        for _ in 0..200 {
            last = epoch_loss(&mut net);
        }
        (first, last)
    });
    assert_eq!(n, 0, "mini-batch training allocated {n} times");
    assert!(last < first / 4.0, "loss {first} -> {last}");
}

network! {
    /// A convolution, pooling and dropout before the dense output.
    struct Small {
        input: [1, 8, 8],
        conv: Conv2d<4, 3, Relu, padding = 1>,
        pool: MaxPool2d<2>,
        drop: Dropout<0.25>,
        output: Dense<2, Softmax>,
    }
}

#[test]
fn convolution_pooling_and_dropout_steps_do_not_allocate() {
    let mut rng = Rng::new(5);
    let x = SMatrix::<f32, 64, 8>::from_fn(|_, _| rng.uniform(-1.0, 1.0));
    let t = SMatrix::<f32, 2, 8>::from_fn(|i, j| ((i + j) % 2) as f32);
    let mut net = Small::<f32>::random(6);
    let mut grads = SmallGradients::zeros();
    let mut adam = Adam::new(AdamConfig::adam(0.01)).unwrap();
    let (n, (first, last)) = allocations(|| {
        let mut step = |net: &mut Small<f32>| {
            let loss =
                net.loss_and_gradients_with::<SoftmaxCrossEntropy>(&x, &t, &mut grads, &mut rng);
            adam.step(net, &grads).unwrap();
            loss
        };
        let first = step(&mut net);
        let mut last = first;
        for _ in 0..100 {
            last = step(&mut net);
        }
        (first, last)
    });
    assert_eq!(n, 0, "training with dropout allocated {n} times");
    assert!(last < first, "loss {first} -> {last}");
}

#[test]
fn inference_backward_and_serialisation_do_not_allocate() {
    let (x, t) = xor_data();
    let xor = Xor::<f32>::random(7);
    let mut buffer = [0u8; serialized_size::<f32, Xor>()];
    let mut copy = Xor::<f32>::zeroed();
    let (n, ()) = allocations(|| {
        let y = xor.forward(&x);
        let single = xor.forward(&[1.0, 0.0]);
        let cache = xor.forward_train(&x);
        let (grads, grad_x) = xor.backward(&x, &cache, &(y - t));
        assert!(grads.all_finite() && grad_x.iter().all(|v| v.is_finite()));
        assert!(single[0].is_finite());
        to_bytes(&xor, &mut buffer).unwrap();
        from_bytes(&mut copy, &buffer).unwrap();
        assert!(from_bytes(&mut copy, &buffer[..10]).is_err());
    });
    assert_eq!(
        n, 0,
        "inference, backward or serialisation allocated {n} times"
    );
    assert_eq!(copy, xor);
}

network! {
    /// MNIST-sized: its products are the large ones that the optional
    /// `matrixmultiply` feature would send to a GEMM that allocates.
    struct Mnist {
        input: 784,
        hidden: Dense<128, Relu>,
        output: Dense<10, Softmax>,
    }
}

// With the optional `matrixmultiply` feature these products do allocate (a
// packing buffer each): the feature's documented cost.
#[cfg(not(feature = "matrixmultiply"))]
#[test]
fn a_large_network_trains_without_allocating() {
    // Built on the heap before counting: 400 KB each would crowd a test
    // thread's stack in a debug build.
    let mut net = Mnist::<f32>::random_boxed(3);
    let mut grads = network::boxed_zeroed::<MnistGradients<f32>>();
    let x = Box::new(SMatrix::<f32, 784, 32>::from_fn(|i, j| {
        ((i * 7 + j * 3) % 11) as f32 / 11.0
    }));
    let t = SMatrix::<f32, 10, 32>::from_fn(|i, j| if i == j % 10 { 1.0 } else { 0.0 });
    let sgd = Sgd::new(0.1).unwrap();
    let (count, loss) = allocations(|| {
        let loss = net.loss_and_gradients::<SoftmaxCrossEntropy>(&*x, &t, &mut grads);
        sgd.step(&mut *net, &*grads).map(|()| loss)
    });
    assert!(loss.is_ok_and(f32::is_finite));
    assert_eq!(
        count, 0,
        "a 784-128-10 training step allocated {count} times"
    );
}
