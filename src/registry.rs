//! The built-in protocols by name: what a scenario's `protocol` field and
//! `--protocol` may name in the `gauntlet` binary. A user's binary builds its own
//! registry (`gauntlet::cli::main_with`); the built-ins come through the same door.

use crate::explore::ProtocolRef;
use crate::protocols::generals::Generals;
use crate::protocols::naive::Naive;
use crate::protocols::paxos::Paxos;
use crate::protocols::pbft::Pbft;
use crate::protocols::pow::Pow;
use crate::scenario::is_protocol_name;

/// A list of protocols, each under its own name.
#[derive(Clone)]
pub struct Registry {
    protocols: Vec<ProtocolRef>,
}

impl Registry {
    /// A registry of `protocols`, refused here (not by a run later) if a name is not a
    /// protocol name, is taken twice, or there is no protocol at all.
    pub fn new(protocols: Vec<ProtocolRef>) -> Result<Self, String> {
        if protocols.is_empty() {
            return Err("a registry needs a protocol".into());
        }
        for (i, p) in protocols.iter().enumerate() {
            if !is_protocol_name(p.name()) {
                return Err(format!(
                    "protocol name `{}` is not 1 to {} bytes of a-z, 0-9, _",
                    p.name(),
                    crate::scenario::PROTOCOL_NAME_BYTES_MAX
                ));
            }
            if protocols[..i].iter().any(|q| q.name() == p.name()) {
                return Err(format!("two protocols are named `{}`", p.name()));
            }
        }
        Ok(Registry { protocols })
    }

    /// The protocols built into gauntlet: Paxos (the default), the naive vote, PBFT, the
    /// Byzantine generals (within the bound, and past it) and the proof-of-work chain.
    pub fn builtin() -> Self {
        Registry::new(vec![
            &Paxos,
            &Naive,
            &Pbft,
            &Generals::WITHIN_BOUND,
            &Generals::BEYOND_BOUND,
            &Pow,
        ])
        .expect("the built-in names are valid")
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

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Draft, Protocol, RunSetup};
    use crate::protocols::naive::NaiveNode;

    /// The naive vote under another name, to try names with.
    struct Named(&'static str);

    impl Protocol for Named {
        type Core = NaiveNode;
        type Params = ();
        fn name(&self) -> &'static str {
            self.0
        }
        fn draft(&self, rng: &mut crate::rng::ChaCha8Rng) -> Draft<()> {
            Naive.draft(rng)
        }
        fn core(&self, setup: &RunSetup<Self>, id: crate::ids::NodeId) -> NaiveNode {
            NaiveNode::new(id, &setup.scenario.cluster.ids())
        }
        fn deciders(&self, setup: &RunSetup<Self>) -> Vec<crate::ids::NodeId> {
            setup.scenario.cluster.ids()
        }
    }

    /// A name too long, with a capital, or taken twice, and an empty registry, are
    /// refused where the registry is made, each with the reason; good names pass.
    #[test]
    fn bad_names_are_refused_where_the_registry_is_made() {
        static LONG: Named = Named("a_protocol_name_longer_than_thirty_two_bytes");
        static CAPITAL: Named = Named("Paxos2");
        static GOOD: Named = Named("echo_2");
        assert!(Registry::new(vec![&LONG])
            .unwrap_err()
            .contains("not 1 to 32"));
        assert!(Registry::new(vec![&CAPITAL]).is_err());
        assert!(Registry::new(vec![&Paxos, &Paxos])
            .unwrap_err()
            .contains("two protocols"));
        assert!(Registry::new(vec![]).is_err());
        let ok = Registry::new(vec![&GOOD, &Paxos]).expect("valid");
        assert_eq!(ok.names(), vec!["echo_2", "paxos"]);
        assert_eq!(ok.default_protocol().name(), "echo_2");
    }
}
