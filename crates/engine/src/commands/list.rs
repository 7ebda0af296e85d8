//! List commands, as Redis 7.0.15's t_list.c: pushes (LPUSH RPUSH LPUSHX RPUSHX LINSERT),
//! pops (LPOP RPOP with COUNT, LMPOP, LMOVE, RPOPLPUSH), reads (LLEN LRANGE LINDEX LPOS),
//! edits (LSET LREM LTRIM), and the blocking forms (BLPOP BRPOP BLMPOP BLMOVE BRPOPLPUSH).
//!
//! Invariants:
//! - A handler that fails has written nothing: arguments and types are checked before the
//!   first byte of the reply, in Redis's order (which decides which error wins).
//! - A list in the keyspace is never empty: the command that removes the last element
//!   deletes the key and raises `del`, as `listElementsRemoved`.
//! - A new list key signals blocked clients (`ctx.signal_ready`), as Redis's `dbAdd` does;
//!   pushes to an existing list do not need to (nobody can be blocked on a non-empty list).
//! - Blocking commands follow [`crate::blocking`]: serve if any key has data, otherwise
//!   answer the timeout reply under `session.no_block`, otherwise set `engine.block` and
//!   write nothing. The server re-runs the same handler when a key becomes ready, so the
//!   serving path (and its propagation as LPOP/RPOP/LMOVE) is shared.
//! - `dirty` grows as `server.dirty`: one per pushed/popped/removed element.

use super::args::{Args, is_kw};
use super::{CmdFn, Ctx, bulk_lp};
use crate::blocking::{BlockKind, BlockRequest, TimeoutReply, parse_timeout};
use crate::error::{CmdError, CmdResult};
use crate::notify;
use crate::object::{ListValue, Value};
use crate::types::listpack::{LpValue, Where};
use crate::util::{parse_i64, parse_i64_in, parse_positive};
use resp::Reply;

pub const COMMANDS: &[(&str, CmdFn)] = &[
    ("lpush", lpush),
    ("rpush", rpush),
    ("lpushx", lpushx),
    ("rpushx", rpushx),
    ("linsert", linsert),
    ("llen", llen),
    ("lindex", lindex),
    ("lset", lset),
    ("lrange", lrange),
    ("ltrim", ltrim),
    ("lpos", lpos),
    ("lrem", lrem),
    ("lpop", lpop),
    ("rpop", rpop),
    ("lmpop", lmpop),
    ("rpoplpush", rpoplpush),
    ("lmove", lmove),
    ("blpop", blpop),
    ("brpop", brpop),
    ("blmpop", blmpop),
    ("brpoplpush", brpoplpush),
    ("blmove", blmove),
];

/// Redis's `LIST_MAX_ITEM_SIZE`.
const LIST_MAX_ITEM_SIZE: usize = (1 << 32) - 1024;
const ELEMENT_TOO_LARGE: CmdError = CmdError::Static("ERR Element too large");

#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Head,
    Tail,
}

impl End {
    fn pop_event(self) -> &'static str {
        match self {
            End::Head => "lpop",
            End::Tail => "rpop",
        }
    }
    fn push_event(self) -> &'static str {
        match self {
            End::Head => "lpush",
            End::Tail => "rpush",
        }
    }
    fn pop_cmd(self) -> &'static [u8] {
        match self {
            End::Head => b"LPOP",
            End::Tail => b"RPOP",
        }
    }
}

// ---------------------------------------------------------------------------------------
// Shared helpers

