//! One PBFT replica as a sans-IO state machine (Castro and Liskov, OSDI 1999), without
//! checkpoints: the log is short (a scenario's requests), so a view change carries
//! every prepared certificate and a new view re-proposes the whole log.
//!
//! - **Normal case.** The primary of view `v` (replica `v mod n` in id order) orders a
//!   request at the next sequence number with a pre-prepare; backups accept it (right
//!   view, right primary, digest binding view, seq and request, nothing else accepted
//!   for that view and seq) and prepare; a replica whose pre-prepare has a quorum of
//!   prepares (the pre-prepare counts as the primary's) is *prepared*, persists the
//!   certificate and commits; a quorum of commits makes it *committed-local*. Committed
//!   sequence numbers execute in order; a request already executed is skipped, so the
//!   log the judges read (execution slot `k` = the `k`-th request executed) holds each
//!   request once. The replica its client asked (the proxy) counts `f + 1` matching
//!   replies.
//! - **View change.** A replica waiting for a request it knows of starts a timer; when
//!   it fires, it moves to view `v + 1` and sends a view change with its prepared
//!   certificates. The timeout doubles with every view change since the last request
//!   executed. `f + 1` view changes for higher views pull a replica along (to the
//!   smallest). The new primary, with a quorum of view changes, re-proposes for every
//!   sequence number up to the highest prepared one the request of the
//!   highest-view certificate (a null request where there is none) and sends a new
//!   view; backups recompute it from the view changes it carries before installing.
//! - **Catch-up.** Every replica broadcasts a status (view, last executed sequence
//!   number) now and then; a replica that is ahead sends the commit certificates the
//!   other lacks, and the new view of its view to one still in an older one.
//!
//! Quorums are `ceil((n + f + 1) / 2)` with `f = (n - 1) / 3`: `2f + 1` when
//! `n = 3f + 1`, and large enough that two quorums share `f + 1` replicas otherwise.

mod strategy;

pub use strategy::{Strategy, STRATEGIES};

use super::bugs::{Bug, Bugs};
use super::msg::{
    digest, Certificate, Digest, Keys, Msg, NewView, Show, Sig, Signed, ViewChange, Vote,
};
use crate::ids::NodeId;
use crate::protocol::{Context, Core, CoreInput, CoreOutput, Observation};
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

/// Most sequence numbers a pre-prepare may run ahead of the last executed one.
pub const WINDOW: u64 = 1_024;
/// Most views a view change may name ahead of the receiver's (memory bound).
pub const VIEWS_AHEAD_MAX: u64 = 64;
/// Most early pre-prepares (for a view not installed yet) a replica keeps.
pub const EARLY_MAX: usize = 256;
/// Most requests a replica remembers the client of (client nodes, real mode).
pub const CLIENTS_OF_REQUESTS_MAX: usize = 4_096;
/// Most commit certificates one status answer sends.
pub const CATCH_UP_MAX: u64 = 16;
/// The view timeout doubles at most this many times.
pub const BACKOFF_DOUBLINGS_MAX: u32 = 6;

/// The timing of a replica.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// The first view-change timeout; it doubles with each view change in a row.
    pub view_timeout_ms: u64,
    /// How often a replica broadcasts its status.
    pub status_ms: u64,
    /// How often a proxy re-sends its client's request until it is answered.
    pub retry_ms: u64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            view_timeout_ms: 40,
            status_ms: 100,
            retry_ms: 200,
        }
    }
}

/// What every replica of a run shares: the cluster, the keys, the timing, the
/// clients' requests and the planted bugs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Every replica, in id order (the primary of view `v` is `members[v mod n]`).
    pub members: Vec<NodeId>,
    pub keys: Keys,
    pub timing: Timing,
    /// The requests the clients sign, and the replica each client asks (its proxy).
    pub requests: BTreeMap<Value, NodeId>,
    /// Client nodes (real mode's `gauntlet propose`; none in simulation): not
    /// replicas. A client sends its request to every replica itself and counts
    /// `f + 1` matching replies. Their requests cannot be listed beforehand, so with
    /// client nodes a request counts as client-signed when it reaches a replica from
    /// a client node over real mode's signed channel; a backup takes the request in a
    /// pre-prepare on its primary's word (client signatures carried inside requests,
    /// which would stop a Byzantine primary from making one up, are not modelled).
    pub clients: BTreeSet<NodeId>,
    pub bugs: Bugs,
}

impl Config {
    /// The number of faulty replicas tolerated: `(n - 1) / 3`.
    pub fn f(&self) -> usize {
        (self.members.len().max(1) - 1) / 3
    }

    /// Votes a certificate needs: `ceil((n + f + 1) / 2)` (one less with the planted
    /// bug `quorum_2f`).
    pub fn quorum(&self) -> usize {
        let q = (self.members.len() + self.f() + 2) / 2;
        if self.bugs.has(Bug::Quorum2f) {
            q - 1
        } else {
            q
        }
    }

    /// View changes a new view needs: a quorum (one, the primary's own, with the
    /// planted bug `new_view_without_quorum`, which never counts them).
    pub fn new_view_quorum(&self) -> usize {
        if self.bugs.has(Bug::NewViewWithoutQuorum) {
            1
        } else {
            self.quorum()
        }
    }

    pub fn primary(&self, view: u64) -> NodeId {
        self.members[(view % self.members.len() as u64) as usize]
    }

    fn digest(&self, view: u64, seq: u64, request: &Option<Value>) -> Digest {
        digest(view, seq, request, !self.bugs.has(Bug::DigestNotBound))
    }

    fn signed_request(&self, request: &Option<Value>) -> bool {
        request
            .as_ref()
            .is_none_or(|r| self.requests.contains_key(r) || !self.clients.is_empty())
    }

    /// The number of votes, each from a member with a valid signature on `what(vote)`;
    /// distinct signers only, unless the planted bug `duplicate_votes` counts repeats.
    fn count_valid(&self, votes: &[Vote], what: Signed) -> usize {
        let valid = votes
            .iter()
            .filter(|v| self.members.contains(&v.node) && self.checks(**v, what));
        if self.bugs.has(Bug::DuplicateVotes) {
            valid.count()
        } else {
            valid.map(|v| v.node).collect::<BTreeSet<_>>().len()
        }
    }

