//! The chain's adversary `selfish_miner` (`crate::fault::Fault::Strategy`): in both
//! lanes alike, and its measured effect on its share of the main chain.

use super::*;
use crate::check::judge;
use crate::fault::{Fault, FaultEvent, FaultSchedule};
use crate::protocol::prepare;
use crate::sim::{run_setup, Lane};

fn n(i: u16) -> NodeId {
    NodeId(i)
}

/// Four nodes, all flooding to all, n1 mining with `share` against 2 each for the
/// others (hash share `share / (share + 6)`), for `window_ms` with n1 selfish or not.
pub(super) fn race(seed: u64, share: u64, window_ms: u64, selfish: bool) -> Scenario {
    let ids: Vec<NodeId> = (1..=4).map(n).collect();
    let miners: Vec<Miner> = ids
        .iter()
        .map(|&node| Miner {
            node,
            share: if node == n(1) { share } else { 2 },
            bits: 1,
        })
        .collect();
    let params = PowParams {
        block_interval_ms: 100,
        miners,
        bootstrap: vec![n(1), n(2)],
        confirm_depth: 1_000,
        ..PowParams::default()
    };
    let fault = if selfish {
        Fault::Strategy {
            node: n(1),
            strategy: "selfish_miner".into(),
            duration_ms: Some(window_ms),
        }
    } else {
        // The same safety phase, with nothing in it.
        Fault::LinkFaults {
            link: None,
            faults: Default::default(),
        }
    };
    let at_ms = if selfish { 0 } else { window_ms };
    Scenario {
        faults: FaultSchedule {
            events: vec![FaultEvent { at_ms, fault }],
        },
        liveness_bound_ms: 20_000,
        params: serde_json::to_value(&params).expect("params serialize"),
        ..Scenario::quiet(Pow::NAME, Cluster::of_size(4), seed)
    }
}

/// n1's share of n2's main chain at `window_ms` (the blocks found before it, less
/// the last 10, which may still be overridden), and how many blocks that is.
pub(super) fn share_of_n1(
    history: &crate::history::History<PowNode>,
    window_ms: u64,
) -> (f64, usize) {
    let mut miner_of: BTreeMap<Value, NodeId> = BTreeMap::new();
    let mut chain: Vec<Value> = Vec::new();
    for e in &history.events {
        if e.at_ms > window_ms {
            break;
        }
        if let EventKind::Protocol(event) = &e.kind {
            match event {
                PowEvent::Found { block, miner, .. } => {
                    miner_of.insert(block.clone(), *miner);
                }
                PowEvent::Tip { chain: c, .. } if e.node == Some(n(2)) => chain = c.clone(),
                _ => {}
            }
        }
    }
    let settled = &chain[1..chain.len().saturating_sub(10).max(1)];
    let mine = settled
        .iter()
        .filter(|b| miner_of.get(*b) == Some(&n(1)))
        .count();
    (mine as f64 / settled.len().max(1) as f64, settled.len())
}

/// The selfish miner acts alike in both lanes (byte for byte), withholds blocks (its
/// `Withheld` events show some held back), and breaks no property of the honest
/// nodes, which converge after its window ends.
#[test]
fn selfish_miner_acts_alike_in_both_lanes() {
    let s = race(3, 3, 3_000, true);
    let setup = prepare(&Pow, &s).expect("one Byzantine node of four");
    let mut digests = Vec::new();
    for lane in [Lane::Fast, Lane::Turmoil] {
        let report = run_setup(&Pow, &setup, lane);
        let verdict = judge(&Pow, &setup, &report.history);
        assert!(verdict.is_ok(), "{lane:?}: {:?}", verdict.violations);
        let held = report.history.events.iter().any(|e| {
            matches!(
                &e.kind,
                EventKind::Protocol(PowEvent::Withheld { blocks }) if *blocks > 0
            )
        });
        assert!(held, "{lane:?}: the selfish miner withheld nothing");
        digests.push(report.history.digest());
    }
    assert_eq!(digests[0], digests[1], "the lanes differ");
}

