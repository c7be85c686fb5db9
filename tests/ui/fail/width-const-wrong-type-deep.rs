use network::prelude::*;

const MIDDLE: i64 = 8;

network! {
    struct Net {
        input: 2,
        l1: Dense<8, Relu>,
        l2: Dense<8, Relu>,
        l3: Dense<MIDDLE, Relu>,
        l4: Dense<8, Relu>,
        l5: Dense<8, Relu>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
