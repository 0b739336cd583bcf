//! Compact summaries of the model's objects for Jupyter (evcxr) and the terminal: sizes, shapes and value
//! ranges, never the megabytes of floats a `Debug` print of a network holds.
//!
//! evcxr shows a cell's final value through its type's `evcxr_display` method when it has one; each type
//! here gets one that prints an HTML table (JupyterLab) and the same facts as plain text (terminals, the
//! saved notebook's `text/plain`). The same text is available as `summary_text()` / `summary_html()`.
//!
//! | value | summary |
//! |---|---|
//! | [`Network`] | populations (size, activation, activity and dendritic-state ranges) and projections (shape, rule, learning rate, weight range) |
//! | [`PopulationState`] (`net.population("H2E")?`) | every state vector's length and range |
//! | [`Projection`] | shape and weight range |
//! | [`StateDict`] | every tensor's key, shape and range |
//! | [`Recording`] | recorded steps per population and buffer, with ranges |
//! | [`Checkpoint`], [`SavedNetwork`] | run facts (seeds, steps, checkpoints) |
//! | [`Table`] (feature `tables`) | a polars `DataFrame` with every column shown |

use std::fmt::Write as _;

use crate::checkpoint::Checkpoint;
use crate::config::Rule;
use crate::network::{PopulationState, Projection};
use crate::run::SavedNetwork;
use crate::{Network, Recording, StateDict};

/// Count, minimum, maximum and mean of a float slice (NaNs counted apart, not in the range).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    /// Number of values.
    pub len: usize,
    /// Smallest non-NaN value (`None` when there is none).
    pub min: Option<f32>,
    /// Largest non-NaN value.
    pub max: Option<f32>,
    /// Mean of the non-NaN values (summed in f64).
    pub mean: Option<f64>,
    /// Number of NaNs.
    pub nans: usize,
}

impl Range {
    /// The range of `values`.
    pub fn of<'a>(values: impl IntoIterator<Item = &'a f32>) -> Range {
        let (mut len, mut nans, mut sum, mut n) = (0usize, 0usize, 0f64, 0usize);
        let (mut min, mut max) = (f32::INFINITY, f32::NEG_INFINITY);
        for &v in values {
            len += 1;
            if v.is_nan() {
                nans += 1;
                continue;
            }
            min = min.min(v);
            max = max.max(v);
            sum += f64::from(v);
            n += 1;
        }
        Range {
            len,
            min: (n > 0).then_some(min),
            max: (n > 0).then_some(max),
            mean: (n > 0).then(|| sum / n as f64),
            nans,
        }
    }
}

impl std::fmt::Display for Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.min, self.max, self.mean) {
            (Some(lo), Some(hi), Some(mean)) => write!(
                f,
                "[{}, {}], mean {}",
                num(f64::from(lo)),
                num(f64::from(hi)),
                num(mean)
            )?,
            _ if self.len == 0 => write!(f, "empty")?,
            _ => write!(f, "no finite value")?,
        }
        if self.nans > 0 {
            write!(f, ", {} NaN", self.nans)?;
        }
        Ok(())
    }
}

