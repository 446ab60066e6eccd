//! The chain's own judges, next to the chain shape's generic ones
//! (`crate::protocol::shapes::chain`: finality agreement and integrity on confirmed
//! blocks, common prefix, chain growth). They read honest nodes' events only, and the
//! record of every block really mined (`PowEvent::Found`, at any node).
//!
//! Safety (Always): a transaction confirmed `K` deep is never reverted (the message
//! names the deepest reorg of the run); no chain spends a coin twice; every block on a
//! chain was mined, on the parent and at the height it claims; a node's tip never
//! loses work; the orphan pool stays within its bound.
//! Liveness (Eventually): every client transaction is settled on every chain, chain
//! quality, and the overlay connected.
//! Coverage (Sometimes): a fork, a reorg, a partition both sides of which grew, and a
//! node that was alone and came back through its bootstrap nodes.

use super::block::{coin, label, Block};
use super::node::{PowEvent, PowNode, ORPHANS_MAX};
use super::Pow;
use crate::history::{EventKind, History};
use crate::ids::NodeId;
use crate::protocol::shapes::{judge_chain, ShapeView, CHAIN_PROPERTIES};
use crate::protocol::{node_list, Expectation, Judge, Judging, Property, Violation};
use crate::value::Value;
use std::collections::{BTreeMap, BTreeSet};

pub const CONFIRMATION_SAFETY: Property = Property {
    name: "confirmation_safety",
    expectation: Expectation::Always,
    description: "a transaction confirmed K blocks deep at an honest node is never reverted there",
};

pub const NO_DOUBLE_SPEND: Property = Property {
    name: "no_double_spend",
    expectation: Expectation::Always,
    description: "no honest node's chain spends a coin twice",
};

pub const CHAIN_VALID: Property = Property {
    name: "chain_valid",
    expectation: Expectation::Always,
    description:
        "every block on an honest node's chain was mined, on the parent and at the height it claims",
};

pub const HEAVIEST_CHAIN: Property = Property {
    name: "heaviest_chain",
    expectation: Expectation::Always,
    description: "an honest node never switches to a tip with less cumulative work",
};

pub const ORPHAN_POOL_BOUNDED: Property = Property {
    name: "orphan_pool_bounded",
    expectation: Expectation::Always,
    description: "an honest node's orphan pool never holds more than its bound",
};

pub const TXS_SETTLED: Property = Property {
    name: "txs_settled",
    expectation: Expectation::Eventually,
    description: "at the end, every client transaction is on every decider's chain, or its coin is spent there by another",
};

pub const CHAIN_QUALITY: Property = Property {
    name: "chain_quality",
    expectation: Expectation::Eventually,
    description:
        "at the end, honest miners made at least the scenario's share of each decider's last blocks",
};

pub const OVERLAY_CONNECTED: Property = Property {
    name: "overlay_connected",
    expectation: Expectation::Eventually,
    description: "at the end, every decider reaches every other through honest nodes' peer tables",
};

pub const FORK_HAPPENED: Property = Property {
    name: "fork_happened",
    expectation: Expectation::Sometimes,
    description: "two blocks were mined on one parent",
};

pub const REORG_HAPPENED: Property = Property {
    name: "reorg_happened",
    expectation: Expectation::Sometimes,
    description: "an honest node switched branches",
};

pub const PARTITION_BOTH_GREW: Property = Property {
    name: "partition_both_grew",
    expectation: Expectation::Sometimes,
    description: "at the heal of a run with a partition, two honest chains had each grown 2 blocks past their fork",
};

pub const RECOVERED_VIA_REDIAL: Property = Property {
    name: "recovered_via_redial",
    expectation: Expectation::Sometimes,
    description: "an honest node left alone re-dialed its bootstrap nodes and had a peer again",
};

/// A block as its miner recorded it.
#[derive(Debug, Clone)]
pub struct Mined {
    pub index: usize,
    pub parent: Value,
    pub height: u64,
    pub miner: NodeId,
    pub txs: Vec<Value>,
}

/// Every block mined in the run (at any node, Byzantine ones too: a block is real if
/// it was mined), by id.
pub fn mined(history: &History<PowNode>) -> BTreeMap<Value, Mined> {
    let mut out = BTreeMap::new();
    for (index, e) in history.events.iter().enumerate() {
        if let EventKind::Protocol(PowEvent::Found {
            block,
            parent,
            height,
            miner,
            txs,
            ..
        }) = &e.kind
        {
            out.entry(block.clone()).or_insert_with(|| Mined {
                index,
                parent: parent.clone(),
                height: *height,
                miner: *miner,
                txs: txs.clone(),
            });
        }
    }
    out
}

