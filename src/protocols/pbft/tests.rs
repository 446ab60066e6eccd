//! PBFT's rules on the bare core (a tiny in-test network that delivers what the
//! replicas send, in order, and fires timers when told), its judges on hand-made
//! histories, and its scenarios in both lanes.

use super::bugs::Bug;
use super::check::{commit_agreement, reply_holds};
use super::msg::{digest, Certificate, Keys, Msg, NewView, Signed, ViewChange, Vote};
use super::*;
use crate::check::judge;
use crate::fault::{generate_scenario, FaultSchedule};
use crate::history::History;
use crate::protocol::{prepare, Core, CoreInput, CoreOutput, Observation};
use crate::sim::{run_setup, Lane, RunEnd};
use std::collections::VecDeque;

fn n(i: u16) -> NodeId {
    NodeId(i)
}

fn v(s: &str) -> Value {
    Value::new(s)
}

fn config(count: u16, requests: &[(&str, u16)], bugs: &[Bug]) -> Arc<Config> {
    Arc::new(Config {
        members: (1..=count).map(NodeId).collect(),
        keys: Keys::new(7),
        timing: Timing::default(),
        requests: requests.iter().map(|&(r, p)| (v(r), n(p))).collect(),
        clients: BTreeSet::new(),
        bugs: bugs.iter().copied().collect(),
    })
}

/// A cluster of bare replicas and the datagrams between them, delivered in send order.
struct Net {
    replicas: Vec<Replica>,
    queue: VecDeque<(NodeId, NodeId, Msg)>,
    /// Replicas whose datagrams (to and from) are lost.
    down: BTreeSet<NodeId>,
    /// Each replica's view timers still waiting, newest last.
    timers: BTreeMap<NodeId, Vec<Timer>>,
    events: Vec<(NodeId, PbftEvent)>,
    persisted: BTreeMap<NodeId, PbftState>,
}

impl Net {
    fn new(config: Arc<Config>) -> Net {
        let mut net = Net {
            replicas: config
                .members
                .iter()
                .map(|&id| Replica::new(id, Arc::clone(&config)))
                .collect(),
            queue: VecDeque::new(),
            down: BTreeSet::new(),
            timers: BTreeMap::new(),
            events: Vec::new(),
            persisted: BTreeMap::new(),
        };
        for i in 0..net.replicas.len() {
            net.input(n(i as u16 + 1), CoreInput::start(None));
        }
        net
    }

    fn input(&mut self, id: NodeId, input: CoreInput<Replica>) {
        let mut out = Vec::new();
        let mut rng = crate::rng::stream_rng(0, crate::rng::Stream::Scenario);
        let mut cx = crate::protocol::Context {
            now_ms: 0,
            rng: &mut rng,
        };
        self.replicas[id.0 as usize - 1].step(&mut cx, input, &mut out);
        for o in out {
            match o {
                CoreOutput::Send { to, msg } => {
                    if !self.down.contains(&id) && !self.down.contains(&to) {
                        self.queue.push_back((id, to, msg));
                    }
                }
                CoreOutput::Persist(s) | CoreOutput::PersistUnsynced(s) => {
                    self.persisted.insert(id, s);
                }
                CoreOutput::SetTimer { timer, .. } => {
                    if matches!(timer, Timer::View { .. }) {
                        self.timers.entry(id).or_default().push(timer);
                    }
                }
                CoreOutput::Event(e) => self.events.push((id, e)),
                _ => unreachable!("PBFT keeps no log"),
            }
        }
    }

    /// Deliver every datagram, including those sent while delivering.
    fn settle(&mut self) {
        let mut delivered = 0;
        while let Some((from, to, msg)) = self.queue.pop_front() {
            delivered += 1;
            assert!(delivered < 100_000, "the cluster never quiets");
            if !self.down.contains(&to) {
                self.input(to, CoreInput::Receive { from, msg });
            }
        }
    }

