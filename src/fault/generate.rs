//! Seeded fault-schedule generation with swarm testing: each schedule switches whole
//! fault kinds on or off and picks its own rates and timing, because one fixed mix of
//! faults explores far less than many different mixes (TigerBeetle's VOPR, Groce et
//! al.'s "swarm testing").

use super::{Fault, FaultEvent, FaultSchedule, LinkFaults};
use crate::ids::NodeId;
use crate::sim::rng::Draw;
use rand_core::Rng;

/// Bounds on what the generator produces.
#[derive(Debug, Clone, Copy)]
pub struct GeneratorLimits {
    /// Faults happen in `0..horizon_ms`.
    pub horizon_ms: u64,
    /// At most this many events (crash-restart pairs count as two).
    pub events_max: usize,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Partition,
    OneWay,
    LinkFaults,
    Crash,
    Heal,
}

/// A random schedule over `nodes` with `acceptors` among them.
pub fn generate_schedule<R: Rng>(
    rng: &mut R,
    nodes: &[NodeId],
    limits: GeneratorLimits,
) -> FaultSchedule {
    assert!(nodes.len() >= 2 && limits.horizon_ms > 0);
    // Swarm: which kinds this schedule uses at all. Each is on with its own chance;
    // a schedule with none of them is a fault-free run, which is worth having too.
    let mut kinds = Vec::new();
    for (kind, p) in [
        (Kind::Partition, 0.5),
        (Kind::OneWay, 0.3),
        (Kind::LinkFaults, 0.6),
        (Kind::Crash, 0.5),
        (Kind::Heal, 0.5),
    ] {
        if rng.chance(p) {
            kinds.push(kind);
        }
    }
    let mut events = Vec::new();
    if kinds.is_empty() {
        return FaultSchedule { events };
    }
    // Per-schedule intensity: how far each rate may go.
    let drop_max = [0.05, 0.2, 0.5][rng.between(0, 2) as usize];
    let dup_max = [0.0, 0.2, 0.6][rng.between(0, 2) as usize];
    let delay_max = [0, 20, 150][rng.between(0, 2) as usize];
    let count = rng.between(1, limits.events_max.max(1) as u64) as usize;
    while events.len() < count {
        let kind = kinds[rng.between(0, kinds.len() as u64 - 1) as usize];
        let at_ms = rng.between(0, limits.horizon_ms - 1);
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
                    let a = nodes[rng.between(0, nodes.len() as u64 - 1) as usize];
                    let b = nodes[rng.between(0, nodes.len() as u64 - 1) as usize];
                    (a != b).then_some((a, b))
                } else {
                    None
                };
                Fault::LinkFaults { link, faults }
            }
            Kind::Crash => {
                let node = nodes[rng.between(0, nodes.len() as u64 - 1) as usize];
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
        };
        events.push(FaultEvent { at_ms, fault });
    }
    FaultSchedule { events }.sorted()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{stream_rng, Stream};

    /// Generated schedules are valid, time-ordered, within the horizon, repeatable for
    /// a seed, and vary across seeds (swarm: some seeds have no faults at all).
    #[test]
    fn schedules_are_valid_and_varied() {
        let nodes: Vec<NodeId> = (1..=5).map(NodeId).collect();
        let limits = GeneratorLimits {
            horizon_ms: 2_000,
            events_max: 10,
        };
        let mut empty = 0;
        let mut kinds = std::collections::BTreeSet::new();
        for seed in 0..300 {
            let s = generate_schedule(&mut stream_rng(seed, Stream::Scenario), &nodes, limits);
            let again = generate_schedule(&mut stream_rng(seed, Stream::Scenario), &nodes, limits);
            assert_eq!(s, again);
            assert_eq!(s.validate(&nodes), Ok(()));
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
                });
            }
        }
        assert!(
            empty > 0 && empty < 100,
            "{empty} fault-free schedules of 300"
        );
        assert_eq!(kinds.len(), 6, "every fault kind appears");
    }
}
