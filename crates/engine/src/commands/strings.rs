//! String commands, as Redis 7.0.15's t_string.c: GET/SET and their variants (SETNX SETEX
//! PSETEX GETSET GETDEL GETEX MGET MSET MSETNX), in-place edits (APPEND SETRANGE), ranges
//! (STRLEN GETRANGE SUBSTR), counters (INCR DECR INCRBY DECRBY INCRBYFLOAT) and LCS.
//!
//! Invariants:
//! - A handler that fails has written nothing: every check that can fail runs before the
//!   first byte of the reply (SET ... GET writes the old value only once nothing can fail).
//! - Encodings follow Redis: values taken from a client go through [`Str::from_bytes`]
//!   (`tryObjectEncoding`), APPEND/SETRANGE leave `raw`, the INCR family stores `int`,
//!   INCRBYFLOAT stores its text as `embstr`/`raw` (never `int`, like `createStringObject`).
//! - Write effects are counted in `engine.dirty` exactly as Redis bumps `server.dirty`, and
//!   commands whose effect depends on the time or on float formatting are rewritten at the
//!   propagation point into the deterministic form Redis 7.0 propagates.
//! - Reads use `Db::lookup_read` (`lookupKeyRead`: counts keyspace hits/misses), writes
//!   `Db::lookup_write`, exactly where Redis uses each.

use super::args::{Args, is_kw};
use super::{CmdFn, Ctx};
use crate::db::{Db, Entry};
use crate::engine::Engine;
use crate::error::{CmdError, CmdResult};
use crate::ldouble::{self, LongDouble};
use crate::notify;
use crate::object::{Str, Value};
use crate::util::{grow_zeroed, parse_i64};
use resp::num::fmt_i64;

pub const COMMANDS: &[(&str, CmdFn)] = &[
    ("get", get),
    ("set", set),
    ("setnx", setnx),
    ("setex", setex),
    ("psetex", psetex),
    ("mget", mget),
    ("mset", mset),
    ("msetnx", msetnx),
    ("getset", getset),
    ("getdel", getdel),
    ("getex", getex),
    ("append", append),
    ("strlen", strlen),
    ("getrange", getrange),
    ("substr", getrange),
    ("setrange", setrange),
    ("incr", incr),
    ("decr", decr),
    ("incrby", incrby),
    ("decrby", decrby),
    ("incrbyfloat", incrbyfloat),
    ("lcs", lcs),
];

// ---------------------------------------------------------------------------------------
// Shared helpers

/// The string held by a value, or WRONGTYPE (Redis's `checkType`).
#[inline]
#[allow(unreachable_patterns)] // only strings exist until the data-type issue lands
pub(super) fn as_str(v: &Value) -> Result<&Str, CmdError> {
    match v {
        Value::Str(s) => Ok(s),
        _ => Err(CmdError::WrongType),
    }
}

#[inline]
#[allow(unreachable_patterns)]
fn as_str_mut(v: &mut Value) -> Result<&mut Str, CmdError> {
    match v {
        Value::Str(s) => Ok(s),
        _ => Err(CmdError::WrongType),
    }
}

/// `lookupKeyRead` in the selected db: the Db expires lazily, touches the LRU clock and
/// counts keyspace hits/misses (write lookups count nothing, as in Redis).
#[inline]
fn lookup_read<'e>(engine: &'e mut Engine, db: usize, key: &[u8]) -> Option<&'e mut Entry> {
    let now = engine.now_ms();
    engine.dbs[db].lookup_read(key, now)
}

/// Redis's `setKey` for a key whose existence is not known yet: overwrite in place when it
/// exists (one lookup, TTL dropped unless `keep_ttl`), insert otherwise.
fn set_key(db: &mut Db, key: &[u8], value: Str, keep_ttl: bool, now: i64) {
    let had_ttl = match db.lookup_write(key, now) {
        Some(e) => {
            e.value = Value::Str(value);
            e.expire_at().is_some()
        }
        None => {
            db.set(key, Value::Str(value), false);
            false
        }
    };
    if had_ttl && !keep_ttl {
        db.persist(key);
    }
}

