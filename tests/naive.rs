//! The naive vote, tested through the plug-in contract exactly as a user's protocol
//! would be: it converges on a quiet network in both lanes, `explore` finds it breaking
//! agreement under faults within a stated budget (the command line too, in the fast
//! lane, with a saved failure that replays), its shrunk counterexample replays byte for
//! byte, and Paxos, going through the same contract, passes the single-value shape's
//! generic judges as well as its own. That it replays exactly in both lanes is in
//! `tests/determinism.rs`.

use crate::support::{campaign, gauntlet_out, lookup, repo, run_typed, TempDir};
use gauntlet::check::judge;
use gauntlet::explore::corpus::{corpus_files, CorpusEntry, Expect};
use gauntlet::explore::{explore, run_and_check, AnyProtocol, CampaignConfig, Lane};
use gauntlet::fault::FaultSchedule;
use gauntlet::protocol::shapes::value::{decisions, judges};
use gauntlet::protocol::{Judging, Protocol, Verdict};
use gauntlet::protocols::naive::Naive;
use gauntlet::protocols::paxos::{lab, Paxos};
use gauntlet::scenario::Scenario;
use gauntlet::sim::RunEnd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

/// The shrunk counterexample `explore --protocol naive` found and `keep` saved.
const COUNTEREXAMPLE: &str = "corpus/known-failures/naive-agreement-ea8bbd50dcc507e4.json";

/// Runs a campaign may take to find the naive vote breaking agreement. About 4% of
/// generated turmoil-lane runs break it (`explore --protocol naive --runs 2000 --seed
/// 7`: 79), and the campaigns below first broke it at run 3 (base seed 1) and run 34
/// (base seed 2), re-measured after the one-contract refactor; the budget leaves room
/// for a changed fault generator.
const RUNS_BUDGET: u64 = 500;

/// On a quiet network the naive vote converges, in both lanes: for 100 generated
/// clusters with their faults removed, every property holds, the run settles, and
/// every node decides the highest proposed value. So every failure `explore` finds is
/// one a fault caused.
#[test]
fn converges_on_a_quiet_network() {
    for lane in [Lane::Turmoil, Lane::Fast] {
        for seed in 0..100 {
            let scenario = Scenario {
                faults: FaultSchedule::default(),
                ..AnyProtocol::generate(&Naive, seed)
            };
            let run = run_typed(&Naive, lane, &scenario);
            assert!(
                run.verdict.violations.is_empty(),
                "{lane:?} lane, seed {seed}: {:?}\nreplay: cargo run --release -- run --seed \
                 {seed} --protocol naive --lane {} --trace (the faults removed)",
                run.verdict.violations,
                format!("{lane:?}").to_lowercase()
            );
            assert_eq!(run.report.end, RunEnd::Settled, "{lane:?}, seed {seed}");
            let highest = scenario.workload.iter().map(|p| &p.value).max().unwrap();
            let decided = decisions(&run.report.history);
            assert_eq!(
                decided.len(),
                scenario.cluster.nodes.len(),
                "{lane:?}, seed {seed}"
            );
            assert!(
                decided.iter().all(|(_, _, v)| v == highest),
                "{lane:?}, seed {seed}: {decided:?}"
            );
        }
    }
}

/// `explore` finds the naive vote breaking agreement under faults within
/// [`RUNS_BUDGET`] runs, for each of two campaign seeds, stopping at the first safety
/// violation.
#[test]
fn explore_finds_agreement_broken_within_budget() {
    for base_seed in [1, 2] {
        explore_until_agreement_breaks(base_seed);
    }
}

fn explore_until_agreement_breaks(base_seed: u64) {
    let config = CampaignConfig {
        jobs: 1,
        lane: Lane::Turmoil,
        ..campaign(&Naive, &[], base_seed, RUNS_BUDGET)
    };
    let stop = AtomicBool::new(false);
    let summary = explore(&config, &stop, |_, failure| {
        if failure.is_some_and(|f| f.is_safety()) {
            stop.store(true, Ordering::Relaxed);
        }
    });
    let found = summary
        .failures
        .iter()
        .find(|f| f.is_safety())
        .unwrap_or_else(|| {
            panic!(
                "base seed {base_seed}: no safety violation in {} runs",
                summary.runs_done
            )
        });
    assert!(
        found.violations.iter().any(|v| v.property == "agreement"),
        "{:?}",
        found.violations
    );
    assert_eq!(summary.harness_errors, 0);
}

