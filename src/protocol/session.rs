//! Connection-oriented links for cores written against ordered sessions (TCP-like), as
//! a core adapter: [`Sessions`] wraps a [`SessionCore`] and gives it, per peer, a
//! connection with FIFO, deduplicated delivery, told to the core as it comes up and
//! breaks. A break loses what was in flight, as a TCP reset does.
//!
//! It is an ordinary [`Core`] speaking datagrams, so every world runs it unchanged:
//! both simulation lanes, real mode and the exhaustive lane; every fault applies to it
//! (a dropped datagram, a partition, a crash all end up breaking a connection); and its
//! handshakes show in the trace like any other message.
//!
//! The session protocol, per pair of nodes:
//! - the node with the lower id opens connections: it sends `Hello` with a fresh
//!   connection id (its incarnation in the high 32 bits, so ids grow across restarts)
//!   until the peer answers `Welcome`; the other node asks for one with `Knock` while
//!   it has none (after its start, or after a break);
//! - data carries the connection id and a sequence number per direction; the receiver
//!   delivers in order, drops duplicates, holds early arrivals (bounded) and
//!   acknowledges what it delivered;
//! - a connection breaks when data stays unacknowledged for `break_after_ms`, when a
//!   gap in the received sequence stays open that long, when the held arrivals
//!   overflow, when either side restarts (its next handshake supersedes the old
//!   connection), or when a `Reset` for it arrives (sent by a side that broke it, or
//!   that received data for a connection it does not have). Both sides' cores then get
//!   `link_changed(peer, false)`, and the opener reconnects.

use super::{Context, Core, CoreInput, CoreOutput, Observation};
use crate::ids::NodeId;
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Most early arrivals held per connection before the gap counts as a loss.
pub const HELD_MESSAGES_MAX: usize = 1_024;

/// A core written for ordered sessions: a [`Core`] that is also told when its
/// connection to a peer comes up or breaks. It sends and receives its own messages;
/// [`Sessions`] carries them.
pub trait SessionCore: Core {
    /// The connection to `peer` came up (`up`) or broke: everything in flight on it
    /// is lost, in both directions, and nothing sent before the next `up` is carried.
    fn link_changed(
        &mut self,
        cx: &mut Context<'_>,
        peer: NodeId,
        up: bool,
        out: &mut Vec<CoreOutput<Self>>,
    );
}

/// The session layer's timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionTiming {
    /// How often a handshake (`Hello`, `Knock`) is repeated until answered.
    pub retry_ms: u64,
    /// How long data may stay unacknowledged, or a gap unfilled, before the
    /// connection counts as broken. Above the network's latency plus any delay fault
    /// the scenario can inject, or delays become breaks.
    pub break_after_ms: u64,
}

impl Default for SessionTiming {
    fn default() -> Self {
        SessionTiming {
            retry_ms: 20,
            break_after_ms: 100,
        }
    }
}

/// What the session layer sends: its handshakes and the wrapped core's messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SessionMsg<M> {
    /// Open connection `conn` (from the lower id).
    Hello { conn: u64 },
    /// Connection `conn` is up (from the higher id).
    Welcome { conn: u64 },
    /// Please open a connection: the higher id has none.
    Knock,
    /// `next` is the next sequence number expected on `conn`: all before it arrived.
    Ack { conn: u64, next: u64 },
    /// Connection `conn` is broken.
    Reset { conn: u64 },
    /// The core's message number `seq` on `conn`.
    Data { conn: u64, seq: u64, msg: M },
}

impl<M: fmt::Display> fmt::Display for SessionMsg<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionMsg::Hello { conn } => write!(f, "hello c{conn:x}"),
            SessionMsg::Welcome { conn } => write!(f, "welcome c{conn:x}"),
            SessionMsg::Knock => f.write_str("knock"),
            SessionMsg::Ack { conn, next } => write!(f, "ack c{conn:x} next {next}"),
            SessionMsg::Reset { conn } => write!(f, "reset c{conn:x}"),
            SessionMsg::Data { conn, seq, msg } => write!(f, "c{conn:x}#{seq} {msg}"),
        }
    }
}

