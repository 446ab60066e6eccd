//! Each experiment, run quick: its table has the rows and columns it promises, it is
//! the same on one worker and on three, and its SVG is well-formed XML with the
//! expected series. No assertion on times.

use super::*;
use crate::registry::Registry;

fn quick(seed: u64, jobs: usize) -> Settings {
    Settings {
        seed,
        jobs,
        quick: true,
        runs: None,
        protocol: None,
    }
}

/// The series names of an SVG plot (`<g class="series" data-series=...>`), parsing
/// it as XML.
fn series(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("the plot is well-formed XML");
    doc.descendants()
        .filter(|n| n.attribute("class") == Some("series"))
        .map(|n| n.attribute("data-series").unwrap_or("").to_string())
        .collect()
}

fn no_clock() -> f64 {
    0.0
}

/// tight-bound, quick: one row per (n, traitors) for n = 4, 7, 10 with f and f + 1
/// traitors, the f rows clean of safety violations, the same table on 1 and 3 jobs,
/// and a plot with both series.
#[test]
fn tight_bound_quick_table_and_plot() {
    let registry = Registry::builtin();
    let one = (tight_bound::EXPERIMENT.run)(&registry, &quick(5, 1), &no_clock).unwrap();
    let three = (tight_bound::EXPERIMENT.run)(&registry, &quick(5, 3), &no_clock).unwrap();
    assert_eq!(one.table, three.table);
    let lines: Vec<&str> = one.table.lines().collect();
    assert_eq!(lines.len(), 2 + 6, "{}", one.table);
    assert!(lines[0].contains("unsafe runs"));
    for (line, n) in lines[2..].iter().zip([4, 4, 7, 7, 10, 10]) {
        assert!(line.starts_with(&format!("| {n} |")), "{line}");
        if line.contains("(f)") {
            assert!(
                line.contains("| 0 (0.0%) |"),
                "f traitors broke safety: {line}"
            );
        }
    }
    assert_eq!(series(&one.svg), vec!["f traitors", "f + 1 traitors"]);
}

/// `--runs 100000` makes 100,000 runs in each `f` row (where the claim is that no run
/// is unsafe) but caps the `f + 1` rows, which need only show a violation.
#[test]
fn tight_bound_caps_only_the_rows_beyond_tolerance() {
    assert_eq!(tight_bound::row_runs(100_000, false), 100_000);
    assert_eq!(
        tight_bound::row_runs(100_000, true),
        tight_bound::RUNS_BEYOND_TOLERANCE_MAX
    );
    assert_eq!(tight_bound::row_runs(40, true), 40);
}

/// tight-bound for OM(m) (`--protocol generals`): the same rows, OM(m)'s title, the f
/// rows clean of safety violations (m traitors among 3m + 1 generals), and the f + 1
/// row at n = 4 breaking IC1 or IC2 (two traitors among four generals), found within
/// the quick runs.
#[test]
fn tight_bound_quick_for_the_generals() {
    let registry = Registry::builtin();
    let settings = Settings {
        protocol: Some("generals".into()),
        ..quick(5, 2)
    };
    let report = (tight_bound::EXPERIMENT.run)(&registry, &settings, &no_clock).unwrap();
    assert!(report.title.starts_with("OM(m)"), "{}", report.title);
    let lines: Vec<&str> = report.table.lines().collect();
    assert_eq!(lines.len(), 2 + 6, "{}", report.table);
    for line in &lines[2..] {
        if line.contains("(f)") {
            assert!(line.contains("| 0 (0.0%) |"), "m traitors broke OM: {line}");
        }
    }
    assert!(
        lines[3].starts_with("| 4 | 1 | 2 (f + 1) |"),
        "{}",
        lines[3]
    );
    assert!(
        lines[3].contains("`ic1_loyal_agree`") || lines[3].contains("`ic2_obey_loyal_commander`"),
        "{}",
        report.table
    );
}

/// byzzfuzz, quick: the correct protocol and the quick bugs, three modes each, nine
/// (c, d) columns; the correct protocol never fails; the same table on 1 and 2 jobs;
/// a plot with one series per mode.
#[test]
fn byzzfuzz_quick_table_and_plot() {
    let registry = Registry::builtin();
    let one = (byzzfuzz::EXPERIMENT.run)(&registry, &quick(3, 1), &no_clock).unwrap();
    let two = (byzzfuzz::EXPERIMENT.run)(&registry, &quick(3, 2), &no_clock).unwrap();
    assert_eq!(one.table, two.table);
    let lines: Vec<&str> = one.table.lines().collect();
    assert_eq!(lines.len(), 2 + 3 * (1 + byzzfuzz::QUICK_BUGS.len()));
    assert_eq!(lines[0].matches("c=").count(), 9);
    for line in &lines[2..5] {
        assert!(line.starts_with("| none (correct)"));
        assert_eq!(line.matches("| 0.0%").count(), 9, "false alarm: {line}");
    }
    assert_eq!(series(&one.svg), vec!["small", "any", "baseline"]);
}

