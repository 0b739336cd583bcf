//! Training: one EIANN `Network.train` step per sample (forward, forward-state snapshot, backward,
//! rules, constraints).

use crate::dynamics::mse_loss;
use crate::error::Result;
use crate::network::Network;

impl Network {
    /// Exactly one step of EIANN's `Network.train` for one sample (batch size 1, `store_dynamics=False`):
    /// `forward` → loss (MSE, recorded only) → `update_forward_state` → `BP_like_2L.backward` →
    /// every rule's `step()` → `constrain_weights_and_biases()`. Returns the loss, computed before the
    /// update. Allocation-free.
    pub fn train_step(&mut self, input: &[f32], target: &[f32]) -> Result<f32> {
        let out_size = self.spec.populations[self.spec.output].size;
        if target.len() != out_size {
            return Err(crate::Error::shape("target", out_size, target.len()));
        }
        let loss = mse_loss(self.forward(input, None)?, target);
        self.update_forward_state(None);
        self.backward(target, false, None)?;
        self.step_rules();
        self.constrain_weights();
        Ok(loss)
    }
}
