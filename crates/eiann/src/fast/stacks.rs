//! Fused presynaptic drives for evaluation: all forward-phase products `W·x` that read one population's
//! activity are computed by one kernel call over the stacked weights of their targets, and populations the
//! output does not depend on are not integrated.
//!
//! In the forward (sensory) phase one activity vector feeds several projections: H1E's activity after step
//! `t` is read by H2E and H2SomaI in step `t` (direction F) and by H1SomaI and H1DendI in step `t + 1` (as
//! their `prev_activity`, direction R). Evaluated one projection at a time, that is four kernel calls, each
//! gathering the nonzero entries of the same vector again, three of them over only 50 postsynaptic units
//! (short, inefficient register tiles). Here the weights of every projection from one population are
//! stacked side by side (pre-major, `wt[j · post + offset_k + i] = W_k[i][j]`), so one call of the same
//! kernel ([`super::kernels::matmat_slices`]) gathers once and runs full-width tiles over all targets.
//!
//! **Same bits.** Every output is still `Σ_j W_ij x_j` summed over `j` in increasing order, skipping
//! `x_j == 0`, exactly as the separate products are; stacking only changes which outputs share a call.
//! A product is reused while the vector it came from is unchanged: population activities carry version
//! numbers ([`super::reuse`]), renewed whenever a population is reset or integrated, and `prev_activity`
//! takes the version of the activity it copies. Populations the output does not depend on (here the
//! dendritic interneurons H1DendI and H2DendI, which only reach the E dendrites, used in the supervised
//! phase) are skipped; the output's activity has the same bits either way (tested).
//!
//! **Aligned rows.** Each stacked row (the weights of one presynaptic unit) is padded with zero weights
//! to a multiple of 8 outputs and the stack starts on a 64-byte boundary, so every 8-lane register load
//! of the kernel is 32-byte aligned and never straddles two cache lines (with rows of 550 or 500 floats,
//! half the loads did: 15–20 % of the evaluation time). The padded outputs are computed and ignored.
//!
//! **Fixed weights only.** [`FusedDrives`] holds a copy of the weights taken when it is built, so it
//! serves evaluation (each worker builds one for its copy of the network) and never training.

use super::kernels::matmat_slices;
use super::reuse::{ActivityVersions, ProductCache};
use crate::config::Compartment;
use crate::network::Network;

/// The stacked forward-phase projections of a network, with their last products (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct FusedDrives {
    /// One group per presynaptic population read by at least one fused projection.
    groups: Vec<Group>,
    /// Per projection: `(group, offset of its outputs within a group row)`; `None` when not fused.
    slot: Vec<Option<(usize, usize)>>,
    /// Populations the output's forward-phase activity depends on (the output itself included).
    needed: Vec<bool>,
    /// Versions of every population's `activity` and `prev_activity` ([`super::reuse`]).
    versions: ActivityVersions,
    /// Per group: the last `batch × post` products and the version of the vector they came from.
    products: ProductCache,
}

/// Outputs per stacked row are padded to a multiple of this (one AVX2 register of f32).
const ROW_MULTIPLE: usize = 8;

/// Sixteen f32, aligned to a cache line: the storage unit of [`AlignedWeights`].
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
struct Line([f32; 16]);

/// A zero-initialised f32 buffer that starts on a 64-byte boundary (also in clones).
#[derive(Debug, Clone, Default)]
struct AlignedWeights {
    lines: Vec<Line>,
    len: usize,
}

impl AlignedWeights {
    fn zeros(len: usize) -> AlignedWeights {
        AlignedWeights {
            lines: vec![Line([0.0; 16]); len.div_ceil(16)],
            len,
        }
    }

    fn as_slice(&self) -> &[f32] {
        // SAFETY: `Line` is repr(C) around [f32; 16] (size 64, no padding), so the vector holds
        // `16 · lines.len() >= len` contiguous, initialised f32.
        unsafe { std::slice::from_raw_parts(self.lines.as_ptr().cast::<f32>(), self.len) }
    }

    fn as_mut_slice(&mut self) -> &mut [f32] {
        // SAFETY: as in `as_slice`, with exclusive access through `&mut self`.
        unsafe { std::slice::from_raw_parts_mut(self.lines.as_mut_ptr().cast::<f32>(), self.len) }
    }
}

