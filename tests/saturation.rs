//! Whole `f32` networks whose hidden and output units saturate, against the
//! same networks in `f64`: the gradients and an Adam step agree to 1e-4
//! relative per tensor. (With `1 - a^2` and `a (1 - a)`, the derivatives of
//! such units lost their digits in `f32`, or were exactly 0, and Adam's
//! normalisation turned the wrong tiny gradients into wrong updates.)

use network::prelude::*;

network! {
    struct Saturated {
        input: 2,
        hidden: Dense<4, Tanh>,
        gate: Dense<3, Sigmoid>,
        output: Dense<1, Sigmoid>,
    }
}

/// The network of `seed` with its weights scaled so that pre-activations
/// reach `|z|` of about 5 to 11.
fn saturated(seed: u64) -> Saturated<f64> {
    let mut net = Saturated::<f64>::random(seed);
    for (k, slice) in net.slices_mut().enumerate() {
        for (i, v) in slice.iter_mut().enumerate() {
            let sign = if (i + k) % 2 == 0 { 1.0 } else { -1.0 };
            *v = sign * (2.0 + 0.5 * ((i * 7 + k * 3) % 5) as f64) + 0.1 * *v;
        }
    }
    net
}

fn cast(net: &Saturated<f64>) -> Saturated<f32> {
    let mut out = Saturated::<f32>::zeroed();
    for (to, from) in out.slices_mut().zip(net.slices()) {
        for (t, f) in to.iter_mut().zip(from) {
            *t = *f as f32;
        }
    }
    out
}

/// `||a - b|| / ||b||` for every tensor (parameter slice).
fn relative_errors<'a>(
    a: impl Iterator<Item = &'a [f32]>,
    b: impl Iterator<Item = &'a [f64]>,
) -> Vec<f64> {
    a.zip(b)
        .map(|(a, b)| {
            let (mut diff, mut norm) = (0.0, 0.0);
            for (x, y) in a.iter().zip(b) {
                diff += (f64::from(*x) - y).powi(2);
                norm += y * y;
            }
            (diff / norm).sqrt()
        })
        .collect()
}

#[test]
fn saturated_f32_gradients_and_adam_steps_agree_with_f64() {
    let net64 = saturated(3);
    // Exactly representable in f32, so both nets see the same inputs.
    let x64 =
        SMatrix::<f64, 2, 4>::from_column_slice(&[1.0, 1.5, -1.25, 0.75, 2.0, -2.0, -1.5, -1.0]);
    let t64 = SMatrix::<f64, 1, 4>::from_column_slice(&[0.0, 1.0, 1.0, 0.0]);
    let net32 = cast(&net64);
    let (x32, t32) = (x64.cast::<f32>(), t64.cast::<f32>());

    let cache = net64.forward_train(&x64);
    let saturated_units = cache
        .z1
        .iter()
        .chain(&cache.z2)
        .chain(&cache.z3)
        .filter(|z| z.abs() > 5.0)
        .count();
    assert!(
        saturated_units >= 20,
        "only {saturated_units} units saturate"
    );

    let mut g64 = SaturatedGradients::<f64>::zeros();
    let mut g32 = SaturatedGradients::<f32>::zeros();
    net64.loss_and_gradients::<HalfSquaredError>(&x64, &t64, &mut g64);
    net32.loss_and_gradients::<HalfSquaredError>(&x32, &t32, &mut g32);
    let errors = relative_errors(g32.slices(), g64.slices());
    println!("gradients: {errors:?}");
    assert!(
        errors.iter().all(|e| *e < 1e-4),
        "gradients per tensor: {errors:?}"
    );

    // One Adam step from zero state: m_hat / sqrt(v_hat) = g / (|g| + eps),
    // so a gradient near eps that is wrong moves its weight wrongly. Taken
    // from zero parameters (no weight decay: the step does not depend on
    // them), so the network holds the step itself, unrounded by `p + step`.
    let mut step64 = Saturated::<f64>::zeroed();
    let mut step32 = Saturated::<f32>::zeroed();
    Adam::new(AdamConfig::adam(1e-3))
        .unwrap()
        .step(&mut step64, &g64)
        .unwrap();
    Adam::new(AdamConfig::adam(1e-3))
        .unwrap()
        .step(&mut step32, &g32)
        .unwrap();
    let errors = relative_errors(step32.slices(), step64.slices());
    println!("Adam steps: {errors:?}");
    assert!(
        errors.iter().all(|e| *e < 1e-4),
        "Adam steps per tensor: {errors:?}"
    );
}
