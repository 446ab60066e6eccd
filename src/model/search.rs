//! The search: breadth-first (shortest counterexample first) or depth-first over the
//! states of [`Model`], each visited once by its fingerprint, judged by the protocol's
//! own properties over the history of the path that reached it.
//!
//! **Safety** is judged incrementally: after every step that records a protocol event
//! its node had not recorded before in its incarnation, or a node start, the
//! protocol's `Always` judges read the path's whole history (depth-first keeps it as
//! one vector along its path; breadth-first keeps each step's events with the step in
//! the trail of queued paths and joins them). A breach the judges see in a prefix is
//! confirmed on the run a replay plays (the path, then the liveness phase): judges
//! read whole runs, and some breaches of a prefix are healed by what follows (a
//! learner that learned a value before it became chosen). A breach by a step that recorded neither is caught at the next step that
//! does. This assumes, as holds for
//! Paxos's and the shapes' judges, that a property is not broken by a node repeating
//! an event it already recorded in the same incarnation, or by a harness event alone.
//!
//! **Liveness** is a bounded check on one fair path: at every state where the search
//! can go no further (no step enabled within the bounds: the faults are spent and the
//! network drained), the liveness phase of [`Model::finish`] runs from it (restart
//! every crashed node, deliver in order, fire timers as they come due) for at most
//! the scenario's `liveness_bound_ms` steps, and the `Eventually` judges read the
//! result. So "every decider decides within D steps after the last fault, on the fair
//! path", not on every path.
//!
//! **Order.** Each state's enabled steps are tried in the model's order, or, with
//! `Bounds::order_seed`, in an order drawn from a seeded stream ([`successor_order`]):
//! the same states either way, another path first.

use super::checkpoint::{self, Counters, Header, SavedFrame, Scope};
use super::fingerprint::{Visit, Visited};
use super::machine::{Model, Spent, State};
use super::{Bounds, Found, Order, Outcome};
use crate::fault::{Fault, FaultEvent, FaultSchedule, ScriptStep};
use crate::history::{Event, History};
use crate::protocol::{Expectation, Judge, Judging, Protocol, RunSetup, Verdict};
use crate::rng::{ChaCha8Rng, Draw};
use rand_core::SeedableRng;
use std::collections::VecDeque;
use std::rc::Rc;

/// A prefix's breach that the replayed run keeps: its verdict and that run's history.
/// `None`: the run heals it.
type Confirmed<C> = Option<(Verdict, History<C>)>;

