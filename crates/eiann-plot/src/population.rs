//! Population-level summaries of rate-vs-spiking agreement (for the population notebook): pooled ΔW
//! scatter, per-unit Pearson-r histogram and agreement against the maximum firing rate.

use super::axes::{Axes, Coord, LineStyle, TextBox, Ticks, VAlign};
use super::canvas::{HAlign, Paint};
use super::figure::Figure;
use super::panels::{finish_tight, require_len, require_nonempty, to_f64};
use super::style::*;
use eiann::{Error, Result};
use std::path::Path;
pub use eiann::panels::{pearson_r, AgreementVsRatePanel, DwAgreementPanel, PearsonHistogramPanel};



/// Population panel: pooled scatter of spiking vs rate ΔW with the identity line, zero lines and the
/// pooled Pearson r, 2.6 × 2.4 in (`dw_agreement_pooled`). Saved into `out_dir` when given.
pub fn dw_agreement_scatter(panel: &DwAgreementPanel, out_dir: Option<&Path>) -> Result<Figure> {
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
    ax.scatter(x, y, 3f64.sqrt(), C0.alpha(alpha), 10.0);
    ax.segment((lo, lo), (hi, hi), LineStyle::dashed(GRAY, 0.5));
    ax.axvline(0.0, LineStyle::solid(GRAY.alpha(0.5), 0.5));
    ax.axhline(0.0, LineStyle::solid(GRAY.alpha(0.5), 0.5));
    ax.set_xlabel("ΔW (rate model)");
    ax.set_ylabel("ΔW (spiking)");
    ax.xsci = (0, 0);
    ax.ysci = (0, 0);
    ax.text(
        (0.04, 0.96),
        Coord::Axes,
        &format!("r = {r:.3}\nn = {}", panel.rate_dw.len()),
        FONT_SIZE,
        HAlign::Left,
        VAlign::Top,
        Some(TextBox {
            paint: Paint::rgb(255, 255, 255).alpha(0.8),
            pad: 0.3,
        }),
    );
    if let Some(t) = &panel.title {
        ax.title = Some((t.clone(), FONT_SIZE, 1.0));
    }
    finish_tight("dw_agreement_pooled", (2.6, 2.4), &[&ax], &[1.0], out_dir)
}


/// Population panel: histogram of the per-unit Pearson r over [−1, 1] with the median marked,
/// 3 × 2 in (`dw_pearson_r_histogram`). Saved into `out_dir` when given.
pub fn pearson_r_histogram(
    panel: &PearsonHistogramPanel,
    out_dir: Option<&Path>,
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
    let bins = if panel.bins == 0 { 40 } else { panel.bins };
    let edges: Vec<f64> = (0..=bins)
        .map(|i| -1.0 + 2.0 * i as f64 / bins as f64)
        .collect();
    let mut counts = vec![0.0; bins];
    for &v in &vals {
        let k = (((v + 1.0) / 2.0 * bins as f64).floor() as usize).min(bins - 1);
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
    ax.bars(edges, counts, STEELBLUE);
    ax.axvline(median, LineStyle::dashed(BLACK, 0.75));
    ax.text(
        (0.03, 0.97),
        Coord::Axes,
        &format!("median r = {median:.3}\nn = {m} units"),
        FONT_SIZE,
        HAlign::Left,
        VAlign::Top,
        None,
    );
    ax.xlim = Some((-1.0, 1.0));
    ax.xticks = Ticks::Fixed(vec![-1.0, -0.5, 0.0, 0.5, 1.0]);
    ax.y_sticky_zero = true;
    ax.set_xlabel("Pearson r (rate vs spiking ΔW)");
    ax.set_ylabel("Units");
    finish_tight(
        "dw_pearson_r_histogram",
        (3.0, 2.0),
        &[&ax],
        &[1.0],
        out_dir,
    )
}


/// Population panel: agreement against the maximum rate used for the Poisson conversion, line with
/// markers and an optional ± spread band, 3 × 2 in (`agreement_vs_max_rate`). Saved into `out_dir` when given.
pub fn agreement_vs_max_rate(
    panel: &AgreementVsRatePanel,
    out_dir: Option<&Path>,
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
    if let Some(s) = &panel.spread {
        require_len("agreement vs rate spread", n, s.len())?;
        let s = to_f64(s);
        let lo: Vec<f64> = y.iter().zip(&s).map(|(a, b)| a - b).collect();
        let hi: Vec<f64> = y.iter().zip(&s).map(|(a, b)| a + b).collect();
        ax.fill_between(x.clone(), lo, hi, C0.alpha(0.2), 1.0);
    }
    ax.plot(x.clone(), y.clone(), LineStyle::solid(C0, 1.0));
    ax.scatter(x, y, 3.0, C0, 2.1);
    ax.set_xlabel("Max rate (Hz)");
    ax.set_ylabel(if panel.ylabel.is_empty() {
        "Median Pearson r"
    } else {
        &panel.ylabel
    });
    finish_tight("agreement_vs_max_rate", (3.0, 2.0), &[&ax], &[1.0], out_dir)
}
