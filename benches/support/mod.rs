//! The workloads and floors the benchmarks measure, shared by `benches/lanes.rs` and
//! `examples/bench_plot.rs` (which includes this file with `#[path]`).
//!
//! - [`standard`]: the standard scenario: 5 acceptor-learner nodes and 3
//!   proposers, with the generator's full fault mix and swarm variation (each seed
//!   picks which fault kinds appear, their rates and their times).
//! - [`scaling`]: a scenario whose node count and simulated duration are set exactly,
//!   with steady traffic all along (a quorum-less partition held until the end).
//! - [`plain_loop`]: the fast lane's floor, a binary heap of timed deliveries and
//!   nothing else.
//! - [`bare_turmoil`]: the turmoil lane's floor, hosts exchanging UDP datagrams in a
//!   turmoil simulation with no gauntlet code.

#![allow(dead_code)] // each including target uses a different part

use gauntlet::check::judge;
use gauntlet::fault::{Fault, FaultEvent, FaultSchedule, LinkFaults};
use gauntlet::history::EventKind;
use gauntlet::ids::NodeId;
use gauntlet::protocol::{prepare, Protocol};
use gauntlet::protocols::paxos::{draft_on, servers_and_clients, Node, Paxos, PaxosParams, Roles};
use gauntlet::rng::{run_seed, stream_rng, ChaCha8Rng, Draw, Stream};
use gauntlet::scenario::{Cluster, NetworkConfig, Proposal, Scenario};
use gauntlet::sim::{run_setup, RunReport};
use gauntlet::value::Value;
use rand_core::SeedableRng;
use std::cell::Cell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

/// Measuring throughput is the one job here that needs the wall clock.
#[allow(clippy::disallowed_methods)]
pub fn now() -> std::time::Instant {
    std::time::Instant::now()
}

/// Seconds `f` took.
pub fn time<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let start = now();
    let out = f();
    (start.elapsed().as_secs_f64(), out)
}

