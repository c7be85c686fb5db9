use network::prelude::*;

network! {
    struct Net {
        input: 2,
        hidden: Dense<4, LeakyRelu<0.1>>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