/// The session layer's timers and the wrapped core's.
#[derive(Debug, Clone)]
pub enum SessionTimer<T> {
    Inner(T),
    /// Repeat the handshake with `peer` unless connected.
    Retry {
        peer: NodeId,
        token: u64,
    },
    /// Break the connection to `peer` unless everything sent on it up to `seq` is
    /// acknowledged.
    AckDue {
        peer: NodeId,
        token: u64,
        seq: u64,
    },
    /// Break the connection to `peer` unless the gap before `next` was filled.
    GapDue {
        peer: NodeId,
        token: u64,
        next: u64,
    },
}

/// The session layer's trace events and the wrapped core's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SessionEvent<E> {
    Inner(E),
    /// The connection to `peer` came up.
    Up {
        peer: NodeId,
        conn: u64,
    },
    /// The connection to `peer` broke, and why.
    Down {
        peer: NodeId,
        conn: u64,
        reason: String,
    },
    /// The core sent to `peer` while not connected: not carried.
    NotConnected {
        peer: NodeId,
    },
}

impl<E: fmt::Display> fmt::Display for SessionEvent<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionEvent::Inner(event) => event.fmt(f),
            SessionEvent::Up { peer, conn } => write!(f, "session c{conn:x} with {peer} up"),
            SessionEvent::Down { peer, conn, reason } => {
                write!(f, "session c{conn:x} with {peer} DOWN: {reason}")
            }
            SessionEvent::NotConnected { peer } => {
                write!(f, "session: not connected to {peer}, send dropped")
            }
        }
    }
}

/// One peer's connection, as this node sees it.
#[derive(Debug, Clone)]
struct Link<M> {
    /// The connection being opened or up.
    conn: Option<u64>,
    up: bool,
    /// The next sequence number to send, and the first not yet acknowledged.
    send_next: u64,
    acked: u64,
    /// The next sequence number to deliver, and the early arrivals after it.
    recv_next: u64,
    held: BTreeMap<u64, M>,
    /// Which of this link's timers is current (older ones are ignored when they fire).
    retry_token: u64,
    ack_token: u64,
    ack_armed: bool,
    gap_token: u64,
    gap_armed: bool,
}

impl<M> Default for Link<M> {
    fn default() -> Self {
        Link {
            conn: None,
            up: false,
            send_next: 0,
            acked: 0,
            recv_next: 0,
            held: BTreeMap::new(),
            retry_token: 0,
            ack_token: 0,
            ack_armed: false,
            gap_token: 0,
            gap_armed: false,
        }
    }
}

impl<M> Link<M> {
    /// Forget the connection (its sequence numbers and held arrivals).
    fn reset(&mut self) {
        self.conn = None;
        self.up = false;
        self.send_next = 0;
        self.acked = 0;
        self.recv_next = 0;
        self.held.clear();
        self.ack_armed = false;
        self.gap_armed = false;
    }
}

/// A [`SessionCore`] over connection-oriented links (see the module docs).
#[derive(Debug, Clone)]
pub struct Sessions<C: SessionCore> {
    inner: C,
    me: NodeId,
    timing: SessionTiming,
    links: BTreeMap<NodeId, Link<C::Msg>>,
    /// Connections this node opened so far in this incarnation.
    opened: u64,
    incarnation: u32,
    /// Scratch for the inner core's outputs.
    scratch: Vec<CoreOutput<C>>,
}

impl<C: SessionCore> Sessions<C> {
    /// `inner` on node `me`, with a connection to each of `peers`.
    pub fn new(inner: C, me: NodeId, peers: &[NodeId], timing: SessionTiming) -> Self {
        Sessions {
            inner,
            me,
            timing,
            links: peers
                .iter()
                .filter(|&&p| p != me)
                .map(|&p| (p, Link::default()))
                .collect(),
            opened: 0,
            incarnation: 0,
            scratch: Vec::new(),
        }
    }

    /// The wrapped core.
    pub fn inner(&self) -> &C {
        &self.inner
    }

    fn opens_to(&self, peer: NodeId) -> bool {
        self.me < peer
    }

