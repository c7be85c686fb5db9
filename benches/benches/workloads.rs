//! Every workload, three ways, in one run; then a table of medians and ratios.
//!
//! ```text
//! cd benches && RAYON_NUM_THREADS=1 cargo bench --bench workloads
//! ```
//!
//! Then it builds `examples/downstream`, a user's crate that depends on
//! `network` alone (no `matrixmultiply`, no dev-dependencies switching on
//! features), once as a default build and once with `-C target-cpu=native`,
//! and times its training steps of workloads C and B in the same run.
//!
//! Each sample starts from freshly initialised weights (built outside the
//! timed region, then one untimed warm-up step), so every implementation is
//! timed over the same early stretch of training rather than drifting to a
//! different state the longer it runs.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use criterion::{BenchmarkGroup, Criterion, measurement::WallTime};
use network::prelude::*;
use network_benches::{
    BATCH_B, BATCH_C, LR_A, LR_B, LR_C, conv_layers_flops, data, hand, inference_flops,
    lenet_train_flops, ours, reference, train_flops,
};

/// Distinct batches cycled through by the batched workloads.
const BATCHES: usize = 4;

/// Times `iters` calls of `step` on a state made by `setup`, after one
/// untimed warm-up call.
fn steps<S, R>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    setup: impl Fn() -> S,
    mut step: impl FnMut(&mut S, usize) -> R,
) {
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut state = setup();
            black_box(step(&mut state, 0));
            let start = Instant::now();
            for k in 0..iters as usize {
                black_box(step(&mut state, k));
            }
            start.elapsed()
        })
    });
}

const XOR_X: [[f32; 2]; 4] = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
const XOR_T: [f32; 4] = [0.0, 1.0, 1.0, 0.0];

fn workload_a(c: &mut Criterion) {
    let mut group = c.benchmark_group("A");
    let xs = XOR_X.map(SVector::from);
    let ts = XOR_T.map(|t| SVector::from([t]));
    steps(
        &mut group,
        "ours",
        || {
            let net = network_benches::xor(1).ours;
            (net, ours::XorNetGradients::zeros(), Sgd::new(LR_A).unwrap())
        },
        |(net, grads, sgd), k| ours::xor_step(net, grads, sgd, &xs[k % 4], &ts[k % 4]),
    );
    steps(
        &mut group,
        "hand",
        || network_benches::xor(1).hand,
        |net, k| net.train_step(&XOR_X[k % 4], XOR_T[k % 4], LR_A),
    );
    let dev = reference::XorTrainer::new(0.0).dev;
    let xd = XOR_X.map(|x| reference::vector(&dev, x));
    let td = XOR_T.map(|t| reference::vector(&dev, [t]));
    steps(
        &mut group,
        "dfdx",
        || network_benches::xor(1).dfdx,
        |net, k| net.step(&xd[k % 4], &td[k % 4]),
    );
    group.finish();

    let mut group = c.benchmark_group("A-inf");
    steps(
        &mut group,
        "ours",
        || network_benches::xor(1).ours,
        |net, k| net.forward(&xs[k % 4])[0],
    );
    steps(
        &mut group,
        "hand",
        || network_benches::xor(1).hand,
        |net, k| net.forward(&XOR_X[k % 4]),
    );
    steps(
        &mut group,
        "dfdx",
        || network_benches::xor(1).dfdx,
        |net, k| net.infer(&xd[k % 4]),
    );
    group.finish();
}