/// Honest nodes' protocol events, with index and time.
fn honest<'a>(
    history: &'a History<PowNode>,
    byzantine: &'a BTreeSet<NodeId>,
) -> impl Iterator<Item = (usize, u64, NodeId, &'a PowEvent)> {
    history.events.iter().enumerate().filter_map(move |(i, e)| {
        let node = e.node?;
        match &e.kind {
            EventKind::Protocol(event) if !byzantine.contains(&node) => {
                Some((i, e.at_ms, node, event))
            }
            _ => None,
        }
    })
}

/// The deepest reorg at an honest node: depth, node, time (0 when none).
fn deepest_reorg(history: &History<PowNode>, byzantine: &BTreeSet<NodeId>) -> (u64, String) {
    let mut best = (0, "none".to_string());
    for (_, at_ms, node, e) in honest(history, byzantine) {
        if let PowEvent::Reorg { depth, .. } = e {
            if *depth > best.0 {
                best = (*depth, format!("{depth} blocks, at {node} at {at_ms}ms"));
            }
        }
    }
    best
}

/// Where each transaction sits on `chain`: tx -> (height, block).
fn tx_positions<'a>(
    chain: &'a [Value],
    mined: &'a BTreeMap<Value, Mined>,
) -> BTreeMap<&'a Value, (u64, &'a Value)> {
    let mut out = BTreeMap::new();
    for (h, b) in chain.iter().enumerate() {
        for tx in mined.get(b).map(|m| m.txs.as_slice()).unwrap_or_default() {
            out.entry(tx).or_insert((h as u64, b));
        }
    }
    out
}

/// Each honest node's transactions confirmed `k` deep (depth counts the tip as 1),
/// checked against every later Tip of the node: one violation per reverted
/// transaction and node.
pub fn confirmation_safety(
    history: &History<PowNode>,
    byzantine: &BTreeSet<NodeId>,
    k: u64,
) -> Vec<Violation> {
    let mined = mined(history);
    let k = k.max(1);
    // (node, tx) -> (index, at_ms, height, block)
    let mut confirmed: BTreeMap<(NodeId, Value), (usize, u64, u64, Value)> = BTreeMap::new();
    let mut reported: BTreeSet<(NodeId, Value)> = BTreeSet::new();
    let mut out = Vec::new();
    for (i, at_ms, node, e) in honest(history, byzantine) {
        let PowEvent::Tip { chain, .. } = e else {
            continue;
        };
        let positions = tx_positions(chain, &mined);
        for ((n, tx), (ci, cat, h, b)) in confirmed.range((node, Value::new(""))..) {
            if *n != node {
                break;
            }
            if positions.get(tx).is_some_and(|(_, at)| *at == b)
                || !reported.insert((node, tx.clone()))
            {
                continue;
            }
            let (_, deepest) = deepest_reorg(history, byzantine);
            out.push(Violation::new(
                &CONFIRMATION_SAFETY,
                at_ms,
                vec![node],
                vec![*ci, i],
                format!(
                    "{node} reverted {tx}, confirmed {k} deep in block {b} at height {h} at {cat}ms: at {at_ms}ms its chain (tip {} at height {}) no longer holds it there; deepest reorg of the run: {deepest}",
                    chain.last().map_or("-", |b| b.as_str()),
                    chain.len().saturating_sub(1)
                ),
            ));
        }
        let len = chain.len() as u64;
        for (tx, (h, b)) in positions {
            if len.saturating_sub(h) >= k {
                confirmed
                    .entry((node, tx.clone()))
                    .or_insert((i, at_ms, h, b.clone()));
            }
        }
    }
    out
}

/// The first coin `chain` spends twice: (coin, first tx and block, second tx and block).
fn double_spend<'a>(
    chain: &'a [Value],
    mined: &'a BTreeMap<Value, Mined>,
) -> Option<(String, &'a Value, &'a Value, &'a Value, &'a Value)> {
    let mut spent: BTreeMap<&str, (&Value, &Value)> = BTreeMap::new();
    for b in chain {
        for tx in mined.get(b).map(|m| m.txs.as_slice()).unwrap_or_default() {
            let c = coin(tx).unwrap_or(tx.as_str());
            if let Some((t1, b1)) = spent.get(c) {
                return Some((c.to_string(), t1, b1, tx, b));
            }
            spent.insert(c, (tx, b));
        }
    }
    None
}

