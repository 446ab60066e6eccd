//! One proof-of-work node as a sans-IO state machine: a block tree with fork choice
//! by cumulative work, a mempool, a bounded orphan pool, a miner, and the P2P layer
//! (peer table, discovery, propagation, sync).
//!
//! - **Mining.** A miner finds blocks as a Poisson process: after each find (and at
//!   start) it draws an exponential delay from its own stream, with mean
//!   `block_interval_ms * share_total / share * 2^(bits - bits_min)`, so every
//!   miner's rate is proportional to its hash share and inversely to the work its
//!   blocks claim. When the timer fires it builds a block on its tip with the mempool's
//!   transactions that its chain allows, seals it (`super::block`), accepts it and
//!   sends it on.
//! - **Blocks.** A received block is checked (size, difficulty, target, height), kept
//!   as an orphan if its parent is unknown (and its parent asked for), and its
//!   transactions checked against its own branch: a coin spent twice is refused. A
//!   valid block is appended to the durable log; if its chain has more cumulative work
//!   than the tip's, the node switches to it, returning the reverted blocks'
//!   transactions to the mempool.
//! - **Peers** (Bitcoin's shape: a few outbound connections a node chose, many
//!   inbound ones it accepted). A connection is made by a `dial`, answered by a
//!   `welcome`: the dialer holds it in one of its `outbound_max` outbound slots, the
//!   accepter in one of its `inbound_max` inbound slots, and both then use it alike
//!   (blocks, transactions, sync and pings go both ways). Only connections carry
//!   those messages: anything else from a node that is not a peer is ignored, except
//!   `get_peers`/`peers` (addresses are answered to anyone, as a seed answers) and a
//!   `dial`. The rules, in [`PowNode::maintain`] and [`PowNode::on_dial`]:
//!   - *Addresses*: the bootstrap nodes, and every node heard of (named in a `peers`
//!     answer, or that asked for peers or dialled): the address book, bounded by the
//!     run's address space. A `peers` answer is a random sample of it.
//!   - *Start*: ask every bootstrap node for peers and dial one of them at random.
//!   - *Dial*: every `ping_ms`, and when a `peers` answer arrives, free outbound slots
//!     (`outbound_max` less the connections and the dials not yet answered) are
//!     filled with random addresses of the book that are not peers and were not
//!     dialled in the last `redial_ms`. A dial not answered within
//!     `peer_timeout_ms` frees its slot.
//!   - *Accept*: a `dial` is welcomed while an inbound slot is free (a dial from a
//!     current peer is welcomed again: it restarted). A full node does not answer;
//!     the dialer's slot frees itself at the timeout and it tries another address.
//!     Two nodes dialling each other at once keep the lower id's dial.
//!   - *Evict*: a peer silent for `peer_timeout_ms`, in either direction; nothing
//!     else evicts (no inbound peer is dropped to make room for a new one).
//!   - *Re-dial*: a node with no connection at all (`Redial`) asks every bootstrap
//!     node for peers and dials them, every `ping_ms` until one answers.
//!
//!   Every new connection, on both sides, starts with a `get_blocks` from the node's
//!   locator.
//! - **Propagation.** New blocks and transactions go to every connection (flooding,
//!   `fanout` 0) or to `fanout` random ones (gossip); each node forwards once.
//!
//! Durable: every accepted block (the log) and the client transactions taken here
//! (the state, re-sent until they are on the chain). A restart rebuilds the tree from
//! the log, replaying the fork choice in log order, so it comes back to the same tip.

mod selfish;

pub use selfish::{Selfish, STRATEGIES};

use super::block::{coin, label, Block, BlockHash, BITS_MAX, TXS_PER_BLOCK_MAX};
use super::bugs::{Bug, Bugs};
use crate::ids::NodeId;
use crate::protocol::{Context, Core, CoreInput, CoreOutput, Observation};
use crate::rng::Draw;
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::sync::Arc;

/// The most orphans a node keeps; the oldest is evicted for a new one.
pub const ORPHANS_MAX: usize = 8;
/// The most transactions a mempool holds.
pub const MEMPOOL_MAX: usize = 1_024;
/// The most transactions a node remembers having seen (not flooded again).
pub const SEEN_TXS_MAX: usize = 4_096;
/// The most blocks one `get_blocks` answer carries, in one message (so a reordering
/// network cannot scatter a batch into the orphan pool); a full batch that brought
/// something new is followed by another request.
pub const SYNC_BATCH: usize = 8;
/// The most hashes a locator carries.
pub const LOCATOR_MAX: usize = 32;
/// The most peers a `peers` answer names.
pub const PEERS_REPLY_MAX: usize = 64;
/// The longest mining delay drawn (a miner with a tiny share still mines sometimes).
pub const MINE_DELAY_MS_MAX: u64 = 10_000_000;
/// Every this many maintenance ticks a node exchanges peers and re-sends its pending
/// client transactions.
pub const GOSSIP_EVERY_TICKS: u64 = 4;

/// The message kinds, as targeted faults name them.
pub const KINDS: [&str; 9] = [
    "block",
    "transaction",
    "get_blocks",
    "ping",
    "pong",
    "get_peers",
    "peers",
    "dial",
    "welcome",
];

/// What every node of a run shares.
#[derive(Debug, Clone)]
pub struct Config {
    /// Every node that exists: the address space peer lists are checked against.
    pub addresses: Addresses,
    pub bootstrap: Vec<NodeId>,
    /// Each miner's hash share and difficulty; a node not listed does not mine.
    pub miners: BTreeMap<NodeId, (u64, u8)>,
    pub share_total: u64,
    pub bits_min: u8,
    pub block_interval_ms: u64,
    /// Connections this node dials and keeps (Bitcoin: 8).
    pub outbound_max: usize,
    /// Connections other nodes dialled that this node accepts (Bitcoin: up to 117).
    pub inbound_max: usize,
    /// 0: flood to every peer; otherwise gossip to this many random peers.
    pub fanout: usize,
    pub ping_ms: u64,
    pub peer_timeout_ms: u64,
    pub redial_ms: u64,
    /// K: a block this many blocks deep (itself included) is confirmed.
    pub confirm_depth: u64,
    pub bugs: Bugs,
}

