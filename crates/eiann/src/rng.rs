//! PyTorch's CPU random streams, reproduced bit for bit: MT19937 seeded with `init_genrand`,
//! `Tensor.uniform_`, `randperm` and the DataLoader's shuffled order.
//!
//! See `fixtures/parity/torch_rng.md`: every PyTorch draw used by EIANN consumes 32-bit tempered outputs
//! of one MT19937 stream, in order.

use rand_mt::Mt;

/// A PyTorch CPU generator (`torch.manual_seed(seed)` / `torch.Generator().manual_seed(seed)`).
#[derive(Clone)]
pub struct TorchRng {
    mt: Mt,
}

impl std::fmt::Debug for TorchRng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TorchRng")
    }
}

impl TorchRng {
    /// `manual_seed(seed)`: MT19937 seeded with the classic 32-bit `init_genrand(seed)`.
    /// PyTorch keeps only the low 32 bits of the seed for this generator; so do we.
    pub fn new(seed: u64) -> Self {
        TorchRng {
            mt: Mt::new(seed as u32),
        }
    }

    /// Next 32-bit tempered output.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        self.mt.next_u32()
    }

    /// One element of float32 `Tensor.uniform_(from, to)`: `u = (r & 0xFFFFFF)·2⁻²⁴`,
    /// value `= u·(to − from) + from` rounded once (PyTorch's kernel compiles to a fused multiply-add).
    #[inline]
    pub fn uniform_f32(&mut self, from: f32, range: f32) -> f32 {
        let u = (self.next_u32() & 0x00FF_FFFF) as f32 * (1.0 / 16_777_216.0);
        u.mul_add(range, from)
    }

    /// Fill `out` (row-major order) like float32 `Tensor.uniform_(from, to)`.
    pub fn fill_uniform(&mut self, out: &mut [f32], from: f64, to: f64) {
        let (from, to) = (from as f32, to as f32);
        let range = to - from;
        for v in out {
            *v = self.uniform_f32(from, range);
        }
    }

    /// Discard `n` 32-bit outputs (e.g. the int64 base seed every DataLoader iterator draws = 2 outputs).
    pub fn discard(&mut self, n: usize) {
        for _ in 0..n {
            self.next_u32();
        }
    }

    /// `torch.randperm(n, generator=g)` on CPU (for n < 2³²/20): start from `0..n`, then for
    /// `i in 0..n-1` swap `i` with `i + u32() % (n − i)`.
    pub fn randperm(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        for i in 0..n.saturating_sub(1) {
            let z = (self.next_u32() as u64 % (n - i) as u64) as usize;
            p.swap(i, i + z);
        }
        p
    }
}

/// `rand_core` traits for a generator whose stream is 32-bit MT19937 outputs (`next_u32`): 64-bit words
/// are two consecutive outputs, the first in the high half (PyTorch's `random64` and NumPy's
/// `mt19937_next64` both build them this way); bytes are filled from 32-bit words, little-endian.
/// With these, the project's streams work with anything in the `rand` ecosystem
/// (`rand::RngExt::random_range`, `rand::seq`, `rand_distr`, ...).
macro_rules! mt32_rand_core {
    ($t:ty) => {
        impl rand_core::TryRng for $t {
            type Error = core::convert::Infallible;
            #[inline]
            fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
                Ok(<$t>::next_u32(self))
            }
            #[inline]
            fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
                let hi = u64::from(<$t>::next_u32(self));
                let lo = u64::from(<$t>::next_u32(self));
                Ok((hi << 32) | lo)
            }
            fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
                rand_core::utils::fill_bytes_via_next_word(dst, || {
                    Ok::<u32, Self::Error>(<$t>::next_u32(self))
                })
            }
        }
    };
}
pub(crate) use mt32_rand_core;

mt32_rand_core!(TorchRng);

/// EIANN's training order for one epoch: `data_generator.manual_seed(data_seed)`, the DataLoader iterator
/// draws its int64 base seed (2 outputs), then `RandomSampler` takes `randperm(n)`.
/// Element `s` is the dataset index used at training step `s` of the epoch.
pub fn epoch_sample_order(rng: &mut TorchRng, n: usize) -> Vec<usize> {
    rng.discard(2);
    rng.randperm(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_seed_257_gives_the_notebook_sample() {
        let order = epoch_sample_order(&mut TorchRng::new(257), 50_000);
        assert_eq!(
            &order[..10],
            &[11814, 30217, 3279, 40689, 27463, 9486, 2316, 28495, 15763, 38792]
        );
        assert_eq!(order[2999], 30702);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert!(sorted.iter().enumerate().all(|(i, &v)| i == v));
    }

    #[test]
    fn rand_core_traits_follow_the_stream() {
        use rand::RngExt;
        use rand_core::Rng;
        let mut a = TorchRng::new(7);
        let mut b = TorchRng::new(7);
        assert_eq!(Rng::next_u32(&mut a), b.next_u32());
        let (hi, lo) = (u64::from(b.next_u32()), u64::from(b.next_u32()));
        assert_eq!(Rng::next_u64(&mut a), (hi << 32) | lo);
        let mut bytes = [0u8; 6];
        a.fill_bytes(&mut bytes);
        let (w0, w1) = (b.next_u32().to_le_bytes(), b.next_u32().to_le_bytes());
        assert_eq!(bytes, [w0[0], w0[1], w0[2], w0[3], w1[0], w1[1]]);
        // Usable by rand's samplers.
        let x: u32 = a.random_range(10..20);
        assert!((10..20).contains(&x));
    }

    #[test]
    fn mt19937_reference_output() {
        // init_genrand(5489) first output of the reference implementation.
        assert_eq!(TorchRng::new(5489).next_u32(), 3_499_211_612);
    }
}
