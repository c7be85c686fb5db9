use network::prelude::*;

mod my {
    pub mod activations {
        use network::{ElementWise, Scalar};

        /// `f(z) = z^2`.
        pub struct Square;

        impl ElementWise for Square {
            const NAME: &'static str = "square";
            fn value<T: Scalar>(z: T) -> T {
                z * z
            }
            fn derivative<T: Scalar>(z: T, _a: T) -> T {
                z + z
            }
        }
    }
}

network! {
    struct Net {
        input: 1,
        output: Dense<1, my::activations::Square>,
    }
}

fn main() {
    let mut net = Net::zeroed();
    net.output.w = SMatrix::<f32, 1, 1>::new(1.0);
    assert_eq!(net.forward(&[3.0])[0], 9.0);
}
