//! Scoped fault generation for experiments: instead of the swarm mix
//! ([`super::generate_schedule`]), a fixed number of faults placed by *round*, as
//! ByzzFuzz does (Winter et al., OOPSLA 2023), to compare how much of a bug's
//! detection a small scope keeps.
//!
//! Rounds, without knowing the protocol:
//! - a **process fault** in round `k` mutates a Byzantine node's `k`-th send of one
//!   message kind ([`Fault::Mutate`] with `skip = k - 1`), to some receivers: the
//!   sender's multicast count of that kind, ByzzFuzz's round for PBFT (a primary's
//!   `k`-th pre-prepare is its sequence number `k` in its first view);
//! - a **network fault** in round `k` partitions the cluster in two for one message
//!   hop (the network's largest latency) from the `k`-th hop after the first client
//!   request: a clock round, since a partition is not tied to any one sender.
//!
//! The modes ([`Scope`]): small scope (rounds `1..=r`, a strict subset of receivers:
//! equivocation), any scope (rounds anywhere in [`ANY_ROUNDS_MAX`], any receivers),
//! the random baseline (corruptions and drop windows at uniform clock times, no
//! rounds), and the colluding plan of `experiment tight-bound` (every Byzantine node
//! mutates the same kinds the same way toward the same receivers, from the start).
//! Nothing here is drawn by the default generator: campaigns and pinned schedules are
//! unchanged, only experiments ask for these.

use super::{Fault, FaultEvent, FaultSchedule, LinkFaults, KINDS_MAX};
use crate::ids::NodeId;
use crate::rng::Draw;
use rand_core::Rng;

/// Any-scope faults land in rounds `1..=ANY_ROUNDS_MAX`: past every send a PBFT run of
/// a few requests makes of one kind, so "anywhere in the run".
pub const ANY_ROUNDS_MAX: u32 = 64;
/// Most process or network faults one scoped schedule may ask for.
pub const SCOPE_FAULTS_MAX: u32 = 16;
/// Mutation numbers drawn (taken modulo what the core offers per message).
const MUTATIONS_DRAWN: u64 = 8;
/// Drop probability of a baseline drop window.
const BASELINE_DROP_PROBABILITY: f64 = 0.5;

/// How a scoped schedule places its faults. `process` faults are mutations of a
/// Byzantine node's messages, `network` faults partitions (or drop windows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// ByzzFuzz's small scope: `process` and `network` faults in rounds
    /// `1..=rounds`, each mutation sent to a strict subset of the other nodes.
    Small {
        process: u32,
        network: u32,
        rounds: u32,
    },
    /// Any scope: as many faults, in any round up to [`ANY_ROUNDS_MAX`], to any
    /// receivers (all of them included).
    Any { process: u32, network: u32 },
    /// Random baseline: `process` corruptions (the next message of a random kind to
    /// everybody, at a uniform time) and `network` drop windows (every message lost
    /// with probability 0.5 for one hop, at a uniform time).
    Baseline { process: u32, network: u32 },
    /// Colluding traitors: one plan shared by every Byzantine node (the same
    /// receivers, the same mutation number for every message kind it names, the same
    /// count), armed at 0 ms, plus up to two partition rounds in `1..=8`.
    Colluding,
    /// Twins (Bano et al. 2021): each Byzantine node runs a twin from 0 ms
    /// ([`Fault::Twin`]), with no mutation at all, and `network` partition rounds in
    /// `1..=rounds` split the cluster in two; in each, every twin's side is one more
    /// choice (one of the two groups, drawn), so the node and its twin may each lead
    /// their own half. Twins enumerates these choices round by round; this draws them
    /// from the same small-scope budget as ByzzFuzz's network faults.
    Twins { network: u32, rounds: u32 },
}

impl Scope {
    /// The mode's name in tables: `small`, `any`, `baseline`, `colluding`.
    pub fn name(&self) -> &'static str {
        match self {
            Scope::Small { .. } => "small",
            Scope::Any { .. } => "any",
            Scope::Baseline { .. } => "baseline",
            Scope::Colluding => "colluding",
            Scope::Twins { .. } => "twins",
        }
    }

    /// `(process, network)` fault counts, `None` for the colluding plan (drawn).
    fn counts(&self) -> Option<(u32, u32)> {
        match *self {
            Scope::Small {
                process, network, ..
            }
            | Scope::Any { process, network }
            | Scope::Baseline { process, network } => Some((process, network)),
            Scope::Twins { network, .. } => Some((0, network)),
            Scope::Colluding => None,
        }
    }
}