/// The node ids of a run, as a bitmap indexed by id: every received message is
/// checked against it, so the lookup is one index, not a search that grows with the
/// cluster (a list scanned linearly cost most of the per-message growth from 50 to
/// 500 nodes; docs/chains.md, "Speed").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Addresses {
    present: Vec<bool>,
}

impl Addresses {
    pub fn contains(&self, id: &NodeId) -> bool {
        self.present
            .get(usize::from(id.0))
            .copied()
            .unwrap_or(false)
    }
}

impl FromIterator<NodeId> for Addresses {
    fn from_iter<I: IntoIterator<Item = NodeId>>(ids: I) -> Self {
        let mut present = Vec::new();
        for id in ids {
            let i = usize::from(id.0);
            if present.len() <= i {
                present.resize(i + 1, false);
            }
            present[i] = true;
        }
        Addresses { present }
    }
}

/// The messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Msg {
    /// A new block, announced.
    Block(Block),
    /// An answer to `get_blocks`: consecutive blocks of the sender's best chain.
    Blocks(Vec<Block>),
    Transaction(Value),
    /// Send me your best chain after the first of these hashes you hold.
    GetBlocks(Vec<BlockHash>),
    Ping,
    Pong,
    GetPeers,
    Peers(Vec<NodeId>),
    /// Open a connection: the sender takes the receiver as an outbound peer.
    Dial,
    /// The connection is accepted: the receiver holds the sender as an inbound peer.
    Welcome,
}

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Msg::Block(b) => write!(f, "block {b}"),
            Msg::Blocks(bs) => {
                write!(f, "blocks [")?;
                for (i, b) in bs.iter().enumerate() {
                    let sep = if i == 0 { "" } else { "; " };
                    write!(f, "{sep}{b}")?;
                }
                write!(f, "]")
            }
            Msg::Transaction(t) => write!(f, "transaction {t}"),
            Msg::GetBlocks(l) => write!(
                f,
                "get_blocks from {} ({} hashes)",
                l.first().map_or_else(|| Value::new("-"), |h| label(*h)),
                l.len()
            ),
            Msg::Ping => f.write_str("ping"),
            Msg::Pong => f.write_str("pong"),
            Msg::GetPeers => f.write_str("get_peers"),
            Msg::Peers(p) => write!(f, "peers {}", crate::protocol::node_list(p)),
            Msg::Dial => f.write_str("dial"),
            Msg::Welcome => f.write_str("welcome"),
        }
    }
}

/// What a node persists besides its log: the client transactions it took.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowState {
    pub submitted: Vec<Value>,
}

impl fmt::Display for PowState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let txs: Vec<&str> = self.submitted.iter().map(|t| t.as_str()).collect();
        write!(f, "submitted [{}]", txs.join(","))
    }
}

/// The trace events: what the judges and experiments read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PowEvent {
    /// This node mined `block` (the judges' record of every real block).
    Found {
        block: Value,
        parent: Value,
        height: u64,
        miner: NodeId,
        bits: u8,
        txs: Vec<Value>,
    },
    /// A block from `from` was accepted (its arrival time, for propagation).
    Accepted {
        block: Value,
        from: NodeId,
        height: u64,
    },
    /// The best chain changed: block ids from genesis to tip, and its work.
    Tip {
        chain: Vec<Value>,
        work: u64,
    },
    /// The node switched branches, reverting `depth` blocks.
    Reorg {
        depth: u64,
        from: Value,
        to: Value,
        reverted_txs: u64,
    },
    /// The block at `height` is now `confirm_depth` deep on this node's chain.
    Confirmed {
        height: u64,
        block: Value,
    },
    /// A block whose parent is unknown was kept; the pool now holds `pool`.
    Orphaned {
        block: Value,
        pool: u64,
    },
    Rejected {
        block: Value,
        reason: String,
    },
    /// The connections changed: those this node dialled, and those it accepted.
    PeerTable {
        outbound: Vec<NodeId>,
        inbound: Vec<NodeId>,
    },
    /// Alone: every peer evicted, the bootstrap nodes are dialed again.
    Redial,
    /// A node that was alone has a peer again.
    Rejoined,
    /// A selfish miner (`node::Selfish`) found or published blocks: it now withholds
    /// `blocks`.
    Withheld {
        blocks: u64,
    },
}

impl fmt::Display for PowEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PowEvent::Found {
                block,
                parent,
                height,
                bits,
                txs,
                ..
            } => {
                let txs: Vec<&str> = txs.iter().map(|t| t.as_str()).collect();
                write!(
                    f,
                    "FOUND {block} h={height} parent={parent} bits={bits} txs=[{}]",
                    txs.join(",")
                )
            }
            PowEvent::Accepted {
                block,
                from,
                height,
            } => {
                write!(f, "accept {block} h={height} from {from}")
            }
            PowEvent::Tip { chain, work } => write!(
                f,
                "tip h={} {} work={work}",
                chain.len().saturating_sub(1),
                chain.last().map_or("-", |b| b.as_str())
            ),
            PowEvent::Reorg {
                depth,
                from,
                to,
                reverted_txs,
            } => write!(
                f,
                "REORG depth={depth} {from} -> {to}, {reverted_txs} txs reverted"
            ),
            PowEvent::Confirmed { height, block } => write!(f, "confirm h={height} {block}"),
            PowEvent::Orphaned { block, pool } => write!(f, "orphan {block} (pool {pool})"),
            PowEvent::Rejected { block, reason } => write!(f, "reject {block}: {reason}"),
            PowEvent::PeerTable { outbound, inbound } => write!(
                f,
                "peers out {} in {}",
                crate::protocol::node_list(outbound),
                crate::protocol::node_list(inbound)
            ),
            PowEvent::Redial => f.write_str("alone: re-dial bootstrap"),
            PowEvent::Rejoined => f.write_str("rejoined via bootstrap"),
            PowEvent::Withheld { blocks } => write!(f, "selfish: withholds {blocks} blocks"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    Mine,
    Maintain,
}

