use network::prelude::*;

network! {
    struct Net {
        input: [1, 8, 8],
        conv1: Conv2d<4, 5, Relu>,
        pool1: MaxPool2d<2>,
        conv2: Conv2d<4, 5, Relu>,
        output: Dense<2, Softmax>,
    }
}

fn main() {}
