//! Second-order training: Levenberg–Marquardt and the natural gradient.
//!
//! Both solve a damped linear system in the `P` parameters instead of
//! stepping along the gradient:
//!
//! ```text
//! Levenberg–Marquardt:  (J^T J + mu I) dw = -J^T r      J = dr/dw, r = a_L - t
//! natural gradient:     (F + mu I) dw = -g              F = E[J_z^T F_z J_z]
//! ```
//!
//! `J^T J` and the Fisher information `F` are `P x P`, built from
//! Jacobians that back-propagation computes one row at a time (one
//! backward pass per output unit and sample, through the generated code),
//! and the system is solved by a Cholesky factorisation in place. Both
//! adapt the damping `mu` as MATLAB's `trainlm` does ([`DampingConfig`]):
//! a step tries `mu`, `10 mu`, ... until a trial lowers the loss (a
//! rejected trial restores the parameters bit for bit), and the next step
//! starts from a tenth of the accepted `mu`. The
//! Jacobian itself is never stored: each row is added to the normal matrix
//! as it comes (`A += j j^T`), so the memory is two `P x P` matrices (the
//! normal matrix and its factorisation, whatever the number of samples)
//! and three vectors of `P`, fixed at compile time:
//!
//! | `P` | bytes, `f32` | bytes, `f64` |
//! | ---: | ---: | ---: |
//! | 49 (the 1-16-1 calibration network) | 19,840 | 39,632 |
//! | 131 (iris, 4-16-3) | 138,904 | 277,760 |
//! | 1,000 | 8,012,040 | 16,024,040 |
//!
//! (`2 P^2 + 3 P` values and 40 bytes of settings;
//! [`LevenbergMarquardt::BYTES`] and [`NaturalGradient::BYTES`] give the
//! figure for yours. A step also puts the Jacobian of one sample, `OUT x P`
//! values, and a few vectors of `P` on the stack.) `new` returns the
//! optimizer by value only up to [`MAX_STACK_BYTES`], 256 KiB; past it,
//! `new` is a compile error that points to `new_boxed` and `new_in`. The optimizer is a
//! value like any other: on the stack for small networks, in a `static`, or
//! on the heap with `new_boxed` (feature `alloc`) for large ones. `P` is a
//! const parameter of the optimizer's type, written as the network's count
//! (`LevenbergMarquardt::<f32, { Net::<f32>::PARAMETERS }>`), and using it
//! with a network of another parameter count is a compile error (at code
//! generation, `cargo build`: a `const` assertion in `step`, whose note
//! names your call). A factorisation costs
//! `P^3 / 3` multiply-adds, so these methods suit networks of up to a few
//! thousand parameters, where they need far fewer epochs than gradient
//! descent.
//!
//! ```
//! use network_core::{DampedOutcome, DampingConfig, LevenbergMarquardt, Network};
//! # use network_core::{Identity, Tanh};
//! # network_macros::network! { #[network(crate = network_core)] struct Curve { input: 1, hidden: Dense<8, Tanh>, output: Dense<1, Identity> } }
//!
//! // 16 points of sin(2x) on [-1, 1].
//! let data: [([f64; 1], [f64; 1]); 16] = core::array::from_fn(|i| {
//!     let x = -1.0 + 2.0 * i as f64 / 15.0;
//!     ([x], [(2.0 * x).sin()])
//! });
//! let mut net = Curve::<f64>::random(1);
//! let mut lm = LevenbergMarquardt::<f64, { Curve::<f64>::PARAMETERS }>::new(DampingConfig::trainlm())?;
//! let mut loss = f64::INFINITY;
//! for _ in 0..50 {
//!     match lm.step(&mut net, &data[..])? {
//!         DampedOutcome::Lowered { after, .. } => loss = after,
//!         DampedOutcome::DampingLimit { .. } => break,
//!     }
//! }
//! assert!(loss < 1e-4, "{loss}"); // 0.63 before the first step
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```

mod lm;
mod natural;
mod normal;

/// The largest optimizer `new` returns by value, 256 KiB (`P` up to 180
/// in `f32`, 127 in `f64`); past it `new` is a compile error and
/// `new_boxed` or `new_in` build it where it will stay.
pub const MAX_STACK_BYTES: usize = 256 * 1024;

pub use lm::LevenbergMarquardt;
pub use natural::{FisherLoss, NaturalGradient};
pub use normal::{DampedOutcome, DampingConfig};