    /// Step the inner core with `input` and carry out what it asked for.
    fn step_inner(
        &mut self,
        cx: &mut Context<'_>,
        input: Option<CoreInput<C>>,
        link: Option<(NodeId, bool)>,
        out: &mut Vec<CoreOutput<Self>>,
    ) {
        let mut inner_out = std::mem::take(&mut self.scratch);
        match (input, link) {
            (Some(input), _) => self.inner.step(cx, input, &mut inner_out),
            (None, Some((peer, up))) => self.inner.link_changed(cx, peer, up, &mut inner_out),
            (None, None) => {}
        }
        for output in inner_out.drain(..) {
            match output {
                CoreOutput::Send { to, msg } => self.send_data(cx, to, msg, out),
                CoreOutput::Persist(state) => out.push(CoreOutput::Persist(state)),
                CoreOutput::PersistUnsynced(state) => out.push(CoreOutput::PersistUnsynced(state)),
                CoreOutput::Append(entries) => out.push(CoreOutput::Append(entries)),
                CoreOutput::AppendUnsynced(entries) => {
                    out.push(CoreOutput::AppendUnsynced(entries))
                }
                CoreOutput::Truncate { len } => out.push(CoreOutput::Truncate { len }),
                CoreOutput::SetTimer {
                    timer,
                    delay_ms_min,
                    delay_ms_max,
                } => out.push(CoreOutput::SetTimer {
                    timer: SessionTimer::Inner(timer),
                    delay_ms_min,
                    delay_ms_max,
                }),
                CoreOutput::Event(event) => out.push(CoreOutput::Event(SessionEvent::Inner(event))),
            }
        }
        self.scratch = inner_out;
    }

    fn send_data(
        &mut self,
        _cx: &mut Context<'_>,
        to: NodeId,
        msg: C::Msg,
        out: &mut Vec<CoreOutput<Self>>,
    ) {
        let break_after_ms = self.timing.break_after_ms;
        let Some(link) = self.links.get_mut(&to) else {
            // Not a peer: no connection to carry it.
            out.push(CoreOutput::Event(SessionEvent::NotConnected { peer: to }));
            return;
        };
        let (Some(conn), true) = (link.conn, link.up) else {
            out.push(CoreOutput::Event(SessionEvent::NotConnected { peer: to }));
            return;
        };
        let seq = link.send_next;
        link.send_next += 1;
        out.push(CoreOutput::Send {
            to,
            msg: SessionMsg::Data { conn, seq, msg },
        });
        if !link.ack_armed {
            link.ack_armed = true;
            link.ack_token += 1;
            out.push(after(
                SessionTimer::AckDue {
                    peer: to,
                    token: link.ack_token,
                    seq,
                },
                break_after_ms,
            ));
        }
    }

    /// Begin (or repeat) the handshake with `peer`: a fresh `Hello` from the opener, a
    /// `Knock` from the other side; repeated until connected.
    fn handshake(&mut self, peer: NodeId, out: &mut Vec<CoreOutput<Self>>) {
        let opens = self.opens_to(peer);
        if opens {
            self.opened += 1;
        }
        let conn = (u64::from(self.incarnation) << 32) | (self.opened & 0xFFFF_FFFF);
        let retry_ms = self.timing.retry_ms;
        let link = self.links.get_mut(&peer).expect("a peer");
        let msg = if opens {
            link.reset();
            link.conn = Some(conn);
            SessionMsg::Hello { conn }
        } else {
            SessionMsg::Knock
        };
        out.push(CoreOutput::Send { to: peer, msg });
        link.retry_token += 1;
        out.push(after(
            SessionTimer::Retry {
                peer,
                token: link.retry_token,
            },
            retry_ms,
        ));
    }

    /// The connection to `peer` is up: tell the core.
    fn came_up(
        &mut self,
        cx: &mut Context<'_>,
        peer: NodeId,
        conn: u64,
        out: &mut Vec<CoreOutput<Self>>,
    ) {
        let link = self.links.get_mut(&peer).expect("a peer");
        link.reset();
        link.conn = Some(conn);
        link.up = true;
        link.retry_token += 1; // the pending retry is moot
        out.push(CoreOutput::Event(SessionEvent::Up { peer, conn }));
        self.step_inner(cx, None, Some((peer, true)), out);
    }

    /// Break the connection to `peer`: tell the peer (`notify`) and the core, and
    /// start over.
    fn break_link(
        &mut self,
        cx: &mut Context<'_>,
        peer: NodeId,
        reason: &str,
        notify: bool,
        out: &mut Vec<CoreOutput<Self>>,
    ) {
        let link = self.links.get_mut(&peer).expect("a peer");
        let (Some(conn), was_up) = (link.conn, link.up) else {
            return;
        };
        link.reset();
        if notify {
            out.push(CoreOutput::Send {
                to: peer,
                msg: SessionMsg::Reset { conn },
            });
        }
        out.push(CoreOutput::Event(SessionEvent::Down {
            peer,
            conn,
            reason: reason.to_string(),
        }));
        if was_up {
            self.step_inner(cx, None, Some((peer, false)), out);
        }
        self.handshake(peer, out);
    }