    /// Fire the newest view timer of every replica that is up.
    fn fire_view_timers(&mut self) {
        let ids: Vec<NodeId> = self.timers.keys().copied().collect();
        for id in ids {
            if self.down.contains(&id) {
                continue;
            }
            if let Some(timer) = self.timers.get_mut(&id).and_then(|t| t.pop()) {
                self.input(id, CoreInput::TimerFired { timer });
            }
        }
    }

    fn executed(&self, id: u16) -> Vec<Value> {
        self.replicas[id as usize - 1]
            .state()
            .executed
            .iter()
            .map(|(_, r)| r.clone())
            .collect()
    }

    fn count(&self, f: impl Fn(&PbftEvent) -> bool) -> usize {
        self.events.iter().filter(|(_, e)| f(e)).count()
    }
}

/// Quorums are 2f + 1 for n = 3f + 1 (3, 5, 7 for 4, 7, 10 replicas), large enough for
/// f + 1 in common otherwise (4 of 5), and one short with `quorum_2f`.
#[test]
fn quorums_are_two_f_plus_one() {
    for (count, f, q) in [(4, 1, 3), (7, 2, 5), (10, 3, 7), (5, 1, 4), (6, 1, 4)] {
        let c = config(count, &[], &[]);
        assert_eq!((c.f(), c.quorum()), (f, q), "n = {count}");
        assert_eq!(c.new_view_quorum(), q);
    }
    let c = config(4, &[], &[Bug::Quorum2f]);
    assert_eq!(c.quorum(), 2);
    let c = config(7, &[], &[Bug::NewViewWithoutQuorum]);
    assert_eq!((c.quorum(), c.new_view_quorum()), (5, 1));
}

/// The digest binds view, sequence number and request; `digest_not_bound` binds the
/// request only. A signature verifies for its signer and fields only.
#[test]
fn digests_bind_and_signatures_belong_to_their_signer() {
    let a = Some(v("A"));
    let d = digest(0, 1, &a, true);
    assert_ne!(d, digest(1, 1, &a, true));
    assert_ne!(d, digest(0, 2, &a, true));
    assert_ne!(d, digest(0, 1, &Some(v("B")), true));
    assert_ne!(d, digest(0, 1, &None, true));
    assert_eq!(digest(0, 1, &a, false), digest(5, 9, &a, false));
    let keys = Keys::new(3);
    let what = Signed::Prepare {
        view: 0,
        seq: 1,
        digest: d,
    };
    let sig = keys.sign(n(2), what);
    assert!(keys.verify(Vote { node: n(2), sig }, what));
    assert!(!keys.verify(Vote { node: n(3), sig }, what));
    let other = Signed::Commit {
        view: 0,
        seq: 1,
        digest: d,
    };
    assert!(!keys.verify(Vote { node: n(2), sig }, other));
    assert!(!Keys::new(4).verify(Vote { node: n(2), sig }, what));
}

/// Normal case: a request asked at a backup reaches the primary, is ordered, prepared,
/// committed and executed by all four replicas as slot 0, and the proxy is answered
/// at sequence number 1; each replica persisted what it executed.
#[test]
fn normal_case_executes_everywhere_and_answers() {
    let mut net = Net::new(config(4, &[("A", 3), ("B", 2)], &[]));
    net.input(n(3), CoreInput::ClientRequest { value: v("A") });
    net.settle();
    net.input(n(2), CoreInput::ClientRequest { value: v("B") });
    net.settle();
    for id in 1..=4 {
        assert_eq!(net.executed(id), vec![v("A"), v("B")], "n{id}");
        assert_eq!(net.persisted[&n(id)].executed.len(), 2);
    }
    let answered: Vec<(NodeId, u64)> = net
        .events
        .iter()
        .filter_map(|(id, e)| match e {
            PbftEvent::Answered { seq, .. } => Some((*id, *seq)),
            _ => None,
        })
        .collect();
    assert_eq!(answered, vec![(n(3), 1), (n(2), 2)]);
    assert_eq!(
        net.count(|e| matches!(e, PbftEvent::ViewChangeStarted { .. })),
        0
    );
}

/// A request a replica does not know as a client's (unsigned) is ignored.
#[test]
fn unsigned_requests_are_ignored() {
    let mut net = Net::new(config(4, &[("A", 1)], &[]));
    net.input(n(2), CoreInput::ClientRequest { value: v("Forged") });
    net.settle();
    assert!(net.executed(1).is_empty() && net.executed(2).is_empty());
}

