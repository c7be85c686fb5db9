use network::prelude::*;

const CLASSES: usize = 2;

network! {
    pub struct Net<const H: usize> {
        input: 3,
        hidden: Dense<H, Relu>,
        wider: Dense<{ CLASSES * 4 }, Tanh>,
        output: Dense<CLASSES, Softmax>,
    }
}

fn main() {
    let net = Net::<5>::random(0);
    let y: SVector<f32, CLASSES> = net.forward(&[0.1, 0.2, 0.3]);
    assert!((y.sum() - 1.0).abs() < 1e-5);
    assert_eq!(Net::<5>::PARAMETERS, 5 * 3 + 5 + 8 * 5 + 8 + 2 * 8 + 2);
}
