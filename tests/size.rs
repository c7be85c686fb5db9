//! No hidden overhead: a network is exactly its parameters, its gradients
//! are the same size, and a training cache is exactly every layer's `z` and
//! `a`. `cargo test --test size -- --nocapture` prints the footprint table.

use std::mem::size_of;

use network::prelude::*;
use network::{AdamState, DenseGradients};

network! {
    #[derive(Clone, Copy, Debug)]
    struct Xor {
        input: 2,
        hidden: Dense<4, Tanh>,
        output: Dense<1, Sigmoid>,
    }
}

network! {
    /// The thermistor calibration of examples/cortex-m4.
    #[derive(Clone, Copy, Debug)]
    struct Calibration {
        input: 1,
        hidden: Dense<16, Tanh>,
        output: Dense<1, Identity>,
    }
}

network! {
    /// A keyword spotter's head: 40 features, two hidden layers, 10 classes.
    struct Keywords {
        input: 40,
        first: Dense<32, Relu>,
        second: Dense<16, Relu>,
        output: Dense<10, Softmax>,
    }
}

network! {
    /// An MNIST classifier.
    struct Mnist {
        input: 784,
        hidden: Dense<128, Relu>,
        output: Dense<10, Softmax>,
    }
}

network! {
    /// Odd widths, so that any padding would show.
    struct Odd<const H: usize> {
        input: 3,
        first: Dense<H, Gelu>,
        second: Dense<5, Tanh>,
        output: Dense<1, Sigmoid>,
    }
}

/// One row of the footprint table, with every size checked against its
/// formula.
struct Row {
    name: &'static str,
    widths: &'static [usize],
}

impl Row {
    fn parameters(&self) -> usize {
        self.widths.windows(2).map(|w| w[1] * w[0] + w[1]).sum()
    }

    /// Units in all layers: the cache holds a `z` and an `a` for each.
    fn units(&self) -> usize {
        self.widths[1..].iter().sum()
    }

    fn check<T: Scalar, N, G, C1, C32>(&self, parameters: usize) {
        let scalar = size_of::<T>();
        assert_eq!(parameters, self.parameters(), "{}: PARAMETERS", self.name);
        assert_eq!(
            size_of::<N>(),
            parameters * scalar,
            "{}<{}>: network",
            self.name,
            T::NAME
        );
        assert_eq!(
            size_of::<G>(),
            parameters * scalar,
            "{}: gradients",
            self.name
        );
        assert_eq!(
            size_of::<C1>(),
            2 * self.units() * scalar,
            "{}: cache B = 1",
            self.name
        );
        assert_eq!(
            size_of::<C32>(),
            2 * self.units() * 32 * scalar,
            "{}: cache B = 32",
            self.name
        );
        let sgd = size_of::<Sgd<T>>();
        // Adam: two moments per parameter and a `u64` step counter.
        let adam_state = size_of::<AdamState<G>>();
        assert_eq!(
            adam_state,
            2 * parameters * scalar + 8,
            "{}: Adam state",
            self.name
        );
        assert_eq!(
            size_of::<Adam<T, G>>(),
            adam_state + size_of::<AdamConfig<T>>().next_multiple_of(8),
            "{}: Adam",
            self.name
        );
        println!(
            "| {:<24} | {:>3} | {:>10} | {:>10} | {:>10} | {:>11} | {:>11} | {:>10} | {:>10} |",
            format!("{} ({})", self.name, self.arch()),
            T::NAME,
            parameters,
            size_of::<N>(),
            size_of::<G>(),
            size_of::<C1>(),
            size_of::<C32>(),
            sgd,
            adam_state,
        );
        // Plain SGD keeps no per-parameter state: its size does not depend
        // on the network.
        assert!(sgd <= 4 * scalar, "Sgd<{}> is {sgd} bytes", T::NAME);
    }

    fn arch(&self) -> String {
        self.widths
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join("-")
    }
}

macro_rules! check {
    ($row:expr, $net:ident $(<$($c:literal),*>)?, $grads:ident, $cache:ident, $t:ty) => {
        $row.check::<
            $t,
            $net<$($($c,)*)? $t>,
            $grads<$($($c,)*)? $t>,
            $cache<$($($c,)*)? $t, 1>,
            $cache<$($($c,)*)? $t, 32>,
        >($net::<$($($c,)*)? $t>::PARAMETERS)
    };
}

#[test]
fn sizes_are_exactly_the_parameters() {
    let xor = Row {
        name: "Xor",
        widths: &[2, 4, 1],
    };
    let calibration = Row {
        name: "Calibration",
        widths: &[1, 16, 1],
    };
    let keywords = Row {
        name: "Keywords",
        widths: &[40, 32, 16, 10],
    };
    let mnist = Row {
        name: "Mnist",
        widths: &[784, 128, 10],
    };
    let odd = Row {
        name: "Odd<7>",
        widths: &[3, 7, 5, 1],
    };
    println!(
        "| network (widths)         | T   | parameters | network B  | gradients  | cache B=1   | cache B=32  | SGD        | Adam state |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    check!(xor, Xor, XorGradients, XorCache, f32);
    check!(xor, Xor, XorGradients, XorCache, f64);
    check!(
        calibration,
        Calibration,
        CalibrationGradients,
        CalibrationCache,
        f32
    );
    check!(
        calibration,
        Calibration,
        CalibrationGradients,
        CalibrationCache,
        f64
    );
    check!(keywords, Keywords, KeywordsGradients, KeywordsCache, f32);
    check!(keywords, Keywords, KeywordsGradients, KeywordsCache, f64);
    check!(mnist, Mnist, MnistGradients, MnistCache, f32);
    check!(mnist, Mnist, MnistGradients, MnistCache, f64);
    check!(odd, Odd<7>, OddGradients, OddCache, f32);
    check!(odd, Odd<7>, OddGradients, OddCache, f64);
}

#[test]
fn layers_are_exactly_their_parameters() {
    assert_eq!(size_of::<Dense<f32, 2, 4, Tanh>>(), (4 * 2 + 4) * 4);
    assert_eq!(
        size_of::<Dense<f64, 784, 128, Relu>>(),
        (128 * 784 + 128) * 8
    );
    assert_eq!(size_of::<DenseGradients<f32, 3, 7>>(), (7 * 3 + 7) * 4);
    // Alignment is the scalar's: a network packs into any buffer aligned for T.
    assert_eq!(std::mem::align_of::<Xor<f32>>(), 4);
    assert_eq!(std::mem::align_of::<Xor<f64>>(), 8);
}
