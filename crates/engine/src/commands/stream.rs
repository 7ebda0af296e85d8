//! Stream commands, as Redis 7.0.15's t_stream.c: XADD, XRANGE, XREVRANGE, XLEN, XDEL,
//! XTRIM, XSETID, XREAD, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM, XGROUP and XINFO,
//! over the node layout of [`crate::types::stream`].
//!
//! Invariants:
//! - Writes touch WATCH (`signal_modified`), raise Redis's `xadd`/`xtrim`/`xdel`/`xsetid`/
//!   `xgroup-*` events (class `t`) and count `dirty` as Redis does.
//! - Propagation is deterministic: XADD carries the generated ID (and an approximate trim
//!   its exact outcome), XREADGROUP/XCLAIM/XAUTOCLAIM are not propagated themselves but as
//!   the XCLAIM … / XGROUP SETID … commands Redis's `streamPropagateXCLAIM` and
//!   `streamPropagateGroupID` emit.
//! - XADD signals blocked readers (`signal_ready`); XGROUP DESTROY too (its XREADGROUP
//!   waiters get `-NOGROUP`), and any change to a waited key (deletion gives XREADGROUP
//!   waiters `-UNBLOCKED`, see [`crate::blocking::stream_wait_state`]).

use super::{CmdFn, Ctx, bulk_lp};
use crate::blocking::{BlockKind, BlockRequest, StreamWait, TimeoutReply};
use crate::engine::Engine;
use crate::error::{CmdError, CmdResult};
use crate::notify;
use crate::object::Value;
use crate::types::stream::{
    AppendError, Consumer, ConsumerGroup, Fields, INVALID_ENTRIES_READ, NodeLimits, PendingEntry,
    Stream, StreamId, TrimStrategy, parse_id,
};
use crate::util::{eq_ic, parse_i64, reply_help};
use resp::Reply;

pub const COMMANDS: &[(&str, CmdFn)] = &[
    ("xadd", xadd),
    ("xrange", xrange),
    ("xrevrange", xrevrange),
    ("xlen", xlen),
    ("xdel", xdel),
    ("xtrim", xtrim),
    ("xsetid", xsetid),
    ("xread", xread),
    ("xreadgroup", xreadgroup),
    ("xack", xack),
    ("xpending", xpending),
    ("xclaim", xclaim),
    ("xautoclaim", xautoclaim),
    ("xgroup", xgroup),
    ("xinfo", xinfo),
];

const INVALID_ID: CmdError =
    CmdError::Static("ERR Invalid stream ID specified as stream command argument");
const BAD_START: CmdError = CmdError::Static("ERR invalid start ID for the interval");
const BAD_END: CmdError = CmdError::Static("ERR invalid end ID for the interval");
/// `XREAD_BLOCKED_DEFAULT_COUNT`: a blocked reader without COUNT is served this many.
const BLOCKED_DEFAULT_COUNT: usize = 1000;

fn strict_id(arg: &[u8]) -> Result<StreamId, CmdError> {
    parse_id(arg, 0, true, false)
        .map(|p| p.id)
        .ok_or(INVALID_ID)
}

/// `streamParseIntervalIDOrReply`: `(id` is exclusive (strict after the paren).
fn interval_id(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), CmdError> {
    if arg.len() > 1 && arg[0] == b'(' {
        let p = parse_id(&arg[1..], missing_seq, true, false).ok_or(INVALID_ID)?;
        Ok((p.id, true))
    } else {
        let p = parse_id(arg, missing_seq, false, false).ok_or(INVALID_ID)?;
        Ok((p.id, false))
    }
}

fn start_id(arg: &[u8]) -> Result<StreamId, CmdError> {
    let (id, ex) = interval_id(arg, 0)?;
    if ex {
        id.incr().ok_or(BAD_START)
    } else {
        Ok(id)
    }
}

fn end_id(arg: &[u8]) -> Result<StreamId, CmdError> {
    let (id, ex) = interval_id(arg, u64::MAX)?;
    if ex { id.decr().ok_or(BAD_END) } else { Ok(id) }
}

fn nogroup_key(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::Owned(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        crate::util::lossy_c_str(key),
        crate::util::lossy_c_str(group)
    ))
}

fn nogroup_for_key(group: &[u8], key: &[u8]) -> CmdError {
    CmdError::Owned(format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        crate::util::lossy_c_str(group),
        crate::util::lossy_c_str(key)
    ))
}

fn subcommand_syntax(cmd: &str, sub: &[u8]) -> CmdError {
    CmdError::Owned(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        crate::util::lossy_trunc(sub, 128),
        cmd
    ))
}

#[inline]
pub(crate) fn reply_id(out: &mut Reply<'_>, id: StreamId) {
    let mut b = [0u8; 48];
    out.bulk(id.format(&mut b));
}

/// One entry: `[id, [field, value, ...]]`.
#[inline]
fn reply_entry(out: &mut Reply<'_>, id: StreamId, pairs: &Fields<'_>) {
    out.array(2);
    reply_id(out, id);
    out.array(pairs.len() * 2);
    for (f, v) in pairs {
        bulk_lp(out, *f);
        bulk_lp(out, *v);
    }
}

/// Inserts an aggregate header for `n` items at `pos` (Redis's deferred lengths): an
/// array, or a map (RESP3 `%`, a flat array of twice the length in RESP2).
fn set_deferred(out: &mut Reply<'_>, pos: usize, n: usize, map: bool) {
    let (prefix, len) = match (map, out.resp3()) {
        (true, true) => (b'%', n),
        (true, false) => (b'*', n * 2),
        _ => (b'*', n),
    };
    let mut digits = [0u8; 20];
    let d = resp::num::fmt_u64(len as u64, &mut digits);
    let mut hdr = [0u8; 23];
    hdr[0] = prefix;
    hdr[1..1 + d.len()].copy_from_slice(d);
    hdr[1 + d.len()..3 + d.len()].copy_from_slice(b"\r\n");
    out.buf.splice(pos..pos, hdr[..3 + d.len()].iter().copied());
}

/// Writes live entries of `start..=end` (count 0 = all) without a header; returns how many.
fn write_range(
    out: &mut Reply<'_>,
    st: &Stream,
    start: StreamId,
    end: StreamId,
    count: usize,
    rev: bool,
    ids: Option<&mut Vec<StreamId>>,
) -> usize {
    let mut n = 0;
    let mut ids = ids;
    st.range(start, end, rev, &mut |id, pairs| {
        reply_entry(out, id, pairs);
        if let Some(v) = ids.as_deref_mut() {
            v.push(id);
        }
        n += 1;
        count == 0 || n < count
    });
    n
}

/// An array of the entries of `start..=end`.
fn reply_range(
    out: &mut Reply<'_>,
    st: &Stream,
    start: StreamId,
    end: StreamId,
    count: usize,
    rev: bool,
) -> usize {
    let pos = out.buf.len();
    let n = write_range(out, st, start, end, count, rev, None);
    set_deferred(out, pos, n, false);
    n
}

fn lookup_read<'e>(
    engine: &'e mut Engine,
    db: usize,
    key: &[u8],
) -> Result<Option<&'e mut Stream>, CmdError> {
    let now = engine.now_ms();
    match engine.dbs[db].lookup_read(key, now) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Stream(s) => Ok(Some(s)),
            _ => Err(CmdError::WrongType),
        },
    }
}

fn lookup_write<'e>(
    engine: &'e mut Engine,
    db: usize,
    key: &[u8],
) -> Result<Option<&'e mut Stream>, CmdError> {
    let now = engine.now_ms();
    match engine.dbs[db].lookup_write(key, now) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Stream(s) => Ok(Some(s)),
            _ => Err(CmdError::WrongType),
        },
    }
}

fn node_limits(ctx: &Ctx<'_>) -> NodeLimits {
    ctx.engine.config.stream_node_limits
}

// ---------------------------------------------------------------------------------------
// XADD / XTRIM
// ---------------------------------------------------------------------------------------

/// `streamAddTrimArgs`.
struct TrimArgs {
    strategy: Option<TrimStrategy>,
    approx: bool,
    limit: i64,
    /// Index of the MAXLEN/MINID value (for the rewrite).
    arg_idx: usize,
    id: Option<crate::types::stream::ParsedId>,
    no_mkstream: bool,
}