/// What a scoped scenario is drawn with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopePlan {
    pub scope: Scope,
    /// Exactly this many Byzantine nodes (drawn); process faults need at least one.
    pub byzantine: usize,
    /// Run more Byzantine nodes than the protocol tolerates: the scenario then says
    /// so (`Scenario::byzantine_beyond_tolerance`). Without it such a plan is an error.
    pub beyond_tolerance: bool,
    /// Only clusters of this many nodes (the protocol's drafts are drawn again from
    /// the same stream until one has it); `None`: whatever the protocol drafts.
    pub cluster_nodes: Option<usize>,
}

impl ScopePlan {
    /// The first problem with this plan, as a sentence.
    pub fn check(&self) -> Result<(), String> {
        if let Some((process, network)) = self.scope.counts() {
            if process > SCOPE_FAULTS_MAX || network > SCOPE_FAULTS_MAX {
                return Err(format!(
                    "{process} process and {network} network faults; at most {SCOPE_FAULTS_MAX} each"
                ));
            }
            if process > 0 && self.byzantine == 0 {
                return Err("process faults need a Byzantine node".into());
            }
        }
        if let Scope::Small { rounds, .. } | Scope::Twins { rounds, .. } = self.scope {
            if rounds == 0 || rounds > ANY_ROUNDS_MAX {
                return Err(format!("{rounds} rounds; need 1..={ANY_ROUNDS_MAX}"));
            }
        }
        if matches!(self.scope, Scope::Twins { .. }) && self.byzantine == 0 {
            return Err("twins need a Byzantine node to double".into());
        }
        Ok(())
    }
}

