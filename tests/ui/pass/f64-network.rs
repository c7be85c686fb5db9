use network::prelude::*;

network! {
    struct Net {
        input: 2,
        output: Dense<1, Identity>,
    }
}

fn main() {
    let mut net = Net::<f64>::zeroed();
    net.output.w = SMatrix::<f64, 1, 2>::new(2.0, -1.0);
    net.output.b = SVector::<f64, 1>::new(0.5);
    let y: SVector<f64, 1> = net.forward(&[3.0, 1.0]);
    assert_eq!(y[0], 5.5);
}