/// The stream a seeded successor order draws from (`Bounds::order_seed`): its own
/// root seed, apart from the scenario's, since the order is how a scope is searched,
/// not part of it.
fn order_stream(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Put `steps` (one state's enabled steps) in an order drawn from `stream`
/// ([`Draw::shuffle`]). Reordering a state's successors changes which path depth-first
/// search takes first, never which states exist within the bounds.
pub(crate) fn successor_order(stream: &mut ChaCha8Rng, steps: &mut [ScriptStep]) {
    stream.shuffle(steps);
}

/// One step of a path and the events it recorded, linked to the path before it:
/// paths share their prefixes, and a path's history is the events of its chain
/// ([`Trail::history`]), so judging a queued state needs no replay of the cores. The
/// root holds the cluster's start (no step).
struct Trail<C: crate::protocol::Core> {
    step: Option<ScriptStep>,
    events: Box<[Event<C>]>,
    parent: Option<Rc<Trail<C>>>,
}

impl<C: crate::protocol::Core> Trail<C> {
    fn chain(self: &Rc<Self>) -> Vec<&Trail<C>> {
        let mut out = Vec::new();
        let mut at: Option<&Rc<Trail<C>>> = Some(self);
        while let Some(t) = at {
            out.push(&**t);
            at = t.parent.as_ref();
        }
        out.reverse();
        out
    }

    fn script(self: &Rc<Self>) -> Vec<ScriptStep> {
        self.chain().iter().filter_map(|t| t.step.clone()).collect()
    }

    /// The path's history: its events in order, then `more` (a step not yet linked).
    fn history(self: &Rc<Self>, more: &[Event<C>]) -> History<C> {
        let chain = self.chain();
        let len = chain.iter().map(|t| t.events.len()).sum::<usize>() + more.len();
        let mut history = History::with_capacity(len + 64);
        for t in chain {
            history.events.extend(t.events.iter().cloned());
        }
        history.events.extend(more.iter().cloned());
        history
    }
}

/// What a state in the queue carries.
struct Node<P: Protocol> {
    state: State<P::Core>,
    trail: Rc<Trail<P::Core>>,
    depth: u32,
}

/// The scenario that replays `steps`: the model's scenario with its schedule replaced
/// by the script.
pub(crate) fn scripted<P: Protocol>(
    setup: &RunSetup<P>,
    steps: Vec<ScriptStep>,
) -> crate::scenario::Scenario {
    let mut scenario = setup.scenario.clone();
    scenario.faults = FaultSchedule {
        events: vec![FaultEvent {
            at_ms: 0,
            fault: Fault::Script { steps },
        }],
    };
    scenario
}

/// The resident memory of this process (Linux's VmRSS), in bytes, if known. Read into
/// a buffer on the stack: a heap allocation here, in a process whose heap holds
/// millions of freed small blocks, made the allocator consolidate them all (a tenth
/// of a breadth-first search's time in a profile).
pub fn resident_bytes() -> Option<u64> {
    use std::io::Read;
    let mut file = std::fs::File::open("/proc/self/status").ok()?;
    let mut buf = [0u8; 8192];
    let mut len = 0;
    while len < buf.len() {
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(_) => return None,
        }
    }
    let status = std::str::from_utf8(&buf[..len]).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// A state on the depth-first path: the steps enabled in it and the next to try, and
/// where the path's history ended when it was reached.
struct Frame<C: crate::protocol::Core> {
    state: State<C>,
    steps: Vec<ScriptStep>,
    next: usize,
    events_len: usize,
}

/// The memory bound's message, if the process now holds (`rss`) more than it allows.
fn memory_exceeded(
    bounds: &Bounds,
    outcome: &mut Outcome,
    rss: u64,
    pending: usize,
) -> Option<String> {
    outcome.peak_bytes = outcome.peak_bytes.max(rss);
    (rss > bounds.memory_mb.saturating_mul(1024 * 1024)).then(|| {
        format!(
            "stopped: memory bound of {} MB reached ({} MB resident) after {} states with \
             {pending} still pending; the scope was not fully checked (raise --memory-mb, \
             use --dfs, or shrink the scope)",
            bounds.memory_mb,
            rss / (1024 * 1024),
            outcome.states,
        )
    })
}

/// The visited set, with room for `bounds.reserve_states` if any: refused if that
/// table alone would exceed the memory bound (an error before the search, not a
/// process the kernel kills while it fills).
fn reserved(bounds: &Bounds) -> Result<Visited, String> {
    bounds.reserved_bytes()?;
    Ok(
        match usize::try_from(bounds.reserve_states).unwrap_or(usize::MAX) {
            0 => Visited::default(),
            states => Visited::with_capacity(states),
        },
    )
}

/// The memory bound's message if the visited set's next growth, due within the next
/// report's worth of states, would take the process past it. A growth allocates
/// the new table while the old one is still held, so the peak is the resident memory
/// now plus the new table; checked before it happens, because past the machine's
/// memory the kernel may kill the process before it reports anything.
fn growth_exceeds(bounds: &Bounds, seen: &Visited, rss: u64, states: u64) -> Option<String> {
    let bound = bounds.memory_mb.saturating_mul(1024 * 1024);
    let peak = rss.saturating_add(seen.grown_bytes());
    (seen.room() <= REPORT_STATES as usize && peak > bound).then(|| {
        format!(
            "stopped: after {states} states the visited set has room for {} more, and \
             its next growth would take the process to {} MB ({} MB resident and a new \
             table of {} MB), past the memory bound of {} MB; the scope was not fully \
             checked (raise --memory-mb, reserve the table up front with \
             --reserve-states, or shrink the scope)",
            seen.room(),
            peak / (1024 * 1024),
            rss / (1024 * 1024),
            seen.grown_bytes() / (1024 * 1024),
            bounds.memory_mb,
        )
    })
}

/// States between two progress reports and memory checks.
const REPORT_STATES: u64 = 100_000;

/// Every [`REPORT_STATES`] states, report progress and check the memory bound
/// (now, and at the visited set's next growth); always, the state bound and the stop
/// signal. `Some(why)` when the search must stop (both searches call this once a
/// state, with `pending` states queued or stacked).
fn report_and_check(
    bounds: &Bounds,
    outcome: &mut Outcome,
    seen: &Visited,
    pending: usize,
    progress: &mut dyn FnMut(&Outcome),
) -> Option<String> {
    if bounds.stop.requested() {
        outcome.interrupted = true;
        return Some(format!(
            "interrupted after {} states with {pending} still pending; the scope was not \
             fully checked",
            outcome.states
        ));
    }
    if outcome.states >= outcome.reported + REPORT_STATES {
        outcome.reported = outcome.states;
        outcome.fingerprint_bytes = seen.bytes() as u64;
        outcome.queued = pending as u64;
        progress(outcome);
        // Where the kernel does not say (not Linux), neither check runs.
        if let Some(rss) = resident_bytes() {
            let why = memory_exceeded(bounds, outcome, rss, pending)
                .or_else(|| growth_exceeds(bounds, seen, rss, outcome.states));
            if why.is_some() {
                return why;
            }
        }
    }
    (outcome.states >= bounds.states_max).then(|| states_exceeded(bounds, pending))
}

fn states_exceeded(bounds: &Bounds, pending: usize) -> String {
    format!(
        "stopped: state bound of {} reached with {pending} still pending; the scope was \
         not fully checked (raise --states-max)",
        bounds.states_max,
    )
}

/// Run the search. See the module docs.
pub(crate) fn search<P: Protocol>(
    protocol: &P,
    setup: &RunSetup<P>,
    bounds: &Bounds,
    order: Order,
    progress: &mut dyn FnMut(&Outcome),
) -> Result<Outcome, String> {
    let model = Model::new(protocol, setup);
    let model = if bounds.symmetry {
        model.with_symmetry(&bounds.crash_nodes, &bounds.timer_nodes)?
    } else {
        model
    };
    let deciders = protocol.deciders(setup);
    let (always, eventually): (Vec<Judge<P>>, Vec<Judge<P>>) = protocol
        .properties()
        .into_iter()
        .filter(|j| j.property.expectation != Expectation::Sometimes)
        .partition(|j| j.property.expectation == Expectation::Always);
    let judge = |judges: &[Judge<P>], history: &History<P::Core>| -> Verdict {
        Verdict::of(judges, &Judging::new(history, setup, &deciders))
    };
    let spend = Spent {
        drops: bounds.drops,
        duplicates: bounds.duplicates,
        crashes: bounds.crashes,
        timeouts: bounds.timeouts,
    };
    let mut outcome = Outcome {
        symmetry_groups: model.symmetry_groups().to_vec(),
        ..Outcome::default()
    };
    if bounds.checkpoint.is_some() && order != Order::Dfs {
        return Err(
            "--checkpoint: depth-first search only (--dfs): a breadth-first \
                    search's frontier is a queue of states, not one path"
                .to_string(),
        );
    }
    let scope = Scope {
        protocol: protocol.name().to_string(),
        scenario: serde_json::to_value(&setup.scenario).expect("a scenario serializes"),
        bounds: bounds.to_string(),
        start: bounds.start.clone(),
    };
    // A resume reads its visited set in place of a fresh one.
    let (resumed, mut seen) = match &bounds.checkpoint {
        Some(plan) if plan.resume => {
            bounds.reserved_bytes()?;
            let (header, visited) = checkpoint::load(
                &plan.path,
                &scope,
                usize::try_from(bounds.reserve_states).unwrap_or(usize::MAX),
                bounds.memory_mb.saturating_mul(1024 * 1024),
            )?;
            (Some(header), visited)
        }
        _ => (None, reserved(bounds)?),
    };
    let found = |steps: Vec<ScriptStep>, verdict: Verdict, history: &History<P::Core>| {
        let violation = verdict
            .violations
            .into_iter()
            .next()
            .expect("called with a violation");
        let steps: Vec<ScriptStep> = bounds.start.iter().cloned().chain(steps).collect();
        Found {
            witness: violation.render_witness(history),
            violation,
            depth: steps.len(),
            scenario: scripted(setup, steps.clone()),
            steps,
        }
    };

    // Judges read whole runs, and some breaches of a prefix are healed by what follows
    // (a learner that learned early, before its value became chosen). So a breach seen
    // in a prefix is confirmed on the run a replay plays: the path from `state`, then
    // the liveness phase. `None`: healed.
    let confirmed = |state: &State<P::Core>,
                     mut history: History<P::Core>|
     -> Result<Confirmed<P::Core>, String> {
        let mut end = state.clone();
        model.finish(
            &mut end,
            &mut history.events,
            setup.scenario.liveness_bound_ms,
        )?;
        let verdict = judge(&always, &history);
        Ok((!verdict.violations.is_empty()).then_some((verdict, history)))
    };

    let mut events = Vec::new();
    let mut initial = model.initial(&mut events)?;
    for (i, step) in bounds.start.iter().enumerate() {
        if !model.apply(&mut initial, step, &mut events)? {
            return Err(format!(
                "the scope's start: step {} ({step}) does not apply",
                i + 1
            ));
        }
    }
    let history = History::from_events(events.clone());
    if let Some(header) = &resumed {
        header.counters.restore(&mut outcome);
    } else {
        seen.visit(model.key(&initial), 0);
        outcome.states = 1;
        // The start (a given path's end) is confirmed as every other state is.
        if !judge(&always, &history).violations.is_empty() {
            if let Some((verdict, confirm)) = confirmed(&initial, history.clone())? {
                outcome.found = Some(found(Vec::new(), verdict, &confirm));
                return Ok(outcome);
            }
            outcome.healed += 1;
        }
    }
    if order == Order::Dfs {
        // Depth-first keeps one path: its states, each with the steps still to try,
        // and the path's history as one vector, cut back on the way up. So a judge
        // reads the history as it is, with no replay, and memory is the path, not a
        // frontier. A state reached again by a shorter path is expanded again
        // ([`Visit::Shallower`]), so a depth bound does not hide states within it.
        let mut history = history;
        let mut path: Vec<ScriptStep> = Vec::new();
        let mut stack: Vec<Frame<P::Core>> = Vec::new();
        let mut stream = bounds.order_seed.map(order_stream);
        // Opens a state for expansion at `depth`: the depth bound, then the terminal
        // liveness check if nothing is enabled, then (with an order seed) the order
        // its steps are tried in. `Ok(None)`: nothing to expand.
        let open = |state: State<P::Core>,
                    depth: u32,
                    history: &History<P::Core>,
                    path: &[ScriptStep],
                    outcome: &mut Outcome,
                    stream: &mut Option<ChaCha8Rng>|
         -> Result<Option<Frame<P::Core>>, String> {
            outcome.depth = outcome.depth.max(depth);
            if depth >= bounds.depth {
                outcome.depth_cut += 1;
                return Ok(None);
            }
            let mut steps = Vec::new();
            model.enabled(
                &state,
                &spend,
                (&bounds.crash_nodes, &bounds.timer_nodes),
                &mut steps,
            );
            if let Some(stream) = stream {
                successor_order(stream, &mut steps);
            }
            if steps.is_empty() {
                if bounds.liveness {
                    outcome.liveness_checked += 1;
                    let mut history = history.clone();
                    let mut end = state;
                    model.finish(
                        &mut end,
                        &mut history.events,
                        setup.scenario.liveness_bound_ms,
                    )?;
                    let verdict = judge(&eventually, &history);
                    let verdict = if verdict.violations.is_empty() {
                        judge(&always, &history)
                    } else {
                        verdict
                    };
                    if !verdict.violations.is_empty() {
                        outcome.found = Some(found(path.to_vec(), verdict, &history));
                    }
                }
                return Ok(None);
            }
            Ok(Some(Frame {
                state,
                steps,
                next: 0,
                events_len: history.events.len(),
            }))
        };
        // Saves the search as it is between two states: the visited set, the path
        // (each state's steps and how many it has tried) and the counters.
        let save = |stack: &[Frame<P::Core>],
                    outcome: &mut Outcome,
                    seen: &Visited,
                    stream: &Option<ChaCha8Rng>|
         -> Result<(), String> {
            let Some(plan) = &bounds.checkpoint else {
                return Ok(());
            };
            outcome.peak_bytes = outcome.peak_bytes.max(resident_bytes().unwrap_or(0));
            let header = Header {
                scope: scope.clone(),
                counters: Counters::of(outcome),
                order_stream_word_pos: stream.as_ref().map(|s| s.get_word_pos().to_string()),
                frames: stack
                    .iter()
                    .map(|f| SavedFrame {
                        steps: f.steps.clone(),
                        next: f.next,
                        key: model.key(&f.state),
                    })
                    .collect(),
                entries: seen.len() as u64,
            };
            checkpoint::save(&plan.path, &header, seen)?;
            outcome.checkpoint_states = Some(outcome.states);
            Ok(())
        };
        match &resumed {
            Some(header) => {
                let at = bounds
                    .checkpoint
                    .as_ref()
                    .map(|p| p.path.display().to_string());
                let at = at.unwrap_or_default();
                if let (Some(stream), Some(pos)) = (&mut stream, &header.order_stream_word_pos) {
                    let pos: u128 = pos
                        .parse()
                        .map_err(|e| format!("{at}: field order_stream_word_pos: {pos:?}: {e}"))?;
                    stream.set_word_pos(pos);
                }
                // Rebuild the path: each state is its parent's last step taken.
                let mut state = initial;
                for (i, saved) in header.frames.iter().enumerate() {
                    if model.key(&state) != saved.key {
                        return Err(format!(
                            "{at}: field frames[{i}].key: the state this build reaches \
                             there has another fingerprint; the checkpoint was written \
                             by a build that models or fingerprints this protocol \
                             differently, so its visited set does not apply"
                        ));
                    }
                    let frame = Frame {
                        state,
                        steps: saved.steps.clone(),
                        next: saved.next,
                        events_len: history.events.len(),
                    };
                    if i + 1 == header.frames.len() {
                        stack.push(frame);
                        break;
                    }
                    let step = saved
                        .next
                        .checked_sub(1)
                        .and_then(|taken| saved.steps.get(taken))
                        .cloned()
                        .ok_or_else(|| {
                            format!("{at}: field frames[{i}].next: no step taken to go on")
                        })?;
                    let mut next = frame.state.clone();
                    if !model.apply(&mut next, &step, &mut history.events)? {
                        return Err(format!(
                            "{at}: field frames[{i}].steps: {step} does not apply here"
                        ));
                    }
                    stack.push(frame);
                    path.push(step);
                    state = next;
                }
            }
            None => {
                if let Some(frame) = open(initial, 0, &history, &path, &mut outcome, &mut stream)? {
                    stack.push(frame);
                }
            }
        }
        let every = bounds.checkpoint.as_ref().map(|p| p.every_states.max(1));
        let mut save_at = every.map(|every| outcome.states.saturating_add(every));
        while outcome.found.is_none() {
            let Some(top) = stack.last_mut() else {
                break;
            };
            let Some(step) = top.steps.get(top.next).cloned() else {
                stack.pop();
                path.pop();
                if let Some(parent) = stack.last() {
                    history.events.truncate(parent.events_len);
                }
                continue;
            };
            top.next += 1;
            let events_len = top.events_len;
            let mut next = top.state.clone();
            let seen_before = top.state.events_seen();
            let depth = u32::try_from(stack.len()).unwrap_or(u32::MAX);
            if !model.apply(&mut next, &step, &mut history.events)? {
                unreachable!("an enabled step applies: {step}");
            }
            outcome.transitions += 1;
            match seen.visit(model.key(&next), depth) {
                Visit::Seen => {
                    history.events.truncate(events_len);
                    continue;
                }
                Visit::Shallower => outcome.reexpanded += 1,
                Visit::New => {
                    outcome.states += 1;
                    let judge_now = next.events_seen() > seen_before
                        || history.events[events_len..]
                            .iter()
                            .any(|e| matches!(e.kind, crate::history::EventKind::Started { .. }));
                    if judge_now && !judge(&always, &history).violations.is_empty() {
                        if let Some((verdict, confirm)) = confirmed(&next, history.clone())? {
                            outcome.depth = outcome.depth.max(depth);
                            path.push(step);
                            outcome.found = Some(found(path, verdict, &confirm));
                            break;
                        }
                        outcome.healed += 1;
                    }
                }
            }
            path.push(step);
            match open(next, depth, &history, &path, &mut outcome, &mut stream)? {
                Some(frame) => stack.push(frame),
                None => {
                    path.pop();
                    history.events.truncate(events_len);
                }
            }
            if let Some(why) = report_and_check(bounds, &mut outcome, &seen, stack.len(), progress)
            {
                outcome.stopped = Some(why);
                break;
            }
            if let (Some(at), Some(every)) = (save_at, every) {
                if outcome.states >= at {
                    save(&stack, &mut outcome, &seen, &stream)?;
                    save_at = Some(outcome.states.saturating_add(every));
                }
            }
        }
        if outcome.stopped.is_some() && outcome.found.is_none() {
            save(&stack, &mut outcome, &seen, &stream)?;
        }
        outcome.fingerprint_bytes = seen.bytes() as u64;
        outcome.peak_bytes = outcome.peak_bytes.max(resident_bytes().unwrap_or(0));
        return Ok(outcome);
    }
    // Breadth-first keeps, with each queued state, the trail of steps that reached it
    // and the events each recorded; a judge reads the trail's events, so no path is
    // replayed.
    let root = Rc::new(Trail {
        step: None,
        events: events.into_boxed_slice(),
        parent: None,
    });
    let mut queue: VecDeque<Node<P>> = VecDeque::new();
    queue.push_back(Node {
        state: initial,
        trail: root,
        depth: 0,
    });
    let mut steps = Vec::new();
    let mut events = Vec::new();
    let mut stream = bounds.order_seed.map(order_stream);
    while let Some(node) = queue.pop_front() {
        outcome.depth = outcome.depth.max(node.depth);
        if node.depth >= bounds.depth {
            outcome.depth_cut += 1;
            continue;
        }
        model.enabled(
            &node.state,
            &spend,
            (&bounds.crash_nodes, &bounds.timer_nodes),
            &mut steps,
        );
        if let Some(stream) = &mut stream {
            successor_order(stream, &mut steps);
        }
        if steps.is_empty() && bounds.liveness {
            // Nothing more can happen within the bounds: the faults are over.
            outcome.liveness_checked += 1;
            let mut history = node.trail.history(&[]);
            let mut state = node.state.clone();
            model.finish(
                &mut state,
                &mut history.events,
                setup.scenario.liveness_bound_ms,
            )?;
            let verdict = judge(&eventually, &history);
            let verdict = if verdict.violations.is_empty() {
                judge(&always, &history)
            } else {
                verdict
            };
            if !verdict.violations.is_empty() {
                outcome.found = Some(found(node.trail.script(), verdict, &history));
                return Ok(outcome);
            }
        }
        let mut parent_history: Option<History<P::Core>> = None;
        for step in steps.drain(..) {
            let mut next = node.state.clone();
            events.clear();
            if !model.apply(&mut next, &step, &mut events)? {
                unreachable!("an enabled step applies: {step}");
            }
            outcome.transitions += 1;
            if seen.visit(model.key(&next), node.depth + 1) != Visit::New {
                continue;
            }
            outcome.states += 1;
            let judge_now = next.events_seen() > node.state.events_seen()
                || events
                    .iter()
                    .any(|e| matches!(e.kind, crate::history::EventKind::Started { .. }));
            if judge_now {
                // The parent's history is joined once for all its successors that
                // are judged; each appends its step's events and cuts them off again.
                let history = parent_history.get_or_insert_with(|| node.trail.history(&[]));
                let parent_len = history.events.len();
                history.events.extend(events.iter().cloned());
                let breached = !judge(&always, history).violations.is_empty();
                if !breached {
                    history.events.truncate(parent_len);
                } else {
                    let history = parent_history.take().expect("joined just above");
                    if let Some((verdict, history)) = confirmed(&next, history)? {
                        outcome.depth = outcome.depth.max(node.depth + 1);
                        let mut path = node.trail.script();
                        path.push(step);
                        outcome.found = Some(found(path, verdict, &history));
                        return Ok(outcome);
                    }
                    outcome.healed += 1;
                }
            }
            let trail = Rc::new(Trail {
                step: Some(step),
                events: events.drain(..).collect(),
                parent: Some(Rc::clone(&node.trail)),
            });
            queue.push_back(Node {
                state: next,
                trail,
                depth: node.depth + 1,
            });
        }
        if let Some(why) = report_and_check(bounds, &mut outcome, &seen, queue.len(), progress) {
            outcome.stopped = Some(why);
            break;
        }
    }
    outcome.fingerprint_bytes = seen.bytes() as u64;
    outcome.peak_bytes = outcome.peak_bytes.max(resident_bytes().unwrap_or(0));
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The growth check stops a search whose visited set is about to double past the
    /// memory bound, with a message that says so and names the ways out, and only
    /// then: not when the growth fits, and not while the table has more room than one
    /// report's worth of states. A reservation the bound cannot hold is refused
    /// before the search.
    #[test]
    fn a_growth_past_the_memory_bound_stops_the_search_before_it_allocates() {
        let bounds = Bounds {
            memory_mb: 1,
            ..Bounds::default()
        };
        let bound = 1024 * 1024;
        let small = Visited::with_capacity(1_000);
        let grown = small.grown_bytes();
        assert!(growth_exceeds(&bounds, &small, bound - grown, 1_000).is_none());
        let why = growth_exceeds(&bounds, &small, bound - grown + 1, 1_000)
            .expect("the growth would pass the bound");
        assert!(
            why.starts_with(&format!(
                "stopped: after 1000 states the visited set has room for {} more",
                small.room()
            )),
            "{why}"
        );
        assert!(
            why.contains("--reserve-states") && why.contains("--memory-mb"),
            "{why}"
        );

        let roomy = Visited::with_capacity(REPORT_STATES as usize * 2);
        assert!(growth_exceeds(&bounds, &roomy, bound, 1_000).is_none());

        let too_big = Bounds {
            reserve_states: 1_000_000,
            ..bounds.clone()
        };
        let refused = reserved(&too_big).expect_err("18 MB of table in a 1 MB bound");
        assert!(
            refused.contains("--reserve-states 1000000") && refused.contains("18 MB"),
            "{refused}"
        );
        let fits = Bounds {
            reserve_states: 1_000,
            ..bounds
        };
        assert!(reserved(&fits).expect("fits").room() >= 1_000);
    }
}
