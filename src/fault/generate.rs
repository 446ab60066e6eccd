//! Seeded fault-schedule generation with swarm testing: each schedule switches whole
//! fault kinds on or off and picks its own rates and timing, because one fixed mix of
//! faults explores far less than many different mixes (TigerBeetle's VOPR, Groce et
//! al.'s "swarm testing").
//!
//! Beyond clock-timed faults the generator draws two kinds aimed at protocol steps,
//! still without knowing the protocol: the caller hands in its message-kind labels,
//! and the generator picks among them at random. Targeted message faults
//! ([`Fault::MessageFaults`]) duplicate, drop or delay only some kinds of message for a
//! window of time; protocol-timed crashes ([`Fault::CrashAfterSend`]) crash a node right
//! after it sends its n-th message of some kind, and usually bring it back a few
//! milliseconds later. Together they reach the bugs that need a duplicate of one
//! particular reply, a ballot that loses every acceptance but one, or a crash between
//! a promise and the write that should have made it durable.

use super::{Fault, FaultEvent, FaultSchedule, LinkFaults};
use crate::ids::NodeId;
use crate::protocol::session::SESSION_KIND;
use crate::rng::Draw;
use rand_core::Rng;

/// Bounds on what the generator produces.
#[derive(Debug, Clone, Copy)]
pub struct GeneratorLimits {
    /// Faults happen in `0..horizon_ms`.
    pub horizon_ms: u64,
    /// At most this many events (crash-restart pairs count as two).
    pub events_max: usize,
    /// Byzantine faults name at most this many nodes (the protocol's
    /// `Protocol::byzantine_max`); 0: none are drawn, and nothing is drawn for them.
    pub byzantine_max: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Partition,
    OneWay,
    LinkFaults,
    Crash,
    Heal,
    Targeted,
    CrashAfterSend,
    BreakConnection,
    Silent,
    Mutate,
}

