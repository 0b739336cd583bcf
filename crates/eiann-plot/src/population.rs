//! Population-level summaries of rate-vs-spiking agreement (for the population notebook): pooled ΔW
//! scatter, per-unit Pearson-r histogram and agreement against the maximum firing rate.

use crate::axes::{Axes, Coord, Fill, Line, Marker, Text, TextBox, Ticks, VAlign};
use crate::color::*;
use crate::figure::Figure;
use crate::panels::{require_len, require_nonempty, to_f64};
pub use eiann::panels::{pearson_r, AgreementVsRatePanel, DwAgreementPanel, PearsonHistogramPanel};
use eiann::{Error, Result};

/// Colours, labels and size of [`dw_agreement_scatter`]; `Default` is the notebook's.
#[derive(Debug, Clone, PartialEq)]
pub struct DwAgreementStyle {
    /// Marker colour (C0; opacity set from the number of points).
    pub color: Color,
    /// Axis labels (x, y).
    pub labels: (String, String),
    /// Figure size in inches (2.6 × 2.4).
    pub size_in: (f64, f64),
}

impl Default for DwAgreementStyle {
    fn default() -> Self {
        DwAgreementStyle {
            color: C0,
            labels: ("ΔW (rate model)".into(), "ΔW (spiking)".into()),
            size_in: (2.6, 2.4),
        }
    }
}

/// Population panel (`dw_agreement_pooled`): pooled scatter of spiking vs rate ΔW with the identity
/// line, zero lines and the pooled Pearson r.
pub fn dw_agreement_scatter(panel: &DwAgreementPanel, style: &DwAgreementStyle) -> Result<Figure> {
    require_nonempty("ΔW agreement rate_dw", panel.rate_dw.len())?;
    require_len(
        "ΔW agreement spiking_dw vs rate_dw",
        panel.rate_dw.len(),
        panel.spiking_dw.len(),
    )?;
    let r = pearson_r(&panel.rate_dw, &panel.spiking_dw)?;
    let (x, y) = (to_f64(&panel.rate_dw), to_f64(&panel.spiking_dw));
    let finite = x.iter().chain(&y).copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
        (l.min(v), h.max(v))
    });
    let mut ax = Axes::new();
    let alpha = (30.0 / (x.len() as f64).sqrt()).clamp(0.05, 0.5);
    ax.scatter_z(
        x,
        y,
        Marker::new(style.color.alpha(alpha)).size(3f64.sqrt()),
        10.0,
    )
    .segment((lo, lo), (hi, hi), Line::dashed_line(GRAY, 0.5))
    .axvline(0.0, Line::solid(GRAY.alpha(0.5), 0.5))
    .axhline(0.0, Line::solid(GRAY.alpha(0.5), 0.5))
    .set_xlabel(&style.labels.0)
    .set_ylabel(&style.labels.1)
    .set_xsci((0, 0))
    .set_ysci((0, 0))
    .text(
        (0.04, 0.96),
        &format!("r = {r:.3}\nn = {}", panel.rate_dw.len()),
        Text {
            va: VAlign::Top,
            coord: Coord::Axes,
            bbox: Some(TextBox {
                paint: WHITE.alpha(0.8),
                pad: 0.3,
            }),
            ..Text::default()
        },
    );
    if let Some(t) = &panel.title {
        ax.set_title(t);
    }
    Ok(Figure::new(style.size_in.0, style.size_in.1)
        .with_name("dw_agreement_pooled")
        .with(ax))
}

/// Colours, labels and size of [`pearson_r_histogram`]; `Default` is the notebook's.
#[derive(Debug, Clone, PartialEq)]
pub struct PearsonHistogramStyle {
    /// Bar colour (steelblue).
    pub bars: Color,
    /// The median line (black, dashed, 0.75 pt).
    pub median: Line,
    /// Axis labels (x, y).
    pub labels: (String, String),
    /// Figure size in inches (3 × 2).
    pub size_in: (f64, f64),
}

impl Default for PearsonHistogramStyle {
    fn default() -> Self {
        PearsonHistogramStyle {
            bars: STEELBLUE,
            median: Line::dashed_line(BLACK, 0.75),
            labels: ("Pearson r (rate vs spiking ΔW)".into(), "Units".into()),
            size_in: (3.0, 2.0),
        }
    }
}

