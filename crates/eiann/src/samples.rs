//! The sample source that training and evaluation read from: indexed inputs with class labels.
//! Implemented by the MNIST splits; tests use small synthetic sets.

/// An indexed, labelled set of samples (EIANN's `(index, x, target)` dataset items).
pub trait Samples: Sync {
    /// Number of samples.
    fn len(&self) -> usize;
    /// Whether the set is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Length of one input vector.
    fn input_size(&self) -> usize;
    /// Number of classes (length of the one-hot target).
    fn num_classes(&self) -> usize;
    /// Write input `i` (float32) into `out` (`out.len() == input_size()`).
    fn input_into(&self, i: usize, out: &mut [f32]);
    /// Class label of sample `i`.
    fn label(&self, i: usize) -> usize;
    /// Dataset index of sample `i` (its position in the original data file).
    fn dataset_index(&self, i: usize) -> usize {
        i
    }
    /// One-hot target of sample `i` written into `out` (EIANN: `eye(num_classes)[label]`).
    fn target_into(&self, i: usize, out: &mut [f32]) {
        out.fill(0.0);
        if let Some(t) = out.get_mut(self.label(i)) {
            *t = 1.0;
        }
    }
}

/// Samples held in memory as float32 rows (for tests and small experiments).
#[derive(Debug, Clone)]
pub struct InMemorySamples {
    /// Inputs, one row per sample.
    pub inputs: ndarray::Array2<f32>,
    /// Labels.
    pub labels: Vec<usize>,
    /// Number of classes.
    pub classes: usize,
}

impl Samples for InMemorySamples {
    fn len(&self) -> usize {
        self.labels.len()
    }
    fn input_size(&self) -> usize {
        self.inputs.ncols()
    }
    fn num_classes(&self) -> usize {
        self.classes
    }
    fn input_into(&self, i: usize, out: &mut [f32]) {
        for (o, &v) in out.iter_mut().zip(self.inputs.row(i)) {
            *o = v;
        }
    }
    fn label(&self, i: usize) -> usize {
        self.labels[i]
    }
}
