//! Weight initialisation: a small seeded PRNG and the Xavier/Glorot and
//! He/Kaiming schemes, uniform and normal.
//!
//! The generator is SplitMix64 (Steele, Lea and Flood, 2014): tiny, `no_std`,
//! and the same seed gives bit-identical weights on every platform. Normal
//! samples use the Box-Muller transform.

use crate::Scalar;

/// How a layer's weights are drawn; biases always start at zero.
///
/// Each activation names the scheme that suits it in
/// [`Activation::INIT`](crate::Activation::INIT): Xavier for tanh, sigmoid,
/// identity and softmax layers, He for ReLU-like ones. The variances are
/// PyTorch's (`xavier_*_` with gain 1, `kaiming_*_` with the ReLU gain
/// `sqrt(2)`, fan-in mode); the normal schemes are not truncated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitScheme {
    /// Xavier/Glorot uniform: `U(-l, l)` with `l = sqrt(6 / (fan_in + fan_out))`.
    XavierUniform,
    /// Xavier/Glorot normal: `N(0, s^2)` with `s = sqrt(2 / (fan_in + fan_out))`.
    XavierNormal,
    /// He/Kaiming uniform: `U(-l, l)` with `l = sqrt(6 / fan_in)`.
    HeUniform,
    /// He/Kaiming normal: `N(0, s^2)` with `s = sqrt(2 / fan_in)`.
    HeNormal,
}

impl InitScheme {
    /// The standard deviation `s` of the weights of a layer with the given
    /// fans: `sqrt(2 / (fan_in + fan_out))` for Xavier, `sqrt(2 / fan_in)` for He.
    pub fn std_dev(self, fan_in: usize, fan_out: usize) -> f64 {
        let fans = match self {
            InitScheme::XavierUniform | InitScheme::XavierNormal => fan_in + fan_out,
            InitScheme::HeUniform | InitScheme::HeNormal => fan_in,
        };
        libm::sqrt(2.0 / fans.max(1) as f64)
    }

    /// The half-width `l = sqrt(3) s` of the uniform distribution with this
    /// scheme's variance (for the normal schemes too, for comparison).
    pub fn limit(self, fan_in: usize, fan_out: usize) -> f64 {
        libm::sqrt(3.0) * self.std_dev(fan_in, fan_out)
    }

    /// True for the normal schemes.
    pub fn is_normal(self) -> bool {
        matches!(self, InitScheme::XavierNormal | InitScheme::HeNormal)
    }

    /// Draws one weight for a layer with the given fans.
    pub fn sample(self, rng: &mut Rng, fan_in: usize, fan_out: usize) -> f64 {
        if self.is_normal() {
            self.std_dev(fan_in, fan_out) * rng.normal()
        } else {
            let limit = self.limit(fan_in, fan_out);
            rng.uniform(-limit, limit)
        }
    }
}

