//! Every optimizer's `step` is an inherent method, called as `Sgd`'s is:
//! `optimizer.step(&mut net, &grads)`, without the `Optimizer` trait in
//! scope (this file does not import it; `Supervised`, for the loss, it must).

use network::nalgebra::SMatrix;
use network::{
    Adam, AdamConfig, Gradients, HalfSquaredError, IRpropConfig, IRpropMinus, Identity, Momentum,
    MomentumConfig, RmsProp, RmsPropConfig, Sgd, Supervised, network,
};

network! {
    #[derive(Clone, Debug, PartialEq)]
    struct Line { input: 1, output: Dense<1, Identity> }
}

#[test]
fn every_optimizer_steps_without_the_trait() {
    let x = SMatrix::<f32, 1, 2>::new(1.0, -1.0);
    let t = SMatrix::<f32, 1, 2>::new(2.0, 0.0);
    let mut net = Line::<f32>::random(1);
    let mut grads = LineGradients::zeros();
    net.loss_and_gradients::<HalfSquaredError>(&x, &t, &mut grads);
    let before = net.clone();
    Sgd::new(0.1).unwrap().step(&mut net, &grads).unwrap();
    let mut adam = Adam::<f32, LineGradients<f32>>::new(AdamConfig::adam(0.1)).unwrap();
    adam.step(&mut net, &grads).unwrap();
    let mut momentum =
        Momentum::<f32, LineGradients<f32>>::new(MomentumConfig::new(0.1, 0.9)).unwrap();
    momentum.step(&mut net, &grads).unwrap();
    let mut rmsprop = RmsProp::<f32, LineGradients<f32>>::new(RmsPropConfig::new(0.1)).unwrap();
    rmsprop.step(&mut net, &grads).unwrap();
    let mut rprop = IRpropMinus::<f32, LineGradients<f32>>::new(IRpropConfig::new()).unwrap();
    rprop.step(&mut net, &grads).unwrap();
    assert_ne!(net, before);
}
