//! Reading and writing NumPy `.npz` archives (zip files of `.npy` arrays), as produced by
//! `numpy.savez(_compressed)`: float32/float64/int64/int32/uint8/bool arrays and unicode string arrays.
//!
//! Used for the parity fixtures and for state files of the original PyTorch network (EIANN state_dict
//! names as keys). Only C-order little-endian arrays are supported; anything else is a clear error.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use ndarray::{ArrayD, IxDyn};

use crate::error::{Error, Result};
use crate::limits::{
    MAX_NPY_DIMS, MAX_NPY_HEADER, MAX_NPY_STR_WIDTH, MAX_NPZ_BYTES, MAX_NPZ_MEMBERS,
};

/// One array read from an `.npy` member.
#[derive(Debug, Clone, PartialEq)]
pub enum NpyArray {
    F32(ArrayD<f32>),
    F64(ArrayD<f64>),
    I64(ArrayD<i64>),
    I32(ArrayD<i32>),
    U8(ArrayD<u8>),
    Bool(ArrayD<bool>),
    /// Unicode strings (`<U{n}`), flattened in C order, with their shape.
    Str(Vec<String>, Vec<usize>),
}

impl NpyArray {
    /// The array's shape.
    pub fn shape(&self) -> Vec<usize> {
        match self {
            NpyArray::F32(a) => a.shape().to_vec(),
            NpyArray::F64(a) => a.shape().to_vec(),
            NpyArray::I64(a) => a.shape().to_vec(),
            NpyArray::I32(a) => a.shape().to_vec(),
            NpyArray::U8(a) => a.shape().to_vec(),
            NpyArray::Bool(a) => a.shape().to_vec(),
            NpyArray::Str(_, s) => s.clone(),
        }
    }

    /// NumPy dtype string of the array (`<f4`, `<i8`, ...).
    pub fn dtype(&self) -> &'static str {
        match self {
            NpyArray::F32(_) => "<f4",
            NpyArray::F64(_) => "<f8",
            NpyArray::I64(_) => "<i8",
            NpyArray::I32(_) => "<i4",
            NpyArray::U8(_) => "|u1",
            NpyArray::Bool(_) => "|b1",
            NpyArray::Str(..) => "<U",
        }
    }
}

/// An `.npz` archive read fully into memory, keyed by member name without the `.npy` suffix.
#[derive(Debug, Clone, Default)]
pub struct Npz {
    /// File name used in error messages.
    pub file: String,
    arrays: BTreeMap<String, NpyArray>,
}

impl Npz {
    /// Read every array of the archive at `path` (a regular file), within the caps of
    /// [`crate::limits`]: at most [`MAX_NPZ_MEMBERS`] members and [`MAX_NPZ_BYTES`] decompressed bytes
    /// in total, whatever sizes the zip directory declares.
    pub fn open(path: impl AsRef<Path>) -> Result<Npz> {
        let path = path.as_ref();
        let file_name = path.display().to_string();
        let npz_err = |message: String| Error::Npz {
            file: file_name.clone(),
            message,
        };
        let (f, _) = crate::input::open_regular(path)
            .map_err(|why| npz_err(format!("{why}; expected an .npz file")))?;
        Npz::read(std::io::BufReader::new(f), &file_name)
    }

    /// Read every array of an `.npz` archive from `reader`; `file` names it in errors. Same caps as
    /// [`Npz::open`].
    pub fn read<R: Read + std::io::Seek>(reader: R, file: &str) -> Result<Npz> {
        let npz_err = |message: String| Error::Npz {
            file: file.to_string(),
            message,
        };
        let mut zip = zip::ZipArchive::new(reader)
            .map_err(|e| npz_err(format!("not a readable .npz (zip) archive: {e}")))?;
        if zip.len() > MAX_NPZ_MEMBERS {
            return Err(npz_err(format!(
                "the archive has {} members (limit {MAX_NPZ_MEMBERS})",
                zip.len()
            )));
        }
        let mut budget = MAX_NPZ_BYTES;
        let mut arrays = BTreeMap::new();
        for i in 0..zip.len() {
            let member = zip
                .by_index(i)
                .map_err(|e| npz_err(format!("cannot read archive member {i}: {e}")))?;
            let name = member
                .name()
                .map(|n| n.to_string())
                .unwrap_or_else(|_| format!("member {i}"));
            // The declared size is not trusted for allocation: read at most what the budget allows.
            let mut buf = Vec::new();
            member
                .take(budget + 1)
                .read_to_end(&mut buf)
                .map_err(|e| npz_err(format!("cannot decompress member {name}: {e}")))?;
            if buf.len() as u64 > budget {
                return Err(npz_err(format!(
                    "member {name}: the archive decompresses to more than {MAX_NPZ_BYTES} bytes (limit)"
                )));
            }
            budget -= buf.len() as u64;
            let key = name.strip_suffix(".npy").unwrap_or(&name).to_string();
            let arr = parse_npy(&buf).map_err(|m| npz_err(format!("member {name}: {m}")))?;
            arrays.insert(key, arr);
        }
        Ok(Npz {
            file: file.to_string(),
            arrays,
        })
    }

