//! Unit tests of the chain: each judge fires on a hand-built history (with the right
//! witness) and stays quiet on a good one; the largest messages fit the limit; a
//! restart comes back to the same tip; quiet runs settle alike in both lanes.

use super::block::{label, Block};
use super::check::*;
use super::node::{Msg, PowEvent, PowNode, LOCATOR_MAX, PEERS_REPLY_MAX, SYNC_BATCH};
use super::*;
use crate::history::{EventKind, History, Phase};
use crate::protocol::{prepare, Context, Core, CoreInput, CoreOutput};
use crate::rng::{stream_rng, Stream};

fn n(i: u16) -> NodeId {
    NodeId(i)
}

fn v(s: &str) -> Value {
    Value::new(s)
}

fn genesis() -> Value {
    label(Block::genesis().id())
}

fn found(block: &str, parent: &str, height: u64, miner: u16, txs: &[&str]) -> EventKind<PowNode> {
    EventKind::Protocol(PowEvent::Found {
        block: v(block),
        parent: if parent == "g" { genesis() } else { v(parent) },
        height,
        miner: n(miner),
        bits: 1,
        txs: txs.iter().map(|t| v(t)).collect(),
    })
}

fn tip(blocks: &[&str], work: u64) -> EventKind<PowNode> {
    let mut chain = vec![genesis()];
    chain.extend(blocks.iter().map(|b| v(b)));
    EventKind::Protocol(PowEvent::Tip { chain, work })
}

fn none() -> BTreeSet<NodeId> {
    BTreeSet::new()
}

/// A transaction confirmed 3 deep and then reverted breaks confirmation safety at
/// K = 3 (witnessed by the Tip that confirmed it and the one that dropped it, the
/// message naming the deepest reorg), not at K = 4 (it never was 4 deep); a
/// Byzantine node is not judged.
#[test]
fn confirmation_safety_fires_on_a_reverted_confirmation() {
    let mut h: History<PowNode> = History::default();
    h.push(1, Some(n(1)), found("a1", "g", 1, 1, &["c1:n1"]));
    h.push(2, Some(n(1)), found("a2", "a1", 2, 1, &[]));
    h.push(3, Some(n(1)), found("a3", "a2", 3, 1, &[]));
    h.push(4, Some(n(1)), tip(&["a1", "a2", "a3"], 6));
    h.push(5, Some(n(2)), found("b1", "g", 1, 2, &[]));
    h.push(
        6,
        Some(n(1)),
        EventKind::Protocol(PowEvent::Reorg {
            depth: 3,
            from: v("a3"),
            to: v("b4"),
            reverted_txs: 1,
        }),
    );
    h.push(6, Some(n(1)), tip(&["b1", "b2", "b3", "b4"], 8));
    let broken = confirmation_safety(&h, &none(), 3);
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0].property, CONFIRMATION_SAFETY.name);
    assert_eq!(broken[0].witness, vec![3, 6]);
    assert!(broken[0]
        .message
        .contains("deepest reorg of the run: 3 blocks"));
    assert!(confirmation_safety(&h, &none(), 4).is_empty());
    let byz: BTreeSet<NodeId> = [n(1)].into_iter().collect();
    assert!(confirmation_safety(&h, &byz, 3).is_empty());
}

/// A chain holding two spends of one coin fires no_double_spend (witnessed by the
/// Tip and both blocks' finds); one spend each on two branches does not.
#[test]
fn no_double_spend_fires_on_a_coin_spent_twice() {
    let mut h: History<PowNode> = History::default();
    h.push(1, Some(n(1)), found("a1", "g", 1, 1, &["c1:n1"]));
    h.push(2, Some(n(2)), found("b1", "g", 1, 2, &["c1:n2"]));
    h.push(3, Some(n(2)), found("b2", "a1", 2, 2, &["c1:n2"]));
    h.push(4, Some(n(1)), tip(&["a1"], 2));
    h.push(5, Some(n(2)), tip(&["b1"], 2));
    assert!(no_double_spend(&h, &none()).is_empty());
    h.push(6, Some(n(3)), tip(&["a1", "b2"], 4));
    let broken = no_double_spend(&h, &none());
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0].witness, vec![0, 2, 5]);
    assert!(broken[0].message.contains("spends c1 twice"));
}

