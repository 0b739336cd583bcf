//! The float32 arithmetic kernels of the hot loop, on bare slices: matrix–vector products and
//! outer-product updates of pre-major weight matrices (`wt[j · post + i] = W[i][j]`), the clamp of one
//! weight ([`Bounds`]), and the AVX2 code paths chosen at run time ([`avx2_dispatch!`]).
//!
//! Every kernel performs, per element, exactly the operations of the plain formula in the same order
//! (no fused multiply-add, no reassociation), so the AVX2 and the portable paths give identical bits; the
//! wider registers only process more elements at once. [`matmat_plain`] is the plain formula itself, the
//! reference the tests and the reference path ([`super::Speed::Reference`]) hold the others against.

/// Whether the AVX2 versions of the element-wise loops may run (checked once, then cached by std).
#[inline(always)]
pub(crate) fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `fn $name(args) { $body(args) }`, where the call runs a copy of the `#[inline(always)]` function
/// `$body` compiled with AVX2 enabled when the CPU has it (8-lane registers for the same operations,
/// hence the same bits), else the baseline build. The one place the run-time dispatch is written.
macro_rules! avx2_dispatch {
    ($(#[$meta:meta])* $vis:vis fn $name:ident [$($gen:tt)*] ($($arg:ident : $ty:ty),* $(,)?) => $body:path) => {
        $(#[$meta])*
        #[inline(always)]
        $vis fn $name<$($gen)*>($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                fn avx2<$($gen)*>($($arg: $ty),*) {
                    $body($($arg),*)
                }
                if $crate::fast::kernels::has_avx2() {
                    // SAFETY: the CPU supports AVX2 (checked just above).
                    unsafe { avx2($($arg),*) };
                    return;
                }
            }
            $body($($arg),*)
        }
    };
}
pub(crate) use avx2_dispatch;

/// A projection's `weight_bounds` as float32 (`∓∞` where open): `torch.clamp(w, lo, hi)` of one weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    pub lo: f32,
    pub hi: f32,
}

impl Bounds {
    /// The clamp of `(lo, hi)` bounds (open where `None`), or `None` when both ends are open (then
    /// nothing is clamped, as EIANN skips `torch.clamp`).
    pub fn of(bounds: (Option<f64>, Option<f64>)) -> Option<Bounds> {
        match bounds {
            (None, None) => None,
            (lo, hi) => Some(Bounds {
                lo: lo.map_or(f32::NEG_INFINITY, |v| v as f32),
                hi: hi.map_or(f32::INFINITY, |v| v as f32),
            }),
        }
    }

    /// `max(w, lo).min(hi)`: the clamp of one weight, wherever weights are clamped.
    #[inline(always)]
    pub fn apply(self, w: f32) -> f32 {
        w.max(self.lo).min(self.hi)
    }

    /// Clamp every weight of `ws`.
    #[inline(always)]
    pub fn apply_all(self, ws: &mut [f32]) {
        for w in ws {
            *w = self.apply(*w);
        }
    }
}

/// The plain formula `y_i = Σ_j W_ij x_j` (sequential over `j`, every term, no skipping) for each of
/// `batch` rows: the reference every faster product is tested against. With finite weights it gives
/// the bits of [`matmat_slices`] (a zero term added to a sum started at +0 never changes it).
pub fn matmat_plain(wt: &[f32], post: usize, pre: usize, x: &[f32], y: &mut [f32], batch: usize) {
    for b in 0..batch {
        let yb = &mut y[b * post..(b + 1) * post];
        yb.fill(0.0);
        for (j, &xj) in x[b * pre..(b + 1) * pre].iter().enumerate() {
            for (yi, &w) in yb.iter_mut().zip(&wt[j * post..(j + 1) * post]) {
                *yi += w * xj;
            }
        }
    }
}

/// `y = W·x` for each of `batch` rows (`x`: `batch × pre`, `y`: `batch × post`) of a bare pre-major
/// matrix (`wt[j * post + i] = W[i][j]`, `pre × post` values), summed over `j` in increasing order; also
/// used for several projections stacked side by side ([`super::stacks`]). Presynaptic units with
/// `x_j == 0` are skipped: their terms are ±0 and cannot change the sum.
///
/// With AVX2, the nonzero entries of `x` are gathered per block of 64 columns and every tile of up to 64
/// postsynaptic units is accumulated in registers over them (`avx2::matmat`); otherwise columns
/// are consumed four at a time (`y_i = (((y_i + w0·x0) + w1·x1) + w2·x2) + w3·x3`). Both keep the
/// sequential summation order of the plain formula, so they give its bits.
pub fn matmat_slices(wt: &[f32], post: usize, pre: usize, x: &[f32], y: &mut [f32], batch: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        // The AVX2 kernel addresses columns by 32-bit offsets (matrices of up to 2³² − 1 weights).
        if std::arch::is_x86_feature_detected!("avx2") && wt.len() <= u32::MAX as usize {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe { avx2::matmat(wt, post, pre, x, y, batch) };
            return;
        }
    }
    if batch == 1 {
        matvec_generic(wt, post, x, y)
    } else {
        matmat_generic(wt, post, pre, x, y, batch)
    }
}

