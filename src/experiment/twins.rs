//! `gauntlet experiment twins`: Twins (Bano et al., OPODIS 2021) on gauntlet's PBFT. A
//! run doubles one replica ([`crate::fault::Fault::Twin`]: a second instance with the
//! same identity and keys, unmodified code) and splits the cluster in two for `d`
//! message hops within the first `r` rounds, each time drawing which half the twin
//! sits in ([`crate::fault::Scope::Twins`]). Nothing mutates a message: whatever
//! equivocation there is comes from two honest cores answering as one node. For each
//! planted bug (and the correct protocol first, where any find would be a false alarm
//! or a real bug) the table gives the share of runs that break a property and the run
//! that broke one first.

use super::plot::{bar_plot, BarPlot};
use super::{markdown_table, percent, protocol, run_cells, Experiment, Finds, Report, Settings};
use crate::fault::{Scope, ScopePlan};
use crate::registry::Registry;
use crate::rng::run_seed;
use crate::scenario::Scenario;

pub const EXPERIMENT: Experiment = Experiment {
    name: "twins",
    summary: "PBFT with one twin replica (same identity and keys, no mutation): share of \
              runs breaking each planted bug, and the first run that does, for d partition \
              rounds in {0, 1, 2, 4}",
    svg_default: "twins.svg",
    protocols: &[],
    run,
};

/// The cluster (`f = 1`) and the rounds partitions land in.
pub const REPLICAS: usize = 4;
pub const ROUNDS: u32 = 8;
/// Default runs per cell, and with `--quick` (and the bugs `--quick` covers).
pub const RUNS_DEFAULT: u64 = 500;
pub const RUNS_QUICK: u64 = 6;
pub const QUICK_BUGS: [&str; 2] = ["quorum_2f", "duplicate_votes"];
/// Partition rounds compared (columns).
pub const NETWORK: [u32; 4] = [0, 1, 2, 4];

/// The plan of a Twins run with `network` partition rounds.
pub fn plan(network: u32) -> ScopePlan {
    ScopePlan {
        scope: Scope::Twins {
            network,
            rounds: ROUNDS,
        },
        byzantine: 1,
        beyond_tolerance: false,
        cluster_nodes: Some(REPLICAS),
    }
}

/// The seed of run `index` of the cell with `network` rounds: it does not depend on
/// the bug, so every bug faces the same schedules.
pub fn seed_of(root: u64, network: u32, index: u64) -> u64 {
    run_seed(run_seed(root, 0x7715 + u64::from(network)), index)
}

/// One cell: a bug (or none), `d`, and what its runs found.
#[derive(Debug, Clone)]
pub struct Cell {
    pub bug: Option<&'static str>,
    pub network: u32,
    pub runs: u64,
    /// What its runs found (the first find is what `--save` writes and the corpus keeps).
    pub finds: Finds,
}

fn run(
    registry: &Registry,
    settings: &Settings,
    now_s: super::Clock<'_>,
) -> Result<Report, String> {
    let pbft = protocol(registry, "pbft", EXPERIMENT.name)?;
    let runs = if settings.quick {
        RUNS_QUICK
    } else {
        settings.runs.unwrap_or(RUNS_DEFAULT)
    };
    let bugs = super::bug_rows(pbft, settings, &QUICK_BUGS);
    let mut cells = Vec::new();
    for &bug in &bugs {
        for network in NETWORK {
            cells.push(Cell {
                bug,
                network,
                runs,
                finds: Finds::default(),
            });
        }
    }
    let (finds, timing) = run_cells(pbft, settings, cells.len(), runs, now_s, &|c, run| {
        let cell = &cells[c];
        let seed = seed_of(settings.seed, cell.network, run);
        let mut scenario = pbft.generate_scoped(seed, &plan(cell.network))?;
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
    let mut header = vec!["bug".to_string()];
    header.extend(NETWORK.iter().map(|d| format!("d={d}")));
    header.push("first find (run, d, property)".into());
    let mut rows = Vec::new();
    for &bug in bugs {
        let mut row = vec![bug.map_or("none (correct)".into(), |b| format!("`{b}`"))];
        let of_bug: Vec<&Cell> = cells.iter().filter(|c| c.bug == bug).collect();
        for d in NETWORK {
            let cell = of_bug.iter().find(|c| c.network == d);
            row.push(cell.map_or("-".into(), |c| percent(c.finds.found, c.runs)));
        }
        let first = of_bug
            .iter()
            .filter_map(|c| c.finds.first.as_ref().map(|(i, _, p)| (*i, c.network, *p)))
            .min();
        row.push(first.map_or("not found".into(), |(i, d, p)| {
            format!("#{} at d={d}, {p}", i + 1)
        }));
        rows.push(row);
    }
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let table = markdown_table(&header, &rows);
    let groups: Vec<(String, Vec<f64>)> = bugs
        .iter()
        .map(|&bug| {
            let values = NETWORK
                .iter()
                .map(|&d| {
                    cells
                        .iter()
                        .find(|c| c.bug == bug && c.network == d)
                        .map_or(0.0, |c| c.finds.found as f64 * 100.0 / c.runs.max(1) as f64)
                })
                .collect();
            (bug.unwrap_or("none").to_string(), values)
        })
        .collect();
    let svg = bar_plot(&BarPlot {
        title: format!(
            "PBFT runs broken by one twin replica (n = {REPLICAS}, r = {ROUNDS}, seed {})",
            settings.seed
        ),
        y_label: "runs that break a property (%)".into(),
        series: NETWORK.iter().map(|d| format!("d = {d}")).collect(),
        groups,
        y_max: Some(100.0),
    });
    let finds = first_finds(cells);
    let mut notes = vec![format!(
        "Fast lane, {REPLICAS} replicas, one of them doubled from 0 ms by a twin with the \
         same identity and keys and no mutation; d partitions of one message hop each in \
         rounds 1..={ROUNDS} after the first request split the cluster in two, the \
         twin's half drawn per round. A run finds a bug when it breaks any property."
    )];
    for (stem, scenario) in &finds {
        notes.push(format!(
            "{stem}: kept find is seed {} with {} fault events",
            scenario.seed,
            scenario.faults.events.len()
        ));
    }
    Report {
        title: "Twins on PBFT: one twin replica, no mutation".into(),
        table,
        notes,
        timings,
        svg,
        finds,
    }
}

/// Each bug's first find, a safety violation before a liveness one, then the earliest
/// run: what `--save` writes and the corpus keeps.
pub fn first_finds(cells: &[Cell]) -> Vec<(String, Scenario)> {
    let mut out: Vec<(String, (bool, u64), Scenario)> = Vec::new();
    for cell in cells {
        let Some(bug) = cell.bug else { continue };
        let Some(((i, found, _), unsafe_)) = cell.finds.kept() else {
            continue;
        };
        let rank = (!unsafe_, *i);
        let stem = format!("twins-{bug}");
        match out.iter_mut().find(|(b, ..)| *b == stem) {
            Some((_, kept_rank, kept)) => {
                if rank < *kept_rank {
                    *kept_rank = rank;
                    *kept = found.clone();
                }
            }
            None => out.push((stem, rank, found.clone())),
        }
    }
    out.into_iter().map(|(b, _, s)| (b, s)).collect()
}
