use network::prelude::*;

const RATE: f64 = 0.5;

network! {
    struct Net {
        input: 2,
        hidden: Dense<8, Tanh>,
        drop: Dropout<RATE>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
