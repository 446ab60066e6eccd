//! Real-mode commands (being ported onto the contract on branch `real`).

use crate::registry::Registry;

#[derive(clap::Args)]
pub struct NodeArgs {}
#[derive(clap::Args)]
pub struct ProposeArgs {}
#[derive(clap::Args)]
pub struct CheckArgs {}
#[derive(clap::Args)]
pub struct InitClusterArgs {}

fn not_yet() -> u8 {
    eprintln!("error: real mode is being ported");
    super::exit::USAGE
}

pub fn cmd_node(_: &Registry, _: NodeArgs) -> u8 {
    not_yet()
}
pub fn cmd_propose(_: &Registry, _: ProposeArgs) -> u8 {
    not_yet()
}
pub fn cmd_check(_: &Registry, _: CheckArgs) -> u8 {
    not_yet()
}
pub fn cmd_init_cluster(_: &Registry, _: InitClusterArgs) -> u8 {
    not_yet()
}
