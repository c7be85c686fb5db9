use network::prelude::*;

network! {
    struct Net {
        hidden: Dense<4, Tanh>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
