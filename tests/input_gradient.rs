//! `loss_gradients_and_input_gradient` (the loss's gradient with respect
//! to the inputs, beside the parameters') against finite differences, and
//! `sample_losses` against the batch loss.

use network::prelude::*;

network! {
    struct Net { input: 3, hidden: Dense<5, Tanh>, output: Dense<2, Softmax> }
}

fn batch() -> (SMatrix<f64, 3, 4>, SMatrix<f64, 2, 4>) {
    let x = SMatrix::<f64, 3, 4>::from_fn(|i, j| ((i * 5 + j * 3) % 7) as f64 * 0.3 - 0.9);
    let t = SMatrix::<f64, 2, 4>::from_fn(|k, j| if (j % 2) == k { 1.0 } else { 0.0 });
    (x, t)
}

#[test]
fn the_input_gradient_matches_finite_differences() {
    let net = Net::<f64>::random(2);
    let (x, t) = batch();
    let mut grads = NetGradients::zeros();
    let (loss, dx) =
        net.loss_gradients_and_input_gradient::<SoftmaxCrossEntropy>(&x, &t, &mut grads);
    let mut reference = NetGradients::zeros();
    let reference_loss = net.loss_and_gradients::<SoftmaxCrossEntropy>(&x, &t, &mut reference);
    assert_eq!(loss, reference_loss);
    assert_eq!(
        grads, reference,
        "the parameters' gradients are the usual ones"
    );
    let h = 1e-6;
    for i in 0..3 {
        for j in 0..4 {
            let (mut up, mut down) = (x, x);
            up[(i, j)] += h;
            down[(i, j)] -= h;
            let numeric = (net.loss::<SoftmaxCrossEntropy>(&up, &t)
                - net.loss::<SoftmaxCrossEntropy>(&down, &t))
                / (2.0 * h);
            assert!(
                (dx[(i, j)] - numeric).abs() < 1e-8,
                "dC/dx[{i}, {j}]: {} against {numeric}",
                dx[(i, j)]
            );
        }
    }
}

#[test]
fn sample_losses_average_to_the_batch_loss() {
    let net = Net::<f64>::random(3);
    let (x, t) = batch();
    let losses = net.sample_losses::<SoftmaxCrossEntropy>(&x, &t);
    let mean = losses.iter().sum::<f64>() / 4.0;
    assert!((mean - net.loss::<SoftmaxCrossEntropy>(&x, &t)).abs() < 1e-15);
    for (j, &loss) in losses.iter().enumerate() {
        let one =
            net.loss::<SoftmaxCrossEntropy>(&x.column(j).into_owned(), &t.column(j).into_owned());
        assert_eq!(loss, one, "sample {j}");
    }
}
