//! Run a sweep's pending runs on this machine, one per worker thread, each exactly as `eiann train`
//! would run it alone (same library call, validation on one thread: evaluation results do not depend on
//! the thread count), each checkpoint saved atomically when its run finishes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use crate::data::Mnist;
use crate::error::{Error, Result};
use crate::run::train_run;
use crate::train::TrainEvent;

use super::{Sweep, SweepRun};

/// What the local runner reports (from its worker threads).
#[derive(Debug, Clone, PartialEq)]
pub enum SweepEvent {
    /// Run `index` was finished before (its checkpoint exists) and is skipped.
    Skipped { index: usize },
    /// Run `index` started.
    Started { index: usize, total_steps: usize },
    /// Run `index` finished training step `step` (0-based).
    Step {
        index: usize,
        step: usize,
        loss: f32,
    },
    /// Run `index` evaluated the validation set after `step`.
    Validation {
        index: usize,
        step: usize,
        accuracy: f32,
    },
    /// Run `index` is saved.
    Finished { index: usize, seconds: f64 },
    /// Run `index` failed (the others go on).
    Failed { index: usize, message: String },
}

/// Outcome of [`run_local`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LocalSummary {
    /// Runs trained now.
    pub trained: Vec<usize>,
    /// Runs found finished.
    pub skipped: Vec<usize>,
    /// Runs that failed, with the error.
    pub failed: Vec<(usize, String)>,
}

/// Train every pending run of `sweep` on `workers` threads (0 = one per core, capped by the number of
/// pending runs) with the MNIST splits `mnist`. Finished runs are skipped; a failing run is reported and
/// the others continue. Returns an error only when the output folder cannot be prepared.
pub fn run_local(
    sweep: &Sweep,
    mnist: &Mnist,
    workers: usize,
    on_event: &(dyn Fn(SweepEvent) + Sync),
) -> Result<LocalSummary> {
    sweep.prepare_out_dir()?;
    let mut summary = LocalSummary::default();
    let mut pending: Vec<&SweepRun> = Vec::new();
    for r in &sweep.runs {
        if r.is_done() {
            summary.skipped.push(r.index);
            on_event(SweepEvent::Skipped { index: r.index });
        } else {
            pending.push(r);
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = (if workers == 0 { cores } else { workers })
        .min(pending.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Result<()>)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(run) = pending.get(k) else { break };
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    train_one(run, mnist, on_event)
                }))
                .unwrap_or_else(|_| {
                    Err(Error::invalid("sweep run", "the training thread panicked"))
                });
                if let Err(e) = &outcome {
                    on_event(SweepEvent::Failed {
                        index: run.index,
                        message: e.to_string(),
                    });
                }
                if let Ok(mut r) = results.lock() {
                    r.push((run.index, outcome));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|(i, _)| *i);
    for (i, r) in results {
        match r {
            Ok(()) => summary.trained.push(i),
            Err(e) => summary.failed.push((i, e.to_string())),
        }
    }
    Ok(summary)
}

fn train_one(run: &SweepRun, mnist: &Mnist, on_event: &(dyn Fn(SweepEvent) + Sync)) -> Result<()> {
    let total = run.spec.steps * run.spec.epochs;
    on_event(SweepEvent::Started {
        index: run.index,
        total_steps: total,
    });
    let t0 = Instant::now();
    let out = train_run(&run.spec, mnist, &mut |e| match e {
        TrainEvent::Step { step, loss, .. } => on_event(SweepEvent::Step {
            index: run.index,
            step,
            loss,
        }),
        TrainEvent::Validation { step, eval } => on_event(SweepEvent::Validation {
            index: run.index,
            step,
            accuracy: eval.accuracy,
        }),
    })?;
    out.checkpoint.save(&run.out)?;
    on_event(SweepEvent::Finished {
        index: run.index,
        seconds: t0.elapsed().as_secs_f64(),
    });
    Ok(())
}
