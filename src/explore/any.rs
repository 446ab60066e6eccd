//! [`AnyProtocol`]: any protocol behind one object-safe interface, so campaigns, the
//! corpus, hunt, shrink, replay and the command line are written once and take a
//! protocol from the registry (or a user's `main_with`) at run time. Every
//! [`Protocol`] is one, by a blanket impl: nothing to implement.

use crate::check::{judge, Property, Verdict, Violation};
use crate::history::{render_event, History};
use crate::protocol::{prepare, Core, PlantedBug, Protocol};
use crate::scenario::{Scenario, ScenarioError};
use crate::sim::shrink::{shrink, Shrunk};
use crate::sim::{run_setup, Lane, RunEnd};

/// A run's history with its protocol's types hidden: what reports, the corpus and the
/// command line need of it.
pub trait RunTrace: Send {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Event `i` in the canonical one-line format, if there is one.
    fn line(&self, i: usize) -> Option<String>;
    /// The canonical text rendering, one numbered line per event.
    fn render(&self) -> String;
    /// One event per line, as JSON.
    fn json_lines(&self) -> String;
    /// The digest of the canonical rendering.
    fn digest(&self) -> u64;
    /// A violation's witness events, rendered.
    fn render_witness(&self, violation: &Violation) -> String;
    /// The run as a space-time diagram's model ([`crate::diagram`]).
    fn diagram(&self) -> crate::diagram::Model;
    /// The shape of event `i`, without its time, node, ids or values: its kind, a
    /// message's kind, or the first word of a protocol event (`send Prepare`,
    /// `persist`, `accept`). Distinct failures are told apart by their witnesses'
    /// shapes ([`super::distinct`]).
    fn event_shape(&self, i: usize) -> Option<String>;
    /// The run's coverage signature for guided search ([`super::guided`]): for each
    /// node, every pair of consecutive event shapes it showed, with how often
    /// (bucketed: 1, 2, 3, 4-7, 8-15, ...), each hashed to one number; or, for a
    /// protocol that supplies one, its own facts ([`crate::protocol::Core::signature`]).
    fn features(&self) -> Vec<u64>;
    /// The moments of the run's safety phase that guided search aims its
    /// protocol-timed moves at ([`super::guided::RunMoment`]): every send (with its
    /// number among the node's sends of that kind), persist, crash-relevant delivery
    /// and protocol-named moment ([`crate::protocol::Core::moment`]), at most
    /// [`super::guided::MOMENTS_MAX`], spread evenly over the run.
    fn moments(&self) -> Vec<super::guided::RunMoment>;
}