    /// Whether `vote` is a valid signature on `what` (anything passes with the planted
    /// bug `signatures_not_checked`).
    fn checks(&self, vote: Vote, what: Signed) -> bool {
        self.bugs.has(Bug::SignaturesNotChecked) || self.keys.verify(vote, what)
    }

    /// Whether `votes` hold a quorum of valid signatures on `what`.
    fn is_quorum(&self, votes: &[Vote], what: Signed) -> bool {
        self.count_valid(votes, what) >= self.quorum()
    }

    /// Whether `cert` proves its request prepared.
    fn valid_certificate(&self, cert: &Certificate) -> bool {
        let digest = self.digest(cert.view, cert.seq, &cert.request);
        let what = Signed::Prepare {
            view: cert.view,
            seq: cert.seq,
            digest,
        };
        cert.seq >= 1 && self.signed_request(&cert.request) && self.is_quorum(&cert.votes, what)
    }

    /// Whether `vc` is signed by its sender, for `vc.view`, with valid certificates
    /// from earlier views.
    fn valid_view_change(&self, vc: &ViewChange) -> bool {
        let vote = Vote {
            node: vc.from,
            sig: vc.sig,
        };
        self.members.contains(&vc.from)
            && self.checks(vote, ViewChange::signed(vc.view, &vc.prepared))
            && vc
                .prepared
                .iter()
                .all(|c| c.view < vc.view && self.valid_certificate(c))
    }

    /// The requests a new view re-proposes, from sequence number 1: for each up to the
    /// highest prepared, the request of the highest-view certificate, else null. The
    /// planted bug `ignores_certificates` re-proposes nothing.
    pub fn proposals(&self, view_changes: &[ViewChange]) -> Vec<Option<Value>> {
        if self.bugs.has(Bug::IgnoresCertificates) {
            return Vec::new();
        }
        let mut best: BTreeMap<u64, &Certificate> = BTreeMap::new();
        for c in view_changes.iter().flat_map(|vc| &vc.prepared) {
            if best.get(&c.seq).is_none_or(|b| c.view > b.view) {
                best.insert(c.seq, c);
            }
        }
        let top = best.keys().next_back().copied().unwrap_or(0);
        (1..=top)
            .map(|s| best.get(&s).and_then(|c| c.request.clone()))
            .collect()
    }

    /// Whether `nv` rests on a quorum of valid view changes for its view from distinct
    /// replicas and re-proposes what they say.
    fn valid_new_view(&self, nv: &NewView) -> bool {
        let senders: BTreeSet<NodeId> = nv.view_changes.iter().map(|vc| vc.from).collect();
        let distinct = senders.len() == nv.view_changes.len();
        (distinct || self.bugs.has(Bug::DuplicateVotes))
            && nv.view_changes.len() >= self.new_view_quorum()
            && nv
                .view_changes
                .iter()
                .all(|vc| vc.view == nv.view && self.valid_view_change(vc))
            && self.proposals(&nv.view_changes) == nv.proposals
    }
}

/// What a replica accepted for one sequence number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    pub view: u64,
    pub request: Option<Value>,
}

/// One sequence number of a replica's log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// The pre-prepare accepted last (its view and request).
    pub accepted: Option<Accepted>,
    /// The highest-view prepared certificate.
    pub prepared: Option<Certificate>,
    /// The commit certificate, once committed (its votes are commits).
    pub committed: Option<Certificate>,
}

/// What a replica keeps on disk: its view, its log and what it executed. Written and
/// fsynced before any message that depends on it leaves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PbftState {
    pub view: u64,
    /// Whether the view is installed (view 0, or its new view accepted); otherwise the
    /// replica is changing to it.
    pub installed: bool,
    pub log: BTreeMap<u64, Slot>,
    /// The last sequence number executed (0: none).
    pub executed_seq: u64,
    /// The requests executed, in order, with the sequence number of each.
    pub executed: Vec<(u64, Value)>,
}

impl PbftState {
    fn fresh() -> Self {
        PbftState {
            installed: true,
            ..PbftState::default()
        }
    }
}

impl fmt::Display for PbftState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = if self.installed { "" } else { " (changing)" };
        write!(f, "view={}{mode} log=[", self.view)?;
        for (i, (seq, slot)) in self.log.iter().enumerate() {
            let sep = if i == 0 { "" } else { " " };
            let mark = if slot.committed.is_some() {
                "C"
            } else if slot.prepared.is_some() {
                "P"
            } else {
                ""
            };
            let request = slot
                .accepted
                .as_ref()
                .map(|a| a.request.clone())
                .or_else(|| slot.committed.as_ref().map(|c| c.request.clone()))
                .unwrap_or(None);
            write!(f, "{sep}{seq}:{}{mark}", Show(&request))?;
        }
        write!(f, "] executed={}", self.executed.len())
    }
}

/// PBFT's trace events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PbftEvent {
    /// The replica moved to `view` and sent its view change.
    ViewChangeStarted { view: u64 },
    /// The replica installed `view`'s new view.
    NewViewInstalled { view: u64 },
    /// `view`'s new view re-proposed `request` at `seq` (it was prepared before).
    Carried { view: u64, seq: u64, request: Value },
    /// Committed-local: `request` at `seq`, first known in `view`.
    Committed {
        view: u64,
        seq: u64,
        request: Option<Value>,
    },
    /// `request` executed as the replica's `slot`-th request (from 0), at `seq`.
    Executed { slot: u64, seq: u64, request: Value },
    /// The proxy got `f + 1` matching replies: its client's request is at `seq`.
    Answered { seq: u64, request: Value },
}

impl fmt::Display for PbftEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PbftEvent::ViewChangeStarted { view } => write!(f, "view change to {view}"),
            PbftEvent::NewViewInstalled { view } => write!(f, "NEW VIEW {view}"),
            PbftEvent::Carried { view, seq, request } => {
                write!(f, "view {view} carries {request} at n={seq}")
            }
            PbftEvent::Committed { view, seq, request } => {
                write!(f, "committed n={seq} = {} in view {view}", Show(request))
            }
            PbftEvent::Executed { slot, seq, request } => {
                write!(f, "EXECUTE slot {slot} = {request} (n={seq})")
            }
            PbftEvent::Answered { seq, request } => write!(f, "ANSWERED {request} at n={seq}"),
        }
    }
}

