//! Bitmaps on strings, as Redis 7.0.15's bitops.c: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP,
//! BITFIELD and BITFIELD_RO.
//!
//! Bits are numbered from the most significant bit of the first byte. A write past the end
//! grows the string with zero bytes, up to `proto-max-bulk-len` bytes (512 MB by default).
//!
//! Invariants:
//! - A handler that fails has written nothing: every argument is parsed (and BITFIELD's
//!   whole op list) before the key is looked up or created.
//! - Encodings follow Redis: a string these commands write is `raw` (`dbUnshareStringValue`,
//!   and BITOP's `createObject`), whatever it was.
//! - `dirty` counts what Redis 7.0 counts: SETBIT and BITFIELD only when a bit changed or
//!   the string was created or grown, so a no-op write is not propagated; BITOP once when
//!   it stores or deletes.
//! - Counting is word at a time (`u64::count_ones`), never bit by bit.

use super::{CmdFn, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::notify;
use crate::object::{Str, Value};
use crate::util::{eq_ic, grow_zeroed, parse_i64};

pub const COMMANDS: &[(&str, CmdFn)] = &[
    ("setbit", setbit),
    ("getbit", getbit),
    ("bitcount", bitcount),
    ("bitpos", bitpos),
    ("bitop", bitop),
    ("bitfield", bitfield),
    ("bitfield_ro", bitfield_ro),
];

const OFFSET_ERR: &str = "ERR bit offset is not an integer or out of range";

/// `getBitOffsetFromArgument`: a bit offset below `proto-max-bulk-len` bytes; with `bits`
/// (BITFIELD), `#N` means N times the field width.
fn bit_offset(ctx: &Ctx<'_>, arg: &[u8], bits: Option<u32>) -> Result<u64, CmdError> {
    let (hash, digits) = match (arg.first(), bits) {
        (Some(b'#'), Some(_)) => (true, &arg[1..]),
        _ => (false, arg),
    };
    let mut off = parse_i64(digits).map_err(|_| CmdError::Static(OFFSET_ERR))?;
    if hash {
        off = off.wrapping_mul(i64::from(bits.unwrap_or(1)));
    }
    if off < 0 || (off as u64 >> 3) >= ctx.engine.config.proto_max_bulk_len {
        return Err(CmdError::Static(OFFSET_ERR));
    }
    Ok(off as u64)
}

/// The bytes of a string value (an `int` one as its decimal text, in `scratch`).
fn bytes_of<'a>(v: &'a Value, scratch: &'a mut [u8; 20]) -> Result<&'a [u8], CmdError> {
    Ok(super::strings::as_str(v)?.as_bytes(scratch))
}

/// `lookupStringForBitCommand`: runs `f` on the string at `key` as raw bytes at least
/// `max_bit / 8 + 1` long (created zeroed when missing), telling it whether the string was
/// created or grown. One lookup either way.
fn with_string_for_write<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    max_bit: u64,
    f: impl FnOnce(&mut Vec<u8>, bool) -> R,
) -> Result<R, CmdError> {
    let need = (max_bit >> 3) as usize + 1;
    let now = ctx.now_ms();
    let db = &mut ctx.engine.dbs[ctx.session.db];
    match db.lookup_write(key, now) {
        Some(e) => {
            let Value::Str(s) = &mut e.value else {
                return Err(CmdError::WrongType);
            };
            let v = s.make_raw();
            let grown = v.len() < need;
            grow_zeroed(v, need)?;
            Ok(f(v, grown))
        }
        None => {
            let mut v = Vec::new();
            grow_zeroed(&mut v, need)?;
            let r = f(&mut v, true);
            db.set(key, Value::Str(Str::raw(v)), false);
            Ok(r)
        }
    }
}

/// SETBIT key offset 0|1 → the bit's previous value.
fn setbit(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let offset = bit_offset(ctx, args[2], None)?;
    let on = match parse_i64(args[3]) {
        Ok(v @ (0 | 1)) => v == 1,
        _ => {
            return Err(CmdError::Static(
                "ERR bit is not an integer or out of range",
            ));
        }
    };
    let byte = (offset >> 3) as usize;
    let mask = 1u8 << (7 - (offset & 7));
    let (was, grown) = with_string_for_write(ctx, key, offset, |v, grown| {
        let was = v[byte] & mask != 0;
        if on {
            v[byte] |= mask;
        } else {
            v[byte] &= !mask;
        }
        (was, grown)
    })?;
    if grown || was != on {
        ctx.signal_modified(key);
        ctx.notify(notify::STRING, "setbit", key);
        ctx.engine.dirty += 1;
    }
    ctx.out.int(was as i64);
    Ok(())
}

