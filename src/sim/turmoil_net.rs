//! The turmoil world's network: gauntlet's own, not turmoil's, so that a datagram
//! arrives exactly when the fault layer's draw says, as in the fast world. Each node
//! has an inbox ordered by (due time, sender, message id, arrival order); a node
//! shell takes from it only what is due ([`Transport::try_recv`]), after its client
//! request and timers of the same millisecond. turmoil still runs every node's async
//! software on its own host, with its clock, crashes and filesystem.

use super::wires::Wires;
use crate::fault::SimLink;
use crate::ids::NodeId;
use crate::net::{split, Transport};
use crate::node::Cue;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::rc::Rc;
use std::time::Duration;
use tokio::sync::Notify;

/// Most datagrams one inbox holds; beyond it the run ends as a harness error (the
/// turmoil world checks [`SimNet::overflowed`] after every tick).
pub const INBOX_DATAGRAMS_MAX: usize = 65_536;

/// Where a datagram waits: `(due_ms, sender's position, msg_id, arrival)`. A sender's
/// position is its node's place in the cluster, or after every node for a twin
/// (`super::wires`), the order in which the fast world takes a millisecond's
/// datagrams.
type InboxKey = (u64, usize, u64, u64);

struct Queued {
    datagram: Vec<u8>,
    /// The sender's position.
    from: usize,
    /// The link's cut count when the datagram entered the network.
    cut_count: u64,
}

#[derive(Default)]
struct Inbox {
    queue: BTreeMap<InboxKey, Queued>,
    /// Wakes the node when a datagram lands (it may be due before what it waits for),
    /// or a datagram or cue of a script comes due.
    notify: Rc<Notify>,
    /// A scripted run's cues for the node, not yet taken ([`crate::node::Cue`]).
    cues: std::collections::VecDeque<Cue>,
}

/// The due time of a datagram a scripted run holds until its delivery step
/// ([`SimNet::release`]): never, by time.
pub(crate) const HELD: u64 = u64::MAX;

/// The network of one turmoil run: its links and every endpoint's inbox (the nodes',
/// then their twins').
pub(crate) struct SimNet {
    pub wires: Wires,
    inboxes: Vec<Inbox>,
    /// The twin endpoint of each node that has one, by the node's position.
    twin_of: Vec<Option<usize>>,
    /// Whether each endpoint's twin has started (false for the nodes).
    twin_started: Vec<bool>,
    arrivals: u64,
    /// Datagrams refused by a full inbox: any ends the run.
    pub overflowed: u64,
}

impl SimNet {
    #[cfg(test)]
    pub fn new(ids: &[NodeId]) -> Self {
        SimNet::with_twins(ids, &[])
    }

    /// The network of `ids` and of a twin for each of `twins` (endpoints after the
    /// nodes, in that order).
    pub fn with_twins(ids: &[NodeId], twins: &[NodeId]) -> Self {
        let mut twin_of = vec![None; if twins.is_empty() { 0 } else { ids.len() }];
        for (k, twin) in twins.iter().enumerate() {
            if let Some(i) = ids.iter().position(|id| id == twin) {
                twin_of[i] = Some(ids.len() + k);
            }
        }
        let endpoints = ids.len() + twins.len();
        SimNet {
            wires: Wires::with_twins(ids, twins.len()),
            inboxes: (0..endpoints).map(|_| Inbox::default()).collect(),
            twin_of,
            twin_started: vec![false; endpoints],
            arrivals: 0,
            overflowed: 0,
        }
    }

    /// The position of `node`'s twin endpoint, if the run has one.
    pub fn twin_position(&self, node: NodeId) -> Option<usize> {
        let i = self.wires.position(node)?;
        self.twin_of.get(i).copied().flatten()
    }

    /// The twin of `node` runs from now on: datagrams to `node` reach it too.
    pub fn start_twin(&mut self, node: NodeId) {
        if let Some(t) = self.twin_position(node) {
            self.twin_started[t] = true;
        }
    }

    /// The node restarts at `now_ms`: what fell due while it was down was lost (it
    /// had no socket then); what falls due from now on reaches the new incarnation,
    /// as in the fast world, where a datagram is judged when it is due.
    pub fn restart(&mut self, node: NodeId, now_ms: u64) {
        if let Some(inbox) = self
            .wires
            .position(node)
            .and_then(|i| self.inboxes.get_mut(i))
        {
            inbox.queue.retain(|&(due, ..), _| due >= now_ms);
        }
    }

