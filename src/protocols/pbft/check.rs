//! PBFT's own judges, next to the log shape's generic ones
//! (`crate::protocol::shapes::log`): agreement per sequence number on what replicas
//! *commit* (PBFT's safety property proper; the shape judges what they execute), and
//! that a client's answer holds (the request its `f + 1` replies named is what that
//! sequence number commits). Coverage: a view change happened, a request prepared
//! in one view was committed in a later one, and an honest replica left a Byzantine
//! primary's view.
//!
//! Judges read honest replicas only: a replica a Byzantine fault names is left out.

use super::replica::{PbftEvent, Replica};
use super::Pbft;
use crate::history::{EventKind, History};
use crate::ids::NodeId;
use crate::protocol::{Expectation, Judge, Judging, Property, Violation};
use crate::value::Value;
use std::collections::{BTreeMap, BTreeSet};

pub const COMMIT_AGREEMENT: Property = Property {
    name: "commit_agreement",
    expectation: Expectation::Always,
    description: "no two honest replicas commit different requests at one sequence number",
};

pub const REPLY_HOLDS: Property = Property {
    name: "reply_holds",
    expectation: Expectation::Always,
    description:
        "a request a client was answered at sequence n is what every honest replica commits at n",
};

pub const VIEW_CHANGED: Property = Property {
    name: "view_changed",
    expectation: Expectation::Sometimes,
    description: "an honest replica installed a view after view 0",
};

pub const COMMITTED_ACROSS_VIEWS: Property = Property {
    name: "committed_across_views",
    expectation: Expectation::Sometimes,
    description: "a request prepared in one view was committed in a later view",
};

pub const BYZANTINE_PRIMARY_REPLACED: Property = Property {
    name: "byzantine_primary_replaced",
    expectation: Expectation::Sometimes,
    description: "an honest replica left a view whose primary is Byzantine for a later view",
};

/// One honest replica's protocol events, with their history index.
fn events<'a>(
    history: &'a History<Replica>,
    byzantine: &'a BTreeSet<NodeId>,
) -> impl Iterator<Item = (usize, u64, NodeId, &'a PbftEvent)> {
    history.events.iter().enumerate().filter_map(move |(i, e)| {
        let node = e.node?;
        match &e.kind {
            EventKind::Protocol(event) if !byzantine.contains(&node) => {
                Some((i, e.at_ms, node, event))
            }
            _ => None,
        }
    })
}

/// Each sequence number's first commit, and every later commit that differs.
pub fn commit_agreement(
    history: &History<Replica>,
    byzantine: &BTreeSet<NodeId>,
) -> Vec<Violation> {
    let mut first: BTreeMap<u64, (usize, u64, NodeId, &Option<Value>)> = BTreeMap::new();
    let mut broken: BTreeSet<u64> = BTreeSet::new();
    let mut out = Vec::new();
    for (i, at_ms, node, event) in events(history, byzantine) {
        let PbftEvent::Committed { seq, request, .. } = event else {
            continue;
        };
        let (fi, fat, fnode, freq) = *first.entry(*seq).or_insert((i, at_ms, node, request));
        if freq != request && broken.insert(*seq) {
            out.push(Violation::new(
                &COMMIT_AGREEMENT,
                at_ms,
                vec![fnode, node],
                vec![fi, i],
                format!(
                    "n={seq}: {fnode} committed {} at {fat}ms, {node} committed {} at {at_ms}ms",
                    super::msg::Show(freq),
                    super::msg::Show(request)
                ),
            ));
        }
    }
    out
}

