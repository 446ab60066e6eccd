//! Bad input is refused or dropped, never misread: a malformed datagram is recorded as
//! such and dropped while the node goes on serving well-formed messages, and a
//! scenario a protocol cannot run is refused with an error naming the field, both by
//! the library (`prepare`) and by the command line.

use crate::support::{prepare_and_bad_datagrams, run_gauntlet, TempDir, OVERSIZED_BYTES};
use gauntlet::explore::AnyProtocol;
use gauntlet::fault::{Fault, FaultEvent, FaultSchedule, LinkFaults};
use gauntlet::history::{EventKind, History};
use gauntlet::ids::NodeId;
use gauntlet::net::{Transport, DATAGRAM_BYTES_MAX};
use gauntlet::node::{decode_datagram, run_core, CoreNode, NodeEnv};
use gauntlet::protocol::prepare;
use gauntlet::protocols::naive::Naive;
use gauntlet::protocols::paxos::{self, Membership, Msg, Node, Paxos, Roles, TimingConfig};
use gauntlet::rng::{stream_rng, Stream};
use gauntlet::scenario::{Scenario, ScenarioError};
use gauntlet::storage::SimFileStorage;
use std::cell::RefCell;
use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use turmoil::net::UdpSocket;

/// The port the rogue-client test uses on turmoil's simulated hosts.
const PORT: u16 = 5000;

/// A [`Transport`] over turmoil's simulated UDP: the simulation's own network is
/// gauntlet's, so a test that needs a rogue peer sending raw bytes brings its own,
/// which also shows that the trait is all a node needs of a network.
struct TurmoilUdp {
    socket: UdpSocket,
}

impl TurmoilUdp {
    async fn bind() -> std::io::Result<Self> {
        let socket = UdpSocket::bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, PORT))).await?;
        Ok(TurmoilUdp { socket })
    }
}

impl Transport for TurmoilUdp {
    async fn send(&self, to: NodeId, datagram: &[u8]) -> std::io::Result<()> {
        self.socket
            .send_to(datagram, (to.host_name().as_str(), PORT))
            .await
            .map(|_| ())
    }

