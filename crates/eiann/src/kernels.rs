//! The float32 arithmetic kernels of the hot loop: matrix–vector products and outer-product updates on
//! pre-major weight matrices, with an AVX2 code path chosen at run time.
//!
//! Every kernel performs, per element, exactly the operations of the plain formula in the same order
//! (no fused multiply-add, no reassociation), so the AVX2 and the portable paths give identical bits; the
//! wider registers only process more elements at once.

use crate::network::Projection;

/// `y = W·x` (`y_i = Σ_j W_ij x_j`, summed over `j` in increasing order) for a pre-major matrix.
/// Presynaptic units with `x_j == 0` are skipped: their terms are ±0 and cannot change the sum.
/// Columns are consumed four at a time (`y_i = (((y_i + w0·x0) + w1·x1) + w2·x2) + w3·x3`), which keeps the
/// sequential summation order while loading and storing `y` a quarter as often.
#[inline]
pub fn matvec(p: &Projection, x: &[f32], y: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe { matvec_avx2(&p.wt, p.post_size, x, y) };
            return;
        }
    }
    matvec_generic(&p.wt, p.post_size, x, y)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn matvec_avx2(wt: &[f32], post: usize, x: &[f32], y: &mut [f32]) {
    matvec_generic(wt, post, x, y)
}

/// `Y = X·Wᵀ` for a batch of `batch` input rows (`x`: `batch × pre`, `y`: `batch × post`), giving for
/// every row exactly the bits [`matvec`] gives. Columns are processed in blocks small enough to stay in
/// the core's cache while every row of the batch uses them; each `y_i` is still summed over `j` in
/// increasing order.
pub fn matmat(p: &Projection, x: &[f32], y: &mut [f32], batch: usize) {
    if batch == 1 {
        return matvec(p, x, y);
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe { matmat_avx2(&p.wt, p.post_size, p.pre_size, x, y, batch) };
            return;
        }
    }
    matmat_generic(&p.wt, p.post_size, p.pre_size, x, y, batch)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn matmat_avx2(wt: &[f32], post: usize, pre: usize, x: &[f32], y: &mut [f32], batch: usize) {
    matmat_generic(wt, post, pre, x, y, batch)
}

#[inline(always)]
fn matmat_generic(wt: &[f32], post: usize, pre: usize, x: &[f32], y: &mut [f32], batch: usize) {
    y[..batch * post].fill(0.0);
    if post == 0 {
        return;
    }
    // ~128 KiB of weights per block.
    let block = (32 * 1024 / post).max(4);
    let mut j0 = 0;
    while j0 < pre {
        let j1 = (j0 + block).min(pre);
        let w = &wt[j0 * post..j1 * post];
        for b in 0..batch {
            accumulate(
                w,
                post,
                &x[b * pre + j0..b * pre + j1],
                &mut y[b * post..(b + 1) * post],
            );
        }
        j0 = j1;
    }
}

#[inline(always)]
fn matvec_generic(wt: &[f32], post: usize, x: &[f32], y: &mut [f32]) {
    let y = &mut y[..post];
    y.fill(0.0);
    if post == 0 {
        return;
    }
    accumulate(wt, post, x, y)
}

/// `y += W·x` over the columns of `wt` (pre-major, `post` rows), in increasing column order.
#[inline(always)]
fn accumulate(wt: &[f32], post: usize, x: &[f32], y: &mut [f32]) {
    let y = &mut y[..post];
    let mut pend: [(usize, f32); 4] = [(0, 0.0); 4];
    let mut n = 0;
    for (j, &xj) in x.iter().enumerate().take(wt.len() / post) {
        if xj != 0.0 {
            pend[n] = (j, xj);
            n += 1;
            if n == 4 {
                let c = |k: usize| &wt[pend[k].0 * post..(pend[k].0 + 1) * post];
                let (c0, c1, c2, c3) = (&c(0)[..post], &c(1)[..post], &c(2)[..post], &c(3)[..post]);
                let (x0, x1, x2, x3) = (pend[0].1, pend[1].1, pend[2].1, pend[3].1);
                for i in 0..post {
                    y[i] = (((y[i] + c0[i] * x0) + c1[i] * x1) + c2[i] * x2) + c3[i] * x3;
                }
                n = 0;
            }
        }
    }
    for &(j, xj) in &pend[..n] {
        let c = &wt[j * post..(j + 1) * post];
        for (yi, &w) in y.iter_mut().zip(c) {
            *yi += w * xj;
        }
    }
}

