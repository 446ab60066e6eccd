//! The corpus: failing and regression scenarios saved as JSON files, each with what it
//! is expected to do. `explore` writes a failure to `corpus/failures/` the moment it is
//! found; `keep` promotes one to `corpus/regressions/` (must pass) or
//! `corpus/known-failures/` (must fail with the recorded property); `cargo test`
//! replays both directories.

use super::{Judged, ProtocolRef};
use crate::scenario::{Scenario, ScenarioError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Version of the corpus file format. Format 2: protocol-neutral scenarios (roles and
/// timing moved into the protocol's `params` section, `protocol` always named).
pub const FORMAT: u32 = 2;
/// Largest corpus file accepted.
pub const FILE_BYTES_MAX: u64 = 16 * 1024 * 1024;
/// Witness events kept in a saved file (the full trace is one `replay` away).
const WITNESS_LINES_MAX: usize = 64;

/// What replaying a corpus entry must give.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case", deny_unknown_fields)]
pub enum Expect {
    /// Every property holds.
    Pass,
    /// This property is violated.
    Fail { property: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusEntry {
    pub format: u32,
    pub gauntlet_version: String,
    pub expect: Expect,
    /// One line per violation found when the entry was saved.
    #[serde(default)]
    pub violations: Vec<String>,
    /// The first violation's witness events, rendered.
    #[serde(default)]
    pub witness: Vec<String>,
    /// The trace digest when saved, in hex, from the lane `replay` re-runs (see
    /// [`CorpusEntry::replay_lane`]): a replay that differs means the code changed.
    pub digest: String,
    /// The lane that found it.
    #[serde(default)]
    pub lane: super::Lane,
    /// For a fast-lane find: whether the turmoil lane reproduced the same property.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reproduced_in_turmoil: Option<bool>,
    pub scenario: Scenario,
}

#[derive(Debug, Error)]
pub enum CorpusError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: field `{field}`: {reason}")]
    Invalid {
        path: PathBuf,
        field: String,
        reason: String,
    },
}

impl CorpusEntry {
    /// The entry for a judged run: expect it to fail with its first violated property,
    /// or to pass if nothing was violated.
    pub fn from_judged(scenario: &Scenario, judged: &Judged) -> Self {
        let trace = &judged.trace;
        let first = judged.verdict.violations.first();
        CorpusEntry {
            format: FORMAT,
            gauntlet_version: env!("CARGO_PKG_VERSION").to_string(),
            expect: match first {
                Some(v) => Expect::Fail {
                    property: v.property.to_string(),
                },
                None => Expect::Pass,
            },
            violations: judged
                .verdict
                .violations
                .iter()
                .map(|v| v.to_string())
                .collect(),
            witness: first
                .map(|v| {
                    v.witness
                        .iter()
                        .take(WITNESS_LINES_MAX)
                        .filter_map(|&i| trace.line(i).map(|line| format!("{i:>5} {line}")))
                        .collect()
                })
                .unwrap_or_default(),
            digest: format!("{:016x}", trace.digest()),
            lane: super::Lane::Turmoil,
            reproduced_in_turmoil: None,
            scenario: scenario.clone(),
        }
    }

    /// The lane this entry is replayed and checked in: the turmoil lane (the
    /// reference), except for a fast-lane find the turmoil lane did not reproduce,
    /// which is replayed where it fails. Such an entry still names a real bug in the
    /// cores (the fast lane drives the same cores); the turmoil lane's different
    /// latencies just do not hit the same race.
    pub fn replay_lane(&self) -> super::Lane {
        if self.lane == super::Lane::Fast && self.reproduced_in_turmoil == Some(false) {
            super::Lane::Fast
        } else {
            super::Lane::Turmoil
        }
    }

    /// A stable file name: the same failure (protocol, property, seed, bugs) always
    /// maps to the same name, so re-finding it never duplicates it.
    pub fn file_name(&self) -> String {
        let what = match &self.expect {
            Expect::Pass => "pass".to_string(),
            Expect::Fail { property } => property.clone(),
        };
        let bugs = if self.scenario.bugs.is_empty() {
            String::new()
        } else {
            format!("-{}", self.scenario.bugs.join("+"))
        };
        let protocol = &self.scenario.protocol;
        // A fast-lane find is named apart from the turmoil lane's of the same seed.
        let lane = match self.lane {
            super::Lane::Fast => "-fast",
            super::Lane::Turmoil => "",
        };
        format!(
            "{protocol}-{what}{bugs}-{:016x}{lane}.json",
            self.scenario.seed
        )
    }

    /// Load a corpus file and check its scenario against the protocol it names, found
    /// by `lookup`. Errors name the file and the field.
    pub fn load(
        path: &Path,
        lookup: &dyn Fn(&str) -> Option<ProtocolRef>,
    ) -> Result<(Self, ProtocolRef), CorpusError> {
        let io = |source| CorpusError::Io {
            path: path.to_path_buf(),
            source,
        };
        let text = crate::storage::read_text_bounded(path, FILE_BYTES_MAX).map_err(io)?;
        let de = &mut serde_json::Deserializer::from_str(&text);
        let entry: CorpusEntry =
            serde_path_to_error::deserialize(de).map_err(|e| CorpusError::Invalid {
                path: path.to_path_buf(),
                field: e.path().to_string(),
                reason: e.inner().to_string(),
            })?;
        if entry.format != FORMAT {
            return Err(CorpusError::Invalid {
                path: path.to_path_buf(),
                field: "format".into(),
                reason: format!("format {} is not {FORMAT}", entry.format),
            });
        }
        let invalid = |ScenarioError { field, reason }| CorpusError::Invalid {
            path: path.to_path_buf(),
            field: format!("scenario.{field}"),
            reason,
        };
        let protocol = lookup(&entry.scenario.protocol).ok_or_else(|| {
            invalid(ScenarioError::new(
                "protocol",
                format!("`{}` is not a known protocol", entry.scenario.protocol),
            ))
        })?;
        protocol.check(&entry.scenario).map_err(invalid)?;
        Ok((entry, protocol))
    }

    /// Write to `dir/<file_name>` atomically (temp file, then rename). A file of that
    /// name with the same text is this entry, already saved: returned with `false`. A
    /// file of that name with other text is never overwritten nor claimed: the entry
    /// goes to the first free `<name>-2.json`, `<name>-3.json`, ... instead. Returns
    /// the path and whether it was newly written.
    pub fn save(&self, dir: &Path) -> Result<(PathBuf, bool), CorpusError> {
        let mut text = serde_json::to_string_pretty(self).expect("entries serialize");
        text.push('\n');
        let name = self.file_name();
        let stem = name.strip_suffix(".json").unwrap_or(&name);
        for n in 1..=SAVE_NAMES_MAX {
            let file = if n == 1 {
                name.clone()
            } else {
                format!("{stem}-{n}.json")
            };
            let path = dir.join(&file);
            let io = |source| CorpusError::Io {
                path: path.clone(),
                source,
            };
            if path.exists() {
                if std::fs::read_to_string(&path).is_ok_and(|old| old == text) {
                    return Ok((path, false));
                }
                continue;
            }
            std::fs::create_dir_all(dir).map_err(io)?;
            let tmp = dir.join(format!(".{file}.tmp"));
            std::fs::write(&tmp, &text).map_err(io)?;
            std::fs::rename(&tmp, &path).map_err(io)?;
            return Ok((path, true));
        }
        Err(CorpusError::Invalid {
            path: dir.join(&name),
            field: "(file)".into(),
            reason: format!("{SAVE_NAMES_MAX} files of this name with other contents exist"),
        })
    }
}

impl CorpusEntry {
    /// Read a corpus file as it is, without checking its scenario against a protocol
    /// (a campaign updating a file it wrote itself).
    pub fn read(path: &Path) -> Result<Self, CorpusError> {
        let text = crate::storage::read_text_bounded(path, FILE_BYTES_MAX).map_err(|source| {
            CorpusError::Io {
                path: path.to_path_buf(),
                source,
            }
        })?;
        serde_json::from_str(&text).map_err(|e| CorpusError::Invalid {
            path: path.to_path_buf(),
            field: "(file)".into(),
            reason: e.to_string(),
        })
    }

    /// Replace the file at `path` with this entry, atomically (temp file, rename).
    pub fn rewrite(&self, path: &Path) -> Result<(), CorpusError> {
        let io = |source| CorpusError::Io {
            path: path.to_path_buf(),
            source,
        };
        let name = path
            .file_name()
            .map_or("entry".into(), |n| n.to_string_lossy());
        let tmp = path.with_file_name(format!(".{name}.tmp"));
        let mut text = serde_json::to_string_pretty(self).expect("entries serialize");
        text.push('\n');
        std::fs::write(&tmp, text).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }
}

/// Most numbered variants of one file name [`CorpusEntry::save`] tries.
const SAVE_NAMES_MAX: u32 = 100;

/// Every `*.json` file directly in `dir`, sorted by name (empty if `dir` is missing).
pub fn corpus_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// Whether a replay's verdict matches the entry's expectation; the error says how not.
pub fn meets_expectation(entry: &CorpusEntry, judged: &Judged) -> Result<(), String> {
    let violated: Vec<&str> = judged
        .verdict
        .violations
        .iter()
        .map(|v| v.property)
        .collect();
    match &entry.expect {
        Expect::Pass if violated.is_empty() => Ok(()),
        Expect::Pass => Err(format!(
            "expected to pass, but violated {}",
            violated.join(", ")
        )),
        Expect::Fail { property } if violated.contains(&property.as_str()) => Ok(()),
        Expect::Fail { property } => Err(if violated.is_empty() {
            format!("expected {property} to fail, but every property held")
        } else {
            format!(
                "expected {property} to fail, but violated {}",
                violated.join(", ")
            )
        }),
    }
}

/// The verdict on one corpus file: `Err` says why it failed (load error naming the
/// file and field, or an unmet expectation), prefixed with the file's path.
pub fn check_file(path: &Path, lookup: &dyn Fn(&str) -> Option<ProtocolRef>) -> Result<(), String> {
    let (entry, protocol) = CorpusEntry::load(path, lookup).map_err(|e| e.to_string())?;
    let judged = super::run_and_check(protocol, entry.replay_lane(), &entry.scenario);
    meets_expectation(&entry, &judged).map_err(|why| {
        format!(
            "{}: {why}\n  replay: gauntlet replay {}",
            path.display(),
            path.display()
        )
    })
}

/// Check every file of a corpus directory; one bad file does not stop the others.
pub fn check_dir(
    dir: &Path,
    lookup: &dyn Fn(&str) -> Option<ProtocolRef>,
) -> Vec<(PathBuf, Result<(), String>)> {
    corpus_files(dir)
        .into_iter()
        .map(|path| {
            let verdict = check_file(&path, lookup);
            (path, verdict)
        })
        .collect()
}

/// Check a whole corpus (`<root>/regressions` and `<root>/known-failures`) against
/// `protocols` in one call: the line a user's `cargo test` needs to keep every saved
/// failure replaying. `Ok(n)`: all `n` files met their expectation; `Err` lists every
/// file that did not, each with why and the command that replays it.
pub fn check_corpus(protocols: &[ProtocolRef], root: &Path) -> Result<usize, String> {
    let lookup = |name: &str| protocols.iter().copied().find(|p| p.name() == name);
    let mut checked = 0;
    let mut failed = Vec::new();
    for dir in ["regressions", "known-failures"] {
        for (_, verdict) in check_dir(&root.join(dir), &lookup) {
            checked += 1;
            if let Err(why) = verdict {
                failed.push(why);
            }
        }
    }
    if failed.is_empty() {
        Ok(checked)
    } else {
        Err(format!(
            "{} of {checked} corpus files failed:\n{}",
            failed.len(),
            failed.join("\n")
        ))
    }
}