/// One block in the tree.
#[derive(Debug, Clone)]
struct Stored {
    block: Arc<Block>,
    label: Value,
    /// The parent it hangs from (its own, except under `accepts_unknown_parent`).
    parent: BlockHash,
    height: u64,
    /// Cumulative work from genesis.
    work: u64,
}

type Out = Vec<CoreOutput<PowNode>>;

/// One node.
#[derive(Debug, Clone)]
pub struct PowNode {
    id: NodeId,
    config: Arc<Config>,
    tree: BTreeMap<BlockHash, Stored>,
    /// The best chain, by height.
    chain: Vec<BlockHash>,
    /// Coin -> the transaction that spends it on the best chain.
    spent: BTreeMap<String, Value>,
    mempool: Vec<Value>,
    seen_txs: BTreeSet<Value>,
    orphans: VecDeque<(BlockHash, Block, NodeId)>,
    /// Outbound connections (this node dialled them) -> when last heard from.
    outbound: BTreeMap<NodeId, u64>,
    /// Inbound connections (they dialled this node) -> when last heard from.
    inbound: BTreeMap<NodeId, u64>,
    /// Dials not yet answered -> when sent; each holds an outbound slot.
    dialing: BTreeMap<NodeId, u64>,
    /// Address -> when it was last dialled (not again within `redial_ms`).
    dialed_at: BTreeMap<NodeId, u64>,
    /// The address book: every node heard of (within `Config::addresses`).
    known: BTreeSet<NodeId>,
    /// Peer -> when it was last sent a `get_blocks` for an orphan.
    asked: BTreeMap<NodeId, u64>,
    /// Peer -> the end of the last sync batch it was asked to continue from, and
    /// when: the same end again within `ping_ms` is a duplicate, later a new round.
    synced_to: BTreeMap<NodeId, (BlockHash, u64)>,
    alone: bool,
    ticks: u64,
    confirmed_next: u64,
    submitted: Vec<Value>,
    /// As the adversary `selfish_miner` (`crate::fault::Fault::Strategy`): what it
    /// withholds. `None`: honest.
    selfish: Option<Selfish>,
}

impl PowNode {
    pub fn new(id: NodeId, config: Arc<Config>) -> Self {
        let mut node = PowNode {
            id,
            config,
            tree: BTreeMap::new(),
            chain: Vec::new(),
            spent: BTreeMap::new(),
            mempool: Vec::new(),
            seen_txs: BTreeSet::new(),
            orphans: VecDeque::new(),
            outbound: BTreeMap::new(),
            inbound: BTreeMap::new(),
            dialing: BTreeMap::new(),
            dialed_at: BTreeMap::new(),
            known: BTreeSet::new(),
            asked: BTreeMap::new(),
            synced_to: BTreeMap::new(),
            alone: false,
            ticks: 0,
            confirmed_next: 1,
            submitted: Vec::new(),
            selfish: None,
        };
        node.reset();
        node
    }

    /// This node as a selfish miner (its identity unchanged).
    pub fn selfish(mut self) -> Self {
        self.selfish = Some(Selfish::default());
        self
    }

    fn has(&self, bug: Bug) -> bool {
        self.config.bugs.has(bug)
    }

    /// Back to genesis alone.
    fn reset(&mut self) {
        let genesis = Block::genesis();
        let id = genesis.id();
        self.tree.clear();
        self.tree.insert(
            id,
            Stored {
                label: label(id),
                block: Arc::new(genesis),
                parent: 0,
                height: 0,
                work: 0,
            },
        );
        self.chain = vec![id];
        self.spent.clear();
        self.mempool.clear();
        self.seen_txs.clear();
        self.orphans.clear();
        self.outbound.clear();
        self.inbound.clear();
        self.dialing.clear();
        self.dialed_at.clear();
        self.known.clear();
        self.asked.clear();
        self.synced_to.clear();
        self.alone = false;
        self.ticks = 0;
        self.confirmed_next = 1;
        if let Some(selfish) = &mut self.selfish {
            *selfish = Selfish::default();
        }
    }

    fn tip(&self) -> &Stored {
        &self.tree[self.chain.last().expect("genesis at least")]
    }

    /// The best chain's block ids, genesis first.
    pub fn chain_labels(&self) -> Vec<Value> {
        self.chain
            .iter()
            .map(|h| self.tree[h].label.clone())
            .collect()
    }

    /// Whether `new` beats `current` in the fork choice: more cumulative work (a tie
    /// keeps the current tip). `fork_by_height` compares heights instead.
    fn better(&self, new: &Stored, current: &Stored) -> bool {
        if self.has(Bug::ForkByHeight) {
            new.height > current.height
        } else {
            new.work > current.work
        }
    }

    fn on_chain(&self, tx: &Value) -> bool {
        coin(tx).is_some_and(|c| self.spent.get(c) == Some(tx))
    }

    fn state(&self) -> PowState {
        PowState {
            submitted: self.submitted.clone(),
        }
    }

    /// The best chain's locator.
    fn locator(&self) -> Vec<BlockHash> {
        self.locator_from(*self.chain.last().expect("tip"))
    }

    /// Hashes of the branch ending at `tip` (a stored block), from it back: one by one
    /// for 8, then doubling steps, ending with genesis.
    fn locator_from(&self, tip: BlockHash) -> Vec<BlockHash> {
        let mut branch = Vec::new();
        let mut h = tip;
        loop {
            branch.push(h);
            let s = &self.tree[&h];
            if s.height == 0 {
                break;
            }
            h = s.parent;
        }
        let mut out = Vec::new();
        let mut i = 0;
        let mut step = 1;
        while i < branch.len() && out.len() + 1 < LOCATOR_MAX {
            out.push(branch[i]);
            if out.len() >= 8 {
                step *= 2;
            }
            i += step;
        }
        let genesis = *branch.last().expect("genesis");
        if out.last() != Some(&genesis) {
            out.push(genesis);
        }
        out
    }

