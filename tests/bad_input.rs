//! Bad input loses nothing: a malformed datagram is recorded as such and dropped, and
//! the node goes on serving well-formed messages.

use crate::support::prepare_and_bad_datagrams;
use gauntlet::history::{EventKind, History};
use gauntlet::ids::NodeId;
use gauntlet::net::{decode, TurmoilUdp, PORT};
use gauntlet::node::{run_node, NodeEnv, NodeSetup};
use gauntlet::paxos::{Membership, Msg, Roles, TimingConfig};
use gauntlet::sim::rng::{stream_rng, Stream};
use gauntlet::storage::SimFileStorage;
use std::cell::RefCell;
use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use turmoil::net::UdpSocket;

/// A rogue client sends garbage, a truncated message, an oversized datagram and a
/// wrong-version one to an acceptor, then a valid Prepare: the acceptor records four
/// `Malformed` events and still answers the Prepare with a Promise.
#[test]
fn malformed_datagrams_are_recorded_and_dropped() {
    let history = Rc::new(RefCell::new(History::default()));
    let mut sim = turmoil::Builder::new().rng_seed(3).build();
    let recorder = Rc::clone(&history);
    sim.host("n1", move || {
        let recorder = Rc::clone(&recorder);
        async move {
            let setup = NodeSetup {
                id: NodeId(1),
                roles: Roles {
                    acceptor: true,
                    ..Roles::default()
                },
                members: Membership {
                    acceptors: vec![NodeId(1)],
                    learners: vec![],
                    proposers: vec![NodeId(2)],
                },
                timing: TimingConfig::default(),
                client_request: None,
                bugs: Default::default(),
            };
            let env = NodeEnv {
                clock: Rc::new(|| turmoil::sim_elapsed().unwrap().as_millis() as u64),
                recorder,
                faults: None,
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
            run_node(setup, TurmoilUdp::bind().await?, storage, env).await?;
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
        let reply = decode(&buf[..len]).expect("the node's reply decodes");
        assert!(
            matches!(reply.msg, Msg::Promise { .. }),
            "got {:?}",
            reply.msg
        );
        Ok(())
    });
    sim.run().expect("the acceptor answers the valid prepare");
    let malformed: Vec<String> = history
        .borrow()
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Malformed { error, .. } => Some(error.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(malformed.len(), 4, "{malformed:?}");
    assert!(
        malformed.iter().any(|e| e.contains("exceeds")),
        "{malformed:?}"
    );
    assert!(
        malformed.iter().any(|e| e.contains("version")),
        "{malformed:?}"
    );
}