/// GETBIT key offset → 0 or 1 (0 past the end or for a missing key).
fn getbit(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let offset = bit_offset(ctx, args[2], None)?;
    let now = ctx.now_ms();
    let Some(e) = ctx.engine.dbs[ctx.session.db].lookup_read(args[1], now) else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut scratch = [0u8; 20];
    let s = bytes_of(&e.value, &mut scratch)?;
    let byte = (offset >> 3) as usize;
    let bit = s
        .get(byte)
        .is_some_and(|b| b & (1 << (7 - (offset & 7))) != 0);
    ctx.out.int(bit as i64);
    Ok(())
}

/// Set bits in `s`, eight bytes at a time.
pub fn popcount(s: &[u8]) -> u64 {
    let mut chunks = s.chunks_exact(8);
    let mut n: u64 = 0;
    for c in &mut chunks {
        n += u64::from(u64::from_ne_bytes(c.try_into().expect("8 bytes")).count_ones());
    }
    n + chunks
        .remainder()
        .iter()
        .map(|b| u64::from(b.count_ones()))
        .sum::<u64>()
}

/// A `[start, end]` range of BITCOUNT/BITPOS resolved against a string of `len` bytes, in
/// bits: None when empty.
fn bit_range(start: i64, end: i64, len: usize, in_bits: bool) -> Option<(u64, u64)> {
    let total = if in_bits { len as i64 * 8 } else { len as i64 };
    let fix = |i: i64| if i < 0 { (total + i).max(0) } else { i };
    let (start, end) = (fix(start), fix(end).min(total - 1));
    if start > end {
        return None;
    }
    let (start, end) = (start as u64, end as u64);
    Some(if in_bits {
        (start, end)
    } else {
        (start * 8, end * 8 + 7)
    })
}

