//! Properties: a name, an expectation (Always, Eventually, Sometimes) and a judge over
//! one run's history (principle 5). A broken property is a [`Violation`] value with
//! its witness events, not an `Err` (principle 9): a run that breaks agreement is a
//! successful discovery, and the caller decides what to do with it.

use super::{Protocol, RunSetup};
use crate::history::{render_event, History, Trace};
use crate::ids::NodeId;
use serde::{Deserialize, Serialize};
use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

/// How a property is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Expectation {
    /// Safety: must never be broken, at any point of any run.
    Always,
    /// Liveness: must hold by the end of the liveness phase.
    Eventually,
    /// Coverage: some run of a campaign must reach it, so that "no violation" is not
    /// vacuous (a campaign that never made two proposers compete tested nothing).
    Sometimes,
}

/// A named property. Names are stable strings because they appear in violations,
/// corpus files and campaign summaries; renaming one breaks saved expectations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Property {
    pub name: &'static str,
    pub expectation: Expectation,
    pub description: &'static str,
}

/// What a judge reads: one run's history, its scenario and parameters, and the nodes
/// that must decide; and what the protocol's judges derive from them in common
/// ([`Judging::shared`]).
pub struct Judging<'a, P: Protocol + ?Sized> {
    pub history: &'a History<P::Core>,
    pub setup: &'a RunSetup<P>,
    pub deciders: &'a [NodeId],
    /// Derived facts, one per type, made by the first judge that asks.
    shared: RefCell<Vec<(TypeId, Rc<dyn Any>)>>,
}

impl<'a, P: Protocol + ?Sized> Judging<'a, P> {
    pub fn new(
        history: &'a History<P::Core>,
        setup: &'a RunSetup<P>,
        deciders: &'a [NodeId],
    ) -> Self {
        Judging {
            history,
            setup,
            deciders,
            shared: RefCell::new(Vec::new()),
        }
    }

    /// What several judges derive from this run alike (Paxos's judges all read which
    /// values were chosen): made by `derive` for the first judge that asks, and handed
    /// to the rest, so each judge stays a separate property and a campaign still
    /// derives it once per run (judging runs after every run of a campaign). One value
    /// per type `T`; `derive` must not ask for a `T` itself.
    pub fn shared<T: 'static>(&self, derive: impl FnOnce(&Self) -> T) -> Rc<T> {
        let made = |entry: &Rc<dyn Any>| Rc::clone(entry).downcast::<T>().ok();
        let found = self
            .shared
            .borrow()
            .iter()
            .find(|(id, _)| *id == TypeId::of::<T>())
            .and_then(|(_, entry)| made(entry));
        if let Some(value) = found {
            return value;
        }
        let value = Rc::new(derive(self));
        self.shared
            .borrow_mut()
            .push((TypeId::of::<T>(), Rc::clone(&value) as Rc<dyn Any>));
        value
    }
}

/// How a property is judged over one run.
pub enum JudgeFn<P: Protocol + ?Sized> {
    /// Always and Eventually: every breach, with its witness (empty: held).
    Violations(fn(&Judging<P>) -> Vec<Violation>),
    /// Sometimes: whether this run reached the state.
    Reached(fn(&Judging<P>) -> bool),
}

/// A property with its judge.
pub struct Judge<P: Protocol + ?Sized> {
    pub property: &'static Property,
    pub judge: JudgeFn<P>,
    /// Whether a violation can be concluded from some nodes' histories alone.
    pub evidence: Evidence,
}

/// What a safety or liveness judge needs to see before its violations can be trusted.
/// The simulation lanes always record every node, so this matters only where histories
/// can be missing: `gauntlet check` of a real cluster's files. Agreement is broken by
/// two decisions that are both in the files, whatever else happened; validity ("every
/// decided value was proposed") and liveness ("every decider decides") are broken by
/// something *not* being in the files, which a missing file would fake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// A violation rests on the absence of events (no proposal of the decided value,
    /// no decision by a node), so it needs every node's history. The default: the
    /// safe choice for a judge nobody classified.
    EveryNode,
    /// A violation is witnessed by events that happened (two different decisions, a
    /// node deciding twice): more history can add violations but never remove one, so
    /// it can be concluded from the histories at hand.
    Witnessed,
}

impl<P: Protocol + ?Sized> Judge<P> {
    /// A safety or liveness judge. Panics on a Sometimes property (a programming error
    /// in the protocol's property list, caught by its first run).
    pub fn violations(
        property: &'static Property,
        judge: fn(&Judging<P>) -> Vec<Violation>,
    ) -> Self {
        assert_ne!(
            property.expectation,
            Expectation::Sometimes,
            "{} is a coverage property",
            property.name
        );
        Judge {
            property,
            judge: JudgeFn::Violations(judge),
            evidence: Evidence::EveryNode,
        }
    }

