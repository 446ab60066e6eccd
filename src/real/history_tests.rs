use super::*;
use crate::protocol::BasicEvent;
use crate::real::check::check_files;
use crate::real::toy::{Toy, ToyNode};

type Kind = EventKind<ToyNode>;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "gauntlet-real-history-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The header node `id` writes at start `incarnation`, on a toy cluster of servers
/// n1..n3 and client n4.
fn header(id: u16, incarnation: u32, wall_ms: u64) -> HistoryHeader {
    HistoryHeader {
        gauntlet_history: HISTORY_FORMAT,
        protocol: "toy".into(),
        node: NodeId(id),
        incarnation,
        cluster: (1..=4).map(NodeId).collect(),
        params: serde_json::json!({"servers": [1, 2, 3]}),
        bugs: Vec::new(),
        wall_ms,
    }
}

/// Record as node `id` in `dir/n<id>/`, start `inc`, from wall clock `wall_ms`.
fn recorder(dir: &Path, id: u16, inc: u32, wall_ms: u64) -> FileRecorder<ToyNode> {
    let d = dir.join(format!("n{id}"));
    std::fs::create_dir_all(&d).unwrap();
    FileRecorder::open(&d, &header(id, inc, wall_ms)).unwrap()
}

fn decided(value: &str) -> Kind {
    EventKind::Protocol(BasicEvent::Decided(Value::new(value)))
}

fn started(incarnation: u32) -> Kind {
    EventKind::Started {
        incarnation,
        recovered: None,
    }
}

fn path_of(dir: &Path, id: u16) -> PathBuf {
    dir.join(format!("n{id}")).join(HISTORY_FILE)
}

