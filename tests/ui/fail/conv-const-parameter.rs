use network::prelude::*;

network! {
    struct Net<const C: usize> {
        input: [C, 8, 8],
        conv1: Conv2d<4, 3, Relu>,
        output: Dense<2, Softmax>,
    }
}

fn main() {}
