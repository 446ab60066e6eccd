//! Faults as data (docs/architecture.md, principle 3): typed, timed events that the runner
//! applies, plus the per-message layer that drops, duplicates and delays datagrams.
//! Nothing here knows a protocol rule.

mod cluster_shrink;
mod generate;
mod layer;
mod replay;
mod scope;
mod script;
mod shrink;
mod storage;
pub mod strategy;
mod transport;

pub use cluster_shrink::{apply_cut, cluster_candidates, with_seed, CUT_SEEDS};
pub use generate::{
    generate_scenario, generate_schedule, scenario_from_draft, with_strategy, GeneratorLimits,
    SCENARIO_FAULT_EVENTS_MAX,
};
pub use layer::{latency_ms, Copies, Copy, CrashRequest, FaultLayer, PendingRestarts, Verdict};
pub use replay::ReplayMemory;
pub use scope::{
    generate_scoped, scoped_scenario, Scope, ScopePlan, ANY_ROUNDS_MAX, SCOPE_FAULTS_MAX,
};
pub use script::{script_candidates, ScriptStep, SCRIPT_STEPS_MAX};
pub use shrink::{schedule_candidates, with_node_moved, without_node};
pub use storage::FaultyStorage;
pub use transport::{FaultyTransport, SimLink};

use crate::ids::NodeId;
use serde::{Deserialize, Serialize};

/// Largest extra delay the fault layer may add to one message.
pub const DELAY_MS_MAX: u64 = 10_000;
/// Most events a schedule may hold.
pub const EVENTS_MAX: usize = 1_000;
/// Longest window a [`Fault::MessageFaults`] may cover.
pub const WINDOW_MS_MAX: u64 = 120_000;
/// Longest time a [`Fault::CrashAfterSend`] may keep its node down.
pub const DOWN_MS_MAX: u64 = 60_000;
/// Largest `nth` a [`Fault::CrashAfterSend`] may wait for.
pub const NTH_MAX: u32 = 1_000;
/// Most message kinds one [`Fault::MessageFaults`] may name.
pub const KINDS_MAX: usize = 16;

/// Per-message fault rates on a link (or on every link).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkFaults {
    /// Chance that a message is lost.
    pub drop_probability: f64,
    /// Chance that a message that is not lost arrives twice.
    pub duplicate_probability: f64,
    /// Each copy is held back by an extra delay uniform in `0..=delay_ms_max`; a spread
    /// of delays reorders messages.
    pub delay_ms_max: u64,
}

impl LinkFaults {
    pub fn is_quiet(&self) -> bool {
        self.drop_probability == 0.0 && self.duplicate_probability == 0.0 && self.delay_ms_max == 0
    }
}

