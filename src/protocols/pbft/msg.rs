//! PBFT's messages, digests and signatures.
//!
//! **Authentication in simulation.** Two rules stand in for PBFT's MACs and signatures:
//!
//! 1. *Channels are authenticated.* A receiver trusts the sender id of the envelope
//!    (`CoreInput::Receive::from`): the harness writes it from the sending node's id
//!    and the fault layer never rewrites it (it drops, duplicates and delays datagrams;
//!    it does not forge them). That is PBFT's point-to-point MAC.
//! 2. *Certificates are signed.* What one replica hands on for another (a prepare or
//!    commit inside a certificate, a view change inside a new view) carries a
//!    [`Sig`]: a keyed FNV-1a hash of the signed fields under the signer's key. A
//!    replica's key is derived from the run's seed and its id ([`Keys`]), so every
//!    core *could* compute every key; the rule that keeps this sound is that a core
//!    signs only as itself ([`Keys::sign`] takes the core's own id), and nothing
//!    else in the harness signs. So nothing a faulty node does can produce an honest
//!    node's signature, and a certificate is believed only with enough valid ones.
//!
//! Client requests are *signed by their clients*: a replica accepts a request only if
//! it is one the scenario's clients issue (the workload: the clients' public keys, in
//! effect). A request made up by a faulty replica fails that check.
//!
//! **Digests** bind the view, the sequence number and the request
//! ([`digest`]): votes are tallied by digest, so a prepare for one (view, seq) never
//! counts for another.

use crate::ids::NodeId;
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A digest of (view, seq, request).
pub type Digest = u64;

/// A signature: the keyed hash of the signed fields under the signer's key.
pub type Sig = u64;

/// One signer's vote inside a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    pub node: NodeId,
    pub sig: Sig,
}

/// FNV-1a over 64-bit words, hand-rolled so it never changes with a Rust release.
fn fnv(words: &[u64]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for w in words {
        for b in w.to_le_bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// FNV-1a of a request (`None`, the null request of a new view, hashes to a fixed word).
fn request_hash(request: &Option<Value>) -> u64 {
    match request {
        None => 0x6e75_6c6c,
        Some(value) => {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for b in value.as_str().bytes() {
                h ^= b as u64;
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
            h
        }
    }
}

/// The digest of a request proposed for `seq` in `view`. `bound` false is the planted
/// bug `digest_not_bound`: the digest of the request alone, so votes for one request at
/// different (view, seq) count together.
pub fn digest(view: u64, seq: u64, request: &Option<Value>, bound: bool) -> Digest {
    if bound {
        fnv(&[view, seq, request_hash(request)])
    } else {
        fnv(&[request_hash(request)])
    }
}

/// What a signature covers: a kind tag and the fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signed {
    /// A prepare (or the primary's pre-prepare, which counts as its prepare).
    Prepare {
        view: u64,
        seq: u64,
        digest: Digest,
    },
    Commit {
        view: u64,
        seq: u64,
        digest: Digest,
    },
    /// A view change, over its view and a hash of its certificates.
    ViewChange {
        view: u64,
        content: u64,
    },
}

impl Signed {
    fn words(self) -> [u64; 4] {
        match self {
            Signed::Prepare { view, seq, digest } => [1, view, seq, digest],
            Signed::Commit { view, seq, digest } => [2, view, seq, digest],
            Signed::ViewChange { view, content } => [3, view, content, 0],
        }
    }
}

/// The replicas' keys in one run: derived from the run's seed. See the module docs
/// for the rule that makes this a signature scheme in simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keys {
    seed: u64,
}

impl Keys {
    pub fn new(seed: u64) -> Self {
        Keys { seed }
    }

    fn key(self, node: NodeId) -> u64 {
        fnv(&[self.seed, 0x5042_4654, node.0 as u64])
    }

    /// `me`'s signature on `what`. A core calls this with its own id only.
    pub fn sign(self, me: NodeId, what: Signed) -> Sig {
        let w = what.words();
        fnv(&[self.key(me), w[0], w[1], w[2], w[3]])
    }

    /// Whether `vote` is `vote.node`'s signature on `what`.
    pub fn verify(self, vote: Vote, what: Signed) -> bool {
        self.sign(vote.node, what) == vote.sig
    }
}

/// A prepared certificate: the request was pre-prepared for `seq` in `view` and a
/// quorum signed prepares for it (the primary's pre-prepare counts as its prepare).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    pub view: u64,
    pub seq: u64,
    /// `None`: the null request a new view put in a gap.
    pub request: Option<Value>,
    pub votes: Vec<Vote>,
}

