//! Preprocessing inside the model: `z = (x - offset) ∘ scale`, feature by
//! feature, with `offset` and `scale` fitted on the training rows rather
//! than trained.
//!
//! Two fits, one layer type ([`Rescale`]):
//!
//! - [`Standardization`] (`Standardize` in `network!`): `offset` is each
//!   feature's mean and `scale` the reciprocal of its standard deviation
//!   (the population one, as scikit-learn's `StandardScaler`), so the
//!   training rows come out with mean 0 and variance 1;
//! - [`MinMaxScaling`] (`MinMax`): `offset` is each feature's minimum and
//!   `scale` the reciprocal of its range, so the training rows come out in
//!   `[0, 1]` (scikit-learn's `MinMaxScaler`).
//!
//! A constant feature gets `scale` 1, as in scikit-learn: it comes out as
//! 0 instead of a division by zero. The statistics are the layer's
//! [`Parameters::statistics`]: saved by [`to_bytes`](crate::to_bytes),
//! written by [`write_static`](crate::codegen::write_static), exported to
//! safetensors, applied by `forward` on any target, and never touched by an
//! optimizer (the layer has no trained parameters and no gradients).
//!
//! ```
//! # use network_macros::network;
//! use network_core::{Network, Softmax, StatisticsError, Tanh};
//!
//! network! {
//!     # #[network(crate = network_core)]
//!     struct Sensor {
//!         input: 2,
//!         scale: Standardize,
//!         hidden: Dense<8, Tanh>,
//!         output: Dense<3, Softmax>,
//!     }
//! }
//!
//! // Readings on very different scales: a temperature and a pressure.
//! let train = [([21.5, 101_325.0], [1.0, 0.0, 0.0]), ([23.5, 99_325.0], [0.0, 1.0, 0.0])];
//! let mut net = Sensor::<f64>::random(1);
//! net.fit_statistics(&train[..])?;
//! assert_eq!(net.scale.offset().as_slice(), &[22.5, 100_325.0]);
//! assert_eq!(net.scale.scale().as_slice(), &[1.0, 0.001]);
//! // From here on `forward` takes raw readings.
//! let p = net.forward(&[22.0, 100_000.0]);
//! assert!((p.sum() - 1.0).abs() < 1e-12);
//!
//! // Bad rows are refused, naming the value, and change nothing.
//! let broken = [([f64::NAN, 1.0], [1.0, 0.0, 0.0])];
//! assert_eq!(
//!     net.fit_statistics(&broken[..]),
//!     Err(StatisticsError::NonFinite { sample: 0, feature: 0 })
//! );
//! assert_eq!(net.scale.offset().as_slice(), &[22.5, 100_325.0]);
//! # Ok::<(), StatisticsError>(())
//! ```
//!
//! `scale` multiplies rather than divides: a multiply is one cycle where a
//! division takes 14 on a Cortex-M4, and every finite `scale` gives finite
//! outputs, so any statistics that load are usable.

use core::fmt;
use core::marker::PhantomData;

use nalgebra::{ComplexField, SMatrix, SVector};

use crate::Zeroable;
use crate::layers::NoGradients;
use crate::{Dataset, InitScheme, Layer, Noise, Parameters, Rng, Scalar, SliceArray};

/// How a [`Rescale`] layer fits its `offset` and `scale` to the training
/// rows: a summary of two values per feature, built one sample at a time,
/// then turned into the statistics.
pub trait Fit: 'static {
    /// The layer kind's name in `network!`: `"Standardize"` or `"MinMax"`.
    const NAME: &'static str;
    /// The names of `offset` and `scale` for this fit, as safetensors names
    /// them: `["mean", "inv_std"]` or `["min", "inv_range"]`.
    const STATISTICS: [&'static str; 2];

    /// The summary `(s0, s1)` of a feature whose first value is `x`.
    fn start<T: Scalar>(x: T) -> (T, T);

    /// Adds the `count`-th value `x` (from 2) to a feature's summary.
    fn add<T: Scalar>(summary: &mut (T, T), x: T, count: usize);

    /// The feature's `(offset, scale)` from its summary of `count` values,
    /// or `None` if the scale is not a finite number (a range that
    /// overflows, a deviation so small that its reciprocal does).
    fn finish<T: Scalar>(summary: (T, T), count: usize) -> Option<(T, T)>;
}

