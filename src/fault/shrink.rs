//! Smaller variants of a fault schedule, most reducing first. The scenario shrinker
//! (`crate::sim::shrink`) tries them in order and keeps the first that still fails.

use super::{Fault, FaultEvent, FaultSchedule, LinkFaults};
use crate::ids::NodeId;

/// Candidate schedules, each strictly "smaller" than `s` by one step: fewer events,
/// lower rates, fewer partition groups, shorter crash windows, earlier times.
pub fn schedule_candidates(s: &FaultSchedule) -> Vec<FaultSchedule> {
    let mut out = Vec::new();
    let n = s.events.len();
    // Remove runs of events: halves, quarters, ... then single events.
    let mut chunk = n / 2;
    while chunk >= 1 {
        let mut start = 0;
        while start < n {
            let end = (start + chunk).min(n);
            let mut events = s.events.clone();
            events.drain(start..end);
            out.push(FaultSchedule { events });
            start = end;
        }
        if chunk == 1 {
            break;
        }
        chunk /= 2;
    }
    for (i, e) in s.events.iter().enumerate() {
        for fault in smaller_faults(&e.fault) {
            let mut events = s.events.clone();
            events[i] = FaultEvent {
                at_ms: e.at_ms,
                fault,
            };
            out.push(FaultSchedule { events });
        }
        // A twin starts later: halfway to the schedule's end, so it runs less.
        if let Fault::Twin { .. } = e.fault {
            let later = e.at_ms + (s.end_ms().saturating_sub(e.at_ms)).div_ceil(2);
            if later > e.at_ms {
                let mut events = s.events.clone();
                let mut moved = events.remove(i);
                moved.at_ms = later;
                let at = events.partition_point(|x| x.at_ms <= later);
                events.insert(at, moved);
                out.push(FaultSchedule { events });
            }
        }
        out.extend(shorter_strategy(s, i));
        // Earlier: halve the event's time (keeping time order).
        let earliest = if i == 0 { 0 } else { s.events[i - 1].at_ms };
        let earlier = earliest.max(e.at_ms / 2);
        if earlier < e.at_ms {
            let mut events = s.events.clone();
            events[i].at_ms = earlier;
            out.push(FaultSchedule { events });
        }
    }
    out
}

/// A shorter [`Fault::Strategy`] at event `i` (dropping it is an event removal): one
/// that lasts to the end of the run gets a window instead (so the liveness phase is
/// honest), to the end of the schedule's other faults or [`STRATEGY_WINDOW_MS`],
/// whichever is later; a window is halved.
/// The window an open-ended adversary first shrinks to when the schedule's other
/// faults end sooner: long enough for an attack over a few protocol rounds, and
/// halved from there.
const STRATEGY_WINDOW_MS: u64 = 1_000;

fn shorter_strategy(s: &FaultSchedule, i: usize) -> Option<FaultSchedule> {
    let e = &s.events[i];
    let Fault::Strategy {
        node,
        strategy,
        duration_ms,
    } = &e.fault
    else {
        return None;
    };
    let shorter = match duration_ms {
        None => s
            .end_ms()
            .saturating_sub(e.at_ms)
            .clamp(STRATEGY_WINDOW_MS, super::WINDOW_MS_MAX),
        Some(d) if *d > 1 => d / 2,
        Some(_) => return None,
    };
    let mut events = s.events.clone();
    events[i].fault = Fault::Strategy {
        node: *node,
        strategy: strategy.clone(),
        duration_ms: Some(shorter),
    };
    Some(FaultSchedule { events })
}