/// A scoped schedule over `nodes` (sorted ids) under `plan`; `message_kinds` are the
/// protocol's labels (none: no process faults can be named, and none are drawn),
/// `start_ms` is the first client request (network rounds count from there),
/// `round_ms` one message hop, `horizon_ms` the phase in which baseline faults land.
pub fn generate_scoped<R: Rng>(
    rng: &mut R,
    nodes: &[NodeId],
    message_kinds: &[&str],
    plan: &ScopePlan,
    start_ms: u64,
    round_ms: u64,
    horizon_ms: u64,
) -> FaultSchedule {
    assert!(nodes.len() >= 2 && round_ms > 0 && horizon_ms > 0);
    let byzantine = shuffled(rng, nodes)
        .into_iter()
        .take(plan.byzantine.min(nodes.len() - 1))
        .collect::<Vec<NodeId>>();
    let mut events = Vec::new();
    let pick = |rng: &mut R, from: &[NodeId]| from[rng.between(0, from.len() as u64 - 1) as usize];
    let kind = |rng: &mut R| {
        message_kinds[rng.between(0, message_kinds.len() as u64 - 1) as usize].to_string()
    };
    let partition_round = |rng: &mut R, events: &mut Vec<FaultEvent>, round: u32| {
        let at_ms = start_ms + u64::from(round - 1) * round_ms;
        let groups = split_two(rng, nodes);
        events.push(FaultEvent {
            at_ms,
            fault: Fault::Partition { groups },
        });
        events.push(FaultEvent {
            at_ms: at_ms + round_ms,
            fault: Fault::Heal,
        });
    };
    let can_mutate = !byzantine.is_empty() && !message_kinds.is_empty();
    match plan.scope {
        Scope::Small {
            process,
            network,
            rounds,
        } => {
            for _ in 0..process.min(u32::from(can_mutate) * SCOPE_FAULTS_MAX) {
                let node = pick(rng, &byzantine);
                let round = rng.between(1, u64::from(rounds)) as u32;
                events.push(FaultEvent {
                    at_ms: 0,
                    fault: Fault::Mutate {
                        node,
                        kind: kind(rng),
                        receivers: strict_subset(rng, &others(nodes, node)),
                        count: 1,
                        mutation: rng.between(0, MUTATIONS_DRAWN - 1) as u32,
                        skip: round - 1,
                    },
                });
            }
            for _ in 0..network {
                let round = rng.between(1, u64::from(rounds)) as u32;
                partition_round(rng, &mut events, round);
            }
        }
        Scope::Any { process, network } => {
            for _ in 0..process.min(u32::from(can_mutate) * SCOPE_FAULTS_MAX) {
                let node = pick(rng, &byzantine);
                let round = rng.between(1, u64::from(ANY_ROUNDS_MAX)) as u32;
                let everyone = others(nodes, node);
                let receivers = if rng.chance(0.5) {
                    everyone
                } else {
                    strict_subset(rng, &everyone)
                };
                events.push(FaultEvent {
                    at_ms: 0,
                    fault: Fault::Mutate {
                        node,
                        kind: kind(rng),
                        receivers,
                        count: 1,
                        mutation: rng.between(0, MUTATIONS_DRAWN - 1) as u32,
                        skip: round - 1,
                    },
                });
            }
            for _ in 0..network {
                let round = rng.between(1, u64::from(ANY_ROUNDS_MAX)) as u32;
                partition_round(rng, &mut events, round);
            }
        }
        Scope::Baseline { process, network } => {
            for _ in 0..process.min(u32::from(can_mutate) * SCOPE_FAULTS_MAX) {
                let node = pick(rng, &byzantine);
                events.push(FaultEvent {
                    at_ms: rng.between(0, horizon_ms - 1),
                    fault: Fault::Mutate {
                        node,
                        kind: kind(rng),
                        receivers: others(nodes, node),
                        count: 1,
                        mutation: rng.between(0, MUTATIONS_DRAWN - 1) as u32,
                        skip: 0,
                    },
                });
            }
            for _ in 0..network {
                if message_kinds.is_empty() {
                    break;
                }
                let at_ms = rng.between(0, horizon_ms - 1);
                let kinds: Vec<String> = message_kinds
                    .iter()
                    .take(KINDS_MAX)
                    .map(|k| k.to_string())
                    .collect();
                events.push(FaultEvent {
                    at_ms,
                    fault: Fault::MessageFaults {
                        kinds,
                        link: None,
                        faults: LinkFaults {
                            drop_probability: BASELINE_DROP_PROBABILITY,
                            ..LinkFaults::default()
                        },
                        duration_ms: round_ms,
                    },
                });
            }
        }
        Scope::Twins { network, rounds } => {
            // The partition rounds first (each with its own draw of the twins' sides),
            // so the first twin event can take the first round's side.
            let mut placed: Vec<(u64, Vec<Vec<NodeId>>, Vec<usize>)> = Vec::new();
            for _ in 0..network {
                let round = rng.between(1, u64::from(rounds)) as u32;
                let at_ms = start_ms + u64::from(round - 1) * round_ms;
                let groups = split_two(rng, nodes);
                let sides = byzantine
                    .iter()
                    .map(|_| rng.between(0, 1) as usize)
                    .collect();
                placed.push((at_ms, groups, sides));
            }
            placed.sort_by_key(|(at_ms, ..)| *at_ms);
            // A twin's side in a round: the drawn group without the node itself (the
            // other group if that leaves nobody).
            let side = |groups: &[Vec<NodeId>], pick: usize, node: NodeId| -> Vec<NodeId> {
                let chosen = others(&groups[pick], node);
                if chosen.is_empty() {
                    others(&groups[1 - pick], node)
                } else {
                    chosen
                }
            };
            for (k, &node) in byzantine.iter().enumerate() {
                let group = match placed.first() {
                    Some((_, groups, sides)) => side(groups, sides[k], node),
                    None => strict_subset(rng, &others(nodes, node)),
                };
                events.push(FaultEvent {
                    at_ms: 0,
                    fault: Fault::Twin { node, group },
                });
            }
            for (at_ms, groups, sides) in placed {
                events.push(FaultEvent {
                    at_ms,
                    fault: Fault::Partition {
                        groups: groups.clone(),
                    },
                });
                for (k, &node) in byzantine.iter().enumerate() {
                    events.push(FaultEvent {
                        at_ms,
                        fault: Fault::Twin {
                            node,
                            group: side(&groups, sides[k], node),
                        },
                    });
                }
                events.push(FaultEvent {
                    at_ms: at_ms + round_ms,
                    fault: Fault::Heal,
                });
            }
        }
        Scope::Colluding => {
            if can_mutate {
                let honest: Vec<NodeId> = nodes
                    .iter()
                    .copied()
                    .filter(|n| !byzantine.contains(n))
                    .collect();
                // The receivers the traitors lie to: a strict subset of the honest
                // nodes when there are two or more (the rest hear the truth), so two
                // honest groups may be led apart.
                let receivers = strict_subset(rng, &honest);
                let count = rng.between(1, 3) as u32;
                let mut kinds: Vec<String> = message_kinds
                    .iter()
                    .filter(|_| rng.chance(0.5))
                    .map(|k| k.to_string())
                    .collect();
                if kinds.is_empty() {
                    kinds.push(kind(rng));
                }
                // One lie for every kind: the same mutation number throughout, so a
                // protocol whose mutation lists line up (PBFT's number 7 is "another
                // seen request at the same view and sequence" for a pre-prepare and
                // for both votes) gets a consistent conflicting story.
                let mutation = rng.between(0, MUTATIONS_DRAWN - 1) as u32;
                for kind in kinds {
                    for &node in &byzantine {
                        events.push(FaultEvent {
                            at_ms: 0,
                            fault: Fault::Mutate {
                                node,
                                kind: kind.clone(),
                                receivers: receivers.clone(),
                                count,
                                mutation,
                                skip: 0,
                            },
                        });
                    }
                }
            }
            for _ in 0..rng.between(0, 2) {
                let round = rng.between(1, 8) as u32;
                partition_round(rng, &mut events, round);
            }
        }
    }
    FaultSchedule { events }.sorted()
}