/// Standardisation: `z = (x - mean) / std`, with the mean and the
/// population standard deviation of the training rows (`std` 1 for a
/// constant feature).
///
/// The summary is Welford's running mean and sum of squared deviations,
/// `mean_k = mean_(k-1) + (x - mean_(k-1)) / k` and
/// `m2_k = m2_(k-1) + (x - mean_(k-1)) (x - mean_k)`, which does not
/// cancel as `E[x^2] - E[x]^2` does; `std = sqrt(m2_n / n)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Standardization;

impl Fit for Standardization {
    const NAME: &'static str = "Standardize";
    const STATISTICS: [&'static str; 2] = ["mean", "inv_std"];

    fn start<T: Scalar>(x: T) -> (T, T) {
        (x, T::zero())
    }

    fn add<T: Scalar>((mean, m2): &mut (T, T), x: T, count: usize) {
        let before = x - *mean;
        *mean += before / T::constant(count as f64);
        *m2 += before * (x - *mean);
    }

    fn finish<T: Scalar>((mean, m2): (T, T), count: usize) -> Option<(T, T)> {
        let std = ComplexField::sqrt(m2 / T::constant(count as f64));
        let scale = if std == T::zero() {
            T::one()
        } else {
            T::one() / std
        };
        (mean.is_finite() && scale.is_finite()).then_some((mean, scale))
    }
}

/// Min-max scaling: `z = (x - min) / (max - min)`, with the minimum and
/// maximum of the training rows (`max - min` taken as 1 for a constant
/// feature), so that they come out in `[0, 1]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MinMaxScaling;

impl Fit for MinMaxScaling {
    const NAME: &'static str = "MinMax";
    const STATISTICS: [&'static str; 2] = ["min", "inv_range"];

    fn start<T: Scalar>(x: T) -> (T, T) {
        (x, x)
    }

    fn add<T: Scalar>((min, max): &mut (T, T), x: T, _count: usize) {
        if x < *min {
            *min = x;
        }
        if x > *max {
            *max = x;
        }
    }

    fn finish<T: Scalar>((min, max): (T, T), _count: usize) -> Option<(T, T)> {
        let range = max - min;
        let scale = if range == T::zero() {
            T::one()
        } else {
            T::one() / range
        };
        // An infinite range (from -MAX to MAX) would give scale 0, which
        // maps every value to 0: refused rather than silently useless.
        (range.is_finite() && scale.is_finite()).then_some((min, scale))
    }
}

/// Why [`Rescale::fit`] (and a network's `fit_statistics`) left the
/// statistics as they were.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatisticsError {
    /// The dataset has no samples to fit on.
    NoSamples,
    /// A value of the dataset is NaN or infinite.
    NonFinite {
        /// The sample (row of the dataset).
        sample: usize,
        /// The feature (value within the sample).
        feature: usize,
    },
    /// The feature's scale is not a finite number in the scalar type: its
    /// values span more than the largest finite value, or deviate so
    /// little that the reciprocal overflows.
    NotRepresentable {
        /// The feature.
        feature: usize,
    },
}

impl fmt::Display for StatisticsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatisticsError::NoSamples => {
                f.write_str("the dataset has no samples to fit the statistics on")
            }
            StatisticsError::NonFinite { sample, feature } => write!(
                f,
                "feature {feature} of sample {sample} is NaN or infinite: the statistics cannot be fitted"
            ),
            StatisticsError::NotRepresentable { feature } => write!(
                f,
                "the scale of feature {feature} is not a finite number: its values span more than the scalar type holds, or vary by too little"
            ),
        }
    }
}

impl core::error::Error for StatisticsError {}

/// An input layer of `N` values per sample that rescales each one,
/// `z_i = (x_i - offset_i) scale_i`, `a = z`, its statistics fitted by `F`
/// ([`Standardization`] or [`MinMaxScaling`]).
///
/// It has no trained parameters: optimizers leave it alone, and back
/// propagation only carries `dC/dx_i = scale_i dC/dz_i` through it. Its
/// statistics are `2 N` values, `offset` then `scale` (`size_of` is
/// `2 * N * size_of::<T>()`). [`Layer::init`] makes it the identity
/// (offset 0, scale 1) until it is fitted; [`Layer::zeroed`] zeroes it as it
/// does every parameter, which maps every input to 0.
#[repr(C)]
pub struct Rescale<T: Scalar, const N: usize, F> {
    /// The statistics, column 0 the `offset` and column 1 the `scale`.
    pub statistics: SMatrix<T, N, 2>,
    fit: PhantomData<fn() -> F>,
}

