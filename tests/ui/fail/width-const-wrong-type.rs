use network::prelude::*;

const HIDDEN: u32 = 4;

network! {
    struct Net {
        input: 2,
        hidden: Dense<HIDDEN, Tanh>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
