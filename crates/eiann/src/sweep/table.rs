//! A sweep's results ([`Tidy`]) as a polars frame, for notebooks: built from the records, read back
//! from `results.csv`, written as CSV and (feature `parquet`) Parquet.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::{Column, CsvReadOptions, CsvWriter, DataFrame, SerReader, SerWriter};
#[cfg(feature = "parquet")]
use polars::prelude::{ParquetReader, ParquetWriter};

use crate::error::{Error, Result};

use super::record::{RunRecord, Tidy};

fn table_error(e: impl std::fmt::Display) -> Error {
    Error::invalid("results table", e.to_string())
}

/// The tidy table of `records` ([`Tidy`]) as a polars frame: `config` (str), `network_seed`,
/// `data_seed`, `step` (u64), then one nullable f64 column per metric.
pub fn results_table(records: &[RunRecord]) -> Result<DataFrame> {
    let t = Tidy::new(records);
    let height = t.rows.len();
    let mut columns = vec![
        Column::new(
            "config".into(),
            t.rows
                .iter()
                .map(|r| r.0.config.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "network_seed".into(),
            t.rows.iter().map(|r| r.0.network_seed).collect::<Vec<_>>(),
        ),
        Column::new(
            "data_seed".into(),
            t.rows.iter().map(|r| r.0.data_seed).collect::<Vec<_>>(),
        ),
        Column::new(
            "step".into(),
            t.rows.iter().map(|r| r.1 as u64).collect::<Vec<_>>(),
        ),
    ];
    for (i, name) in t.metrics.iter().enumerate() {
        let col: Vec<Option<f64>> = t.rows.iter().map(|r| r.2[i]).collect();
        columns.push(Column::new(name.as_str().into(), col));
    }
    DataFrame::new(height, columns).map_err(table_error)
}

/// Read a results table written by `eiann sweep collect` (`results.csv`) into a polars frame.
pub fn read_csv(path: impl AsRef<Path>) -> Result<DataFrame> {
    let path = path.as_ref();
    CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|r| r.finish())
        .map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))
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

/// Write `df` to `path` as Parquet (atomically). Feature `parquet`.
#[cfg(feature = "parquet")]
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

/// Read a results table written by [`write_parquet`]. Feature `parquet`.
#[cfg(feature = "parquet")]
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
        let records = [a, b];
        let mut df = results_table(&records).unwrap();
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
        #[cfg(feature = "parquet")]
        {
            write_parquet(&mut df, dir.join("r.parquet")).unwrap();
            let back = read_parquet(dir.join("r.parquet")).unwrap();
            assert!(back.equals_missing(&df));
        }
        write_csv(&mut df, dir.join("r.csv")).unwrap();
        let csv = std::fs::read_to_string(dir.join("r.csv")).unwrap();
        assert!(csv.starts_with("config,network_seed,data_seed,step,val_accuracy,test_accuracy\n"));
        // The polars-free writer (the CLI's) gives a file polars reads back as the same frame.
        Tidy::new(&records).write_csv(dir.join("t.csv")).unwrap();
        let back = read_csv(dir.join("t.csv")).unwrap();
        assert_eq!(back.height(), df.height());
        assert_eq!(back.get_column_names(), df.get_column_names());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
