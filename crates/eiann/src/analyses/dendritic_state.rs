//! Binned mean |forward dendritic state| during training (spec §5.1), from stored histories or streamed
//! one training step at a time (O(units) memory, spec §12).

use ndarray::{Array1, ArrayView2};

use crate::error::{Error, Result};

/// Figure 3's bin width (training steps per bin).
pub const BIN_SIZE: usize = 100;

/// The binned series of every population with a dendritic state and of all of them pooled.
#[derive(Debug, Clone, PartialEq)]
pub struct BinnedDendriticState {
    /// Step label of each bin: `(k + 1)·B` (the bin covers steps `kB .. kB+B−1`).
    pub steps: Vec<usize>,
    /// Population names, in the order given.
    pub populations: Vec<String>,
    /// `m_p[k]` = mean over units of the bin's mean |D|, one series per population (float32).
    pub per_population: Vec<Array1<f32>>,
    /// `all[k]` = mean over the concatenated units of all populations (float32).
    pub all: Array1<f32>,
}

impl BinnedDendriticState {
    /// The series of population `name`.
    pub fn population(&self, name: &str) -> Option<&Array1<f32>> {
        self.populations
            .iter()
            .position(|p| p == name)
            .map(|i| &self.per_population[i])
    }
}

/// Streaming accumulator: feed the forward dendritic state of every population after each training step
/// ([`push_step`](Self::push_step)); complete bins are closed as they fill, an incomplete last bin is
/// dropped by [`finish`](Self::finish) (EIANN keeps the first ⌊N/B⌋·B rows).
#[derive(Debug, Clone)]
pub struct DendriticStateBins {
    bin: usize,
    populations: Vec<String>,
    sizes: Vec<usize>,
    /// Per population, per unit: Σ |D| over the steps of the open bin (float64).
    sums: Vec<Vec<f64>>,
    in_bin: usize,
    per_population: Vec<Vec<f32>>,
    all: Vec<f32>,
}

impl DendriticStateBins {
    /// An accumulator for populations `(name, units)` in the order their states will be pushed, with
    /// bins of `bin` steps (Figure 3: [`BIN_SIZE`]).
    pub fn new(populations: &[(&str, usize)], bin: usize) -> Result<Self> {
        if bin == 0 {
            return Err(Error::invalid("dendritic-state bin size", "must be ≥ 1"));
        }
        if populations.is_empty() || populations.iter().any(|(_, n)| *n == 0) {
            return Err(Error::invalid(
                "dendritic-state populations",
                "need at least one population, each with at least one unit",
            ));
        }
        Ok(DendriticStateBins {
            bin,
            populations: populations.iter().map(|(p, _)| p.to_string()).collect(),
            sizes: populations.iter().map(|(_, n)| *n).collect(),
            sums: populations.iter().map(|(_, n)| vec![0.0; *n]).collect(),
            in_bin: 0,
            per_population: vec![Vec::new(); populations.len()],
            all: Vec::new(),
        })
    }

    /// Add one training step: `states[p]` = the forward dendritic state of population `p` (its `units`
    /// values).
    pub fn push_step(&mut self, states: &[&[f32]]) -> Result<()> {
        if states.len() != self.sizes.len() {
            return Err(Error::shape(
                "dendritic states of one step (populations)",
                self.sizes.len(),
                states.len(),
            ));
        }
        for (p, s) in states.iter().enumerate() {
            if s.len() != self.sizes[p] {
                return Err(Error::shape(
                    format!("dendritic state of {}", self.populations[p]),
                    self.sizes[p],
                    s.len(),
                ));
            }
        }
        for (sum, s) in self.sums.iter_mut().zip(states) {
            for (a, &d) in sum.iter_mut().zip(s.iter()) {
                *a += d.abs() as f64;
            }
        }
        self.in_bin += 1;
        if self.in_bin == self.bin {
            self.close_bin();
        }
        Ok(())
    }

    fn close_bin(&mut self) {
        let b = self.bin as f64;
        let (mut total, mut units) = (0f64, 0usize);
        for (p, sum) in self.sums.iter_mut().enumerate() {
            // M_p[k, u] as torch's float32 mean over the bin, then the mean over units.
            let m: f64 = sum.iter().map(|&s| (s / b) as f32 as f64).sum();
            self.per_population[p].push((m / sum.len() as f64) as f32);
            total += m;
            units += sum.len();
            sum.iter_mut().for_each(|s| *s = 0.0);
        }
        self.all.push((total / units as f64) as f32);
        self.in_bin = 0;
    }

