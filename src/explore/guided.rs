//! Feedback-guided scenario search: instead of drawing every scenario fresh, keep the
//! scenarios whose runs reached something new, and spend most runs mutating them.
//!
//! "Something new" is a run's coverage signature (`RunTrace::features`): the
//! protocol's own facts if it supplies them (`Core::signature`; for Paxos, how each
//! promise, acceptance and prepare compares with the ballots of the node's earlier
//! lives), else, per node, which kind of event followed which (`recv Prepare` then
//! `persist`), each with a bucketed count, as edge coverage is for a fuzzer. A run
//! that shows a feature no earlier run showed joins the guide's corpus, with the
//! moments of its run ([`RunMoment`]: its sends, persists, and the votes and quorums
//! the protocol names through [`crate::protocol::Core::moment`]). Later runs take a
//! corpus entry (half the time by the rarity of its rarest feature) and change it a
//! little: move, drop or add a fault event, retarget one, move a client request or make
//! two race, hold back one message kind right after a request, change the run's seed
//! (its latencies and jitter); or aim a fault at one of the parent's moments
//! (`aim_at_moment`): a crash right after a node's k-th send of a kind (sometimes with
//! a message sent to that node just before held back past its restart, a reply meant
//! for its earlier life reaching the next one), a crash right
//! after a vote or persist with a restart before the next message, a partition right
//! after a quorum formed, duplicates of the message kind that completed a quorum. A
//! share of runs stays fresh, so the search never narrows to one region.
//!
//! Deterministic from the campaign seed, whatever the number of threads: runs go in
//! generations of [`GENERATION_RUNS`]; the scenarios of generation `g` are drawn from
//! the corpus as it stood after every run of the generations before it, and run `i`'s
//! draws come from its own seed.

use super::{campaign_scenario, ProtocolRef};
use crate::fault::{
    generate_schedule, Fault, FaultEvent, GeneratorLimits, SCENARIO_FAULT_EVENTS_MAX,
};
use crate::ids::NodeId;
use crate::protocol::Moment;
use crate::rng::{run_seed, stream_rng, Draw, Stream};
use crate::scenario::Scenario;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Runs per generation: the corpus a run mutates is the one of the generation before.
pub const GENERATION_RUNS: u64 = 64;
/// The share of runs drawn fresh, as an unguided campaign would.
pub const FRESH_SHARE: f64 = 0.25;
/// Most scenarios the guide keeps; later finds replace random older ones.
pub const CORPUS_MAX: usize = 2_048;
/// Most mutations applied to one parent.
const MUTATIONS_MAX: u64 = 3;
/// Most moments a corpus entry keeps of its run ([`RunMoment`]).
pub const MOMENTS_MAX: usize = 512;
/// The share of mutations that aim a fault at a moment the parent's run showed, when
/// it showed any.
const MOMENT_MOVE_SHARE: f64 = 0.5;
/// The share of parents drawn by rarity ([`Corpus`]) rather than evenly: a scenario
/// whose rarest fact few runs showed sits at the edge of what the campaign reached,
/// where the next new thing (and the bug) is likeliest.
const RARE_PARENT_SHARE: f64 = 0.5;
/// The share of mutated runs that keep their parent's scenario whole and draw only new
/// latencies: a parent one lucky delivery order away from a bug gets many tries.
const RESEED_SHARE: f64 = 0.2;

/// When a crash move holds back a message meant for the crashed node's earlier life
/// ([`hold_back_to_earlier_life`]), the share of moves that hold back a second one
/// (drawn the same way): a restarted node that runs a step again needs a quorum of
/// such replies, not one. Measured on Paxos's two rarest bugs over 20 campaigns
/// (docs/bugs.md, "Cheaper runs, and a second stale reply").
const SECOND_STALE_REPLY_SHARE: f64 = 0.5;

/// A moment of a kept run, for the moves that aim faults at protocol steps instead of
/// clock times: the harness reads sends and persists from the history itself, and the
/// protocol names its votes and quorums ([`crate::protocol::Core::moment`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunMoment {
    /// Simulated milliseconds since the run started.
    pub at_ms: u64,
    pub node: NodeId,
    pub kind: MomentKind,
}

