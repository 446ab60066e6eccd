//! [`FaultyTransport`]: the network faults, as a decorator around a simulated network's
//! end. Every datagram a node sends passes through it: it asks the [`FaultLayer`] for
//! the message's fate (dropped, delivered once or twice, each copy held back or not)
//! and each copy's latency, records what it did to the message in the node's history,
//! and hands the copies to the network. The node shell knows nothing of faults: it
//! sends, and the decorator breaks.

use super::{FaultLayer, Verdict};
use crate::history::EventKind;
use crate::ids::NodeId;
use crate::net::{split, Transport};
use crate::node::Recorder;
use crate::protocol::Core;
use std::cell::RefCell;
use std::io;
use std::marker::PhantomData;
use std::rc::Rc;
use std::time::Duration;

/// The network end a [`FaultyTransport`] wraps: it takes a datagram with the latency
/// the fault layer drew for it.
#[allow(async_fn_in_trait)] // used only with concrete, single-threaded impls
pub trait SimLink {
    /// Put `datagram` in flight to `to`, due `latency_ms` from now.
    fn send_in(&self, to: NodeId, datagram: &[u8], latency_ms: u64);
    /// As [`Transport::try_recv`].
    fn try_recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>>;
    /// As [`Transport::ready`].
    async fn ready(&self) -> io::Result<()>;
}

/// A node's [`Transport`] with the network's faults in front of it.
pub struct FaultyTransport<C: Core, L> {
    link: Rc<L>,
    layer: Rc<RefCell<FaultLayer>>,
    me: NodeId,
    clock: Rc<dyn Fn() -> u64>,
    recorder: Rc<dyn Recorder<C>>,
    /// Whether this is the end of `me`'s twin ([`super::Fault::Twin`]): it draws from
    /// the twin's own streams, and no other Byzantine fault is armed for it.
    twin: bool,
    core: PhantomData<C>,
}

impl<C: Core, L: SimLink + 'static> FaultyTransport<C, L> {
    /// Node `me`'s end of `link`, breaking messages as `layer` says and recording
    /// what it did through `recorder` at `clock`'s time.
    pub fn new(
        link: L,
        layer: Rc<RefCell<FaultLayer>>,
        me: NodeId,
        clock: Rc<dyn Fn() -> u64>,
        recorder: Rc<dyn Recorder<C>>,
    ) -> Self {
        FaultyTransport {
            link: Rc::new(link),
            layer,
            me,
            clock,
            recorder,
            twin: false,
            core: PhantomData,
        }
    }

    /// The same end, for `me`'s twin.
    pub fn as_twin(mut self) -> Self {
        self.twin = true;
        self
    }

    fn record(&self, kind: EventKind<C>) {
        self.recorder.record((self.clock)(), Some(self.me), kind);
    }
}

impl<C: Core, L: SimLink + 'static> Transport for FaultyTransport<C, L> {
    /// Decide the datagram's fate from its message's kind (targeted faults and crash
    /// triggers aim at kinds), record a drop, a duplicate or a delay, and put each copy
    /// in flight with its latency; a held-back copy is sent by a task of the node's
    /// own, so it dies with the node (a crash drops what it had not yet sent).
    async fn send(&self, to: NodeId, datagram: &[u8]) -> io::Result<()> {
        let (header, payload) = split(datagram, C::MESSAGE_BYTES_MAX)
            .unwrap_or_else(|e| panic!("{} sent a datagram it cannot read: {e}", self.me));
        let msg = C::decode_msg(payload)
            .unwrap_or_else(|e| panic!("{} sent a message it cannot read: {e}", self.me));
        let now_ms = (self.clock)();
        let verdict = if self.twin {
            self.layer
                .borrow_mut()
                .verdict_of_twin(self.me, to, C::msg_kind(&msg), now_ms)
        } else {
            self.layer
                .borrow_mut()
                .verdict(self.me, to, C::msg_kind(&msg), now_ms)
        };
        let msg_id = header.msg_id;
        let copies = match verdict {
            Verdict::Drop => {
                self.record(EventKind::Dropped { to, msg_id });
                return Ok(());
            }
            Verdict::Deliver { copies } => copies,
        };
        if copies.len() > 1 {
            self.record(EventKind::Duplicated { to, msg_id });
        }
        for copy in copies {
            if copy.delay_ms == 0 {
                self.link.send_in(to, datagram, copy.latency_ms);
            } else {
                self.record(EventKind::Delayed {
                    to,
                    msg_id,
                    delay_ms: copy.delay_ms,
                });
                let link = Rc::clone(&self.link);
                let datagram = datagram.to_vec();
                tokio::task::spawn_local(async move {
                    tokio::time::sleep(Duration::from_millis(copy.delay_ms)).await;
                    link.send_in(to, &datagram, copy.latency_ms);
                });
            }
        }
        Ok(())
    }

    fn try_recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        self.link.try_recv(buf)
    }

    fn mutation(&self, to: NodeId, kind: &str) -> Option<u32> {
        if self.twin {
            return None;
        }
        self.layer.borrow_mut().mutation(self.me, to, kind)
    }

    fn replay(&self, to: NodeId, kind: &str) -> Option<u32> {
        if self.twin {
            return None;
        }
        self.layer.borrow_mut().replay(self.me, to, kind)
    }

    fn remembers(&self) -> bool {
        !self.twin && self.layer.borrow().remembers(self.me)
    }

    async fn ready(&self) -> io::Result<()> {
        self.link.ready().await
    }
}