/// A replica's timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// The view-change timer; stale unless `token` is the replica's current one.
    View { token: u64 },
    /// Broadcast the status.
    Status,
    /// The proxy re-sends its client's request.
    Retry,
}

/// Votes for one digest, from one view and sequence number.
#[derive(Debug, Clone, Default)]
struct Tally {
    view: u64,
    votes: Vec<Vote>,
}

/// One PBFT replica.
#[derive(Debug, Clone)]
pub struct Replica {
    id: NodeId,
    config: Arc<Config>,
    state: PbftState,
    /// The durable state changed in this step.
    dirty: bool,
    /// This step's write may skip fsync (planted bug `prepared_not_persisted`).
    unsynced: bool,
    prepares: BTreeMap<Digest, Tally>,
    commits: BTreeMap<Digest, Tally>,
    /// Requests known and not executed.
    pending: BTreeSet<Value>,
    /// The current view's sequence number of each request pre-prepared in it.
    assigned: BTreeMap<Value, u64>,
    next_seq: u64,
    view_changes: BTreeMap<u64, Vec<ViewChange>>,
    new_view: Option<NewView>,
    /// Pre-prepares for a view not installed yet, replayed when it is.
    early: Vec<(NodeId, Msg)>,
    /// View changes since the last request executed: the timeout's doublings.
    streak: u32,
    timer_token: u64,
    timer_armed: bool,
    /// As replica: the client node each request came from (client nodes only), to
    /// reply to; at most [`CLIENTS_OF_REQUESTS_MAX`].
    client_of: BTreeMap<Value, NodeId>,
    /// As proxy (or client node): the client's request, its replies, and whether it
    /// was answered.
    client: Option<Value>,
    replies: BTreeMap<u64, BTreeSet<NodeId>>,
    answered: bool,
    effects: Vec<CoreOutput<Replica>>,
    /// The adversary this replica plays (`crate::fault::Fault::Strategy`); `None`:
    /// honest.
    strategy: Option<Strategy>,
    /// As an adversary: the (view, seq, digest) it has voted for on every side.
    backed: BTreeSet<(u64, u64, Digest)>,
}

impl Replica {
    pub fn new(id: NodeId, config: Arc<Config>) -> Self {
        assert!(
            config.members.contains(&id) || config.clients.contains(&id),
            "{id} is neither a replica nor a client"
        );
        Replica {
            id,
            config,
            state: PbftState::fresh(),
            dirty: false,
            unsynced: false,
            prepares: BTreeMap::new(),
            commits: BTreeMap::new(),
            pending: BTreeSet::new(),
            assigned: BTreeMap::new(),
            next_seq: 1,
            view_changes: BTreeMap::new(),
            new_view: None,
            early: Vec::new(),
            streak: 0,
            timer_token: 0,
            timer_armed: false,
            client_of: BTreeMap::new(),
            client: None,
            replies: BTreeMap::new(),
            answered: false,
            effects: Vec::new(),
            strategy: None,
            backed: BTreeSet::new(),
        }
    }

