use network::prelude::*;

network! {
    struct Net {
        input: 2,
        output: Dense<3, Sigmoid>,
    }
}

fn main() {
    let net = Net::random(0);
    let _ = net.loss::<SoftmaxCrossEntropy>(&[0.0, 1.0], &[1.0, 0.0, 0.0]);
}