/// The median of `xs` (the mean of the middle two for an even count).
pub fn median(xs: &[f64]) -> f64 {
    assert!(!xs.is_empty(), "median of nothing");
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// The seed of the `i`th scenario of a benchmark set (base seed 5, as the id).
pub fn bench_seed(i: u64) -> u64 {
    run_seed(5, i)
}

/// `servers` acceptor-learner nodes n1.. and `proposers` more nodes that only propose.
pub fn cluster(servers: u16, proposers: u16) -> Vec<(NodeId, Roles)> {
    servers_and_clients(servers, proposers)
}

/// The standard scenario of `seed`: the cluster is pinned to 5 acceptor-learners and 3
/// proposers; the rest (horizon, workload, swarm fault schedule) is drawn exactly as
/// Paxos's generator draws it, by the same library code.
pub fn standard(seed: u64) -> Scenario {
    let mut rng = stream_rng(seed, Stream::Scenario);
    let draft = draft_on(&mut rng, &cluster(5, 3));
    gauntlet::fault::scenario_from_draft(&Paxos, seed, &mut rng, draft)
}

/// A scenario of `nodes` acceptor-learners and 3 proposers (so `nodes + 3` hosts, as
/// in the standard scenario) that runs for `duration_ms` of simulated time (plus the
/// few milliseconds the liveness phase needs) with steady traffic all along: until
/// `duration_ms` the fault layer drops every message sent *to* a proposer, so each
/// proposer's Prepares reach every acceptor (which persists and answers) but no answer
/// comes back, and the learners' nudges are lost too: ballots time out and retry, and
/// no value can be chosen. At `duration_ms` the safety phase ends; the liveness phase
/// clears the faults and one value is chosen.
pub fn scaling(nodes: u16, duration_ms: u64, seed: u64) -> Scenario {
    assert!(
        nodes >= 1 && duration_ms >= 1,
        "scaling({nodes}, {duration_ms})"
    );
    let roles = cluster(nodes, 3);
    let params = PaxosParams::from_roles(&roles);
    let proposers = params.proposers.clone();
    let mut rng = stream_rng(seed, Stream::Scenario);
    let workload = proposers
        .iter()
        .enumerate()
        .map(|(i, &p)| Proposal {
            proposer: p,
            value: Value::new(format!("Value_{}", (b'A' + i as u8) as char)),
            at_ms: rng.between(0, 100),
        })
        .collect();
    let mut events = Vec::new();
    for &proposer in &proposers {
        for from in (1..=nodes).map(NodeId) {
            events.push(FaultEvent {
                at_ms: 0,
                fault: Fault::LinkFaults {
                    link: Some((from, proposer)),
                    faults: LinkFaults {
                        drop_probability: 1.0,
                        ..LinkFaults::default()
                    },
                },
            });
        }
    }
    // Marks the end of the safety phase (the liveness phase clears the drops).
    events.push(FaultEvent {
        at_ms: duration_ms,
        fault: Fault::Heal,
    });
    Scenario {
        workload,
        faults: FaultSchedule { events },
        liveness_bound_ms: 10_000,
        params: serde_json::to_value(&params).expect("params serialize"),
        ..Scenario::quiet(Paxos.name(), Cluster::of_size(nodes + 3), seed)
    }
}

/// A lane: runs one Paxos scenario to its end.
pub type Lane = fn(&Scenario) -> RunReport<Node>;

/// The fast lane, on a Paxos scenario.
pub fn fast(scenario: &Scenario) -> RunReport<Node> {
    let setup = prepare(&Paxos, scenario).expect("a valid scenario");
    run_setup(&Paxos, &setup, gauntlet::sim::Lane::Fast)
}

/// The turmoil lane, on a Paxos scenario.
pub fn turmoil(scenario: &Scenario) -> RunReport<Node> {
    let setup = prepare(&Paxos, scenario).expect("a valid scenario");
    run_setup(&Paxos, &setup, gauntlet::sim::Lane::Turmoil)
}

/// What one lane run did, for sizing its floor.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunShape {
    pub hosts: usize,
    pub sim_ms: u64,
    pub delivered: u64,
}

/// Datagrams delivered to a node in a run (self-sends never touch the network).
pub fn delivered<C: gauntlet::protocol::Core>(report: &RunReport<C>) -> u64 {
    report
        .history
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Delivered { .. }))
        .count() as u64
}

/// One campaign step: run `scenario` in a lane and judge it, as `explore` does.
pub fn run_and_judge(run: Lane, scenario: &Scenario) -> RunShape {
    let report = run(scenario);
    let setup = prepare(&Paxos, scenario).expect("a valid scenario");
    let verdict = judge(&Paxos, &setup, &report.history);
    assert!(
        verdict.is_ok(),
        "seed {} failed in a benchmark: {:?}",
        scenario.seed,
        verdict.violations
    );
    RunShape {
        hosts: scenario.cluster.nodes.len(),
        sim_ms: report.sim_ms,
        delivered: delivered(&report),
    }
}

/// The fast lane's floor: a seeded discrete-event loop that moves `messages` timed
/// deliveries among `hosts`, and does nothing else. Each delivery sends one message
/// on to a random other host with a latency in `latency_ms_min..=latency_ms_max`; as
/// many messages are in flight as there are hosts. Returns the messages delivered.
pub fn plain_loop(hosts: usize, messages: u64, network: &NetworkConfig, seed: u64) -> u64 {
    assert!(hosts >= 2);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // (at_ms, seq, from, to, payload): the payload stands for a message's contents.
    type Delivery = Reverse<(u64, u64, u32, u32, u64)>;
    let mut heap: BinaryHeap<Delivery> = BinaryHeap::new();
    let mut seq = 0u64;
    for h in 0..hosts as u32 {
        seq += 1;
        let to = (h + 1) % hosts as u32;
        heap.push(Reverse((0, seq, h, to, seq)));
    }
    let mut done = 0u64;
    let mut checksum = 0u64;
    while done < messages {
        let Reverse((at_ms, _, _from, to, payload)) = heap.pop().expect("never empties");
        done += 1;
        checksum = checksum.wrapping_add(payload);
        let hop = 1 + rng.between(0, hosts as u64 - 2) as u32;
        let next = (to + hop) % hosts as u32;
        let latency_ms = rng.between(network.latency_ms_min, network.latency_ms_max);
        seq += 1;
        heap.push(Reverse((at_ms + latency_ms, seq, to, next, checksum)));
    }
    std::hint::black_box(checksum);
    done
}