/// A chain with a block never mined, or one hung from another parent than it was
/// mined on, fires chain_valid; a chain of mined blocks does not.
#[test]
fn chain_valid_fires_on_forged_and_relinked_blocks() {
    let mut h: History<PowNode> = History::default();
    h.push(1, Some(n(1)), found("a1", "g", 1, 1, &[]));
    h.push(2, Some(n(1)), found("a2", "a1", 2, 1, &[]));
    h.push(3, Some(n(2)), found("x2", "zz", 2, 2, &[]));
    h.push(4, Some(n(1)), tip(&["a1", "a2"], 4));
    assert!(chain_valid(&h, &none()).is_empty());
    h.push(5, Some(n(2)), tip(&["a1", "forged"], 9));
    h.push(6, Some(n(3)), tip(&["a1", "x2"], 4));
    let broken = chain_valid(&h, &none());
    assert_eq!(broken.len(), 2);
    assert!(broken[0]
        .message
        .contains("forged at height 2 was never mined"));
    assert!(broken[1].message.contains("was mined on zz"));
    assert_eq!(broken[1].witness, vec![5]);
}

/// A node whose tip loses work fires heaviest_chain (both Tips witness); more work
/// on a shorter chain is fine.
#[test]
fn heaviest_chain_fires_when_a_tip_loses_work() {
    let mut h: History<PowNode> = History::default();
    h.push(1, Some(n(1)), tip(&["a1", "a2", "a3"], 6));
    h.push(2, Some(n(1)), tip(&["b1", "b2"], 8));
    assert!(heaviest_chain(&h, &none()).is_empty());
    h.push(3, Some(n(1)), tip(&["c1", "c2", "c3", "c4"], 7));
    let broken = heaviest_chain(&h, &none());
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0].witness, vec![1, 2]);
}

/// An orphan pool over its bound fires orphan_pool_bounded; at the bound it does not.
#[test]
fn orphan_pool_bounded_fires_over_the_bound() {
    let orphan = |pool: u64| {
        EventKind::Protocol(PowEvent::Orphaned {
            block: v("o"),
            pool,
        })
    };
    let mut h: History<PowNode> = History::default();
    h.push(1, Some(n(1)), orphan(node::ORPHANS_MAX as u64));
    assert!(orphan_pool_bounded(&h, &none()).is_empty());
    h.push(2, Some(n(1)), orphan(node::ORPHANS_MAX as u64 + 1));
    assert_eq!(orphan_pool_bounded(&h, &none())[0].witness, vec![1]);
}

fn liveness() -> EventKind<PowNode> {
    EventKind::PhaseStarted {
        phase: Phase::Liveness,
    }
}

/// After the heal, a decider whose chain lacks a client's transaction (and any
/// other spend of its coin) fires txs_settled; a conflicting spend settles it.
#[test]
fn txs_settled_fires_on_a_lost_transaction() {
    let mut h: History<PowNode> = History::default();
    h.push(
        1,
        Some(n(1)),
        EventKind::ClientRequest { value: v("c1:n1") },
    );
    h.push(2, Some(n(2)), found("a1", "g", 1, 2, &["c1:n9"]));
    h.push(3, Some(n(1)), tip(&[], 0));
    h.push(3, Some(n(2)), tip(&["a1"], 2));
    h.push(4, None, liveness());
    let deciders = [n(1), n(2)];
    let broken = txs_settled(&h, &none(), &deciders);
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0].nodes, vec![n(1)]);
    assert!(broken[0].message.contains("n1 lacks c1:n1"));
    h.push(5, Some(n(1)), tip(&["a1"], 2));
    assert!(txs_settled(&h, &none(), &deciders).is_empty());
}