/// Columns per cache block of [`matmat`]: about 128 KiB of weights.
fn block_columns(post: usize) -> usize {
    (32 * 1024 / post.max(1)).max(4)
}

fn matmat_generic(wt: &[f32], post: usize, pre: usize, x: &[f32], y: &mut [f32], batch: usize) {
    y[..batch * post].fill(0.0);
    if post == 0 {
        return;
    }
    let block = block_columns(post);
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

/// The AVX2 matrix–vector kernels: register-tiled sums over the nonzero presynaptic units.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;
    use std::mem::MaybeUninit;

    /// f32 lanes per register.
    const LANES: usize = 8;
    /// Registers of postsynaptic units accumulated at once (a tile of 64 units). A row of `8k + 1`
    /// registers ends with one tile of 9 instead of a tile of 8 and a tile of 1 (each gathered entry costs
    /// a load, a broadcast and loop control per tile: a 1-register tile pays them for one product).
    const TILE: usize = 8;
    /// Columns per cache block of [`matmat`] (several rows reuse each block's weights).
    const BLOCK: usize = 64;
    /// Columns per block when there is a single row (no reuse: longer sums per register tile).
    const SINGLE_BLOCK: usize = 512;
    /// Batch rows gathered per block (a stack buffer of `ROWS × BLOCK` entries): each tile's 16 KiB of
    /// weights, brought from L2 into L1 once per block, serves up to 32 rows.
    const ROWS: usize = 32;
    /// With a single row, the tile loop prefetches the weights of the entry this many places ahead.
    const PREFETCH: usize = 8;

    /// `Y = X·Wᵀ` (see [`super::matmat`]), cache-blocked: for each block of [`BLOCK`] columns, the
    /// nonzero entries of every row are gathered once, and each tile of 64 postsynaptic units (at most
    /// 16 KiB of weights, which stay in L1) is accumulated for every row of the batch in turn.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn matmat(
        wt: &[f32],
        post: usize,
        pre: usize,
        x: &[f32],
        y: &mut [f32],
        batch: usize,
    ) {
        if post == 0 {
            return;
        }
        let cols = pre.min(wt.len() / post);
        if cols == 0 {
            y[..batch * post].fill(0.0);
            return;
        }
        // SAFETY (both calls): AVX2 is enabled (this function's contract).
        unsafe {
            if batch == 1 {
                // One row (training): nothing to reuse across rows, so one long block per tile.
                matmat_rows::<1, SINGLE_BLOCK, SINGLE_BLOCK, PREFETCH>(
                    wt, post, pre, cols, x, y, batch,
                )
            } else {
                matmat_rows::<ROWS, BLOCK, { ROWS * BLOCK }, 0>(wt, post, pre, cols, x, y, batch)
            }
        }
    }

    /// [`matmat`] gathering `R` rows at a time in blocks of `B` columns (`N = R × B` buffer entries,
    /// on the stack and left uninitialised: only gathered entries are read); `cols` columns are used.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn matmat_rows<const R: usize, const B: usize, const N: usize, const PF: usize>(
        wt: &[f32],
        post: usize,
        pre: usize,
        cols: usize,
        x: &[f32],
        y: &mut [f32],
        batch: usize,
    ) {
        let regs = post.div_ceil(LANES);
        debug_assert_eq!(N, R * B);
        let mut nz = [MaybeUninit::<Nonzero>::uninit(); N];
        let mut counts = [0usize; R];
        for b0 in (0..batch).step_by(R) {
            let rows = (batch - b0).min(R);
            for j0 in (0..cols).step_by(B) {
                let j1 = (j0 + B).min(cols);
                for (r, count) in counts.iter_mut().enumerate().take(rows) {
                    let xb = &x[(b0 + r) * pre + j0..(b0 + r) * pre + j1];
                    *count = gather_nonzero(xb, j0, post, &mut nz[r * B..(r + 1) * B]);
                }
                let fresh = j0 == 0;
                let mut g = 0;
                while g < regs {
                    let t = tile_width(regs - g);
                    // SAFETY: AVX2 is enabled; registers g..g + t lie in 0..regs; gather_nonzero
                    // initialised the first counts[r] entries of row r's block, and every gathered
                    // offset is that of a column < cols, which lies inside `wt`.
                    unsafe {
                        tiles::<PF>(
                            wt,
                            post,
                            g,
                            t,
                            Gathered {
                                entries: nz.as_ptr().cast::<Nonzero>(),
                                stride: B,
                                counts: &counts[..rows],
                            },
                            &mut y[b0 * post..(b0 + rows) * post],
                            fresh,
                        )
                    };
                    g += t;
                }
            }
        }
    }

    /// Registers in the tile that starts with `left` registers of the row still to do: [`TILE`], or
    /// `TILE + 1` when exactly that many are left (see [`TILE`]).
    fn tile_width(left: usize) -> usize {
        if left == TILE + 1 {
            left
        } else {
            left.min(TILE)
        }
    }

    /// The gathered entries of the rows of one block: row `r`'s `counts[r]` entries start at
    /// `entries + r · stride`.
    #[derive(Clone, Copy)]
    struct Gathered<'a> {
        entries: *const Nonzero,
        stride: usize,
        counts: &'a [usize],
    }

    /// A gathered presynaptic entry: where its column starts in the weights (`column · post`, so the
    /// kernel needs no multiplication per entry and tile) and its (nonzero) value, laid out as the AVX2
    /// gather stores them.
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Nonzero {
        offset: u32,
        x: f32,
    }

    /// For every 8-bit mask, the lanes whose bit is set, packed to the front (AVX2 "left-pack").
    static LEFT_PACK: [[u32; LANES]; 256] = left_pack_table();

    const fn left_pack_table() -> [[u32; LANES]; 256] {
        let mut table = [[0u32; LANES]; 256];
        let mut mask = 0;
        while mask < 256 {
            let (mut lane, mut k) = (0, 0);
            while lane < LANES {
                if mask & (1 << lane) != 0 {
                    table[mask][k] = lane as u32;
                    k += 1;
                }
                lane += 1;
            }
            mask += 1;
        }
        table
    }

    /// Writes the nonzero entries of `x` (columns `first..first + x.len()`; NaN counts as nonzero, ±0
    /// does not) to the front of `out` as `(column · post, value)` pairs ([`Nonzero`]) in increasing
    /// column order, and returns how many there are. Eight entries at a time: compare, look up the
    /// packing permutation of the lane mask, permute, store all eight pairs (only the first `popcount`
    /// count: the rest are overwritten later or ignored). Branch-free, unlike a scalar `if x != 0` loop
    /// on irregular activity. Requires `(first + x.len()) · post <= u32::MAX`.
    #[target_feature(enable = "avx2")]
    fn gather_nonzero(
        x: &[f32],
        first: usize,
        post: usize,
        out: &mut [MaybeUninit<Nonzero>],
    ) -> usize {
        assert!(out.len() >= x.len() && (first + x.len()) * post <= u32::MAX as usize);
        let stride = _mm256_set1_epi32(post as i32);
        let zero = _mm256_setzero_ps();
        let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        let mut n = 0;
        let mut j = 0;
        while j + LANES <= x.len() {
            // SAFETY: lanes j..j+8 of x exist; the 8 pairs stored at n..n+8 fit because n <= j and
            // j + 8 <= x.len() <= out.len(); `Nonzero` is repr(C) (u32, f32), 8 bytes per pair.
            unsafe {
                let v = _mm256_loadu_ps(x.as_ptr().add(j));
                let mask = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_NEQ_UQ>(v, zero)) as usize;
                let perm = _mm256_loadu_si256(LEFT_PACK[mask].as_ptr().cast());
                let vals = _mm256_permutevar8x32_ps(v, perm);
                let cols = _mm256_add_epi32(
                    _mm256_permutevar8x32_epi32(lanes, perm),
                    _mm256_set1_epi32((first + j) as i32),
                );
                // Low 32 bits of column · post: exact, as every product fits in a u32 (asserted).
                let offsets = _mm256_castsi256_ps(_mm256_mullo_epi32(cols, stride));
                // Interleave (offset, value): lo = pairs 0,1 | 4,5; hi = pairs 2,3 | 6,7.
                let lo = _mm256_unpacklo_ps(offsets, vals);
                let hi = _mm256_unpackhi_ps(offsets, vals);
                let dst = out.as_mut_ptr().add(n).cast::<f32>();
                _mm256_storeu_ps(dst, _mm256_permute2f128_ps::<0x20>(lo, hi));
                _mm256_storeu_ps(dst.add(LANES), _mm256_permute2f128_ps::<0x31>(lo, hi));
                n += mask.count_ones() as usize;
            }
            j += LANES;
        }
        for (k, &xj) in x.iter().enumerate().skip(j) {
            out[n] = MaybeUninit::new(Nonzero {
                offset: ((first + k) * post) as u32,
                x: xj,
            });
            n += usize::from(xj != 0.0);
        }
        n
    }

    /// For every row `r` of the block: `y_r (+)= Σ_k W[:, j_k] · x_k` over the registers `g..g + t` of
    /// `y_r` (8 postsynaptic units each, the last one partial when `post` is not a multiple of 8) for the
    /// row's gathered `(j_k · post, x_k)`, summed in the order given, with every register of the tile
    /// held in a CPU register for the whole sum; the sum starts from `+0.0` when `fresh` (as
    /// `y.fill(0.0)` would), else from `y_r`. Rows without entries are left alone unless `fresh`.
    ///
    /// # Safety
    /// AVX2; `1 <= t <= TILE + 1` and `g + t <= post.div_ceil(8)`; `rows.counts[r]` initialised entries
    /// at `rows.entries + r · rows.stride`, each offset that of a column inside `wt`;
    /// `y.len() == rows.counts.len() · post`.
    #[target_feature(enable = "avx2")]
    unsafe fn tiles<const PF: usize>(
        wt: &[f32],
        post: usize,
        g: usize,
        t: usize,
        rows: Gathered,
        y: &mut [f32],
        fresh: bool,
    ) {
        // SAFETY: forwarded from the caller.
        unsafe {
            match t {
                9 => tile_rows::<9, PF>(wt, post, g, rows, y, fresh),
                8 => tile_rows::<8, PF>(wt, post, g, rows, y, fresh),
                7 => tile_rows::<7, PF>(wt, post, g, rows, y, fresh),
                6 => tile_rows::<6, PF>(wt, post, g, rows, y, fresh),
                5 => tile_rows::<5, PF>(wt, post, g, rows, y, fresh),
                4 => tile_rows::<4, PF>(wt, post, g, rows, y, fresh),
                3 => tile_rows::<3, PF>(wt, post, g, rows, y, fresh),
                2 => tile_rows::<2, PF>(wt, post, g, rows, y, fresh),
                _ => tile_rows::<1, PF>(wt, post, g, rows, y, fresh),
            }
        }
    }

    /// [`tiles`] for a tile of `T` registers: one [`tile`] per row.
    ///
    /// # Safety
    /// As [`tiles`], with `t = T`.
    #[target_feature(enable = "avx2")]
    unsafe fn tile_rows<const T: usize, const PF: usize>(
        wt: &[f32],
        post: usize,
        g: usize,
        rows: Gathered,
        y: &mut [f32],
        fresh: bool,
    ) {
        let tail = post % LANES;
        for (r, (&n, yr)) in rows.counts.iter().zip(y.chunks_exact_mut(post)).enumerate() {
            if n == 0 && !fresh {
                continue;
            }
            // SAFETY: the caller guarantees n initialised entries at this row's start.
            let list = unsafe { std::slice::from_raw_parts(rows.entries.add(r * rows.stride), n) };
            // SAFETY: forwarded from the caller.
            unsafe { tile::<T, PF>(wt, post, g, tail, list, yr, fresh) };
        }
    }

    /// Lane mask of the first `n` (1..=7) lanes.
    #[target_feature(enable = "avx2")]
    fn first_lanes(n: usize) -> __m256i {
        let idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        _mm256_cmpgt_epi32(_mm256_set1_epi32(n as i32), idx)
    }

    /// Registers `r0..r0+T` of `y`; the last register of `y` is partial when `tail > 0`.
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn tile<const T: usize, const PF: usize>(
        wt: &[f32],
        post: usize,
        r0: usize,
        tail: usize,
        nz: &[Nonzero],
        y: &mut [f32],
        fresh: bool,
    ) {
        let regs = post.div_ceil(LANES);
        // The partial register, if any, is the last of the tile (only the last tile reaches it).
        let partial = tail > 0 && r0 + T == regs;
        let mask = first_lanes(if partial { tail } else { LANES });
        let w = wt.as_ptr();
        let yp = y.as_mut_ptr();
        let off = |t: usize| (r0 + t) * LANES;
        let mut acc = [_mm256_setzero_ps(); T];
        // SAFETY (all pointer accesses below): register `t` covers units off(t)..off(t)+8, all < post
        // except in the partial register, which is only touched through `mask` (lanes < post).
        // Every gathered offset is j · post for a column with (j + 1) * post <= wt.len() (caller's
        // guarantee).
        unsafe {
            for (t, a) in acc.iter_mut().enumerate().filter(|_| !fresh) {
                *a = if partial && t == T - 1 {
                    _mm256_maskload_ps(yp.add(off(t)), mask)
                } else {
                    _mm256_loadu_ps(yp.add(off(t)))
                };
            }
            if partial {
                for &Nonzero { offset, x: xj } in nz {
                    let xv = _mm256_set1_ps(xj);
                    let col = w.add(offset as usize);
                    for (t, a) in acc.iter_mut().enumerate().take(T - 1) {
                        *a = _mm256_add_ps(*a, _mm256_mul_ps(_mm256_loadu_ps(col.add(off(t))), xv));
                    }
                    let last = _mm256_maskload_ps(col.add(off(T - 1)), mask);
                    acc[T - 1] = _mm256_add_ps(acc[T - 1], _mm256_mul_ps(last, xv));
                }
            } else {
                for (i, &Nonzero { offset, x: xj }) in nz.iter().enumerate() {
                    if PF > 0 {
                        // This tile's weights of the entry PF places ahead (a single row's weights
                        // come from L2 or beyond, in an order the hardware cannot predict).
                        if let Some(e) = nz.get(i + PF) {
                            let p = w.wrapping_add(e.offset as usize + off(0)).cast::<i8>();
                            let mut l = 0;
                            while l < T * 32 {
                                _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(l));
                                l += 64;
                            }
                            _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(T * 32 - 1));
                        }
                    }
                    let xv = _mm256_set1_ps(xj);
                    let col = w.add(offset as usize);
                    for (t, a) in acc.iter_mut().enumerate() {
                        *a = _mm256_add_ps(*a, _mm256_mul_ps(_mm256_loadu_ps(col.add(off(t))), xv));
                    }
                }
            }
            for (t, a) in acc.iter().enumerate() {
                if partial && t == T - 1 {
                    _mm256_maskstore_ps(yp.add(off(t)), mask, *a);
                } else {
                    _mm256_storeu_ps(yp.add(off(t)), *a);
                }
            }
        }
    }

    /// Columns summed side by side by [`transpose_matvec`]: `NB` blocks of 8, one accumulator each.
    const T_BLOCKS: usize = 4;

    /// `out_j = Σ_i W[i][j] v_i` (see [`super::transpose_matvec`]): for each block of 8 columns, 8×8 tiles
    /// (8 consecutive `i` of 8 columns) are loaded and transposed in registers, so that one register holds
    /// `W[i][j..j+8]` for one `i`; it is multiplied by the broadcast `v_i` and added to the block's
    /// accumulator, `i` ascending. Each lane therefore computes `(((0 + w₀v₀) + w₁v₁) + …)`, the plain
    /// order; rows past the last full tile are added lane by lane, in order, at the end.
    ///
    /// # Safety
    /// The CPU must support AVX2; `wt.len() >= out.len() * post` and `v.len() >= post`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn transpose_matvec(wt: &[f32], post: usize, v: &[f32], out: &mut [f32]) {
        debug_assert!(wt.len() >= out.len() * post && v.len() >= post);
        let pre = out.len();
        let full = post / LANES * LANES;
        let mut j = 0;
        // SAFETY (the calls below): AVX2 is enabled; every column read lies inside `wt` (checked above).
        unsafe {
            while j + T_BLOCKS * LANES <= pre {
                columns::<T_BLOCKS>(wt, post, full, v, &mut out[j..j + T_BLOCKS * LANES], j);
                j += T_BLOCKS * LANES;
            }
            while j + LANES <= pre {
                columns::<1>(wt, post, full, v, &mut out[j..j + LANES], j);
                j += LANES;
            }
        }
        for (jj, o) in out.iter_mut().enumerate().skip(j) {
            let col = &wt[jj * post..(jj + 1) * post];
            let mut acc = 0f32;
            for (&w, &vi) in col.iter().zip(&v[..post]) {
                acc += w * vi;
            }
            *o = acc;
        }
    }

    /// `NB × 8` columns starting at `j0` into `out` (`NB × 8` values); `full` = rows in whole tiles.
    ///
    /// # Safety
    /// AVX2; columns `j0 .. j0 + NB·8` of `post` rows inside `wt`, `v.len() >= post`.
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn columns<const NB: usize>(
        wt: &[f32],
        post: usize,
        full: usize,
        v: &[f32],
        out: &mut [f32],
        j0: usize,
    ) {
        let base = wt.as_ptr();
        let col = |b: usize, c: usize| j0 * post + (b * LANES + c) * post;
        let mut acc = [_mm256_setzero_ps(); NB];
        let mut i = 0;
        while i < full {
            for (b, a) in acc.iter_mut().enumerate() {
                let mut x = [_mm256_setzero_ps(); 8];
                for (c, xc) in x.iter_mut().enumerate() {
                    // SAFETY: column `j0 + 8b + c`, rows `i .. i + 8 <= full <= post`, lies inside `wt`.
                    *xc = unsafe { _mm256_loadu_ps(base.add(col(b, c) + i)) };
                }
                // 8×8 transpose: y[k] = (x[0][k], …, x[7][k]), i.e. W[i + k][j0 + 8b .. j0 + 8b + 8].
                let t0 = _mm256_unpacklo_ps(x[0], x[1]);
                let t1 = _mm256_unpackhi_ps(x[0], x[1]);
                let t2 = _mm256_unpacklo_ps(x[2], x[3]);
                let t3 = _mm256_unpackhi_ps(x[2], x[3]);
                let t4 = _mm256_unpacklo_ps(x[4], x[5]);
                let t5 = _mm256_unpackhi_ps(x[4], x[5]);
                let t6 = _mm256_unpacklo_ps(x[6], x[7]);
                let t7 = _mm256_unpackhi_ps(x[6], x[7]);
                let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
                let s1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
                let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
                let s3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
                let s4 = _mm256_shuffle_ps::<0x44>(t4, t6);
                let s5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
                let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
                let s7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
                let y = [
                    _mm256_permute2f128_ps::<0x20>(s0, s4),
                    _mm256_permute2f128_ps::<0x20>(s1, s5),
                    _mm256_permute2f128_ps::<0x20>(s2, s6),
                    _mm256_permute2f128_ps::<0x20>(s3, s7),
                    _mm256_permute2f128_ps::<0x31>(s0, s4),
                    _mm256_permute2f128_ps::<0x31>(s1, s5),
                    _mm256_permute2f128_ps::<0x31>(s2, s6),
                    _mm256_permute2f128_ps::<0x31>(s3, s7),
                ];
                for (k, yk) in y.iter().enumerate() {
                    *a = _mm256_add_ps(*a, _mm256_mul_ps(*yk, _mm256_set1_ps(v[i + k])));
                }
            }
            i += LANES;
        }
        for (b, a) in acc.iter().enumerate() {
            let mut lanes = [0f32; LANES];
            // SAFETY: `lanes` holds 8 floats.
            unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), *a) };
            for (c, l) in lanes.iter_mut().enumerate() {
                let start = col(b, c);
                for (&w, &vi) in wt[start + full..start + post].iter().zip(&v[full..post]) {
                    *l += w * vi;
                }
            }
            out[b * LANES..(b + 1) * LANES].copy_from_slice(&lanes);
        }
    }
}

