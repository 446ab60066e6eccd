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
