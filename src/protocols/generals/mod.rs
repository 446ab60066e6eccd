//! The Byzantine generals (Lamport, Shostak and Pease, "The Byzantine Generals
//! Problem", 1982): the oral-messages algorithm OM(m) through the contract. The
//! cluster's first node is the commander, the others its lieutenants; traitors are
//! Byzantine nodes (`Fault::Silent`, `Fault::Mutate`: a traitor relays the other order,
//! says nothing, or passes its lie off as another lieutenant's). docs/generals.md
//! tells the whole story; in short:
//!
//! - **Rounds.** Round `k` is `[k * round_ms, (k + 1) * round_ms)`. In round 0 the
//!   commander sends its order (its client request, `attack` or `retreat`); in round
//!   `k` in `1..=m` each lieutenant relays to every other lieutenant what it took in
//!   round `k - 1`; at `(m + 1) * round_ms` each lieutenant decides by OM's recursive
//!   majority, a missing order counting as `retreat`.
//! - **Synchrony from a lossy network.** OM needs every loyal general's message to
//!   arrive within its round. The harness's network drops, partitions and crashes,
//!   so the commander re-sends its order every `resend_ms` through round 0, and every
//!   fault of the schedule must be over (the safety phase ended, links healed, nodes
//!   back) at least `resend_ms + latency_ms_max` before round 0 ends, or the scenario is
//!   refused, naming the field. From round 1 on the network is quiet and one message
//!   per round arrives within the latency. A receiver takes each general's first
//!   message of a round and ignores its re-sends, so a traitor's lie is whole.
//! - **The bound.** OM(m) holds with at most `m` traitors when `n >= 3m + 1`
//!   ([`Protocol::byzantine_max`] is `(n - 1) / 3`). A scenario runs past the bound
//!   only on purpose, as for any protocol: with `byzantine_beyond_tolerance: true` it may
//!   run OM(m) with fewer generals (at least `m + 2`) or more than `m` traitors, to show
//!   the bound is tight; without it such a scenario is refused. The protocol
//!   `generals_3m` draws those scenarios (`n = 3m`).

pub mod check;
pub mod general;
#[cfg(test)]
mod tests;

pub use general::{Config, General, GeneralState, Orders, Tick, ATTACK, RETREAT};

use crate::ids::NodeId;
use crate::protocol::{Draft, Judge, PlantedBug, Protocol, RunSetup};
use crate::rng::Draw;
use crate::scenario::{Cluster, Proposal, Scenario, ScenarioError};
use crate::value::Value;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The Byzantine generals, as a protocol: within the bound (`generals`, `n = 3m + 1`)
/// or past it (`generals_3m`, `n = 3m`, its scenarios marked
/// `byzantine_beyond_tolerance`). The two differ only in what they draw.
#[derive(Debug, Clone, Copy)]
pub struct Generals {
    beyond_bound: bool,
}

impl Generals {
    /// `generals`: clusters of `3m + 1`, clean.
    pub const WITHIN_BOUND: Generals = Generals {
        beyond_bound: false,
    };
    /// `generals_3m`: clusters of `3m` with up to `m` traitors: OM(m) fails.
    pub const BEYOND_BOUND: Generals = Generals { beyond_bound: true };
}

/// The generals' section of a scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GeneralsParams {
    /// OM(m): rounds of relaying, and the traitors the run may have.
    pub m: u32,
    /// The length of a round.
    pub round_ms: u64,
    /// How often a general re-sends its round's message (divides `round_ms`).
    pub resend_ms: u64,
}

impl Default for GeneralsParams {
    fn default() -> Self {
        GeneralsParams {
            m: 1,
            round_ms: ROUND_MS,
            resend_ms: RESEND_MS,
        }
    }
}

/// A round: long enough for any schedule the generator draws (faults over by
/// `2 * horizon + 1,000 ms` at most, horizon at most 200 ms: 1,400 ms) plus a re-send
/// and the network's latency.
pub const ROUND_MS: u64 = 2_000;
pub const RESEND_MS: u64 = 250;
/// The longest round a scenario may set.
pub const ROUND_MS_MAX: u64 = 10_000;
/// The generator's fault horizon: faults start within it.
pub const HORIZON_MS_MAX: u64 = 200;