    fn send(out: &mut Out, to: NodeId, msg: Msg) {
        out.push(CoreOutput::Send { to, msg });
    }

    /// Every connection, outbound and inbound, in id order.
    fn connections(&self) -> Vec<NodeId> {
        let mut all: Vec<NodeId> = self
            .outbound
            .keys()
            .chain(self.inbound.keys())
            .copied()
            .collect();
        all.sort_unstable();
        all
    }

    fn connected(&self, peer: NodeId) -> bool {
        self.outbound.contains_key(&peer) || self.inbound.contains_key(&peer)
    }

    fn has_connections(&self) -> bool {
        !self.outbound.is_empty() || !self.inbound.is_empty()
    }

    /// Send `msg` to every connection but `except` (flooding), or to `fanout` of them
    /// drawn at random (gossip).
    fn relay(&self, cx: &mut Context<'_>, out: &mut Out, msg: &Msg, except: Option<NodeId>) {
        let mut targets = self.connections();
        targets.retain(|p| Some(*p) != except);
        let k = self.config.fanout;
        if k > 0 && targets.len() > k {
            for i in 0..k {
                let j = cx.rng.between(i as u64, targets.len() as u64 - 1) as usize;
                targets.swap(i, j);
            }
            targets.truncate(k);
            targets.sort_unstable();
        }
        for to in targets {
            Self::send(out, to, msg.clone());
        }
    }

    fn peer_table_event(&self, out: &mut Out) {
        out.push(CoreOutput::Event(PowEvent::PeerTable {
            outbound: self.outbound.keys().copied().collect(),
            inbound: self.inbound.keys().copied().collect(),
        }));
    }

    /// A connection with `peer` was just made (either way): record it, leave the
    /// alone state, and sync with the peer.
    fn connected_to(&mut self, out: &mut Out, peer: NodeId) {
        self.known.insert(peer);
        self.peer_table_event(out);
        if self.alone {
            self.alone = false;
            out.push(CoreOutput::Event(PowEvent::Rejoined));
        }
        Self::send(out, peer, Msg::GetBlocks(self.locator()));
    }

    /// `from`, if it is a peer, was just heard from.
    fn refresh(&mut self, cx: &Context<'_>, from: NodeId) {
        if let Some(last) = self.outbound.get_mut(&from) {
            *last = cx.now_ms;
        } else if let Some(last) = self.inbound.get_mut(&from) {
            *last = cx.now_ms;
        }
    }

    /// A connection message came from `from`: refresh its connection, or let
    /// it complete this node's dial to it (the `welcome` may be late or lost; any
    /// connection message means the dial was accepted). Whether `from` is a peer now.
    fn touch(&mut self, cx: &mut Context<'_>, out: &mut Out, from: NodeId) -> bool {
        if self.connected(from) {
            self.refresh(cx, from);
            return true;
        }
        if self.dialing.remove(&from).is_some() {
            self.outbound.insert(from, cx.now_ms);
            self.connected_to(out, from);
            return true;
        }
        false
    }

    /// A `dial` from `from`: welcome it into an inbound slot if one is free (or if it
    /// is a peer already: it dialled again, so it restarted or lost this node), and
    /// sync with it; a full node does not answer. Two nodes dialling each other at
    /// once keep the dial of the lower id: the higher one gives its own up.
    fn on_dial(&mut self, cx: &mut Context<'_>, out: &mut Out, from: NodeId) {
        let now = cx.now_ms;
        self.known.insert(from);
        if self.dialing.contains_key(&from) {
            if self.id < from {
                return;
            }
            self.dialing.remove(&from);
        }
        let was_outbound = self.outbound.remove(&from).is_some();
        let again = was_outbound || self.inbound.contains_key(&from);
        if !again && self.inbound.len() >= self.config.inbound_max {
            return;
        }
        if was_outbound && self.inbound.len() >= self.config.inbound_max {
            // Its dial says it is the dialer; with no inbound slot to move it to,
            // this node keeps its own view and lets the peer time it out.
            self.outbound.insert(from, now);
            return;
        }
        self.inbound.insert(from, now);
        Self::send(out, from, Msg::Welcome);
        if was_outbound {
            self.peer_table_event(out);
            Self::send(out, from, Msg::GetBlocks(self.locator()));
        } else if again {
            Self::send(out, from, Msg::GetBlocks(self.locator()));
        } else {
            self.connected_to(out, from);
        }
    }

    /// Dial `to`: it holds an outbound slot until answered or timed out.
    fn dial(&mut self, cx: &mut Context<'_>, out: &mut Out, to: NodeId) {
        self.dialing.insert(to, cx.now_ms);
        self.dialed_at.insert(to, cx.now_ms);
        Self::send(out, to, Msg::Dial);
    }

    /// Free outbound slots, less the dials in flight.
    fn outbound_free(&self) -> usize {
        self.config
            .outbound_max
            .saturating_sub(self.outbound.len() + self.dialing.len())
    }

    /// Fill the free outbound slots with random addresses of the book that are not
    /// peers, not being dialled, and not dialled in the last `redial_ms`.
    fn fill_outbound(&mut self, cx: &mut Context<'_>, out: &mut Out) {
        let free = self.outbound_free();
        if free == 0 {
            return;
        }
        let now = cx.now_ms;
        let mut candidates: Vec<NodeId> = self
            .known
            .iter()
            .copied()
            .filter(|&a| {
                a != self.id
                    && !self.connected(a)
                    && !self.dialing.contains_key(&a)
                    && self
                        .dialed_at
                        .get(&a)
                        .is_none_or(|&t| now.saturating_sub(t) >= self.config.redial_ms)
            })
            .collect();
        let k = free.min(candidates.len());
        for i in 0..k {
            let j = cx.rng.between(i as u64, candidates.len() as u64 - 1) as usize;
            candidates.swap(i, j);
        }
        for &to in &candidates[..k] {
            self.dial(cx, out, to);
        }
    }

