//! The bodies of the fuzz targets, as library functions: `fuzz/` only forwards bytes
//! here, and `cargo test` runs the same functions over the checked-in inputs in
//! `fuzz/corpus/<target>/`, so every target is exercised on stable Rust. The
//! protocol-specific targets (the Paxos wire codec, the Paxos cores without a
//! simulator) live with their protocol (`crate::protocols::paxos::fuzz`).
//!
//! Each function panics on a finding (a property violation, a codec mismatch), which
//! is what libFuzzer reports as a crash.

use crate::explore::{run_and_check, Lane, ProtocolRef};
use crate::fault::{Fault, FaultEvent, FaultSchedule, LinkFaults};
use crate::ids::NodeId;
use crate::scenario::Scenario;
use arbitrary::Unstructured;

/// A scenario from fuzz bytes: cluster and workload from a seed, then a fault schedule
/// read field by field, so the fuzzer steers the faults directly. Missing bytes read
/// as zeros (so every input makes a scenario); `None` only if the result is invalid.
pub fn scenario_from_bytes(protocol: ProtocolRef, data: &[u8]) -> Option<Scenario> {
    let mut u = Unstructured::new(data);
    let seed: u64 = u.arbitrary().ok()?;
    let mut scenario = protocol.generate(seed);
    let nodes = scenario.cluster.ids();
    let pick = |u: &mut Unstructured| -> NodeId { nodes[u.choose_index(nodes.len()).unwrap_or(0)] };
    let mut events = Vec::new();
    while events.len() < 16 && !u.is_empty() {
        let at_ms = u64::from(u.arbitrary::<u16>().unwrap_or(0) % 3_000);
        let fault = match u.arbitrary::<u8>().unwrap_or(0) % 6 {
            0 => {
                let groups = nodes.iter().fold(vec![Vec::new(); 3], |mut g, n| {
                    g[usize::from(u.arbitrary::<u8>().unwrap_or(0) % 3)].push(*n);
                    g
                });
                Fault::Partition { groups }
            }
            1 => Fault::PartitionOneWay {
                from: vec![pick(&mut u)],
                to: vec![pick(&mut u)],
            },
            2 => Fault::Heal,
            3 => Fault::LinkFaults {
                link: if u.arbitrary().unwrap_or(false) {
                    Some((pick(&mut u), pick(&mut u)))
                } else {
                    None
                },
                faults: LinkFaults {
                    drop_probability: f64::from(u.arbitrary::<u8>().unwrap_or(0)) / 512.0,
                    duplicate_probability: f64::from(u.arbitrary::<u8>().unwrap_or(0)) / 400.0,
                    delay_ms_max: u64::from(u.arbitrary::<u8>().unwrap_or(0)),
                },
            },
            4 => Fault::Crash { node: pick(&mut u) },
            _ => Fault::Restart { node: pick(&mut u) },
        };
        events.push(FaultEvent { at_ms, fault });
    }
    scenario.faults = FaultSchedule { events }.sorted();
    protocol.check(&scenario).ok()?;
    Some(scenario)
}

/// `scenario`: the bytes become a scenario of `protocol`, which runs in the turmoil
/// lane; any property violation is a crash, printed with the scenario to keep.
pub fn scenario(protocol: ProtocolRef, data: &[u8]) {
    scenario_in(protocol, Lane::Turmoil, data)
}

/// `scenario_fast`: the same, in the fast lane: the same bytes mean the same scenario,
/// at thousands of executions per second, so coverage guidance has room to work.
/// A crash found here replays in the turmoil lane with `gauntlet replay`.
pub fn scenario_fast(protocol: ProtocolRef, data: &[u8]) {
    scenario_in(protocol, Lane::Fast, data)
}

fn scenario_in(protocol: ProtocolRef, lane: Lane, data: &[u8]) {
    let Some(scenario) = scenario_from_bytes(protocol, data) else {
        return;
    };
    let judged = run_and_check(protocol, lane, &scenario);
    if let Some(v) = judged.verdict.violations.first() {
        panic!(
            "{v}\nscenario: {}",
            serde_json::to_string(&scenario).expect("scenarios serialize")
        );
    }
}
