#![deny(missing_docs)]
//! Docs, attributes, derives and visibility on the network and its layers.

use network::prelude::*;

network! {
    /// Learns XOR.
    #[derive(Clone, Debug, PartialEq)]
    #[allow(dead_code)]
    pub struct Xor {
        input: 2,
        /// The hidden layer.
        hidden: Dense<4, Tanh>,
        /// The output layer.
        pub(crate) output: Dense<1, Sigmoid>,
    }
}

fn main() {
    let net: Xor = Xor::random(7);
    let copy = net.clone();
    assert_eq!(net, copy);
    let _ = format!("{net:?}");
    let _ = &net.output.w;
}
