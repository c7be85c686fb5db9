use network::prelude::*;

network! {
    struct Net {
        input: 2,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {
    let net = Net::random(0);
    let x = SVector::<f32, 3>::new(1.0, 2.0, 3.0);
    let _ = net.forward(&x);
}