    /// A random sample of the address book for `asker`, at most [`PEERS_REPLY_MAX`].
    fn sample_addresses(&self, cx: &mut Context<'_>, asker: NodeId) -> Vec<NodeId> {
        let mut book: Vec<NodeId> = self.known.iter().copied().filter(|&a| a != asker).collect();
        if book.len() > PEERS_REPLY_MAX {
            for i in 0..PEERS_REPLY_MAX {
                let j = cx.rng.between(i as u64, book.len() as u64 - 1) as usize;
                book.swap(i, j);
            }
            book.truncate(PEERS_REPLY_MAX);
            book.sort_unstable();
        }
        book
    }

    fn start(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut Out,
        recovered: Option<PowState>,
        log: Vec<Block>,
    ) {
        self.reset();
        for block in log {
            let id = block.id();
            let (parent, height, work) = match self.tree.get(&block.parent) {
                Some(p) => (block.parent, p.height + 1, p.work),
                // Attached to the tip when it was accepted (`accepts_unknown_parent`).
                None => {
                    let tip = self.tip();
                    (*self.chain.last().expect("tip"), tip.height + 1, tip.work)
                }
            };
            let stored = Stored {
                label: label(id),
                parent,
                height,
                work: work.saturating_add(block.work()),
                block: Arc::new(block),
            };
            let better = self.better(&stored, self.tip());
            self.tree.insert(id, stored);
            if better {
                self.rebuild_chain(id);
            }
        }
        self.submitted = recovered.map(|s| s.submitted).unwrap_or_default();
        for tx in self.submitted.clone() {
            self.seen_txs.insert(tx.clone());
            if !self.on_chain(&tx) {
                self.mempool.push(tx);
            }
        }
        out.push(CoreOutput::Event(PowEvent::Tip {
            chain: self.chain_labels(),
            work: self.tip().work,
        }));
        self.confirm(out);
        let seeds: Vec<NodeId> = self
            .config
            .bootstrap
            .iter()
            .copied()
            .filter(|&b| b != self.id)
            .collect();
        self.known.extend(seeds.iter().copied());
        for &b in &seeds {
            Self::send(out, b, Msg::GetPeers);
        }
        if !seeds.is_empty() && self.config.outbound_max > 0 {
            let i = cx.rng.between(0, seeds.len() as u64 - 1) as usize;
            self.dial(cx, out, seeds[i]);
        }
        out.push(CoreOutput::SetTimer {
            timer: Timer::Maintain,
            delay_ms_min: self.config.ping_ms,
            delay_ms_max: self.config.ping_ms,
        });
        self.arm_mining(cx, out);
    }

    /// The best chain and spent coins rebuilt from the tree for tip `tip`.
    fn rebuild_chain(&mut self, tip: BlockHash) {
        let mut chain = Vec::new();
        let mut h = tip;
        loop {
            chain.push(h);
            let s = &self.tree[&h];
            if s.height == 0 {
                break;
            }
            h = s.parent;
        }
        chain.reverse();
        self.spent.clear();
        for h in &chain {
            for tx in &self.tree[h].block.txs {
                if let Some(c) = coin(tx) {
                    self.spent.insert(c.to_string(), tx.clone());
                }
            }
        }
        self.chain = chain;
    }

    fn arm_mining(&mut self, cx: &mut Context<'_>, out: &mut Out) {
        let Some(&(share, bits)) = self.config.miners.get(&self.id) else {
            return;
        };
        if share == 0 {
            return;
        }
        let harder =
            f64::from(1u32 << u32::from(bits.saturating_sub(self.config.bits_min)).min(16));
        let mean_ms = self.config.block_interval_ms as f64 * self.config.share_total as f64
            / share as f64
            * harder;
        let u = cx.rng.unit();
        let delay = (-(1.0 - u).ln() * mean_ms).ceil();
        let delay_ms = if delay.is_finite() {
            (delay as u64).clamp(1, MINE_DELAY_MS_MAX)
        } else {
            MINE_DELAY_MS_MAX
        };
        out.push(CoreOutput::SetTimer {
            timer: Timer::Mine,
            delay_ms_min: delay_ms,
            delay_ms_max: delay_ms,
        });
    }

    fn mine(&mut self, cx: &mut Context<'_>, out: &mut Out) {
        let bits = self
            .config
            .miners
            .get(&self.id)
            .map_or(self.config.bits_min, |m| m.1);
        let mut coins: BTreeSet<&str> = BTreeSet::new();
        let mut txs = Vec::new();
        for tx in &self.mempool {
            if txs.len() >= TXS_PER_BLOCK_MAX {
                break;
            }
            let Some(c) = coin(tx) else { continue };
            if self.spent.contains_key(c) || !coins.insert(c) {
                continue;
            }
            txs.push(tx.clone());
        }
        let tip = self.tip();
        let block = Block {
            parent: *self.chain.last().expect("tip"),
            height: tip.height + 1,
            miner: self.id,
            bits,
            nonce: 0,
            txs,
        }
        .seal(cx.rng.between(0, u64::MAX >> 1));
        out.push(CoreOutput::Event(PowEvent::Found {
            block: label(block.id()),
            parent: label(block.parent),
            height: block.height,
            miner: self.id,
            bits: block.bits,
            txs: block.txs.clone(),
        }));
        self.add_block(cx, out, block, None);
        self.arm_mining(cx, out);
    }

    fn reject(out: &mut Out, id: BlockHash, reason: &str) {
        out.push(CoreOutput::Event(PowEvent::Rejected {
            block: label(id),
            reason: reason.to_string(),
        }));
    }

