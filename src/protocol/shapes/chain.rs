//! Judges for a chain (Nakamoto-style longest chain, or a chain with a finality
//! gadget): each node follows a best chain from genesis, which may be reorganised
//! near its tip, and finalizes blocks that must never be reverted. Users rely on
//! finality being final and shared, and on the nodes converging once the faults heal:
//! their chains agree below the confirmation depth `k` and grow past what was final.

use super::{BlockId, Observation, Record, ShapeView, Window};
use crate::ids::NodeId;
use crate::protocol::{node_list, Expectation, Property, Violation};
use std::collections::{BTreeMap, BTreeSet};

pub const FINALITY_AGREEMENT: Property = Property {
    name: "finality_agreement",
    expectation: Expectation::Always,
    description: "no two honest nodes finalize different blocks at one height",
};

pub const FINALITY_INTEGRITY: Property = Property {
    name: "finality_integrity",
    expectation: Expectation::Always,
    description: "an honest node finalizes one block per height and never reverts it",
};

pub const COMMON_PREFIX: Property = Property {
    name: "common_prefix",
    expectation: Expectation::Eventually,
    description: "at the end, every decider's chain without its last k blocks is a prefix of every other decider's chain",
};

pub const CHAIN_GROWTH: Property = Property {
    name: "chain_growth",
    expectation: Expectation::Eventually,
    description: "at the end, every decider's tip is above the highest block finalized before the liveness phase",
};

/// The properties [`judge_chain`] judges: safety, then liveness.
pub const CHAIN_PROPERTIES: [&Property; 4] = [
    &FINALITY_AGREEMENT,
    &FINALITY_INTEGRITY,
    &COMMON_PREFIX,
    &CHAIN_GROWTH,
];

/// One honest node's finalization of one block.
#[derive(Debug, Clone, Copy)]
struct Finality<'a> {
    index: usize,
    at_ms: u64,
    node: NodeId,
    height: u64,
    block: &'a BlockId,
}

/// A node's last best chain, and the index of the record that announced it.
type LastTips<'a> = BTreeMap<NodeId, (usize, &'a [BlockId])>;

/// Runs every chain judge over one run, with confirmation depth `k` (the protocol's
/// parameter: how many blocks below the tip a user waits for): safety violations
/// first, in history order, then liveness.
pub fn judge_chain(view: &ShapeView, k: u64) -> Vec<Violation> {
    let mut out = finality_agreement(view);
    out.extend(finality_integrity(view));
    out.extend(common_prefix(view, k));
    out.extend(chain_growth(view));
    out
}

/// `record` as a finalization, if it is one.
fn finality(record: &Record) -> Option<Finality<'_>> {
    match &record.observation {
        Observation::Finalized { height, block } => Some(Finality {
            index: record.index,
            at_ms: record.at_ms,
            node: record.node,
            height: *height,
            block,
        }),
        _ => None,
    }
}

/// Each node's first finalization at a height is compared with the height's first
/// finalization anywhere. Only the first conflict per height is reported, witnessed
/// by both finalizations; a node's own second block is [`FINALITY_INTEGRITY`]'s.
fn finality_agreement(view: &ShapeView) -> Vec<Violation> {
    let mut first_at: BTreeMap<u64, Finality> = BTreeMap::new();
    let mut seen: BTreeSet<(NodeId, u64)> = BTreeSet::new();
    let mut conflicted: BTreeSet<u64> = BTreeSet::new();
    let mut out = Vec::new();
    for f in view.honest().filter_map(finality) {
        if !seen.insert((f.node, f.height)) {
            continue;
        }
        let first = *first_at.entry(f.height).or_insert(f);
        if first.block != f.block && conflicted.insert(f.height) {
            out.push(Violation::new(
                &FINALITY_AGREEMENT,
                f.at_ms,
                vec![first.node, f.node],
                vec![first.index, f.index],
                format!(
                    "height {}: {} finalized {} at {}ms, {} finalized {} at {}ms",
                    f.height, first.node, first.block, first.at_ms, f.node, f.block, f.at_ms
                ),
            ));
        }
    }
    out
}

