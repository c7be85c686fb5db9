use network::prelude::*;

network! {
    struct Net<S> {
        input: 2,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