/// The projections from one presynaptic population, stacked.
#[derive(Debug, Clone)]
struct Group {
    pre_size: usize,
    /// Outputs per row: the sum of the stacked projections' postsynaptic sizes, padded to a multiple
    /// of [`ROW_MULTIPLE`] (the padding weights are zero).
    post: usize,
    /// Stacked weights, pre-major, 64-byte aligned.
    wt: AlignedWeights,
}

impl FusedDrives {
    /// Stack the forward-phase somatic projections of `net` (its current weights) into groups by
    /// presynaptic population, keeping only those that reach the output.
    pub(crate) fn new(net: &Network) -> FusedDrives {
        let spec = &net.spec;
        let n_pops = spec.populations.len();
        let in_forward = |k: usize| {
            let ps = &spec.projections[k];
            ps.compartment == Compartment::Soma && ps.update_phase.in_forward()
        };
        // Populations the output depends on: the output, then (to a fixed point) the presynaptic
        // populations of forward-phase somatic projections into a needed population.
        let mut needed = vec![false; n_pops];
        needed[spec.output] = true;
        loop {
            let mut grew = false;
            for (k, ps) in spec.projections.iter().enumerate() {
                if in_forward(k) && needed[ps.post] && !needed[ps.pre] {
                    needed[ps.pre] = true;
                    grew = true;
                }
            }
            if !grew {
                break;
            }
        }
        let mut groups: Vec<Group> = Vec::new();
        let mut group_of: Vec<Option<usize>> = vec![None; n_pops];
        let mut slot = vec![None; spec.projections.len()];
        let mut members: Vec<Vec<usize>> = Vec::new();
        for (k, ps) in spec.projections.iter().enumerate() {
            if !(in_forward(k) && needed[ps.post]) {
                continue;
            }
            let g = *group_of[ps.pre].get_or_insert_with(|| {
                groups.push(Group {
                    pre_size: spec.populations[ps.pre].size,
                    post: 0,
                    wt: AlignedWeights::default(),
                });
                members.push(Vec::new());
                groups.len() - 1
            });
            slot[k] = Some((g, groups[g].post));
            groups[g].post += net.projections[k].post_size;
            members[g].push(k);
        }
        for (group, ks) in groups.iter_mut().zip(&members) {
            group.post = group.post.next_multiple_of(ROW_MULTIPLE);
            let (pre, post) = (group.pre_size, group.post);
            group.wt = AlignedWeights::zeros(pre * post);
            for &k in ks {
                let p = &net.projections[k];
                let Some((_, off)) = slot[k] else { continue };
                for (dst, src) in group
                    .wt
                    .as_mut_slice()
                    .chunks_exact_mut(post)
                    .zip(p.wt.chunks_exact(p.post_size.max(1)))
                {
                    dst[off..off + p.post_size].copy_from_slice(src);
                }
            }
        }
        FusedDrives {
            slot,
            needed,
            versions: ActivityVersions::new(n_pops),
            products: ProductCache::new(groups.len()),
            groups,
        }
    }

    /// Whether the output depends on population `pi` in the forward phase.
    pub(crate) fn needed(&self, pi: usize) -> bool {
        self.needed[pi]
    }

    /// Every population's activity was reset (and the input clamped): all versions are new.
    pub(crate) fn reset_all(&mut self) {
        self.versions.reset_all();
    }

    /// Every `prev_activity` was set to the current `activity`.
    pub(crate) fn step_start(&mut self) {
        self.versions.all_prev_copied();
    }

    /// Population `pi` was integrated (its activity changed).
    pub(crate) fn integrated(&mut self, pi: usize) {
        self.versions.integrated(pi);
    }

    /// Whether projection `k` is served by a group.
    pub(crate) fn is_fused(&self, k: usize) -> bool {
        self.slot[k].is_some()
    }

