//! [`Value`]: what clients ask a cluster to agree on (the lab's `Value_A`), the
//! payload of every single-value and log protocol, and a block id on a chain.
//!
//! A value is shared, not copied: it travels in messages, durable state, history
//! events and verdicts, so cloning it must cost a reference count, not an allocation
//! (the fast lane clones values in every step).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// Largest value a client may propose, in bytes. Keeps every message far below the
/// wire's datagram limit.
pub const VALUE_BYTES_MAX: usize = 256;

/// An immutable string value, cheap to clone. Serialized as a plain JSON string.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Value(Arc<str>);

impl Value {
    pub fn new(s: impl AsRef<str>) -> Self {
        Value(Arc::from(s.as_ref()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Value({:?})", &*self.0)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::new(s)
    }
}