/// Every answer against every honest commit of its sequence number.
pub fn reply_holds(history: &History<Replica>, byzantine: &BTreeSet<NodeId>) -> Vec<Violation> {
    let mut answers: Vec<(usize, u64, NodeId, u64, &Value)> = Vec::new();
    let mut commits: Vec<(usize, u64, NodeId, u64, &Option<Value>)> = Vec::new();
    for (i, at_ms, node, event) in events(history, byzantine) {
        match event {
            PbftEvent::Answered { seq, request } => answers.push((i, at_ms, node, *seq, request)),
            PbftEvent::Committed { seq, request, .. } => {
                commits.push((i, at_ms, node, *seq, request))
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for &(ai, _, proxy, seq, request) in &answers {
        let wrong = commits
            .iter()
            .find(|c| c.3 == seq && c.4.as_ref() != Some(request));
        if let Some(&(ci, at_ms, node, _, committed)) = wrong {
            out.push(Violation::new(
                &REPLY_HOLDS,
                at_ms,
                vec![proxy, node],
                vec![ai, ci],
                format!(
                    "{proxy} was answered {request} at n={seq}, but {node} committed {} there",
                    super::msg::Show(committed)
                ),
            ));
        }
    }
    out
}

fn view_changed(history: &History<Replica>, byzantine: &BTreeSet<NodeId>) -> bool {
    events(history, byzantine)
        .any(|(_, _, _, e)| matches!(e, PbftEvent::NewViewInstalled { view } if *view > 0))
}

fn committed_across_views(history: &History<Replica>, byzantine: &BTreeSet<NodeId>) -> bool {
    let mut carried: BTreeSet<(u64, u64, &Value)> = BTreeSet::new();
    for (_, _, _, e) in events(history, byzantine) {
        match e {
            PbftEvent::Carried { view, seq, request } => {
                carried.insert((*view, *seq, request));
            }
            PbftEvent::Committed {
                view,
                seq,
                request: Some(request),
            } if carried.contains(&(*view, *seq, request)) => return true,
            _ => {}
        }
    }
    false
}

/// Whether an honest replica installed a new view while in a view whose primary
/// (`members[view mod n]`) is one of `byzantine`: the view change that replaces a
/// lying or silent primary, which is what PBFT's liveness under Byzantine faults rests
/// on. Every replica starts in view 0.
pub(crate) fn byzantine_primary_replaced(
    history: &History<Replica>,
    byzantine: &BTreeSet<NodeId>,
    members: &[NodeId],
) -> bool {
    if members.is_empty() || byzantine.is_empty() {
        return false;
    }
    let primary = |view: u64| members[(view % members.len() as u64) as usize];
    let mut current: BTreeMap<NodeId, u64> = BTreeMap::new();
    events(history, byzantine).any(|(_, _, node, e)| match e {
        PbftEvent::NewViewInstalled { view } => {
            let from = current.insert(node, *view).unwrap_or(0);
            *view > from && byzantine.contains(&primary(from))
        }
        _ => false,
    })
}

/// The nodes a run's judges leave out: those a Byzantine fault names.
fn byzantine(j: &Judging<Pbft>) -> BTreeSet<NodeId> {
    j.setup.scenario.faults.byzantine_nodes()
}

/// PBFT's properties: the log shape's, then its own.
pub fn judges() -> Vec<Judge<Pbft>> {
    let mut out = crate::protocol::shapes::log::judges();
    out.push(
        Judge::violations(&COMMIT_AGREEMENT, |j| {
            commit_agreement(j.history, &byzantine(j))
        })
        .witnessed(),
    );
    out.push(
        Judge::violations(&REPLY_HOLDS, |j| reply_holds(j.history, &byzantine(j))).witnessed(),
    );
    out.push(Judge::reached(&VIEW_CHANGED, |j| {
        view_changed(j.history, &byzantine(j))
    }));
    out.push(Judge::reached(&COMMITTED_ACROSS_VIEWS, |j| {
        committed_across_views(j.history, &byzantine(j))
    }));
    out.push(Judge::reached(&BYZANTINE_PRIMARY_REPLACED, |j| {
        byzantine_primary_replaced(j.history, &byzantine(j), &super::replicas(j.setup))
    }));
    out
}
