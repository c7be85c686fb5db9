use network::prelude::*;

network! {
    struct Encoder<const H: usize> {
        input: 4,
        output: Dense<H, Tanh>,
    }
}

network! {
    struct Decoder {
        input: 2,
        output: Dense<4, Identity>,
    }
}

fn main() {
    let encoder = Encoder::<3>::random(0);
    let decoder = Decoder::random(1);
    let code = encoder.forward(&[1.0, 2.0, 3.0, 4.0]);
    let _ = decoder.forward(&code);
}
