//! Hand-written SVG plots for experiments (as `examples/bench_plot.rs` draws the
//! benchmarks): a line plot (one polyline per series over numeric x) and a grouped
//! bar plot (one bar per series in each group). A few lines and rectangles do not need
//! a plotting crate. Each series is one `<g class="series" data-series="NAME">`, so a
//! test (or a reader's script) finds it by name.

use std::fmt::Write;

/// Canvas and margins, in SVG pixels.
const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 460.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 200.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 70.0;
/// Colours, in series order (then round again).
const COLOURS: [&str; 8] = [
    "#2471a3", "#c0392b", "#27ae60", "#8e44ad", "#d68910", "#17a589", "#566573", "#cb4335",
];
/// Horizontal grid lines on the y axis.
const Y_TICKS: usize = 5;

/// One named series of `(x, y)` points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// A line plot: every series over one numeric x axis, linear axes from the data (y
/// from 0 unless a value is negative).
#[derive(Debug, Clone, PartialEq)]
pub struct LinePlot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
}

/// A grouped bar plot: for each group (an x label), one bar per series, heights from
/// 0 to `y_max` (or the largest value).
#[derive(Debug, Clone, PartialEq)]
pub struct BarPlot {
    pub title: String,
    pub y_label: String,
    /// Series names, in bar order within each group.
    pub series: Vec<String>,
    /// `(group label, one value per series)`.
    pub groups: Vec<(String, Vec<f64>)>,
    pub y_max: Option<f64>,
}

/// Text made safe inside an XML element or attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn colour(i: usize) -> &'static str {
    COLOURS[i % COLOURS.len()]
}

fn plot_w() -> f64 {
    WIDTH - LEFT - RIGHT
}

fn plot_h() -> f64 {
    HEIGHT - TOP - BOTTOM
}

/// A short label for an axis value.
fn label(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e9 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The document head, the title, the y grid from `y_lo` to `y_hi`, the frame and the
/// axis labels.
fn frame(s: &mut String, title: &str, x_label: &str, y_label: &str, y_lo: f64, y_hi: f64) {
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="22" text-anchor="middle" font-size="14">{}</text>"#,
        WIDTH / 2.0,
        escape(title)
    );
    for i in 0..=Y_TICKS {
        let v = y_lo + (y_hi - y_lo) * i as f64 / Y_TICKS as f64;
        let yy = TOP + plot_h() - plot_h() * i as f64 / Y_TICKS as f64;
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#ddd"/>"##,
            LEFT + plot_w()
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 6.0,
            yy + 4.0,
            label(v)
        );
    }
    let _ = writeln!(
        s,
        r##"<rect x="{LEFT}" y="{TOP}" width="{:.1}" height="{:.1}" fill="none" stroke="#333"/>"##,
        plot_w(),
        plot_h()
    );
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        LEFT + plot_w() / 2.0,
        HEIGHT - 12.0,
        escape(x_label)
    );
    let mid = TOP + plot_h() / 2.0;
    let _ = writeln!(
        s,
        r#"<text x="18" y="{mid:.1}" text-anchor="middle" transform="rotate(-90 18 {mid:.1})">{}</text>"#,
        escape(y_label)
    );
}

/// A legend entry for series `i` (a short line or a box in its colour, then its name).
fn legend(s: &mut String, i: usize, name: &str, bar: bool) {
    let ly = TOP + 14.0 + i as f64 * 20.0;
    let lx = LEFT + plot_w() + 16.0;
    if bar {
        let _ = writeln!(
            s,
            r#"<rect x="{lx:.1}" y="{:.1}" width="14" height="10" fill="{}"/>"#,
            ly - 5.0,
            colour(i)
        );
    } else {
        let _ = writeln!(
            s,
            r#"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{}" stroke-width="2"/>"#,
            lx + 24.0,
            colour(i)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
        lx + 30.0,
        ly + 4.0,
        escape(name)
    );
}

/// `(lo, hi)` covering `values`, from 0 unless one is negative, never empty.
fn y_range(values: impl Iterator<Item = f64>, y_max: Option<f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    let hi = y_max.unwrap_or(hi);
    if hi <= lo {
        (lo, lo + 1.0)
    } else {
        (lo, hi)
    }
}

/// The SVG of a line plot.
pub fn line_plot(plot: &LinePlot) -> String {
    let points = || plot.series.iter().flat_map(|s| s.points.iter().copied());
    let (y_lo, y_hi) = y_range(points().map(|p| p.1), None);
    let x_lo = points().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let x_hi = points().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let (x_lo, x_hi) = if x_lo.is_finite() && x_hi > x_lo {
        (x_lo, x_hi)
    } else if x_lo.is_finite() {
        (x_lo - 1.0, x_lo + 1.0)
    } else {
        (0.0, 1.0)
    };
    let x = |v: f64| LEFT + (v - x_lo) / (x_hi - x_lo) * plot_w();
    let y = |v: f64| TOP + plot_h() - (v - y_lo) / (y_hi - y_lo) * plot_h();
    let mut s = String::new();
    frame(
        &mut s,
        &plot.title,
        &plot.x_label,
        &plot.y_label,
        y_lo,
        y_hi,
    );
    // x ticks at every distinct x of the data.
    let mut xs: Vec<f64> = points().map(|p| p.0).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    for v in xs {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            x(v),
            TOP + plot_h() + 18.0,
            label(v)
        );
    }
    for (i, series) in plot.series.iter().enumerate() {
        let _ = writeln!(
            s,
            r#"<g class="series" data-series="{}">"#,
            escape(&series.name)
        );
        let path: Vec<String> = series
            .points
            .iter()
            .map(|&(px, py)| format!("{:.1},{:.1}", x(px), y(py)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>"#,
            path.join(" "),
            colour(i)
        );
        for &(px, py) in &series.points {
            let _ = writeln!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"/>"#,
                x(px),
                y(py),
                colour(i)
            );
        }
        s.push_str("</g>\n");
        legend(&mut s, i, &series.name, false);
    }
    s.push_str("</svg>\n");
    s
}