/// `lookupKeyRead` + `checkType(OBJ_LIST)`.
fn read_list<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<Option<&'c mut ListValue>, CmdError> {
    let now = ctx.engine.now_ms();
    match ctx.engine.dbs[ctx.session.db].lookup_read(key, now) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::List(l) => Ok(Some(l)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// `lookupKeyWrite` + `checkType(OBJ_LIST)`.
fn write_list<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<Option<&'c mut ListValue>, CmdError> {
    let now = ctx.engine.now_ms();
    match ctx.engine.dbs[ctx.session.db].lookup_write(key, now) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::List(l) => Ok(Some(l)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// Whether `key` holds a non-empty list (WRONGTYPE for another type), as a write lookup.
fn list_len_write(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<usize>, CmdError> {
    Ok(write_list(ctx, key)?.map(|l| l.len()))
}

/// `getListPositionFromObjectOrReply`: LEFT or RIGHT.
fn parse_end(arg: &[u8]) -> Result<End, CmdError> {
    if is_kw(arg, "left") {
        Ok(End::Head)
    } else if is_kw(arg, "right") {
        Ok(End::Tail)
    } else {
        Err(CmdError::Syntax)
    }
}

/// `addListRangeReply`: elements `start..=end` (already clamped by the caller's rules), or
/// from the tail backwards when `reverse`.
fn reply_range(out: &mut Reply<'_>, l: &ListValue, start: usize, n: usize, reverse: bool) {
    out.array(n);
    let q = l.ql();
    if reverse {
        // Elements start..start+n, tail first.
        let skip = q.len() - (start + n);
        for v in q.iter().rev().skip(skip).take(n) {
            bulk_lp(out, v);
        }
    } else {
        for v in q.iter_from(start).take(n) {
            bulk_lp(out, v);
        }
    }
}

/// Deletes `key` if its list became empty, raising `del`; returns whether it did.
fn delete_if_empty(ctx: &mut Ctx<'_>, key: &[u8], now_empty: bool) -> bool {
    if now_empty {
        let now = ctx.engine.now_ms();
        ctx.engine.dbs[ctx.session.db].delete(key, now);
        ctx.notify(notify::GENERIC, "del", key);
    }
    now_empty
}

/// `listElementsRemoved`: the pop event, deletion of an emptied key, WATCH, dirty.
fn elements_removed(ctx: &mut Ctx<'_>, key: &[u8], end: End, now_empty: bool, count: usize) {
    ctx.notify(notify::LIST, end.pop_event(), key);
    delete_if_empty(ctx, key, now_empty);
    ctx.signal_modified(key);
    ctx.engine.dirty += count as u64;
}

/// Pops up to `count` elements from `end` of the (non-empty) list at `key` and replies them
/// as an array (tail first for the tail): the ranged pop of LPOP/RPOP COUNT, LMPOP, BLMPOP.
/// Returns how many were popped.
fn pop_range_reply(ctx: &mut Ctx<'_>, key: &[u8], end: End, count: usize) -> usize {
    let now = ctx.engine.now_ms();
    let db = &mut ctx.engine.dbs[ctx.session.db];
    let Some(Value::List(l)) = db.lookup_notouch(key, now).map(|e| &mut e.value) else {
        return 0;
    };
    let len = l.len();
    let n = count.min(len);
    let start = if end == End::Head { 0 } else { len - n };
    reply_range(&mut ctx.out, l, start, n, end == End::Tail);
    l.ql_mut().delete_range(start as i64, n);
    let empty = l.is_empty();
    elements_removed(ctx, key, end, empty, n);
    n
}

/// Pops one element from `end` of the list at `key` (one write lookup) and replies it as a
/// bulk, after `[key,` when `with_key` (BLPOP/BRPOP). Ok(false) when the key is missing.
fn pop_one(ctx: &mut Ctx<'_>, key: &[u8], end: End, with_key: bool) -> Result<bool, CmdError> {
    let now = ctx.engine.now_ms();
    let db = &mut ctx.engine.dbs[ctx.session.db];
    let l = match db.lookup_write(key, now) {
        None => return Ok(false),
        Some(e) => match &mut e.value {
            Value::List(l) => l,
            _ => return Err(CmdError::WrongType),
        },
    };
    let out = &mut ctx.out;
    if with_key {
        out.array(2);
        out.bulk(key);
    }
    let q = l.ql_mut();
    match end {
        End::Head => q.pop_front_with(|v| bulk_lp(out, v)),
        End::Tail => q.pop_back_with(|v| bulk_lp(out, v)),
    };
    let empty = l.is_empty();
    elements_removed(ctx, key, end, empty, 1);
    Ok(true)
}

fn push_all(l: &mut ListValue, end: End, vals: &[&[u8]]) {
    let q = l.ql_mut();
    for v in vals {
        match end {
            End::Head => q.push_front(v),
            End::Tail => q.push_back(v),
        }
    }
}

/// Pushes `vals` at `end` of `key`'s list, creating it (and signalling blocked clients)
/// when missing. Returns the new length. The caller checked the type.
fn push_values(ctx: &mut Ctx<'_>, key: &[u8], end: End, vals: &[&[u8]]) -> usize {
    let now = ctx.engine.now_ms();
    let fill = ctx.engine.config.list_max_listpack_size;
    let db = &mut ctx.engine.dbs[ctx.session.db];
    let created = !matches!(
        db.lookup_notouch(key, now).map(|e| &e.value),
        Some(Value::List(_))
    );
    if created {
        db.set(key, Value::List(Box::new(ListValue::new(fill))), false);
    }
    let Some(Value::List(l)) = db.lookup_notouch(key, now).map(|e| &mut e.value) else {
        return 0;
    };
    push_all(l, end, vals);
    let len = l.len();
    if created {
        ctx.signal_ready(key);
    }
    len
}

// ---------------------------------------------------------------------------------------
// Pushes

/// # Format
/// `LPUSH key element [element ...]`
/// # Returns
/// The length of the list after the push.
fn lpush(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    push_generic(ctx, args, End::Head, false)
}

/// `RPUSH key element [element ...]`
fn rpush(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    push_generic(ctx, args, End::Tail, false)
}

/// `LPUSHX key element [element ...]`: only onto an existing list (0 otherwise).
fn lpushx(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    push_generic(ctx, args, End::Head, true)
}

/// `RPUSHX key element [element ...]`
fn rpushx(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    push_generic(ctx, args, End::Tail, true)
}

/// `pushGenericCommand`.
fn push_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], end: End, xx: bool) -> CmdResult {
    if args[2..].iter().any(|a| a.len() > LIST_MAX_ITEM_SIZE) {
        return Err(ELEMENT_TOO_LARGE);
    }
    let key = args[1];
    let vals = &args[2..];
    let now = ctx.engine.now_ms();
    let fill = ctx.engine.config.list_max_listpack_size;
    let db = &mut ctx.engine.dbs[ctx.session.db];
    // One lookup on the hot path (existing list); a new list costs one more (the insert).
    let len = match db.lookup_write(key, now) {
        Some(e) => match &mut e.value {
            Value::List(l) => {
                push_all(l, end, vals);
                l.len()
            }
            _ => return Err(CmdError::WrongType),
        },
        None if xx => {
            ctx.out.int(0);
            return Ok(());
        }
        None => {
            let mut l = ListValue::new(fill);
            push_all(&mut l, end, vals);
            let n = l.len();
            db.set(key, Value::List(Box::new(l)), false);
            ctx.signal_ready(key);
            n
        }
    };
    ctx.engine.dirty += (args.len() - 2) as u64;
    ctx.out.int(len as i64);
    ctx.signal_modified(key);
    ctx.notify(notify::LIST, end.push_event(), key);
    Ok(())
}

/// # Format
/// `LINSERT key BEFORE|AFTER pivot element`
/// # Returns
/// The new length, -1 when the pivot is not found, 0 when the key is missing.
fn linsert(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let at = if is_kw(args[2], "after") {
        Where::After
    } else if is_kw(args[2], "before") {
        Where::Before
    } else {
        return Err(CmdError::Syntax);
    };
    if args[4].len() > LIST_MAX_ITEM_SIZE {
        return Err(ELEMENT_TOO_LARGE);
    }
    let key = args[1];
    let Some(l) = write_list(ctx, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let pivot = args[3];
    let Some(pos) = l.ql().iter().position(|v| v.eq_bytes(pivot)) else {
        ctx.out.int(-1);
        return Ok(());
    };
    l.ql_mut().insert(pos as i64, at, args[4]);
    let len = l.len();
    ctx.signal_modified(key);
    ctx.notify(notify::LIST, "linsert", key);
    ctx.engine.dirty += 1;
    ctx.out.int(len as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Reads

/// # Format
/// `LLEN key`
fn llen(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let n = read_list(ctx, args[1])?.map_or(0, |l| l.len());
    ctx.out.int(n as i64);
    Ok(())
}

/// # Format
/// `LINDEX key index` (negative counts from the tail)
/// # Returns
/// The element, or null when out of range or the key is missing.
fn lindex(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    // Redis looks the key up before parsing the index: a missing key answers null whatever
    // the index says.
    let now = ctx.engine.now_ms();
    let l = match ctx.engine.dbs[ctx.session.db].lookup_read(args[1], now) {
        None => {
            ctx.out.null();
            return Ok(());
        }
        Some(e) => match &e.value {
            Value::List(l) => l,
            _ => return Err(CmdError::WrongType),
        },
    };
    let index = parse_i64(args[2])?;
    match l.ql().get(index) {
        Some(v) => bulk_lp(&mut ctx.out, v),
        None => ctx.out.null(),
    }
    Ok(())
}

/// `LRANGE`/`LTRIM` index normalisation: the kept range as (start, count), or None when
/// empty.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    crate::util::rank_range(start, end, len).map(|(s, e)| (s, e - s + 1))
}

/// # Format
/// `LRANGE key start stop`
fn lrange(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let start = parse_i64(args[2])?;
    let end = parse_i64(args[3])?;
    let now = ctx.engine.now_ms();
    let l = match ctx.engine.dbs[ctx.session.db].lookup_read(args[1], now) {
        None => {
            ctx.out.array(0);
            return Ok(());
        }
        Some(e) => match &e.value {
            Value::List(l) => l,
            _ => return Err(CmdError::WrongType),
        },
    };
    match clamp_range(start, end, l.len()) {
        Some((s, n)) => reply_range(&mut ctx.out, l, s, n, false),
        None => ctx.out.array(0),
    }
    Ok(())
}

/// # Format
/// `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]`
/// # Returns
/// The first matching index (or null); with COUNT an array of indexes.
fn lpos(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let ele = args[2];
    let mut rank: i64 = 1;
    let mut count: i64 = -1;
    let mut maxlen: i64 = 0;
    let mut opts = Args::new(args, 3);
    while !opts.is_empty() {
        if opts.eat_with("rank", 1) {
            rank = opts.int()?;
            if rank == 0 {
                return Err(CmdError::Static(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                ));
            }
        } else if opts.eat_with("count", 1) {
            count = opts.int_in(0, i64::MAX, Some("ERR COUNT can't be negative"))?;
        } else if opts.eat_with("maxlen", 1) {
            maxlen = opts.int_in(0, i64::MAX, Some("ERR MAXLEN can't be negative"))?;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let from_tail = rank < 0;
    // Redis negates a negative rank in a C long: LONG_MIN stays negative, so every match
    // qualifies and a COUNT never completes (checked against 7.0.15).
    let unbounded = rank == i64::MIN;
    let rank = if unbounded { 1 } else { rank.unsigned_abs() };
    let Some(l) = read_list(ctx, args[1])? else {
        if count != -1 {
            ctx.out.array(0);
        } else {
            ctx.out.null();
        }
        return Ok(());
    };
    let q = l.ql();
    let len = q.len();
    let limit = if maxlen == 0 {
        len
    } else {
        (maxlen as usize).min(len)
    };
    let mut matches: u64 = 0;
    let mut found: Vec<i64> = Vec::new();
    let mut first: Option<i64> = None;
    let mut check = |index: usize, v: LpValue<'_>| -> bool {
        if !v.eq_bytes(ele) {
            return false;
        }
        matches += 1;
        if matches < rank {
            return false;
        }
        let pos = if from_tail { len - index - 1 } else { index } as i64;
        if count == -1 {
            first = Some(pos);
            return true;
        }
        found.push(pos);
        count != 0 && !unbounded && matches - rank + 1 >= count as u64
    };
    if from_tail {
        for (i, v) in q.iter().rev().take(limit).enumerate() {
            if check(i, v) {
                break;
            }
        }
    } else {
        for (i, v) in q.iter().take(limit).enumerate() {
            if check(i, v) {
                break;
            }
        }
    }
    if count != -1 {
        ctx.out.array(found.len());
        for p in found {
            ctx.out.int(p);
        }
    } else {
        match first {
            Some(p) => ctx.out.int(p),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Edits

/// # Format
/// `LSET key index element`
fn lset(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    if args[3].len() > LIST_MAX_ITEM_SIZE {
        return Err(ELEMENT_TOO_LARGE);
    }
    let key = args[1];
    let Some(l) = write_list(ctx, key)? else {
        return Err(CmdError::NoSuchKey);
    };
    let index = parse_i64(args[2])?;
    if !l.ql_mut().replace(index, args[3]) {
        return Err(CmdError::IndexOutOfRange);
    }
    ctx.out.ok();
    ctx.signal_modified(key);
    ctx.notify(notify::LIST, "lset", key);
    ctx.engine.dirty += 1;
    Ok(())
}

/// # Format
/// `LTRIM key start stop`
fn ltrim(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let start = parse_i64(args[2])?;
    let end = parse_i64(args[3])?;
    let key = args[1];
    let Some(l) = write_list(ctx, key)? else {
        ctx.out.ok();
        return Ok(());
    };
    let len = l.len();
    let (ltrim, rtrim) = match clamp_range(start, end, len) {
        Some((s, n)) => (s, len - s - n),
        None => (0, len),
    };
    let q = l.ql_mut();
    q.delete_range(0, ltrim);
    if rtrim > 0 {
        q.delete_range(-(rtrim as i64), rtrim);
    }
    let empty = l.is_empty();
    ctx.notify(notify::LIST, "ltrim", key);
    delete_if_empty(ctx, key, empty);
    ctx.signal_modified(key);
    ctx.engine.dirty += (ltrim + rtrim) as u64;
    ctx.out.ok();
    Ok(())
}

/// # Format
/// `LREM key count element`: count > 0 from the head, < 0 from the tail, 0 all.
fn lrem(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let toremove = parse_i64(args[2])?;
    let key = args[1];
    let Some(l) = write_list(ctx, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let ele = args[3];
    let limit = if toremove == 0 {
        usize::MAX
    } else {
        usize::try_from(toremove.unsigned_abs()).unwrap_or(usize::MAX)
    };
    let removed = l
        .ql_mut()
        .remove_matching(toremove < 0, limit, |v| v.eq_bytes(ele));
    let empty = l.is_empty();
    ctx.engine.dirty += removed as u64;
    if removed > 0 {
        ctx.signal_modified(key);
        ctx.notify(notify::LIST, "lrem", key);
    }
    delete_if_empty(ctx, key, empty);
    ctx.out.int(removed as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Pops

/// # Format
/// `LPOP key [count]`
/// # Returns
/// One element (null if missing), or with a count an array (null array if missing).
fn lpop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    pop_generic(ctx, args, End::Head)
}

/// `RPOP key [count]`
fn rpop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    pop_generic(ctx, args, End::Tail)
}

/// `popGenericCommand`.
fn pop_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], end: End) -> CmdResult {
    if args.len() > 3 {
        // The table's arity is -2; Redis rejects a third argument in the command.
        return Err(CmdError::WrongArity(end.pop_event().to_string()));
    }
    let count = match args.get(2) {
        Some(a) => Some(parse_positive(a)?),
        None => None,
    };
    let key = args[1];
    let Some(count) = count else {
        if !pop_one(ctx, key, end, false)? {
            ctx.out.null();
        }
        return Ok(());
    };
    if list_len_write(ctx, key)?.is_none() {
        ctx.out.null_array();
        return Ok(());
    }
    if count == 0 {
        ctx.out.array(0);
    } else {
        pop_range_reply(ctx, key, end, usize::try_from(count).unwrap_or(usize::MAX));
    }
    Ok(())
}

/// LMPOP/BLMPOP arguments after the timeout: `numkeys key [key ...] LEFT|RIGHT [COUNT n]`.
/// Returns (keys, end, count).
fn parse_mpop<'a>(
    args: &[&'a [u8]],
    numkeys_idx: usize,
) -> Result<(Vec<&'a [u8]>, End, usize), CmdError> {
    let msg = "ERR numkeys should be greater than 0";
    let numkeys = parse_i64_in(args[numkeys_idx], 1, i64::MAX, Some(msg))? as u64;
    let where_idx = (numkeys_idx as u64)
        .saturating_add(numkeys)
        .saturating_add(1);
    if where_idx >= args.len() as u64 {
        return Err(CmdError::Syntax);
    }
    let where_idx = where_idx as usize;
    let end = parse_end(args[where_idx])?;
    let mut count: i64 = -1;
    let mut opts = Args::new(args, where_idx + 1);
    while !opts.is_empty() {
        // A second COUNT is a syntax error, as in Redis.
        if count == -1 && opts.eat_with("count", 1) {
            count = opts.int_in(1, i64::MAX, Some("ERR count should be greater than 0"))?;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let count = if count == -1 { 1 } else { count as usize };
    Ok((args[numkeys_idx + 1..where_idx].to_vec(), end, count))
}

/// # Format
/// `LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]`
/// # Returns
/// `[key, [elements...]]` for the first non-empty list, or a null array.
fn lmpop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (keys, end, count) = parse_mpop(args, 1)?;
    if !mpop_first(ctx, &keys, end, count)? {
        ctx.out.null_array();
    }
    Ok(())
}

/// Pops from the first non-empty list of `keys` (WRONGTYPE stops the scan at that key) and
/// replies `[key, [elements]]`, propagated as LPOP/RPOP key n. False if all were empty.
fn mpop_first(ctx: &mut Ctx<'_>, keys: &[&[u8]], end: End, count: usize) -> Result<bool, CmdError> {
    for &key in keys {
        let Some(len) = list_len_write(ctx, key)? else {
            continue;
        };
        ctx.out.array(2);
        ctx.out.bulk(key);
        pop_range_reply(ctx, key, end, count);
        let mut b = [0u8; 20];
        let n = resp::num::fmt_i64(count.min(len) as i64, &mut b);
        ctx.engine.propagation.rewrite(&[end.pop_cmd(), key, n]);
        return Ok(true);
    }
    Ok(false)
}

/// # Format
/// `RPOPLPUSH source destination`
fn rpoplpush(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    move_generic(ctx, args[1], args[2], End::Tail, End::Head)
}

/// # Format
/// `LMOVE source destination LEFT|RIGHT LEFT|RIGHT`
fn lmove(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let from = parse_end(args[3])?;
    let to = parse_end(args[4])?;
    move_generic(ctx, args[1], args[2], from, to)
}

/// `lmoveGenericCommand`: null when the source is missing.
fn move_generic(ctx: &mut Ctx<'_>, src: &[u8], dst: &[u8], from: End, to: End) -> CmdResult {
    if list_len_write(ctx, src)?.is_none() {
        ctx.out.null();
        return Ok(());
    }
    move_existing(ctx, src, dst, from, to)
}

/// Moves one element from the non-empty list `src` to `dst` and replies it.
fn move_existing(ctx: &mut Ctx<'_>, src: &[u8], dst: &[u8], from: End, to: End) -> CmdResult {
    if src != dst {
        // The destination's type is checked before anything is popped.
        list_len_write(ctx, dst)?;
    }
    let now = ctx.engine.now_ms();
    let db = &mut ctx.engine.dbs[ctx.session.db];
    let Some(Value::List(l)) = db.lookup_notouch(src, now).map(|e| &mut e.value) else {
        return Ok(());
    };
    // Owned: the value must outlive the source node it came from when src == dst.
    let value = match from {
        End::Head => l.ql_mut().pop_front(),
        End::Tail => l.ql_mut().pop_back(),
    };
    let Some(value) = value else {
        return Ok(());
    };
    let src_empty = l.is_empty() && src != dst;
    // lmoveHandlePush: create (signalling), WATCH, push, event, reply.
    push_values(ctx, dst, to, &[&value]);
    ctx.signal_modified(dst);
    ctx.notify(notify::LIST, to.push_event(), dst);
    ctx.out.bulk(&value);
    ctx.notify(notify::LIST, from.pop_event(), src);
    delete_if_empty(ctx, src, src_empty);
    ctx.signal_modified(src);
    ctx.engine.dirty += 1;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Blocking forms

/// # Format
/// `BLPOP key [key ...] timeout`
/// # Returns
/// `[key, element]`, or a null array on timeout.
fn blpop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let n = args.len();
    blocking_pop(ctx, &args[1..n - 1], args[n - 1], End::Head, None)
}

/// `BRPOP key [key ...] timeout`
fn brpop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let n = args.len();
    blocking_pop(ctx, &args[1..n - 1], args[n - 1], End::Tail, None)
}

/// # Format
/// `BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]`
fn blmpop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (keys, end, count) = parse_mpop(args, 2)?;
    blocking_pop(ctx, &keys, args[1], end, Some(count))
}

/// `blockingPopGenericCommand`: `count` is None for BLPOP/BRPOP (reply `[key, element]`),
/// Some for BLMPOP (reply `[key, [elements]]`).
fn blocking_pop(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
    timeout: &[u8],
    end: End,
    count: Option<usize>,
) -> CmdResult {
    let deadline = parse_timeout(timeout, ctx.engine.now_ms())?;
    for &key in keys {
        if !ctx.engine.serves(key) {
            continue;
        }
        if let Some(count) = count {
            if mpop_first(ctx, &[key], end, count)? {
                return Ok(());
            }
        } else if pop_one(ctx, key, end, true)? {
            ctx.engine.propagation.rewrite(&[end.pop_cmd(), key]);
            return Ok(());
        }
    }
    block_or_timeout(ctx, keys, deadline, TimeoutReply::NullArray);
    Ok(())
}

/// Nothing to serve: `now_reply` at once when blocking is not allowed, else a block request
/// for the server. A list waiter that times out always gets a null array (Redis 7.0's
/// `replyToBlockedClientTimedOut`), even BLMOVE, whose immediate answer is a null bulk.
fn block_or_timeout(ctx: &mut Ctx<'_>, keys: &[&[u8]], deadline: i64, now_reply: TimeoutReply) {
    if ctx.session.no_block {
        match now_reply {
            TimeoutReply::NullArray => ctx.out.null_array(),
            TimeoutReply::NullBulk => ctx.out.null(),
        }
        return;
    }
    ctx.engine.block = Some(BlockRequest {
        keys: keys.iter().map(|k| k.to_vec()).collect(),
        timeout_at_ms: deadline,
        timeout_reply: TimeoutReply::NullArray,
        kind: BlockKind::List,
        stream: None,
        argv: None,
    });
}

/// # Format
/// `BRPOPLPUSH source destination timeout`
fn brpoplpush(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let deadline = parse_timeout(args[3], ctx.engine.now_ms())?;
    blocking_move(ctx, args, End::Tail, End::Head, deadline)
}

/// # Format
/// `BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout`
fn blmove(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let from = parse_end(args[3])?;
    let to = parse_end(args[4])?;
    let deadline = parse_timeout(args[5], ctx.engine.now_ms())?;
    blocking_move(ctx, args, from, to, deadline)
}

/// `blmoveGenericCommand`; a served BLMOVE propagates as LMOVE, BRPOPLPUSH as RPOPLPUSH.
fn blocking_move(
    ctx: &mut Ctx<'_>,
    args: &[&[u8]],
    from: End,
    to: End,
    deadline: i64,
) -> CmdResult {
    let (src, dst) = (args[1], args[2]);
    if list_len_write(ctx, src)?.is_none() {
        block_or_timeout(ctx, &[src], deadline, TimeoutReply::NullBulk);
        return Ok(());
    }
    move_existing(ctx, src, dst, from, to)?;
    if args.len() == 6 {
        ctx.engine
            .propagation
            .rewrite(&[b"LMOVE", src, dst, args[3], args[4]]);
    } else {
        ctx.engine.propagation.rewrite(&[b"RPOPLPUSH", src, dst]);
    }
    Ok(())
}

#[cfg(test)]
#[path = "list_tests.rs"]
mod tests;