/// Lower rates, one step each: a rate to zero, a delay to zero or halved.
fn lower_rates(faults: &LinkFaults) -> Vec<LinkFaults> {
    let mut out = Vec::new();
    if faults.drop_probability > 0.0 {
        out.push(LinkFaults {
            drop_probability: 0.0,
            ..*faults
        });
    }
    if faults.duplicate_probability > 0.0 {
        out.push(LinkFaults {
            duplicate_probability: 0.0,
            ..*faults
        });
    }
    if faults.delay_ms_max > 0 {
        out.push(LinkFaults {
            delay_ms_max: 0,
            ..*faults
        });
        out.push(LinkFaults {
            delay_ms_max: faults.delay_ms_max / 2,
            ..*faults
        });
    }
    out
}

/// One-step simplifications of a single fault.
fn smaller_faults(f: &Fault) -> Vec<Fault> {
    match f {
        Fault::LinkFaults { link, faults } => lower_rates(faults)
            .into_iter()
            .map(|faults| Fault::LinkFaults {
                link: *link,
                faults,
            })
            .collect(),
        Fault::MessageFaults {
            kinds,
            link,
            faults,
            duration_ms,
        } => {
            let with =
                |kinds: Vec<String>, faults: LinkFaults, duration_ms: u64| Fault::MessageFaults {
                    kinds,
                    link: *link,
                    faults,
                    duration_ms,
                };
            let mut out: Vec<Fault> = lower_rates(faults)
                .into_iter()
                .map(|f| with(kinds.clone(), f, *duration_ms))
                .collect();
            if kinds.len() > 1 {
                for i in 0..kinds.len() {
                    let mut fewer = kinds.clone();
                    fewer.remove(i);
                    out.push(with(fewer, *faults, *duration_ms));
                }
            }
            if *duration_ms > 1 {
                out.push(with(kinds.clone(), *faults, duration_ms / 2));
            }
            out
        }
        Fault::CrashAfterSend {
            node,
            kind,
            nth,
            down_ms,
        } => {
            let with = |nth: u32, down_ms: Option<u64>| Fault::CrashAfterSend {
                node: *node,
                kind: kind.clone(),
                nth,
                down_ms,
            };
            let mut out = Vec::new();
            if *nth > 1 {
                out.push(with(nth - 1, *down_ms));
            }
            if let Some(d) = down_ms {
                if *d > 1 {
                    out.push(with(*nth, Some(d / 2)));
                }
            }
            out
        }
        Fault::Script { steps } => super::script_candidates(steps)
            .into_iter()
            .map(|steps| Fault::Script { steps })
            .collect(),
        Fault::Mutate {
            node,
            kind,
            receivers,
            count,
            mutation,
            skip,
        } => {
            let with = |receivers: Vec<NodeId>, count: u32| Fault::Mutate {
                node: *node,
                kind: kind.clone(),
                receivers,
                count,
                mutation: *mutation,
                skip: *skip,
            };
            let mut out = Vec::new();
            if *count > 1 {
                out.push(with(receivers.clone(), count - 1));
            }
            if receivers.len() > 1 {
                for i in 0..receivers.len() {
                    let mut fewer = receivers.clone();
                    fewer.remove(i);
                    out.push(with(fewer, *count));
                }
            }
            out
        }
        Fault::Replay {
            node,
            kind,
            receivers,
            count,
            nth,
        } => {
            let with = |receivers: Vec<NodeId>, count: u32, nth: u32| Fault::Replay {
                node: *node,
                kind: kind.clone(),
                receivers,
                count,
                nth,
            };
            let mut out = Vec::new();
            if *count > 1 {
                out.push(with(receivers.clone(), count - 1, *nth));
            }
            if *nth > 1 {
                out.push(with(receivers.clone(), *count, 1));
            }
            if receivers.len() > 1 {
                for i in 0..receivers.len() {
                    let mut fewer = receivers.clone();
                    fewer.remove(i);
                    out.push(with(fewer, *count, *nth));
                }
            }
            out
        }
        Fault::Twin { node, group } if group.len() > 1 => (0..group.len())
            .map(|i| {
                let mut fewer = group.clone();
                fewer.remove(i);
                Fault::Twin {
                    node: *node,
                    group: fewer,
                }
            })
            .collect(),
        Fault::Partition { groups } if groups.len() > 2 => {
            // Merge the last group into the previous one.
            let mut merged = groups.clone();
            let last = merged.pop().expect("more than two groups");
            merged.last_mut().expect("non-empty").extend(last);
            merged.last_mut().expect("non-empty").sort();
            vec![Fault::Partition { groups: merged }]
        }
        Fault::PartitionOneWay { from, to } => {
            let mut out = Vec::new();
            if from.len() > 1 {
                out.push(Fault::PartitionOneWay {
                    from: from[..from.len() - 1].to_vec(),
                    to: to.clone(),
                });
            }
            if to.len() > 1 {
                out.push(Fault::PartitionOneWay {
                    from: from.clone(),
                    to: to[..to.len() - 1].to_vec(),
                });
            }
            out
        }
        _ => Vec::new(),
    }
}