/// A node finalizes at most one block per height (the same block again is harmless),
/// and every Tip it reports after finalizing `(h, b)` has `b` at height `h`. A
/// reverted finalization is reported once, at its first offending Tip. Each Tip is
/// checked at every height its node finalized: for a node that keeps its finalized
/// blocks, no more heights than the Tip itself holds.
fn finality_integrity(view: &ShapeView) -> Vec<Violation> {
    let mut finalized: BTreeMap<(NodeId, u64), Finality> = BTreeMap::new();
    let mut reverted: BTreeSet<(NodeId, u64)> = BTreeSet::new();
    let mut out = Vec::new();
    for record in view.honest() {
        if let Some(f) = finality(record) {
            match finalized.get(&(f.node, f.height)) {
                Some(first) if first.block != f.block => out.push(two_blocks(*first, f)),
                Some(_) => {}
                None => {
                    finalized.insert((f.node, f.height), f);
                }
            }
        } else if let Observation::Tip { chain } = &record.observation {
            let mine = finalized.range((record.node, 0)..=(record.node, u64::MAX));
            for (&key, first) in mine {
                if !holds(chain, first) && reverted.insert(key) {
                    out.push(reverted_by(*first, record, chain));
                }
            }
        }
    }
    out
}

/// `chain` has `f.block` at `f.height`.
fn holds(chain: &[BlockId], f: &Finality) -> bool {
    usize::try_from(f.height)
        .ok()
        .and_then(|h| chain.get(h))
        .is_some_and(|b| b == f.block)
}

/// A [`FINALITY_INTEGRITY`] violation: a node finalized a second block at a height.
fn two_blocks(first: Finality, then: Finality) -> Violation {
    Violation::new(
        &FINALITY_INTEGRITY,
        then.at_ms,
        vec![then.node],
        vec![first.index, then.index],
        format!(
            "{} finalized two blocks at height {}: {} at {}ms, then {} at {}ms",
            then.node, then.height, first.block, first.at_ms, then.block, then.at_ms
        ),
    )
}

/// A [`FINALITY_INTEGRITY`] violation: a Tip dropped a block its node had finalized.
fn reverted_by(first: Finality, tip: &Record, chain: &[BlockId]) -> Violation {
    let now = usize::try_from(first.height)
        .ok()
        .and_then(|h| chain.get(h))
        .map_or_else(
            || format!("its chain ends at height {}", top(chain)),
            |b| format!("its chain has {b} there"),
        );
    Violation::new(
        &FINALITY_INTEGRITY,
        tip.at_ms,
        vec![first.node],
        vec![first.index, tip.index],
        format!(
            "{} reverted finalized block {} at height {} (finalized at {}ms): at {}ms {now}",
            first.node, first.block, first.height, first.at_ms, tip.at_ms
        ),
    )
}

/// The height of a chain's tip, as printed: `none` for an empty chain (not even
/// genesis).
fn top(chain: &[BlockId]) -> String {
    chain
        .len()
        .checked_sub(1)
        .map_or_else(|| "none".to_string(), |h| h.to_string())
}

/// Each honest node's last Tip in the run.
fn last_tips(view: &ShapeView) -> LastTips<'_> {
    let mut tips = LastTips::new();
    for r in view.honest() {
        if let Observation::Tip { chain } = &r.observation {
            tips.insert(r.node, (r.index, chain.as_slice()));
        }
    }
    tips
}

/// In a run that reached its liveness phase, take every honest decider's last Tip:
/// each chain without its last `k` blocks is a prefix of every other decider's whole
/// chain. A decider with no Tip at all is one violation (listing every such node);
/// among the others the first disagreeing pair, in node order, is another, witnessed
/// by both Tips and the liveness window.
fn common_prefix(view: &ShapeView, k: u64) -> Vec<Violation> {
    let Some(window) = Window::of(view) else {
        return Vec::new();
    };
    let deciders = view.honest_deciders();
    let tips = last_tips(view);
    let mut out = Vec::new();
    let tipless: Vec<NodeId> = deciders
        .iter()
        .filter(|n| !tips.contains_key(n))
        .copied()
        .collect();
    if !tipless.is_empty() {
        out.push(Violation::new(
            &COMMON_PREFIX,
            window.end_ms,
            tipless.clone(),
            window.witness.clone(),
            format!(
                "deciders with no chain at all: {} ({})",
                node_list(&tipless),
                window.describe()
            ),
        ));
    }
    out.extend(first_fork(&tips, &deciders, k, &window));
    out
}