/// `W[i][j] = fl(W[i][j] ± fl(lr · fl(a_i · b_j)))` for a pre-major matrix of `post` rows (minus when
/// `subtract`), each result passed through `clamp` (`Bounds::apply`) when given — the clamp of the
/// constraint pass, fused into the update. Columns with `b_j == 0` are skipped (their increments are
/// ±0); `changed(j)` is called for every column that was updated, in increasing order.
// Kernels take slices and plain numbers only (no model types), hence the long argument list.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn outer_update(
    wt: &mut [f32],
    post: usize,
    a: &[f32],
    b: &[f32],
    lr: f32,
    subtract: bool,
    clamp: Option<Bounds>,
    changed: &mut dyn FnMut(usize),
) {
    let lr = if subtract {
        Lr::Minus(lr)
    } else {
        Lr::Plus(lr)
    };
    match clamp {
        Some(c) => update_columns(wt, post, a, b, lr, |w| c.apply(w), changed),
        None => update_columns(wt, post, a, b, lr, |w| w, changed),
    }
}

/// The learning rate of [`outer_update`] with the direction of the update.
#[derive(Clone, Copy)]
enum Lr {
    Plus(f32),
    Minus(f32),
}

avx2_dispatch! {
    /// [`outer_update_body`] (with 8-lane AVX2 registers when the CPU has them).
    fn update_columns[B: Fn(f32) -> f32](
        wt: &mut [f32],
        post: usize,
        a: &[f32],
        b: &[f32],
        lr: Lr,
        bound: B,
        changed: &mut dyn FnMut(usize),
    ) => outer_update_body
}

