//! `gauntlet experiment tight-bound`: PBFT's bound of `f = (n - 1) / 3` Byzantine
//! replicas is tight (issue 12, point 6). For `n` in 4, 7 and 10, runs with exactly
//! `f` colluding traitors break no safety property, and runs with `f + 1` do.
//! `--protocol generals` measures the same for OM(m), whose bound has the same shape:
//! the generals' drafts at `n` = 4, 7, 10 run OM(1), OM(2), OM(3), which tolerate
//! `m = (n - 1) / 3` traitors.
//!
//! Both rows use one adversary, the colluding plan of [`crate::fault::Scope::Colluding`]
//! (every traitor lies the same way to the same honest receivers, from the start; up
//! to two partition rounds): only the number of traitors differs. `f + 1` runs name
//! more Byzantine nodes than PBFT tolerates, so their scenarios say
//! `byzantine_beyond_tolerance: true`; a scenario file that does not is refused.
//! Liveness is not owed beyond `f`, so the `f + 1` rows count safety (Always)
//! violations only; the `f` rows count every violation, liveness included.

use super::plot::{bar_plot, BarPlot};
use super::{markdown_table, parallel_map, percent, protocol, rate, Experiment, Report, Settings};
use crate::explore::Lane;
use crate::fault::{Scope, ScopePlan};
use crate::protocol::Expectation;
use crate::registry::Registry;
use crate::rng::run_seed;

pub const EXPERIMENT: Experiment = Experiment {
    name: "tight-bound",
    summary: "PBFT n = 4, 7, 10: f colluding traitors break no safety property, f + 1 do",
    svg_default: "tight-bound.svg",
    protocols: &["pbft", "generals"],
    run,
};

/// Cluster sizes measured.
pub const SIZES: [usize; 3] = [4, 7, 10];
/// Default runs per row (measured to fit in a few minutes on 2 cores: docs/pbft.md).
pub const RUNS_DEFAULT: u64 = 10_000;
/// Runs per row with `--quick`.
pub const RUNS_QUICK: u64 = 40;
/// Most runs an `f + 1` row makes, whatever `--runs` says. Those rows need only show a
/// violation and its rate; at 10,000 runs every row found one within its first 100
/// runs (docs/pbft.md, docs/generals.md), so `--runs 100000` spends its time on the
/// `f` rows, where the claim is an absence.
pub const RUNS_BEYOND_TOLERANCE_MAX: u64 = RUNS_DEFAULT;

/// One row: `n` replicas, `traitors` of them Byzantine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub n: usize,
    pub f: usize,
    pub traitors: usize,
    pub runs: u64,
    /// Runs that broke a safety property.
    pub unsafe_runs: u64,
    /// Runs that broke a liveness property (counted for `traitors <= f` only).
    pub stuck_runs: Option<u64>,
    /// The first unsafe run: its number (1-based), seed and first safety property.
    pub first: Option<(u64, u64, &'static str)>,
}

/// The runs a row makes when `--runs` asks for `runs`: all of them for an `f` row,
/// at most [`RUNS_BEYOND_TOLERANCE_MAX`] for an `f + 1` row.
pub fn row_runs(runs: u64, beyond_tolerance: bool) -> u64 {
    if beyond_tolerance {
        runs.min(RUNS_BEYOND_TOLERANCE_MAX)
    } else {
        runs
    }
}

