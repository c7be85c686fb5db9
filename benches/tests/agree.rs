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
    let sgd = Sgd::new(LR_A).unwrap();
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

        let sgd = Sgd::new(LR_C).unwrap();
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
        let mut adam = Adam::new(AdamConfig::adam(LR_B)).unwrap();
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

/// Workload Conv: the two convolutions' outputs and gradients, ours (on the
/// padded grid) against the direct loops of the hand-written baseline.
#[test]
fn convolutions_agree() {
    use network::convolution::{conv2d_backward_input, conv2d_backward_weights, conv2d_forward};
    use network::layers::ConvGeometry;
    with_big_stack(|| {
        let (net1, net2) = (ours::ConvLayer1::random(3), ours::ConvLayer::random(2));
        let x1 = ours::batch(&data::inputs::<784, 32>(502));
        let g1 = ours::batch(&data::inputs::<4704, 32>(503));
        let x2 = ours::batch(&data::inputs::<1176, 32>(500));
        let g2 = ours::batch(&data::inputs::<1600, 32>(501));
        let (mut grads1, mut grads2) = (
            ours::ConvLayer1Gradients::zeros(),
            ours::ConvLayerGradients::zeros(),
        );
        ours::conv_layers_pass(
            (&net1, &net2),
            (&mut grads1, &mut grads2),
            (&x1, &g1),
            (&x2, &g2),
        );
        let cache1 = net1.forward_train(&*x1);
        let cache2 = net2.forward_train(&*x2);
        let grad_x = <ours::ConvLayer as Network<f32, 1176, 1600>>::backward_delta_into(
            &net2,
            &x2,
            &cache2,
            &g2,
            &mut ours::ConvLayerGradients::zeros(),
        );

        let agree = |what: &str, ours: &[f32], hand: &[f32]| {
            assert_eq!(ours.len(), hand.len());
            for (i, (a, b)) in ours.iter().zip(hand).enumerate() {
                assert!(
                    close(*a, *b, 1e-4),
                    "{what}[{i}]: ours {a}, hand-written {b}"
                );
            }
        };
        let shape1 = <ours::ConvLayer1ConvGeometry as ConvGeometry>::SHAPE;
        let shape2 = <ours::ConvLayerConvGeometry as ConvGeometry>::SHAPE;
        let (mut z1, mut gw1, mut gb1) = (vec![0.0; 4704 * 32], vec![0.0; 150], vec![0.0; 6]);
        conv2d_forward(
            &shape1,
            net1.conv.w.as_slice(),
            net1.conv.b.as_slice(),
            x1.as_slice(),
            &mut z1,
        );
        conv2d_backward_weights(&shape1, x1.as_slice(), g1.as_slice(), &mut gw1, &mut gb1);
        agree("z1", cache1.z1.as_slice(), &z1);
        agree("dW1", grads1.conv.w.as_slice(), &gw1);
        agree("db1", grads1.conv.b.as_slice(), &gb1);
        let (mut z2, mut gw2, mut gb2) = (vec![0.0; 1600 * 32], vec![0.0; 2400], vec![0.0; 16]);
        let mut gx = vec![0.0; 1176 * 32];
        let w2 = net2.conv.w.as_slice();
        conv2d_forward(&shape2, w2, net2.conv.b.as_slice(), x2.as_slice(), &mut z2);
        conv2d_backward_weights(&shape2, x2.as_slice(), g2.as_slice(), &mut gw2, &mut gb2);
        conv2d_backward_input(&shape2, w2, g2.as_slice(), &mut gx);
        agree("z2", cache2.z1.as_slice(), &z2);
        agree("dW2", grads2.conv.w.as_slice(), &gw2);
        agree("db2", grads2.conv.b.as_slice(), &gb2);
        agree("dx2", grad_x.as_slice(), &gx);
    });
}