    /// Build an archive in memory (for writing).
    pub fn new(file: impl Into<String>) -> Npz {
        Npz {
            file: file.into(),
            arrays: BTreeMap::new(),
        }
    }

    /// Insert or replace an array.
    pub fn insert(&mut self, key: impl Into<String>, arr: NpyArray) {
        self.arrays.insert(key.into(), arr);
    }

    /// All keys, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.arrays.keys().map(|s| s.as_str())
    }

    /// Whether `key` is present.
    pub fn contains(&self, key: &str) -> bool {
        self.arrays.contains_key(key)
    }

    /// The raw array stored under `key`.
    pub fn get(&self, key: &str) -> Result<&NpyArray> {
        self.arrays.get(key).ok_or_else(|| Error::Npz {
            file: self.file.clone(),
            message: format!("missing array \"{key}\""),
        })
    }

    /// A float32 array (float64 arrays are refused: no silent precision change).
    pub fn f32(&self, key: &str) -> Result<ArrayD<f32>> {
        match self.get(key)? {
            NpyArray::F32(a) => Ok(a.clone()),
            other => Err(self.wrong_type(key, "<f4", other)),
        }
    }

    /// An integer array as i64 (int32 and uint8 are widened).
    pub fn i64(&self, key: &str) -> Result<ArrayD<i64>> {
        match self.get(key)? {
            NpyArray::I64(a) => Ok(a.clone()),
            NpyArray::I32(a) => Ok(a.mapv(i64::from)),
            NpyArray::U8(a) => Ok(a.mapv(i64::from)),
            other => Err(self.wrong_type(key, "<i8", other)),
        }
    }

    /// A scalar (0-d or 1-element) integer.
    pub fn scalar_i64(&self, key: &str) -> Result<i64> {
        let a = self.i64(key)?;
        a.iter()
            .next()
            .copied()
            .filter(|_| a.len() == 1)
            .ok_or_else(|| Error::Npz {
                file: self.file.clone(),
                message: format!("array \"{key}\" is not a scalar (shape {:?})", a.shape()),
            })
    }

    /// A scalar (0-d or 1-element) float32.
    pub fn scalar_f32(&self, key: &str) -> Result<f32> {
        let a = self.f32(key)?;
        a.iter()
            .next()
            .copied()
            .filter(|_| a.len() == 1)
            .ok_or_else(|| Error::Npz {
                file: self.file.clone(),
                message: format!("array \"{key}\" is not a scalar (shape {:?})", a.shape()),
            })
    }

    /// A string array, flattened.
    pub fn strings(&self, key: &str) -> Result<Vec<String>> {
        match self.get(key)? {
            NpyArray::Str(v, _) => Ok(v.clone()),
            other => Err(self.wrong_type(key, "<U", other)),
        }
    }

    fn wrong_type(&self, key: &str, want: &str, got: &NpyArray) -> Error {
        Error::Npz {
            file: self.file.clone(),
            message: format!(
                "array \"{key}\" has dtype {} (expected {want})",
                got.dtype()
            ),
        }
    }

    /// Write the archive to `path` (deflate-compressed members, like `numpy.savez_compressed`).
    /// The file is written to a temporary name first and renamed, so a failure leaves no partial file.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let tmp = path.with_extension("npz.tmp");
        let res = (|| -> std::io::Result<()> {
            let f = File::create(&tmp)?;
            let mut zw = zip::ZipWriter::new(f);
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            for (k, a) in &self.arrays {
                zw.start_file(format!("{k}.npy"), opts)
                    .map_err(std::io::Error::other)?;
                zw.write_all(&to_npy(a))?;
            }
            zw.finish().map_err(std::io::Error::other)?.sync_all()?;
            Ok(())
        })();
        match res {
            Ok(()) => std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e)),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(Error::io(path, e))
            }
        }
    }
}

