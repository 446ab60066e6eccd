//! The helpers both shapes' tests build their views with, and the tests of the
//! shared message formatting.

use super::*;
use crate::protocol::Violation;

pub(super) fn n(i: u16) -> NodeId {
    NodeId(i)
}

pub(super) fn v(s: &str) -> Value {
    Value::new(s)
}

/// One record of node `node` at history index `index`, dated `index * 10` ms so that
/// a test reads times off indices.
pub(super) fn rec(index: usize, node: u16, observation: Observation) -> Record {
    Record {
        index,
        at_ms: u64::try_from(index).expect("small index") * 10,
        node: NodeId(node),
        from_harness: matches!(observation, Observation::Submitted { .. }),
        observation,
    }
}

/// The one violation of `property` among `found`, failing the test if there is not
/// exactly one.
pub(super) fn only<'a>(found: &'a [Violation], property: &str) -> &'a Violation {
    let of: Vec<&Violation> = found.iter().filter(|x| x.property == property).collect();
    assert_eq!(of.len(), 1, "{property}: {found:#?}");
    of[0]
}

/// The names of the properties `found` breaks, in order.
pub(super) fn names(found: &[Violation]) -> Vec<&'static str> {
    found.iter().map(|x| x.property).collect()
}

/// Short lists print whole; long ones print the first five and count the rest.
#[test]
fn capped_lists_name_five_then_count() {
    assert_eq!(capped(Vec::<u8>::new()), "");
    assert_eq!(capped([1, 2, 3, 4, 5]), "1, 2, 3, 4, 5");
    assert_eq!(capped(1..=8), "1, 2, 3, 4, 5 and 3 more");
}

/// A liveness window is the phase's start and the run's end, and falls back to the
/// start when a view has no end.
#[test]
fn window_without_end_stands_at_the_phase_start() {
    let mut view = ShapeView {
        liveness_from: Some((4, 40)),
        end: Some((9, 90)),
        ..ShapeView::default()
    };
    let window = Window::of(&view).expect("a liveness phase");
    assert_eq!((window.witness, window.end_ms), (vec![4, 9], 90));
    view.end = None;
    let window = Window::of(&view).expect("a liveness phase");
    assert_eq!((window.witness, window.end_ms), (vec![4, 4], 40));
    view.liveness_from = None;
    assert!(Window::of(&view).is_none());
}
