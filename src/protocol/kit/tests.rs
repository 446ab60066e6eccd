//! The adapter kit, piece by piece, over a tiny core whose log entries and state are
//! text and whose events are slot decisions or library panics: each helper does what
//! its docs say, and each check the kit adds (the panic judge, the log settle rule)
//! fires on the history that breaks it and stays quiet on one that does not.

use super::*;
use crate::history::History;
use crate::protocol::{prepare, Context, CoreInput, Draft, Peers, RunSetup, Verdict};
use crate::scenario::{Cluster, Scenario};
use rand_chacha::ChaCha8Rng;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum KitEvent {
    Decided { slot: u64, value: Value },
    Panicked(String),
}

impl fmt::Display for KitEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

impl PanicEvent for KitEvent {
    fn panic_message(&self) -> Option<&str> {
        match self {
            KitEvent::Panicked(message) => Some(message),
            KitEvent::Decided { .. } => None,
        }
    }
}

#[derive(Debug, Clone)]
struct Tiny;

impl Core for Tiny {
    type Msg = String;
    type State = String;
    type Event = KitEvent;
    type Timer = ();
    type Entry = String;

    fn step(&mut self, _: &mut Context<'_>, _: CoreInput<Self>, _: &mut Vec<CoreOutput<Self>>) {}

    fn observe(event: &KitEvent) -> Option<Observation> {
        match event {
            KitEvent::Decided { slot, value } => Some(Observation::SlotDecided {
                slot: *slot,
                value: value.clone(),
            }),
            KitEvent::Panicked(_) => None,
        }
    }
}

struct TinyProtocol;

impl Protocol for TinyProtocol {
    type Core = Tiny;
    type Params = ();

    fn name(&self) -> &'static str {
        "tiny"
    }

    fn draft(&self, rng: &mut ChaCha8Rng) -> Draft<()> {
        let peers = Peers {
            sizes: &[2],
            horizon_ms: (100, 100),
            propose_at_start: true,
            liveness_bound_ms: 1_000,
        };
        peers.draft(rng, ())
    }

    fn core(&self, _: &RunSetup<Self>, _: NodeId) -> Tiny {
        Tiny
    }

    fn deciders(&self, setup: &RunSetup<Self>) -> Vec<NodeId> {
        setup.scenario.cluster.ids()
    }

    fn properties(&self) -> Vec<Judge<Self>> {
        vec![panic_judge()]
    }
}

fn v(s: &str) -> Value {
    Value::new(s)
}

fn ev(at_ms: u64, node: Option<u16>, kind: EventKind<Tiny>) -> Event<Tiny> {
    Event {
        at_ms,
        node: node.map(NodeId),
        kind,
    }
}

fn decided(node: u16, slot: u64, value: &str) -> Event<Tiny> {
    let event = KitEvent::Decided {
        slot,
        value: v(value),
    };
    ev(10, Some(node), EventKind::Protocol(event))
}

fn request(node: u16, value: &str) -> Event<Tiny> {
    ev(0, Some(node), EventKind::ClientRequest { value: v(value) })
}

/// A protobuf-like message type: `Debug` names the variant, as protobuf enums do.
#[derive(Debug, Clone, PartialEq)]
enum WireKind {
    MsgAppend,
    Msg,
    Forward(u8),
    Vote { term: u64 },
    AVariantWhoseNameIsFarLongerThanAnyListedMessageKindCouldBe,
}

/// A foreign message, and a one-byte codec for it that refuses byte 0xff.
#[derive(Debug, Clone, PartialEq)]
struct Wire {
    tag: u8,
}

struct OneByte;

impl Codec<Wire> for OneByte {
    fn encode(value: &Wire, out: &mut Vec<u8>) {
        out.push(value.tag);
    }
    fn decode(bytes: &[u8]) -> Result<Wire, String> {
        match bytes {
            [tag] if *tag != 0xff => Ok(Wire { tag: *tag }),
            _ => Err(format!("bad wire bytes {bytes:?}")),
        }
    }
}

type Foreign1<T> = Foreign<T, OneByte>;

/// A `Debug` that spreads over lines, as derived pretty `Debug`s and protobuf's do.
struct Lines;

impl Debug for Lines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Msg {\n    term: 3,\n\tto:  2\n}")
    }
}

/// A foreign value is shown by its `Debug` on one line, stored as the hex of its
/// codec's bytes, sent as the bytes themselves, and bad input is an error.
#[test]
fn foreign_payloads_show_debug_and_store_their_codec_bytes() {
    assert_eq!(Foreign1::new(Lines).to_string(), "Msg { term: 3, to: 2 }");
    assert_eq!(format!("{:?}", Foreign1::new(Lines)), format!("{Lines:?}"));

    let msg = Foreign1::new(Wire { tag: 0xab });
    assert_eq!(serde_json::to_string(&msg).unwrap(), "\"ab\"");
    let back: Foreign1<Wire> = serde_json::from_str("\"ab\"").unwrap();
    assert_eq!(back, msg);
    for bad in ["\"abc\"", "\"AB\"", "\"zz\"", "\"ff\"", "\"\""] {
        assert!(
            serde_json::from_str::<Foreign1<Wire>>(bad).is_err(),
            "{bad} parsed"
        );
    }
    let mut bytes = Vec::new();
    encode_foreign(&msg, &mut bytes);
    assert_eq!(bytes, [0xab]);
    assert_eq!(decode_foreign::<Wire, OneByte>(&bytes), Ok(msg));
    assert!(decode_foreign::<Wire, OneByte>(&[1, 2]).is_err());
}