    /// Number of complete bins so far.
    pub fn bins(&self) -> usize {
        self.all.len()
    }

    /// The binned series (the steps of an incomplete last bin are dropped).
    pub fn finish(&self) -> BinnedDendriticState {
        let nb = self.all.len();
        BinnedDendriticState {
            steps: (1..=nb).map(|k| k * self.bin).collect(),
            populations: self.populations.clone(),
            per_population: self
                .per_population
                .iter()
                .map(|v| Array1::from(v.clone()))
                .collect(),
            all: Array1::from(self.all.clone()),
        }
    }
}

/// EIANN's `get_binned_mean_population_attribute_history_dict(attr='forward_dendritic_state', abs=True)`
/// on stored histories: `histories[p]` = `(name, D_p)` with `D_p` `[steps × units]`; `n_steps` = the
/// number of stored steps that sizes the bins (EIANN: the output population's activity-history length;
/// must not exceed any history's rows). Uses the first ⌊n_steps/bin⌋·bin rows of each history.
pub fn binned_mean_abs(
    histories: &[(&str, ArrayView2<'_, f32>)],
    n_steps: usize,
    bin: usize,
) -> Result<BinnedDendriticState> {
    let pops: Vec<(&str, usize)> = histories.iter().map(|(n, d)| (*n, d.ncols())).collect();
    let mut acc = DendriticStateBins::new(&pops, bin)?;
    for (name, d) in histories {
        if d.nrows() < n_steps {
            return Err(Error::shape(
                format!("forward dendritic state history of {name} (rows)"),
                format!("≥ {n_steps}"),
                d.nrows(),
            ));
        }
    }
    let rows = n_steps / bin * bin;
    let mut buf: Vec<Vec<f32>> = pops.iter().map(|(_, n)| vec![0.0; *n]).collect();
    for i in 0..rows {
        for (b, (_, d)) in buf.iter_mut().zip(histories) {
            b.iter_mut().zip(d.row(i)).for_each(|(x, &v)| *x = v);
        }
        let refs: Vec<&[f32]> = buf.iter().map(Vec::as_slice).collect();
        acc.push_step(&refs)?;
    }
    Ok(acc.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn bins_means_and_pooled_mean() {
        // 2 populations (1 and 2 units), 5 steps, bins of 2 → 2 bins, last step dropped.
        let a = array![[1.0f32], [-3.0], [2.0], [2.0], [100.0]];
        let b = array![
            [0.0f32, 2.0],
            [0.0, -2.0],
            [4.0, 4.0],
            [-4.0, 0.0],
            [9.0, 9.0]
        ];
        let r = binned_mean_abs(&[("A", a.view()), ("B", b.view())], 5, 2).unwrap();
        assert_eq!(r.steps, vec![2, 4]);
        assert_eq!(r.population("A").unwrap().to_vec(), vec![2.0, 2.0]);
        assert_eq!(r.population("B").unwrap().to_vec(), vec![1.0, 3.0]);
        // all = (2 + 0 + 2) / 3, (2 + 4 + 2) / 3
        assert_eq!(r.all.to_vec(), vec![4.0 / 3.0, 8.0 / 3.0]);
    }

    #[test]
    fn n_steps_sizes_the_bins_and_is_checked() {
        let a = array![[1.0f32], [1.0], [1.0], [1.0]];
        assert_eq!(
            binned_mean_abs(&[("A", a.view())], 3, 2).unwrap().steps,
            vec![2]
        );
        assert!(binned_mean_abs(&[("A", a.view())], 5, 2).is_err());
        assert!(binned_mean_abs(&[("A", a.view())], 4, 0).is_err());
    }

    #[test]
    fn streaming_checks_shapes() {
        let mut acc = DendriticStateBins::new(&[("A", 2)], 1).unwrap();
        assert!(acc.push_step(&[&[1.0]]).is_err());
        assert!(acc.push_step(&[&[1.0, 2.0], &[1.0]]).is_err());
        acc.push_step(&[&[1.0, -2.0]]).unwrap();
        assert_eq!(acc.finish().all.to_vec(), vec![1.5]);
    }
}
