//! What Levenberg–Marquardt and the natural gradient share: Jacobian rows
//! from back-propagation, the parameters as one vector, the solution of a
//! damped symmetric system by a Cholesky factorisation in place, and the
//! trials of ever larger damping until one lowers the loss.

use nalgebra::{SMatrix, SVector};

use crate::{Cache, ConfigError, Dataset, Network, Noise, Parameters, Scalar};

/// The smallest damping a step starts from: `mu` shrinks after every
/// step that lowers the loss, and without a floor it would reach 0, where
/// growing it tenfold no longer helps.
pub(crate) const MIN_DAMPING: f64 = 1e-20;

/// How a second-order method adapts its damping `mu`; the defaults are
/// MATLAB's `trainlm` (with a floor of `1e-20` on `mu`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DampingConfig {
    /// `mu` before the first step (default `1e-3`).
    pub initial: f64,
    /// The factor on `mu` after a step that lowers the loss (default `0.1`).
    pub decrease: f64,
    /// The factor on `mu` after a trial that does not (default `10`).
    pub increase: f64,
    /// The largest `mu` tried: past it, a step gives up with
    /// [`DampedOutcome::DampingLimit`] (default `1e10`).
    pub max: f64,
}

impl DampingConfig {
    /// MATLAB's `trainlm` settings: `mu` from `1e-3`, times `0.1` after a
    /// step that lowers the loss, times `10` after a trial that does not,
    /// at most `1e10`.
    pub fn trainlm() -> Self {
        DampingConfig {
            initial: 1e-3,
            decrease: 0.1,
            increase: 10.0,
            max: 1e10,
        }
    }

    /// The same schedule from another initial damping.
    pub fn with_initial(self, initial: f64) -> Self {
        DampingConfig { initial, ..self }
    }

    /// Checks the settings: `initial` finite and above 0, `decrease` in
    /// `(0, 1)`, `increase` finite and above 1, `max` finite and at least
    /// `initial`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Damping`] with the first value out of its range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let checks = [
            (self.initial, self.initial.is_finite() && self.initial > 0.0),
            (self.decrease, self.decrease > 0.0 && self.decrease < 1.0),
            (
                self.increase,
                self.increase.is_finite() && self.increase > 1.0,
            ),
            (self.max, self.max.is_finite() && self.max >= self.initial),
        ];
        match checks.into_iter().find(|&(_, ok)| !ok) {
            Some((value, _)) => Err(ConfigError::Damping(value)),
            None => Ok(()),
        }
    }
}

/// What one damped step did.
#[must_use = "a step may have stopped at the damping limit, which ends training"]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DampedOutcome<T> {
    /// The parameters moved and the loss went down.
    Lowered {
        /// The loss before the step.
        before: T,
        /// The loss after it.
        after: T,
        /// The damping of the accepted trial (before its decrease for the
        /// next step).
        mu: f64,
    },
    /// No damping up to the maximum lowered the loss: the parameters are
    /// unchanged, bit for bit. Training has converged (or is stuck in a
    /// minimum): stop.
    DampingLimit {
        /// The loss, unchanged.
        loss: T,
    },
}

