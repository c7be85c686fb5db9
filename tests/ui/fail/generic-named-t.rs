use network::prelude::*;

network! {
    struct Net<const T: usize> {
        input: 2,
        output: Dense<T, Sigmoid>,
    }
}

fn main() {}