/// One fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// Cut every link between nodes of different groups (both directions). Nodes listed
    /// in no group form one more group together.
    Partition { groups: Vec<Vec<NodeId>> },
    /// Cut the links from each node of `from` to each node of `to`, one direction only.
    PartitionOneWay { from: Vec<NodeId>, to: Vec<NodeId> },
    /// Repair every link.
    Heal,
    /// Set per-message fault rates on the directed link `link`, or on every link
    /// (replacing all per-link settings) when `link` is `None`.
    LinkFaults {
        link: Option<(NodeId, NodeId)>,
        faults: LinkFaults,
    },
    /// Stop the node's software; its unsynced writes are lost.
    Crash { node: NodeId },
    /// Start a crashed node again; it recovers from what it synced.
    Restart { node: NodeId },
    /// Targeted message faults: for `duration_ms` from the event's time, messages whose
    /// kind is one of `kinds` (labels the protocol gives its messages, e.g.
    /// `"Accepted"`) on the directed `link` (or on every link) get these rates instead
    /// of the link's own. Lets a schedule duplicate only acceptances, or drop every
    /// accept from one proposer for 30 ms, without the layer knowing any protocol.
    MessageFaults {
        kinds: Vec<String>,
        link: Option<(NodeId, NodeId)>,
        faults: LinkFaults,
        duration_ms: u64,
    },
    /// A crash timed by the protocol instead of the clock: from the event's time on,
    /// `node` crashes right after its `nth` send of a message of kind `kind` (at the
    /// start of the next millisecond), and restarts `down_ms` later (`None`: it stays
    /// down until the liveness phase). This lands crashes between a promise and an
    /// acceptance, or between an acceptance and its reply, which random times rarely hit.
    CrashAfterSend {
        node: NodeId,
        kind: String,
        nth: u32,
        down_ms: Option<u64>,
    },
    /// Lose the next datagram `from` sends `to`. On the session link
    /// (`crate::protocol::session`) that breaks their connection: the receiver finds a
    /// gap, or the sender waits in vain for its acknowledgement, and both sides start
    /// over. On datagrams it is one lost message. Generated for protocols that list
    /// the session kind among their message kinds.
    BreakConnection { from: NodeId, to: NodeId },
    /// A recorded adversary ([`ScriptStep`]): the run follows these steps, one per
    /// millisecond, instead of the network's latencies and the nodes' timer delays, then
    /// its liveness phase. It must be the schedule's only event, at 0 ms. Both lanes
    /// play it, to the same trace: the fast lane with the model's executor, turmoil
    /// with the real node shells (`crate::sim::run_turmoil_scripted`). The exhaustive
    /// lane (`gauntlet check-model`) saves its counterexamples this way.
    Script { steps: Vec<ScriptStep> },
    /// Byzantine: from the event's time on (the liveness phase included), `node` sends
    /// nothing. Its core keeps running (it receives, decides, keeps its keys); every
    /// datagram it sends is lost. The judges leave the node out.
    Silent { node: NodeId },
    /// Byzantine (ByzzFuzz's small-scope mutation; equivocation when `receivers` is
    /// not everybody): from the event's time on, `node`'s next `count` messages of kind
    /// `kind` to each of `receivers` are replaced by the sending core's own mutation
    /// number `mutation` of the message (`Core::mutations`, taken modulo their number;
    /// a message with none goes out unchanged). The core may sign a mutation with its
    /// own key only. The judges leave the node out. Generated only for protocols that
    /// tolerate Byzantine nodes (`Protocol::byzantine_max`).
    Mutate {
        node: NodeId,
        kind: String,
        receivers: Vec<NodeId>,
        count: u32,
        mutation: u32,
        /// The first `skip` sends of `kind` to each receiver (from the event's time)
        /// go out unchanged: the mutation lands in round `skip + 1` of the sender's
        /// sends of that kind (ByzzFuzz's rounds, `src/fault/scope.rs`). 0 by default,
        /// and then left out of saved schedules.
        #[serde(default, skip_serializing_if = "is_zero")]
        skip: u32,
    },
    /// Byzantine (a replay): from the event's time on, `node`'s next `count` messages
    /// of kind `kind` to each of `receivers` are replaced by an old message, one it
    /// sent or received since this fault was armed (in its current incarnation): the
    /// `nth` latest (1: the latest; past the oldest it remembers, the oldest). The node
    /// remembers its last [`REPLAY_MEMORY`] messages; with none yet, the message goes
    /// out unchanged. A received message goes out as it came, under the replaying
    /// node's own address (it cannot send as another node). The judges leave the node
    /// out. Generated only for protocols that tolerate Byzantine nodes.
    Replay {
        node: NodeId,
        kind: String,
        receivers: Vec<NodeId>,
        count: u32,
        nth: u32,
    },
    /// Byzantine (Twins, Bano et al. 2021): from the event's time on (the liveness
    /// phase included), a second instance of `node` runs with the same identity and
    /// keys, started fresh from what `node` had made durable by then, with its own
    /// disk and random stream. Both send as `node`, so a correct core equivocates
    /// without any protocol-specific mutation. A datagram to `node` reaches every
    /// instance whose link from the sender is up: with no partition in force both get
    /// it; while a (symmetric) [`Fault::Partition`] is in force, the original sits
    /// where the partition puts `node` and the twin with `group` only. A later twin
    /// event for the same node moves its twin to the new `group` (Twins' per-round
    /// partitions). The judges leave the node out. A twin always runs the honest
    /// core, as Twins' do, even while a [`Fault::Strategy`] holds its node: a twin
    /// tests what a correct implementation does when its keys run twice, an adversary
    /// what a deliberate liar does; one node under both is both at once.
    Twin { node: NodeId, group: Vec<NodeId> },
    /// Byzantine (a named adversary): from the event's time, `node` runs the
    /// protocol's adversary `strategy` (`crate::protocol::Protocol::strategies`: a
    /// PBFT primary that equivocates on purpose, a selfish miner) instead of its
    /// honest core, with the same identity and keys, for `duration_ms` (`None`: to
    /// the end of the run, the liveness phase included). The adversary takes over as
    /// a restart does: the node's running incarnation stops (unsynced writes lost) and
    /// the next one starts at once, from what the node made durable, as the
    /// adversary's core; when the window ends the honest core takes over again the
    /// same way. A node that is down when either happens starts as whichever core is
    /// in force when it is restarted. A later strategy event for the same node
    /// replaces an earlier one still in force. The judges leave the node out.
    /// Generated only for protocols that tolerate Byzantine nodes and supply
    /// strategies.
    Strategy {
        node: NodeId,
        strategy: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duration_ms: Option<u64>,
    },
}

/// Longest name a [`Fault::Strategy`] may give its adversary.
pub const STRATEGY_NAME_BYTES_MAX: usize = 32;

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// How many old messages (sent or received) a node with an armed [`Fault::Replay`]
/// remembers; `nth` is at most this.
pub const REPLAY_MEMORY: u32 = 32;

/// The groups a [`Fault::Partition`] really makes in a cluster of `ids`: empty groups
/// dropped, and every node listed in no group gathered into one more group.
pub fn partition_groups(groups: &[Vec<NodeId>], ids: &[NodeId]) -> Vec<Vec<NodeId>> {
    let mut groups: Vec<Vec<NodeId>> = groups.iter().filter(|g| !g.is_empty()).cloned().collect();
    let rest: Vec<NodeId> = ids
        .iter()
        .copied()
        .filter(|n| !groups.iter().any(|g| g.contains(n)))
        .collect();
    if !rest.is_empty() {
        groups.push(rest);
    }
    groups
}

