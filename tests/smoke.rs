use network::prelude::*;

const WIDTH: usize = 3;

network! {
    pub struct Generic<const H: usize> {
        input: 2,
        hidden: Dense<H, Relu>,
        mid: Dense<WIDTH, Softplus>,
        output: Dense<{ WIDTH + 1 }, Softmax>,
    }
}

#[test]
fn generic_network_gradients() {
    let mut net = Generic::<5, f64>::random(3);
    let x = SMatrix::<f64, 2, 3>::new(0.1, -0.2, 0.3, 0.5, 0.7, -0.9);
    let t = SMatrix::<f64, 4, 3>::new(1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0);
    let report =
        network::check_gradients::<_, _, SoftmaxCrossEntropy, 2, 4, 3>(&mut net, &x, &t, 1e-6);
    assert!(report.max_error() < 1e-6, "{report:?}");
    let y = net.forward(&[0.5, 0.5]);
    assert!((y.sum() - 1.0).abs() < 1e-12);
    assert_eq!(Generic::<5>::PARAMETERS, 5 * 2 + 5 + 3 * 5 + 3 + 4 * 3 + 4);
    assert_eq!(
        core::mem::size_of::<Generic<5>>(),
        Generic::<5>::PARAMETERS * 4
    );
}
