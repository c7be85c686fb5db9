use network::prelude::*;

network! {
    struct Net<const H: u32> {
        input: 2,
        output: Dense<H, Sigmoid>,
    }
}

fn main() {}
