use network::prelude::*;

network! {
    struct Scaled {
        input: 3,
        scale: MinMax<0, 1>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