    fn receive(
        &mut self,
        cx: &mut Context<'_>,
        from: NodeId,
        msg: SessionMsg<C::Msg>,
        out: &mut Vec<CoreOutput<Self>>,
    ) {
        if !self.links.contains_key(&from) {
            return; // not a peer
        }
        let opens = self.opens_to(from);
        let link = self.links.get_mut(&from).expect("checked");
        match msg {
            SessionMsg::Hello { conn } if !opens => {
                match link.conn {
                    Some(current) if current == conn && link.up => {
                        // Our welcome was lost, or the hello repeated: say it again.
                        out.push(CoreOutput::Send {
                            to: from,
                            msg: SessionMsg::Welcome { conn },
                        });
                    }
                    Some(current) if current > conn => {} // a stale hello
                    _ => {
                        if link.up {
                            // The opener started over (it restarted, or broke the
                            // connection and its reset was lost): the old one is gone.
                            self.break_link(cx, from, "superseded by a new connection", false, out);
                        }
                        out.push(CoreOutput::Send {
                            to: from,
                            msg: SessionMsg::Welcome { conn },
                        });
                        self.came_up(cx, from, conn, out);
                    }
                }
            }
            SessionMsg::Welcome { conn } if opens => {
                if link.conn == Some(conn) && !link.up {
                    self.came_up(cx, from, conn, out);
                }
            }
            SessionMsg::Knock if opens => {
                // The peer has no connection with us: ours, if any, is dead.
                if link.up {
                    self.break_link(cx, from, "the peer has no connection", false, out);
                } else if link.conn.is_none() {
                    self.handshake(from, out);
                }
            }
            SessionMsg::Ack { conn, next } => {
                if link.conn == Some(conn) && link.up && next <= link.send_next {
                    link.acked = link.acked.max(next);
                }
            }
            SessionMsg::Reset { conn } => {
                if link.conn == Some(conn) {
                    self.break_link(cx, from, "reset by the peer", false, out);
                }
            }
            SessionMsg::Data { conn, seq, msg } => {
                if link.conn != Some(conn) || !link.up {
                    // Data for a connection we do not have: the sender must learn.
                    out.push(CoreOutput::Send {
                        to: from,
                        msg: SessionMsg::Reset { conn },
                    });
                    return;
                }
                if seq < link.recv_next {
                    return; // a duplicate
                }
                if seq > link.recv_next {
                    link.held.insert(seq, msg);
                    if link.held.len() > HELD_MESSAGES_MAX {
                        self.break_link(cx, from, "too many early arrivals", true, out);
                        return;
                    }
                    if !link.gap_armed {
                        link.gap_armed = true;
                        link.gap_token += 1;
                        out.push(after(
                            SessionTimer::GapDue {
                                peer: from,
                                token: link.gap_token,
                                next: link.recv_next,
                            },
                            self.timing.break_after_ms,
                        ));
                    }
                    return;
                }
                // In order: deliver it and every held arrival it releases.
                let mut ready = vec![msg];
                link.recv_next += 1;
                while let Some(next) = link.held.remove(&link.recv_next) {
                    ready.push(next);
                    link.recv_next += 1;
                }
                let next = link.recv_next;
                if link.held.is_empty() {
                    link.gap_armed = false;
                    link.gap_token += 1;
                }
                out.push(CoreOutput::Send {
                    to: from,
                    msg: SessionMsg::Ack { conn, next },
                });
                for msg in ready {
                    // The core may break nothing here, but a delivery can make it send.
                    if self.links[&from].conn != Some(conn) {
                        break;
                    }
                    self.step_inner(cx, Some(CoreInput::Receive { from, msg }), None, out);
                }
            }
            // A handshake from the wrong side: the peer disagrees on who opens.
            SessionMsg::Hello { .. } | SessionMsg::Welcome { .. } | SessionMsg::Knock => {}
        }
    }

