//! Weight constraints applied after initialisation and after every update
//! (EIANN `Network.constrain_weights_and_biases` and `rules/weight_functions.py`), on top of the slice
//! kernels' [`Bounds`].

use crate::config::Constraint;
use crate::fast::kernels::avx2_dispatch;
pub use crate::fast::kernels::Bounds;
use crate::network::{Network, Projection};

/// The clamp of a projection's `weight_bounds`, or `None` when both ends are open ([`Bounds::of`]).
pub fn clamp_range(bounds: (Option<f64>, Option<f64>)) -> Option<Bounds> {
    Bounds::of(bounds)
}

/// Clamp every weight into `(lo, hi)` (open where `None`), like `torch.clamp`.
pub fn clamp_weights(p: &mut Projection, bounds: (Option<f64>, Option<f64>)) {
    if let Some(c) = clamp_range(bounds) {
        c.apply_all(&mut p.wt);
    }
}

/// Clamp only the given columns (presynaptic units) of a pre-major matrix.
pub(crate) fn clamp_columns(p: &mut Projection, bounds: (Option<f64>, Option<f64>), cols: &[u32]) {
    let Some(c) = clamp_range(bounds) else {
        return;
    };
    let post = p.post_size;
    for &j in cols {
        let j = j as usize;
        c.apply_all(&mut p.wt[j * post..(j + 1) * post]);
    }
}

/// `no_autapses`: zero the diagonal of a square self-projection.
pub fn no_autapses(p: &mut Projection) {
    let n = p.post_size.min(p.pre_size);
    for i in 0..n {
        p.wt[i * p.post_size + i] = 0.0;
    }
}

/// `normalize_weight(scale, axis=1)`: each postsynaptic unit's row `W[i, :]` is divided by its L1 norm
/// (rows with norm 0 are left alone), then every weight is multiplied by `fl(scale)`.
///
/// With `clamp`, the weights are first clamped to the projection's bounds (`clamp_range`), in the pass
/// that sums the rows when there is no diagonal to zero: the bits of [`clamp_weights`] followed by
/// this function.
///
/// Summation order: PyTorch sums each row with a vectorised cascade reduction (close to the correctly
/// rounded sum); we accumulate in float64 and round once, so the normalised weights can differ by an ulp.
pub fn normalize_weight(
    p: &mut Projection,
    scale: f64,
    zero_diagonal: bool,
    clamp: Option<Bounds>,
    rowsum: &mut [f64],
) {
    let mut clamp = clamp;
    if zero_diagonal {
        // EIANN clamps first, then zeroes the diagonal.
        if let Some(c) = clamp.take() {
            c.apply_all(&mut p.wt);
        }
        no_autapses(p);
    }
    let post = p.post_size;
    let rowsum = &mut rowsum[..post];
    normalize_rows_dispatch(&mut p.wt, post, rowsum, clamp, scale as f32)
}

avx2_dispatch! {
    /// [`normalize_rows`] (with 8-lane AVX2 registers when the CPU has them: the same operations).
    fn normalize_rows_dispatch[](
        wt: &mut [f32],
        post: usize,
        rowsum: &mut [f64],
        clamp: Option<Bounds>,
        scale: f32,
    ) => normalize_rows
}

/// The passes of [`normalize_weight`] over a pre-major matrix (`rowsum`: `post` values of scratch):
/// clamp and sum the rows' `|w|`, then divide each row by its (float32-rounded) norm unless it is 0,
/// and multiply by `scale`.
#[inline(always)]
fn normalize_rows(
    wt: &mut [f32],
    post: usize,
    rowsum: &mut [f64],
    clamp: Option<Bounds>,
    scale: f32,
) {
    rowsum.fill(0.0);
    match clamp {
        Some(c) => add_abs_rows(wt, post, rowsum, |w| c.apply(w)),
        None => add_abs_rows(wt, post, rowsum, |w| w),
    }
    for col in wt.chunks_exact_mut(post) {
        for (w, &s) in col.iter_mut().zip(rowsum.iter()) {
            let s = s as f32;
            if s != 0.0 {
                *w /= s;
            }
            *w *= scale;
        }
    }
}

/// `w = bound(w)` for every weight, and each row's `Σ |w|` (float64) added to `rowsum`.
#[inline(always)]
fn add_abs_rows(wt: &mut [f32], post: usize, rowsum: &mut [f64], bound: impl Fn(f32) -> f32) {
    for col in wt.chunks_exact_mut(post) {
        for (s, w) in rowsum.iter_mut().zip(col) {
            *w = bound(*w);
            *s += w.abs() as f64;
        }
    }
}

