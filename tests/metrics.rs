//! Confusion matrices, precision, recall and F1, predictions over a
//! dataset and probabilities from logits, with bad input as well as good.

use network::dataset::Classification;
use network::metrics::{ConfusionMatrix, MetricsError, predict, probabilities};
use network::prelude::*;

network! {
    struct Logits { input: 2, hidden: Dense<4, Tanh>, output: Dense<3, Identity> }
}

network! {
    struct Probabilities { input: 2, hidden: Dense<4, Tanh>, output: Dense<3, Softmax> }
}

#[test]
fn metrics_match_a_hand_count() {
    // Actual 0: predicted 0, 0, 1. Actual 1: predicted 1, 2. Actual 2:
    // predicted 2, 2, 0, 2.
    let pairs = [
        (0, 0),
        (0, 0),
        (0, 1),
        (1, 1),
        (1, 2),
        (2, 2),
        (2, 2),
        (2, 0),
        (2, 2),
    ];
    let mut m = ConfusionMatrix::<3>::new();
    for (a, p) in pairs {
        m.add(a, p).unwrap();
    }
    assert_eq!(m.samples(), 9);
    assert_eq!(m.counts(), &[[2, 1, 0], [0, 1, 1], [1, 0, 3]]);
    assert_eq!(m.accuracy(), Some(6.0 / 9.0));
    // Precision: column sums 3, 2, 4; recall: row sums 3, 2, 4.
    assert_eq!(m.precision(0), Some(2.0 / 3.0));
    assert_eq!(m.precision(1), Some(0.5));
    assert_eq!(m.precision(2), Some(0.75));
    assert_eq!(m.recall(0), Some(2.0 / 3.0));
    assert_eq!(m.recall(1), Some(0.5));
    assert_eq!(m.recall(2), Some(0.75));
    let f1 = |p: f64, r: f64| 2.0 * p * r / (p + r);
    assert_eq!(m.f1(2), Some(f1(0.75, 0.75)));
    let macro_f1 = (f1(2.0 / 3.0, 2.0 / 3.0) + f1(0.5, 0.5) + f1(0.75, 0.75)) / 3.0;
    assert!((m.macro_f1().unwrap() - macro_f1).abs() < 1e-15);
    let text = m.to_string();
    assert!(text.contains("macro average"), "{text}");
}

#[test]
fn undefined_metrics_are_none_or_zero_in_averages() {
    let empty = ConfusionMatrix::<2>::new();
    assert_eq!(empty.accuracy(), None);
    assert_eq!(empty.precision(0), None);
    assert_eq!(empty.macro_f1(), None);
    // Class 1 never occurs and is never predicted.
    let mut m = ConfusionMatrix::<2>::new();
    m.add(0, 0).unwrap();
    assert_eq!(m.precision(1), None);
    assert_eq!(m.recall(1), None);
    assert_eq!(m.f1(1), None);
    assert_eq!(m.macro_recall(), Some(0.5));
    // Out of range: an error, nothing counted; reads give 0 or None.
    assert_eq!(
        m.add(0, 2),
        Err(MetricsError::ClassOutOfRange {
            class: 2,
            classes: 2
        })
    );
    assert_eq!(m.samples(), 1);
    assert_eq!(m.count(5, 0), 0);
    assert_eq!(m.precision(7), None);
}

fn dataset() -> (Vec<[f32; 2]>, Vec<usize>) {
    let inputs: Vec<[f32; 2]> = (0..37)
        .map(|i| [(i % 5) as f32 - 2.0, (i % 7) as f32 * 0.3 - 1.0])
        .collect();
    let labels = (0..37).map(|i| i % 3).collect();
    (inputs, labels)
}

#[test]
fn predict_matches_forward_over_several_batches() {
    let (inputs, labels) = dataset();
    let data = Classification::<f32, f32, 2, 3>::new(&inputs, &labels, 1.0).unwrap();
    let net = Logits::<f32>::random(3);
    let mut outputs = vec![[0.0; 3]; inputs.len()];
    predict(&net, &data, &mut outputs).unwrap();
    // Batched and one at a time, the sums may round differently.
    for (x, y) in inputs.iter().zip(&outputs) {
        let one = net.forward(x);
        assert!(
            one.iter().zip(y).all(|(a, b)| (a - b).abs() < 1e-6),
            "{one} != {y:?}"
        );
    }
    let mut short = vec![[0.0; 3]; 3];
    assert_eq!(
        predict(&net, &data, &mut short),
        Err(MetricsError::OutputLength {
            expected: 37,
            found: 3
        })
    );
    let mut bad = inputs.clone();
    bad[20][1] = f32::NAN;
    let bad = Classification::<f32, f32, 2, 3>::new(&bad, &labels, 1.0).unwrap();
    assert_eq!(
        predict(&net, &bad, &mut outputs),
        Err(MetricsError::NonFiniteInput { sample: 20 })
    );
}

#[test]
fn probabilities_of_logits_are_the_softmax() {
    let logits = Logits::<f32>::random(5);
    let mut softmax = Probabilities::<f32>::zeroed();
    for (to, from) in softmax.slices_mut().zip(logits.slices()) {
        to.copy_from_slice(from);
    }
    let x = [0.3, -1.2];
    let p = probabilities(&logits, &x);
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    let expected = softmax.forward(&x);
    for (p, e) in p.iter().zip(expected.iter()) {
        assert!((p - e).abs() < 1e-6, "{p:?} != {expected}");
    }
    assert_eq!(
        probabilities(&softmax, &x),
        p,
        "a softmax output is its own probability"
    );
}

#[test]
fn the_trainers_confusion_matrix_agrees_with_its_accuracy() {
    let (inputs, labels) = dataset();
    let data = Classification::<f32, f32, 2, 3>::new(&inputs, &labels, 1.0).unwrap();
    let trainer = Trainer::<SoftmaxCrossEntropy, 8>::new(TrainConfig::new(1)).unwrap();
    let net = Probabilities::<f32>::random(2);
    let matrix: ConfusionMatrix<3> = trainer.confusion_matrix(&net, &data).unwrap();
    assert_eq!(matrix.samples(), 37);
    for (k, row) in matrix.counts().iter().enumerate() {
        assert_eq!(
            row.iter().sum::<usize>(),
            labels.iter().filter(|&&l| l == k).count()
        );
    }
    let accuracy = trainer.evaluate(&net, &data).unwrap().accuracy;
    assert_eq!(matrix.accuracy(), Some(accuracy));
    let empty: [([f32; 2], [f32; 3]); 0] = [];
    assert!(
        trainer
            .confusion_matrix::<3, _, _, _, 2, 3>(&net, &empty[..])
            .is_err()
    );
}
