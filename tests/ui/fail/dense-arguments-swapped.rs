use network::prelude::*;

network! {
    struct Net {
        input: 2,
        hidden: Dense<Tanh, 4>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