    /// A scripted run's step: the first held copy of `msg_id` from `from` to `to`
    /// comes due at `now_ms`, and `to` wakes for it. Whether one was held.
    pub fn release(&mut self, from: NodeId, to: NodeId, msg_id: u64, now_ms: u64) -> bool {
        let Some((key, at)) = self.held(from, to, msg_id) else {
            return false;
        };
        let inbox = &mut self.inboxes[at];
        let queued = inbox.queue.remove(&key).expect("key just found");
        inbox.queue.insert((now_ms, key.1, key.2, key.3), queued);
        inbox.notify.notify_one();
        true
    }

    /// A scripted run's step: the first held copy of `msg_id` from `from` to `to` is
    /// lost. Whether one was held.
    pub fn drop_held(&mut self, from: NodeId, to: NodeId, msg_id: u64) -> bool {
        let Some((key, at)) = self.held(from, to, msg_id) else {
            return false;
        };
        self.inboxes[at].queue.remove(&key);
        true
    }

    /// A scripted run's step: one more copy of `msg_id` from `from` to `to` is held,
    /// after the others. Whether one was held to copy.
    pub fn duplicate_held(&mut self, from: NodeId, to: NodeId, msg_id: u64) -> bool {
        let Some((key, at)) = self.held(from, to, msg_id) else {
            return false;
        };
        let inbox = &self.inboxes[at];
        let queued = &inbox.queue[&key];
        let copy = Queued {
            datagram: queued.datagram.clone(),
            from: queued.from,
            cut_count: queued.cut_count,
        };
        if inbox.queue.len() >= INBOX_DATAGRAMS_MAX {
            self.overflowed = self.overflowed.saturating_add(1);
            return true;
        }
        self.arrivals += 1;
        let arrival = self.arrivals;
        self.inboxes[at]
            .queue
            .insert((HELD, key.1, key.2, arrival), copy);
        true
    }

    /// The key and inbox of the first held copy of `msg_id` from `from` to `to`.
    fn held(&self, from: NodeId, to: NodeId, msg_id: u64) -> Option<(InboxKey, usize)> {
        let (f, t) = (self.wires.position(from)?, self.wires.position(to)?);
        let range = (HELD, f, msg_id, 0)..=(HELD, f, msg_id, u64::MAX);
        let (&key, _) = self.inboxes.get(t)?.queue.range(range).next()?;
        Some((key, t))
    }

    /// A scripted run's step: `node` is cued (a timer fires, its request arrives) and
    /// wakes for it.
    pub fn cue(&mut self, node: NodeId, cue: Cue) {
        if let Some(inbox) = self
            .wires
            .position(node)
            .and_then(|i| self.inboxes.get_mut(i))
        {
            inbox.cues.push_back(cue);
            inbox.notify.notify_one();
        }
    }

    /// The next cue for the endpoint at `at`, taking it.
    pub fn take_cue(&mut self, at: usize) -> Option<Cue> {
        self.inboxes.get_mut(at)?.cues.pop_front()
    }

    /// A datagram from the endpoint at `from` to `to` enters the network: `to`'s
    /// inbox gets it and, if one runs, `to`'s twin's, each on its own link.
    fn enqueue(&mut self, from: usize, to: NodeId, datagram: &[u8], due_ms: u64, msg_id: u64) {
        let Some(to) = self.wires.position(to) else {
            return; // no such node: UDP loses it
        };
        let twin = self
            .twin_of
            .get(to)
            .copied()
            .flatten()
            .filter(|&t| self.twin_started[t]);
        self.enqueue_at(from, to, datagram, due_ms, msg_id);
        if let Some(twin) = twin {
            self.enqueue_at(from, twin, datagram, due_ms, msg_id);
        }
    }

    fn enqueue_at(&mut self, from: usize, to: usize, datagram: &[u8], due_ms: u64, msg_id: u64) {
        let Some(cut_count) = self.wires.enter_at(from, to) else {
            return; // the link is cut: lost at once
        };
        self.arrivals += 1;
        let arrival = self.arrivals;
        let inbox = &mut self.inboxes[to];
        if inbox.queue.len() >= INBOX_DATAGRAMS_MAX {
            self.overflowed = self.overflowed.saturating_add(1);
            return;
        }
        inbox.queue.insert(
            (due_ms, from, msg_id, arrival),
            Queued {
                datagram: datagram.to_vec(),
                from,
                cut_count,
            },
        );
        inbox.notify.notify_one();
    }

    /// The first datagram due by `now_ms` at endpoint `at` whose link was not cut
    /// since it was sent.
    fn take_due(&mut self, at: usize, now_ms: u64) -> Option<Vec<u8>> {
        loop {
            let inbox = self.inboxes.get_mut(at)?;
            let (&key, _) = inbox.queue.first_key_value()?;
            if key.0 > now_ms {
                return None;
            }
            let queued = inbox.queue.remove(&key).expect("key just seen");
            if self.wires.intact_at(queued.from, at, queued.cut_count) {
                return Some(queued.datagram);
            }
        }
    }