    /// The product of fused projection `k` with its presynaptic vector `x` (`batch` rows; the population's
    /// `prev_activity` when `prev`, else its `activity`): returns the group's `batch × stride` products and
    /// the projection's `offset` in a row. Computed only if the group's last product was of another version.
    pub(crate) fn drive(
        &mut self,
        k: usize,
        pre: usize,
        prev: bool,
        x: &[f32],
        batch: usize,
    ) -> (&[f32], usize, usize) {
        let (g, offset) = self.slot[k].expect("drive() is only called for fused projections");
        let version = self.versions.of(pre, prev);
        let group = &self.groups[g];
        let y = self.products.product(g, version, batch * group.post, |y| {
            matmat_slices(
                group.wt.as_slice(),
                group.post,
                group.pre_size,
                &x[..batch * group.pre_size],
                y,
                batch,
            )
        });
        (y, group.post, offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::NetworkSpec;

    fn spec() -> NetworkSpec {
        NetworkSpec::from_file(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "../../data/network_config/mnist/20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized.yaml",
        ))
        .unwrap()
    }

    #[test]
    fn stacks_projections_by_presynaptic_population_and_skips_dendritic_interneurons() {
        let net = Network::new(spec(), 3);
        let f = FusedDrives::new(&net);
        let s = net.spec();
        let idx = |name: &str| s.population_index(name).unwrap();
        assert!(f.needed(idx("OutputE")) && f.needed(idx("H1E")) && f.needed(idx("H2SomaI")));
        assert!(!f.needed(idx("H1DendI")) && !f.needed(idx("H2DendI")));
        // H1E's group: H2E (500) and H2SomaI (50) and H1SomaI (50); not H1DendI.
        let h1e = f
            .groups
            .iter()
            .find(|g| g.pre_size == 500 && g.post == 600)
            .map(|g| g.post);
        assert_eq!(
            h1e,
            Some(600),
            "groups: {:?}",
            f.groups
                .iter()
                .map(|g| (g.pre_size, g.post))
                .collect::<Vec<_>>()
        );
        // Rows padded to whole registers, stacks on cache-line boundaries (also in a clone).
        let clone = f.clone();
        for g in f.groups.iter().chain(&clone.groups) {
            assert_eq!(g.post % ROW_MULTIPLE, 0, "row of {}", g.post);
            assert_eq!(g.wt.as_slice().as_ptr() as usize % 64, 0);
            assert_eq!(g.wt.as_slice().len(), g.pre_size * g.post);
        }
        // The input's group: H1E (500) and H1SomaI (50), padded from 550 to 552.
        assert!(f.groups.iter().any(|g| g.pre_size == 784 && g.post == 552));
        for (k, ps) in s.projections.iter().enumerate() {
            let fused = f.is_fused(k);
            let expect = ps.compartment == Compartment::Soma
                && ps.update_phase.in_forward()
                && f.needed(ps.post);
            assert_eq!(fused, expect, "projection {}", ps.name);
        }
    }

    /// The output of the fused forward phase has the bits of the plain one, alone and in batches.
    #[test]
    fn fused_forward_gives_the_bits_of_the_plain_forward() {
        let mut plain = Network::new(spec(), 11);
        let n = 7;
        let inputs: Vec<Vec<f32>> = (0..n)
            .map(|s| {
                (0..784)
                    .map(|p| {
                        if (p * 7 + 3 * s) % 5 < 2 {
                            ((p * (s + 1)) % 255) as f32 / 255.0
                        } else {
                            0.0
                        }
                    })
                    .collect()
            })
            .collect();
        let want: Vec<Vec<u32>> = inputs
            .iter()
            .map(|x| {
                let out = plain.forward(x, None).unwrap();
                out.iter().map(|v| v.to_bits()).collect()
            })
            .collect();
        assert!(
            want.iter().any(|o| o.iter().any(|&b| b != 0)),
            "silent output"
        );
        let mut net = plain.clone();
        let fused = FusedDrives::new(&net);
        net.fast.stack_for_evaluation(fused);
        for batch in [1, 3, 4] {
            net.set_batch_size(batch).unwrap();
            for first in (0..n).step_by(batch) {
                let b = batch.min(n - first);
                net.set_batch_size(b).unwrap();
                let x: Vec<f32> = inputs[first..first + b].concat();
                assert!(net.fast.is_stacked());
                let out = net.forward(&x, None).unwrap();
                for r in 0..b {
                    let got: Vec<u32> = out[r * 10..(r + 1) * 10]
                        .iter()
                        .map(|v| v.to_bits())
                        .collect();
                    assert_eq!(got, want[first + r], "batch {batch}, sample {}", first + r);
                }
            }
        }
    }
}