/// The measured effect (Eyal and Sirer): with a hash share of 0.4 against three
/// honest miners of 0.2 each, n1 makes about 40% of the main chain when honest and
/// about 48% as a selfish miner (the paper's 48.4% for this share when it loses
/// every tie), over five seeds of 60 s (a block every 100 ms, some 2,000 to 3,000
/// main-chain blocks each way). Measured: 0.398 of 3,012 blocks honest,
/// 0.480 of 2,156 selfish (`cargo test --lib measure_selfish_share -- --ignored
/// --nocapture`). The bounds leave room for neither to pass the other way: an
/// honest (or broken) strategy stays under 0.45, a working one over it.
#[test]
fn a_selfish_miner_takes_more_than_its_share() {
    let mined = |selfish: bool| {
        let (mut mine, mut blocks) = (0.0, 0);
        for seed in 1..=5 {
            let s = race(seed, 4, 60_000, selfish);
            let setup = prepare(&Pow, &s).expect("valid");
            let report = run_setup(&Pow, &setup, Lane::Fast);
            let (f, b) = share_of_n1(&report.history, 60_000);
            mine += f * b as f64;
            blocks += b;
        }
        mine / blocks as f64
    };
    let honest = mined(false);
    let selfish = mined(true);
    assert!((0.37..0.43).contains(&honest), "honest n1 made {honest:.3}");
    assert!(selfish > 0.45, "selfish n1 made only {selfish:.3}");
}

/// Measurement (run with `--ignored --nocapture`): n1's main-chain share, selfish or
/// not, for hash shares 1/3 and 0.4, over seeds 1 to 5.
#[test]
#[ignore]
fn measure_selfish_share() {
    for share in [3u64, 4] {
        for selfish in [false, true] {
            let mut sum = 0.0;
            let mut blocks = 0;
            for seed in 1..=5 {
                let s = race(seed, share, 60_000, selfish);
                let setup = prepare(&Pow, &s).expect("valid");
                let report = run_setup(&Pow, &setup, Lane::Fast);
                let (f, b) = share_of_n1(&report.history, 60_000);
                eprintln!("share {share} selfish {selfish} seed {seed}: {f:.3} of {b}");
                sum += f * b as f64;
                blocks += b;
            }
            eprintln!(
                "share {share} selfish {selfish}: {:.3} of {blocks}",
                sum / blocks as f64
            );
        }
    }
}

/// n2's chain of the first `window_ms` of `history`, judged by `chain_quality` as if
/// all of it came after a heal (the judge reads only blocks mined after one), with n1
/// counted as Byzantine whatever it did: how many violations over the last `blocks`
/// blocks at `percent_min`.
fn quality_violations(
    history: &crate::history::History<PowNode>,
    window_ms: u64,
    blocks: u64,
    percent_min: u64,
) -> usize {
    let mut whole = crate::history::History::default();
    whole.push(
        0,
        None,
        EventKind::PhaseStarted {
            phase: crate::history::Phase::Liveness,
        },
    );
    for e in history.events.iter().filter(|e| e.at_ms <= window_ms) {
        if !matches!(e.kind, EventKind::PhaseStarted { .. }) {
            whole.push(e.at_ms, e.node, e.kind.clone());
        }
    }
    let byzantine: BTreeSet<NodeId> = [n(1)].into_iter().collect();
    check::chain_quality(&whole, &byzantine, &[n(2)], blocks, percent_min).len()
}

/// The chain-quality judge sees a selfish miner: over the last 200 blocks of n2's
/// chain after 60 s, with the floor at 55% (the honest miners' hash share is 60%),
/// it fails for most seeds when n1 (hash share 0.4, counted as Byzantine) mines
/// selfishly and for few when it mines honestly. Measured over seeds 1 to 5: 4 of 5
/// failing selfish, 1 of 5 honest (seed 4, by chance: a window of 200 blocks
/// varies by about 3.5 points).
#[test]
fn chain_quality_sees_a_selfish_miner() {
    let failing = |selfish: bool| {
        (1..=5)
            .filter(|&seed| {
                let s = race(seed, 4, 60_000, selfish);
                let setup = prepare(&Pow, &s).expect("valid");
                let report = run_setup(&Pow, &setup, Lane::Fast);
                quality_violations(&report.history, 60_000, 200, 55) > 0
            })
            .count()
    };
    let honest = failing(false);
    let selfish = failing(true);
    assert!(
        selfish >= 4,
        "chain quality caught {selfish} of 5 selfish runs"
    );
    assert!(
        honest <= 1,
        "chain quality failed {honest} of 5 honest runs"
    );
}