/// The fields, `Zeroable` impl, size and constructors of a damped
/// second-order optimizer `$name<T, P>`: one source for both methods.
macro_rules! damped_optimizer {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name<T: Scalar, const P: usize> {
            /// The damping schedule.
            pub config: DampingConfig,
            /// The damping the next step starts from.
            pub mu: f64,
            system: DampedSystem<T, P>,
        }

        // SAFETY: every field is `Zeroable` (floats, and matrices and
        // vectors of `T`), so the all-zero bit pattern is a valid value.
        unsafe impl<T: Scalar + Zeroable, const P: usize> Zeroable for $name<T, P> {}

        impl<T: Scalar, const P: usize> $name<T, P> {
            /// The bytes of one optimizer: `2 P^2 + 3 P` values of `T` and
            /// the settings.
            pub const BYTES: usize = core::mem::size_of::<Self>();

            /// An optimizer whose damping starts at `config.initial`,
            /// returned by value: at most
            /// [`MAX_STACK_BYTES`](crate::second_order::MAX_STACK_BYTES)
            /// (256 KiB), a compile error beyond (at `cargo build`), since
            /// it passes through the stack up to three times; build larger
            /// ones with `new_boxed` or `new_in`.
            ///
            /// # Errors
            ///
            /// The [`ConfigError`] of [`DampingConfig::validate`].
            pub fn new(config: DampingConfig) -> Result<Self, ConfigError> {
                const {
                    assert!(
                        Self::BYTES <= crate::second_order::MAX_STACK_BYTES,
                        "this optimizer is over 256 KiB: build it with `new_boxed` (on the heap) or `new_in` (in place), not `new`"
                    )
                };
                config.validate()?;
                Ok($name {
                    config,
                    mu: config.initial,
                    system: DampedSystem::zeros(),
                })
            }

            /// Like `new`, built in place in `slot`: nothing of its `P x P`
            /// matrices passes through the stack (on a Cortex-M4, `new`'s
            /// temporary and its `Result` put two more copies of a
            /// 49-parameter optimizer on the stack, 40 KB).
            ///
            /// # Errors
            ///
            /// The [`ConfigError`] of [`DampingConfig::validate`].
            pub fn new_in(
                slot: &mut core::mem::MaybeUninit<Self>,
                config: DampingConfig,
            ) -> Result<&mut Self, ConfigError>
            where
                T: Zeroable,
            {
                config.validate()?;
                let optimizer = crate::zeroed_in(slot);
                optimizer.config = config;
                optimizer.mu = config.initial;
                Ok(optimizer)
            }

            /// Like `new`, built directly on the heap: its `P x P`
            /// matrices never pass through the stack.
            ///
            /// # Errors
            ///
            /// The [`ConfigError`] of [`DampingConfig::validate`].
            #[cfg(feature = "alloc")]
            pub fn new_boxed(
                config: DampingConfig,
            ) -> Result<alloc::boxed::Box<Self>, ConfigError>
            where
                T: Zeroable,
            {
                config.validate()?;
                let mut optimizer = crate::boxed_zeroed::<Self>();
                optimizer.config = config;
                optimizer.mu = config.initial;
                Ok(optimizer)
            }

            /// The gradient of the last step (of half the sum of squares
            /// for Levenberg–Marquardt, of the mean loss for the natural
            /// gradient).
            pub fn gradient(&self) -> &SVector<T, P> {
                &self.system.gradient
            }

            /// The last trial's step `dw` (taken if that trial lowered the
            /// loss).
            pub fn direction(&self) -> &SVector<T, P> {
                &self.system.direction
            }
        }
    };
}
pub(crate) use damped_optimizer;

/// The state of a damped second-order method: the `P x P` matrix of the
/// last step (`J^T J` or the Fisher), its factorisation, the gradient, the
/// parameters before the step and the last trial's direction.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DampedSystem<T: Scalar, const P: usize> {
    pub(crate) matrix: SMatrix<T, P, P>,
    pub(crate) factor: SMatrix<T, P, P>,
    pub(crate) gradient: SVector<T, P>,
    pub(crate) saved: SVector<T, P>,
    pub(crate) direction: SVector<T, P>,
}

impl<T: Scalar, const P: usize> DampedSystem<T, P> {
    pub(crate) fn zeros() -> Self {
        DampedSystem {
            matrix: SMatrix::zeros(),
            factor: SMatrix::zeros(),
            gradient: SVector::zeros(),
            saved: SVector::zeros(),
            direction: SVector::zeros(),
        }
    }

    /// Tries `w + dw` with `(matrix + mu I) dw = -gradient` for `mu`,
    /// `increase mu`, ... up to `config.max`, keeping the first trial
    /// whose `loss` is below `before`; after it `mu` shrinks by
    /// `config.decrease`. A rejected trial writes the saved parameters
    /// back, bit for bit.
    pub(crate) fn trials<N: Parameters<T>>(
        &mut self,
        mu: &mut f64,
        config: &DampingConfig,
        network: &mut N,
        before: T,
        loss: impl Fn(&N) -> T,
    ) -> DampedOutcome<T> {
        flatten(network, &mut self.saved);
        let mut damping = *mu;
        while damping <= config.max {
            let mut direction = -self.gradient;
            let solved = solve_damped(
                &self.matrix,
                T::constant(damping),
                &mut self.factor,
                &mut direction,
            );
            self.direction = direction;
            if solved.is_some() {
                let trial = self.saved + direction;
                if trial.iter().all(|w| w.is_finite()) {
                    unflatten(&trial, network);
                    let after = loss(network);
                    if after < before {
                        // Never 0 (after a thousand decreases it would
                        // underflow), so that ten times it is larger.
                        *mu = (damping * config.decrease).max(MIN_DAMPING);
                        return DampedOutcome::Lowered {
                            before,
                            after,
                            mu: damping,
                        };
                    }
                    unflatten(&self.saved, network);
                }
            }
            damping *= config.increase;
        }
        *mu = damping;
        DampedOutcome::DampingLimit { loss: before }
    }
}