/// A kind label is the `Debug` name when it is listed, as a whole word, and
/// `other` for anything else (an unlisted name, a listed prefix of a longer name, a
/// name too long to read).
#[test]
fn kind_labels_come_from_the_debug_name() {
    const KINDS: &[&str] = &["MsgAppend", "Msg", "Forward", "Vote"];
    assert_eq!(kind_label(&WireKind::MsgAppend, KINDS), "MsgAppend");
    assert_eq!(kind_label(&WireKind::Msg, KINDS), "Msg");
    assert_eq!(kind_label(&WireKind::Forward(3), KINDS), "Forward");
    assert_eq!(kind_label(&WireKind::Vote { term: 2 }, KINDS), "Vote");
    assert_eq!(kind_label(&WireKind::MsgAppend, &["Msg"]), OTHER_KIND);
    assert_eq!(
        kind_label(&WireKind::Vote { term: 2 }, &["Forward"]),
        OTHER_KIND
    );
    let long = WireKind::AVariantWhoseNameIsFarLongerThanAnyListedMessageKindCouldBe;
    assert_eq!(
        kind_label(&long, &["AVariantWhoseNameIsFarLongerThanAnyListed"]),
        OTHER_KIND
    );
    assert_eq!(kind_label(&"quoted", &["quoted"]), OTHER_KIND);
}

/// The durable state is written only when it changes, synced or (for planted bugs)
/// not, and a recovered state counts as written.
#[test]
fn persisted_writes_only_changes() {
    let mut out: Vec<CoreOutput<Tiny>> = Vec::new();
    let mut disk = Persisted::recovered(None, "fresh".to_string());
    assert!(!disk.persist("fresh".to_string(), &mut out));
    assert!(disk.persist("term=1".to_string(), &mut out));
    assert!(!disk.persist("term=1".to_string(), &mut out));
    assert!(disk.persist_unsynced("term=2".to_string(), &mut out));
    assert_eq!(
        out,
        vec![
            CoreOutput::Persist("term=1".to_string()),
            CoreOutput::PersistUnsynced("term=2".to_string())
        ]
    );
    assert_eq!(disk.get(), "term=2");
    let disk = Persisted::recovered(Some("term=5".to_string()), "fresh".to_string());
    assert_eq!(disk.get(), "term=5");
}

/// Entries written at the end are appended; entries written inside the log first cut
/// the suffix they replace; unsynced writes are unsynced appends; nothing to write
/// writes nothing.
#[test]
fn log_mirror_truncates_what_it_overwrites() {
    let e = |s: &str| s.to_string();
    let mut out: Vec<CoreOutput<Tiny>> = Vec::new();
    let mut log = LogMirror::recovered(2);
    log.write(2, vec![e("c")], true, &mut out);
    log.write(1, vec![e("x"), e("y")], true, &mut out);
    log.write(3, vec![e("z")], false, &mut out);
    log.write(1, Vec::new(), true, &mut out);
    assert_eq!(log.len(), 4);
    assert_eq!(
        out,
        vec![
            CoreOutput::Append(vec![e("c")]),
            CoreOutput::Truncate { len: 1 },
            CoreOutput::Append(vec![e("x"), e("y")]),
            CoreOutput::AppendUnsynced(vec![e("z")]),
        ]
    );
}

/// A write past the end of the log is a gap: the adapter lost track, and says so.
#[test]
#[should_panic(expected = "past the end")]
fn log_mirror_refuses_a_gap() {
    let mut out: Vec<CoreOutput<Tiny>> = Vec::new();
    LogMirror::recovered(1).write(2, vec!["a".to_string()], true, &mut out);
}

/// Requests take the next slot once each; a repeat is not announced again.
#[test]
fn request_log_applies_each_request_once_in_order() {
    let mut log = RequestLog::default();
    let slot = |slot, value: &str| {
        Some(Observation::SlotDecided {
            slot,
            value: v(value),
        })
    };
    assert_eq!(log.apply(v("A")), slot(0, "A"));
    assert_eq!(log.apply(v("B")), slot(1, "B"));
    assert_eq!(log.apply(v("A")), None);
    assert_eq!(log.apply(v("C")), slot(2, "C"));
    assert!(log.contains(&v("B")) && !log.contains(&v("D")));
    assert_eq!(log.slots(), 3);
}

