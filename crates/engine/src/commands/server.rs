//! Server commands that only need the databases and the clock: DBSIZE, FLUSHDB, FLUSHALL,
//! SWAPDB, TIME. Their server-side effects (saving an RDB after FLUSHALL, waking clients
//! blocked on swapped databases, invalidating WATCH) belong to the server, which runs them
//! around these handlers.
//!
//! Invariant: after SWAPDB, `engine.dbs[i].id == i` for every `i` (the id names the slot, not
//! the contents).

use super::{CmdFn, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::util::{eq_ic, parse_i32};

pub const COMMANDS: &[(&str, CmdFn)] = &[
    ("dbsize", dbsize),
    ("flushdb", flushdb),
    ("flushall", flushall),
    ("swapdb", swapdb),
    ("time", time),
];

/// # Format
/// `DBSIZE`
/// # Returns
/// The number of keys, counting expired keys not yet reclaimed (as Redis does).
fn dbsize(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    let n = ctx.db().len();
    ctx.out.int(n as i64);
    Ok(())
}

/// FLUSHDB/FLUSHALL's optional `SYNC|ASYNC` (Redis's `getFlushCommandFlags`). Freeing is
/// synchronous either way here: the values are dropped on the loop thread in one go.
fn check_flush_mode(args: &[&[u8]]) -> CmdResult {
    match args {
        [_] => Ok(()),
        [_, mode] if eq_ic(mode, "sync") || eq_ic(mode, "async") => Ok(()),
        _ => Err(CmdError::Syntax),
    }
}

/// # Format
/// `FLUSHDB [ASYNC|SYNC]`
fn flushdb(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    check_flush_mode(args)?;
    // While the keys are still there (Redis's signalFlushedDb before emptying).
    ctx.engine.touch_watched_on_flush(ctx.session.db);
    let db = ctx.db();
    let removed = db.len() as u64;
    db.clear();
    ctx.engine.dirty += removed;
    // Redis forces propagation even when nothing was removed (`forceCommandPropagation`), so
    // replicas and the AOF see the flush; an explicit rewrite marks the command as an effect.
    ctx.engine.propagation.rewrite(args);
    ctx.out.ok();
    Ok(())
}

/// # Format
/// `FLUSHALL [ASYNC|SYNC]`
fn flushall(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    check_flush_mode(args)?;
    let mut removed = 0u64;
    for i in 0..ctx.engine.dbs.len() {
        ctx.engine.touch_watched_on_flush(i);
    }
    for db in &mut ctx.engine.dbs {
        removed += db.len() as u64;
        db.clear();
    }
    // Redis 7.0 counts the keys removed plus one for the flush (`flushAllDataAndResetRDB`)
    // and forces propagation, as FLUSHDB does. The server then resets the RDB (an effect:
    // the engine does no I/O).
    ctx.engine.dirty += removed + 1;
    ctx.engine.flushed_all = true;
    ctx.engine.propagation.rewrite(args);
    ctx.out.ok();
    Ok(())
}

/// # Format
/// `SWAPDB index1 index2`
fn swapdb(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    // Redis passes its own message to getIntFromObjectOrReply, so a non-integer and an
    // out-of-int value both get it.
    let a = parse_i32(args[1]).map_err(|_| CmdError::Static("ERR invalid first DB index"))?;
    let b = parse_i32(args[2]).map_err(|_| CmdError::Static("ERR invalid second DB index"))?;
    let n = ctx.engine.dbs.len();
    let in_range = |i: i32| usize::try_from(i).ok().filter(|&i| i < n);
    let (Some(a), Some(b)) = (in_range(a), in_range(b)) else {
        return Err(CmdError::DbIndexOutOfRange);
    };
    if a != b {
        // Watchers stay with their db number, so a swap changes what they see.
        ctx.engine.touch_watched_on_swap(a, b);
        let dbs = &mut ctx.engine.dbs;
        if let Some((_, hook)) = &dbs[a].snapshot {
            hook.borrow_mut().swapped(a, b);
        }
        dbs.swap(a, b);
        dbs[a].id = a;
        dbs[b].id = b;
        crate::blocking::signal_swapped(ctx.engine, a);
        crate::blocking::signal_swapped(ctx.engine, b);
    }
    // Redis counts a swap of a db with itself too.
    ctx.engine.dirty += 1;
    ctx.out.ok();
    Ok(())
}

/// # Format
/// `TIME`
/// # Returns
/// `[unix seconds, microseconds]` as bulk strings. Reads the clock, not the command's frozen
/// time: Redis calls gettimeofday here even inside MULTI.
fn time(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    let us = ctx.engine.clock.now_us();
    ctx.out.array(2);
    ctx.out.bulk_int(us.div_euclid(1_000_000));
    ctx.out.bulk_int(us.rem_euclid(1_000_000));
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::Harness;
    use crate::object::{Str, Value};

    /// Selects `db` and stores `keys` there (through Db, so these tests need no other family).
    fn fill(h: &mut Harness, db: &str, keys: &[&str]) {
        assert_eq!(h.run(&["SELECT", db]), "+OK\r\n");
        for k in keys {
            let v = Value::Str(Str::from_bytes(b"v"));
            h.engine.dbs[h.session.db].set(k.as_bytes(), v, false);
        }
    }

    #[test]
    fn dbsize_and_flushdb() {
        let mut h = Harness::new();
        fill(&mut h, "1", &["a", "b"]);
        fill(&mut h, "0", &["a", "b", "c"]);
        assert_eq!(h.run(&["DBSIZE"]), ":3\r\n");
        let dirty = h.engine.dirty;
        assert_eq!(h.run(&["FLUSHDB"]), "+OK\r\n");
        assert_eq!(h.engine.dirty, dirty + 3);
        assert_eq!(h.run(&["DBSIZE"]), ":0\r\n");
        assert_eq!(h.run(&["SELECT", "1"]), "+OK\r\n");
        assert_eq!(h.run(&["DBSIZE"]), ":2\r\n");
        assert_eq!(h.run(&["FLUSHDB", "aSync"]), "+OK\r\n");
        assert_eq!(h.run(&["FLUSHDB", "SYNC"]), "+OK\r\n");
        assert!(h.last_propagated().is_some());
        assert_eq!(h.run(&["FLUSHDB", "now"]), "-ERR syntax error\r\n");
        assert_eq!(
            h.run(&["FLUSHDB", "sync", "async"]),
            "-ERR syntax error\r\n"
        );
    }

    #[test]
    fn flushall_clears_every_db() {
        let mut h = Harness::new();
        fill(&mut h, "3", &["a"]);
        fill(&mut h, "0", &["a", "b"]);
        let dirty = h.engine.dirty;
        assert_eq!(h.run(&["FLUSHALL", "ASYNC"]), "+OK\r\n");
        // The keys removed plus one for the flush (checked on Redis 7.0.15's
        // rdb_changes_since_last_save).
        assert_eq!(h.engine.dirty, dirty + 4);
        assert!(std::mem::take(&mut h.engine.flushed_all));
        assert!(h.last_propagated().is_some());
        assert!(h.engine.dbs.iter().all(|d| d.is_empty()));
        assert_eq!(h.run(&["FLUSHALL", "lazy"]), "-ERR syntax error\r\n");
    }

    #[test]
    fn swapdb_swaps_contents_not_ids() {
        let mut h = Harness::new();
        fill(&mut h, "2", &["x", "y"]);
        fill(&mut h, "0", &["z"]);
        assert_eq!(h.run(&["SWAPDB", "0", "2"]), "+OK\r\n");
        assert_eq!(h.run(&["DBSIZE"]), ":2\r\n");
        assert_eq!(h.run(&["EXISTS", "x", "y", "z"]), ":2\r\n");
        assert_eq!(h.engine.dbs[0].id, 0);
        assert_eq!(h.engine.dbs[2].id, 2);
        assert_eq!(h.run(&["SELECT", "2"]), "+OK\r\n");
        assert_eq!(h.run(&["DBSIZE"]), ":1\r\n");
        assert_eq!(h.run(&["SWAPDB", "1", "1"]), "+OK\r\n");
    }

    #[test]
    fn swapdb_errors() {
        let mut h = Harness::new();
        let cases = [
            (["SWAPDB", "a", "b"], "-ERR invalid first DB index\r\n"),
            (["SWAPDB", "0", "b"], "-ERR invalid second DB index\r\n"),
            (
                ["SWAPDB", "0", "4294967296"],
                "-ERR invalid second DB index\r\n",
            ),
            (["SWAPDB", "0", "16"], "-ERR DB index is out of range\r\n"),
            (["SWAPDB", "-1", "0"], "-ERR DB index is out of range\r\n"),
        ];
        for (args, want) in cases {
            assert_eq!(h.run(&args), want, "{args:?}");
        }
    }

    #[test]
    fn time_reads_the_clock() {
        let mut h = Harness::new();
        h.time.set(1_700_000_000_123);
        assert_eq!(
            h.run(&["TIME"]),
            "*2\r\n$10\r\n1700000000\r\n$6\r\n123000\r\n"
        );
    }
}
