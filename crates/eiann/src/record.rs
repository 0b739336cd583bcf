//! Optional per-step recordings of one forward + backward pass (EIANN's `store_dynamics=True` buffers),
//! filled by the same dynamics code that training runs.

use ndarray::Array2;

use crate::config::NetworkSpec;
use crate::error::{Error, Result};

/// Per-step values recorded during one sample's forward and backward phases. Rows are steps; each buffer
/// is per population (creation order), flattened `(steps, size)`.
#[derive(Debug, Clone)]
pub struct Recording {
    names: Vec<String>,
    sizes: Vec<usize>,
    /// `forward_steps_activity`: activity after each forward step (the input population repeats `x`).
    pub forward_activity: Vec<Vec<f32>>,
    /// `backward_steps_activity`: activity after each backward step (populations integrated in the
    /// backward phase; with `store_dynamics` that is every non-input population).
    pub backward_activity: Vec<Vec<f32>>,
    /// `forward_dendritic_state_steps` (populations with dendritic projections).
    pub forward_dendritic_state: Vec<Vec<f32>>,
    /// The dendritic state BP_like_2L computes in each backward step (clamped to [−1, 1]).
    pub dendritic_state_inloop: Vec<Vec<f32>>,
}

impl Recording {
    /// Empty buffers for every population of `spec`.
    pub fn new(spec: &NetworkSpec) -> Recording {
        let n = spec.populations.len();
        Recording {
            names: spec
                .populations
                .iter()
                .map(|p| p.fullname.clone())
                .collect(),
            sizes: spec.populations.iter().map(|p| p.size).collect(),
            forward_activity: vec![Vec::new(); n],
            backward_activity: vec![Vec::new(); n],
            forward_dendritic_state: vec![Vec::new(); n],
            dendritic_state_inloop: vec![Vec::new(); n],
        }
    }

    /// Clear every buffer (keeps capacity).
    pub fn clear(&mut self) {
        for b in self
            .forward_activity
            .iter_mut()
            .chain(&mut self.backward_activity)
            .chain(&mut self.forward_dendritic_state)
            .chain(&mut self.dendritic_state_inloop)
        {
            b.clear();
        }
    }

    pub(crate) fn index(&self, pop: &str) -> Result<usize> {
        crate::config::find_population(self.names.iter().map(String::as_str), pop)
    }

    /// Population full names, creation order.
    pub fn population_names(&self) -> &[String] {
        &self.names
    }

    fn as_array(&self, buf: &[Vec<f32>], pop: &str) -> Result<Array2<f32>> {
        let i = self.index(pop)?;
        let size = self.sizes[i];
        let rows = buf[i].len() / size.max(1);
        Array2::from_shape_vec((rows, size), buf[i].clone())
            .map_err(|e| Error::invalid("recording", e.to_string()))
    }

    /// Forward activity of `pop`, shape `(forward_steps, size)`.
    pub fn forward_activity(&self, pop: &str) -> Result<Array2<f32>> {
        self.as_array(&self.forward_activity, pop)
    }

    /// Backward activity of `pop`, shape `(steps recorded, size)`.
    pub fn backward_activity(&self, pop: &str) -> Result<Array2<f32>> {
        self.as_array(&self.backward_activity, pop)
    }

    /// Forward dendritic state per step of `pop`, `(forward_steps, size)` (0 rows if it has no dendrite).
    pub fn forward_dendritic_state(&self, pop: &str) -> Result<Array2<f32>> {
        self.as_array(&self.forward_dendritic_state, pop)
    }

    /// In-loop (clamped) dendritic state per backward step of `pop`.
    pub fn dendritic_state_inloop(&self, pop: &str) -> Result<Array2<f32>> {
        self.as_array(&self.dendritic_state_inloop, pop)
    }
}
