//! NumPy's legacy global random generator (`np.random.seed` / `RandomState`), reproduced bit for bit
//! for the two draws the spiking notebook uses: uniform doubles and exponentials.

use rand_mt::Mt;

/// NumPy legacy `RandomState` restricted to what `generate_inhomogeneous_poisson_spikes` draws.
///
/// * `seed(s)` for an integer `s < 2³²` is MT19937 `init_genrand(s)` (NumPy `_legacy_seeding`).
/// * `random_sample()` is `legacy_double`: `((a >> 5)·67108864 + (b >> 6)) / 2⁵³` from two
///   consecutive 32-bit outputs `a`, `b`.
/// * `exponential(scale)` is `scale · legacy_standard_exponential = scale · (−ln(1 − U))`.
///
/// `ln` is the platform's libm (`f64::ln`), as in NumPy's `npy_log`; see spec §11.1.11.
#[derive(Clone)]
pub struct NumpyRandomState {
    mt: Mt,
}

impl std::fmt::Debug for NumpyRandomState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NumpyRandomState").finish_non_exhaustive()
    }
}

impl NumpyRandomState {
    /// `np.random.seed(seed)` / `np.random.RandomState(seed)`.
    pub fn new(seed: u32) -> Self {
        NumpyRandomState { mt: Mt::new(seed) }
    }

    /// One raw 32-bit MT19937 output.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        self.mt.next_u32()
    }

    /// `np.random.random_sample()`: a uniform double in [0, 1) with 53 random bits.
    #[inline]
    pub fn random_sample(&mut self) -> f64 {
        let a = u64::from(self.next_u32() >> 5);
        let b = u64::from(self.next_u32() >> 6);
        (a as f64 * 67_108_864.0 + b as f64) / 9_007_199_254_740_992.0
    }

    /// `np.random.standard_exponential()` (legacy): `−ln(1 − U)`.
    #[inline]
    pub fn standard_exponential(&mut self) -> f64 {
        -(1.0 - self.random_sample()).ln()
    }

    /// `np.random.exponential(scale)` (legacy): `scale · (−ln(1 − U))`.
    #[inline]
    pub fn exponential(&mut self, scale: f64) -> f64 {
        scale * self.standard_exponential()
    }
}

crate::rng::mt32_rand_core!(NumpyRandomState);

#[cfg(test)]
mod tests {
    use super::*;

    // All expected values computed with NumPy 2.4.6 (the legacy stream is unchanged since NumPy 1.x):
    //   np.random.seed(42); np.random.random_sample(3)
    //   np.random.seed(42); np.random.exponential(0.5, 3)
    //   np.random.seed(42); np.random.standard_exponential(2)

    #[test]
    fn random_sample_seed_42() {
        let mut rs = NumpyRandomState::new(42);
        let got = [rs.random_sample(), rs.random_sample(), rs.random_sample()];
        assert_eq!(
            got,
            [0.3745401188473625, 0.9507143064099162, 0.7319939418114051]
        );
    }

    #[test]
    fn rand_core_words_are_numpys() {
        // A 64-bit word is two consecutive MT outputs, the first in the high half (NumPy's
        // mt19937_next64).
        use rand_core::Rng;
        let mut a = NumpyRandomState::new(42);
        let mut b = NumpyRandomState::new(42);
        let w = Rng::next_u64(&mut a);
        assert_eq!(w >> 32, u64::from(b.next_u32()));
        assert_eq!(w & 0xFFFF_FFFF, u64::from(b.next_u32()));
        assert_eq!(Rng::next_u32(&mut a), b.next_u32());
    }

    #[test]
    fn exponential_seed_42() {
        let mut rs = NumpyRandomState::new(42);
        let got = [
            rs.exponential(0.5),
            rs.exponential(0.5),
            rs.exponential(0.5),
        ];
        assert_eq!(
            got,
            [0.23463404498842955, 1.5050607154587605, 0.6583728467727247]
        );
        let mut rs = NumpyRandomState::new(42);
        let got = [rs.standard_exponential(), rs.standard_exponential()];
        assert_eq!(got, [0.4692680899768591, 3.010121430917521]);
    }
}
