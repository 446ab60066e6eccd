//! `gauntlet experiment NAME`: named experiments that reproduce a paper's table with
//! the harness (fast lane), each printing its seed, a markdown table, and an SVG plot
//! ([`plot`]). Every figure in a table is deterministic from the seed, whatever the
//! number of worker threads: runs are numbered, each has its own seed
//! (`run_seed`), and results are gathered by run number, so `--jobs` only changes how
//! fast. Wall times are reported apart from the table ([`Report::timings`]).
//!
//! - [`tight_bound`]: PBFT's `f` bound is tight (issue 12, point 6).
//! - [`byzzfuzz`]: ByzzFuzz's comparison of small scope, any scope and a random
//!   baseline on PBFT's planted bugs (issue 12, point 8).
//! - [`twins`]: Twins' doubled replica on PBFT, no mutation: which planted bugs it
//!   breaks, and how soon (issue 12, Twins).
//! - [`fork_rate`]: the pow chain's stale-block rate against delay / interval, with
//!   its model and Bitcoin's point (issue 13, point 5).
//! - [`propagation`]: flooding against gossip, time to 50% and 90% of nodes and
//!   messages per block, 50 to 500 nodes (issue 13, point 5).
//! - [`chain`]: the chain experiments' runs and what they read from histories.
//!
//! Experiments name their protocols through the registry, like the command line: this
//! module sits with the roof (`src/cli`, `src/registry.rs`), above the harness.

pub mod byzzfuzz;
pub mod chain;
pub mod fork_rate;
pub mod plot;
pub mod propagation;
#[cfg(test)]
mod tests;
pub mod tight_bound;
pub mod twins;

use crate::explore::ProtocolRef;
use crate::registry::Registry;
use crate::scenario::Scenario;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// How one experiment is run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Root seed: every run's seed derives from it.
    pub seed: u64,
    /// Worker threads (the figures do not depend on it).
    pub jobs: usize,
    /// A CI-sized run: the same rows, a few runs each.
    pub quick: bool,
    /// Runs per cell instead of the experiment's default (never with `quick`).
    pub runs: Option<u64>,
    /// The protocol to measure, for an experiment that takes one (`None`: its
    /// default, the first of `Experiment::protocols`).
    pub protocol: Option<String>,
}

/// What an experiment prints and draws.
#[derive(Debug, Clone)]
pub struct Report {
    pub title: String,
    /// A markdown table, deterministic from the seed.
    pub table: String,
    /// What the table means, in a few lines (deterministic too).
    pub notes: Vec<String>,
    /// Wall-time measurements (not deterministic; printed apart from the table).
    pub timings: Vec<String>,
    /// The plot, an SVG document.
    pub svg: String,
    /// Failing scenarios worth keeping, by a file-name stem (`--save DIR` writes them,
    /// ready for `gauntlet replay`, `shrink` and `keep`).
    pub finds: Vec<(String, crate::scenario::Scenario)>,
}

/// A wall clock in seconds, handed in by the caller (the library never reads it).
pub type Clock<'a> = &'a (dyn Fn() -> f64 + Sync);

/// How an experiment runs: see [`Experiment::run`].
pub type RunExperiment = fn(&Registry, &Settings, Clock<'_>) -> Result<Report, String>;

/// One named experiment.
pub struct Experiment {
    pub name: &'static str,
    pub summary: &'static str,
    /// The default SVG file name (under the working directory).
    pub svg_default: &'static str,
    /// The protocols `--protocol` may name, the default first; empty: the experiment
    /// measures one fixed protocol and refuses the flag.
    pub protocols: &'static [&'static str],
    /// Run it; `now_s` reads a wall clock in seconds (only differences are used: the
    /// library never reads the time itself). An error is a sentence.
    pub run: RunExperiment,
}

/// Every experiment, by name.
pub static EXPERIMENTS: [Experiment; 5] = [
    tight_bound::EXPERIMENT,
    byzzfuzz::EXPERIMENT,
    twins::EXPERIMENT,
    fork_rate::EXPERIMENT,
    propagation::EXPERIMENT,
];

/// The experiment named `name`, or an error listing the names there are.
pub fn find(name: &str) -> Result<&'static Experiment, String> {
    EXPERIMENTS.iter().find(|e| e.name == name).ok_or_else(|| {
        let names: Vec<&str> = EXPERIMENTS.iter().map(|e| e.name).collect();
        format!(
            "`{name}` is not an experiment (known: {})",
            names.join(", ")
        )
    })
}

/// The protocol `name` from `registry`, or an error naming the experiment that needs it.
fn protocol(registry: &Registry, name: &str, experiment: &str) -> Result<ProtocolRef, String> {
    registry
        .get(name)
        .ok_or_else(|| format!("experiment {experiment} needs protocol `{name}`"))
}