#[inline(always)]
fn outer_update_body(
    wt: &mut [f32],
    post: usize,
    a: &[f32],
    b: &[f32],
    lr: Lr,
    bound: impl Fn(f32) -> f32,
    changed: &mut dyn FnMut(usize),
) {
    if post == 0 {
        return;
    }
    let a = &a[..post];
    for (j, (col, &bj)) in wt.chunks_exact_mut(post).zip(b).enumerate() {
        if bj == 0.0 {
            continue;
        }
        changed(j);
        match lr {
            Lr::Minus(lr) => {
                for (w, &ai) in col.iter_mut().zip(a) {
                    *w = bound(*w - lr * (ai * bj));
                }
            }
            Lr::Plus(lr) => {
                for (w, &ai) in col.iter_mut().zip(a) {
                    *w = bound(*w + lr * (ai * bj));
                }
            }
        }
    }
}

/// `out_j = Σ_i W[i][j] v_i` (`Wᵀ·v`, `out.len()` = the number of columns) for a bare pre-major matrix
/// of `post` rows: column `j` is the contiguous `wt[j·post .. (j+1)·post]`, and each sum runs in
/// increasing `i` from `+0`. The plain formula, the reference of [`transpose_matvec`].
pub fn transpose_matvec_plain(wt: &[f32], post: usize, v: &[f32], out: &mut [f32]) {
    if post == 0 {
        out.fill(0.0);
        return;
    }
    for (o, col) in out.iter_mut().zip(wt.chunks_exact(post)) {
        let mut acc = 0f32;
        for (&w, &vi) in col.iter().zip(&v[..post]) {
            acc += w * vi;
        }
        *o = acc;
    }
}

