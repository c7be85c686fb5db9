use network::prelude::*;

network! {
    #[network(krate = ::network)]
    struct Net {
        input: 2,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {}