/// The rows of a bug table: the correct protocol (`None`) first, then each of
/// `protocol`'s planted bugs (with `--quick`, only those in `quick_bugs`).
fn bug_rows(
    protocol: ProtocolRef,
    settings: &Settings,
    quick_bugs: &[&str],
) -> Vec<Option<&'static str>> {
    let mut bugs: Vec<Option<&'static str>> = vec![None];
    bugs.extend(
        (protocol.bugs().iter())
            .map(|b| b.name)
            .filter(|b| !settings.quick || quick_bugs.contains(b))
            .map(Some),
    );
    bugs
}

/// The violation a bug table records for a run: its first safety (Always) violation,
/// else its first violation of any kind; with whether it is a safety one.
fn recorded_violation(judged: &crate::explore::Judged) -> Option<(&'static str, bool)> {
    let violations = &judged.verdict.violations;
    let is_safety =
        |v: &&crate::protocol::Violation| v.expectation == crate::protocol::Expectation::Always;
    (violations.iter().find(is_safety))
        .or(violations.first())
        .map(|v| (v.property, is_safety(&v)))
}

/// What one cell of a bug table found: how many of its runs broke a property, and
/// the first that did (run index in the cell, scenario, property), with the first
/// safety violation kept apart (a table prefers it to an earlier liveness one).
#[derive(Debug, Clone, Default)]
pub struct Finds {
    pub found: u64,
    pub first: Option<(u64, Scenario, &'static str)>,
    pub first_unsafe: Option<(u64, Scenario, &'static str)>,
}

impl Finds {
    /// The find to keep: the first safety violation, else the first of any kind, with
    /// whether it is a safety one.
    pub fn kept(&self) -> Option<(&(u64, Scenario, &'static str), bool)> {
        (self.first_unsafe.as_ref().map(|f| (f, true))).or(self.first.as_ref().map(|f| (f, false)))
    }
}

/// Every run of a table of `cells` cells of `runs` runs each, on `settings.jobs`
/// workers: `scenario_of(cell, run)` draws a run's scenario (its bugs set), which runs
/// in the fast lane. Returns each cell's finds, in cell order, and the timing line.
fn run_cells(
    protocol: ProtocolRef,
    settings: &Settings,
    cells: usize,
    runs: u64,
    now_s: Clock<'_>,
    scenario_of: &(dyn Fn(usize, u64) -> Result<Scenario, String> + Sync),
) -> Result<(Vec<Finds>, String), String> {
    let started = now_s();
    let total = cells as u64 * runs;
    type Found = Option<(Scenario, &'static str, bool)>;
    let outcomes: Vec<Result<Found, String>> =
        parallel_map(settings.jobs, total, &|i| {
            let scenario = scenario_of((i / runs) as usize, i % runs)?;
            let judged = protocol
                .run(&scenario, crate::explore::Lane::Fast)
                .map_err(|e| e.to_string())?;
            Ok(recorded_violation(&judged)
                .map(|(property, is_safety)| (scenario, property, is_safety)))
        });
    let wall_s = now_s() - started;
    let mut finds = vec![Finds::default(); cells];
    for (i, outcome) in outcomes.into_iter().enumerate() {
        let cell = &mut finds[i / runs as usize];
        let index = i as u64 % runs;
        if let Some((scenario, property, is_safety)) = outcome? {
            cell.found += 1;
            if is_safety && cell.first_unsafe.is_none() {
                cell.first_unsafe = Some((index, scenario.clone(), property));
            }
            if cell.first.is_none() {
                cell.first = Some((index, scenario, property));
            }
        }
    }
    let timing = format!(
        "{cells} cells x {runs} runs = {total} runs in {wall_s:.1} s ({}, {} jobs)",
        rate(total, wall_s),
        settings.jobs
    );
    Ok((finds, timing))
}

/// `f(i)` for `i` in `0..count` on `jobs` threads, in index order.
pub fn parallel_map<T: Send>(jobs: usize, count: u64, f: &(dyn Fn(u64) -> T + Sync)) -> Vec<T> {
    let next = AtomicU64::new(0);
    let results: Mutex<Vec<(u64, T)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let value = f(i);
                results.lock().expect("no worker panicked").push((i, value));
            });
        }
    });
    let mut results = results.into_inner().expect("no worker panicked");
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, v)| v).collect()
}

/// A markdown table of `header` and `rows`.
pub fn markdown_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!("| {} |\n", header.join(" | "));
    out.push_str(&format!(
        "|{}\n",
        header.iter().map(|_| "---|").collect::<String>()
    ));
    for row in rows {
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    out
}

/// A share as a percentage with one decimal (`12.5%`), `-` for no runs.
pub fn percent(hits: u64, runs: u64) -> String {
    if runs == 0 {
        "-".into()
    } else {
        format!("{:.1}%", hits as f64 * 100.0 / runs as f64)
    }
}

/// Runs per second, for the timings.
pub fn rate(runs: u64, wall_s: f64) -> String {
    if wall_s <= 0.0 {
        "-".into()
    } else {
        format!("{:.0} runs/s", runs as f64 / wall_s)
    }
}