impl<T: Scalar, const N: usize, F> Rescale<T, N, F> {
    /// A layer with the given statistics: column 0 the offsets, column 1
    /// the scales.
    pub const fn new(statistics: SMatrix<T, N, 2>) -> Self {
        Rescale {
            statistics,
            fit: PhantomData,
        }
    }

    /// The layer that leaves its input as it is: offset 0, scale 1.
    pub fn identity() -> Self {
        let mut statistics = SMatrix::<T, N, 2>::zeros();
        statistics.column_mut(1).fill(T::one());
        Self::new(statistics)
    }

    /// The offsets, one per feature: the mean or the minimum.
    pub fn offset(&self) -> SVector<T, N> {
        self.statistics.column(0).into_owned()
    }

    /// The scales, one per feature: `1 / std` or `1 / (max - min)`.
    pub fn scale(&self) -> SVector<T, N> {
        self.statistics.column(1).into_owned()
    }
}

impl<T: Scalar, const N: usize, F: Fit> Rescale<T, N, F> {
    /// Fits the statistics on every sample of `data` (its inputs; the
    /// targets are not read): one pass, no allocation, in `T`.
    ///
    /// # Errors
    ///
    /// [`StatisticsError`] if `data` is empty, holds a NaN or infinite
    /// value, or a feature's scale is not finite; the statistics are then
    /// left as they were.
    pub fn fit<const OUT: usize, D: Dataset<T, N, OUT> + ?Sized>(
        &mut self,
        data: &D,
    ) -> Result<(), StatisticsError> {
        if data.is_empty() {
            return Err(StatisticsError::NoSamples);
        }
        let mut x = SVector::<T, N>::zeros();
        let mut target = SVector::<T, OUT>::zeros();
        // The summaries, then the statistics, built beside the layer's own
        // so that an error leaves those untouched.
        let mut summary = SMatrix::<T, N, 2>::zeros();
        for sample in 0..data.len() {
            data.write_sample(sample, x.column_mut(0), target.column_mut(0));
            if let Some(feature) = x.iter().position(|v| !v.is_finite()) {
                return Err(StatisticsError::NonFinite { sample, feature });
            }
            for (feature, &value) in x.iter().enumerate() {
                let (s0, s1) = if sample == 0 {
                    F::start(value)
                } else {
                    let mut pair = (summary[(feature, 0)], summary[(feature, 1)]);
                    F::add(&mut pair, value, sample + 1);
                    pair
                };
                summary[(feature, 0)] = s0;
                summary[(feature, 1)] = s1;
            }
        }
        for feature in 0..N {
            let pair = (summary[(feature, 0)], summary[(feature, 1)]);
            let (offset, scale) =
                F::finish(pair, data.len()).ok_or(StatisticsError::NotRepresentable { feature })?;
            summary[(feature, 0)] = offset;
            summary[(feature, 1)] = scale;
        }
        self.statistics = summary;
        Ok(())
    }
}

impl<T: Scalar, const N: usize, F> Clone for Rescale<T, N, F> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Scalar, const N: usize, F> Copy for Rescale<T, N, F> {}

impl<T: Scalar, const N: usize, F> PartialEq for Rescale<T, N, F> {
    fn eq(&self, other: &Self) -> bool {
        self.statistics == other.statistics
    }
}

impl<T: Scalar, const N: usize, F: Fit> fmt::Debug for Rescale<T, N, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [offset, scale] = F::STATISTICS;
        let (offsets, scales) = self.statistics.as_slice().split_at(N);
        f.debug_struct(F::NAME)
            .field(offset, &offsets)
            .field(scale, &scales)
            .finish()
    }
}

impl<T: Scalar, const N: usize, F> SliceArray<T, 0> for Rescale<T, N, F> {
    fn slice_array(&self) -> [&[T]; 0] {
        []
    }

    fn slice_array_mut(&mut self) -> [&mut [T]; 0] {
        []
    }
}

impl<T: Scalar, const N: usize, F> Parameters<T> for Rescale<T, N, F> {
    const PARAMETERS: usize = 0;
    const STATISTICS: usize = 2 * N;

