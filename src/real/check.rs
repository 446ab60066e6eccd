//! `gauntlet check`: judge the histories a real cluster left behind with the
//! protocol's own properties, the judges a simulated run of it gets.

use super::config::real_scenario;
use super::history::{merge, read_history, BadHistory, Merged, HISTORY_FILES_MAX};
use crate::check::{judge, Verdict};
use crate::ids::NodeId;
use crate::protocol::{prepare, Protocol, RunSetup};
use std::path::PathBuf;

/// What `check` found, with the protocol's types rendered away: what the command line
/// prints.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    /// Events in the merged history (phase markers included).
    pub events: usize,
    /// The nodes a history file was given for.
    pub nodes: Vec<NodeId>,
    /// Cluster members with no history file, judged as silent.
    pub missing: Vec<NodeId>,
    pub verdict: Verdict,
    /// Each violation's witness events in the trace format, in the verdict's order.
    pub witnesses: Vec<String>,
}

/// Read, merge and judge the given history files (one per node) of `protocol`.
pub fn check_files<P: Protocol>(
    protocol: &P,
    paths: &[PathBuf],
) -> Result<CheckReport, BadHistory> {
    if paths.len() > HISTORY_FILES_MAX {
        return Err(BadHistory {
            path: paths[HISTORY_FILES_MAX].clone(),
            line: None,
            reason: format!("more than {HISTORY_FILES_MAX} history files"),
        });
    }
    let histories = paths
        .iter()
        .map(|p| read_history::<P::Core>(p, protocol.name()))
        .collect::<Result<Vec<_>, _>>()?;
    let merged = merge(&histories)?;
    let setup = setup_of(protocol, &merged, &paths[0])?;
    let verdict = judge(protocol, &setup, &merged.history);
    let witnesses = verdict
        .violations
        .iter()
        .map(|v| v.render_witness(&merged.history))
        .collect();
    Ok(CheckReport {
        events: merged.history.len(),
        nodes: merged.nodes,
        missing: merged.missing,
        verdict,
        witnesses,
    })
}

/// The setup the judges read, rebuilt from the headers: the cluster and parameters
/// every node ran with, and every bug any of them had switched on. Checked by the
/// protocol as a scenario is, so a header a node could not have run with is refused.
fn setup_of<P: Protocol>(
    protocol: &P,
    merged: &Merged<P::Core>,
    first: &std::path::Path,
) -> Result<RunSetup<P>, BadHistory> {
    let h = &merged.header;
    let scenario = real_scenario(&h.protocol, &h.cluster, &h.params, &merged.bugs);
    prepare(protocol, &scenario).map_err(|e| BadHistory {
        path: first.to_path_buf(),
        line: Some(1),
        reason: format!("the header's run cannot be judged: {e}"),
    })
}
