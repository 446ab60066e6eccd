//! proptest strategies for faults. Unlike drawing a seed, these shrink the schedule
//! itself: proptest removes events, lowers rates toward zero and moves times earlier,
//! so a proptest failure ends in a small schedule too.

use super::{Fault, FaultEvent, FaultSchedule, LinkFaults};
use crate::ids::NodeId;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

/// One fault over `nodes` (at least two), at a time in `0..horizon_ms`. Targeted
/// message faults and protocol-timed crashes name kinds from `message_kinds` (the
/// protocol's labels; at least one).
pub fn fault_event(
    nodes: Vec<NodeId>,
    message_kinds: Vec<String>,
    horizon_ms: u64,
) -> impl Strategy<Value = FaultEvent> {
    assert!(
        !message_kinds.is_empty(),
        "targeted faults need message kinds"
    );
    assert!(nodes.len() >= 2, "faults need at least two nodes");
    let n = nodes.len();
    let groups = {
        let nodes = nodes.clone();
        prop::collection::vec(0..3usize, n).prop_map(move |assignment| {
            let mut groups = vec![Vec::new(); 3];
            for (node, g) in nodes.iter().zip(assignment) {
                groups[g].push(*node);
            }
            groups.retain(|g: &Vec<NodeId>| !g.is_empty());
            Fault::Partition { groups }
        })
    };
    let one_way = (
        subsequence(nodes.clone(), 1..n),
        subsequence(nodes.clone(), 1..n),
    )
        .prop_map(|(from, to)| Fault::PartitionOneWay { from, to });
    let link = prop::option::of((select(nodes.clone()), select(nodes.clone())))
        .prop_map(|l| l.filter(|(a, b)| a != b));
    let link_faults = (link, 0.0..0.5f64, 0.0..0.6f64, 0..150u64).prop_map(
        |(link, drop_probability, duplicate_probability, delay_ms_max)| Fault::LinkFaults {
            link,
            faults: LinkFaults {
                drop_probability,
                duplicate_probability,
                delay_ms_max,
            },
        },
    );
    let crash = select(nodes.clone()).prop_map(|node| Fault::Crash { node });
    let restart = select(nodes.clone()).prop_map(|node| Fault::Restart { node });
    let k = message_kinds.len();
    let target = prop::option::of((select(nodes.clone()), select(nodes.clone())))
        .prop_map(|l| l.filter(|(a, b)| a != b));
    let message_faults = (
        subsequence(message_kinds.clone(), 1..=k.min(2)),
        target,
        0.0..=1.0f64,
        0.0..=1.0f64,
        0..200u64,
        1..horizon_ms.max(2),
    )
        .prop_map(
            |(kinds, link, drop_probability, duplicate_probability, delay_ms_max, duration_ms)| {
                Fault::MessageFaults {
                    kinds,
                    link,
                    faults: LinkFaults {
                        drop_probability,
                        duplicate_probability,
                        delay_ms_max,
                    },
                    duration_ms,
                }
            },
        );
    let crash_after_send = (
        select(nodes.clone()),
        select(message_kinds),
        1..=3u32,
        prop::option::of(1..=300u64),
    )
        .prop_map(|(node, kind, nth, down_ms)| Fault::CrashAfterSend {
            node,
            kind,
            nth,
            down_ms,
        });
    // Two distinct nodes, or none (a one-node cluster has no connections).
    let break_connection = (select(nodes.clone()), select(nodes.clone()))
        .prop_filter_map("a connection joins two nodes", |(from, to)| {
            (from != to).then_some(Fault::BreakConnection { from, to })
        });
    let fault = prop_oneof![
        Just(Fault::Heal),
        break_connection,
        link_faults,
        crash,
        restart,
        groups,
        one_way,
        message_faults,
        crash_after_send,
    ];
    (0..horizon_ms, fault).prop_map(|(at_ms, fault)| FaultEvent { at_ms, fault })
}

/// A schedule of up to `events_max` faults over `nodes`, sorted by time.
pub fn schedule(
    nodes: Vec<NodeId>,
    message_kinds: Vec<String>,
    horizon_ms: u64,
    events_max: usize,
) -> impl Strategy<Value = FaultSchedule> {
    prop::collection::vec(
        fault_event(nodes, message_kinds, horizon_ms),
        0..=events_max,
    )
    .prop_map(|events| FaultSchedule { events }.sorted())
}

