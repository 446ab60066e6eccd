//! The exhaustive lane from the command line: `check-model` proves a small correct
//! scope clean (exit 0, its state count printed), finds a planted bug (exit 1), saves
//! the path as an ordinary corpus file, and `replay` of that file fails the same
//! property in the fast lane.

use crate::support::{gauntlet_out, TempDir};

/// Correct Paxos, 3 acceptor-learners and one proposer, no faults: exhausted, clean,
/// with the state count the unit test pins.
#[test]
fn check_model_proves_a_small_scope_clean() {
    let (code, out, err) = gauntlet_out(&[
        "check-model",
        "--protocol",
        "paxos",
        "--nodes",
        "3",
        "--proposals",
        "1",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("bounds: drops 0, duplicates 0, crashes 0"),
        "{out}"
    );
    assert!(
        out.contains("9012 states, depth 19, every property held in this scope"),
        "{out}"
    );
}

/// A planted bug is found (exit 1), its path printed and saved; the saved file is a
/// fast-lane corpus entry that `replay` fails with the same property (exit 1).
#[test]
fn check_model_counterexample_replays_and_fails_the_same_way() {
    let failures = TempDir::new("model-failures");
    let dir = failures.path().to_str().unwrap();
    let (code, out, err) = gauntlet_out(&[
        "check-model",
        "--protocol",
        "paxos",
        "--bug",
        "learner_quorum_one_short",
        "--nodes",
        "3",
        "--proposals",
        "1",
        "--failures-dir",
        dir,
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("VIOLATION"), "{out}");
    assert!(out.contains("learner_integrity"), "{out}");
    let saved = out
        .lines()
        .find_map(|l| l.strip_prefix("saved: "))
        .unwrap_or_else(|| panic!("no saved file:\n{out}"))
        .to_string();
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(text.contains("\"type\": \"script\""), "{text}");
    assert!(text.contains("\"lane\": \"fast\""), "{text}");
    let (code, out, err) = gauntlet_out(&["replay", &saved]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("learner_integrity"), "{out}");
}
