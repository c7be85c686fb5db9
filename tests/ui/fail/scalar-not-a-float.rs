use network::prelude::*;

network! {
    struct Net {
        input: 2,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {
    let net = Net::<i32>::random(0);
    let _ = net.forward(&[1, 2]);
}
