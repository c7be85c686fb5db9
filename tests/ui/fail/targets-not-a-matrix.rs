// Targets in a `Vec`, whose length is not in its type: the error names the
// type given and what to pass instead.
use network::prelude::*;

network! {
    struct Net {
        input: 2,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {
    let net = Net::random(0);
    let t = vec![1.0f32];
    let _ = net.loss::<HalfSquaredError>(&[1.0, 0.0], &t);
}
