//! `gauntlet check`: judge the histories a real cluster left behind with the same
//! checkers as a simulated run.

use super::history::{merge, read_history, BadHistory, Merged, HISTORY_FILES_MAX};
use crate::check::{check_run, Verdict};
use std::path::PathBuf;

/// Read, merge and judge the given history files (one per node).
pub fn check_files(paths: &[PathBuf]) -> Result<(Merged, Verdict), BadHistory> {
    if paths.len() > HISTORY_FILES_MAX {
        return Err(BadHistory {
            path: paths[HISTORY_FILES_MAX].clone(),
            line: None,
            reason: format!("more than {HISTORY_FILES_MAX} history files"),
        });
    }
    let histories = paths
        .iter()
        .map(|p| read_history(p))
        .collect::<Result<Vec<_>, _>>()?;
    let merged = merge(&histories)?;
    let verdict = check_run(&merged.history, &merged.roster);
    Ok((merged, verdict))
}