/// twins, quick: the correct protocol and the quick bugs, one column per number of
/// partition rounds plus the first find; the correct protocol never fails; the same
/// table on 1 and 2 jobs; a plot with one series per number of rounds.
#[test]
fn twins_quick_table_and_plot() {
    let registry = Registry::builtin();
    let one = (twins::EXPERIMENT.run)(&registry, &quick(3, 1), &no_clock).unwrap();
    let two = (twins::EXPERIMENT.run)(&registry, &quick(3, 2), &no_clock).unwrap();
    assert_eq!(one.table, two.table);
    let lines: Vec<&str> = one.table.lines().collect();
    assert_eq!(lines.len(), 2 + 1 + twins::QUICK_BUGS.len());
    assert_eq!(lines[0].matches("d=").count(), twins::NETWORK.len());
    assert!(lines[2].starts_with("| none (correct)"));
    assert_eq!(
        lines[2].matches("| 0.0%").count(),
        twins::NETWORK.len(),
        "false alarm: {}",
        lines[2]
    );
    assert!(lines[2].ends_with("| not found |"));
    assert_eq!(series(&one.svg), vec!["d = 0", "d = 1", "d = 2", "d = 4"]);
}

/// An unknown experiment is refused with the names there are.
#[test]
fn unknown_experiment_names_the_known_ones() {
    let err = find("nope").err().expect("refused");
    assert!(
        err.contains("tight-bound")
            && err.contains("byzzfuzz")
            && err.contains("fork-rate")
            && err.contains("propagation"),
        "{err}"
    );
}

/// A plan with more Byzantine nodes than tolerated is refused unless it says it
/// means to, and then its scenario says so too, and runs; the same scenario without
/// the flag is refused naming the field `faults` and the flag. A cluster size is met
/// by drafting again; process faults without a Byzantine node are refused.
#[test]
fn beyond_tolerance_is_explicit() {
    use crate::fault::{Scope, ScopePlan};
    let pbft = Registry::builtin().get("pbft").expect("pbft is built in");
    let mut two = ScopePlan {
        scope: Scope::Colluding,
        byzantine: 2,
        beyond_tolerance: false,
        cluster_nodes: Some(4),
    };
    let refused = pbft.generate_scoped(1, &two).unwrap_err();
    assert!(refused.contains("beyond tolerance"), "{refused}");
    two.beyond_tolerance = true;
    let scenario = pbft.generate_scoped(1, &two).unwrap();
    assert!(scenario.byzantine_beyond_tolerance);
    assert_eq!(scenario.cluster.len(), 4);
    assert_eq!(scenario.faults.byzantine_nodes().len(), 2);
    assert!(pbft.run(&scenario, crate::explore::Lane::Fast).is_ok());
    let mut without = scenario.clone();
    without.byzantine_beyond_tolerance = false;
    let err = pbft.check(&without).expect_err("refused");
    assert_eq!(err.field, "faults");
    assert!(err.reason.contains("byzantine_beyond_tolerance"), "{err}");
    let ten = ScopePlan {
        byzantine: 3,
        cluster_nodes: Some(10),
        ..two
    };
    assert_eq!(pbft.generate_scoped(2, &ten).unwrap().cluster.len(), 10);
    let none = ScopePlan {
        scope: Scope::Small {
            process: 1,
            network: 0,
            rounds: 8,
        },
        byzantine: 0,
        beyond_tolerance: false,
        cluster_nodes: None,
    };
    assert!(pbft.generate_scoped(1, &none).is_err());
}

/// The fork-rate runs are what the model assumes: once the overlay has formed (within
/// two round trips), every block is accepted by every other node exactly `d` ms after it
/// was found, and by no node twice; the final chain is a chain of found blocks.
#[test]
fn fork_rate_runs_have_a_fixed_one_hop_delay() {
    let d = 500;
    let shape = fork_rate::shape(d);
    let run = chain::run(&shape, 7).unwrap();
    assert!(run.settled);
    let late: Vec<_> = run.found.iter().filter(|f| f.at_ms >= 4 * d).collect();
    assert!(late.len() >= 3, "{} blocks", late.len());
    for f in late {
        let times = &run.accepted[&f.block];
        assert_eq!(times.len(), usize::from(fork_rate::NODES), "{f:?}");
        assert_eq!(times[0], f.at_ms, "the miner's own, first");
        assert!(
            times[1..].iter().all(|&t| t == f.at_ms + d),
            "{f:?}: {times:?}"
        );
    }
    let found: std::collections::BTreeSet<_> = run.found.iter().map(|f| &f.block).collect();
    assert!(run.chain.len() > 4);
    assert!(run.chain[1..].iter().all(|b| found.contains(b)));
}

