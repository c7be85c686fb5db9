use network::prelude::*;

network! {
    struct Net {
        input: 2,
        output: Dense<"one", Sigmoid>,
    }
}

fn main() {}
