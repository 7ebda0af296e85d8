//! MODULE: ringkv loads no modules: LIST is empty, LOAD/LOADEX are refused with a clear
//! error, UNLOAD finds no module.

use crate::dispatch::gate::reply;
use crate::server::Server;
use engine::commands::args::is_kw;
use engine::{CmdError, CmdResult};

const MODULE_HELP: &[&str] = &[
    "LIST",
    "    Return a list of loaded modules.",
    "LOAD <path> [<arg> ...]",
    "    Load a module library from <path>, passing to it any optional arguments.",
    "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
    "    Load a module library from <path>, while passing it module configurations and optional arguments.",
    "UNLOAD <name>",
    "    Unload a module.",
];

/// Texts of the refusals.
pub const NO_MODULES: &str =
    "ERR ringkv does not support modules: MODULE LOAD and LOADEX are refused";
const NOT_ALLOWED: &str = "ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

/// MODULE LIST | HELP | LOAD | LOADEX | UNLOAD
pub fn module(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let sub = args[1];
    if is_kw(sub, "list") {
        reply(server, key).array(0);
        return Ok(());
    }
    if is_kw(sub, "help") {
        crate::features::client_cmds::reply_help(
            server,
            key,
            "MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            MODULE_HELP,
        );
        return Ok(());
    }
    // LOAD, LOADEX and UNLOAD are `protected` (enable-module-command, default no).
    let allowed = match server.config.compat.enable_module_command {
        1 => true,
        2 => server.clients[key]
            .peer_addr()
            .is_none_or(|a| a.ip().is_loopback()),
        _ => false,
    };
    if !allowed {
        return Err(CmdError::Static(NOT_ALLOWED));
    }
    if is_kw(sub, "unload") {
        return Err(CmdError::Static(
            "ERR Error unloading module: no such module with that name",
        ));
    }
    Err(CmdError::Static(NO_MODULES))
}
