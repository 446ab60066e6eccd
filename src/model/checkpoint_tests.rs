//! Unit tests of checkpoints: a depth-first search stopped and resumed, once or many
//! times, is the search that was never stopped; a file that does not belong to the
//! scope, or is damaged, is refused with its name and the field.

use super::checkpoint::{self, Checkpointing};
use super::*;
use crate::protocol::prepare;
use crate::protocols::paxos::Paxos;
use std::path::{Path, PathBuf};

fn setup(servers: u16, clients: u16, bugs: &[&str]) -> RunSetup<Paxos> {
    let bugs = bugs.iter().map(|b| b.to_string()).collect();
    prepare(&Paxos, &scope_scenario(&Paxos, servers, clients, bugs)).expect("a valid scope")
}

fn temp_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "gauntlet-model-checkpoint-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("search.ckpt")
}

fn dfs(setup: &RunSetup<Paxos>, bounds: &Bounds) -> Result<Outcome, String> {
    check(&Paxos, setup, bounds, Order::Dfs, &mut |_| {})
}

/// Everything a search counts, as one comparable value.
fn counts(o: &Outcome) -> [u64; 7] {
    [
        o.states,
        o.transitions,
        u64::from(o.depth),
        o.depth_cut,
        o.reexpanded,
        o.liveness_checked,
        o.healed,
    ]
}

fn saving(bounds: &Bounds, path: &Path, every_states: u64, resume: bool) -> Bounds {
    Bounds {
        checkpoint: Some(Checkpointing {
            path: path.to_path_buf(),
            every_states,
            resume,
        }),
        ..bounds.clone()
    }
}

/// Run `bounds`' search in hops: stopped by the state bound at each of `stops` in
/// turn, each hop resuming from the last one's checkpoint (written every
/// `every_states` and at the stop), then resumed to the end.
fn in_hops(
    setup: &RunSetup<Paxos>,
    bounds: &Bounds,
    path: &Path,
    stops: &[u64],
    every_states: u64,
) -> Outcome {
    let _ = std::fs::remove_file(path);
    for (i, &stop) in stops.iter().enumerate() {
        let hop = Bounds {
            states_max: stop,
            ..saving(bounds, path, every_states, i > 0)
        };
        let outcome = dfs(setup, &hop).expect("no harness error");
        assert!(outcome.found.is_none(), "stopped before the end");
        let why = outcome
            .stopped
            .as_deref()
            .expect("the state bound stops it");
        assert!(why.starts_with("stopped: state bound"), "{why}");
        assert_eq!(outcome.checkpoint_states, Some(outcome.states));
        assert!(
            outcome.states >= stop && outcome.states < stop + 2,
            "{}",
            outcome.states
        );
    }
    dfs(
        setup,
        &saving(bounds, path, every_states, !stops.is_empty()),
    )
    .expect("no harness error")
}

/// A search stopped by its state bound and resumed from its checkpoint, in one hop or
/// three, with checkpoints written along the way or only at the stop, reaches exactly
/// the counts of the search that ran through: the same states, transitions, depth
/// cuts, liveness checks and healed prefixes. In the model's successor order and in a
/// seeded one (whose stream position the checkpoint carries: resumed without it, the
/// order after the resume would differ and so would the transitions counted before
/// each state is first met), with liveness checked and without.
#[test]
fn a_search_stopped_and_resumed_counts_what_an_unbroken_one_does() {
    let two_proposers = setup(3, 2, &[]);
    let one_proposer = setup(3, 1, &[]);
    let retries = Bounds {
        timeouts: 1,
        depth: 12,
        liveness: false,
        ..Bounds::default()
    };
    let cases: [(&str, &RunSetup<Paxos>, Bounds); 3] = [
        ("3+2 timer", &two_proposers, retries.clone()),
        (
            "3+2 timer, seeded order",
            &two_proposers,
            Bounds {
                order_seed: Some(7),
                ..retries
            },
        ),
        ("3+1 liveness", &one_proposer, Bounds::default()),
    ];
    for (name, setup, bounds) in cases {
        let whole = dfs(setup, &bounds).expect("no harness error");
        assert!(whole.found.is_none() && whole.stopped.is_none(), "{name}");
        let n = whole.states;
        assert!(
            n > 1_000,
            "{name}: {n} states is too small a scope to test hops"
        );
        let path = temp_file(&name.replace([' ', ',', '+'], "-"));
        for (stops, every) in [
            (vec![n / 2], u64::MAX),
            (vec![1, n / 3, 2 * n / 3], n / 7),
            (vec![n - 1], 10),
        ] {
            let resumed = in_hops(setup, &bounds, &path, &stops, every);
            assert!(
                resumed.found.is_none() && resumed.stopped.is_none(),
                "{name}"
            );
            assert_eq!(
                counts(&resumed),
                counts(&whole),
                "{name}: stops {stops:?}, a checkpoint every {every} states"
            );
            assert_eq!(resumed.resumed_states, *stops.last().unwrap(), "{name}");
        }
    }
}