/// The log settle rule waits until every decider decided every submitted request,
/// reading the history as it grows.
#[test]
fn all_requests_decided_waits_for_every_decider_and_request() {
    let deciders = [NodeId(1), NodeId(2)];
    let mut settle = AllRequestsDecided::new(&deciders);
    let mut events = vec![request(1, "A"), request(2, "B"), decided(1, 0, "A")];
    Settle::<Tiny>::observe(&mut settle, &events);
    assert!(!Settle::<Tiny>::settled(&settle));
    events.extend([decided(1, 1, "B"), decided(2, 0, "B")]);
    Settle::<Tiny>::observe(&mut settle, &events);
    assert!(!Settle::<Tiny>::settled(&settle), "n2 lacks A");
    events.push(decided(2, 1, "A"));
    Settle::<Tiny>::observe(&mut settle, &events);
    assert!(Settle::<Tiny>::settled(&settle));
    events.push(request(2, "C"));
    Settle::<Tiny>::observe(&mut settle, &events);
    assert!(!Settle::<Tiny>::settled(&settle), "a new request is owed");
}

/// A started library node cannot be cloned; an empty cell can, and a cleared one is
/// empty again.
#[test]
fn library_cell_clones_only_while_empty() {
    let mut cell: LibraryCell<Vec<u8>> = LibraryCell::empty();
    let _ = cell.clone();
    cell.start(vec![1]).push(2);
    assert_eq!(cell.get_mut(), Some(&mut vec![1, 2]));
    let started = std::panic::catch_unwind(AssertUnwindSafe(|| cell.clone()));
    assert!(started.is_err(), "a started cell cloned");
    cell.clear();
    assert!(cell.clone().get_mut().is_none());
}

/// A library's panic comes back as its message, whatever its payload; a call that
/// returns comes back as its value.
#[test]
fn library_panics_become_messages() {
    assert_eq!(catch_library_panic(|| 7), Ok(7));
    let text = catch_library_panic(|| panic!("commit {} out of range", 5));
    assert_eq!(text, Err("commit 5 out of range".to_string()));
    let fixed: Result<(), String> = catch_library_panic(|| std::panic::panic_any("fixed"));
    assert_eq!(fixed, Err("fixed".to_string()));
    let other: Result<(), String> = catch_library_panic(|| std::panic::panic_any(3u8));
    assert_eq!(other, Err("a panic without a message".to_string()));
    assert!(!CATCHING.with(Cell::get), "the flag is restored");
}

/// The panic judge fires once per reported panic, on its node and event, and is
/// quiet on a history without one.
#[test]
fn panic_judge_fires_on_each_reported_panic() {
    let scenario = Scenario {
        liveness_bound_ms: 1_000,
        ..Scenario::quiet("tiny", Cluster::of_size(2), 1)
    };
    let setup = prepare(&TinyProtocol, &scenario).expect("valid");
    let deciders = TinyProtocol.deciders(&setup);
    let judge = |events: Vec<Event<Tiny>>| {
        let history = History::from_events(events);
        let judging = Judging::new(&history, &setup, &deciders);
        Verdict::of(&TinyProtocol.properties(), &judging)
    };
    assert!(judge(vec![decided(1, 0, "A")]).is_ok());
    let panicked = EventKind::Protocol(KitEvent::Panicked("lost log".into()));
    let verdict = judge(vec![decided(1, 0, "A"), ev(30, Some(2), panicked)]);
    assert_eq!(verdict.violations.len(), 1, "{:?}", verdict.violations);
    let violation = &verdict.violations[0];
    assert_eq!(violation.property, LIBRARY_NEVER_PANICS.name);
    assert_eq!(
        (
            violation.nodes.clone(),
            violation.witness.clone(),
            violation.at_ms
        ),
        (vec![NodeId(2)], vec![1], 30)
    );
    assert!(violation.message.contains("lost log"), "{violation}");
}

/// Log events: a decision is what the log judges read, a panic is what the panic
/// judge reads, a note is neither; each shows as one trace line.
#[test]
fn log_events_map_to_the_log_shape_and_the_panic_judge() {
    let decided = LogEvent::decided(Observation::SlotDecided {
        slot: 2,
        value: v("A"),
    })
    .expect("a slot decision");
    assert_eq!(decided.to_string(), "DECIDE slot 2 = A");
    assert_eq!(
        decided.observe(),
        Some(Observation::SlotDecided {
            slot: 2,
            value: v("A")
        })
    );
    assert_eq!(decided.panic_message(), None);
    assert_eq!(LogEvent::decided(Observation::Decided(v("A"))), None);
    let panicked = LogEvent::Panicked("lost log".into());
    assert_eq!(
        (panicked.observe(), panicked.panic_message()),
        (None, Some("lost log"))
    );
    let note = LogEvent::Note("leader of term 3".into());
    assert_eq!((note.observe(), note.panic_message()), (None, None));
    assert_eq!(note.to_string(), "leader of term 3");
    let timer: CoreOutput<Tiny> = set_timer((), (5, 9));
    assert_eq!(
        timer,
        CoreOutput::SetTimer {
            timer: (),
            delay_ms_min: 5,
            delay_ms_max: 9
        }
    );
}