/// Population panel (`dw_pearson_r_histogram`): histogram of the per-unit Pearson r over [−1, 1] with
/// the median marked.
pub fn pearson_r_histogram(
    panel: &PearsonHistogramPanel,
    style: &PearsonHistogramStyle,
) -> Result<Figure> {
    let mut vals: Vec<f64> = panel
        .r
        .iter()
        .filter(|v| v.is_finite())
        .map(|&v| f64::from(v))
        .collect();
    require_nonempty("Pearson-r histogram (finite values)", vals.len())?;
    if let Some(bad) = vals.iter().find(|v| v.abs() > 1.0 + 1e-6) {
        return Err(Error::invalid(
            "Pearson-r histogram",
            format!("r = {bad} is outside [−1, 1]"),
        ));
    }
    let bins = if panel.bins == 0 {
        40
    } else {
        panel.bins.min(10_000)
    };
    let edges: Vec<f64> = (0..=bins)
        .map(|i| -1.0 + 2.0 * i as f64 / bins as f64)
        .collect();
    let mut counts = vec![0.0; bins];
    for &v in &vals {
        let k = (((v + 1.0) / 2.0 * bins as f64).floor().max(0.0) as usize).min(bins - 1);
        counts[k] += 1.0;
    }
    vals.sort_by(f64::total_cmp);
    let m = vals.len();
    let median = if m % 2 == 1 {
        vals[m / 2]
    } else {
        0.5 * (vals[m / 2 - 1] + vals[m / 2])
    };
    let mut ax = Axes::new();
    ax.bars(edges, counts, Fill::new(style.bars))
        .axvline(median, style.median.clone())
        .text(
            (0.03, 0.97),
            &format!("median r = {median:.3}\nn = {m} units"),
            Text {
                va: VAlign::Top,
                coord: Coord::Axes,
                ..Text::default()
            },
        )
        .set_xlim(-1.0, 1.0)
        .set_xticks(Ticks::Fixed(vec![-1.0, -0.5, 0.0, 0.5, 1.0]))
        .set_y_sticky_zero(true)
        .set_xlabel(&style.labels.0)
        .set_ylabel(&style.labels.1);
    Ok(Figure::new(style.size_in.0, style.size_in.1)
        .with_name("dw_pearson_r_histogram")
        .with(ax))
}

/// Colours, labels and size of [`agreement_vs_max_rate`]; `Default` is the notebook's.
#[derive(Debug, Clone, PartialEq)]
pub struct AgreementVsRateStyle {
    /// Line, markers and band colour (C0).
    pub color: Color,
    /// x label.
    pub xlabel: String,
    /// y label when the panel has none.
    pub ylabel: String,
    /// Figure size in inches (3 × 2).
    pub size_in: (f64, f64),
}

impl Default for AgreementVsRateStyle {
    fn default() -> Self {
        AgreementVsRateStyle {
            color: C0,
            xlabel: "Max rate (Hz)".into(),
            ylabel: "Median Pearson r".into(),
            size_in: (3.0, 2.0),
        }
    }
}

/// Population panel (`agreement_vs_max_rate`): agreement against the maximum rate used for the Poisson
/// conversion, line with markers and an optional ± spread band.
pub fn agreement_vs_max_rate(
    panel: &AgreementVsRatePanel,
    style: &AgreementVsRateStyle,
) -> Result<Figure> {
    let n = panel.max_rate_hz.len();
    require_nonempty("agreement vs rate max_rate_hz", n)?;
    require_len("agreement vs rate agreement", n, panel.agreement.len())?;
    let x = to_f64(&panel.max_rate_hz);
    let y = to_f64(&panel.agreement);
    if !x
        .iter()
        .zip(&y)
        .any(|(a, b)| a.is_finite() && b.is_finite())
    {
        return Err(Error::invalid(
            "agreement vs rate",
            "no finite (rate, agreement) pair",
        ));
    }
    let mut ax = Axes::new();
    let line = Line::solid(style.color, 1.0);
    match &panel.spread {
        Some(s) => {
            require_len("agreement vs rate spread", n, s.len())?;
            ax.band(x.clone(), y.clone(), to_f64(s), line, 0.2);
        }
        None => {
            ax.line(x.clone(), y.clone(), line);
        }
    }
    ax.scatter_z(x, y, Marker::new(style.color).size(3.0), 2.1)
        .set_xlabel(&style.xlabel)
        .set_ylabel(if panel.ylabel.is_empty() {
            &style.ylabel
        } else {
            &panel.ylabel
        });
    Ok(Figure::new(style.size_in.0, style.size_in.1)
        .with_name("agreement_vs_max_rate")
        .with(ax))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_counts_every_value_once() {
        let p = PearsonHistogramPanel {
            r: vec![-1.0, -0.99, 0.0, 0.5, 1.0, f32::NAN],
            bins: 4,
        };
        let f = pearson_r_histogram(&p, &PearsonHistogramStyle::default()).expect("hist");
        assert_eq!(f.name(), "dw_pearson_r_histogram");
        assert!(f.axes(0).expect("axes").artist_count() >= 3);
    }
}
