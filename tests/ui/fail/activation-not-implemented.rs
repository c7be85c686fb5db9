use network::prelude::*;

struct NotAnActivation;

network! {
    struct Net {
        input: 2,
        output: Dense<1, NotAnActivation>,
    }
}

fn main() {}
