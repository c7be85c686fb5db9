use network::prelude::*;

network! {
    struct Net {
        input: [1, 8, 8],
        conv1: Conv2d<4, 3, Relu, strides = 2>,
        output: Dense<2, Softmax>,
    }
}

fn main() {}