/// `W[i][j] = fl(W[i][j] ± fl(lr · fl(a_i · b_j)))` for a pre-major matrix (minus when `subtract`).
/// Columns with `b_j == 0` are skipped (their increments are ±0); the indices of the columns that were
/// updated are recorded in the projection's change set.
#[inline]
pub fn outer_update(p: &mut Projection, a: &[f32], b: &[f32], lr: f32, subtract: bool) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe { outer_update_avx2(p, a, b, lr, subtract) };
            return;
        }
    }
    outer_update_generic(p, a, b, lr, subtract)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn outer_update_avx2(p: &mut Projection, a: &[f32], b: &[f32], lr: f32, subtract: bool) {
    outer_update_generic(p, a, b, lr, subtract)
}

#[inline(always)]
fn outer_update_generic(p: &mut Projection, a: &[f32], b: &[f32], lr: f32, subtract: bool) {
    let post = p.post_size;
    if post == 0 {
        return;
    }
    let a = &a[..post];
    for (j, (col, &bj)) in p.wt.chunks_exact_mut(post).zip(b).enumerate() {
        if bj == 0.0 {
            continue;
        }
        p.changes.mark_column(j);
        if subtract {
            for (w, &ai) in col.iter_mut().zip(a) {
                *w -= lr * (ai * bj);
            }
        } else {
            for (w, &ai) in col.iter_mut().zip(a) {
                *w += lr * (ai * bj);
            }
        }
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
    fn matvec_matches_sequential_sum_bit_for_bit() {
        let (post, pre) = (7, 11);
        let w: Vec<f32> = (0..post * pre)
            .map(|k| ((k * 37 % 23) as f32 - 11.0) * 0.173)
            .collect();
        let x: Vec<f32> = (0..pre)
            .map(|j| {
                if j % 3 == 1 {
                    0.0
                } else {
                    j as f32 * 0.31 - 1.2
                }
            })
            .collect();
        let p = proj(post, pre, &w);
        let mut y = vec![5.0; post];
        matvec(&p, &x, &mut y);
        for i in 0..post {
            let mut s = 0f32;
            for j in 0..pre {
                s += w[i * pre + j] * x[j];
            }
            assert_eq!(y[i].to_bits(), s.to_bits(), "row {i}");
        }
    }

    #[test]
    fn matmat_rows_equal_matvec_bits() {
        let (post, pre, batch) = (9, 300, 5);
        let w: Vec<f32> = (0..post * pre)
            .map(|k| ((k * 31 % 17) as f32 - 8.0) * 0.0123)
            .collect();
        let x: Vec<f32> = (0..batch * pre)
            .map(|k| {
                if k % 4 == 0 {
                    0.0
                } else {
                    (k % 13) as f32 * 0.07
                }
            })
            .collect();
        let p = proj(post, pre, &w);
        let mut y = vec![1.0; batch * post];
        matmat(&p, &x, &mut y, batch);
        for b in 0..batch {
            let mut yb = vec![0.0; post];
            matvec(&p, &x[b * pre..(b + 1) * pre], &mut yb);
            let got: Vec<u32> = y[b * post..(b + 1) * post]
                .iter()
                .map(|v| v.to_bits())
                .collect();
            let want: Vec<u32> = yb.iter().map(|v| v.to_bits()).collect();
            assert_eq!(got, want, "row {b}");
        }
    }

    #[test]
    fn outer_update_records_changed_columns() {
        let mut p = proj(2, 3, &[0.0; 6]);
        outer_update(&mut p, &[1.0, 2.0], &[0.0, 0.5, 1.0], 0.5, false);
        assert_eq!(
            p.to_post_pre().as_slice().unwrap(),
            &[0.0, 0.25, 0.5, 0.0, 0.5, 1.0]
        );
        assert_eq!(p.changes.columns(), Some(&[1u32, 2][..]));
    }
}
