//! `gauntlet check`: judge the histories a real cluster left behind with the
//! protocol's own properties, the judges a simulated run of it gets.

use super::config::real_scenario;
use super::history::{merge, read_history, BadHistory, Merged, HISTORY_FILES_MAX};
use crate::check::{judge, Verdict};
use crate::ids::NodeId;
use crate::protocol::{prepare, Evidence, Expectation, Judge, Protocol, RunSetup, Violation};
use std::path::PathBuf;

/// What `check` found, with the protocol's types rendered away: what the command line
/// prints.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    /// Events in the merged history (phase markers included).
    pub events: usize,
    /// The nodes a history file was given for.
    pub nodes: Vec<NodeId>,
    /// Cluster members with no history file that some given history heard from.
    pub missing: Vec<NodeId>,
    /// Cluster members with no history file that no given history heard from, judged
    /// as nodes that never ran.
    pub unheard: Vec<NodeId>,
    /// Safety and liveness properties that could not be judged because `missing` is not
    /// empty ([`Evidence::EveryNode`]), in the protocol's order, each with what the
    /// given histories alone seemed to show. Their violations are not in `verdict`.
    pub unjudged: Vec<Unjudged>,
    pub verdict: Verdict,
    /// Each violation's witness events in the trace format, in the verdict's order.
    pub witnesses: Vec<String>,
}

/// A property `check` could not judge without the missing nodes' histories.
#[derive(Debug, Clone, PartialEq)]
pub struct Unjudged {
    pub property: &'static str,
    /// The violations the given histories alone show: possibly real, possibly made by
    /// the missing history (a proposal or a decision that is in it).
    pub apparent: Vec<Violation>,
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
    let mut verdict = judge(protocol, &setup, &merged.history);
    let unjudged = if merged.missing.is_empty() {
        Vec::new()
    } else {
        set_aside_unjudged(&protocol.properties(), &mut verdict)
    };
    let witnesses = verdict
        .violations
        .iter()
        .map(|v| v.render_witness(&merged.history))
        .collect();
    Ok(CheckReport {
        events: merged.history.len(),
        nodes: merged.nodes,
        missing: merged.missing,
        unheard: merged.unheard,
        unjudged,
        verdict,
        witnesses,
    })
}

/// Take out of `verdict` the properties that need every node's history, with the
/// violations they showed, so no missing file can fake a violation (or a pass).
fn set_aside_unjudged<P: Protocol>(judges: &[Judge<P>], verdict: &mut Verdict) -> Vec<Unjudged> {
    let needs_every_node = judges.iter().filter(|j| {
        j.property.expectation != Expectation::Sometimes && j.evidence == Evidence::EveryNode
    });
    let unjudged: Vec<Unjudged> = needs_every_node
        .map(|j| Unjudged {
            property: j.property.name,
            apparent: verdict
                .violations
                .iter()
                .filter(|v| v.property == j.property.name)
                .cloned()
                .collect(),
        })
        .collect();
    verdict
        .violations
        .retain(|v| !unjudged.iter().any(|u| u.property == v.property));
    unjudged
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