/// The parameters (or gradients) `values` as one vector, in the order of
/// [`Parameters::slices`]. `values` has exactly `P` of them (the callers
/// check `P == N::PARAMETERS` at compile time).
pub(crate) fn flatten<T: Scalar, V: Parameters<T>, const P: usize>(
    values: &V,
    out: &mut SVector<T, P>,
) {
    for (o, &v) in out.iter_mut().zip(values.slices().flatten()) {
        *o = v;
    }
}

/// Writes `values` into the parameters of `network`, in the order of
/// [`Parameters::slices`]: a copy, so that writing back values read by
/// [`flatten`] restores them bit for bit.
pub(crate) fn unflatten<T: Scalar, V: Parameters<T>, const P: usize>(
    values: &SVector<T, P>,
    network: &mut V,
) {
    for (p, &v) in network.slices_mut().flatten().zip(values.iter()) {
        *p = v;
    }
}

/// Sample `index` of `data` as one input column and one target column.
pub(crate) fn sample<T, D, const IN: usize, const OUT: usize>(
    data: &D,
    index: usize,
) -> (SMatrix<T, IN, 1>, SMatrix<T, OUT, 1>)
where
    T: Scalar,
    D: Dataset<T, IN, OUT> + ?Sized,
{
    let mut x = SMatrix::<T, IN, 1>::zeros();
    let mut t = SMatrix::<T, OUT, 1>::zeros();
    data.write_sample(index, x.column_mut(0), t.column_mut(0));
    (x, t)
}

/// Which Jacobian of one sample [`jacobian`] computes.
#[derive(Clone, Copy)]
pub(crate) enum Of {
    /// `da_L / dw`, through the output activation (Levenberg–Marquardt's
    /// residuals are `a_L - t`).
    Outputs,
    /// `dz_L / dw`, the logits' (the natural gradient's Fisher is taken
    /// with respect to them).
    Logits,
}

/// The Jacobian of one sample's outputs or logits with respect to the
/// parameters, one row per output unit: row `k` is back-propagated from
/// the unit vector `e_k`, so it costs one backward pass.
pub(crate) fn jacobian<T, N, const IN: usize, const OUT: usize, const P: usize>(
    network: &N,
    x: &SMatrix<T, IN, 1>,
    cache: &N::Cache<1>,
    of: Of,
    grads: &mut N::Gradients,
    rows: &mut SMatrix<T, OUT, P>,
) where
    T: Scalar,
    N: Network<T, IN, OUT>,
{
    let mut row = SVector::<T, P>::zeros();
    for k in 0..OUT {
        let mut unit = SMatrix::<T, OUT, 1>::zeros();
        unit[k] = T::one();
        match of {
            Of::Outputs => {
                network.backward_into(x, cache, &unit, grads);
            }
            Of::Logits => {
                network.backward_delta_into(x, cache, &unit, grads);
            }
        }
        flatten(grads, &mut row);
        rows.set_row(k, &row.transpose());
    }
}

/// `c += a^T b` for two `OUT x P` matrices (a sample's Jacobian rows, or
/// them weighted): `OUT` rank-one updates of the `P x P` matrix, by the
/// register-blocked kernel of the dense layers where there are vector
/// registers (nalgebra's `gemm_tr` forms each entry as a dot product of
/// length `OUT`).
pub(crate) fn add_transposed_product<T: Scalar, const OUT: usize, const P: usize>(
    c: &mut SMatrix<T, P, P>,
    a: &SMatrix<T, OUT, P>,
    b: &SMatrix<T, OUT, P>,
) {
    // Column-major `OUT x P`: entry (k, p) at `p OUT + k`, so `a^T` has row
    // stride `OUT` and column stride 1. The kernel's dimensions are
    // (rows of c, inner, columns of c).
    #[cfg(vector_registers)]
    T::blocked_gemm(
        (P, OUT, P),
        c.as_mut_slice(),
        (a.as_slice(), OUT, 1),
        (b.as_slice(), 1, OUT),
        true,
    );
    // Without vector registers (a Cortex-M) the blocked kernel gains
    // nothing and cost the Levenberg–Marquardt firmware 2.3 KB of text and
    // 2.5 KB of stack.
    #[cfg(not(vector_registers))]
    c.gemm_tr(T::one(), a, b, T::one());
}