/// Every honest Tip's chain spends each coin once; the first double spend per node.
pub fn no_double_spend(history: &History<PowNode>, byzantine: &BTreeSet<NodeId>) -> Vec<Violation> {
    let mined = mined(history);
    let mut checked: BTreeSet<&Value> = BTreeSet::new();
    let mut reported: BTreeSet<NodeId> = BTreeSet::new();
    let mut out = Vec::new();
    for (i, at_ms, node, e) in honest(history, byzantine) {
        let PowEvent::Tip { chain, .. } = e else {
            continue;
        };
        let Some(tip) = chain.last() else { continue };
        if reported.contains(&node) || !checked.insert(tip) {
            continue;
        }
        if let Some((c, t1, b1, t2, b2)) = double_spend(chain, &mined) {
            reported.insert(node);
            let mut witness = vec![i];
            witness.extend(mined.get(b1).map(|m| m.index));
            witness.extend(mined.get(b2).map(|m| m.index));
            out.push(Violation::new(
                &NO_DOUBLE_SPEND,
                at_ms,
                vec![node],
                witness,
                format!(
                    "{node}'s chain spends {c} twice: {t1} in block {b1}, then {t2} in block {b2}"
                ),
            ));
        }
    }
    out
}

/// What is wrong with `chain`, if anything: a first block that is not genesis, or a
/// block never mined or on another parent or height than it was mined at.
fn invalid(chain: &[Value], mined: &BTreeMap<Value, Mined>, genesis: &Value) -> Option<String> {
    match chain.first() {
        None => return Some("the chain is empty".into()),
        Some(g) if g != genesis => return Some(format!("it starts at {g}, not genesis")),
        _ => {}
    }
    for (h, pair) in chain.windows(2).enumerate() {
        let (parent, b) = (&pair[0], &pair[1]);
        let h = h + 1;
        match mined.get(b) {
            None => return Some(format!("block {b} at height {h} was never mined")),
            Some(m) if &m.parent != parent || m.height != h as u64 => {
                return Some(format!(
                    "block {b} at height {h} follows {parent}, but was mined on {} at height {}",
                    m.parent, m.height
                ))
            }
            _ => {}
        }
    }
    None
}

/// Every honest Tip is a chain of mined blocks from genesis; the first bad one per
/// node.
pub fn chain_valid(history: &History<PowNode>, byzantine: &BTreeSet<NodeId>) -> Vec<Violation> {
    let mined = mined(history);
    let genesis = label(Block::genesis().id());
    let mut checked: BTreeSet<&Value> = BTreeSet::new();
    let mut reported: BTreeSet<NodeId> = BTreeSet::new();
    let mut out = Vec::new();
    for (i, at_ms, node, e) in honest(history, byzantine) {
        let PowEvent::Tip { chain, .. } = e else {
            continue;
        };
        let Some(tip) = chain.last() else { continue };
        if reported.contains(&node) || !checked.insert(tip) {
            continue;
        }
        if let Some(why) = invalid(chain, &mined, &genesis) {
            reported.insert(node);
            out.push(Violation::new(
                &CHAIN_VALID,
                at_ms,
                vec![node],
                vec![i],
                format!("{node}'s chain (tip {tip}) is invalid: {why}"),
            ));
        }
    }
    out
}

/// Each honest node's Tips never lose work (a restart recovers its tip from its log,
/// so this holds across restarts too); the first loss per node.
pub fn heaviest_chain(history: &History<PowNode>, byzantine: &BTreeSet<NodeId>) -> Vec<Violation> {
    let mut last: BTreeMap<NodeId, (usize, u64, u64, &Value)> = BTreeMap::new();
    let mut reported: BTreeSet<NodeId> = BTreeSet::new();
    let mut out = Vec::new();
    for (i, at_ms, node, e) in honest(history, byzantine) {
        let PowEvent::Tip { chain, work } = e else {
            continue;
        };
        let Some(tip) = chain.last() else { continue };
        if let Some(&(pi, pat, pwork, ptip)) = last.get(&node) {
            if *work < pwork && reported.insert(node) {
                out.push(Violation::new(
                    &HEAVIEST_CHAIN,
                    at_ms,
                    vec![node],
                    vec![pi, i],
                    format!(
                        "{node} switched from tip {ptip} (work {pwork}, at {pat}ms) to {tip} (work {work}, height {}) at {at_ms}ms",
                        chain.len() - 1
                    ),
                ));
            }
        }
        last.insert(node, (i, at_ms, *work, tip));
    }
    out
}

