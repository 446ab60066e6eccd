//! The links of the simulated network, shared by both worlds so a partition means the
//! same in each: which directed links are cut, and how often each was cut. A datagram
//! enters the network only on a link that is not cut, and carries the link's cut count
//! from then; a different count when it is due means the link was cut while it was in
//! flight, and it is lost (a symmetric partition drops both directions, a one-way
//! partition only `from -> to`). A heal repairs every link and releases nothing.
//!
//! The links join *endpoints*: the cluster's nodes, in the order given, then one more
//! per twin ([`crate::fault::Fault::Twin`]) the schedule names, in the order given.
//! Faults that name nodes cut the originals' links; the director places twins by
//! position.

use crate::ids::NodeId;
use std::collections::BTreeMap;

/// Every directed link of a cluster (and its twins).
#[derive(Debug, Clone)]
pub(crate) struct Wires {
    index: BTreeMap<NodeId, usize>,
    /// Endpoints: the nodes, then the twins.
    size: usize,
    cut: Vec<bool>,
    cut_count: Vec<u64>,
}

impl Wires {
    /// The links of `ids` and of `twins` more endpoints after them.
    pub fn with_twins(ids: &[NodeId], twins: usize) -> Self {
        let size = ids.len() + twins;
        Wires {
            index: ids.iter().enumerate().map(|(i, &id)| (id, i)).collect(),
            size,
            cut: vec![false; size * size],
            cut_count: vec![0; size * size],
        }
    }

    fn link(&self, from: NodeId, to: NodeId) -> Option<usize> {
        let (a, b) = (self.index.get(&from)?, self.index.get(&to)?);
        Some(a * self.size + b)
    }

    /// The link from the `from`th endpoint to the `to`th, counted in the order of the
    /// ids given to [`Wires::with_twins`] (twins after them): the fast world knows its nodes
    /// by that position, and asks for every datagram twice, so it skips the lookup by
    /// id.
    fn link_at(&self, from: usize, to: usize) -> usize {
        let n = self.size;
        assert!(from < n && to < n, "link {from} -> {to} of {n} endpoints");
        from * n + to
    }

    /// [`Wires::enter`] by position (see [`Wires::link_at`]).
    pub fn enter_at(&self, from: usize, to: usize) -> Option<u64> {
        let link = self.link_at(from, to);
        (!self.cut[link]).then_some(self.cut_count[link])
    }

    /// [`Wires::intact`] by position (see [`Wires::link_at`]).
    pub fn intact_at(&self, from: usize, to: usize, cut_count: u64) -> bool {
        self.cut_count[self.link_at(from, to)] == cut_count
    }

    /// Cut the directed link, dropping what is in flight on it.
    pub fn cut(&mut self, from: NodeId, to: NodeId) {
        if let Some(link) = self.link(from, to) {
            self.cut[link] = true;
            self.cut_count[link] += 1;
        }
    }

    /// Cut (`up: false`) or repair the links between endpoints `a` and `b`, both
    /// directions, by position. Cutting a cut link changes nothing (what was in
    /// flight on it was lost when it was cut).
    pub fn set_both_at(&mut self, a: usize, b: usize, up: bool) {
        for link in [self.link_at(a, b), self.link_at(b, a)] {
            if up {
                self.cut[link] = false;
            } else if !self.cut[link] {
                self.cut[link] = true;
                self.cut_count[link] += 1;
            }
        }
    }

    /// Repair every link.
    pub fn repair_all(&mut self) {
        self.cut.iter_mut().for_each(|c| *c = false);
    }

    /// The position of node `id`.
    pub fn position(&self, id: NodeId) -> Option<usize> {
        self.index.get(&id).copied()
    }
}
