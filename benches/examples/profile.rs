//! Runs one workload's implementation for a number of steps, for a profiler:
//!
//! ```text
//! cargo build --release --example profile
//! valgrind --tool=callgrind $CARGO_TARGET_DIR/release/examples/profile C ours 200
//! ```

use std::hint::black_box;

use network::prelude::*;
use network_benches::{BATCH_B, BATCH_C, LR_A, LR_B, LR_C, data, hand, ours};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: profile <A|A-inf|B|C|C-inf|LeNet> <ours|hand|dfdx> <steps>";
    let (Some(workload), Some(implementation)) = (args.get(1), args.get(2)) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let steps: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let mut total = 0.0f32;
    match (workload.as_str(), implementation.as_str()) {
        ("A", "ours") => {
            let mut net = network_benches::xor(1).ours;
            let mut grads = ours::XorNetGradients::zeros();
            let sgd = Sgd::new(LR_A).unwrap();
            let x = SVector::from([1.0, 0.0]);
            let t = SVector::from([1.0]);
            for _ in 0..steps {
                total += ours::xor_step(&mut net, &mut grads, &sgd, black_box(&x), &t);
            }
        }
        ("A", "hand") => {
            let mut net = network_benches::xor(1).hand;
            for _ in 0..steps {
                total += net.train_step(black_box(&[1.0, 0.0]), 1.0, LR_A);
            }
        }
        ("A-inf", "ours") => {
            let net = network_benches::xor(1).ours;
            for _ in 0..steps {
                total += net.forward(black_box(&[1.0, 0.0]))[0];
            }
        }
        ("A-inf", "hand") => {
            let net = network_benches::xor(1).hand;
            for _ in 0..steps {
                total += net.forward(black_box(&[1.0, 0.0]));
            }
        }
        ("LeNet", "ours") => {
            let mut net = ours::LeNet::random_boxed(1);
            let mut grads = network::boxed_zeroed::<ours::LeNetGradients>();
            let mut adam = Adam::new_boxed(AdamConfig::adam(1e-3)).unwrap();
            let x = ours::batch(&data::inputs::<784, 32>(300));
            let t = ours::batch(&data::one_hot::<10, 32>(400));
            for _ in 0..steps {
                total += ours::lenet_step(&mut net, &mut grads, &mut adam, black_box(&x), &t);
            }
        }
        ("B", "ours") => {
            let mut net = network_benches::mlp_b(1).ours;
            let mut grads = ours::NetBGradients::zeros();
            let mut adam = Adam::new(AdamConfig::adam(LR_B)).unwrap();
            let x = ours::batch(&data::inputs::<64, BATCH_B>(1));
            let t = ours::batch(&data::one_hot::<10, BATCH_B>(2));
            for _ in 0..steps {
                total += ours::b_step(&mut net, &mut grads, &mut adam, black_box(&x), &t);
            }
        }
        ("B", "hand") => {
            let mut net = network_benches::mlp_b(1).hand;
            let mut ws = hand::Workspace::default();
            let mut adam = hand::Adam::new(LR_B);
            let x = data::inputs::<64, BATCH_B>(1);
            let t = data::one_hot::<10, BATCH_B>(2);
            for _ in 0..steps {
                total += net.loss_and_gradients(black_box(&x), &t, &mut ws);
                adam.step(&mut net, &mut ws);
            }
        }
        ("C", "ours") => {
            let mut net = network_benches::mlp_c(1).ours;
            let mut grads = Box::new(ours::NetCGradients::zeros());
            let sgd = Sgd::new(LR_C).unwrap();
            let x = ours::batch(&data::inputs::<784, BATCH_C>(1));
            let t = ours::batch(&data::one_hot::<10, BATCH_C>(2));
            for _ in 0..steps {
                total += ours::c_step(&mut net, &mut grads, &sgd, black_box(&x), &t);
            }
        }
        ("C", "hand") => {
            let mut net = network_benches::mlp_c(1).hand;
            let mut ws = hand::Workspace::default();
            let x = data::inputs::<784, BATCH_C>(1);
            let t = data::one_hot::<10, BATCH_C>(2);
            for _ in 0..steps {
                total += net.loss_and_gradients(black_box(&x), &t, &mut ws);
                net.sgd_step(&mut ws, LR_C);
            }
        }
        ("C-inf", "ours") => {
            let net = network_benches::mlp_c(1).ours;
            let x = ours::batch(&data::inputs::<784, BATCH_C>(1));
            for _ in 0..steps {
                total += net.forward(black_box(&*x))[(0, 0)];
            }
        }
        ("C-inf", "hand") => {
            let net = network_benches::mlp_c(1).hand;
            let x = data::inputs::<784, BATCH_C>(1);
            let (mut hidden, mut out) = (data::zeroed(), data::zeroed::<10, BATCH_C>());
            for _ in 0..steps {
                net.forward(black_box(&x), &mut hidden, &mut out);
                total += out[0][0];
            }
        }
        ("B" | "C" | "C-inf", "dfdx") => {
            let mut trio_b = (workload == "B").then(|| network_benches::mlp_b(1).dfdx);
            let mut trio_c = (workload != "B").then(|| network_benches::mlp_c(1).dfdx);
            if let Some(net) = trio_b.as_mut() {
                let x =
                    network_benches::reference::tensor(&net.dev, &data::inputs::<64, BATCH_B>(1));
                let t =
                    network_benches::reference::tensor(&net.dev, &data::one_hot::<10, BATCH_B>(2));
                for _ in 0..steps {
                    total += net.step(&x, &t);
                }
            } else if let Some(net) = trio_c.as_mut() {
                let x =
                    network_benches::reference::tensor(&net.dev, &data::inputs::<784, BATCH_C>(1));
                let t =
                    network_benches::reference::tensor(&net.dev, &data::one_hot::<10, BATCH_C>(2));
                for _ in 0..steps {
                    if workload == "C" {
                        total += net.step(&x, &t);
                    } else {
                        total += net.infer(&x).as_vec()[0];
                    }
                }
            }
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
    println!("{workload} {implementation}: {steps} steps, checksum {total}");
}