/// The schedule with every mention of `node` removed (events that only concern it are
/// dropped; groups and links lose it).
pub fn without_node(s: &FaultSchedule, node: NodeId) -> FaultSchedule {
    let keep =
        |list: &[NodeId]| -> Vec<NodeId> { list.iter().copied().filter(|n| *n != node).collect() };
    let events = s
        .events
        .iter()
        .filter_map(|e| {
            let fault = match &e.fault {
                Fault::Crash { node: n }
                | Fault::Restart { node: n }
                | Fault::CrashAfterSend { node: n, .. }
                | Fault::Silent { node: n }
                | Fault::Mutate { node: n, .. }
                | Fault::Replay { node: n, .. }
                | Fault::Twin { node: n, .. }
                | Fault::Strategy { node: n, .. }
                    if *n == node =>
                {
                    return None
                }
                Fault::MessageFaults {
                    link: Some((a, b)), ..
                } if *a == node || *b == node => return None,
                Fault::BreakConnection { from, to } if *from == node || *to == node => return None,
                Fault::LinkFaults {
                    link: Some((a, b)), ..
                } if *a == node || *b == node => return None,
                Fault::Twin { node: n, group } => {
                    let group = keep(group);
                    if group.is_empty() {
                        return None;
                    }
                    Fault::Twin { node: *n, group }
                }
                Fault::Partition { groups } => {
                    let groups: Vec<Vec<NodeId>> = groups
                        .iter()
                        .map(|g| keep(g))
                        .filter(|g| !g.is_empty())
                        .collect();
                    // One group left cuts nothing: the event is gone.
                    if groups.len() < 2 {
                        return None;
                    }
                    Fault::Partition { groups }
                }
                Fault::Script { steps } => Fault::Script {
                    steps: steps
                        .iter()
                        .filter(|step| !step.nodes().contains(&node))
                        .cloned()
                        .collect(),
                },
                Fault::PartitionOneWay { from, to } => {
                    let (from, to) = (keep(from), keep(to));
                    if from.is_empty() || to.is_empty() {
                        return None;
                    }
                    Fault::PartitionOneWay { from, to }
                }
                Fault::Mutate {
                    node: n,
                    kind,
                    receivers,
                    count,
                    mutation,
                    skip,
                } => {
                    let receivers = keep(receivers);
                    if receivers.is_empty() {
                        return None;
                    }
                    Fault::Mutate {
                        node: *n,
                        kind: kind.clone(),
                        receivers,
                        count: *count,
                        mutation: *mutation,
                        skip: *skip,
                    }
                }
                Fault::Replay {
                    node: n,
                    kind,
                    receivers,
                    count,
                    nth,
                } => {
                    let receivers = keep(receivers);
                    if receivers.is_empty() {
                        return None;
                    }
                    Fault::Replay {
                        node: *n,
                        kind: kind.clone(),
                        receivers,
                        count: *count,
                        nth: *nth,
                    }
                }
                other => other.clone(),
            };
            Some(FaultEvent {
                at_ms: e.at_ms,
                fault,
            })
        })
        .collect();
    FaultSchedule { events }
}

