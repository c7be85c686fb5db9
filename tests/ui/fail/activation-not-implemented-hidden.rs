use network::prelude::*;

struct NotAnActivation;

network! {
    struct Net {
        input: 2,
        hidden: Dense<4, NotAnActivation>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