/// `clone_weight(source, scale, sign, transpose)`: `W = fl(fl(W_src · fl(scale)) · fl(sign))`, transposed
/// when asked. With `columns`, only the entries derived from those columns of the source are rewritten
/// (the others are unchanged when the source is unchanged there).
pub fn clone_weight(
    target: &mut Projection,
    source: &Projection,
    scale: f64,
    sign: f64,
    transpose: bool,
    columns: Option<&[u32]>,
) {
    let (scale, sign) = (scale as f32, sign as f32);
    let f = |w: f32| (w * scale) * sign;
    let (a, b) = (target.post_size, target.pre_size);
    if transpose {
        // target (a × b) = sourceᵀ with source (b × a): source column k ↦ target row k. Written one
        // target column at a time (contiguous), reading the listed source columns (which stay in cache
        // across target columns), instead of striding over the whole target once per source column.
        let all: Vec<u32>;
        let rows: &[u32] = match columns {
            Some(cols) => cols,
            None => {
                all = (0..a as u32).collect();
                &all
            }
        };
        for (j, tcol) in target.wt.chunks_exact_mut(a.max(1)).enumerate().take(b) {
            for &k in rows {
                let k = k as usize;
                tcol[k] = f(source.wt[k * b + j]);
            }
        }
    } else {
        let mut col = |k: usize| {
            for (t, &s) in target.wt[k * a..(k + 1) * a]
                .iter_mut()
                .zip(&source.wt[k * a..(k + 1) * a])
            {
                *t = f(s);
            }
        };
        match columns {
            None => (0..b).for_each(&mut col),
            Some(cols) => cols.iter().for_each(|&k| col(k as usize)),
        }
    }
}

impl Network {
    /// `constrain_weights_and_biases()`: pass 1 clamps every projection to its bounds and applies its
    /// non-clone constraint (construction order); pass 2 re-derives every clone from its (already updated
    /// and clamped) source.
    pub fn constrain_weights(&mut self) {
        for p in &mut self.projections {
            p.changes.mark_all();
        }
        self.fast.fully_constrained = false;
        self.constrain_changed();
    }

