//! The connection-oriented link ([`gauntlet::protocol::session`]) against raw
//! datagrams, with a protocol that needs ordered sessions: a primary counts to a target
//! and sends each backup a snapshot of its count when their connection comes up, then
//! one `+1` per step. Over sessions (FIFO, no duplicates, told of every break) every
//! backup ends at the target exactly; over raw datagrams the same core is fooled by
//! loss, duplication and restarts: the false alarms a library built for sessions shows
//! outside its contract, which is why gauntlet offers the session link.

use crate::support::{run_typed, seed_override, Typed};
use gauntlet::explore::AnyProtocol;
use gauntlet::ids::NodeId;
use gauntlet::protocol::session::{SessionCore, SessionTiming, Sessions, SESSION_KIND};
use gauntlet::protocol::{
    shapes, BasicEvent, Context, Core, CoreInput, CoreOutput, Draft, Judge, NoLog, Observation,
    Peers, Protocol, RunSetup,
};
use gauntlet::sim::Lane;
use gauntlet::value::Value;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The count every backup must reach.
const TARGET: u64 = 20;
const PRIMARY: NodeId = NodeId(1);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum MirrorMsg {
    /// The primary's count, when a connection comes up.
    Snapshot(u64),
    /// One more.
    Add,
}

impl fmt::Display for MirrorMsg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MirrorMsg::Snapshot(count) => write!(f, "snapshot {count}"),
            MirrorMsg::Add => f.write_str("+1"),
        }
    }
}

/// The primary's count, or a backup's last decided count, kept across restarts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Kept(u64);

impl fmt::Display for Kept {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[derive(Debug, Clone)]
struct Mirror {
    me: NodeId,
    backups: Vec<NodeId>,
    /// The primary's count, or the backup's mirror of it.
    count: u64,
    /// A backup's decision (a decision is for good, so it is persisted).
    decided: Option<u64>,
}

impl Mirror {
    fn decide_if_there(&mut self, out: &mut Vec<CoreOutput<Self>>) {
        // A backup decides on reaching the target, and again on any count past it (a
        // second, different decision: what a duplicated `+1` leads to).
        let due = (self.count == TARGET && self.decided.is_none())
            || (self.count > TARGET && self.decided != Some(self.count));
        if self.me != PRIMARY && due {
            self.decided = Some(self.count);
            out.push(CoreOutput::Persist(Kept(self.count)));
            let value = Value::new(self.count.to_string());
            out.push(CoreOutput::Event(BasicEvent::Decided(value)));
        }
    }
}

impl Core for Mirror {
    type Msg = MirrorMsg;
    type State = Kept;
    type Event = BasicEvent;
    type Timer = ();
    type Entry = NoLog;

    fn msg_kind(msg: &MirrorMsg) -> &'static str {
        match msg {
            MirrorMsg::Snapshot(_) => "snapshot",
            MirrorMsg::Add => "add",
        }
    }

    fn observe(event: &BasicEvent) -> Option<Observation> {
        event.observe()
    }

    fn step(
        &mut self,
        _cx: &mut Context<'_>,
        input: CoreInput<Self>,
        out: &mut Vec<CoreOutput<Self>>,
    ) {
        match input {
            CoreInput::Start { recovered, .. } => {
                if self.me == PRIMARY {
                    self.count = recovered.map_or(0, |k| k.0);
                    let target = Value::new(TARGET.to_string());
                    out.push(CoreOutput::Event(BasicEvent::Proposed(target)));
                    out.push(CoreOutput::SetTimer {
                        timer: (),
                        delay_ms_min: 5,
                        delay_ms_max: 15,
                    });
                } else {
                    self.decided = recovered.map(|k| k.0);
                }
            }
            CoreInput::TimerFired { .. } if self.count < TARGET => {
                self.count += 1;
                out.push(CoreOutput::Persist(Kept(self.count)));
                for &to in &self.backups {
                    out.push(CoreOutput::Send {
                        to,
                        msg: MirrorMsg::Add,
                    });
                }
                out.push(CoreOutput::SetTimer {
                    timer: (),
                    delay_ms_min: 5,
                    delay_ms_max: 15,
                });
            }
            CoreInput::Receive { msg, .. } if self.me != PRIMARY => {
                match msg {
                    MirrorMsg::Snapshot(count) => self.count = count,
                    MirrorMsg::Add => self.count += 1,
                }
                self.decide_if_there(out);
            }
            _ => {}
        }
    }
}

