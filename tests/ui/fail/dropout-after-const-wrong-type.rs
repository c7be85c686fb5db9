use network::prelude::*;

const HIDDEN: u32 = 8;

network! {
    struct Net {
        input: 2,
        hidden: Dense<HIDDEN, Tanh>,
        drop: Dropout<0.5>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