/// `nodes` without `node`.
fn others(nodes: &[NodeId], node: NodeId) -> Vec<NodeId> {
    nodes.iter().copied().filter(|&n| n != node).collect()
}

/// `nodes` in a drawn order.
fn shuffled<R: Rng>(rng: &mut R, nodes: &[NodeId]) -> Vec<NodeId> {
    let mut order = nodes.to_vec();
    rng.shuffle(&mut order);
    order
}

/// A nonempty subset of `from`, strict when `from` has two or more nodes; sorted.
fn strict_subset<R: Rng>(rng: &mut R, from: &[NodeId]) -> Vec<NodeId> {
    if from.len() <= 1 {
        return from.to_vec();
    }
    let size = rng.between(1, from.len() as u64 - 1) as usize;
    let mut subset: Vec<NodeId> = shuffled(rng, from).into_iter().take(size).collect();
    subset.sort();
    subset
}

/// Two nonempty groups covering `nodes`.
fn split_two<R: Rng>(rng: &mut R, nodes: &[NodeId]) -> Vec<Vec<NodeId>> {
    let one = strict_subset(rng, nodes);
    let rest: Vec<NodeId> = nodes.iter().copied().filter(|n| !one.contains(n)).collect();
    vec![one, rest]
}

/// Most drafts drawn while looking for one of the plan's cluster size.
const DRAFTS_MAX: usize = 1_000;

