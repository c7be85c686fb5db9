use network::prelude::*;

const KERNEL: usize = 9;

network! {
    struct Net {
        input: [1, 8, 8],
        conv1: Conv2d<4, KERNEL, Relu>,
        output: Dense<2, Softmax>,
    }
}

fn main() {}