/// What a recorder writes reads back: headers of two incarnations, sequence numbers
/// carrying the incarnation, events in order. Merging orders nodes by wall clock
/// without reordering any node's own events, puts the liveness phase after the last
/// start, and the protocol's judges see an agreement violation (and nothing else) written by separate
/// processes, with the silent client named.
#[test]
fn recorded_histories_read_back_merge_and_judge() {
    let dir = temp_dir("merge");
    for (id, value) in [(1, "A"), (2, "A"), (3, "B")] {
        let r = recorder(&dir, id, 0, 1_000 + id as u64);
        r.record(0, Some(NodeId(id)), started(0));
        let value = Value::new(value);
        r.record(
            4,
            Some(NodeId(id)),
            EventKind::ClientRequest {
                value: value.clone(),
            },
        );
        r.record(
            5,
            Some(NodeId(id)),
            EventKind::Protocol(BasicEvent::Decided(value)),
        );
    }
    let r = recorder(&dir, 2, 1, 2_000);
    r.record(0, Some(NodeId(2)), started(1));
    assert_eq!(r.recorded(), 1);

    let files: Vec<NodeHistory<ToyNode>> = (1..=3)
        .map(|id| read_history(&path_of(&dir, id), "toy").unwrap())
        .collect();
    assert_eq!(files[1].incarnations, 2);
    let seqs: Vec<u64> = files[1].lines.iter().map(|(_, l)| l.seq).collect();
    assert_eq!(seqs, vec![0, 1, 2, 1 << 32]);

    let merged = merge(&files).unwrap();
    assert_eq!(merged.unheard, vec![NodeId(4)]);
    assert!(merged.missing.is_empty());
    let rendered = merged.history.render();
    let order: Vec<String> = rendered
        .lines()
        .map(|l| l.split_whitespace().skip(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(order[0], "-- == phase Safety ==", "{rendered}");
    assert_eq!(
        order.last().map(String::as_str),
        Some("-- == end: end of the recorded histories ==")
    );
    let liveness = order.iter().position(|l| l.contains("phase Liveness"));
    let last_start = order.iter().rposition(|l| l.contains("start #"));
    assert_eq!(liveness, last_start.map(|i| i + 1), "{rendered}");
    assert!(order[1].starts_with("n1 start"), "{rendered}");

    let paths: Vec<PathBuf> = (1..=3).map(|id| path_of(&dir, id)).collect();
    let report = check_files(&Toy, &paths).unwrap();
    let properties: Vec<&str> = report
        .verdict
        .violations
        .iter()
        .map(|v| v.property)
        .collect();
    assert_eq!(properties, vec!["agreement"], "{rendered}");
    assert_eq!(report.unheard, vec![NodeId(4)], "nobody heard from n4");
    assert!(report.unjudged.is_empty(), "{:?}", report.unjudged);
    assert!(
        report.witnesses[0].contains("DECIDE B"),
        "{}",
        report.witnesses[0]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A missing history cannot fake a violation: the client n4 proposed X to every
/// server and each decided X, so without n4's file X looks unproposed. Since the
/// servers heard from n4, `check` sets validity (and liveness) aside as not judged,
/// showing what the files alone seem to say, and finds nothing broken; with n4's file
/// given, everything is judged and holds.
#[test]
fn a_missing_history_leaves_absence_properties_unjudged() {
    let dir = temp_dir("missing");
    let client = recorder(&dir, 4, 0, 1_000);
    client.record(0, Some(NodeId(4)), started(0));
    client.record(
        1,
        Some(NodeId(4)),
        EventKind::ClientRequest {
            value: Value::new("X"),
        },
    );
    for id in 1..=3 {
        let r = recorder(&dir, id, 0, 1_000 + id as u64);
        r.record(0, Some(NodeId(id)), started(0));
        r.record(
            3,
            Some(NodeId(id)),
            EventKind::Delivered {
                from: NodeId(4),
                msg_id: 1,
                msg: Value::new("X"),
            },
        );
        r.record(5, Some(NodeId(id)), decided("X"));
    }
    let servers: Vec<PathBuf> = (1..=3).map(|id| path_of(&dir, id)).collect();
    let report = check_files(&Toy, &servers).unwrap();
    assert_eq!(report.missing, vec![NodeId(4)]);
    assert!(report.verdict.violations.is_empty(), "{:?}", report.verdict);
    let unjudged: Vec<&str> = report.unjudged.iter().map(|u| u.property).collect();
    assert_eq!(unjudged, vec!["validity", "liveness"]);
    let apparent = &report.unjudged[0].apparent;
    assert_eq!(apparent.len(), 1, "X looks decided but never proposed");
    assert!(apparent[0].message.contains('X'), "{}", apparent[0]);

    let every: Vec<PathBuf> = (1..=4).map(|id| path_of(&dir, id)).collect();
    let report = check_files(&Toy, &every).unwrap();
    assert!(report.missing.is_empty());
    assert!(report.unjudged.is_empty());
    assert!(report.verdict.violations.is_empty(), "{:?}", report.verdict);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A recorder tells its runner about its own node's answer, the first one only, and
/// not about another node's decision (propose stops on its own node's answer).
#[test]
fn the_recorder_notes_its_own_nodes_first_answer() {
    let dir = temp_dir("answer");
    let r = recorder(&dir, 4, 0, 0);
    r.record(1, Some(NodeId(1)), decided("other"));
    assert_eq!(r.answer(), None);
    r.record(2, Some(NodeId(4)), decided("A"));
    r.record(3, Some(NodeId(4)), decided("B"));
    assert_eq!(r.answer(), Some(Value::new("A")));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Each way a history file can be wrong is refused with the file and line named.
#[test]
fn bad_history_files_are_refused_with_file_and_line() {
    let dir = temp_dir("bad");
    let head = |node: u16, inc: u32| serde_json::to_string(&header(node, inc, 0)).unwrap();
    let event = |seq: u64, node: u16| {
        serde_json::to_string(&HistoryLine::<ToyNode> {
            seq,
            wall_ms: 0,
            event: Event {
                at_ms: 0,
                node: Some(NodeId(node)),
                kind: started(0),
            },
        })
        .unwrap()
    };
    let with = |f: &dyn Fn(&mut HistoryHeader)| {
        let mut h = header(1, 0, 0);
        f(&mut h);
        serde_json::to_string(&h).unwrap()
    };
    let cases = [
        (String::new(), "no header", None),
        (event(0, 1), "before any header", Some(1)),
        (
            format!("{}\nnot json", head(1, 0)),
            "not a JSON line",
            Some(2),
        ),
        (
            format!("{}\n{}\n{}", head(1, 0), event(1, 1), event(1, 1)),
            "does not increase",
            Some(3),
        ),
        (
            format!("{}\n{}", head(1, 0), event(0, 2)),
            "in n1's history",
            Some(2),
        ),
        (
            format!("{}\n{}\n{}", head(1, 0), event(5, 1), head(1, 0)),
            "incarnation 0 starts below",
            Some(3),
        ),
        (
            format!("{}\n{}", head(1, 0), head(2, 1)),
            "does not match the first start",
            Some(2),
        ),
        (
            with(&|h| h.protocol = "other".into()),
            "a history of other, judged as toy",
            Some(1),
        ),
        (
            with(&|h| h.gauntlet_history = 1),
            "history format 1",
            Some(1),
        ),
        (
            with(&|h| h.node = NodeId(9)),
            "n9 is not in its own cluster",
            Some(1),
        ),
        (
            format!(
                "{}\n{}",
                head(1, 0),
                r#"{"seq":0,"wall_ms":0,"at_ms":0,"node":1,"kind":{"Nope":{}}}"#
            ),
            "Nope",
            Some(2),
        ),
        (
            format!(
                "{}\n{}",
                head(1, 0),
                r#"{"seq":0,"wall_ms":0,"at_ms":0,"node":1,"kind":{"RunEnded":{"reason":"cut"}}}"#
            ),
            "was cut",
            Some(2),
        ),
    ];
    for (i, (text, needle, line)) in cases.into_iter().enumerate() {
        let path = dir.join(format!("case{i}.jsonl"));
        std::fs::write(&path, &text).unwrap();
        let e = read_history::<ToyNode>(&path, "toy").expect_err(&text);
        assert_eq!(e.line, line, "{e}");
        let shown = e.to_string();
        assert!(
            shown.starts_with(&*path.to_string_lossy()) && shown.contains(needle),
            "{needle} not in {shown}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Files that cannot be one run are refused by the merge: two for one node, or
/// different parameters. A header whose run the protocol refuses is refused by check,
/// naming the first file's header line.
#[test]
fn histories_of_different_runs_do_not_merge() {
    let dir = temp_dir("runs");
    let write = |name: &str, h: &HistoryHeader| {
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_string(h).unwrap()).unwrap();
        path
    };
    let one = write("n1.jsonl", &header(1, 0, 0));
    let read = |p: &Path| read_history::<ToyNode>(p, "toy").unwrap();
    let e = merge(&[read(&one), read(&one)]).unwrap_err();
    assert!(e.to_string().contains("already has a history"), "{e}");
    let mut other = header(2, 0, 0);
    other.params = serde_json::json!({"servers": [1]});
    let two = write("n2.jsonl", &other);
    let e = merge(&[read(&one), read(&two)]).unwrap_err();
    assert!(e.to_string().contains("differs from"), "{e}");
    let mut bad = header(1, 0, 0);
    bad.params = serde_json::json!({"servers": [7]});
    let three = write("n3.jsonl", &bad);
    let e = check_files(&Toy, std::slice::from_ref(&three)).unwrap_err();
    assert_eq!(e.line, Some(1));
    assert!(e.to_string().contains("params.servers[0]"), "{e}");
    assert_eq!(history_protocol(&three).unwrap(), "toy");
    let junk = dir.join("junk.jsonl");
    std::fs::write(&junk, "{\"hello\":1}\n").unwrap();
    let e = history_protocol(&junk).unwrap_err();
    assert!(e.to_string().contains("junk.jsonl:1"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A flood of malformed datagrams writes at most `MALFORMED_LINES_PER_S_MAX` history
/// lines per second of the node's clock, counting the rest; the next second gets
/// lines again, and other events are never held back. Before, every datagram of a
/// flood wrote a history line and a log line (about 12 MB/s).
#[test]
fn malformed_lines_are_rate_limited() {
    let dir = temp_dir("malformed-rate");
    let r = recorder(&dir, 1, 0, 0);
    let bad = || Kind::Malformed {
        bytes: 3,
        error: "from 127.0.0.1:9: garbage".into(),
    };
    for _ in 0..1_000 {
        r.record(500, Some(NodeId(1)), bad());
    }
    r.record(600, Some(NodeId(1)), decided("Value_A"));
    for _ in 0..5 {
        r.record(1_200, Some(NodeId(1)), bad());
    }
    let text = std::fs::read_to_string(path_of(&dir, 1)).unwrap();
    let limit = MALFORMED_LINES_PER_S_MAX as usize;
    assert_eq!(text.matches("\"Malformed\"").count(), limit + 5, "{text}");
    assert!(text.contains("Value_A"));
    assert_eq!(r.malformed(), 1_005);
    assert_eq!(r.malformed_unrecorded(), 1_000 - MALFORMED_LINES_PER_S_MAX);
    let _ = std::fs::remove_dir_all(&dir);
}
