//! The Byzantine generals through the contract: OM(m) stays clean under the generator
//! within the bound (`n = 3m + 1`, up to `m` traitors) with its coverage reached;
//! past it (`generals_3m`, `n = 3m`) `explore` finds the violation within a stated
//! budget; each planted bug is found within its budget, and the bound's failure and
//! every bug have a kept known failure (which `tests/corpus.rs` replays).

use crate::support::{
    assert_budgets_found, assert_clean_and_covered, campaign, first_violation, known_failures,
};
use gauntlet::explore::explore;
use gauntlet::protocols::generals::{Generals, BUGS};
use std::sync::atomic::AtomicBool;

/// Fast lane, per bug: (bug, campaign seed, budget in runs, property that catches it).
/// The comment gives the run at which that campaign first fails, measured with
/// `gauntlet hunt --protocol generals --all --lane fast --seeds 5` (docs/generals.md).
const FAST_BUDGETS: [(&str, u64, u64, &str); 2] = [
    ("majority_without_default", 3, 1_500, "ic1_loyal_agree"), // run 346
    ("trusts_the_path", 1, 300, "ic1_loyal_agree"),            // run 43
];

/// Correct OM(m) within the bound: 400 fast-lane runs of 4, 7 and 10 generals with
/// up to m traitors and every network fault of the generator, no violation, and both
/// coverage properties (an attack obeyed, a traitor's lie outvoted) reached.
#[test]
fn om_m_stays_clean_within_the_bound() {
    let summary = explore(
        &campaign(&Generals::WITHIN_BOUND, &[], 0x6E4, 400),
        &AtomicBool::new(false),
        |_, _| {},
    );
    assert_clean_and_covered(&summary, &Generals::WITHIN_BOUND, 400, 2);
}

/// Past the bound (`generals_3m`: 3 generals and one traitor, or 6 and two) the
/// generator finds a loyal lieutenant disobeying a loyal commander within 200 runs of
/// campaign seed 1 (measured: run 28).
#[test]
fn past_the_bound_the_violation_is_found() {
    let config = campaign(&Generals::BEYOND_BOUND, &[], 1, 200);
    assert_eq!(
        first_violation(&config).as_deref(),
        Some("ic2_obey_loyal_commander")
    );
}

/// `explore` in the fast lane finds each planted bug within its budget, caught by the
/// stated property.
#[test]
fn explore_finds_the_generals_bugs() {
    let catalog: Vec<&str> = BUGS.iter().map(|b| b.name).collect();
    let budgeted: Vec<&str> = FAST_BUDGETS.iter().map(|b| b.0).collect();
    assert_eq!(catalog, budgeted);
    assert_budgets_found(&Generals::WITHIN_BOUND, &FAST_BUDGETS);
}

/// Every planted bug, and the bound itself, has a kept known failure: a corpus file
/// whose scenario switches on exactly that bug (or, for the bound, none, with
/// `byzantine_beyond_tolerance` and three generals).
#[test]
fn every_generals_failure_is_kept() {
    let entries = known_failures();
    for bug in BUGS {
        assert!(
            entries
                .iter()
                .any(|e| e.scenario.protocol == "generals" && e.scenario.bugs == [bug.name]),
            "no known failure for {}",
            bug.name
        );
    }
    let bound = entries
        .iter()
        .find(|e| e.scenario.protocol == "generals_3m")
        .expect("a kept failure past the bound");
    assert!(bound.scenario.bugs.is_empty());
    assert_eq!(bound.scenario.cluster.len(), 3);
    assert!(bound.scenario.byzantine_beyond_tolerance);
}
