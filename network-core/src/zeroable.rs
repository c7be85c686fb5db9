//! Types whose all-zero bit pattern is a valid value, and (with the `alloc`
//! feature) building them directly on the heap.
//!
//! A 784-128-10 network holds 101,770 parameters: 400 KB in `f32`, and Adam
//! keeps twice that again. `Box::new(Net::zeroed())` builds the value on the
//! stack and then moves it; in a debug build each intermediate copy is
//! another stack frame's worth, enough to overflow a 2 MiB thread stack.
//! [`boxed_zeroed`] instead asks the allocator for zeroed memory and never
//! materialises the value anywhere else.

/// A type for which the all-zero bit pattern is a valid value.
///
/// `network!` implements it for the networks and gradients it generates
/// (whenever the scalar type implements it), each layer kind's file for its
/// layer and gradients, and the optimizers when their state does.
///
/// # Safety
///
/// Implement it only for types whose every field is itself `Zeroable` (or
/// otherwise valid when all its bytes are zero: integers, floats, `bool`,
/// `PhantomData`). References, `NonZero*` and most enums are not.
pub unsafe trait Zeroable: Sized {}

// SAFETY: IEEE 754 positive zero is the all-zero bit pattern.
unsafe impl Zeroable for f32 {}
// SAFETY: as for `f32`.
unsafe impl Zeroable for f64 {}

/// A `Zeroable` value built directly in zeroed heap memory, never on the
/// stack.
///
/// ```
/// use network_core::{Dense, Relu, boxed_zeroed};
///
/// let layer = boxed_zeroed::<Dense<f32, 784, 128, Relu>>();
/// assert!(layer.w.iter().all(|&w| w == 0.0));
/// ```
#[cfg(feature = "alloc")]
pub fn boxed_zeroed<Z: Zeroable>() -> alloc::boxed::Box<Z> {
    // `Box::new_zeroed` would do, but needs Rust 1.92 (our MSRV is 1.89).
    let mut boxed = alloc::boxed::Box::<Z>::new_uninit();
    // SAFETY: the pointer comes from a live `Box<MaybeUninit<Z>>`, so it is
    // valid and aligned for writing one `Z` (or nothing, for a zero-sized
    // `Z`); `write_bytes` fills it in place, nothing goes through the stack.
    unsafe { boxed.as_mut_ptr().write_bytes(0, 1) };
    // SAFETY: every byte of the value is zero, and `Z: Zeroable` promises
    // that the all-zero bit pattern is a valid `Z`. Checked under Miri by
    // `boxed_network_is_valid` below (`cargo +nightly miri test -p
    // network-core --features alloc --lib zeroable`).
    unsafe { boxed.assume_init() }
}

/// A `Z` with every byte zero, written in place into `slot`: for state
/// too large to pass through the stack twice (a constructor's temporary,
/// then its `Result`), on a device without a heap.
///
/// ```
/// use core::mem::MaybeUninit;
/// use network_core::{Dense, Relu, zeroed_in};
///
/// let mut slot = MaybeUninit::uninit();
/// let layer: &mut Dense<f32, 64, 32, Relu> = zeroed_in(&mut slot);
/// assert!(layer.w.iter().all(|&w| w == 0.0));
/// ```
pub fn zeroed_in<Z: Zeroable>(slot: &mut core::mem::MaybeUninit<Z>) -> &mut Z {
    // SAFETY: `slot` is a live, aligned place for one `Z` (or nothing, for
    // a zero-sized `Z`), borrowed mutably; `write_bytes` fills it in place.
    unsafe { slot.as_mut_ptr().write_bytes(0, 1) };
    // SAFETY: every byte of the value is zero, and `Z: Zeroable` promises
    // that the all-zero bit pattern is a valid `Z`. Checked under Miri by
    // `zeroed_in_place_is_valid` below.
    unsafe { slot.assume_init_mut() }
}

#[cfg(test)]
mod in_place_tests {
    use super::*;
    use crate::{DampingConfig, Dense, LevenbergMarquardt, Relu};

    #[test]
    fn zeroed_in_place_is_valid() {
        let mut slot = core::mem::MaybeUninit::uninit();
        let layer: &mut Dense<f32, 3, 2, Relu> = zeroed_in(&mut slot);
        assert_eq!(layer.w.as_slice(), &[0.0; 6]);
        layer.b[1] = 1.0;
        assert_eq!(layer.b.as_slice(), &[0.0, 1.0]);
        let mut slot = core::mem::MaybeUninit::uninit();
        let lm = LevenbergMarquardt::<f64, 4>::new_in(&mut slot, DampingConfig::trainlm()).unwrap();
        assert_eq!(lm.mu, 1e-3);
        assert_eq!(
            *lm,
            LevenbergMarquardt::new(DampingConfig::trainlm()).unwrap()
        );
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use crate::layers::{Rescale, Standardization};
    use crate::{Dense, DenseGradients, Layer, Relu, Sigmoid};

    #[test]
    fn boxed_network_is_valid() {
        let mut layer = boxed_zeroed::<Dense<f32, 3, 2, Relu>>();
        assert_eq!(layer.w.as_slice(), &[0.0; 6]);
        assert_eq!(layer.b.as_slice(), &[0.0; 2]);
        // No `init` here: libm's square root is inline assembly, which Miri
        // cannot run.
        layer.w.fill(0.5);
        layer.b[1] = 1.0;
        let y = layer.affine(&nalgebra::SMatrix::<f32, 3, 1>::new(1.0, 2.0, 3.0));
        assert_eq!(y.as_slice(), &[3.0, 4.0]);

        let grads = boxed_zeroed::<DenseGradients<f64, 2, 2>>();
        assert_eq!(*grads, DenseGradients::zeros());
        let output = boxed_zeroed::<Dense<f64, 2, 1, Sigmoid>>();
        assert_eq!(*output, Dense::zeros());
        let mut scale = boxed_zeroed::<Rescale<f32, 3, Standardization>>();
        assert_eq!(
            *scale,
            <Rescale<f32, 3, Standardization> as Layer<f32, 3, 3>>::zeroed()
        );
        scale.statistics.column_mut(1).fill(2.0);
        assert_eq!(scale.scale().as_slice(), &[2.0; 3]);
    }
}