/// A random schedule over `nodes`; `message_kinds` are the protocol's message labels
/// that targeted faults and protocol-timed crashes may name (none: those kinds are
/// never drawn). `focus_ms` are times when the workload starts something (client
/// requests): half the faults land within 30 ms after one of them, where the
/// protocol's messages are in flight, instead of anywhere in the horizon.
pub fn generate_schedule<R: Rng>(
    rng: &mut R,
    nodes: &[NodeId],
    message_kinds: &[&str],
    focus_ms: &[u64],
    limits: GeneratorLimits,
) -> FaultSchedule {
    assert!(nodes.len() >= 2 && limits.horizon_ms > 0);
    // Swarm: which kinds this schedule uses at all. Each is on with its own chance;
    // a schedule with none of them is a fault-free run, which is worth having too.
    let mut kinds = Vec::new();
    for (kind, p) in [
        (Kind::Partition, 0.4),
        (Kind::OneWay, 0.25),
        (Kind::LinkFaults, 0.4),
        (Kind::Crash, 0.4),
        (Kind::Heal, 0.4),
        (Kind::Targeted, 0.5),
        (Kind::CrashAfterSend, 0.5),
        (Kind::BreakConnection, 0.5),
    ] {
        // Connection breaks only for protocols on the session link, and without a
        // draw for the others, whose schedules stay what they were.
        if kind == Kind::BreakConnection && !message_kinds.contains(&SESSION_KIND) {
            continue;
        }
        if rng.chance(p) && (!needs_labels(kind) || !message_kinds.is_empty()) {
            kinds.push(kind);
        }
    }
    // Byzantine kinds only for a protocol that tolerates Byzantine nodes, and with no
    // draw at all for the others, whose schedules stay what they were.
    let mut byzantine: Vec<NodeId> = Vec::new();
    if limits.byzantine_max > 0 {
        for (kind, p) in [(Kind::Silent, 0.2), (Kind::Mutate, 0.5)] {
            if rng.chance(p) && (!needs_labels(kind) || !message_kinds.is_empty()) {
                kinds.push(kind);
            }
        }
        if kinds
            .iter()
            .any(|k| matches!(k, Kind::Silent | Kind::Mutate))
        {
            // Who is Byzantine: 1 to `byzantine_max` nodes, the same for every
            // Byzantine fault of the schedule (a node is faulty or it is not).
            let most = limits.byzantine_max.min(nodes.len() - 1) as u64;
            let mut order: Vec<NodeId> = nodes.to_vec();
            for i in (1..order.len()).rev() {
                let j = rng.between(0, i as u64) as usize;
                order.swap(i, j);
            }
            order.truncate(rng.between(1, most.max(1)) as usize);
            order.sort();
            byzantine = order;
        }
    }
    let mut events = Vec::new();
    if kinds.is_empty() {
        return FaultSchedule { events };
    }
    // Per-schedule intensity: how far each rate may go. Targeted faults hit few
    // messages, so they may go all the way to certainty.
    let drop_max = [0.05, 0.2, 0.5][rng.between(0, 2) as usize];
    let dup_max = [0.0, 0.2, 0.6][rng.between(0, 2) as usize];
    let delay_max = [0, 20, 150][rng.between(0, 2) as usize];
    let targeted_max = [0.3, 0.7, 1.0][rng.between(0, 2) as usize];
    let count = rng.between(1, limits.events_max.max(1) as u64) as usize;
    let pick = |rng: &mut R| nodes[rng.between(0, nodes.len() as u64 - 1) as usize];
    while events.len() < count {
        let kind = kinds[rng.between(0, kinds.len() as u64 - 1) as usize];
        let at_ms = if !focus_ms.is_empty() && rng.chance(0.5) {
            let focus = focus_ms[rng.between(0, focus_ms.len() as u64 - 1) as usize];
            focus + rng.between(0, 30)
        } else {
            rng.between(0, limits.horizon_ms - 1)
        };
        let fault = match kind {
            Kind::Partition => {
                let group_count = if rng.chance(0.7) { 2 } else { 3 };
                Fault::Partition {
                    groups: split(rng, nodes, group_count),
                }
            }
            Kind::OneWay => {
                let groups = split(rng, nodes, 2);
                Fault::PartitionOneWay {
                    from: groups[0].clone(),
                    to: groups[1].clone(),
                }
            }
            Kind::LinkFaults => {
                let faults = LinkFaults {
                    drop_probability: rng.unit() * drop_max,
                    duplicate_probability: rng.unit() * dup_max,
                    delay_ms_max: rng.between(0, delay_max),
                };
                let link = if rng.chance(0.4) {
                    let (a, b) = (pick(rng), pick(rng));
                    (a != b).then_some((a, b))
                } else {
                    None
                };
                Fault::LinkFaults { link, faults }
            }
            Kind::Crash => {
                let node = pick(rng);
                // Most crashed nodes come back within the phase; the rest are restarted
                // by the liveness phase.
                if rng.chance(0.8) {
                    let back_ms = at_ms + rng.between(1, limits.horizon_ms / 2 + 1);
                    events.push(FaultEvent {
                        at_ms: back_ms,
                        fault: Fault::Restart { node },
                    });
                }
                Fault::Crash { node }
            }
            Kind::Heal => Fault::Heal,
            Kind::BreakConnection => {
                let from = pick(rng);
                let others: Vec<NodeId> = nodes.iter().copied().filter(|&n| n != from).collect();
                let to = others[rng.between(0, others.len() as u64 - 1) as usize];
                Fault::BreakConnection { from, to }
            }
            Kind::Targeted => targeted(rng, nodes, message_kinds, targeted_max, limits),
            Kind::Silent => Fault::Silent {
                node: byzantine[rng.between(0, byzantine.len() as u64 - 1) as usize],
            },
            Kind::Mutate => {
                let node = byzantine[rng.between(0, byzantine.len() as u64 - 1) as usize];
                let kind = message_kinds[rng.between(0, message_kinds.len() as u64 - 1) as usize];
                // Small scope: one receiver (equivocation), a few, or all the others.
                let others: Vec<NodeId> = nodes.iter().copied().filter(|&n| n != node).collect();
                let receivers: Vec<NodeId> = match rng.between(0, 2) {
                    0 => vec![others[rng.between(0, others.len() as u64 - 1) as usize]],
                    1 => others.iter().copied().filter(|_| rng.chance(0.5)).collect(),
                    _ => others.clone(),
                };
                let receivers = if receivers.is_empty() {
                    vec![others[0]]
                } else {
                    receivers
                };
                Fault::Mutate {
                    node,
                    kind: kind.to_string(),
                    receivers,
                    count: rng.between(1, 3) as u32,
                    mutation: rng.between(0, 7) as u32,
                    skip: 0,
                }
            }
            Kind::CrashAfterSend => {
                let kind = message_kinds[rng.between(0, message_kinds.len() as u64 - 1) as usize];
                // Mostly a blink (the node is back before its peers time out), which
                // is what loses an unsynced write without the cluster noticing.
                let down_ms = match rng.between(0, 9) {
                    0..=6 => Some(rng.between(1, 30)),
                    7 | 8 => Some(rng.between(30, limits.horizon_ms / 2 + 30)),
                    _ => None,
                };
                Fault::CrashAfterSend {
                    node: pick(rng),
                    kind: kind.to_string(),
                    nth: rng.between(1, 3) as u32,
                    down_ms,
                }
            }
        };
        // Protocol-timed crashes are often armed from the start: the first rounds are
        // where the interesting races are.
        let at_ms = match &fault {
            Fault::CrashAfterSend { .. } if rng.chance(0.5) => 0,
            _ => at_ms,
        };
        events.push(FaultEvent { at_ms, fault });
    }
    // Replays are drawn last, and only for a protocol that tolerates Byzantine nodes,
    // so every schedule drawn before they existed is unchanged but for the replays
    // appended to some of them.
    if limits.byzantine_max > 0 && !message_kinds.is_empty() && rng.chance(0.3) {
        let node = if byzantine.is_empty() {
            nodes[rng.between(0, nodes.len() as u64 - 1) as usize]
        } else {
            byzantine[rng.between(0, byzantine.len() as u64 - 1) as usize]
        };
        let others: Vec<NodeId> = nodes.iter().copied().filter(|&n| n != node).collect();
        for _ in 0..rng.between(1, 2) {
            if events.len() >= limits.events_max {
                break;
            }
            let kind = message_kinds[rng.between(0, message_kinds.len() as u64 - 1) as usize];
            let receivers: Vec<NodeId> = if rng.chance(0.5) {
                vec![others[rng.between(0, others.len() as u64 - 1) as usize]]
            } else {
                others.clone()
            };
            let at_ms = if rng.chance(0.5) {
                0
            } else {
                rng.between(0, limits.horizon_ms - 1)
            };
            events.push(FaultEvent {
                at_ms,
                fault: Fault::Replay {
                    node,
                    kind: kind.to_string(),
                    receivers,
                    count: rng.between(1, 3) as u32,
                    nth: rng.between(1, 8) as u32,
                },
            });
        }
    }
    // No twins here yet (docs/pbft.md, "Twins"): appending one must take the node a
    // replay above named, if any (a first cut did not, and named two Byzantine nodes),
    // and the pbft, generals and pow budgets must be measured again with twins in the
    // mix. They are drawn by `Scope::Twins` (`gauntlet experiment twins`) and written
    // by hand.
    FaultSchedule { events }.sorted()
}