/// What happened at a [`RunMoment`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MomentKind {
    /// The node sent its `nth` message of `kind` in the run (all its lives counted,
    /// as a [`Fault::CrashAfterSend`] armed at 0 ms counts them).
    Sent {
        kind: &'static str,
        to: NodeId,
        nth: u32,
    },
    /// The node wrote its state (fsynced, or not when a planted bug skips it: a crash
    /// right after such a write is what loses it).
    Persisted,
    /// A moment the protocol named, and the message (kind, sender) the node received
    /// last before it: for a quorum, the one that completed it.
    Named {
        moment: Moment,
        completed_by: Option<(&'static str, NodeId)>,
    },
}

/// `moments` thinned to at most [`MOMENTS_MAX`], evenly over the run, in order.
pub fn spread(moments: Vec<RunMoment>) -> Vec<RunMoment> {
    let len = moments.len();
    if len <= MOMENTS_MAX {
        return moments;
    }
    moments
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i * MOMENTS_MAX / len != (i + 1) * MOMENTS_MAX / len)
        .map(|(_, m)| m)
        .collect()
}

/// The corpus one generation draws from: the kept scenarios, and how much each is
/// favoured when a parent is drawn.
///
/// Both draws (by rarity and evenly) favour cheap parents: a parent's weight is divided
/// by the square root of its run's length in trace events ([`Parent::cost`]), as a
/// fuzzer favours the fastest, smallest input that reaches an edge. A long run (a big
/// cluster, a message storm) costs many short ones, and its mutations are no likelier
/// to reach the bug; without this, the corpus drifts toward the biggest clusters,
/// which show the most distinct facts (measured in docs/bugs.md, "Cheap parents first").
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    pub parents: Vec<Arc<Parent>>,
    /// Running sums of the parents' rarity weights (1 / runs that showed the parent's
    /// rarest feature, over [`cost_weight`]), for drawing by rarity.
    cumulative_weight: Vec<f64>,
    /// Running sums of 1 / [`cost_weight`], for the even draw.
    cumulative_even: Vec<f64>,
}

/// How much a parent's cost weighs against drawing it: the square root of its run's
/// trace events (at least 1). Measured against the cost itself and against no weight
/// at all (docs/bugs.md, "Cheap parents first").
fn cost_weight(parent: &Parent) -> f64 {
    (parent.cost.max(1) as f64).sqrt()
}

/// Running sums of `weights`.
fn running_sums(weights: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut sum = 0.0;
    weights
        .map(|w| {
            sum += w;
            sum
        })
        .collect()
}

impl Corpus {
    /// A corpus whose parents are alike in rarity (cheap ones still favoured).
    pub fn new(parents: Vec<Arc<Parent>>) -> Self {
        let weights = vec![1.0; parents.len()];
        Self::weighted(parents, &weights)
    }

    /// `parents` with their rarity weights (`rarity[i]` for `parents[i]`).
    fn weighted(parents: Vec<Arc<Parent>>, rarity: &[f64]) -> Self {
        let cumulative_weight =
            running_sums(parents.iter().zip(rarity).map(|(p, r)| r / cost_weight(p)));
        let cumulative_even = running_sums(parents.iter().map(|p| 1.0 / cost_weight(p)));
        Corpus {
            parents,
            cumulative_weight,
            cumulative_even,
        }
    }

    pub fn len(&self) -> usize {
        self.parents.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parents.is_empty()
    }

    /// A parent: by rarity with [`RARE_PARENT_SHARE`], else evenly; cheap parents
    /// favoured in both.
    fn draw(&self, rng: &mut rand_chacha::ChaCha8Rng) -> &Arc<Parent> {
        let sums = if rng.chance(RARE_PARENT_SHARE) {
            &self.cumulative_weight
        } else {
            &self.cumulative_even
        };
        let total = sums.last().copied().unwrap_or(0.0);
        let at = rng.unit() * total;
        let i = sums.partition_point(|&c| c <= at);
        &self.parents[i.min(self.parents.len() - 1)]
    }
}

/// A corpus entry: a scenario that reached new coverage, and the moments of its run.
#[derive(Debug, Clone)]
pub struct Parent {
    pub scenario: Scenario,
    pub moments: Vec<RunMoment>,
    /// Trace events of its run: what a run of it costs (0: not known, drawn as 1).
    pub cost: u64,
}

impl Parent {
    /// A parent whose run's moments are unknown: only the clock-timed moves apply.
    pub fn without_moments(scenario: Scenario) -> Self {
        Parent {
            scenario,
            moments: Vec::new(),
            cost: 0,
        }
    }
}