/// A view change: "I move to `view`; these are my prepared certificates".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewChange {
    pub view: u64,
    pub from: NodeId,
    pub prepared: Vec<Certificate>,
    pub sig: Sig,
}

impl ViewChange {
    /// What the sender signs: the view and a hash of every certificate's fields.
    pub fn signed(view: u64, prepared: &[Certificate]) -> Signed {
        let mut words = Vec::with_capacity(prepared.len() * 3);
        for c in prepared {
            words.extend([c.view, c.seq, request_hash(&c.request)]);
        }
        Signed::ViewChange {
            view,
            content: fnv(&words),
        }
    }
}

/// A new view: the view changes it rests on and the requests it re-proposes, one per
/// sequence number from 1 (`None`: a null request filling a gap).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewView {
    pub view: u64,
    pub view_changes: Vec<ViewChange>,
    pub proposals: Vec<Option<Value>>,
}

/// PBFT's messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Msg {
    /// A client's request, forwarded by the replica the client asked (its proxy) to
    /// every replica.
    Request {
        request: Value,
    },
    /// The primary orders `request` at `seq` in `view`; `sig` is its prepare vote.
    PrePrepare {
        view: u64,
        seq: u64,
        request: Option<Value>,
        digest: Digest,
        sig: Sig,
    },
    Prepare {
        view: u64,
        seq: u64,
        digest: Digest,
        sig: Sig,
    },
    Commit {
        view: u64,
        seq: u64,
        digest: Digest,
        sig: Sig,
    },
    /// To the proxy: `request` was executed at `seq`.
    Reply {
        seq: u64,
        request: Value,
    },
    ViewChange(ViewChange),
    NewView(NewView),
    /// A heartbeat: the sender's view and the last sequence number it executed, so a
    /// replica that missed messages can be sent what it lacks.
    Status {
        view: u64,
        executed: u64,
    },
    /// Catch-up: `request` committed at `seq` in `view`, with a quorum of signed commits.
    Committed {
        view: u64,
        seq: u64,
        request: Option<Value>,
        votes: Vec<Vote>,
    },
}

/// The highest view or sequence number a message may carry. A replica adds small
/// numbers to these counters (`view + 1`, a window of sequence numbers ahead), so a
/// counter near `u64::MAX` from the wire could overflow; the decoder refuses one over
/// this bound as malformed ([`Msg::counters_within_bound`]), and the replica's
/// arithmetic on them is checked as well. 2^62 views is more than any run reaches.
pub const COUNTER_MAX: u64 = 1 << 62;

impl Certificate {
    fn counters_within_bound(&self) -> Result<(), String> {
        bounded("certificate view", self.view)?;
        bounded("certificate sequence number", self.seq)
    }
}

impl ViewChange {
    fn counters_within_bound(&self) -> Result<(), String> {
        bounded("view change view", self.view)?;
        self.prepared
            .iter()
            .try_for_each(Certificate::counters_within_bound)
    }
}

/// `Err` naming `what` if `n` is over [`COUNTER_MAX`].
fn bounded(what: &str, n: u64) -> Result<(), String> {
    if n > COUNTER_MAX {
        Err(format!("{what} {n} is over the highest, {COUNTER_MAX}"))
    } else {
        Ok(())
    }
}

/// The labels of [`Msg`]'s kinds, which targeted faults name.
pub const KINDS: [&str; 9] = [
    "request",
    "pre_prepare",
    "prepare",
    "commit",
    "reply",
    "view_change",
    "new_view",
    "status",
    "committed",
];

