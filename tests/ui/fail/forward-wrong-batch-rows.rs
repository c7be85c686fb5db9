use network::prelude::*;

network! {
    struct Net {
        input: 2,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {
    let net = Net::random(0);
    let batch = SMatrix::<f32, 3, 8>::zeros();
    let _ = net.forward(&batch);
}