/// A seeded SplitMix64 pseudo-random generator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator whose whole output is fixed by `seed`.
    pub const fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform `f64` in `[0, 1)` with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform value in `[low, high)`.
    pub fn uniform<T: Scalar>(&mut self, low: T, high: T) -> T {
        low + (high - low) * T::constant(self.next_f64())
    }

    /// A standard normal sample `N(0, 1)` by the Box-Muller transform
    /// (`sqrt(-2 ln u1) cos(2 pi u2)`; two uniforms per sample).
    pub fn normal(&mut self) -> f64 {
        // `1 - u` lies in (0, 1], so the logarithm is finite.
        let u1 = 1.0 - self.next_f64();
        let u2 = self.next_f64();
        libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * core::f64::consts::PI * u2)
    }

    /// A uniform index in `0..n` (`0` when `n = 0`), by Lemire's
    /// multiply-shift: the bias is below `n / 2^64`.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Shuffles `items` in place (Fisher-Yates): every permutation is
    /// equally likely, and the same seed gives the same order.
    pub fn shuffle<X>(&mut self, items: &mut [X]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dense, Relu, Tanh};

    #[test]
    fn same_seed_same_stream() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn splitmix_reference_values() {
        // First outputs of SplitMix64 seeded with 0, as published with the
        // reference implementation.
        let mut r = Rng::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn uniform_stays_in_range() {
        let mut r = Rng::new(1);
        for _ in 0..10_000 {
            let x: f32 = r.uniform(-0.5, 0.25);
            assert!((-0.5..0.25).contains(&x));
            assert!(r.below(7) < 7);
        }
        assert_eq!(r.below(0), 0);
    }

    /// Mean, variance and the fraction within one standard deviation.
    fn moments(values: impl Iterator<Item = f64>, s: f64) -> (f64, f64, f64) {
        let (mut n, mut sum, mut squares, mut within) = (0.0, 0.0, 0.0, 0.0);
        for v in values {
            n += 1.0;
            sum += v;
            squares += v * v;
            if v.abs() <= s {
                within += 1.0;
            }
        }
        let mean = sum / n;
        (mean, squares / n - mean * mean, within / n)
    }

    #[test]
    fn normal_has_unit_variance() {
        let mut r = Rng::new(3);
        let (mean, var, within) = moments((0..100_000).map(|_| r.normal()), 1.0);
        // Standard errors for 1e5 samples: 0.003 (mean), 0.0045 (variance),
        // 0.0015 (fraction); the bounds are about 5 of them.
        assert!(mean.abs() < 0.015, "mean {mean}");
        assert!((var - 1.0).abs() < 0.025, "variance {var}");
        assert!(
            (within - 0.6827).abs() < 0.0075,
            "within one sigma {within}"
        );
        assert!((0..100_000).map(|_| r.normal()).all(f64::is_finite));
    }

    #[test]
    fn limits() {
        assert!((InitScheme::XavierUniform.limit(2, 4) - 1.0).abs() < 1e-12);
        assert!((InitScheme::HeUniform.limit(6, 100) - 1.0).abs() < 1e-12);
        assert!((InitScheme::XavierNormal.std_dev(3, 5) - 0.5).abs() < 1e-12);
        assert!((InitScheme::HeNormal.std_dev(8, 1) - 0.5).abs() < 1e-12);
    }

    /// A 100 x 300 layer: 30,000 weights drawn by `scheme`.
    fn check_scheme(scheme: InitScheme, seed: u64) {
        let (fan_in, fan_out) = (300, 100);
        let mut layer = Dense::<f32, 300, 100, Relu>::zeros();
        layer.b.fill(1.0);
        layer.init_with(scheme, &mut Rng::new(seed));
        assert!(layer.b.iter().all(|&b| b == 0.0), "biases start at zero");
        let s = scheme.std_dev(fan_in, fan_out);
        let (mean, var, within) = moments(layer.w.iter().map(|&w| f64::from(w)), s);
        assert!(mean.abs() < 0.03 * s, "{scheme:?}: mean {mean}");
        assert!(
            (var / (s * s) - 1.0).abs() < 0.04,
            "{scheme:?}: variance {var}"
        );
        // Within one standard deviation: 68.3% for a normal, 57.7% for a
        // uniform. Standard errors for 3e4 samples: 0.006 s (mean), under
        // 0.008 (relative variance), 0.003 (fraction); bounds are 5 of them.
        let expected = if scheme.is_normal() { 0.6827 } else { 0.5774 };
        assert!((within - expected).abs() < 0.015, "{scheme:?}: {within}");
        if !scheme.is_normal() {
            let l = scheme.limit(fan_in, fan_out) as f32;
            assert!(layer.w.iter().all(|&w| (-l..l).contains(&w)));
        }
    }

    #[test]
    fn schemes_have_their_variance() {
        for (i, scheme) in [
            InitScheme::XavierUniform,
            InitScheme::XavierNormal,
            InitScheme::HeUniform,
            InitScheme::HeNormal,
        ]
        .into_iter()
        .enumerate()
        {
            check_scheme(scheme, i as u64);
        }
    }

    #[test]
    fn default_scheme_follows_the_activation() {
        let mut relu = Dense::<f64, 50, 40, Relu>::zeros();
        let mut tanh = Dense::<f64, 50, 40, Tanh>::zeros();
        relu.init(&mut Rng::new(5));
        tanh.init(&mut Rng::new(5));
        // Same stream, so the weights differ exactly by the ratio of limits.
        let ratio = InitScheme::HeUniform.limit(50, 40) / InitScheme::XavierUniform.limit(50, 40);
        for (r, t) in relu.w.iter().zip(tanh.w.iter()) {
            assert!((r - t * ratio).abs() < 1e-12);
        }
    }

    #[test]
    fn same_seed_gives_bit_identical_weights() {
        for scheme in [InitScheme::XavierNormal, InitScheme::HeUniform] {
            let mut a = Dense::<f32, 9, 7, Tanh>::zeros();
            let mut b = Dense::<f32, 9, 7, Tanh>::zeros();
            a.init_with(scheme, &mut Rng::new(11));
            b.init_with(scheme, &mut Rng::new(11));
            let bits = |d: &Dense<f32, 9, 7, Tanh>| d.w.map(f32::to_bits);
            assert_eq!(bits(&a), bits(&b));
            let mut c = Dense::<f32, 9, 7, Tanh>::zeros();
            c.init_with(scheme, &mut Rng::new(12));
            assert_ne!(bits(&a), bits(&c));
        }
    }

    #[test]
    fn shuffle_is_a_seeded_permutation() {
        let mut a: [usize; 50] = core::array::from_fn(|i| i);
        let mut b = a;
        Rng::new(9).shuffle(&mut a);
        Rng::new(9).shuffle(&mut b);
        assert_eq!(a, b);
        assert_ne!(a, core::array::from_fn(|i| i));
        let mut sorted = a;
        sorted.sort_unstable();
        assert_eq!(sorted, core::array::from_fn::<usize, 50, _>(|i| i));
    }
}
