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
use crate::util::parse_i64;
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
fn as_str(v: &Value) -> Result<&Str, CmdError> {
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

/// Grows `v` to `len` bytes, zero-filling, without aborting when the allocation fails:
/// proto-max-bulk-len can be configured beyond the machine's memory, and a client asking
/// for that much gets an error instead of a crashed server (where Redis would abort).
fn grow_zeroed(v: &mut Vec<u8>, len: usize) -> CmdResult {
    if len > v.len() {
        v.try_reserve_exact(len - v.len())
            .map_err(|_| CmdError::StringTooLong)?;
        v.resize(len, 0);
    }
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
mod tests {
    //! Expected replies were taken from Redis 7.0.15 running the same commands.

    use super::super::testkit::Harness;
    use crate::engine::EngineConfig;
    use resp::Proto;

    use super::super::testkit::reply::{NIL, NOT_FLOAT, NOT_INT, OK, SYNTAX};
    use super::super::testkit::script;

    fn now(h: &Harness) -> i64 {
        h.engine.now_ms()
    }

    fn encoding(h: &mut Harness, key: &str) -> &'static str {
        let now = now(h);
        h.engine.dbs[0]
            .lookup_read(key.as_bytes(), now)
            .map(|e| e.value.encoding_name())
            .unwrap_or("missing")
    }

    fn expire_at(h: &mut Harness, key: &str) -> Option<i64> {
        let now = now(h);
        h.engine.dbs[0]
            .lookup_read(key.as_bytes(), now)
            .expect("key exists")
            .expire_at()
    }

    /// The propagated form of the last command, if it propagated (and resets it).
    fn rewritten(h: &mut Harness) -> Option<Vec<String>> {
        let r = h.last_propagated().map(|argv| {
            argv.iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        });
        h.take_propagated();
        r
    }

    fn strs(v: &[&str]) -> Option<Vec<String>> {
        Some(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn get_and_set_round_trip() {
        let mut h = Harness::new();
        script(
            &mut h,
            &[
                (&["GET", "k"], NIL),
                (&["SET", "k", "v"], OK),
                (&["GET", "k"], "$1\r\nv\r\n"),
                (&["SET", "k", "-42"], OK),
                (&["GET", "k"], "$3\r\n-42\r\n"),
                (&["SET", "e", ""], OK),
                (&["GET", "e"], "$0\r\n\r\n"),
            ],
        );
    }

    #[test]
    fn get_null_is_resp3_null() {
        let mut h = Harness::new();
        h.session.proto = Proto::Resp3;
        assert_eq!(h.run(&["GET", "k"]), "_\r\n");
        assert_eq!(h.run(&["MGET", "k"]), "*1\r\n_\r\n");
    }

    #[test]
    fn set_chooses_redis_encodings() {
        let mut h = Harness::new();
        let long = "x".repeat(45);
        for (val, enc) in [
            ("123", "int"),
            ("-9223372036854775808", "int"),
            ("9223372036854775808", "embstr"),
            ("0123", "embstr"),
            ("-0", "embstr"),
            ("abc", "embstr"),
            (&"y".repeat(44), "embstr"),
            (&long, "raw"),
        ] {
            h.run(&["SET", "k", val]);
            assert_eq!(encoding(&mut h, "k"), enc, "SET k {val}");
            assert_eq!(h.run(&["GET", "k"]), format!("${}\r\n{val}\r\n", val.len()));
        }
    }

    #[test]
    fn set_nx_xx() {
        let mut h = Harness::new();
        script(
            &mut h,
            &[
                (&["SET", "k", "v", "NX"], OK),
                (&["SET", "k", "w", "nx"], NIL),
                (&["SET", "k2", "v", "XX"], NIL),
                (&["SET", "k", "v2", "xx"], OK),
                (&["GET", "k"], "$2\r\nv2\r\n"),
                (&["GET", "k2"], NIL),
            ],
        );
    }

    #[test]
    fn set_get_replies_old_value_even_when_aborted() {
        let mut h = Harness::new();
        script(
            &mut h,
            &[
                (&["SET", "n", "123", "GET"], NIL),
                (&["SET", "n", "124", "GET"], "$3\r\n123\r\n"),
                // NX with GET is allowed in 7.0: the old value, and no write.
                (&["SET", "n", "125", "NX", "GET"], "$3\r\n124\r\n"),
                (&["GET", "n"], "$3\r\n124\r\n"),
                (&["SET", "nn", "1", "XX", "GET"], NIL),
                (&["GET", "nn"], NIL),
                (&["SET", "n", "v", "GET", "GET"], "$3\r\n124\r\n"),
            ],
        );
    }

    #[test]
    fn set_option_conflicts_are_syntax_errors() {
        let mut h = Harness::new();
        for opts in [
            &["EX", "10", "PX", "10"][..],
            &["EX", "10", "EXAT", "10"],
            &["PX", "10", "PXAT", "10"],
            &["EXAT", "10", "PXAT", "10"],
            &["KEEPTTL", "EX", "10"],
            &["EX", "10", "KEEPTTL"],
            &["NX", "XX"],
            &["XX", "NX"],
            &["GET", "NX", "XX"],
            &["EX"],
            &["PX"],
            &["PERSIST"],
            &["foo"],
        ] {
            let mut args = vec!["SET", "k", "v"];
            args.extend_from_slice(opts);
            assert_eq!(h.run(&args), SYNTAX, "{args:?}");
        }
        assert_eq!(h.run(&["GET", "k"]), NIL);
        // Repeating one option is accepted.
        script(
            &mut h,
            &[
                (&["SET", "k", "v", "EX", "10", "EX", "20"], OK),
                (&["SET", "k", "v", "KEEPTTL", "KEEPTTL"], OK),
                // An option is read up to its first NUL byte, as Redis's C code does.
                (&["SET", "k", "v", "NX\0junk"], NIL),
            ],
        );
    }

    #[test]
    fn set_invalid_expire_times() {
        let mut h = Harness::new();
        let invalid = "-ERR invalid expire time in 'set' command\r\n";
        for (opt, val) in [
            ("EX", "0"),
            ("EX", "-1"),
            ("PX", "0"),
            ("EXAT", "0"),
            ("PXAT", "-5"),
            // Seconds overflowing on the conversion to ms…
            ("EX", "9223372036854775807"),
            // …or on adding the current time.
            ("EX", "9223372036854775"),
            ("PX", "9223372036854775807"),
        ] {
            assert_eq!(h.run(&["SET", "k", "v", opt, val]), invalid, "{opt} {val}");
        }
        assert_eq!(h.run(&["SET", "k", "v", "EX", "abc"]), NOT_INT);
        assert_eq!(h.run(&["SET", "k", "v", "EX", "1.5"]), NOT_INT);
        assert_eq!(h.run(&["GET", "k"]), NIL);
        // The largest absolute times are fine: no addition happens.
        assert_eq!(h.run(&["SET", "k", "v", "EXAT", "9223372036854775"]), OK);
        assert_eq!(expire_at(&mut h, "k"), Some(9_223_372_036_854_775_000));
        assert_eq!(h.run(&["SET", "k", "v", "PXAT", "9223372036854775807"]), OK);
        assert_eq!(expire_at(&mut h, "k"), Some(i64::MAX));
    }

    #[test]
    fn set_expire_forms_set_the_deadline() {
        let mut h = Harness::new();
        let t = now(&h);
        h.run(&["SET", "a", "v", "EX", "100"]);
        assert_eq!(expire_at(&mut h, "a"), Some(t + 100_000));
        h.run(&["SET", "b", "v", "PX", "1500"]);
        assert_eq!(expire_at(&mut h, "b"), Some(t + 1500));
        h.run(&["SET", "c", "v", "EXAT", &(t / 1000 + 50).to_string()]);
        assert_eq!(expire_at(&mut h, "c"), Some((t / 1000 + 50) * 1000));
        h.run(&["SET", "d", "v", "PXAT", &(t + 777).to_string()]);
        assert_eq!(expire_at(&mut h, "d"), Some(t + 777));
        // As Redis's keyIsExpired, a key lives through its deadline millisecond.
        h.advance_ms(1500);
        assert_eq!(h.run(&["GET", "b"]), "$1\r\nv\r\n");
        h.advance_ms(1);
        assert_eq!(h.run(&["GET", "b"]), NIL);
        assert_eq!(h.run(&["GET", "d"]), NIL);
        // A deadline already past is accepted, and the key is then gone.
        assert_eq!(h.run(&["SET", "e", "v", "PXAT", "1"]), OK);
        assert_eq!(h.run(&["GET", "e"]), NIL);
    }

    #[test]
    fn set_drops_ttl_unless_keepttl() {
        let mut h = Harness::new();
        let t = now(&h);
        h.run(&["SET", "k", "v", "EX", "100"]);
        assert_eq!(h.run(&["SET", "k", "w", "KEEPTTL"]), OK);
        assert_eq!(expire_at(&mut h, "k"), Some(t + 100_000));
        assert_eq!(h.run(&["SET", "k", "x", "GET"]), "$1\r\nw\r\n");
        assert_eq!(expire_at(&mut h, "k"), None);
        assert_eq!(h.engine.dbs[0].expires_len(), 0);
        // Overwriting a TTL with another one.
        h.run(&["SET", "k", "v", "EX", "100"]);
        h.run(&["SET", "k", "v", "PX", "5"]);
        assert_eq!(expire_at(&mut h, "k"), Some(t + 5));
        // KEEPTTL on a key that expired keeps nothing.
        h.advance_ms(6);
        h.run(&["SET", "k", "v", "KEEPTTL"]);
        assert_eq!(expire_at(&mut h, "k"), None);
    }

    #[test]
    fn set_propagates_absolute_deadline_and_drops_get() {
        let mut h = Harness::new();
        let t = now(&h);
        h.run(&["SET", "k", "v"]);
        assert_eq!(rewritten(&mut h), strs(&["SET", "k", "v"]));
        h.run(&["set", "k", "v", "ex", "10", "get"]);
        let pxat = (t + 10_000).to_string();
        assert_eq!(rewritten(&mut h), strs(&["SET", "k", "v", "PXAT", &pxat]));
        h.run(&["SET", "k", "v", "EXAT", "2000000000"]);
        assert_eq!(
            rewritten(&mut h),
            strs(&["SET", "k", "v", "PXAT", "2000000000000"])
        );
        h.run(&["SET", "k", "w", "get", "KEEPTTL", "GET"]);
        assert_eq!(rewritten(&mut h), strs(&["SET", "k", "w", "KEEPTTL"]));
        // The value argument is never taken for a GET token.
        h.run(&["SET", "k", "get", "GET"]);
        assert_eq!(rewritten(&mut h), strs(&["SET", "k", "get"]));
        h.run(&["SETEX", "k", "5", "v"]);
        let pxat = (t + 5000).to_string();
        assert_eq!(rewritten(&mut h), strs(&["SET", "k", "v", "PXAT", &pxat]));
        h.run(&["PSETEX", "k", "5", "v"]);
        let pxat = (t + 5).to_string();
        assert_eq!(rewritten(&mut h), strs(&["SET", "k", "v", "PXAT", &pxat]));
    }

    #[test]
    fn writes_count_dirty_like_redis() {
        let mut h = Harness::new();
        let expect = |h: &mut Harness, args: &[&str], d: u64| {
            let before = h.engine.dirty;
            h.run(args);
            assert_eq!(h.engine.dirty - before, d, "{args:?}");
        };
        expect(&mut h, &["SET", "k", "v"], 1);
        expect(&mut h, &["SET", "k", "v", "NX"], 0);
        expect(&mut h, &["SET", "k", "v", "EX", "0"], 0);
        expect(&mut h, &["SETNX", "k", "v"], 0);
        expect(&mut h, &["MSET", "a", "1", "b", "2", "c", "3"], 3);
        expect(&mut h, &["MSETNX", "a", "1", "z", "2"], 0);
        expect(&mut h, &["MSETNX", "y", "1", "z", "2"], 2);
        expect(&mut h, &["GET", "k"], 0);
        expect(&mut h, &["APPEND", "k", ""], 1);
        expect(&mut h, &["SETRANGE", "k", "0", ""], 0);
        expect(&mut h, &["SETRANGE", "k", "0", "x"], 1);
        expect(&mut h, &["INCR", "a"], 1);
        expect(&mut h, &["INCR", "k"], 0);
        expect(&mut h, &["INCRBYFLOAT", "a", "1.5"], 1);
        expect(&mut h, &["GETDEL", "nothing"], 0);
        expect(&mut h, &["GETDEL", "a"], 1);
        expect(&mut h, &["GETEX", "b"], 0);
        expect(&mut h, &["GETEX", "b", "PERSIST"], 0);
        expect(&mut h, &["GETEX", "b", "EX", "10"], 1);
        expect(&mut h, &["GETEX", "b", "PERSIST"], 1);
        expect(&mut h, &["GETSET", "b", "3"], 1);
    }

    #[test]
    fn setnx_setex_psetex() {
        let mut h = Harness::new();
        let t = now(&h);
        script(
            &mut h,
            &[
                (&["SETNX", "sn", "1"], ":1\r\n"),
                (&["SETNX", "sn", "2"], ":0\r\n"),
                (&["GET", "sn"], "$1\r\n1\r\n"),
                (
                    &["SETEX", "se", "0", "v"],
                    "-ERR invalid expire time in 'setex' command\r\n",
                ),
                (&["SETEX", "se", "abc", "v"], NOT_INT),
                (
                    &["PSETEX", "se", "-1", "v"],
                    "-ERR invalid expire time in 'psetex' command\r\n",
                ),
                (&["GET", "se"], NIL),
                (&["SETEX", "se", "100", "v"], OK),
            ],
        );
        assert_eq!(expire_at(&mut h, "se"), Some(t + 100_000));
        assert_eq!(h.run(&["PSETEX", "se", "100", "w"]), OK);
        assert_eq!(expire_at(&mut h, "se"), Some(t + 100));
        assert_eq!(h.run(&["GET", "se"]), "$1\r\nw\r\n");
    }

    #[test]
    fn mget_mset_msetnx() {
        let mut h = Harness::new();
        script(
            &mut h,
            &[
                (
                    &["MSET", "a", "1", "b", "2", "c"],
                    "-ERR wrong number of arguments for 'mset' command\r\n",
                ),
                (
                    &["MSETNX", "a", "1", "b"],
                    "-ERR wrong number of arguments for 'msetnx' command\r\n",
                ),
                (&["MSET", "a", "1", "b", "2", "a", "3"], OK),
                (&["MSETNX", "a", "3", "z", "4"], ":0\r\n"),
                (&["GET", "z"], NIL),
                (&["MSETNX", "y", "3", "z", "4"], ":1\r\n"),
                (
                    &["MGET", "a", "b", "nothing", "y", "z"],
                    "*5\r\n$1\r\n3\r\n$1\r\n2\r\n$-1\r\n$1\r\n3\r\n$1\r\n4\r\n",
                ),
            ],
        );
        // MSET drops TTLs.
        h.run(&["SET", "t", "v", "EX", "100"]);
        h.run(&["MSET", "t", "w"]);
        assert_eq!(expire_at(&mut h, "t"), None);
    }

    #[test]
    fn getset_replaces_value_and_ttl() {
        let mut h = Harness::new();
        h.run(&["SET", "a", "1", "EX", "100"]);
        assert_eq!(h.run(&["GETSET", "a", "10"]), "$1\r\n1\r\n");
        assert_eq!(expire_at(&mut h, "a"), None);
        assert_eq!(encoding(&mut h, "a"), "int");
        assert_eq!(rewritten(&mut h), strs(&["SET", "a", "10"]));
        assert_eq!(h.run(&["GETSET", "new", "5"]), NIL);
        assert_eq!(h.run(&["GET", "new"]), "$1\r\n5\r\n");
    }

    #[test]
    fn getdel_deletes_and_propagates_del() {
        let mut h = Harness::new();
        h.run(&["SET", "a", "10"]);
        script(
            &mut h,
            &[
                (&["GETDEL", "nothing"], NIL),
                (&["GETDEL", "a"], "$2\r\n10\r\n"),
                (&["GETDEL", "a"], NIL),
            ],
        );
        h.run(&["SET", "a", "10"]);
        h.take_propagated();
        h.run(&["GETDEL", "a"]);
        assert_eq!(rewritten(&mut h), strs(&["DEL", "a"]));
    }

    #[test]
    fn getex_options_and_errors() {
        let mut h = Harness::new();
        h.run(&["SET", "b", "2"]);
        let invalid = "-ERR invalid expire time in 'getex' command\r\n";
        script(
            &mut h,
            &[
                (&["GETEX", "b"], "$1\r\n2\r\n"),
                // The key is looked up before the time is validated.
                (&["GETEX", "nothing", "EX", "0"], NIL),
                (&["GETEX", "nothing", "EX", "abc"], NIL),
                (&["GETEX", "nothing", "foo"], SYNTAX),
                (&["GETEX", "b", "EX", "0"], invalid),
                (&["GETEX", "b", "EX", "-1"], invalid),
                (&["GETEX", "b", "EXAT", "0"], invalid),
                (&["GETEX", "b", "EX", "9223372036854775807"], invalid),
                (&["GETEX", "b", "PX", "abc"], NOT_INT),
                (&["GETEX", "b", "KEEPTTL"], SYNTAX),
                (&["GETEX", "b", "NX"], SYNTAX),
                (&["GETEX", "b", "GET"], SYNTAX),
                (&["GETEX", "b", "EX", "10", "PX", "10"], SYNTAX),
                (&["GETEX", "b", "PERSIST", "EX", "10"], SYNTAX),
                (&["GETEX", "b", "EX", "10", "PERSIST"], SYNTAX),
                (&["GETEX", "b", "EX"], SYNTAX),
                (&["GETEX", "b", "PERSIST", "PERSIST"], "$1\r\n2\r\n"),
                (&["GETEX", "b", "EX", "10", "EX", "10"], "$1\r\n2\r\n"),
            ],
        );
    }

    #[test]
    fn getex_sets_and_removes_ttl_with_propagation() {
        let mut h = Harness::new();
        let t = now(&h);
        h.run(&["SET", "k", "v"]);
        h.take_propagated();
        assert_eq!(h.run(&["GETEX", "k", "EX", "100"]), "$1\r\nv\r\n");
        assert_eq!(expire_at(&mut h, "k"), Some(t + 100_000));
        let at = (t + 100_000).to_string();
        assert_eq!(rewritten(&mut h), strs(&["PEXPIREAT", "k", &at]));
        h.run(&["GETEX", "k", "PXAT", "2000000000000"]);
        assert_eq!(expire_at(&mut h, "k"), Some(2_000_000_000_000));
        assert_eq!(
            rewritten(&mut h),
            strs(&["PEXPIREAT", "k", "2000000000000"])
        );
        h.run(&["GETEX", "k", "PERSIST"]);
        assert_eq!(expire_at(&mut h, "k"), None);
        assert_eq!(rewritten(&mut h), strs(&["PERSIST", "k"]));
        // PERSIST without a TTL changes nothing and propagates nothing.
        h.run(&["GETEX", "k", "PERSIST"]);
        assert_eq!(rewritten(&mut h), None);
        // A past absolute time still answers the value, then deletes the key.
        assert_eq!(h.run(&["GETEX", "k", "EXAT", "1"]), "$1\r\nv\r\n");
        assert_eq!(rewritten(&mut h), strs(&["DEL", "k"]));
        assert_eq!(h.run(&["GET", "k"]), NIL);
        assert!(h.engine.dbs[0].is_empty());
        // A relative time moves with the clock.
        h.run(&["SET", "k", "v"]);
        h.run(&["GETEX", "k", "PX", "10"]);
        h.advance_ms(11);
        assert_eq!(h.run(&["GETEX", "k"]), NIL);
    }

    #[test]
    fn append_creates_then_goes_raw() {
        let mut h = Harness::new();
        script(
            &mut h,
            &[
                (&["APPEND", "ap", "123"], ":3\r\n"),
                (&["APPEND", "ap", "45"], ":5\r\n"),
                (&["GET", "ap"], "$5\r\n12345\r\n"),
                (&["APPEND", "ap", ""], ":5\r\n"),
                (&["APPEND", "e", ""], ":0\r\n"),
                (&["GET", "e"], "$0\r\n\r\n"),
            ],
        );
        h.run(&["APPEND", "n", "123"]);
        assert_eq!(encoding(&mut h, "n"), "int");
        assert_eq!(encoding(&mut h, "ap"), "raw");
        // APPEND keeps the TTL.
        let t = now(&h);
        h.run(&["SET", "t", "a", "PX", "100"]);
        h.run(&["APPEND", "t", "b"]);
        assert_eq!(expire_at(&mut h, "t"), Some(t + 100));
    }

    #[test]
    fn append_and_setrange_respect_proto_max_bulk_len() {
        let mut h = Harness::with_config(EngineConfig {
            proto_max_bulk_len: 10,
            ..EngineConfig::default()
        });
        let too_long = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n";
        script(
            &mut h,
            &[
                (&["SET", "k", "12345"], OK),
                (&["APPEND", "k", "67890"], ":10\r\n"),
                (&["APPEND", "k", "x"], too_long),
                (&["SETRANGE", "k", "9", "ab"], too_long),
                (&["SETRANGE", "k", "8", "ab"], ":10\r\n"),
                (&["SETRANGE", "new", "10", "a"], too_long),
                (&["SETRANGE", "new", "9", "a"], ":10\r\n"),
                (&["GET", "k"], "$10\r\n12345678ab\r\n"),
            ],
        );
    }

    #[test]
    fn impossible_allocations_are_errors_not_aborts() {
        let mut h = Harness::with_config(EngineConfig {
            proto_max_bulk_len: u64::MAX,
            ..EngineConfig::default()
        });
        let too_long = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n";
        h.run(&["SET", "k", "v"]);
        assert_eq!(
            h.run(&["SETRANGE", "k", "9223372036854775000", "a"]),
            too_long
        );
        assert_eq!(
            h.run(&["SETRANGE", "new", "9223372036854775000", "a"]),
            too_long
        );
        assert_eq!(h.run(&["GET", "k"]), "$1\r\nv\r\n");
        assert_eq!(h.run(&["GET", "new"]), NIL);
    }

    #[test]
    fn strlen_counts_bytes_of_any_encoding() {
        let mut h = Harness::new();
        script(
            &mut h,
            &[
                (&["STRLEN", "nothing"], ":0\r\n"),
                (&["SET", "ns", "-12345"], OK),
                (&["STRLEN", "ns"], ":6\r\n"),
                (&["SET", "s", "héllo"], OK),
                (&["STRLEN", "s"], ":6\r\n"),
            ],
        );
    }

    #[test]
    fn getrange_index_arithmetic() {
        let mut h = Harness::new();
        h.run(&["SET", "h", "hello"]);
        h.run(&["SET", "n", "12345"]);
        h.run(&["SET", "e", ""]);
        for (start, end, want) in [
            ("0", "-1", "hello"),
            ("1", "3", "ell"),
            ("-3", "-1", "llo"),
            ("-1", "-5", ""),
            ("-10", "-20", ""),
            ("0", "-100", "h"),
            ("10", "20", ""),
            ("3", "1", ""),
            ("-100", "100", "hello"),
            ("-9223372036854775808", "9223372036854775807", "hello"),
        ] {
            let got = h.run(&["GETRANGE", "h", start, end]);
            assert_eq!(
                got,
                format!("${}\r\n{want}\r\n", want.len()),
                "{start} {end}"
            );
        }
        script(
            &mut h,
            &[
                (&["GETRANGE", "nothing", "0", "1"], "$0\r\n\r\n"),
                (&["GETRANGE", "e", "0", "-1"], "$0\r\n\r\n"),
                (&["GETRANGE", "h", "a", "1"], NOT_INT),
                (&["GETRANGE", "h", "0", "b"], NOT_INT),
                (&["SUBSTR", "h", "1", "2"], "$2\r\nel\r\n"),
                (&["GETRANGE", "n", "1", "2"], "$2\r\n23\r\n"),
            ],
        );
    }

    #[test]
    fn setrange_pads_and_goes_raw() {
        let mut h = Harness::new();
        script(
            &mut h,
            &[
                (&["SETRANGE", "nothing", "5", ""], ":0\r\n"),
                (&["GET", "nothing"], NIL),
                (&["SETRANGE", "sr", "3", "ab"], ":5\r\n"),
                (&["GET", "sr"], "$5\r\n\0\0\0ab\r\n"),
                (&["SETRANGE", "sr", "1", "X"], ":5\r\n"),
                (&["GET", "sr"], "$5\r\n\0X\0ab\r\n"),
                (&["SETRANGE", "sr", "0", ""], ":5\r\n"),
                (
                    &["SETRANGE", "sr", "-1", "X"],
                    "-ERR offset is out of range\r\n",
                ),
                (&["SETRANGE", "sr", "a", "X"], NOT_INT),
                (&["SET", "n", "12345"], OK),
                (&["SETRANGE", "n", "0", ""], ":5\r\n"),
            ],
        );
        assert_eq!(encoding(&mut h, "sr"), "raw");
        // An empty patch leaves an int alone; a real one makes it raw.
        assert_eq!(encoding(&mut h, "n"), "int");
        assert_eq!(h.run(&["SETRANGE", "n", "0", "9"]), ":5\r\n");
        assert_eq!(h.run(&["GET", "n"]), "$5\r\n92345\r\n");
        assert_eq!(encoding(&mut h, "n"), "raw");
        assert_eq!(
            h.run(&["SETRANGE", "sr", "9223372036854775807", "ab"]),
            "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
        );
    }

    #[test]
    fn incr_family() {
        let mut h = Harness::new();
        let overflow = "-ERR increment or decrement would overflow\r\n";
        script(
            &mut h,
            &[
                (&["INCR", "i"], ":1\r\n"),
                (&["INCR", "i"], ":2\r\n"),
                (&["DECR", "i"], ":1\r\n"),
                (&["INCRBY", "i", "10"], ":11\r\n"),
                (&["DECRBY", "i", "20"], ":-9\r\n"),
                (&["DECR", "new"], ":-1\r\n"),
                (&["INCRBY", "i", "abc"], NOT_INT),
                (&["DECRBY", "i", "1.5"], NOT_INT),
                (
                    &["DECRBY", "i", "-9223372036854775808"],
                    "-ERR decrement would overflow\r\n",
                ),
                (&["SET", "mx", "9223372036854775807"], OK),
                (&["INCR", "mx"], overflow),
                (&["SET", "mn", "-9223372036854775808"], OK),
                (&["DECR", "mn"], overflow),
                (&["INCRBY", "mn", "-1"], overflow),
                (&["INCRBY", "mn", "9223372036854775807"], ":-1\r\n"),
            ],
        );
        for bad in ["hello", "1.5", " 1", "01", "1 ", ""] {
            h.run(&["SET", "b", bad]);
            assert_eq!(h.run(&["INCR", "b"]), NOT_INT, "{bad:?}");
        }
        // A raw string holding digits counts too, and becomes an int.
        h.run(&["SET", "r", "1"]);
        h.run(&["APPEND", "r", "2"]);
        assert_eq!(encoding(&mut h, "r"), "raw");
        assert_eq!(h.run(&["INCR", "r"]), ":13\r\n");
        assert_eq!(encoding(&mut h, "r"), "int");
    }

    #[test]
    fn incr_keeps_ttl() {
        let mut h = Harness::new();
        let t = now(&h);
        h.run(&["SET", "i", "1", "PX", "100"]);
        h.run(&["INCRBY", "i", "5"]);
        h.run(&["INCRBYFLOAT", "i", "0.5"]);
        assert_eq!(expire_at(&mut h, "i"), Some(t + 100));
    }

    #[test]
    fn incrbyfloat_matches_long_double_output() {
        let mut h = Harness::new();
        let nan_inf = "-ERR increment would produce NaN or Infinity\r\n";
        script(
            &mut h,
            &[
                (&["SET", "x", "10.50"], OK),
                (&["INCRBYFLOAT", "x", "0.1"], "$4\r\n10.6\r\n"),
                (
                    &["INCRBYFLOAT", "x", "5.0e3"],
                    "$22\r\n5010.60000000000000009\r\n",
                ),
                (&["INCRBYFLOAT", "x", "abc"], NOT_FLOAT),
                (&["INCRBYFLOAT", "x", "inf"], nan_inf),
                (&["INCRBYFLOAT", "x", "nan"], NOT_FLOAT),
                (&["INCRBYFLOAT", "x", " 1"], NOT_FLOAT),
                (&["SET", "h", "hello"], OK),
                (&["INCRBYFLOAT", "h", "1"], NOT_FLOAT),
                (&["INCRBYFLOAT", "newf", "3"], "$1\r\n3\r\n"),
                (&["INCRBYFLOAT", "newf", "-3"], "$1\r\n0\r\n"),
                (&["INCRBYFLOAT", "z", "0x10"], "$2\r\n16\r\n"),
                (&["INCRBYFLOAT", "w", "1e-5000"], NOT_FLOAT),
                (&["GET", "w"], NIL),
                (&["SET", "ii", "5"], OK),
                (&["INCRBYFLOAT", "ii", "1.25"], "$4\r\n6.25\r\n"),
                (&["SET", "y", "1.7976931348623157e308"], OK),
                (&["INCRBYFLOAT", "y", "1.7976931348623157e308"], {
                    "$309\r\n359538626972463139991842093548208868096772893888658356970628841530353257046248792709403737216774171128857586838851041378617416726902272110715794556052955234146997955372576789671236326588091188869859074894581254961338834769297758245552436667197907705664206565009503223382416235440319971852753604933726679072768\r\n"
                }),
            ],
        );
        // The text is stored as a string, never as an int.
        assert_eq!(encoding(&mut h, "newf"), "embstr");
        assert_eq!(encoding(&mut h, "y"), "raw");
    }

    #[test]
    fn incrbyfloat_propagates_as_set_keepttl() {
        let mut h = Harness::new();
        h.run(&["INCRBYFLOAT", "f", "2.5"]);
        assert_eq!(rewritten(&mut h), strs(&["SET", "f", "2.5", "KEEPTTL"]));
        h.run(&["INCRBYFLOAT", "f", "abc"]);
        assert_eq!(rewritten(&mut h), None);
    }

    #[test]
    fn lcs_outputs() {
        let mut h = Harness::new();
        h.run(&["MSET", "x", "ohmytext", "y", "mynewtext"]);
        let idx = "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n\
                   *2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n";
        script(
            &mut h,
            &[
                (&["LCS", "x", "y"], "$6\r\nmytext\r\n"),
                (&["LCS", "x", "y", "LEN"], ":6\r\n"),
                (&["LCS", "x", "y", "IDX"], idx),
                (&["LCS", "x", "y", "MINMATCHLEN", "-5", "IDX"], idx),
                (
                    &["LCS", "x", "y", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"],
                    "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n\
                     $3\r\nlen\r\n:6\r\n",
                ),
                (&["LCS", "nx", "ny"], "$0\r\n\r\n"),
                (&["LCS", "nx", "ny", "LEN"], ":0\r\n"),
                (
                    &["LCS", "nx", "ny", "IDX"],
                    "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n",
                ),
                (
                    &["LCS", "x", "y", "LEN", "IDX"],
                    "-ERR If you want both the length and indexes, please just use IDX.\r\n",
                ),
                (&["LCS", "x", "y", "MINMATCHLEN"], SYNTAX),
                (&["LCS", "x", "y", "MINMATCHLEN", "x"], NOT_INT),
                (&["LCS", "x", "y", "foo"], SYNTAX),
            ],
        );
    }

    #[test]
    fn lcs_idx_is_a_map_in_resp3() {
        let mut h = Harness::new();
        h.session.proto = Proto::Resp3;
        h.run(&["MSET", "a", "abc", "b", "xbc"]);
        assert_eq!(
            h.run(&["LCS", "a", "b", "IDX", "WITHMATCHLEN"]),
            "%2\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:1\r\n:2\r\n*2\r\n:1\r\n:2\r\n:2\r\n\
             $3\r\nlen\r\n:2\r\n"
        );
    }

    #[test]
    fn lcs_refuses_tables_beyond_proto_max_bulk_len() {
        let mut h = Harness::with_config(EngineConfig {
            proto_max_bulk_len: 1 << 20,
            ..EngineConfig::default()
        });
        // 512 * 512 cells * 4 bytes = 1 MiB: the limit itself is allowed.
        let a = "a".repeat(511);
        h.run(&["MSET", "a", &a, "b", &a]);
        assert_eq!(h.run(&["LCS", "a", "b", "LEN"]), ":511\r\n");
        h.run(&["APPEND", "a", "a"]);
        assert_eq!(
            h.run(&["LCS", "a", "b", "LEN"]),
            "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n"
        );
    }

    #[test]
    fn arity_errors_come_from_the_table() {
        let mut h = Harness::new();
        for (args, name) in [
            (&["GET"][..], "get"),
            (&["SET", "k"], "set"),
            (&["MGET"], "mget"),
            (&["MSET", "a"], "mset"),
            (&["GETRANGE", "k", "0"], "getrange"),
            (&["LCS", "a"], "lcs"),
            (&["INCRBYFLOAT", "k"], "incrbyfloat"),
        ] {
            assert_eq!(
                h.run(args),
                format!("-ERR wrong number of arguments for '{name}' command\r\n")
            );
        }
    }

    #[test]
    fn read_lookups_count_hits_and_misses() {
        let mut h = Harness::new();
        h.run(&["SET", "k", "v"]);
        h.run(&["GET", "k"]);
        h.run(&["MGET", "k", "nothing"]);
        h.run(&["INCR", "counter"]); // a write lookup: not counted
        h.run(&["GETEX", "nothing"]); // a write command, but a read lookup in Redis
        assert_eq!(h.engine.keyspace_hits(), 2);
        assert_eq!(h.engine.keyspace_misses(), 2);
    }
}