/// The kept counterexample replays exactly (same digest as when it was saved) and
/// breaks agreement with the two conflicting decisions as its witness; it is small:
/// three nodes and one fault event (a partition).
#[test]
fn counterexample_replays_exactly() {
    let (entry, protocol) =
        CorpusEntry::load(&repo(COUNTEREXAMPLE), &lookup).expect("the counterexample loads");
    assert_eq!(protocol.name(), "naive");
    assert_eq!(entry.scenario.protocol, "naive");
    assert_eq!(entry.scenario.cluster.nodes.len(), 3);
    assert_eq!(entry.scenario.faults.events.len(), 1);
    let judged = run_and_check(protocol, entry.replay_lane(), &entry.scenario);
    assert_eq!(format!("{:016x}", judged.trace.digest()), entry.digest);
    let v = judged
        .verdict
        .violations
        .iter()
        .find(|v| v.property == "agreement")
        .expect("agreement broken");
    let witness = judged.trace.render_witness(v);
    assert!(
        witness.contains("n1 DECIDE Value_E") && witness.contains("n4 DECIDE Value_D"),
        "{witness}"
    );
}

/// Paxos goes through the same contract: the typed run (`sim::run`) and the erased
/// one (`run_and_check`, what campaigns use) give the same trace, and on the lab runs
/// both the single-value shape's generic judges (a learner's `Learned` read as a
/// decision) and Paxos's own judges pass.
#[test]
fn paxos_through_the_contract_passes_the_generic_judges() {
    for workload in [
        &[('A', 0)][..],
        &[('A', 0), ('B', 1_000)],
        &[('A', 0), ('B', 0)],
    ] {
        let scenario = lab(42, workload);
        let setup = gauntlet::protocol::prepare(&Paxos, &scenario).unwrap();
        let report = gauntlet::sim::run(&Paxos, &scenario, Lane::Turmoil).unwrap();
        let erased = run_and_check(&Paxos, Lane::Turmoil, &scenario);
        assert_eq!(report.history.digest(), erased.trace.digest());
        let deciders = Protocol::deciders(&Paxos, &setup);
        let generic = Verdict::of(
            &judges::<Paxos>(),
            &Judging::new(&report.history, &setup, &deciders),
        );
        assert!(generic.is_ok(), "{:?}", generic.violations);
        assert!(
            generic.reached.contains(&"value_chosen"),
            "the generic judges see Paxos's decisions: {:?}",
            generic.reached
        );
        let own = judge(&Paxos, &setup, &report.history);
        assert!(own.is_ok(), "{:?}", own.violations);
        assert_eq!(own, erased.verdict);
    }
}

/// A scenario names its protocol (corpus format 2): a file without a `protocol` field
/// is refused, and so is an unknown protocol, each with the file and the field named;
/// a format 1 file (the field was optional then) is refused by its `format`.
#[test]
fn protocol_field_is_required_and_unknown_names_are_refused() {
    let value = serde_json::to_value(lab(1, &[('A', 0)])).unwrap();
    assert_eq!(value["protocol"], "paxos", "the protocol is written out");
    let entry = |scenario: serde_json::Value, format: u32| {
        serde_json::json!({
            "format": format, "gauntlet_version": "0", "expect": {"outcome": "pass"},
            "digest": "0", "scenario": scenario,
        })
    };
    let dir = TempDir::new("naive-protocol-field");
    let load = |name: &str, contents: serde_json::Value| {
        let path = dir.path().join(name);
        std::fs::write(&path, contents.to_string()).unwrap();
        CorpusEntry::load(&path, &lookup)
            .err()
            .unwrap_or_else(|| panic!("{name} is refused"))
            .to_string()
    };
    let mut raft = value.clone();
    raft["protocol"] = "raft".into();
    let err = load("raft.json", entry(raft, 2));
    assert!(
        err.contains("raft.json") && err.contains("scenario.protocol") && err.contains("raft"),
        "{err}"
    );
    let mut unnamed = value.clone();
    unnamed.as_object_mut().unwrap().remove("protocol");
    let err = load("unnamed.json", entry(unnamed, 2));
    assert!(
        err.contains("unnamed.json") && err.contains("protocol"),
        "{err}"
    );
    let err = load("old.json", entry(value, 1));
    assert!(
        err.contains("old.json") && err.contains("field `format`"),
        "{err}"
    );
}

