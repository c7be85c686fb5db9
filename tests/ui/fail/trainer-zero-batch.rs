use network::prelude::*;

fn main() {
    let _trainer = Trainer::<MeanSquaredError, 0>::new(TrainConfig::new(1));
}