impl SessionCore for Mirror {
    /// The primary sends a backup its count whenever their connection comes up.
    fn link_changed(
        &mut self,
        _cx: &mut Context<'_>,
        peer: NodeId,
        up: bool,
        out: &mut Vec<CoreOutput<Self>>,
    ) {
        if self.me == PRIMARY && up {
            out.push(CoreOutput::Send {
                to: peer,
                msg: MirrorMsg::Snapshot(self.count),
            });
        }
    }
}

/// Every node but the primary: the ones that must reach the target.
fn backups(ids: &[NodeId]) -> Vec<NodeId> {
    ids.iter().copied().filter(|&p| p != PRIMARY).collect()
}

fn mirror(setup_ids: &[NodeId], id: NodeId) -> Mirror {
    Mirror {
        me: id,
        backups: backups(setup_ids),
        count: 0,
        decided: None,
    }
}

fn draft(rng: &mut ChaCha8Rng) -> Draft<()> {
    Peers {
        sizes: &[2, 3, 4],
        horizon_ms: (100, 250),
        propose_at_start: true,
        liveness_bound_ms: 3_000,
    }
    .draft(rng, ())
}

/// The mirror over the session link.
struct OverSessions;

impl Protocol for OverSessions {
    type Core = Sessions<Mirror>;
    type Params = ();

    fn name(&self) -> &'static str {
        "mirror_sessions"
    }

    fn draft(&self, rng: &mut ChaCha8Rng) -> Draft<()> {
        draft(rng)
    }

    fn core(&self, setup: &RunSetup<Self>, id: NodeId) -> Sessions<Mirror> {
        let ids = setup.scenario.cluster.ids();
        Sessions::new(mirror(&ids, id), id, &ids, SessionTiming::default())
    }

    fn deciders(&self, setup: &RunSetup<Self>) -> Vec<NodeId> {
        backups(&setup.scenario.cluster.ids())
    }

    fn message_kinds(&self) -> &'static [&'static str] {
        &["snapshot", "add", SESSION_KIND]
    }

    fn properties(&self) -> Vec<Judge<Self>> {
        shapes::value::judges()
    }
}

/// The same core on raw datagrams: the primary sends its snapshot once, at its start.
#[derive(Debug, Clone)]
struct Bare(Mirror);

impl Core for Bare {
    type Msg = MirrorMsg;
    type State = Kept;
    type Event = BasicEvent;
    type Timer = ();
    type Entry = NoLog;

    fn msg_kind(msg: &MirrorMsg) -> &'static str {
        Mirror::msg_kind(msg)
    }

    fn observe(event: &BasicEvent) -> Option<Observation> {
        event.observe()
    }

    fn step(
        &mut self,
        cx: &mut Context<'_>,
        input: CoreInput<Self>,
        out: &mut Vec<CoreOutput<Self>>,
    ) {
        let started = matches!(input, CoreInput::Start { .. });
        let input = match input {
            CoreInput::Start {
                incarnation,
                recovered,
                log,
            } => CoreInput::Start {
                incarnation,
                recovered,
                log,
            },
            CoreInput::ClientRequest { value } => CoreInput::ClientRequest { value },
            CoreInput::Receive { from, msg } => CoreInput::Receive { from, msg },
            CoreInput::TimerFired { timer } => CoreInput::TimerFired { timer },
        };
        let mut inner = Vec::new();
        self.0.step(cx, input, &mut inner);
        if started {
            for peer in self.0.backups.clone() {
                self.0.link_changed(cx, peer, true, &mut inner);
            }
        }
        out.extend(inner.into_iter().map(|o| match o {
            CoreOutput::Send { to, msg } => CoreOutput::Send { to, msg },
            CoreOutput::Persist(s) => CoreOutput::Persist(s),
            CoreOutput::SetTimer {
                timer,
                delay_ms_min,
                delay_ms_max,
            } => CoreOutput::SetTimer {
                timer,
                delay_ms_min,
                delay_ms_max,
            },
            CoreOutput::Event(e) => CoreOutput::Event(e),
            other => unreachable!("the mirror does not {other:?}"),
        }));
    }
}