/// `schedule` with, some of the time, one [`Fault::Strategy`] appended: one of the
/// protocol's adversaries (`strategies`) holding a node the schedule already made
/// Byzantine (so it names no more of them), or any node if none is, from 0 ms or a
/// time in the horizon, to the end of the run or for a window that ends within the
/// horizon. Drawn after everything else, and only for a protocol that tolerates
/// Byzantine nodes and supplies strategies: every other schedule is unchanged, and so
/// is every schedule that draws none.
pub fn with_strategy<R: Rng>(
    rng: &mut R,
    mut schedule: FaultSchedule,
    nodes: &[NodeId],
    strategies: &[&str],
    limits: GeneratorLimits,
) -> FaultSchedule {
    if limits.byzantine_max == 0
        || strategies.is_empty()
        || nodes.is_empty()
        || schedule.events.len() >= limits.events_max
        || !rng.chance(0.25)
    {
        return schedule;
    }
    let byzantine: Vec<NodeId> = schedule.byzantine_nodes().into_iter().collect();
    let node = if byzantine.is_empty() {
        nodes[rng.between(0, nodes.len() as u64 - 1) as usize]
    } else {
        byzantine[rng.between(0, byzantine.len() as u64 - 1) as usize]
    };
    let strategy = strategies[rng.between(0, strategies.len() as u64 - 1) as usize];
    let horizon_ms = limits.horizon_ms.max(1);
    let at_ms = if rng.chance(0.5) {
        0
    } else {
        rng.between(0, horizon_ms - 1)
    };
    let duration_ms = if rng.chance(0.5) {
        None
    } else {
        Some(rng.between(1, (horizon_ms - at_ms).min(super::WINDOW_MS_MAX)))
    };
    schedule.events.push(FaultEvent {
        at_ms,
        fault: Fault::Strategy {
            node,
            strategy: strategy.to_string(),
            duration_ms,
        },
    });
    schedule.sorted()
}

