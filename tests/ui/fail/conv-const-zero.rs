use network::prelude::*;

const CHANNELS: usize = 0;

network! {
    struct Net {
        input: [1, 8],
        conv: Conv1d<CHANNELS, 3, Relu>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {
    let net = Net::random(0);
    let _ = net.forward(&[0.0; 8]);
}