/// `getGenericCommand`: replies with the value (or null) of `key`; WRONGTYPE writes nothing.
/// Returns whether the key exists.
fn reply_value(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<bool, CmdError> {
    match lookup_read(ctx.engine, ctx.session.db, key) {
        None => {
            ctx.out.null();
            Ok(false)
        }
        Some(e) => {
            let s = as_str(&e.value)?;
            let mut scratch = [0u8; 20];
            ctx.out.bulk(s.as_bytes(&mut scratch));
            Ok(true)
        }
    }
}

// Flags of SET/GETEX's extended arguments (Redis's OBJ_* bits).
const NX: u16 = 1 << 0;
const XX: u16 = 1 << 1;
const EX: u16 = 1 << 2;
const PX: u16 = 1 << 3;
const KEEPTTL: u16 = 1 << 4;
const GET: u16 = 1 << 5;
const EXAT: u16 = 1 << 6;
const PXAT: u16 = 1 << 7;
const PERSIST: u16 = 1 << 8;
const ANY_EXPIRE: u16 = EX | PX | EXAT | PXAT;

/// Which command's options [`parse_extended`] accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExtFor {
    Set,
    Getex,
}

/// `parseExtendedStringArgumentsOrReply`: the options from `args[start..]`. Conflicting
/// options are a syntax error; repeating the same one is accepted (the last value wins), and
/// so is NX together with GET (allowed since 7.0).
fn parse_extended<'a>(
    args: &[&'a [u8]],
    start: usize,
    kind: ExtFor,
) -> Result<(u16, Option<&'a [u8]>), CmdError> {
    let set = kind == ExtFor::Set;
    let mut flags = 0u16;
    let mut expire = None;
    let mut a = Args::new(args, start);
    while !a.is_empty() {
        // An expiry option is refused next to another kind of expiry (repeating the same
        // one is fine) and needs its value.
        let allows = |flag: u16| flags & (KEEPTTL | PERSIST | (ANY_EXPIRE & !flag)) == 0;
        if set && flags & XX == 0 && a.eat("NX") {
            flags |= NX;
        } else if set && flags & NX == 0 && a.eat("XX") {
            flags |= XX;
        } else if set && a.eat("GET") {
            flags |= GET;
        } else if set && flags & (PERSIST | ANY_EXPIRE) == 0 && a.eat("KEEPTTL") {
            flags |= KEEPTTL;
        } else if !set && flags & (KEEPTTL | ANY_EXPIRE) == 0 && a.eat("PERSIST") {
            flags |= PERSIST;
        } else if let Some(flag) = [("EX", EX), ("PX", PX), ("EXAT", EXAT), ("PXAT", PXAT)]
            .into_iter()
            .find(|&(kw, flag)| allows(flag) && a.eat_with(kw, 1))
            .map(|(_, flag)| flag)
        {
            flags |= flag;
            expire = Some(a.value()?);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok((flags, expire))
}

/// `getExpireMillisecondsOrReply`: the absolute expiry (Unix ms) an EX/PX/EXAT/PXAT argument
/// means at `now`. Non-positive values and any overflow are `invalid expire time`.
fn expire_at_ms(arg: &[u8], flags: u16, now: i64, cmd: &'static str) -> Result<i64, CmdError> {
    let invalid = CmdError::InvalidExpire(cmd);
    let v = parse_i64(arg)?;
    let seconds = flags & (EX | EXAT) != 0;
    if v <= 0 || (seconds && v > i64::MAX / 1000) {
        return Err(invalid);
    }
    let ms = if seconds { v * 1000 } else { v };
    if flags & (EX | PX) != 0 {
        // Redis adds and then checks for a non-positive sum (its overflow test).
        return ms.checked_add(now).filter(|&t| t > 0).ok_or(invalid);
    }
    Ok(ms)
}

// ---------------------------------------------------------------------------------------
// GET / SET family

/// GET key
fn get(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    reply_value(ctx, args[1]).map(|_| ())
}

/// How the SET family answers a performed or an aborted (NX/XX) write.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SetReply {
    /// `+OK` / null (SET, SETEX, PSETEX).
    Ok,
    /// `:1` / `:0` (SETNX).
    Int,
}

/// `setGenericCommand`: SET, SETNX, SETEX and PSETEX (the key is always `args[1]`).
fn set_generic(
    ctx: &mut Ctx<'_>,
    args: &[&[u8]],
    flags: u16,
    val: &[u8],
    expire: Option<&[u8]>,
    cmd: &'static str,
    reply: SetReply,
) -> CmdResult {
    let key = args[1];
    let now = ctx.now_ms();
    let when = match expire {
        Some(e) => Some(expire_at_ms(e, flags, now, cmd)?),
        None => None,
    };
    let with_get = flags & GET != 0;
    if with_get {
        // Nothing fails after this, so writing the old value now is safe.
        reply_value(ctx, key)?;
    }
    // An expiry about to be set replaces the TTL: keep the entry in the TTL index rather
    // than removing and re-adding it.
    let keep_ttl = flags & KEEPTTL != 0 || when.is_some();
    let db = &mut ctx.engine.dbs[ctx.session.db];
    let had_ttl = match db.lookup_write(key, now) {
        Some(_) if flags & NX != 0 => None,
        None if flags & XX != 0 => None,
        Some(e) => {
            e.value = Value::Str(Str::from_bytes(val));
            Some(e.expire_at().is_some())
        }
        None => {
            db.set(key, Value::Str(Str::from_bytes(val)), false);
            Some(false)
        }
    };
    let Some(had_ttl) = had_ttl else {
        if !with_get {
            match reply {
                SetReply::Ok => ctx.out.null(),
                SetReply::Int => ctx.out.int(0),
            }
        }
        return Ok(());
    };
    if had_ttl && !keep_ttl {
        db.persist(key);
    }
    if let Some(when) = when {
        db.set_expire(key, when);
    }
    ctx.engine.dirty += 1;
    // setKey signals, then `set` and (with a TTL) `expire`, as setGenericCommand.
    ctx.signal_modified(key);
    ctx.notify(notify::STRING, "set", key);
    if when.is_some() {
        ctx.notify(notify::GENERIC, "expire", key);
    }

    if let Some(when) = when {
        // A relative TTL would mean something else when replayed later: propagate the
        // absolute deadline, as Redis 7.0 does for every expiring SET form.
        let mut buf = [0u8; 20];
        let when = fmt_i64(when, &mut buf);
        ctx.engine
            .propagation
            .rewrite(&[b"SET", key, val, b"PXAT", when]);
    } else if with_get {
        // Replicas need no reply: propagate without the GET tokens (any at position >= 3).
        let kept: Vec<&[u8]> = args
            .iter()
            .enumerate()
            .filter(|&(j, a)| j < 3 || !is_kw(a, "GET"))
            .map(|(_, a)| *a)
            .collect();
        ctx.engine.propagation.rewrite(&kept);
    }
    if !with_get {
        match reply {
            SetReply::Ok => ctx.out.ok(),
            SetReply::Int => ctx.out.int(1),
        }
    }
    Ok(())
}

/// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT ts | PXAT ms-ts | KEEPTTL]
fn set(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (flags, expire) = parse_extended(args, 3, ExtFor::Set)?;
    set_generic(ctx, args, flags, args[2], expire, "set", SetReply::Ok)
}

/// SETNX key value → 1 if set, 0 if the key exists.
fn setnx(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    set_generic(ctx, args, NX, args[2], None, "setnx", SetReply::Int)
}

/// SETEX key seconds value
fn setex(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    set_generic(ctx, args, EX, args[3], Some(args[2]), "setex", SetReply::Ok)
}

/// PSETEX key milliseconds value
fn psetex(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    set_generic(
        ctx,
        args,
        PX,
        args[3],
        Some(args[2]),
        "psetex",
        SetReply::Ok,
    )
}

/// MGET key [key ...] → one value or null per key (null for non-strings too).
fn mget(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    ctx.out.array(args.len() - 1);
    let mut scratch = [0u8; 20];
    for key in &args[1..] {
        match lookup_read(ctx.engine, ctx.session.db, key).map(|e| as_str(&e.value)) {
            Some(Ok(s)) => ctx.out.bulk(s.as_bytes(&mut scratch)),
            _ => ctx.out.null(),
        }
    }
    Ok(())
}

/// `msetGenericCommand`: MSET and MSETNX.
fn mset_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], nx: bool) -> CmdResult {
    // Arity -3 lets an odd number of key/value arguments through; Redis refuses it here.
    if args.len().is_multiple_of(2) {
        let name = if nx { "msetnx" } else { "mset" };
        return Err(CmdError::WrongArity(name.to_owned()));
    }
    let now = ctx.now_ms();
    let db = &mut ctx.engine.dbs[ctx.session.db];
    if nx
        && args[1..]
            .chunks_exact(2)
            .any(|kv| db.lookup_write(kv[0], now).is_some())
    {
        ctx.out.int(0);
        return Ok(());
    }
    for kv in args[1..].chunks_exact(2) {
        set_key(
            &mut ctx.engine.dbs[ctx.session.db],
            kv[0],
            Str::from_bytes(kv[1]),
            false,
            now,
        );
        ctx.signal_modified(kv[0]);
        ctx.notify(notify::STRING, "set", kv[0]);
    }
    ctx.engine.dirty += (args.len() as u64 - 1) / 2;
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
    Ok(())
}