    /// Marks a judge whose violations are witnessed by events that happened
    /// ([`Evidence::Witnessed`]), so `gauntlet check` judges it even when some nodes'
    /// histories are missing.
    pub fn witnessed(self) -> Self {
        Judge {
            evidence: Evidence::Witnessed,
            ..self
        }
    }

    /// A coverage judge. Panics unless the property is a Sometimes property.
    pub fn reached(property: &'static Property, judge: fn(&Judging<P>) -> bool) -> Self {
        assert_eq!(
            property.expectation,
            Expectation::Sometimes,
            "{} is not a coverage property",
            property.name
        );
        Judge {
            property,
            judge: JudgeFn::Reached(judge),
            evidence: Evidence::Witnessed,
        }
    }
}

/// One broken property, with the events that prove it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// The [`Property::name`] that was broken.
    pub property: &'static str,
    pub expectation: Expectation,
    /// Simulated time at which the property became broken.
    pub at_ms: u64,
    /// The nodes involved, sorted and deduplicated.
    pub nodes: Vec<NodeId>,
    /// Indices into `history.events`, sorted ascending and deduplicated: the smallest
    /// set of events a reader needs to see the breach.
    pub witness: Vec<usize>,
    pub message: String,
}

impl Violation {
    /// Builds a violation of `property`, normalising `nodes` and `witness` (sorted,
    /// deduplicated) so that equal breaches compare equal however they were found.
    pub fn new(
        property: &Property,
        at_ms: u64,
        mut nodes: Vec<NodeId>,
        mut witness: Vec<usize>,
        message: String,
    ) -> Self {
        nodes.sort_unstable();
        nodes.dedup();
        witness.sort_unstable();
        witness.dedup();
        Violation {
            property: property.name,
            expectation: property.expectation,
            at_ms,
            nodes,
            witness,
            message,
        }
    }

    /// The witness events in the canonical trace format, each prefixed by its index so
    /// it can be found in the full rendering ([`History::render`]).
    ///
    /// Panics if a witness index is past the end of `history`: the violation was then
    /// rendered against a different history than the one it was found in, which means
    /// a replay diverged, and silently printing something else would hide that.
    pub fn render_witness<T: Trace>(&self, history: &History<T>) -> String {
        let mut out = String::new();
        for &i in &self.witness {
            let event = history.events.get(i).unwrap_or_else(|| {
                panic!(
                    "witness index {i} of {} violation is past the end of a history of {} events",
                    self.property,
                    history.len()
                )
            });
            out.push_str(&format!("{i:>5} {}\n", render_event(event)));
        }
        out
    }
}

/// `[n1,n2]`, the same list format as the trace rendering.
pub fn node_list(nodes: &[NodeId]) -> String {
    let names: Vec<String> = nodes.iter().map(|n| n.to_string()).collect();
    format!("[{}]", names.join(","))
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({:?}) broken at {}ms on {}: {}",
            self.property,
            self.expectation,
            self.at_ms,
            node_list(&self.nodes),
            self.message
        )
    }
}

/// Everything the judges say about one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Verdict {
    /// In the order of the protocol's property list (safety first, then liveness).
    pub violations: Vec<Violation>,
    /// The Sometimes properties this run reached, by name.
    pub reached: Vec<&'static str>,
}

impl Verdict {
    /// No `Always` property was broken.
    pub fn safety_ok(&self) -> bool {
        !self
            .violations
            .iter()
            .any(|v| v.expectation == Expectation::Always)
    }

    /// No `Eventually` property was broken.
    pub fn liveness_ok(&self) -> bool {
        !self
            .violations
            .iter()
            .any(|v| v.expectation == Expectation::Eventually)
    }

    /// Both safety and liveness held. Coverage never fails a run: it is judged over a
    /// whole campaign.
    pub fn is_ok(&self) -> bool {
        self.safety_ok() && self.liveness_ok()
    }

    /// Judge one run by `judges`, in their order. A scenario with a stop
    /// (`Scenario::stop_at_ms`) owes no liveness: its Eventually judges are skipped.
    pub fn of<P: Protocol + ?Sized>(judges: &[Judge<P>], judging: &Judging<P>) -> Verdict {
        let mut verdict = Verdict::default();
        let stopped = judging.setup.scenario.stop_at_ms.is_some();
        for judge in judges {
            if stopped && judge.property.expectation == Expectation::Eventually {
                continue;
            }
            match judge.judge {
                JudgeFn::Violations(f) => verdict.violations.extend(f(judging)),
                JudgeFn::Reached(f) => {
                    if f(judging) {
                        verdict.reached.push(judge.property.name);
                    }
                }
            }
        }
        verdict
    }
}