/// The primary is down: the backups' timers fire, they change to view 1, its primary
/// (n2) sends a new view and orders the request, and the three live replicas execute it.
#[test]
fn view_change_replaces_a_dead_primary() {
    let mut net = Net::new(config(4, &[("A", 3)], &[]));
    net.down.insert(n(1));
    net.input(n(3), CoreInput::ClientRequest { value: v("A") });
    net.settle();
    assert!(net.executed(3).is_empty());
    net.fire_view_timers();
    net.settle();
    for id in 2..=4 {
        assert_eq!(net.executed(id), vec![v("A")], "n{id}");
        assert_eq!(net.replicas[id as usize - 1].state().view, 1);
    }
    assert_eq!(
        net.count(|e| matches!(e, PbftEvent::NewViewInstalled { view: 1 })),
        3
    );
}

/// A request prepared in view 0 (the commits are lost) is carried by view 1's new view
/// at the same sequence number and committed there.
#[test]
fn prepared_request_survives_the_view_change() {
    let mut net = Net::new(config(4, &[("A", 1)], &[]));
    net.input(n(1), CoreInput::ClientRequest { value: v("A") });
    // Deliver pre-prepares and prepares; drop every commit.
    while let Some((from, to, msg)) = net.queue.pop_front() {
        if !matches!(msg, Msg::Commit { .. }) {
            net.input(to, CoreInput::Receive { from, msg });
        }
    }
    assert!(net
        .replicas
        .iter()
        .all(|r| r.state().log[&1].prepared.is_some()));
    assert!(net.executed(1).is_empty());
    net.fire_view_timers();
    net.settle();
    for id in 1..=4 {
        assert_eq!(net.executed(id), vec![v("A")], "n{id}");
    }
    assert!(
        net.count(|e| matches!(
            e,
            PbftEvent::Carried {
                view: 1,
                seq: 1,
                ..
            }
        )) > 0
    );
    assert!(
        net.count(|e| matches!(
            e,
            PbftEvent::Committed {
                view: 1,
                seq: 1,
                ..
            }
        )) > 0
    );
}

fn cert(c: &Config, view: u64, seq: u64, request: Option<&str>, signers: &[u16]) -> Certificate {
    let request = request.map(v);
    let d = digest(view, seq, &request, true);
    Certificate {
        view,
        seq,
        request,
        votes: signers
            .iter()
            .map(|&s| Vote {
                node: n(s),
                sig: c.keys.sign(
                    n(s),
                    Signed::Prepare {
                        view,
                        seq,
                        digest: d,
                    },
                ),
            })
            .collect(),
    }
}

fn vc(c: &Config, view: u64, from: u16, prepared: Vec<Certificate>) -> ViewChange {
    let sig = c.keys.sign(n(from), ViewChange::signed(view, &prepared));
    ViewChange {
        view,
        from: n(from),
        prepared,
        sig,
    }
}

/// A new view re-proposes, per sequence number, the request of the highest-view
/// certificate, null in a gap, nothing past the highest; `ignores_certificates`
/// re-proposes nothing.
#[test]
fn new_view_takes_the_highest_certificate() {
    let c = config(4, &[("A", 1), ("B", 2)], &[]);
    let vcs = vec![
        vc(&c, 3, 1, vec![cert(&c, 0, 1, Some("A"), &[1, 2, 3])]),
        vc(
            &c,
            3,
            2,
            vec![
                cert(&c, 2, 1, Some("B"), &[1, 2, 3]),
                cert(&c, 1, 3, Some("A"), &[2, 3, 4]),
            ],
        ),
        vc(&c, 3, 3, vec![]),
    ];
    assert_eq!(c.proposals(&vcs), vec![Some(v("B")), None, Some(v("A"))]);
    let buggy = config(4, &[("A", 1), ("B", 2)], &[Bug::IgnoresCertificates]);
    assert!(buggy.proposals(&vcs).is_empty());
}

