use network::prelude::*;

network! {
    struct Net<const H: usize> where [(); H]: Sized {
        input: 2,
        output: Dense<H, Sigmoid>,
    }
}

fn main() {}
