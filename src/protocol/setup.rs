//! From a scenario to a run: [`prepare`] checks everything a run needs, the harness's
//! fields and the protocol's own, and parses the protocol's section once, so the
//! worlds and the judges read typed parameters.

use super::Protocol;
use crate::scenario::{Scenario, ScenarioError};
use std::collections::BTreeSet;

/// One planted bug a protocol carries: compiled in, off unless a scenario names it.
/// They prove the harness finds real bugs and give the failure workflow (save,
/// shrink, replay, keep) something real to work on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlantedBug {
    /// Stable snake_case name (`--bug NAME`, the scenario's `bugs` list).
    pub name: &'static str,
    /// What is wrong, in one line.
    pub description: &'static str,
}

/// A protocol's planted bugs as an enum, so a core asks `bugs.has(Bug::X)` instead of
/// comparing names on every message: [`BugSet::switched_on`] reads the setup's names once.
pub trait PlantedBugKind: Copy + Ord + 'static {
    /// Every bug, in the catalog's order.
    const ALL: &'static [Self];
    /// The bug's catalog entry (its name is what scenarios and `--bug` say).
    fn planted(self) -> PlantedBug;
}

/// The planted bugs switched on for a run, typed (empty: the correct protocol).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BugSet<B: Ord>(BTreeSet<B>);

impl<B: Ord> Default for BugSet<B> {
    fn default() -> Self {
        Self(BTreeSet::new())
    }
}

impl<B: Ord> FromIterator<B> for BugSet<B> {
    fn from_iter<I: IntoIterator<Item = B>>(bugs: I) -> Self {
        Self(bugs.into_iter().collect())
    }
}

impl<B: PlantedBugKind> BugSet<B> {
    /// The bugs of `B`'s catalog that `setup` switches on.
    pub fn switched_on<P: Protocol + ?Sized>(setup: &RunSetup<P>) -> Self {
        B::ALL
            .iter()
            .copied()
            .filter(|bug| setup.has_bug(bug.planted().name))
            .collect()
    }

    pub fn has(&self, bug: B) -> bool {
        self.0.contains(&bug)
    }
}

/// The static catalog (`[PlantedBug; LEN]`, in `ALL`'s order) of a planted-bug enum
/// whose inherent `ALL` array and `const fn planted` give it: a const item, since
/// [`Protocol::bugs`] lends it for the whole program, and trait methods are not const.
macro_rules! planted_bug_table {
    ($bug:ident, $len:expr) => {{
        let mut out = [$crate::protocol::PlantedBug {
            name: "",
            description: "",
        }; $len];
        let mut i = 0;
        while i < $len {
            out[i] = $bug::ALL[i].planted();
            i += 1;
        }
        out
    }};
}
pub(crate) use planted_bug_table;

/// The planted bug `name` of a protocol named `protocol` with catalog `bugs`, or the
/// one message every door (scenario, command line, real mode) gives for a name it does
/// not know: the name, the protocol, and the bugs there are.
pub fn find_bug(
    protocol: &str,
    bugs: &'static [PlantedBug],
    name: &str,
) -> Result<&'static PlantedBug, String> {
    bugs.iter().find(|b| b.name == name).ok_or_else(|| {
        let known: Vec<&str> = bugs.iter().map(|b| b.name).collect();
        let known = if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        };
        format!("`{name}` is not a planted bug of {protocol} (known: {known})")
    })
}

/// A scenario checked and parsed for protocol `P`: what the worlds build nodes from
/// and what the judges read.
pub struct RunSetup<P: Protocol + ?Sized> {
    pub scenario: Scenario,
    pub params: P::Params,
    /// The planted bugs switched on (names from [`Protocol::bugs`]).
    pub bugs: BTreeSet<&'static str>,
}

impl<P: Protocol + ?Sized> RunSetup<P> {
    /// Whether planted bug `name` is switched on.
    pub fn has_bug(&self, name: &str) -> bool {
        self.bugs.contains(name)
    }
}

/// Check `scenario` for `protocol`: the harness's fields, the protocol's name, the
/// cluster's minimum size, the protocol's section (parsed, then checked by
/// [`Protocol::check_params`]), the planted bugs and the message kinds targeted
/// faults name. The error names the field.
pub fn prepare<P: Protocol + ?Sized>(
    protocol: &P,
    scenario: &Scenario,
) -> Result<RunSetup<P>, ScenarioError> {
    scenario.validate()?;
    if scenario.protocol != protocol.name() {
        return Err(ScenarioError::new(
            "protocol",
            format!(
                "`{}` is not the protocol under test (`{}`)",
                scenario.protocol,
                protocol.name()
            ),
        ));
    }
    if scenario.cluster.len() < protocol.nodes_min() {
        return Err(ScenarioError::new(
            "cluster.nodes",
            format!(
                "{} nodes; {} needs at least {}",
                scenario.cluster.len(),
                protocol.name(),
                protocol.nodes_min()
            ),
        ));
    }
    let params: P::Params = if scenario.params.is_null() {
        P::Params::default()
    } else {
        serde_path_to_error::deserialize(&scenario.params).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." {
                "params".to_string()
            } else {
                format!("params.{path}")
            };
            ScenarioError::new(field, e.into_inner().to_string())
        })?
    };
    let mut bugs = BTreeSet::new();
    for (i, name) in scenario.bugs.iter().enumerate() {
        let bug = find_bug(protocol.name(), protocol.bugs(), name)
            .map_err(|reason| ScenarioError::new(format!("bugs[{i}]"), reason))?;
        bugs.insert(bug.name);
    }
    // The protocol's own check first: it can say why a scenario runs past its bound
    // in its own terms (the generals: fewer than 3m + 1 generals, more than m traitors).
    protocol.check_params(&params, scenario)?;
    // An adversary the protocol does not supply is named before the Byzantine count
    // it adds to: the name is the likelier mistake.
    scenario
        .faults
        .validate_strategies(protocol.name(), protocol.strategies())
        .map_err(|(field, reason)| ScenarioError::new(field, reason))?;
    let byzantine = scenario.faults.byzantine_nodes();
    let tolerated = protocol.byzantine_max(scenario.cluster.len());
    if byzantine.len() > tolerated && !scenario.byzantine_beyond_tolerance {
        return Err(ScenarioError::new(
            "faults",
            format!(
                "{} Byzantine nodes {}; {} tolerates {tolerated} in a cluster of {} \
                 (set `byzantine_beyond_tolerance: true` to run it on purpose)",
                byzantine.len(),
                super::node_list(&byzantine.iter().copied().collect::<Vec<_>>()),
                protocol.name(),
                scenario.cluster.len()
            ),
        ));
    }
    scenario
        .faults
        .validate_kinds(protocol.message_kinds())
        .map_err(|(field, reason)| ScenarioError::new(field, reason))?;
    Ok(RunSetup {
        scenario: scenario.clone(),
        params,
        bugs,
    })
}
