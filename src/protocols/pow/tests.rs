//! Unit tests of the chain: its judges fire on hand-built histories, quiet runs settle
//! alike in both lanes.

use super::*;
