use network::prelude::*;

network! {
    struct Net {
        input: 2,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {
    let mut net: Net = Net::random(0);
    let mut grads = NetGradients::zeros();
    let mut sgd = Sgd::new(0.1).unwrap();
    let data: [([f64; 2], [f64; 1]); 4] = [([0.0; 2], [0.0]); 4];
    let trainer = Trainer::<HalfSquaredError, 4>::new(TrainConfig::new(1)).unwrap();
    let _ = trainer.fit(&mut net, &mut sgd, &mut grads, &data[..], &mut [0; 4], |_, _| {
        Control::Continue
    });
}
