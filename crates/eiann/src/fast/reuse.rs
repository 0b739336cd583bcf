//! Reuse of products `W·x` while `x` is unchanged: version numbers on population activities, and a
//! per-projection cache of the last product.
//!
//! Every population's `activity` and `prev_activity` carry a version, renewed whenever the vector is
//! written (reset, integration, the start-of-step copy `prev_activity ← activity`, which passes the
//! activity's version on). A product computed from a vector of some version is valid for as long as the
//! vector keeps that version and the weights do not change, so it is computed once and read again: the
//! same kernel call on the same inputs would give the same bits.
//!
//! Two users:
//! - the fused drives of evaluation ([`super::stacks`]), where one activity vector is multiplied once per
//!   step by the stacked weights of all its targets;
//! - the supervised (backward) phase of training ([`crate::rules::bp_like_2l`]). There only the populations with
//!   backward projections and the output are integrated; the interneurons (SomaI, DendI) keep the
//!   activity they had at the end of the sensory phase, so their products (SomaI → E soma, DendI → E
//!   dendrite, each 50 × 500) are the same in all 15 steps. They are computed at step 0 (and once more
//!   after the step-0 copy of `prev_activity` for recurrent projections) instead of 15 times.
//!
//! A cache lives for one phase: weights change only between phases (learning rules and constraints run
//! after the supervised phase; the autograd rules' optimizer steps inside their own backward method,
//! which computes no cached product, before or after another rule's phase), and
//! [`ProductCache::clear`] is called when a phase starts.

/// Versions of every population's `activity` and `prev_activity`.
#[derive(Debug, Clone)]
pub(crate) struct ActivityVersions {
    act: Vec<u64>,
    prev: Vec<u64>,
    next: u64,
}

impl ActivityVersions {
    /// Versions for `n` populations, all distinct.
    pub(crate) fn new(n: usize) -> ActivityVersions {
        let mut v = ActivityVersions {
            act: vec![0; n],
            prev: vec![0; n],
            next: 0,
        };
        v.renew_all();
        v
    }

    fn fresh(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// Every `activity` and every `prev_activity` may have changed: all get new, distinct versions.
    pub(crate) fn renew_all(&mut self) {
        for pi in 0..self.act.len() {
            self.act[pi] = self.fresh();
            self.prev[pi] = self.fresh();
        }
    }

    /// Every activity was reset and then copied to `prev_activity`.
    pub(crate) fn reset_all(&mut self) {
        for pi in 0..self.act.len() {
            self.act[pi] = self.fresh();
        }
        self.prev.copy_from_slice(&self.act);
    }

    /// Every `prev_activity` was set to the current `activity`.
    pub(crate) fn all_prev_copied(&mut self) {
        self.prev.copy_from_slice(&self.act);
    }

    /// Population `pi`'s `prev_activity` was set to its current `activity`.
    pub(crate) fn prev_copied(&mut self, pi: usize) {
        self.prev[pi] = self.act[pi];
    }

    /// Population `pi` was integrated (its activity changed).
    pub(crate) fn integrated(&mut self, pi: usize) {
        self.act[pi] = self.fresh();
    }

    /// Version of population `pi`'s `prev_activity` (when `prev`) or `activity`.
    pub(crate) fn of(&self, pi: usize, prev: bool) -> u64 {
        if prev {
            self.prev[pi]
        } else {
            self.act[pi]
        }
    }
}

/// The last product of every projection and the version of the vector it was computed from.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProductCache {
    version: Vec<Option<u64>>,
    y: Vec<Vec<f32>>,
    /// Recompute every product (tests compare both ways).
    disabled: bool,
}

impl ProductCache {
    /// An empty cache for `n` projections.
    pub(crate) fn new(n: usize) -> ProductCache {
        ProductCache {
            version: vec![None; n],
            y: vec![Vec::new(); n],
            disabled: false,
        }
    }

    /// Recompute every product on every call (`false`) or reuse them (`true`, the default).
    #[cfg(test)]
    pub(crate) fn set_reuse(&mut self, on: bool) {
        self.disabled = !on;
    }

    /// Forget every product (the weights may have changed).
    pub(crate) fn clear(&mut self) {
        self.version.fill(None);
    }

    /// The product of projection `k` with a vector of version `version`: `compute(y)` writes it into a
    /// buffer of `len` values unless the cached product is of that version.
    pub(crate) fn product(
        &mut self,
        k: usize,
        version: u64,
        len: usize,
        compute: impl FnOnce(&mut [f32]),
    ) -> &[f32] {
        let y = &mut self.y[k];
        if self.disabled || self.version[k] != Some(version) || y.len() != len {
            y.resize(len, 0.0);
            compute(y);
            self.version[k] = Some(version);
        }
        &self.y[k]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_follow_writes() {
        let mut v = ActivityVersions::new(2);
        assert_ne!(v.of(0, false), v.of(0, true));
        assert_ne!(v.of(0, false), v.of(1, false));
        let a0 = v.of(0, false);
        v.prev_copied(0);
        assert_eq!(v.of(0, true), a0);
        v.integrated(0);
        assert_ne!(v.of(0, false), a0);
        assert_eq!(v.of(0, true), a0);
        v.all_prev_copied();
        assert_eq!(v.of(0, true), v.of(0, false));
        assert_eq!(v.of(1, true), v.of(1, false));
        let before = v.of(1, false);
        v.reset_all();
        assert_ne!(v.of(1, false), before);
        assert_eq!(v.of(1, true), v.of(1, false));
    }

    #[test]
    fn cache_recomputes_only_for_a_new_version_or_after_clear() {
        let mut c = ProductCache::new(1);
        let mut calls = 0;
        let mut get = |c: &mut ProductCache, version: u64, value: f32| {
            c.product(0, version, 2, |y| {
                calls += 1;
                y.fill(value);
            })
            .to_vec()
        };
        assert_eq!(get(&mut c, 5, 1.0), [1.0, 1.0]);
        assert_eq!(get(&mut c, 5, 2.0), [1.0, 1.0]);
        assert_eq!(get(&mut c, 6, 3.0), [3.0, 3.0]);
        c.clear();
        assert_eq!(get(&mut c, 6, 4.0), [4.0, 4.0]);
        assert_eq!(calls, 3);
    }
}
