//! Element-wise loops compiled for this CPU's widest vectors.
//!
//! A default x86-64 build targets SSE2, so its loops run 4 `f32` wide.
//! With `std` the matrix kernel already asks the CPU for AVX2, FMA and
//! AVX-512 at run time (see [`gemm_kernel`](crate::kernels::gemm_kernel));
//! [`widest`] does the same for the other hot loops of a training step.

/// Runs `f` compiled for AVX-512F (with AVX2 and FMA), or for AVX2 and FMA,
/// when this CPU has them and the build's target does not (x86 with `std`
/// and no `-C target-cpu`); elsewhere just calls it.
///
/// `f` is inlined into a function compiled with those instructions, so its
/// loops are vectorised in their width, with the same results: the wider
/// instructions do the same IEEE operations, and nothing fuses a
/// multiplication with an addition that `f` does not ask for. `f` should
/// own what its loops read repeatedly (a `move` closure of copied
/// constants): read through a reference, a constant is reloaded on every
/// iteration and the loop is not vectorised. In a default build this took
/// Adam's update in workload B's step from about 10.4 to 7.8 µs of the
/// step (`examples/downstream`, Zen 5).
#[inline(always)]
pub(crate) fn widest<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(fma_detectable)]
    {
        if crate::kernels::avx512_detected() {
            // SAFETY: `avx512` only needs the CPU to have AVX-512F, AVX2 and
            // FMA, which `avx512_detected` has just asked it.
            return unsafe { avx512(f) };
        }
        if crate::kernels::fma_detected() {
            // SAFETY: `avx2` only needs the CPU to have AVX2 and FMA, which
            // `fma_detected` has just asked it.
            return unsafe { avx2(f) };
        }
    }
    f()
}

/// `f()`, with `f` inlined and compiled for AVX-512F, AVX2 and FMA.
#[cfg(fma_detectable)]
#[target_feature(enable = "avx512f,avx2,fma")]
fn avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// `f()`, with `f` inlined and compiled for AVX2 and FMA.
#[cfg(fma_detectable)]
#[target_feature(enable = "avx2,fma")]
fn avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scalar;

    /// What the loops in [`widest`] compute (exponentials, square roots,
    /// divisions, products and sums, maxima), in [`widest`] and as the
    /// target compiles it: the same bits. Meaningful in a release build,
    /// where the loops are vectorised (`.ci/run` runs it so).
    /// The loop the test compiles both ways, inlined into each.
    #[inline(always)]
    fn work(values: &[f32; 1000], out: &mut [f32; 1000]) {
        let largest = values.iter().fold(0.0_f32, |m, &v| m.max(v));
        for (o, &v) in out.iter_mut().zip(values) {
            let e = (v - largest).fast_exp();
            *o = (e * 0.9 + 0.1 * v * v).fast_sqrt() / (e + 1e-8) - v.fast_tanh();
        }
    }

    #[test]
    fn widest_gives_the_same_bits() {
        let values: [f32; 1000] = core::array::from_fn(|i| (i as f32 * 0.731).sin() * 30.0);
        let (mut wide, mut plain) = ([0.0; 1000], [0.0; 1000]);
        widest(
            #[inline(always)]
            || work(&values, &mut wide),
        );
        work(&values, &mut plain);
        assert!(wide.iter().all(|v| v.is_finite()));
        assert!(
            wide.iter()
                .zip(&plain)
                .all(|(w, p)| w.to_bits() == p.to_bits())
        );
    }
}
