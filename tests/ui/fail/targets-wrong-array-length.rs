// One sample's targets as an array of the wrong length: the error is on the
// targets and names both sizes.
use network::prelude::*;

network! {
    struct Net {
        input: 2,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {
    let net = Net::random(0);
    let _ = net.loss::<HalfSquaredError>(&[1.0, 0.0], &[1.0, 0.0]);
}