    /// The coins spent on the branch ending at `tip` (the best chain's from the kept
    /// set, any other branch's by walking it).
    fn spent_on_branch(&self, tip: BlockHash) -> BTreeSet<String> {
        if Some(&tip) == self.chain.last() {
            return self.spent.keys().cloned().collect();
        }
        let mut out = BTreeSet::new();
        let mut h = tip;
        loop {
            let s = &self.tree[&h];
            for tx in &s.block.txs {
                if let Some(c) = coin(tx) {
                    out.insert(c.to_string());
                }
            }
            if s.height == 0 {
                return out;
            }
            h = s.parent;
        }
    }

    /// Take a block (mined here when `from` is `None`), and every orphan it lets in.
    fn add_block(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut Out,
        block: Block,
        from: Option<NodeId>,
    ) {
        let mut work = vec![(block, from)];
        while let Some((block, from)) = work.pop() {
            let Some(id) = self.accept(cx, out, block, from) else {
                continue;
            };
            let mut i = 0;
            while i < self.orphans.len() {
                if self.orphans[i].1.parent == id {
                    let (_, b, f) = self.orphans.remove(i).expect("in range");
                    work.push((b, Some(f)));
                } else {
                    i += 1;
                }
            }
        }
    }

    /// Check and store one block, switch to it if its chain is better, and send it
    /// on; its id if it was stored.
    fn accept(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut Out,
        block: Block,
        from: Option<NodeId>,
    ) -> Option<BlockHash> {
        let (id, meets_target) = block.check();
        if self.tree.contains_key(&id) || self.orphans.iter().any(|o| o.0 == id) {
            return None;
        }
        if block.height == 0 || block.bits > BITS_MAX || block.txs.len() > TXS_PER_BLOCK_MAX {
            Self::reject(out, id, "malformed");
            return None;
        }
        if !self.has(Bug::NoTargetCheck) && (!meets_target || block.bits < self.config.bits_min) {
            Self::reject(out, id, "hash does not meet the target");
            return None;
        }
        let parent = match self.tree.get(&block.parent) {
            Some(p) if block.height != p.height + 1 => {
                Self::reject(out, id, "height is not the parent's plus one");
                return None;
            }
            Some(_) => block.parent,
            None if self.has(Bug::AcceptsUnknownParent) => *self.chain.last().expect("tip"),
            None => {
                let sender = from.expect("a block mined here has a known parent");
                if self.orphans.len() >= ORPHANS_MAX && !self.has(Bug::UnboundedOrphans) {
                    self.orphans.pop_front();
                }
                self.orphans.push_back((id, block, sender));
                out.push(CoreOutput::Event(PowEvent::Orphaned {
                    block: label(id),
                    pool: self.orphans.len() as u64,
                }));
                let recent = self
                    .asked
                    .get(&sender)
                    .is_some_and(|t| cx.now_ms.saturating_sub(*t) < self.config.ping_ms);
                if !recent {
                    self.asked.insert(sender, cx.now_ms);
                    Self::send(out, sender, Msg::GetBlocks(self.locator()));
                }
                return None;
            }
        };
        let mut spent = self.spent_on_branch(parent);
        for tx in &block.txs {
            match coin(tx) {
                Some(c) if spent.insert(c.to_string()) => {}
                _ => {
                    Self::reject(out, id, "a coin spent twice");
                    return None;
                }
            }
        }
        let p = &self.tree[&parent];
        let stored = Stored {
            label: label(id),
            parent,
            height: p.height + 1,
            work: p.work.saturating_add(block.work()),
            block: Arc::new(block.clone()),
        };
        let better = self.better(&stored, self.tip());
        let height = stored.height;
        self.tree.insert(id, stored);
        out.push(CoreOutput::Append(vec![block.clone()]));
        if let Some(from) = from {
            out.push(CoreOutput::Event(PowEvent::Accepted {
                block: label(id),
                from,
                height,
            }));
        }
        // A block that makes the best chain is announced (the miner's own always;
        // a received one unless `never_forwards`); side branches are fetched on
        // demand by whoever comes to need them.
        if self.selfish.is_some() {
            self.selfish_accepted(cx, out, &block, from, height, better);
            if better {
                self.switch_to(out, id);
            }
            return Some(id);
        }
        if better {
            self.switch_to(out, id);
            if from.is_none() || !self.has(Bug::NeverForwards) {
                self.relay(cx, out, &Msg::Block(block), from);
            }
        }
        Some(id)
    }

    /// Make `new_tip` the best chain: revert the old branch (its transactions back to
    /// the mempool), connect the new one.
    fn switch_to(&mut self, out: &mut Out, new_tip: BlockHash) {
        let mut branch = Vec::new();
        let mut h = new_tip;
        loop {
            let s = &self.tree[&h];
            if usize::try_from(s.height)
                .ok()
                .and_then(|i| self.chain.get(i))
                == Some(&h)
            {
                break;
            }
            branch.push(h);
            h = s.parent;
        }
        let fork = self.tree[&h].height as usize;
        let old_tip = *self.chain.last().expect("tip");
        let depth = (self.chain.len() - 1 - fork) as u64;
        let mut reverted = Vec::new();
        for &b in self.chain[fork + 1..].iter().rev() {
            for tx in &self.tree[&b].block.txs {
                if let Some(c) = coin(tx) {
                    self.spent.remove(c);
                }
                reverted.push(tx.clone());
            }
        }
        self.chain.truncate(fork + 1);
        for &b in branch.iter().rev() {
            let block = Arc::clone(&self.tree[&b].block);
            for tx in &block.txs {
                if let Some(c) = coin(tx) {
                    if !(self.has(Bug::DoubleSpendAcrossReorg) && depth > 0) {
                        self.spent.insert(c.to_string(), tx.clone());
                    }
                }
            }
            self.mempool.retain(|t| !block.txs.contains(t));
            self.chain.push(b);
        }
        let reverted_txs = reverted.len() as u64;
        if !self.has(Bug::DropsRevertedTxs) {
            for tx in reverted {
                if !self.on_chain(&tx)
                    && !self.mempool.contains(&tx)
                    && self.mempool.len() < MEMPOOL_MAX
                {
                    self.mempool.push(tx);
                }
            }
        }
        if depth > 0 {
            out.push(CoreOutput::Event(PowEvent::Reorg {
                depth,
                from: label(old_tip),
                to: label(new_tip),
                reverted_txs,
            }));
        }
        out.push(CoreOutput::Event(PowEvent::Tip {
            chain: self.chain_labels(),
            work: self.tip().work,
        }));
        self.confirm(out);
    }