fn needs_labels(kind: Kind) -> bool {
    matches!(kind, Kind::Targeted | Kind::CrashAfterSend | Kind::Mutate)
}

/// A targeted message fault: one or two message kinds, on one directed link or all,
/// with a random subset of drop, duplicate and delay switched on, for a window of
/// time from a few milliseconds to the whole phase.
fn targeted<R: Rng>(
    rng: &mut R,
    nodes: &[NodeId],
    message_kinds: &[&str],
    rate_max: f64,
    limits: GeneratorLimits,
) -> Fault {
    let label = |rng: &mut R| {
        message_kinds[rng.between(0, message_kinds.len() as u64 - 1) as usize].to_string()
    };
    let mut kinds = vec![label(rng)];
    if rng.chance(0.3) {
        let other = label(rng);
        if !kinds.contains(&other) {
            kinds.push(other);
        }
    }
    let link = if rng.chance(0.4) {
        let a = nodes[rng.between(0, nodes.len() as u64 - 1) as usize];
        let b = nodes[rng.between(0, nodes.len() as u64 - 1) as usize];
        (a != b).then_some((a, b))
    } else {
        None
    };
    // At least one of the three rates is on.
    let which = rng.between(1, 7);
    let faults = LinkFaults {
        drop_probability: if which & 1 != 0 {
            rng.unit() * rate_max
        } else {
            0.0
        },
        duplicate_probability: if which & 2 != 0 {
            rng.unit() * rate_max
        } else {
            0.0
        },
        delay_ms_max: if which & 4 != 0 {
            rng.between(1, 200)
        } else {
            0
        },
    };
    let duration_ms = match rng.between(0, 3) {
        0 => rng.between(1, 20),
        1 => rng.between(20, 100),
        2 => rng.between(100, 1_000),
        _ => limits.horizon_ms,
    };
    Fault::MessageFaults {
        kinds,
        link,
        faults,
        duration_ms,
    }
}

/// Assign each node to one of `groups` groups, none empty (so at least one link is cut).
fn split<R: Rng>(rng: &mut R, nodes: &[NodeId], groups: usize) -> Vec<Vec<NodeId>> {
    let groups = groups.min(nodes.len());
    let mut out = vec![Vec::new(); groups];
    // Seed each group with one distinct node, then scatter the rest.
    let mut order: Vec<NodeId> = nodes.to_vec();
    for i in (1..order.len()).rev() {
        let j = rng.between(0, i as u64) as usize;
        order.swap(i, j);
    }
    for (i, n) in order.into_iter().enumerate() {
        let g = if i < groups {
            i
        } else {
            rng.between(0, groups as u64 - 1) as usize
        };
        out[g].push(n);
    }
    for g in &mut out {
        g.sort();
    }
    out
}

/// Most fault events a generated scenario holds.
pub const SCENARIO_FAULT_EVENTS_MAX: usize = 12;

/// The scenario of campaign run `seed` for `protocol`: the protocol drafts its cluster,
/// workload and parameters from the scenario stream, then the harness draws the fault
/// schedule from the same stream, aimed at the protocol's horizon and message kinds,
/// with half the faults near client requests.
pub fn generate_scenario<P: crate::protocol::Protocol + ?Sized>(
    protocol: &P,
    seed: u64,
) -> crate::scenario::Scenario {
    use crate::rng::{stream_rng, Stream};
    let mut rng = stream_rng(seed, Stream::Scenario);
    let draft = protocol.draft(&mut rng);
    scenario_from_draft(protocol, seed, &mut rng, draft)
}