/// A backup installs a new view only with a quorum of valid view changes and the
/// proposals they imply: too few, a forged certificate (signers short of a quorum),
/// or other proposals are refused.
#[test]
fn bad_new_views_are_refused() {
    let c = config(4, &[("A", 1)], &[]);
    let good = vec![
        vc(&c, 1, 1, vec![]),
        vc(&c, 1, 2, vec![]),
        vc(&c, 1, 3, vec![]),
    ];
    let install = |nv: NewView| {
        let mut r = Replica::new(n(4), Arc::clone(&c));
        let mut out = Vec::new();
        let mut rng = crate::rng::stream_rng(0, crate::rng::Stream::Scenario);
        let mut cx = crate::protocol::Context {
            now_ms: 0,
            rng: &mut rng,
        };
        r.step(&mut cx, CoreInput::start(None), &mut out);
        r.step(
            &mut cx,
            CoreInput::Receive {
                from: n(2),
                msg: Msg::NewView(nv),
            },
            &mut out,
        );
        (r.state().view, r.state().installed)
    };
    let nv = |vcs: Vec<ViewChange>, proposals: Vec<Option<Value>>| NewView {
        view: 1,
        view_changes: vcs,
        proposals,
    };
    assert_eq!(install(nv(good.clone(), vec![])), (1, true));
    assert_eq!(install(nv(good[..2].to_vec(), vec![])), (0, true));
    assert_eq!(install(nv(good.clone(), vec![Some(v("A"))])), (0, true));
    let forged = vec![
        vc(&c, 1, 1, vec![cert(&c, 0, 1, Some("A"), &[1, 2])]),
        good[1].clone(),
        good[2].clone(),
    ];
    assert_eq!(install(nv(forged, vec![Some(v("A"))])), (0, true));
    let mut tampered = good.clone();
    tampered[0]
        .prepared
        .push(cert(&c, 0, 1, Some("A"), &[1, 2, 3]));
    assert_eq!(install(nv(tampered, vec![Some(v("A"))])), (0, true));
}

/// With `timer_never_grows` the view timeout stays at its base; without, it doubles
/// with each view change in a row. A replica changing view starts its timer only once
/// a quorum of view changes for that view is in.
#[test]
fn view_timeout_doubles_unless_the_bug() {
    for (bugs, expect) in [
        (vec![], vec![40, 80, 160]),
        (vec![Bug::TimerNeverGrows], vec![40, 40, 40]),
    ] {
        let c = config(4, &[("A", 2)], &bugs);
        let mut r = Replica::new(n(2), Arc::clone(&c));
        let mut rng = crate::rng::stream_rng(0, crate::rng::Stream::Scenario);
        let mut cx = crate::protocol::Context {
            now_ms: 0,
            rng: &mut rng,
        };
        let mut out = Vec::new();
        let view_timer = |out: &[CoreOutput<Replica>]| {
            out.iter().rev().find_map(|o| match o {
                CoreOutput::SetTimer {
                    timer: t @ Timer::View { .. },
                    delay_ms_min,
                    ..
                } => Some((*t, *delay_ms_min)),
                _ => None,
            })
        };
        r.step(&mut cx, CoreInput::start(None), &mut out);
        r.step(
            &mut cx,
            CoreInput::ClientRequest { value: v("A") },
            &mut out,
        );
        let mut seen = Vec::new();
        for view in 1..=3u64 {
            let (timer, ms) = view_timer(&out).expect("a view timer");
            seen.push(ms);
            out.clear();
            r.step(&mut cx, CoreInput::TimerFired { timer }, &mut out);
            if view == 3 {
                break;
            }
            assert!(
                view_timer(&out).is_none(),
                "no timer before a quorum changes view"
            );
            for from in [3, 4] {
                let msg = Msg::ViewChange(vc(&c, view, from, vec![]));
                r.step(&mut cx, CoreInput::Receive { from: n(from), msg }, &mut out);
            }
        }
        assert_eq!(seen, expect, "{bugs:?}");
    }
}