    fn timer_fired(
        &mut self,
        cx: &mut Context<'_>,
        timer: SessionTimer<C::Timer>,
        out: &mut Vec<CoreOutput<Self>>,
    ) {
        match timer {
            SessionTimer::Inner(timer) => {
                self.step_inner(cx, Some(CoreInput::TimerFired { timer }), None, out)
            }
            SessionTimer::Retry { peer, token } => {
                let link = &self.links[&peer];
                if token == link.retry_token && !link.up {
                    self.handshake(peer, out);
                }
            }
            SessionTimer::AckDue { peer, token, seq } => {
                let link = self.links.get_mut(&peer).expect("a peer");
                if token != link.ack_token || !link.up {
                    return;
                }
                link.ack_armed = false;
                if link.acked <= seq {
                    self.break_link(cx, peer, "data unacknowledged", true, out);
                } else if link.acked < link.send_next {
                    // Later data is still out: give it its own deadline.
                    link.ack_armed = true;
                    link.ack_token += 1;
                    let (token, seq) = (link.ack_token, link.send_next - 1);
                    let due = SessionTimer::AckDue { peer, token, seq };
                    out.push(after(due, self.timing.break_after_ms));
                }
            }
            SessionTimer::GapDue { peer, token, next } => {
                let link = self.links.get_mut(&peer).expect("a peer");
                if token != link.gap_token || !link.up {
                    return;
                }
                link.gap_armed = false;
                if link.recv_next == next {
                    self.break_link(cx, peer, "a gap in the received data", true, out);
                } else if !link.held.is_empty() {
                    link.gap_armed = true;
                    link.gap_token += 1;
                    out.push(after(
                        SessionTimer::GapDue {
                            peer,
                            token: link.gap_token,
                            next: link.recv_next,
                        },
                        self.timing.break_after_ms,
                    ));
                }
            }
        }
    }
}

/// A session timer firing after exactly `delay_ms`.
fn after<C: SessionCore>(timer: SessionTimer<C::Timer>, delay_ms: u64) -> CoreOutput<Sessions<C>> {
    CoreOutput::SetTimer {
        timer,
        delay_ms_min: delay_ms,
        delay_ms_max: delay_ms,
    }
}

impl<C: SessionCore> Core for Sessions<C> {
    type Msg = SessionMsg<C::Msg>;
    type State = C::State;
    type Event = SessionEvent<C::Event>;
    type Timer = SessionTimer<C::Timer>;
    type Entry = C::Entry;

    /// The core's messages plus the session's sequence header (at most 18 bytes).
    const MESSAGE_BYTES_MAX: usize = C::MESSAGE_BYTES_MAX;

    fn step(
        &mut self,
        cx: &mut Context<'_>,
        input: CoreInput<Self>,
        out: &mut Vec<CoreOutput<Self>>,
    ) {
        match input {
            CoreInput::Start {
                incarnation,
                recovered,
                log,
            } => {
                self.incarnation = incarnation;
                let start = CoreInput::Start {
                    incarnation,
                    recovered,
                    log,
                };
                self.step_inner(cx, Some(start), None, out);
                let peers: Vec<NodeId> = self.links.keys().copied().collect();
                for peer in peers {
                    self.handshake(peer, out);
                }
            }
            CoreInput::ClientRequest { value } => {
                self.step_inner(cx, Some(CoreInput::ClientRequest { value }), None, out)
            }
            CoreInput::Receive { from, msg } => self.receive(cx, from, msg, out),
            CoreInput::TimerFired { timer } => self.timer_fired(cx, timer, out),
        }
    }

