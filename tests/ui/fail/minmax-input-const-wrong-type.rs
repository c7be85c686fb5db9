use network::prelude::*;

const INPUTS: u32 = 2;

network! {
    struct Net {
        input: INPUTS,
        scale: MinMax,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
