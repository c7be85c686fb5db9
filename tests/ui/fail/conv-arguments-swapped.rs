use network::prelude::*;

network! {
    struct Net {
        input: [1, 16],
        conv: Conv1d<Relu, 4, 3>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
