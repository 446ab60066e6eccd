//! A run as a picture: a space-time diagram in one self-contained HTML page (inline
//! CSS and JavaScript, no network), one lane per node and simulated time downwards.
//!
//! The diagram is built from the history alone, through the contract: [`Model::of`]
//! reads a [`History`] of any protocol (its messages and events are shown by their
//! `Display`, exactly as the text trace shows them) and a classifier that says which of
//! the protocol's events are decisions or proposals (the harness passes
//! `Core::observe`). Nothing here knows a concrete protocol.
//!
//! Every event of the history is one mark in the page, carrying the same index as the
//! text trace (`data-index`), so a witness index, a line of `replay` and a mark in the
//! picture name the same event. The page's elements carry data attributes
//! (`data-kind`, `data-index`, `data-witness`) so a browser test can count what was
//! drawn; [`Model::delivered`] and the witness lists are what it compares against.

mod page;

pub use page::page;

use crate::check::Violation;
use crate::history::{render_body, render_event, EventKind, History, Trace};
use crate::ids::NodeId;
use serde::Serialize;
use std::collections::BTreeMap;

/// What a protocol event means to the picture ([`Model::of`]'s classifier).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Meaning {
    /// A proposal (a value, a log request): drawn as an open mark.
    Proposal,
    /// A decision (a value, a log slot, a finalized block): drawn as a filled mark.
    Decision,
}

/// The kind of one mark; the page styles and filters by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkKind {
    Phase,
    Partition,
    Heal,
    Faults,
    CrashArmed,
    Crash,
    Restart,
    End,
    Start,
    Client,
    Send,
    Drop,
    Duplicate,
    Delay,
    Recv,
    Malformed,
    Persist,
    Unsynced,
    Proposal,
    Decision,
    Protocol,
}

/// One event of the history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mark {
    /// The event's index in the history (the text trace's number).
    pub index: usize,
    pub at_ms: u64,
    /// The lane it is drawn on; `None`: the harness column (phases, partitions, heals).
    pub lane: Option<usize>,
    pub kind: MarkKind,
    /// The canonical one-line rendering (the text trace's line).
    pub text: String,
    /// What it says, without time and node (drawn beside the mark).
    pub label: String,
}

/// One delivered copy of a message, from its send to its delivery.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Arrow {
    /// History index of the send (`None`: not in this history, e.g. a real-mode node
    /// whose log was cut short).
    pub send: Option<usize>,
    /// History index of the delivery.
    pub recv: usize,
    pub from: usize,
    pub to: usize,
    /// The protocol's rendering of the message.
    pub label: String,
    /// 0 for the first delivered copy, 1 for a duplicate's second.
    pub copy: u32,
    /// Extra delay the fault layer added to this send.
    pub delay_ms: u64,
}

/// A send that was never delivered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lost {
    pub send: usize,
    pub from: usize,
    pub to: usize,
    pub label: String,
    /// History index of the fault layer's drop; `None`: lost another way (a cut link,
    /// a crashed receiver, the run's end).
    pub dropped: Option<usize>,
}

/// A partition, from its event to the heal that ended it (`None`: the run's end).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Band {
    pub start: usize,
    pub end: Option<usize>,
    /// Adjacent lane pairs `(a, a + 1)` whose nodes the partition separates.
    pub cuts: Vec<usize>,
    pub text: String,
}

/// A node down, from its crash to its restart (`None`: the run's end).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Down {
    pub lane: usize,
    pub start: usize,
    pub end: Option<usize>,
}

/// A violated property, with its witness events.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    pub property: String,
    pub text: String,
    pub witness: Vec<usize>,
}

/// Everything the page draws, in history order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Model {
    pub title: String,
    pub lanes: Vec<String>,
    pub marks: Vec<Mark>,
    pub arrows: Vec<Arrow>,
    pub lost: Vec<Lost>,
    pub bands: Vec<Band>,
    pub downs: Vec<Down>,
    pub violations: Vec<Flag>,
}

/// A lane: a node, or (`true`) its twin (`crate::fault::Fault::Twin`), drawn right
/// after it and named `n1'`.
type LaneId = (NodeId, bool);

/// A send waiting for its deliveries.
struct InFlight {
    index: usize,
    /// The lane it was sent from (a twin sends as its node, from its own lane).
    from_lane: Option<usize>,
    to: NodeId,
    label: String,
    copies: u32,
    delay_ms: u64,
    dropped: Option<usize>,
}