    /// This replica as the adversary `strategy` (its identity and keys unchanged).
    pub fn with_strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = Some(strategy);
        self
    }

    pub fn state(&self) -> &PbftState {
        &self.state
    }

    /// Whether this node is a client node, not a replica.
    fn is_client(&self) -> bool {
        !self.config.members.contains(&self.id)
    }

    fn is_primary(&self) -> bool {
        self.config.primary(self.state.view) == self.id
    }

    fn send(&mut self, to: NodeId, msg: Msg) {
        self.effects.push(CoreOutput::Send { to, msg });
    }

    fn broadcast(&mut self, msg: Msg) {
        for i in 0..self.config.members.len() {
            let to = self.config.members[i];
            if to != self.id {
                self.effects.push(CoreOutput::Send {
                    to,
                    msg: msg.clone(),
                });
            }
        }
    }

    fn event(&mut self, event: PbftEvent) {
        self.effects.push(CoreOutput::Event(event));
    }

    fn sign(&self, what: Signed) -> Vote {
        Vote {
            node: self.id,
            sig: self.config.keys.sign(self.id, what),
        }
    }

    fn timeout_ms(&self) -> u64 {
        let base = self.config.timing.view_timeout_ms;
        if self.config.bugs.has(Bug::TimerNeverGrows) {
            base
        } else {
            base << self.streak.min(BACKOFF_DOUBLINGS_MAX)
        }
    }

    /// (Re)start the view timer with the current timeout.
    fn arm(&mut self) {
        self.timer_token = self.timer_token.wrapping_add(1);
        self.timer_armed = true;
        let ms = self.timeout_ms();
        self.effects.push(CoreOutput::SetTimer {
            timer: Timer::View {
                token: self.timer_token,
            },
            delay_ms_min: ms,
            delay_ms_max: ms,
        });
    }

    fn disarm(&mut self) {
        self.timer_armed = false;
        self.timer_token = self.timer_token.wrapping_add(1);
    }

    fn slot(&mut self, seq: u64) -> &mut Slot {
        self.state.log.entry(seq).or_default()
    }

    /// Record a vote in the tally of `digest` (a new view or a repeat from one replica
    /// does not count twice, unless the planted bug `duplicate_votes`).
    fn tally(
        table: &mut BTreeMap<Digest, Tally>,
        view: u64,
        digest: Digest,
        vote: Vote,
        dup: bool,
    ) {
        let tally = table.entry(digest).or_insert_with(|| Tally {
            view,
            votes: Vec::new(),
        });
        if dup || !tally.votes.iter().any(|v| v.node == vote.node) {
            tally.votes.push(vote);
        }
    }

    fn dup(&self) -> bool {
        self.config.bugs.has(Bug::DuplicateVotes)
    }

    // ---- requests -------------------------------------------------------------------

    fn executed_at(&self, request: &Value) -> Option<u64> {
        self.state
            .executed
            .iter()
            .find(|(_, r)| r == request)
            .map(|(s, _)| *s)
    }

    fn on_request(&mut self, request: Value) {
        if !self.config.signed_request(&Some(request.clone())) {
            return;
        }
        if let Some(seq) = self.executed_at(&request) {
            self.reply(seq, request);
            return;
        }
        self.watch(request.clone());
        if self.state.installed && self.is_primary() {
            self.propose(request);
        }
    }

    /// A client node's own request (its signed channel is its signature): remember
    /// whom to reply to, and take it like any request.
    fn on_client_request(&mut self, client: NodeId, request: Value) {
        if self.client_of.len() < CLIENTS_OF_REQUESTS_MAX || self.client_of.contains_key(&request) {
            self.client_of.insert(request.clone(), client);
        }
        self.on_request(request);
    }

    /// Wait for `request`: the view timer runs while anything is pending.
    fn watch(&mut self, request: Value) {
        if self.executed_at(&request).is_some() {
            return;
        }
        self.pending.insert(request);
        // While changing view, the view-change timer runs (or waits for a quorum).
        if self.state.installed && !self.timer_armed {
            self.arm();
        }
    }

    /// As primary: order `request` at the next sequence number.
    fn propose(&mut self, request: Value) {
        if self.assigned.contains_key(&request) || self.executed_at(&request).is_some() {
            return;
        }
        let seq = self.next_seq;
        if seq > self.state.executed_seq.saturating_add(WINDOW) {
            return;
        }
        let Some(next) = seq.checked_add(1) else {
            return;
        };
        self.next_seq = next;
        let view = self.state.view;
        let request = Some(request);
        let digest = self.config.digest(view, seq, &request);
        let vote = self.sign(Signed::Prepare { view, seq, digest });
        self.accept(view, seq, request.clone(), digest, vote);
        if self.strategy == Some(Strategy::EquivocatingPrimary) {
            self.equivocate(view, seq, request, digest, vote.sig);
        } else {
            self.broadcast(Msg::PrePrepare {
                view,
                seq,
                request,
                digest,
                sig: vote.sig,
            });
        }
        self.check_prepared(seq);
    }

    /// Accept the pre-prepare of `request` at `seq` in `view`, with the primary's vote.
    fn accept(&mut self, view: u64, seq: u64, request: Option<Value>, digest: Digest, vote: Vote) {
        if let Some(r) = &request {
            self.assigned.insert(r.clone(), seq);
        }
        self.slot(seq).accepted = Some(Accepted {
            view,
            request: request.clone(),
        });
        self.dirty = true;
        let dup = self.dup();
        Self::tally(&mut self.prepares, view, digest, vote, dup);
        if let Some(r) = request {
            self.watch(r.clone());
            if self.config.bugs.has(Bug::ReplyBeforeCommit) {
                self.reply(seq, r);
            }
        }
    }

    fn on_pre_prepare(&mut self, from: NodeId, msg: Msg) {
        let Msg::PrePrepare {
            view,
            seq,
            request,
            digest,
            sig,
        } = msg
        else {
            return;
        };
        let ahead = view > self.state.view || (view == self.state.view && !self.state.installed);
        if ahead && view <= self.state.view.saturating_add(VIEWS_AHEAD_MAX) {
            if self.early.len() < EARLY_MAX {
                self.early.push((
                    from,
                    Msg::PrePrepare {
                        view,
                        seq,
                        request,
                        digest,
                        sig,
                    },
                ));
            }
            return;
        }
        if view != self.state.view || !self.state.installed {
            return;
        }
        if from != self.config.primary(view) && !self.config.bugs.has(Bug::AcceptsNonPrimary) {
            return;
        }
        if from == self.id || seq == 0 || seq > self.state.executed_seq.saturating_add(WINDOW) {
            return;
        }
        if request.is_none() || !self.config.signed_request(&request) {
            return;
        }
        if digest != self.config.digest(view, seq, &request) {
            return;
        }
        let vote = Vote { node: from, sig };
        if !self
            .config
            .keys
            .verify(vote, Signed::Prepare { view, seq, digest })
        {
            return;
        }
        if let Some(a) = self.state.log.get(&seq).and_then(|s| s.accepted.as_ref()) {
            if a.view >= view {
                return;
            }
        }
        self.accept(view, seq, request, digest, vote);
        self.prepare(view, seq, digest);
    }

    /// As backup (or as anyone in a new view): sign and send a prepare, and count it.
    fn prepare(&mut self, view: u64, seq: u64, digest: Digest) {
        self.cast_vote(false, view, seq, digest);
    }

    /// Sign this replica's own prepare (or commit), send it to the others and count
    /// it, then see whether it completes a certificate (whose own messages then
    /// follow the vote out).
    fn cast_vote(&mut self, commit: bool, view: u64, seq: u64, digest: Digest) {
        let vote = self.sign(Self::vote_on(commit, view, seq, digest));
        self.broadcast(Msg::vote(commit, view, seq, digest, vote.sig));
        self.count_vote(commit, view, seq, digest, vote);
    }

    /// What a prepare (or commit) vote for (view, seq, digest) signs.
    fn vote_on(commit: bool, view: u64, seq: u64, digest: Digest) -> Signed {
        if commit {
            Signed::Commit { view, seq, digest }
        } else {
            Signed::Prepare { view, seq, digest }
        }
    }

    /// Count a checked prepare (or commit) vote and see whether it completes a
    /// certificate.
    fn count_vote(&mut self, commit: bool, view: u64, seq: u64, digest: Digest, vote: Vote) {
        let dup = self.dup();
        if commit {
            Self::tally(&mut self.commits, view, digest, vote, dup);
            self.check_committed(seq);
        } else {
            Self::tally(&mut self.prepares, view, digest, vote, dup);
            self.check_prepared(seq);
        }
    }

    /// Whether a vote for `view` may be counted now: the current view, or one a little
    /// ahead (its new view may still be on its way).
    fn counts_view(&self, view: u64) -> bool {
        view >= self.state.view && view <= self.state.view.saturating_add(VIEWS_AHEAD_MAX)
    }

    fn on_vote(
        &mut self,
        from: NodeId,
        commit: bool,
        view: u64,
        seq: u64,
        digest: Digest,
        sig: Sig,
    ) {
        if !self.counts_view(view) {
            return;
        }
        let vote = Vote { node: from, sig };
        if !self
            .config
            .keys
            .verify(vote, Self::vote_on(commit, view, seq, digest))
        {
            return;
        }
        self.count_vote(commit, view, seq, digest, vote);
    }

    /// The current view's accepted request at `seq`, with its digest.
    fn accepted_now(&self, seq: u64) -> Option<(Option<Value>, Digest)> {
        let view = self.state.view;
        if !self.state.installed {
            return None;
        }
        let a = self.state.log.get(&seq)?.accepted.as_ref()?;
        (a.view == view).then(|| (a.request.clone(), self.config.digest(view, seq, &a.request)))
    }

    fn check_prepared(&mut self, seq: u64) {
        let Some((request, digest)) = self.accepted_now(seq) else {
            return;
        };
        let view = self.state.view;
        if self
            .state
            .log
            .get(&seq)
            .and_then(|s| s.prepared.as_ref())
            .is_some_and(|c| c.view == view)
        {
            return;
        }
        let what = Signed::Prepare { view, seq, digest };
        let Some(votes) = self.quorum_in(&self.prepares, view, digest, what) else {
            return;
        };
        self.slot(seq).prepared = Some(Certificate {
            view,
            seq,
            request,
            votes,
        });
        self.dirty = true;
        if self.config.bugs.has(Bug::PreparedNotPersisted) {
            self.unsynced = true;
        }
        self.cast_vote(true, view, seq, digest);
    }

    /// The votes `table` holds for `digest` in `view`, if they are a quorum of valid
    /// signatures on `what`.
    fn quorum_in(
        &self,
        table: &BTreeMap<Digest, Tally>,
        view: u64,
        digest: Digest,
        what: Signed,
    ) -> Option<Vec<Vote>> {
        let tally = table.get(&digest).filter(|t| t.view == view)?;
        // The planted bug `digest_not_bound` matches votes by digest alone, as
        // PBFT-Java did: a vote's signature was checked when it arrived, on the
        // sequence number it named, and here any vote for the digest counts, whatever
        // sequence number it was for.
        let enough = if self.config.bugs.has(Bug::DigestNotBound) {
            let voters: BTreeSet<NodeId> = tally.votes.iter().map(|v| v.node).collect();
            voters.len() >= self.config.quorum()
        } else {
            self.config.is_quorum(&tally.votes, what)
        };
        enough.then(|| tally.votes.clone())
    }

    fn check_committed(&mut self, seq: u64) {
        let Some((request, digest)) = self.accepted_now(seq) else {
            return;
        };
        let view = self.state.view;
        let slot = &self.state.log[&seq];
        if slot.committed.is_some() || slot.prepared.as_ref().is_none_or(|c| c.view != view) {
            return;
        }
        let what = Signed::Commit { view, seq, digest };
        let Some(votes) = self.quorum_in(&self.commits, view, digest, what) else {
            return;
        };
        self.commit(Certificate {
            view,
            seq,
            request,
            votes,
        });
    }

    fn commit(&mut self, cert: Certificate) {
        self.event(PbftEvent::Committed {
            view: cert.view,
            seq: cert.seq,
            request: cert.request.clone(),
        });
        let seq = cert.seq;
        self.slot(seq).committed = Some(cert);
        self.dirty = true;
        self.execute();
    }

    /// Execute every committed sequence number in order.
    fn execute(&mut self) {
        let mut progressed = false;
        while let Some(seq) = self.state.executed_seq.checked_add(1) {
            let Some(cert) = self.state.log.get(&seq).and_then(|s| s.committed.clone()) else {
                break;
            };
            self.state.executed_seq = seq;
            self.dirty = true;
            let Some(request) = cert.request else {
                continue;
            };
            if self.executed_at(&request).is_some() {
                continue;
            }
            let slot = self.state.executed.len() as u64;
            self.state.executed.push((seq, request.clone()));
            self.pending.remove(&request);
            self.streak = 0;
            progressed = true;
            self.event(PbftEvent::Executed {
                slot,
                seq,
                request: request.clone(),
            });
            if !self.config.bugs.has(Bug::ReplyBeforeCommit) {
                self.reply(seq, request);
            }
        }
        if progressed {
            if self.pending.is_empty() {
                self.disarm();
            } else {
                self.arm();
            }
        }
    }

    fn reply(&mut self, seq: u64, request: Value) {
        let proxy = self
            .config
            .requests
            .get(&request)
            .or(self.client_of.get(&request));
        let Some(&proxy) = proxy else {
            return;
        };
        if proxy == self.id {
            self.on_reply(self.id, seq, request);
        } else {
            self.send(proxy, Msg::Reply { seq, request });
        }
    }

    fn on_reply(&mut self, from: NodeId, seq: u64, request: Value) {
        if self.answered || self.client.as_ref() != Some(&request) {
            return;
        }
        let voters = self.replies.entry(seq).or_default();
        voters.insert(from);
        if voters.len() > self.config.f() {
            self.answered = true;
            self.event(PbftEvent::Answered { seq, request });
        }
    }

    // ---- view change ----------------------------------------------------------------

    fn start_view_change(&mut self, view: u64) {
        self.state.view = view;
        self.state.installed = false;
        self.dirty = true;
        self.streak = self.streak.saturating_add(1);
        self.assigned.clear();
        self.new_view = None;
        self.event(PbftEvent::ViewChangeStarted { view });
        self.disarm();
        self.send_view_change();
        self.arm_when_changing_together();
        self.try_new_view();
    }

    /// A replica changing view starts its timer only once a quorum of replicas sent
    /// view changes for its view or a later one (its own among them), as in PBFT: a
    /// replica that changes
    /// view alone waits for the others instead of running ahead through views they
    /// never reach, which would keep every new view one replica short.
    fn arm_when_changing_together(&mut self) {
        let view = self.state.view;
        if self.state.installed || self.timer_armed {
            return;
        }
        // A replica changing to a higher view has left this one too: it counts.
        let senders: BTreeSet<NodeId> = self
            .view_changes
            .range(view..)
            .flat_map(|(_, vcs)| vcs.iter().map(|vc| vc.from))
            .collect();
        if senders.len() >= self.config.quorum() {
            self.arm();
        }
    }

    /// Build, keep and broadcast this replica's view change for its view.
    fn send_view_change(&mut self) {
        let view = self.state.view;
        let prepared: Vec<Certificate> = self
            .state
            .log
            .values()
            .filter_map(|s| s.prepared.clone())
            .collect();
        let sig = self
            .config
            .keys
            .sign(self.id, ViewChange::signed(view, &prepared));
        let vc = ViewChange {
            view,
            from: self.id,
            prepared,
            sig,
        };
        self.keep_view_change(vc.clone());
        self.broadcast(Msg::ViewChange(vc));
    }

    /// Keep a view change for its view: one per sender (the latest), or every copy
    /// with the planted bug `duplicate_votes`, which counts messages, not senders.
    fn keep_view_change(&mut self, vc: ViewChange) {
        let dup = self.dup();
        let list = self.view_changes.entry(vc.view).or_default();
        match list.iter_mut().find(|kept| kept.from == vc.from) {
            Some(kept) if !dup => *kept = vc,
            _ => {
                list.push(vc);
                list.sort_by_key(|kept| kept.from);
            }
        }
    }

    fn on_view_change(&mut self, from: NodeId, vc: ViewChange) {
        if vc.from != from || !self.config.valid_view_change(&vc) {
            return;
        }
        let view = self.state.view;
        if vc.view < view || (vc.view == view && self.state.installed) {
            // A replica behind: hand it the new view of this view, if there is one.
            if let Some(nv) = self.new_view.clone() {
                self.send(from, Msg::NewView(nv));
            }
            return;
        }
        if vc.view > view.saturating_add(VIEWS_AHEAD_MAX) {
            return;
        }
        self.keep_view_change(vc);
        self.arm_when_changing_together();
        // f + 1 replicas want higher views: join the smallest of them.
        let mut senders: BTreeSet<NodeId> = BTreeSet::new();
        let mut smallest = None;
        for (&v, vcs) in self.view_changes.range(view.saturating_add(1)..) {
            for n in vcs.iter().map(|vc| vc.from) {
                if n != self.id {
                    senders.insert(n);
                    smallest = smallest.or(Some(v));
                }
            }
        }
        if senders.len() > self.config.f() {
            if let Some(target) = smallest {
                self.start_view_change(target);
                return;
            }
        }
        self.try_new_view();
    }

    /// As the primary of the view being changed to: with enough view changes, send the
    /// new view and install it.
    fn try_new_view(&mut self) {
        let view = self.state.view;
        if self.state.installed || !self.is_primary() {
            return;
        }
        let Some(vcs) = self.view_changes.get(&view) else {
            return;
        };
        let need = self.config.new_view_quorum();
        if vcs.len() < need {
            return;
        }
        // Its own first, then by id.
        let mut chosen: Vec<ViewChange> = vcs
            .iter()
            .find(|vc| vc.from == self.id)
            .cloned()
            .into_iter()
            .collect();
        chosen.extend(
            vcs.iter()
                .filter(|vc| vc.from != self.id)
                .take(need - chosen.len())
                .cloned(),
        );
        let proposals = self.config.proposals(&chosen);
        let nv = NewView {
            view,
            view_changes: chosen,
            proposals,
        };
        self.broadcast(Msg::NewView(nv.clone()));
        self.install(nv);
    }

    fn on_new_view(&mut self, nv: NewView) {
        let view = self.state.view;
        if nv.view < view || (nv.view == view && self.state.installed) {
            return;
        }
        if nv.view > view.saturating_add(VIEWS_AHEAD_MAX) || !self.config.valid_new_view(&nv) {
            return;
        }
        self.install(nv);
    }

    fn install(&mut self, nv: NewView) {
        let view = nv.view;
        self.state.view = view;
        self.state.installed = true;
        self.dirty = true;
        self.assigned.clear();
        self.prepares.retain(|_, t| t.view >= view);
        self.commits.retain(|_, t| t.view >= view);
        self.view_changes = self.view_changes.split_off(&view.saturating_add(1));
        self.event(PbftEvent::NewViewInstalled { view });
        for (i, request) in nv.proposals.iter().enumerate() {
            let seq = i as u64 + 1;
            if let Some(r) = request {
                self.event(PbftEvent::Carried {
                    view,
                    seq,
                    request: r.clone(),
                });
            }
            // The new view is the primary's pre-prepare of each; every replica,
            // primary included, prepares it.
            let digest = self.config.digest(view, seq, request);
            if let Some(r) = request {
                self.assigned.insert(r.clone(), seq);
                self.watch(r.clone());
            }
            self.slot(seq).accepted = Some(Accepted {
                view,
                request: request.clone(),
            });
            self.prepare(view, seq, digest);
        }
        self.next_seq = nv.proposals.len() as u64 + 1;
        self.new_view = Some(nv);
        if self.is_primary() {
            let waiting: Vec<Value> = self.pending.iter().cloned().collect();
            for r in waiting {
                self.propose(r);
            }
        }
        if self.pending.is_empty() {
            self.disarm();
        } else {
            self.arm();
        }
        let early = std::mem::take(&mut self.early);
        for (from, msg) in early {
            self.on_pre_prepare(from, msg);
        }
    }

    // ---- catch-up -------------------------------------------------------------------

    fn on_status(&mut self, from: NodeId, view: u64, executed: u64) {
        let last = self
            .state
            .executed_seq
            .min(executed.saturating_add(CATCH_UP_MAX));
        for seq in executed.saturating_add(1)..=last {
            if let Some(cert) = self.state.log.get(&seq).and_then(|s| s.committed.clone()) {
                self.send(
                    from,
                    Msg::Committed {
                        view: cert.view,
                        seq,
                        request: cert.request,
                        votes: cert.votes,
                    },
                );
            }
        }
        if view < self.state.view && self.state.installed {
            if let Some(nv) = self.new_view.clone() {
                self.send(from, Msg::NewView(nv));
            }
        }
    }

    fn on_committed(&mut self, view: u64, seq: u64, request: Option<Value>, votes: Vec<Vote>) {
        if seq == 0 || seq > self.state.executed_seq.saturating_add(WINDOW) {
            return;
        }
        if self
            .state
            .log
            .get(&seq)
            .is_some_and(|s| s.committed.is_some())
        {
            return;
        }
        if !self.config.signed_request(&request) {
            return;
        }
        let digest = self.config.digest(view, seq, &request);
        if !self
            .config
            .is_quorum(&votes, Signed::Commit { view, seq, digest })
        {
            return;
        }
        self.commit(Certificate {
            view,
            seq,
            request,
            votes,
        });
    }

    // ---- start and timers -----------------------------------------------------------

    fn on_start(&mut self, recovered: Option<PbftState>) {
        if self.is_client() {
            return;
        }
        if let Some(state) = recovered {
            self.state = state;
        }
        self.next_seq = self
            .state
            .log
            .keys()
            .next_back()
            .map_or(1, |s| s.saturating_add(1));
        let view = self.state.view;
        for (&seq, slot) in &self.state.log {
            if let Some(Accepted {
                view: v,
                request: Some(r),
            }) = &slot.accepted
            {
                if *v == view {
                    self.assigned.insert(r.clone(), seq);
                }
            }
        }
        self.effects.push(CoreOutput::SetTimer {
            timer: Timer::Status,
            delay_ms_min: self.config.timing.status_ms,
            delay_ms_max: self.config.timing.status_ms,
        });
        if !self.state.installed {
            self.send_view_change();
        }
    }

    fn on_timer(&mut self, timer: Timer) {
        match timer {
            Timer::View { token } => {
                if token != self.timer_token || !self.timer_armed {
                    return;
                }
                self.timer_armed = false;
                if self.state.installed && self.pending.is_empty() {
                    return;
                }
                // Views are bounded at decode (`msg::COUNTER_MAX`), so this never runs
                // out in practice; a replica at the last view stays in it.
                if let Some(next) = self.state.view.checked_add(1) {
                    self.start_view_change(next);
                }
            }
            Timer::Status => {
                self.broadcast(Msg::Status {
                    view: self.state.view,
                    executed: self.state.executed_seq,
                });
                // A view change may have been lost: say it again while it waits.
                if !self.state.installed {
                    let own = self
                        .view_changes
                        .get(&self.state.view)
                        .and_then(|vcs| vcs.iter().find(|vc| vc.from == self.id))
                        .cloned();
                    if let Some(vc) = own {
                        self.broadcast(Msg::ViewChange(vc));
                    }
                }
                self.effects.push(CoreOutput::SetTimer {
                    timer: Timer::Status,
                    delay_ms_min: self.config.timing.status_ms,
                    delay_ms_max: self.config.timing.status_ms,
                });
            }
            Timer::Retry => {
                let Some(request) = self.client.clone() else {
                    return;
                };
                if self.answered {
                    return;
                }
                self.send_request(request);
            }
        }
    }

    /// Ask for `request` (a client's first try or a retry): to every replica, to this
    /// replica's own ordering if it is one, and again after the retry timeout unless
    /// `f + 1` matching replies answer it first.
    fn send_request(&mut self, request: Value) {
        self.broadcast(Msg::Request {
            request: request.clone(),
        });
        if !self.is_client() {
            self.on_request(request);
        }
        self.effects.push(CoreOutput::SetTimer {
            timer: Timer::Retry,
            delay_ms_min: self.config.timing.retry_ms,
            delay_ms_max: self.config.timing.retry_ms,
        });
    }
}

