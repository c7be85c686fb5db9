use network::prelude::*;

// One mistake in the declaration: only it is reported, not every use of
// `Net`, `NetGradients` and `NetCache` below.
network! {
    struct Net<const H: usize> {
        input: 2,
        hidden: Dense<H, Tanh>,
        output: Dense<1, Sigmoid>,
        extra: Conv<4, Tanh>,
    }
}

fn train(net: &mut Net<4>, grads: &mut NetGradients<4>) -> f32 {
    let x = SMatrix::<f32, 2, 4>::zeros();
    let t = SMatrix::<f32, 1, 4>::zeros();
    let cache: NetCache<4, f32, 4> = net.forward_train(&x);
    let _ = cache.a1;
    let mut sgd = Sgd::new(SgdConfig::new(0.1)).unwrap();
    let loss = net.loss_and_gradients::<HalfSquaredError>(&x, &t, grads);
    sgd.step(net, grads).unwrap();
    loss
}

fn main() {
    let mut net = Net::<4>::random(0);
    let mut grads = NetGradients::<4>::zeros();
    let _ = train(&mut net, &mut grads);
    let _ = Net::<4>::PARAMETERS;
}
