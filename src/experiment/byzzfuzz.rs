//! `gauntlet experiment byzzfuzz`: ByzzFuzz's comparison (Winter et al., OOPSLA 2023,
//! its PBFT table) on gauntlet's PBFT and its planted bugs: for each bug, the share of
//! runs that find it under small-scope faults, any-scope faults and a random
//! baseline, for `c` process faults and `d` network faults with `(c, d)` in
//! `{0, 1, 2}^2` ([`crate::fault::Scope`] says what each mode draws). The correct
//! protocol comes first: any run that fails it would be a false alarm (or a real bug).
//!
//! ByzzFuzz's setting: 4 replicas (`f = 1`), one Byzantine replica drawn per run, its
//! faults within `r = 8` rounds for small scope. A run "finds" the bug when it
//! violates any property (safety or liveness).

use super::plot::{bar_plot, BarPlot};
use super::{markdown_table, percent, protocol, run_cells, Experiment, Finds, Report, Settings};
use crate::fault::{Scope, ScopePlan};
use crate::registry::Registry;
use crate::rng::run_seed;
use crate::scenario::Scenario;

pub const EXPERIMENT: Experiment = Experiment {
    name: "byzzfuzz",
    summary: "PBFT's planted bugs: share of runs finding each under small scope, any scope \
              and a random baseline, for (c, d) in {0,1,2}^2",
    svg_default: "byzzfuzz.svg",
    protocols: &[],
    run,
};

/// ByzzFuzz's cluster and its round bound.
pub const REPLICAS: usize = 4;
pub const ROUNDS: u32 = 8;
/// Default runs per cell (measured to fit the whole table in 10 minutes on 2 cores:
/// docs/pbft.md).
pub const RUNS_DEFAULT: u64 = 200;
/// Runs per cell with `--quick`, and the bugs it covers.
pub const RUNS_QUICK: u64 = 4;
pub const QUICK_BUGS: [&str; 2] = ["digest_not_bound", "timer_never_grows"];
/// The fault counts compared.
pub const COUNTS: [u32; 3] = [0, 1, 2];
/// The modes, in column order.
pub const MODES: [&str; 3] = ["small", "any", "baseline"];

fn scope(mode: &str, process: u32, network: u32) -> Scope {
    match mode {
        "small" => Scope::Small {
            process,
            network,
            rounds: ROUNDS,
        },
        "any" => Scope::Any { process, network },
        _ => Scope::Baseline { process, network },
    }
}

/// One cell: a bug (or none), a mode, `(c, d)`, and how many runs found it.
#[derive(Debug, Clone)]
pub struct Cell {
    pub bug: Option<&'static str>,
    pub mode: &'static str,
    pub process: u32,
    pub network: u32,
    pub runs: u64,
    /// What its runs found (the first find is what `--save` writes and the corpus keeps).
    pub finds: Finds,
}

fn run(
    registry: &Registry,
    settings: &Settings,
    now_s: &(dyn Fn() -> f64 + Sync),
) -> Result<Report, String> {
    let pbft = protocol(registry, "pbft", EXPERIMENT.name)?;
    let runs = if settings.quick {
        RUNS_QUICK
    } else {
        settings.runs.unwrap_or(RUNS_DEFAULT)
    };
    let bugs = super::bug_rows(pbft, settings, &QUICK_BUGS);
    // Every cell's runs are numbered together, so one pool of workers takes them all.
    let mut cells = Vec::new();
    for &bug in &bugs {
        for mode in MODES {
            for process in COUNTS {
                for network in COUNTS {
                    cells.push(Cell {
                        bug,
                        mode,
                        process,
                        network,
                        runs,
                        finds: Finds::default(),
                    });
                }
            }
        }
    }
    let (finds, timing) = run_cells(pbft, settings, cells.len(), runs, now_s, &|c, run| {
        let cell = &cells[c];
        let plan = ScopePlan {
            scope: scope(cell.mode, cell.process, cell.network),
            byzantine: 1,
            beyond_tolerance: false,
            cluster_nodes: Some(REPLICAS),
        };
        // A cell's seeds depend on its (c, d) and mode, not on the bug: every bug
        // faces the same schedules.
        let cell_key = (MODES.iter().position(|m| *m == cell.mode).unwrap_or(0) as u64) * 100
            + u64::from(cell.process) * 10
            + u64::from(cell.network);
        let seed = run_seed(run_seed(settings.seed, cell_key), run);
        let mut scenario = pbft.generate_scoped(seed, &plan)?;
        scenario.bugs = cell.bug.map(|b| vec![b.to_string()]).unwrap_or_default();
        Ok(scenario)
    })?;
    for (cell, finds) in cells.iter_mut().zip(finds) {
        cell.finds = finds;
    }
    let timings = vec![timing];
    Ok(report(settings, &bugs, &cells, timings))
}

