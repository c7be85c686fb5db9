//! Preprocessing inside the model: a `Standardize` or `MinMax` first layer
//! whose statistics are fitted on the training rows (`fit_statistics`),
//! applied by `forward`, kept by the bytes, never changed by an optimizer.

use network::check_gradients;
use network::layers::{Rescale, Standardization};
use network::prelude::*;
use network::serialize::{DecodeError, from_bytes, serialized_size, to_bytes};

network! {
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Scaled {
        input: 3,
        scale: Standardize,
        hidden: Dense<4, Tanh>,
        output: Dense<2, Identity>,
    }
}

network! {
    /// `Scaled` without its first layer.
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Plain {
        input: 3,
        hidden: Dense<4, Tanh>,
        output: Dense<2, Identity>,
    }
}

network! {
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Ranged {
        input: 2,
        range: MinMax,
        output: Dense<1, Sigmoid>,
    }
}

/// Rows on very different scales, with a constant third feature.
fn rows() -> Vec<([f64; 3], [f64; 2])> {
    (0..40)
        .map(|i| {
            let t = f64::from(i);
            (
                [1000.0 + 25.0 * (0.3 * t).sin(), 0.001 * t, 7.0],
                [(0.2 * t).cos(), (0.1 * t).sin()],
            )
        })
        .collect()
}

/// A network with fitted statistics and random weights.
fn fitted() -> Scaled<f64> {
    let mut net = Scaled::<f64>::random(3);
    net.fit_statistics(rows().as_slice()).unwrap();
    net
}

fn batch() -> (SMatrix<f64, 3, 40>, SMatrix<f64, 2, 40>) {
    let rows = rows();
    (
        SMatrix::from_fn(|i, j| rows[j].0[i]),
        SMatrix::from_fn(|i, j| rows[j].1[i]),
    )
}

#[test]
fn fitted_statistics_are_the_layers_own_fit() {
    let net = fitted();
    let mut layer = Rescale::<f64, 3, Standardization>::identity();
    layer.fit(rows().as_slice()).unwrap();
    assert_eq!(net.scale, layer);
    // The constant feature: scale 1, as scikit-learn's StandardScaler.
    assert_eq!((net.scale.offset()[2], net.scale.scale()[2]), (7.0, 1.0));
    assert_eq!(<Scaled<f64> as Parameters<f64>>::STATISTICS, 6);
    assert_eq!(Scaled::<f64>::PARAMETERS, Plain::<f64>::PARAMETERS);
}

#[test]
fn forward_standardises_then_applies_the_layers() {
    let net = fitted();
    let plain = Plain {
        hidden: net.hidden,
        output: net.output,
    };
    let (x, _) = batch();
    let (offset, scale) = (net.scale.offset(), net.scale.scale());
    let standardised = SMatrix::<f64, 3, 40>::from_fn(|i, j| (x[(i, j)] - offset[i]) * scale[i]);
    assert_eq!(net.forward(&x), plain.forward(&standardised));
    // Every feature of the training rows comes out with mean 0 and
    // variance 1 (the constant one as 0).
    for feature in 0..2 {
        let row = standardised.row(feature);
        let mean = row.sum() / 40.0;
        let variance = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 40.0;
        assert!(mean.abs() < 1e-12 && (variance - 1.0).abs() < 1e-12);
    }
    assert!(standardised.row(2).iter().all(|&v| v == 0.0));
}

#[test]
fn an_unfitted_layer_is_the_identity() {
    let net = Scaled::<f64>::random(3);
    let plain = Plain {
        hidden: net.hidden,
        output: net.output,
    };
    let (x, _) = batch();
    assert_eq!(net.forward(&x), plain.forward(&x));
}

#[test]
fn gradients_agree_with_finite_differences_through_the_statistics() {
    let mut net = fitted();
    let (x, t) = batch();
    // The second feature's scale is about 87, which multiplies the
    // truncation error of the differences: a small `h`.
    let report = check_gradients::<f64, _, HalfSquaredError, 3, 2, 40>(&mut net, &x, &t, 1e-6);
    assert!(report.max_error() < 1e-7, "{report:?}");
    assert_eq!(
        report.parameters.checked,
        Plain::<f64>::PARAMETERS,
        "the statistics are not trained"
    );
}

