//! PBFT's planted bugs: classic mistakes of PBFT implementations, compiled in, off by
//! default, switched on by a scenario's `bugs` list. Each lives where such a bug would
//! really be (`replica.rs` names them where they act).

use crate::protocol::{planted_bug_table, BugSet, PlantedBug, PlantedBugKind};

/// One planted bug.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bug {
    /// Certificates need `2f` votes instead of `2f + 1`: two quorums may share only a
    /// faulty replica, or none that remembers.
    Quorum2f,
    /// The digest covers the request alone, not (view, seq): votes for one request at
    /// different sequence numbers count together (ByzzFuzz's PBFT-Java bug).
    DigestNotBound,
    /// A backup accepts a pre-prepare from a replica that is not the view's primary.
    AcceptsNonPrimary,
    /// The new view re-proposes nothing: the prepared certificates in the view changes
    /// are ignored, and the new primary orders pending requests from sequence 1.
    IgnoresCertificates,
    /// A new view is sent and accepted without counting its view changes: the new
    /// primary sends it on its own view change alone. (With `f + 1` honest view changes
    /// a new view would still meet every commit quorum: only a count below that can
    /// lose a committed request without Byzantine replicas.)
    NewViewWithoutQuorum,
    /// Votes and view changes are counted by message, not by sender: a duplicated
    /// datagram counts twice toward a certificate or a new view.
    DuplicateVotes,
    /// The write of a new prepared certificate is not fsynced: a crash right after it
    /// forgets the certificate the commit it sent promised.
    PreparedNotPersisted,
    /// A replica replies to the client as soon as it accepts the pre-prepare, before
    /// the request is prepared or committed.
    ReplyBeforeCommit,
    /// The view-change timeout never grows: when a view change takes longer than the
    /// timeout, the replicas move on before any new view completes.
    TimerNeverGrows,
    /// Votes in certificates, and the signatures of view changes inside a new view,
    /// are counted without checking them: a faulty replica's certificate that names
    /// other replicas' votes it could not sign passes.
    SignaturesNotChecked,
}

impl Bug {
    pub const ALL: [Bug; 10] = [
        Bug::Quorum2f,
        Bug::DigestNotBound,
        Bug::AcceptsNonPrimary,
        Bug::IgnoresCertificates,
        Bug::NewViewWithoutQuorum,
        Bug::DuplicateVotes,
        Bug::PreparedNotPersisted,
        Bug::ReplyBeforeCommit,
        Bug::TimerNeverGrows,
        Bug::SignaturesNotChecked,
    ];

    pub const fn planted(self) -> PlantedBug {
        let (name, description) = match self {
            Bug::Quorum2f => ("quorum_2f", "certificates need 2f votes, not 2f + 1"),
            Bug::DigestNotBound => (
                "digest_not_bound",
                "the digest covers the request but not (view, seq)",
            ),
            Bug::AcceptsNonPrimary => (
                "accepts_non_primary",
                "a backup accepts a pre-prepare from a replica that is not the primary",
            ),
            Bug::IgnoresCertificates => (
                "ignores_certificates",
                "a new primary ignores the prepared certificates in view changes",
            ),
            Bug::NewViewWithoutQuorum => (
                "new_view_without_quorum",
                "a new view is sent and accepted without counting its view changes",
            ),
            Bug::DuplicateVotes => (
                "duplicate_votes",
                "votes and view changes are counted by message, not by sender",
            ),
            Bug::PreparedNotPersisted => (
                "prepared_not_persisted",
                "a new prepared certificate is written without fsync",
            ),
            Bug::ReplyBeforeCommit => (
                "reply_before_commit",
                "a replica replies when it accepts the pre-prepare, before commit",
            ),
            Bug::TimerNeverGrows => ("timer_never_grows", "the view-change timeout never doubles"),
            Bug::SignaturesNotChecked => (
                "signatures_not_checked",
                "votes in certificates and view changes are counted without checking signatures",
            ),
        };
        PlantedBug { name, description }
    }
}

/// The catalog, in [`Bug::ALL`]'s order.
pub static BUGS: [PlantedBug; 10] = planted_bug_table!(Bug, 10);

impl PlantedBugKind for Bug {
    const ALL: &'static [Bug] = &Bug::ALL;
    fn planted(self) -> PlantedBug {
        Bug::planted(self)
    }
}

/// The bugs switched on for a run.
pub type Bugs = BugSet<Bug>;