/// The scenario of `draft` (drawn by `protocol` from `rng`): the fault schedule drawn
/// next from the same stream, then everything assembled.
pub fn scenario_from_draft<P: crate::protocol::Protocol + ?Sized>(
    protocol: &P,
    seed: u64,
    rng: &mut rand_chacha::ChaCha8Rng,
    draft: crate::protocol::Draft<P::Params>,
) -> crate::scenario::Scenario {
    let request_times: Vec<u64> = draft.workload.iter().map(|p| p.at_ms).collect();
    let limits = GeneratorLimits {
        horizon_ms: draft.horizon_ms,
        events_max: SCENARIO_FAULT_EVENTS_MAX,
        byzantine_max: protocol.byzantine_to_draw(&draft.params, draft.cluster.len()),
    };
    let faults = generate_schedule(
        rng,
        &draft.cluster.ids(),
        protocol.message_kinds(),
        &request_times,
        limits,
    );
    let faults = with_strategy(
        rng,
        faults,
        &draft.cluster.ids(),
        protocol.strategies(),
        limits,
    );
    // A draft whose parameters ask for more traitors than its cluster tolerates runs
    // past the bound on purpose, and says so.
    let beyond = protocol.byzantine_to_draw(&draft.params, draft.cluster.len())
        > protocol.byzantine_max(draft.cluster.len());
    crate::scenario::Scenario {
        byzantine_beyond_tolerance: beyond,
        workload: draft.workload,
        faults,
        liveness_bound_ms: draft.liveness_bound_ms,
        params: serde_json::to_value(&draft.params).expect("params serialize"),
        ..crate::scenario::Scenario::quiet(protocol.name(), draft.cluster, seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream_rng, Stream};

    /// Generated schedules are valid, time-ordered, within the horizon, repeatable for
    /// a seed, name only the message kinds handed in, and vary across seeds (swarm:
    /// some seeds have no faults at all, and every fault kind appears).
    #[test]
    fn schedules_are_valid_and_varied() {
        let nodes: Vec<NodeId> = (1..=5).map(NodeId).collect();
        let labels = ["Ping", "Pong"];
        let limits = GeneratorLimits {
            horizon_ms: 2_000,
            events_max: 10,
            byzantine_max: 0,
        };
        let mut empty = 0;
        let mut kinds = std::collections::BTreeSet::new();
        for seed in 0..300 {
            let gen = |seed| {
                generate_schedule(
                    &mut stream_rng(seed, Stream::Scenario),
                    &nodes,
                    &labels,
                    &[100],
                    limits,
                )
            };
            let s = gen(seed);
            assert_eq!(s, gen(seed));
            assert_eq!(s.validate(&nodes), Ok(()));
            assert_eq!(s.validate_kinds(&labels), Ok(()));
            assert!(s.events.iter().all(|e| e.at_ms < 2 * limits.horizon_ms));
            empty += s.events.is_empty() as usize;
            for e in &s.events {
                kinds.insert(match e.fault {
                    Fault::Partition { .. } => "partition",
                    Fault::PartitionOneWay { .. } => "one-way",
                    Fault::Heal => "heal",
                    Fault::LinkFaults { .. } => "link faults",
                    Fault::Crash { .. } => "crash",
                    Fault::Restart { .. } => "restart",
                    Fault::MessageFaults { .. } => "message faults",
                    Fault::CrashAfterSend { .. } => "crash after send",
                    Fault::BreakConnection { .. } => "break connection",
                    Fault::Script { .. } => "script",
                    Fault::Silent { .. } => "silent",
                    Fault::Mutate { .. } => "mutate",
                    Fault::Replay { .. } => "replay",
                    Fault::Twin { .. } => "twin",
                    Fault::Strategy { .. } => "strategy",
                });
            }
        }
        assert!(
            empty > 0 && empty < 100,
            "{empty} fault-free schedules of 300"
        );
        assert_eq!(kinds.len(), 8, "every fault kind appears: {kinds:?}");
    }

    /// Connection breaks are drawn for a protocol on the session link, between two
    /// distinct nodes, and never for one without it.
    #[test]
    fn connection_breaks_only_for_session_protocols() {
        let nodes: Vec<NodeId> = (1..=4).map(NodeId).collect();
        let limits = GeneratorLimits {
            horizon_ms: 1_000,
            events_max: 12,
            byzantine_max: 0,
        };
        let breaks = |labels: &[&str]| -> usize {
            (0..300)
                .map(|seed| {
                    let s = generate_schedule(
                        &mut stream_rng(seed, Stream::Scenario),
                        &nodes,
                        labels,
                        &[],
                        limits,
                    );
                    assert_eq!(s.validate(&nodes), Ok(()));
                    s.events
                        .iter()
                        .filter(|e| matches!(e.fault, Fault::BreakConnection { .. }))
                        .count()
                })
                .sum()
        };
        assert!(breaks(&["data", SESSION_KIND]) > 50);
        assert_eq!(breaks(&["data"]), 0);
    }

    /// Byzantine faults are drawn only for a protocol that tolerates Byzantine nodes,
    /// name at most that many nodes per schedule, and leave every other protocol's
    /// schedules exactly as they were (no draw is spent on them); twins are never
    /// drawn here (`Scope::Twins` draws them).
    #[test]
    fn byzantine_faults_only_for_protocols_that_tolerate_them() {
        let nodes: Vec<NodeId> = (1..=7).map(NodeId).collect();
        let labels = ["a", "b"];
        let gen = |seed, byzantine_max| {
            generate_schedule(
                &mut stream_rng(seed, Stream::Scenario),
                &nodes,
                &labels,
                &[],
                GeneratorLimits {
                    horizon_ms: 1_000,
                    events_max: 12,
                    byzantine_max,
                },
            )
        };
        let replays_in = |s: &FaultSchedule| {
            s.events
                .iter()
                .filter(|e| matches!(e.fault, Fault::Replay { .. }))
                .count()
        };
        let mut drawn = 0;
        let mut replays = 0;
        let mut twins = 0;
        for seed in 0..300 {
            let none = gen(seed, 0);
            assert!(none.byzantine_nodes().is_empty());
            assert!(none.twins().is_empty());
            let some = gen(seed, 2);
            twins += some.twins().len();
            assert_eq!(some.validate(&nodes), Ok(()));
            assert!(some.byzantine_nodes().len() <= 2, "seed {seed}");
            drawn += some.byzantine_nodes().len().min(1);
            replays += replays_in(&some);
            assert_eq!(replays_in(&none), 0);
        }
        assert!(replays > 30, "{replays} replays in 300 schedules");
        assert_eq!(twins, 0, "the swarm generator draws no twins");
        assert!(
            drawn > 100,
            "{drawn} of 300 schedules have a Byzantine node"
        );
    }

    /// An adversary is appended only for a protocol that tolerates Byzantine nodes and
    /// supplies strategies, naming a node the schedule already made Byzantine (if
    /// any), so the schedule stays within the bound; a quarter of such schedules or
    /// so get one, the rest are left exactly as they were.
    #[test]
    fn strategies_only_where_byzantine_nodes_are_tolerated() {
        let nodes: Vec<NodeId> = (1..=7).map(NodeId).collect();
        let limits = |byzantine_max| GeneratorLimits {
            horizon_ms: 1_000,
            events_max: 12,
            byzantine_max,
        };
        let draw = |seed, byzantine_max, strategies: &[&str]| {
            let rng = &mut stream_rng(seed, Stream::Scenario);
            let plain = generate_schedule(rng, &nodes, &["a"], &[], limits(byzantine_max));
            let with = with_strategy(
                rng,
                plain.clone(),
                &nodes,
                strategies,
                limits(byzantine_max),
            );
            (plain, with)
        };
        let mut drawn = 0;
        for seed in 0..300 {
            let (plain, with) = draw(seed, 0, &["x"]);
            assert_eq!(plain, with);
            let (plain, with) = draw(seed, 2, &[]);
            assert_eq!(plain, with);
            let (plain, with) = draw(seed, 2, &["x", "y"]);
            assert_eq!(with.validate(&nodes), Ok(()));
            assert!(with.byzantine_nodes().len() <= 2, "seed {seed}");
            if with != plain {
                drawn += 1;
                assert_eq!(with.events.len(), plain.events.len() + 1);
                let mut before = plain.byzantine_nodes();
                let after = with.byzantine_nodes();
                if !before.is_empty() {
                    assert_eq!(before, after, "seed {seed}: a new Byzantine node");
                }
                before.extend(after.iter().copied());
                assert!(with.end_ms() <= 1_000.max(plain.end_ms()), "seed {seed}");
            }
        }
        assert!(
            (40..120).contains(&drawn),
            "{drawn} of 300 got an adversary"
        );
    }

    /// Without message-kind labels the generator never draws a targeted fault or a
    /// protocol-timed crash (it could not name a kind).
    #[test]
    fn no_labels_no_targeted_faults() {
        let nodes: Vec<NodeId> = (1..=4).map(NodeId).collect();
        let limits = GeneratorLimits {
            horizon_ms: 1_000,
            events_max: 12,
            byzantine_max: 0,
        };
        for seed in 0..200 {
            let s = generate_schedule(
                &mut stream_rng(seed, Stream::Scenario),
                &nodes,
                &[],
                &[],
                limits,
            );
            assert!(s.events.iter().all(|e| !matches!(
                e.fault,
                Fault::MessageFaults { .. } | Fault::CrashAfterSend { .. }
            )));
        }
    }
}
