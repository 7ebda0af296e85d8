//! A script past `busy-reply-threshold`, and SCRIPT KILL / FUNCTION KILL.
//!
//! Redis serves other clients from inside its Lua hook (`processEventsWhileBlocked`) once a
//! script has run longer than the threshold, answering `-BUSY` to everything but SCRIPT
//! KILL, FUNCTION KILL and SHUTDOWN NOSAVE. ringkv's loop is not re-entrant from inside a
//! command, so the hook does not serve the ring: a long script holds the loop until it ends
//! (see docs/ARCHITECTURE.md). SCRIPT KILL and FUNCTION KILL therefore only ever find no
//! script running.

use super::RunCtx;
use crate::server::Server;
use engine::{CmdError, CmdResult};

/// Called from the Lua hook every 100000 instructions while a script runs.
pub fn hook(_server: &mut Server, _ctx: &RunCtx) {}

/// SCRIPT KILL (`function` false) / FUNCTION KILL.
pub fn script_kill(server: &mut Server, _key: usize, _function: bool) -> CmdResult {
    if !server.scripting.busy() {
        return Err(CmdError::Static(
            "NOTBUSY No scripts in execution right now.",
        ));
    }
    Err(CmdError::Static(
        "NOTBUSY No scripts in execution right now.",
    ))
}
