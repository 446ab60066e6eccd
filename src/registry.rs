//! The built-in protocols by name: what a scenario's `protocol` field and
//! `--protocol` may name in the `gauntlet` binary. A user's binary builds its own
//! registry (`gauntlet::cli::main_with`); the built-ins come through the same door.

use crate::explore::ProtocolRef;
use crate::protocols::naive::Naive;
use crate::protocols::paxos::Paxos;
use crate::scenario::is_protocol_name;

/// A list of protocols, each under its own name.
#[derive(Clone)]
pub struct Registry {
    protocols: Vec<ProtocolRef>,
}

impl Registry {
    /// A registry of `protocols`. Panics on a name that is not a protocol name or is
    /// taken twice: a programming error in the binary, caught at its start rather
    /// than by a run.
    pub fn new(protocols: Vec<ProtocolRef>) -> Self {
        for (i, p) in protocols.iter().enumerate() {
            assert!(
                is_protocol_name(p.name()),
                "protocol name `{}` is not 1 to {} bytes of a-z, 0-9, _",
                p.name(),
                crate::scenario::PROTOCOL_NAME_BYTES_MAX
            );
            assert!(
                !protocols[..i].iter().any(|q| q.name() == p.name()),
                "two protocols are named `{}`",
                p.name()
            );
        }
        assert!(!protocols.is_empty(), "a registry needs a protocol");
        Registry { protocols }
    }

    /// The protocols built into gauntlet: Paxos (the default) and the naive vote.
    pub fn builtin() -> Self {
        Registry::new(vec![&Paxos, &Naive])
    }

    /// The protocol named `name`.
    pub fn get(&self, name: &str) -> Option<ProtocolRef> {
        self.protocols.iter().copied().find(|p| p.name() == name)
    }

    /// The first protocol: the default of `--protocol`.
    pub fn default_protocol(&self) -> ProtocolRef {
        self.protocols[0]
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.protocols.iter().map(|p| p.name()).collect()
    }

    pub fn all(&self) -> &[ProtocolRef] {
        &self.protocols
    }
}