/// MSET key value [key value ...]
fn mset(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    mset_generic(ctx, args, false)
}

/// MSETNX key value [key value ...] → 1 if all were set, 0 (and nothing set) if any exists.
fn msetnx(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    mset_generic(ctx, args, true)
}

/// GETSET key value → the old value; the TTL is dropped. Propagated as SET.
fn getset(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (key, val) = (args[1], args[2]);
    reply_value(ctx, key)?;
    let now = ctx.now_ms();
    set_key(
        &mut ctx.engine.dbs[ctx.session.db],
        key,
        Str::from_bytes(val),
        false,
        now,
    );
    ctx.signal_modified(key);
    ctx.notify(notify::STRING, "set", key);
    ctx.engine.dirty += 1;
    ctx.engine.propagation.rewrite(&[b"SET", key, val]);
    Ok(())
}

/// GETDEL key → the value, then the key is deleted. Propagated as DEL.
fn getdel(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    if reply_value(ctx, key)? {
        let now = ctx.now_ms();
        if ctx.engine.dbs[ctx.session.db].delete(key, now) {
            ctx.engine.propagation.rewrite(&[b"DEL", key]);
            ctx.signal_modified(key);
            ctx.notify(notify::GENERIC, "del", key);
            ctx.engine.dirty += 1;
        }
    }
    Ok(())
}