/// The SVG of a grouped bar plot.
pub fn bar_plot(plot: &BarPlot) -> String {
    let (y_lo, y_hi) = y_range(
        plot.groups.iter().flat_map(|g| g.1.iter().copied()),
        plot.y_max,
    );
    let y = |v: f64| TOP + plot_h() - (v.clamp(y_lo, y_hi) - y_lo) / (y_hi - y_lo) * plot_h();
    let mut s = String::new();
    frame(&mut s, &plot.title, "", &plot.y_label, y_lo, y_hi);
    let groups = plot.groups.len().max(1) as f64;
    let group_w = plot_w() / groups;
    let bar_w = group_w * 0.8 / plot.series.len().max(1) as f64;
    for (g, (name, _)) in plot.groups.iter().enumerate() {
        let cx = LEFT + group_w * (g as f64 + 0.5);
        let ly = TOP + plot_h() + 16.0;
        // Group labels slanted, so long ones do not collide.
        let _ = writeln!(
            s,
            r#"<text x="{cx:.1}" y="{ly:.1}" text-anchor="end" font-size="10" transform="rotate(-30 {cx:.1} {ly:.1})">{}</text>"#,
            escape(name)
        );
    }
    for (i, name) in plot.series.iter().enumerate() {
        let _ = writeln!(s, r#"<g class="series" data-series="{}">"#, escape(name));
        for (g, (_, values)) in plot.groups.iter().enumerate() {
            let Some(&v) = values.get(i) else { continue };
            let bx = LEFT + group_w * g as f64 + group_w * 0.1 + bar_w * i as f64;
            let (top, bottom) = (y(v.max(0.0)), y(v.min(0.0)));
            let _ = writeln!(
                s,
                r#"<rect x="{bx:.1}" y="{top:.1}" width="{bar_w:.1}" height="{:.1}" fill="{}"><title>{}: {}</title></rect>"#,
                (bottom - top).max(0.0),
                colour(i),
                escape(name),
                label(v)
            );
        }
        s.push_str("</g>\n");
        legend(&mut s, i, name, true);
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both plots are well-formed XML with one group per series, named (escaping
    /// included), and as many marks as points or bars.
    #[test]
    fn plots_are_well_formed_with_named_series() {
        let line = line_plot(&LinePlot {
            title: "a < b & c".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            series: vec![
                Series {
                    name: "one \"1\"".into(),
                    points: vec![(1.0, 2.0), (2.0, 3.5), (4.0, 1.0)],
                },
                Series {
                    name: "two".into(),
                    points: vec![(1.0, 0.0)],
                },
            ],
        });
        let doc = roxmltree::Document::parse(&line).expect("line plot is XML");
        let groups: Vec<(String, usize)> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("series"))
            .map(|g| {
                let marks = g.children().filter(|c| c.has_tag_name("circle")).count();
                (g.attribute("data-series").unwrap().to_string(), marks)
            })
            .collect();
        assert_eq!(
            groups,
            vec![("one \"1\"".to_string(), 3), ("two".to_string(), 1)]
        );
        let bars = bar_plot(&BarPlot {
            title: "bars".into(),
            y_label: "share".into(),
            series: vec!["small".into(), "any".into()],
            groups: vec![
                ("g1".into(), vec![0.5, 1.0]),
                ("g2".into(), vec![0.0, 0.25]),
            ],
            y_max: Some(1.0),
        });
        let doc = roxmltree::Document::parse(&bars).expect("bar plot is XML");
        let counts: Vec<usize> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("series"))
            .map(|g| g.children().filter(|c| c.has_tag_name("rect")).count())
            .collect();
        assert_eq!(counts, vec![2, 2]);
    }
}