/// The first ordered pair of deciders `(a, b)` where `a`'s chain cut by `k` is not a
/// prefix of `b`'s.
fn first_fork(
    tips: &LastTips,
    deciders: &BTreeSet<NodeId>,
    k: u64,
    window: &Window,
) -> Option<Violation> {
    let with_tip: Vec<(NodeId, usize, &[BlockId])> = deciders
        .iter()
        .filter_map(|n| tips.get(n).map(|&(i, chain)| (*n, i, chain)))
        .collect();
    for &(a, ai, ac) in &with_tip {
        for &(b, bi, bc) in with_tip.iter().filter(|(b, _, _)| *b != a) {
            let Some(h) = fork_height(ac, bc, k) else {
                continue;
            };
            let theirs = bc
                .get(h)
                .map_or_else(|| "no block".to_string(), |x| x.to_string());
            let mut witness = window.witness.clone();
            witness.extend([ai, bi]);
            return Some(Violation::new(
                &COMMON_PREFIX,
                window.end_ms,
                vec![a, b],
                witness,
                format!(
                    "{a}'s chain without its last {k} blocks is not a prefix of {b}'s: at height {h} {a} has {}, {b} has {theirs} ({})",
                    ac[h],
                    window.describe()
                ),
            ));
        }
    }
    None
}

/// The first height below `a`'s tip minus `k` where `b` does not hold `a`'s block.
fn fork_height(a: &[BlockId], b: &[BlockId], k: u64) -> Option<usize> {
    let cut = usize::try_from(k).unwrap_or(usize::MAX);
    let keep = a.len().saturating_sub(cut);
    (0..keep).find(|&h| b.get(h) != Some(&a[h]))
}

/// In a run that reached its liveness phase, every honest decider's last Tip is
/// higher than the highest block any honest node finalized before the phase began
/// (genesis, height 0, when none was). A simple floor, not a growth rate: it proves
/// that no decider is left behind what was already final when the faults healed (a
/// node stuck in a partition, or one that reverted). One violation listing every
/// lagging decider, witnessed by the finalization that set the floor, their last
/// Tips and the liveness window.
fn chain_growth(view: &ShapeView) -> Option<Violation> {
    let window = Window::of(view)?;
    let floor = view
        .honest()
        .filter(|r| r.index < window.from_index)
        .filter_map(finality)
        .fold(None, |best: Option<Finality>, f| match best {
            Some(b) if b.height >= f.height => Some(b),
            _ => Some(f),
        });
    let floor_height = floor.map_or(0, |f| f.height);
    let tips = last_tips(view);
    let mut witness = window.witness.clone();
    witness.extend(floor.map(|f| f.index));
    let mut nodes = Vec::new();
    let mut lines = Vec::new();
    for node in view.honest_deciders() {
        let tip = tips.get(&node);
        let height = tip.and_then(|(_, chain)| chain.len().checked_sub(1));
        if height.is_some_and(|h| u64::try_from(h).is_ok_and(|h| h > floor_height)) {
            continue;
        }
        witness.extend(tip.map(|&(i, _)| i));
        lines.push(tip.map_or_else(
            || format!("{node} has no chain"),
            |(_, chain)| format!("{node} at height {}", top(chain)),
        ));
        nodes.push(node);
    }
    if nodes.is_empty() {
        return None;
    }
    let set_by = floor.map_or_else(
        || "genesis".to_string(),
        |f| format!("{} by {} at {}ms", f.block, f.node, f.at_ms),
    );
    Some(Violation::new(
        &CHAIN_GROWTH,
        window.end_ms,
        nodes,
        witness,
        format!(
            "deciders not above height {floor_height}, the highest finalized before the liveness phase ({set_by}): {} ({})",
            lines.join(", "),
            window.describe()
        ),
    ))
}

#[cfg(test)]
mod tests;

/// The chain shape's judges for a protocol's property list, with confirmation depth
/// `K` (the protocol's parameter): each reads the run through
/// [`super::ShapeView::of`] and reports its own property.
pub fn judges<P: crate::protocol::Protocol + ?Sized, const K: u64>(
) -> Vec<crate::protocol::Judge<P>> {
    fn only<P: crate::protocol::Protocol + ?Sized>(
        j: &crate::protocol::Judging<P>,
        k: u64,
        property: &Property,
    ) -> Vec<Violation> {
        judge_chain(&super::ShapeView::judging(j), k)
            .into_iter()
            .filter(|v| v.property == property.name)
            .collect()
    }
    use crate::protocol::Judge;
    vec![
        Judge::violations(&FINALITY_AGREEMENT, |j| only(j, K, &FINALITY_AGREEMENT)).witnessed(),
        Judge::violations(&FINALITY_INTEGRITY, |j| only(j, K, &FINALITY_INTEGRITY)).witnessed(),
        Judge::violations(&COMMON_PREFIX, |j| only(j, K, &COMMON_PREFIX)),
        Judge::violations(&CHAIN_GROWTH, |j| only(j, K, &CHAIN_GROWTH)),
    ]
}