/// The guide of one campaign: its corpus and the coverage seen so far.
pub struct Guide {
    protocol: ProtocolRef,
    bugs: Vec<String>,
    base_seed: u64,
    /// Features any run so far has shown.
    seen: BTreeSet<u64>,
    /// How many runs showed each feature.
    hits: BTreeMap<u64, u64>,
    /// The corpus as it grows in the current generation, with each entry's features.
    growing: Vec<Arc<Parent>>,
    growing_features: Vec<Vec<u64>>,
    /// The corpus the current generation draws from.
    frozen: Arc<Corpus>,
    /// Runs observed so far (in run order).
    observed: u64,
}

/// Where a guided run's scenario came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Fresh,
    Mutated,
}

impl Guide {
    pub fn new(protocol: ProtocolRef, bugs: &[String], base_seed: u64) -> Self {
        Guide {
            protocol,
            bugs: bugs.to_vec(),
            base_seed,
            seen: BTreeSet::new(),
            hits: BTreeMap::new(),
            growing: Vec::new(),
            growing_features: Vec::new(),
            frozen: Arc::new(Corpus::default()),
            observed: 0,
        }
    }

    /// The corpus run `index`'s generation draws from. Only valid once every run of
    /// the generations before it was observed.
    pub fn parents(&self) -> Arc<Corpus> {
        Arc::clone(&self.frozen)
    }

    /// Scenarios kept so far.
    pub fn corpus_len(&self) -> usize {
        self.growing.len()
    }

    /// Features seen so far.
    pub fn features_seen(&self) -> usize {
        self.seen.len()
    }

    /// Run `index`'s scenario, from `parents` (the corpus of its generation).
    pub fn scenario(&self, parents: &Corpus, index: u64) -> (Scenario, Origin) {
        scenario_for(self.protocol, &self.bugs, self.base_seed, parents, index)
    }

    /// Fold in run `index` (runs must come in order): keep its scenario, with the
    /// moments of its run (asked for only then), if it reached a feature no run had;
    /// close the generation when it is complete.
    pub fn observe(
        &mut self,
        index: u64,
        scenario: &Scenario,
        features: &[u64],
        trace_events: usize,
        moments: &dyn Fn() -> Vec<RunMoment>,
    ) {
        debug_assert_eq!(index, self.observed, "runs are observed in order");
        let mut new = false;
        for &f in features {
            new |= self.seen.insert(f);
            *self.hits.entry(f).or_default() += 1;
        }
        if new {
            let kept = Arc::new(Parent {
                scenario: scenario.clone(),
                moments: spread(moments()),
                cost: trace_events as u64,
            });
            if self.growing.len() < CORPUS_MAX {
                self.growing.push(kept);
                self.growing_features.push(features.to_vec());
            } else {
                let mut rng = stream_rng(run_seed(self.base_seed, index), Stream::Scenario);
                let at = rng.between(0, CORPUS_MAX as u64 - 1) as usize;
                self.growing[at] = kept;
                self.growing_features[at] = features.to_vec();
            }
        }
        self.observed += 1;
        if self.observed.is_multiple_of(GENERATION_RUNS) {
            let weights: Vec<f64> = self
                .growing_features
                .iter()
                .map(|features| {
                    let rarest = features
                        .iter()
                        .map(|f| self.hits.get(f).copied().unwrap_or(1))
                        .min()
                        .unwrap_or(1);
                    1.0 / rarest.max(1) as f64
                })
                .collect();
            self.frozen = Arc::new(Corpus::weighted(self.growing.clone(), &weights));
        }
    }
}

/// Run `index`'s scenario: fresh (as an unguided campaign's run `index`), or a
/// mutation of one of `parents`. Its draws come from its own stream.
pub fn scenario_for(
    protocol: ProtocolRef,
    bugs: &[String],
    base_seed: u64,
    parents: &Corpus,
    index: u64,
) -> (Scenario, Origin) {
    let seed = run_seed(base_seed, index);
    // A stream of its own, apart from the scenario stream the generator uses.
    let mut rng = stream_rng(seed ^ 0x6775_6964_6564, Stream::Scenario);
    if parents.is_empty() || rng.chance(FRESH_SHARE) {
        return (campaign_scenario(protocol, seed, bugs), Origin::Fresh);
    }
    let parent = parents.draw(&mut rng);
    if rng.chance(RESEED_SHARE) {
        let mut child = parent.scenario.clone();
        child.seed = rand_core::Rng::next_u64(&mut rng);
        child.bugs = bugs.to_vec();
        return (child, Origin::Mutated);
    }
    for _attempt in 0..4 {
        let mut child = parent.scenario.clone();
        let count = rng.between(1, MUTATIONS_MAX);
        for _ in 0..count {
            if !parent.moments.is_empty() && rng.chance(MOMENT_MOVE_SHARE) {
                aim_at_moment(&mut child, &parent.moments, &mut rng);
            } else {
                mutate(protocol, &mut child, &mut rng);
            }
        }
        child.faults = std::mem::take(&mut child.faults).sorted();
        child.bugs = bugs.to_vec();
        if protocol.check(&child).is_ok() {
            return (child, Origin::Mutated);
        }
    }
    (campaign_scenario(protocol, seed, bugs), Origin::Fresh)
}

