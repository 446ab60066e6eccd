//! Hand-built chain views, each small enough to check by eye: every chain property
//! fires on its breach, with the right nodes and witness, and stays quiet on a
//! correct run.

use super::super::tests::{n, names, only, rec, v};
use super::*;

fn tip(index: usize, node: u16, blocks: &[&str]) -> Record {
    let chain = blocks.iter().map(|b| v(b)).collect();
    rec(index, node, Observation::Tip { chain })
}

fn finalize(index: usize, node: u16, height: u64, block: &str) -> Record {
    rec(
        index,
        node,
        Observation::Finalized {
            height,
            block: v(block),
        },
    )
}

/// The confirmation depth of [`correct`].
const K: u64 = 1;

/// Three nodes grow one chain g-b1-b2-b3; n1 and n2 finalize b1 at height 1 during
/// the faults; the liveness phase starts at index 6 and the run ends at index 12,
/// with n2 one block behind the others.
fn correct() -> ShapeView {
    ShapeView {
        records: vec![
            tip(0, 1, &["g", "b1"]),
            tip(1, 2, &["g", "b1"]),
            tip(2, 3, &["g", "b1"]),
            tip(3, 1, &["g", "b1", "b2"]),
            finalize(4, 1, 1, "b1"),
            finalize(5, 2, 1, "b1"),
            tip(7, 2, &["g", "b1", "b2"]),
            tip(8, 3, &["g", "b1", "b2", "b3"]),
            tip(9, 1, &["g", "b1", "b2", "b3"]),
        ],
        liveness_from: Some((6, 60)),
        end: Some((12, 120)),
        byzantine: BTreeSet::new(),
        deciders: vec![n(1), n(2), n(3)],
    }
}

/// A correct run breaks nothing at depth 1.
#[test]
fn correct_chain_passes() {
    assert_eq!(judge_chain(&correct(), K), vec![]);
}

/// The same run at depth 0 breaks common prefix: n1's whole chain is not a prefix of
/// n2's, one block shorter. The witness is both last Tips and the liveness window.
#[test]
fn depth_zero_breaks_common_prefix_of_a_lagging_node() {
    let found = judge_chain(&correct(), 0);
    let x = only(&found, "common_prefix");
    assert_eq!(
        (x.nodes.clone(), x.witness.clone()),
        (vec![n(1), n(2)], vec![6, 7, 9, 12])
    );
    assert_eq!(x.at_ms, 120);
    assert!(
        x.message.contains("at height 3 n1 has b3, n2 has no block"),
        "{}",
        x.message
    );
    assert_eq!(names(&found), vec!["common_prefix"], "nothing else broke");
}

/// Two nodes finalizing different blocks at one height break finality agreement,
/// witnessed by both finalizations.
#[test]
fn two_blocks_final_at_one_height_break_finality_agreement() {
    let mut view = correct();
    view.records.push(finalize(10, 3, 1, "c1"));
    let found = judge_chain(&view, K);
    let x = only(&found, "finality_agreement");
    assert_eq!(
        (x.nodes.clone(), x.witness.clone()),
        (vec![n(1), n(3)], vec![4, 10])
    );
    assert_eq!(x.at_ms, 100);
    assert_eq!(
        names(&found),
        vec!["finality_agreement"],
        "nothing else broke"
    );
}

/// One node finalizing a second block at a height breaks finality integrity,
/// witnessed by both of its finalizations; finalizing the same block again does not.
#[test]
fn a_second_final_block_breaks_finality_integrity() {
    let mut view = correct();
    view.records.push(finalize(10, 1, 1, "b1"));
    assert_eq!(judge_chain(&view, K), vec![]);
    view.records.push(finalize(11, 1, 1, "c1"));
    let found = judge_chain(&view, K);
    let x = only(&found, "finality_integrity");
    assert_eq!(
        (x.nodes.clone(), x.witness.clone()),
        (vec![n(1)], vec![4, 11])
    );
    assert_eq!(
        names(&found),
        vec!["finality_integrity"],
        "nothing else broke"
    );
}

/// A Tip that replaces a finalized block breaks finality integrity once, at the
/// first such Tip, witnessed by the finalization and that Tip.
#[test]
fn a_reorg_past_finality_breaks_finality_integrity() {
    let mut view = correct();
    view.liveness_from = None;
    view.records.push(tip(10, 2, &["g", "c1", "c2"]));
    view.records.push(tip(11, 2, &["g", "c1", "c2", "c3"]));
    let found = judge_chain(&view, K);
    let x = only(&found, "finality_integrity");
    assert_eq!(
        (x.nodes.clone(), x.witness.clone()),
        (vec![n(2)], vec![5, 10])
    );
    assert!(
        x.message.contains("its chain has c1 there"),
        "{}",
        x.message
    );
    assert_eq!(
        names(&found),
        vec!["finality_integrity"],
        "nothing else broke"
    );
}

