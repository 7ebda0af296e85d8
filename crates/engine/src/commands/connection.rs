//! Connection commands that only need the session: PING, ECHO, SELECT.
//!
//! Invariant: `session.db` is always a valid index into `engine.dbs`; SELECT (and every
//! command taking a DB index, through [`parse_db_index`]) checks the range before using it.
//! PING inside RESP2 pub/sub mode replies differently; that mode is the server's, which
//! answers it before dispatching here.

use super::{CmdFn, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::util::parse_i32;

pub const COMMANDS: &[(&str, CmdFn)] = &[("ping", ping), ("echo", echo), ("select", select)];

/// Parses a DB index as Redis's `getIntFromObjectOrReply` + `selectDb` do: not an integer →
/// `NotInteger`, outside `int` → `ValueOutOfRange`, outside `0..databases` →
/// `DbIndexOutOfRange`. Shared by SELECT, MOVE and COPY.
pub fn parse_db_index(ctx: &Ctx<'_>, arg: &[u8]) -> Result<usize, CmdError> {
    let id = parse_i32(arg)?;
    usize::try_from(id)
        .ok()
        .filter(|&i| i < ctx.engine.dbs.len())
        .ok_or(CmdError::DbIndexOutOfRange)
}

/// # Format
/// `PING [message]`
/// # Returns
/// `+PONG`, or the message as a bulk string.
fn ping(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    if args.len() > 2 {
        // Redis checks this in the handler (arity is -1).
        return Err(CmdError::WrongArity("ping".into()));
    }
    // In RESP2 pub/sub mode PING answers `*2 pong <message or empty>`, as Redis's
    // pingCommand decides for itself (so also inside EXEC after a SUBSCRIBE).
    if ctx.session.pubsub_resp2 {
        ctx.out.array(2);
        ctx.out.bulk(b"pong");
        ctx.out.bulk(args.get(1).copied().unwrap_or(b""));
        return Ok(());
    }
    match args {
        [_] => ctx.out.simple(b"PONG"),
        [_, msg] => ctx.out.bulk(msg),
        // Redis checks this in the handler (arity is -1).
        _ => return Err(CmdError::WrongArity("ping".into())),
    }
    Ok(())
}

/// # Format
/// `ECHO message`
fn echo(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    ctx.out.bulk(args[1]);
    Ok(())
}

/// # Format
/// `SELECT index`
fn select(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let id = parse_db_index(ctx, args[1])?;
    ctx.session.db = id;
    ctx.out.ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::Harness;

    #[test]
    fn ping_and_echo() {
        let mut h = Harness::new();
        assert_eq!(h.run(&["PING"]), "+PONG\r\n");
        assert_eq!(h.run(&["ping", "hi there"]), "$8\r\nhi there\r\n");
        assert_eq!(h.run(&["PING", ""]), "$0\r\n\r\n");
        assert_eq!(
            h.run(&["PING", "a", "b"]),
            "-ERR wrong number of arguments for 'ping' command\r\n"
        );
        assert_eq!(h.run(&["ECHO", "x"]), "$1\r\nx\r\n");
        assert_eq!(
            h.run_bytes(&[b"ECHO", b"\x00\xff\r\n"]),
            b"$4\r\n\x00\xff\r\n\r\n"
        );
    }

    #[test]
    fn select_checks_the_range() {
        let mut h = Harness::new();
        assert_eq!(h.run(&["SELECT", "15"]), "+OK\r\n");
        assert_eq!(h.session.db, 15);
        assert_eq!(
            h.run(&["SELECT", "16"]),
            "-ERR DB index is out of range\r\n"
        );
        assert_eq!(
            h.run(&["SELECT", "-1"]),
            "-ERR DB index is out of range\r\n"
        );
        assert_eq!(
            h.run(&["SELECT", "1.5"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            h.run(&["SELECT", "2147483648"]),
            "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"
        );
        assert_eq!(
            h.run(&["SELECT", "99999999999999999999"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        // A failed SELECT leaves the selection alone.
        assert_eq!(h.session.db, 15);
        assert_eq!(h.run(&["SELECT", "0"]), "+OK\r\n");
        assert_eq!(h.session.db, 0);
    }
}
