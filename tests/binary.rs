//! Binary classification with one sigmoid output and labels 0 and 1: the
//! dataset views give the label itself as the target, and `evaluate`
//! reports the accuracy of `p >= 0.5` (or, on logits, `z >= 0`). Once
//! `classification::<f32, 1>` failed with "there are only 1 classes".

use network::dataset::{Classification, DatasetError};
use network::prelude::*;

network! {
    struct Probability { input: 1, output: Dense<1, Sigmoid> }
}

network! {
    struct Logit { input: 1, output: Dense<1, Identity> }
}

const INPUTS: [[f32; 1]; 6] = [[-3.0], [-2.0], [-1.0], [1.0], [2.0], [3.0]];
const LABELS: [usize; 6] = [0, 0, 0, 1, 1, 1];

#[test]
fn one_output_takes_labels_zero_and_one_as_targets() {
    let data = Classification::<f32, f32, 1, 1>::new(&INPUTS, &LABELS, 1.0).unwrap();
    let (mut x, mut t) = (SVector::<f32, 1>::zeros(), SVector::<f32, 1>::zeros());
    data.write_sample(0, x.column_mut(0), t.column_mut(0));
    assert_eq!(t[0], 0.0);
    data.write_sample(4, x.column_mut(0), t.column_mut(0));
    assert_eq!((x[0], t[0]), (2.0, 1.0));
    let error =
        Classification::<f32, f32, 1, 1>::new(&INPUTS, &[0, 1, 2, 0, 1, 0], 1.0).unwrap_err();
    assert_eq!(
        error,
        DatasetError::LabelOutOfRange {
            index: 2,
            label: 2,
            classes: 2
        }
    );
}

/// `w x + b` with the given weight and bias.
fn set<N: Parameters<f32>>(net: &mut N, w: f32, b: f32) {
    let mut slices = net.slices_mut();
    slices.next().unwrap()[0] = w;
    slices.next().unwrap()[0] = b;
}

#[test]
fn evaluate_counts_a_sigmoid_output_above_one_half_as_class_one() {
    let data = Classification::<f32, f32, 1, 1>::new(&INPUTS, &LABELS, 1.0).unwrap();
    let trainer = Trainer::<SigmoidCrossEntropy, 4>::new(TrainConfig::new(1)).unwrap();
    let mut net = Probability::<f32>::zeroed();
    // p = sigmoid(x - 1.5): x = 1 is on the wrong side.
    set(&mut net, 1.0, -1.5);
    let figures = trainer.evaluate(&net, &data).unwrap();
    assert_eq!(figures.accuracy, 5.0 / 6.0);
}

#[test]
fn evaluate_counts_a_logit_above_zero_as_class_one() {
    let data = Classification::<f32, f32, 1, 1>::new(&INPUTS, &LABELS, 1.0).unwrap();
    let trainer = Trainer::<SigmoidCrossEntropy, 4>::new(TrainConfig::new(1)).unwrap();
    let mut net = Logit::<f32>::zeroed();
    // z = x - 0.75: z(1) = 0.25 is class 1 by `z >= 0`, but would be class
    // 0 by the `>= 0.5` meant for probabilities.
    set(&mut net, 1.0, -0.75);
    let figures = trainer.evaluate(&net, &data).unwrap();
    assert_eq!(figures.accuracy, 1.0);
}

#[test]
fn a_binary_classifier_trains_to_full_accuracy() {
    let data = Classification::<f32, f32, 1, 1>::new(&INPUTS, &LABELS, 1.0).unwrap();
    let trainer = Trainer::<SigmoidCrossEntropy, 6>::new(TrainConfig::new(200)).unwrap();
    let mut net = Probability::<f32>::random(1);
    let mut grads = ProbabilityGradients::zeros();
    let mut adam = Adam::new(AdamConfig::adam(0.1)).unwrap();
    let summary = trainer
        .fit(
            &mut net,
            &mut adam,
            &mut grads,
            &data,
            &mut [0; 6],
            |_, _| Control::Continue,
        )
        .unwrap();
    assert_eq!(summary.last.train_accuracy, 1.0);
    assert_eq!(trainer.evaluate(&net, &data).unwrap().accuracy, 1.0);
}
