//! Measures the node-count scaling sweep of `benches/lanes.rs` and draws it:
//! `cargo run --release --example bench_plot [-- OUT.svg]` (default
//! `docs/benchmarks-scaling.svg`). Prints the same table as `cargo bench --bench lanes
//! -- nodes`, then writes a log-log SVG of µs per delivered message against node count
//! for both lanes and both floors. The SVG is written by hand: four lines and some
//! text do not need a plotting crate.

#[path = "../benches/support/mod.rs"]
mod support;

use gauntlet::sim::TICK_MS;
use std::fmt::Write;
use support::*;

/// Samples per point (the median is plotted), as in the bench.
const SAMPLES: usize = 5;

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "docs/benchmarks-scaling.svg".into());
    println!(
        "## Scaling with node count ({} s simulated, {SAMPLES} samples)\n",
        SCALING_NODES_DURATION_MS / 1000
    );
    println!("{SCALING_TABLE_HEADER}");
    let rows: Vec<ScalingRow> = SCALING_NODES
        .iter()
        .map(|&nodes| {
            let row = scaling_point(nodes, SCALING_NODES_DURATION_MS, SAMPLES, TICK_MS);
            println!("{}", scaling_table_row(&row));
            row
        })
        .collect();
    let svg = plot(&rows);
    if let Err(e) = std::fs::write(&out, svg) {
        eprintln!("cannot write {out}: {e}");
        std::process::exit(1);
    }
    println!("\nwrote {out}");
}

/// Plot area and margins, in SVG pixels.
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 460.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 190.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;

fn plot(rows: &[ScalingRow]) -> String {
    type Series = (
        &'static str,
        &'static str,
        &'static str,
        fn(&ScalingRow) -> f64,
    );
    let series: [Series; 4] = [
        ("turmoil lane", "#c0392b", "none", |r| r.turmoil_us_per_msg),
        ("bare turmoil", "#c0392b", "6,4", |r| r.bare_us_per_msg),
        ("fast lane", "#2471a3", "none", |r| r.fast_us_per_msg),
        ("plain loop", "#2471a3", "6,4", |r| r.plain_us_per_msg),
    ];
    let values: Vec<f64> = rows
        .iter()
        .flat_map(|r| series.iter().map(move |s| (s.3)(r)))
        .collect();
    // Whole decades around every value.
    let y_lo = values
        .iter()
        .copied()
        .fold(f64::MAX, f64::min)
        .log10()
        .floor();
    let y_hi = values
        .iter()
        .copied()
        .fold(f64::MIN, f64::max)
        .log10()
        .ceil();
    let x_lo = (rows[0].nodes as f64).log10();
    let x_hi = (rows[rows.len() - 1].nodes as f64).log10();
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |nodes: f64| LEFT + (nodes.log10() - x_lo) / (x_hi - x_lo) * plot_w;
    let y = |us: f64| TOP + (y_hi - us.log10()) / (y_hi - y_lo) * plot_h;

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="14">Cost per delivered message against node count ({} s simulated, log-log)</text>"#,
        WIDTH / 2.0,
        SCALING_NODES_DURATION_MS / 1000
    );
    // Horizontal grid lines at each decade, with labels.
    let mut decade = y_lo;
    while decade <= y_hi {
        let us = 10f64.powf(decade);
        let yy = y(us);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#ddd"/>"##,
            LEFT + plot_w
        );
        let label = if us >= 1.0 {
            format!("{us:.0}")
        } else {
            format!("{us}")
        };
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{label}</text>"#,
            LEFT - 6.0,
            yy + 4.0
        );
        decade += 1.0;
    }
    // A tick and label at each measured node count.
    for r in rows {
        let xx = x(r.nodes as f64);
        let _ = writeln!(
            s,
            r##"<line x1="{xx:.1}" y1="{TOP}" x2="{xx:.1}" y2="{:.1}" stroke="#eee"/>"##,
            TOP + plot_h
        );
        let _ = writeln!(
            s,
            r#"<text x="{xx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            TOP + plot_h + 18.0,
            r.nodes
        );
    }
    let _ = writeln!(
        s,
        r##"<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>"##
    );
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">acceptor-learner nodes (each run has 3 proposer hosts more)</text>"#,
        LEFT + plot_w / 2.0,
        HEIGHT - 18.0
    );
    let _ = writeln!(
        s,
        r#"<text x="18" y="{:.1}" text-anchor="middle" transform="rotate(-90 18 {:.1})">µs per delivered message</text>"#,
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0
    );
    for (i, (name, colour, dash, value)) in series.iter().enumerate() {
        let points: Vec<String> = rows
            .iter()
            .map(|r| format!("{:.1},{:.1}", x(r.nodes as f64), y(value(r))))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>"#,
            points.join(" ")
        );
        for r in rows {
            let _ = writeln!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"/>"#,
                x(r.nodes as f64),
                y(value(r))
            );
        }
        let ly = TOP + 20.0 + i as f64 * 22.0;
        let lx = LEFT + plot_w + 16.0;
        let _ = writeln!(
            s,
            r#"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>"#,
            lx + 30.0
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}">{name}</text>"#,
            lx + 38.0,
            ly + 4.0
        );
    }
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" font-size="10" fill="#555">tick {TICK_MS} ms; medians of {SAMPLES}</text>"##,
        LEFT + plot_w + 16.0,
        TOP + 20.0 + 4.0 * 22.0 + 10.0
    );
    s.push_str("</svg>\n");
    s
}