    fn try_recv(&self, buf: &mut [u8]) -> std::io::Result<Option<usize>> {
        match self.socket.try_recv_from(buf) {
            Ok((len, _)) => Ok(Some(len)),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn ready(&self) -> std::io::Result<()> {
        self.socket.readable().await
    }
}

// The oversized datagram is oversized.
const _: () = assert!(OVERSIZED_BYTES > DATAGRAM_BYTES_MAX);

/// A rogue client sends garbage, a truncated message, an oversized datagram and a
/// wrong-version one to an acceptor, then a valid Prepare: the acceptor records four
/// `Malformed` events and still answers the Prepare with a Promise.
#[test]
fn malformed_datagrams_are_recorded_and_dropped() {
    let history: Rc<RefCell<History<Node>>> = Rc::default();
    let mut sim = turmoil::Builder::new().rng_seed(3).build();
    let recorder = Rc::clone(&history);
    sim.host("n1", move || {
        let recorder = Rc::clone(&recorder);
        async move {
            let acceptor = Roles {
                acceptor: true,
                ..Roles::default()
            };
            let members = Membership {
                acceptors: vec![NodeId(1)],
                learners: vec![],
                proposers: vec![NodeId(2)],
            };
            let node = CoreNode {
                id: NodeId(1),
                core: Node::new(NodeId(1), acceptor, members, TimingConfig::default()),
                client_request: None,
            };
            let env = NodeEnv {
                clock: Rc::new(|| turmoil::sim_elapsed().unwrap().as_millis() as u64),
                recorder,
                rng: stream_rng(
                    3,
                    Stream::Node {
                        node: NodeId(1),
                        incarnation: 0,
                    },
                ),
                incarnation: 0,
            };
            let storage = SimFileStorage::open("/data")?;
            run_core(node, TurmoilUdp::bind().await?, storage, env).await?;
            Ok(())
        }
    });
    sim.client("n2", async {
        let socket = UdpSocket::bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, PORT))).await?;
        let (prepare, bad) = prepare_and_bad_datagrams();
        for datagram in &bad {
            socket.send_to(datagram, ("n1", PORT)).await?;
        }
        socket.send_to(&prepare, ("n1", PORT)).await?;
        let mut buf = [0u8; 2048];
        let (len, _) = socket.recv_from(&mut buf).await?;
        let (from, _, reply) =
            decode_datagram::<Node>(&buf[..len]).expect("the node's reply decodes");
        assert_eq!(from, NodeId(1));
        assert!(matches!(reply, Msg::Promise { .. }), "got {reply:?}");
        Ok(())
    });
    sim.run().expect("the acceptor answers the valid prepare");
    let malformed: Vec<(usize, String)> = history
        .borrow()
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Malformed { bytes, error } => Some((*bytes, error.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(malformed.len(), 4, "{malformed:?}");
    assert!(
        malformed
            .iter()
            .any(|(bytes, e)| *bytes > DATAGRAM_BYTES_MAX && e.contains("exceeds")),
        "{malformed:?}"
    );
    assert!(
        malformed.iter().any(|(_, e)| e.contains("version")),
        "{malformed:?}"
    );
}

/// A schedule whose one fault makes n1 PBFT's equivocating primary from 0 ms for
/// `duration_ms`: refused in a Paxos scenario (not its adversary), or for its window.
fn equivocating_primary(duration_ms: Option<u64>) -> FaultSchedule {
    FaultSchedule {
        events: vec![FaultEvent {
            at_ms: 0,
            fault: Fault::Strategy {
                node: NodeId(1),
                strategy: "equivocating_primary".into(),
                duration_ms,
            },
        }],
    }
}

/// The ways a scenario can be wrong for the protocol it names, each with the field its
/// error must name: the lab scenario of Paxos and a generated naive one, edited.
fn refused_scenarios() -> Vec<(&'static str, Scenario, &'static str)> {
    let lab = paxos::lab(1, &[('A', 0)]);
    let edit = |base: &Scenario, f: &dyn Fn(&mut Scenario)| {
        let mut s = base.clone();
        f(&mut s);
        s
    };
    let naive = AnyProtocol::generate(&Naive, 1);
    vec![
        (
            "unknown planted bug",
            edit(&lab, &|s| s.bugs = vec!["no_such_bug".into()]),
            "bugs[0]",
        ),
        (
            "unknown planted bug after a known one",
            edit(&lab, &|s| {
                s.bugs = vec!["acceptor_skips_fsync".into(), "no_such_bug".into()]
            }),
            "bugs[1]",
        ),
        (
            "a planted bug of another protocol",
            edit(&naive, &|s| s.bugs = vec!["acceptor_skips_fsync".into()]),
            "bugs[0]",
        ),
        (
            "params field of the wrong type",
            edit(&lab, &|s| {
                s.params["timing"]["backoff_ms_min"] = "soon".into()
            }),
            "params.timing.backoff_ms_min",
        ),
        (
            "params field out of range",
            edit(&lab, &|s| {
                s.params["timing"]["backoff_ms_min"] = 1_000_000u64.into()
            }),
            "params.timing.backoff_ms_min",
        ),
        (
            "params field Paxos does not know",
            edit(&lab, &|s| s.params["leader"] = 1.into()),
            "params.leader",
        ),
        (
            "a client request at the end of time",
            edit(&lab, &|s| s.workload[0].at_ms = u64::MAX),
            "workload[0].at_ms",
        ),
        (
            "a liveness bound whose sum with phase 1 overflows",
            edit(&lab, &|s| s.liveness_bound_ms = u64::MAX - 5),
            "liveness_bound_ms",
        ),
        (
            "a message-fault window at the end of time",
            edit(&lab, &|s| {
                s.faults = FaultSchedule {
                    events: vec![FaultEvent {
                        at_ms: u64::MAX,
                        fault: Fault::MessageFaults {
                            kinds: vec!["Accept".into()],
                            link: None,
                            faults: LinkFaults {
                                drop_probability: 0.5,
                                ..LinkFaults::default()
                            },
                            duration_ms: 100,
                        },
                    }],
                }
            }),
            "faults[0].at_ms",
        ),
        (
            "an adversary Paxos does not supply",
            edit(&lab, &|s| s.faults = equivocating_primary(None)),
            "faults[0].strategy",
        ),
        (
            "an adversary's window of 0 ms",
            edit(&lab, &|s| s.faults = equivocating_primary(Some(0))),
            "faults[0].duration_ms",
        ),
        (
            "paxos params in a naive scenario",
            edit(&lab, &|s| s.protocol = "naive".into()),
            "params",
        ),
    ]
}

/// `prepare` of the scenario's own protocol.
fn prepare_named(scenario: &Scenario) -> Result<(), ScenarioError> {
    match scenario.protocol.as_str() {
        "paxos" => prepare(&Paxos, scenario).map(|_| ()),
        "naive" => prepare(&Naive, scenario).map(|_| ()),
        other => panic!("no protocol {other} here"),
    }
}

/// `prepare` refuses a scenario of another protocol (naming `protocol`), an unknown
/// planted bug or one of another protocol (naming `bugs[i]`), an adversary the
/// protocol does not supply (naming `faults[i].strategy`), and a malformed,
/// out-of-range or unknown `params` field (naming its path,
/// `params.timing.backoff_ms_min`), and accepts the unedited ones.
#[test]
fn prepare_refuses_bad_scenarios_naming_the_field() {
    let lab = paxos::lab(1, &[('A', 0)]);
    assert!(prepare(&Paxos, &lab).is_ok());
    assert!(prepare(&Naive, &AnyProtocol::generate(&Naive, 1)).is_ok());
    let err = prepare(&Naive, &lab)
        .err()
        .expect("naive refuses a paxos scenario");
    assert_eq!(err.field, "protocol", "{err}");
    assert!(
        err.reason.contains("paxos") && err.reason.contains("naive"),
        "{err}"
    );
    for (what, scenario, field) in refused_scenarios() {
        let err = prepare_named(&scenario)
            .err()
            .unwrap_or_else(|| panic!("{what}: accepted"));
        assert_eq!(err.field, field, "{what}: {err}");
    }
}

/// `gauntlet run --scenario FILE` refuses the same scenarios with exit code 4 and an
/// error naming the file and the field; a scenario naming an unknown protocol is
/// refused the same way. The unedited file runs and passes (exit 0).
#[test]
fn command_line_refuses_bad_scenarios_naming_file_and_field() {
    let dir = TempDir::new("bad-scenarios");
    let write = |name: &str, scenario: &Scenario| {
        let path = dir.path().join(name);
        std::fs::write(&path, serde_json::to_string(scenario).unwrap()).unwrap();
        path
    };
    let lab = paxos::lab(1, &[('A', 0)]);
    let good = write("good.json", &lab);
    let out = run_gauntlet(&["run", "--scenario", good.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let mut unknown = lab.clone();
    unknown.protocol = "raft".into();
    let mut cases = refused_scenarios();
    cases.push(("unknown protocol", unknown, "protocol"));
    for (i, (what, scenario, field)) in cases.into_iter().enumerate() {
        let name = format!("bad{i}.json");
        let path = write(&name, &scenario);
        let out = run_gauntlet(&["run", "--scenario", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{what}: {stderr}");
        assert!(
            stderr.contains(&name) && stderr.contains(&format!("field {field}:")),
            "{what}: the error names {name} and {field}: {stderr}"
        );
    }
}

/// Set `value` at the JSON object path `keys` (creating the last key).
fn with_key(mut json: serde_json::Value, keys: &[&str], value: serde_json::Value) -> String {
    let (last, parents) = keys.split_last().expect("a path");
    let mut at = &mut json;
    for key in parents {
        at = match key.parse::<usize>() {
            Ok(i) => &mut at[i],
            Err(_) => &mut at[*key],
        };
    }
    at.as_object_mut()
        .expect("an object")
        .insert(last.to_string(), value);
    json.to_string()
}

/// A misspelt key is an error naming the file and the key, at every depth of a
/// scenario (top level, a node, a request, the network, a fault event, the fault's
/// rates, Paxos's params and timing) and of a corpus entry; before, `"protocl":
/// "naive"` was ignored and quietly ran Paxos. `--config /dev/zero`, a stream with no
/// length, is refused at the size limit instead of read without end, and so is a
/// scenario read from it.
#[test]
fn unknown_keys_and_endless_streams_are_refused() {
    let dir = TempDir::new("unknown-keys");
    let mut lab = paxos::lab(1, &[('A', 0)]);
    lab.faults = FaultSchedule {
        events: vec![FaultEvent {
            at_ms: 5,
            fault: Fault::LinkFaults {
                link: None,
                faults: LinkFaults::default(),
            },
        }],
    };
    let json = serde_json::to_value(&lab).unwrap();
    let cases: Vec<(&[&str], &str)> = vec![
        (&["protocl"], "protocl"),
        (&["cluster", "size"], "size"),
        (&["cluster", "nodes", "0", "role"], "role"),
        (&["workload", "0", "when_ms"], "when_ms"),
        (&["network", "jitter_ms"], "jitter_ms"),
        (&["faults", "0", "node"], "node"),
        (&["faults", "0", "faults", "drop_rate"], "drop_rate"),
        (&["params", "leader"], "leader"),
        (&["params", "timing", "poll_ms"], "poll_ms"),
    ];
    for (i, (keys, key)) in cases.into_iter().enumerate() {
        let name = format!("unknown{i}.json");
        let path = dir.path().join(&name);
        std::fs::write(&path, with_key(json.clone(), keys, 1.into())).unwrap();
        let out = run_gauntlet(&["run", "--scenario", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{keys:?}: ran");
        assert!(
            stderr.contains(&name) && stderr.contains(&format!("unknown field `{key}`")),
            "{keys:?}: {stderr}"
        );
    }

    let entry = std::fs::read_dir(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/known-failures"),
    )
    .unwrap()
    .map(|e| e.unwrap().path())
    .find(|p| p.extension().is_some_and(|x| x == "json"))
    .expect("a kept failure");
    let entry: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(entry).unwrap()).unwrap();
    for (keys, key) in [(&["digets"][..], "digets"), (&["expect", "why"][..], "why")] {
        let path = dir.path().join("entry.json");
        std::fs::write(&path, with_key(entry.clone(), keys, 1.into())).unwrap();
        let out = run_gauntlet(&["replay", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{keys:?}: replayed");
        assert!(
            stderr.contains("entry.json") && stderr.contains(&format!("unknown field `{key}`")),
            "{keys:?}: {stderr}"
        );
    }

    for args in [
        &["run", "--scenario", "/dev/zero"][..],
        &["node", "--config", "/dev/zero", "--id", "1"][..],
    ] {
        let out = run_gauntlet(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        assert!(
            stderr.contains("/dev/zero") && stderr.contains("limit"),
            "{args:?}: {stderr}"
        );
    }
}