impl Msg {
    /// A prepare (or, with `commit`, a commit) vote for (view, seq, digest) signed
    /// `sig`: the message a replica's own vote goes out as.
    pub fn vote(commit: bool, view: u64, seq: u64, digest: Digest, sig: Sig) -> Msg {
        if commit {
            Msg::Commit {
                view,
                seq,
                digest,
                sig,
            }
        } else {
            Msg::Prepare {
                view,
                seq,
                digest,
                sig,
            }
        }
    }

    /// Whether every view and sequence number in the message, nested ones included,
    /// is within [`COUNTER_MAX`]; the error names the first that is not.
    pub fn counters_within_bound(&self) -> Result<(), String> {
        match self {
            Msg::Request { .. } => Ok(()),
            Msg::PrePrepare { view, seq, .. }
            | Msg::Prepare { view, seq, .. }
            | Msg::Commit { view, seq, .. }
            | Msg::Committed { view, seq, .. } => {
                bounded("view", *view)?;
                bounded("sequence number", *seq)
            }
            Msg::Reply { seq, .. } => bounded("sequence number", *seq),
            Msg::ViewChange(vc) => vc.counters_within_bound(),
            Msg::NewView(nv) => {
                bounded("new view view", nv.view)?;
                nv.view_changes
                    .iter()
                    .try_for_each(ViewChange::counters_within_bound)
            }
            Msg::Status { view, executed } => {
                bounded("view", *view)?;
                bounded("executed sequence number", *executed)
            }
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Msg::Request { .. } => KINDS[0],
            Msg::PrePrepare { .. } => KINDS[1],
            Msg::Prepare { .. } => KINDS[2],
            Msg::Commit { .. } => KINDS[3],
            Msg::Reply { .. } => KINDS[4],
            Msg::ViewChange(_) => KINDS[5],
            Msg::NewView(_) => KINDS[6],
            Msg::Status { .. } => KINDS[7],
            Msg::Committed { .. } => KINDS[8],
        }
    }
}

/// `Value_A`, or `null`.
pub struct Show<'a>(pub &'a Option<Value>);

impl fmt::Display for Show<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(v) => write!(f, "{v}"),
            None => f.write_str("null"),
        }
    }
}

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Msg::Request { request } => write!(f, "Request({request})"),
            Msg::PrePrepare {
                view, seq, request, ..
            } => write!(f, "PrePrepare(v={view}, n={seq}, {})", Show(request)),
            Msg::Prepare {
                view, seq, digest, ..
            } => write!(f, "Prepare(v={view}, n={seq}, d={:04x})", digest & 0xffff),
            Msg::Commit {
                view, seq, digest, ..
            } => write!(f, "Commit(v={view}, n={seq}, d={:04x})", digest & 0xffff),
            Msg::Reply { seq, request } => write!(f, "Reply(n={seq}, {request})"),
            Msg::ViewChange(vc) => {
                write!(f, "ViewChange(v={}, prepared=[", vc.view)?;
                for (i, c) in vc.prepared.iter().enumerate() {
                    let sep = if i == 0 { "" } else { " " };
                    write!(f, "{sep}{}@{}:{}", c.seq, c.view, Show(&c.request))?;
                }
                f.write_str("])")
            }
            Msg::NewView(nv) => {
                let from: Vec<String> =
                    nv.view_changes.iter().map(|v| v.from.to_string()).collect();
                let o: Vec<String> = nv.proposals.iter().map(|r| Show(r).to_string()).collect();
                write!(
                    f,
                    "NewView(v={}, from=[{}], O=[{}])",
                    nv.view,
                    from.join(","),
                    o.join(" ")
                )
            }
            Msg::Status { view, executed } => write!(f, "Status(v={view}, exec={executed})"),
            Msg::Committed {
                view, seq, request, ..
            } => write!(f, "Committed(v={view}, n={seq}, {})", Show(request)),
        }
    }
}
