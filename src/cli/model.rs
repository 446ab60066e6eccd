//! `gauntlet check-model`: the exhaustive lane on the command line (docs/model-checking.md).
//! It builds the scope's scenario, runs the search with its bounds printed first, and
//! turns a violation into a corpus file in `corpus/failures/` that both lanes
//! replay, checking that the replay fails the same property before it says so.

use super::{exit, usage_error, Ctx};
use crate::explore::corpus::CorpusEntry;
use crate::explore::{Lane, ProtocolRef};
use crate::ids::NodeId;
use crate::model::{Bounds, Order, Outcome};
use crate::protocol::Expectation;
use crate::scenario::Scenario;
use std::path::PathBuf;

/// The arguments of `check-model`. The default scope: 3 servers and 1 client (for
/// Paxos, 3 acceptor-learners and 1 proposer), no faults but reordering, no timer
/// firings, paths up to 64 steps, liveness checked: exhausted in well under a second.
#[derive(clap::Args)]
pub struct CheckModelArgs {
    /// The protocol (default: the registry's first).
    #[arg(long)]
    protocol: Option<String>,
    /// Planted bugs to switch on.
    #[arg(long = "bug")]
    bugs: Vec<String>,
    /// Servers (for Paxos: acceptors that also learn).
    #[arg(long, default_value_t = 3)]
    nodes: u16,
    /// Clients, each proposing one value (for Paxos: proposers).
    #[arg(long, default_value_t = 1)]
    proposals: u16,
    /// Take the cluster, parameters, workload, seed and bugs from this scenario file
    /// instead of --nodes and --proposals (its fault schedule must be empty).
    #[arg(long, conflicts_with_all = ["nodes", "proposals"])]
    scenario: Option<PathBuf>,
    /// Crashes a path may take (a crashed node restarts at any later step).
    #[arg(long, default_value_t = 0)]
    crashes: u32,
    /// Only these nodes may crash (e.g. `--crash-nodes 5`); default: any node.
    #[arg(long, value_delimiter = ',')]
    crash_nodes: Vec<u16>,
    /// Messages a path may lose.
    #[arg(long, default_value_t = 0)]
    drops: u32,
    /// Messages a path may duplicate.
    #[arg(long, default_value_t = 0)]
    duplicates: u32,
    /// Timer firings a path may take (retries, polls).
    #[arg(long, default_value_t = 0)]
    timeouts: u32,
    /// Only these nodes' timers may fire (e.g. `--timer-nodes 4`); default: any node's.
    #[arg(long, value_delimiter = ',')]
    timer_nodes: Vec<u16>,
    /// Steps a path may take.
    #[arg(long, default_value_t = 64)]
    depth: u32,
    /// Depth-first instead of breadth-first (breadth-first finds the shortest path).
    #[arg(long)]
    dfs: bool,
    /// Skip the bounded liveness check at the states where the search ends.
    #[arg(long)]
    no_liveness: bool,
    /// Steps the liveness phase may take (and a replay's liveness bound).
    #[arg(long, default_value_t = crate::model::LIVENESS_STEPS_DEFAULT)]
    liveness_steps: u64,
    /// Stop (with a message) once the process holds this much memory.
    #[arg(long, default_value_t = 4_096)]
    memory_mb: u64,
    /// Stop (with a message) after this many distinct states [default: 50,000,000,
    /// or --reserve-states if that is more: a table reserved for a scope is not meant
    /// to stop a thirtieth of the way in].
    #[arg(long)]
    states_max: Option<u64>,
    /// Allocate the visited set for this many states up front instead of growing it
    /// (each growth doubles the table and briefly holds both): for a scope known to
    /// be huge, up to twice the states within the same --memory-mb. Refused if the table
    /// alone would exceed --memory-mb.
    #[arg(long, default_value_t = 0)]
    reserve_states: u64,
    /// With --scenario whose fault schedule is a script (a saved counterexample):
    /// start the search after the script's first N steps (default: all of them) and
    /// check every continuation within the bounds. Budgets those steps spend count;
    /// --depth counts the steps after them.
    #[arg(long, requires = "scenario")]
    start_steps: Option<usize>,
    /// Do not reduce by the protocol's symmetry (interchangeable nodes): every
    /// renaming of a state is explored as a state of its own. Verdicts are the same;
    /// counts and times are larger.
    #[arg(long)]
    no_symmetry: bool,
    /// Try each state's successors in an order drawn from this seed instead of the
    /// model's own order. The same states are visited under any seed (a clean result
    /// is the same proof); a deep violation may be met far sooner. The same seed
    /// always takes the same path.
    #[arg(long)]
    order_seed: Option<u64>,
    /// Where a counterexample is saved.
    #[arg(long, default_value = "corpus/failures")]
    failures_dir: PathBuf,
    /// Depth-first only: save the search to this file as it goes (every
    /// --checkpoint-every-states new states, and when it stops early: a bound, Ctrl-C
    /// or SIGTERM), so a long search survives its process; go on with --resume.
    #[arg(long, requires = "dfs")]
    checkpoint: Option<PathBuf>,
    /// New states between two checkpoints. Each writes the whole visited set (8
    /// bytes a state), so a large scope wants them minutes apart.
    #[arg(long, default_value_t = 100_000_000, requires = "checkpoint")]
    checkpoint_every_states: u64,
    /// Go on from --checkpoint's file instead of starting over: the same scope (it
    /// is checked), and the budgets of this command (--memory-mb, --states-max,
    /// --reserve-states) may differ.
    #[arg(long, requires = "checkpoint")]
    resume: bool,
}

