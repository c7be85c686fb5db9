use network::prelude::*;

network! {
    struct Net {
        input: 2,
        hidden: Dense<4, Tanh>,
        final: Dense<1, Sigmoid>,
    }
}

fn main() {}
