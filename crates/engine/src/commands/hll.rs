//! HyperLogLog commands, as Redis 7.0.15's hyperloglog.c: PFADD, PFCOUNT, PFMERGE, PFDEBUG
//! and PFSELFTEST, over the byte representation in [`crate::types::hll`].
//!
//! Invariants:
//! - An HLL is a `raw` string; any string with a valid header is accepted as one (a
//!   WRONGTYPE-coded error otherwise), so values written by Redis work here and back.
//! - `dirty` moves as in Redis: PFADD by the registers it changed (plus one for creating
//!   the key), PFMERGE once, PFCOUNT once when it refreshes the cached cardinality (the cache
//!   lives in the value, so Redis propagates that PFCOUNT too), PFDEBUG GETREG/TODENSE when
//!   they convert a sparse HLL.

use super::{CmdFn, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::notify;
use crate::object::{Str, Value};
use crate::types::hll;
use crate::util::eq_ic;

pub const COMMANDS: &[(&str, CmdFn)] = &[
    ("pfadd", pfadd),
    ("pfcount", pfcount),
    ("pfmerge", pfmerge),
    ("pfdebug", pfdebug),
    ("pfselftest", pfselftest),
];

const INVALID_HLL: CmdError = CmdError::Static("INVALIDOBJ Corrupted HLL object detected");
const NOT_HLL: CmdError =
    CmdError::Static("WRONGTYPE Key is not a valid HyperLogLog string value.");

impl From<hll::Corrupt> for CmdError {
    fn from(_: hll::Corrupt) -> CmdError {
        INVALID_HLL
    }
}

/// `isHLLObjectOrReply` on a value: its bytes when it is a string holding an HLL.
fn hll_bytes(v: &Value) -> Result<&[u8], CmdError> {
    match v {
        Value::Str(Str::Int(_)) => Err(NOT_HLL),
        Value::Str(s) => {
            let mut scratch = [0u8; 20];
            let b = s.as_bytes(&mut scratch);
            if hll::is_valid_header(b) {
                // Not an `int`, so the bytes do not live in `scratch`.
                Ok(match s {
                    Str::Raw(v) => v.as_slice(),
                    Str::Emb(b) => b,
                    Str::Small { len, buf } => &buf[..usize::from(*len)],
                    Str::Int(_) => unreachable!(),
                })
            } else {
                Err(NOT_HLL)
            }
        }
        _ => Err(CmdError::WrongType),
    }
}

/// The HLL at `value` as mutable raw bytes (`dbUnshareStringValue`), after the checks.
fn hll_mut(v: &mut Value) -> Result<&mut Vec<u8>, CmdError> {
    hll_bytes(v)?;
    let Value::Str(s) = v else { unreachable!() };
    Ok(s.make_raw())
}

fn max_bytes(ctx: &Ctx<'_>) -> usize {
    ctx.engine.config.hll_sparse_max_bytes
}

/// PFADD key [element ...] → 1 when a register changed (or the key was created), else 0.
fn pfadd(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let now = ctx.now_ms();
    let max = max_bytes(ctx);
    let db = &mut ctx.engine.dbs[ctx.session.db];
    let mut updated = 0u64;
    let result = match db.lookup_write(key, now) {
        Some(e) => {
            let s = hll_mut(&mut e.value)?;
            let r = add_all(s, &args[2..], max, &mut updated);
            if r.is_ok() && updated > 0 {
                hll::invalidate_cache(s);
            }
            r
        }
        None => {
            let mut s = hll::new_empty();
            updated += 1;
            let r = add_all(&mut s, &args[2..], max, &mut updated);
            // Created counts as updated: even an empty new HLL has its cache invalid.
            hll::invalidate_cache(&mut s);
            db.set(key, Value::Str(Str::raw(s)), false);
            r
        }
    };
    // A corrupt HLL: Redis replies with the error, keeping what was added before it and
    // counting nothing.
    result?;
    if updated > 0 {
        ctx.signal_modified(key);
        ctx.notify(notify::STRING, "pfadd", key);
        ctx.engine.dirty += updated;
    }
    ctx.out.int(i64::from(updated > 0));
    Ok(())
}

fn add_all(
    s: &mut Vec<u8>,
    elements: &[&[u8]],
    max: usize,
    updated: &mut u64,
) -> Result<(), CmdError> {
    for e in elements {
        if hll::add(s, e, max)? {
            *updated += 1;
        }
    }
    Ok(())
}

/// PFCOUNT key [key ...] → the estimated cardinality (of the union, for several keys).
fn pfcount(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms();
    let db = ctx.session.db;
    if args.len() > 2 {
        let mut max = Box::new([0u8; hll::REGISTERS]);
        for k in &args[1..] {
            if let Some(e) = ctx.engine.dbs[db].lookup_read(k, now) {
                hll::merge_into(&mut max, hll_bytes(&e.value)?)?;
            }
        }
        ctx.out.int(hll::count_raw(&max) as i64);
        return Ok(());
    }
    let key = args[1];
    let Some(e) = ctx.engine.dbs[db].lookup_read(key, now) else {
        ctx.out.int(0);
        return Ok(());
    };
    let s = hll_bytes(&e.value)?;
    if let Some(card) = hll::cached(s) {
        // Redis unshares the value even then (`dbUnshareStringValue`): it becomes raw.
        if !matches!(e.value, Value::Str(Str::Raw(_))) {
            let dbr = &mut ctx.engine.dbs[db];
            dbr.before_write(key);
            let e = dbr.dict_mut().get_mut(key).expect("looked up above");
            hll_mut(&mut e.value)?;
        }
        ctx.out.int(card as i64);
        return Ok(());
    }
    let card = hll::count(s)?;
    // The cache lives in the value: refreshing it is a write (the snapshot hook first).
    let dbr = &mut ctx.engine.dbs[db];
    dbr.before_write(key);
    let e = dbr.dict_mut().get_mut(key).expect("looked up above");
    hll::set_cached(hll_mut(&mut e.value)?, card);
    ctx.signal_modified(key);
    ctx.engine.dirty += 1;
    ctx.out.int(card as i64);
    Ok(())
}

/// PFMERGE destkey [sourcekey ...]: the union into destkey (which is a source too).
fn pfmerge(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms();
    let db = ctx.session.db;
    let mut max = Box::new([0u8; hll::REGISTERS]);
    let mut use_dense = false;
    for k in &args[1..] {
        if let Some(e) = ctx.engine.dbs[db].lookup_read(k, now) {
            let s = hll_bytes(&e.value)?;
            use_dense |= !hll::is_sparse(s);
            hll::merge_into(&mut max, s)?;
        }
    }
    let key = args[1];
    let limit = max_bytes(ctx);
    let dbr = &mut ctx.engine.dbs[db];
    let write = |s: &mut Vec<u8>| -> Result<(), CmdError> {
        if use_dense {
            hll::to_dense(s)?;
        }
        for (i, &v) in max.iter().enumerate() {
            if v != 0 {
                hll::raise(s, i, v, limit)?;
            }
        }
        hll::invalidate_cache(s);
        Ok(())
    };
    match dbr.lookup_write(key, now) {
        Some(e) => write(hll_mut(&mut e.value)?)?,
        None => {
            let mut s = hll::new_empty();
            write(&mut s)?;
            dbr.set(key, Value::Str(Str::raw(s)), false);
        }
    }
    ctx.signal_modified(key);
    ctx.notify(notify::STRING, "pfadd", key);
    ctx.engine.dirty += 1;
    ctx.out.ok();
    Ok(())
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key.
fn pfdebug(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let sub = args[1];
    let key = args[2];
    let now = ctx.now_ms();
    let name = crate::util::lossy_c_str(sub);
    let arity = || {
        CmdError::Owned(format!(
            "ERR Wrong number of arguments for the '{name}' subcommand"
        ))
    };
    let db = &mut ctx.engine.dbs[ctx.session.db];
    let Some(e) = db.lookup_write(key, now) else {
        return Err(CmdError::Static("ERR The specified key does not exist"));
    };
    let s = hll_mut(&mut e.value)?;
    if eq_ic(sub, "getreg") {
        if args.len() != 3 {
            return Err(arity());
        }
        let converted = hll::is_sparse(s);
        hll::to_dense(s)?;
        let regs: Vec<u8> = (0..hll::REGISTERS)
            .map(|i| hll::dense_register(s, i))
            .collect();
        if converted {
            ctx.engine.dirty += 1;
        }
        ctx.out.array(regs.len());
        for r in regs {
            ctx.out.int(i64::from(r));
        }
    } else if eq_ic(sub, "decode") {
        if args.len() != 3 {
            return Err(arity());
        }
        if !hll::is_sparse(s) {
            return Err(CmdError::Static("ERR HLL encoding is not sparse"));
        }
        let text = hll::decode(s)?;
        ctx.out.bulk(text.as_bytes());
    } else if eq_ic(sub, "encoding") {
        if args.len() != 3 {
            return Err(arity());
        }
        let enc: &[u8] = if hll::is_sparse(s) {
            b"sparse"
        } else {
            b"dense"
        };
        ctx.out.simple(enc);
    } else if eq_ic(sub, "todense") {
        if args.len() != 3 {
            return Err(arity());
        }
        let converted = hll::is_sparse(s);
        hll::to_dense(s)?;
        if converted {
            ctx.engine.dirty += 1;
        }
        ctx.out.int(i64::from(converted));
    } else {
        return Err(CmdError::Owned(format!(
            "ERR Unknown PFDEBUG subcommand '{name}'"
        )));
    }
    Ok(())
}

/// PFSELFTEST: the representation's and estimator's self checks.
fn pfselftest(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    hll::self_test().map_err(|e| CmdError::Owned(format!("ERR {e}")))?;
    ctx.out.ok();
    Ok(())
}

#[cfg(test)]
#[path = "hll_tests.rs"]
mod tests;
