//! Times the parts of a workload-B step (best of 61 runs), to see where a
//! step's time goes: `cargo run --release --example b_parts`.

use std::hint::black_box;

use network::prelude::*;
use network_benches::{BATCH_B, LR_B, best_ns, data, hand, ours};

fn main() {
    let mut net = network_benches::mlp_b(1).ours;
    let mut grads = ours::NetBGradients::zeros();
    let mut adam = Adam::new(AdamConfig::adam(LR_B)).unwrap();
    let x = ours::batch(&data::inputs::<64, BATCH_B>(1));
    let t = ours::batch(&data::one_hot::<10, BATCH_B>(2));
    let n = 2000;
    if std::env::args().nth(1).as_deref() == Some("forward") {
        // For a profiler: nothing but forward passes.
        for _ in 0..200_000 {
            black_box(net.forward_train(black_box(&*x)));
        }
        return;
    }
    let forward = best_ns(61, n, || {
        black_box(net.forward_train(black_box(&*x)));
    });
    let gradients = best_ns(61, n, || {
        black_box(net.loss_and_gradients::<SoftmaxCrossEntropy>(black_box(&*x), &*t, &mut grads));
    });
    let update = best_ns(61, n, || {
        black_box(adam.step(&mut *net, black_box(&grads)).is_ok());
    });
    let step = best_ns(61, n, || {
        black_box(ours::b_step(
            &mut net,
            &mut grads,
            &mut adam,
            black_box(&x),
            &t,
        ));
    });
    let mut hnet = network_benches::mlp_b(1).hand;
    let mut ws = hand::Workspace::default();
    let mut hadam = hand::Adam::new(LR_B);
    let hx = data::inputs::<64, BATCH_B>(1);
    let ht = data::one_hot::<10, BATCH_B>(2);
    let hand_gradients = best_ns(61, n, || {
        black_box(hnet.loss_and_gradients(black_box(&hx), &ht, &mut ws));
    });
    let hand_update = best_ns(61, n, || hadam.step(&mut hnet, &mut ws));
    println!(
        "ours: forward_train {forward:.0} ns, loss_and_gradients {gradients:.0} ns, adam {update:.0} ns, step {step:.0} ns"
    );
    println!("hand: loss_and_gradients {hand_gradients:.0} ns, adam {hand_update:.0} ns");
}