fn committed(seq: u64, request: Option<&str>) -> EventKind<Replica> {
    EventKind::Protocol(PbftEvent::Committed {
        view: 0,
        seq,
        request: request.map(v),
    })
}

/// commit_agreement fires on two honest commits of different requests at one sequence
/// number (witnessed by both) and not on equal ones; reply_holds fires when a proxy
/// was answered a request that a replica then commits otherwise at that number.
#[test]
fn pbft_judges_fire() {
    let mut h: History<Replica> = History::default();
    h.push(1, Some(n(1)), committed(1, Some("A")));
    h.push(2, Some(n(2)), committed(1, Some("A")));
    let none = BTreeSet::new();
    assert!(commit_agreement(&h, &none).is_empty());
    h.push(
        3,
        Some(n(4)),
        EventKind::Protocol(PbftEvent::Answered {
            seq: 2,
            request: v("B"),
        }),
    );
    h.push(4, Some(n(3)), committed(1, None));
    h.push(5, Some(n(3)), committed(2, Some("C")));
    let broken = commit_agreement(&h, &none);
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0].witness, vec![0, 3]);
    let wrong = reply_holds(&h, &none);
    assert_eq!(wrong.len(), 1);
    assert_eq!(wrong[0].witness, vec![2, 4]);
    // A Byzantine replica's commits are not judged.
    let byz: BTreeSet<NodeId> = [n(3)].into_iter().collect();
    assert!(commit_agreement(&h, &byz).is_empty() && reply_holds(&h, &byz).is_empty());
}

/// byzantine_primary_replaced is reached only when an honest replica leaves a view
/// whose primary is Byzantine: not for a view change away from an honest primary, not
/// for a Byzantine replica's own view change, not when nobody is Byzantine.
#[test]
fn byzantine_primary_replaced_needs_an_honest_replica_to_leave_a_byzantine_primary() {
    use super::check::byzantine_primary_replaced;
    let members: Vec<NodeId> = (1..=4).map(n).collect();
    let installed = |view| EventKind::Protocol(PbftEvent::NewViewInstalled { view });
    let byz = |ids: &[u16]| -> BTreeSet<NodeId> { ids.iter().map(|&i| n(i)).collect() };
    let mut h: History<Replica> = History::default();
    // n2 (honest) leaves view 0, whose primary is n1, for view 1 (primary n2).
    h.push(5, Some(n(2)), installed(1));
    assert!(byzantine_primary_replaced(&h, &byz(&[1]), &members));
    assert!(!byzantine_primary_replaced(&h, &byz(&[3]), &members));
    assert!(!byzantine_primary_replaced(&h, &BTreeSet::new(), &members));
    // Only the Byzantine n2 itself leaves the view of n1: not judged.
    assert!(!byzantine_primary_replaced(&h, &byz(&[1, 2]), &members));
    // n3 goes from view 1 (primary n2) to view 2: reached when n2 lies.
    h.push(6, Some(n(3)), installed(1));
    h.push(9, Some(n(3)), installed(2));
    assert!(!byzantine_primary_replaced(&h, &byz(&[3]), &members));
    assert!(byzantine_primary_replaced(&h, &byz(&[2]), &members));
}

/// A scenario with a request asked twice, or two requests at one replica, or a zero
/// timeout, is refused with the field named.
#[test]
fn bad_params_name_the_field() {
    let base = generate_scenario(&Pbft, 3);
    let mut twice = base.clone();
    let mut p = twice.workload[0].clone();
    p.proposer = twice.cluster.ids()[0];
    if twice.workload[0].proposer == p.proposer {
        p.proposer = twice.cluster.ids()[1];
    }
    twice.workload.push(p);
    let field = |s: &Scenario| prepare(&Pbft, s).err().map(|e| e.field);
    assert_eq!(
        field(&twice),
        Some(format!("workload[{}].value", twice.workload.len() - 1))
    );
    let mut zero = base.clone();
    zero.params =
        serde_json::json!({"timing": {"view_timeout_ms": 0, "status_ms": 100, "retry_ms": 200}});
    assert_eq!(
        field(&zero),
        Some("params.timing.view_timeout_ms".to_string())
    );
    assert_eq!(field(&base), None);
}