/// The output of `network` for sample `x` at inference, with its cache.
pub(crate) fn forward_one<T, N, const IN: usize, const OUT: usize>(
    network: &N,
    x: &SMatrix<T, IN, 1>,
) -> N::Cache<1>
where
    T: Scalar,
    N: Network<T, IN, OUT>,
{
    network.forward_cache(x, Noise::OFF)
}

/// The logits of a cache as a vector.
pub(crate) fn logits<T: Scalar, C: Cache<T, OUT, 1>, const OUT: usize>(
    cache: &C,
) -> SVector<T, OUT> {
    cache.logits().column(0).into_owned()
}

/// Solves `(a + damping I) x = b` for symmetric `a`, overwriting `b` with
/// `x` and the lower triangle of `factor` with the Cholesky factor `L` of
/// `a + damping I` (`L L^T`). `None` if that matrix is not positive
/// definite (or not finite); `b` is then unspecified.
///
/// In place, rather than nalgebra's `Cholesky::new`, which takes the matrix
/// by value: for `P = 1000` that is 4 MB (`f32`) moved through the stack,
/// more than a thread's default stack, while here the only `P x P`
/// storage is the caller's `factor`, which may be on the heap. The loops
/// run down columns (nalgebra stores by column), so the inner ones are
/// contiguous and vectorise; the factorisation costs `P^3 / 3`
/// multiply-adds.
pub(crate) fn solve_damped<T: Scalar, const P: usize>(
    a: &SMatrix<T, P, P>,
    damping: T,
    factor: &mut SMatrix<T, P, P>,
    b: &mut SVector<T, P>,
) -> Option<()> {
    factor.copy_from(a);
    for j in 0..P {
        factor[(j, j)] += damping;
    }
    let f = factor.as_mut_slice();
    // Right-looking: column j is scaled by its pivot, then every later
    // column k loses l_kj times column j below row k.
    for j in 0..P {
        let pivot = f[j * P + j];
        if !(pivot > T::zero() && pivot.is_finite()) {
            return None;
        }
        let pivot = pivot.fast_sqrt();
        f[j * P + j] = pivot;
        let inverse = T::one() / pivot;
        for v in &mut f[j * P + j + 1..(j + 1) * P] {
            *v *= inverse;
        }
        let (done, rest) = f.split_at_mut((j + 1) * P);
        let column_j = &done[j * P..];
        for (offset, column_k) in rest.chunks_exact_mut(P).enumerate() {
            let k = j + 1 + offset;
            let l_kj = column_j[k];
            for (v, &l_ij) in column_k[k..].iter_mut().zip(&column_j[k..]) {
                *v -= l_ij * l_kj;
            }
        }
    }
    // L y = b, then L^T x = y.
    for j in 0..P {
        let column = &f[j * P..(j + 1) * P];
        let y = b[j] / column[j];
        b[j] = y;
        for i in j + 1..P {
            b[i] -= column[i] * y;
        }
    }
    for j in (0..P).rev() {
        let column = &f[j * P..(j + 1) * P];
        let mut sum = b[j];
        for i in j + 1..P {
            sum -= column[i] * b[i];
        }
        b[j] = sum / column[j];
    }
    if b.iter().all(|v| v.is_finite()) {
        Some(())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_damped_system_like_a_dense_solve() {
        // A symmetric positive semi-definite a = m^T m.
        let m = SMatrix::<f64, 5, 4>::from_fn(|i, j| ((i * 7 + j * 3) % 5) as f64 - 1.5);
        let a = m.transpose() * m;
        let b = SVector::<f64, 4>::new(1.0, -2.0, 0.5, 3.0);
        let damping = 0.25;
        let mut x = b;
        let mut factor = SMatrix::<f64, 4, 4>::zeros();
        solve_damped(&a, damping, &mut factor, &mut x).unwrap();
        let dense = (a + SMatrix::<f64, 4, 4>::identity() * damping)
            .lu()
            .solve(&b)
            .unwrap();
        assert!((x - dense).norm() < 1e-12 * dense.norm(), "{x} != {dense}");
    }

    #[test]
    fn refuses_a_matrix_that_is_not_positive_definite() {
        let a = SMatrix::<f64, 2, 2>::new(1.0, 2.0, 2.0, 1.0);
        let (mut factor, mut b) = (SMatrix::zeros(), SVector::<f64, 2>::new(1.0, 1.0));
        assert_eq!(solve_damped(&a, 0.0, &mut factor, &mut b), None);
        let nan = SMatrix::<f64, 2, 2>::new(f64::NAN, 0.0, 0.0, 1.0);
        assert_eq!(solve_damped(&nan, 1.0, &mut factor, &mut b), None);
    }
}
