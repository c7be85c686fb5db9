use network::prelude::*;

const INPUTS: u32 = 2;

network! {
    struct Net {
        input: INPUTS,
        scale: Standardize,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
