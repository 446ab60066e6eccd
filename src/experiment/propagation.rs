//! `gauntlet experiment propagation`: flooding against gossip on the `pow` chain's
//! overlay (issue 13, point 5): the time for a block to reach 50% and 90% of the
//! nodes, and the messages sent per block, for 50 to 500 nodes.
//!
//! Runs are fault-free: every node asks the first `BOOTSTRAP` nodes for peers and
//! fills `OUTBOUND_MAX` outbound slots from what they and its peers name, accepting up
//! to `INBOUND_MAX` inbound connections; blocks every second, every
//! datagram 10 to 50 ms. Blocks found in the first `WARMUP_INTERVALS` seconds (while
//! the overlay forms) are not measured. A block's reach counts its miner and every
//! node that accepted it; only blocks on the final chain are measured (a stale block
//! stops where it loses). Times are medians over the measured blocks of every run.

use super::chain::{self, ChainRun, Shape};
use super::plot::{line_plot, LinePlot, Series};
use super::{markdown_table, parallel_map, rate, Experiment, Report, Settings};
use crate::registry::Registry;
use crate::rng::run_seed;
use std::collections::BTreeSet;

pub const EXPERIMENT: Experiment = Experiment {
    name: "propagation",
    summary: "pow: flooding against gossip, time to reach 50% and 90% of nodes and \
              messages per block, 50 to 500 nodes",
    svg_default: "propagation.svg",
    protocols: &[],
    run,
};

/// Cluster sizes.
pub const SIZES: [u16; 4] = [50, 100, 200, 500];
/// Sizes with `--quick`.
pub const SIZES_QUICK: [u16; 2] = [50, 100];
/// Gossip's fanout (flooding is fanout 0).
pub const GOSSIP_FANOUT: usize = 4;
/// Bitcoin's peer slots: 8 outbound, up to 117 inbound (125 in all).
pub const OUTBOUND_MAX: usize = 8;
pub const INBOUND_MAX: usize = 117;
pub const BOOTSTRAP: usize = 8;
pub const BLOCK_INTERVAL_MS: u64 = 1_000;
pub const LATENCY_MS: (u64, u64) = (10, 50);
/// Block intervals per run, and how many of the first are warm-up.
pub const INTERVALS_PER_RUN: u64 = 40;
pub const WARMUP_INTERVALS: u64 = 10;
pub const RUNS_DEFAULT: u64 = 4;
pub const RUNS_QUICK: u64 = 1;

/// One size and mode.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub nodes: u16,
    /// 0: flooding.
    pub fanout: usize,
    pub runs: u64,
    /// Blocks measured (on the final chain, found after the warm-up).
    pub blocks: u64,
    /// Median ms to reach half of the nodes, and 90% of them (`None`: fewer than half
    /// the blocks got there).
    pub half_ms: Option<u64>,
    pub ninety_ms: Option<u64>,
    /// The median number of nodes a measured block reached by the end of the run.
    pub reached_median: u64,
    /// Measured blocks that never reached 90% of the nodes.
    pub short_of_ninety: u64,
    /// Block messages (announcements and sync batches) sent after the warm-up, per
    /// block found after it; and every message (pings, peer exchange) likewise.
    pub block_msgs_per_block: f64,
    pub msgs_per_block: f64,
}

/// The shape of the runs with `nodes` and `fanout`.
pub fn shape(nodes: u16, fanout: usize) -> Shape {
    Shape {
        nodes,
        block_interval_ms: BLOCK_INTERVAL_MS,
        latency_ms: LATENCY_MS,
        fanout,
        outbound_max: OUTBOUND_MAX,
        inbound_max: INBOUND_MAX,
        bootstrap: BOOTSTRAP,
        ping_ms: 1_000,
        blocks: INTERVALS_PER_RUN,
    }
}

/// What one run gives a row: per measured block, ms to reach half and 90% of the
/// nodes (`None`: never); blocks found and messages sent after the warm-up.
#[derive(Debug, Clone, Default)]
struct Measured {
    reach: Vec<(Option<u64>, Option<u64>)>,
    /// Per measured block, the nodes it reached by the end of the run.
    reached: Vec<u64>,
    found: u64,
    block_msgs: u64,
    msgs: u64,
}

fn measure(run: &ChainRun, nodes: u16) -> Measured {
    let from_ms = WARMUP_INTERVALS * BLOCK_INTERVAL_MS;
    let until_ms = INTERVALS_PER_RUN * BLOCK_INTERVAL_MS;
    let on_chain: BTreeSet<_> = run.chain.iter().collect();
    let half = usize::from(nodes).div_ceil(2);
    let ninety = (usize::from(nodes) * 9).div_ceil(10);
    let mut m = Measured::default();
    for f in &run.found {
        if f.at_ms < from_ms || f.at_ms >= until_ms {
            continue;
        }
        m.found += 1;
        if !on_chain.contains(&f.block) {
            continue;
        }
        let mut times = run.accepted.get(&f.block).cloned().unwrap_or_default();
        times.sort_unstable();
        let at = |k: usize| times.get(k - 1).map(|t| t - f.at_ms);
        m.reach.push((at(half), at(ninety)));
        m.reached.push(times.len() as u64);
    }
    let window = |t: &u64| (from_ms..until_ms).contains(t);
    m.block_msgs = run.block_sends_at_ms.iter().filter(|t| window(t)).count() as u64;
    m.msgs = run.sends_at_ms.iter().filter(|t| window(t)).count() as u64;
    m
}

