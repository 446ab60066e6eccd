//! The links of the simulated network, shared by both worlds so a partition means the
//! same in each: which directed links are cut, and how often each was cut. A datagram
//! enters the network only on a link that is not cut, and carries the link's cut count
//! from then; a different count when it is due means the link was cut while it was in
//! flight, and it is lost (a symmetric partition drops both directions, a one-way
//! partition only `from -> to`). A heal repairs every link and releases nothing.

use crate::ids::NodeId;
use std::collections::BTreeMap;

/// Every directed link of a cluster.
#[derive(Debug, Clone)]
pub(crate) struct Wires {
    index: BTreeMap<NodeId, usize>,
    cut: Vec<bool>,
    cut_count: Vec<u64>,
}

impl Wires {
    pub fn new(ids: &[NodeId]) -> Self {
        let n = ids.len();
        Wires {
            index: ids.iter().enumerate().map(|(i, &id)| (id, i)).collect(),
            cut: vec![false; n * n],
            cut_count: vec![0; n * n],
        }
    }

    fn link(&self, from: NodeId, to: NodeId) -> Option<usize> {
        let (a, b) = (self.index.get(&from)?, self.index.get(&to)?);
        Some(a * self.index.len() + b)
    }

    /// The link from the `from`th node to the `to`th, counted in the order of the ids
    /// given to [`Wires::new`]: the fast world knows its nodes by that position, and
    /// asks for every datagram twice, so it skips the lookup by id.
    fn link_at(&self, from: usize, to: usize) -> usize {
        let n = self.index.len();
        assert!(from < n && to < n, "link {from} -> {to} of {n} nodes");
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

    /// Repair every link.
    pub fn repair_all(&mut self) {
        self.cut.iter_mut().for_each(|c| *c = false);
    }

    /// A datagram enters the network on `from -> to` now: `None` if the link is cut
    /// (or leads nowhere), else the link's cut count to carry.
    pub fn enter(&self, from: NodeId, to: NodeId) -> Option<u64> {
        let link = self.link(from, to)?;
        (!self.cut[link]).then_some(self.cut_count[link])
    }

    /// Whether a datagram that entered `from -> to` with `cut_count` was not cut off
    /// since.
    pub fn intact(&self, from: NodeId, to: NodeId, cut_count: u64) -> bool {
        self.link(from, to)
            .is_some_and(|link| self.cut_count[link] == cut_count)
    }
}
