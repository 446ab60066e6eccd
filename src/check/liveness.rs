//! The `Eventually` property: once the faults heal, every learner learns.
//!
//! Liveness is only meaningful for a run that reached its liveness phase (faults
//! healed, crashed nodes restarted, a time bound stated). A run cut short in the safety
//! phase says nothing about progress, so it is not judged at all rather than failed.

use super::{node_list, Roster, Violation, LIVENESS};
use crate::history::{EventKind, History, Phase};
use crate::ids::NodeId;
use crate::paxos::Note;
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
    if missing.is_empty() {
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

    vec![Violation::new(
        &LIVENESS,
        end_ms,
        missing.clone(),
        witness,
        format!(
            "{} of {} learners did not learn within the liveness bound: {} (liveness phase from {phase_ms}ms to {end_ms}ms)",
            missing.len(),
            roster_learners.len(),
            node_list(&missing)
        ),
    )]
}
