//! The send path every node shell shares, whatever its protocol: carry out the fault
//! layer's verdict on one message. The shell asks the layer for the verdict (it knows
//! the message), then hands it here with the encoded datagram.

use crate::fault::Verdict;
use crate::history::{EventKind, Trace};
use crate::ids::NodeId;
use crate::net::Transport;
use std::rc::Rc;
use std::time::Duration;

/// Send message `msg_id` to `to` as `verdict` says: dropped, delivered once or twice,
/// each copy maybe late, each with its network latency. Records the drop, the
/// duplicate and each delay through `record`. A late copy is sent by a spawned local
/// task, so it dies with the node (a crash drops what the node had not yet handed to
/// the network). `datagram` is only built for a message that is not dropped.
pub async fn send_with_verdict<C: Trace, T: Transport + 'static>(
    transport: &Rc<T>,
    to: NodeId,
    msg_id: u64,
    verdict: Verdict,
    datagram: impl FnOnce() -> Vec<u8>,
    record: &dyn Fn(EventKind<C>),
) {
    let copies = match verdict {
        Verdict::Drop => {
            record(EventKind::Dropped { to, msg_id });
            return;
        }
        Verdict::Deliver { copies } => copies,
    };
    if copies.len() > 1 {
        record(EventKind::Duplicated { to, msg_id });
    }
    let datagram = datagram();
    for copy in copies {
        if copy.delay_ms == 0 {
            // UDP semantics: a failed send is a lost message, not an error.
            let _ = transport.send(to, &datagram, copy.latency_ms).await;
        } else {
            record(EventKind::Delayed {
                to,
                msg_id,
                delay_ms: copy.delay_ms,
            });
            let transport = Rc::clone(transport);
            let datagram = datagram.clone();
            tokio::task::spawn_local(async move {
                tokio::time::sleep(Duration::from_millis(copy.delay_ms)).await;
                let _ = transport.send(to, &datagram, copy.latency_ms).await;
            });
        }
    }
}
