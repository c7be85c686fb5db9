#![doc = include_str!("../README.md")]
#![no_std]
#![warn(missing_docs)]

pub use network_core::*;
pub use network_macros::network;

/// Everything a typical user needs: `use network::prelude::*;`.
pub mod prelude {
    pub use network_core::dataset::{shuffled_split, stratified_split};
    pub use network_core::metrics::ConfusionMatrix;
    pub use network_core::nalgebra::{SMatrix, SVector};
    #[cfg(feature = "std")]
    pub use network_core::train::Progress;
    pub use network_core::{
        Activation, Cache, Dense, ElementWise, Gelu, GeluTanh, Gradients, HalfSquaredError,
        Identity, LeakyRelu, Loss, MeanSquaredError, Mish, Network, Parameters, Relu, Rng, Scalar,
        Sgd, Sigmoid, SigmoidCrossEntropy, Silu, Softmax, SoftmaxCrossEntropy, Softplus,
        Supervised, Swish, Tanh,
    };
    pub use network_core::{
        Adam, AdamConfig, Control, DampedOutcome, DampingConfig, Dataset, EpochStats, IRpropConfig,
        IRpropMinus, InitScheme, LevenbergMarquardt, Momentum, MomentumConfig, NaturalGradient,
        Optimizer, RmsProp, RmsPropConfig, Schedule, StatisticsError, TrainConfig, Trainer,
        Zeroable,
    };
    pub use network_macros::network;
}
