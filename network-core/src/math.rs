//! Branch-free `f32` exponential and hyperbolic tangent, the bodies of
//! [`Scalar::fast_exp`](crate::Scalar::fast_exp) and
//! [`Scalar::fast_tanh`](crate::Scalar::fast_tanh) for `f32`.
//!
//! The platform's `expf`/`tanhf` (or the `libm` crate's in `no_std`) are
//! opaque calls, one element at a time. These are plain arithmetic with no
//! data-dependent branch, so a loop over a slice inlines them and LLVM
//! vectorises it (8 lanes with AVX2). Both stay within 2 ulp of the exact
//! result; `network-core/tests/math.rs` measures them against `f64`.
#![allow(
    clippy::excessive_precision,
    reason = "coefficients as published in Cephes (expf.c, tanhf.c), and ln 2's \
              parts exactly, so they can be checked; rustc rounds them to f32"
)]

/// `1.5 * 2^23`: adding it to an `f32` of magnitude below `2^22` rounds that
/// number to an integer, which lands in the low bits of the sum.
const SHIFTER: f32 = 12_582_912.0;
/// `log2(e)`.
const LOG2_E: f32 = core::f32::consts::LOG2_E;
/// `ln 2` in two parts (Cody–Waite): `LN_2_HI` has 16 significant bits, so
/// `n * LN_2_HI` is exact for every `|n| < 2^8`, and `LN_2_HI + LN_2_LO` is
/// `ln 2` to about 2^-48.
const LN_2_HI: f32 = 0.693_145_751_953_125;
const LN_2_LO: f32 = 1.428_606_765_330_187e-6;
/// Inputs are clamped to `[MIN_ARG, MAX_ARG]` before the reduction: `e^MAX_ARG`
/// overflows to `+inf` and `e^MIN_ARG` rounds to `0`, so the clamp changes no
/// result and keeps `n` within `[-150, 128]`.
const MAX_ARG: f32 = 88.8;
const MIN_ARG: f32 = -104.0;

/// `e^x` for `f32`, within 2 ulp of the exact value for every
/// normal result (measured: 0.95 ulp).
///
/// `x = n ln 2 + r` with `n = round(x log2 e)` and `|r| <= ln 2 / 2`; `e^r` is
/// Cephes' degree-7 polynomial and `2^n` is built in the exponent bits, in two
/// halves so that `n = 128` (results near `f32::MAX`) and `n < -126`
/// (subnormal results) need no special case. Hence:
///
/// - `x > 88.7228` (`ln f32::MAX`) and `+inf` give `+inf`;
/// - results below `f32::MIN_POSITIVE` (`x < -87.34`) are subnormal and
///   rounded once, so their error is at most about one subnormal step;
///   `x < -103.97` and `-inf` give `+0`;
/// - NaN gives NaN.
#[inline]
pub(crate) fn exp_f32(x: f32) -> f32 {
    exp_f32_with::<BRANCHES>(x)
}

/// Whether [`exp_f32`] and [`tanh_f32`] take branches: on targets without
/// vector registers, where nothing is vectorised (a Cortex-M4), a branch
/// skips work; elsewhere both sides are computed and one selected, so that
/// loops of them have no branch and are vectorised. Both forms give the
/// same bits (`tests::branches_give_the_same_bits`).
const BRANCHES: bool = !cfg!(vector_registers);

/// [`exp_f32`], with branches if `BRANCH`.
#[inline]
fn exp_f32_with<const BRANCH: bool>(x: f32) -> f32 {
    // Written as comparisons, not `f32::clamp`/`max`, so that NaN passes through.
    let x = if x > MAX_ARG { MAX_ARG } else { x };
    let x = if x < MIN_ARG { MIN_ARG } else { x };

    let shifted = x * LOG2_E + SHIFTER;
    let n_float = shifted - SHIFTER;
    // `n` sits in the low mantissa bits of `shifted`. Wrapping arithmetic,
    // here and below, only matters for NaN, whose `n` is garbage but whose
    // result is NaN anyway.
    let n = shifted.to_bits().wrapping_sub(SHIFTER.to_bits()) as i32;

    let r = (x - n_float * LN_2_HI) - n_float * LN_2_LO;
    let p = 1.987_569_15e-4;
    let p = p * r + 1.398_199_950_7e-3;
    let p = p * r + 8.333_451_907_3e-3;
    let p = p * r + 4.166_579_589_4e-2;
    let p = p * r + 1.666_666_545_9e-1;
    let p = p * r + 5.000_000_120_1e-1;
    let e_r = p * (r * r) + r + 1.0;

    // Where `2^n` is a normal number (for every result from
    // `f32::MIN_POSITIVE` to `2^127`) one scaling gives the same bits as
    // two; the branch saved 39 instructions per XOR epoch on a Cortex-M4.
    if BRANCH && (-126..=127).contains(&n) {
        return e_r * exponent_to_f32(n);
    }
    // 2^n = 2^half * 2^(n - half): both factors are normal for n in
    // [-150, 128], and the only rounding is in the second product.
    let half = n >> 1;
    e_r * exponent_to_f32(half) * exponent_to_f32(n.wrapping_sub(half))
}

