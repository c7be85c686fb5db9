use network::prelude::*;

const WINDOW: usize = 2;

network! {
    struct Net {
        input: [1, 8],
        pool: AvgPool1d<{ WINDOW - 3 }>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
