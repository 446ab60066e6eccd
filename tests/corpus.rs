//! The corpus is part of the test suite: every scenario in `corpus/regressions/` must
//! pass and every one in `corpus/known-failures/` must fail with its recorded property,
//! each checked with the protocol its file names. A malformed file is reported with its
//! name and field and does not stop the others.

use crate::support::{lookup, repo, TempDir};
use gauntlet::explore::corpus::{check_dir, corpus_files};

fn check(dir: &str) -> usize {
    let results = check_dir(&repo(dir), &lookup);
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

/// Every kept check-model script (a `-fast.json` whose schedule is a `script`) plays
/// the same run in both lanes: the model's replay in the fast lane and the real node
/// shells following the script in the turmoil lane give the saved digest and fail
/// the recorded property, and the entry says turmoil reproduced it (so `replay` and
/// the corpus test above replay it there).
#[test]
fn kept_scripts_replay_alike_in_both_lanes() {
    use gauntlet::explore::corpus::{CorpusEntry, Expect};
    use gauntlet::explore::{run_and_check, Lane};
    let scripts: Vec<(String, CorpusEntry)> = corpus_files(&repo("corpus/known-failures"))
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with("-fast.json"))
        .map(|p| {
            let (entry, _) = CorpusEntry::load(&p, &lookup).unwrap_or_else(|e| panic!("{e}"));
            (p.display().to_string(), entry)
        })
        .filter(|(_, e)| e.scenario.faults.script().is_some())
        .collect();
    assert!(scripts.len() >= 2, "{} kept scripts", scripts.len());
    for (path, entry) in scripts {
        let protocol = lookup(&entry.scenario.protocol).unwrap();
        let Expect::Fail { property } = &entry.expect else {
            panic!("{path}: a known failure expects a failure");
        };
        assert_eq!(entry.reproduced_in_turmoil, Some(true), "{path}");
        for lane in [Lane::Fast, Lane::Turmoil] {
            let judged = run_and_check(protocol, lane, &entry.scenario);
            assert_eq!(
                format!("{:016x}", judged.trace.digest()),
                entry.digest,
                "{path} in {lane:?}"
            );
            assert!(judged.violates(property), "{path} in {lane:?}");
        }
    }
}

/// A malformed file (bad JSON field, invalid scenario, a protocol's bad parameter, an
/// old format) gives an error naming the file and the field, and the good file beside
/// it is still checked.
#[test]
fn malformed_corpus_files_are_named_and_do_not_stop_the_rest() {
    let dir = TempDir::new("corpus-malformed");
    let good = corpus_files(&repo("corpus/regressions"))
        .into_iter()
        .next()
        .expect("a regression to copy");
    let text = std::fs::read_to_string(&good).unwrap();
    let edited = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        f(&mut v);
        v.to_string()
    };
    let write = |name: &str, contents: &str| std::fs::write(dir.path().join(name), contents);
    write("b_good.json", &text).unwrap();
    write(
        "a_bad_type.json",
        &edited(&|v| v["scenario"]["seed"] = "not a number".into()),
    )
    .unwrap();
    write(
        "c_invalid.json",
        &edited(&|v| v["scenario"]["cluster"]["nodes"][0]["id"] = 0.into()),
    )
    .unwrap();
    write("d_truncated.json", &text[..text.len() / 2]).unwrap();
    write(
        "e_bad_params.json",
        &edited(&|v| v["scenario"]["params"]["timing"]["backoff_ms_min"] = (-1).into()),
    )
    .unwrap();
    write("f_format_1.json", &edited(&|v| v["format"] = 1.into())).unwrap();

    let results = check_dir(dir.path(), &lookup);
    assert_eq!(results.len(), 6);
    let err = |i: usize| results[i].1.clone().unwrap_err();
    let expect = [
        (0, "a_bad_type.json", "scenario.seed"),
        (2, "c_invalid.json", "scenario.cluster.nodes[0].id"),
        (
            4,
            "e_bad_params.json",
            "scenario.params.timing.backoff_ms_min",
        ),
        (5, "f_format_1.json", "format"),
    ];
    for (i, file, field) in expect {
        assert!(
            err(i).contains(file) && err(i).contains(&format!("field `{field}`")),
            "{}",
            err(i)
        );
    }
    assert!(
        results[1].1.is_ok(),
        "the good file is still checked: {:?}",
        results[1]
    );
    assert!(err(3).contains("d_truncated.json"), "{}", err(3));
}

/// `CorpusEntry::save` never claims a file it did not write: saving the same entry
/// twice finds it already saved; a different file under the entry's name is left
/// alone and the entry goes to `<name>-2.json`; a fast-lane find of the same seed gets
/// a name of its own. Before, `explore` printed `saved:` over a file of that name
/// with other contents, and a fast-lane failure file could take the turmoil-lane
/// file's name.
#[test]
fn save_never_claims_another_file() {
    use gauntlet::explore::corpus::CorpusEntry;
    use gauntlet::explore::Lane;
    let dir = TempDir::new("corpus-save");
    let path = corpus_files(&repo("corpus/known-failures"))
        .into_iter()
        .next()
        .expect("a kept failure");
    let (mut entry, _) = CorpusEntry::load(&path, &lookup).unwrap();
    entry.lane = Lane::Turmoil;
    let (first, new) = entry.save(dir.path()).unwrap();
    assert!(new);
    assert_eq!(entry.save(dir.path()).unwrap(), (first.clone(), false));
    std::fs::write(&first, "someone else's file\n").unwrap();
    let (second, new) = entry.save(dir.path()).unwrap();
    assert!(new && second != first, "{}", second.display());
    assert!(second.to_string_lossy().ends_with("-2.json"));
    assert_eq!(
        std::fs::read_to_string(&first).unwrap(),
        "someone else's file\n"
    );
    entry.lane = Lane::Fast;
    let (fast, new) = entry.save(dir.path()).unwrap();
    assert!(new && fast != first && fast != second, "{}", fast.display());
}
