use network::prelude::*;

network! {
    /// Learns XOR.
    #[derive(Clone, Debug)]
    pub struct Xor {
        input: 2,
        hidden: Dense<4, Tanh>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {
    let mut net = Xor::random(1);
    let x = SMatrix::<f32, 2, 4>::from_columns(&[
        SVector::from([0.0, 0.0]),
        SVector::from([0.0, 1.0]),
        SVector::from([1.0, 0.0]),
        SVector::from([1.0, 1.0]),
    ]);
    let t = SMatrix::<f32, 1, 4>::new(0.0, 1.0, 1.0, 0.0);
    let mut grads = XorGradients::zeros();
    let sgd = Sgd::new(0.5f32);
    for epoch in 0..2000 {
        let loss = net.loss_and_gradients::<HalfSquaredError, 4, _, _>(&x, &t, &mut grads);
        sgd.step(&mut net, &grads).unwrap();
        if epoch % 200 == 0 {
            println!("epoch {epoch}: loss {loss}");
        }
    }
    println!("{}", net.forward(&x));
}
