use super::*;
use crate::history::{History, Phase, Text};

fn n(id: u16) -> NodeId {
    NodeId(id)
}

#[allow(clippy::ptr_arg)] // the classifier takes the protocol's event type, here a String
fn decisions(event: &String) -> Option<Meaning> {
    event.starts_with("decide").then_some(Meaning::Decision)
}

/// A small run with every kind of message fate: delivered once, duplicated (two
/// deliveries), delayed, dropped, and lost to a partition.
fn history() -> History<Text> {
    let mut h = History::default();
    let msg = |s: &str| s.to_string();
    h.push(
        0,
        None,
        EventKind::PhaseStarted {
            phase: Phase::Safety,
        },
    );
    h.push(
        0,
        Some(n(1)),
        EventKind::Sent {
            to: n(2),
            msg_id: 1,
            msg: msg("Ping"),
        },
    );
    h.push(
        0,
        Some(n(1)),
        EventKind::Sent {
            to: n(3),
            msg_id: 2,
            msg: msg("Ping"),
        },
    );
    h.push(
        0,
        Some(n(1)),
        EventKind::Duplicated {
            to: n(3),
            msg_id: 2,
        },
    );
    h.push(
        0,
        Some(n(1)),
        EventKind::Sent {
            to: n(2),
            msg_id: 3,
            msg: msg("Late"),
        },
    );
    h.push(
        0,
        Some(n(1)),
        EventKind::Delayed {
            to: n(2),
            msg_id: 3,
            delay_ms: 7,
        },
    );
    h.push(
        0,
        Some(n(1)),
        EventKind::Sent {
            to: n(3),
            msg_id: 4,
            msg: msg("Gone"),
        },
    );
    h.push(
        0,
        Some(n(1)),
        EventKind::Dropped {
            to: n(3),
            msg_id: 4,
        },
    );
    h.push(
        1,
        None,
        EventKind::Partitioned {
            groups: vec![vec![n(1), n(2)], vec![n(3)]],
        },
    );
    h.push(
        2,
        Some(n(2)),
        EventKind::Delivered {
            from: n(1),
            msg_id: 1,
            msg: msg("Ping"),
        },
    );
    h.push(
        2,
        Some(n(3)),
        EventKind::Delivered {
            from: n(1),
            msg_id: 2,
            msg: msg("Ping"),
        },
    );
    h.push(
        3,
        Some(n(2)),
        EventKind::Sent {
            to: n(3),
            msg_id: 1,
            msg: msg("Cut"),
        },
    );
    h.push(
        3,
        Some(n(3)),
        EventKind::Delivered {
            from: n(1),
            msg_id: 2,
            msg: msg("Ping"),
        },
    );
    h.push(4, None, EventKind::Crashed { node: n(3) });
    h.push(6, None, EventKind::Healed);
    h.push(8, None, EventKind::Restarted { node: n(3) });
    h.push(
        9,
        Some(n(2)),
        EventKind::Delivered {
            from: n(1),
            msg_id: 3,
            msg: msg("Late"),
        },
    );
    h.push(9, Some(n(2)), EventKind::Protocol("decide X".into()));
    h.push(9, Some(n(2)), EventKind::Persisted { state: "x".into() });
    h
}

/// One arrow per delivered copy: a duplicate's two deliveries are two arrows from the
/// same send (the second marked as the copy), a delayed send carries its delay, and
/// each arrow names its send and delivery by history index.
#[test]
fn one_arrow_per_delivered_copy() {
    let model = Model::of(&history(), &decisions);
    let arrows: Vec<(Option<usize>, usize, u32, u64, &str)> = model
        .arrows
        .iter()
        .map(|a| (a.send, a.recv, a.copy, a.delay_ms, a.label.as_str()))
        .collect();
    assert_eq!(
        arrows,
        vec![
            (Some(1), 9, 0, 0, "Ping"),
            (Some(2), 10, 0, 0, "Ping"),
            (Some(2), 12, 1, 0, "Ping"),
            (Some(4), 16, 0, 7, "Late"),
        ]
    );
    assert_eq!(model.delivered(), 4);
    assert_eq!(model.lanes, vec!["n1", "n2", "n3"]);
}

/// Sends that never arrive are kept: the fault layer's drop names its event (the page
/// draws a cross there, at the sender), and a send lost to a cut link has none.
#[test]
fn undelivered_sends_are_lost_with_their_cause() {
    let model = Model::of(&history(), &decisions);
    let lost: Vec<(usize, usize, usize, Option<usize>)> = model
        .lost
        .iter()
        .map(|l| (l.send, l.from, l.to, l.dropped))
        .collect();
    assert_eq!(lost, vec![(6, 0, 2, Some(7)), (11, 1, 2, None)]);
}