/// The unit keyword of BITCOUNT/BITPOS: BIT → true, BYTE → false.
fn unit(arg: &[u8]) -> Result<bool, CmdError> {
    if eq_ic(arg, "bit") {
        Ok(true)
    } else if eq_ic(arg, "byte") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

/// BITCOUNT key [start end [BYTE|BIT]]. As 7.0.15, the key is looked up before the
/// arguments are parsed: a missing key answers 0 whatever follows.
fn bitcount(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms();
    let Some(e) = ctx.engine.dbs[ctx.session.db].lookup_read(args[1], now) else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut scratch = [0u8; 20];
    let s = bytes_of(&e.value, &mut scratch)?;
    let bits = match args.len() {
        2 if s.is_empty() => None,
        2 => Some((0, s.len() as u64 * 8 - 1)),
        4 | 5 => {
            let start = parse_i64(args[2])?;
            let end = parse_i64(args[3])?;
            let in_bits = match args.get(4) {
                Some(a) => unit(a)?,
                None => false,
            };
            // Two negative indexes in the wrong order are empty before any clamping.
            if start < 0 && end < 0 && start > end {
                None
            } else {
                bit_range(start, end, s.len(), in_bits)
            }
        }
        _ => return Err(CmdError::Syntax),
    };
    let n = bits.map_or(0, |(first, last)| count_bits(s, first, last));
    ctx.out.int(n as i64);
    Ok(())
}

/// Set bits of `s` from bit `first` to bit `last`, both included and within `s`.
fn count_bits(s: &[u8], first: u64, last: u64) -> u64 {
    let (b0, b1) = ((first >> 3) as usize, (last >> 3) as usize);
    let mut n = popcount(&s[b0..=b1]);
    // Bits of the edge bytes outside the range.
    let head = s[b0] & !(0xffu8 >> (first & 7));
    let tail = s[b1] & ((1u16 << (7 - (last & 7))) - 1) as u8;
    n -= u64::from(head.count_ones()) + u64::from(tail.count_ones());
    n
}

/// The first bit equal to `bit` from bit `first` to bit `last` of `s`, both included.
fn find_bit(s: &[u8], bit: bool, first: u64, last: u64) -> Option<u64> {
    let mut i = first;
    // Up to the first byte boundary bit by bit, then whole bytes, then bit by bit.
    while i <= last {
        if i & 7 == 0 && i + 7 <= last {
            let b = s[(i >> 3) as usize];
            let skip = if bit { b == 0 } else { b == 0xff };
            if skip {
                i += 8;
                continue;
            }
        }
        let b = s[(i >> 3) as usize] & (0x80 >> (i & 7)) != 0;
        if b == bit {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// BITPOS key 0|1 [start [end [BYTE|BIT]]] → the first bit with that value, or -1.
fn bitpos(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let bit = match parse_i64(args[2])? {
        0 => false,
        1 => true,
        _ => return Err(CmdError::Static("ERR The bit argument must be 1 or 0.")),
    };
    let now = ctx.now_ms();
    let Some(e) = ctx.engine.dbs[ctx.session.db].lookup_read(args[1], now) else {
        // A missing key is an infinite run of zeros.
        ctx.out.int(if bit { -1 } else { 0 });
        return Ok(());
    };
    let mut scratch = [0u8; 20];
    let s = bytes_of(&e.value, &mut scratch)?;
    let (range, end_given) = match args.len() {
        3 => (bit_range(0, -1, s.len(), false), false),
        4..=6 => {
            let start = parse_i64(args[3])?;
            let in_bits = match args.get(5) {
                Some(a) => unit(a)?,
                None => false,
            };
            let end = match args.get(4) {
                Some(a) => parse_i64(a)?,
                None => -1,
            };
            (bit_range(start, end, s.len(), in_bits), args.len() >= 5)
        }
        _ => return Err(CmdError::Syntax),
    };
    let pos = match range {
        None => -1,
        Some((first, last)) => match find_bit(s, bit, first, last) {
            Some(p) => p as i64,
            // No set bit: -1. No clear bit: the string counts as padded with zeros on the
            // right, unless the caller gave an explicit end.
            None if bit || end_given => -1,
            None => (((last >> 3) + 1) * 8) as i64,
        },
    };
    ctx.out.int(pos);
    Ok(())
}

/// BITOP AND|OR|XOR|NOT destkey srckey [srckey ...] → the stored string's length.
fn bitop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    #[derive(Clone, Copy, PartialEq)]
    enum Op {
        And,
        Or,
        Xor,
        Not,
    }
    let op = if eq_ic(args[1], "and") {
        Op::And
    } else if eq_ic(args[1], "or") {
        Op::Or
    } else if eq_ic(args[1], "xor") {
        Op::Xor
    } else if eq_ic(args[1], "not") {
        Op::Not
    } else {
        return Err(CmdError::Syntax);
    };
    if op == Op::Not && args.len() != 4 {
        return Err(CmdError::Static(
            "ERR BITOP NOT must be called with a single source key.",
        ));
    }
    let (dest, srcs) = (args[2], &args[3..]);
    let now = ctx.now_ms();
    let db = ctx.session.db;
    // The sources' bytes (a missing key is empty; an int one its text).
    let mut values: Vec<Vec<u8>> = Vec::with_capacity(srcs.len());
    for k in srcs {
        match ctx.engine.dbs[db].lookup_read(k, now) {
            None => values.push(Vec::new()),
            Some(e) => {
                let mut scratch = [0u8; 20];
                values.push(bytes_of(&e.value, &mut scratch)?.to_vec());
            }
        }
    }
    let maxlen = values.iter().map(Vec::len).max().unwrap_or(0);
    if maxlen == 0 {
        if ctx.engine.dbs[db].delete(dest, now) {
            ctx.signal_modified(dest);
            ctx.notify(notify::GENERIC, "del", dest);
            ctx.engine.dirty += 1;
        }
        ctx.out.int(0);
        return Ok(());
    }
    let mut res = values.swap_remove(0);
    res.resize(maxlen, 0);
    match op {
        Op::Not => res.iter_mut().for_each(|b| *b = !*b),
        _ => {
            for v in &values {
                let (common, rest) = res.split_at_mut(v.len());
                for (r, b) in common.iter_mut().zip(v) {
                    match op {
                        Op::And => *r &= b,
                        Op::Or => *r |= b,
                        _ => *r ^= b,
                    }
                }
                // Past a shorter source its bytes are zeros.
                if op == Op::And {
                    rest.fill(0);
                }
            }
        }
    }
    let dbr = &mut ctx.engine.dbs[db];
    let had_ttl = match dbr.lookup_write(dest, now) {
        Some(e) => {
            e.value = Value::Str(Str::raw(res));
            e.expire_at().is_some()
        }
        None => {
            dbr.set(dest, Value::Str(Str::raw(res)), false);
            false
        }
    };
    if had_ttl {
        dbr.persist(dest);
    }
    ctx.signal_modified(dest);
    ctx.notify(notify::STRING, "set", dest);
    ctx.engine.dirty += 1;
    ctx.out.int(maxlen as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// BITFIELD

#[derive(Clone, Copy, PartialEq, Debug)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum FieldOp {
    Get,
    Set,
    IncrBy,
}

#[derive(Clone, Copy, Debug)]
struct Field {
    op: FieldOp,
    signed: bool,
    bits: u32,
    offset: u64,
    value: i64,
    overflow: Overflow,
}

const TYPE_ERR: &str = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

/// `getBitfieldTypeFromArgument`: `i1`..`i64` or `u1`..`u63`.
fn field_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(CmdError::Static(TYPE_ERR)),
    };
    match parse_i64(&arg[1..]) {
        Ok(b) if b >= 1 && b <= if signed { 64 } else { 63 } => Ok((signed, b as u32)),
        _ => Err(CmdError::Static(TYPE_ERR)),
    }
}

/// The `bits`-wide unsigned field at bit `offset` of `s` (zeros past its end).
fn get_unsigned(s: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for i in 0..u64::from(bits) {
        let o = offset + i;
        let byte = s.get((o >> 3) as usize).copied().unwrap_or(0);
        v = (v << 1) | u64::from((byte >> (7 - (o & 7))) & 1);
    }
    v
}

fn get_signed(s: &[u8], offset: u64, bits: u32) -> i64 {
    let mut v = get_unsigned(s, offset, bits);
    if bits < 64 && v & (1 << (bits - 1)) != 0 {
        v |= u64::MAX << bits;
    }
    v as i64
}

fn set_field(s: &mut [u8], offset: u64, bits: u32, value: u64) {
    for i in 0..u64::from(bits) {
        let o = offset + i;
        let bit = (value >> (u64::from(bits) - 1 - i)) & 1;
        let mask = 0x80u8 >> (o & 7);
        let b = &mut s[(o >> 3) as usize];
        if bit == 1 {
            *b |= mask;
        } else {
            *b &= !mask;
        }
    }
}

/// `checkSignedBitfieldOverflow`: `Some(result)` to store when `value + incr` overflows a
/// signed `bits`-wide field (wrapped or saturated; FAIL stores nothing but still reports).
fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<i64> {
    let max: i64 = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1 << (bits - 1)) != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        Some(match ow {
            Overflow::Wrap => wrap(),
            _ => max,
        })
    } else if value < min
        || (bits != 64 && incr < minincr)
        || (value < 0 && incr < 0 && incr < minincr)
    {
        Some(match ow {
            Overflow::Wrap => wrap(),
            _ => min,
        })
    } else {
        None
    }
}

