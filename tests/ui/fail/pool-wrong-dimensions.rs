use network::prelude::*;

network! {
    struct Net {
        input: [6, 100],
        pool1: MaxPool2d<2>,
        output: Dense<2, Softmax>,
    }
}

fn main() {}