/// A partition is a band from its event to the heal, over the gaps between adjacent
/// lanes it separates; a crash is downtime until the restart; every event is one
/// mark with its history index, and a decision is marked as one.
#[test]
fn partitions_crashes_and_marks() {
    let h = history();
    let model = Model::of(&h, &decisions);
    assert_eq!(model.bands.len(), 1);
    assert_eq!((model.bands[0].start, model.bands[0].end), (8, Some(14)));
    assert_eq!(
        model.bands[0].cuts,
        vec![1],
        "only n2|n3 is cut among neighbours"
    );
    assert_eq!(
        model.downs,
        vec![Down {
            lane: 2,
            start: 13,
            end: Some(15)
        }]
    );
    assert_eq!(model.marks.len(), h.len());
    for (i, mark) in model.marks.iter().enumerate() {
        assert_eq!(mark.index, i);
        assert_eq!(mark.text, render_event(&h.events[i]));
    }
    assert_eq!(model.marks[17].kind, MarkKind::Decision);
    assert_eq!(model.marks[18].kind, MarkKind::Persist);
    assert_eq!(
        model.marks[13].lane,
        Some(2),
        "a crash is drawn on its node's lane"
    );
    assert_eq!(model.marks[8].lane, None, "a partition is the harness's");
}

/// The page is one self-contained file: no external resource is named, and text from
/// the protocol cannot close the data block early.
#[test]
fn page_is_self_contained_and_escaped() {
    let mut h = history();
    h.push(
        10,
        Some(n(1)),
        EventKind::Protocol("</script><script>alert(1)</script>".into()),
    );
    let html = page(&Model::of(&h, &decisions).with_title("t <b>"));
    assert!(!html.contains("alert(1)</script>"), "protocol text escaped");
    assert!(html.contains("<title>t &lt;b&gt;</title>"));
    for external in ["src=\"http", "href=\"http", "@import", "url(http"] {
        assert!(
            !html.contains(external),
            "the page fetches nothing: {external}"
        );
    }
    assert_eq!(
        html.matches("</script>").count(),
        2,
        "the data block and the script"
    );
}

/// A twin gets its own lane, right after its node's and named `n1'`: its sends start
/// arrows on that lane (though they name `n1` as sender), what it receives ends on it,
/// and a partition band separates it from the nodes not on its side.
#[test]
fn a_twin_is_drawn_on_its_own_lane() {
    let mut h: History<Text> = History::default();
    let twin = |kind: EventKind<Text>| EventKind::Twin(Box::new(kind));
    h.push(
        0,
        None,
        EventKind::TwinSet {
            node: n(1),
            group: vec![n(3)],
        },
    );
    h.push(
        1,
        None,
        EventKind::Partitioned {
            groups: vec![vec![n(1), n(2)], vec![n(3)]],
        },
    );
    h.push(
        1,
        Some(n(1)),
        twin(EventKind::Sent {
            to: n(3),
            msg_id: 1 << 51,
            msg: "Twin".into(),
        }),
    );
    h.push(
        1,
        Some(n(1)),
        EventKind::Sent {
            to: n(2),
            msg_id: 1,
            msg: "Original".into(),
        },
    );
    h.push(
        2,
        Some(n(3)),
        EventKind::Delivered {
            from: n(1),
            msg_id: 1 << 51,
            msg: "Twin".into(),
        },
    );
    h.push(
        2,
        Some(n(1)),
        twin(EventKind::Delivered {
            from: n(3),
            msg_id: 7,
            msg: "Back".into(),
        }),
    );
    let model = Model::of(&h, &decisions);
    assert_eq!(model.lanes, vec!["n1", "n1'", "n2", "n3"]);
    let from_twin = model.arrows.iter().find(|a| a.label == "Twin").unwrap();
    assert_eq!((from_twin.from, from_twin.to), (1, 3));
    let to_twin = model.arrows.iter().find(|a| a.label == "Back").unwrap();
    assert_eq!(to_twin.to, 1);
    assert!(model
        .lost
        .iter()
        .any(|l| l.label == "Original" && l.from == 0));
    // n1 sits with n2, n1' with n3: every adjacent pair of lanes is cut apart.
    assert_eq!(model.bands[0].cuts, vec![0, 1, 2]);
    assert!(model.marks.iter().any(|m| m.text.contains("n1'")));
}
