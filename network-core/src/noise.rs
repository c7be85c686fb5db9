//! The randomness of a training pass: what [`Dropout`](crate::layers::Dropout)
//! draws its masks from.
//!
//! A pass is given one key; layer `l` uses the key mixed with `l`, and the
//! value at flat index `i` of its batch is the `i`-th output of a SplitMix64
//! stream started at that key. So the mask of a pass is a pure function of
//! its key: the backward pass regenerates it from the key kept in the cache
//! (16 bytes, not a mask as large as the layer's output), and the same key
//! gives the same masks on every machine.

use crate::Rng;

/// The random key of one forward pass, or none (inference, and any layer
/// that is deterministic).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Noise {
    key: Option<u64>,
}

impl Noise {
    /// No randomness: every layer computes as at inference (dropout keeps
    /// every value, unscaled).
    pub const OFF: Noise = Noise { key: None };

    /// A training pass whose masks are fixed by `key`.
    pub const fn seeded(key: u64) -> Self {
        Noise { key: Some(key) }
    }

    /// A training pass keyed by the next value of `rng`.
    pub fn draw(rng: &mut Rng) -> Self {
        Noise::seeded(rng.next_u64())
    }

    /// Whether this is a training pass (a key is set).
    pub const fn is_on(self) -> bool {
        self.key.is_some()
    }

    /// The key of layer `l` within this pass (or still none), so that two
    /// layers of the same width do not draw the same mask.
    pub const fn for_layer(self, l: usize) -> Self {
        match self.key {
            Some(key) => Noise::seeded(mix(key ^ (l as u64).wrapping_mul(GOLDEN))),
            None => Noise::OFF,
        }
    }

    /// 24 uniform random bits for flat index `i` (a value in `0..2^24`),
    /// or `None` without a key.
    pub const fn bits24(self, i: usize) -> Option<u32> {
        match self.key {
            Some(key) => {
                let state = key.wrapping_add((i as u64).wrapping_add(1).wrapping_mul(GOLDEN));
                Some((mix(state) >> 40) as u32)
            }
            None => None,
        }
    }
}

/// SplitMix64's increment (the golden ratio in 64 bits).
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function (the same as [`Rng::next_u64`]'s).
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_zero_is_the_first_value_of_a_splitmix_stream_at_the_key() {
        let key = 0x1234_5678;
        let mut rng = Rng::new(key);
        let expected = (rng.next_u64() >> 40) as u32;
        assert_eq!(Noise::seeded(key).bits24(0), Some(expected));
        let second = (rng.next_u64() >> 40) as u32;
        assert_eq!(Noise::seeded(key).bits24(1), Some(second));
    }

    #[test]
    fn off_stays_off_and_layers_get_different_keys() {
        assert_eq!(Noise::OFF.for_layer(3), Noise::OFF);
        assert_eq!(Noise::OFF.bits24(0), None);
        let pass = Noise::seeded(9);
        assert_ne!(pass.for_layer(1), pass.for_layer(2));
        assert_ne!(pass.for_layer(1).bits24(0), pass.for_layer(2).bits24(0));
    }

    #[test]
    fn bits_are_uniform() {
        // The mean of 2^16 draws of U(0, 2^24) is within 1% of 2^23.
        let noise = Noise::seeded(5).for_layer(1);
        let n = 1 << 16;
        let sum: f64 = (0..n).map(|i| f64::from(noise.bits24(i).unwrap())).sum();
        let mean = sum / n as f64 / f64::from(1u32 << 24);
        assert!((mean - 0.5).abs() < 0.005, "mean {mean}");
    }
}
