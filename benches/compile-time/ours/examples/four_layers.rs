//! A 784-256-128-64-10 classifier: one SGD step on a batch of 32, then
//! inference. Timed by `benches/compile-time/run.sh`.

use network::prelude::*;

network! {
    /// Four dense layers.
    pub struct Mlp {
        input: 784,
        first: Dense<256, Relu>,
        second: Dense<128, Relu>,
        third: Dense<64, Relu>,
        output: Dense<10, Softmax>,
    }
}

fn main() {
    let mut net: Box<Mlp> = Box::new(Mlp::random(1));
    let mut grads: Box<MlpGradients> = Box::new(MlpGradients::zeros());
    let mut rng = Rng::new(2);
    let x: Box<SMatrix<f32, 784, 32>> = Box::new(SMatrix::from_fn(|_, _| rng.uniform(0.0, 1.0)));
    let t: SMatrix<f32, 10, 32> = SMatrix::from_fn(|r, c| if r == c % 10 { 1.0 } else { 0.0 });
    let loss = net.loss_and_gradients::<SoftmaxCrossEntropy>(&*x, &t, &mut grads);
    match Sgd::new(0.1).unwrap().step(&mut *net, &*grads) {
        Ok(()) => {
            let output: Vec<f32> = net.forward(&*x).column(0).iter().copied().collect();
            println!("loss {loss}, first output {output:?}");
        }
        Err(error) => eprintln!("{error}"),
    }
}