impl<C: Core> RunTrace for History<C> {
    fn len(&self) -> usize {
        self.events.len()
    }
    fn line(&self, i: usize) -> Option<String> {
        self.events.get(i).map(render_event)
    }
    fn render(&self) -> String {
        History::render(self)
    }
    fn json_lines(&self) -> String {
        self.to_json_lines()
    }
    fn digest(&self) -> u64 {
        History::digest(self)
    }
    fn render_witness(&self, violation: &Violation) -> String {
        violation.render_witness(self)
    }
    fn diagram(&self) -> crate::diagram::Model {
        crate::diagram::Model::of(self, &|event| meaning::<C>(event))
    }
    fn features(&self) -> Vec<u64> {
        // A protocol's own facts replace the generic pairs: measured on Paxos's hard
        // bugs (docs/bugs.md), the pairs' count buckets add thousands of features
        // that say nothing about ballots, and the corpus drowns in them.
        let own = C::signature(self);
        if !own.is_empty() {
            return own;
        }
        use crate::history::EventKind as K;
        use std::hash::{Hash, Hasher};
        let hash = |value: &dyn Fn(&mut std::collections::hash_map::DefaultHasher)| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            value(&mut h);
            h.finish()
        };
        let mut last: std::collections::BTreeMap<Option<crate::ids::NodeId>, u64> =
            std::collections::BTreeMap::new();
        let mut pairs: std::collections::BTreeMap<(u64, u64), u32> =
            std::collections::BTreeMap::new();
        // The shape of an event as `event_shape` gives it, hashed without rendering it
        // (a protocol event's first word is written into one reused buffer).
        let mut text = String::new();
        for event in &self.events {
            let node = match &event.kind {
                K::Crashed { node } | K::Restarted { node } | K::CrashArmed { node, .. } => {
                    Some(*node)
                }
                _ => event.node,
            };
            let shape = match &event.kind {
                K::Sent { msg, .. } => hash(&|h| ("send", C::msg_kind(msg)).hash(h)),
                K::Delivered { msg, .. } => hash(&|h| ("recv", C::msg_kind(msg)).hash(h)),
                K::Protocol(e) => {
                    use std::fmt::Write;
                    text.clear();
                    let _ = write!(text, "{e}");
                    let word = text.split_whitespace().next().unwrap_or("");
                    hash(&|h| word.hash(h))
                }
                other => hash(&|h| std::mem::discriminant(other).hash(h)),
            };
            let before = last.insert(node, shape).unwrap_or(0);
            *pairs.entry((before, shape)).or_default() += 1;
        }
        let mut features: Vec<u64> = pairs
            .into_iter()
            .map(|(pair, count)| {
                let bucket = u32::BITS - count.leading_zeros(); // 1, 2, 2, 3, 3, 3, 3, 4...
                hash(&|h| (pair, bucket).hash(h))
            })
            .collect();
        features.sort_unstable();
        features
    }

    fn moments(&self) -> Vec<super::guided::RunMoment> {
        use super::guided::{MomentKind, RunMoment};
        use crate::history::{EventKind as K, Phase};
        let mut sends: std::collections::BTreeMap<(crate::ids::NodeId, &'static str), u32> =
            std::collections::BTreeMap::new();
        // The message each node received last: the one that completed a quorum, when
        // the protocol names a quorum moment right after it.
        let mut last_delivered: std::collections::BTreeMap<
            crate::ids::NodeId,
            (&'static str, crate::ids::NodeId),
        > = std::collections::BTreeMap::new();
        let mut out = Vec::new();
        for event in &self.events {
            let Some(node) = event.node else {
                if matches!(
                    event.kind,
                    K::PhaseStarted {
                        phase: Phase::Liveness
                    }
                ) {
                    break;
                }
                continue;
            };
            let kind = match &event.kind {
                K::Sent { to, msg, .. } => {
                    let kind = C::msg_kind(msg);
                    let nth = sends.entry((node, kind)).or_default();
                    *nth = nth.saturating_add(1);
                    MomentKind::Sent {
                        kind,
                        to: *to,
                        nth: *nth,
                    }
                }
                K::Delivered { from, msg, .. } => {
                    last_delivered.insert(node, (C::msg_kind(msg), *from));
                    continue;
                }
                K::Persisted { .. } | K::WrittenUnsynced { .. } => MomentKind::Persisted,
                K::Protocol(e) => match C::moment(e) {
                    Some(moment) => MomentKind::Named {
                        moment,
                        completed_by: last_delivered.get(&node).copied(),
                    },
                    None => continue,
                },
                _ => continue,
            };
            out.push(RunMoment {
                at_ms: event.at_ms,
                node,
                kind,
            });
        }
        super::guided::spread(out)
    }

    fn event_shape(&self, i: usize) -> Option<String> {
        use crate::history::EventKind as K;
        let event = self.events.get(i)?;
        Some(match &event.kind {
            K::Sent { msg, .. } => format!("send {}", C::msg_kind(msg)),
            K::Delivered { msg, .. } => format!("recv {}", C::msg_kind(msg)),
            K::Protocol(e) => e.to_string().split_whitespace().next().unwrap_or("").into(),
            other => crate::history::render_body::<C>(other)
                .split_whitespace()
                .find(|w| *w != "!!" && *w != "==")
                .unwrap_or("")
                .trim_end_matches(':')
                .into(),
        })
    }
}

/// What a protocol event means to the diagram, read through the contract's
/// [`Core::observe`].
fn meaning<C: Core>(event: &C::Event) -> Option<crate::diagram::Meaning> {
    use crate::diagram::Meaning;
    use crate::protocol::Observation;
    match C::observe(event)? {
        Observation::Proposed(_) | Observation::Submitted { .. } => Some(Meaning::Proposal),
        Observation::Decided(_)
        | Observation::SlotDecided { .. }
        | Observation::Finalized { .. } => Some(Meaning::Decision),
        Observation::Answered(_) | Observation::Tip { .. } => None,
    }
}

/// The first index at which two traces differ, with both renderings (`None` past the
/// end of the shorter one); `None` overall if they are identical.
pub fn first_divergence(
    a: &dyn RunTrace,
    b: &dyn RunTrace,
) -> Option<(usize, Option<String>, Option<String>)> {
    (0..a.len().max(b.len())).find_map(|i| {
        let (x, y) = (a.line(i), b.line(i));
        (x != y).then_some((i, x, y))
    })
}

/// The verdict on one finished run, with its trace.
pub struct Judged {
    pub seed: u64,
    pub end: RunEnd,
    /// Simulated time the run took.
    pub sim_ms: u64,
    pub verdict: Verdict,
    pub trace: Box<dyn RunTrace>,
}

impl std::fmt::Debug for Judged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Judged")
            .field("seed", &self.seed)
            .field("end", &self.end)
            .field("sim_ms", &self.sim_ms)
            .field("verdict", &self.verdict)
            .field("events", &self.trace.len())
            .finish()
    }
}

