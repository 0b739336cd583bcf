//! Histories aggregated over seeds: the mean line and the ± population-SD band of Figure 3's panels.

use ndarray::{Array1, ArrayView2, Axis};

use crate::error::{Error, Result};

/// Mean and population standard deviation (divide by n, numpy's `std` default) of `[seeds × steps]`
/// histories, one value per step (float64).
#[derive(Debug, Clone, PartialEq)]
pub struct SeedAggregate {
    /// Mean over seeds at each step.
    pub mean: Array1<f64>,
    /// Population SD over seeds at each step.
    pub sd: Array1<f64>,
    /// Number of values that entered each step's statistics (seeds, minus NaNs for [`nan_aggregate`]).
    pub count: Array1<usize>,
}

impl SeedAggregate {
    /// `mean − sd` at each step (the band's lower edge).
    pub fn lower(&self) -> Array1<f64> {
        &self.mean - &self.sd
    }

    /// `mean + sd` at each step (the band's upper edge).
    pub fn upper(&self) -> Array1<f64> {
        &self.mean + &self.sd
    }
}

fn check(y: &ArrayView2<'_, f32>) -> Result<()> {
    if y.nrows() == 0 {
        return Err(Error::invalid(
            "seed histories",
            "no seeds (the array has 0 rows)",
        ));
    }
    Ok(())
}

fn stats(values: impl Iterator<Item = f64> + Clone) -> (f64, f64, usize) {
    let n = values.clone().count();
    if n == 0 {
        return (f64::NAN, f64::NAN, 0);
    }
    let mean = values.clone().sum::<f64>() / n as f64;
    let var = values.map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64;
    (mean, var.sqrt(), n)
}

fn aggregate_with(y: ArrayView2<'_, f32>, skip_nan: bool) -> Result<SeedAggregate> {
    check(&y)?;
    let t = y.ncols();
    let (mut mean, mut sd, mut count) = (Array1::zeros(t), Array1::zeros(t), Array1::zeros(t));
    for (j, col) in y.axis_iter(Axis(1)).enumerate() {
        let vals = col
            .iter()
            .map(|&v| v as f64)
            .filter(move |v| !(skip_nan && v.is_nan()));
        let (m, s, n) = stats(vals);
        mean[j] = m;
        sd[j] = s;
        count[j] = n;
    }
    Ok(SeedAggregate { mean, sd, count })
}

/// Mean and population SD over the rows (seeds) of `y` `[seeds × steps]`, as `np.mean`/`np.std(axis=0)`:
/// a NaN anywhere in a column makes that step's statistics NaN. Used for the accuracy (§4) and
/// dendritic-state (§5.2) panels. Errors when `y` has no rows.
pub fn aggregate(y: ArrayView2<'_, f32>) -> Result<SeedAggregate> {
    aggregate_with(y, false)
}

/// Like [`aggregate`] but ignoring NaNs (`np.nanmean`/`np.nanstd`, the angle panel §6.6); a step where
/// every seed is NaN gives NaN and count 0.
pub fn nan_aggregate(y: ArrayView2<'_, f32>) -> Result<SeedAggregate> {
    aggregate_with(y, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn population_sd_divides_by_n() {
        let y = array![[1.0f32, 10.0], [3.0, 10.0]];
        let a = aggregate(y.view()).unwrap();
        assert_eq!(a.mean.to_vec(), vec![2.0, 10.0]);
        assert_eq!(a.sd.to_vec(), vec![1.0, 0.0]);
        assert_eq!(a.upper().to_vec(), vec![3.0, 10.0]);
        assert_eq!(a.lower().to_vec(), vec![1.0, 10.0]);
    }

    #[test]
    fn nan_handling_differs_between_the_two() {
        let y = array![[1.0f32, f32::NAN], [3.0, f32::NAN], [f32::NAN, f32::NAN]];
        let a = aggregate(y.view()).unwrap();
        assert!(a.mean[0].is_nan() && a.sd[0].is_nan());
        let b = nan_aggregate(y.view()).unwrap();
        assert_eq!((b.mean[0], b.sd[0], b.count[0]), (2.0, 1.0, 2));
        assert!(b.mean[1].is_nan());
        assert_eq!(b.count[1], 0);
    }

    #[test]
    fn no_seeds_is_an_error() {
        let y = ndarray::Array2::<f32>::zeros((0, 3));
        assert!(aggregate(y.view()).is_err());
    }
}