/// One small change to `scenario`.
fn mutate(protocol: ProtocolRef, scenario: &mut Scenario, rng: &mut rand_chacha::ChaCha8Rng) {
    let events = &mut scenario.faults.events;
    let horizon_ms = events
        .iter()
        .map(|e| e.at_ms)
        .chain(scenario.workload.iter().map(|p| p.at_ms))
        .max()
        .unwrap_or(0)
        .max(50)
        + 30;
    let pick =
        |rng: &mut rand_chacha::ChaCha8Rng, len: usize| rng.between(0, len as u64 - 1) as usize;
    match rng.between(0, 10) {
        // Move a fault event a little, earlier or later.
        0 | 1 if !events.is_empty() => {
            let i = rng.between(0, events.len() as u64 - 1) as usize;
            let shift = rng.between(1, 25);
            events[i].at_ms = if rng.chance(0.5) {
                events[i].at_ms.saturating_sub(shift)
            } else {
                events[i].at_ms.saturating_add(shift)
            };
        }
        // Drop a fault event.
        2 if !events.is_empty() => {
            let i = rng.between(0, events.len() as u64 - 1) as usize;
            events.remove(i);
        }
        // Aim a protocol-timed crash at an earlier or later send, or another kind.
        3 if events
            .iter()
            .any(|e| matches!(e.fault, Fault::CrashAfterSend { .. })) =>
        {
            let crashes: Vec<usize> = (0..events.len())
                .filter(|&i| matches!(events[i].fault, Fault::CrashAfterSend { .. }))
                .collect();
            let i = crashes[rng.between(0, crashes.len() as u64 - 1) as usize];
            if let Fault::CrashAfterSend { nth, kind, .. } = &mut events[i].fault {
                let kinds = protocol.message_kinds();
                if rng.chance(0.3) && !kinds.is_empty() {
                    *kind = kinds[rng.between(0, kinds.len() as u64 - 1) as usize].to_string();
                } else if rng.chance(0.5) {
                    *nth = nth.saturating_add(1);
                } else {
                    *nth = nth.saturating_sub(1).max(1);
                }
            }
        }
        // Move a client request.
        4 if !scenario.workload.is_empty() => {
            let i = rng.between(0, scenario.workload.len() as u64 - 1) as usize;
            let shift = rng.between(1, 20);
            let at = &mut scenario.workload[i].at_ms;
            *at = if rng.chance(0.5) {
                at.saturating_sub(shift)
            } else {
                at.saturating_add(shift)
            };
        }
        // New latencies and jitter for the same schedule.
        5 => scenario.seed = rand_core::Rng::next_u64(rng),
        // Make two client requests race: one moves to within 3 ms of another. Most
        // agreement bugs need two proposers in the same round trip, which requests
        // drawn over the whole horizon rarely are.
        6 if scenario.workload.len() >= 2 => {
            let (i, j) = (
                pick(rng, scenario.workload.len()),
                pick(rng, scenario.workload.len()),
            );
            let at = scenario.workload[j].at_ms + rng.between(0, 3);
            scenario.workload[i].at_ms = at;
        }
        // Hold back one message kind for a moment right after a client request: the
        // reorderings of a race (an accept overtaken by a newer ballot's).
        7 if !scenario.workload.is_empty() && events.len() < SCENARIO_FAULT_EVENTS_MAX => {
            let kinds = protocol.message_kinds();
            if kinds.is_empty() {
                return;
            }
            let at_ms =
                scenario.workload[pick(rng, scenario.workload.len())].at_ms + rng.between(0, 10);
            events.push(FaultEvent {
                at_ms,
                fault: Fault::MessageFaults {
                    kinds: vec![kinds[pick(rng, kinds.len())].to_string()],
                    link: None,
                    faults: crate::fault::LinkFaults {
                        drop_probability: 0.0,
                        duplicate_probability: 0.0,
                        delay_ms_max: rng.between(10, 150),
                    },
                    duration_ms: rng.between(5, 40),
                },
            });
        }
        // Crash a node right after its first few sends of a kind, down for a few
        // milliseconds: between a promise and the accept that should honour it.
        8 if events.len() < SCENARIO_FAULT_EVENTS_MAX => {
            let ids = scenario.cluster.ids();
            let kinds = protocol.message_kinds();
            if ids.is_empty() || kinds.is_empty() {
                return;
            }
            events.push(FaultEvent {
                at_ms: 0,
                fault: Fault::CrashAfterSend {
                    node: ids[pick(rng, ids.len())],
                    kind: kinds[pick(rng, kinds.len())].to_string(),
                    nth: rng.between(1, 3) as u32,
                    down_ms: Some(rng.between(1, 10)),
                },
            });
        }
        // Add a fault event drawn as the generator would draw one.
        _ => {
            let ids = scenario.cluster.ids();
            if ids.len() < 2 {
                return;
            }
            let focus: Vec<u64> = scenario.workload.iter().map(|p| p.at_ms).collect();
            let donor = generate_schedule(
                rng,
                &ids,
                protocol.message_kinds(),
                &focus,
                GeneratorLimits {
                    horizon_ms,
                    events_max: 2,
                    // Byzantine faults come with fresh draws (which pick the faulty
                    // nodes once per scenario); an added event never makes one more
                    // node Byzantine, which could go past what the protocol tolerates.
                    byzantine_max: 0,
                },
            );
            let added: Vec<FaultEvent> = donor.events;
            if events.len() + added.len() <= SCENARIO_FAULT_EVENTS_MAX {
                events.extend(added);
            }
        }
    }
}

