use network::prelude::*;

network! {
    struct Net<const H: usize> {
        input: 2,
        hidden: Dense<H, Tanh>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {
    let net = Net::<0>::random(0);
    let _ = net.forward(&[1.0, 2.0]);
}