/// A full window of blocks mined after the heal by the Byzantine node fires
/// chain_quality; blocks mined before the heal, or fewer than the window, are not
/// judged.
#[test]
fn chain_quality_fires_on_a_byzantine_window() {
    let mut h: History<PowNode> = History::default();
    h.push(0, Some(n(3)), found("a1", "g", 1, 3, &[]));
    h.push(1, None, liveness());
    let names: Vec<String> = (2..=5).map(|i| format!("a{i}")).collect();
    let mut parent = "a1".to_string();
    for (i, b) in names.iter().enumerate() {
        h.push(2, Some(n(3)), found(b, &parent, i as u64 + 2, 3, &[]));
        parent = b.clone();
    }
    let mut all = vec!["a1"];
    all.extend(names.iter().map(|s| s.as_str()));
    h.push(3, Some(n(1)), tip(&all, 10));
    let byz: BTreeSet<NodeId> = [n(3)].into_iter().collect();
    let broken = chain_quality(&h, &byz, &[n(1)], 4, 5);
    assert_eq!(broken.len(), 1);
    assert!(
        broken[0].message.contains("0 of the last 4 blocks"),
        "{}",
        broken[0].message
    );
    assert!(chain_quality(&h, &byz, &[n(1)], 5, 5).is_empty());
    assert!(chain_quality(&h, &none(), &[n(1)], 4, 5).is_empty());
}

/// Peer tables that leave a decider out (or a restart that emptied its table) fire
/// overlay_connected; tables linking everyone, read both ways, do not.
#[test]
fn overlay_connected_fires_on_a_split_overlay() {
    let table = |outbound: &[u16], inbound: &[u16]| {
        EventKind::Protocol(PowEvent::PeerTable {
            outbound: outbound.iter().map(|&p| n(p)).collect(),
            inbound: inbound.iter().map(|&p| n(p)).collect(),
        })
    };
    let mut h: History<PowNode> = History::default();
    h.push(1, Some(n(1)), table(&[2], &[]));
    h.push(1, Some(n(3)), table(&[], &[2]));
    h.push(2, None, liveness());
    let deciders = [n(1), n(2), n(3)];
    assert!(overlay_connected(&h, &none(), &deciders).is_empty());
    h.push(
        3,
        Some(n(3)),
        EventKind::Started {
            incarnation: 1,
            recovered: None,
        },
    );
    let broken = overlay_connected(&h, &none(), &deciders);
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0].nodes, vec![n(3)]);
}

/// The coverage judges: a fork is two finds on one parent; a reorg is an honest
/// Reorg; both sides grew when, with a partition, two tips at the heal each have 2
/// blocks past their fork; recovery is an honest Rejoined.
#[test]
fn coverage_judges_see_their_states() {
    let mut h: History<PowNode> = History::default();
    h.push(1, Some(n(1)), found("a1", "g", 1, 1, &[]));
    assert!(!fork_happened(&h));
    h.push(1, Some(n(2)), found("b1", "g", 1, 2, &[]));
    assert!(fork_happened(&h));
    h.push(
        2,
        None,
        EventKind::Partitioned {
            groups: vec![vec![n(1)], vec![n(2)]],
        },
    );
    h.push(3, Some(n(1)), tip(&["a1", "a2"], 4));
    h.push(3, Some(n(2)), tip(&["b1"], 2));
    h.push(4, None, liveness());
    assert!(!partition_both_grew(&h, &none()));
    h.events.pop();
    h.push(3, Some(n(2)), tip(&["b1", "b2"], 4));
    h.push(4, None, liveness());
    assert!(partition_both_grew(&h, &none()));
    assert!(!reorg_happened(&h, &none()) && !recovered_via_redial(&h, &none()));
    h.push(5, Some(n(2)), EventKind::Protocol(PowEvent::Rejoined));
    assert!(recovered_via_redial(&h, &none()));
}

/// A node core for `scenario`, and a context to step it.
fn node_of(scenario: &Scenario, id: NodeId) -> PowNode {
    let setup = prepare(&Pow, scenario).expect("valid");
    Pow.core(&setup, id)
}

/// The configuration of a default scenario of five nodes.
fn config_of_five() -> Config {
    Config {
        addresses: crate::scenario::Cluster::of_size(5)
            .ids()
            .into_iter()
            .collect(),
        bootstrap: vec![n(1)],
        miners: BTreeMap::new(),
        share_total: 1,
        bits_min: 1,
        block_interval_ms: 100,
        outbound_max: 8,
        inbound_max: 117,
        fanout: 0,
        ping_ms: 100,
        peer_timeout_ms: 350,
        redial_ms: 200,
        confirm_depth: 6,
        bugs: Bugs::default(),
    }
}

