use network::prelude::*;

const WINDOW: u8 = 2;

network! {
    struct Net {
        input: [1, 8, 8],
        pool: MaxPool2d<WINDOW>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
