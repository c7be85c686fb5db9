//! Times the dense-layer products of workload B one by one (best of 61 runs),
//! to tune `network_core::kernels`:
//! `cargo run --release --example kernel_shapes [ITERS [RUNS [SHAPE]]]`
//! (under `valgrind --tool=cachegrind`, `100 1 0` counts the instructions of
//! 100 products of the first shape, plus a constant).

use std::hint::black_box;

use network::SMatrix;
use network::kernels::{affine, outer_product_into, transposed_mul};
use network_benches::best_ns;

fn filled<const R: usize, const C: usize>(seed: f32) -> SMatrix<f32, R, C> {
    SMatrix::from_fn(|r, c| ((r * 7 + c * 13) as f32 * 0.37 + seed).sin())
}

fn main() {
    let w1 = filled::<32, 64>(0.1);
    let b1 = filled::<32, 1>(0.2);
    let x = filled::<64, 32>(0.3);
    let w2 = filled::<10, 32>(0.4);
    let b2 = filled::<10, 1>(0.5);
    let a1 = filled::<32, 32>(0.6);
    let d2 = filled::<10, 32>(0.7);
    let d1 = filled::<32, 32>(0.8);
    let mut g1 = SMatrix::<f32, 32, 64>::zeros();
    let mut g2 = SMatrix::<f32, 10, 32>::zeros();
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000);
    let runs: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(61);
    let only: Option<usize> = std::env::args().nth(3).and_then(|s| s.parse().ok());
    let n = |k: usize| if only.is_none_or(|o| o == k) { n } else { 0 };
    let t = [
        (
            "affine 32x64 * 64x32",
            best_ns(runs, n(0), || {
                black_box(affine(black_box(&w1), &b1, black_box(&x)));
            }),
        ),
        (
            "affine 10x32 * 32x32",
            best_ns(runs, n(1), || {
                black_box(affine(black_box(&w2), &b2, black_box(&a1)));
            }),
        ),
        (
            "outer 10x32 * (32x32)^T",
            best_ns(runs, n(2), || {
                outer_product_into(black_box(&mut g2), black_box(&d2), &a1);
            }),
        ),
        (
            "W2^T 32x10 * 10x32",
            best_ns(runs, n(3), || {
                black_box(transposed_mul(black_box(&w2), black_box(&d2)));
            }),
        ),
        (
            "outer 32x32 * (64x32)^T",
            best_ns(runs, n(4), || {
                outer_product_into(black_box(&mut g1), black_box(&d1), &x);
            }),
        ),
    ];
    let mut total = 0.0;
    for (name, ns) in t {
        let macs = match name {
            n if n.starts_with("affine 32") => 32 * 64 * 32,
            n if n.starts_with("affine 10") => 10 * 32 * 32,
            n if n.starts_with("outer 10") => 10 * 32 * 32,
            n if n.starts_with("W2") => 32 * 10 * 32,
            _ => 32 * 32 * 64,
        };
        total += ns;
        println!(
            "{name:28} {ns:8.0} ns  {:5.1} GFLOP/s",
            2.0 * macs as f64 / ns
        );
    }
    println!("{:28} {total:8.0} ns", "total");
}
