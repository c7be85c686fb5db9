use network::prelude::*;

network! {
    struct Net {
        input: 2.5,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