/// Parse one `.npy` byte buffer.
pub fn parse_npy(buf: &[u8]) -> std::result::Result<NpyArray, String> {
    if buf.len() < 10 || &buf[..6] != b"\x93NUMPY" {
        return Err("not an .npy array (bad magic)".into());
    }
    let major = buf[6];
    let (hlen, start) = match major {
        1 => (u16::from_le_bytes([buf[8], buf[9]]) as usize, 10),
        2 | 3 => {
            if buf.len() < 12 {
                return Err("truncated header".into());
            }
            (
                u32::from_le_bytes([buf[8], buf[9], buf[10], buf[11]]) as usize,
                12,
            )
        }
        v => return Err(format!("unsupported .npy version {v}")),
    };
    if hlen > MAX_NPY_HEADER {
        return Err(format!("header of {hlen} bytes (limit {MAX_NPY_HEADER})"));
    }
    let header = buf.get(start..start + hlen).ok_or("truncated header")?;
    let header = std::str::from_utf8(header).map_err(|_| "header is not text")?;
    let descr = header_field(header, "descr").ok_or("header lacks 'descr'")?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    let fortran = header_field(header, "fortran_order").ok_or("header lacks 'fortran_order'")?;
    let fortran = match fortran.trim() {
        "False" => false,
        "True" => true,
        other => return Err(format!("bad fortran_order {other}")),
    };
    let shape = parse_shape(header)?;
    if shape.len() > MAX_NPY_DIMS {
        return Err(format!("{} dimensions (limit {MAX_NPY_DIMS})", shape.len()));
    }
    let n = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| format!("shape {shape:?} has more elements than memory can hold"))?;
    let data = &buf[start + hlen..];
    // Every size is checked against the bytes present before anything is allocated.
    let need = |size: usize| -> std::result::Result<&[u8], String> {
        let bytes = n
            .checked_mul(size)
            .filter(|&b| b <= data.len())
            .ok_or_else(|| {
                format!(
                    "truncated data: shape {shape:?} of {size}-byte items needs {} bytes, have {}",
                    n.checked_mul(size)
                        .map_or("more than 2^64".to_string(), |b| b.to_string()),
                    data.len()
                )
            })?;
        Ok(&data[..bytes])
    };
    // Fortran-order data is read with reversed axes, then transposed back into C order.
    let shp = if fortran {
        IxDyn(&shape.iter().rev().copied().collect::<Vec<_>>())
    } else {
        IxDyn(&shape)
    };
    let mk = |e: ndarray::ShapeError| e.to_string();
    let arr = match descr {
        "<f4" => {
            let d = need(4)?;
            let v = d
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            NpyArray::F32(ArrayD::from_shape_vec(shp, v).map_err(mk)?)
        }
        "<f8" => {
            let d = need(8)?;
            let v = d
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                .collect();
            NpyArray::F64(ArrayD::from_shape_vec(shp, v).map_err(mk)?)
        }
        "<i8" => {
            let d = need(8)?;
            let v = d
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                .collect();
            NpyArray::I64(ArrayD::from_shape_vec(shp, v).map_err(mk)?)
        }
        "<i4" => {
            let d = need(4)?;
            let v = d
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            NpyArray::I32(ArrayD::from_shape_vec(shp, v).map_err(mk)?)
        }
        "|u1" => NpyArray::U8(ArrayD::from_shape_vec(shp, need(1)?.to_vec()).map_err(mk)?),
        "|b1" => NpyArray::Bool(
            ArrayD::from_shape_vec(shp, need(1)?.iter().map(|&b| b != 0).collect()).map_err(mk)?,
        ),
        d if d.starts_with("<U") => {
            let w: usize = d[2..].parse().map_err(|_| format!("bad dtype {d}"))?;
            if w == 0 || w > MAX_NPY_STR_WIDTH {
                return Err(format!(
                    "string dtype {d}: width must be in 1..={MAX_NPY_STR_WIDTH} characters"
                ));
            }
            let raw = need(4 * w)?;
            let mut out = Vec::with_capacity(n);
            for item in raw.chunks_exact(4 * w).take(n) {
                let s: String = item
                    .chunks_exact(4)
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .take_while(|&u| u != 0)
                    .filter_map(char::from_u32)
                    .collect();
                out.push(s);
            }
            NpyArray::Str(out, shape)
        }
        d => return Err(format!("unsupported dtype {d}")),
    };
    if !fortran {
        return Ok(arr);
    }
    fn c_order<T: Clone>(a: ArrayD<T>) -> ArrayD<T> {
        a.reversed_axes().as_standard_layout().into_owned()
    }
    Ok(match arr {
        NpyArray::F32(a) => NpyArray::F32(c_order(a)),
        NpyArray::F64(a) => NpyArray::F64(c_order(a)),
        NpyArray::I64(a) => NpyArray::I64(c_order(a)),
        NpyArray::I32(a) => NpyArray::I32(c_order(a)),
        NpyArray::U8(a) => NpyArray::U8(c_order(a)),
        NpyArray::Bool(a) => NpyArray::Bool(c_order(a)),
        NpyArray::Str(..) => return Err("Fortran-order string arrays are not supported".into()),
    })
}

