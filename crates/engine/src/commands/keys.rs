//! Generic keyspace commands (Redis's db.c, expire.c and OBJECT from object.c): DEL UNLINK
//! EXISTS TYPE KEYS SCAN RENAME RENAMENX RANDOMKEY COPY MOVE TOUCH, the EXPIRE family, TTL
//! family, PERSIST and OBJECT.
//!
//! Invariants:
//! - Keys are reached only through [`Db`](crate::db::Db)'s lookups, so lazy expiry and the
//!   write hook apply; the lookup flavour mirrors Redis's (`lookupKeyRead`, `lookupKeyWrite`,
//!   or the `LOOKUP_NOTOUCH` read that leaves the LRU clock alone).
//! - KEYS and SCAN write matching keys straight into the reply buffer while walking the dict
//!   and patch the array length in front afterwards, so neither allocates per key.
//! - Time-relative writes are propagated in absolute form: EXPIRE/PEXPIRE/EXPIREAT become
//!   `PEXPIREAT key <ms> [flags]`, an expiry in the past becomes `DEL key`.

use super::args::{Args, is_kw};
use super::{CmdFn, Ctx};
use crate::commands::connection::parse_db_index;
use crate::db::{Entry, idle_seconds};
use crate::error::{CmdError, CmdResult};
use crate::glob::glob_match;
use crate::notify;
use crate::object::{Str, Value};
use crate::util::{lossy_c_str, parse_i64, parse_scan_cursor, reply_help};
use resp::Reply;
use resp::num::{fmt_i64, fmt_u64};

pub const COMMANDS: &[(&str, CmdFn)] = &[
    ("del", del),
    ("unlink", del),
    ("exists", exists),
    ("type", type_cmd),
    ("keys", keys),
    ("scan", scan),
    ("rename", rename),
    ("renamenx", renamenx),
    ("randomkey", randomkey),
    ("copy", copy),
    ("move", move_cmd),
    ("touch", touch),
    ("expire", expire),
    ("pexpire", pexpire),
    ("expireat", expireat),
    ("pexpireat", pexpireat),
    ("ttl", ttl),
    ("pttl", pttl),
    ("expiretime", expiretime),
    ("pexpiretime", pexpiretime),
    ("persist", persist),
    ("object", object),
];

// ---------------------------------------------------------------------------------------------
// Lookup flavours

/// `lookupKeyReadWithFlags(LOOKUP_NOTOUCH)`: lazy expiry and hit/miss statistics, but the
/// LRU clock is left alone (TYPE, EXISTS, TTL, OBJECT must not make a key look recently used).
#[inline]
fn read_notouch<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Option<&'c mut Entry> {
    let now = ctx.now_ms();
    ctx.db().peek(key, now)
}

/// Inserts `*<n>\r\n` at `start` of the reply buffer: KEYS/SCAN learn the count only after
/// writing the items. One memmove of the items, no per-item allocation.
fn insert_array_len(buf: &mut Vec<u8>, start: usize, n: usize) {
    let mut num = [0u8; 20];
    let digits = fmt_u64(n as u64, &mut num);
    let mut hdr = [0u8; 24];
    hdr[0] = b'*';
    hdr[1..1 + digits.len()].copy_from_slice(digits);
    hdr[1 + digits.len()..3 + digits.len()].copy_from_slice(b"\r\n");
    buf.splice(start..start, hdr[..3 + digits.len()].iter().copied());
}

// ---------------------------------------------------------------------------------------------
// DEL UNLINK EXISTS TYPE TOUCH

/// # Format
/// `DEL key [key ...]`, `UNLINK key [key ...]`
/// # Returns
/// The number of keys removed (a repeated key counts once; an expired key not at all).
/// UNLINK frees synchronously too: values are dropped on the loop thread either way.
fn del(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms();
    let mut n = 0u64;
    for &k in &args[1..] {
        if ctx.db().delete(k, now) {
            ctx.signal_modified(k);
            ctx.notify(notify::GENERIC, "del", k);
            n += 1;
        }
    }
    ctx.engine.dirty += n;
    ctx.out.int(n as i64);
    Ok(())
}

/// # Format
/// `EXISTS key [key ...]`
/// # Returns
/// How many of the arguments exist; a key named twice is counted twice.
fn exists(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms();
    let db = ctx.db();
    let n = args[1..].iter().filter(|k| db.exists(k, now)).count();
    ctx.out.int(n as i64);
    Ok(())
}