/// On a quiet network, generated clusters of 4, 7 and 10 replicas settle in both lanes
/// with every property holding, every replica executing every request, and the two
/// lanes' traces equal.
#[test]
fn quiet_runs_settle_alike_in_both_lanes() {
    let mut sizes = BTreeSet::new();
    for seed in 0..24 {
        let scenario = Scenario {
            faults: FaultSchedule::default(),
            ..generate_scenario(&Pbft, seed)
        };
        sizes.insert(scenario.cluster.len());
        let setup = prepare(&Pbft, &scenario).expect("valid");
        let mut digests = Vec::new();
        for lane in [Lane::Fast, Lane::Turmoil] {
            let report = run_setup(&Pbft, &setup, lane);
            assert_eq!(report.end, RunEnd::Settled, "seed {seed} {lane:?}");
            let verdict = judge(&Pbft, &setup, &report.history);
            assert!(
                verdict.is_ok(),
                "seed {seed} {lane:?}: {:?}",
                verdict.violations
            );
            digests.push(report.history.digest());
        }
        assert_eq!(digests[0], digests[1], "seed {seed}: the lanes differ");
    }
    assert_eq!(sizes, [4, 7, 10].into_iter().collect());
}

/// A scenario of 4 replicas with one client request at n2 and `faults`.
fn byzantine_scenario(faults: Vec<crate::fault::FaultEvent>) -> Scenario {
    Scenario {
        workload: vec![Proposal {
            proposer: n(2),
            value: v("Req_n2"),
            at_ms: 0,
        }],
        faults: FaultSchedule { events: faults },
        liveness_bound_ms: 10_000,
        ..Scenario::quiet(Pbft::NAME, Cluster::of_size(4), 11)
    }
}

/// Byzantine faults act alike in both lanes: a primary (n1) that equivocates (its
/// pre-prepares to n3 are mutated to another request) and then falls silent gives the
/// same trace byte for byte in both, with the mutation in it; the honest replicas still
/// execute the request, and every property holds over them. Two Byzantine nodes of
/// four are more than PBFT tolerates: that scenario is refused, naming the faults.
#[test]
fn byzantine_faults_act_alike_in_both_lanes() {
    use crate::fault::{Fault, FaultEvent};
    let mutate = FaultEvent {
        at_ms: 0,
        fault: Fault::Mutate {
            node: n(1),
            kind: "pre_prepare".into(),
            receivers: vec![n(3)],
            count: 2,
            mutation: 1,
            skip: 0,
        },
    };
    let silent = FaultEvent {
        at_ms: 3,
        fault: Fault::Silent { node: n(1) },
    };
    let two = byzantine_scenario(vec![
        mutate.clone(),
        FaultEvent {
            at_ms: 0,
            fault: Fault::Silent { node: n(4) },
        },
    ]);
    let refused = prepare(&Pbft, &two)
        .err()
        .expect("two Byzantine nodes of four");
    assert_eq!(refused.field, "faults");
    assert!(refused.reason.contains("tolerates 1"), "{}", refused.reason);

    let scenario = byzantine_scenario(vec![mutate, silent]);
    let setup = prepare(&Pbft, &scenario).expect("one Byzantine node");
    assert_eq!(Pbft.deciders(&setup), vec![n(2), n(3), n(4)]);
    let mut digests = Vec::new();
    for lane in [Lane::Fast, Lane::Turmoil] {
        let report = run_setup(&Pbft, &setup, lane);
        assert_eq!(report.end, RunEnd::Settled, "{lane:?}");
        let mutated = report
            .history
            .events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Mutated { .. }))
            .count();
        assert_eq!(mutated, 1, "{lane:?}: one pre-prepare to n3 was mutated");
        let silent_drops = report
            .history
            .events
            .iter()
            .filter(|e| e.node == Some(n(1)) && e.at_ms >= 3)
            .filter(|e| matches!(e.kind, EventKind::Dropped { .. }))
            .count();
        assert!(silent_drops > 0, "{lane:?}: n1 keeps sending into the void");
        let verdict = judge(&Pbft, &setup, &report.history);
        assert!(verdict.is_ok(), "{lane:?}: {:?}", verdict.violations);
        digests.push(report.history.digest());
    }
    assert_eq!(digests[0], digests[1], "the lanes differ");
}