/// [`transpose_matvec_plain`]'s sums, faster and with the same bits: with AVX2, 8×8 tiles transposed
/// in registers so 8 columns share one register (`avx2::transpose_matvec`, 32 columns side by side);
/// otherwise 8 columns at a time in scalar registers, so that their dependency chains overlap.
///
/// # Panics
/// When `wt` holds fewer than `out.len() × post` values or `v` fewer than `post`.
pub fn transpose_matvec(wt: &[f32], post: usize, v: &[f32], out: &mut [f32]) {
    if post == 0 {
        out.fill(0.0);
        return;
    }
    assert!(
        wt.len() >= out.len() * post && v.len() >= post,
        "transpose_matvec: {} weights, {} values for {} columns of {post} rows",
        wt.len(),
        v.len(),
        out.len()
    );
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2; the sizes were checked just above.
        unsafe { avx2::transpose_matvec(wt, post, v, out) };
        return;
    }
    let v = &v[..post];
    let pre = out.len();
    let blocks = wt[..pre * post].chunks_exact(8 * post);
    let rest = blocks.remainder();
    let mut o = 0;
    for blk in blocks {
        let mut acc = [0f32; 8];
        for (i, &vi) in v.iter().enumerate() {
            for (c, a) in acc.iter_mut().enumerate() {
                *a += blk[c * post + i] * vi;
            }
        }
        out[o..o + 8].copy_from_slice(&acc);
        o += 8;
    }
    for col in rest.chunks_exact(post) {
        let mut acc = 0f32;
        for (&wij, &vi) in col.iter().zip(v) {
            acc += wij * vi;
        }
        out[o] = acc;
        o += 1;
    }
}