/// The command line in the fast lane: `gauntlet explore --lane fast --protocol naive
/// --runs 2000 --seed 2` exits 1 (safety) and counts agreement violations; the failures
/// it saved replay with `gauntlet replay FILE`: the digest matches, the expectation is
/// met, and the exit code is 1 again. So does the kept counterexample. A planted Paxos
/// bug is refused for the naive vote as a usage error (exit 2).
#[test]
fn command_line_explores_and_replays_the_naive_vote() {
    let dir = TempDir::new("naive-cli");
    let (code, out, err) = gauntlet_out(&[
        "explore",
        "--lane",
        "fast",
        "--protocol",
        "naive",
        "--runs",
        "2000",
        "--seed",
        "2",
        "--failures-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("two values decided"), "{out}");
    let agreement_row = out
        .lines()
        .skip_while(|l| *l != "violations by property")
        .find(|l| l.split_whitespace().next() == Some("agreement"))
        .unwrap_or_else(|| panic!("no agreement row:\n{out}"));
    let count: u64 = agreement_row
        .split_whitespace()
        .last()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{agreement_row}"));
    assert!(count > 0, "{agreement_row}");
    assert!(out.contains("decision_integrity"), "{out}");

    // The failures saved as they were found, and the first one shrunk. A fast-lane
    // find is saved with whether the turmoil lane reproduced it, and replays in the
    // lane where it fails: replay one of each kind the campaign saved.
    let saved = corpus_files(dir.path());
    let entries: Vec<(PathBuf, CorpusEntry)> = saved
        .iter()
        .filter(|p| !p.to_string_lossy().ends_with(".shrunk.json"))
        .map(|p| (p.clone(), CorpusEntry::load(p, &lookup).unwrap().0))
        .filter(|(_, e)| {
            e.expect
                == Expect::Fail {
                    property: "agreement".into(),
                }
        })
        .collect();
    assert!(!entries.is_empty(), "no agreement failure saved: {saved:?}");
    assert!(entries.iter().all(|(_, e)| e.lane == Lane::Fast));
    let mut replayed: Vec<PathBuf> = [Lane::Turmoil, Lane::Fast]
        .iter()
        .filter_map(|lane| entries.iter().find(|(_, e)| e.replay_lane() == *lane))
        .map(|(p, _)| p.clone())
        .collect();
    let shrunk: Vec<&PathBuf> = saved
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".shrunk.json"))
        .collect();
    assert_eq!(shrunk.len(), 1, "the first failure is shrunk: {saved:?}");
    replayed.push(shrunk[0].clone());
    replayed.push(repo(COUNTEREXAMPLE));
    for file in &replayed {
        let (code, out, _) = gauntlet_out(&["replay", file.to_str().unwrap()]);
        assert_eq!(code, 1, "{}:\n{out}", file.display());
        assert!(
            out.contains("digest matches the saved failure"),
            "{}:\n{out}",
            file.display()
        );
        assert!(out.contains("as expected"), "{}:\n{out}", file.display());
    }

    let (code, _, err) = gauntlet_out(&[
        "run",
        "--seed",
        "1",
        "--protocol",
        "naive",
        "--bug",
        "acceptor_accepts_below_promise",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a planted bug of naive"), "{err}");
}