impl Model {
    /// The diagram of `history`. `meaning` says which protocol events are proposals or
    /// decisions (the rest are drawn as plain protocol marks).
    pub fn of<T: Trace>(
        history: &History<T>,
        meaning: &dyn Fn(&T::Event) -> Option<Meaning>,
    ) -> Model {
        let lanes = lanes_of(history);
        let lane = |n: &NodeId| lanes.binary_search(&(*n, false)).ok();
        let twin_lane = |n: &NodeId| lanes.binary_search(&(*n, true)).ok();
        let mut model = Model {
            lanes: lanes
                .iter()
                .map(|(n, twin)| {
                    if *twin {
                        format!("{n}'")
                    } else {
                        n.to_string()
                    }
                })
                .collect(),
            ..Model::default()
        };
        // Each twin's side in a partition: its group's.
        let mut twin_groups: BTreeMap<NodeId, Vec<NodeId>> = BTreeMap::new();
        let mut sends: BTreeMap<(NodeId, u64), InFlight> = BTreeMap::new();
        let mut open_bands: Vec<usize> = Vec::new();
        let mut open_downs: BTreeMap<NodeId, usize> = BTreeMap::new();
        for (index, event) in history.events.iter().enumerate() {
            // A twin's event is drawn on its lane, as the event it wraps.
            let (event_kind, by_twin) = match &event.kind {
                EventKind::Twin(kind) => (&**kind, true),
                kind => (kind, false),
            };
            let mut on = match by_twin {
                true => event.node.as_ref().and_then(twin_lane),
                false => event.node.as_ref().and_then(lane),
            };
            let kind = match event_kind {
                EventKind::PhaseStarted { .. } | EventKind::HistoryThinned { .. } => {
                    MarkKind::Phase
                }
                EventKind::Partitioned { groups } => {
                    open_bands.push(model.bands.len());
                    model.bands.push(Band {
                        start: index,
                        end: None,
                        cuts: cuts_between(&lanes, |a, b| {
                            let group = |(n, twin): &LaneId| match twin_groups.get(n) {
                                Some(side) if *twin => groups
                                    .iter()
                                    .position(|g| side.iter().any(|m| g.contains(m))),
                                _ => groups.iter().position(|g| g.contains(n)),
                            };
                            group(a) != group(b)
                        }),
                        text: render_event(event),
                    });
                    MarkKind::Partition
                }
                EventKind::PartitionedOneWay { from, to } => {
                    open_bands.push(model.bands.len());
                    model.bands.push(Band {
                        start: index,
                        end: None,
                        cuts: cuts_between(&lanes, |(a, _), (b, _)| {
                            (from.contains(a) && to.contains(b))
                                || (from.contains(b) && to.contains(a))
                        }),
                        text: render_event(event),
                    });
                    MarkKind::Partition
                }
                EventKind::Healed => {
                    for band in open_bands.drain(..) {
                        model.bands[band].end = Some(index);
                    }
                    MarkKind::Heal
                }
                EventKind::LinkFaultsSet { .. } | EventKind::MessageFaultsSet { .. } => {
                    MarkKind::Faults
                }
                EventKind::CrashArmed { node, .. } => {
                    on = lane(node);
                    MarkKind::CrashArmed
                }
                EventKind::BreakArmed { from, .. } => {
                    on = lane(from);
                    MarkKind::Faults
                }
                EventKind::SilentSet { node }
                | EventKind::MutationArmed { node, .. }
                | EventKind::ReplayArmed { node, .. }
                | EventKind::StrategySet { node, .. }
                | EventKind::StrategyEnded { node } => {
                    on = lane(node);
                    MarkKind::Faults
                }
                EventKind::TwinSet { node, group } => {
                    twin_groups.insert(*node, group.clone());
                    on = twin_lane(node);
                    MarkKind::Faults
                }
                EventKind::Twin(_) => MarkKind::Protocol,
                EventKind::Mutated { .. } | EventKind::Replayed { .. } => MarkKind::Faults,
                EventKind::Crashed { node } => {
                    on = lane(node);
                    open_downs.entry(*node).or_insert(index);
                    MarkKind::Crash
                }
                EventKind::Restarted { node } => {
                    on = lane(node);
                    if let (Some(start), Some(l)) = (open_downs.remove(node), lane(node)) {
                        model.downs.push(Down {
                            lane: l,
                            start,
                            end: Some(index),
                        });
                    }
                    MarkKind::Restart
                }
                EventKind::RunEnded { .. } => MarkKind::End,
                EventKind::Started { .. } => MarkKind::Start,
                EventKind::ClientRequest { .. } => MarkKind::Client,
                EventKind::Sent { to, msg_id, msg } => {
                    if let Some(from) = event.node {
                        sends.insert(
                            (from, *msg_id),
                            InFlight {
                                index,
                                from_lane: on,
                                to: *to,
                                label: msg.to_string(),
                                copies: 0,
                                delay_ms: 0,
                                dropped: None,
                            },
                        );
                    }
                    MarkKind::Send
                }
                EventKind::Dropped { msg_id, .. } => {
                    if let Some(send) = event.node.and_then(|n| sends.get_mut(&(n, *msg_id))) {
                        send.dropped = Some(index);
                    }
                    MarkKind::Drop
                }
                EventKind::Duplicated { .. } => MarkKind::Duplicate,
                EventKind::Delayed {
                    msg_id, delay_ms, ..
                } => {
                    if let Some(send) = event.node.and_then(|n| sends.get_mut(&(n, *msg_id))) {
                        send.delay_ms = send.delay_ms.saturating_add(*delay_ms);
                    }
                    MarkKind::Delay
                }
                EventKind::Delivered { from, msg_id, msg } => {
                    let to = on;
                    let send = sends.get_mut(&(*from, *msg_id));
                    let from_lane = send.as_ref().map_or(lane(from), |s| s.from_lane);
                    if let (Some(from_lane), Some(to_lane)) = (from_lane, to) {
                        let (send_index, copy, delay_ms) = match send {
                            Some(s) => {
                                let copy = s.copies;
                                s.copies = s.copies.saturating_add(1);
                                (Some(s.index), copy, s.delay_ms)
                            }
                            None => (None, 0, 0),
                        };
                        model.arrows.push(Arrow {
                            send: send_index,
                            recv: index,
                            from: from_lane,
                            to: to_lane,
                            label: msg.to_string(),
                            copy,
                            delay_ms,
                        });
                    }
                    MarkKind::Recv
                }
                EventKind::Malformed { .. } => MarkKind::Malformed,
                // A log write is a durable write like a persisted state.
                EventKind::Persisted { .. }
                | EventKind::Appended { .. }
                | EventKind::Truncated { .. } => MarkKind::Persist,
                EventKind::WrittenUnsynced { .. } | EventKind::AppendedUnsynced { .. } => {
                    MarkKind::Unsynced
                }
                EventKind::LogRecovered { .. } => MarkKind::Start,
                EventKind::Protocol(e) => match meaning(e) {
                    Some(Meaning::Proposal) => MarkKind::Proposal,
                    Some(Meaning::Decision) => MarkKind::Decision,
                    None => MarkKind::Protocol,
                },
            };
            model.marks.push(Mark {
                index,
                at_ms: event.at_ms,
                lane: on,
                kind,
                text: render_event(event),
                label: render_body(&event.kind),
            });
        }
        for (node, start) in open_downs {
            if let Some(l) = lane(&node) {
                model.downs.push(Down {
                    lane: l,
                    start,
                    end: None,
                });
            }
        }
        model.downs.sort_by_key(|d| d.start);
        for send in sends.into_values().filter(|s| s.copies == 0) {
            if let (Some(from), Some(to)) = (send.from_lane, lane(&send.to)) {
                model.lost.push(Lost {
                    send: send.index,
                    from,
                    to,
                    label: send.label,
                    dropped: send.dropped,
                });
            }
        }
        model.lost.sort_by_key(|l| l.send);
        model
    }

