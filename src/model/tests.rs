//! Unit tests of the exhaustive lane on Paxos and the naive vote.

use super::*;
use crate::protocol::prepare;
use crate::protocols::paxos::Paxos;

fn paxos_setup(servers: u16, clients: u16, bugs: &[&str]) -> RunSetup<Paxos> {
    let scenario = scope_scenario(
        &Paxos,
        servers,
        clients,
        bugs.iter().map(|b| b.to_string()).collect(),
    );
    prepare(&Paxos, &scenario).expect("a valid scope")
}

/// A clean tiny scope is clean, and its state count is pinned: a change in how the
/// model steps, fingerprints or enumerates shows up here.
#[test]
fn tiny_paxos_scope_is_clean_with_a_pinned_state_count() {
    let setup = paxos_setup(3, 1, &[]);
    let outcome = check(&Paxos, &setup, &Bounds::default(), Order::Bfs, &mut |_| {}).unwrap();
    assert!(outcome.found.is_none(), "{:?}", outcome.found);
    assert!(outcome.stopped.is_none());
    assert_eq!(outcome.depth_cut, 0, "the scope is exhausted");
    eprintln!("{outcome:?}");
    assert_eq!(outcome.states, 0);
}