/// # Format
/// `TYPE key`
/// # Returns
/// The type name as a status (`+string`), `+none` for a missing key.
fn type_cmd(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let name = read_notouch(ctx, args[1]).map_or("none", |e| e.value.type_name());
    ctx.out.simple(name.as_bytes());
    Ok(())
}

/// # Format
/// `TOUCH key [key ...]`
/// # Returns
/// How many of the arguments exist; their LRU clock is updated.
fn touch(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms();
    let db = ctx.db();
    let n = args[1..]
        .iter()
        .filter(|k| db.lookup_read(k, now).is_some())
        .count();
    ctx.out.int(n as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// KEYS SCAN RANDOMKEY

/// # Format
/// `KEYS pattern`
/// # Returns
/// Every live key matching the glob pattern, in dict order. Expired keys are skipped but not
/// deleted (KEYS is read-only, as in Redis).
fn keys(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let pattern = args[1];
    let all = pattern == b"*";
    let now = ctx.now_ms();
    let db = &ctx.engine.dbs[ctx.session.db];
    let mut out = Reply::new(&mut *ctx.out.buf, ctx.out.proto);
    let start = out.buf.len();
    let mut n = 0usize;
    db.for_each(&mut |key, e| {
        if (all || glob_match(pattern, key, false)) && !e.is_expired(now) {
            out.bulk(key);
            n += 1;
        }
    });
    insert_array_len(out.buf, start, n);
    Ok(())
}

/// The options of SCAN, HSCAN, SSCAN and ZSCAN (`MATCH pattern`, `COUNT n`, and for SCAN
/// `TYPE name`), parsed as Redis's `scanGenericCommand`: a later option overrides an earlier
/// one of the same kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScanOpts<'a> {
    /// How many elements to collect before returning (at least 1).
    pub count: u64,
    /// The glob pattern, `None` when absent or `*` (everything matches).
    pub pattern: Option<&'a [u8]>,
    /// SCAN's TYPE filter, compared case-insensitively with the type names.
    pub type_name: Option<&'a [u8]>,
}

/// Parses scan options from `args[start..]`. `allow_type` is true for SCAN only; elsewhere
/// TYPE is a syntax error.
pub fn parse_scan_opts<'a>(
    args: &[&'a [u8]],
    start: usize,
    allow_type: bool,
) -> Result<ScanOpts<'a>, CmdError> {
    let mut opts = ScanOpts {
        count: 10,
        pattern: None,
        type_name: None,
    };
    let mut a = Args::new(args, start);
    while !a.is_empty() {
        if a.eat_with("count", 1) {
            let n = a.int()?;
            if n < 1 {
                return Err(CmdError::Syntax);
            }
            opts.count = n as u64;
        } else if a.eat_with("match", 1) {
            let val = a.value()?;
            opts.pattern = (val != b"*").then_some(val);
        } else if allow_type && a.eat_with("type", 1) {
            opts.type_name = Some(a.value()?);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(opts)
}

/// Inserts at `start` the head of a SCAN-family reply, `*2 $len cursor *n`, in front of the
/// `n` items written from there on: the items go out during the walk, before the cursor and
/// their count are known. Built on the stack (at most 54 bytes).
pub(crate) fn insert_scan_head(buf: &mut Vec<u8>, start: usize, cursor: u64, n: usize) {
    let (mut cb, mut lb, mut nb) = ([0u8; 20], [0u8; 20], [0u8; 20]);
    let digits = fmt_u64(cursor, &mut cb);
    let parts: [&[u8]; 7] = [
        b"*2\r\n$",
        fmt_u64(digits.len() as u64, &mut lb),
        b"\r\n",
        digits,
        b"\r\n*",
        fmt_u64(n as u64, &mut nb),
        b"\r\n",
    ];
    let mut head = [0u8; 64];
    let mut len = 0;
    for p in parts {
        head[len..len + p.len()].copy_from_slice(p);
        len += p.len();
    }
    buf.splice(start..start, head[..len].iter().copied());
}

/// # Format
/// `SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]`
/// # Returns
/// `[next cursor, [keys...]]`. As in Redis, COUNT bounds the keys *visited* (before MATCH and
/// TYPE filter them), and at most `10 * COUNT` buckets are visited per call. Expired keys that
/// match the pattern are deleted on the way (SCAN is how idle keyspaces get reclaimed).
fn scan(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let mut cursor = parse_scan_cursor(args[1])?;
    let opts = parse_scan_opts(args, 2, true)?;
    let now = ctx.now_ms();
    let db = &ctx.engine.dbs[ctx.session.db];
    let mut out = Reply::new(&mut *ctx.out.buf, ctx.out.proto);
    let start = out.buf.len();
    let mut visited = 0u64;
    let mut emitted = 0usize;
    let (mut hits, mut misses) = (0u64, 0u64);
    // Expired keys seen; deleted after the walk, which holds the db borrowed. Rare, so the
    // allocation is off the common path.
    let mut expired: Vec<Box<[u8]>> = Vec::new();
    let mut budget = opts.count.saturating_mul(10);
    loop {
        cursor = db.scan(cursor, &mut |key, e| {
            visited += 1;
            if opts.pattern.is_some_and(|p| !glob_match(p, key, false)) {
                return;
            }
            if e.is_expired(now) {
                expired.push(key.into());
                // Redis 7.0's TYPE check looks the key up first, which deletes it, counts a
                // miss and names the type of a missing key "none"; the expiry check after
                // that finds nothing to expire. So `TYPE none` reports expired keys.
                if let Some(t) = opts.type_name {
                    misses += 1;
                    if t.eq_ignore_ascii_case(b"none") {
                        out.bulk(key);
                        emitted += 1;
                    }
                }
                return;
            }
            if let Some(t) = opts.type_name {
                hits += 1;
                if !t.eq_ignore_ascii_case(e.value.type_name().as_bytes()) {
                    return;
                }
            }
            out.bulk(key);
            emitted += 1;
        });
        if cursor == 0 || budget == 0 || visited >= opts.count {
            break;
        }
        budget -= 1;
    }
    insert_scan_head(out.buf, start, cursor, emitted);
    let db = ctx.db();
    db.hits += hits;
    db.misses += misses;
    for k in &expired {
        db.expire_if_needed(k, now);
    }
    Ok(())
}

/// # Format
/// `RANDOMKEY`
/// # Returns
/// A random live key, or null when the db is empty.
fn randomkey(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms();
    match ctx.db().random_key(now) {
        Some(k) => ctx.out.bulk(&k),
        None => ctx.out.null(),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// RENAME RENAMENX COPY MOVE

/// # Format
/// `RENAME key newkey`
fn rename(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    if rename_generic(ctx, args[1], args[2], false)? {
        ctx.out.ok();
    }
    Ok(())
}

/// # Format
/// `RENAMENX key newkey`
/// # Returns
/// 1 if renamed, 0 if `newkey` exists.
fn renamenx(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let done = rename_generic(ctx, args[1], args[2], true)?;
    ctx.out.int(done as i64);
    Ok(())
}

/// Redis's `renameGenericCommand`: missing source → `no such key` (even when both names are
/// equal); equal names → no-op (RENAMENX answers 0); the TTL moves with the value and an
/// existing destination is overwritten. Returns whether a rename happened (or, for RENAME
/// onto itself, that it succeeded).
fn rename_generic(ctx: &mut Ctx<'_>, src: &[u8], dst: &[u8], nx: bool) -> Result<bool, CmdError> {
    let now = ctx.now_ms();
    let db = ctx.db();
    if db.lookup_write(src, now).is_none() {
        return Err(CmdError::NoSuchKey);
    }
    if src == dst {
        return Ok(!nx);
    }
    // Looked up even without NX: an expired destination is reclaimed as in Redis.
    if db.lookup_write(dst, now).is_some() && nx {
        return Ok(false);
    }
    // The value keeps its access data (Redis moves the same object, touched by its write
    // lookup): under LFU the counter survives the rename.
    let lru = db.lookup_write(src, now).map(|e| e.lru);
    let Some((value, expire_at)) = db.take(src, now) else {
        return Err(CmdError::NoSuchKey);
    };
    db.set_with_expire(dst, value, expire_at);
    if let Some(lru) = lru {
        db.set_lru(dst, lru);
    }
    // Redis's dbAdd: a list or zset arriving under a waited key serves blocked clients.
    let cur = ctx.session.db;
    ctx.engine.blocking.signal_ready(cur, dst);
    ctx.signal_modified(src);
    ctx.signal_modified(dst);
    ctx.notify(notify::GENERIC, "rename_from", src);
    ctx.notify(notify::GENERIC, "rename_to", dst);
    ctx.engine.dirty += 1;
    Ok(true)
}

/// # Format
/// `COPY source destination [DB destination-db] [REPLACE]`
/// # Returns
/// 1 if copied, 0 if the source is missing or the destination exists without REPLACE.
fn copy(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let src_id = ctx.session.db;
    let mut dst_id = src_id;
    let mut replace = false;
    let mut opts = Args::new(args, 3);
    while !opts.is_empty() {
        if opts.eat("replace") {
            replace = true;
        } else if opts.eat_with("db", 1) {
            dst_id = parse_db_index(ctx, opts.value()?)?;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let (src, dst) = (args[1], args[2]);
    if src_id == dst_id && src == dst {
        return Err(CmdError::SameObject);
    }
    let now = ctx.now_ms();
    // lookupKeyRead: the source counts as a read (stats, LRU).
    let Some(expire_at) = ctx.db().lookup_read(src, now).map(|e| e.expire_at()) else {
        ctx.out.int(0);
        return Ok(());
    };
    if ctx.engine.dbs[dst_id].lookup_write(dst, now).is_some() && !replace {
        ctx.out.int(0);
        return Ok(());
    }
    // Cloned only now that the copy will happen (values can be large). The destination
    // lookup cannot have removed the source: they differ in db or in name.
    let Some(value) = ctx.engine.dbs[src_id]
        .lookup_notouch(src, now)
        .map(|e| e.value.clone())
    else {
        ctx.out.int(0);
        return Ok(());
    };
    let dst_db = &mut ctx.engine.dbs[dst_id];
    // Redis's dupStringObject keeps the encoding; a clone does the same.
    dst_db.set_with_expire(dst, value, expire_at);
    ctx.engine.blocking.signal_ready(dst_id, dst);
    ctx.signal_modified_in(dst_id, dst);
    ctx.engine.flush_expired();
    ctx.engine.notify(dst_id, notify::GENERIC, "copy_to", dst);
    ctx.engine.dirty += 1;
    ctx.out.int(1);
    Ok(())
}

/// # Format
/// `MOVE key db`
/// # Returns
/// 1 if moved, 0 if the key is missing or already exists in the target db.
fn move_cmd(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let dst_id = parse_db_index(ctx, args[2])?;
    let src_id = ctx.session.db;
    if src_id == dst_id {
        return Err(CmdError::SameObject);
    }
    let key = args[1];
    let now = ctx.now_ms();
    let dbs = &mut ctx.engine.dbs;
    let Some(lru) = dbs[src_id].lookup_write(key, now).map(|e| e.lru) else {
        ctx.out.int(0);
        return Ok(());
    };
    if dbs[dst_id].lookup_write(key, now).is_some() {
        ctx.out.int(0);
        return Ok(());
    }
    let Some((value, expire_at)) = dbs[src_id].take(key, now) else {
        ctx.out.int(0);
        return Ok(());
    };
    dbs[dst_id].set_with_expire(key, value, expire_at);
    // The same object moves in Redis: its access data (LFU counter) with it.
    dbs[dst_id].set_lru(key, lru);
    ctx.engine.blocking.signal_ready(dst_id, key);
    ctx.signal_modified_in(src_id, key);
    ctx.signal_modified_in(dst_id, key);
    ctx.notify(notify::GENERIC, "move_from", key);
    ctx.engine.notify(dst_id, notify::GENERIC, "move_to", key);
    ctx.engine.dirty += 1;
    ctx.out.int(1);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// EXPIRE PEXPIRE EXPIREAT PEXPIREAT

/// `NX|XX|GT|LT` of the EXPIRE family.
#[derive(Clone, Copy, Default)]
struct ExpireFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

/// Redis's `parseExtendedExpireArgumentsOrReply`: any number of flags in any case (repeats
/// allowed), then the compatibility checks.
fn parse_expire_flags(opts: &[&[u8]]) -> Result<ExpireFlags, CmdError> {
    let mut f = ExpireFlags::default();
    for opt in opts {
        if is_kw(opt, "nx") {
            f.nx = true;
        } else if is_kw(opt, "xx") {
            f.xx = true;
        } else if is_kw(opt, "gt") {
            f.gt = true;
        } else if is_kw(opt, "lt") {
            f.lt = true;
        } else {
            return Err(CmdError::Owned(format!(
                "ERR Unsupported option {}",
                lossy_c_str(opt)
            )));
        }
    }
    if f.nx && (f.xx || f.gt || f.lt) {
        return Err(CmdError::Static(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if f.gt && f.lt {
        return Err(CmdError::Static(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    Ok(f)
}

/// How an EXPIRE-family command reads its time argument.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExpireKind {
    /// EXPIRE: seconds from now.
    Rel,
    /// PEXPIRE: milliseconds from now.
    RelMs,
    /// EXPIREAT: a Unix time in seconds.
    At,
    /// PEXPIREAT: a Unix time in milliseconds.
    AtMs,
}

fn expire(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, args, ExpireKind::Rel, "expire")
}
fn pexpire(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, args, ExpireKind::RelMs, "pexpire")
}
fn expireat(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, args, ExpireKind::At, "expireat")
}
fn pexpireat(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, args, ExpireKind::AtMs, "pexpireat")
}

/// # Format
/// `EXPIRE key seconds [NX|XX|GT|LT]` (and PEXPIRE, EXPIREAT, PEXPIREAT)
/// # Returns
/// 1 if the TTL was set (or the key deleted because the time is already past), 0 if the key
/// is missing or a flag's condition failed. A missing TTL counts as infinite for GT/LT.
/// Checks run in Redis's order: flags, integer, overflow, then the key.
fn expire_generic(
    ctx: &mut Ctx<'_>,
    args: &[&[u8]],
    kind: ExpireKind,
    name: &'static str,
) -> CmdResult {
    let flags = parse_expire_flags(&args[3..])?;
    let mut when = parse_i64(args[2])?;
    let now = ctx.now_ms();
    if matches!(kind, ExpireKind::Rel | ExpireKind::At) {
        // Redis bounds by LLONG_MIN/1000 (truncated), one less than checked_mul would allow.
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return Err(CmdError::InvalidExpire(name));
        }
        when *= 1000;
    }
    let base = if matches!(kind, ExpireKind::Rel | ExpireKind::RelMs) {
        now
    } else {
        0
    };
    if when > i64::MAX - base {
        return Err(CmdError::InvalidExpire(name));
    }
    when += base;

    let key = args[1];
    let db = ctx.db();
    let Some(entry) = db.lookup_write(key, now) else {
        ctx.out.int(0);
        return Ok(());
    };
    let current = entry.expire_at();
    let refused = (flags.nx && current.is_some())
        || (flags.xx && current.is_none())
        || (flags.gt && current.is_none_or(|c| when <= c))
        || (flags.lt && current.is_some_and(|c| when >= c));
    if refused {
        ctx.out.int(0);
        return Ok(());
    }
    if when <= now {
        db.delete(key, now);
        ctx.engine.propagation.rewrite(&[b"DEL", key]);
        ctx.signal_modified(key);
        ctx.notify(notify::GENERIC, "del", key);
    } else {
        db.set_expire(key, when);
        if kind != ExpireKind::AtMs {
            // Redis rewrites the name and the time and keeps the flags as given.
            let mut b = [0u8; 20];
            let mut argv: Vec<&[u8]> = Vec::with_capacity(args.len());
            argv.extend_from_slice(&[b"PEXPIREAT", key, fmt_i64(when, &mut b)]);
            argv.extend_from_slice(&args[3..]);
            ctx.engine.propagation.rewrite(&argv);
        }
        ctx.signal_modified(key);
        ctx.notify(notify::GENERIC, "expire", key);
    }
    ctx.engine.dirty += 1;
    ctx.out.int(1);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// TTL PTTL EXPIRETIME PEXPIRETIME PERSIST

fn ttl(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, args[1], false, false)
}
fn pttl(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, args[1], true, false)
}
fn expiretime(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, args[1], false, true)
}
fn pexpiretime(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, args[1], true, true)
}

/// # Format
/// `TTL key` (and PTTL, EXPIRETIME, PEXPIRETIME)
/// # Returns
/// -2 if the key is missing, -1 if it has no TTL, else the remaining time (TTL/PTTL) or the
/// absolute deadline (EXPIRETIME/PEXPIRETIME), never below 0. Seconds round half up.
fn ttl_generic(ctx: &mut Ctx<'_>, key: &[u8], ms: bool, absolute: bool) -> CmdResult {
    let now = ctx.now_ms();
    let reply = match read_notouch(ctx, key).map(|e| e.expire_at()) {
        None => -2,
        Some(None) => -1,
        Some(Some(at)) => {
            let t = if absolute { at } else { at.saturating_sub(now) }.max(0);
            if ms {
                t
            } else {
                // Wide arithmetic: a deadline near i64::MAX must not overflow the rounding
                // (Redis's compiled code yields the exact quotient there too).
                ((i128::from(t) + 500) / 1000) as i64
            }
        }
    };
    ctx.out.int(reply);
    Ok(())
}

/// # Format
/// `PERSIST key`
/// # Returns
/// 1 if a TTL was removed, 0 if the key is missing or had none.
fn persist(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms();
    let db = ctx.db();
    let removed = db.lookup_write(args[1], now).is_some() && db.persist(args[1]);
    if removed {
        ctx.signal_modified(args[1]);
        ctx.notify(notify::GENERIC, "persist", args[1]);
    }
    ctx.engine.dirty += removed as u64;
    ctx.out.int(removed as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// OBJECT

/// OBJECT HELP's own lines, verbatim from Redis 7.0.15's object.c (the usage line and the
/// HELP entry are added by `reply_help`).
const OBJECT_HELP: &[&str] = &[
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
];

#[derive(Clone, Copy)]
enum ObjectSub {
    Encoding,
    Freq,
    IdleTime,
    RefCount,
}

/// # Format
/// `OBJECT ENCODING|FREQ|IDLETIME|REFCOUNT key`, `OBJECT HELP`
/// # Returns
/// The value's encoding / access frequency / idle seconds / reference count, or null for a
/// missing key. FREQ needs an LFU `maxmemory-policy` and IDLETIME any other (the two share
/// the entry's 24 bits, see [`crate::evict`]); each answers Redis's error otherwise.
fn object(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let sub_arg = args[1];
    let (sub, full_name) = if is_kw(sub_arg, "help") {
        if args.len() != 2 {
            return Err(CmdError::WrongArity("object|help".into()));
        }
        reply_help(&mut ctx.out, args[0], OBJECT_HELP);
        return Ok(());
    } else if is_kw(sub_arg, "encoding") {
        (ObjectSub::Encoding, "object|encoding")
    } else if is_kw(sub_arg, "freq") {
        (ObjectSub::Freq, "object|freq")
    } else if is_kw(sub_arg, "idletime") {
        (ObjectSub::IdleTime, "object|idletime")
    } else if is_kw(sub_arg, "refcount") {
        (ObjectSub::RefCount, "object|refcount")
    } else {
        return Err(CmdError::unknown_subcommand("object", sub_arg));
    };
    // The gate checks subcommand arity; repeated here because Redis's handler does too and a
    // missing key argument must not index out of bounds.
    if args.len() != 3 {
        return Err(CmdError::WrongArity(full_name.into()));
    }
    let now = ctx.now_ms();
    let evict = ctx.engine.config.evict;
    let Some(e) = ctx.db().peek_nonotify(args[2], now) else {
        ctx.out.null();
        return Ok(());
    };
    match sub {
        ObjectSub::Encoding => {
            let enc = e.value.encoding_name();
            ctx.out.bulk(enc.as_bytes());
        }
        ObjectSub::RefCount => {
            let shared = matches!(&e.value, Value::Str(Str::Int(i)) if (0..crate::object::SHARED_INTEGERS).contains(i));
            ctx.out.int(if shared { i32::MAX as i64 } else { 1 });
        }
        ObjectSub::IdleTime => {
            if evict.policy.is_lfu() {
                return Err(CmdError::Static(
                    "ERR An LFU maxmemory policy is selected, idle time not tracked. \
                     Please note that when switching between policies at runtime LRU and LFU \
                     data will take some time to adjust.",
                ));
            }
            let idle = idle_seconds(e, now);
            ctx.out.int(idle as i64);
        }
        ObjectSub::Freq => {
            if !evict.policy.is_lfu() {
                return Err(CmdError::Static(
                    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. \
                     Please note that when switching between policies at runtime LRU and LFU \
                     data will take some time to adjust.",
                ));
            }
            let freq = crate::lfu::lfu_decr_and_return(e.lru, now, evict.lfu_decay_time);
            ctx.out.int(freq as i64);
        }
    }
    Ok(())
}
