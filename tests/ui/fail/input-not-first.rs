use network::prelude::*;

network! {
    struct Net {
        hidden: Dense<4, Tanh>,
        input: 2,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
