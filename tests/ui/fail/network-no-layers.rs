use network::prelude::*;

network! {
    struct Net {
        input: 2,
    }
}

fn main() {}
