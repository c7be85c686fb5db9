use network::prelude::*;

network! {
    struct Net {}
}

fn main() {}
