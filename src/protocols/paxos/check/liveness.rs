//! The `Eventually` property: once the faults heal, every learner learns, and every
//! proposer that took a client value finishes (decides or gives up), so the client gets
//! its answer. A proposer stuck retrying forever is a liveness failure even when the
//! learners learned from somebody else.
//!
//! Liveness is only meaningful for a run that reached its liveness phase (faults
//! healed, crashed nodes restarted, a time bound stated). A run cut short in the safety
//! phase says nothing about progress, so it is not judged at all rather than failed.

use super::History;
use super::{node_list, Roster, Violation, LIVENESS};
use crate::history::{EventKind, Phase};
use crate::ids::NodeId;
use crate::protocols::paxos::Note;
use std::collections::BTreeSet;

/// Reports one violation naming every roster learner that never recorded a `Learned`
/// note, if the history has a liveness phase. A learn from the safety phase counts:
/// the property is that everybody knows the decision by the end, not that they learn
/// it again after the heal. So does a restart that recovered a learned value from disk:
/// a real process killed (kill -9) after persisting its learn but before recording the
/// note knows the decision all the same (in the simulation a crash cannot fall there).
///
/// The violation is dated at the run's end (the last event, normally `RunEnded`),
/// because that is when the bound ran out; its witness is the phase start and the run
/// end, which delimit the window in which progress was owed.
pub fn check_liveness(history: &History, roster: &Roster) -> Vec<Violation> {
    let Some(phase_index) = history.events.iter().position(|e| {
        matches!(
            e.kind,
            EventKind::PhaseStarted {
                phase: Phase::Liveness
            }
        )
    }) else {
        return Vec::new();
    };

    let stuck = unfinished_proposers(history, roster);
    let learned: BTreeSet<NodeId> = history
        .events
        .iter()
        .filter(|e| match &e.kind {
            EventKind::Protocol(Note::Learned { .. }) => true,
            EventKind::Started {
                recovered: Some(state),
                ..
            } => state.learner.as_ref().is_some_and(|l| l.learned.is_some()),
            _ => false,
        })
        .filter_map(|e| e.node)
        .collect();
    let roster_learners: BTreeSet<NodeId> = roster.learners.iter().copied().collect();
    let missing: Vec<NodeId> = roster_learners
        .iter()
        .filter(|n| !learned.contains(n))
        .copied()
        .collect();
    if missing.is_empty() && stuck.is_empty() {
        return Vec::new();
    }

    let phase_ms = history.events[phase_index].at_ms;
    // The phase start is an event, so the history is not empty here.
    let end_ms = history.events.last().map_or(phase_ms, |e| e.at_ms);
    let end_index = history
        .events
        .iter()
        .rposition(|e| matches!(e.kind, EventKind::RunEnded { .. }));
    let mut witness = vec![phase_index];
    witness.extend(end_index);

    let window = format!("liveness phase from {phase_ms}ms to {end_ms}ms");
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!(
            "{} of {} learners did not learn within the liveness bound: {}",
            missing.len(),
            roster_learners.len(),
            node_list(&missing)
        ));
    }
    if !stuck.is_empty() {
        parts.push(format!(
            "proposers with a client value that never finished: {}",
            node_list(&stuck)
        ));
    }
    let nodes = missing.iter().chain(&stuck).copied().collect();
    vec![Violation::new(
        &LIVENESS,
        end_ms,
        nodes,
        witness,
        format!("{} ({window})", parts.join("; ")),
    )]
}

/// Roster proposers busy at the end of the history: a client request (or a restart
/// that recovered a client value) not followed by a decision or giving up. The same
/// reading as the runner's settle rule.
fn unfinished_proposers(history: &History, roster: &Roster) -> Vec<NodeId> {
    let mut busy: BTreeSet<NodeId> = BTreeSet::new();
    for e in &history.events {
        let Some(node) = e.node else { continue };
        if !roster.proposers.contains(&node) {
            continue;
        }
        match &e.kind {
            EventKind::ClientRequest { .. } => {
                busy.insert(node);
            }
            EventKind::Started {
                recovered: Some(state),
                ..
            } if state.proposer.as_ref().is_some_and(|p| p.value.is_some()) => {
                busy.insert(node);
            }
            EventKind::Protocol(Note::Decided { .. } | Note::GaveUp { .. }) => {
                busy.remove(&node);
            }
            _ => {}
        }
    }
    busy.into_iter().collect()
}