/// No honest node reports an orphan pool over [`ORPHANS_MAX`]; the first per node.
pub fn orphan_pool_bounded(
    history: &History<PowNode>,
    byzantine: &BTreeSet<NodeId>,
) -> Vec<Violation> {
    let mut reported: BTreeSet<NodeId> = BTreeSet::new();
    let mut out = Vec::new();
    for (i, at_ms, node, e) in honest(history, byzantine) {
        if let PowEvent::Orphaned { pool, block } = e {
            if *pool > ORPHANS_MAX as u64 && reported.insert(node) {
                out.push(Violation::new(
                    &ORPHAN_POOL_BOUNDED,
                    at_ms,
                    vec![node],
                    vec![i],
                    format!(
                        "{node} holds {pool} orphans (bound {ORPHANS_MAX}) after taking {block}"
                    ),
                ));
            }
        }
    }
    out
}

/// The liveness window: (phase start index, end index, end time), or `None` when
/// the run never healed.
fn window(history: &History<PowNode>) -> Option<(usize, usize, u64)> {
    let from = history.liveness_start()?;
    let end = history.events.len().checked_sub(1)?;
    Some((from, end, history.events[end].at_ms))
}

/// Each honest node's last Tip: node -> (index, chain).
fn last_tips<'a>(
    history: &'a History<PowNode>,
    byzantine: &'a BTreeSet<NodeId>,
) -> BTreeMap<NodeId, (usize, &'a [Value])> {
    let mut out = BTreeMap::new();
    for (i, _, node, e) in honest(history, byzantine) {
        if let PowEvent::Tip { chain, .. } = e {
            out.insert(node, (i, chain.as_slice()));
        }
    }
    out
}

/// After the heal, every transaction a client gave an honest node is on every honest
/// decider's last chain, or its coin is spent there by another transaction.
pub fn txs_settled(
    history: &History<PowNode>,
    byzantine: &BTreeSet<NodeId>,
    deciders: &[NodeId],
) -> Vec<Violation> {
    let Some((from, end, end_ms)) = window(history) else {
        return Vec::new();
    };
    let mined = mined(history);
    let submitted: BTreeSet<&Value> = history
        .events
        .iter()
        .filter(|e| e.node.is_some_and(|n| !byzantine.contains(&n)))
        .filter_map(|e| match &e.kind {
            EventKind::ClientRequest { value } if coin(value).is_some() => Some(value),
            _ => None,
        })
        .collect();
    let tips = last_tips(history, byzantine);
    let mut nodes = Vec::new();
    let mut lines = Vec::new();
    let mut witness = vec![from, end];
    for &d in deciders.iter().filter(|d| !byzantine.contains(d)) {
        let chain = tips.get(&d).map_or(&[][..], |t| t.1);
        let spent: BTreeSet<&str> = chain
            .iter()
            .flat_map(|b| mined.get(b).map(|m| m.txs.as_slice()).unwrap_or_default())
            .filter_map(coin)
            .collect();
        let missing: Vec<&str> = submitted
            .iter()
            .filter(|tx| coin(tx).is_some_and(|c| !spent.contains(c)))
            .map(|tx| tx.as_str())
            .collect();
        if !missing.is_empty() {
            nodes.push(d);
            witness.extend(tips.get(&d).map(|t| t.0));
            lines.push(format!("{d} lacks {}", missing.join(",")));
        }
    }
    if nodes.is_empty() {
        return Vec::new();
    }
    vec![Violation::new(
        &TXS_SETTLED,
        end_ms,
        nodes,
        witness,
        format!("transactions not settled at the end: {}", lines.join("; ")),
    )]
}