/// The scenario of `seed` for `protocol` under `plan`: the protocol drafts cluster,
/// workload and parameters from the scenario stream (again, from the same stream,
/// until the cluster has the plan's size), then the scoped schedule is drawn next from
/// that stream. An error says why the plan cannot be met.
pub fn scoped_scenario<P: crate::protocol::Protocol + ?Sized>(
    protocol: &P,
    seed: u64,
    plan: &ScopePlan,
) -> Result<crate::scenario::Scenario, String> {
    use crate::rng::{stream_rng, Stream};
    plan.check()?;
    let mut rng = stream_rng(seed, Stream::Scenario);
    let mut draft = protocol.draft(&mut rng);
    let mut drafts = 1;
    while let Some(size) = plan.cluster_nodes {
        if draft.cluster.len() == size {
            break;
        }
        if drafts >= DRAFTS_MAX {
            return Err(format!(
                "{} drafted no cluster of {size} nodes in {DRAFTS_MAX} tries",
                protocol.name()
            ));
        }
        draft = protocol.draft(&mut rng);
        drafts += 1;
    }
    let n = draft.cluster.len();
    let tolerated = protocol.byzantine_max(n);
    if plan.byzantine > tolerated && !plan.beyond_tolerance {
        return Err(format!(
            "{} Byzantine nodes; {} tolerates {tolerated} of {n} (the plan must say \
             it runs beyond tolerance)",
            plan.byzantine,
            protocol.name()
        ));
    }
    if plan.byzantine >= n {
        return Err(format!(
            "{} Byzantine nodes in a cluster of {n}",
            plan.byzantine
        ));
    }
    let network = crate::scenario::NetworkConfig::default();
    let start_ms = draft.workload.iter().map(|p| p.at_ms).min().unwrap_or(0);
    let faults = generate_scoped(
        &mut rng,
        &draft.cluster.ids(),
        protocol.message_kinds(),
        plan,
        start_ms,
        network.latency_ms_max.max(1),
        draft.horizon_ms.max(1),
    );
    Ok(crate::scenario::Scenario {
        network,
        workload: draft.workload,
        byzantine_beyond_tolerance: faults.byzantine_nodes().len() > tolerated,
        faults,
        liveness_bound_ms: draft.liveness_bound_ms,
        params: serde_json::to_value(&draft.params).expect("params serialize"),
        ..crate::scenario::Scenario::quiet(protocol.name(), draft.cluster, seed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream_rng, Stream};

    fn plan(scope: Scope, byzantine: usize) -> ScopePlan {
        ScopePlan {
            scope,
            byzantine,
            beyond_tolerance: false,
            cluster_nodes: None,
        }
    }

    fn draw(seed: u64, plan: &ScopePlan) -> FaultSchedule {
        let nodes: Vec<NodeId> = (1..=4).map(NodeId).collect();
        generate_scoped(
            &mut stream_rng(seed, Stream::Scenario),
            &nodes,
            &["a", "b", "c"],
            plan,
            100,
            10,
            1_000,
        )
    }

    /// A Twins plan doubles exactly its Byzantine node from 0 ms with no mutation,
    /// places `d` two-group partitions in rounds `1..=r` (each healed one hop later)
    /// and moves the twin to one side of each (some of the others, never its own
    /// node); a plan with no Byzantine node is refused.
    #[test]
    fn twins_double_one_node_and_take_a_side_per_round() {
        let twins = |network| plan(Scope::Twins { network, rounds: 8 }, 1);
        assert!(plan(
            Scope::Twins {
                network: 1,
                rounds: 8
            },
            0
        )
        .check()
        .is_err());
        assert!(plan(
            Scope::Twins {
                network: 1,
                rounds: 0
            },
            1
        )
        .check()
        .is_err());
        let nodes: Vec<NodeId> = (1..=4).map(NodeId).collect();
        for seed in 0..100 {
            for network in [0, 1, 3] {
                let s = draw(seed, &twins(network));
                assert_eq!(s.validate(&nodes), Ok(()));
                assert_eq!(s.byzantine_nodes().len(), 1);
                let node = s.twins()[0];
                let partitions: Vec<&FaultEvent> = s
                    .events
                    .iter()
                    .filter(|e| matches!(e.fault, Fault::Partition { .. }))
                    .collect();
                assert_eq!(partitions.len(), network as usize);
                for p in &partitions {
                    assert!((100..100 + 8 * 10).contains(&p.at_ms), "{s:?}");
                }
                let moves = s
                    .events
                    .iter()
                    .filter_map(|e| match &e.fault {
                        Fault::Twin { group, .. } => Some(group),
                        _ => None,
                    })
                    .collect::<Vec<_>>();
                assert_eq!(moves.len(), 1 + network as usize);
                for group in moves {
                    assert!(!group.is_empty() && !group.contains(&node));
                }
                assert!(s
                    .events
                    .iter()
                    .all(|e| !matches!(e.fault, Fault::Mutate { .. })));
            }
        }
    }

    /// A mutation with `skip` lets that many sends of its kind to each receiver
    /// through unchanged, then mutates `count` of them: the round it lands in is
    /// `skip + 1`, per receiver; other receivers and kinds are untouched.
    #[test]
    fn skip_puts_the_mutation_in_its_round() {
        let mut layer = super::super::FaultLayer::new(1, 1, 10);
        layer.arm_mutation(NodeId(1), "pp", &[NodeId(2), NodeId(3)], 1, 4, 2);
        let mut ask = |to: u16, kind: &str| layer.mutation(NodeId(1), NodeId(to), kind);
        assert_eq!(ask(2, "pp"), None);
        assert_eq!(ask(2, "vote"), None);
        assert_eq!(ask(2, "pp"), None);
        assert_eq!(ask(3, "pp"), None);
        assert_eq!(ask(2, "pp"), Some(4));
        assert_eq!(ask(2, "pp"), None);
        assert_eq!(ask(4, "pp"), None);
        assert_eq!(ask(3, "pp"), None);
        assert_eq!(ask(3, "pp"), Some(4));
    }

    /// Small scope draws exactly `c` mutations (one Byzantine node, rounds `1..=r`,
    /// a strict subset of receivers, one send each) and `d` one-hop partitions in the
    /// first `r` hops after the first request; valid, repeatable, and every round of
    /// `1..=r` is reached over seeds.
    #[test]
    fn small_scope_places_c_and_d_faults_in_r_rounds() {
        let small = plan(
            Scope::Small {
                process: 2,
                network: 1,
                rounds: 8,
            },
            1,
        );
        let nodes: Vec<NodeId> = (1..=4).map(NodeId).collect();
        let mut rounds = std::collections::BTreeSet::new();
        for seed in 0..200 {
            let s = draw(seed, &small);
            assert_eq!(s, draw(seed, &small));
            assert_eq!(s.validate(&nodes), Ok(()));
            assert_eq!(s.byzantine_nodes().len(), 1);
            let mut mutations = 0;
            let mut partitions = 0;
            for e in &s.events {
                match &e.fault {
                    Fault::Mutate {
                        receivers,
                        count,
                        skip,
                        ..
                    } => {
                        assert!(receivers.len() < 3 && *count == 1 && *skip < 8);
                        rounds.insert(*skip);
                        mutations += 1;
                    }
                    Fault::Partition { .. } => {
                        assert!((100..180).contains(&e.at_ms));
                        partitions += 1;
                    }
                    Fault::Heal => {}
                    other => panic!("{other:?} is not small scope"),
                }
            }
            assert_eq!((mutations, partitions), (2, 1), "seed {seed}");
        }
        assert_eq!(rounds.len(), 8);
    }

    /// Any scope reaches rounds past `r` and all receivers; the baseline has no
    /// rounds (no skip) but uniform times and drop windows; the colluding plan arms
    /// every Byzantine node alike (same kind, receivers, count and mutation).
    #[test]
    fn any_scope_baseline_and_colluding_differ_as_documented() {
        let any = plan(
            Scope::Any {
                process: 1,
                network: 1,
            },
            1,
        );
        let late = (0..200)
            .filter(|&seed| {
                draw(seed, &any).events.iter().any(
                    |e| matches!(e.fault, Fault::Mutate { skip, ref receivers, .. } if skip >= 8 && receivers.len() == 3),
                )
            })
            .count();
        assert!(late > 10, "{late}");
        let baseline = plan(
            Scope::Baseline {
                process: 1,
                network: 1,
            },
            1,
        );
        for seed in 0..100 {
            let s = draw(seed, &baseline);
            assert!(s.events.iter().all(|e| match &e.fault {
                Fault::Mutate { skip, .. } => *skip == 0,
                Fault::MessageFaults { faults, .. } => faults.drop_probability == 0.5,
                _ => false,
            }));
        }
        let colluding = plan(Scope::Colluding, 2);
        for seed in 0..100 {
            let s = draw(seed, &colluding);
            assert_eq!(s.byzantine_nodes().len(), 2);
            let arms: Vec<(String, Vec<NodeId>, u32, u32)> = s
                .events
                .iter()
                .filter_map(|e| match &e.fault {
                    Fault::Mutate {
                        kind,
                        receivers,
                        count,
                        mutation,
                        ..
                    } => Some((kind.clone(), receivers.clone(), *count, *mutation)),
                    _ => None,
                })
                .collect();
            assert!(!arms.is_empty() && arms.len().is_multiple_of(2));
            for pair in arms.chunks(2) {
                assert_eq!(pair[0], pair[1], "seed {seed}");
            }
            let byzantine = s.byzantine_nodes();
            assert!(arms
                .iter()
                .all(|(_, receivers, _, _)| receivers.iter().all(|r| !byzantine.contains(r))));
        }
    }
}