/// A number in at most 4 significant digits (scientific notation for very small or large magnitudes).
fn num(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if !v.is_finite() {
        format!("{v}")
    } else if v.abs() >= 1e-3 && v.abs() < 1e4 {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    } else {
        format!("{v:.3e}")
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A titled table, rendered both as HTML and as aligned plain text.
struct Sheet {
    title: String,
    notes: Vec<String>,
    sections: Vec<(String, Vec<String>, Vec<Vec<String>>)>,
}

impl Sheet {
    fn new(title: impl Into<String>) -> Sheet {
        Sheet {
            title: title.into(),
            notes: Vec::new(),
            sections: Vec::new(),
        }
    }

    fn note(&mut self, line: impl Into<String>) -> &mut Self {
        self.notes.push(line.into());
        self
    }

    fn section(&mut self, name: &str, header: &[&str], rows: Vec<Vec<String>>) -> &mut Self {
        self.sections.push((
            name.into(),
            header.iter().map(|h| h.to_string()).collect(),
            rows,
        ));
        self
    }

    fn html(&self) -> String {
        let mut h = String::new();
        let _ = write!(h, "<div><b>{}</b>", escape(&self.title));
        for n in &self.notes {
            let _ = write!(h, "<br>{}", escape(n));
        }
        for (name, header, rows) in &self.sections {
            if !name.is_empty() {
                let _ = write!(h, "<br><i>{}</i>", escape(name));
            }
            h.push_str("<table><thead><tr>");
            for c in header {
                let _ = write!(h, "<th style=\"text-align:left\">{}</th>", escape(c));
            }
            h.push_str("</tr></thead><tbody>");
            for r in rows {
                h.push_str("<tr>");
                for c in r {
                    let _ = write!(h, "<td style=\"text-align:left\">{}</td>", escape(c));
                }
                h.push_str("</tr>");
            }
            h.push_str("</tbody></table>");
        }
        h.push_str("</div>");
        h
    }

    fn text(&self) -> String {
        let mut t = self.title.clone();
        for n in &self.notes {
            let _ = write!(t, "\n{n}");
        }
        for (name, header, rows) in &self.sections {
            if !name.is_empty() {
                let _ = write!(t, "\n{name}:");
            }
            let mut width: Vec<usize> = header.iter().map(|c| c.chars().count()).collect();
            for r in rows {
                for (w, c) in width.iter_mut().zip(r) {
                    *w = (*w).max(c.chars().count());
                }
            }
            for r in std::iter::once(header).chain(rows) {
                t.push_str("\n  ");
                for (k, (w, c)) in width.iter().zip(r).enumerate() {
                    let pad = w - c.chars().count();
                    t.push_str(c);
                    if k + 1 < r.len() {
                        t.push_str(&" ".repeat(pad + 2));
                    }
                }
            }
        }
        t
    }

    /// What `evcxr_display` prints: an HTML and a plain-text rendering of the same table.
    fn print_for_evcxr(&self) {
        println!(
            "EVCXR_BEGIN_CONTENT text/html\n{}\nEVCXR_END_CONTENT\nEVCXR_BEGIN_CONTENT text/plain\n{}\nEVCXR_END_CONTENT",
            self.html(),
            self.text()
        );
    }
}

fn rule_row(rule: &Rule) -> (String, String) {
    let rate = rule.learning_rate().map_or_else(|| "-".to_string(), num);
    (rule.class_name().into(), rate)
}

fn bounds(b: (Option<f64>, Option<f64>)) -> String {
    let side = |v: Option<f64>| v.map_or_else(|| "-".to_string(), num);
    format!("[{}, {}]", side(b.0), side(b.1))
}

fn shape(s: &[usize]) -> String {
    format!(
        "({})",
        s.iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn network_sheet(net: &Network) -> Sheet {
    let spec = net.spec();
    let weights: usize = net.projections().iter().map(|p| p.wt.len()).sum();
    let mut sheet = Sheet::new(format!("Network {}", spec.name));
    sheet.note(format!(
        "{} populations, {} projections, {} weights; {} sensory + {} supervised steps; seed {}",
        spec.populations.len(),
        spec.projections.len(),
        weights,
        spec.forward_steps,
        spec.backward_steps,
        net.seed
            .map_or_else(|| "- (loaded from a state dict)".into(), |s| s.to_string())
    ));
    let pops = spec
        .populations
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let st = net.population_at(i);
            vec![
                p.fullname.clone(),
                p.size.to_string(),
                format!("{:?}", p.activation),
                Range::of(&st.activity).to_string(),
                if st.dendritic_state.is_empty() {
                    "-".into()
                } else {
                    Range::of(&st.dendritic_state).to_string()
                },
            ]
        })
        .collect();
    sheet.section(
        "populations",
        &["name", "size", "activation", "activity", "dendritic state"],
        pops,
    );
    let projs = spec
        .projections
        .iter()
        .zip(net.projections())
        .map(|(p, w)| {
            let (rule, lr) = rule_row(&p.rule);
            vec![
                p.name.clone(),
                format!("{} × {}", w.post_size, w.pre_size),
                format!("{:?}", p.compartment),
                rule,
                lr,
                bounds(p.weight_bounds),
                Range::of(&w.wt).to_string(),
            ]
        })
        .collect();
    sheet.section(
        "projections (post_pre)",
        &[
            "name",
            "post × pre",
            "compartment",
            "rule",
            "learning rate",
            "bounds",
            "weights",
        ],
        projs,
    );
    sheet
}

fn population_sheet(p: &PopulationState) -> Sheet {
    let mut sheet = Sheet::new("Population state");
    let fields: [(&str, &[f32]); 10] = [
        ("state", &p.state),
        ("activity", &p.activity),
        ("prev_activity", &p.prev_activity),
        ("forward_activity", &p.forward_activity),
        ("forward_prev_activity", &p.forward_prev_activity),
        ("forward_dendritic_state", &p.forward_dendritic_state),
        ("dendritic_state", &p.dendritic_state),
        ("plateau", &p.plateau),
        ("dend_to_soma", &p.dend_to_soma),
        ("bias", &p.bias),
    ];
    let rows = fields
        .iter()
        .map(|(name, v)| {
            let active = v.iter().filter(|x| **x > 0.0).count();
            vec![
                name.to_string(),
                v.len().to_string(),
                active.to_string(),
                Range::of(*v).to_string(),
            ]
        })
        .collect();
    sheet.section("", &["field", "len", "> 0", "range"], rows);
    sheet
}

fn projection_sheet(p: &Projection) -> Sheet {
    let mut sheet = Sheet::new(format!(
        "Projection {} × {} (post × pre)",
        p.post_size, p.pre_size
    ));
    sheet.note(format!("weights: {}", Range::of(&p.wt)));
    sheet
}

fn state_dict_sheet(sd: &StateDict) -> Sheet {
    let total: usize = sd.iter().map(|(_, v)| v.len()).sum();
    let mut sheet = Sheet::new(format!(
        "StateDict: {} tensors, {} float32 values",
        sd.len(),
        total
    ));
    let rows = sd
        .iter()
        .map(|(k, v)| {
            vec![
                k.to_string(),
                shape(v.shape()),
                Range::of(v.iter()).to_string(),
            ]
        })
        .collect();
    sheet.section("", &["key", "shape", "range"], rows);
    sheet
}

fn recording_sheet(rec: &Recording) -> Sheet {
    let mut sheet = Sheet::new("Recording of one forward + backward pass (rows: steps)");
    let cell =
        |pop: &str, get: fn(&Recording, &str) -> crate::Result<ndarray::Array2<f32>>| match get(
            rec, pop,
        ) {
            Ok(a) if a.nrows() == 0 => "-".to_string(),
            Ok(a) => format!("{} × {}: {}", a.nrows(), a.ncols(), Range::of(a.iter())),
            Err(e) => format!("error: {e}"),
        };
    let rows = rec
        .population_names()
        .iter()
        .map(|p| {
            vec![
                p.clone(),
                cell(p, Recording::forward_activity),
                cell(p, Recording::backward_activity),
                cell(p, Recording::forward_dendritic_state),
                cell(p, Recording::dendritic_state_inloop),
            ]
        })
        .collect();
    sheet.section(
        "",
        &[
            "population",
            "forward_activity",
            "backward_activity",
            "forward_dendritic_state",
            "dendritic_state_inloop",
        ],
        rows,
    );
    sheet
}

fn steps_text(steps: &[usize]) -> String {
    match steps {
        [] => "none".into(),
        [one] => one.to_string(),
        [first, .., last] => format!("{} ({first} … {last})", steps.len()),
    }
}

fn checkpoint_sheet(ck: &Checkpoint) -> Sheet {
    let mut sheet = Sheet::new(format!(
        "Checkpoint {} (network seed {}, data seed {})",
        ck.config_name, ck.network_seed, ck.data_seed
    ));
    sheet
        .note(format!(
            "written by {}; {} training steps ({} epoch(s) of {} samples)",
            ck.created_by, ck.total_steps, ck.epochs, ck.samples_per_epoch
        ))
        .note(format!(
            "param_history: {} checkpoints at steps {}",
            ck.param_history.len(),
            steps_text(&ck.param_history_steps)
        ))
        .note(format!(
            "loss_history: {} values, {}",
            ck.loss_history.len(),
            Range::of(&ck.loss_history)
        ))
        .note(format!(
            "validation: {} points, accuracy {}",
            ck.val_accuracy_history.len(),
            Range::of(&ck.val_accuracy_history)
        ))
        .note(format!(
            "test accuracy: {}",
            ck.test_accuracy
                .map_or_else(|| "-".into(), |a| num(f64::from(a)))
        ))
        .note(format!("final_state: {} tensors", ck.final_state.len()));
    sheet
}

fn saved_sheet(saved: &SavedNetwork) -> Sheet {
    match saved {
        SavedNetwork::Pickle(ck, _) => checkpoint_sheet(ck),
        SavedNetwork::StateFile {
            path,
            spec,
            state,
            meta,
            train_step,
        } => {
            let mut sheet = Sheet::new(format!("State file {}", path.display()));
            sheet
                .note(format!("network {}; {} tensors", spec.name, state.len()))
                .note(format!(
                    "train step: {}",
                    train_step.map_or_else(|| "-".into(), |s| s.to_string())
                ));
            for m in meta {
                sheet.note(m.clone());
            }
            sheet
        }
    }
}

macro_rules! summaries {
    ($($ty:ty => $sheet:ident),* $(,)?) => {$(
        impl $ty {
            /// Compact summary (sizes, shapes, ranges) as HTML.
            pub fn summary_html(&self) -> String {
                $sheet(self).html()
            }
            /// Compact summary (sizes, shapes, ranges) as aligned plain text.
            pub fn summary_text(&self) -> String {
                $sheet(self).text()
            }
            /// Shown by evcxr (Jupyter) when a cell ends with this value: the summary, not the floats.
            pub fn evcxr_display(&self) {
                $sheet(self).print_for_evcxr()
            }
        }
    )*};
}

summaries! {
    Network => network_sheet,
    PopulationState => population_sheet,
    Projection => projection_sheet,
    StateDict => state_dict_sheet,
    Recording => recording_sheet,
    Checkpoint => checkpoint_sheet,
    SavedNetwork => saved_sheet,
}

#[cfg(feature = "tables")]
pub use table::Table;

#[cfg(feature = "tables")]
mod table {
    use std::fmt::Write as _;

    use polars::prelude::DataFrame;

    use super::escape;

    /// A polars `DataFrame` shown in Jupyter with **every column** (an HTML table; the first and last
    /// rows when it is long) — polars' own text rendering hides middle columns behind `…`.
    /// `Table::new(df)` or `Table::from(&df)`; `Table::new(df).rows(n)` shows up to `n` rows.
    #[derive(Debug, Clone)]
    pub struct Table {
        /// The table shown.
        pub df: DataFrame,
        max_rows: usize,
    }

    impl Table {
        /// Show `df` (up to 20 rows: the first 10 and the last 10 of a longer table).
        pub fn new(df: DataFrame) -> Table {
            Table { df, max_rows: 20 }
        }

        /// Show up to `n` rows (at least 2).
        pub fn rows(mut self, n: usize) -> Table {
            self.max_rows = n.max(2);
            self
        }

        fn shown_rows(&self) -> (Vec<usize>, bool) {
            let h = self.df.height();
            if h <= self.max_rows {
                ((0..h).collect(), false)
            } else {
                let head = self.max_rows / 2;
                let tail = self.max_rows - head;
                ((0..head).chain(h - tail..h).collect(), true)
            }
        }

        fn cell(&self, col: usize, row: usize) -> String {
            match self.df.columns()[col].get(row) {
                Ok(v) => v.to_string().trim_matches('"').to_string(),
                Err(e) => format!("error: {e}"),
            }
        }

        /// The table as HTML: every column with its dtype, the shown rows, the shape.
        pub fn html(&self) -> String {
            let (rows, cut) = self.shown_rows();
            let head = rows
                .iter()
                .take_while(|&&r| !cut || r < self.max_rows / 2)
                .count();
            let mut h = format!(
                "<div><small>shape: ({}, {})</small><table><thead><tr>",
                self.df.height(),
                self.df.width()
            );
            for c in self.df.columns() {
                let _ = write!(
                    h,
                    "<th>{}<br><small>{}</small></th>",
                    escape(c.name().as_str()),
                    escape(&c.dtype().to_string())
                );
            }
            h.push_str("</tr></thead><tbody>");
            for (k, &r) in rows.iter().enumerate() {
                if cut && k == head {
                    let _ = write!(
                        h,
                        "<tr><td colspan=\"{}\">… {} rows …</td></tr>",
                        self.df.width(),
                        self.df.height() - rows.len()
                    );
                }
                h.push_str("<tr>");
                for c in 0..self.df.width() {
                    let _ = write!(h, "<td>{}</td>", escape(&self.cell(c, r)));
                }
                h.push_str("</tr>");
            }
            h.push_str("</tbody></table></div>");
            h
        }

        /// The table as aligned plain text with every column.
        pub fn text(&self) -> String {
            let (rows, cut) = self.shown_rows();
            let head = rows
                .iter()
                .take_while(|&&r| !cut || r < self.max_rows / 2)
                .count();
            let mut grid: Vec<Vec<String>> = vec![self
                .df
                .columns()
                .iter()
                .map(|c| c.name().to_string())
                .collect()];
            for (k, &r) in rows.iter().enumerate() {
                if cut && k == head {
                    grid.push(vec!["…".to_string(); self.df.width()]);
                }
                grid.push((0..self.df.width()).map(|c| self.cell(c, r)).collect());
            }
            let mut width = vec![0usize; self.df.width()];
            for row in &grid {
                for (w, c) in width.iter_mut().zip(row) {
                    *w = (*w).max(c.chars().count());
                }
            }
            let mut t = format!("shape: ({}, {})", self.df.height(), self.df.width());
            for row in &grid {
                t.push('\n');
                let line: Vec<String> = row
                    .iter()
                    .zip(&width)
                    .map(|(c, w)| format!("{c:<w$}"))
                    .collect();
                t.push_str(line.join("  ").trim_end());
            }
            t
        }

        /// Shown by evcxr (Jupyter) when a cell ends with this value.
        pub fn evcxr_display(&self) {
            println!(
                "EVCXR_BEGIN_CONTENT text/html\n{}\nEVCXR_END_CONTENT\nEVCXR_BEGIN_CONTENT text/plain\n{}\nEVCXR_END_CONTENT",
                self.html(),
                self.text()
            );
        }
    }

    impl From<DataFrame> for Table {
        fn from(df: DataFrame) -> Table {
            Table::new(df)
        }
    }

    impl From<&DataFrame> for Table {
        fn from(df: &DataFrame) -> Table {
            Table::new(df.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NetworkSpec;

    fn figure3_network() -> Network {
        let spec = NetworkSpec::from_file(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../data/network_config/mnist/20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized.yaml"
        ))
        .expect("Figure 3 config");
        Network::new(spec, 66049)
    }

    #[test]
    fn range_skips_nans_and_handles_empty() {
        let r = Range::of(&[1.0, f32::NAN, -2.0, 4.0]);
        assert_eq!((r.len, r.nans, r.min, r.max), (4, 1, Some(-2.0), Some(4.0)));
        assert_eq!(r.mean, Some(1.0));
        assert_eq!(Range::of(&[]).to_string(), "empty");
        assert_eq!(Range::of(&[f32::NAN]).to_string(), "no finite value, 1 NaN");
        assert_eq!(num(0.040123), "0.0401");
        assert_eq!(num(1.5e-7), "1.500e-7");
    }

    #[test]
    fn network_summary_is_small_and_names_every_population_and_projection() {
        let net = figure3_network();
        let html = net.summary_html();
        let text = net.summary_text();
        // 1.18 M weights, summarised in a few kilobytes.
        assert!(html.len() < 20_000, "{} bytes", html.len());
        assert!(text.len() < 10_000, "{} bytes", text.len());
        for p in &net.spec().populations {
            assert!(text.contains(&p.fullname), "{}", p.fullname);
        }
        for p in &net.spec().projections {
            assert!(html.contains(&escape(&p.name)), "{}", p.name);
        }
        assert!(text.contains("BP_like_2L"));
        assert!(text.contains("seed 66049"));
    }

    #[test]
    fn state_dict_and_population_summaries_list_shapes() {
        let net = figure3_network();
        let sd = net.state_dict();
        let text = sd.summary_text();
        assert!(text.contains("module_dict.H2E_H1E.weight"));
        assert!(text.contains("(500, 500)"), "{text}");
        assert!(sd.summary_html().len() < 20_000);
        let pop = net.population("H2E").expect("H2E").summary_text();
        assert!(
            pop.contains("dendritic_state") && pop.contains("500"),
            "{pop}"
        );
    }

    #[test]
    fn recording_summary_has_one_row_per_population() {
        let mut net = figure3_network();
        let mut rec = Recording::new(net.spec());
        let x = vec![0.5f32; 784];
        net.forward(&x, Some(&mut rec)).expect("forward");
        let text = rec.summary_text();
        for name in rec.population_names() {
            assert!(
                text.lines()
                    .any(|l| l.trim_start().starts_with(name.as_str())),
                "{name}: {text}"
            );
        }
        assert!(
            text.contains(&format!("{} × 500", net.spec().forward_steps)),
            "{text}"
        );
    }

    #[test]
    fn html_is_escaped() {
        let mut sheet = Sheet::new("a<b>&c");
        sheet.section("", &["x"], vec![vec!["<td>".into()]]);
        let h = sheet.html();
        assert!(
            h.contains("a&lt;b&gt;&amp;c") && h.contains("&lt;td&gt;"),
            "{h}"
        );
    }

    #[cfg(feature = "tables")]
    #[test]
    fn table_shows_every_column_and_cuts_long_tables() {
        use polars::prelude::{Column, DataFrame};
        let cols: Vec<Column> = (0..14)
            .map(|k| {
                Column::new(
                    format!("column_{k}").into(),
                    (0..50).map(|r| (r * k) as i64).collect::<Vec<_>>(),
                )
            })
            .collect();
        let df = DataFrame::new(50, cols).expect("frame");
        let t = Table::new(df).rows(6);
        let html = t.html();
        let text = t.text();
        for k in 0..14 {
            assert!(html.contains(&format!("column_{k}")) && text.contains(&format!("column_{k}")));
        }
        assert!(html.contains("… 44 rows …"), "{html}");
        assert_eq!(text.lines().count(), 1 + 1 + 6 + 1, "{text}");
        assert_eq!(
            text.lines()
                .last()
                .and_then(|l| l.split_whitespace().nth(1)),
            Some("49"),
            "{text}"
        );
    }
}