/// After the heal, in every honest decider's last chain, honest miners made at least
/// `percent_min`% of the last `window_blocks` blocks mined in the liveness phase. Only
/// those: chain quality is a property of a synchronous network (under a partition the
/// side of a large Byzantine miner may win outright, as in the backbone model), and a
/// chain with fewer such blocks is not judged (over a few blocks a large share makes
/// them all by chance).
pub fn chain_quality(
    history: &History<PowNode>,
    byzantine: &BTreeSet<NodeId>,
    deciders: &[NodeId],
    window_blocks: u64,
    percent_min: u64,
) -> Vec<Violation> {
    let Some((from, end, end_ms)) = window(history) else {
        return Vec::new();
    };
    let mined = mined(history);
    let tips = last_tips(history, byzantine);
    let window_blocks = window_blocks.max(1) as usize;
    let mut out = Vec::new();
    for &d in deciders.iter().filter(|d| !byzantine.contains(d)) {
        let Some(&(i, chain)) = tips.get(&d) else {
            continue;
        };
        let after_heal: Vec<&Mined> = chain
            .iter()
            .filter_map(|b| mined.get(b))
            .filter(|m| m.index > from)
            .collect();
        if after_heal.len() < window_blocks {
            continue;
        }
        let last = &after_heal[after_heal.len() - window_blocks..];
        let total = last.len() as u64;
        let good = last
            .iter()
            .filter(|m| !byzantine.contains(&m.miner))
            .count() as u64;
        if total > 0 && good.saturating_mul(100) < percent_min.saturating_mul(total) {
            out.push(Violation::new(
                &CHAIN_QUALITY,
                end_ms,
                vec![d],
                vec![from, i, end],
                format!(
                    "honest miners made {good} of the last {total} blocks mined after the heal on {d}'s chain, under {percent_min}%"
                ),
            ));
        }
    }
    out
}

/// After the heal, the honest nodes' last peer tables (a restart empties one) link
/// every honest decider to every other, links read both ways.
pub fn overlay_connected(
    history: &History<PowNode>,
    byzantine: &BTreeSet<NodeId>,
    deciders: &[NodeId],
) -> Vec<Violation> {
    let Some((from, end, end_ms)) = window(history) else {
        return Vec::new();
    };
    let mut tables: BTreeMap<NodeId, (Option<usize>, Vec<NodeId>)> = BTreeMap::new();
    for (i, e) in history.events.iter().enumerate() {
        let Some(node) = e.node else { continue };
        if byzantine.contains(&node) {
            continue;
        }
        match &e.kind {
            EventKind::Started { .. } => {
                tables.insert(node, (None, Vec::new()));
            }
            EventKind::Protocol(PowEvent::PeerTable { outbound, inbound }) => {
                let mut peers = outbound.clone();
                peers.extend(inbound.iter().copied());
                tables.insert(node, (Some(i), peers));
            }
            _ => {}
        }
    }
    let honest: Vec<NodeId> = deciders
        .iter()
        .filter(|d| !byzantine.contains(d))
        .copied()
        .collect();
    let Some(&first) = honest.first() else {
        return Vec::new();
    };
    let mut links: BTreeMap<NodeId, BTreeSet<NodeId>> = BTreeMap::new();
    for (&a, (_, peers)) in &tables {
        for &b in peers {
            links.entry(a).or_default().insert(b);
            links.entry(b).or_default().insert(a);
        }
    }
    let mut reached: BTreeSet<NodeId> = [first].into_iter().collect();
    let mut todo = vec![first];
    while let Some(a) = todo.pop() {
        for &b in links.get(&a).into_iter().flatten() {
            if reached.insert(b) {
                todo.push(b);
            }
        }
    }
    let cut: Vec<NodeId> = honest
        .iter()
        .filter(|n| !reached.contains(n))
        .copied()
        .collect();
    if cut.is_empty() {
        return Vec::new();
    }
    let mut witness = vec![from, end];
    witness.extend(tables.values().filter_map(|t| t.0));
    let show: Vec<String> = honest
        .iter()
        .map(|n| {
            let peers = tables.get(n).map(|t| t.1.clone()).unwrap_or_default();
            format!("{n}: {}", node_list(&peers))
        })
        .collect();
    vec![Violation::new(
        &OVERLAY_CONNECTED,
        end_ms,
        cut.clone(),
        witness,
        format!(
            "{} cannot reach {} through the peer tables ({})",
            node_list(&cut),
            first,
            show.join("; ")
        ),
    )]
}

pub fn fork_happened(history: &History<PowNode>) -> bool {
    let mut parents = BTreeSet::new();
    mined(history)
        .values()
        .any(|m| !parents.insert(m.parent.clone()))
}

pub fn reorg_happened(history: &History<PowNode>, byzantine: &BTreeSet<NodeId>) -> bool {
    honest(history, byzantine).any(|(_, _, _, e)| matches!(e, PowEvent::Reorg { .. }))
}