    /// Add the run's violations (their text and witness events) for the side panel.
    pub fn with_violations(mut self, violations: &[Violation]) -> Model {
        self.violations = violations
            .iter()
            .map(|v| Flag {
                property: v.property.to_string(),
                text: v.to_string(),
                witness: v.witness.clone(),
            })
            .collect();
        self
    }

    pub fn with_title(mut self, title: impl Into<String>) -> Model {
        self.title = title.into();
        self
    }

    /// How many message copies were delivered: the arrows the page must draw.
    pub fn delivered(&self) -> usize {
        self.arrows.len()
    }
}

/// Every node the history names (as actor, sender, receiver or fault target), each
/// followed by its twin if it has one, sorted.
fn lanes_of<T: Trace>(history: &History<T>) -> Vec<LaneId> {
    let mut nodes = std::collections::BTreeSet::new();
    let mut twins = std::collections::BTreeSet::new();
    for e in &history.events {
        nodes.extend(e.node);
        match &e.kind {
            EventKind::Twin(_) => {
                twins.extend(e.node);
            }
            EventKind::TwinSet { node, .. } => {
                twins.insert(*node);
            }
            EventKind::Sent { to, .. }
            | EventKind::Dropped { to, .. }
            | EventKind::Duplicated { to, .. }
            | EventKind::Delayed { to, .. } => {
                nodes.insert(*to);
            }
            EventKind::Delivered { from, .. } => {
                nodes.insert(*from);
            }
            EventKind::Crashed { node }
            | EventKind::Restarted { node }
            | EventKind::CrashArmed { node, .. }
            | EventKind::SilentSet { node }
            | EventKind::MutationArmed { node, .. }
            | EventKind::ReplayArmed { node, .. }
            | EventKind::StrategySet { node, .. }
            | EventKind::StrategyEnded { node } => {
                nodes.insert(*node);
            }
            EventKind::Partitioned { groups } => nodes.extend(groups.iter().flatten()),
            EventKind::PartitionedOneWay { from, to } => {
                nodes.extend(from.iter().chain(to.iter()));
            }
            _ => {}
        }
    }
    let mut lanes: Vec<LaneId> = nodes.into_iter().map(|n| (n, false)).collect();
    lanes.extend(twins.into_iter().map(|n| (n, true)));
    lanes.sort();
    lanes
}

/// The gaps between adjacent lanes `(a, a + 1)` for which `cut(lane a, lane a + 1)`.
fn cuts_between(lanes: &[LaneId], cut: impl Fn(&LaneId, &LaneId) -> bool) -> Vec<usize> {
    lanes
        .windows(2)
        .enumerate()
        .filter(|(_, pair)| cut(&pair[0], &pair[1]))
        .map(|(a, _)| a)
        .collect()
}

#[cfg(test)]
mod tests;
