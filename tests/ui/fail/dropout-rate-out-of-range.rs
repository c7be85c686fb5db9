use network::prelude::*;

network! {
    struct Net {
        input: 4,
        hidden: Dense<8, Relu>,
        drop: Dropout<1.5>,
        output: Dense<2, Softmax>,
    }
}

fn main() {}
