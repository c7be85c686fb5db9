//! A 784-256-128-64-10 classifier: one SGD step on a batch of 32, then
//! inference. Timed by `benches/compile-time/run.sh`.

use dfdx::optim::Sgd;
use dfdx::prelude::*;

type Mlp = (
    (Linear<784, 256>, ReLU),
    (Linear<256, 128>, ReLU),
    (Linear<128, 64>, ReLU),
    Linear<64, 10>,
);

fn main() {
    let dev = Cpu::seed_from_u64(1);
    let mut model = dev.build_module::<Mlp, f32>();
    let grads = model.alloc_grads();
    let mut opt = Sgd::new(
        &model,
        SgdConfig {
            lr: 0.1,
            momentum: None,
            weight_decay: None,
        },
    );
    let x: Tensor<Rank2<32, 784>, f32, _> = dev.sample_uniform();
    let t: Tensor<Rank2<32, 10>, f32, _> = dev.tensor(core::array::from_fn(|r| {
        core::array::from_fn(|c| if c == r % 10 { 1.0 } else { 0.0 })
    }));
    let logits = model.forward_mut(x.trace(grads));
    let loss = cross_entropy_with_logits_loss(logits, t);
    let value = loss.array();
    let grads = loss.backward();
    match opt.update(&mut model, &grads) {
        Ok(()) => println!(
            "loss {value}, first output {:?}",
            model.forward(x).softmax::<Axis<1>>().as_vec()[..10].to_vec()
        ),
        Err(error) => eprintln!("{error:?}"),
    }
}
