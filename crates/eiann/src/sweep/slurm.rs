//! A sweep as a Slurm job array: one array task per pending run, each running `eiann train` for its row
//! and writing the run's checkpoint (atomically) where the local runner would; then `sbatch` it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};

use super::{write_atomic, Sweep};

/// Resources and options of the job array.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SlurmOptions {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--time` (e.g. `01:00:00`).
    pub time: Option<String>,
    /// `--mem` (e.g. `2G`).
    pub mem: Option<String>,
    /// `--cpus-per-task` (validation threads of each run; default 1).
    pub cpus_per_task: Option<usize>,
    /// At most this many tasks at once (`--array=…%N`).
    pub max_parallel: Option<usize>,
    /// Further `#SBATCH` lines, verbatim (e.g. `--account=lab`).
    pub extra: Vec<String>,
}

/// The written job array.
#[derive(Debug, Clone, PartialEq)]
pub struct SlurmScript {
    /// The batch script.
    pub path: PathBuf,
    /// The sweep indices it runs (its `--array` list).
    pub indices: Vec<usize>,
}

/// Quote a string for bash (single quotes).
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn array_list(indices: &[usize]) -> String {
    // Compress runs of consecutive indices: 0-3,5,7-8.
    let mut parts = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let mut j = i;
        while j + 1 < indices.len() && indices[j + 1] == indices[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            indices[i].to_string()
        } else {
            format!("{}-{}", indices[i], indices[j])
        });
        i = j + 1;
    }
    parts.join(",")
}

/// Write `<out_dir>/slurm/<name>.sbatch` for the pending runs of `sweep`: `eiann` = the binary the tasks
/// run, `mnist_dir` = the MNIST folder they read. Returns `None` when no run is pending. Task output goes
/// to `<out_dir>/slurm/%A_%a.out`.
pub fn write_script(
    sweep: &Sweep,
    eiann: &Path,
    mnist_dir: &Path,
    opts: &SlurmOptions,
) -> Result<Option<SlurmScript>> {
    sweep.prepare_out_dir()?;
    let pending = sweep.pending();
    if pending.is_empty() {
        return Ok(None);
    }
    let dir = sweep.out_dir.join("slurm");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let abs = |p: &Path| std::path::absolute(p).map_err(|e| Error::io(p, e));
    let (eiann, mnist_dir) = (abs(eiann)?, abs(mnist_dir)?);
    let indices: Vec<usize> = pending.iter().map(|r| r.index).collect();
    let mut array = array_list(&indices);
    if let Some(n) = opts.max_parallel {
        array.push_str(&format!("%{n}"));
    }
    let cpus = opts.cpus_per_task.unwrap_or(1).max(1);
    let mut s = String::new();
    s.push_str("#!/bin/bash\n");
    s.push_str(&format!(
        "# eiann sweep '{}': {} of {} runs; written by eiann {}\n",
        sweep.name,
        indices.len(),
        sweep.runs.len(),
        env!("CARGO_PKG_VERSION")
    ));
    s.push_str(&format!("#SBATCH --job-name=eiann-{}\n", sweep.name));
    s.push_str(&format!("#SBATCH --array={array}\n"));
    s.push_str(&format!("#SBATCH --output={}/%A_%a.out\n", dir.display()));
    s.push_str("#SBATCH --ntasks=1\n");
    s.push_str(&format!("#SBATCH --cpus-per-task={cpus}\n"));
    for (flag, v) in [
        ("partition", &opts.partition),
        ("time", &opts.time),
        ("mem", &opts.mem),
    ] {
        if let Some(v) = v {
            s.push_str(&format!("#SBATCH --{flag}={v}\n"));
        }
    }
    for e in &opts.extra {
        s.push_str(&format!("#SBATCH {e}\n"));
    }
    s.push_str("set -euo pipefail\n");
    s.push_str(&format!(
        "EIANN={}\n",
        sh_quote(&eiann.display().to_string())
    ));
    s.push_str(&format!(
        "MNIST={}\n",
        sh_quote(&mnist_dir.display().to_string())
    ));
    s.push_str("case \"${SLURM_ARRAY_TASK_ID:?not a Slurm array task}\" in\n");
    for r in &pending {
        let args: Vec<String> = r.train_args().iter().map(|a| sh_quote(a)).collect();
        s.push_str(&format!(
            "  {}) OUT={}; ARGS=({});;\n",
            r.index,
            sh_quote(&r.out.display().to_string()),
            args.join(" ")
        ));
    }
    s.push_str("  *) echo \"no run with index $SLURM_ARRAY_TASK_ID\" >&2; exit 2;;\nesac\n");
    s.push_str("if [ -e \"$OUT\" ]; then echo \"$OUT exists: run finished before\"; exit 0; fi\n");
    s.push_str("exec \"$EIANN\" train \"${ARGS[@]}\" --threads \"${SLURM_CPUS_PER_TASK:-1}\" --quiet --mnist-dir \"$MNIST\" --out \"$OUT\"\n");
    let path = dir.join(format!("{}.sbatch", sweep.name));
    write_atomic(&path, s.as_bytes())?;
    Ok(Some(SlurmScript { path, indices }))
}

/// Submit `script` with `sbatch --parsable` (`sbatch` = the command, e.g. `sbatch`; `wait` adds
/// `--wait`, which returns when every task ended). Returns the job id.
pub fn submit(sbatch: &str, script: &SlurmScript, wait: bool) -> Result<String> {
    let mut cmd = Command::new(sbatch);
    cmd.arg("--parsable");
    if wait {
        cmd.arg("--wait");
    }
    cmd.arg(&script.path);
    let out = cmd
        .output()
        .map_err(|e| Error::invalid("sbatch", format!("cannot run `{sbatch}`: {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let job = stdout
        .lines()
        .next()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    if !out.status.success() {
        return Err(Error::invalid(
            "sbatch",
            format!(
                "`{sbatch} {}` failed ({}){}: {}",
                script.path.display(),
                out.status,
                if job.is_empty() {
                    String::new()
                } else {
                    format!(" for job {job}")
                },
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    if job.is_empty() {
        return Err(Error::invalid("sbatch", "printed no job id"));
    }
    Ok(job)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_lists_compress_runs() {
        assert_eq!(array_list(&[0, 1, 2, 3, 5, 7, 8]), "0-3,5,7-8");
        assert_eq!(array_list(&[4]), "4");
    }

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
    }
}
