use network::prelude::*;

network! {
    struct Net<'a> {
        input: 2,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