/// The median of `values` if more than half of them are `Some`.
fn median(values: &[Option<u64>]) -> Option<u64> {
    let mut v: Vec<Option<u64>> = values.to_vec();
    // `None` (never) sorts after every time.
    v.sort_by_key(|x| x.unwrap_or(u64::MAX));
    v.get(v.len() / 2).copied().flatten()
}

fn run(_: &Registry, settings: &Settings, now_s: super::Clock<'_>) -> Result<Report, String> {
    let (sizes, runs): (&[u16], u64) = if settings.quick {
        (&SIZES_QUICK, RUNS_QUICK)
    } else {
        (&SIZES, settings.runs.unwrap_or(RUNS_DEFAULT))
    };
    let mut rows = Vec::new();
    let mut timings = Vec::new();
    for &nodes in sizes {
        for fanout in [0, GOSSIP_FANOUT] {
            let shape = shape(nodes, fanout);
            let cell_seed = run_seed(settings.seed, u64::from(nodes) * 100 + fanout as u64);
            let started = now_s();
            let outcomes = parallel_map(settings.jobs, runs, &|i| {
                chain::run(&shape, run_seed(cell_seed, i)).map(|r| measure(&r, nodes))
            });
            let wall_s = now_s() - started;
            let mut all = Measured::default();
            for m in outcomes {
                let m = m?;
                all.reach.extend(m.reach);
                all.reached.extend(m.reached);
                all.found += m.found;
                all.block_msgs += m.block_msgs;
                all.msgs += m.msgs;
            }
            let halves: Vec<_> = all.reach.iter().map(|r| r.0).collect();
            let nineties: Vec<_> = all.reach.iter().map(|r| r.1).collect();
            let per_block = |count: u64| count as f64 / all.found.max(1) as f64;
            rows.push(Row {
                nodes,
                fanout,
                runs,
                blocks: all.reach.len() as u64,
                half_ms: median(&halves),
                ninety_ms: median(&nineties),
                reached_median: median(&all.reached.iter().map(|&r| Some(r)).collect::<Vec<_>>())
                    .unwrap_or(0),
                short_of_ninety: nineties.iter().filter(|t| t.is_none()).count() as u64,
                block_msgs_per_block: per_block(all.block_msgs),
                msgs_per_block: per_block(all.msgs),
            });
            timings.push(format!(
                "{nodes} nodes, fanout {fanout}: {runs} runs in {wall_s:.1} s ({}, {} jobs)",
                rate(runs, wall_s),
                settings.jobs
            ));
        }
    }
    Ok(report(settings, &rows, timings))
}

fn mode(fanout: usize) -> String {
    if fanout == 0 {
        "flooding".into()
    } else {
        format!("gossip k = {fanout}")
    }
}

/// The report of `rows`.
pub fn report(settings: &Settings, rows: &[Row], timings: Vec<String>) -> Report {
    let ms = |t: Option<u64>| t.map_or("never".into(), |t| t.to_string());
    let table_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.nodes.to_string(),
                mode(r.fanout),
                r.runs.to_string(),
                r.blocks.to_string(),
                ms(r.half_ms),
                ms(r.ninety_ms),
                r.short_of_ninety.to_string(),
                format!("{}%", r.reached_median * 100 / u64::from(r.nodes)),
                format!("{:.0}", r.block_msgs_per_block),
                format!("{:.0}", r.msgs_per_block),
            ]
        })
        .collect();
    let table = markdown_table(
        &[
            "nodes",
            "mode",
            "runs",
            "blocks measured",
            "median ms to 50%",
            "median ms to 90%",
            "blocks short of 90%",
            "median reach",
            "block msgs per block",
            "all msgs per block",
        ],
        &table_rows,
    );
    let mut series = Vec::new();
    for fanout in [0, GOSSIP_FANOUT] {
        for (what, pick) in [
            ("50%", (|r: &Row| r.half_ms) as fn(&Row) -> Option<u64>),
            ("90%", |r: &Row| r.ninety_ms),
        ] {
            series.push(Series {
                name: format!("{} to {what}", mode(fanout)),
                points: rows
                    .iter()
                    .filter(|r| r.fanout == fanout)
                    .filter_map(|r| pick(r).map(|t| (f64::from(r.nodes), t as f64)))
                    .collect(),
            });
        }
    }
    let svg = line_plot(&LinePlot {
        title: format!(
            "pow: median time for a block to reach 50% / 90% of nodes (seed {})",
            settings.seed
        ),
        x_label: "nodes".into(),
        y_label: "ms after the block was found".into(),
        series,
    });
    Report {
        title: "pow: flooding against gossip".into(),
        table,
        notes: vec![
            format!(
                "Fast lane, fault-free: every node asks the first {BOOTSTRAP} nodes for \
                 peers, dials {OUTBOUND_MAX} of the addresses it learns and accepts up to \
                 {INBOUND_MAX} inbound connections; blocks \
                 every {BLOCK_INTERVAL_MS} ms on average, every datagram {} to {} ms; the \
                 first {WARMUP_INTERVALS} s are warm-up, the next {} s are measured.",
                LATENCY_MS.0,
                LATENCY_MS.1,
                INTERVALS_PER_RUN - WARMUP_INTERVALS
            ),
            "Flooding sends a new best block to every peer but its sender; gossip to k \
             random peers; each node forwards a block once. A node gossip misses gets the \
             block later, when a child arrives as an orphan and it asks for the parent \
             (a sync batch, counted in block messages)."
                .into(),
        ],
        timings,
        svg,
        finds: Vec::new(),
    }
}
