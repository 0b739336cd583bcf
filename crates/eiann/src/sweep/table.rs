//! A sweep's results as one tidy polars table — one row per run × recorded step: `config`,
//! `network_seed`, `data_seed`, `step`, then one nullable float column per metric — written to Parquet
//! and CSV.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::{
    Column, CsvWriter, DataFrame, ParquetReader, ParquetWriter, SerReader, SerWriter,
};

use crate::error::{Error, Result};

use super::record::RunRecord;

fn table_error(e: impl std::fmt::Display) -> Error {
    Error::invalid("results table", e.to_string())
}

/// The tidy table of `records`: each run's rows are the sorted union of its series' steps; a metric
/// without a value at a step is null. Metric columns appear in the order first seen.
pub fn results_table(records: &[RunRecord]) -> Result<DataFrame> {
    let mut names: Vec<String> = Vec::new();
    for r in records {
        for s in &r.series {
            if !names.contains(&s.name) {
                names.push(s.name.clone());
            }
        }
    }
    let (mut config, mut nseed, mut dseed, mut step) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut metrics: Vec<Vec<Option<f64>>> = vec![Vec::new(); names.len()];
    for r in records {
        let mut grid: Vec<usize> = r
            .series
            .iter()
            .flat_map(|s| s.steps.iter().copied())
            .collect();
        grid.sort_unstable();
        grid.dedup();
        for &g in &grid {
            config.push(r.key.config.clone());
            nseed.push(r.key.network_seed);
            dseed.push(r.key.data_seed);
            step.push(g as u64);
        }
        for (col, name) in metrics.iter_mut().zip(&names) {
            let series = r.get(name);
            for &g in &grid {
                col.push(
                    series.and_then(|s| s.steps.iter().position(|&x| x == g).map(|i| s.values[i])),
                );
            }
        }
    }
    let height = step.len();
    let mut columns = vec![
        Column::new("config".into(), config),
        Column::new("network_seed".into(), nseed),
        Column::new("data_seed".into(), dseed),
        Column::new("step".into(), step),
    ];
    for (name, col) in names.iter().zip(metrics) {
        columns.push(Column::new(name.as_str().into(), col));
    }
    DataFrame::new(height, columns).map_err(table_error)
}

fn tmp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

fn finish_atomic(tmp: &Path, path: &Path, r: Result<()>) -> Result<()> {
    if let Err(e) = r {
        let _ = std::fs::remove_file(tmp);
        return Err(e);
    }
    std::fs::rename(tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(tmp);
        Error::io(path, e)
    })
}

/// Write `df` to `path` as Parquet (atomically).
pub fn write_parquet(df: &mut DataFrame, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let tmp = tmp_path(path);
    let r = File::create(&tmp)
        .map_err(|e| Error::io(&tmp, e))
        .and_then(|f| {
            ParquetWriter::new(f)
                .finish(df)
                .map(|_| ())
                .map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))
        });
    finish_atomic(&tmp, path, r)
}

/// Write `df` to `path` as CSV with a header row (atomically; nulls as empty fields).
pub fn write_csv(df: &mut DataFrame, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let tmp = tmp_path(path);
    let r = File::create(&tmp)
        .map_err(|e| Error::io(&tmp, e))
        .and_then(|f| {
            CsvWriter::new(f)
                .include_header(true)
                .finish(df)
                .map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))
        });
    finish_atomic(&tmp, path, r)
}

/// Read a results table written by [`write_parquet`].
pub fn read_parquet(path: impl AsRef<Path>) -> Result<DataFrame> {
    let path = path.as_ref();
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    ParquetReader::new(f)
        .finish()
        .map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::super::record::RunKey;
    use super::*;

    #[test]
    fn tidy_rows_with_nulls() {
        let mut a = RunRecord::new(RunKey {
            config: "c".into(),
            network_seed: 1,
            data_seed: 2,
        });
        a.attach("val_accuracy", vec![0, 99], vec![10.0, 20.0])
            .unwrap();
        a.attach("test_accuracy", vec![99, 150], vec![30.0, 40.0])
            .unwrap();
        let mut b = RunRecord::new(RunKey {
            config: "d".into(),
            network_seed: 3,
            data_seed: 4,
        });
        b.attach("val_accuracy", vec![5], vec![1.0]).unwrap();
        let mut df = results_table(&[a, b]).unwrap();
        assert_eq!(df.height(), 4);
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            names,
            [
                "config",
                "network_seed",
                "data_seed",
                "step",
                "val_accuracy",
                "test_accuracy"
            ]
        );
        let ca = df.column("test_accuracy").unwrap().f64().unwrap();
        let t: Vec<Option<f64>> = (0..ca.len()).map(|i| ca.get(i)).collect();
        assert_eq!(t, vec![None, Some(30.0), Some(40.0), None]);
        let dir = std::env::temp_dir().join(format!("eiann-table-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        write_parquet(&mut df, dir.join("r.parquet")).unwrap();
        write_csv(&mut df, dir.join("r.csv")).unwrap();
        let back = read_parquet(dir.join("r.parquet")).unwrap();
        assert!(back.equals_missing(&df));
        let csv = std::fs::read_to_string(dir.join("r.csv")).unwrap();
        assert!(csv.starts_with("config,network_seed,data_seed,step,val_accuracy,test_accuracy\n"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
