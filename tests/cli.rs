//! The command line as a user runs it: the promises of the README.

use std::process::Command;

fn gauntlet(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(args)
        .output()
        .expect("gauntlet runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `gauntlet run --seed 42 --trace` prints the identical output in two separate
/// processes, and its first line is the seed.
#[test]
fn run_trace_is_identical_across_processes() {
    let (code_a, a) = gauntlet(&["run", "--seed", "42", "--trace"]);
    let (code_b, b) = gauntlet(&["run", "--seed", "42", "--trace"]);
    assert_eq!(code_a, 0, "{a}");
    assert_eq!(code_b, 0);
    assert_eq!(a, b);
    assert!(a.starts_with("seed: 42\n"), "{a}");
    assert!(a.contains("trace:") && a.contains("all properties held"));
}

/// A short campaign prints its seed first, exits 0 on correct Paxos, and reports
/// runs per second and every coverage count.
#[test]
fn explore_prints_seed_table_and_exits_zero() {
    let (code, out) = gauntlet(&["explore", "--runs", "40", "--seed", "9", "--jobs", "2"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("seed: 9\n"), "{out}");
    for needle in [
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
    let dir = std::env::temp_dir().join(format!("gauntlet-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.json");
    let mut scenario: serde_json::Value = serde_json::from_str(
        &gauntlet(&["run", "--seed", "1"]).1.lines().nth(1).unwrap()["scenario: ".len()..],
    )
    .unwrap();
    scenario["workload"][0]["proposer"] = serde_json::json!(99);
    std::fs::write(&path, scenario.to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["run", "--scenario", path.to_str().unwrap()])
        .output()
        .unwrap();
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
    let dir = std::env::temp_dir().join(format!("gauntlet-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ok = dir.join("ok");
    std::fs::write(&ok, 5u64.to_le_bytes()).unwrap();
    let (code, out) = gauntlet(&["import-crash", ok.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("nothing to import"), "{out}");
    let missing = dir.join("missing");
    let out = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["import-crash", missing.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing"));
}
