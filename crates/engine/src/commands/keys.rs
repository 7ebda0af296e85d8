//! keys commands.

use super::CmdFn;

pub const COMMANDS: &[(&str, CmdFn)] = &[];