fn workload_b(c: &mut Criterion) {
    let xs: Vec<_> = (0..BATCHES as u64)
        .map(|s| data::inputs::<64, BATCH_B>(100 + s))
        .collect();
    let ts: Vec<_> = (0..BATCHES as u64)
        .map(|s| data::one_hot::<10, BATCH_B>(200 + s))
        .collect();
    let x: Vec<_> = xs.iter().map(|x| ours::batch(x)).collect();
    let t: Vec<_> = ts.iter().map(|t| ours::batch(t)).collect();
    let dev = reference::TrainerB::new(0.0).dev;
    let xd: Vec<_> = xs.iter().map(|x| reference::tensor(&dev, x)).collect();
    let td: Vec<_> = ts.iter().map(|t| reference::tensor(&dev, t)).collect();

    let mut group = c.benchmark_group("B");
    steps(
        &mut group,
        "ours",
        || {
            let net = network_benches::mlp_b(1).ours;
            let adam = Adam::new(AdamConfig::adam(LR_B)).unwrap();
            (net, ours::NetBGradients::zeros(), adam)
        },
        |(net, grads, adam), k| {
            let k = k % BATCHES;
            ours::b_step(net, grads, adam, &x[k], &t[k])
        },
    );
    steps(
        &mut group,
        "hand",
        || {
            let net = network_benches::mlp_b(1).hand;
            let ws = hand::Workspace::<64, 32, 10, BATCH_B>::default();
            (net, ws, hand::Adam::new(LR_B))
        },
        |(net, ws, adam), k| {
            let k = k % BATCHES;
            let loss = net.loss_and_gradients(&xs[k], &ts[k], ws);
            adam.step(net, ws);
            loss
        },
    );
    steps(
        &mut group,
        "dfdx",
        || network_benches::mlp_b(1).dfdx,
        |net, k| net.step(&xd[k % BATCHES], &td[k % BATCHES]),
    );
    group.finish();
}

fn workload_c(c: &mut Criterion) {
    let xs: Vec<_> = (0..BATCHES as u64)
        .map(|s| data::inputs::<784, BATCH_C>(100 + s))
        .collect();
    let ts: Vec<_> = (0..BATCHES as u64)
        .map(|s| data::one_hot::<10, BATCH_C>(200 + s))
        .collect();
    let x: Vec<_> = xs.iter().map(|x| ours::batch(x)).collect();
    let t: Vec<_> = ts.iter().map(|t| ours::batch(t)).collect();
    let dev = reference::TrainerC::new(0.0).dev;
    let xd: Vec<_> = xs.iter().map(|x| reference::tensor(&dev, x)).collect();
    let td: Vec<_> = ts.iter().map(|t| reference::tensor(&dev, t)).collect();

    let mut group = c.benchmark_group("C");
    steps(
        &mut group,
        "ours",
        || {
            let net = network_benches::mlp_c(1).ours;
            (
                net,
                Box::new(ours::NetCGradients::zeros()),
                Sgd::new(LR_C).unwrap(),
            )
        },
        |(net, grads, sgd), k| {
            let k = k % BATCHES;
            ours::c_step(net, grads, sgd, &x[k], &t[k])
        },
    );
    steps(
        &mut group,
        "hand",
        || {
            let net = network_benches::mlp_c(1).hand;
            (net, hand::Workspace::<784, 128, 10, BATCH_C>::default())
        },
        |(net, ws), k| {
            let k = k % BATCHES;
            let loss = net.loss_and_gradients(&xs[k], &ts[k], ws);
            net.sgd_step(ws, LR_C);
            loss
        },
    );
    steps(
        &mut group,
        "dfdx",
        || network_benches::mlp_c(1).dfdx,
        |net, k| net.step(&xd[k % BATCHES], &td[k % BATCHES]),
    );
    group.finish();

    let mut group = c.benchmark_group("C-inf");
    steps(
        &mut group,
        "ours",
        || network_benches::mlp_c(1).ours,
        |net, k| net.forward(&*x[k % BATCHES])[(0, 0)],
    );
    steps(
        &mut group,
        "hand",
        || {
            let net = network_benches::mlp_c(1).hand;
            (
                net,
                data::zeroed::<128, BATCH_C>(),
                data::zeroed::<10, BATCH_C>(),
            )
        },
        |(net, hidden, out), k| {
            net.forward(&xs[k % BATCHES], hidden, out);
            out[0][0]
        },
    );
    steps(
        &mut group,
        "dfdx",
        || network_benches::mlp_c(1).dfdx,
        |net, k| net.infer(&xd[k % BATCHES]),
    );
    group.finish();
}