impl Core for Replica {
    type Msg = Msg;
    type State = PbftState;
    type Event = PbftEvent;
    type Timer = Timer;
    type Entry = crate::protocol::NoLog;

    /// A new view carries a quorum of view changes, each with every prepared
    /// certificate: up to 10 replicas and a scenario's requests fit in one datagram.
    const MESSAGE_BYTES_MAX: usize = crate::protocol::MESSAGE_BYTES_LIMIT;

    fn msg_kind(msg: &Msg) -> &'static str {
        msg.kind()
    }

    /// For guided search: starting a view change binds the replica (a vote); a commit
    /// certificate (which follows the prepared certificate in the same step), an
    /// installed new view and a proxy's `f + 1` matching replies are quorums. A crash
    /// right after a commit certificate loses what was written since the last fsync;
    /// a partition or a duplicate right around a view change is the race its quorum
    /// arithmetic must survive.
    fn moment(event: &PbftEvent) -> Option<crate::protocol::Moment> {
        use crate::protocol::Moment;
        match event {
            PbftEvent::ViewChangeStarted { .. } => Some(Moment::Vote),
            PbftEvent::Committed { .. }
            | PbftEvent::NewViewInstalled { .. }
            | PbftEvent::Answered { .. } => Some(Moment::Quorum),
            PbftEvent::Carried { .. } | PbftEvent::Executed { .. } => None,
        }
    }

    /// ByzzFuzz's small scope, signed with this replica's own key only: a
    /// pre-prepare at sequence number + 1, of another request, or for view + 1; a vote
    /// for sequence number + 1, a garbled digest or another seen request (equivocation);
    /// a view change that hides its
    /// prepared certificates, or carries a forged one (votes it names but cannot sign); and, from any message, a pre-prepare this replica has no
    /// right to send (the next sequence number of its view, another request), as a
    /// replica that acts as primary when it is not.
    fn mutations(&self, msg: &Msg) -> Vec<Msg> {
        let c = &self.config;
        // Only requests this replica has seen carry their clients' signatures: a
        // faulty replica can reorder and repeat those, never make up one.
        let known: BTreeSet<&Value> = self
            .pending
            .iter()
            .chain(self.state.executed.iter().map(|(_, r)| r))
            .chain(
                self.state
                    .log
                    .values()
                    .filter_map(|s| s.accepted.as_ref()?.request.as_ref()),
            )
            .collect();
        let other = |r: &Option<Value>| {
            known
                .iter()
                .find(|k| r.as_ref() != Some(**k))
                .map(|k| (*k).clone())
                .or_else(|| r.clone())
        };
        let pre_prepare = |view: u64, seq: u64, request: Option<Value>| {
            let digest = c.digest(view, seq, &request);
            let sig = c.keys.sign(self.id, Signed::Prepare { view, seq, digest });
            Msg::PrePrepare {
                view,
                seq,
                request,
                digest,
                sig,
            }
        };
        let vote = |commit: bool, view: u64, seq: u64, digest: Digest| {
            let sig = c
                .keys
                .sign(self.id, Self::vote_on(commit, view, seq, digest));
            Msg::vote(commit, view, seq, digest, sig)
        };
        let pending = self.pending.iter().next().cloned();
        let rogue = pre_prepare(
            self.state.view,
            self.next_seq.max(self.state.executed_seq.saturating_add(1)),
            other(&pending).or(pending),
        );
        // A vote for another seen request at the same view and sequence number: the
        // equivocating vote that goes with a conflicting pre-prepare.
        let accepted = |seq: u64| {
            self.state
                .log
                .get(&seq)
                .and_then(|s| s.accepted.as_ref())
                .and_then(|a| a.request.clone())
        };
        let other_digest =
            |view: u64, seq: u64| c.digest(view, seq, &other(&accepted(seq)).or(accepted(seq)));
        match msg {
            Msg::PrePrepare {
                view, seq, request, ..
            } => vec![
                pre_prepare(*view, seq.saturating_add(1), request.clone()),
                pre_prepare(*view, *seq, other(request)),
                pre_prepare(view.saturating_add(1), *seq, request.clone()),
            ],
            Msg::Prepare {
                view, seq, digest, ..
            } => vec![
                vote(false, *view, seq.saturating_add(1), *digest),
                vote(false, *view, *seq, digest ^ 1),
                rogue,
                vote(false, *view, *seq, other_digest(*view, *seq)),
            ],
            Msg::Commit {
                view, seq, digest, ..
            } => vec![
                vote(true, *view, seq.saturating_add(1), *digest),
                vote(true, *view, *seq, digest ^ 1),
                rogue,
                vote(true, *view, *seq, other_digest(*view, *seq)),
            ],
            Msg::ViewChange(vc) => {
                let sig = c.keys.sign(self.id, ViewChange::signed(vc.view, &[]));
                // A forged certificate: another seen request "prepared" at the last
                // sequence number this replica executed (or the first), in the view
                // before, with a vote named for every replica, each signed with this
                // replica's own key (the only one it has).
                let seq = self.state.executed_seq.max(1);
                let request = other(&accepted(seq))
                    .or(accepted(seq))
                    .or_else(|| self.pending.iter().next().cloned());
                let view = vc.view.saturating_sub(1);
                let what = Signed::Prepare {
                    view,
                    seq,
                    digest: c.digest(view, seq, &request),
                };
                let forged = Certificate {
                    view,
                    seq,
                    request,
                    votes: c
                        .members
                        .iter()
                        .map(|&node| Vote {
                            node,
                            sig: c.keys.sign(self.id, what),
                        })
                        .collect(),
                };
                let prepared = vec![forged];
                let forged_sig = c.keys.sign(self.id, ViewChange::signed(vc.view, &prepared));
                vec![
                    Msg::ViewChange(ViewChange {
                        view: vc.view,
                        from: vc.from,
                        prepared: Vec::new(),
                        sig,
                    }),
                    rogue,
                    Msg::ViewChange(ViewChange {
                        view: vc.view,
                        from: vc.from,
                        prepared,
                        sig: forged_sig,
                    }),
                ]
            }
            _ => vec![rogue],
        }
    }

    /// JSON, and then every view and sequence number within `msg::COUNTER_MAX`: a
    /// counter a replica could not step past is malformed, so it never reaches the core (the
    /// shell counts and drops it), as Paxos bounds its ballot rounds.
    fn decode_msg(bytes: &[u8]) -> Result<Msg, String> {
        let msg: Msg = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        msg.counters_within_bound()?;
        Ok(msg)
    }

    fn observe(event: &PbftEvent) -> Option<Observation> {
        match event {
            PbftEvent::Executed { slot, request, .. } => Some(Observation::SlotDecided {
                slot: *slot,
                value: request.clone(),
            }),
            // What real mode's `propose` waits for: f + 1 matching replies.
            PbftEvent::Answered { request, .. } => Some(Observation::Answered(request.clone())),
            _ => None,
        }
    }

    /// Every change of the durable state is persisted (fsynced) ahead of the outputs
    /// of the step that made it, so no vote leaves before what it promises is on disk.
    fn step(
        &mut self,
        _cx: &mut Context<'_>,
        input: CoreInput<Self>,
        out: &mut Vec<CoreOutput<Self>>,
    ) {
        self.dirty = false;
        self.unsynced = false;
        match input {
            CoreInput::Start { recovered, .. } => self.on_start(recovered),
            CoreInput::ClientRequest { value } => {
                self.client = Some(value.clone());
                self.answered = false;
                self.replies.clear();
                self.send_request(value);
            }
            CoreInput::Receive { from, msg } => {
                if self.is_client() {
                    // A client node hears only its replies, from replicas.
                    if let (true, Msg::Reply { seq, request }) =
                        (self.config.members.contains(&from), msg)
                    {
                        self.on_reply(from, seq, request);
                    }
                } else if self.config.members.contains(&from) && from != self.id {
                    self.on_message(from, msg);
                } else if self.config.clients.contains(&from) {
                    // A replica hears only requests from a client node.
                    if let Msg::Request { request } = msg {
                        self.on_client_request(from, request);
                    }
                }
            }
            CoreInput::TimerFired { timer } => self.on_timer(timer),
        }
        if self.dirty {
            let state = self.state.clone();
            out.push(if self.unsynced {
                CoreOutput::PersistUnsynced(state)
            } else {
                CoreOutput::Persist(state)
            });
        }
        out.append(&mut self.effects);
    }
}

impl Replica {
    fn on_message(&mut self, from: NodeId, msg: Msg) {
        if self.strategy == Some(Strategy::EquivocatingPrimary) {
            self.back_every_side(from, &msg);
        }
        match msg {
            Msg::Request { request } => self.on_request(request),
            pp @ Msg::PrePrepare { .. } => self.on_pre_prepare(from, pp),
            Msg::Prepare {
                view,
                seq,
                digest,
                sig,
            } => self.on_vote(from, false, view, seq, digest, sig),
            Msg::Commit {
                view,
                seq,
                digest,
                sig,
            } => self.on_vote(from, true, view, seq, digest, sig),
            Msg::Reply { seq, request } => self.on_reply(from, seq, request),
            Msg::ViewChange(vc) => self.on_view_change(from, vc),
            Msg::NewView(nv) => self.on_new_view(nv),
            Msg::Status { view, executed } => self.on_status(from, view, executed),
            Msg::Committed {
                view,
                seq,
                request,
                votes,
            } => self.on_committed(view, seq, request, votes),
        }
    }
}
