//! Seeded synthetic data: inputs in `[0, 1)` and one-hot targets.

use network::Rng;

/// `B` samples of `N` inputs, uniform in `[0, 1)`, sample-major (the layout of
/// a column-major `SMatrix<f32, N, B>` and of a row-major `[B, N]` tensor).
pub fn inputs<const N: usize, const B: usize>(seed: u64) -> Box<[[f32; N]; B]> {
    let mut rng = Rng::new(seed);
    let mut x = zeroed::<N, B>();
    for sample in x.iter_mut() {
        for v in sample.iter_mut() {
            *v = rng.uniform(0.0, 1.0);
        }
    }
    x
}

/// `B` one-hot targets over `N` classes.
pub fn one_hot<const N: usize, const B: usize>(seed: u64) -> Box<[[f32; N]; B]> {
    let mut rng = Rng::new(seed);
    let mut t = zeroed::<N, B>();
    for sample in t.iter_mut() {
        let class = (rng.next_u64() % N as u64) as usize;
        sample[class] = 1.0;
    }
    t
}

/// A heap-allocated `[[0.0; N]; B]`, never built on the stack.
pub fn zeroed<const N: usize, const B: usize>() -> Box<[[f32; N]; B]> {
    let rows: Box<[[f32; N]]> = vec![[0.0; N]; B].into_boxed_slice();
    match rows.try_into() {
        Ok(array) => array,
        Err(_) => unreachable!("a vec of B rows converts to [_; B]"),
    }
}
