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

fn main() {
    let mut net = Small::random(0);
    let grads = LargeGradients::zeros();
    let mut optimizer = Sgd::new(0.1).unwrap();
    let _ = optimizer.step(&mut net, &grads);
}