/// `2^k` for `-126 <= k <= 127`.
#[inline]
fn exponent_to_f32(k: i32) -> f32 {
    f32::from_bits((k.wrapping_add(127) as u32) << 23)
}

/// Below this `|x|`, `tanh` is the odd polynomial; from it on, the
/// exponential formula.
const TANH_POLYNOMIAL_LIMIT: f32 = 0.625;
const SIGN_BIT: u32 = 0x8000_0000;

/// `tanh x` for `f32`, within 2 ulp of the exact value (measured: 1.2 ulp).
///
/// For `|x| < 0.625` Cephes' odd polynomial `x + x^3 P(x^2)`; otherwise
/// `1 - 2 / (e^(2|x|) + 1)`, with the sign of `x` put back. Where the target
/// has vector registers both are computed and one selected, so that a loop
/// of it has no branch and is vectorised; without them a branch skips the
/// side not taken (277 fewer instructions per XOR epoch, 16 values, on a
/// Cortex-M4). `tanh(±0) = ±0`, tiny `x` gives `x`, `|x| > 9.01` gives
/// `±1`, NaN gives NaN.
#[inline]
pub(crate) fn tanh_f32(x: f32) -> f32 {
    tanh_f32_with::<BRANCHES>(x)
}

/// [`tanh_f32`], with branches if `BRANCH`.
#[inline]
fn tanh_f32_with<const BRANCH: bool>(x: f32) -> f32 {
    let sign = x.to_bits() & SIGN_BIT;
    let abs = f32::from_bits(x.to_bits() & !SIGN_BIT);
    // NaN fails the comparisons and takes the exponential, which is NaN.
    let tanh_abs = if BRANCH {
        if abs < TANH_POLYNOMIAL_LIMIT {
            tanh_polynomial(abs)
        } else {
            tanh_exponential::<BRANCH>(abs)
        }
    } else {
        let (small, large) = (tanh_polynomial(abs), tanh_exponential::<BRANCH>(abs));
        if abs < TANH_POLYNOMIAL_LIMIT {
            small
        } else {
            large
        }
    };
    f32::from_bits(tanh_abs.to_bits() | sign)
}

/// `tanh x` for `0 <= x < 0.625`: Cephes' `x + x^3 P(x^2)`.
#[inline]
fn tanh_polynomial(abs: f32) -> f32 {
    let z = abs * abs;
    let p = -5.704_988_727_45e-3;
    let p = p * z + 2.063_908_879_54e-2;
    let p = p * z - 5.373_971_555_31e-2;
    let p = p * z + 1.333_144_220_36e-1;
    let p = p * z - 3.333_328_194_22e-1;
    abs + abs * z * p
}

/// `tanh x` for `x >= 0.625`: `1 - 2 / (e^(2x) + 1)`. For large `x` the
/// exponential overflows to infinity and this is exactly 1.
#[inline]
fn tanh_exponential<const BRANCH: bool>(abs: f32) -> f32 {
    1.0 - 2.0 / (exp_f32_with::<BRANCH>(abs + abs) + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The branching forms (a Cortex-M4's) and the selecting ones (this
    /// host's) agree bit for bit on every 997th `f32`, NaNs and infinities
    /// among them, and on every input whose exponential is near the ends
    /// of the one-scaling range.
    #[test]
    fn branches_give_the_same_bits() {
        let same = |a: f32, b: f32| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
        let mut checked = 0;
        for bits in (0..=u32::MAX).step_by(997) {
            let x = f32::from_bits(bits);
            assert!(
                same(exp_f32_with::<true>(x), exp_f32_with::<false>(x)),
                "exp {x:e}"
            );
            assert!(
                same(tanh_f32_with::<true>(x), tanh_f32_with::<false>(x)),
                "tanh {x:e}"
            );
            checked += 1;
        }
        assert!(checked > 4_000_000);
        for x in [-87.4_f32, -87.33, -87.3, 88.0, 88.7, 88.72, 88.73] {
            for ulps in -1000..=1000 {
                let x = f32::from_bits((x.to_bits() as i32 + ulps) as u32);
                assert!(
                    same(exp_f32_with::<true>(x), exp_f32_with::<false>(x)),
                    "exp {x:e}"
                );
            }
        }
    }
}
