//! The exhaustive lane from the command line: `check-model` proves a small correct
//! scope clean (exit 0, its state count printed), finds a planted bug (exit 1), saves
//! the path as an ordinary corpus file, and `replay` of that file fails the same
//! property in either lane.

#[cfg(unix)]
use crate::support::signalled_after_first_line;
use crate::support::{gauntlet_out, TempDir};

/// The issue's "done when", first half, literally: `check-model --protocol paxos`
/// with no bounds (the default scope: 3 acceptor-learners and one proposer, no
/// faults) is exhausted clean, exit 0, with the state count the unit test pins: 1,613
/// with the default symmetry reduction (the three acceptor-learners interchangeable,
/// printed), 9,012 with `--no-symmetry`.
#[test]
fn check_model_proves_a_small_scope_clean() {
    let (code, out, err) = gauntlet_out(&["check-model", "--protocol", "paxos"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("bounds: drops 0, duplicates 0, crashes 0"),
        "{out}"
    );
    assert!(
        out.contains("symmetry: interchangeable {n1 n2 n3}"),
        "{out}"
    );
    assert!(
        out.contains("1613 states, depth 19, every property held in this scope"),
        "{out}"
    );
    let (code, out, err) = gauntlet_out(&["check-model", "--protocol", "paxos", "--no-symmetry"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("symmetry off"), "{out}");
    assert!(
        out.contains("9012 states, depth 19, every property held in this scope"),
        "{out}"
    );
}

/// A planted bug is found (exit 1), its path printed and saved; the saved file is a
/// fast-lane corpus entry that `replay` fails with the same property (exit 1). A bug
/// both the scenario and `--bug` name is planted and listed once.
#[test]
fn check_model_counterexample_replays_and_fails_the_same_way() {
    let failures = TempDir::new("model-failures");
    let dir = failures.path();
    // 3 acceptors, 2 proposers, one learner: where two ballots compete.
    let scope = dir.join("scope.json");
    std::fs::write(
        &scope,
        r#"{"seed": 1, "protocol": "paxos",
            "cluster": {"nodes": [{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}, {"id": 5}]},
            "workload": [{"proposer": 4, "value": "Value_A", "at_ms": 0},
                         {"proposer": 5, "value": "Value_B", "at_ms": 0}],
            "liveness_bound_ms": 2000,
            "params": {"acceptors": [1, 2, 3], "proposers": [4, 5], "learners": [1]},
            "bugs": ["ballots_not_unique"]}"#,
    )
    .unwrap();
    let (code, out, err) = gauntlet_out(&[
        "check-model",
        "--bug",
        "ballots_not_unique",
        "--scenario",
        scope.to_str().unwrap(),
        "--dfs",
        "--depth",
        "16",
        "--failures-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("bugs: ballots_not_unique, seed"), "{out}");
    assert!(
        out.contains("VIOLATION") && out.contains("agreement"),
        "{out}"
    );
    let saved = out
        .lines()
        .find_map(|l| l.strip_prefix("saved: "))
        .unwrap_or_else(|| panic!("no saved file:\n{out}"))
        .to_string();
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(text.contains("\"type\": \"script\""), "{text}");
    assert!(text.contains("\"lane\": \"fast\""), "{text}");
    assert!(
        out.contains("reproduced in the turmoil lane: yes"),
        "check-model confirms the script on the real node shells: {out}"
    );
    assert!(text.contains("\"reproduced_in_turmoil\": true"), "{text}");
    let (code, out, err) = gauntlet_out(&["replay", &saved]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("agreement"), "{out}");
    // Either lane on request, the same trace: the saved digest.
    for lane in ["fast", "turmoil"] {
        let (code, out, err) = gauntlet_out(&["replay", &saved, "--lane", lane]);
        assert_eq!(code, 1, "{out}{err}");
        assert!(out.contains(&format!("lane: {lane} (asked for)")), "{out}");
        assert!(out.contains("digest matches the saved failure"), "{out}");
    }
}

/// The new bounds are checked before any search: a crash or timer node outside the
/// cluster and a depth-first depth bound the visited set cannot hold are usage errors
/// (exit 2) that name the flag, among them a reserved visited set larger than the
/// memory bound.
#[test]
fn check_model_refuses_bad_bounds() {
    let (code, out, err) = gauntlet_out(&[
        "check-model",
        "--protocol",
        "paxos",
        "--crashes",
        "1",
        "--crash-nodes",
        "9",
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("--crash-nodes: n9 is not in the cluster"),
        "{err}"
    );
    let (code, out, err) = gauntlet_out(&[
        "check-model",
        "--protocol",
        "paxos",
        "--dfs",
        "--depth",
        "300",
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("--depth: at most 255 with --dfs"), "{err}");
    let (code, out, err) = gauntlet_out(&[
        "check-model",
        "--protocol",
        "paxos",
        "--reserve-states",
        "1000000000",
        "--memory-mb",
        "4096",
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(
            "--reserve-states 1000000000: the visited set for that many states takes 18432 MB"
        ),
        "{err}"
    );
}

/// A visited set reserved up front changes how memory is spent, not what is found:
/// the default scope reserved for 100,000 states is exhausted with the same 1,613
/// states as when the set grows, and the reservation is printed with the bounds.
#[test]
fn check_model_with_a_reserved_visited_set_counts_the_same_states() {
    let (code, out, err) = gauntlet_out(&[
        "check-model",
        "--protocol",
        "paxos",
        "--reserve-states",
        "100000",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("visited set reserved for 100000 states (1 MB)"),
        "{out}"
    );
    assert!(
        out.contains("1613 states, depth 19, every property held in this scope"),
        "{out}"
    );
}

/// Depth-first from the command line: the default scope is exhausted with the same
/// state count as breadth-first (1,613 with symmetry: n4 alone may crash, so the
/// three acceptor-learners stay interchangeable), and `--crash-nodes` shows in the printed bounds.
#[test]
fn check_model_depth_first_agrees_with_breadth_first() {
    let (code, out, err) = gauntlet_out(&[
        "check-model",
        "--protocol",
        "paxos",
        "--dfs",
        "--crashes",
        "0",
        "--crash-nodes",
        "4",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("crashes 0 (of n4)"), "{out}");
    assert!(
        out.contains("1613 states, depth 19, every property held in this scope"),
        "{out}"
    );
}

/// The issue's "done when", second half: `--bug proposer_forgets_round` exits 1,
/// saves the counterexample, and `replay` of it fails the same property. The
/// documented command searches the whole scope (3 acceptors, 2 proposers, learner n1,
/// one crash of n5, depth 22: 3.4 million states, about 45 s in release); this runs
/// the same command from a start, so CI can afford it: `--scenario` is that scope
/// with the first 15 steps of a 22-step counterexample the whole search found as its
/// script (n4's ballot 1.4 and n5's 1.5 both under way, no crash yet), and
/// `--start-steps 15` checks every continuation of them with one crash of n5 and 7
/// more steps. From the same start correct Paxos is clean (exit 0), so the crash and
/// the violation are the search's.
#[test]
fn check_model_finds_proposer_forgets_round_and_replay_fails_the_same_way() {
    let failures = TempDir::new("model-forgets-round");
    let dir = failures.path();
    let start = dir.join("start.json");
    std::fs::write(
        &start,
        r#"{"seed": 1, "protocol": "paxos",
            "cluster": {"nodes": [{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}, {"id": 5}]},
            "workload": [{"proposer": 4, "value": "Value_A", "at_ms": 0},
                         {"proposer": 5, "value": "Value_B", "at_ms": 0}],
            "liveness_bound_ms": 2000,
            "params": {"acceptors": [1, 2, 3], "proposers": [4, 5], "learners": [1]},
            "faults": [{"at_ms": 0, "type": "script", "steps": [
        {"do": "client_request", "node": 4},
        {"do": "deliver", "from": 4, "to": 2, "msg_id": 2},
        {"do": "deliver", "from": 2, "to": 4, "msg_id": 1},
        {"do": "deliver", "from": 4, "to": 1, "msg_id": 1},
        {"do": "deliver", "from": 1, "to": 4, "msg_id": 1},
        {"do": "client_request", "node": 5},
        {"do": "deliver", "from": 5, "to": 1, "msg_id": 1},
        {"do": "deliver", "from": 1, "to": 5, "msg_id": 2},
        {"do": "deliver", "from": 5, "to": 2, "msg_id": 2},
        {"do": "deliver", "from": 2, "to": 5, "msg_id": 2},
        {"do": "deliver", "from": 4, "to": 3, "msg_id": 6},
        {"do": "deliver", "from": 4, "to": 2, "msg_id": 5},
        {"do": "deliver", "from": 5, "to": 2, "msg_id": 5},
        {"do": "deliver", "from": 5, "to": 3, "msg_id": 3},
        {"do": "deliver", "from": 5, "to": 3, "msg_id": 6}
            ]}]}"#,
    )
    .unwrap();
    let search = |bugs: &[&str]| {
        let mut args = vec![
            "check-model",
            "--protocol",
            "paxos",
            "--scenario",
            start.to_str().unwrap(),
            "--start-steps",
            "15",
            "--crashes",
            "1",
            "--crash-nodes",
            "5",
            "--dfs",
            "--depth",
            "7",
            "--failures-dir",
            dir.to_str().unwrap(),
        ];
        for bug in bugs {
            args.extend(["--bug", bug]);
        }
        gauntlet_out(&args)
    };
    let (code, out, err) = search(&[]);
    assert_eq!(code, 0, "correct Paxos is clean from the start: {out}{err}");
    assert!(out.contains("from a start of 15 steps"), "{out}");
    let (code, out, err) = search(&["proposer_forgets_round"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("VIOLATION") && out.contains("agreement"),
        "{out}"
    );
    assert!(out.contains("crash n5"), "the path crashes n5: {out}");
    let saved = out
        .lines()
        .find_map(|l| l.strip_prefix("saved: "))
        .unwrap_or_else(|| panic!("no saved file:\n{out}"))
        .to_string();
    let (code, out, err) = gauntlet_out(&["replay", &saved]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("agreement"), "{out}");
}

/// `--start-steps` is refused where it cannot mean anything: more steps than the
/// scenario's script has (exit 2, naming the file and the flag).
#[test]
fn check_model_refuses_a_start_longer_than_the_script() {
    let dir = TempDir::new("model-start-refused");
    let start = dir.path().join("start.json");
    let kept: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            "corpus/known-failures/paxos-agreement-proposer_forgets_round-0000000000000001-fast.json",
        )
        .unwrap(),
    )
    .unwrap();
    std::fs::write(&start, kept["scenario"].to_string()).unwrap();
    let (code, out, err) = gauntlet_out(&[
        "check-model",
        "--scenario",
        start.to_str().unwrap(),
        "--start-steps",
        "99",
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("start.json: --start-steps: 99 is more than the script's 11 steps"),
        "{err}"
    );
}

/// A long search survives its process: stopped by its state bound with `--checkpoint`,
/// it saves the search, prints the command that goes on (this one with `--resume`),
/// and that command finishes the default scope with the 1,613 states an unbroken
/// search counts, saying where it resumed.
#[test]
fn check_model_checkpoint_and_resume_from_the_command_line() {
    let dir = TempDir::new("model-checkpoint");
    let file = dir.path().join("search.ckpt");
    let file = file.to_str().unwrap();
    let args = [
        "check-model",
        "--protocol",
        "paxos",
        "--dfs",
        "--checkpoint",
        file,
    ];
    let stopped: Vec<&str> = args
        .iter()
        .copied()
        .chain(["--states-max", "500"])
        .collect();
    let (code, out, err) = gauntlet_out(&stopped);
    assert_eq!(code, 4, "{out}{err}");
    assert!(
        out.contains(&format!("checkpoint saved at 500 states: {file}")),
        "{out}"
    );
    let go_on = out
        .lines()
        .find_map(|l| l.strip_prefix("go on: "))
        .unwrap_or_else(|| panic!("no command to go on with: {out}"));
    assert!(
        go_on.contains("check-model --protocol paxos --dfs --checkpoint")
            && go_on.ends_with("--states-max 500 --resume"),
        "{go_on}"
    );
    let resumed: Vec<&str> = args.iter().copied().chain(["--resume"]).collect();
    let (code, out, err) = gauntlet_out(&resumed);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("resuming from {file}")), "{out}");
    assert!(
        out.contains("resumed at 500 states; this process explored 1113 more"),
        "{out}"
    );
    assert!(
        out.contains("1613 states, depth 19, every property held in this scope"),
        "{out}"
    );
    // A breadth-first search has no path to save.
    let (code, _, err) = gauntlet_out(&["check-model", "--checkpoint", file]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--dfs"), "{err}");
}

/// SIGTERM, what a preempted batch job gets, stops a search with a checkpoint: the
/// process exits 130 saying it was interrupted and where it saved, and resuming
/// finishes the scope with the count of the unbroken search (443,324 states: 3
/// acceptor-learners, 2 proposers, one timer firing, depth 14; a few seconds, so the
/// signal lands well before the end even on a loaded machine).
#[cfg(unix)]
#[test]
fn check_model_stopped_by_sigterm_saves_a_checkpoint_and_resumes() {
    let dir = TempDir::new("model-sigterm");
    let file = dir.path().join("search.ckpt");
    let file = file.to_str().unwrap();
    let args = [
        "check-model",
        "--protocol",
        "paxos",
        "--proposals",
        "2",
        "--timeouts",
        "1",
        "--depth",
        "14",
        "--no-liveness",
        "--dfs",
        "--checkpoint",
        file,
    ];
    let (first, code, rest) = signalled_after_first_line(&args, libc::SIGTERM);
    assert!(first.starts_with("check-model paxos"), "{first}");
    assert_eq!(code, Some(130), "{rest}");
    assert!(rest.contains("interrupted after"), "{rest}");
    assert!(rest.contains(&format!("states: {file}")), "{rest}");
    let resumed: Vec<&str> = args.iter().copied().chain(["--resume"]).collect();
    let (code, out, err) = gauntlet_out(&resumed);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("443324 states, depth 14, every property held in this scope"),
        "{out}"
    );
}
