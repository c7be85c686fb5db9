use network::prelude::*;

network! {
    struct Net<const BATCH: usize> {
        input: 2,
        output: Dense<BATCH, Sigmoid>,
    }
}

fn main() {}