/// `streamParseAddOrTrimArgsOrReply`: returns the parsed options and the index of the ID
/// (XADD) or the end.
fn parse_add_trim(
    args: &[&[u8]],
    xadd: bool,
    max_entries: i64,
    obey: bool,
) -> Result<(TrimArgs, usize), CmdError> {
    let mut t = TrimArgs {
        strategy: None,
        approx: false,
        limit: 0,
        arg_idx: 0,
        id: None,
        no_mkstream: false,
    };
    let mut limit_given = false;
    let mut i = 2;
    const BOTH: CmdError = CmdError::Static(
        "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
    );
    while i < args.len() {
        let moreargs = args.len() - 1 - i;
        let opt = args[i];
        if xadd && crate::util::c_str(opt) == b"*" {
            break;
        } else if eq_ic(opt, "maxlen") && moreargs > 0 {
            if t.strategy.is_some() {
                return Err(BOTH);
            }
            t.approx = false;
            let next = crate::util::c_str(args[i + 1]);
            if moreargs >= 2 && next == b"~" {
                t.approx = true;
                i += 1;
            } else if moreargs >= 2 && next == b"=" {
                i += 1;
            }
            let maxlen = parse_i64(args[i + 1])?;
            if maxlen < 0 {
                return Err(CmdError::Static("ERR The MAXLEN argument must be >= 0."));
            }
            i += 1;
            t.strategy = Some(TrimStrategy::MaxLen(maxlen as u64));
            t.arg_idx = i;
        } else if eq_ic(opt, "minid") && moreargs > 0 {
            if t.strategy.is_some() {
                return Err(BOTH);
            }
            t.approx = false;
            let next = crate::util::c_str(args[i + 1]);
            if moreargs >= 2 && next == b"~" {
                t.approx = true;
                i += 1;
            } else if moreargs >= 2 && next == b"=" {
                i += 1;
            }
            let minid = strict_id(args[i + 1])?;
            i += 1;
            t.strategy = Some(TrimStrategy::MinId(minid));
            t.arg_idx = i;
        } else if eq_ic(opt, "limit") && moreargs > 0 {
            t.limit = parse_i64(args[i + 1])?;
            if t.limit < 0 {
                return Err(CmdError::Static("ERR The LIMIT argument must be >= 0."));
            }
            limit_given = true;
            i += 1;
        } else if xadd && eq_ic(opt, "nomkstream") {
            t.no_mkstream = true;
        } else if xadd {
            t.id = Some(parse_id(opt, 0, true, true).ok_or(INVALID_ID)?);
            break;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if t.limit != 0 && t.strategy.is_none() {
        return Err(CmdError::Static(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && t.strategy.is_none() {
        return Err(CmdError::Static(
            "ERR syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if obey {
        t.limit = 0;
    } else if limit_given {
        if !t.approx {
            return Err(CmdError::Static(
                "ERR syntax error, LIMIT cannot be used without the special ~ option",
            ));
        }
    } else if t.approx {
        t.limit = max_entries.saturating_mul(100);
        if t.limit <= 0 || t.limit > 1_000_000 {
            t.limit = 10_000;
        }
    } else {
        t.limit = 0;
    }
    Ok((t, i))
}

/// After an approximate trim, the propagated command says exactly what remains
/// (`streamRewriteApproxSpecifier` + `streamRewriteTrimArgument`).
fn trim_rewrite(argv: &mut [Vec<u8>], st: &Stream, t: &TrimArgs) {
    argv[t.arg_idx - 1] = b"=".to_vec();
    argv[t.arg_idx] = match t.strategy {
        Some(TrimStrategy::MaxLen(_)) => st.length.to_string().into_bytes(),
        _ => st.edge_id(true, false).unwrap_or(StreamId::MAX).to_vec(),
    };
}

/// # Format
/// `XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value
/// [field value ...]`
/// # Returns
/// The added entry's ID, or null with NOMKSTREAM on a missing key.
fn xadd(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let limits = node_limits(ctx);
    let (t, idpos) = parse_add_trim(args, true, limits.max_entries, ctx.session.obey)?;
    let field_pos = idpos + 1;
    let nf = args.len().saturating_sub(field_pos);
    if nf < 2 || nf % 2 == 1 {
        return Err(CmdError::WrongArity("xadd".into()));
    }
    if let Some(p) = t.id
        && p.seq_given
        && p.id.is_zero()
    {
        return Err(CmdError::Static(
            "ERR The ID specified in XADD must be greater than 0-0",
        ));
    }
    let key = args[1];
    let now = ctx.now_ms();
    let db = &mut ctx.engine.dbs[ctx.session.db];
    let exists = match db.lookup_write(key, now) {
        Some(e) => match &e.value {
            Value::Stream(_) => true,
            _ => return Err(CmdError::WrongType),
        },
        None => false,
    };
    if !exists {
        if t.no_mkstream {
            ctx.out.null();
            return Ok(());
        }
        db.set(key, Value::Stream(Box::default()), false);
    }
    let Some(Value::Stream(st)) = db.lookup_write(key, now).map(|e| &mut e.value) else {
        return Err(CmdError::WrongType);
    };
    if st.last_id == StreamId::MAX {
        return Err(CmdError::Static(
            "ERR The stream has exhausted the last possible ID, unable to add more items",
        ));
    }
    // The new ID (`streamAppendItem`'s generation).
    let id = match t.id {
        Some(p) if p.seq_given => Ok(p.id),
        Some(p) => {
            if st.last_id.ms == p.id.ms {
                if st.last_id.seq == u64::MAX {
                    Err(AppendError::NotGreater)
                } else {
                    Ok(StreamId::new(p.id.ms, st.last_id.seq + 1))
                }
            } else {
                Ok(p.id)
            }
        }
        None => {
            let ms = now.max(0) as u64;
            if ms > st.last_id.ms {
                Ok(StreamId::new(ms, 0))
            } else if st.last_id.seq == u64::MAX {
                // Redis's streamNextID would wrap into the next ms; incr does the same.
                st.last_id.incr().ok_or(AppendError::NotGreater)
            } else {
                Ok(StreamId::new(st.last_id.ms, st.last_id.seq + 1))
            }
        }
    };
    let res = id.and_then(|id| st.append(id, &args[field_pos..], limits).map(|_| id));
    let id = match res {
        Ok(id) => id,
        Err(e) => {
            return Err(CmdError::Static(match e {
                AppendError::NotGreater => {
                    "ERR The ID specified in XADD is equal or smaller than the target stream top item"
                }
                AppendError::TooLarge => "ERR Elements are too large to be stored",
            }));
        }
    };
    reply_id(&mut ctx.out, id);
    let mut trimmed = 0;
    if let Some(strategy) = t.strategy {
        trimmed = st.trim(strategy, t.approx, t.limit);
    }
    let rewrite_trim = t.strategy.is_some() && t.approx;
    let rewrite_id = t.id.is_none_or(|p| !p.seq_given);
    if (rewrite_trim || rewrite_id) && ctx.engine.propagation.listening {
        let mut argv: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
        if rewrite_trim {
            trim_rewrite(&mut argv, st, &t);
        }
        if rewrite_id {
            argv[idpos] = id.to_vec();
        }
        let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        ctx.engine.propagation.rewrite(&refs);
    }
    ctx.signal_modified(key);
    ctx.notify(notify::STREAM, "xadd", key);
    ctx.engine.dirty += 1;
    if trimmed > 0 {
        ctx.notify(notify::STREAM, "xtrim", key);
    }
    ctx.signal_ready(key);
    Ok(())
}

/// # Format
/// `XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]`
/// # Returns
/// The number of entries removed.
fn xtrim(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let limits = node_limits(ctx);
    let (t, _) = parse_add_trim(args, false, limits.max_entries, ctx.session.obey)?;
    let key = args[1];
    let listening = ctx.engine.propagation.listening;
    let Some(st) = lookup_write(ctx.engine, ctx.session.db, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let strategy = t.strategy.expect("checked by the parser");
    let deleted = st.trim(strategy, t.approx, t.limit);
    let mut rewritten = None;
    if deleted > 0 && t.approx && listening {
        let mut argv: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
        trim_rewrite(&mut argv, st, &t);
        rewritten = Some(argv);
    }
    if deleted > 0 {
        if let Some(argv) = rewritten {
            let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
            ctx.engine.propagation.rewrite(&refs);
        }
        ctx.notify(notify::STREAM, "xtrim", key);
        ctx.signal_modified(key);
        ctx.engine.dirty += deleted as u64;
    }
    ctx.out.int(deleted);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// XRANGE / XREVRANGE / XLEN / XDEL / XSETID
// ---------------------------------------------------------------------------------------

fn xrange(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    range_generic(ctx, args, false)
}

fn xrevrange(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    range_generic(ctx, args, true)
}

/// # Format
/// `XRANGE key start end [COUNT count]`, `XREVRANGE key end start [COUNT count]`
/// # Returns
/// The entries, or a null array with COUNT 0 on an existing stream.
fn range_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], rev: bool) -> CmdResult {
    let (sa, ea) = if rev {
        (args[3], args[2])
    } else {
        (args[2], args[3])
    };
    let start = start_id(sa)?;
    let end = end_id(ea)?;
    let mut count: i64 = -1;
    let mut j = 4;
    while j < args.len() {
        let additional = args.len() - j - 1;
        if eq_ic(args[j], "COUNT") && additional >= 1 {
            count = parse_i64(args[j + 1])?.max(0);
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let key = args[1];
    let now = ctx.now_ms();
    let st = match ctx.engine.dbs[ctx.session.db].lookup_read(key, now) {
        None => {
            ctx.out.array(0);
            return Ok(());
        }
        Some(e) => match &e.value {
            Value::Stream(s) => s,
            _ => return Err(CmdError::WrongType),
        },
    };
    if count == 0 {
        ctx.out.null_array();
    } else {
        let count = if count < 0 { 0 } else { count as usize };
        reply_range(&mut ctx.out, st, start, end, count, rev);
    }
    Ok(())
}

/// `XLEN key` → the number of entries.
fn xlen(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let n = lookup_read(ctx.engine, ctx.session.db, args[1])?.map_or(0, |s| s.length);
    ctx.out.int(n as i64);
    Ok(())
}

/// `XDEL key id [id ...]` → the number of entries deleted.
fn xdel(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    // Redis looks the key up (reply 0 when missing) before parsing the IDs.
    let Some(_) = lookup_write(ctx.engine, ctx.session.db, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    for a in &args[2..] {
        strict_id(a)?;
    }
    let st = lookup_write(ctx.engine, ctx.session.db, key)?.expect("looked up above");
    let mut deleted = 0u64;
    let mut first_entry = false;
    for a in &args[2..] {
        let id = strict_id(a)?;
        if st.delete(id) {
            if id == st.first_id {
                first_entry = true;
            }
            if id > st.max_deleted_entry_id {
                st.max_deleted_entry_id = id;
            }
            deleted += 1;
        }
    }
    if deleted > 0 {
        if st.length == 0 {
            st.first_id = StreamId::MIN;
        } else if first_entry {
            st.first_id = st.edge_id(true, true).unwrap_or(StreamId::MIN);
        }
        ctx.signal_modified(key);
        ctx.notify(notify::STREAM, "xdel", key);
        ctx.engine.dirty += deleted;
    }
    ctx.out.int(deleted as i64);
    Ok(())
}

/// # Format
/// `XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]`
fn xsetid(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let id = strict_id(args[2])?;
    let mut entries_added: i64 = -1;
    let mut max_xdel = StreamId::MIN;
    let mut i = 3;
    while i < args.len() {
        let moreargs = args.len() - 1 - i;
        let opt = args[i];
        if eq_ic(opt, "ENTRIESADDED") && moreargs > 0 {
            entries_added = parse_i64(args[i + 1])?;
            if entries_added < 0 {
                return Err(CmdError::Static("ERR entries_added must be positive"));
            }
            i += 2;
        } else if eq_ic(opt, "MAXDELETEDID") && moreargs > 0 {
            max_xdel = strict_id(args[i + 1])?;
            if id < max_xdel {
                return Err(CmdError::Static(
                    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                ));
            }
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let key = args[1];
    let Some(st) = lookup_write(ctx.engine, ctx.session.db, key)? else {
        return Err(CmdError::NoSuchKey);
    };
    if st.length > 0 {
        let maxid = st.edge_id(false, true).unwrap_or(StreamId::MIN);
        if id < maxid {
            return Err(CmdError::Static(
                "ERR The ID specified in XSETID is smaller than the target stream top item",
            ));
        }
        if entries_added != -1 && st.length > entries_added as u64 {
            return Err(CmdError::Static(
                "ERR The entries_added specified in XSETID is smaller than the target stream length",
            ));
        }
    }
    st.last_id = id;
    if entries_added != -1 {
        st.entries_added = entries_added as u64;
    }
    if !max_xdel.is_zero() {
        st.max_deleted_entry_id = max_xdel;
    }
    ctx.out.ok();
    // Redis 7.0.15's XSETID raises its event but touches no WATCH.
    ctx.notify(notify::STREAM, "xsetid", key);
    ctx.engine.dirty += 1;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Consumer groups: helpers shared by XREADGROUP, XCLAIM, XAUTOCLAIM
// ---------------------------------------------------------------------------------------

/// `streamLookupConsumer` (refreshing its seen time) or `streamCreateConsumer`; returns
/// whether it was created.
fn touch_consumer(g: &mut ConsumerGroup, name: &[u8], now: i64) -> bool {
    if let Some(c) = g.consumers.get_mut(name) {
        c.seen_time = now;
        false
    } else {
        g.consumers.insert(
            name.into(),
            Consumer {
                seen_time: now,
                pel: Default::default(),
            },
        );
        true
    }
}

/// What an XCLAIM propagation says of a pending entry (borrowed: nothing is copied while
/// nobody listens).
#[derive(Clone, Copy)]
struct Claim<'a> {
    consumer: &'a [u8],
    delivery_time: i64,
    delivery_count: u64,
}

impl PendingEntry {
    fn claim(&self) -> Claim<'_> {
        Claim {
            consumer: &self.consumer,
            delivery_time: self.delivery_time,
            delivery_count: self.delivery_count,
        }
    }
}

/// `streamPropagateXCLAIM`: `XCLAIM key group consumer 0 id TIME t RETRYCOUNT n FORCE
/// JUSTID LASTID group-last-id`.
fn propagate_xclaim(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    group: &[u8],
    last_id: StreamId,
    id: StreamId,
    pe: Claim<'_>,
) {
    if !ctx.engine.propagation.listening {
        return;
    }
    let idb = id.to_vec();
    let time = pe.delivery_time.to_string();
    let count = pe.delivery_count.to_string();
    let last = last_id.to_vec();
    let argv: [&[u8]; 14] = [
        b"XCLAIM",
        key,
        group,
        pe.consumer,
        b"0",
        &idb,
        b"TIME",
        time.as_bytes(),
        b"RETRYCOUNT",
        count.as_bytes(),
        b"FORCE",
        b"JUSTID",
        b"LASTID",
        &last,
    ];
    let db = ctx.session.db;
    ctx.engine.propagation.add(db, &argv);
}

/// `streamPropagateGroupID`: `XGROUP SETID key group id ENTRIESREAD n`.
fn propagate_group_id(ctx: &mut Ctx<'_>, key: &[u8], group: &[u8], g: &ConsumerGroup) {
    if !ctx.engine.propagation.listening {
        return;
    }
    let last = g.last_id.to_vec();
    let er = g.entries_read.to_string();
    let argv: [&[u8]; 7] = [
        b"XGROUP",
        b"SETID",
        key,
        group,
        &last,
        b"ENTRIESREAD",
        er.as_bytes(),
    ];
    let db = ctx.session.db;
    ctx.engine.propagation.add(db, &argv);
}

/// `streamPropagateConsumerCreation`: `XGROUP CREATECONSUMER key group consumer`.
fn propagate_consumer_creation(ctx: &mut Ctx<'_>, key: &[u8], group: &[u8], consumer: &[u8]) {
    if !ctx.engine.propagation.listening {
        return;
    }
    let argv: [&[u8]; 5] = [b"XGROUP", b"CREATECONSUMER", key, group, consumer];
    let db = ctx.session.db;
    ctx.engine.propagation.add(db, &argv);
}

fn group_of<'s>(st: &'s mut Stream, name: &[u8]) -> &'s mut ConsumerGroup {
    st.group_mut(name).expect("group checked by the caller")
}

// ---------------------------------------------------------------------------------------
// XREAD / XREADGROUP
// ---------------------------------------------------------------------------------------

fn xread(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    read_generic(ctx, args, false)
}

fn xreadgroup(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    read_generic(ctx, args, true)
}

/// What one key of XREAD/XREADGROUP asks for.
#[derive(Clone, Copy)]
enum ReadFrom {
    /// Entries after this ID.
    After(StreamId),
    /// `>`: entries after the group's last delivered ID.
    New,
}

/// # Format
/// `XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]`,
/// `XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key
/// [key ...] id [id ...]`
/// # Returns
/// Per stream with data, `[key, entries]` (a map in RESP3), or a null array.
fn read_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], group_cmd: bool) -> CmdResult {
    let mut timeout: i64 = -1;
    let mut count: i64 = 0;
    let mut streams_arg = 0;
    let mut streams_count = 0;
    let mut group: Option<(&[u8], &[u8])> = None;
    let mut noack = false;
    let mut i = 1;
    while i < args.len() {
        let moreargs = args.len() - i - 1;
        let o = args[i];
        if eq_ic(o, "BLOCK") && moreargs > 0 {
            i += 1;
            let t = parse_i64(args[i])
                .map_err(|_| CmdError::Static("ERR timeout is not an integer or out of range"))?;
            if t < 0 {
                return Err(CmdError::Static("ERR timeout is negative"));
            }
            timeout = t;
        } else if eq_ic(o, "COUNT") && moreargs > 0 {
            i += 1;
            count = parse_i64(args[i])?.max(0);
        } else if eq_ic(o, "STREAMS") && moreargs > 0 {
            streams_arg = i + 1;
            let n = args.len() - streams_arg;
            if !n.is_multiple_of(2) {
                // 7.0.15 says XREAD and '$' for XREADGROUP too.
                return Err(CmdError::Static(
                    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            streams_count = n / 2;
            break;
        } else if eq_ic(o, "GROUP") && moreargs >= 2 {
            if !group_cmd {
                return Err(CmdError::Static(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            group = Some((args[i + 1], args[i + 2]));
            i += 2;
        } else if eq_ic(o, "NOACK") {
            if !group_cmd {
                return Err(CmdError::Static(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            noack = true;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if streams_arg == 0 {
        return Err(CmdError::Syntax);
    }
    if group_cmd && group.is_none() {
        return Err(CmdError::Static("ERR Missing GROUP option for XREADGROUP"));
    }
    // The deadline: BLOCK ms (0 = forever).
    let now = ctx.now_ms();
    let deadline = if timeout > 0 {
        if timeout > i64::MAX - now {
            return Err(CmdError::Static("ERR timeout is out of range"));
        }
        now + timeout
    } else {
        0
    };
    // Resolve the IDs (`$`, `>`), checking types and groups.
    let keys = &args[streams_arg..streams_arg + streams_count];
    let id_args = &args[streams_arg + streams_count..];
    let mut from: Vec<ReadFrom> = Vec::with_capacity(streams_count);
    for (k, &key) in keys.iter().enumerate() {
        let st = lookup_read(ctx.engine, ctx.session.db, key)?;
        if let Some((gname, _)) = group
            && st.as_ref().and_then(|s| s.group(gname)).is_none()
        {
            return Err(CmdError::Owned(format!(
                "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                crate::util::lossy_c_str(key),
                crate::util::lossy_c_str(gname)
            )));
        }
        let a = crate::util::c_str(id_args[k]);
        if a == b"$" {
            if group_cmd {
                return Err(CmdError::Static(
                    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
                ));
            }
            from.push(ReadFrom::After(st.map_or(StreamId::MIN, |s| s.last_id)));
        } else if a == b">" {
            if !group_cmd {
                return Err(CmdError::Static(
                    "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
                ));
            }
            from.push(ReadFrom::New);
        } else {
            from.push(ReadFrom::After(strict_id(id_args[k])?));
        }
    }
    // A blocked client served later reads at most 1000 without COUNT.
    let mut count = count as usize;
    if count == 0 && ctx.engine.serve_only.is_some() {
        count = BLOCKED_DEFAULT_COUNT;
    }
    // A served blocked reader (Redis's serveClientsBlockedOnStreamKey) is answered as soon
    // as the stream's last ID passed its own, even with nothing left to read.
    let served_blocked = ctx.engine.serve_only.is_some();
    let resp3 = ctx.out.resp3();
    let top = ctx.out.buf.len();
    let mut served = 0usize;
    for (k, &key) in keys.iter().enumerate() {
        if !ctx.engine.serves(key) {
            continue;
        }
        let Some(st) = lookup_read(ctx.engine, ctx.session.db, key)? else {
            continue;
        };
        let mut history = false;
        let mut gt = match from[k] {
            ReadFrom::After(id) => id,
            ReadFrom::New => StreamId::MAX,
        };
        let serve = if let Some((gname, _)) = group {
            let g = st.group(gname).expect("checked");
            if !matches!(from[k], ReadFrom::New) {
                history = true;
                true
            } else if served_blocked {
                gt = g.last_id;
                st.last_id > gt
            } else if st.length > 0 {
                let maxid = st.edge_id(false, true).unwrap_or(StreamId::MIN);
                if maxid > g.last_id {
                    gt = g.last_id;
                    true
                } else {
                    false
                }
            } else {
                false
            }
        } else if served_blocked {
            st.last_id > gt
        } else if st.length > 0 {
            st.edge_id(false, true).unwrap_or(StreamId::MIN) > gt
        } else {
            false
        };
        if !serve {
            continue;
        }
        served += 1;
        if !resp3 {
            ctx.out.array(2);
        }
        ctx.out.bulk(key);
        let start = gt.incr().unwrap_or(StreamId::MAX);
        match group {
            None => {
                let st = lookup_read(ctx.engine, ctx.session.db, key)?.expect("present");
                let st: &Stream = st;
                let pos = ctx.out.buf.len();
                // Split borrow: the stream lives in the engine, the reply in the client.
                let n = {
                    let out = &mut ctx.out;
                    write_range(out, st, start, StreamId::MAX, count, false, None)
                };
                set_deferred(&mut ctx.out, pos, n, false);
            }
            Some((gname, cname)) => {
                group_read(ctx, key, gname, cname, start, count, noack, history);
                ctx.engine.dirty += 1;
            }
        }
    }
    if served > 0 {
        set_deferred(&mut ctx.out, top, served, resp3);
        ctx.engine.propagation.prevent();
        return Ok(());
    }
    ctx.engine.propagation.prevent();
    if timeout != -1 {
        if ctx.session.no_block {
            ctx.out.null_array();
            return Ok(());
        }
        // Park: `$` is resolved now, so the re-run reads after the ID seen at block time.
        let mut argv: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
        let mut ids = Vec::with_capacity(streams_count);
        for (k, f) in from.iter().enumerate() {
            match f {
                ReadFrom::After(id) => {
                    argv[streams_arg + streams_count + k] = id.to_vec();
                    ids.push(*id);
                }
                ReadFrom::New => ids.push(StreamId::MAX),
            }
        }
        ctx.engine.block = Some(BlockRequest {
            keys: keys.iter().map(|k| k.to_vec()).collect(),
            timeout_at_ms: deadline,
            timeout_reply: TimeoutReply::NullArray,
            kind: BlockKind::Stream,
            stream: Some(StreamWait {
                ids,
                group: group.map(|(g, _)| g.to_vec()),
            }),
            argv: Some(argv),
        });
        return Ok(());
    }
    ctx.out.null_array();
    Ok(())
}

/// `streamReplyWithRange` with a group: new entries (or the consumer's history), the PEL
/// and last-delivered bookkeeping, and their propagation.
#[allow(clippy::too_many_arguments)]
fn group_read(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    gname: &[u8],
    cname: &[u8],
    start: StreamId,
    count: usize,
    noack: bool,
    history: bool,
) {
    let now = ctx.now_ms();
    let db = ctx.session.db;
    let Some(Value::Stream(st)) = ctx.engine.dbs[db]
        .lookup_notouch(key, now)
        .map(|e| &mut e.value)
    else {
        return;
    };
    let g = group_of(st, gname);
    let created = touch_consumer(g, cname, now);
    if created {
        ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
        ctx.engine.dirty += 1;
        // Only NOACK reads propagate the creation (otherwise the XCLAIMs create it), a
        // served blocked reader too.
        if noack {
            propagate_consumer_creation(ctx, key, gname, cname);
        }
    }
    let Some(Value::Stream(st)) = ctx.engine.dbs[db]
        .lookup_notouch(key, now)
        .map(|e| &mut e.value)
    else {
        return;
    };
    let mut st: &mut Stream = st;
    if history {
        // `streamReplyWithRangeFromConsumerPEL`, from `gt + 1`.
        let from = start;
        let g = group_of(st, gname);
        let ids: Vec<StreamId> = g.consumers[cname]
            .pel
            .range(from..)
            .take(if count == 0 { usize::MAX } else { count })
            .copied()
            .collect();
        let pos = ctx.out.buf.len();
        for &id in &ids {
            let n = write_range(&mut ctx.out, st, id, id, 1, false, None);
            if n == 0 {
                ctx.out.array(2);
                reply_id(&mut ctx.out, id);
                ctx.out.null_array();
            } else if let Some(pe) = group_of(st, gname).pel.get_mut(&id) {
                pe.delivery_time = now;
                pe.delivery_count += 1;
            }
        }
        set_deferred(&mut ctx.out, pos, ids.len(), false);
        return;
    }
    let mut ids = Vec::new();
    let pos = ctx.out.buf.len();
    let n = write_range(
        &mut ctx.out,
        st,
        start,
        StreamId::MAX,
        count,
        false,
        Some(&mut ids),
    );
    set_deferred(&mut ctx.out, pos, n, false);
    let mut propagate_last_id = false;
    for id in ids {
        let tomb = st.range_has_tombstones(id, StreamId::MAX);
        let entries_added = st.entries_added;
        let estimate = st.estimate_distance(id);
        let g = group_of(st, gname);
        if id > g.last_id {
            if g.entries_read != INVALID_ENTRIES_READ && !tomb {
                g.entries_read += 1;
            } else if entries_added != 0 {
                g.entries_read = estimate.unwrap_or(INVALID_ENTRIES_READ);
            }
            g.last_id = id;
            if noack {
                propagate_last_id = true;
            }
        }
        if !noack {
            match g.pel.get_mut(&id) {
                Some(pe) => {
                    let old = std::mem::replace(&mut pe.consumer, cname.into());
                    pe.delivery_time = now;
                    pe.delivery_count = 1;
                    if let Some(c) = g.consumers.get_mut(&old) {
                        c.pel.remove(&id);
                    }
                }
                None => {
                    let pe = PendingEntry {
                        delivery_time: now,
                        delivery_count: 1,
                        consumer: cname.into(),
                    };
                    g.pel.insert(id, pe);
                }
            }
            if let Some(c) = g.consumers.get_mut(cname) {
                c.pel.insert(id);
            }
            let last = g.last_id;
            let claim = Claim {
                consumer: cname,
                delivery_time: now,
                delivery_count: 1,
            };
            propagate_xclaim(ctx, key, gname, last, id, claim);
            let Some(Value::Stream(s2)) = ctx.engine.dbs[db]
                .lookup_notouch(key, now)
                .map(|e| &mut e.value)
            else {
                return;
            };
            st = s2;
        }
    }
    if propagate_last_id {
        let g = group_of(st, gname).clone_header();
        propagate_group_id(ctx, key, gname, &g);
    }
}

impl ConsumerGroup {
    /// The group's last ID and counter alone (for propagation while the stream is borrowed).
    fn clone_header(&self) -> ConsumerGroup {
        ConsumerGroup::new(self.last_id, self.entries_read)
    }
}

// ---------------------------------------------------------------------------------------
// XACK / XPENDING / XCLAIM / XAUTOCLAIM
// ---------------------------------------------------------------------------------------

/// `XACK key group id [id ...]` → the number of entries acknowledged.
fn xack(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let has_group = match lookup_read(ctx.engine, ctx.session.db, args[1])? {
        Some(st) => st.group(args[2]).is_some(),
        None => false,
    };
    if !has_group {
        ctx.out.int(0);
        return Ok(());
    }
    // All or nothing: every ID is checked before any is acknowledged.
    for a in &args[3..] {
        strict_id(a)?;
    }
    let st = lookup_read(ctx.engine, ctx.session.db, args[1])?.expect("present");
    let g = group_of(st, args[2]);
    let mut acked = 0u64;
    for a in &args[3..] {
        let id = strict_id(a)?;
        if let Some(pe) = g.pel.remove(&id) {
            if let Some(c) = g.consumers.get_mut(&pe.consumer) {
                c.pel.remove(&id);
            }
            acked += 1;
        }
    }
    ctx.engine.dirty += acked;
    ctx.out.int(acked as i64);
    Ok(())
}

/// # Format
/// `XPENDING key group [[IDLE min-idle-time] start end count [consumer]]`
fn xpending(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let justinfo = args.len() == 3;
    if args.len() != 3 && (args.len() < 6 || args.len() > 9) {
        return Err(CmdError::Syntax);
    }
    let mut minidle = 0i64;
    let mut range = (StreamId::MIN, StreamId::MAX, 0i64);
    let mut consumer: Option<&[u8]> = None;
    if args.len() >= 6 {
        let mut startidx = 3;
        if eq_ic(args[3], "IDLE") {
            minidle = parse_i64(args[4])?;
            if args.len() < 8 {
                return Err(CmdError::Syntax);
            }
            startidx += 2;
        }
        let count = parse_i64(args[startidx + 2])?.max(0);
        let s = start_id(args[startidx])?;
        let e = end_id(args[startidx + 1])?;
        range = (s, e, count);
        if startidx + 3 < args.len() {
            consumer = Some(args[startidx + 3]);
        }
    }
    let key = args[1];
    let gname = args[2];
    let now = ctx.now_ms();
    let Some(st) = lookup_read(ctx.engine, ctx.session.db, key)? else {
        return Err(nogroup_key(key, gname));
    };
    let Some(g) = st.group(gname) else {
        return Err(nogroup_key(key, gname));
    };
    let out = &mut ctx.out;
    if justinfo {
        out.array(4);
        out.int(g.pel.len() as i64);
        match (g.pel.first_key_value(), g.pel.last_key_value()) {
            (Some((first, _)), Some((last, _))) => {
                reply_id(out, *first);
                reply_id(out, *last);
                let pos = out.buf.len();
                let mut n = 0;
                for (name, c) in &g.consumers {
                    if c.pel.is_empty() {
                        continue;
                    }
                    out.array(2);
                    out.bulk(name);
                    out.bulk_int(c.pel.len() as i64);
                    n += 1;
                }
                set_deferred(out, pos, n, false);
            }
            _ => {
                out.null();
                out.null();
                out.null_array();
            }
        }
        return Ok(());
    }
    let (start, end, mut count) = range;
    let ids: Vec<StreamId> = match consumer {
        Some(name) => match g.consumers.get(name) {
            None => {
                out.array(0);
                return Ok(());
            }
            Some(c) => c.pel.range(start..).copied().collect(),
        },
        None => g.pel.range(start..).map(|(k, _)| *k).collect(),
    };
    let pos = out.buf.len();
    let mut n = 0;
    for id in ids {
        if count == 0 || id > end {
            break;
        }
        let Some(pe) = g.pel.get(&id) else { continue };
        if minidle != 0 && now - pe.delivery_time < minidle {
            continue;
        }
        n += 1;
        count -= 1;
        out.array(4);
        reply_id(out, id);
        out.bulk(&pe.consumer);
        out.int((now - pe.delivery_time).max(0));
        out.int(pe.delivery_count as i64);
    }
    set_deferred(out, pos, n, false);
    Ok(())
}

/// Moves pending entry `id` of group `g` to consumer `cname` (which exists).
fn reassign(g: &mut ConsumerGroup, id: StreamId, cname: &[u8]) {
    let Some(pe) = g.pel.get_mut(&id) else { return };
    if *pe.consumer != *cname {
        let old = std::mem::replace(&mut pe.consumer, cname.into());
        if let Some(c) = g.consumers.get_mut(&old) {
            c.pel.remove(&id);
        }
    }
    if let Some(c) = g.consumers.get_mut(cname) {
        c.pel.insert(id);
    }
}

/// # Format
/// `XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-ms]
/// [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]`
fn xclaim(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let gname = args[2];
    let cname = args[3];
    match lookup_read(ctx.engine, ctx.session.db, key)? {
        Some(st) if st.group(gname).is_some() => {}
        _ => return Err(nogroup_key(key, gname)),
    }
    let minidle = crate::util::parse_i64(args[4])
        .map_err(|_| CmdError::Static("ERR Invalid min-idle-time argument for XCLAIM"))?
        .max(0);
    let mut j = 5;
    while j < args.len() && strict_id(args[j]).is_ok() {
        j += 1;
    }
    let last_id_arg = j;
    let now = ctx.now_ms();
    let mut deliverytime: i64 = -1;
    let mut retrycount: i64 = -1;
    let mut force = false;
    let mut justid = false;
    let mut last_id = StreamId::MIN;
    while j < args.len() {
        let moreargs = args.len() - 1 - j;
        let opt = args[j];
        if eq_ic(opt, "FORCE") {
            force = true;
        } else if eq_ic(opt, "JUSTID") {
            justid = true;
        } else if eq_ic(opt, "IDLE") && moreargs > 0 {
            j += 1;
            let v = parse_i64(args[j])
                .map_err(|_| CmdError::Static("ERR Invalid IDLE option argument for XCLAIM"))?;
            deliverytime = now.wrapping_sub(v);
        } else if eq_ic(opt, "TIME") && moreargs > 0 {
            j += 1;
            deliverytime = parse_i64(args[j])
                .map_err(|_| CmdError::Static("ERR Invalid TIME option argument for XCLAIM"))?;
        } else if eq_ic(opt, "RETRYCOUNT") && moreargs > 0 {
            j += 1;
            retrycount = parse_i64(args[j]).map_err(|_| {
                CmdError::Static("ERR Invalid RETRYCOUNT option argument for XCLAIM")
            })?;
        } else if eq_ic(opt, "LASTID") && moreargs > 0 {
            j += 1;
            last_id = strict_id(args[j])?;
        } else {
            return Err(CmdError::Owned(format!(
                "ERR Unrecognized XCLAIM option '{}'",
                crate::util::lossy_c_str(opt)
            )));
        }
        j += 1;
    }
    let db = ctx.session.db;
    let st = lookup_read(ctx.engine, ctx.session.db, key)?.expect("present");
    let mut propagate_last_id = false;
    {
        let g = group_of(st, gname);
        if last_id > g.last_id {
            g.last_id = last_id;
            propagate_last_id = true;
        }
    }
    if deliverytime != -1 {
        // A time in the future is taken as now; the AOF's replay (whose clock reads 0 while
        // loading) keeps the recorded delivery times, which Redis's real clock would not
        // have clamped.
        let future = deliverytime > now && !ctx.session.obey;
        if deliverytime < 0 || future {
            deliverytime = now;
        }
    } else {
        deliverytime = now;
    }
    let pos = ctx.out.buf.len();
    let mut n = 0usize;
    let mut consumer_ready = false;
    for a in &args[5..last_id_arg] {
        let id = strict_id(a).expect("checked");
        let Some(Value::Stream(st)) = ctx.engine.dbs[db]
            .lookup_notouch(key, now)
            .map(|e| &mut e.value)
        else {
            break;
        };
        let exists = st.contains(id);
        let g = group_of(st, gname);
        if !exists {
            if let Some(pe) = g.pel.remove(&id) {
                if let Some(c) = g.consumers.get_mut(&pe.consumer) {
                    c.pel.remove(&id);
                }
                let last = g.last_id;
                propagate_xclaim(ctx, key, gname, last, id, pe.claim());
                propagate_last_id = false;
                ctx.engine.dirty += 1;
            }
            continue;
        }
        let mut fresh = false;
        if force && !g.pel.contains_key(&id) {
            g.pel.insert(
                id,
                PendingEntry {
                    delivery_time: now,
                    delivery_count: 1,
                    consumer: Box::default(),
                },
            );
            fresh = true;
        }
        let Some(pe) = g.pel.get(&id) else { continue };
        if !fresh && minidle != 0 && now - pe.delivery_time < minidle {
            continue;
        }
        if !consumer_ready {
            consumer_ready = true;
            if touch_consumer(g, cname, now) {
                ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
                ctx.engine.dirty += 1;
            }
        }
        let Some(Value::Stream(st)) = ctx.engine.dbs[db]
            .lookup_notouch(key, now)
            .map(|e| &mut e.value)
        else {
            break;
        };
        let g = group_of(st, gname);
        if fresh {
            // A FORCE-made entry has no owner yet.
            if let Some(pe) = g.pel.get_mut(&id) {
                pe.consumer = cname.into();
            }
            if let Some(c) = g.consumers.get_mut(cname) {
                c.pel.insert(id);
            }
        } else {
            reassign(g, id, cname);
        }
        let pe = g.pel.get_mut(&id).expect("pending");
        pe.delivery_time = deliverytime;
        if retrycount >= 0 {
            pe.delivery_count = retrycount as u64;
        } else if !justid {
            pe.delivery_count += 1;
        }
        let claim = Claim {
            consumer: cname,
            delivery_time: pe.delivery_time,
            delivery_count: pe.delivery_count,
        };
        let last = g.last_id;
        if justid {
            reply_id(&mut ctx.out, id);
        } else {
            write_range(&mut ctx.out, st, id, id, 1, false, None);
        }
        n += 1;
        propagate_xclaim(ctx, key, gname, last, id, claim);
        propagate_last_id = false;
        ctx.engine.dirty += 1;
    }
    if propagate_last_id {
        if let Some(Value::Stream(st)) = ctx.engine.dbs[db]
            .lookup_notouch(key, now)
            .map(|e| &mut e.value)
        {
            let g = group_of(st, gname).clone_header();
            propagate_group_id(ctx, key, gname, &g);
        }
        ctx.engine.dirty += 1;
    }
    set_deferred(&mut ctx.out, pos, n, false);
    ctx.engine.propagation.prevent();
    Ok(())
}

/// # Format
/// `XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]`
/// # Returns
/// `[next-cursor, claimed entries (or IDs), deleted IDs]`.
fn xautoclaim(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let gname = args[2];
    let cname = args[3];
    let minidle = parse_i64(args[4])
        .map_err(|_| CmdError::Static("ERR Invalid min-idle-time argument for XAUTOCLAIM"))?
        .max(0);
    let start = start_id(args[5])?;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        let moreargs = args.len() - 1 - j;
        let opt = args[j];
        if eq_ic(opt, "COUNT") && moreargs > 0 {
            let max_count = i64::MAX / 16;
            count = crate::util::parse_i64_in(
                args[j + 1],
                1,
                max_count,
                Some("ERR COUNT must be > 0"),
            )?;
            j += 1;
        } else if eq_ic(opt, "JUSTID") {
            justid = true;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    match lookup_read(ctx.engine, ctx.session.db, key)? {
        Some(st) if st.group(gname).is_some() => {}
        _ => return Err(nogroup_key(key, gname)),
    }
    // Redis allocates room for `count` deleted IDs up front (16 bytes each); jemalloc
    // refuses a block over 2^46 bytes (about: the address space decides).
    if count > 1 << 42 {
        return Err(CmdError::Static(
            "ERR Insufficient memory, failed allocating transient memory, COUNT too high.",
        ));
    }
    let db = ctx.session.db;
    let now = ctx.now_ms();
    let mut attempts = count.saturating_mul(10);
    let mut deleted_ids: Vec<StreamId> = Vec::new();
    ctx.out.array(3);
    let cursor_pos = ctx.out.buf.len();
    let pos = ctx.out.buf.len();
    let mut n = 0usize;
    let mut cur = Some(start);
    let mut consumer_ready = false;
    loop {
        if attempts == 0 {
            break;
        }
        attempts -= 1;
        if count == 0 {
            break;
        }
        let Some(from) = cur else { break };
        let Some(Value::Stream(st)) = ctx.engine.dbs[db]
            .lookup_notouch(key, now)
            .map(|e| &mut e.value)
        else {
            break;
        };
        let Some((&id, _)) = group_of(st, gname).pel.range(from..).next() else {
            cur = None;
            break;
        };
        cur = id.incr();
        let exists = st.contains(id);
        let g = group_of(st, gname);
        if !exists {
            let pe = g.pel.remove(&id).expect("pending");
            if let Some(c) = g.consumers.get_mut(&pe.consumer) {
                c.pel.remove(&id);
            }
            let last = g.last_id;
            propagate_xclaim(ctx, key, gname, last, id, pe.claim());
            ctx.engine.dirty += 1;
            deleted_ids.push(id);
            count -= 1;
            continue;
        }
        let pe = g.pel.get(&id).expect("pending");
        if minidle != 0 && now - pe.delivery_time < minidle {
            continue;
        }
        if !consumer_ready {
            consumer_ready = true;
            if touch_consumer(g, cname, now) {
                ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
                ctx.engine.dirty += 1;
            }
        }
        let Some(Value::Stream(st)) = ctx.engine.dbs[db]
            .lookup_notouch(key, now)
            .map(|e| &mut e.value)
        else {
            break;
        };
        let g = group_of(st, gname);
        reassign(g, id, cname);
        let pe = g.pel.get_mut(&id).expect("pending");
        pe.delivery_time = now;
        if !justid {
            pe.delivery_count += 1;
        }
        let claim = Claim {
            consumer: cname,
            delivery_time: pe.delivery_time,
            delivery_count: pe.delivery_count,
        };
        let last = g.last_id;
        if justid {
            reply_id(&mut ctx.out, id);
        } else {
            write_range(&mut ctx.out, st, id, id, 1, false, None);
        }
        n += 1;
        count -= 1;
        propagate_xclaim(ctx, key, gname, last, id, claim);
        ctx.engine.dirty += 1;
    }
    // The cursor: the next pending entry, or 0-0.
    let next = match (
        cur,
        ctx.engine.dbs[db]
            .lookup_notouch(key, now)
            .map(|e| &mut e.value),
    ) {
        (Some(from), Some(Value::Stream(st))) => group_of(st, gname)
            .pel
            .range(from..)
            .next()
            .map(|(k, _)| *k)
            .unwrap_or(StreamId::MIN),
        _ => StreamId::MIN,
    };
    set_deferred(&mut ctx.out, pos, n, false);
    let mut hdr = Vec::new();
    {
        let mut r = Reply::new(&mut hdr, ctx.out.proto);
        reply_id(&mut r, next);
    }
    ctx.out.buf.splice(cursor_pos..cursor_pos, hdr);
    ctx.out.array(deleted_ids.len());
    for id in deleted_ids {
        reply_id(&mut ctx.out, id);
    }
    ctx.engine.propagation.prevent();
    Ok(())
}

// ---------------------------------------------------------------------------------------
// XGROUP
// ---------------------------------------------------------------------------------------

const XGROUP_HELP: &[&str] = &[
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
];

const BAD_ENTRIES_READ: CmdError =
    CmdError::Static("ERR value for ENTRIESREAD must be positive or -1");

/// `XGROUP CREATE|CREATECONSUMER|DELCONSUMER|DESTROY|SETID|HELP ...`
fn xgroup(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let opt = args[1];
    let argc = args.len();
    let mut mkstream = false;
    let mut entries_read = INVALID_ENTRIES_READ;
    let mut exists = false;
    let mut has_group = false;
    if argc >= 4 {
        if eq_ic(opt, "CREATE") && argc >= 5 {
            let mut i = 5;
            while i < argc {
                if eq_ic(args[i], "MKSTREAM") {
                    mkstream = true;
                    i += 1;
                } else if eq_ic(args[i], "ENTRIESREAD") && i + 1 < argc {
                    entries_read = parse_i64(args[i + 1])?;
                    if entries_read < 0 && entries_read != INVALID_ENTRIES_READ {
                        return Err(BAD_ENTRIES_READ);
                    }
                    i += 2;
                } else {
                    return Err(subcommand_syntax("XGROUP", opt));
                }
            }
        }
        // Each subcommand's argument count, after CREATE's options and before the key
        // (Redis 7.0.15's order).
        let bad_count = (eq_ic(opt, "CREATE") && !(5..=8).contains(&argc))
            || (eq_ic(opt, "SETID") && argc != 5 && argc != 7)
            || (eq_ic(opt, "DESTROY") && argc != 4)
            || ((eq_ic(opt, "CREATECONSUMER") || eq_ic(opt, "DELCONSUMER")) && argc != 5);
        if bad_count {
            return Err(subcommand_syntax("XGROUP", opt));
        }
        let key = args[2];
        let gname = args[3];
        if let Some(st) = lookup_write(ctx.engine, ctx.session.db, key)? {
            exists = true;
            has_group = st.group(gname).is_some();
        }
        if !mkstream {
            if !exists {
                return Err(CmdError::Static(
                    "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
                ));
            }
            if !has_group
                && (eq_ic(opt, "SETID")
                    || eq_ic(opt, "CREATECONSUMER")
                    || eq_ic(opt, "DELCONSUMER"))
            {
                return Err(nogroup_for_key(gname, key));
            }
        }
    }
    if argc == 2 && eq_ic(opt, "HELP") {
        reply_help(&mut ctx.out, args[0], XGROUP_HELP);
        return Ok(());
    }
    let now = ctx.now_ms();
    if eq_ic(opt, "CREATE") && (5..=8).contains(&argc) {
        let key = args[2];
        let gname = args[3];
        let id = if crate::util::c_str(args[4]) == b"$" {
            match lookup_write(ctx.engine, ctx.session.db, key)? {
                Some(st) => st.last_id,
                None => StreamId::MIN,
            }
        } else {
            strict_id(args[4])?
        };
        if !exists {
            let db = ctx.session.db;
            ctx.engine.dbs[db].set(key, Value::Stream(Box::default()), false);
            ctx.signal_modified(key);
        }
        let st = lookup_write(ctx.engine, ctx.session.db, key)?.expect("present");
        let groups = st.groups.get_or_insert_with(Default::default);
        if groups.contains_key(gname) {
            return Err(CmdError::Static(
                "BUSYGROUP Consumer Group name already exists",
            ));
        }
        groups.insert(gname.into(), ConsumerGroup::new(id, entries_read));
        ctx.out.ok();
        ctx.engine.dirty += 1;
        ctx.notify(notify::STREAM, "xgroup-create", key);
    } else if eq_ic(opt, "SETID") && (argc == 5 || argc == 7) {
        let key = args[2];
        let gname = args[3];
        let st = lookup_write(ctx.engine, ctx.session.db, key)?.expect("present");
        let id = if crate::util::c_str(args[4]) == b"$" {
            st.last_id
        } else {
            parse_id(args[4], 0, false, false).ok_or(INVALID_ID)?.id
        };
        if argc == 7 {
            if !eq_ic(args[5], "ENTRIESREAD") {
                return Err(subcommand_syntax("XGROUP", opt));
            }
            entries_read = parse_i64(args[6])?;
            if entries_read < 0 && entries_read != INVALID_ENTRIES_READ {
                return Err(BAD_ENTRIES_READ);
            }
        }
        let g = group_of(st, gname);
        g.last_id = id;
        g.entries_read = entries_read;
        ctx.out.ok();
        ctx.engine.dirty += 1;
        ctx.notify(notify::STREAM, "xgroup-setid", key);
    } else if eq_ic(opt, "DESTROY") && argc == 4 {
        let key = args[2];
        let gname = args[3];
        if has_group {
            let st = lookup_write(ctx.engine, ctx.session.db, key)?.expect("present");
            if let Some(g) = st.groups.as_mut() {
                g.remove(gname);
            }
            ctx.out.int(1);
            ctx.engine.dirty += 1;
            ctx.notify(notify::STREAM, "xgroup-destroy", key);
            ctx.signal_ready(key);
        } else {
            ctx.out.int(0);
        }
    } else if eq_ic(opt, "CREATECONSUMER") && argc == 5 {
        let key = args[2];
        let gname = args[3];
        let st = lookup_write(ctx.engine, ctx.session.db, key)?.expect("present");
        let g = group_of(st, gname);
        let created = if g.consumers.contains_key(args[4]) {
            false
        } else {
            touch_consumer(g, args[4], now)
        };
        if created {
            ctx.engine.dirty += 1;
            ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
        }
        ctx.out.int(created as i64);
    } else if eq_ic(opt, "DELCONSUMER") && argc == 5 {
        let key = args[2];
        let gname = args[3];
        let st = lookup_write(ctx.engine, ctx.session.db, key)?.expect("present");
        let g = group_of(st, gname);
        let mut pending = 0;
        if let Some(c) = g.consumers.remove(args[4]) {
            pending = c.pel.len();
            for id in &c.pel {
                g.pel.remove(id);
            }
            ctx.engine.dirty += 1;
            ctx.notify(notify::STREAM, "xgroup-delconsumer", key);
        }
        ctx.out.int(pending as i64);
    } else {
        return Err(subcommand_syntax("XGROUP", opt));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// XINFO
// ---------------------------------------------------------------------------------------

const XINFO_HELP: &[&str] = &[
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
];

/// `streamReplyWithCGLag`.
fn reply_lag(out: &mut Reply<'_>, st: &Stream, g: &ConsumerGroup) {
    let lag = if st.entries_added == 0 {
        Some(0)
    } else if g.entries_read != INVALID_ENTRIES_READ
        && !st.range_has_tombstones(g.last_id, StreamId::MAX)
    {
        Some(st.entries_added as i64 - g.entries_read)
    } else {
        st.estimate_distance(g.last_id)
            .map(|er| st.entries_added as i64 - er)
    };
    match lag {
        Some(l) => out.int(l),
        None => out.null(),
    }
}

fn reply_entries_read(out: &mut Reply<'_>, g: &ConsumerGroup) {
    if g.entries_read != INVALID_ENTRIES_READ {
        out.int(g.entries_read);
    } else {
        out.null();
    }
}

/// The number of nodes of Redis's radix tree (`rax->numnodes`) holding these 16-byte keys:
/// one per leaf, one per branching point, one per run of single-child bytes, and the root.
fn rax_nodes(keys: &[[u8; 16]]) -> usize {
    fn f(keys: &[[u8; 16]], depth: usize) -> usize {
        if depth == 16 {
            return 1;
        }
        if keys.len() == 1 {
            return 2;
        }
        // Common prefix from `depth` (keys sorted: compare first and last).
        let (a, b) = (&keys[0], &keys[keys.len() - 1]);
        let mut p = depth;
        while p < 16 && a[p] == b[p] {
            p += 1;
        }
        (p > depth) as usize + g(keys, p)
    }
    fn g(keys: &[[u8; 16]], depth: usize) -> usize {
        let mut n = 1;
        let mut i = 0;
        while i < keys.len() {
            let c = keys[i][depth];
            let mut j = i;
            while j < keys.len() && keys[j][depth] == c {
                j += 1;
            }
            n += f(&keys[i..j], depth + 1);
            i = j;
        }
        n
    }
    if keys.is_empty() { 1 } else { f(keys, 0) }
}

/// `XINFO STREAM|GROUPS|CONSUMERS|HELP ...`
fn xinfo(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let opt = args[1];
    if eq_ic(opt, "HELP") {
        if args.len() != 2 {
            return Err(subcommand_syntax("XINFO", opt));
        }
        reply_help(&mut ctx.out, args[0], XINFO_HELP);
        return Ok(());
    }
    let key = args[2];
    let now = ctx.now_ms();
    let Some(st) = lookup_read(ctx.engine, ctx.session.db, key)? else {
        return Err(CmdError::NoSuchKey);
    };
    let st: &Stream = st;
    let out = &mut ctx.out;
    if eq_ic(opt, "CONSUMERS") && args.len() == 4 {
        let Some(g) = st.group(args[3]) else {
            return Err(nogroup_for_key(args[3], key));
        };
        out.array(g.consumers.len());
        for (name, c) in &g.consumers {
            out.map(3);
            out.bulk(b"name");
            out.bulk(name);
            out.bulk(b"pending");
            out.int(c.pel.len() as i64);
            out.bulk(b"idle");
            out.int((now - c.seen_time).max(0));
        }
    } else if eq_ic(opt, "GROUPS") && args.len() == 3 {
        let Some(groups) = &st.groups else {
            out.array(0);
            return Ok(());
        };
        out.array(groups.len());
        for (name, g) in groups.iter() {
            out.map(6);
            out.bulk(b"name");
            out.bulk(name);
            out.bulk(b"consumers");
            out.int(g.consumers.len() as i64);
            out.bulk(b"pending");
            out.int(g.pel.len() as i64);
            out.bulk(b"last-delivered-id");
            reply_id(out, g.last_id);
            out.bulk(b"entries-read");
            reply_entries_read(out, g);
            out.bulk(b"lag");
            reply_lag(out, st, g);
        }
    } else if eq_ic(opt, "STREAM") {
        let optv = &args[3..];
        let mut full = true;
        let mut count: i64 = 10;
        if optv.is_empty() {
            full = false;
        } else {
            if optv.len() != 1 && optv.len() != 3 {
                return Err(subcommand_syntax("XINFO", opt));
            }
            if !eq_ic(optv[0], "full") {
                return Err(subcommand_syntax("XINFO", opt));
            }
            if optv.len() == 3 {
                if !eq_ic(optv[1], "count") {
                    return Err(subcommand_syntax("XINFO", opt));
                }
                count = parse_i64(optv[2])?;
                if count < 0 {
                    count = 10;
                }
            }
        }
        let count = count as usize;
        out.map(if full { 9 } else { 10 });
        // (FULL: length … entries-added, recorded-first-entry-id, entries, groups.)
        out.bulk(b"length");
        out.int(st.length as i64);
        out.bulk(b"radix-tree-keys");
        out.int(st.nodes.len() as i64);
        out.bulk(b"radix-tree-nodes");
        let keys: Vec<[u8; 16]> = st.nodes.keys().map(|k| k.to_be_bytes()).collect();
        out.int(rax_nodes(&keys) as i64);
        out.bulk(b"last-generated-id");
        reply_id(out, st.last_id);
        out.bulk(b"max-deleted-entry-id");
        reply_id(out, st.max_deleted_entry_id);
        out.bulk(b"entries-added");
        out.int(st.entries_added as i64);
        out.bulk(b"recorded-first-entry-id");
        reply_id(out, st.first_id);
        if !full {
            out.bulk(b"groups");
            out.int(st.group_count() as i64);
            out.bulk(b"first-entry");
            if write_range(out, st, StreamId::MIN, StreamId::MAX, 1, false, None) == 0 {
                out.null();
            }
            out.bulk(b"last-entry");
            if write_range(out, st, StreamId::MIN, StreamId::MAX, 1, true, None) == 0 {
                out.null();
            }
        } else {
            out.bulk(b"entries");
            reply_range(out, st, StreamId::MIN, StreamId::MAX, count, false);
            out.bulk(b"groups");
            let Some(groups) = &st.groups else {
                out.array(0);
                return Ok(());
            };
            out.array(groups.len());
            for (name, g) in groups.iter() {
                out.map(7);
                out.bulk(b"name");
                out.bulk(name);
                out.bulk(b"last-delivered-id");
                reply_id(out, g.last_id);
                out.bulk(b"entries-read");
                reply_entries_read(out, g);
                out.bulk(b"lag");
                reply_lag(out, st, g);
                out.bulk(b"pel-count");
                out.int(g.pel.len() as i64);
                out.bulk(b"pending");
                let limit = if count == 0 { usize::MAX } else { count };
                let shown = g.pel.len().min(limit);
                out.array(shown);
                for (id, pe) in g.pel.iter().take(shown) {
                    out.array(4);
                    reply_id(out, *id);
                    out.bulk(&pe.consumer);
                    out.int(pe.delivery_time);
                    out.int(pe.delivery_count as i64);
                }
                out.bulk(b"consumers");
                out.array(g.consumers.len());
                for (cname, c) in &g.consumers {
                    out.map(4);
                    out.bulk(b"name");
                    out.bulk(cname);
                    out.bulk(b"seen-time");
                    out.int(c.seen_time);
                    out.bulk(b"pel-count");
                    out.int(c.pel.len() as i64);
                    out.bulk(b"pending");
                    let shown = c.pel.len().min(limit);
                    out.array(shown);
                    for id in c.pel.iter().take(shown) {
                        let pe = g.pel.get(id);
                        out.array(3);
                        reply_id(out, *id);
                        out.int(pe.map_or(0, |p| p.delivery_time));
                        out.int(pe.map_or(0, |p| p.delivery_count as i64));
                    }
                }
            }
        }
    } else {
        return Err(subcommand_syntax("XINFO", opt));
    }
    Ok(())
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
