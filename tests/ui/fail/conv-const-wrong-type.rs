use network::prelude::*;

const KERNEL: u32 = 3;

network! {
    struct Net {
        input: [1, 8],
        conv: Conv1d<2, KERNEL, Relu>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