/// `--states-max` when neither it nor a larger `--reserve-states` is given.
const STATES_MAX_DEFAULT: u64 = 50_000_000;

/// The state bound: `--states-max` if given, else the default or the reservation,
/// whichever is more.
fn states_max(given: Option<u64>, reserve_states: u64) -> u64 {
    given.unwrap_or(STATES_MAX_DEFAULT.max(reserve_states))
}

/// A seed that names the scope, so counterexamples of different scopes get
/// different corpus file names (the name carries the seed); the same scope always
/// gets the same one.
fn scope_seed(args: &CheckModelArgs, bounds: &Bounds) -> u64 {
    // Symmetry and the successor order are how the scope is searched, not the scope:
    // the same seed either way, so a run with --no-symmetry or --order-seed checks the
    // same scenario.
    let scope = Bounds {
        symmetry: true,
        order_seed: None,
        ..bounds.clone()
    };
    crate::model::fingerprint::of_serialized(&(
        args.nodes,
        args.proposals,
        &args.bugs,
        scope.to_string(),
        args.dfs,
    ))
}

pub fn cmd_check_model(ctx: &Ctx, args: CheckModelArgs) -> u8 {
    let protocol = match ctx.protocol_with_bugs(args.protocol.as_deref(), &args.bugs) {
        Ok(p) => p,
        Err(e) => return usage_error(&e),
    };
    let mut bounds = Bounds {
        drops: args.drops,
        duplicates: args.duplicates,
        crashes: args.crashes,
        crash_nodes: args.crash_nodes.iter().map(|&n| NodeId(n)).collect(),
        timer_nodes: args.timer_nodes.iter().map(|&n| NodeId(n)).collect(),
        timeouts: args.timeouts,
        depth: args.depth,
        liveness: !args.no_liveness,
        memory_mb: args.memory_mb,
        states_max: states_max(args.states_max, args.reserve_states),
        reserve_states: args.reserve_states,
        start: Vec::new(),
        symmetry: !args.no_symmetry,
        order_seed: args.order_seed,
        checkpoint: args
            .checkpoint
            .as_ref()
            .map(|path| crate::model::Checkpointing {
                path: path.clone(),
                every_states: args.checkpoint_every_states,
                resume: args.resume,
            }),
        stop: crate::model::StopSignal::default(),
    };
    // Ctrl-C and SIGTERM (a preempted job) stop the search at its next state, which
    // saves a checkpoint if one is configured and reports what was checked. Set before
    // anything is printed, so a caller that has read the first line may signal.
    let stop = bounds.stop.clone();
    if let Err(e) = ctrlc::set_handler(move || stop.request()) {
        eprintln!("warning: Ctrl-C will kill the search without a report: {e}");
    }
    let order = if args.dfs { Order::Dfs } else { Order::Bfs };
    if args.dfs && args.depth > crate::model::fingerprint::DEPTH_MAX {
        return usage_error(&format!(
            "--depth: at most {} with --dfs (the visited set keeps depths in 8 bits)",
            crate::model::fingerprint::DEPTH_MAX
        ));
    }
    let (scenario, protocol) = match &args.scenario {
        Some(path) => match super::load_scenario(ctx, path) {
            Ok((mut s, p)) => {
                // A bug the scenario already plants is not planted (or listed) twice.
                for bug in &args.bugs {
                    if !s.bugs.contains(bug) {
                        s.bugs.push(bug.clone());
                    }
                }
                s.liveness_bound_ms = args.liveness_steps;
                match start_of(&mut s, args.start_steps) {
                    Ok(start) => bounds.start = start,
                    Err(e) => return usage_error(&format!("{}: {e}", path.display())),
                }
                (s, p)
            }
            Err(e) => return usage_error(&e),
        },
        None => {
            if args.nodes == 0 || usize::from(args.nodes) + usize::from(args.proposals) > 16 {
                return usage_error("--nodes plus --proposals must be 1..=16, --nodes at least 1");
            }
            let mut s = protocol.model_scope(args.nodes, args.proposals, args.bugs.clone());
            s.seed = scope_seed(&args, &bounds);
            s.liveness_bound_ms = args.liveness_steps;
            (s, protocol)
        }
    };
    for (flag, nodes) in [
        ("--crash-nodes", &bounds.crash_nodes),
        ("--timer-nodes", &bounds.timer_nodes),
    ] {
        if let Some(missing) = nodes.iter().find(|n| !scenario.cluster.ids().contains(n)) {
            return usage_error(&format!("{flag}: {missing} is not in the cluster"));
        }
    }
    let roles = match &args.scenario {
        Some(path) => format!("the cluster of {}", path.display()),
        None => format!("{} servers, {} clients", args.nodes, args.proposals),
    };
    let bugs = if scenario.bugs.is_empty() {
        "none".to_string()
    } else {
        scenario.bugs.join(", ")
    };
    println!(
        "check-model {}: {roles} ({} nodes), bugs: {bugs}, seed {}",
        protocol.name(),
        scenario.cluster.len(),
        scenario.seed
    );
    let reserve = match bounds.reserved_bytes() {
        Ok(Some(bytes)) => format!(
            ", visited set reserved for {} states ({} MB)",
            bounds.reserve_states,
            bytes / (1024 * 1024)
        ),
        Ok(None) => String::new(),
        Err(e) => return usage_error(&e),
    };
    println!(
        "bounds: {bounds}, liveness steps {}; {} search, memory {} MB, states {}{reserve}",
        scenario.liveness_bound_ms,
        if args.dfs {
            "depth-first"
        } else {
            "breadth-first"
        },
        bounds.memory_mb,
        bounds.states_max
    );
    if let Some(plan) = bounds.checkpoint.as_ref().filter(|p| p.resume) {
        println!("resuming from {}", plan.path.display());
    }
    // Wall time is reported (states per second) and never steers the search.
    #[allow(clippy::disallowed_methods)]
    let started = std::time::Instant::now();
    let mut saved_reported = None;
    let checkpoint_path = args.checkpoint.clone();
    let mut progress = |o: &Outcome| {
        // The rate of this process (a resumed search's earlier states excluded) and
        // its minutes so far, for whoever watches a search of hours.
        let elapsed_s = started.elapsed().as_secs_f64();
        let new_states = o.states.saturating_sub(o.resumed_states);
        println!(
            "  {} states, depth {}, {} queued, {} MB resident, {:.0} states/s over {:.1} min",
            o.states,
            o.depth,
            o.queued,
            crate::model::resident_bytes().unwrap_or(0) / (1024 * 1024),
            new_states as f64 / elapsed_s.max(1e-9),
            elapsed_s / 60.0
        );
        if o.checkpoint_states != saved_reported {
            saved_reported = o.checkpoint_states;
            if let (Some(states), Some(path)) = (o.checkpoint_states, &checkpoint_path) {
                println!("  checkpoint saved at {states} states: {}", path.display());
            }
        }
    };
    let outcome = match protocol.check_model(&scenario, &bounds, order, &mut progress) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::HARNESS;
        }
    };
    let wall_s = started.elapsed().as_secs_f64();
    let new_states = outcome.states.saturating_sub(outcome.resumed_states);
    let rate = new_states as f64 / wall_s.max(1e-9);
    if outcome.resumed_states > 0 {
        println!(
            "resumed at {} states; this process explored {new_states} more",
            outcome.resumed_states
        );
    }
    println!(
        "explored {} states ({} transitions), depth {}, in {wall_s:.2} s ({rate:.0} states/s), \
         peak resident {} MB, fingerprints {} MB, liveness checked at {} end states",
        outcome.states,
        outcome.transitions,
        outcome.depth,
        outcome
            .peak_bytes
            .max(crate::model::resident_bytes().unwrap_or(0))
            / (1024 * 1024),
        outcome.fingerprint_bytes / (1024 * 1024),
        outcome.liveness_checked
    );
    let groups: Vec<String> = outcome
        .symmetry_groups
        .iter()
        .map(|g| {
            let ids: Vec<String> = g.iter().map(|n| n.to_string()).collect();
            format!("{{{}}}", ids.join(" "))
        })
        .collect();
    println!(
        "symmetry: {}",
        if !bounds.symmetry {
            "off (--no-symmetry)".to_string()
        } else if groups.is_empty() {
            "none in this scope".to_string()
        } else {
            format!("interchangeable {}", groups.join(", "))
        }
    );
    if let (Some(states), Some(path)) = (outcome.checkpoint_states, &args.checkpoint) {
        println!("checkpoint saved at {states} states: {}", path.display());
        if outcome.stopped.is_some() {
            println!("go on: {}", resume_command(ctx));
        }
    }
    match &outcome.found {
        None if outcome.interrupted => {
            println!("{}", outcome.stopped.as_deref().unwrap_or("interrupted"));
            exit::INTERRUPTED
        }
        None => report_clean(&outcome, &bounds),
        Some(found) => report_violation(ctx, protocol, found, &args.failures_dir),
    }
}