fn header_field<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let pat1 = format!("'{key}':");
    let i = header.find(&pat1)? + pat1.len();
    let rest = header[i..].trim_start();
    if rest.starts_with('(') {
        return Some(&rest[..=rest.find(')')?]);
    }
    let end = rest.find(',').or_else(|| rest.find('}'))?;
    Some(rest[..end].trim())
}

fn parse_shape(header: &str) -> std::result::Result<Vec<usize>, String> {
    let s = header_field(header, "shape").ok_or("header lacks 'shape'")?;
    let inner = s.trim().trim_start_matches('(').trim_end_matches(')');
    inner
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| t.parse::<usize>().map_err(|_| format!("bad shape {s}")))
        .collect()
}

/// Serialise one array as `.npy` (version 1.0) bytes.
pub fn to_npy(a: &NpyArray) -> Vec<u8> {
    let shape = a.shape();
    let (descr, body): (String, Vec<u8>) = match a {
        NpyArray::F32(x) => (
            "<f4".into(),
            x.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ),
        NpyArray::F64(x) => (
            "<f8".into(),
            x.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ),
        NpyArray::I64(x) => (
            "<i8".into(),
            x.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ),
        NpyArray::I32(x) => (
            "<i4".into(),
            x.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ),
        NpyArray::U8(x) => ("|u1".into(), x.iter().copied().collect()),
        NpyArray::Bool(x) => ("|b1".into(), x.iter().map(|&b| b as u8).collect()),
        NpyArray::Str(v, _) => {
            let w = v
                .iter()
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
                .max(1);
            let mut body = Vec::with_capacity(v.len() * w * 4);
            for s in v {
                let mut n = 0;
                for c in s.chars() {
                    body.extend_from_slice(&(c as u32).to_le_bytes());
                    n += 1;
                }
                body.resize(body.len() + (w - n) * 4, 0);
            }
            (format!("<U{w}"), body)
        }
    };
    let shape_txt = match shape.len() {
        0 => "()".to_string(),
        1 => format!("({},)", shape[0]),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_txt}, }}");
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + body.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trip_all_dtypes() {
        let arrays = vec![
            NpyArray::F32(
                ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![1.0, -2.5, 0.0, 3.0, 4.0, 5.5])
                    .unwrap(),
            ),
            NpyArray::I64(ArrayD::from_shape_vec(IxDyn(&[]), vec![30702]).unwrap()),
            NpyArray::Str(vec!["H1E_InputE".into(), "x".into()], vec![2]),
            NpyArray::Bool(ArrayD::from_shape_vec(IxDyn(&[2]), vec![true, false]).unwrap()),
        ];
        for a in arrays {
            let bytes = to_npy(&a);
            assert_eq!(parse_npy(&bytes).unwrap(), a);
        }
    }

    #[test]
    fn npy_rejects_garbage_and_truncation() {
        assert!(parse_npy(b"hello world").is_err());
        let a = NpyArray::F32(ArrayD::from_shape_vec(IxDyn(&[4]), vec![1.0; 4]).unwrap());
        let bytes = to_npy(&a);
        let err = parse_npy(&bytes[..bytes.len() - 3]).unwrap_err();
        assert!(err.contains("truncated"), "{err}");
    }

    fn npy_with_header(header: &str, body: &[u8]) -> Vec<u8> {
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn hostile_headers_are_errors_not_panics_or_allocations() {
        let cases = [
            ("{'descr': '<U4611686018427387904', 'fortran_order': False, 'shape': (2,), }", "width"),
            ("{'descr': '<U0', 'fortran_order': False, 'shape': (2,), }", "width"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }", "more elements"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }", "truncated data"),
            ("{'descr': '<U1', 'fortran_order': False, 'shape': (1000000000000,), }", "truncated data"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1), }", "dimensions"),
        ];
        for (h, want) in cases {
            let err = parse_npy(&npy_with_header(h, &[0; 16])).unwrap_err();
            assert!(err.contains(want), "{h}: {err}");
        }
    }

    #[test]
    fn npz_write_then_read() {
        let dir = std::env::temp_dir().join(format!("eiann_npz_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("t.npz");
        let mut z = Npz::new("t.npz");
        z.insert(
            "weight/A",
            NpyArray::F32(ArrayD::from_shape_vec(IxDyn(&[2]), vec![0.5, 0.25]).unwrap()),
        );
        z.write(&p).unwrap();
        let r = Npz::open(&p).unwrap();
        assert_eq!(r.f32("weight/A").unwrap().as_slice().unwrap(), &[0.5, 0.25]);
        assert!(r.i64("weight/A").is_err());
        assert!(r
            .get("nope")
            .unwrap_err()
            .to_string()
            .contains("missing array \"nope\""));
        std::fs::remove_dir_all(&dir).ok();
    }
}
