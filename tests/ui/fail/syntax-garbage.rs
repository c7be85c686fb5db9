use network::prelude::*;

network! {
    layers go here
}

fn main() {}
