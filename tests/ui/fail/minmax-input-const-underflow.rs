use network::prelude::*;

const BASE: usize = 4;

network! {
    struct Net {
        input: { BASE - 8 },
        scale: MinMax,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