    /// Record the blocks that just became `confirm_depth` deep.
    fn confirm(&mut self, out: &mut Out) {
        let k = self.config.confirm_depth.max(1);
        let len = self.chain.len() as u64;
        if len < k {
            return;
        }
        let deep = len - k;
        while self.confirmed_next <= deep {
            let h = self.confirmed_next;
            out.push(CoreOutput::Event(PowEvent::Confirmed {
                height: h,
                block: self.tree[&self.chain[h as usize]].label.clone(),
            }));
            self.confirmed_next += 1;
        }
    }

    fn add_tx(&mut self, cx: &mut Context<'_>, out: &mut Out, tx: Value, from: Option<NodeId>) {
        if self.seen_txs.contains(&tx) || self.seen_txs.len() >= SEEN_TXS_MAX || coin(&tx).is_none()
        {
            return;
        }
        self.seen_txs.insert(tx.clone());
        if !self.on_chain(&tx) && self.mempool.len() < MEMPOOL_MAX {
            self.mempool.push(tx.clone());
        }
        self.relay(cx, out, &Msg::Transaction(tx), from);
    }

    /// Answer a locator: the best chain after the first hash held, at most
    /// [`SYNC_BATCH`] blocks in one message.
    fn serve(&self, out: &mut Out, to: NodeId, locator: &[BlockHash]) {
        if locator.len() > LOCATOR_MAX {
            return;
        }
        let start = locator
            .iter()
            .find_map(|h| {
                let s = self.tree.get(h)?;
                (self.chain.get(s.height as usize) == Some(h)).then_some(s.height as usize + 1)
            })
            .unwrap_or(1);
        // A selfish miner serves the public part of its chain only.
        let public_len = self.chain.len() - self.withheld_len();
        let end = public_len.min(start.saturating_add(SYNC_BATCH));
        let batch: Vec<Block> = self
            .chain
            .iter()
            .take(end)
            .skip(start)
            .map(|h| (*self.tree[h].block).clone())
            .collect();
        if !batch.is_empty() {
            Self::send(out, to, Msg::Blocks(batch));
        }
    }

    /// Every `ping_ms`: evict peers silent for `peer_timeout_ms` and dials not
    /// answered by then, ping the peers, re-dial the bootstrap nodes when alone (with
    /// a `Redial` event) or else fill the free outbound slots from the address book;
    /// every [`GOSSIP_EVERY_TICKS`] ticks ask a peer for more addresses (while an
    /// outbound slot is free) and re-send the pending client transactions.
    /// `never_redials` leaves out the re-dial and the filling: a node keeps the one
    /// bootstrap node it dialled at start and whoever dials it.
    fn maintain(&mut self, cx: &mut Context<'_>, out: &mut Out) {
        self.ticks += 1;
        let now = cx.now_ms;
        let timeout = self.config.peer_timeout_ms;
        let fresh = |_: &NodeId, last: &mut u64| now.saturating_sub(*last) <= timeout;
        let before = self.outbound.len() + self.inbound.len();
        self.outbound.retain(fresh);
        self.inbound.retain(fresh);
        self.dialing.retain(fresh);
        if self.outbound.len() + self.inbound.len() != before {
            self.peer_table_event(out);
            if !self.has_connections() {
                self.alone = true;
            }
        }
        let peers = self.connections();
        for &p in &peers {
            Self::send(out, p, Msg::Ping);
        }
        if !self.has(Bug::NeverRedials) {
            if peers.is_empty() {
                let missing: Vec<NodeId> = self
                    .config
                    .bootstrap
                    .iter()
                    .copied()
                    .filter(|b| *b != self.id && !self.dialing.contains_key(b))
                    .collect();
                if !missing.is_empty() {
                    out.push(CoreOutput::Event(PowEvent::Redial));
                    for b in missing {
                        Self::send(out, b, Msg::GetPeers);
                        if self.outbound_free() > 0 {
                            self.dial(cx, out, b);
                        }
                    }
                }
            }
            self.fill_outbound(cx, out);
        }
        if self.ticks.is_multiple_of(GOSSIP_EVERY_TICKS) {
            if self.outbound_free() > 0 && !peers.is_empty() {
                let i = cx.rng.between(0, peers.len() as u64 - 1) as usize;
                Self::send(out, peers[i], Msg::GetPeers);
            }
            let pending: Vec<Value> = self
                .submitted
                .iter()
                .filter(|t| self.mempool.contains(t))
                .cloned()
                .collect();
            for tx in pending {
                for &p in &peers {
                    Self::send(out, p, Msg::Transaction(tx.clone()));
                }
            }
        }
        out.push(CoreOutput::SetTimer {
            timer: Timer::Maintain,
            delay_ms_min: self.config.ping_ms,
            delay_ms_max: self.config.ping_ms,
        });
    }

