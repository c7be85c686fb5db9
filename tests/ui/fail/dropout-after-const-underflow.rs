use network::prelude::*;

const BASE: usize = 4;

network! {
    struct Net {
        input: 2,
        hidden: Dense<{ BASE - 8 }, Tanh>,
        drop: Dropout<0.5>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
