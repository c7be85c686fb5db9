use network::prelude::*;

const INPUTS: u64 = 2;

network! {
    struct Net {
        input: INPUTS,
        hidden: Dense<4, Tanh>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
