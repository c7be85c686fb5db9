use network::prelude::*;

const CHANNELS: i32 = 2;

network! {
    struct Net {
        input: [1, 8, 8],
        conv: Conv2d<CHANNELS, 3, Relu>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
