use network::prelude::*;

network! {
    struct Small {
        input: 2,
        output: Dense<1, Sigmoid>,
    }
}

network! {
    struct Large {
        input: 2,
        hidden: Dense<8, Tanh>,
        output: Dense<1, Sigmoid>,
    }
}

// Through the trait, as a trainer or a generic training loop calls it.
fn update<O: Optimizer<f32, LargeGradients>>(optimizer: &mut O, net: &mut Small, grads: &LargeGradients) {
    let _ = optimizer.step(net, grads);
}

fn main() {
    let mut net = Small::random(0);
    let grads = LargeGradients::zeros();
    update(&mut Adam::new(AdamConfig::adam(0.01)).unwrap(), &mut net, &grads);
}
