use network::prelude::*;

network! {
    struct Late {
        input: 3,
        hidden: Dense<4, Tanh>,
        scale: Standardize,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