pub const BUGS: [PlantedBug; 2] = [
    PlantedBug {
        name: "majority_without_default",
        description: "a missing order is left out of the majority instead of counting as \
                      retreat, and a tie goes to the lieutenant's own order",
    },
    PlantedBug {
        name: "trusts_the_path",
        description: "a relayed order is taken without checking that its path ends with \
                      the general who sent it (a traitor can speak for a loyal one)",
    },
];

impl Protocol for Generals {
    type Core = General;
    type Params = GeneralsParams;

    fn name(&self) -> &'static str {
        if self.beyond_bound {
            "generals_3m"
        } else {
            "generals"
        }
    }

    /// `n = 3m + 1` (4 most often, then 7, then 10), or `n = 3m` past the bound (3
    /// most often, then 6); the commander orders `attack` or `retreat` at 0 ms.
    fn draft(&self, rng: &mut ChaCha8Rng) -> Draft<GeneralsParams> {
        let (n, m) = if self.beyond_bound {
            [(3u16, 1u32), (3, 1), (3, 1), (6, 2)][rng.between(0, 3) as usize]
        } else {
            [(4u16, 1u32), (4, 1), (4, 1), (7, 2), (7, 2), (10, 3)][rng.between(0, 5) as usize]
        };
        let cluster = Cluster::of_size(n);
        let order = if rng.chance(0.5) { ATTACK } else { RETREAT };
        let workload = vec![Proposal {
            proposer: cluster.ids()[0],
            value: Value::new(order),
            at_ms: 0,
        }];
        let params = GeneralsParams {
            m,
            ..GeneralsParams::default()
        };
        Draft {
            cluster,
            workload,
            horizon_ms: rng.between(20, HORIZON_MS_MAX),
            liveness_bound_ms: (u64::from(m) + 2) * params.round_ms,
            params,
        }
    }

    /// A commander and two lieutenants.
    fn nodes_min(&self) -> usize {
        3
    }

    /// `m` in `1..=3`; `n >= 3m + 1` and at most `m` traitors unless the scenario runs
    /// past the bound on purpose (`byzantine_beyond_tolerance`; then `n >= m + 2`); timing in range; one order, `attack` or `retreat`, to the
    /// commander; and every fault over early enough that loyal generals' messages
    /// still arrive in round 0 (the synchrony bound).
    fn check_params(&self, p: &GeneralsParams, scenario: &Scenario) -> Result<(), ScenarioError> {
        let n = scenario.cluster.len();
        let m = p.m as usize;
        if p.m == 0 || p.m > general::M_MAX {
            return Err(ScenarioError::new(
                "params.m",
                format!("{} is not in 1..={}", p.m, general::M_MAX),
            ));
        }
        let beyond = scenario.byzantine_beyond_tolerance;
        if !beyond && n < 3 * m + 1 {
            return Err(ScenarioError::new(
                "cluster.nodes",
                format!(
                    "{n} generals; OM({m}) needs 3m + 1 = {} to tolerate {m} traitors \
                     (set `byzantine_beyond_tolerance: true` to run past the bound)",
                    3 * m + 1
                ),
            ));
        }
        if n < m + 2 {
            return Err(ScenarioError::new(
                "cluster.nodes",
                format!("{n} generals; OM({m}) needs at least m + 2 = {}", m + 2),
            ));
        }
        let traitors = scenario.faults.byzantine_nodes();
        if !beyond && traitors.len() > m {
            let names: Vec<NodeId> = traitors.iter().copied().collect();
            return Err(ScenarioError::new(
                "faults",
                format!(
                    "{} traitors {}; OM({m}) tolerates at most m = {m} (set \
                     `byzantine_beyond_tolerance: true` to run past the bound)",
                    traitors.len(),
                    crate::protocol::node_list(&names),
                ),
            ));
        }
        if p.round_ms == 0 || p.round_ms > ROUND_MS_MAX {
            return Err(ScenarioError::new(
                "params.round_ms",
                format!("{} is not in 1..={ROUND_MS_MAX}", p.round_ms),
            ));
        }
        if p.resend_ms == 0 || !p.round_ms.is_multiple_of(p.resend_ms) {
            return Err(ScenarioError::new(
                "params.resend_ms",
                format!("{} does not divide round_ms ({})", p.resend_ms, p.round_ms),
            ));
        }
        let commander = scenario.cluster.ids()[0];
        if scenario.workload.len() != 1
            || scenario.workload[0].proposer != commander
            || !general::is_order(&scenario.workload[0].value)
        {
            return Err(ScenarioError::new(
                "workload",
                format!(
                    "need exactly one order, {ATTACK} or {RETREAT}, to the commander {commander}"
                ),
            ));
        }
        // A broken connection waits for the sender's next datagram rather than a time,
        // so it can land in any round, after the network was meant to be quiet: a
        // lost relay between loyal generals is an omission OM(m) does not tolerate
        // (a traitor's own sends may be lost: it may lie anyway). The generator draws
        // it only for protocols on the session link; hand-written and proptest
        // schedules are refused here, with the field named.
        let broken = scenario.faults.broken_connections();
        if let Some((i, node)) = broken.iter().find(|(_, node)| !traitors.contains(node)) {
            return Err(ScenarioError::new(
                format!("faults[{i}]"),
                format!(
                    "OM(m) assumes reliable, synchronous links: a break_connection on loyal \
                     {node}'s link loses whatever it sends next, in any round"
                ),
            ));
        }
        // Faults last until the safety phase ends; after that a loyal general's next
        // re-send arrives within the network's latency.
        let quiet_ms = scenario.safety_phase_end_ms() + 1;
        let arrived_ms = quiet_ms + p.resend_ms + scenario.network.latency_ms_max;
        if arrived_ms >= p.round_ms {
            return Err(ScenarioError::new(
                "faults",
                format!(
                    "faults and the order last until {quiet_ms} ms; a loyal general's \
                     message could then arrive at {arrived_ms} ms, after round 0 ends at \
                     {} ms (the synchrony bound, docs/generals.md)",
                    p.round_ms
                ),
            ));
        }
        Ok(())
    }

    /// The commander cannot be removed (its lieutenants would have no order).
    fn without_node(&self, params: &GeneralsParams, id: NodeId) -> Option<GeneralsParams> {
        (id != NodeId(1)).then(|| params.clone())
    }

    /// OM(m - 1): a round of relaying fewer, which also lets the cluster shrink to
    /// `3(m - 1) + 1` (`check_params` refuses it while the traitors outnumber `m - 1`).
    fn smaller_params(&self, params: &GeneralsParams, _scenario: &Scenario) -> Vec<GeneralsParams> {
        if params.m < 2 {
            return Vec::new();
        }
        vec![GeneralsParams {
            m: params.m - 1,
            ..params.clone()
        }]
    }

    fn core(&self, setup: &RunSetup<Generals>, id: NodeId) -> General {
        let members = setup.scenario.cluster.ids();
        let config = Config {
            commander: members[0],
            members,
            m: setup.params.m,
            round_ms: setup.params.round_ms,
            resend_ms: setup.params.resend_ms,
            no_default: setup.has_bug(BUGS[0].name),
            trusts_the_path: setup.has_bug(BUGS[1].name),
        };
        General::new(id, Arc::new(config))
    }

    /// Every loyal lieutenant decides.
    fn deciders(&self, setup: &RunSetup<Generals>) -> Vec<NodeId> {
        check::loyal_lieutenants(setup)
    }

    /// `m = (n - 1) / 3`: OM(m) tolerates `m` traitors among `3m + 1` generals.
    fn byzantine_max(&self, cluster_size: usize) -> usize {
        cluster_size.saturating_sub(1) / 3
    }

    /// Up to `params.m` traitors: within the bound that is at most `byzantine_max`
    /// (`n >= 3m + 1`); at `n = 3m` it is more, so `generals_3m`'s scenarios are drawn
    /// beyond tolerance.
    fn byzantine_to_draw(&self, params: &GeneralsParams, _cluster_size: usize) -> usize {
        params.m as usize
    }

    fn message_kinds(&self) -> &'static [&'static str] {
        &general::KINDS
    }

    fn bugs(&self) -> &'static [PlantedBug] {
        &BUGS
    }

    /// `two_faced` (`general::STRATEGIES`).
    fn strategies(&self) -> &'static [&'static str] {
        &general::STRATEGIES
    }

    fn strategy_core(&self, setup: &RunSetup<Generals>, id: NodeId, name: &str) -> Option<General> {
        (name == general::STRATEGIES[0]).then(|| self.core(setup, id).two_faced())
    }

    fn properties(&self) -> Vec<Judge<Generals>> {
        check::judges()
    }
}