/// In a run with a partition, at the heal two honest nodes' last tips had each grown
/// at least 2 blocks past their fork.
pub fn partition_both_grew(history: &History<PowNode>, byzantine: &BTreeSet<NodeId>) -> bool {
    let partitioned = history
        .events
        .iter()
        .any(|e| matches!(e.kind, EventKind::Partitioned { .. }));
    let Some(heal) = history.liveness_start() else {
        return false;
    };
    if !partitioned {
        return false;
    }
    let mut tips: BTreeMap<NodeId, &[Value]> = BTreeMap::new();
    for (i, _, node, e) in honest(history, byzantine) {
        if i >= heal {
            break;
        }
        if let PowEvent::Tip { chain, .. } = e {
            tips.insert(node, chain);
        }
    }
    let chains: Vec<&[Value]> = tips.into_values().collect();
    chains.iter().enumerate().any(|(i, a)| {
        chains[i + 1..].iter().any(|b| {
            let shared = a.iter().zip(b.iter()).take_while(|(x, y)| x == y).count();
            a.len() >= shared + 2 && b.len() >= shared + 2
        })
    })
}

pub fn recovered_via_redial(history: &History<PowNode>, byzantine: &BTreeSet<NodeId>) -> bool {
    honest(history, byzantine).any(|(_, _, _, e)| matches!(e, PowEvent::Rejoined))
}

fn byzantine(j: &Judging<Pow>) -> BTreeSet<NodeId> {
    j.setup.scenario.faults.byzantine_nodes()
}

/// The chain shape's judges over the run, once per run (shared by the four).
fn shape(j: &Judging<Pow>, property: &Property) -> Vec<Violation> {
    let all = j.shared(|j| judge_chain(&ShapeView::judging(j), j.setup.params.prefix_depth));
    all.iter()
        .filter(|v| v.property == property.name)
        .cloned()
        .collect()
}

/// The chain's properties: its own safety judges, the chain shape's, then its own
/// liveness and coverage.
pub fn judges() -> Vec<Judge<Pow>> {
    let mut out = vec![
        Judge::violations(&CONFIRMATION_SAFETY, |j| {
            confirmation_safety(j.history, &byzantine(j), j.setup.params.confirm_depth)
        }),
        Judge::violations(&NO_DOUBLE_SPEND, |j| {
            no_double_spend(j.history, &byzantine(j))
        }),
        Judge::violations(&CHAIN_VALID, |j| chain_valid(j.history, &byzantine(j))),
        Judge::violations(&HEAVIEST_CHAIN, |j| {
            heaviest_chain(j.history, &byzantine(j))
        }),
        Judge::violations(&ORPHAN_POOL_BOUNDED, |j| {
            orphan_pool_bounded(j.history, &byzantine(j))
        }),
    ];
    debug_assert_eq!(CHAIN_PROPERTIES.len(), 4);
    out.push(Judge::violations(
        &crate::protocol::shapes::FINALITY_AGREEMENT,
        |j| shape(j, &crate::protocol::shapes::FINALITY_AGREEMENT),
    ));
    out.push(Judge::violations(
        &crate::protocol::shapes::FINALITY_INTEGRITY,
        |j| shape(j, &crate::protocol::shapes::FINALITY_INTEGRITY),
    ));
    out.push(Judge::violations(
        &crate::protocol::shapes::COMMON_PREFIX,
        |j| shape(j, &crate::protocol::shapes::COMMON_PREFIX),
    ));
    out.push(Judge::violations(
        &crate::protocol::shapes::CHAIN_GROWTH,
        |j| shape(j, &crate::protocol::shapes::CHAIN_GROWTH),
    ));
    out.push(Judge::violations(&TXS_SETTLED, |j| {
        txs_settled(j.history, &byzantine(j), j.deciders)
    }));
    out.push(Judge::violations(&CHAIN_QUALITY, |j| {
        chain_quality(
            j.history,
            &byzantine(j),
            j.deciders,
            j.setup.params.quality_window,
            j.setup.params.quality_percent_min,
        )
    }));
    out.push(Judge::violations(&OVERLAY_CONNECTED, |j| {
        overlay_connected(j.history, &byzantine(j), j.deciders)
    }));
    out.push(Judge::reached(&FORK_HAPPENED, |j| fork_happened(j.history)));
    out.push(Judge::reached(&REORG_HAPPENED, |j| {
        reorg_happened(j.history, &byzantine(j))
    }));
    out.push(Judge::reached(&PARTITION_BOTH_GREW, |j| {
        partition_both_grew(j.history, &byzantine(j))
    }));
    out.push(Judge::reached(&RECOVERED_VIA_REDIAL, |j| {
        recovered_via_redial(j.history, &byzantine(j))
    }));
    out
}