/// The mutations a replica offers are signed by itself only and change what they
/// say they change: a pre-prepare at seq + 1 carries a valid signature of its sender
/// over the new fields; no mutation carries another replica's signature.
#[test]
fn mutations_are_signed_by_their_sender_only() {
    let c = config(4, &[("A", 1), ("B", 2)], &[]);
    let mut r = Replica::new(n(1), Arc::clone(&c));
    let mut rng = crate::rng::stream_rng(0, crate::rng::Stream::Scenario);
    let mut cx = crate::protocol::Context {
        now_ms: 0,
        rng: &mut rng,
    };
    let mut out = Vec::new();
    r.step(&mut cx, CoreInput::start(None), &mut out);
    r.step(
        &mut cx,
        CoreInput::ClientRequest { value: v("A") },
        &mut out,
    );
    let pp = out
        .iter()
        .find_map(|o| match o {
            CoreOutput::Send {
                msg: m @ Msg::PrePrepare { .. },
                ..
            } => Some(m.clone()),
            _ => None,
        })
        .expect("the primary pre-prepares");
    let options = r.mutations(&pp);
    assert_eq!(options.len(), 3);
    let Msg::PrePrepare {
        view,
        seq,
        digest: d,
        sig,
        ..
    } = options[0].clone()
    else {
        panic!("a pre-prepare");
    };
    assert_eq!((view, seq), (0, 2));
    let what = Signed::Prepare {
        view,
        seq,
        digest: d,
    };
    assert!(c.keys.verify(Vote { node: n(1), sig }, what));
    for other in 2..=4 {
        assert!(!c.keys.verify(
            Vote {
                node: n(other),
                sig
            },
            what
        ));
    }
}

/// Every view and sequence number a message carries, nested ones included, is bounded
/// at decode: `u64::MAX` in any of them makes the datagram malformed (an error naming
/// the counter), through the shell's decoder too, and [`msg::COUNTER_MAX`] itself still
/// decodes. (tests/real_mode.rs sends such a datagram to a running replica: recorded
/// as malformed, and the replica keeps serving.)
#[test]
fn counters_near_u64_max_are_refused_at_decode() {
    use super::msg::COUNTER_MAX;
    let a = Some(v("A"));
    let vote = Vote { node: n(2), sig: 1 };
    let cert = |view: u64, seq: u64| Certificate {
        view,
        seq,
        request: a.clone(),
        votes: vec![vote],
    };
    let vc = |view: u64, c: Certificate| ViewChange {
        view,
        from: n(2),
        prepared: vec![c],
        sig: 1,
    };
    let cases = |top: u64| {
        vec![
            Msg::PrePrepare {
                view: top,
                seq: 1,
                request: a.clone(),
                digest: 0,
                sig: 0,
            },
            Msg::PrePrepare {
                view: 0,
                seq: top,
                request: a.clone(),
                digest: 0,
                sig: 0,
            },
            Msg::Prepare {
                view: top,
                seq: 1,
                digest: 0,
                sig: 0,
            },
            Msg::Commit {
                view: 0,
                seq: top,
                digest: 0,
                sig: 0,
            },
            Msg::Reply {
                seq: top,
                request: v("A"),
            },
            Msg::Status {
                view: top,
                executed: 0,
            },
            Msg::Status {
                view: 0,
                executed: top,
            },
            Msg::Committed {
                view: top,
                seq: 1,
                request: a.clone(),
                votes: vec![vote],
            },
            Msg::ViewChange(vc(top, cert(0, 1))),
            Msg::ViewChange(vc(1, cert(top, 1))),
            Msg::ViewChange(vc(1, cert(0, top))),
            Msg::NewView(NewView {
                view: top,
                view_changes: vec![],
                proposals: vec![],
            }),
            Msg::NewView(NewView {
                view: 1,
                view_changes: vec![vc(1, cert(0, top))],
                proposals: vec![],
            }),
        ]
    };
    let bytes = |m: &Msg| {
        let mut out = Vec::new();
        Replica::encode_msg(m, &mut out);
        out
    };
    for m in cases(u64::MAX) {
        let error = Replica::decode_msg(&bytes(&m)).expect_err("refused");
        assert!(
            error.contains(&u64::MAX.to_string()) && error.contains("over the highest"),
            "{m:?}: {error}"
        );
    }
    for m in cases(COUNTER_MAX) {
        assert_eq!(Replica::decode_msg(&bytes(&m)), Ok(m));
    }
    let forged = Msg::Prepare {
        view: u64::MAX,
        seq: 1,
        digest: 0,
        sig: 0,
    };
    let datagram = crate::node::encode_datagram::<Replica>(n(2), 1, &forged).expect("fits");
    let error = crate::node::decode_datagram::<Replica>(&datagram).expect_err("malformed");
    assert!(error.contains("view 18446744073709551615"), "{error}");
}