/// One protocol-timed change to `scenario`, aimed at a moment its parent's run showed
/// (`moments`, in run order, never empty): a crash right after a node's k-th send of
/// a kind, a crash right after a vote or a persist with a restart before the next
/// message, a partition right after a quorum formed, duplicates of the kind of message
/// that completed a quorum, a held-back message kind, or a client request moved onto
/// the moment so that another proposer races it. Nothing here knows a protocol rule:
/// the moments are sends and persists the harness saw, and the votes and quorums the
/// protocol named.
fn aim_at_moment(
    scenario: &mut Scenario,
    moments: &[RunMoment],
    rng: &mut rand_chacha::ChaCha8Rng,
) {
    let pick =
        |rng: &mut rand_chacha::ChaCha8Rng, len: usize| rng.between(0, len as u64 - 1) as usize;
    // A moment of the wanted sort, if the run showed one; else any moment.
    let choose = |rng: &mut rand_chacha::ChaCha8Rng, want: &dyn Fn(&MomentKind) -> bool| {
        let fitting: Vec<&RunMoment> = moments.iter().filter(|m| want(&m.kind)).collect();
        if fitting.is_empty() {
            moments[pick(rng, moments.len())].clone()
        } else {
            fitting[pick(rng, fitting.len())].clone()
        }
    };
    // A send of a kind drawn evenly among the kinds the run sent (broadcasts of one
    // kind would otherwise drown the one reply that matters), else any moment.
    let choose_send = |rng: &mut rand_chacha::ChaCha8Rng| {
        let mut kinds: Vec<&'static str> = moments
            .iter()
            .filter_map(|m| match m.kind {
                MomentKind::Sent { kind, .. } => Some(kind),
                _ => None,
            })
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        if kinds.is_empty() {
            return moments[pick(rng, moments.len())].clone();
        }
        let wanted = kinds[pick(rng, kinds.len())];
        choose(
            rng,
            &|k| matches!(k, MomentKind::Sent { kind, .. } if *kind == wanted),
        )
    };
    // A blink mostly (back before any peer notices), sometimes longer, rarely for good.
    let down_ms = |rng: &mut rand_chacha::ChaCha8Rng| match rng.between(0, 9) {
        0..=5 => Some(rng.between(1, 3)),
        6..=8 => Some(rng.between(4, 60)),
        _ => None,
    };
    let events = &mut scenario.faults.events;
    // Room first (a move adds up to two events): drop events at random.
    while !events.is_empty() && events.len() + 2 > SCENARIO_FAULT_EVENTS_MAX {
        let i = pick(rng, events.len());
        events.remove(i);
    }
    match rng.between(0, 9) {
        // Crash right after the k-th send of a kind, restart before the next message
        // (mostly): the node's state is what it persisted before that send.
        0..=2 => {
            let m = choose_send(rng);
            let MomentKind::Sent { kind, nth, .. } = m.kind else {
                return;
            };
            let down = down_ms(rng);
            events.push(FaultEvent {
                at_ms: 0,
                fault: Fault::CrashAfterSend {
                    node: m.node,
                    kind: kind.to_string(),
                    nth: nth.min(crate::fault::NTH_MAX),
                    down_ms: down,
                },
            });
            match rng.between(0, 3) {
                // Half the time its last messages are still in flight when it is
                // back: the kind is held back around that send, so what the node does
                // in its next life races what it did in this one.
                0 | 1 => {
                    let delay_ms_max = rng.between(5, 100);
                    let duration_ms = rng.between(1, 3);
                    events.push(hold_back(
                        kind,
                        m.at_ms.saturating_sub(1),
                        delay_ms_max,
                        duration_ms,
                    ));
                }
                // A message sent to it shortly before the crash arrives after the
                // restart: a reply meant for its earlier life reaches the next one.
                2 => {
                    if let Some(held) = hold_back_to_earlier_life(moments, &m, down, rng) {
                        events.push(held);
                    }
                    // Often a second one: a quorum of stale replies, not just one.
                    if rng.chance(SECOND_STALE_REPLY_SHARE)
                        && events.len() < SCENARIO_FAULT_EVENTS_MAX
                    {
                        if let Some(held) = hold_back_to_earlier_life(moments, &m, down, rng) {
                            events.push(held);
                        }
                    }
                }
                _ => {}
            }
        }
        // Crash right after a vote or a persist, by the clock: the next millisecond.
        3 | 4 => {
            let m = choose(rng, &|k| {
                matches!(
                    k,
                    MomentKind::Persisted
                        | MomentKind::Named {
                            moment: Moment::Vote,
                            ..
                        }
                )
            });
            let at_ms = m.at_ms + 1;
            events.push(FaultEvent {
                at_ms,
                fault: Fault::Crash { node: m.node },
            });
            if let Some(down) = down_ms(rng) {
                events.push(FaultEvent {
                    at_ms: at_ms + down,
                    fault: Fault::Restart { node: m.node },
                });
            }
        }
        // Partition right after a quorum formed: its node alone, or with a few
        // others, for a while.
        5 => {
            let m = choose(rng, &|k| {
                matches!(
                    k,
                    MomentKind::Named {
                        moment: Moment::Quorum,
                        ..
                    }
                )
            });
            let others: Vec<NodeId> = scenario
                .cluster
                .ids()
                .into_iter()
                .filter(|&n| n != m.node)
                .collect();
            if others.is_empty() {
                return;
            }
            let mut side = vec![m.node];
            side.extend(others.iter().copied().filter(|_| rng.chance(0.3)));
            side.sort();
            let rest: Vec<NodeId> = others.into_iter().filter(|n| !side.contains(n)).collect();
            if rest.is_empty() {
                return;
            }
            let at_ms = m.at_ms + rng.between(0, 1);
            events.push(FaultEvent {
                at_ms,
                fault: Fault::Partition {
                    groups: vec![side, rest],
                },
            });
            events.push(FaultEvent {
                at_ms: at_ms + rng.between(5, 80),
                fault: Fault::Heal,
            });
        }
        // Duplicate the kind of message that completed a quorum, on its link or on
        // every link, in the few milliseconds before it: a second copy can complete
        // a quorum by itself.
        6 => {
            let m = choose(rng, &|k| {
                matches!(
                    k,
                    MomentKind::Named {
                        completed_by: Some(_),
                        ..
                    }
                )
            });
            let MomentKind::Named {
                completed_by: Some((kind, from)),
                ..
            } = m.kind
            else {
                return;
            };
            let link = rng.chance(0.5).then_some((from, m.node));
            events.push(FaultEvent {
                at_ms: m.at_ms.saturating_sub(rng.between(0, 15)),
                fault: Fault::MessageFaults {
                    kinds: vec![kind.to_string()],
                    link,
                    faults: crate::fault::LinkFaults {
                        drop_probability: 0.0,
                        duplicate_probability: 1.0,
                        delay_ms_max: rng.between(0, 30),
                    },
                    duration_ms: rng.between(1, 20),
                },
            });
        }
        // Hold back the kind of message sent at a moment, for a moment: the
        // reorderings of a race.
        7 => {
            let m = choose_send(rng);
            let MomentKind::Sent { kind, .. } = m.kind else {
                return;
            };
            let at_ms = m.at_ms.saturating_sub(rng.between(0, 3));
            let delay_ms_max = rng.between(10, 150);
            let duration_ms = rng.between(2, 40);
            events.push(hold_back(kind, at_ms, delay_ms_max, duration_ms));
        }
        // Race: a client request moves onto a vote or a quorum of another node's
        // ballot, so a second proposer starts while the first is half-way.
        _ => {
            if scenario.workload.is_empty() {
                return;
            }
            let m = choose(rng, &|k| matches!(k, MomentKind::Named { .. }));
            let i = pick(rng, scenario.workload.len());
            scenario.workload[i].at_ms = m.at_ms.saturating_sub(1) + rng.between(0, 2);
        }
    }
}

