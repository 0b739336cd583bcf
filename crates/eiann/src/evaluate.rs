//! Evaluation of a network on a labelled set (validation / test): forward phase only, MSE loss and
//! argmax accuracy as EIANN computes them, in parallel with results independent of the thread count.

use crate::dynamics::mse_loss;
use crate::error::{Error, Result};
use crate::fast::stacks::FusedDrives;
use crate::fast::Speed;
use crate::network::Network;
use crate::samples::Samples;

/// Loss and accuracy of a network on a set of samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Mean squared error over all samples and outputs (PyTorch `MSELoss` on the whole batch).
    pub loss: f32,
    /// Percentage of samples whose output argmax (first maximum) equals the label.
    pub accuracy: f32,
    /// Number of correctly classified samples.
    pub correct: usize,
    /// Number of samples.
    pub n: usize,
}

/// Per-sample result of one forward phase.
#[derive(Debug, Clone, Copy, Default)]
struct One {
    sq_err: f64,
    correct: bool,
}

/// Samples integrated side by side per forward call (weights are then read once per batch).
const BATCH: usize = 32;

/// Index of the first maximum (`torch.argmax` semantics).
pub fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// Evaluate `net` on every sample of `data` (forward phase only; the network's own state is untouched).
/// Work is split over `threads` threads (0 = all cores), each with its own copy of the network that
/// integrates 32 samples side by side with stacked drives (`fast/stacks.rs`: the products of each
/// presynaptic population in one kernel call, populations the output does not depend on skipped); every
/// sample gets the bits it gets alone, and per-sample results are
/// reduced in sample order, so the numbers depend neither on the thread count nor on the batching.
pub fn evaluate(net: &Network, data: &dyn Samples, threads: usize) -> Result<Evaluation> {
    let n = data.len();
    if n == 0 {
        return Err(Error::invalid("evaluation set", "it holds no sample"));
    }
    let out_size = net.output().len();
    if data.num_classes() != out_size {
        return Err(Error::shape(
            "number of classes",
            out_size,
            data.num_classes(),
        ));
    }
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(1, |t| t.get())
    } else {
        threads
    }
    .clamp(1, n);
    let mut results = vec![One::default(); n];
    let chunk = n.div_ceil(threads);
    let outcome: Result<()> = std::thread::scope(|scope| {
        let handles: Vec<_> = results
            .chunks_mut(chunk)
            .enumerate()
            .map(|(c, part)| {
                let mut local = net.clone();
                scope.spawn(move || -> Result<()> {
                    // The fast path stacks each population's products and integrates 32 samples side
                    // by side; the reference path runs them one by one, plainly.
                    let batch = match local.speed() {
                        Speed::Fast => {
                            let stacks = FusedDrives::new(&local);
                            local.fast.stack_for_evaluation(stacks);
                            BATCH
                        }
                        Speed::Reference => 1,
                    };
                    let n_in = data.input_size();
                    let mut x = vec![0f32; batch * n_in];
                    let mut t = vec![0f32; out_size];
                    for (g, group) in part.chunks_mut(batch).enumerate() {
                        let b = group.len();
                        local.set_batch_size(b)?;
                        let first = c * chunk + g * batch;
                        for k in 0..b {
                            data.input_into(first + k, &mut x[k * n_in..(k + 1) * n_in]);
                        }
                        let out = local.forward(&x[..b * n_in], None)?;
                        for (k, r) in group.iter_mut().enumerate() {
                            let o = &out[k * out_size..(k + 1) * out_size];
                            data.target_into(first + k, &mut t);
                            *r = One {
                                sq_err: mse_loss(o, &t) as f64 * out_size as f64,
                                correct: argmax(o) == data.label(first + k),
                            };
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join()
                .map_err(|_| Error::invalid("evaluation", "a worker thread panicked"))??;
        }
        Ok(())
    });
    outcome?;
    let correct = results.iter().filter(|r| r.correct).count();
    let sq: f64 = results.iter().map(|r| r.sq_err).sum();
    Ok(Evaluation {
        loss: (sq / (n * out_size) as f64) as f32,
        accuracy: (100.0 * correct as f64 / n as f64) as f32,
        correct,
        n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::NetworkSpec;
    use crate::samples::InMemorySamples;

    #[test]
    fn batched_parallel_evaluation_equals_one_by_one() {
        let spec = NetworkSpec::from_file(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "../../data/network_config/mnist/20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized.yaml",
        ))
        .unwrap();
        let mut net = Network::new(spec, 7);
        let n = 37;
        let inputs = ndarray::Array2::from_shape_fn((n, 784), |(s, p)| {
            if (p + 3 * s) % 5 == 0 {
                ((p * s) % 255) as f32 / 255.0
            } else {
                0.0
            }
        });
        let data = InMemorySamples {
            inputs: inputs.clone(),
            labels: (0..n).map(|i| i % 10).collect(),
            classes: 10,
        };
        let e2 = evaluate(&net, &data, 2).unwrap();
        let e1 = evaluate(&net, &data, 1).unwrap();
        assert_eq!(e1, e2);
        let mut correct = 0;
        let mut sq = 0f64;
        for s in 0..n {
            let x: Vec<f32> = inputs.row(s).to_vec();
            let out = net.forward(&x, None).unwrap().to_vec();
            let mut t = vec![0f32; 10];
            t[s % 10] = 1.0;
            sq += mse_loss(&out, &t) as f64 * 10.0;
            correct += usize::from(argmax(&out) == s % 10);
        }
        assert_eq!(e1.correct, correct);
        assert_eq!(e1.loss, (sq / (n * 10) as f64) as f32);
    }

    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(argmax(&[0.0, 0.0, 0.0]), 0);
        assert_eq!(argmax(&[0.1, 0.5, 0.5]), 1);
    }
}