/// A client node (real mode's `gauntlet propose`) is no replica: its request goes to
/// every replica, is ordered and executed by all four (not by the client), each
/// replica replies to the client it heard it from, and the client alone is answered,
/// by `f + 1` matching replies, which it observes as an answer. Without client nodes
/// the same request is not client-signed, and nothing executes.
#[test]
fn a_client_node_is_answered_by_f_plus_one_replicas() {
    let with_client = |clients: &[u16]| {
        let mut c = (*config(4, &[], &[])).clone();
        c.clients = clients.iter().map(|&i| n(i)).collect();
        let c = Arc::new(c);
        let mut net = Net::new(Arc::clone(&c));
        net.replicas.push(Replica::new(n(5), Arc::clone(&c)));
        net.input(n(5), CoreInput::start(None));
        net.input(n(5), CoreInput::ClientRequest { value: v("X") });
        net.settle();
        net
    };
    let net = with_client(&[5]);
    for id in 1..=4 {
        assert_eq!(net.executed(id), vec![v("X")], "n{id}");
    }
    assert!(net.executed(5).is_empty());
    let answered: Vec<(NodeId, &PbftEvent)> = net
        .events
        .iter()
        .filter(|(_, e)| matches!(e, PbftEvent::Answered { .. }))
        .map(|(id, e)| (*id, e))
        .collect();
    assert_eq!(answered.len(), 1, "{answered:?}");
    assert_eq!(answered[0].0, n(5));
    assert_eq!(
        Replica::observe(answered[0].1),
        Some(Observation::Answered(v("X")))
    );
    // n5 is no client here: a replica hears nothing from it.
    let c = config(4, &[], &[]);
    let mut net = Net::new(Arc::clone(&c));
    net.input(
        n(1),
        CoreInput::Receive {
            from: n(5),
            msg: Msg::Request { request: v("X") },
        },
    );
    net.settle();
    assert!((1..=4).all(|id| net.executed(id).is_empty()));
}

/// The catalog `Protocol::bugs` lends lists `Bug::ALL` in order, and a setup switches
/// on exactly the bugs its scenario names (by the catalog's names), no others.
#[test]
fn a_setup_switches_on_exactly_the_bugs_its_scenario_names() {
    let names: Vec<&str> = Pbft.bugs().iter().map(|b| b.name).collect();
    let all: Vec<&str> = Bug::ALL.iter().map(|b| b.planted().name).collect();
    assert_eq!(names, all);
    let mut scenario = generate_scenario(&Pbft, 1);
    scenario.bugs = vec!["duplicate_votes".into(), "quorum_2f".into()];
    let setup = prepare(&Pbft, &scenario).expect("valid");
    let bugs = super::bugs::Bugs::switched_on(&setup);
    for bug in Bug::ALL {
        let named = matches!(bug, Bug::DuplicateVotes | Bug::Quorum2f);
        assert_eq!(bugs.has(bug), named, "{bug:?}");
    }
    scenario.bugs.clear();
    let setup = prepare(&Pbft, &scenario).expect("valid");
    assert_eq!(super::bugs::Bugs::switched_on(&setup), Default::default());
}