/// LeNet-5's training step (ours only), and its two convolutions as that
/// step runs them (`network::Conv`'s products on the padded grid) against
/// the direct loops of `network::convolution` as the hand-written baseline.
fn workload_lenet(c: &mut Criterion) {
    let xs: Vec<_> = (0..BATCHES as u64)
        .map(|s| ours::batch(&data::inputs::<784, 32>(300 + s)))
        .collect();
    let ts: Vec<_> = (0..BATCHES as u64)
        .map(|s| ours::batch(&data::one_hot::<10, 32>(400 + s)))
        .collect();
    let mut group = c.benchmark_group("LeNet");
    steps(
        &mut group,
        "ours",
        || {
            let net = ours::LeNet::random_boxed(1);
            let grads = network::boxed_zeroed::<ours::LeNetGradients>();
            (net, grads, Adam::new_boxed(AdamConfig::adam(1e-3)).unwrap())
        },
        |(net, grads, adam), k| {
            let k = k % BATCHES;
            ours::lenet_step(net, grads, adam, &xs[k], &ts[k])
        },
    );
    group.finish();

    let x1 = ours::batch(&data::inputs::<784, 32>(502));
    let g1 = ours::batch(&data::inputs::<4704, 32>(503));
    let x2 = ours::batch(&data::inputs::<1176, 32>(500));
    let g2 = ours::batch(&data::inputs::<1600, 32>(501));
    let mut group = c.benchmark_group("Conv");
    steps(
        &mut group,
        "ours",
        || {
            let nets = (ours::ConvLayer1::random(3), ours::ConvLayer::random(2));
            let grads = (
                ours::ConvLayer1Gradients::zeros(),
                ours::ConvLayerGradients::zeros(),
            );
            (nets, grads)
        },
        |((net1, net2), (grads1, grads2)), _| {
            ours::conv_layers_pass((net1, net2), (grads1, grads2), (&x1, &g1), (&x2, &g2))
        },
    );
    steps(
        &mut group,
        "hand",
        || {
            let nets = (ours::ConvLayer1::random(3), ours::ConvLayer::random(2));
            let buffers = [4704 * 32, 25 * 6, 6, 1600 * 32, 150 * 16, 16, 1176 * 32]
                .map(|len| vec![0.0f32; len]);
            (nets, buffers)
        },
        |((net1, net2), [z1, gw1, gb1, z2, gw2, gb2, grad_x]), _| {
            use network::convolution::{
                conv2d_backward_input, conv2d_backward_weights, conv2d_forward,
            };
            use network::layers::ConvGeometry;
            let shape1 = <ours::ConvLayer1ConvGeometry as ConvGeometry>::SHAPE;
            let shape2 = <ours::ConvLayerConvGeometry as ConvGeometry>::SHAPE;
            let (w1, b1) = (net1.conv.w.as_slice(), net1.conv.b.as_slice());
            conv2d_forward(&shape1, w1, b1, x1.as_slice(), z1);
            conv2d_backward_weights(&shape1, x1.as_slice(), g1.as_slice(), gw1, gb1);
            let (w2, b2) = (net2.conv.w.as_slice(), net2.conv.b.as_slice());
            conv2d_forward(&shape2, w2, b2, x2.as_slice(), z2);
            conv2d_backward_weights(&shape2, x2.as_slice(), g2.as_slice(), gw2, gb2);
            conv2d_backward_input(&shape2, w2, g2.as_slice(), grad_x);
            grad_x[0] + z1[0] + z2[0]
        },
    );
    group.finish();
}