    /// A message from `from`: addresses and dials from anyone, the rest only from a
    /// peer (or a node this node dialled: its message completes the dial).
    fn receive(&mut self, cx: &mut Context<'_>, out: &mut Out, from: NodeId, msg: Msg) {
        if from == self.id || !self.config.addresses.contains(&from) {
            return;
        }
        match msg {
            Msg::Dial => return self.on_dial(cx, out, from),
            Msg::GetPeers => {
                self.refresh(cx, from);
                self.known.insert(from);
                let list = self.sample_addresses(cx, from);
                return Self::send(out, from, Msg::Peers(list));
            }
            Msg::Peers(list) => {
                self.refresh(cx, from);
                for p in list.into_iter().take(PEERS_REPLY_MAX) {
                    if p != self.id && self.config.addresses.contains(&p) {
                        self.known.insert(p);
                    }
                }
                if !self.has(Bug::NeverRedials) {
                    self.fill_outbound(cx, out);
                }
                return;
            }
            _ => {}
        }
        if !self.touch(cx, out, from) {
            return;
        }
        match msg {
            Msg::Block(b) => self.add_block(cx, out, b, Some(from)),
            Msg::Blocks(batch) => {
                let full = batch.len() >= SYNC_BATCH;
                let last = batch.last().map(Block::id);
                for b in batch.into_iter().take(SYNC_BATCH) {
                    self.add_block(cx, out, b, Some(from));
                }
                // More may follow: ask from the end of this batch's branch (even when
                // every block of it was known: the sender's branch may go on past
                // them), once per batch end (a duplicated batch asks nothing more).
                let Some(last) = last.filter(|l| full && self.tree.contains_key(l)) else {
                    return;
                };
                let now = cx.now_ms;
                let repeat = self.synced_to.get(&from).is_some_and(|&(l, t)| {
                    l == last && now.saturating_sub(t) < self.config.ping_ms
                });
                if !repeat {
                    self.synced_to.insert(from, (last, now));
                    Self::send(out, from, Msg::GetBlocks(self.locator_from(last)));
                }
            }
            Msg::Transaction(t) => self.add_tx(cx, out, t, Some(from)),
            Msg::GetBlocks(locator) => self.serve(out, from, &locator),
            Msg::Ping => Self::send(out, from, Msg::Pong),
            Msg::Pong | Msg::Welcome => {}
            Msg::Dial | Msg::GetPeers | Msg::Peers(_) => unreachable!("handled above"),
        }
    }
}

impl Core for PowNode {
    type Msg = Msg;
    type State = PowState;
    type Event = PowEvent;
    type Timer = Timer;
    type Entry = Block;

    /// A block of 16 transactions of 32 bytes is under 1 KiB of JSON, a batch of
    /// [`SYNC_BATCH`] of them under 8 KiB; a locator of 32 hashes about 700 bytes; a
    /// peer list of 64 nodes under 400 (tested on the largest of each).
    const MESSAGE_BYTES_MAX: usize = 16_384;

    /// Every message the core sends is built within those sizes (blocks from its own
    /// tree, which holds only checked blocks, and its own mutations of them), so the
    /// fast lane need not encode each one to check it
    /// (`tests::the_largest_messages_fit_the_limit`, with room for the envelope).
    const MESSAGE_BYTES_BOUND: Option<usize> = Some(Self::MESSAGE_BYTES_MAX);

    fn step(&mut self, cx: &mut Context<'_>, input: CoreInput<Self>, out: &mut Out) {
        match input {
            CoreInput::Start { recovered, log, .. } => self.start(cx, out, recovered, log),
            CoreInput::ClientRequest { value } => {
                if coin(&value).is_none() {
                    return;
                }
                if !self.submitted.contains(&value) {
                    self.submitted.push(value.clone());
                    out.push(CoreOutput::Persist(self.state()));
                }
                self.add_tx(cx, out, value, None);
            }
            CoreInput::Receive { from, msg } => self.receive(cx, out, from, msg),
            CoreInput::TimerFired { timer: Timer::Mine } => self.mine(cx, out),
            CoreInput::TimerFired {
                timer: Timer::Maintain,
            } => self.maintain(cx, out),
        }
    }

    fn msg_kind(msg: &Msg) -> &'static str {
        match msg {
            Msg::Block(_) | Msg::Blocks(_) => KINDS[0],
            Msg::Transaction(_) => KINDS[1],
            Msg::GetBlocks(_) => KINDS[2],
            Msg::Ping => KINDS[3],
            Msg::Pong => KINDS[4],
            Msg::GetPeers => KINDS[5],
            Msg::Peers(_) => KINDS[6],
            Msg::Dial => KINDS[7],
            Msg::Welcome => KINDS[8],
        }
    }

    fn observe(event: &PowEvent) -> Option<Observation> {
        match event {
            PowEvent::Tip { chain, .. } => Some(Observation::Tip {
                chain: chain.clone(),
            }),
            PowEvent::Confirmed { height, block } => Some(Observation::Finalized {
                height: *height,
                block: block.clone(),
            }),
            _ => None,
        }
    }

    /// What a Byzantine node sends instead: a block claiming the most work its hash
    /// does not meet, a sealed block of an unknown parent, a sealed block spending one
    /// coin twice, a conflicting transaction, a peer list naming only itself.
    fn mutations(&self, msg: &Msg) -> Vec<Msg> {
        match msg {
            Msg::Block(b) => {
                let mut forged = b.clone();
                forged.bits = BITS_MAX;
                while forged.check().1 {
                    forged.nonce = forged.nonce.wrapping_add(1);
                }
                let mut orphan = b.clone();
                orphan.parent ^= 0x5eed_0bad_f00d_cafe;
                let orphan = orphan.clone().seal(orphan.nonce);
                let mut twice = b.clone();
                let c = b.txs.first().and_then(coin).unwrap_or("c0").to_string();
                twice.txs.truncate(TXS_PER_BLOCK_MAX - 2);
                twice.txs.push(Value::new(format!("{c}:byz1")));
                twice.txs.push(Value::new(format!("{c}:byz2")));
                let twice = twice.clone().seal(twice.nonce);
                vec![Msg::Block(forged), Msg::Block(orphan), Msg::Block(twice)]
            }
            Msg::Transaction(t) => coin(t)
                .map(|c| vec![Msg::Transaction(Value::new(format!("{c}:byz")))])
                .unwrap_or_default(),
            Msg::Peers(_) => vec![Msg::Peers(vec![self.id])],
            _ => Vec::new(),
        }
    }
}
