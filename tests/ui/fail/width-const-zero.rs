use network::prelude::*;

const HIDDEN: usize = 0;

network! {
    struct Net {
        input: 2,
        hidden: Dense<HIDDEN, Tanh>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {
    let net = Net::random(0);
    let _ = net.forward(&[1.0, 2.0]);
}
