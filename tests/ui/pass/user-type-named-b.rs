//! Types whose names the generated code also uses for its own parameters
//! (`B` was once the batch size, and broke every network in its module).
use network::prelude::*;

#[allow(dead_code)]
struct B;
#[allow(dead_code)]
struct X;
#[allow(dead_code)]
struct L;

network! {
    struct Xor {
        input: 2,
        hidden: Dense<4, Tanh>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {
    let xor = Xor::<f32>::random(1);
    let mut grads = XorGradients::zeros();
    let x = SMatrix::<f32, 2, 4>::from_column_slice(&[0., 0., 0., 1., 1., 0., 1., 1.]);
    let t = SMatrix::<f32, 1, 4>::from_column_slice(&[0., 1., 1., 0.]);
    let loss = xor.loss_and_gradients::<HalfSquaredError>(&x, &t, &mut grads);
    assert!(loss.is_finite());
}