avx2_dispatch! {
    /// `G[i][j] += u_i · x_j` over a pre-major gradient of `post` rows (each product rounded, then
    /// added: no fused multiply-add), columns with `x_j == 0` skipped (they add exactly ±0). AVX2's
    /// 8-lane registers when the CPU has them, the same bits either way.
    pub fn outer_accumulate[](g: &mut [f32], post: usize, u: &[f32], x: &[f32]) => outer_accumulate_body
}

/// [`outer_accumulate`] by the plain formula, never dispatched to AVX2 (the reference path's product; a
/// silent presynaptic unit adds exactly ±0 and is skipped either way).
pub fn outer_accumulate_plain(g: &mut [f32], post: usize, u: &[f32], x: &[f32]) {
    outer_accumulate_body(g, post, u, x)
}

#[inline(always)]
fn outer_accumulate_body(g: &mut [f32], post: usize, u: &[f32], x: &[f32]) {
    if post == 0 {
        return;
    }
    let u = &u[..post];
    for (col, &xj) in g.chunks_exact_mut(post).zip(x) {
        if xj == 0.0 {
            continue;
        }
        for (gi, &ui) in col.iter_mut().zip(u) {
            *gi += ui * xj;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pre-major matrix built from a `(post, pre)` row-major slice.
    struct Matrix {
        wt: Vec<f32>,
        post_size: usize,
        pre_size: usize,
    }

    fn proj(post: usize, pre: usize, post_pre: &[f32]) -> Matrix {
        let mut wt = vec![0f32; post * pre];
        for i in 0..post {
            for j in 0..pre {
                wt[j * post + i] = post_pre[i * pre + j];
            }
        }
        Matrix {
            wt,
            post_size: post,
            pre_size: pre,
        }
    }

    fn matvec(p: &Matrix, x: &[f32], y: &mut [f32]) {
        matmat_slices(&p.wt, p.post_size, p.pre_size, x, y, 1)
    }

    fn matmat(p: &Matrix, x: &[f32], y: &mut [f32], batch: usize) {
        matmat_slices(&p.wt, p.post_size, p.pre_size, x, y, batch)
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

    /// Deterministic pseudo-random values in [-1, 1), a third of them zero (some of those -0.0).
    fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|k| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let u = (state >> 40) as f32 / (1u64 << 24) as f32;
                match k % 3 {
                    0 if u < 0.5 => 0.0,
                    0 => -0.0,
                    _ => 2.0 * u - 1.0,
                }
            })
            .collect()
    }

    #[test]
    fn products_equal_the_sequential_sum_for_every_shape() {
        // Posts around the register width (8), the tile (64) and the network's sizes; pres around the
        // column block (64); batches around the gather buffer (32 rows). Rows of 65, 72 and 130 units (9
        // and 17 registers) end with a 9-register tile, the first with a partial last register.
        for post in [1, 3, 7, 8, 9, 10, 15, 16, 17, 50, 63, 64, 65, 72, 130, 500] {
            for pre in [1, 5, 64, 65, 130] {
                let w = values(post * pre, (post * 1000 + pre) as u64);
                let p = proj(post, pre, &w);
                for batch in [1, 3, 17, 33] {
                    let x = values(batch * pre, (batch * 7 + pre) as u64);
                    let mut y = vec![9.0; batch * post];
                    matmat(&p, &x, &mut y, batch);
                    for b in 0..batch {
                        for i in 0..post {
                            let mut s = 0f32;
                            for j in 0..pre {
                                s += w[i * pre + j] * x[b * pre + j];
                            }
                            assert_eq!(
                                y[b * post + i].to_bits(),
                                s.to_bits(),
                                "post {post} pre {pre} batch {batch} row {b} unit {i}"
                            );
                        }
                    }
                    let mut y1 = vec![9.0; post];
                    matvec(&p, &x[..pre], &mut y1);
                    assert_eq!(y1, y[..post].to_vec(), "matvec, post {post} pre {pre}");
                    let mut yg = vec![9.0; batch * post];
                    matmat_generic(&p.wt, post, pre, &x, &mut yg, batch);
                    assert_eq!(
                        yg, y,
                        "portable kernel, post {post} pre {pre} batch {batch}"
                    );
                    let mut yp = vec![9.0; batch * post];
                    matmat_plain(&p.wt, post, pre, &x, &mut yp, batch);
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(
                        bits(&yp),
                        bits(&y),
                        "plain formula, post {post} pre {pre} batch {batch}"
                    );
                }
            }
        }
    }

    #[test]
    fn transposed_products_equal_the_plain_formula_for_every_shape() {
        // Rows around the 8×8 tile, columns around the 8- and 32-column blocks.
        for post in [1, 3, 7, 8, 9, 15, 16, 17, 50, 64, 65, 500] {
            for pre in [1, 5, 8, 9, 31, 32, 33, 40, 63, 64, 65, 130] {
                let w = values(post * pre, (post * 977 + pre) as u64);
                let v = values(post, (post * 13 + pre * 5) as u64);
                let mut want = vec![7.0; pre];
                transpose_matvec_plain(&w, post, &v, &mut want);
                for j in 0..pre {
                    let mut s = 0f32;
                    for i in 0..post {
                        s += w[j * post + i] * v[i];
                    }
                    assert_eq!(
                        want[j].to_bits(),
                        s.to_bits(),
                        "plain, post {post} pre {pre} column {j}"
                    );
                }
                let mut got = vec![7.0; pre];
                transpose_matvec(&w, post, &v, &mut got);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "post {post} pre {pre}");
            }
        }
        let mut out = vec![3.0; 4];
        transpose_matvec(&[], 0, &[], &mut out);
        assert_eq!(out, vec![0.0; 4]);
    }

    #[test]
    fn outer_accumulate_adds_rounded_products() {
        for (post, pre) in [(1, 1), (7, 3), (9, 17), (64, 5), (500, 40)] {
            let u = values(post, post as u64);
            let x = values(pre, 31 + pre as u64);
            let g0 = values(post * pre, 5);
            let mut g = g0.clone();
            outer_accumulate(&mut g, post, &u, &x);
            let mut plain = g0.clone();
            outer_accumulate_plain(&mut plain, post, &u, &x);
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&g),
                bits(&plain),
                "plain formula, post {post} pre {pre}"
            );
            for j in 0..pre {
                for i in 0..post {
                    let want = if x[j] == 0.0 {
                        g0[j * post + i]
                    } else {
                        g0[j * post + i] + u[i] * x[j]
                    };
                    assert_eq!(
                        g[j * post + i].to_bits(),
                        want.to_bits(),
                        "post {post} pre {pre} ({i}, {j})"
                    );
                }
            }
        }
    }
}