#[test]
fn optimizers_leave_the_statistics_alone() {
    let (x, t) = batch();
    let start = fitted();
    let statistics = start.scale;
    let mut grads = ScaledGradients::zeros();
    let mut sgd = start;
    let decay = Sgd::new(0.1).unwrap().with_weight_decay(0.5).unwrap();
    let mut adam = start;
    let mut adam_state = Adam::new(AdamConfig::adam(0.01)).unwrap();
    for _ in 0..20 {
        sgd.loss_and_gradients::<HalfSquaredError>(&x, &t, &mut grads);
        decay.step(&mut sgd, &grads).unwrap();
        adam.loss_and_gradients::<HalfSquaredError>(&x, &t, &mut grads);
        adam_state.step(&mut adam, &grads).unwrap();
    }
    assert_ne!(sgd.hidden, start.hidden);
    assert_ne!(adam.hidden, start.hidden);
    assert_eq!(sgd.scale, statistics);
    assert_eq!(adam.scale, statistics);
}

#[test]
fn the_bytes_keep_the_statistics() {
    const LEN: usize = serialized_size::<f32, Scaled<f32>>();
    assert_eq!(LEN, 24 + (Plain::<f32>::PARAMETERS + 6) * 4 + 8);
    let mut net = Scaled::<f32>::random(5);
    let rows: Vec<([f32; 3], [f32; 2])> = rows()
        .iter()
        .map(|(x, t)| (x.map(|v| v as f32), t.map(|v| v as f32)))
        .collect();
    net.fit_statistics(rows.as_slice()).unwrap();
    let mut bytes = [0u8; LEN];
    assert_eq!(to_bytes(&net, &mut bytes), Ok(LEN));
    let mut copy = Scaled::<f32>::zeroed();
    from_bytes(&mut copy, &bytes).unwrap();
    assert_eq!(copy, net);

    // A non-finite statistic is refused like a non-finite weight.
    let mut broken = net;
    broken.scale.statistics[(1, 1)] = f32::INFINITY;
    let index = Plain::<f32>::PARAMETERS + 3 + 1;
    assert_eq!(
        to_bytes(&broken, &mut bytes),
        Err(network::serialize::EncodeError::NonFinite { index })
    );
    // Bytes of the network without the layer do not load into it.
    let mut plain_bytes = [0u8; serialized_size::<f32, Plain<f32>>()];
    let plain = Plain {
        hidden: net.hidden,
        output: net.output,
    };
    to_bytes(&plain, &mut plain_bytes).unwrap();
    assert!(matches!(
        from_bytes(&mut copy, &plain_bytes),
        Err(DecodeError::WrongArchitecture { .. })
    ));
    assert_eq!(copy, net);
}

#[test]
fn bad_rows_are_refused_and_the_network_kept() {
    let mut net = fitted();
    let before = net;
    assert_eq!(
        net.fit_statistics(&[] as &[([f64; 3], [f64; 2])]),
        Err(StatisticsError::NoSamples)
    );
    let mut rows = rows();
    rows[17].0[1] = f64::NAN;
    assert_eq!(
        net.fit_statistics(rows.as_slice()),
        Err(StatisticsError::NonFinite {
            sample: 17,
            feature: 1
        })
    );
    assert_eq!(net, before);
    assert_eq!(
        StatisticsError::NonFinite {
            sample: 17,
            feature: 1
        }
        .to_string(),
        "feature 1 of sample 17 is NaN or infinite: the statistics cannot be fitted"
    );
}

#[test]
fn min_max_scales_the_training_rows_onto_the_unit_interval() {
    let rows: Vec<([f64; 2], [f64; 1])> = (0..10)
        .map(|i| ([f64::from(i) * 3.0 - 5.0, 2.5], [f64::from(i % 2)]))
        .collect();
    let mut net = Ranged::<f64>::random(1);
    net.fit_statistics(rows.as_slice()).unwrap();
    assert_eq!(net.range.offset().as_slice(), &[-5.0, 2.5]);
    assert_eq!(net.range.scale().as_slice(), &[1.0 / 27.0, 1.0]);
    let x = SMatrix::<f64, 2, 10>::from_fn(|i, j| rows[j].0[i]);
    let cache = net.forward_train(&x);
    assert_eq!(cache.a1.row(0).min(), 0.0);
    assert_eq!(cache.a1.row(0).max(), 1.0);
    assert!(cache.a1.row(1).iter().all(|&v| v == 0.0));
}

#[test]
fn the_architecture_names_the_layer() {
    assert_eq!(
        <Scaled as Network<f32, 3, 2>>::ARCHITECTURE,
        "input: 3, scale: Standardize, hidden: Dense<4, Tanh>, output: Dense<2, Identity>"
    );
}