/// How far back before a crash a message to the crashed node counts as in flight.
const IN_FLIGHT_WINDOW_MS: u64 = 10;

/// For a crash right after `crash` (a send by `crash.node`) that keeps the node down
/// `down_ms`: hold back one message that the parent's run sent to that node in the
/// [`IN_FLIGHT_WINDOW_MS`] before the crash, on its own link, long enough that it may
/// arrive after the restart. `None` when the run sent the node nothing then, or the
/// node stays down. The message is drawn by kind first, evenly, so a broadcast of one
/// kind does not drown the one reply of another.
fn hold_back_to_earlier_life(
    moments: &[RunMoment],
    crash: &RunMoment,
    down_ms: Option<u64>,
    rng: &mut rand_chacha::ChaCha8Rng,
) -> Option<FaultEvent> {
    let down_ms = down_ms?;
    let from_ms = crash.at_ms.saturating_sub(IN_FLIGHT_WINDOW_MS);
    let in_flight: Vec<(&'static str, NodeId, u64)> = moments
        .iter()
        .filter(|m| m.at_ms >= from_ms && m.at_ms <= crash.at_ms && m.node != crash.node)
        .filter_map(|m| match m.kind {
            MomentKind::Sent { kind, to, .. } if to == crash.node => Some((kind, m.node, m.at_ms)),
            _ => None,
        })
        .collect();
    let mut kinds: Vec<&'static str> = in_flight.iter().map(|h| h.0).collect();
    kinds.sort_unstable();
    kinds.dedup();
    if kinds.is_empty() {
        return None;
    }
    let kind = kinds[rng.between(0, kinds.len() as u64 - 1) as usize];
    let of_kind: Vec<&(&'static str, NodeId, u64)> =
        in_flight.iter().filter(|h| h.0 == kind).collect();
    let &(_, from, sent_ms) = of_kind[rng.between(0, of_kind.len() as u64 - 1) as usize];
    // The crash lands at the start of the millisecond after its send; the restart
    // `down_ms` later. A delay up to a little past that spans the restart.
    let restart_ms = crash.at_ms + 1 + down_ms;
    let delay_ms_max = restart_ms - sent_ms + rng.between(1, 10);
    Some(FaultEvent {
        at_ms: sent_ms,
        fault: Fault::MessageFaults {
            kinds: vec![kind.to_string()],
            link: Some((from, crash.node)),
            faults: crate::fault::LinkFaults {
                drop_probability: 0.0,
                duplicate_probability: 0.0,
                delay_ms_max,
            },
            duration_ms: 1,
        },
    })
}

/// Hold back every message of `kind` sent in `[at_ms, at_ms + duration_ms)` by up to
/// `delay_ms_max` (nothing dropped or duplicated): the reordering a race needs.
fn hold_back(kind: &str, at_ms: u64, delay_ms_max: u64, duration_ms: u64) -> FaultEvent {
    FaultEvent {
        at_ms,
        fault: Fault::MessageFaults {
            kinds: vec![kind.to_string()],
            link: None,
            faults: crate::fault::LinkFaults {
                drop_probability: 0.0,
                duplicate_probability: 0.0,
                delay_ms_max,
            },
            duration_ms,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    fn sent(at_ms: u64, node: u16, kind: &'static str, to: u16) -> RunMoment {
        RunMoment {
            at_ms,
            node: NodeId(node),
            kind: MomentKind::Sent {
                kind,
                to: NodeId(to),
                nth: 1,
            },
        }
    }

    /// Parents are drawn in inverse proportion to the square root of their runs'
    /// length: of two parents alike in rarity, one whose run was 100 times longer is
    /// drawn about a tenth as often (without the cost weight, as often).
    #[test]
    fn cheap_parents_are_drawn_more_often() {
        let scenario = Scenario::quiet("paxos", crate::scenario::Cluster::of_size(3), 1);
        let parent = |cost| {
            Arc::new(Parent {
                scenario: scenario.clone(),
                moments: Vec::new(),
                cost,
            })
        };
        let corpus = Corpus::new(vec![parent(100), parent(10_000)]);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let cheap = (0..4_000)
            .filter(|_| corpus.draw(&mut rng).cost == 100)
            .count();
        // Expected 4,000 * 10 / 11 = 3,636.
        assert!(
            (3_400..=3_850).contains(&cheap),
            "cheap drawn {cheap} of 4,000"
        );
    }

    /// A crash aimed at a send sometimes holds back two replies meant for the crashed
    /// node's earlier life, from two peers (a quorum of stale replies), and never more:
    /// over many draws of the move, some children hold back messages to n5 on two
    /// links, and none holds back more than two.
    #[test]
    fn a_crash_move_can_hold_back_two_stale_replies() {
        let crash = sent(17, 5, "Accept", 3);
        let moments = vec![
            sent(15, 1, "Promise", 5),
            sent(16, 2, "Promise", 5),
            crash.clone(),
        ];
        let scenario = Scenario {
            liveness_bound_ms: 1_000,
            ..Scenario::quiet("paxos", crate::scenario::Cluster::of_size(5), 1)
        };
        let mut most_links = 0;
        for seed in 0..400 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let mut child = scenario.clone();
            aim_at_moment(&mut child, &moments, &mut rng);
            let links: BTreeSet<(NodeId, NodeId)> = child
                .faults
                .events
                .iter()
                .filter_map(|e| match &e.fault {
                    Fault::MessageFaults {
                        link: Some(link), ..
                    } if link.1 == NodeId(5) => Some(*link),
                    _ => None,
                })
                .collect();
            let held = child
                .faults
                .events
                .iter()
                .filter(|e| matches!(e.fault, Fault::MessageFaults { link: Some(_), .. }))
                .count();
            assert!(held <= 2, "seed {seed}: {held} held back: {child:?}");
            most_links = most_links.max(links.len());
        }
        assert_eq!(most_links, 2, "no move held back replies from both peers");
    }

    /// The move behind "a reply meant for a node's earlier life reaches the next one":
    /// for a crash of n5 right after its send at 17 ms, it holds back a message another
    /// node sent n5 in the window before (on that link alone, from its send time), by
    /// up to past the restart; never a message n5 sent, one sent to another node, one
    /// sent long before, and nothing when n5 stays down.
    #[test]
    fn a_message_to_a_crashing_node_is_held_back_past_its_restart() {
        let crash = sent(17, 5, "Accept", 3);
        let moments = vec![
            sent(2, 2, "Prepare", 5),  // before the window
            sent(16, 2, "Promise", 5), // the one in flight
            sent(16, 2, "Promise", 1), // to another node
            crash.clone(),
        ];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for _ in 0..50 {
            let held = hold_back_to_earlier_life(&moments, &crash, Some(2), &mut rng)
                .expect("a promise was in flight to n5");
            assert_eq!(held.at_ms, 16);
            let Fault::MessageFaults {
                kinds,
                link,
                faults,
                duration_ms,
            } = held.fault
            else {
                panic!("not a message fault: {held:?}");
            };
            assert_eq!(kinds, vec!["Promise".to_string()]);
            assert_eq!(link, Some((NodeId(2), NodeId(5))));
            assert_eq!(duration_ms, 1);
            // Crash at 18 ms, back at 20 ms: the delay can reach past 20 - 16 = 4 ms.
            assert!(faults.delay_ms_max > 4, "{faults:?}");
            assert_eq!(faults.drop_probability, 0.0);
        }
        assert_eq!(
            hold_back_to_earlier_life(&moments, &crash, None, &mut rng),
            None,
            "a node that stays down has no next life to reach"
        );
        let nothing_in_flight = vec![sent(2, 2, "Prepare", 5), crash.clone()];
        assert_eq!(
            hold_back_to_earlier_life(&nothing_in_flight, &crash, Some(2), &mut rng),
            None
        );
    }
}
