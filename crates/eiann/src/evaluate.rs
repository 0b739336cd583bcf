//! Evaluation of a network on a labelled set (validation / test): forward phase only, MSE loss and
//! argmax accuracy as EIANN computes them, in parallel with results independent of the thread count.

use crate::dynamics::mse_loss;
use crate::error::{Error, Result};
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
/// Work is split over `threads` threads (0 = all cores), each with its own copy of the network; per-sample
/// results are reduced in sample order, so the numbers do not depend on the thread count.
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
                    let mut x = vec![0f32; data.input_size()];
                    let mut t = vec![0f32; out_size];
                    for (k, r) in part.iter_mut().enumerate() {
                        let i = c * chunk + k;
                        data.input_into(i, &mut x);
                        data.target_into(i, &mut t);
                        let out = local.forward(&x, None)?;
                        *r = One {
                            sq_err: mse_loss(out, &t) as f64 * out_size as f64,
                            correct: argmax(out) == data.label(i),
                        };
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