/// The machine's single-core sgemm rate: a 1024 x 1024 x 1024 product with
/// matrixmultiply and with gemm (dfdx's GEMM), one thread.
fn sgemm(c: &mut Criterion) {
    const N: usize = 1024;
    let a: Vec<f32> = (0..N * N).map(|i| (i % 7) as f32 * 0.25).collect();
    let b: Vec<f32> = (0..N * N).map(|i| (i % 5) as f32 * 0.5).collect();
    let mut out = vec![0.0f32; N * N];
    let mut group = c.benchmark_group("sgemm-1024");
    group.sample_size(10);
    group.bench_function("matrixmultiply", |bench| {
        bench.iter(|| {
            // SAFETY: `a`, `b` and `out` each hold N * N values, and the
            // strides (N, 1) address exactly those, row-major.
            unsafe {
                matrixmultiply::sgemm(
                    N,
                    N,
                    N,
                    1.0,
                    a.as_ptr(),
                    N as isize,
                    1,
                    b.as_ptr(),
                    N as isize,
                    1,
                    0.0,
                    out.as_mut_ptr(),
                    N as isize,
                    1,
                )
            }
        })
    });
    group.bench_function("gemm", |bench| {
        bench.iter(|| {
            // SAFETY: as above; gemm takes (column stride, row stride) per
            // matrix, here (1, N) for row-major storage.
            unsafe {
                gemm::gemm(
                    N,
                    N,
                    N,
                    out.as_mut_ptr(),
                    1,
                    N as isize,
                    false,
                    a.as_ptr(),
                    1,
                    N as isize,
                    b.as_ptr(),
                    1,
                    N as isize,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                )
            }
        })
    });
    group.finish();
}

/// The user's crate, `examples/downstream`, built one way.
struct UserBuild {
    /// What the build is, for the table.
    label: &'static str,
    /// The `RUSTFLAGS` of the build: none, or `-C target-cpu=native`.
    rustflags: &'static str,
    /// The binary, once built.
    binary: Option<PathBuf>,
}

/// Builds the user's crate with each of `builds`' flags, in a target
/// directory of its own under `target`, as a user's `cargo build --release`
/// would: from its own directory (so `benches/.cargo/config.toml`'s
/// `target-cpu=native` does not apply) and without the flags cargo passes
/// to this benchmark.
fn build_user_crate(target: &Path) -> Vec<UserBuild> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/downstream");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut builds = vec![
        UserBuild {
            label: "default build",
            rustflags: "",
            binary: None,
        },
        UserBuild {
            label: "`-C target-cpu=native`",
            rustflags: "-C target-cpu=native",
            binary: None,
        },
    ];
    for (k, build) in builds.iter_mut().enumerate() {
        let target_dir = target.join(format!("downstream-{k}"));
        let status = Command::new(&cargo)
            .current_dir(&dir)
            .args(["build", "--release", "--quiet", "--target-dir"])
            .arg(&target_dir)
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_BUILD_RUSTFLAGS")
            .env_remove("CARGO_TARGET_DIR")
            .env("RUSTFLAGS", build.rustflags)
            .status();
        match status {
            Ok(s) if s.success() => {
                build.binary = Some(target_dir.join("release/network-downstream"));
            }
            other => eprintln!(
                "building the user's crate ({}) failed: {other:?}",
                build.label
            ),
        }
    }
    builds
}

/// The user's crate's `bench` output: its matrix kernel and the median
/// nanoseconds per step of each workload it reports.
struct UserRun {
    kernel: String,
    medians: Vec<(String, f64)>,
}

fn run_user_crate(binary: &Path) -> Option<UserRun> {
    let output = Command::new(binary).args(["bench", "3"]).output().ok()?;
    if !output.status.success() {
        eprintln!(
            "{} bench failed: {}",
            binary.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let mut run = UserRun {
        kernel: String::new(),
        medians: Vec::new(),
    };
    for line in text.lines() {
        if let Some(kernel) = line.strip_prefix("matrix kernel: ") {
            run.kernel = kernel.to_string();
        } else if let Some(rest) = line.strip_prefix("bench ") {
            let (name, ns) = rest.split_once(' ')?;
            run.medians.push((name.to_string(), ns.parse().ok()?));
        }
    }
    Some(run)
}

/// Where criterion writes its results (its own rule, made explicit).
fn output_directory() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        PathBuf::from(home)
    } else if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        PathBuf::from(target).join("criterion")
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/criterion")
    }
}

/// The median of one benchmark from this run, in nanoseconds.
fn median_ns(dir: &Path, group: &str, name: &str, since: SystemTime) -> Option<f64> {
    let path = dir.join(group).join(name).join("new/estimates.json");
    let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
    if modified < since {
        return None;
    }
    let text = std::fs::read_to_string(&path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn format_time(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.1} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{:.3} ms", ns / 1e6)
    }
}

