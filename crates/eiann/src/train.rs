//! Training: one EIANN `Network.train` step per sample (forward, forward-state snapshot, backward,
//! rules, constraints).

use crate::dynamics::mse_loss;
use crate::error::Result;
use crate::network::Network;

impl Network {
    /// Exactly one step of EIANN's `Network.train` for one sample (batch size 1, `store_dynamics=False`):
    /// `forward` → loss (MSE, recorded only) → `update_forward_state` → `BP_like_2L.backward` →
    /// every rule's `step()` → `constrain_weights_and_biases()`. Returns the loss, computed before the
    /// update. Allocation-free. The constraint pass touches only the weights the rules changed, which
    /// gives the same bits as EIANN's full pass (see [`Network::constrain_weights`]).
    pub fn train_step(&mut self, input: &[f32], target: &[f32]) -> Result<f32> {
        let out_size = self.spec.populations[self.spec.output].size;
        if target.len() != out_size {
            return Err(crate::Error::shape("target", out_size, target.len()));
        }
        let loss = mse_loss(self.forward(input, None)?, target);
        self.update_forward_state(None);
        self.backward(target, false, None)?;
        self.step_rules();
        self.constrain_changed();
        Ok(loss)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::NetworkSpec;
    use crate::network::Network;

    fn spec() -> NetworkSpec {
        NetworkSpec::from_file(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "../../data/network_config/mnist/20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized.yaml",
        ))
        .unwrap()
    }

    /// Sparse MNIST-like synthetic images: a blob of lit pixels whose position depends on `s`.
    fn sample(s: usize) -> (Vec<f32>, Vec<f32>) {
        let x: Vec<f32> = (0..784usize)
            .map(|p| {
                let (r, c) = ((p / 28) as i32, (p % 28) as i32);
                let (cr, cc) = ((8 + (s * 7) % 12) as i32, (8 + (s * 5) % 12) as i32);
                let d2 = (r - cr).pow(2) + (c - cc).pow(2);
                if d2 < 30 {
                    ((40 - d2) as f32 / 40.0).min(1.0)
                } else {
                    0.0
                }
            })
            .collect();
        let mut t = vec![0f32; 10];
        t[s % 10] = 1.0;
        (x, t)
    }

    #[test]
    fn incremental_constraints_match_the_full_pass_bit_for_bit() {
        let mut fast = Network::new(spec(), 66049);
        let mut full = fast.clone();
        for s in 0..12 {
            let (x, t) = sample(s);
            let l1 = fast.train_step(&x, &t).unwrap();
            full.forward(&x, None).unwrap();
            full.update_forward_state(None);
            full.backward(&t, false, None).unwrap();
            full.step_rules();
            full.constrain_weights();
            assert!(l1.is_finite());
            for (a, b) in fast.projections().iter().zip(full.projections()) {
                assert!(
                    a.wt.iter()
                        .zip(&b.wt)
                        .all(|(u, v)| u.to_bits() == v.to_bits()),
                    "step {s}"
                );
            }
        }
    }

    #[test]
    fn same_seed_same_bits() {
        let a = Network::new(spec(), 1234).state_dict();
        let b = Network::new(spec(), 1234).state_dict();
        assert_eq!(a, b);
        assert_ne!(a, Network::new(spec(), 1235).state_dict());
    }
}