/// One Byzantine fault by one of `traitors` (at least one) against the other `nodes`,
/// at a time in `0..horizon_ms`: silent; a mutation (`mutation` in `0..8`, taken
/// modulo the core's options) or a replay (`nth` in `1..=8`) of a kind from
/// `message_kinds`, to one receiver or several; a twin on the side of some of the
/// others; or, when the protocol names any (`strategies`, its
/// `Protocol::strategies`), one of its adversaries for a window or to the end.
pub fn byzantine_event(
    traitors: Vec<NodeId>,
    nodes: Vec<NodeId>,
    message_kinds: Vec<String>,
    strategies: Vec<String>,
    horizon_ms: u64,
) -> impl Strategy<Value = FaultEvent> {
    assert!(!traitors.is_empty(), "a Byzantine fault needs a traitor");
    assert!(
        !message_kinds.is_empty(),
        "mutations and replays need message kinds"
    );
    assert!(nodes.len() >= 2, "faults need at least two nodes");
    let n = nodes.len();
    // A traitor and its receivers: the other nodes, one or more of them.
    let aimed = select(traitors.clone()).prop_flat_map(move |node| {
        let others: Vec<NodeId> = nodes.iter().copied().filter(|&o| o != node).collect();
        (Just(node), subsequence(others, 1..n))
    });
    let silent = select(traitors.clone()).prop_map(|node| Fault::Silent { node });
    let twin = aimed
        .clone()
        .prop_map(|(node, group)| Fault::Twin { node, group });
    let mutate = (
        aimed.clone(),
        select(message_kinds.clone()),
        1..=3u32,
        0..8u32,
    )
        .prop_map(|((node, receivers), kind, count, mutation)| Fault::Mutate {
            node,
            kind,
            receivers,
            count,
            mutation,
            skip: 0,
        });
    let replay = (aimed, select(message_kinds), 1..=3u32, 1..=8u32).prop_map(
        |((node, receivers), kind, count, nth)| Fault::Replay {
            node,
            kind,
            receivers,
            count,
            nth,
        },
    );
    let fault = if strategies.is_empty() {
        prop_oneof![silent, mutate, replay, twin].boxed()
    } else {
        let adversary = (
            select(traitors),
            select(strategies),
            prop::option::of(1..horizon_ms.max(2)),
        )
            .prop_map(|(node, strategy, duration_ms)| Fault::Strategy {
                node,
                strategy,
                duration_ms,
            });
        prop_oneof![silent, mutate, replay, twin, adversary].boxed()
    };
    (0..horizon_ms, fault).prop_map(|(at_ms, fault)| FaultEvent { at_ms, fault })
}

/// A schedule of up to `events_max` faults over `nodes`, sorted by time, with up to
/// `traitors_max` Byzantine nodes (the protocol's `Protocol::byzantine_max`): the
/// traitors are drawn first, then each event is a network or crash fault
/// ([`fault_event`]) or, a third of the time, one of theirs ([`byzantine_event`], with
/// the protocol's named adversaries `strategies`). proptest shrinks toward fewer
/// traitors and fewer events.
pub fn schedule_with_traitors(
    nodes: Vec<NodeId>,
    message_kinds: Vec<String>,
    strategies: Vec<String>,
    horizon_ms: u64,
    events_max: usize,
    traitors_max: usize,
) -> impl Strategy<Value = FaultSchedule> {
    let most = traitors_max.min(nodes.len().saturating_sub(1));
    subsequence(nodes.clone(), 0..=most).prop_flat_map(move |traitors| {
        let plain = fault_event(nodes.clone(), message_kinds.clone(), horizon_ms).boxed();
        let event = if traitors.is_empty() {
            plain
        } else {
            let byzantine = byzantine_event(
                traitors,
                nodes.clone(),
                message_kinds.clone(),
                strategies.clone(),
                horizon_ms,
            );
            prop_oneof![2 => plain, 1 => byzantine].boxed()
        };
        prop::collection::vec(event, 0..=events_max)
            .prop_map(|events| FaultSchedule { events }.sorted())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    /// Schedules with traitors are valid, name at most `traitors_max` Byzantine nodes,
    /// and over many draws hold every Byzantine kind (silent, mutate, replay, twin and
    /// the protocol's named adversary, by a name it gave) and schedules without any
    /// traitor.
    #[test]
    fn schedules_with_traitors_stay_within_the_bound() {
        let nodes: Vec<NodeId> = (1..=7).map(NodeId).collect();
        let kinds = vec!["a".to_string(), "b".to_string()];
        let adversaries = vec!["liar".to_string()];
        let strategy = schedule_with_traitors(nodes.clone(), kinds.clone(), adversaries, 500, 8, 2);
        let mut runner = TestRunner::deterministic();
        let mut seen = std::collections::BTreeSet::new();
        let mut honest = 0;
        for _ in 0..300 {
            let s = strategy.new_tree(&mut runner).expect("a tree").current();
            assert_eq!(s.validate(&nodes), Ok(()));
            let kind_refs: Vec<&str> = kinds.iter().map(String::as_str).collect();
            assert_eq!(s.validate_kinds(&kind_refs), Ok(()));
            assert!(s.byzantine_nodes().len() <= 2, "{s:?}");
            honest += s.byzantine_nodes().is_empty() as usize;
            for e in &s.events {
                seen.insert(match e.fault {
                    Fault::Silent { .. } => "silent",
                    Fault::Mutate { .. } => "mutate",
                    Fault::Replay { .. } => "replay",
                    Fault::Twin { .. } => "twin",
                    Fault::Strategy { ref strategy, .. } => {
                        assert_eq!(strategy, "liar");
                        "strategy"
                    }
                    _ => "other",
                });
            }
        }
        assert_eq!(seen.len(), 6, "{seen:?}");
        assert!(honest > 0);
    }
}
