//! `StateDict`: a network's parameters by EIANN state_dict name, in EIANN's order
//! (`module_dict.<Post>_<Pre>.weight` for every projection, then `parameter_dict.<Pop>_bias`).

use std::sync::Arc;

use ndarray::ArrayD;

use crate::error::{Error, Result};

/// Ordered name → float32 tensor map, mirroring PyTorch's `network.state_dict()` for an EIANN network.
/// Weight tensors have shape `(post, pre)` (PyTorch `nn.Linear` layout); biases `(size,)`.
///
/// Tensors are reference-counted, so a training history can share the tensors that did not change
/// between checkpoints (most projections never learn) — see [`StateDict::share_unchanged`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StateDict {
    entries: Vec<(String, Arc<ArrayD<f32>>)>,
}

impl StateDict {
    /// An empty state dict.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append (or replace in place, keeping the order) the tensor stored under `key`.
    pub fn insert(&mut self, key: impl Into<String>, value: ArrayD<f32>) {
        self.insert_shared(key, Arc::new(value))
    }

    /// Like [`StateDict::insert`], with a tensor that may be shared with other state dicts.
    pub fn insert_shared(&mut self, key: impl Into<String>, value: Arc<ArrayD<f32>>) {
        let key = key.into();
        if let Some(slot) = self.entries.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
        } else {
            self.entries.push((key, value));
        }
    }

    /// The tensor stored under `key`, if any.
    pub fn get(&self, key: &str) -> Option<&ArrayD<f32>> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| &**v)
    }

    /// The shared handle of the tensor stored under `key`.
    pub fn get_shared(&self, key: &str) -> Option<&Arc<ArrayD<f32>>> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Replace every tensor that is bit-identical to the same key's tensor in `previous` by a shared
    /// handle to that tensor, so that a history of checkpoints stores unchanged tensors once.
    pub fn share_unchanged(&mut self, previous: &StateDict) {
        for (k, v) in &mut self.entries {
            if let Some(p) = previous.get_shared(k) {
                if !Arc::ptr_eq(p, v)
                    && p.shape() == v.shape()
                    && p.iter()
                        .zip(v.iter())
                        .all(|(a, b)| a.to_bits() == b.to_bits())
                {
                    *v = Arc::clone(p);
                }
            }
        }
    }

    /// The tensor stored under `key`, or an error naming the missing key.
    pub fn require(&self, key: &str) -> Result<&ArrayD<f32>> {
        self.get(key).ok_or_else(|| Error::UnknownName {
            kind: "state_dict key",
            name: key.to_string(),
            hint: String::new(),
        })
    }

    /// Keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// `(key, tensor)` pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ArrayD<f32>)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), &**v))
    }

    /// Number of tensors.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the dict holds no tensor.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Read a state dict from an `.npz` file whose arrays are named like EIANN's state_dict
    /// (`module_dict.<Post>_<Pre>.weight`, `parameter_dict.<Pop>_bias`) or like the parity fixtures
    /// (`weight/<Post>_<Pre>`, `bias/<Pop>`). Other arrays (e.g. `meta/*`) are ignored; a file with no
    /// weight at all is an error.
    pub fn from_npz(path: impl AsRef<std::path::Path>) -> Result<StateDict> {
        let z = crate::npz::Npz::open(path.as_ref())?;
        let mut sd = StateDict::new();
        for k in z.keys() {
            let key = if k.starts_with("module_dict.") || k.starts_with("parameter_dict.") {
                k.to_string()
            } else if let Some(n) = k.strip_prefix("weight/") {
                Self::weight_key(n)
            } else if let Some(n) = k.strip_prefix("bias/") {
                Self::bias_key(n)
            } else {
                continue;
            };
            sd.insert(key, z.f32(k)?);
        }
        if !sd.keys().any(|k| k.starts_with("module_dict.")) {
            return Err(Error::Npz {
                file: z.file.clone(),
                message: "holds no weight (expected arrays named module_dict.<Post>_<Pre>.weight or weight/<Post>_<Pre>)".into(),
            });
        }
        Ok(sd)
    }

    /// State-dict key of a projection's weight, e.g. `module_dict.H2E_H1E.weight`.
    pub fn weight_key(projection: &str) -> String {
        format!("module_dict.{projection}.weight")
    }

    /// State-dict key of a population's bias, e.g. `parameter_dict.H1E_bias`.
    pub fn bias_key(population: &str) -> String {
        format!("parameter_dict.{population}_bias")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::IxDyn;

    #[test]
    fn unchanged_tensors_are_shared() {
        let t = |v: f32| ArrayD::from_elem(IxDyn(&[3]), v);
        let mut a = StateDict::new();
        a.insert("x", t(1.0));
        a.insert("y", t(2.0));
        let mut b = StateDict::new();
        b.insert("x", t(1.0));
        b.insert("y", t(3.0));
        b.share_unchanged(&a);
        assert!(Arc::ptr_eq(
            a.get_shared("x").unwrap(),
            b.get_shared("x").unwrap()
        ));
        assert!(!Arc::ptr_eq(
            a.get_shared("y").unwrap(),
            b.get_shared("y").unwrap()
        ));
        assert_eq!(b.get("y").unwrap()[[0]], 3.0);
    }
}