/// The largest messages (a full sync batch of full blocks of the longest
/// transactions, a full locator, a full peer list) encode within the core's limit.
#[test]
fn the_largest_messages_fit_the_limit() {
    let tx = v(&format!("c{}:{}", "9".repeat(10), "z".repeat(20)));
    assert!(block::coin(&tx).is_some() && tx.len() == block::TX_BYTES_MAX);
    let full = Block {
        parent: u64::MAX,
        height: u64::MAX,
        miner: n(u16::MAX),
        bits: block::BITS_MAX,
        nonce: u64::MAX,
        txs: vec![tx; block::TXS_PER_BLOCK_MAX],
    };
    // A Byzantine node's mutations of a full block: two more spends, the longest coin.
    let mutated =
        PowNode::new(n(1), Arc::new(config_of_five())).mutations(&Msg::Block(full.clone()));
    assert_eq!(mutated.len(), 3);
    let msgs = [
        Msg::Blocks(vec![full.clone(); SYNC_BATCH]),
        mutated[0].clone(),
        mutated[1].clone(),
        mutated[2].clone(),
        Msg::GetBlocks(vec![u64::MAX; LOCATOR_MAX]),
        Msg::Peers(vec![n(u16::MAX); PEERS_REPLY_MAX]),
    ];
    for m in msgs {
        let mut bytes = Vec::new();
        PowNode::encode_msg(&m, &mut bytes);
        // 64 bytes of room for the harness's envelope.
        assert!(
            bytes.len() + 64 < PowNode::MESSAGE_BYTES_MAX,
            "{}",
            bytes.len()
        );
    }
}