/// The turmoil lane's floor: `hosts` turmoil hosts with the same tick, latency range
/// and simulated time as a gauntlet run, each sending small UDP datagrams to the next
/// hosts in turn at an even pace, so that about `datagrams` are sent in `sim_ms`; no
/// gauntlet code at all. Returns the datagrams delivered.
pub fn bare_turmoil(
    hosts: usize,
    sim_ms: u64,
    datagrams: u64,
    network: &NetworkConfig,
    tick_ms: u64,
    seed: u64,
) -> u64 {
    const PORT: u16 = 5000;
    let mut sim = turmoil::Builder::new()
        .rng_seed(seed)
        .tick_duration(Duration::from_millis(tick_ms))
        .min_message_latency(Duration::from_millis(network.latency_ms_min))
        .max_message_latency(Duration::from_millis(network.latency_ms_max))
        .simulation_duration(Duration::from_millis(sim_ms + 1_000))
        .udp_capacity(1_024)
        .build();
    let received = Rc::new(Cell::new(0u64));
    // Each host sends its k-th datagram at k * gap; the gap (in µs of simulated time)
    // spreads `datagrams` evenly over the run.
    let per_host = datagrams.div_ceil(hosts as u64).max(1);
    let gap_us = (sim_ms * 1_000 / per_host).max(1);
    for h in 0..hosts {
        let received = Rc::clone(&received);
        sim.host(format!("h{h}"), move || {
            let received = Rc::clone(&received);
            async move {
                let socket =
                    turmoil::net::UdpSocket::bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, PORT)))
                        .await?;
                let peers: Vec<SocketAddr> = (0..hosts)
                    .filter(|&p| p != h)
                    .map(|p| SocketAddr::new(turmoil::lookup(format!("h{p}")), PORT))
                    .collect();
                // Inside turmoil this is the host's simulated clock, not the wall clock.
                #[allow(clippy::disallowed_methods)]
                let start = tokio::time::Instant::now();
                let mut sent = 0u64;
                let mut buf = [0u8; 64];
                let payload = [7u8; 40];
                loop {
                    let next = start + Duration::from_micros(gap_us * sent);
                    tokio::select! {
                        biased;
                        r = socket.recv_from(&mut buf) => {
                            r?;
                            received.set(received.get() + 1);
                        }
                        _ = tokio::time::sleep_until(next), if sent < per_host => {
                            let to = peers[sent as usize % peers.len()];
                            socket.send_to(&payload, to).await?;
                            sent += 1;
                        }
                    }
                }
            }
        });
    }
    while (sim.elapsed().as_millis() as u64) < sim_ms {
        sim.step().expect("the bare simulation runs");
    }
    received.get()
}

/// Node counts of the scaling sweep, and the simulated time each of its runs lasts.
pub const SCALING_NODES: [u16; 6] = [3, 5, 9, 17, 33, 51];
pub const SCALING_NODES_DURATION_MS: u64 = 10_000;
/// Simulated durations of the duration sweep, and its node count.
pub const SCALING_DURATIONS_MS: [u64; 5] = [1_000, 3_000, 10_000, 30_000, 60_000];
pub const SCALING_DURATION_NODES: u16 = 5;