/// The model: no delay, no stale blocks; one miner never races itself; it grows with
/// the delay and stays below the single-miner-free `1 - exp(-d/T)`.
#[test]
fn fork_rate_model() {
    assert_eq!(fork_rate::model(0.0, 10), 0.0);
    assert_eq!(fork_rate::model(0.5, 1), 0.0);
    assert!(fork_rate::model(0.1, 10) < fork_rate::model(0.2, 10));
    let naive = 1.0 - (-0.1f64).exp();
    assert!(fork_rate::model(0.1, 10) < naive);
    assert!((fork_rate::model(0.1, 10) - (1.0 - (-0.09f64).exp())).abs() < 1e-12);
}

/// fork-rate, quick: five delays and the Bitcoin point, eleven columns, the same table
/// on 1 and 2 jobs, stale blocks at the largest delay far above the smallest, and a
/// plot with the measured, model and both Bitcoin series.
#[test]
fn fork_rate_quick_table_and_plot() {
    let registry = Registry::builtin();
    let one = (fork_rate::EXPERIMENT.run)(&registry, &quick(2, 1), &no_clock).unwrap();
    let two = (fork_rate::EXPERIMENT.run)(&registry, &quick(2, 2), &no_clock).unwrap();
    assert_eq!(one.table, two.table);
    let lines: Vec<&str> = one.table.lines().collect();
    assert_eq!(
        lines.len(),
        2 + fork_rate::DELAYS_MS.len() + 1,
        "{}",
        one.table
    );
    for line in &lines {
        assert_eq!(line.matches('|').count(), 12, "{line}");
    }
    assert!(lines[2].contains("| 100 ms / 10000 ms |"));
    assert!(lines[7].starts_with("| Bitcoin, scaled"));
    let stale = |line: &str| -> f64 {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        cells[7].trim_end_matches('%').parse().unwrap()
    };
    assert!(stale(lines[6]) > 3.0 * stale(lines[2]), "{}", one.table);
    let names = series(&one.svg);
    assert_eq!(names.len(), 4, "{names:?}");
    assert_eq!(names[0], "measured (fast lane)");
    assert!(names[1].starts_with("model"));
    assert!(names[3].contains("Decker"));
}

/// propagation, quick: flooding and gossip for 50 and 100 nodes, ten columns, the
/// same table on 1 and 2 jobs; flooding sends more block messages per block than
/// gossip; a plot with both modes' 50% and 90% series.
#[test]
fn propagation_quick_table_and_plot() {
    let registry = Registry::builtin();
    let one = (propagation::EXPERIMENT.run)(&registry, &quick(4, 1), &no_clock).unwrap();
    let two = (propagation::EXPERIMENT.run)(&registry, &quick(4, 2), &no_clock).unwrap();
    assert_eq!(one.table, two.table);
    let lines: Vec<&str> = one.table.lines().collect();
    assert_eq!(
        lines.len(),
        2 + 2 * propagation::SIZES_QUICK.len(),
        "{}",
        one.table
    );
    let cells =
        |line: &str| -> Vec<String> { line.split('|').map(|c| c.trim().to_string()).collect() };
    for (pair, n) in lines[2..].chunks(2).zip(propagation::SIZES_QUICK) {
        let (flood, gossip) = (cells(pair[0]), cells(pair[1]));
        assert_eq!(flood.len(), 12, "{}", pair[0]);
        assert_eq!(flood[1], n.to_string());
        assert_eq!(flood[2], "flooding");
        assert!(gossip[2].starts_with("gossip"));
        let block_msgs = |c: &[String]| c[9].parse::<f64>().unwrap();
        assert!(block_msgs(&flood) > block_msgs(&gossip), "{pair:?}");
    }
    assert_eq!(
        series(&one.svg),
        vec![
            "flooding to 50%",
            "flooding to 90%",
            "gossip k = 4 to 50%",
            "gossip k = 4 to 90%"
        ]
    );
}

/// fork-rate counts what the model describes: a stale block found after the warm-up is
/// counted as stale, blocks found before the overlay formed (the first two round
/// trips) and the top two heights (races possibly still open) are not counted at all.
#[test]
fn fork_rate_counts_only_settled_blocks_after_the_warm_up() {
    use crate::value::Value;
    let d = 100;
    let found = |name: &str, height: u64, at_ms: u64| chain::Found {
        block: Value::new(name),
        height,
        miner: crate::ids::NodeId(1),
        at_ms,
    };
    let run = chain::ChainRun {
        found: vec![
            found("early", 1, 4 * d - 1),
            found("a", 1, 4 * d),
            found("stale", 2, 5_000),
            found("b", 2, 5_000),
            found("c", 3, 9_000),
            found("top1", 4, 12_000),
            found("top2", 5, 15_000),
        ],
        chain: ["genesis", "a", "b", "c", "top1", "top2"]
            .into_iter()
            .map(Value::new)
            .collect(),
        ..chain::ChainRun::default()
    };
    assert_eq!(fork_rate::count(&run, d), (4, 1));
    // Without the warm-up the early block (stale: not on the chain) would count.
    assert_eq!(fork_rate::count(&run, 0), (5, 2));
}