/// A search that meets a violation after a resume reports the violation, and the
/// path to it, that the unbroken search does.
#[test]
fn a_resumed_search_finds_the_same_counterexample() {
    let setup = setup(3, 2, &["ballots_not_unique"]);
    let bounds = Bounds {
        depth: 24,
        liveness: false,
        ..Bounds::default()
    };
    let whole = dfs(&setup, &bounds).expect("no harness error");
    let found = whole.found.as_ref().expect("ballots_not_unique is found");
    let path = temp_file("found");
    let resumed = in_hops(&setup, &bounds, &path, &[whole.states / 2], u64::MAX);
    let again = resumed
        .found
        .as_ref()
        .expect("found again after the resume");
    assert_eq!(again.violation.property, found.violation.property);
    assert_eq!(again.steps, found.steps);
    assert_eq!(counts(&resumed), counts(&whole));
}

/// Ctrl-C (the stop signal) ends the search at its next state, marked interrupted,
/// with a checkpoint saved there; resuming from it finishes the scope with the counts
/// of an unbroken search.
#[test]
fn an_interrupted_search_saves_a_checkpoint_to_go_on_from() {
    let setup = setup(3, 1, &[]);
    let whole = dfs(&setup, &Bounds::default()).expect("no harness error");
    let path = temp_file("interrupted");
    let interrupted = saving(&Bounds::default(), &path, u64::MAX, false);
    interrupted.stop.request();
    let outcome = dfs(&setup, &interrupted).expect("no harness error");
    assert!(outcome.interrupted);
    let why = outcome.stopped.as_deref().expect("stopped");
    assert!(why.starts_with("interrupted after 2 states"), "{why}");
    assert_eq!(outcome.checkpoint_states, Some(2));
    let resumed =
        dfs(&setup, &saving(&Bounds::default(), &path, u64::MAX, true)).expect("no harness error");
    assert!(!resumed.interrupted);
    assert_eq!(counts(&resumed), counts(&whole));
}

/// A checkpoint is refused, with its file name and the field, when it was written
/// for another scope (bounds or scenario), by a build that fingerprints states
/// differently (a path state's key differs), or is damaged (cut short, a bit flipped
/// in its entries or its checksum, not a checkpoint at all); and depth-first search
/// is the only order that takes one.
#[test]
fn a_checkpoint_that_does_not_fit_is_refused_naming_the_file_and_field() {
    let setup = setup(3, 1, &[]);
    let path = temp_file("refused");
    let bounds = Bounds {
        states_max: 500,
        ..saving(&Bounds::default(), &path, u64::MAX, false)
    };
    dfs(&setup, &bounds).expect("no harness error");
    let good = std::fs::read(&path).unwrap();
    let resume = saving(&Bounds::default(), &path, u64::MAX, true);
    let refused = |setup: &RunSetup<Paxos>, bounds: &Bounds, bytes: &[u8]| -> String {
        std::fs::write(&path, bytes).unwrap();
        let err = dfs(setup, bounds).expect_err("refused");
        assert!(err.starts_with(&path.display().to_string()), "{err}");
        err
    };

    let deeper = Bounds {
        depth: 65,
        ..resume.clone()
    };
    let err = refused(&setup, &deeper, &good);
    assert!(
        err.contains("field scope.bounds") && err.contains("depth 65"),
        "{err}"
    );

    let buggy = self::setup(3, 1, &["ballots_not_unique"]);
    let err = refused(&buggy, &resume, &good);
    assert!(err.contains("field scope.scenario.bugs"), "{err}");

    let err = refused(&setup, &resume, &good[..good.len() - 100]);
    assert!(err.contains("cut short"), "{err}");

    let mut flipped = good.clone();
    let mid = good.len() - 8 - 40;
    flipped[mid] ^= 0x10;
    let err = refused(&setup, &resume, &flipped);
    assert!(err.contains("checksum") || err.contains("repeats"), "{err}");

    let mut bad_sum = good.clone();
    *bad_sum.last_mut().unwrap() ^= 1;
    let err = refused(&setup, &resume, &bad_sum);
    assert!(err.contains("field checksum"), "{err}");

    let err = refused(&setup, &resume, b"{\"not\": \"a checkpoint\"}");
    assert!(err.contains("not a gauntlet model checkpoint"), "{err}");

    // Another build: the path's second state fingerprints differently.
    std::fs::write(&path, &good).unwrap();
    let (mut header, visited) = checkpoint::load(&path, &scope_of(&setup), 0, u64::MAX).unwrap();
    assert!(header.frames.len() > 2, "a path to rebuild");
    header.frames[1].key ^= 1 << 8;
    checkpoint::save(&path, &header, &visited).unwrap();
    let err = dfs(&setup, &resume).expect_err("refused");
    assert!(err.contains("field frames[1].key"), "{err}");

    let err = check(&Paxos, &setup, &resume, Order::Bfs, &mut |_| {}).expect_err("refused");
    assert!(err.contains("depth-first search only"), "{err}");
}

/// The scope a default-bounds search of `setup` writes into its checkpoints.
fn scope_of(setup: &RunSetup<Paxos>) -> checkpoint::Scope {
    checkpoint::Scope {
        protocol: "paxos".to_string(),
        scenario: serde_json::to_value(&setup.scenario).unwrap(),
        bounds: Bounds::default().to_string(),
        start: Vec::new(),
    }
}
