use network::prelude::*;

// A user's activation that happens to be called `T`.
type T = Tanh;

network! {
    struct Net {
        input: 2,
        hidden: Dense<4, T>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
