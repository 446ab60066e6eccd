//! The command line as a user runs it: the promises of the README.

#[cfg(unix)]
use crate::support::signalled_after_first_line;
use crate::support::{gauntlet_out, run_gauntlet, TempDir};
use gauntlet::rng::run_seed;

/// `gauntlet run --seed 42 --trace` prints the identical output in two separate
/// processes, and its first line is the seed.
#[test]
fn run_trace_is_identical_across_processes() {
    let (code_a, a, _) = gauntlet_out(&["run", "--seed", "42", "--trace"]);
    let (code_b, b, _) = gauntlet_out(&["run", "--seed", "42", "--trace"]);
    assert_eq!(code_a, 0, "{a}");
    assert_eq!(code_b, 0);
    assert_eq!(a, b);
    assert!(a.starts_with("seed: 42\n"), "{a}");
    assert!(a.contains("trace:") && a.contains("all properties held"));
}

/// A short campaign prints its seed first, exits 0 on correct Paxos (the default
/// protocol), says it is the default campaign (guided search in the fast lane), and
/// reports runs per second and every coverage count.
#[test]
fn explore_prints_seed_table_and_exits_zero() {
    let failures = TempDir::new("cli-explore");
    let (code, out, _) = gauntlet_out(&[
        "explore",
        "--runs",
        "40",
        "--seed",
        "9",
        "--jobs",
        "2",
        "--failures-dir",
        failures.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("seed: 9\n"), "{out}");
    for needle in [
        "40 paxos runs in the Fast lane, guided search",
        "runs/s",
        "violations by property",
        "agreement",
        "coverage",
        "value_chosen",
    ] {
        assert!(out.contains(needle), "missing {needle}:\n{out}");
    }
}

/// A malformed scenario file is refused with exit code 4 and an error naming the file
/// and the field.
#[test]
fn bad_scenario_file_names_file_and_field() {
    let dir = TempDir::new("cli-bad-scenario");
    let path = dir.path().join("bad.json");
    let (_, printed, _) = gauntlet_out(&["run", "--seed", "1"]);
    let line = printed
        .lines()
        .nth(1)
        .and_then(|l| l.strip_prefix("scenario: "))
        .unwrap_or_else(|| panic!("the second line is the scenario:\n{printed}"));
    let mut scenario: serde_json::Value = serde_json::from_str(line).unwrap();
    scenario["workload"][0]["proposer"] = serde_json::json!(99);
    std::fs::write(&path, scenario.to_string()).unwrap();
    let out = run_gauntlet(&["run", "--scenario", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("bad.json") && stderr.contains("workload[0].proposer"),
        "{stderr}"
    );
}

/// `import-crash` rebuilds a scenario from fuzz bytes: a passing input is reported as
/// nothing to import (exit 0); a missing artifact is refused with its path (exit 4).
#[test]
fn import_crash_reads_fuzz_artifacts() {
    let dir = TempDir::new("cli-import");
    let ok = dir.path().join("ok");
    std::fs::write(&ok, 5u64.to_le_bytes()).unwrap();
    let failures = dir.path().join("failures");
    let (code, out, _) = gauntlet_out(&[
        "import-crash",
        ok.to_str().unwrap(),
        "--failures-dir",
        failures.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("nothing to import"), "{out}");
    let missing = dir.path().join("missing");
    let (code, _, err) = gauntlet_out(&["import-crash", missing.to_str().unwrap()]);
    assert_eq!(code, 4);
    assert!(err.contains(missing.to_str().unwrap()), "{err}");
}

/// The replay command a failing run prints starts with the program as invoked, so it
/// can be pasted as it is. The run is the first of fast-lane campaign seed 1 with
/// `acceptor_accepts_below_promise` planted, which fails at once (the budget table in
/// `tests/bugs.rs`).
#[test]
fn printed_replay_command_names_the_program_as_invoked() {
    let seed = run_seed(1, 0).to_string();
    let bug = "acceptor_accepts_below_promise";
    let (code, out, _) = gauntlet_out(&["run", "--seed", &seed, "--lane", "fast", "--bug", bug]);
    assert_eq!(code, 1, "{out}");
    let program = env!("CARGO_BIN_EXE_gauntlet");
    let expected = format!(
        "replay: {program} run --seed {seed} --protocol paxos --bug {bug} --lane fast --trace"
    );
    assert!(out.contains(&expected), "missing `{expected}`:\n{out}");
}

/// `--jobs 0` is a usage error (exit 2) naming the flag, for `explore` and `hunt`;
/// before, a campaign ran with "0 workers".
#[test]
fn zero_jobs_is_a_usage_error() {
    for command in ["explore", "hunt"] {
        let (code, out, err) = gauntlet_out(&[command, "--jobs", "0"]);
        assert_eq!(code, 2, "{command}: {out}{err}");
        assert!(
            err.contains("--jobs") && err.contains("jobs are 1 to"),
            "{command}: {err}"
        );
    }
}

/// `experiment --protocol` is checked before anything runs: an experiment that measures
/// one fixed protocol refuses the flag, and one that takes a choice names the choices
/// when given another (both usage errors, exit 2).
#[test]
fn experiment_protocol_is_checked() {
    let (code, out, err) = gauntlet_out(&["experiment", "fork-rate", "--protocol", "pbft"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("takes no --protocol"), "{err}");
    let (code, out, err) = gauntlet_out(&["experiment", "tight-bound", "--protocol", "paxos"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("pbft or generals") && err.contains("`paxos`"),
        "{err}"
    );
}

/// `replay` of a saved failure tells its three outcomes apart by exit code: failed as
/// recorded (the violation's own code, 1 for agreement), the same outcome with a
/// changed digest (5), and another outcome (6). Before, all three exited 1.
#[test]
fn replay_exit_codes_tell_outcomes_apart() {
    let dir = TempDir::new("cli-replay-codes");
    let kept =
        gauntlet::explore::corpus::corpus_files(&crate::support::repo("corpus/known-failures"))
            .into_iter()
            .find(|p| p.to_string_lossy().contains("paxos-agreement"))
            .expect("a kept agreement failure");
    let text = std::fs::read_to_string(&kept).unwrap();
    let (code, out, _) = gauntlet_out(&["replay", kept.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("digest matches"), "{out}");

    let mut entry: serde_json::Value = serde_json::from_str(&text).unwrap();
    entry["digest"] = "0000000000000000".into();
    let changed = dir.path().join("digest.json");
    std::fs::write(&changed, entry.to_string()).unwrap();
    let (code, out, _) = gauntlet_out(&["replay", changed.to_str().unwrap()]);
    assert_eq!(code, 5, "{out}");
    assert!(out.contains("DIGEST CHANGED"), "{out}");

    let mut entry: serde_json::Value = serde_json::from_str(&text).unwrap();
    entry["expect"] = serde_json::json!({"outcome": "pass"});
    let other = dir.path().join("outcome.json");
    std::fs::write(&other, entry.to_string()).unwrap();
    let (code, out, _) = gauntlet_out(&["replay", other.to_str().unwrap()]);
    assert_eq!(code, 6, "{out}");
    assert!(out.contains("NOT AS EXPECTED"), "{out}");
}

/// A campaign stopped by Ctrl-C (SIGINT) before its last run exits 130 and says it was
/// interrupted; before, a clean interrupted campaign exited 0 like a finished one.
#[cfg(unix)]
#[test]
fn interrupted_campaign_exits_130() {
    let failures = TempDir::new("cli-interrupt");
    let (first, code, rest) = signalled_after_first_line(
        &[
            "explore",
            "--runs",
            "100000000",
            "--seed",
            "3",
            "--jobs",
            "1",
            "--failures-dir",
            failures.path().to_str().unwrap(),
        ],
        libc::SIGINT,
    );
    assert!(first.starts_with("seed: 3"), "{first}");
    assert_eq!(code, Some(130), "{rest}");
    assert!(rest.contains("interrupted:"), "{rest}");
}

/// Ctrl-C during `hunt` ends the campaign running before its next run, starts no
/// more, still prints the table (counting only campaigns that ended, here none) and
/// exits 130. The campaign needs about a thousand turmoil runs (many seconds), so it
/// never ends first; the signal may land before it starts or inside it, so either no
/// campaign line or an "interrupted" one (the library tests in tests/bugs.rs pin each
/// case down).
#[cfg(unix)]
#[test]
fn interrupted_hunt_prints_what_ended_and_exits_130() {
    let (first, code, rest) = signalled_after_first_line(
        &[
            "hunt",
            "--bug",
            "acceptor_forgets_promise",
            "--lane",
            "turmoil",
            "--seeds",
            "2",
            "--runs-max",
            "100000",
            "--shrink-budget",
            "0",
        ],
        libc::SIGINT,
    );
    assert!(first.starts_with("hunt: 2 campaign seeds"), "{first}");
    assert_eq!(code, Some(130), "{rest}");
    let campaign_lines: Vec<&str> = rest
        .lines()
        .filter(|l| l.trim_start().starts_with("seed "))
        .collect();
    match campaign_lines.as_slice() {
        [] => {}
        [line] => {
            assert!(line.starts_with("  seed    1: interrupted after"), "{rest}");
            assert!(rest.contains("| - | - | 0/0 (1 interrupted) |"), "{rest}");
        }
        _ => panic!("only campaign 1 may have started: {rest}"),
    }
    assert!(rest.contains("interrupted: the table counts"), "{rest}");
}

/// `run --scenario FILE --reseeds N` on a kept failure that needs a lucky delivery
/// order: it prints the scenario's seed first, counts the runs that break the
/// property (some, not all: a race), exits 1, prints the same counts in a second
/// process, and the run seed it offers replays the violation alone with --run-seed.
#[test]
fn reseeds_count_a_race_failures_share_and_each_seed_replays() {
    let file = "corpus/known-failures/paxos-learner_integrity-learner_counts_duplicates-1ed4f236fe82ae4b.json";
    let args = [
        "run",
        "--scenario",
        file,
        "--reseeds",
        "300",
        "--lane",
        "fast",
    ];
    let (code, out, _) = gauntlet_out(&args);
    assert_eq!(code, 1, "{out}");
    let (_, again, _) = gauntlet_out(&args);
    assert_eq!(out, again, "reseeds differ across processes");
    assert!(out.starts_with("seed: 2221666834212630091\n"), "{out}");
    let number_after = |text: &str, prefix: &str| -> u64 {
        let rest = &text[text
            .find(prefix)
            .unwrap_or_else(|| panic!("no {prefix:?}: {text}"))
            + prefix.len()..];
        rest.split(' ').next().unwrap().parse().unwrap()
    };
    let broken = number_after(&out, "learner_integrity broken in ");
    let held = number_after(&out, "all properties held in ");
    assert!(broken > 0 && broken < 300, "a race, not a certainty: {out}");
    assert!(held > 0 && held + broken <= 300, "{out}");
    let replay = out
        .lines()
        .find_map(|l| l.strip_prefix("replay one: "))
        .unwrap_or_else(|| panic!("no replay line: {out}"));
    let run_seed = number_after(replay, "--run-seed ");
    let seed_text = run_seed.to_string();
    let (code, one, _) = gauntlet_out(&[
        "run",
        "--scenario",
        file,
        "--run-seed",
        &seed_text,
        "--lane",
        "fast",
    ]);
    assert_eq!(code, 1, "{one}");
    assert!(one.starts_with(&format!("seed: {run_seed}\n")), "{one}");
    assert!(one.contains("VIOLATION learner_integrity"), "{one}");
}

/// Reseeding a correct scenario (a kept regression) finds nothing: every property
/// holds in every run, and it exits 0; --reseeds refuses a generated --seed.
#[test]
fn reseeds_of_a_passing_scenario_all_hold() {
    let file = "corpus/regressions/paxos-pass-8ea13283e30aad68.json";
    let (code, out, _) = gauntlet_out(&[
        "run",
        "--scenario",
        file,
        "--reseeds",
        "40",
        "--lane",
        "fast",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("all properties held in 40 of 40 runs (100.0%)"),
        "{out}"
    );
    assert!(!out.contains("broken in"), "{out}");
    let (code, _, err) = gauntlet_out(&["run", "--seed", "3", "--reseeds", "4"]);
    assert_eq!(code, 2, "{err}");
}

/// Ctrl-C during `run --reseeds` stops it between runs: it still prints what the runs
/// played showed, says it was interrupted, and exits 130.
#[cfg(unix)]
#[test]
fn interrupted_reseeds_print_what_ran_and_exit_130() {
    let (first, code, rest) = signalled_after_first_line(
        &[
            "run",
            "--scenario",
            "corpus/regressions/paxos-pass-8ea13283e30aad68.json",
            "--reseeds",
            "1000000",
            "--lane",
            "turmoil",
        ],
        libc::SIGINT,
    );
    assert!(first.starts_with("seed: "), "{first}");
    assert_eq!(code, Some(130), "{rest}");
    assert!(rest.contains("interrupted after "), "{rest}");
    assert!(rest.contains("all properties held in "), "{rest}");
}