impl Judged {
    /// Whether the run violated `property`.
    pub fn violates(&self, property: &str) -> bool {
        self.verdict
            .violations
            .iter()
            .any(|v| v.property == property)
    }
}

/// A protocol, type-erased. See the module docs.
pub trait AnyProtocol: Send + Sync {
    fn name(&self) -> &'static str;
    /// The scenario of campaign run `seed` ([`crate::fault::generate_scenario`]).
    fn generate(&self, seed: u64) -> Scenario;
    /// The scenario of experiment run `seed` with its faults drawn under `plan`
    /// ([`crate::fault::scoped_scenario`]); an error says why the plan cannot be met.
    fn generate_scoped(
        &self,
        seed: u64,
        plan: &crate::fault::ScopePlan,
    ) -> Result<Scenario, String>;
    /// Whether this protocol can run `scenario`; the error names the field.
    fn check(&self, scenario: &Scenario) -> Result<(), ScenarioError>;
    fn message_kinds(&self) -> &'static [&'static str];
    fn bugs(&self) -> &'static [PlantedBug];
    /// Every property judged on each run, in the protocol's order.
    fn properties(&self) -> Vec<&'static Property>;
    /// Run `scenario` in `lane` and judge it.
    fn run(&self, scenario: &Scenario, lane: Lane) -> Result<Judged, ScenarioError>;
    /// Shrink `scenario` while `still_fails` holds, within `budget` runs.
    fn shrink(
        &self,
        scenario: &Scenario,
        budget: usize,
        still_fails: &mut dyn FnMut(&Scenario) -> bool,
    ) -> Shrunk;
    /// Real mode for this protocol: cluster files, node processes, histories.
    fn real(&self) -> &dyn crate::real::RealProtocol;
    /// The scenario of a model-checking scope ([`crate::model::scope_scenario`]).
    fn model_scope(&self, servers: u16, clients: u16, bugs: Vec<String>) -> Scenario;
    /// Model check `scenario` within `bounds` ([`crate::model::check`]); an error is
    /// a scenario the protocol refuses or a harness error.
    fn check_model(
        &self,
        scenario: &Scenario,
        bounds: &crate::model::Bounds,
        order: crate::model::Order,
        progress: &mut dyn FnMut(&crate::model::Outcome),
    ) -> Result<crate::model::Outcome, String>;
}

impl<P: Protocol> AnyProtocol for P {
    fn name(&self) -> &'static str {
        Protocol::name(self)
    }

    fn generate(&self, seed: u64) -> Scenario {
        crate::fault::generate_scenario(self, seed)
    }

    fn generate_scoped(
        &self,
        seed: u64,
        plan: &crate::fault::ScopePlan,
    ) -> Result<Scenario, String> {
        crate::fault::scoped_scenario(self, seed, plan)
    }

    fn check(&self, scenario: &Scenario) -> Result<(), ScenarioError> {
        prepare(self, scenario).map(|_| ())
    }

    fn message_kinds(&self) -> &'static [&'static str] {
        Protocol::message_kinds(self)
    }

    fn bugs(&self) -> &'static [PlantedBug] {
        Protocol::bugs(self)
    }

    fn properties(&self) -> Vec<&'static Property> {
        Protocol::properties(self)
            .iter()
            .map(|j| j.property)
            .collect()
    }

    fn run(&self, scenario: &Scenario, lane: Lane) -> Result<Judged, ScenarioError> {
        let setup = prepare(self, scenario)?;
        let report = run_setup(self, &setup, lane);
        let verdict = judge(self, &setup, &report.history);
        Ok(Judged {
            seed: scenario.seed,
            end: report.end,
            sim_ms: report.sim_ms,
            verdict,
            trace: Box::new(report.history),
        })
    }

    fn shrink(
        &self,
        scenario: &Scenario,
        budget: usize,
        still_fails: &mut dyn FnMut(&Scenario) -> bool,
    ) -> Shrunk {
        shrink(self, scenario, budget, still_fails)
    }

    fn real(&self) -> &dyn crate::real::RealProtocol {
        self
    }

    fn model_scope(&self, servers: u16, clients: u16, bugs: Vec<String>) -> Scenario {
        crate::model::scope_scenario(self, servers, clients, bugs)
    }

    fn check_model(
        &self,
        scenario: &Scenario,
        bounds: &crate::model::Bounds,
        order: crate::model::Order,
        progress: &mut dyn FnMut(&crate::model::Outcome),
    ) -> Result<crate::model::Outcome, String> {
        let setup = prepare(self, scenario).map_err(|e| e.to_string())?;
        crate::model::check(self, &setup, bounds, order, progress)
    }
}
