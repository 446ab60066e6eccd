//! The `gauntlet` binary: the library's command line over the built-in protocols.

use gauntlet::registry::Registry;
use std::process::ExitCode;

fn main() -> ExitCode {
    gauntlet::cli::main_with_registry(Registry::builtin())
}