/// The report of `cells` (for `bugs`, in order).
pub fn report(
    settings: &Settings,
    bugs: &[Option<&'static str>],
    cells: &[Cell],
    timings: Vec<String>,
) -> Report {
    let mut header = vec!["bug".to_string(), "mode".to_string()];
    for c in COUNTS {
        for d in COUNTS {
            header.push(format!("c={c} d={d}"));
        }
    }
    let mut rows = Vec::new();
    for &bug in bugs {
        for mode in MODES {
            let mut row = vec![
                bug.map_or("none (correct)".into(), |b| format!("`{b}`")),
                mode.to_string(),
            ];
            for c in COUNTS {
                for d in COUNTS {
                    let cell = cells.iter().find(|x| {
                        x.bug == bug && x.mode == mode && x.process == c && x.network == d
                    });
                    row.push(cell.map_or("-".into(), |x| percent(x.finds.found, x.runs)));
                }
            }
            rows.push(row);
        }
    }
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let table = markdown_table(&header, &rows);
    // The plot: ByzzFuzz's default (c, d) = (1, 1), one bar per mode.
    let groups: Vec<(String, Vec<f64>)> = bugs
        .iter()
        .map(|&bug| {
            let values = MODES
                .iter()
                .map(|&mode| {
                    cells
                        .iter()
                        .find(|x| {
                            x.bug == bug && x.mode == mode && x.process == 1 && x.network == 1
                        })
                        .map_or(0.0, |x| x.finds.found as f64 * 100.0 / x.runs.max(1) as f64)
                })
                .collect();
            (bug.unwrap_or("none").to_string(), values)
        })
        .collect();
    let svg = bar_plot(&BarPlot {
        title: format!(
            "PBFT bugs found per run at c = 1, d = 1 (n = {REPLICAS}, r = {ROUNDS}, seed {})",
            settings.seed
        ),
        y_label: "runs that find the bug (%)".into(),
        series: MODES.iter().map(|m| m.to_string()).collect(),
        groups,
        y_max: Some(100.0),
    });
    let mut notes = vec![format!(
        "Fast lane, {REPLICAS} replicas, one Byzantine replica drawn per run; small scope: \
         faults in rounds 1..={ROUNDS} (a process fault mutates the Byzantine replica's \
         k-th send of one kind to a strict subset of receivers; a network fault \
         partitions the cluster for the k-th hop after the first request); any scope: \
         rounds 1..=64 and any receivers; baseline: corruptions of the next message to \
         everybody and drop windows (p = 0.5, one hop) at uniform times."
    )];
    for (stem, scenario) in first_finds(cells) {
        notes.push(format!(
            "{stem}: kept find is seed {} with {} fault events",
            scenario.seed,
            scenario.faults.events.len()
        ));
    }
    Report {
        title: "ByzzFuzz's PBFT table: small scope, any scope, random baseline".into(),
        table,
        notes,
        timings,
        svg,
        finds: first_finds(cells),
    }
}

/// The first small-scope find of each bug, a safety violation before a liveness one,
/// then the fewest fault events: what `--save` writes and the corpus keeps.
pub fn first_finds(cells: &[Cell]) -> Vec<(String, Scenario)> {
    let mut out: Vec<(String, Scenario, bool)> = Vec::new();
    for cell in cells.iter().filter(|c| c.mode == "small") {
        let Some(bug) = cell.bug else { continue };
        let Some(((_, found, _), unsafe_)) = cell.finds.kept() else {
            continue;
        };
        let stem = format!("byzzfuzz-{bug}");
        let better = |kept: &Scenario, kept_unsafe: bool| {
            (unsafe_ && !kept_unsafe)
                || (unsafe_ == kept_unsafe && found.faults.events.len() < kept.faults.events.len())
        };
        match out.iter_mut().find(|(b, _, _)| *b == stem) {
            Some((_, kept, kept_unsafe)) => {
                if better(kept, *kept_unsafe) {
                    *kept = found.clone();
                    *kept_unsafe = unsafe_;
                }
            }
            None => out.push((stem, found.clone(), unsafe_)),
        }
    }
    out.into_iter().map(|(b, s, _)| (b, s)).collect()
}
