//! A user's const item named `T` (the generated code's scalar parameter) or
//! `BATCH` (its batch-size parameter) sizes a layer, and an activation
//! named `T` is written `self::T`, as the error for a bare `T` suggests.
use network::prelude::*;

const T: usize = 4;
const BATCH: usize = 3;
type T = Tanh;

network! {
    struct Net {
        input: 2,
        hidden: Dense<T, Tanh>,
        second: Dense<{ BATCH + 1 }, self::T>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {
    assert_eq!(Net::<f32>::PARAMETERS, (2 * 4 + 4) + (4 * 4 + 4) + (4 + 1));
    let net = Net::<f32>::random(0);
    let _ = net.loss::<HalfSquaredError>(
        &SMatrix::<f32, 2, 3>::zeros(),
        &SMatrix::<f32, 1, 3>::zeros(),
    );
}
