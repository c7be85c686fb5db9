use network::prelude::*;

/// An alias hides the name, not the type: still refused before the last layer.
type Normalise = Softmax;

network! {
    struct Net {
        input: 2,
        hidden: Dense<4, Normalise>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
