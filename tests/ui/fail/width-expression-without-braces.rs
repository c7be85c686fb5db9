use network::prelude::*;

network! {
    struct Net {
        input: 2,
        hidden: Dense<2 * 8, Tanh>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