/// A Tip cut below a finalized block (a rollback to genesis) reverts it too.
#[test]
fn a_rollback_below_finality_breaks_finality_integrity() {
    let mut view = correct();
    view.liveness_from = None;
    view.records.push(tip(10, 1, &["g"]));
    let found = judge_chain(&view, K);
    let x = only(&found, "finality_integrity");
    assert_eq!(
        (x.nodes.clone(), x.witness.clone()),
        (vec![n(1)], vec![4, 10])
    );
    assert!(
        x.message.contains("its chain ends at height 0"),
        "{}",
        x.message
    );
}

/// Chains that fork below the confirmation depth break common prefix: the first
/// disagreeing pair in node order is named with the height where they part.
#[test]
fn a_deep_fork_breaks_common_prefix() {
    let mut view = correct();
    view.records[7] = tip(8, 3, &["g", "b1", "c2", "c3"]);
    let found = judge_chain(&view, K);
    let x = only(&found, "common_prefix");
    assert_eq!(
        (x.nodes.clone(), x.witness.clone()),
        (vec![n(1), n(3)], vec![6, 8, 9, 12])
    );
    assert!(
        x.message.contains("at height 2 n1 has b2, n3 has c2"),
        "{}",
        x.message
    );
    assert_eq!(names(&found), vec!["common_prefix"], "nothing else broke");
}

/// A decider with no chain at all breaks common prefix and chain growth; growth is
/// witnessed by the finalization that set its floor.
#[test]
fn a_decider_without_a_chain_breaks_common_prefix_and_growth() {
    let mut view = correct();
    view.deciders.push(n(4));
    let found = judge_chain(&view, K);
    assert_eq!(names(&found), vec!["common_prefix", "chain_growth"]);
    let x = only(&found, "common_prefix");
    assert_eq!(
        (x.nodes.clone(), x.witness.clone()),
        (vec![n(4)], vec![6, 12])
    );
    let x = only(&found, "chain_growth");
    assert_eq!(
        (x.nodes.clone(), x.witness.clone()),
        (vec![n(4)], vec![4, 6, 12])
    );
}

/// A decider whose last Tip is no higher than the highest block final before the
/// liveness phase breaks chain growth, witnessed by that Tip, the finalization and
/// the window. Depth 2 keeps common prefix satisfied.
#[test]
fn a_stalled_decider_breaks_chain_growth() {
    let mut view = correct();
    view.records.retain(|r| r.index != 8);
    let found = judge_chain(&view, 2);
    let x = only(&found, "chain_growth");
    assert_eq!(
        (x.nodes.clone(), x.witness.clone()),
        (vec![n(3)], vec![2, 4, 6, 12])
    );
    assert!(x.message.contains("n3 at height 1"), "{}", x.message);
    assert_eq!(names(&found), vec!["chain_growth"], "nothing else broke");
}

/// With nothing final before the liveness phase, the floor is genesis: a decider
/// still at genesis breaks chain growth.
#[test]
fn with_nothing_final_the_growth_floor_is_genesis() {
    let mut view = correct();
    view.records.retain(|r| ![4, 5, 8].contains(&r.index));
    view.records[2] = tip(2, 3, &["g"]);
    let found = judge_chain(&view, 3);
    let x = only(&found, "chain_growth");
    assert_eq!(
        (x.nodes.clone(), x.witness.clone()),
        (vec![n(3)], vec![2, 6, 12])
    );
    assert!(x.message.contains("(genesis)"), "{}", x.message);
    assert_eq!(names(&found), vec!["chain_growth"], "nothing else broke");
}

/// A Byzantine node's records are ignored: its conflicting finalization, its
/// rollback and its inflated finalization (which would raise everyone's growth
/// floor) fire nothing, though it is listed as a decider.
#[test]
fn a_byzantine_node_is_not_judged() {
    let mut view = correct();
    view.byzantine.insert(n(3));
    view.records[2] = finalize(2, 3, 9, "z9");
    view.records.push(finalize(10, 3, 1, "c1"));
    view.records.push(tip(11, 3, &["g"]));
    assert_eq!(judge_chain(&view, K), vec![]);
}

/// Without a liveness phase, a decider with no chain breaks nothing (the same run
/// with the phase breaks two properties, see above).
#[test]
fn no_liveness_phase_means_no_liveness_judgement() {
    let mut view = correct();
    view.deciders.push(n(4));
    view.liveness_from = None;
    assert_eq!(judge_chain(&view, K), vec![]);
}

/// The listed properties are the four the judge reports, with stable names.
#[test]
fn chain_properties_are_listed() {
    let listed: Vec<&str> = CHAIN_PROPERTIES.iter().map(|p| p.name).collect();
    assert_eq!(
        listed,
        vec![
            "finality_agreement",
            "finality_integrity",
            "common_prefix",
            "chain_growth"
        ]
    );
}
