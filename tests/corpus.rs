//! The corpus is part of the test suite: every scenario in `corpus/regressions/` must
//! pass and every one in `corpus/known-failures/` must fail with its recorded property.
//! A malformed file is reported with its name and field and does not stop the others.

use gauntlet::explore::corpus::{check_dir, corpus_files};
use std::path::Path;

fn check(dir: &str) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let results = check_dir(&dir);
    let failures: Vec<String> = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().err().cloned())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} corpus files failed:\n{}",
        failures.len(),
        results.len(),
        failures.join("\n")
    );
    results.len()
}

/// Every regression scenario still passes.
#[test]
fn regressions_pass() {
    assert!(
        check("corpus/regressions") > 0,
        "the regression corpus is empty"
    );
}

/// Every known failure still fails with its recorded property (so the harness still
/// catches each planted bug it once caught).
#[test]
fn known_failures_still_fail() {
    assert!(
        check("corpus/known-failures") > 0,
        "the known-failure corpus is empty"
    );
}

/// A malformed file (bad JSON field, invalid scenario) gives an error naming the file
/// and the field, and the good file beside it is still checked.
#[test]
fn malformed_corpus_files_are_named_and_do_not_stop_the_rest() {
    let dir = std::env::temp_dir().join(format!("gauntlet-corpus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let good = corpus_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/regressions"))
        .into_iter()
        .next()
        .expect("a regression to copy");
    let text = std::fs::read_to_string(&good).unwrap();
    std::fs::write(dir.join("b_good.json"), &text).unwrap();
    let mut bad: serde_json::Value = serde_json::from_str(&text).unwrap();
    bad["scenario"]["seed"] = serde_json::json!("not a number");
    std::fs::write(dir.join("a_bad_type.json"), bad.to_string()).unwrap();
    let mut invalid: serde_json::Value = serde_json::from_str(&text).unwrap();
    invalid["scenario"]["cluster"]["nodes"][0]["id"] = serde_json::json!(0);
    std::fs::write(dir.join("c_invalid.json"), invalid.to_string()).unwrap();
    std::fs::write(dir.join("d_truncated.json"), &text[..text.len() / 2]).unwrap();

    let results = check_dir(&dir);
    assert_eq!(results.len(), 4);
    let err = |i: usize| results[i].1.clone().unwrap_err();
    assert!(
        err(0).contains("a_bad_type.json") && err(0).contains("scenario.seed"),
        "{}",
        err(0)
    );
    assert!(
        results[1].1.is_ok(),
        "the good file is still checked: {:?}",
        results[1]
    );
    assert!(
        err(2).contains("c_invalid.json") && err(2).contains("cluster.nodes[0].id"),
        "{}",
        err(2)
    );
    assert!(err(3).contains("d_truncated.json"), "{}", err(3));
    std::fs::remove_dir_all(&dir).unwrap();
}