    /// When the endpoint at `at` next has a datagram due (never for one held by a
    /// script), or now if a cue waits for it.
    fn next_due(&self, at: usize, now_ms: u64) -> Option<u64> {
        let inbox = self.inboxes.get(at)?;
        if !inbox.cues.is_empty() {
            return Some(now_ms);
        }
        inbox
            .queue
            .first_key_value()
            .map(|(k, _)| k.0)
            .filter(|&due| due != HELD)
    }

    fn notify(&self, at: usize) -> Option<Rc<Notify>> {
        self.inboxes.get(at).map(|i| Rc::clone(&i.notify))
    }
}

/// One node's end of the [`SimNet`]. It is not a [`Transport`] by itself: the fault
/// layer's decorator (`crate::fault::FaultyTransport`) decides each datagram's fate and
/// latency and hands it on through [`SimLink`].
///
/// [`Transport`]: crate::net::Transport
pub struct SimTransport {
    /// This end's position: its node's, or its twin's (`super::wires`).
    pub(crate) me: usize,
    pub(crate) net: Rc<RefCell<SimNet>>,
    pub(crate) clock: fn() -> u64,
}

impl SimLink for SimTransport {
    fn send_in(&self, to: NodeId, datagram: &[u8], latency_ms: u64) {
        // The envelope names the sender and the message: the inbox orders by them.
        let msg_id = split(datagram, crate::protocol::MESSAGE_BYTES_LIMIT)
            .map_or(0, |(header, _)| header.msg_id);
        let due_ms = (self.clock)() + latency_ms;
        self.net
            .borrow_mut()
            .enqueue(self.me, to, datagram, due_ms, msg_id);
    }

    fn try_recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        let now_ms = (self.clock)();
        let Some(datagram) = self.net.borrow_mut().take_due(self.me, now_ms) else {
            return Ok(None);
        };
        let kept = datagram.len().min(buf.len());
        buf[..kept].copy_from_slice(&datagram[..kept]);
        Ok(Some(kept))
    }

    async fn ready(&self) -> io::Result<()> {
        let Some(notify) = self.net.borrow().notify(self.me) else {
            return std::future::pending().await;
        };
        loop {
            let now_ms = (self.clock)();
            let next = self.net.borrow().next_due(self.me, now_ms);
            match next {
                Some(due) if due <= now_ms => return Ok(()),
                Some(due) => {
                    tokio::select! {
                        biased;
                        _ = tokio::time::sleep(Duration::from_millis(due - now_ms)) => {}
                        _ = notify.notified() => {}
                    }
                }
                None => notify.notified().await,
            }
        }
    }
}

/// A node's end of the [`SimNet`] in a scripted run: no fault layer (the script is
/// the adversary) and no latency; every datagram sent is held in its receiver's inbox
/// until the script's step delivers, drops or copies it ([`SimNet::release`]).
pub struct ScriptedTransport(pub SimTransport);

impl ScriptedTransport {
    /// The next cue of this end's node, taking it.
    pub fn cues(&self) -> crate::node::Cues {
        let (net, me) = (Rc::clone(&self.0.net), self.0.me);
        Rc::new(move || net.borrow_mut().take_cue(me))
    }
}

impl Transport for ScriptedTransport {
    async fn send(&self, to: NodeId, datagram: &[u8]) -> io::Result<()> {
        let msg_id = split(datagram, crate::protocol::MESSAGE_BYTES_LIMIT)
            .map_or(0, |(header, _)| header.msg_id);
        self.0
            .net
            .borrow_mut()
            .enqueue(self.0.me, to, datagram, HELD, msg_id);
        Ok(())
    }

    fn try_recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        self.0.try_recv(buf)
    }

    async fn ready(&self) -> io::Result<()> {
        self.0.ready().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An inbox holds at most `INBOX_DATAGRAMS_MAX` datagrams; one more is refused and
    /// counted (the turmoil world then ends the run), and a cut link loses a datagram
    /// at once without counting it.
    #[test]
    fn a_full_inbox_refuses_and_counts() {
        let (a, b) = (NodeId(1), NodeId(2));
        let mut net = SimNet::new(&[a, b]);
        for i in 0..INBOX_DATAGRAMS_MAX as u64 {
            net.enqueue(0, b, b"x", 5, i);
        }
        assert_eq!(net.overflowed, 0);
        net.enqueue(0, b, b"x", 5, u64::MAX);
        assert_eq!(net.overflowed, 1);
        net.wires.cut(b, a);
        net.enqueue(1, a, b"y", 5, 0);
        assert_eq!(net.overflowed, 1);
        assert_eq!(net.next_due(0, 0), None, "the cut link delivered nothing");
    }
}
