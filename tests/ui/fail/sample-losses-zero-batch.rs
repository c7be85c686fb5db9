use network::prelude::*;

network! {
    struct Net {
        input: 2,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {
    let net = Net::random(0);
    let x = SMatrix::<f32, 2, 0>::zeros();
    let t = SMatrix::<f32, 1, 0>::zeros();
    let _ = net.sample_losses::<HalfSquaredError>(&x, &t);
}
