use network::prelude::*;

network! {
    struct Net {
        input: 2,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {
    let net = Net::random(0);
    let mut grads = NetGradients::zeros();
    let x = SMatrix::<f32, 2, 4>::zeros();
    let t = SMatrix::<f32, 1, 5>::zeros();
    let _ = net.loss_and_gradients::<HalfSquaredError>(&x, &t, &mut grads);
}
