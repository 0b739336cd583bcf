//! Class-averaged activity of a population and the heat map drawn from it (spec §3): preferred class per
//! unit, the sorted unit order (ties broken by unit index) and the image `avg[:, order]ᵀ`.

use ndarray::{Array1, Array2, ArrayView2, Axis};

use crate::error::{Error, Result};

/// `avg[c, u]` = mean of `activity[j, u]` over the patterns j with `labels[j] = c`, for c in
/// `0..n_classes` (float32; `RA.compute_test_activity(class_average=True)`). `activity` is
/// `[patterns × units]`. A class without patterns is an error (EIANN would give NaN).
pub fn class_averaged(
    activity: ArrayView2<'_, f32>,
    labels: &[usize],
    n_classes: usize,
) -> Result<Array2<f32>> {
    if labels.len() != activity.nrows() {
        return Err(Error::shape(
            "class labels (one per activity row)",
            activity.nrows(),
            labels.len(),
        ));
    }
    if let Some(&bad) = labels.iter().find(|&&c| c >= n_classes) {
        return Err(Error::invalid(
            "class label",
            format!("{bad} is not below the number of classes {n_classes}"),
        ));
    }
    let units = activity.ncols();
    let mut sums = Array2::<f64>::zeros((n_classes, units));
    let mut counts = vec![0usize; n_classes];
    for (row, &c) in activity.axis_iter(Axis(0)).zip(labels) {
        counts[c] += 1;
        sums.row_mut(c)
            .iter_mut()
            .zip(row)
            .for_each(|(s, &a)| *s += a as f64);
    }
    if let Some(c) = counts.iter().position(|&n| n == 0) {
        return Err(Error::invalid(
            "class-averaged activity",
            format!("class {c} has no patterns"),
        ));
    }
    let mut avg = Array2::<f32>::zeros((n_classes, units));
    for (c, &count) in counts.iter().enumerate().take(n_classes) {
        let n = count as f64;
        avg.row_mut(c)
            .iter_mut()
            .zip(sums.row(c))
            .for_each(|(a, &s)| *a = (s / n) as f32);
    }
    Ok(avg)
}

/// Index of the first maximum of `v` (torch/numpy argmax); 0 for an empty slice.
fn first_argmax(v: impl Iterator<Item = f32>) -> usize {
    let mut best = (0usize, f32::NEG_INFINITY);
    for (i, x) in v.enumerate() {
        if x > best.1 {
            best = (i, x);
        }
    }
    best.0
}

/// Preferred class of every unit: `argmax_c avg[c, u]` (first maximum; a silent unit gets 0).
pub fn unit_labels(avg: ArrayView2<'_, f32>) -> Array1<usize> {
    avg.axis_iter(Axis(1))
        .map(|col| first_argmax(col.iter().copied()))
        .collect()
}

/// The heat map's unit order (§3.2) and what it is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatmapOrder {
    /// Row r of the heat map shows unit `order[r]`: active units by preferred class ascending (ties by
    /// unit index), then the silent units in index order.
    pub order: Vec<usize>,
    /// Preferred class of each active unit, in unit-index order.
    pub preferred_class_active: Vec<usize>,
    /// Number of active units (total class-averaged activity > 0).
    pub n_active: usize,
}

/// [`HeatmapOrder`] of a class-averaged activity `avg` `[classes × units]` (`plot_batch_accuracy_from_data`
/// with `sort=True`, with a stable tie order instead of torch's unstable sort).
pub fn heatmap_order(avg: ArrayView2<'_, f32>) -> HeatmapOrder {
    let totals: Vec<f32> = avg
        .axis_iter(Axis(1))
        .map(|c| c.iter().map(|&a| a as f64).sum::<f64>() as f32)
        .collect();
    let active: Vec<usize> = (0..totals.len()).filter(|&u| totals[u] > 0.0).collect();
    let silent = (0..totals.len()).filter(|&u| totals[u] <= 0.0);
    let prefs: Vec<usize> = active
        .iter()
        .map(|&u| first_argmax(avg.column(u).iter().copied()))
        .collect();
    let mut ranked: Vec<(usize, usize)> =
        prefs.iter().copied().zip(active.iter().copied()).collect();
    ranked.sort_by_key(|&(p, _)| p); // stable: ties keep unit-index order
    let mut order: Vec<usize> = ranked.into_iter().map(|(_, u)| u).collect();
    order.extend(silent);
    HeatmapOrder {
        order,
        preferred_class_active: prefs,
        n_active: active.len(),
    }
}

/// The image drawn for a heat map: `M = avg[:, order]ᵀ` `[units × classes]` (row r = unit `order[r]`).
pub fn heatmap_image(avg: ArrayView2<'_, f32>, order: &[usize]) -> Result<Array2<f32>> {
    let units = avg.ncols();
    if let Some(&bad) = order.iter().find(|&&u| u >= units) {
        return Err(Error::invalid(
            "heat-map order",
            format!("unit {bad} does not exist (the population has {units} units)"),
        ));
    }
    Ok(avg
        .select(Axis(1), order)
        .reversed_axes()
        .as_standard_layout()
        .into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn averages_order_and_image() {
        // 4 patterns, 3 units; classes 0, 1, 1, 0.
        let a = array![
            [1.0f32, 0.0, 0.0],
            [0.0, 0.0, 2.0],
            [0.0, 0.0, 4.0],
            [3.0, 0.0, 0.0]
        ];
        let avg = class_averaged(a.view(), &[0, 1, 1, 0], 2).unwrap();
        assert_eq!(avg, array![[2.0f32, 0.0, 0.0], [0.0, 0.0, 3.0]]);
        assert_eq!(unit_labels(avg.view()).to_vec(), vec![0, 0, 1]);
        let h = heatmap_order(avg.view());
        assert_eq!(h.order, vec![0, 2, 1]);
        assert_eq!(h.preferred_class_active, vec![0, 1]);
        assert_eq!(h.n_active, 2);
        let img = heatmap_image(avg.view(), &h.order).unwrap();
        assert_eq!(img, array![[2.0f32, 0.0], [0.0, 3.0], [0.0, 0.0]]);
    }

    #[test]
    fn ties_by_unit_index() {
        let avg = array![[1.0f32, 0.0, 1.0, 2.0], [0.0, 1.0, 0.0, 0.0]];
        assert_eq!(heatmap_order(avg.view()).order, vec![0, 2, 3, 1]);
    }

    #[test]
    fn bad_input_is_an_error() {
        let a = array![[1.0f32], [2.0]];
        assert!(class_averaged(a.view(), &[0], 2).is_err());
        assert!(class_averaged(a.view(), &[0, 5], 2).is_err());
        assert!(class_averaged(a.view(), &[0, 0], 2).is_err()); // class 1 empty
        assert!(heatmap_image(a.view(), &[3]).is_err());
    }
}
