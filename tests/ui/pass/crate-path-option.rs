mod renamed {
    pub use network::*;
}

use network::prelude::*;

network! {
    #[network(crate = crate::renamed)]
    struct Net {
        input: 2,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {
    let net = Net::random(0);
    let _ = net.forward(&[0.0, 1.0]);
}