    fn slices(&self) -> impl Iterator<Item = &[T]> {
        core::iter::empty()
    }

    fn slices_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        core::iter::empty()
    }

    fn statistics(&self) -> impl Iterator<Item = &[T]> {
        core::iter::once(self.statistics.as_slice())
    }

    fn statistics_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        core::iter::once(self.statistics.as_mut_slice())
    }
}

impl<T: Scalar, const N: usize, F> Layer<T, N, N> for Rescale<T, N, F> {
    type Gradients = NoGradients;

    fn zeroed() -> Self {
        Self::new(crate::kernels::zeros())
    }

    /// Not fitted yet: the identity.
    fn init(&mut self, _scheme: InitScheme, _rng: &mut Rng) {
        *self = Self::identity();
    }

    /// `z_i = (x_i - offset_i) scale_i`.
    #[inline]
    fn pre_activation_into<const B: usize>(
        &self,
        a_prev: &SMatrix<T, N, B>,
        _noise: Noise,
        z: &mut SMatrix<T, N, B>,
    ) {
        z.as_mut_slice().copy_from_slice(a_prev.as_slice());
        for mut column in z.column_iter_mut() {
            for ((v, &offset), &scale) in column
                .iter_mut()
                .zip(self.statistics.column(0).iter())
                .zip(self.statistics.column(1).iter())
            {
                *v = (*v - offset) * scale;
            }
        }
    }

    fn parameter_gradients_into<const B: usize>(
        &self,
        _delta: &SMatrix<T, N, B>,
        _a_prev: &SMatrix<T, N, B>,
        _grads: &mut NoGradients,
    ) {
    }

    /// `dC/dx_i = scale_i delta_i`.
    #[inline]
    fn input_gradient_into<const B: usize>(
        &self,
        delta: &SMatrix<T, N, B>,
        _a_prev: &SMatrix<T, N, B>,
        _noise: Noise,
        grad: &mut SMatrix<T, N, B>,
    ) {
        grad.as_mut_slice().copy_from_slice(delta.as_slice());
        for mut column in grad.column_iter_mut() {
            for (g, &scale) in column.iter_mut().zip(self.statistics.column(1).iter()) {
                *g *= scale;
            }
        }
    }
}

