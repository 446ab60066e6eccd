//! Canonical one-line rendering of an event: `   123ms n1 ...`. Faults and crashes are
//! marked with `!!` so they stand out when reading a trace.

use super::Trace;
use super::{Event, EventKind};
use crate::ids::NodeId;
use std::fmt::Write;

fn list(nodes: &[NodeId]) -> String {
    let names: Vec<String> = nodes.iter().map(|n| n.to_string()).collect();
    format!("[{}]", names.join(","))
}

/// One event as one line of the canonical trace.
pub fn render_event<T: Trace>(e: &Event<T>) -> String {
    let mut line = format!("{:>6}ms ", e.at_ms);
    match (e.node, &e.kind) {
        (Some(n), EventKind::Twin(kind)) => {
            write!(line, "{:<4} ", format!("{n}'")).unwrap();
            line.push_str(&render_body(kind));
            return line;
        }
        (Some(n), _) => write!(line, "{n:<4}").unwrap(),
        (None, _) => line.push_str("--  "),
    }
    line.push(' ');
    line.push_str(&render_body(&e.kind));
    line
}

/// What an event says, without its time and node: the end of its trace line.
pub fn render_body<T: Trace>(kind: &EventKind<T>) -> String {
    match kind {
        EventKind::PhaseStarted { phase } => format!("== phase {phase:?} =="),
        EventKind::Partitioned { groups } => {
            let g: Vec<String> = groups.iter().map(|g| list(g)).collect();
            format!("!! partition {}", g.join(" | "))
        }
        EventKind::PartitionedOneWay { from, to } => {
            format!("!! one-way partition {} -/-> {}", list(from), list(to))
        }
        EventKind::Healed => "!! heal all links".into(),
        EventKind::LinkFaultsSet {
            link,
            drop_probability,
            duplicate_probability,
            delay_ms_max,
        } => {
            let on = link.map_or("all links".into(), |(a, b)| format!("{a}->{b}"));
            format!(
                "!! faults on {on}: drop={drop_probability:.3} dup={duplicate_probability:.3} delay<={delay_ms_max}ms"
            )
        }
        EventKind::MessageFaultsSet {
            kinds,
            link,
            drop_probability,
            duplicate_probability,
            delay_ms_max,
            until_ms,
        } => {
            let on = link.map_or("all links".into(), |(a, b)| format!("{a}->{b}"));
            format!(
                "!! faults on {} messages on {on} until {until_ms}ms: drop={drop_probability:.3} dup={duplicate_probability:.3} delay<={delay_ms_max}ms",
                kinds.join("+")
            )
        }
        EventKind::CrashArmed {
            node,
            kind,
            nth,
            down_ms,
        } => {
            let back = down_ms.map_or("at the liveness phase".into(), |d| format!("{d}ms later"));
            format!("!! arm: crash {node} after its send #{nth} of {kind} from now; restart {back}")
        }
        EventKind::BreakArmed { from, to } => {
            format!("!! arm: lose the next datagram {from} -> {to} (a connection break)")
        }
        EventKind::SilentSet { node } => format!("!! byzantine: {node} falls silent"),
        EventKind::MutationArmed {
            node,
            kind,
            receivers,
            count,
            mutation,
            skip,
        } => {
            let after = if *skip > 0 {
                format!(" after {skip}")
            } else {
                String::new()
            };
            format!(
                "!! byzantine: {node} mutates its next {count} {kind}{after} to {} (mutation {mutation})",
                crate::protocol::node_list(receivers)
            )
        }
        EventKind::ReplayArmed {
            node,
            kind,
            receivers,
            count,
            nth,
        } => format!(
            "!! byzantine: {node} replays instead of its next {count} {kind} to {} (its message #{nth} back)",
            crate::protocol::node_list(receivers)
        ),
        EventKind::TwinSet { node, group } => format!(
            "!! byzantine: a twin of {node} runs, on the side of {} in a partition",
            crate::protocol::node_list(group)
        ),
        EventKind::StrategySet {
            node,
            strategy,
            until_ms,
        } => {
            let until = until_ms.map_or("the end of the run".into(), |t| format!("{t}ms"));
            format!("!! byzantine: {node} runs the adversary {strategy} until {until}")
        }
        EventKind::StrategyEnded { node } => {
            format!("!! byzantine: {node}'s adversary ends; its honest core resumes")
        }
        EventKind::Crashed { node } => format!("!! crash {node}"),
        EventKind::Restarted { node } => format!("!! restart {node}"),
        EventKind::RunEnded { reason } => format!("== end: {reason} =="),
        EventKind::HistoryThinned { events } => format!(
            "== history thinned after {events} events: sends, deliveries, drops, delays and persists are no longer recorded =="
        ),
        EventKind::Started {
            incarnation,
            recovered,
        } => match recovered {
            Some(state) => format!("start #{incarnation} ({state})"),
            None => format!("start #{incarnation} (empty disk)"),
        },
        EventKind::ClientRequest { value } => format!("client asks to propose {value}"),
        EventKind::Sent { to, msg_id, msg } => format!("send -> {to} #{msg_id} {msg}"),
        EventKind::Mutated { to, mutation } => {
            format!("!! byzantine: mutation {mutation} of the next send -> {to}")
        }
        EventKind::Replayed { to, nth } => {
            format!("!! byzantine: replay of its message #{nth} back, as the next send -> {to}")
        }
        EventKind::Dropped { to, msg_id } => format!("!! drop -> {to} #{msg_id}"),
        EventKind::Duplicated { to, msg_id } => format!("!! duplicate -> {to} #{msg_id}"),
        EventKind::Delayed {
            to,
            msg_id,
            delay_ms,
        } => format!("!! delay -> {to} #{msg_id} by {delay_ms}ms"),
        EventKind::Delivered { from, msg_id, msg } => format!("recv <- {from} #{msg_id} {msg}"),
        EventKind::Malformed { bytes, error } => {
            format!("!! malformed datagram ({bytes} bytes): {error}")
        }
        EventKind::Persisted { state } => format!("persist {state}"),
        EventKind::WrittenUnsynced { state } => format!("write WITHOUT fsync {state}"),
        EventKind::LogRecovered { len } => format!("log of {len} entries recovered"),
        EventKind::Appended { entries } => format!("append {}", entry_list(entries)),
        EventKind::AppendedUnsynced { entries } => {
            format!("append WITHOUT fsync {}", entry_list(entries))
        }
        EventKind::Truncated { len } => format!("truncate log to {len} entries"),
        EventKind::Protocol(event) => event.to_string(),
        EventKind::Twin(kind) => format!("(twin) {}", render_body(kind)),
    }
}

/// Log entries as a trace shows them: `[a, b, c]`.
fn entry_list<E: std::fmt::Display>(entries: &[E]) -> String {
    let mut text = String::from("[");
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        text.push_str(&entry.to_string());
    }
    text.push(']');
    text
}
