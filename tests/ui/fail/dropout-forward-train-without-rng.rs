use network::prelude::*;

network! {
    struct Net {
        input: 4,
        hidden: Dense<8, Relu>,
        drop: Dropout<0.5>,
        output: Dense<2, Softmax>,
    }
}

fn main() {
    let net = Net::<f32>::random(1);
    // A dropout network's training pass needs a random stream:
    // `forward_train_with(&x, &mut rng)`.
    let _cache = net.forward_train(&[1.0, 2.0, 3.0, 4.0]);
}