    /// Data is the core's kind; every handshake, ack and reset is `session`.
    fn msg_kind(msg: &Self::Msg) -> &'static str {
        match msg {
            SessionMsg::Data { msg, .. } => C::msg_kind(msg),
            _ => SESSION_KIND,
        }
    }

    fn observe(event: &Self::Event) -> Option<Observation> {
        match event {
            SessionEvent::Inner(event) => C::observe(event),
            _ => None,
        }
    }

    fn decided_in(state: &C::State) -> Option<Value> {
        C::decided_in(state)
    }

    /// A one-byte tag, the connection id and sequence number as needed, then the core's
    /// own encoding of its message.
    fn encode_msg(msg: &Self::Msg, out: &mut Vec<u8>) {
        let mut words = |tag: u8, words: &[u64]| {
            out.push(tag);
            for word in words {
                out.extend_from_slice(&word.to_be_bytes());
            }
        };
        match msg {
            SessionMsg::Hello { conn } => words(1, &[*conn]),
            SessionMsg::Welcome { conn } => words(2, &[*conn]),
            SessionMsg::Knock => words(3, &[]),
            SessionMsg::Ack { conn, next } => words(4, &[*conn, *next]),
            SessionMsg::Reset { conn } => words(5, &[*conn]),
            SessionMsg::Data { conn, seq, msg } => {
                words(6, &[*conn, *seq]);
                C::encode_msg(msg, out);
            }
        }
    }

    fn decode_msg(bytes: &[u8]) -> Result<Self::Msg, String> {
        let (&tag, mut rest) = bytes.split_first().ok_or("an empty session message")?;
        let mut word = || -> Result<u64, String> {
            let (head, tail) = rest
                .split_first_chunk::<8>()
                .ok_or_else(|| format!("session message tag {tag} cut short"))?;
            rest = tail;
            Ok(u64::from_be_bytes(*head))
        };
        let msg = match tag {
            1 => SessionMsg::Hello { conn: word()? },
            2 => SessionMsg::Welcome { conn: word()? },
            3 => SessionMsg::Knock,
            4 => SessionMsg::Ack {
                conn: word()?,
                next: word()?,
            },
            5 => SessionMsg::Reset { conn: word()? },
            6 => {
                let (conn, seq) = (word()?, word()?);
                return Ok(SessionMsg::Data {
                    conn,
                    seq,
                    msg: C::decode_msg(rest)?,
                });
            }
            other => return Err(format!("unknown session message tag {other}")),
        };
        if rest.is_empty() {
            Ok(msg)
        } else {
            Err(format!("{} bytes after a session message", rest.len()))
        }
    }
}

