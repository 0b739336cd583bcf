//! Linear up-sampling of rate-model time series to the 1 ms spiking grid, bit-exact with
//! `scipy.ndimage.zoom(x, (factor, 1), order=1)` (spec §9.1 step 1).

use ndarray::{Array2, ArrayView2};

use crate::{Error, Result};

/// Interpolation weights of one output sample: `out[o] = x[i]·w0 + x[i+1]·w1`.
#[derive(Debug, Clone, Copy)]
struct Tap {
    i: usize,
    w0: f64,
    w1: f64,
}

/// SciPy's sample grid for an axis of length `n` zoomed to `m = round(n·factor)` samples
/// (`grid_mode=False`: endpoints aligned, `step = (n−1)/(m−1)` in float64; `w1` is `1 − w0`, not the
/// fractional part, as in SciPy's C code).
fn taps(n: usize, m: usize) -> Vec<Tap> {
    let step = if m > 1 {
        (n as f64 - 1.0) / (m as f64 - 1.0)
    } else {
        0.0
    };
    (0..m)
        .map(|o| {
            let c = o as f64 * step;
            let i = c.floor();
            let w0 = 1.0 - (c - i);
            Tap {
                i: i as usize,
                w0,
                w1: 1.0 - w0,
            }
        })
        .collect()
}

/// Number of output samples SciPy produces: `round(n · factor)` (for an integer factor, `n · factor`).
pub fn zoomed_len(n: usize, factor: usize) -> usize {
    n * factor
}

/// Up-sample every column of `x` (time × units) by an integer `factor` along time, exactly like the
/// notebook's `scipy.ndimage.zoom(activity, (time_coefficient, 1), order=1)`.
///
/// Output shape `(n·factor, units)`, float32. Each sample is computed in float64 as
/// `x[i]·w0 + x[i+1]·w1` (the missing `x[n]` counts as 0 with weight 0) and rounded once to float32, so
/// `out[0] = x[0]` and `out[last] = x[n−1]` exactly. Original samples sit `(m−1)/(n−1)` output samples
/// apart (20.95 ms for the figure's 21 → 420), not `factor`.
///
/// Errors: an empty time axis or a zero factor.
pub fn zoom_linear(x: ArrayView2<'_, f32>, factor: usize) -> Result<Array2<f32>> {
    let (n, units) = x.dim();
    if n == 0 {
        return Err(Error::invalid(
            "rate series",
            "the activity series has no time steps",
        ));
    }
    if factor == 0 {
        return Err(Error::invalid("zoom factor", "must be at least 1"));
    }
    let m = zoomed_len(n, factor);
    let mut out = Array2::<f32>::zeros((m, units));
    for (o, tap) in taps(n, m).into_iter().enumerate() {
        let lo = x.row(tap.i);
        let mut row = out.row_mut(o);
        if tap.i + 1 < n {
            let hi = x.row(tap.i + 1);
            for ((dst, &a), &b) in row.iter_mut().zip(lo.iter()).zip(hi.iter()) {
                *dst = (f64::from(a) * tap.w0 + f64::from(b) * tap.w1) as f32;
            }
        } else {
            // SciPy reads the (zero) constant boundary here; 0·w1 adds nothing (and w1 = 0 at the end).
            for (dst, &a) in row.iter_mut().zip(lo.iter()) {
                *dst = (f64::from(a) * tap.w0 + 0.0 * tap.w1) as f32;
            }
        }
    }
    Ok(out)
}

/// One-dimensional form of [`zoom_linear`] (`scipy.ndimage.zoom(x, factor, order=1)`), used by the
/// figure's "rate vs spiking" dendritic-state panel.
pub fn zoom_linear_1d(x: &[f32], factor: usize) -> Result<Vec<f32>> {
    let view = ArrayView2::from_shape((x.len(), 1), x)
        .map_err(|e| Error::shape("zoom input", x.len(), e))?;
    Ok(zoom_linear(view, factor)?.into_raw_vec_and_offset().0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// x[r] = fl32(fl32(r · fl32(0.1))²), r = 0..20: `x = np.arange(21, dtype=np.float32) *
    /// np.float32(0.1); x = x * x`.
    fn squares() -> Vec<f32> {
        (0..21)
            .map(|r| {
                let v = r as f32 * 0.1f32;
                v * v
            })
            .collect()
    }

    #[test]
    fn endpoints_and_grid() {
        let x = squares();
        let z = zoom_linear_1d(&x, 20).unwrap();
        assert_eq!(z.len(), 420);
        assert_eq!(z[0], x[0]);
        assert_eq!(z[419], x[20]);
        // Grid rule: sample o sits at c = o·20/419; the value lies between x[floor c] and x[floor c + 1].
        for (o, &v) in z.iter().enumerate() {
            let c = o as f64 * 20.0 / 419.0;
            let i = c.floor() as usize;
            let (a, b) = (x[i], *x.get(i + 1).unwrap_or(&x[i]));
            assert!(v >= a.min(b) && v <= a.max(b), "o={o}");
        }
    }

    #[test]
    fn matches_scipy_bits() {
        // Computed with SciPy 1.17.1 / NumPy 2.4.6:
        //   z = scipy.ndimage.zoom(x[:, None], (20, 1), order=1); z[o, 0].view(np.uint32)
        // for x as in `squares()`.
        let expected: [(usize, u32); 10] = [
            (1, 972702143),
            (19, 1007982345),
            (20, 1008494871),
            (21, 1009058650),
            (209, 1065277138),
            (210, 1065395259),
            (211, 1065479345),
            (400, 1080646909),
            (418, 1082052352),
            (419, 1082130432),
        ];
        let z = zoom_linear_1d(&squares(), 20).unwrap();
        for (o, bits) in expected {
            assert_eq!(z[o].to_bits(), bits, "sample {o}: {}", z[o]);
        }
        // scipy.ndimage.zoom(np.array([0.1, 0.7, 0.3], np.float32)[:, None], (20, 1), order=1)[[1, 29, 30, 31, 58], 0]
        let z = zoom_linear_1d(&[0.1, 0.7, 0.3], 20).unwrap();
        assert_eq!(z.len(), 60);
        let expected = [
            (1, 0.120_338_983_833_789_83_f64),
            (29, 0.689_830_482_006_073),
            (30, 0.693_220_317_363_739),
            (31, 0.679_661_035_537_719_7),
            (58, 0.313_559_323_549_270_63),
        ];
        for (o, v) in expected {
            // float(z[o]) printed by Python: the exact float64 value of the float32 sample.
            assert_eq!(f64::from(z[o]), v, "sample {o}");
        }
    }

    #[test]
    fn columns_are_independent() {
        let x = Array2::from_shape_fn((21, 3), |(r, c)| (r * (c + 1)) as f32 * 0.01);
        let z = zoom_linear(x.view(), 20).unwrap();
        assert_eq!(z.dim(), (420, 3));
        for c in 0..3 {
            let col: Vec<f32> = x.column(c).to_vec();
            let z1 = zoom_linear_1d(&col, 20).unwrap();
            assert_eq!(z.column(c).to_vec(), z1);
        }
    }

    #[test]
    fn empty_and_zero_factor_are_errors() {
        assert!(zoom_linear_1d(&[], 20).is_err());
        assert!(zoom_linear_1d(&[1.0], 0).is_err());
        assert_eq!(zoom_linear_1d(&[2.5], 3).unwrap(), vec![2.5; 3]);
    }
}
