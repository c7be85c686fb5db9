//! Convolution sizes from const items: the output shapes are const
//! expressions, checked by rustc, and the network trains like any other.
use network::prelude::*;

const CHANNELS: usize = 3;
const KERNEL: usize = 3;

network! {
    struct Net {
        input: [1, 8, 8],
        conv1: Conv2d<CHANNELS, KERNEL, Relu, padding = { KERNEL / 2 }>,
        pool1: MaxPool2d<2>,
        conv2: Conv2d<2, 2, Tanh, stride = 2>,
        output: Dense<2, Softmax>,
    }
}

fn main() {
    // 1 x 8 x 8 -> 3 x 8 x 8 -> 3 x 4 x 4 -> 2 x 2 x 2 -> 2.
    assert_eq!(Net::<f32>::PARAMETERS, (9 + 1) * 3 + (3 * 4 + 1) * 2 + (8 + 1) * 2);
    let net = Net::<f32>::random(1);
    let y = net.forward(&[0.5f32; 64]);
    assert!((y.sum() - 1.0).abs() < 1e-5);
}
