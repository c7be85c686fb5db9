//! The three implementations of each workload compute the same thing: from the
//! same weights and data, the same loss on the first step, the same outputs,
//! and the same loss again after one update.

use network::prelude::*;
use network_benches::{BATCH_B, BATCH_C, LR_A, LR_B, LR_C, data, hand, ours, reference};

fn close(a: f32, b: f32, tol: f32) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

/// Runs `f` on a thread with a large stack: the MNIST-sized matrices live on
/// the stack in debug builds.
fn with_big_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("the test thread panicked");
}

#[test]
fn xor_losses_agree() {
    let mut trio = network_benches::xor(7);
    let sgd = Sgd::new(LR_A);
    let mut grads = ours::XorNetGradients::zeros();
    let dev = trio.dfdx.dev.clone();
    for (x, t) in [([0.0, 1.0], 1.0), ([1.0, 1.0], 0.0), ([1.0, 0.0], 1.0)] {
        let (xv, tv) = (SVector::from(x), SVector::from([t]));
        let ours_out = trio.ours.forward(&xv)[0];
        let hand_out = trio.hand.forward(&x);
        let dfdx_out = trio.dfdx.infer(&reference::vector(&dev, x)).as_vec()[0];
        assert!(close(ours_out, hand_out, 1e-5), "{ours_out} {hand_out}");
        assert!(close(ours_out, dfdx_out, 1e-5), "{ours_out} {dfdx_out}");
        let ours_loss = ours::xor_step(&mut trio.ours, &mut grads, &sgd, &xv, &tv);
        let hand_loss = trio.hand.train_step(&x, t, LR_A);
        let dfdx_loss = trio
            .dfdx
            .step(&reference::vector(&dev, x), &reference::vector(&dev, [t]));
        assert!(close(ours_loss, hand_loss, 1e-5), "{ours_loss} {hand_loss}");
        assert!(close(ours_loss, dfdx_loss, 1e-5), "{ours_loss} {dfdx_loss}");
    }
}

#[test]
fn mnist_sized_losses_agree() {
    with_big_stack(|| {
        let mut trio = network_benches::mlp_c(11);
        let xs = data::inputs::<784, BATCH_C>(1);
        let ts = data::one_hot::<10, BATCH_C>(2);
        let (x, t) = (ours::batch(&xs), ours::batch(&ts));
        let dev = trio.dfdx.dev.clone();
        let (xd, td) = (reference::tensor(&dev, &xs), reference::tensor(&dev, &ts));

        let ours_out = trio.ours.forward(&*x);
        let mut hidden = data::zeroed::<128, BATCH_C>();
        let mut hand_out = data::zeroed::<10, BATCH_C>();
        trio.hand.forward(&xs, &mut hidden, &mut hand_out);
        let dfdx_out = trio.dfdx.infer(&xd).as_vec();
        for (k, o) in ours_out.iter().enumerate() {
            assert!(close(*o, hand_out.as_flattened()[k], 1e-4));
            assert!(close(*o, dfdx_out[k], 1e-4));
        }

        let sgd = Sgd::new(LR_C);
        let mut grads = Box::new(ours::NetCGradients::zeros());
        let mut ws = hand::Workspace::default();
        for _ in 0..2 {
            let ours_loss = ours::c_step(&mut trio.ours, &mut grads, &sgd, &x, &t);
            let hand_loss = trio.hand.loss_and_gradients(&xs, &ts, &mut ws);
            trio.hand.sgd_step(&mut ws, LR_C);
            let dfdx_loss = trio.dfdx.step(&xd, &td);
            assert!(close(ours_loss, hand_loss, 1e-4), "{ours_loss} {hand_loss}");
            assert!(close(ours_loss, dfdx_loss, 1e-4), "{ours_loss} {dfdx_loss}");
        }
    });
}

#[test]
fn adam_losses_agree() {
    with_big_stack(|| {
        let mut trio = network_benches::mlp_b(13);
        let dev = trio.dfdx.dev.clone();
        let mut grads = ours::NetBGradients::zeros();
        let mut adam = Adam::new(AdamConfig::adam(LR_B));
        let mut hand_adam = hand::Adam::new(LR_B);
        let mut ws = hand::Workspace::default();
        for step in 0..3 {
            let xs = data::inputs::<64, BATCH_B>(30 + step);
            let ts = data::one_hot::<10, BATCH_B>(40 + step);
            let (x, t) = (ours::batch(&xs), ours::batch(&ts));
            let ours_loss = ours::b_step(&mut trio.ours, &mut grads, &mut adam, &x, &t);
            let hand_loss = trio.hand.loss_and_gradients(&xs, &ts, &mut ws);
            hand_adam.step(&mut trio.hand, &mut ws);
            let dfdx_loss = trio
                .dfdx
                .step(&reference::tensor(&dev, &xs), &reference::tensor(&dev, &ts));
            assert!(close(ours_loss, hand_loss, 1e-4), "{ours_loss} {hand_loss}");
            assert!(close(ours_loss, dfdx_loss, 1e-4), "{ours_loss} {dfdx_loss}");
        }
        // After three Adam steps the weights still agree.
        let ours_w = trio.ours.hidden.w.as_slice();
        let hand_w = trio.hand.l1.w.as_flattened();
        for (o, h) in ours_w.iter().zip(hand_w) {
            assert!(close(*o, *h, 1e-4), "{o} {h}");
        }
    });
}
