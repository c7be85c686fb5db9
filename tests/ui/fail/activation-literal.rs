use network::prelude::*;

network! {
    struct Net {
        input: 2,
        output: Dense<1, 3>,
    }
}

fn main() {}
