use network::prelude::*;

network! {
    struct Net {
        input: 2,
        hidden: Dense<4, Softmax>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