/// What one run showed: its seed, its first safety violation, whether liveness broke.
type RunOutcome = (u64, Option<&'static str>, bool);

fn run(
    registry: &Registry,
    settings: &Settings,
    now_s: &(dyn Fn() -> f64 + Sync),
) -> Result<Report, String> {
    let name = settings
        .protocol
        .as_deref()
        .unwrap_or(EXPERIMENT.protocols[0]);
    let target = protocol(registry, name, EXPERIMENT.name)?;
    let runs = if settings.quick {
        RUNS_QUICK
    } else {
        settings.runs.unwrap_or(RUNS_DEFAULT)
    };
    let mut rows = Vec::new();
    let mut timings = Vec::new();
    for n in SIZES {
        let f = (n - 1) / 3;
        for traitors in [f, f + 1] {
            let runs = row_runs(runs, traitors > f);
            let plan = ScopePlan {
                scope: Scope::Colluding,
                byzantine: traitors,
                beyond_tolerance: traitors > f,
                cluster_nodes: Some(n),
            };
            let row_seed = run_seed(settings.seed, (n * 100 + traitors) as u64);
            let started = now_s();
            let outcomes: Vec<Result<RunOutcome, String>> =
                parallel_map(settings.jobs, runs, &|i| {
                    let seed = run_seed(row_seed, i);
                    let scenario = target.generate_scoped(seed, &plan)?;
                    let judged = target
                        .run(&scenario, Lane::Fast)
                        .map_err(|e| e.to_string())?;
                    let safety = judged
                        .verdict
                        .violations
                        .iter()
                        .find(|v| v.expectation == Expectation::Always)
                        .map(|v| v.property);
                    let stuck = judged
                        .verdict
                        .violations
                        .iter()
                        .any(|v| v.expectation == Expectation::Eventually);
                    Ok((seed, safety, stuck))
                });
            let wall_s = now_s() - started;
            let outcomes: Vec<RunOutcome> = outcomes.into_iter().collect::<Result<_, _>>()?;
            let first = outcomes
                .iter()
                .enumerate()
                .find_map(|(i, (seed, p, _))| p.map(|p| (i as u64 + 1, *seed, p)));
            rows.push(Row {
                n,
                f,
                traitors,
                runs,
                unsafe_runs: outcomes.iter().filter(|o| o.1.is_some()).count() as u64,
                stuck_runs: (traitors <= f).then(|| outcomes.iter().filter(|o| o.2).count() as u64),
                first,
            });
            timings.push(format!(
                "n = {n}, {traitors} traitors: {runs} runs in {wall_s:.1} s ({}, {} jobs)",
                rate(runs, wall_s),
                settings.jobs
            ));
        }
    }
    let mut report = report(settings, name, &rows, timings);
    for r in &rows {
        if let (true, Some((_, seed, _))) = (r.traitors > r.f, r.first) {
            let plan = ScopePlan {
                scope: Scope::Colluding,
                byzantine: r.traitors,
                beyond_tolerance: true,
                cluster_nodes: Some(r.n),
            };
            let scenario = target.generate_scoped(seed, &plan)?;
            let tag = if name == EXPERIMENT.protocols[0] {
                String::new()
            } else {
                format!("{name}-")
            };
            report.finds.push((
                format!("tight-bound-{tag}n{}-{}-traitors", r.n, r.traitors),
                scenario,
            ));
        }
    }
    Ok(report)
}

/// How `protocol` is named in the table's title, plot and notes.
fn display_name(protocol: &str) -> &'static str {
    if protocol == "generals" {
        "OM(m)"
    } else {
        "PBFT"
    }
}

/// The report of `rows`, measured on `protocol`.
pub fn report(settings: &Settings, protocol: &str, rows: &[Row], timings: Vec<String>) -> Report {
    let shown = display_name(protocol);
    let table_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let (at, seed, property) = match r.first {
                Some((at, seed, p)) => (at.to_string(), seed.to_string(), format!("`{p}`")),
                None => ("none".into(), "-".into(), "-".into()),
            };
            vec![
                r.n.to_string(),
                r.f.to_string(),
                format!(
                    "{}{}",
                    r.traitors,
                    if r.traitors > r.f { " (f + 1)" } else { " (f)" }
                ),
                r.runs.to_string(),
                format!("{} ({})", r.unsafe_runs, percent(r.unsafe_runs, r.runs)),
                r.stuck_runs.map_or("not owed".into(), |s| s.to_string()),
                at,
                property,
                seed,
            ]
        })
        .collect();
    let table = markdown_table(
        &[
            "n",
            "f",
            "traitors",
            "runs",
            "unsafe runs",
            "liveness violations",
            "first unsafe run",
            "property",
            "its seed",
        ],
        &table_rows,
    );
    let groups: Vec<(String, Vec<f64>)> = SIZES
        .iter()
        .map(|&n| {
            let share = |beyond: bool| {
                rows.iter()
                    .find(|r| r.n == n && (r.traitors > r.f) == beyond)
                    .map_or(0.0, |r| r.unsafe_runs as f64 * 100.0 / r.runs.max(1) as f64)
            };
            (format!("n = {n}"), vec![share(false), share(true)])
        })
        .collect();
    let svg = bar_plot(&BarPlot {
        title: format!(
            "{shown}: runs breaking safety with f and f + 1 colluding traitors (seed {})",
            settings.seed
        ),
        y_label: "unsafe runs (%)".into(),
        series: vec!["f traitors".into(), "f + 1 traitors".into()],
        groups,
        y_max: None,
    });
    Report {
        title: if shown == "PBFT" {
            "PBFT's f bound is tight".into()
        } else {
            format!("{shown}'s bound is tight (f = m = (n - 1) / 3 traitors)")
        },
        table,
        notes: vec![
            "Fast lane; one adversary for every row (the colluding plan: every traitor \
             mutates the same message kinds the same way toward the same honest \
             receivers, plus up to two one-hop partitions); only the number of traitors \
             differs."
                .into(),
            format!(
                "f + 1 rows run beyond {shown}'s tolerance (scenarios say \
             `byzantine_beyond_tolerance: true`); liveness is not owed there. `--save DIR` \
             writes each f + 1 row's first unsafe scenario for `gauntlet replay`. They \
             run at most {RUNS_BEYOND_TOLERANCE_MAX} runs whatever `--runs` asks: they \
             need only show a violation."
            ),
        ],
        timings,
        svg,
        finds: Vec::new(),
    }
}
