use network::prelude::*;

network! {
    struct Net {
        input: 64,
        conv1: Conv2d<4, 3, Relu>,
        output: Dense<2, Softmax>,
    }
}

fn main() {}
