//! The public plotting API as a notebook user meets it (the "Your own panel" section of
//! `figure3_spiking.ipynb`, on synthetic arrays): own axes from model-shaped arrays, a panel redrawn with
//! a changed style, a heat map with a colour bar at given rectangles, and files written.

use eiann::panels::RateDynamicsPanel;
use eiann_plot::{
    color, rate_dynamics_example, Axes, Colormap, Figure, Legend, Line, Marker, RateDynamicsStyle,
    Ticks,
};
use ndarray::Array2;

/// 21 steps × 500 units, like `Figure3::dendritic_state`.
fn series() -> (Array2<f32>, Array2<f32>) {
    let d = Array2::from_shape_fn((21, 500), |(t, u)| {
        ((t as f32 - 10.0) * 0.2).tanh() * if u % 2 == 0 { 0.04 } else { -0.04 }
    });
    let a = d.mapv(|v| (v * 10.0).max(0.0));
    (d, a)
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    let be = |o: usize| u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
    (be(16), be(20))
}

#[test]
fn own_panel_from_model_arrays() {
    let (d, a) = series();
    let unit = 7;
    let t: Vec<f64> = (0..d.nrows()).map(|r| r as f64 - 10.0).collect();
    let mut ax = Axes::new();
    ax.line(
        &t,
        d.column(unit),
        Line::new(color::ORANGE).width(1.0).label("dendritic state"),
    )
    .line(
        &t,
        a.column(unit),
        Line::new(color::NAVY).width(1.0).dashed().label("activity"),
    )
    .scatter(&t, d.column(unit), Marker::new(color::C3).size(2.0))
    .axvline(0.0, Line::new(color::GRAY).dashed())
    .set_xlabel("Timestep from nudge")
    .set_ylabel("Rate model")
    .grid(true)
    .legend(Legend::Best);
    let fig = Figure::new(3.5, 2.2).with_name("own_panel").with(ax);
    assert_eq!(
        fig.axes(0).expect("axes").legend_labels(),
        ["dendritic state", "activity"]
    );
    let r = fig.render().expect("render");
    assert_eq!(r.size_px(), (1050, 660));
    assert_eq!(png_size(r.png()), (1050, 660));
    for label in [
        "Timestep from nudge",
        "Rate model",
        "dendritic state",
        "activity",
    ] {
        assert!(r.svg().contains(&format!(">{label}<")), "{label}");
    }
    assert!(r.svg().contains("stroke-dasharray"), "dashed line");

    // The figure can still be changed after it was built.
    let mut fig = fig;
    fig.axes_mut(0).expect("axes").set_title("changed");
    assert!(fig.render().expect("render").svg().contains(">changed<"));
}

#[test]
fn panel_style_changes_colours_and_labels() {
    let (d, a) = series();
    let panel = RateDynamicsPanel::new(d, a, (88, 51));
    let paper = rate_dynamics_example(&panel, &RateDynamicsStyle::default())
        .expect("default")
        .render()
        .expect("render");
    assert!(
        paper.svg().contains("stroke=\"#FF0000\""),
        "red positive unit"
    );
    let style = RateDynamicsStyle {
        positive: Line::new(color::C2).width(1.0),
        xlabel: "Steps from nudge".into(),
        ..RateDynamicsStyle::default()
    };
    let own = rate_dynamics_example(&panel, &style)
        .expect("own style")
        .render()
        .expect("render");
    assert!(own.svg().contains(">Steps from nudge<"));
    assert!(!own.svg().contains(">Timestep from nudge<"));
    assert!(own
        .svg()
        .contains(&format!("stroke=\"{}\"", color::C2.to_hex())));
    assert_ne!(paper.png(), own.png());
}

#[test]
fn heat_map_with_colour_bar_and_band() {
    let (d, _) = series();
    let (steps, units) = d.dim();
    let vmax = f64::from(d.iter().fold(0f32, |m, v| m.max(v.abs())));
    let mut heat = Axes::new();
    heat.heatmap(
        d.t().iter(),
        units,
        steps,
        (-10.5, steps as f64 - 10.5, -0.5, units as f64 - 0.5),
        Colormap::rdbu_r(),
        (-vmax, vmax),
    )
    .set_xlabel("Timestep from nudge")
    .set_ylabel("H2E unit")
    .set_yticks(Ticks::Fixed(vec![0.0, 250.0, 499.0]));
    let mut fig = Figure::new(3.5, 2.4).with_name("heat");
    fig.push_at(heat, [0.17, 0.18, 0.58, 0.74]);
    fig.push_at(
        Axes::colorbar(Colormap::rdbu_r(), (-vmax, vmax), "Dendritic state"),
        [0.8, 0.18, 0.03, 0.74],
    );
    let r = fig.render().expect("render");
    assert_eq!(r.svg().matches("data:image/png;base64,").count(), 2);
    assert!(r.svg().contains(">Dendritic state<"));

    // Mean ± sd over units as a band, saved as PNG + SVG.
    let mean: Vec<f64> = (0..steps)
        .map(|s| d.row(s).iter().map(|&v| f64::from(v.abs())).sum::<f64>() / units as f64)
        .collect();
    let sd = vec![0.005; steps];
    let mut ax = Axes::new();
    ax.band(
        0..steps,
        &mean,
        &sd,
        Line::new(color::C0).label("mean |state|"),
        0.2,
    )
    .legend(Legend::UpperLeft);
    let dir = std::env::temp_dir().join(format!("eiann-plot-api-{}", std::process::id()));
    let saved = Figure::new(3.0, 2.0)
        .with_name("band")
        .with(ax)
        .save(&dir)
        .expect("save");
    assert!(saved.png.exists() && saved.svg.exists());
    let png = std::fs::read(&saved.png).expect("png");
    assert_eq!(png_size(&png), (900, 600));
    std::fs::remove_dir_all(&dir).ok();
}
