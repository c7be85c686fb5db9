use network::prelude::*;

network! {
    struct Net {
        input: 2,
        hidden: Dense<4, Tanh>,
        output: Dense<1, Sigmoid>,
    }
}

fn main() {
    let mut net = Net::zeroed();
    net.hidden.w = SMatrix::<f32, 2, 4>::zeros();
}