/// The schedule after node `from` folds into node `into` (the shrinker's merges):
/// crashes and restarts of `from`, timed or protocol-timed, now hit `into`, which
/// runs what `from` ran; every other mention of `from` goes as in [`without_node`]
/// (links and groups cannot simply be renamed: `into` may be on the other side).
pub fn with_node_moved(s: &FaultSchedule, from: NodeId, into: NodeId) -> FaultSchedule {
    let renamed = FaultSchedule {
        events: s
            .events
            .iter()
            .map(|e| {
                let fault = match &e.fault {
                    Fault::Crash { node } if *node == from => Fault::Crash { node: into },
                    Fault::Restart { node } if *node == from => Fault::Restart { node: into },
                    Fault::CrashAfterSend {
                        node,
                        kind,
                        nth,
                        down_ms,
                    } if *node == from => Fault::CrashAfterSend {
                        node: into,
                        kind: kind.clone(),
                        nth: *nth,
                        down_ms: *down_ms,
                    },
                    other => other.clone(),
                };
                FaultEvent {
                    at_ms: e.at_ms,
                    fault,
                }
            })
            .collect(),
    };
    without_node(&renamed, from)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mutation shrinks to one send fewer and to each receiver fewer; removing a
    /// node drops the Byzantine faults it makes and the receiver it is.
    #[test]
    fn mutations_shrink_and_lose_removed_nodes() {
        let mutate = Fault::Mutate {
            node: NodeId(1),
            kind: "pp".into(),
            receivers: vec![NodeId(2), NodeId(3)],
            count: 2,
            mutation: 4,
            skip: 0,
        };
        let smaller = smaller_faults(&mutate);
        assert_eq!(smaller.len(), 3);
        assert!(smaller
            .iter()
            .all(|f| matches!(f, Fault::Mutate { mutation: 4, .. })));
        let schedule = FaultSchedule {
            events: vec![
                FaultEvent {
                    at_ms: 0,
                    fault: mutate,
                },
                FaultEvent {
                    at_ms: 1,
                    fault: Fault::Silent { node: NodeId(1) },
                },
            ],
        };
        assert!(without_node(&schedule, NodeId(1)).events.is_empty());
        let left = without_node(&schedule, NodeId(2));
        assert_eq!(left.events.len(), 2);
        assert!(matches!(
            &left.events[0].fault,
            Fault::Mutate { receivers, .. } if receivers == &vec![NodeId(3)]
        ));
    }

    /// A merge moves crashes and restarts of the folded node onto the node that takes
    /// it in, and drops its other mentions.
    #[test]
    fn merged_nodes_keep_their_crashes() {
        let s = FaultSchedule {
            events: vec![
                FaultEvent {
                    at_ms: 0,
                    fault: Fault::CrashAfterSend {
                        node: NodeId(5),
                        kind: "Prepare".into(),
                        nth: 1,
                        down_ms: None,
                    },
                },
                FaultEvent {
                    at_ms: 9,
                    fault: Fault::Restart { node: NodeId(5) },
                },
                FaultEvent {
                    at_ms: 10,
                    fault: Fault::BreakConnection {
                        from: NodeId(5),
                        to: NodeId(2),
                    },
                },
                FaultEvent {
                    at_ms: 11,
                    fault: Fault::Crash { node: NodeId(2) },
                },
            ],
        };
        let moved = with_node_moved(&s, NodeId(5), NodeId(1));
        assert_eq!(moved.events.len(), 3);
        assert!(matches!(
            moved.events[0].fault,
            Fault::CrashAfterSend {
                node: NodeId(1),
                ..
            }
        ));
        assert_eq!(moved.events[1].fault, Fault::Restart { node: NodeId(1) });
        assert_eq!(moved.events[2].fault, Fault::Crash { node: NodeId(2) });
    }

    /// A twin shrinks three ways: dropped (its event removed), started later (halfway
    /// to the schedule's end, time order kept) and one member fewer on its side;
    /// removing its node drops it, removing a member of its side shrinks the side.
    #[test]
    fn twins_shrink_and_lose_removed_nodes() {
        let twin = Fault::Twin {
            node: NodeId(1),
            group: vec![NodeId(3), NodeId(4)],
        };
        let schedule = FaultSchedule {
            events: vec![
                FaultEvent {
                    at_ms: 0,
                    fault: twin.clone(),
                },
                FaultEvent {
                    at_ms: 100,
                    fault: Fault::Heal,
                },
            ],
        };
        let candidates = schedule_candidates(&schedule);
        assert!(candidates
            .iter()
            .any(|c| c.events.len() == 1 && c.twins().is_empty()));
        let later = candidates.iter().find(|c| {
            c.events
                .iter()
                .any(|e| matches!(e.fault, Fault::Twin { .. }) && e.at_ms == 50)
        });
        assert!(later.is_some(), "a later start: {candidates:?}");
        for c in &candidates {
            assert_eq!(
                c.validate(&[NodeId(1), NodeId(2), NodeId(3), NodeId(4)]),
                Ok(())
            );
        }
        let smaller = smaller_faults(&twin);
        assert_eq!(smaller.len(), 2);
        assert!(smaller
            .iter()
            .all(|f| matches!(f, Fault::Twin { group, .. } if group.len() == 1)));
        assert_eq!(without_node(&schedule, NodeId(1)).twins(), vec![]);
        let left = without_node(&schedule, NodeId(3));
        assert!(matches!(
            &left.events[0].fault,
            Fault::Twin { group, .. } if group == &vec![NodeId(4)]
        ));
    }

    /// Shrinking reaches inside the new fault kinds: a targeted fault gets candidates
    /// with each rate off, one kind fewer and half the window; a protocol-timed crash
    /// gets an earlier trigger and half the down time; removing a node removes the
    /// faults aimed at it.
    #[test]
    fn new_fault_kinds_shrink_and_lose_removed_nodes() {
        let targeted = Fault::MessageFaults {
            kinds: vec!["Accept".into(), "Accepted".into()],
            link: Some((NodeId(1), NodeId(2))),
            faults: LinkFaults {
                drop_probability: 0.5,
                duplicate_probability: 0.5,
                delay_ms_max: 0,
            },
            duration_ms: 40,
        };
        let crash = Fault::CrashAfterSend {
            node: NodeId(3),
            kind: "Promise".into(),
            nth: 2,
            down_ms: Some(8),
        };
        let smaller = smaller_faults(&targeted);
        assert_eq!(smaller.len(), 5, "{smaller:#?}");
        assert!(smaller.iter().any(|f| matches!(
            f,
            Fault::MessageFaults {
                duration_ms: 20,
                ..
            }
        )));
        assert!(smaller
            .iter()
            .any(|f| matches!(f, Fault::MessageFaults { kinds, .. } if kinds.len() == 1)));
        assert_eq!(
            smaller_faults(&crash),
            vec![
                Fault::CrashAfterSend {
                    node: NodeId(3),
                    kind: "Promise".into(),
                    nth: 1,
                    down_ms: Some(8)
                },
                Fault::CrashAfterSend {
                    node: NodeId(3),
                    kind: "Promise".into(),
                    nth: 2,
                    down_ms: Some(4)
                },
            ]
        );
        let s = FaultSchedule {
            events: vec![
                FaultEvent {
                    at_ms: 0,
                    fault: targeted,
                },
                FaultEvent {
                    at_ms: 1,
                    fault: crash,
                },
            ],
        };
        assert_eq!(without_node(&s, NodeId(2)).events.len(), 1);
        assert_eq!(without_node(&s, NodeId(3)).events.len(), 1);
        assert!(schedule_candidates(&s).len() > 8);
    }
}
