//! Selectivity of each unit and sparsity of each pattern of a population's activity (spec §7), and their
//! means (the selectivity/sparsity history, §8.1).
//!
//! Activity arrays are `[patterns × units]` (float32). Sums are accumulated in float64 and rounded to
//! float32 where torch's reduction would round, so results differ from EIANN only by summation order.

use ndarray::{Array1, ArrayView2, Axis};

/// Per-unit selectivity `sel_u = (1 − f_u)/(1 − 1/N)` with `f_u = ((Σ_j A_ju)/N)² / Σ_j (A_ju²/N)` over the N
/// patterns (no epsilon); 0 for a silent unit (`Σ_j A_ju = 0`). 1 = active on exactly one pattern, 0 =
/// equally active on all. `RA.compute_selectivity`.
pub fn selectivity(activity: ArrayView2<'_, f32>) -> Array1<f32> {
    let n = activity.nrows() as f32;
    activity
        .axis_iter(Axis(1))
        .map(|col| {
            let sum = col.iter().map(|&a| a as f64).sum::<f64>() as f32;
            if sum == 0.0 {
                return 0.0;
            }
            let sq = col.iter().map(|&a| ((a * a) / n) as f64).sum::<f64>() as f32;
            let mean = sum / n;
            let f = (mean * mean) / sq;
            (1.0 - f) / (1.0 - 1.0 / n)
        })
        .collect()
}

/// Per-pattern sparsity `sp_j = (1 − g_j)/(1 − 1/n)` with `g_j = ((Σ_u A_ju)/n)² / (Σ_u (A_ju²/n) + 1e-10)`
/// over the n units; 0 for a silent pattern. Not clamped: near-uniform patterns can give tiny negative
/// values, as in EIANN. `RA.compute_sparsity`.
pub fn sparsity(activity: ArrayView2<'_, f32>) -> Array1<f32> {
    let n = activity.ncols() as f32;
    activity
        .axis_iter(Axis(0))
        .map(|row| {
            let sum = row.iter().map(|&a| a as f64).sum::<f64>() as f32;
            if sum == 0.0 {
                return 0.0;
            }
            let sq = row.iter().map(|&a| ((a * a) / n) as f64).sum::<f64>() as f32;
            let mean = sum / n;
            let g = (mean * mean) / (sq + 1e-10);
            (1.0 - g) / (1.0 - 1.0 / n)
        })
        .collect()
}

/// Mean of a float32 series (float64 sum, rounded once), as torch's `mean` up to summation order.
/// NaN for an empty series.
pub fn mean(v: &Array1<f32>) -> f32 {
    if v.is_empty() {
        return f32::NAN;
    }
    (v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64) as f32
}

/// Mean sparsity and mean selectivity of one population's activity: one entry of
/// `RA.compute_sparsity_selectivity_history` (§8.1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SparsitySelectivity {
    /// Mean over patterns of [`sparsity`].
    pub sparsity: f32,
    /// Mean over units of [`selectivity`].
    pub selectivity: f32,
}

/// [`SparsitySelectivity`] of `activity` `[patterns × units]`.
pub fn sparsity_selectivity(activity: ArrayView2<'_, f32>) -> SparsitySelectivity {
    SparsitySelectivity {
        sparsity: mean(&sparsity(activity)),
        selectivity: mean(&selectivity(activity)),
    }
}

/// Number of units with zero total activity over the patterns.
pub fn silent_units(activity: ArrayView2<'_, f32>) -> usize {
    activity
        .axis_iter(Axis(1))
        .filter(|c| c.iter().all(|&a| a == 0.0))
        .count()
}

/// Number of patterns with zero total activity over the units.
pub fn silent_patterns(activity: ArrayView2<'_, f32>) -> usize {
    activity
        .axis_iter(Axis(0))
        .filter(|r| r.iter().all(|&a| a == 0.0))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// Hand-made activity (rows = patterns): unit 0 silent, units 1, 2 and 4 active on one pattern,
    /// unit 3 uniform.
    fn synthetic() -> ndarray::Array2<f32> {
        array![
            [0.0f32, 1.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 2.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0, 3.0],
            [0.0, 0.0, 0.0, 1.0, 0.0]
        ]
    }

    #[test]
    fn selectivity_edge_cases() {
        let a = synthetic();
        let s = selectivity(a.view());
        assert_eq!(s[0], 0.0);
        assert!((s[1] - 1.0).abs() < 1e-6 && (s[2] - 1.0).abs() < 1e-6);
        assert!(s[3].abs() < 1e-6);
        assert_eq!(silent_units(a.view()), 1);
        assert_eq!(silent_patterns(a.view()), 0);
    }

    #[test]
    fn sparsity_of_one_hot_pattern_is_one() {
        let a = array![[0.0f32, 0.0, 5.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]];
        let s = sparsity(a.view());
        assert!((s[0] - 1.0).abs() < 1e-6);
        assert_eq!(s[1], 0.0);
        assert!(s[2].abs() < 1e-6);
    }
}