/// The message kind of every session handshake, ack and reset: list it in
/// `Protocol::message_kinds` beside the core's own kinds.
pub const SESSION_KIND: &str = "session";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{BasicEvent, NoLog};
    use crate::rng::{stream_rng, Stream};

    /// A core that echoes every message it receives back to its sender and notes
    /// every link change.
    #[derive(Debug, Clone)]
    struct Echo;

    impl Core for Echo {
        type Msg = String;
        type State = String;
        type Event = BasicEvent;
        type Timer = ();
        type Entry = NoLog;

        fn step(
            &mut self,
            _cx: &mut Context<'_>,
            input: CoreInput<Self>,
            out: &mut Vec<CoreOutput<Self>>,
        ) {
            if let CoreInput::Receive { from, msg } = input {
                out.push(CoreOutput::Send { to: from, msg });
            }
        }
    }

    impl SessionCore for Echo {
        fn link_changed(
            &mut self,
            _cx: &mut Context<'_>,
            peer: NodeId,
            up: bool,
            out: &mut Vec<CoreOutput<Self>>,
        ) {
            out.push(CoreOutput::Event(BasicEvent::Note(format!(
                "{peer} up {up}"
            ))));
        }
    }

    type S = Sessions<Echo>;

    fn step(node: &mut S, input: CoreInput<S>) -> Vec<CoreOutput<S>> {
        let mut rng = stream_rng(1, Stream::Scenario);
        let mut cx = Context {
            now_ms: 0,
            rng: &mut rng,
        };
        let mut out = Vec::new();
        node.step(&mut cx, input, &mut out);
        out
    }

    fn sent(out: &[CoreOutput<S>]) -> Vec<(NodeId, SessionMsg<String>)> {
        out.iter()
            .filter_map(|o| match o {
                CoreOutput::Send { to, msg } => Some((*to, msg.clone())),
                _ => None,
            })
            .collect()
    }

    fn noted(out: &[CoreOutput<S>]) -> Vec<String> {
        out.iter()
            .filter_map(|o| match o {
                CoreOutput::Event(SessionEvent::Inner(BasicEvent::Note(n))) => Some(n.clone()),
                _ => None,
            })
            .collect()
    }

    /// Every message round-trips through the codec, and no byte string makes the
    /// decoder panic: cut, extended or arbitrary input is an error.
    #[test]
    fn codec_round_trips_and_refuses_garbage() {
        let msgs = vec![
            SessionMsg::Hello { conn: 1 << 32 | 7 },
            SessionMsg::Welcome { conn: 3 },
            SessionMsg::Knock,
            SessionMsg::Ack { conn: 3, next: 9 },
            SessionMsg::Reset { conn: u64::MAX },
            SessionMsg::Data {
                conn: 3,
                seq: 4,
                msg: "\"hi\"".to_string(),
            },
        ];
        for msg in msgs {
            let mut bytes = Vec::new();
            S::encode_msg(&msg, &mut bytes);
            assert_eq!(S::decode_msg(&bytes), Ok(msg.clone()));
            for cut in 0..bytes.len() {
                let _ = S::decode_msg(&bytes[..cut]);
            }
            if !matches!(msg, SessionMsg::Data { .. }) {
                let mut longer = bytes.clone();
                longer.push(0);
                assert!(S::decode_msg(&longer).is_err());
            }
        }
        let mut rng = stream_rng(2, Stream::Scenario);
        for _ in 0..2_000 {
            let len = crate::rng::Draw::between(&mut rng, 0, 40) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| crate::rng::Draw::between(&mut rng, 0, 255) as u8)
                .collect();
            let _ = S::decode_msg(&bytes);
        }
    }

    /// The handshake: the lower id says hello, the higher welcomes it and both cores
    /// hear the link is up; data then arrives in order, once, with early arrivals held;
    /// a reset breaks the link on both sides and the lower id opens a new connection.
    #[test]
    fn handshake_order_dedup_and_reset() {
        let (a, b) = (NodeId(1), NodeId(2));
        let mut n1 = S::new(Echo, a, &[a, b], SessionTiming::default());
        let mut n2 = S::new(Echo, b, &[a, b], SessionTiming::default());
        let hello = sent(&step(&mut n1, CoreInput::start(None)));
        assert!(matches!(hello[..], [(to, SessionMsg::Hello { .. })] if to == b));
        let knock = sent(&step(&mut n2, CoreInput::start(None)));
        assert!(matches!(knock[..], [(to, SessionMsg::Knock)] if to == a));
        let out = step(
            &mut n2,
            CoreInput::Receive {
                from: a,
                msg: hello[0].1.clone(),
            },
        );
        assert_eq!(noted(&out), vec!["n1 up true"]);
        let welcome = sent(&out);
        let SessionMsg::Welcome { conn } = welcome[0].1 else {
            panic!("{welcome:?}")
        };
        let out = step(
            &mut n1,
            CoreInput::Receive {
                from: b,
                msg: welcome[0].1.clone(),
            },
        );
        assert_eq!(noted(&out), vec!["n2 up true"]);

        // Data 1 before data 0: held, then both delivered in order, a duplicate dropped.
        let data = |seq: u64, text: &str| SessionMsg::Data {
            conn,
            seq,
            msg: text.to_string(),
        };
        let early = step(
            &mut n2,
            CoreInput::Receive {
                from: a,
                msg: data(1, "second"),
            },
        );
        assert!(sent(&early).is_empty(), "held, not delivered: {early:?}");
        let out = step(
            &mut n2,
            CoreInput::Receive {
                from: a,
                msg: data(0, "first"),
            },
        );
        let echoed: Vec<String> = sent(&out)
            .into_iter()
            .filter_map(|(_, m)| match m {
                SessionMsg::Data { msg, .. } => Some(msg),
                _ => None,
            })
            .collect();
        assert_eq!(echoed, vec!["first", "second"]);
        let dup = step(
            &mut n2,
            CoreInput::Receive {
                from: a,
                msg: data(0, "first"),
            },
        );
        assert!(sent(&dup).is_empty(), "a duplicate is dropped: {dup:?}");

        // A reset for the live connection breaks it; the lower id says hello again.
        let out = step(
            &mut n1,
            CoreInput::Receive {
                from: b,
                msg: SessionMsg::Reset { conn },
            },
        );
        assert_eq!(noted(&out), vec!["n2 up false"]);
        assert!(sent(&out)
            .iter()
            .any(|(to, m)| *to == b && matches!(m, SessionMsg::Hello { conn: c } if *c > conn)));
        // Data on the dead connection is answered with a reset.
        let out = step(
            &mut n1,
            CoreInput::Receive {
                from: b,
                msg: data(0, "late"),
            },
        );
        assert!(
            matches!(sent(&out)[..], [(to, SessionMsg::Reset { conn: c })] if to == b && c == conn)
        );
    }
}
