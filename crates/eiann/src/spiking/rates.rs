//! Conversion of a rate-model activity series into presynaptic firing rates on the 1 ms grid
//! (spec §9.1 steps 1–3).

use ndarray::{s, Array2, ArrayView2};

use super::params::SpikingParams;
use super::upsample::zoom_linear;
use crate::Result;

/// Firing rates in Hz, `(T = steps·ms_per_rate_step, n)` float32, from an activity series
/// `(steps, n)` — the notebook's `poisson_rates[pre]`:
///
/// 1. `Z = zoom(activity, (ms_per_rate_step, 1), order=1)` ([`zoom_linear`]);
/// 2. `rate = clip(fl(fl(max_rate_hz) · Z), 0, fl(1000 / refractory_ms))`;
/// 3. if `recurrent` (a projection with direction `R`), delay by one rate step: row `o` takes old row
///    `o − ms_per_rate_step` and rows `0..ms_per_rate_step` are zero (the notebook's `torch.roll` whose
///    wrapped rows are then multiplied by 0).
///
/// Errors: an empty series or invalid parameters. Negative activities are allowed (they clip to 0 Hz).
pub fn poisson_rates(
    activity: ArrayView2<'_, f32>,
    recurrent: bool,
    params: &SpikingParams,
) -> Result<Array2<f32>> {
    params.validate()?;
    let z = zoom_linear(activity, params.ms_per_rate_step)?;
    Ok(rates_from_zoomed(z, recurrent, params))
}

/// Steps 2–3 of [`poisson_rates`] applied in place to an already up-sampled series.
pub(crate) fn rates_from_zoomed(
    mut z: Array2<f32>,
    recurrent: bool,
    params: &SpikingParams,
) -> Array2<f32> {
    let gain = params.max_rate_hz as f32;
    let cap = params.rate_cap_hz() as f32;
    // torch.clip(max_rate * Z, 0, cap): NaN would propagate; inputs are checked downstream.
    z.mapv_inplace(|v| (gain * v).clamp(0.0, cap));
    if recurrent {
        let t = z.nrows();
        let delay = params.ms_per_rate_step.min(t);
        if delay > 0 {
            let shifted = z.slice(s![..t - delay, ..]).to_owned();
            z.slice_mut(s![delay.., ..]).assign(&shifted);
            z.slice_mut(s![..delay, ..]).fill(0.0);
        }
    }
    z
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn scale_clip_and_delay() {
        let p = SpikingParams::default();
        // Activity 0.5 → 225 Hz; 3.0 → 1350 Hz clipped to 1000; −1 → 0.
        let a = Array2::from_shape_fn((21, 3), |(_, c)| [0.5f32, 3.0, -1.0][c]);
        let r = poisson_rates(a.view(), false, &p).unwrap();
        assert_eq!(r.dim(), (420, 3));
        assert!(r.column(0).iter().all(|&v| v == 225.0));
        assert!(r.column(1).iter().all(|&v| v == 1000.0));
        assert!(r.column(2).iter().all(|&v| v == 0.0));

        let ramp = Array2::from_shape_fn((21, 1), |(t, _)| t as f32 * 0.05);
        let ff = poisson_rates(ramp.view(), false, &p).unwrap();
        let rec = poisson_rates(ramp.view(), true, &p).unwrap();
        assert!(rec.slice(s![..20, ..]).iter().all(|&v| v == 0.0));
        assert_eq!(rec.slice(s![20.., ..]), ff.slice(s![..400, ..]));
    }

    #[test]
    fn empty_series_is_an_error() {
        let a = Array2::<f32>::zeros((0, 5));
        let e = poisson_rates(a.view(), false, &SpikingParams::default()).unwrap_err();
        assert!(e.to_string().contains("no time steps"), "{e}");
    }
}