/// Prints a Markdown table of this run's medians and ratios, then the user's
/// crate's.
fn table(dir: &Path, since: SystemTime, users: &[(&str, UserRun)]) {
    let flops = [
        ("A", None),
        ("A-inf", None),
        ("B", Some(train_flops(64, 32, 10, BATCH_B))),
        ("C", Some(train_flops(784, 128, 10, BATCH_C))),
        ("C-inf", Some(inference_flops(784, 128, 10, BATCH_C))),
        ("LeNet", Some(lenet_train_flops(32))),
        ("Conv", Some(conv_layers_flops(32))),
    ];
    const N: f64 = 1024.0;
    let sgemm_rate =
        median_ns(dir, "sgemm-1024", "matrixmultiply", since).map(|ns| 2.0 * N * N * N / ns);
    println!();
    println!(
        "| workload | ours | hand-written | dfdx | ours / hand | dfdx / ours | ours GFLOP/s | of sgemm |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (group, flops) in flops {
        let [ours, hand, dfdx] =
            ["ours", "hand", "dfdx"].map(|name| median_ns(dir, group, name, since));
        let Some(ours) = ours else { continue };
        let cell = |v: Option<f64>| v.map_or("-".to_string(), format_time);
        let ratio = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
        let rate = flops.map_or("-".to_string(), |f| format!("{:.1}", f as f64 / ours));
        let share = match (flops, sgemm_rate) {
            (Some(f), Some(peak)) => format!("{:.0}%", 100.0 * f as f64 / ours / peak),
            _ => "-".to_string(),
        };
        println!(
            "| {group} | {} | {} | {} | {} | {} | {rate} | {share} |",
            format_time(ours),
            cell(hand),
            cell(dfdx),
            ratio(hand.map(|h| ours / h)),
            ratio(dfdx.map(|d| d / ours)),
        );
    }
    if !users.is_empty() {
        println!(
            "\nThe user's crate (`examples/downstream`: `network` alone, default features, \
             so no matrixmultiply), timed in this run; ratios against `ours` above:\n"
        );
        println!("| build | matrix kernel | C | C / ours | C GFLOP/s | B | B / ours |");
        println!("|---|---|---|---|---|---|---|");
        let ours = |group| median_ns(dir, group, "ours", since);
        let flops_c = train_flops(784, 128, 10, BATCH_C) as f64;
        for (label, run) in users {
            let get = |name: &str| run.medians.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
            let (c, b) = (get("C"), get("B"));
            let cell = |v: Option<f64>| v.map_or("-".to_string(), format_time);
            let ratio = |v: Option<f64>, o: Option<f64>| match (v, o) {
                (Some(v), Some(o)) => format!("{:.2}", v / o),
                _ => "-".to_string(),
            };
            println!(
                "| {label} | {} | {} | {} | {} | {} | {} |",
                run.kernel,
                cell(c),
                ratio(c, ours("C")),
                c.map_or("-".to_string(), |c| format!("{:.1}", flops_c / c)),
                cell(b),
                ratio(b, ours("B")),
            );
        }
    }
    for name in ["matrixmultiply", "gemm"] {
        if let Some(ns) = median_ns(dir, "sgemm-1024", name, since) {
            println!(
                "\nsgemm 1024^3, {name}, one thread: {} = {:.1} GFLOP/s",
                format_time(ns),
                2.0 * N * N * N / ns
            );
        }
    }
}

fn main() {
    let since = SystemTime::now() - Duration::from_secs(1);
    let dir = output_directory();
    // Built first, so that the compiler is not running while anything is timed.
    let user_builds = build_user_crate(dir.parent().unwrap_or(&dir));
    let mut c = Criterion::default()
        .output_directory(&dir)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    workload_a(&mut c);
    workload_b(&mut c);
    workload_c(&mut c);
    workload_lenet(&mut c);
    sgemm(&mut c);
    let users: Vec<_> = user_builds
        .iter()
        .filter_map(|b| Some((b.label, run_user_crate(b.binary.as_deref()?)?)))
        .collect();
    c.final_summary();
    table(&dir, since, &users);
}
