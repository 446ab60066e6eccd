//! The generals' judges, on loyal generals only (a general a Byzantine fault names is a
//! traitor, whatever it records):
//!
//! - IC1: every loyal lieutenant decides the same order;
//! - IC2: if the commander is loyal, every loyal lieutenant decides its order;
//! - a lieutenant decides at most once, and every loyal lieutenant decides (liveness);
//! - coverage: loyal lieutenants obeyed an attack, and a traitor lied (a mutation went
//!   out) in a run whose loyal lieutenants still agreed.

use super::Generals;
use crate::history::{EventKind, History};
use crate::ids::NodeId;
use crate::protocol::shapes::value::{
    decisions, integrity, liveness, DECISION_INTEGRITY, LIVENESS,
};
use crate::protocol::{Expectation, Judge, Judging, Property, RunSetup, Violation};
use crate::value::Value;
use std::collections::BTreeSet;

pub const IC1: Property = Property {
    name: "ic1_loyal_agree",
    expectation: Expectation::Always,
    description: "all loyal lieutenants decide the same order",
};

pub const IC2: Property = Property {
    name: "ic2_obey_loyal_commander",
    expectation: Expectation::Always,
    description: "if the commander is loyal, every loyal lieutenant decides its order",
};

pub const ATTACK_OBEYED: Property = Property {
    name: "attack_obeyed",
    expectation: Expectation::Sometimes,
    description: "the loyal lieutenants decided to attack",
};

pub const TRAITOR_OUTVOTED: Property = Property {
    name: "traitor_outvoted",
    expectation: Expectation::Sometimes,
    description: "a traitor's lie went out and the loyal lieutenants still agreed",
};

/// The loyal lieutenants of a run: every general but the commander and the traitors.
pub fn loyal_lieutenants(setup: &RunSetup<Generals>) -> Vec<NodeId> {
    let traitors = setup.scenario.faults.byzantine_nodes();
    let ids = setup.scenario.cluster.ids();
    ids[1..]
        .iter()
        .copied()
        .filter(|n| !traitors.contains(n))
        .collect()
}

/// The decisions of the loyal lieutenants: (event index, node, order).
fn loyal_decisions(
    history: &History<super::General>,
    loyal: &[NodeId],
) -> Vec<(usize, NodeId, Value)> {
    decisions(history)
        .into_iter()
        .filter(|(_, n, _)| loyal.contains(n))
        .collect()
}

/// IC1: the first loyal decision against the first that differs from it.
pub fn ic1(history: &History<super::General>, loyal: &[NodeId]) -> Vec<Violation> {
    let decided = loyal_decisions(history, loyal);
    let Some((fi, fnode, first)) = decided.first() else {
        return Vec::new();
    };
    let other = decided.iter().find(|(_, _, v)| v != first);
    other
        .map(|(i, node, v)| {
            vec![Violation::new(
                &IC1,
                history.events[*i].at_ms,
                vec![*fnode, *node],
                vec![*fi, *i],
                format!("loyal {fnode} decided {first}, loyal {node} decided {v}"),
            )]
        })
        .unwrap_or_default()
}

/// IC2: with a loyal commander whose order was `order`, every loyal decision that
/// differs from it.
pub fn ic2(
    history: &History<super::General>,
    loyal: &[NodeId],
    commander: NodeId,
    order: Option<&Value>,
) -> Vec<Violation> {
    let Some(order) = order else {
        return Vec::new();
    };
    loyal_decisions(history, loyal)
        .into_iter()
        .filter(|(_, _, v)| v != order)
        .map(|(i, node, v)| {
            Violation::new(
                &IC2,
                history.events[i].at_ms,
                vec![commander, node],
                vec![i],
                format!("loyal commander {commander} ordered {order}, loyal {node} decided {v}"),
            )
        })
        .collect()
}

/// The commander's order, if the commander is loyal.
fn loyal_order(j: &Judging<Generals>) -> Option<Value> {
    let scenario = &j.setup.scenario;
    let commander = scenario.cluster.ids()[0];
    if scenario.faults.byzantine_nodes().contains(&commander) {
        return None;
    }
    scenario.request_of(commander).map(|(_, order)| order)
}

fn agreed_on(j: &Judging<Generals>) -> Option<Value> {
    let loyal = loyal_lieutenants(j.setup);
    let decided: BTreeSet<Value> = loyal_decisions(j.history, &loyal)
        .into_iter()
        .map(|(_, _, v)| v)
        .collect();
    (decided.len() == 1).then(|| decided.into_iter().next().expect("one"))
}

/// The generals' properties: IC1, IC2, integrity, liveness, then coverage.
pub fn judges() -> Vec<Judge<Generals>> {
    vec![
        Judge::violations(&IC1, |j| ic1(j.history, &loyal_lieutenants(j.setup))),
        Judge::violations(&IC2, |j| {
            let commander = j.setup.scenario.cluster.ids()[0];
            ic2(
                j.history,
                &loyal_lieutenants(j.setup),
                commander,
                loyal_order(j).as_ref(),
            )
        }),
        Judge::violations(&DECISION_INTEGRITY, |j| integrity(j.history)),
        Judge::violations(&LIVENESS, |j| liveness(j.history, j.deciders)),
        Judge::reached(&ATTACK_OBEYED, |j| {
            agreed_on(j).is_some_and(|v| v.as_str() == super::ATTACK)
        }),
        Judge::reached(&TRAITOR_OUTVOTED, |j| {
            let lied = j.history.events.iter().any(|e| {
                matches!(e.kind, EventKind::Mutated { .. })
                    && e.node
                        .is_some_and(|n| j.setup.scenario.faults.byzantine_nodes().contains(&n))
            });
            lied && agreed_on(j).is_some()
        }),
    ]
}
