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

/// An unknown experiment is refused with the names there are.
#[test]
fn unknown_experiment_names_the_known_ones() {
    let err = find("nope").err().expect("refused");
    assert!(
        err.contains("tight-bound") && err.contains("byzzfuzz"),
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
