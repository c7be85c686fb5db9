use network::prelude::*;

network! {
    struct Net {
        input: 0,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
