//! The faults both lanes hand to the message-level [`FaultLayer`] unchanged (per-link
//! rates, targeted rates for some message kinds, crashes armed on a send), applied in
//! one place so the lanes cannot drift apart. Partitions, heals, crashes and restarts
//! differ per lane (turmoil's links and hosts, or the fast lane's own) and stay there.

use crate::fault::{Fault, FaultLayer};
use crate::history::{EventKind, Trace};

/// Whether `fault` is one the fault layer carries by itself.
pub(super) fn is_layer_fault(fault: &Fault) -> bool {
    matches!(
        fault,
        Fault::LinkFaults { .. }
            | Fault::MessageFaults { .. }
            | Fault::CrashAfterSend { .. }
            | Fault::BreakConnection { .. }
            | Fault::Silent { .. }
            | Fault::Mutate { .. }
            | Fault::Replay { .. }
    )
}

/// Apply a layer fault (see [`is_layer_fault`]) at `now_ms`; the event that records it.
pub(super) fn apply_layer_fault<T: Trace>(
    layer: &mut FaultLayer,
    fault: &Fault,
    now_ms: u64,
) -> EventKind<T> {
    match fault {
        Fault::LinkFaults { link, faults } => {
            layer.set(*link, *faults);
            EventKind::link_faults_set(*link, faults)
        }
        Fault::MessageFaults {
            kinds,
            link,
            faults,
            duration_ms,
        } => {
            let until_ms = now_ms + duration_ms;
            layer.set_targeted(kinds, *link, *faults, until_ms);
            EventKind::message_faults_set(kinds, *link, faults, until_ms)
        }
        Fault::CrashAfterSend {
            node,
            kind,
            nth,
            down_ms,
        } => {
            layer.arm_crash(*node, kind, *nth, *down_ms);
            EventKind::CrashArmed {
                node: *node,
                kind: kind.clone(),
                nth: *nth,
                down_ms: *down_ms,
            }
        }
        Fault::BreakConnection { from, to } => {
            layer.arm_break(*from, *to);
            EventKind::BreakArmed {
                from: *from,
                to: *to,
            }
        }
        Fault::Silent { node } => {
            layer.set_silent(*node);
            EventKind::SilentSet { node: *node }
        }
        Fault::Mutate {
            node,
            kind,
            receivers,
            count,
            mutation,
            skip,
        } => {
            layer.arm_mutation(*node, kind, receivers, *count, *mutation, *skip);
            EventKind::MutationArmed {
                node: *node,
                kind: kind.clone(),
                receivers: receivers.clone(),
                count: *count,
                mutation: *mutation,
                skip: *skip,
            }
        }
        Fault::Replay {
            node,
            kind,
            receivers,
            count,
            nth,
        } => {
            layer.arm_replay(*node, kind, receivers, *count, *nth);
            EventKind::ReplayArmed {
                node: *node,
                kind: kind.clone(),
                receivers: receivers.clone(),
                count: *count,
                nth: *nth,
            }
        }
        other => panic!("{other:?} is not a fault-layer fault; the lane applies it"),
    }
}