// SAFETY: a `Rescale` is one nalgebra matrix, an array of `T`, and a
// zero-sized `PhantomData`; zero `T`s make a valid (if not yet useful) layer.
unsafe impl<T: Scalar + Zeroable, const N: usize, F> Zeroable for Rescale<T, N, F> {}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::*;

    type Pairs<const N: usize> = [([f64; N], [f64; 1])];

    /// The mean and population deviation of one column, two-pass in f64.
    fn reference(values: &[f64]) -> (f64, f64) {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        (mean, var.sqrt())
    }

    #[test]
    fn standardization_matches_the_two_pass_formula() {
        let rows: &Pairs<3> = &[
            ([1.0, 10.0, 5.0], [0.0]),
            ([2.0, -4.0, 5.0], [0.0]),
            ([4.0, 1e3, 5.0], [0.0]),
            ([-7.5, 0.25, 5.0], [0.0]),
        ];
        let mut layer = Rescale::<f64, 3, Standardization>::identity();
        layer.fit(rows).unwrap();
        for feature in 0..2 {
            let column: Vec<f64> = rows.iter().map(|(x, _)| x[feature]).collect();
            let (mean, std) = reference(&column);
            assert!((layer.offset()[feature] - mean).abs() <= 1e-13 * mean.abs().max(1.0));
            assert!((layer.scale()[feature] * std - 1.0).abs() <= 1e-13);
        }
        // The constant column: its mean, scale 1.
        assert_eq!((layer.offset()[2], layer.scale()[2]), (5.0, 1.0));
        // The training rows come out with mean 0 and variance 1.
        let x = SMatrix::<f64, 3, 4>::from_fn(|i, j| rows[j].0[i]);
        let z = layer.pre_activation(&x, Noise::OFF);
        for feature in 0..2 {
            let column: Vec<f64> = z.row(feature).iter().copied().collect();
            let (mean, std) = reference(&column);
            assert!(
                mean.abs() < 1e-12 && (std - 1.0).abs() < 1e-12,
                "{mean} {std}"
            );
        }
    }

    #[test]
    fn f32_statistics_agree_with_f64() {
        let rows: Vec<([f32; 1], [f32; 1])> = (0..1000)
            .map(|i| ([1000.0 + (i as f32 * 0.37).sin()], [0.0]))
            .collect();
        let wide: Vec<([f64; 1], [f64; 1])> = rows
            .iter()
            .map(|(x, t)| ([f64::from(x[0])], [f64::from(t[0])]))
            .collect();
        let mut narrow = Rescale::<f32, 1, Standardization>::identity();
        narrow.fit(rows.as_slice()).unwrap();
        let mut exact = Rescale::<f64, 1, Standardization>::identity();
        exact.fit(wide.as_slice()).unwrap();
        let relative = |a: f32, b: f64| (f64::from(a) - b).abs() / b.abs();
        assert!(relative(narrow.offset()[0], exact.offset()[0]) < 1e-6);
        // Welford keeps the deviation of values near 1000 to f32's precision
        // of those values (a cancelling E[x^2] - E[x]^2 loses it all).
        assert!(relative(narrow.scale()[0], exact.scale()[0]) < 1e-3);
    }

    #[test]
    fn min_max_maps_the_training_rows_onto_the_unit_interval() {
        let rows: &Pairs<2> = &[
            ([3.0, 1.0], [0.0]),
            ([-1.0, 1.0], [0.0]),
            ([7.0, 1.0], [0.0]),
        ];
        let mut layer = Rescale::<f64, 2, MinMaxScaling>::identity();
        layer.fit(rows).unwrap();
        assert_eq!(layer.offset().as_slice(), &[-1.0, 1.0]);
        assert_eq!(layer.scale().as_slice(), &[0.125, 1.0]);
        let x = SMatrix::<f64, 2, 3>::from_fn(|i, j| rows[j].0[i]);
        let z = layer.pre_activation(&x, Noise::OFF);
        assert_eq!(
            z.row(0).iter().copied().collect::<Vec<_>>(),
            [0.5, 0.0, 1.0]
        );
        assert!(z.row(1).iter().all(|&v| v == 0.0));
    }

    #[test]
    fn bad_data_is_refused_and_the_statistics_kept() {
        let fitted = || {
            let mut layer = Rescale::<f64, 2, Standardization>::identity();
            layer
                .fit(&[([1.0, 2.0], [0.0]), ([3.0, 5.0], [0.0])][..])
                .unwrap();
            layer
        };
        let cases: [(&Pairs<2>, StatisticsError); 4] = [
            (&[], StatisticsError::NoSamples),
            (
                &[([1.0, 2.0], [0.0]), ([3.0, f64::NAN], [0.0])],
                StatisticsError::NonFinite {
                    sample: 1,
                    feature: 1,
                },
            ),
            (
                &[([f64::INFINITY, 2.0], [0.0])],
                StatisticsError::NonFinite {
                    sample: 0,
                    feature: 0,
                },
            ),
            (
                &[([-f64::MAX, 0.0], [0.0]), ([f64::MAX, 0.0], [0.0])],
                StatisticsError::NotRepresentable { feature: 0 },
            ),
        ];
        for (rows, error) in cases {
            let mut layer = fitted();
            assert_eq!(layer.fit(rows), Err(error));
            assert_eq!(layer, fitted());
            let mut layer = Rescale::<f64, 2, MinMaxScaling>::identity();
            let before = layer;
            assert_eq!(layer.fit(rows), Err(error));
            assert_eq!(layer, before);
        }
    }

    #[test]
    fn its_input_gradient_is_the_scale() {
        let layer = Rescale::<f64, 2, Standardization>::new(SMatrix::from_column_slice(&[
            1.0, -2.0, 0.5, 4.0,
        ]));
        let x = SMatrix::<f64, 2, 1>::new(3.0, 1.0);
        assert_eq!(
            layer.pre_activation(&x, Noise::OFF),
            SMatrix::<f64, 2, 1>::new(1.0, 12.0)
        );
        let delta = SMatrix::<f64, 2, 1>::new(1.0, 1.0);
        assert_eq!(
            layer.input_gradient(&delta, &x, Noise::OFF),
            SMatrix::<f64, 2, 1>::new(0.5, 4.0)
        );
    }
}