struct OverDatagrams;

impl Protocol for OverDatagrams {
    type Core = Bare;
    type Params = ();

    fn name(&self) -> &'static str {
        "mirror_datagrams"
    }

    fn draft(&self, rng: &mut ChaCha8Rng) -> Draft<()> {
        draft(rng)
    }

    fn core(&self, setup: &RunSetup<Self>, id: NodeId) -> Bare {
        Bare(mirror(&setup.scenario.cluster.ids(), id))
    }

    fn deciders(&self, setup: &RunSetup<Self>) -> Vec<NodeId> {
        backups(&setup.scenario.cluster.ids())
    }

    fn message_kinds(&self) -> &'static [&'static str] {
        &["snapshot", "add"]
    }

    fn properties(&self) -> Vec<Judge<Self>> {
        shapes::value::judges()
    }
}

/// Over sessions, every generated scenario (partitions, loss, duplication, delay,
/// crashes, connection breaks) ends with every backup at exactly the target, in both
/// lanes, and the lanes write the same trace; some runs broke and re-opened
/// connections, some of them by a generated `BreakConnection` fault.
#[test]
fn session_link_keeps_a_session_protocol_correct_in_both_lanes() {
    let seeds: Vec<u64> = match seed_override() {
        Some(seed) => vec![seed],
        None => (0..150).collect(),
    };
    let mut breaks = 0;
    let mut armed = 0;
    for seed in seeds {
        let scenario = AnyProtocol::generate(&OverSessions, seed);
        let mut traces = Vec::new();
        for lane in [Lane::Fast, Lane::Turmoil] {
            let Typed {
                report, verdict, ..
            } = run_typed(&OverSessions, lane, &scenario);
            let violations: Vec<String> =
                verdict.violations.iter().map(|v| v.to_string()).collect();
            assert!(
                violations.is_empty(),
                "seed {seed}, {lane:?}: {violations:?}\nreplay: GAUNTLET_SEED={seed} cargo test session"
            );
            let text = report.history.render();
            breaks += text.matches("DOWN:").count();
            armed += text.matches("lose the next datagram").count();
            traces.push(text);
        }
        assert_eq!(traces[0], traces[1], "seed {seed}: the lanes differ");
    }
    assert!(
        breaks > 0,
        "no connection ever broke: the faults did not reach the link"
    );
    assert!(armed > 0, "no generated connection break");
}

/// The same core on raw datagrams fails: lost, duplicated or reordered `+1`s and
/// restarted backups leave a backup short of the target or past it. These are the
/// documented false alarms of a session protocol run outside its contract.
#[test]
fn datagrams_break_a_session_protocol() {
    let mut failing = BTreeMap::new();
    for seed in 0..150 {
        let scenario = AnyProtocol::generate(&OverDatagrams, seed);
        let run = run_typed(&OverDatagrams, Lane::Fast, &scenario);
        let names: std::collections::BTreeSet<&str> =
            run.verdict.violations.iter().map(|v| v.property).collect();
        for name in names {
            *failing.entry(name).or_insert(0) += 1;
        }
    }
    assert!(failing.contains_key("liveness"), "{failing:?}");
    assert!(failing.values().sum::<i32>() > 10, "{failing:?}");
}