/// GETEX key [EX s | PX ms | EXAT ts | PXAT ms-ts | PERSIST] → the value, adjusting the TTL.
/// Never propagated as sent: as PEXPIREAT, DEL (a deadline already past) or PERSIST.
fn getex(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (flags, expire) = parse_extended(args, 2, ExtFor::Getex)?;
    let key = args[1];
    let now = ctx.now_ms();
    let mut scratch = [0u8; 20];
    // Redis looks the key up before validating the expire argument: a missing key answers
    // null even for `EX 0`.
    let Some(e) = lookup_read(ctx.engine, ctx.session.db, key) else {
        ctx.out.null();
        return Ok(());
    };
    let s = as_str(&e.value)?;
    let when = match expire {
        Some(arg) => Some(expire_at_ms(arg, flags, now, "getex")?),
        None => None,
    };
    ctx.out.bulk(s.as_bytes(&mut scratch));

    let db = &mut ctx.engine.dbs[ctx.session.db];
    match when {
        // `checkAlreadyExpired`: an absolute deadline already past deletes the key.
        Some(when) if flags & (EXAT | PXAT) != 0 && when <= now => {
            db.delete(key, now);
            ctx.engine.propagation.rewrite(&[b"DEL", key]);
            ctx.signal_modified(key);
            ctx.notify(notify::GENERIC, "del", key);
            ctx.engine.dirty += 1;
        }
        Some(when) => {
            db.set_expire(key, when);
            let mut buf = [0u8; 20];
            let when = fmt_i64(when, &mut buf);
            ctx.engine.propagation.rewrite(&[b"PEXPIREAT", key, when]);
            ctx.signal_modified(key);
            ctx.notify(notify::GENERIC, "expire", key);
            ctx.engine.dirty += 1;
        }
        // Removing a TTL that was not there is no write.
        None if flags & PERSIST != 0 && db.persist(key) => {
            ctx.signal_modified(key);
            ctx.engine.propagation.rewrite(&[b"PERSIST", key]);
            ctx.notify(notify::GENERIC, "persist", key);
            ctx.engine.dirty += 1;
        }
        None => {}
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// In-place edits and ranges

/// APPEND key value → the new length. Creates the key when missing (with SET's encoding);
/// an existing value becomes `raw`.
fn append(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (key, tail) = (args[1], args[2]);
    let now = ctx.now_ms();
    let max = ctx.engine.config.proto_max_bulk_len;
    let db = &mut ctx.engine.dbs[ctx.session.db];
    let total = match db.lookup_write(key, now) {
        Some(e) => {
            let s = as_str_mut(&mut e.value)?;
            let total = s.len() + tail.len();
            if total as u64 > max {
                return Err(CmdError::StringTooLong);
            }
            let v = s.make_raw();
            // Amortized growth (like sds's greedy preallocation) for repeated APPENDs, and
            // an error rather than an abort if even that fails.
            v.try_reserve(tail.len())
                .map_err(|_| CmdError::StringTooLong)?;
            v.extend_from_slice(tail);
            total
        }
        None => {
            db.set(key, Value::Str(Str::from_bytes(tail)), false);
            tail.len()
        }
    };
    ctx.signal_modified(key);
    ctx.notify(notify::STRING, "append", key);
    ctx.engine.dirty += 1;
    ctx.out.int(total as i64);
    Ok(())
}

/// STRLEN key → the length, 0 when missing.
fn strlen(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let len = match lookup_read(ctx.engine, ctx.session.db, args[1]) {
        Some(e) => as_str(&e.value)?.len(),
        None => 0,
    };
    ctx.out.int(len as i64);
    Ok(())
}

/// GETRANGE key start end (and its old name SUBSTR): inclusive, negative indexes count from
/// the end, out-of-range indexes are clamped; an empty string when nothing is selected.
fn getrange(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let start = parse_i64(args[2])?;
    let end = parse_i64(args[3])?;
    let Some(e) = lookup_read(ctx.engine, ctx.session.db, args[1]) else {
        ctx.out.bulk(b"");
        return Ok(());
    };
    let mut scratch = [0u8; 20];
    let s = as_str(&e.value)?.as_bytes(&mut scratch);
    ctx.out.bulk(substr(s, start, end));
    Ok(())
}

/// GETRANGE's index arithmetic (Redis 7.0.15 getrangeCommand).
fn substr(s: &[u8], start: i64, end: i64) -> &[u8] {
    let len = s.len() as i64;
    if start < 0 && end < 0 && start > end {
        return b"";
    }
    // len <= isize::MAX, so len + (negative i64) cannot overflow.
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end }.max(0).min(len - 1);
    if start > end || len == 0 {
        b""
    } else {
        &s[start as usize..=end as usize]
    }
}

/// SETRANGE key offset value → the new length. Pads with zero bytes; creates a `raw` value
/// when the key is missing (unless `value` is empty: then nothing is created).
fn setrange(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (key, patch) = (args[1], args[3]);
    let offset = parse_i64(args[2])?;
    if offset < 0 {
        return Err(CmdError::OffsetOutOfRange);
    }
    // offset <= i64::MAX and a bulk argument is far below 2^63 bytes: no u64 overflow.
    let needed = offset as u64 + patch.len() as u64;
    let now = ctx.now_ms();
    let max = ctx.engine.config.proto_max_bulk_len;
    let db = &mut ctx.engine.dbs[ctx.session.db];
    let len = match db.lookup_write(key, now) {
        None => {
            if patch.is_empty() {
                ctx.out.int(0);
                return Ok(());
            }
            if needed > max {
                return Err(CmdError::StringTooLong);
            }
            let mut v = Vec::new();
            grow_zeroed(
                &mut v,
                usize::try_from(needed).map_err(|_| CmdError::StringTooLong)?,
            )?;
            v[offset as usize..].copy_from_slice(patch);
            db.set(key, Value::Str(Str::raw(v)), false);
            needed as usize
        }
        Some(e) => {
            let s = as_str_mut(&mut e.value)?;
            if patch.is_empty() {
                ctx.out.int(s.len() as i64);
                return Ok(());
            }
            if needed > max {
                return Err(CmdError::StringTooLong);
            }
            let end = usize::try_from(needed).map_err(|_| CmdError::StringTooLong)?;
            let v = s.make_raw();
            grow_zeroed(v, end)?;
            v[offset as usize..end].copy_from_slice(patch);
            v.len()
        }
    };
    ctx.signal_modified(key);
    ctx.notify(notify::STRING, "setrange", key);
    ctx.engine.dirty += 1;
    ctx.out.int(len as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Counters

/// `incrDecrCommand`: adds `by` to the integer at `key` (0 when missing), keeping the TTL.
fn incr_by(ctx: &mut Ctx<'_>, key: &[u8], by: i64) -> CmdResult {
    let now = ctx.now_ms();
    let db = &mut ctx.engine.dbs[ctx.session.db];
    let value = match db.lookup_write(key, now) {
        Some(e) => {
            let old = match as_str(&e.value)? {
                Str::Int(i) => *i,
                s => {
                    let mut scratch = [0u8; 20];
                    parse_i64(s.as_bytes(&mut scratch))?
                }
            };
            let new = old.checked_add(by).ok_or(CmdError::Overflow)?;
            e.value = Value::Str(Str::Int(new));
            new
        }
        None => {
            // 0 + by cannot overflow.
            db.set(key, Value::Str(Str::Int(by)), false);
            by
        }
    };
    ctx.signal_modified(key);
    ctx.notify(notify::STRING, "incrby", key);
    ctx.engine.dirty += 1;
    ctx.out.int(value);
    Ok(())
}

/// INCR key
fn incr(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    incr_by(ctx, args[1], 1)
}

/// DECR key
fn decr(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    incr_by(ctx, args[1], -1)
}

/// INCRBY key increment
fn incrby(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let by = parse_i64(args[2])?;
    incr_by(ctx, args[1], by)
}

/// DECRBY key decrement
fn decrby(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let by = parse_i64(args[2])?;
    // -i64::MIN does not exist; Redis checks this before looking at the key.
    let by = by
        .checked_neg()
        .ok_or(CmdError::Static("ERR decrement would overflow"))?;
    incr_by(ctx, args[1], by)
}

/// INCRBYFLOAT key increment → the new value as text. Computed in C `long double` like
/// Redis (see [`crate::ldouble`]); propagated as `SET key value KEEPTTL` so replicas never
/// redo the float arithmetic.
fn incrbyfloat(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let now = ctx.now_ms();
    let db = &mut ctx.engine.dbs[ctx.session.db];
    let mut text = [0u8; ldouble::MAX_CHARS];
    let new = match db.lookup_write(key, now) {
        Some(e) => {
            let old = match as_str(&e.value)? {
                Str::Int(i) => LongDouble::from_i64(*i),
                s => LongDouble::parse(s.as_bytes(&mut [0u8; 20])).ok_or(CmdError::NotFloat)?,
            };
            let sum = sum_finite(old, args[2])?;
            let new = sum.format_human(&mut text);
            e.value = Value::Str(Str::plain(new));
            new
        }
        None => {
            let sum = sum_finite(LongDouble::from_i64(0), args[2])?;
            let new = sum.format_human(&mut text);
            db.set(key, Value::Str(Str::plain(new)), false);
            new
        }
    };
    ctx.signal_modified(key);
    ctx.notify(notify::STRING, "incrbyfloat", key);
    ctx.engine.dirty += 1;
    ctx.out.bulk(new);
    ctx.engine
        .propagation
        .rewrite(&[b"SET", key, new, b"KEEPTTL"]);
    Ok(())
}

/// `old + incr`, refusing an unparsable increment and a NaN or infinite result.
fn sum_finite(old: LongDouble, incr: &[u8]) -> Result<LongDouble, CmdError> {
    let incr = LongDouble::parse(incr).ok_or(CmdError::NotFloat)?;
    let sum = old.add(incr);
    if sum.is_finite() {
        Ok(sum)
    } else {
        Err(CmdError::NanOrInfinity)
    }
}

// ---------------------------------------------------------------------------------------
// LCS

/// One common run of an LCS: inclusive ranges in each string.
struct Match {
    a: (u32, u32),
    b: (u32, u32),
    len: u32,
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
///
/// Redis's dynamic-programming table of (len1+1)*(len2+1) u32 cells, refused when it would
/// exceed proto-max-bulk-len; the match ranges come out from the end of the strings
/// backwards, in the order Redis emits them.
fn lcs(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    const NOT_STRINGS: &str = "ERR The specified keys must contain string values";
    // Both lookups happen before any check, as in Redis (expiry and hit/miss counts). The
    // values are copied: the DP table costs far more than the copies, and the two entries
    // cannot be borrowed from the Db at once.
    let db = ctx.session.db;
    let a = lookup_read(ctx.engine, db, args[1]).map(|e| as_str(&e.value).map(Str::to_vec));
    let b = lookup_read(ctx.engine, db, args[2]).map(|e| as_str(&e.value).map(Str::to_vec));
    let (a, b) = match (a.transpose(), b.transpose()) {
        (Ok(a), Ok(b)) => (a.unwrap_or_default(), b.unwrap_or_default()),
        _ => return Err(CmdError::Static(NOT_STRINGS)),
    };

    let (mut getlen, mut getidx, mut withmatchlen, mut minmatchlen) = (false, false, false, 0);
    let mut opts = Args::new(args, 3);
    while !opts.is_empty() {
        if opts.eat("IDX") {
            getidx = true;
        } else if opts.eat("LEN") {
            getlen = true;
        } else if opts.eat("WITHMATCHLEN") {
            withmatchlen = true;
        } else if opts.eat_with("MINMATCHLEN", 1) {
            minmatchlen = opts.int()?.max(0);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if getlen && getidx {
        return Err(CmdError::Static(
            "ERR If you want both the length and indexes, please just use IDX.",
        ));
    }
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return Err(CmdError::Static("ERR String too long for LCS"));
    }
    let table = lcs_table(&a, &b, ctx.engine.config.proto_max_bulk_len)?;
    let (alen, blen) = (a.len(), b.len());
    let cols = blen + 1;
    let at = |i: usize, j: usize| table[i * cols + j];
    let total = at(alen, blen);

    let computelcs = getidx || !getlen;
    let mut result = vec![0u8; if getidx || getlen { 0 } else { total as usize }];
    let mut matches: Vec<Match> = Vec::new();
    let (mut i, mut j, mut idx) = (alen, blen, total as usize);
    // Redis's backtrack, kept step for step so ranges and their order match: `arange_start
    // == alen` means "no range open".
    let (mut as_, mut ae, mut bs, mut be) = (alen, 0usize, 0usize, 0usize);
    while computelcs && i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            if !result.is_empty() {
                result[idx - 1] = a[i - 1];
            }
            if as_ == alen {
                (as_, ae, bs, be) = (i - 1, i - 1, j - 1, j - 1);
            } else if as_ == i && bs == j {
                as_ -= 1;
                bs -= 1;
            } else {
                emit = true;
            }
            if as_ == 0 || bs == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if at(i - 1, j) > at(i, j - 1) {
                i -= 1;
            } else {
                j -= 1;
            }
            if as_ != alen {
                emit = true;
            }
        }
        if emit {
            let len = (ae - as_ + 1) as u32;
            if getidx && (minmatchlen == 0 || i64::from(len) >= minmatchlen) {
                matches.push(Match {
                    a: (as_ as u32, ae as u32),
                    b: (bs as u32, be as u32),
                    len,
                });
            }
            as_ = alen;
        }
    }
    drop(table);

    if getidx {
        let out = &mut ctx.out;
        out.map(2);
        out.bulk(b"matches");
        out.array(matches.len());
        for m in &matches {
            out.array(2 + usize::from(withmatchlen));
            out.array(2);
            out.int(m.a.0.into());
            out.int(m.a.1.into());
            out.array(2);
            out.int(m.b.0.into());
            out.int(m.b.1.into());
            if withmatchlen {
                out.int(m.len.into());
            }
        }
        out.bulk(b"len");
        out.int(total.into());
    } else if getlen {
        ctx.out.int(total.into());
    } else {
        ctx.out.bulk(&result);
    }
    Ok(())
}

/// The LCS length table: cell (i, j) = LCS length of a[..i] and b[..j], row-major with
/// b.len()+1 columns. Refused, with Redis's texts, when larger than `max_bytes` or when the
/// allocation fails.
fn lcs_table(a: &[u8], b: &[u8], max_bytes: u64) -> Result<Vec<u32>, CmdError> {
    const TOO_BIG: &str =
        "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";
    const NO_MEMORY: &str = "ERR Insufficient memory, failed allocating transient memory for LCS";
    // Each side is < 2^32, so the cell count fits u64; the byte size may not.
    let cells = (a.len() as u64 + 1) * (b.len() as u64 + 1);
    let bytes = cells.checked_mul(4).ok_or(CmdError::Static(NO_MEMORY))?;
    if bytes > max_bytes {
        return Err(CmdError::Static(TOO_BIG));
    }
    let cells = usize::try_from(cells).map_err(|_| CmdError::Static(NO_MEMORY))?;
    let mut t: Vec<u32> = Vec::new();
    t.try_reserve_exact(cells)
        .map_err(|_| CmdError::Static(NO_MEMORY))?;
    t.resize(cells, 0);
    let cols = b.len() + 1;
    for i in 1..=a.len() {
        let (prev, cur) = t[(i - 1) * cols..(i + 1) * cols].split_at_mut(cols);
        for j in 1..cols {
            cur[j] = if a[i - 1] == b[j - 1] {
                prev[j - 1] + 1
            } else {
                prev[j].max(cur[j - 1])
            };
        }
    }
    Ok(t)
}

#[cfg(test)]
#[path = "strings_tests.rs"]
mod tests;