/// A node restarted on its log comes back to the same tip, with its client
/// transaction still in its mempool (it mines it).
#[test]
fn a_restart_recovers_the_tip_from_the_log() {
    let scenario = Scenario {
        faults: Default::default(),
        ..crate::fault::generate_scenario(&Pow, 5)
    };
    let mut node = node_of(&scenario, n(1));
    let mut rng = stream_rng(
        1,
        Stream::Node {
            node: n(1),
            incarnation: 0,
        },
    );
    let mut out = Vec::new();
    let mut cx = Context {
        now_ms: 0,
        rng: &mut rng,
    };
    node.step(&mut cx, CoreInput::start(None), &mut out);
    node.step(
        &mut cx,
        CoreInput::ClientRequest { value: v("c1:n1") },
        &mut out,
    );
    for _ in 0..5 {
        node.step(
            &mut cx,
            CoreInput::TimerFired { timer: Timer::Mine },
            &mut out,
        );
    }
    let log: Vec<Block> = out
        .iter()
        .filter_map(|o| match o {
            CoreOutput::Append(b) => Some(b.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    let state = out.iter().find_map(|o| match o {
        CoreOutput::Persist(s) => Some(s.clone()),
        _ => None,
    });
    assert_eq!(log.len(), 5);
    let before = node.chain_labels();
    let mut again = node_of(&scenario, n(1));
    let mut out2 = Vec::new();
    again.step(
        &mut cx,
        CoreInput::Start {
            incarnation: 1,
            recovered: state,
            log,
        },
        &mut out2,
    );
    assert_eq!(again.chain_labels(), before);
    let mined_tx = out.iter().any(|o| {
        matches!(o, CoreOutput::Event(PowEvent::Found { txs, .. }) if txs.contains(&v("c1:n1")))
    });
    assert!(mined_tx);
}

/// Bad parameters are refused with the field named.
#[test]
fn bad_params_name_the_field() {
    let base = crate::fault::generate_scenario(&Pow, 3);
    let field = |s: &Scenario| prepare(&Pow, s).err().map(|e| e.field);
    assert_eq!(field(&base), None);
    let mut zero = base.clone();
    zero.params = serde_json::json!({"block_interval_ms": 0});
    assert_eq!(field(&zero), Some("params.block_interval_ms".to_string()));
    let mut stranger = base.clone();
    stranger.params = serde_json::json!({"bootstrap": [99]});
    assert_eq!(field(&stranger), Some("params.bootstrap[0]".to_string()));
    let mut bad_tx = base.clone();
    bad_tx.workload = vec![Proposal {
        proposer: n(1),
        value: v("Value_A"),
        at_ms: 0,
    }];
    assert_eq!(field(&bad_tx), Some("workload[0].value".to_string()));
}

/// On a quiet network, generated chains settle in both lanes with every property
/// holding, and the two lanes' traces are equal.
#[test]
fn quiet_runs_settle_alike_in_both_lanes() {
    use crate::check::judge;
    use crate::sim::{run_setup, Lane, RunEnd};
    for seed in 0..6 {
        let scenario = Scenario {
            faults: Default::default(),
            ..crate::fault::generate_scenario(&Pow, seed)
        };
        let setup = prepare(&Pow, &scenario).expect("valid");
        let mut digests = Vec::new();
        for lane in [Lane::Fast, Lane::Turmoil] {
            let report = run_setup(&Pow, &setup, lane);
            assert_eq!(report.end, RunEnd::Settled, "seed {seed} {lane:?}");
            let verdict = judge(&Pow, &setup, &report.history);
            assert!(
                verdict.is_ok(),
                "seed {seed} {lane:?}: {:?}",
                verdict.violations
            );
            digests.push(report.history.digest());
        }
        assert_eq!(digests[0], digests[1], "seed {seed}: the lanes differ");
    }
}

/// One node of a `nodes`-node cluster (bootstrap n1, no miner) with the given peer
/// slots, stepped by hand: what it sent, to whom.
struct Hand {
    node: PowNode,
    rng: rand_chacha::ChaCha8Rng,
    now_ms: u64,
}

impl Hand {
    fn new(id: u16, nodes: u16, outbound_max: usize, inbound_max: usize) -> Hand {
        let config = Config {
            addresses: crate::scenario::Cluster::of_size(nodes)
                .ids()
                .into_iter()
                .collect(),
            outbound_max,
            inbound_max,
            ..config_of_five()
        };
        let rng = stream_rng(
            7,
            Stream::Node {
                node: n(id),
                incarnation: 0,
            },
        );
        Hand {
            node: PowNode::new(n(id), Arc::new(config)),
            rng,
            now_ms: 0,
        }
    }

    fn step(&mut self, input: CoreInput<PowNode>) -> Vec<(NodeId, Msg)> {
        let mut cx = Context {
            now_ms: self.now_ms,
            rng: &mut self.rng,
        };
        let mut out = Vec::new();
        self.node.step(&mut cx, input, &mut out);
        out.into_iter()
            .filter_map(|o| match o {
                CoreOutput::Send { to, msg } => Some((to, msg)),
                _ => None,
            })
            .collect()
    }

    fn recv(&mut self, from: u16, msg: Msg) -> Vec<(NodeId, Msg)> {
        self.step(CoreInput::Receive { from: n(from), msg })
    }

    fn tick(&mut self) -> Vec<(NodeId, Msg)> {
        self.now_ms += 100;
        self.step(CoreInput::TimerFired {
            timer: Timer::Maintain,
        })
    }
}

fn to_of(sent: &[(NodeId, Msg)], kind: &Msg) -> Vec<NodeId> {
    sent.iter()
        .filter(|(_, m)| std::mem::discriminant(m) == std::mem::discriminant(kind))
        .map(|(to, _)| *to)
        .collect()
}

/// Inbound slots bound whom a node accepts: with 2, the first two dialers are
/// welcomed (and synced with), the third gets no answer and its pings are ignored
/// (it is not a peer); a dialer already accepted that dials again is welcomed again.
#[test]
fn inbound_slots_bound_the_accepted_dials() {
    let mut h = Hand::new(1, 5, 8, 2);
    h.step(CoreInput::start(None));
    for from in [2, 3] {
        let sent = h.recv(from, Msg::Dial);
        assert_eq!(to_of(&sent, &Msg::Welcome), vec![n(from)]);
        assert_eq!(to_of(&sent, &Msg::GetBlocks(Vec::new())), vec![n(from)]);
    }
    assert!(
        h.recv(4, Msg::Dial).is_empty(),
        "a full node answers nothing"
    );
    assert!(
        h.recv(4, Msg::Ping).is_empty(),
        "a stranger's ping is ignored"
    );
    assert_eq!(h.recv(2, Msg::Ping), vec![(n(2), Msg::Pong)]);
    assert_eq!(to_of(&h.recv(3, Msg::Dial), &Msg::Welcome), vec![n(3)]);
    let pinged = to_of(&h.tick(), &Msg::Ping);
    assert_eq!(pinged, vec![n(2), n(3)]);
}

/// Outbound slots bound whom a node dials: it starts with one bootstrap node, fills
/// its 2 slots from a peer list, dials no more while both are held, frees a slot
/// whose dial went unanswered for `peer_timeout_ms`, and then dials an address it has
/// not dialled in `redial_ms`; a welcome (or any connection message) makes the dial
/// a connection.
#[test]
fn outbound_slots_bound_the_dials() {
    let mut h = Hand::new(5, 8, 2, 117);
    let sent = h.step(CoreInput::start(None));
    assert_eq!(to_of(&sent, &Msg::Dial), vec![n(1)]);
    assert_eq!(to_of(&sent, &Msg::GetPeers), vec![n(1)]);
    let sent = h.recv(1, Msg::Peers(vec![n(2), n(3), n(4), n(6)]));
    let dialled = to_of(&sent, &Msg::Dial);
    assert_eq!(dialled.len(), 1, "one slot was free: {sent:?}");
    assert!(
        to_of(&h.tick(), &Msg::Dial).is_empty(),
        "both slots are held"
    );
    // n1 welcomes; the other dial is never answered.
    let sent = h.recv(1, Msg::Welcome);
    assert_eq!(to_of(&sent, &Msg::GetBlocks(Vec::new())), vec![n(1)]);
    let mut redialled = Vec::new();
    for _ in 0..4 {
        h.recv(1, Msg::Pong);
        redialled.extend(to_of(&h.tick(), &Msg::Dial));
    }
    assert_eq!(redialled.len(), 1, "{redialled:?}");
    assert_ne!(
        redialled[0], dialled[0],
        "not the same address within redial_ms"
    );
    let sent = h.recv(redialled[0].0, Msg::Ping);
    assert_eq!(to_of(&sent, &Msg::Pong), vec![redialled[0]]);
    assert_eq!(
        to_of(&sent, &Msg::GetBlocks(Vec::new())),
        vec![redialled[0]]
    );
}

/// Two nodes dialling each other at once end with one connection: the lower id's
/// dial stands (n2 keeps n1 outbound, n1 holds n2 inbound).
#[test]
fn crossed_dials_keep_the_lower_id() {
    let mut low = Hand::new(1, 3, 8, 117);
    let mut high = Hand::new(2, 3, 8, 117);
    low.step(CoreInput::start(None));
    high.step(CoreInput::start(None));
    // n1 is the bootstrap node; make it dial n2 through a peer list from n3.
    let from_low = low.recv(3, Msg::Peers(vec![n(2)]));
    assert_eq!(to_of(&from_low, &Msg::Dial), vec![n(2)]);
    // n2 dialled n1 at start. Each gets the other's dial.
    assert!(low.recv(2, Msg::Dial).is_empty(), "n1 keeps its own dial");
    let from_high = high.recv(1, Msg::Dial);
    assert_eq!(to_of(&from_high, &Msg::Welcome), vec![n(1)]);
    low.recv(2, Msg::Welcome);
    let table = |h: &mut Hand| {
        h.tick()
            .into_iter()
            .filter(|(_, m)| matches!(m, Msg::Ping))
            .count()
    };
    assert_eq!(table(&mut low), 1);
    assert_eq!(table(&mut high), 1);
}

/// The slot bounds are validated, naming the field.
#[test]
fn bad_peer_slots_name_the_field() {
    let base = crate::fault::generate_scenario(&Pow, 3);
    let field = |s: &Scenario| prepare(&Pow, s).err().map(|e| e.field);
    for (params, name) in [
        (
            serde_json::json!({"outbound_max": 0}),
            "params.outbound_max",
        ),
        (
            serde_json::json!({"inbound_max": 513}),
            "params.inbound_max",
        ),
        (serde_json::json!({"peers_max": 16}), "params"),
    ] {
        let mut s = base.clone();
        s.params = params;
        let got = field(&s).unwrap_or_default();
        assert!(got.starts_with(name), "{got}");
    }
}