/// The pairs of distinct nodes in different groups: the links a partition cuts (both
/// directions).
pub fn pairs_across(groups: &[Vec<NodeId>]) -> Vec<(NodeId, NodeId)> {
    let mut pairs = Vec::new();
    for (i, a) in groups.iter().enumerate() {
        for b in &groups[i + 1..] {
            for &x in a {
                for &y in b {
                    if x != y {
                        pairs.push((x, y));
                    }
                }
            }
        }
    }
    pairs
}

/// The directed links a [`Fault::PartitionOneWay`] cuts.
pub fn pairs_one_way(from: &[NodeId], to: &[NodeId]) -> Vec<(NodeId, NodeId)> {
    from.iter()
        .flat_map(|&x| to.iter().map(move |&y| (x, y)))
        .filter(|(x, y)| x != y)
        .collect()
}

/// A fault at a simulated time (milliseconds since the run started).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultEvent {
    pub at_ms: u64,
    #[serde(flatten)]
    pub fault: Fault,
}

/// The faults of phase 1, in time order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FaultSchedule {
    pub events: Vec<FaultEvent>,
}

impl FaultSchedule {
    /// The recorded adversary this schedule is, if it is one ([`Fault::Script`]).
    pub fn script(&self) -> Option<&[ScriptStep]> {
        self.events.iter().find_map(|e| match &e.fault {
            Fault::Script { steps } => Some(steps.as_slice()),
            _ => None,
        })
    }

    /// Sort by time, keeping the given order among events at the same time.
    pub fn sorted(mut self) -> Self {
        self.events.sort_by_key(|e| e.at_ms);
        self
    }

    /// When the schedule is over: the time of the last event, or the end of the last
    /// targeted window if that is later; 0 for an empty schedule. (A protocol-timed
    /// crash stays armed until then.)
    pub fn end_ms(&self) -> u64 {
        self.events
            .iter()
            .map(|e| match &e.fault {
                Fault::MessageFaults { duration_ms, .. }
                | Fault::Strategy {
                    duration_ms: Some(duration_ms),
                    ..
                } => e.at_ms.saturating_add(*duration_ms),
                _ => e.at_ms,
            })
            .max()
            .unwrap_or(0)
    }

    /// The nodes a Byzantine fault names ([`Fault::Silent`], [`Fault::Mutate`],
    /// [`Fault::Replay`], [`Fault::Twin`], [`Fault::Strategy`]): the
    /// judges leave them out, whatever they record.
    pub fn byzantine_nodes(&self) -> std::collections::BTreeSet<NodeId> {
        self.events
            .iter()
            .filter_map(|e| match &e.fault {
                Fault::Silent { node }
                | Fault::Mutate { node, .. }
                | Fault::Replay { node, .. }
                | Fault::Twin { node, .. }
                | Fault::Strategy { node, .. } => Some(*node),
                _ => None,
            })
            .collect()
    }

    /// The nodes a [`Fault::Twin`] doubles, each once, in id order: the worlds make
    /// room for their twins before the run starts.
    pub fn twins(&self) -> Vec<NodeId> {
        let twins: std::collections::BTreeSet<NodeId> = self
            .events
            .iter()
            .filter_map(|e| match &e.fault {
                Fault::Twin { node, .. } => Some(*node),
                _ => None,
            })
            .collect();
        twins.into_iter().collect()
    }

