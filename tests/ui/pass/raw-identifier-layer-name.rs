//! A layer named with a raw identifier (`r#final`), as the error for a
//! keyword suggests: it declares, trains and is reachable as `net.r#final`.
use network::prelude::*;

network! {
    struct Net {
        input: 2,
        hidden: Dense<4, Tanh>,
        r#final: Dense<1, Sigmoid>,
    }
}

fn main() {
    let net = Net::<f32>::random(0);
    let _ = net.r#final.b;
    assert_eq!(Net::<f32>::PARAMETERS, 2 * 4 + 4 + 4 + 1);
    let y = net.forward(&[1.0, 2.0]);
    assert!(y[0] > 0.0 && y[0] < 1.0);
}