/// `checkUnsignedBitfieldOverflow`, as [`signed_overflow`] for an unsigned field.
fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<u64> {
    let max: u64 = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = (value as i64).wrapping_neg();
    let wrap = || value.wrapping_add(incr as u64) & !(u64::MAX << bits);
    if value > max || (incr > 0 && incr > maxincr) {
        Some(match ow {
            Overflow::Wrap => wrap(),
            _ => max,
        })
    } else if incr < 0 && incr < minincr {
        Some(match ow {
            Overflow::Wrap => wrap(),
            _ => 0,
        })
    } else {
        None
    }
}

/// BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset incr]
/// [OVERFLOW WRAP|SAT|FAIL] ...
fn bitfield(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    bitfield_generic(ctx, args, false)
}

/// BITFIELD_RO key [GET type offset ...]
fn bitfield_ro(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    bitfield_generic(ctx, args, true)
}

fn bitfield_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], read_only: bool) -> CmdResult {
    let key = args[1];
    let mut ops: Vec<Field> = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut highest: u64 = 0;
    let mut j = 2;
    while j < args.len() {
        let rem = args.len() - j - 1;
        let sub = args[j];
        let op = if eq_ic(sub, "get") && rem >= 2 {
            FieldOp::Get
        } else if eq_ic(sub, "set") && rem >= 3 {
            FieldOp::Set
        } else if eq_ic(sub, "incrby") && rem >= 3 {
            FieldOp::IncrBy
        } else if eq_ic(sub, "overflow") && rem >= 1 {
            let t = args[j + 1];
            overflow = if eq_ic(t, "wrap") {
                Overflow::Wrap
            } else if eq_ic(t, "sat") {
                Overflow::Sat
            } else if eq_ic(t, "fail") {
                Overflow::Fail
            } else {
                return Err(CmdError::Static("ERR Invalid OVERFLOW type specified"));
            };
            j += 2;
            continue;
        } else {
            return Err(CmdError::Syntax);
        };
        let (signed, bits) = field_type(args[j + 1])?;
        let offset = bit_offset(ctx, args[j + 2], Some(bits))?;
        let mut value = 0;
        if op != FieldOp::Get {
            highest = highest.max(offset + u64::from(bits) - 1);
            value = parse_i64(args[j + 3])?;
        }
        ops.push(Field {
            op,
            signed,
            bits,
            offset,
            value,
            overflow,
        });
        j += if op == FieldOp::Get { 3 } else { 4 };
    }
    let writes = ops.iter().any(|o| o.op != FieldOp::Get);
    if !writes {
        let now = ctx.now_ms();
        let e = ctx.engine.dbs[ctx.session.db].lookup_read(key, now);
        let mut scratch = [0u8; 20];
        let s: &[u8] = match e {
            None => &[],
            Some(e) => bytes_of(&e.value, &mut scratch)?,
        };
        // Replies computed first: `s` borrows the keyspace that `ctx.out` sits beside.
        let vals: Vec<i64> = ops
            .iter()
            .map(|o| {
                if o.signed {
                    get_signed(s, o.offset, o.bits)
                } else {
                    get_unsigned(s, o.offset, o.bits) as i64
                }
            })
            .collect();
        ctx.out.array(vals.len());
        for v in vals {
            ctx.out.int(v);
        }
        return Ok(());
    }
    if read_only {
        return Err(CmdError::Static(
            "ERR BITFIELD_RO only supports the GET subcommand",
        ));
    }
    let (replies, changes) = with_string_for_write(ctx, key, highest, |s, grown| {
        // None: a FAIL overflow (a null reply).
        let mut replies: Vec<Option<i64>> = Vec::with_capacity(ops.len());
        let mut changes = 0u64;
        for o in &ops {
            match o.op {
                FieldOp::Get => replies.push(Some(if o.signed {
                    get_signed(s, o.offset, o.bits)
                } else {
                    get_unsigned(s, o.offset, o.bits) as i64
                })),
                _ if o.signed => {
                    let old = get_signed(s, o.offset, o.bits);
                    let (new, ret, of) = if o.op == FieldOp::IncrBy {
                        let of = signed_overflow(old, o.value, o.bits, o.overflow);
                        let new = of.unwrap_or(old.wrapping_add(o.value));
                        (new, new, of.is_some())
                    } else {
                        let of = signed_overflow(o.value, 0, o.bits, o.overflow);
                        (of.unwrap_or(o.value), old, of.is_some())
                    };
                    if of && o.overflow == Overflow::Fail {
                        replies.push(None);
                    } else {
                        replies.push(Some(ret));
                        set_field(s, o.offset, o.bits, new as u64);
                        changes += u64::from(grown || old != new);
                    }
                }
                _ => {
                    let old = get_unsigned(s, o.offset, o.bits);
                    let (new, ret, of) = if o.op == FieldOp::IncrBy {
                        let of = unsigned_overflow(old, o.value, o.bits, o.overflow);
                        let new = of.unwrap_or(old.wrapping_add(o.value as u64));
                        (new, new, of.is_some())
                    } else {
                        let of = unsigned_overflow(o.value as u64, 0, o.bits, o.overflow);
                        (of.unwrap_or(o.value as u64), old, of.is_some())
                    };
                    if of && o.overflow == Overflow::Fail {
                        replies.push(None);
                    } else {
                        replies.push(Some(ret as i64));
                        set_field(s, o.offset, o.bits, new);
                        changes += u64::from(grown || old != new);
                    }
                }
            }
        }
        (replies, changes)
    })?;
    if changes > 0 {
        ctx.signal_modified(key);
        ctx.notify(notify::STRING, "setbit", key);
        ctx.engine.dirty += changes;
    }
    ctx.out.array(replies.len());
    for r in replies {
        match r {
            Some(v) => ctx.out.int(v),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "bitmap_tests.rs"]
mod tests;