/// This process's command line with `--resume` (once): the command that goes on from
/// its checkpoint.
fn resume_command(ctx: &Ctx) -> String {
    let mut words: Vec<String> = vec![ctx.program.clone()];
    words.extend(std::env::args().skip(1));
    if !words.iter().any(|w| w == "--resume") {
        words.push("--resume".to_string());
    }
    words
        .iter()
        .map(|w| {
            if w.is_empty() || w.contains(|c: char| c.is_whitespace() || c == '\'' || c == '"') {
                format!("'{}'", w.replace('\'', r"'\''"))
            } else {
                w.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A scenario's script as the search's start: `Ok(empty)` for an empty schedule;
/// the script's first `steps` steps (all by default) for a schedule that is one
/// script, which is then removed from the scenario (the model makes its own faults);
/// an error naming the field for anything else.
fn start_of(
    scenario: &mut Scenario,
    steps: Option<usize>,
) -> Result<Vec<crate::fault::ScriptStep>, String> {
    let events = &scenario.faults.events;
    let script = match events.as_slice() {
        [] => {
            return match steps {
                Some(_) => Err("--start-steps: the scenario has no script to start from".into()),
                None => Ok(Vec::new()),
            }
        }
        [only] => match &only.fault {
            crate::fault::Fault::Script { steps } if only.at_ms == 0 => steps.clone(),
            _ => {
                return Err(
                    "faults: the model makes its own faults; the schedule must be \
                            empty or one script at 0 ms (a start)"
                        .into(),
                )
            }
        },
        _ => {
            return Err(
                "faults: the model makes its own faults; the schedule must be empty \
                        or one script at 0 ms (a start)"
                    .into(),
            )
        }
    };
    let n = steps.unwrap_or(script.len());
    if n > script.len() {
        return Err(format!(
            "--start-steps: {n} is more than the script's {} steps",
            script.len()
        ));
    }
    scenario.faults.events.clear();
    Ok(script[..n].to_vec())
}

fn report_clean(outcome: &Outcome, bounds: &Bounds) -> u8 {
    if outcome.reexpanded > 0 {
        println!(
            "{} states were reached again by a shorter path and expanded again",
            outcome.reexpanded
        );
    }
    if let Some(why) = &outcome.stopped {
        println!("{why}");
        return exit::HARNESS;
    }
    if outcome.depth_cut > 0 {
        println!(
            "{} states, depth {}, every property held in this scope (paths cut at depth \
             {} in {} states: the scope is bounded by depth, not exhausted)",
            outcome.states, outcome.depth, bounds.depth, outcome.depth_cut
        );
    } else {
        println!(
            "{} states, depth {}, every property held in this scope (exhausted: no path \
             reached the depth bound)",
            outcome.states, outcome.depth
        );
    }
    exit::OK
}

fn report_violation(
    ctx: &Ctx,
    protocol: ProtocolRef,
    found: &crate::model::Found,
    failures_dir: &std::path::Path,
) -> u8 {
    let v = &found.violation;
    println!("VIOLATION after {} steps: {v}", found.depth);
    println!("path:");
    for (i, step) in found.steps.iter().enumerate() {
        println!("  {:>3} ms  {step}", i + 1);
    }
    println!("witness:\n{}", found.witness.trim_end());
    let code = match v.expectation {
        Expectation::Eventually => exit::LIVENESS,
        _ => exit::SAFETY,
    };
    match save(protocol, &found.scenario, v.property, failures_dir) {
        Ok((path, reproduced)) => {
            println!("{}", super::turmoil_confirmation(reproduced));
            println!("saved: {}", path.display());
            println!("replay: {} replay {}", ctx.program, path.display());
            code
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::HARNESS
        }
    }
}

/// Replay the counterexample in the fast lane, check it fails `property`, confirm it
/// in the turmoil lane (the real node shells following the script), and save it as a
/// fast-lane corpus file saying whether turmoil reproduced it (`replay` and `cargo
/// test` then replay it there). `Ok((path, reproduced in turmoil))`.
fn save(
    protocol: ProtocolRef,
    scenario: &Scenario,
    property: &str,
    dir: &std::path::Path,
) -> Result<(PathBuf, bool), String> {
    let judged = protocol
        .run(scenario, Lane::Fast)
        .map_err(|e| format!("the counterexample's scenario is refused: {e}"))?;
    if !judged.violates(property) {
        return Err(format!(
            "the fast lane's replay of the counterexample does not fail {property} \
             (it ended {:?}, violations {:?}): the model and the fast lane disagree",
            judged.end, judged.verdict.violations
        ));
    }
    let turmoil = crate::explore::run_and_check(protocol, Lane::Turmoil, scenario);
    let reproduced = turmoil.violates(property);
    let mut entry = CorpusEntry::from_judged(scenario, &judged);
    entry.expect = crate::explore::corpus::Expect::Fail {
        property: property.to_string(),
    };
    entry.lane = Lane::Fast;
    entry.reproduced_in_turmoil = Some(reproduced);
    if reproduced {
        // The digest of the lane `replay` re-runs (the lanes give the same trace).
        entry.digest = format!("{:016x}", turmoil.trace.digest());
    }
    let (path, _) = entry.save(dir).map_err(|e| e.to_string())?;
    Ok((path, reproduced))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The state bound follows a reservation larger than its default (a search that
    /// reserved 1.8 billion states was twice stopped at 50 million by hand-typed
    /// commands that forgot --states-max), and never overrides a bound given.
    #[test]
    fn the_state_bound_defaults_to_a_larger_reservation() {
        assert_eq!(states_max(None, 0), 50_000_000);
        assert_eq!(states_max(None, 1_000), 50_000_000);
        assert_eq!(states_max(None, 1_800_000_000), 1_800_000_000);
        assert_eq!(states_max(Some(10), 1_800_000_000), 10);
    }
}
