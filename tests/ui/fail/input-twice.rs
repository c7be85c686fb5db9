use network::prelude::*;

network! {
    struct Net {
        input: 2,
        hidden: Dense<4, Tanh>,
        input: 3,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