/// One point of a scaling sweep: the cost per delivered message of each lane and floor
/// (medians over the samples), with the run's shape.
#[derive(Debug, Clone, Copy)]
pub struct ScalingRow {
    pub nodes: u16,
    pub duration_ms: u64,
    /// Simulated time and datagrams delivered, per lane.
    pub fast: RunShape,
    pub turmoil: RunShape,
    pub fast_us_per_msg: f64,
    pub plain_us_per_msg: f64,
    pub turmoil_us_per_msg: f64,
    pub bare_us_per_msg: f64,
}

/// Measure one scaling point: `samples` times each of the fast lane, the plain loop,
/// the turmoil lane and bare turmoil, interleaved so that noise hits all four alike.
pub fn scaling_point(nodes: u16, duration_ms: u64, samples: usize, tick_ms: u64) -> ScalingRow {
    let run_fast: Lane = fast;
    let run_turmoil: Lane = turmoil;
    let scenario = scaling(
        nodes,
        duration_ms,
        bench_seed(nodes as u64 * 1_000_003 + duration_ms),
    );
    let fast = run_and_judge(run_fast, &scenario);
    let turmoil = run_and_judge(run_turmoil, &scenario);
    let per_msg = |s: f64, shape: &RunShape| s * 1e6 / shape.delivered.max(1) as f64;
    // A fast-lane run takes about a millisecond: repeat it within a sample so that each
    // sample lasts some 20 ms and the clock's resolution does not matter.
    let (once_s, _) = time(|| run_and_judge(run_fast, &scenario));
    let reps = ((0.02 / once_s.max(1e-6)).ceil() as usize).clamp(1, 1_000);
    let repeated = |f: &dyn Fn()| time(|| (0..reps).for_each(|_| f())).0 / reps as f64;
    let (mut f, mut p, mut t, mut b) = (vec![], vec![], vec![], vec![]);
    for _ in 0..samples {
        f.push(per_msg(
            repeated(&|| {
                run_and_judge(run_fast, &scenario);
            }),
            &fast,
        ));
        p.push(per_msg(
            repeated(&|| {
                plain_loop(fast.hosts, fast.delivered, &scenario.network, scenario.seed);
            }),
            &fast,
        ));
        t.push(per_msg(
            time(|| run_and_judge(run_turmoil, &scenario)).0,
            &turmoil,
        ));
        let (s, bare_delivered) = time(|| {
            bare_turmoil(
                turmoil.hosts,
                turmoil.sim_ms,
                turmoil.delivered,
                &scenario.network,
                tick_ms,
                scenario.seed,
            )
        });
        b.push(s * 1e6 / bare_delivered.max(1) as f64);
    }
    ScalingRow {
        nodes,
        duration_ms,
        fast,
        turmoil,
        fast_us_per_msg: median(&f),
        plain_us_per_msg: median(&p),
        turmoil_us_per_msg: median(&t),
        bare_us_per_msg: median(&b),
    }
}

/// The header of [`scaling_table_row`]'s markdown table.
pub const SCALING_TABLE_HEADER: &str = "| acceptor-learners (+3 proposers) | sim s | msgs (fast) | fast µs/msg | plain loop µs/msg | fast / plain | msgs (turmoil) | turmoil µs/msg | bare turmoil µs/msg | turmoil / bare |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

pub fn scaling_table_row(r: &ScalingRow) -> String {
    format!(
        "| {} | {:.1} | {} | {:.3} | {:.4} | {:.1}x | {} | {:.2} | {:.2} | {:.2}x |",
        r.nodes,
        r.turmoil.sim_ms as f64 / 1000.0,
        r.fast.delivered,
        r.fast_us_per_msg,
        r.plain_us_per_msg,
        r.fast_us_per_msg / r.plain_us_per_msg,
        r.turmoil.delivered,
        r.turmoil_us_per_msg,
        r.bare_us_per_msg,
        r.turmoil_us_per_msg / r.bare_us_per_msg,
    )
}
