//! A script past `busy-reply-threshold` (alias `lua-time-limit`), and SCRIPT KILL /
//! FUNCTION KILL (Redis 7.0's script.c `scriptInterrupt` / `scriptKill`).
//!
//! The Lua hook runs every 100000 instructions ([`hook`]). Once the script has run longer
//! than the threshold, each hook call serves the other clients through the loop's
//! [`crate::server::BusyPoller`] (Redis's `processEventsWhileBlocked`): their commands are
//! answered `-BUSY …` except SCRIPT KILL, FUNCTION KILL, FUNCTION STATS and SHUTDOWN NOSAVE
//! ([`answer`]). A kill sets the context's flag; the hook then raises Redis's
//! "Script killed by user with SCRIPT KILL..." error, on every line after, so `pcall`
//! cannot keep the script alive. A script that wrote cannot be killed (`-UNKILLABLE`).

use super::{RunCtx, rflags};
use crate::dispatch::gate::{self, reply};
use crate::server::{Server, Shutdown};
use engine::{CmdError, CmdResult};

const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

/// Called from the Lua hook while a script runs.
pub fn hook(server: &mut Server, ctx: &RunCtx) {
    let threshold = server.config.compat.busy_reply_threshold;
    let Some(start) = ctx.start.get() else {
        return;
    };
    if threshold <= 0 || start.elapsed().as_millis() < threshold as u128 {
        return;
    }
    if !ctx.timed_out.replace(true) {
        log::warn!(
            "Slow script detected: still in execution after {} milliseconds. You can try killing the script using the {} command.",
            start.elapsed().as_millis(),
            if ctx.is_function.get() {
                "FUNCTION KILL"
            } else {
                "SCRIPT KILL"
            }
        );
    }
    if let Some(p) = server.busy_poller {
        (p.poll)(p, server, ctx.key.get());
    }
}

/// Answers one command of another client while a script is busy.
pub fn answer(server: &mut Server, key: usize, args: &[&[u8]]) {
    let is = |i: usize, w: &str| args.get(i).is_some_and(|a| engine::util::eq_ic(a, w));
    let result = if is(0, "script") && is(1, "kill") && args.len() == 2 {
        script_kill(server, key, false)
    } else if is(0, "function") && is(1, "kill") && args.len() == 2 {
        script_kill(server, key, true)
    } else if is(0, "function")
        && is(1, "stats")
        && args.len() == 2
        && server.scripting.ctx.is_function.get()
    {
        super::function::stats(server, key);
        Ok(())
    } else if is(0, "shutdown") && args[1..].iter().any(|a| engine::util::eq_ic(a, "nosave")) {
        log::warn!("User requested shutdown...");
        server.shutdown = Shutdown::Exit;
        server.scripting.ctx.kill.set(true);
        Ok(())
    } else if server.scripting.ctx.is_function.get() {
        Err(CmdError::Static(BUSY_FUNCTION))
    } else {
        Err(CmdError::Static(BUSY_EVAL))
    };
    if let Err(e) = result {
        gate::reply_error(server, key, &e.text());
    }
}

/// SCRIPT KILL (`function` false) / FUNCTION KILL.
pub fn script_kill(server: &mut Server, key: usize, function: bool) -> CmdResult {
    let ctx = &server.scripting.ctx;
    if !ctx.running() {
        return Err(CmdError::Static(
            "NOTBUSY No scripts in execution right now.",
        ));
    }
    if ctx.flags.get() & rflags::WRITE_DIRTY != 0 {
        return Err(CmdError::Static(
            "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
        ));
    }
    if !function && ctx.is_function.get() {
        return Err(CmdError::Static(BUSY_FUNCTION));
    }
    if function && !ctx.is_function.get() {
        return Err(CmdError::Static(BUSY_EVAL));
    }
    ctx.kill.set(true);
    reply(server, key).ok();
    Ok(())
}