    /// The [`Fault::BreakConnection`] events, by index, with the sender whose next
    /// datagram they lose. They wait for that send rather than a time, so they can land
    /// after every timed fault is over, which a protocol that assumes a quiet network
    /// after some time (the generals' synchronous rounds) must refuse.
    pub fn broken_connections(&self) -> Vec<(usize, NodeId)> {
        self.events
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match &e.fault {
                Fault::BreakConnection { from, .. } => Some((i, *from)),
                _ => None,
            })
            .collect()
    }

    /// The first problem with this schedule in a cluster of `nodes`, as
    /// `(field path, reason)`, e.g. `("faults[3].node", "n9 is not in the cluster")`.
    pub fn validate(&self, nodes: &[NodeId]) -> Result<(), (String, String)> {
        if self.events.len() > EVENTS_MAX {
            return Err((
                "faults".into(),
                format!("{} events, limit {EVENTS_MAX}", self.events.len()),
            ));
        }
        let known = |n: &NodeId| nodes.contains(n);
        for (i, e) in self.events.iter().enumerate() {
            let field = |f: &str| format!("faults[{i}].{f}");
            let check_nodes = |name: &str, list: &[NodeId]| -> Result<(), (String, String)> {
                match list.iter().find(|n| !known(n)) {
                    Some(n) => Err((field(name), format!("{n} is not in the cluster"))),
                    None => Ok(()),
                }
            };
            if e.at_ms > crate::scenario::SIM_MS_MAX {
                return Err((
                    field("at_ms"),
                    format!(
                        "{} is past the longest run ({} ms)",
                        e.at_ms,
                        crate::scenario::SIM_MS_MAX
                    ),
                ));
            }
            if i > 0 && e.at_ms < self.events[i - 1].at_ms {
                return Err((field("at_ms"), "events must be in time order".into()));
            }
            match &e.fault {
                Fault::Partition { groups } => {
                    for g in groups {
                        check_nodes("groups", g)?;
                    }
                }
                Fault::PartitionOneWay { from, to } => {
                    check_nodes("from", from)?;
                    check_nodes("to", to)?;
                }
                Fault::Heal => {}
                Fault::LinkFaults { link, faults } => {
                    if let Some((a, b)) = link {
                        check_nodes("link", &[*a, *b])?;
                    }
                    check_rates(faults).map_err(|(f, why)| (field(&f), why))?;
                }
                Fault::Crash { node } | Fault::Restart { node } => check_nodes("node", &[*node])?,
                Fault::BreakConnection { from, to } => {
                    check_nodes("from", &[*from])?;
                    check_nodes("to", &[*to])?;
                    if from == to {
                        return Err((field("to"), "a node has no connection to itself".into()));
                    }
                }
                Fault::MessageFaults {
                    kinds,
                    link,
                    faults,
                    duration_ms,
                } => {
                    if let Some((a, b)) = link {
                        check_nodes("link", &[*a, *b])?;
                    }
                    check_rates(faults).map_err(|(f, why)| (field(&f), why))?;
                    if kinds.is_empty() || kinds.len() > KINDS_MAX {
                        return Err((
                            field("kinds"),
                            format!("{} kinds; need 1..={KINDS_MAX}", kinds.len()),
                        ));
                    }
                    if *duration_ms == 0 || *duration_ms > WINDOW_MS_MAX {
                        return Err((
                            field("duration_ms"),
                            format!("{duration_ms} is not in 1..={WINDOW_MS_MAX}"),
                        ));
                    }
                }
                Fault::Script { steps } => {
                    if i != 0 || e.at_ms != 0 || self.events.len() != 1 {
                        return Err((
                            field("type"),
                            "a script must be the schedule's only event, at 0 ms".into(),
                        ));
                    }
                    if steps.len() > SCRIPT_STEPS_MAX {
                        return Err((
                            field("steps"),
                            format!("{} steps, limit {SCRIPT_STEPS_MAX}", steps.len()),
                        ));
                    }
                    for (j, step) in steps.iter().enumerate() {
                        if let Some(n) = step.nodes().iter().find(|n| !known(n)) {
                            return Err((
                                field(&format!("steps[{j}]")),
                                format!("{n} is not in the cluster"),
                            ));
                        }
                    }
                }
                Fault::Silent { node } => check_nodes("node", &[*node])?,
                Fault::Strategy {
                    node,
                    strategy,
                    duration_ms,
                } => {
                    check_nodes("node", &[*node])?;
                    if strategy.is_empty() || strategy.len() > STRATEGY_NAME_BYTES_MAX {
                        return Err((
                            field("strategy"),
                            format!(
                                "{} bytes; a strategy's name has 1..={STRATEGY_NAME_BYTES_MAX}",
                                strategy.len()
                            ),
                        ));
                    }
                    if let Some(d) = duration_ms {
                        if *d == 0 || *d > WINDOW_MS_MAX {
                            return Err((
                                field("duration_ms"),
                                format!("{d} is not in 1..={WINDOW_MS_MAX}"),
                            ));
                        }
                    }
                }
                Fault::Twin { node, group } => {
                    check_nodes("node", &[*node])?;
                    check_nodes("group", group)?;
                    if group.is_empty() || group.contains(node) {
                        return Err((
                            field("group"),
                            format!("the twin of {node} needs one or more nodes other than {node} on its side"),
                        ));
                    }
                    if group.len() > nodes.len() {
                        return Err((
                            field("group"),
                            format!("{} nodes in a cluster of {}", group.len(), nodes.len()),
                        ));
                    }
                }
                Fault::Mutate {
                    node,
                    receivers,
                    count,
                    skip,
                    ..
                } => {
                    check_nodes("node", &[*node])?;
                    check_nodes("receivers", receivers)?;
                    if *skip > NTH_MAX {
                        return Err((field("skip"), format!("{skip} exceeds {NTH_MAX}")));
                    }
                    if receivers.is_empty() || receivers.contains(node) {
                        return Err((
                            field("receivers"),
                            "need one or more receivers other than the node".into(),
                        ));
                    }
                    if *count == 0 || *count > NTH_MAX {
                        return Err((field("count"), format!("{count} is not in 1..={NTH_MAX}")));
                    }
                }
                Fault::Replay {
                    node,
                    receivers,
                    count,
                    nth,
                    ..
                } => {
                    check_nodes("node", &[*node])?;
                    check_nodes("receivers", receivers)?;
                    if receivers.is_empty() || receivers.contains(node) {
                        return Err((
                            field("receivers"),
                            "need one or more receivers other than the node".into(),
                        ));
                    }
                    if *count == 0 || *count > NTH_MAX {
                        return Err((field("count"), format!("{count} is not in 1..={NTH_MAX}")));
                    }
                    if *nth == 0 || *nth > REPLAY_MEMORY {
                        return Err((field("nth"), format!("{nth} is not in 1..={REPLAY_MEMORY}")));
                    }
                }
                Fault::CrashAfterSend {
                    node, nth, down_ms, ..
                } => {
                    check_nodes("node", &[*node])?;
                    if *nth == 0 || *nth > NTH_MAX {
                        return Err((field("nth"), format!("{nth} is not in 1..={NTH_MAX}")));
                    }
                    if let Some(d) = down_ms {
                        if *d == 0 || *d > DOWN_MS_MAX {
                            return Err((
                                field("down_ms"),
                                format!("{d} is not in 1..={DOWN_MS_MAX}"),
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The first [`Fault::Strategy`] naming an adversary that `protocol` does not
    /// supply (`known`: its `Protocol::strategies`), as `(field path, reason)`.
    pub fn validate_strategies(
        &self,
        protocol: &str,
        known: &[&str],
    ) -> Result<(), (String, String)> {
        for (i, e) in self.events.iter().enumerate() {
            if let Fault::Strategy { strategy, .. } = &e.fault {
                if !known.contains(&strategy.as_str()) {
                    let known = if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    };
                    return Err((
                        format!("faults[{i}].strategy"),
                        format!("{strategy:?} is not a strategy of {protocol} (known: {known})"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The first message-kind label that is not one of `known` (the protocol's own
    /// labels), as `(field path, reason)`: a typo in a saved schedule would otherwise
    /// silently target nothing.
    pub fn validate_kinds(&self, known: &[&str]) -> Result<(), (String, String)> {
        for (i, e) in self.events.iter().enumerate() {
            let (field, labels): (String, &[String]) = match &e.fault {
                Fault::MessageFaults { kinds, .. } => (format!("faults[{i}].kinds"), kinds),
                Fault::CrashAfterSend { kind, .. }
                | Fault::Mutate { kind, .. }
                | Fault::Replay { kind, .. } => {
                    (format!("faults[{i}].kind"), std::slice::from_ref(kind))
                }
                _ => continue,
            };
            for (j, label) in labels.iter().enumerate() {
                if !known.contains(&label.as_str()) {
                    let at = match &e.fault {
                        Fault::MessageFaults { .. } => format!("{field}[{j}]"),
                        _ => field.clone(),
                    };
                    return Err((
                        at,
                        format!(
                            "{label:?} is not a message kind (known: {})",
                            known.join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Rates in range and delays within limit, as `(field path under the event, reason)`.
fn check_rates(faults: &LinkFaults) -> Result<(), (String, String)> {
    for (name, p) in [
        ("drop_probability", faults.drop_probability),
        ("duplicate_probability", faults.duplicate_probability),
    ] {
        if !(0.0..=1.0).contains(&p) {
            return Err((format!("faults.{name}"), format!("{p} is not in 0..=1")));
        }
    }
    if faults.delay_ms_max > DELAY_MS_MAX {
        return Err((
            "faults.delay_ms_max".into(),
            format!(
                "{} exceeds the {DELAY_MS_MAX} ms limit",
                faults.delay_ms_max
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(fault: Fault) -> FaultSchedule {
        FaultSchedule {
            events: vec![FaultEvent { at_ms: 0, fault }],
        }
    }

    /// A bad targeted fault or protocol-timed crash is refused with the field named:
    /// an unknown message kind (by index), an empty kind list, a zero or oversized
    /// window, `nth` 0, a zero down time, a node outside the cluster.
    #[test]
    fn validation_names_the_bad_field_of_new_fault_kinds() {
        let nodes = [NodeId(1), NodeId(2)];
        let known = ["Prepare", "Accepted"];
        let targeted = |kinds: &[&str], duration_ms| {
            one(Fault::MessageFaults {
                kinds: kinds.iter().map(|k| k.to_string()).collect(),
                link: None,
                faults: LinkFaults::default(),
                duration_ms,
            })
        };
        let field = |r: Result<(), (String, String)>| r.unwrap_err().0;
        assert_eq!(
            field(targeted(&["Prepare", "Acepted"], 10).validate_kinds(&known)),
            "faults[0].kinds[1]"
        );
        assert_eq!(field(targeted(&[], 10).validate(&nodes)), "faults[0].kinds");
        assert_eq!(
            field(targeted(&["Prepare"], 0).validate(&nodes)),
            "faults[0].duration_ms"
        );
        assert_eq!(
            field(targeted(&["Prepare"], WINDOW_MS_MAX + 1).validate(&nodes)),
            "faults[0].duration_ms"
        );
        assert_eq!(targeted(&["Accepted"], 10).validate(&nodes), Ok(()));
        let crash = |node, kind: &str, nth, down_ms| {
            one(Fault::CrashAfterSend {
                node: NodeId(node),
                kind: kind.into(),
                nth,
                down_ms,
            })
        };
        assert_eq!(
            field(crash(1, "Prepare", 0, None).validate(&nodes)),
            "faults[0].nth"
        );
        assert_eq!(
            field(crash(1, "Prepare", 1, Some(0)).validate(&nodes)),
            "faults[0].down_ms"
        );
        assert_eq!(
            field(crash(9, "Prepare", 1, None).validate(&nodes)),
            "faults[0].node"
        );
        assert_eq!(
            field(crash(1, "Nope", 1, None).validate_kinds(&known)),
            "faults[0].kind"
        );
        assert_eq!(crash(2, "Accepted", 3, Some(5)).validate(&nodes), Ok(()));
    }

    /// A Byzantine fault is refused with the field named: a node or receiver outside
    /// the cluster, no receivers or the node among its own, a zero count, an unknown
    /// message kind; the nodes it names are the schedule's Byzantine nodes.
    #[test]
    fn byzantine_faults_validate_and_name_their_nodes() {
        let nodes = [NodeId(1), NodeId(2), NodeId(3)];
        let mutate = |node: u16, receivers: &[u16], count: u32, kind: &str| {
            one(Fault::Mutate {
                node: NodeId(node),
                kind: kind.into(),
                receivers: receivers.iter().map(|&r| NodeId(r)).collect(),
                count,
                mutation: 0,
                skip: 0,
            })
        };
        let field = |r: Result<(), (String, String)>| r.unwrap_err().0;
        assert_eq!(
            field(mutate(9, &[2], 1, "a").validate(&nodes)),
            "faults[0].node"
        );
        assert_eq!(
            field(mutate(1, &[9], 1, "a").validate(&nodes)),
            "faults[0].receivers"
        );
        assert_eq!(
            field(mutate(1, &[], 1, "a").validate(&nodes)),
            "faults[0].receivers"
        );
        assert_eq!(
            field(mutate(1, &[1], 1, "a").validate(&nodes)),
            "faults[0].receivers"
        );
        assert_eq!(
            field(mutate(1, &[2], 0, "a").validate(&nodes)),
            "faults[0].count"
        );
        assert_eq!(
            field(mutate(1, &[2], 1, "b").validate_kinds(&["a"])),
            "faults[0].kind"
        );
        assert_eq!(mutate(1, &[2, 3], 2, "a").validate(&nodes), Ok(()));
        let silent = one(Fault::Silent { node: NodeId(4) });
        assert_eq!(field(silent.validate(&nodes)), "faults[0].node");
        let mut both = mutate(1, &[2], 1, "a");
        both.events.push(FaultEvent {
            at_ms: 5,
            fault: Fault::Silent { node: NodeId(3) },
        });
        let named: Vec<NodeId> = both.byzantine_nodes().into_iter().collect();
        assert_eq!(named, vec![NodeId(1), NodeId(3)]);
        assert!(one(Fault::Crash { node: NodeId(1) })
            .byzantine_nodes()
            .is_empty());
    }

    /// An adversary is refused with the field named (its node outside the cluster, an
    /// empty or overlong name, a zero or overlong window, a name the protocol does not
    /// supply, with the names it does); it names its node as Byzantine, its window
    /// extends the schedule's end (to the end of the run: no end), and it saves and
    /// loads as data, leaving out a missing window.
    #[test]
    fn strategies_validate_name_their_node_and_round_trip() {
        let nodes = [NodeId(1), NodeId(2), NodeId(3), NodeId(4)];
        let strategy = |node: u16, name: &str, duration_ms: Option<u64>| {
            one(Fault::Strategy {
                node: NodeId(node),
                strategy: name.into(),
                duration_ms,
            })
        };
        let field = |r: Result<(), (String, String)>| r.unwrap_err().0;
        assert_eq!(
            field(strategy(9, "x", None).validate(&nodes)),
            "faults[0].node"
        );
        assert_eq!(
            field(strategy(1, "", None).validate(&nodes)),
            "faults[0].strategy"
        );
        let long = "x".repeat(STRATEGY_NAME_BYTES_MAX + 1);
        assert_eq!(
            field(strategy(1, &long, None).validate(&nodes)),
            "faults[0].strategy"
        );
        assert_eq!(
            field(strategy(1, "x", Some(0)).validate(&nodes)),
            "faults[0].duration_ms"
        );
        assert_eq!(
            field(strategy(1, "x", Some(WINDOW_MS_MAX + 1)).validate(&nodes)),
            "faults[0].duration_ms"
        );
        assert_eq!(strategy(1, "x", Some(5)).validate(&nodes), Ok(()));
        let (at, why) = strategy(1, "nope", None)
            .validate_strategies("pbft", &["equivocating_primary"])
            .unwrap_err();
        assert_eq!(at, "faults[0].strategy");
        assert!(
            why.contains("nope") && why.contains("pbft") && why.contains("equivocating_primary"),
            "{why}"
        );
        assert_eq!(
            strategy(1, "x", None).validate_strategies("p", &["x"]),
            Ok(())
        );
        let named: Vec<NodeId> = strategy(2, "x", None)
            .byzantine_nodes()
            .into_iter()
            .collect();
        assert_eq!(named, vec![NodeId(2)]);
        let mut timed = strategy(2, "x", Some(300));
        timed.events[0].at_ms = 50;
        assert_eq!(timed.end_ms(), 350);
        let mut open = strategy(2, "x", None);
        open.events[0].at_ms = 50;
        assert_eq!(open.end_ms(), 50);
        let text = serde_json::to_string(&open).unwrap();
        assert_eq!(
            text,
            r#"[{"at_ms":50,"type":"strategy","node":2,"strategy":"x"}]"#
        );
        assert_eq!(serde_json::from_str::<FaultSchedule>(&text).unwrap(), open);
        let text = serde_json::to_string(&timed).unwrap();
        assert_eq!(serde_json::from_str::<FaultSchedule>(&text).unwrap(), timed);
    }

    /// The shrinker's candidates for an adversary: dropping it (an event removal), an
    /// open-ended one ending with the schedule's other faults (or after 1 s if they
    /// end sooner), a window halved (down to 1 ms); removing its node drops it.
    #[test]
    fn strategies_shrink_and_lose_removed_nodes() {
        let at = |at_ms, fault| FaultEvent { at_ms, fault };
        let adversary = |duration_ms| Fault::Strategy {
            node: NodeId(2),
            strategy: "x".into(),
            duration_ms,
        };
        let s = FaultSchedule {
            events: vec![at(10, adversary(None)), at(90, Fault::Heal)],
        };
        let windows: Vec<Option<u64>> = schedule_candidates(&s)
            .iter()
            .filter_map(|c| {
                c.events.iter().find_map(|e| match e.fault {
                    Fault::Strategy { duration_ms, .. } => Some(duration_ms),
                    _ => None,
                })
            })
            .collect();
        assert!(windows.contains(&Some(1_000)), "{windows:?}");
        let late = FaultSchedule {
            events: vec![at(10, adversary(None)), at(5_000, Fault::Heal)],
        };
        assert!(schedule_candidates(&late)
            .iter()
            .any(|c| c.events.first().map(|e| &e.fault) == Some(&adversary(Some(4_990)))));
        assert!(schedule_candidates(&s)
            .iter()
            .any(|c| c.byzantine_nodes().is_empty()));
        let halved = FaultSchedule {
            events: vec![at(10, adversary(Some(9)))],
        };
        assert!(schedule_candidates(&halved)
            .iter()
            .any(|c| c.events.first().map(|e| &e.fault) == Some(&adversary(Some(4)))));
        let least = FaultSchedule {
            events: vec![at(0, adversary(Some(1)))],
        };
        assert!(schedule_candidates(&least)
            .iter()
            .all(|c| c.events.is_empty()));
        assert_eq!(without_node(&s, NodeId(2)).events.len(), 1);
        assert_eq!(without_node(&s, NodeId(3)), s);
    }

    /// A twin is refused with the field named (its node or a group member outside the
    /// cluster, an empty group, its own node in its group); it names its node as
    /// Byzantine, and the schedule's twins are its doubled nodes, each once.
    #[test]
    fn twins_validate_and_name_their_nodes() {
        let nodes = [NodeId(1), NodeId(2), NodeId(3), NodeId(4)];
        let twin = |node: u16, group: &[u16]| {
            one(Fault::Twin {
                node: NodeId(node),
                group: group.iter().map(|&g| NodeId(g)).collect(),
            })
        };
        let field = |r: Result<(), (String, String)>| r.unwrap_err().0;
        assert_eq!(field(twin(9, &[2]).validate(&nodes)), "faults[0].node");
        assert_eq!(field(twin(1, &[9]).validate(&nodes)), "faults[0].group");
        assert_eq!(field(twin(1, &[]).validate(&nodes)), "faults[0].group");
        assert_eq!(field(twin(1, &[1, 2]).validate(&nodes)), "faults[0].group");
        assert_eq!(twin(1, &[3, 4]).validate(&nodes), Ok(()));
        let mut moved = twin(1, &[3, 4]);
        moved.events.push(FaultEvent {
            at_ms: 5,
            fault: Fault::Twin {
                node: NodeId(1),
                group: vec![NodeId(2)],
            },
        });
        assert_eq!(moved.twins(), vec![NodeId(1)]);
        let named: Vec<NodeId> = moved.byzantine_nodes().into_iter().collect();
        assert_eq!(named, vec![NodeId(1)]);
        assert!(one(Fault::Heal).twins().is_empty());
    }

    /// A twin draws its messages' fates from streams of its own: the node's draws are
    /// the same whether or not its twin sends in between, and a connection break
    /// waits for the original's send.
    #[test]
    fn a_twin_has_its_own_streams() {
        let rates = LinkFaults {
            drop_probability: 0.5,
            duplicate_probability: 0.5,
            delay_ms_max: 50,
        };
        let mut alone = FaultLayer::new(3, 1, 20);
        let mut with_twin = FaultLayer::new(3, 1, 20);
        alone.set(None, rates);
        with_twin.set(None, rates);
        with_twin.arm_break(NodeId(1), NodeId(2));
        alone.arm_break(NodeId(1), NodeId(2));
        for _ in 0..50 {
            let _ = with_twin.verdict_of_twin(NodeId(1), NodeId(2), "m", 0);
            assert_eq!(
                alone.verdict(NodeId(1), NodeId(2), "m", 0),
                with_twin.verdict(NodeId(1), NodeId(2), "m", 0)
            );
        }
    }

    /// A replay is refused with the field named (a zero or oversized `nth`, no
    /// receivers, an unknown kind); it names its node as Byzantine; the layer replays
    /// exactly `count` sends of the kind to each receiver, and a node remembers only
    /// while a replay is armed for it.
    #[test]
    fn replays_validate_and_count() {
        let nodes = [NodeId(1), NodeId(2), NodeId(3)];
        let replay = |receivers: &[u16], count: u32, nth: u32| {
            one(Fault::Replay {
                node: NodeId(1),
                kind: "a".into(),
                receivers: receivers.iter().map(|&r| NodeId(r)).collect(),
                count,
                nth,
            })
        };
        let field = |r: Result<(), (String, String)>| r.unwrap_err().0;
        assert_eq!(field(replay(&[2], 1, 0).validate(&nodes)), "faults[0].nth");
        assert_eq!(
            field(replay(&[2], 1, REPLAY_MEMORY + 1).validate(&nodes)),
            "faults[0].nth"
        );
        assert_eq!(
            field(replay(&[], 1, 1).validate(&nodes)),
            "faults[0].receivers"
        );
        assert_eq!(
            field(replay(&[2], 0, 1).validate(&nodes)),
            "faults[0].count"
        );
        assert_eq!(
            field(replay(&[2], 1, 1).validate_kinds(&["b"])),
            "faults[0].kind"
        );
        assert_eq!(replay(&[2, 3], 2, 4).validate(&nodes), Ok(()));
        let named: Vec<NodeId> = replay(&[2], 1, 1).byzantine_nodes().into_iter().collect();
        assert_eq!(named, vec![NodeId(1)]);

        let mut layer = FaultLayer::new(1, 1, 10);
        assert!(!layer.remembers(NodeId(1)));
        layer.arm_replay(NodeId(1), "pp", &[NodeId(2)], 2, 3);
        assert!(layer.remembers(NodeId(1)) && !layer.remembers(NodeId(2)));
        let ask = |l: &mut FaultLayer, to: u16, kind: &str| l.replay(NodeId(1), NodeId(to), kind);
        assert_eq!(ask(&mut layer, 3, "pp"), None);
        assert_eq!(ask(&mut layer, 2, "commit"), None);
        assert_eq!(ask(&mut layer, 2, "pp"), Some(3));
        assert_eq!(ask(&mut layer, 2, "pp"), Some(3));
        assert_eq!(ask(&mut layer, 2, "pp"), None);
        layer.clear();
        assert!(
            layer.remembers(NodeId(1)),
            "a replay stays armed in the liveness phase"
        );
    }

    /// The layer mutates exactly `count` sends of the kind to each named receiver,
    /// none to others or of other kinds; a silent node's sends are all dropped, and
    /// stay dropped after the liveness phase clears the other faults.
    #[test]
    fn the_layer_counts_mutations_and_silences() {
        let mut layer = FaultLayer::new(1, 1, 10);
        layer.arm_mutation(NodeId(1), "pp", &[NodeId(2), NodeId(3)], 2, 5, 0);
        let ask = |l: &mut FaultLayer, to: u16, kind: &str| l.mutation(NodeId(1), NodeId(to), kind);
        assert_eq!(ask(&mut layer, 4, "pp"), None);
        assert_eq!(ask(&mut layer, 2, "commit"), None);
        assert_eq!(ask(&mut layer, 2, "pp"), Some(5));
        assert_eq!(ask(&mut layer, 2, "pp"), Some(5));
        assert_eq!(ask(&mut layer, 2, "pp"), None);
        assert_eq!(ask(&mut layer, 3, "pp"), Some(5));
        layer.set_silent(NodeId(2));
        layer.clear();
        for _ in 0..20 {
            assert_eq!(layer.verdict(NodeId(2), NodeId(1), "pp", 0), Verdict::Drop);
        }
        assert!(matches!(
            layer.verdict(NodeId(1), NodeId(2), "pp", 0),
            Verdict::Deliver { .. }
        ));
    }

    /// A targeted window extends the schedule's end (the safety phase) past its start.
    #[test]
    fn targeted_window_extends_the_schedule_end() {
        let s = FaultSchedule {
            events: vec![
                FaultEvent {
                    at_ms: 10,
                    fault: Fault::MessageFaults {
                        kinds: vec!["Accept".into()],
                        link: None,
                        faults: LinkFaults::default(),
                        duration_ms: 500,
                    },
                },
                FaultEvent {
                    at_ms: 100,
                    fault: Fault::Heal,
                },
            ],
        };
        assert_eq!(s.end_ms(), 510);
    }
}