    /// The same result as [`Network::constrain_weights`], but touching only the weights that changed since
    /// the last pass (the rules record the columns they update). Clamping, zeroing a diagonal and
    /// cloning are element-wise and idempotent, so untouched elements already satisfy them; row
    /// normalisation is not idempotent and is always redone in full. Falls back to the full pass after a
    /// state dict was loaded.
    pub(crate) fn constrain_changed(&mut self) {
        self.fast.weights_changed();
        if !self.fast.incremental_constraints() {
            for p in &mut self.projections {
                p.changes.mark_all();
            }
        }
        let fuse = self.fast.speed() == crate::fast::Speed::Fast;
        let Network {
            spec,
            projections,
            scratch_rowsum,
            ..
        } = self;
        for (k, ps) in spec.projections.iter().enumerate() {
            let p = &mut projections[k];
            // Row normalisation is not idempotent in float32 (re-normalising a normalised row moves it by
            // an ulp), so EIANN's every-step normalisation is always redone.
            if matches!(ps.constraint, Some(Constraint::NormalizeWeight { .. })) {
                p.changes.mark_all();
            }
            if p.changes.is_clean() {
                continue;
            }
            // On the fast path, normalised projections are clamped in the pass that sums their rows.
            let fused_in_norm =
                fuse && matches!(ps.constraint, Some(Constraint::NormalizeWeight { .. }));
            if !fused_in_norm && !p.changes.is_clamped() {
                match p.changes.columns() {
                    None => clamp_weights(p, ps.weight_bounds),
                    Some(_) => {
                        let cols = std::mem::take(p.changes.cols_mut());
                        clamp_columns(p, ps.weight_bounds, &cols);
                        *p.changes.cols_mut() = cols;
                    }
                }
            }
            match &ps.constraint {
                Some(Constraint::NoAutapses) if ps.pre == ps.post => no_autapses(p),
                Some(Constraint::NormalizeWeight { scale, autapses }) => {
                    normalize_weight(
                        p,
                        *scale,
                        !autapses && ps.pre == ps.post,
                        clamp_range(ps.weight_bounds).filter(|_| fuse),
                        scratch_rowsum,
                    );
                    p.changes.mark_all();
                }
                _ => {}
            }
        }
        for (k, ps) in spec.projections.iter().enumerate() {
            if let Some(Constraint::CloneWeight {
                source,
                scale,
                sign,
                transpose,
            }) = ps.constraint
            {
                let (target, src) = if k < source {
                    let (a, b) = projections.split_at_mut(source);
                    (&mut a[k], &b[0])
                } else {
                    let (a, b) = projections.split_at_mut(k);
                    (&mut b[0], &a[source])
                };
                if !target.changes.is_clean() {
                    clone_weight(target, src, scale, sign, transpose, None);
                } else if !src.changes.is_clean() {
                    clone_weight(target, src, scale, sign, transpose, src.changes.columns());
                }
            }
        }
        for p in projections.iter_mut() {
            p.changes.clear();
        }
        self.fast.fully_constrained = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proj(post: usize, pre: usize, post_pre: &[f32]) -> Projection {
        let mut p = Projection::zeros(post, pre);
        p.set_from_post_pre(post_pre);
        p
    }

    #[test]
    fn normalize_rows_to_scale() {
        let mut p = proj(2, 2, &[1.0, -3.0, 0.0, 0.0]);
        let mut buf = vec![0.0f64; 2];
        normalize_weight(&mut p, 2.0, false, None, &mut buf);
        assert_eq!(p.to_post_pre().as_slice().unwrap(), &[0.5, -1.5, 0.0, 0.0]);
    }

    /// The clamp done in the row-sum pass (and before the diagonal is zeroed) gives the bits of
    /// `clamp_weights` followed by the normalisation; the AVX2 and portable passes agree.
    #[test]
    fn normalize_with_clamp_equals_clamp_then_normalize() {
        let n = 13;
        let w0: Vec<f32> = (0..n * n)
            .map(|i| ((i * 7919) % 41) as f32 / 10.0 - 2.0)
            .collect();
        let bits = |p: &Projection| p.wt.iter().map(|w| w.to_bits()).collect::<Vec<_>>();
        let mut buf = vec![0.0f64; n];
        for bounds in [
            (Some(0.0), None),
            (None, Some(0.0)),
            (Some(-0.5), Some(1.5)),
        ] {
            for zero_diagonal in [false, true] {
                let mut fused = proj(n, n, &w0);
                normalize_weight(
                    &mut fused,
                    3.0,
                    zero_diagonal,
                    clamp_range(bounds),
                    &mut buf,
                );
                let mut apart = proj(n, n, &w0);
                clamp_weights(&mut apart, bounds);
                normalize_weight(&mut apart, 3.0, zero_diagonal, None, &mut buf);
                assert_eq!(bits(&fused), bits(&apart), "{bounds:?} {zero_diagonal}");
                let mut portable = proj(n, n, &w0);
                if zero_diagonal {
                    no_autapses(&mut portable);
                }
                normalize_rows(&mut portable.wt, n, &mut buf, clamp_range(bounds), 3.0);
                if !zero_diagonal {
                    assert_eq!(bits(&fused), bits(&portable), "{bounds:?}");
                }
            }
        }
        // A row of zeros is left alone.
        let mut p = proj(2, 2, &[0.0, 0.0, -1.0, 1.0]);
        normalize_weight(&mut p, 1.0, false, clamp_range((Some(0.0), None)), &mut buf);
        assert_eq!(p.to_post_pre().as_slice().unwrap(), &[0.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn clone_transposes_and_scales() {
        let src = proj(2, 3, &[1., 2., 3., 4., 5., 6.]);
        let mut t = proj(3, 2, &[0.0; 6]);
        clone_weight(&mut t, &src, 0.5, 1.0, true, None);
        assert_eq!(
            t.to_post_pre().as_slice().unwrap(),
            &[0.5, 2.0, 1.0, 2.5, 1.5, 3.0]
        );
    }

    #[test]
    fn clamp_and_no_autapses() {
        let mut p = proj(2, 2, &[-1.0, 2.0, 3.0, -4.0]);
        clamp_weights(&mut p, (Some(0.0), None));
        no_autapses(&mut p);
        assert_eq!(p.to_post_pre().as_slice().unwrap(), &[0.0, 2.0, 3.0, 0.0]);
    }
}
