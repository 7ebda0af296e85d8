//! The C libraries Redis 7.0 links into its Lua (deps/lua), written in Rust and registered
//! as Lua functions: `bit` (LuaBitOp 1.0.2), `struct` (lua_struct 0.2), `redisLrand48`
//! behind `math.random`, `cmsgpack` (lua-cmsgpack 0.4.0: pack, unpack, unpack_one,
//! unpack_limit); `cjson` is in its own module ([`super::cjson`]).
//! Errors are raised with the caller's position, as `luaL_error` does.

use mlua::{Lua, MultiValue, Value};

type Ret = mlua::Result<Value>;

pub(super) fn fail(lua: &Lua, msg: &str) -> Ret {
    Err(super::raise_msg(lua, msg))
}

pub(super) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::LightUserData(_) | Value::UserData(_) => "userdata",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        _ => "userdata",
    }
}

/// Lua's `tonumber` for a value (numbers, and strings that parse as numbers).
pub fn to_number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        Value::String(s) => {
            let s = s.to_str().ok()?;
            let t = s.trim();
            if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                return u64::from_str_radix(h, 16).ok().map(|v| v as f64);
            }
            t.parse::<f64>().ok()
        }
        _ => None,
    }
}

/// LuaBitOp's `barg`: the number's low 32 bits after adding 2^52+2^51 (round to nearest).
fn barg(lua: &Lua, args: &MultiValue, i: usize, fname: &str) -> Result<i32, Ret> {
    let v = args.get(i).cloned().unwrap_or(Value::Nil);
    match to_number(&v) {
        Some(n) => Ok((n + 6_755_399_441_055_744.0).to_bits() as u32 as i32),
        None => {
            let got = if args.len() <= i {
                "no value"
            } else {
                type_name(&v)
            };
            Err(fail(
                lua,
                &format!(
                    "bad argument #{} to '{fname}' (number expected, got {got})",
                    i + 1
                ),
            ))
        }
    }
}

fn num(v: i32) -> Ret {
    Ok(Value::Number(v as f64))
}

macro_rules! bitarg {
    ($lua:expr, $args:expr, $i:expr, $name:expr) => {
        match barg($lua, &$args, $i, $name) {
            Ok(v) => v,
            Err(e) => return e,
        }
    };
}

/// Registers `bit_*` in `raw`.
pub fn register_bit(lua: &Lua, raw: &mlua::Table) -> mlua::Result<()> {
    fn reduce(lua: &Lua, args: MultiValue, name: &str, f: fn(i32, i32) -> i32) -> Ret {
        let mut acc = bitarg!(lua, args, 0, name);
        for i in 1..args.len() {
            acc = f(acc, bitarg!(lua, args, i, name));
        }
        num(acc)
    }
    raw.set(
        "bit_tobit",
        lua.create_function(|lua, a: MultiValue| num(bitarg!(lua, a, 0, "tobit")))?,
    )?;
    raw.set(
        "bit_bnot",
        lua.create_function(|lua, a: MultiValue| num(!bitarg!(lua, a, 0, "bnot")))?,
    )?;
    raw.set(
        "bit_bswap",
        lua.create_function(|lua, a: MultiValue| num(bitarg!(lua, a, 0, "bswap").swap_bytes()))?,
    )?;
    raw.set(
        "bit_band",
        lua.create_function(|lua, a: MultiValue| reduce(lua, a, "band", |x, y| x & y))?,
    )?;
    raw.set(
        "bit_bor",
        lua.create_function(|lua, a: MultiValue| reduce(lua, a, "bor", |x, y| x | y))?,
    )?;
    raw.set(
        "bit_bxor",
        lua.create_function(|lua, a: MultiValue| reduce(lua, a, "bxor", |x, y| x ^ y))?,
    )?;
    type Shift = fn(i32, u32) -> i32;
    let shifts: [(&str, Shift); 5] = [
        ("lshift", |x, n| ((x as u32) << n) as i32),
        ("rshift", |x, n| ((x as u32) >> n) as i32),
        ("arshift", |x, n| x >> n),
        ("rol", |x, n| (x as u32).rotate_left(n) as i32),
        ("ror", |x, n| (x as u32).rotate_right(n) as i32),
    ];
    for (name, f) in shifts {
        raw.set(
            format!("bit_{name}"),
            lua.create_function(move |lua, a: MultiValue| {
                let x = bitarg!(lua, a, 0, name);
                let n = bitarg!(lua, a, 1, name) as u32 & 31;
                num(f(x, n))
            })?,
        )?;
    }
    raw.set(
        "bit_tohex",
        lua.create_function(|lua, a: MultiValue| {
            let x = bitarg!(lua, a, 0, "tohex");
            let mut n = if a.len() > 1 && !a[1].is_nil() {
                bitarg!(lua, a, 1, "tohex")
            } else {
                8
            };
            let upper = n < 0;
            if upper {
                n = n.wrapping_neg();
            }
            let n = n.clamp(0, 8) as usize;
            let digits = if upper {
                format!("{:08X}", x as u32)
            } else {
                format!("{:08x}", x as u32)
            };
            Ok(Value::String(lua.create_string(&digits[8 - n..])?))
        })?,
    )?;
    Ok(())
}

/// Redis's `redisLrand48` (rand.c): drand48's 48-bit generator, one stream for the process,
/// starting from the unseeded state as Redis's does.
#[derive(Clone, Copy, Debug)]
pub struct Lrand48(u64);

impl Default for Lrand48 {
    fn default() -> Self {
        Lrand48(0x1234_ABCD_330E)
    }
}

impl Lrand48 {
    const MAX: i64 = i32::MAX as i64;

    pub fn next_i32(&mut self) -> i32 {
        self.0 = (0x5_DEEC_E66Du64.wrapping_mul(self.0).wrapping_add(0xB)) & ((1 << 48) - 1);
        (self.0 >> 17) as i32
    }

    /// `math.random()`'s number in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_i32() as i64 % Self::MAX) as f64 / Self::MAX as f64
    }

    pub fn seed(&mut self, s: i32) {
        self.0 = ((s as u32 as u64) << 16) | 0x330E;
    }
}

/// `%.14g`, Lua's and cjson's number format.
pub fn fmt_g14(d: f64) -> String {
    fmt_gp(d, 14)
}

pub(super) fn fmt_gp(d: f64, precision: i32) -> String {
    let mut b = [0u8; 32];
    String::from_utf8_lossy(resp::num::fmt_g(d, precision as usize, &mut b)).into_owned()
}

// ---- struct (Roberto Ierusalimschy's lua_struct 0.2 as Redis ships it) ----

const MAXINTSIZE: usize = 32;
const MAXALIGN: usize = 8;

struct Header {
    little: bool,
    align: usize,
}

/// A format's number at `*i` (`getnum`), or `df`.
fn getnum(lua: &Lua, fmt: &[u8], i: &mut usize, df: usize) -> mlua::Result<usize> {
    if !fmt.get(*i).is_some_and(|c| c.is_ascii_digit()) {
        return Ok(df);
    }
    let mut a: usize = 0;
    while let Some(&c) = fmt.get(*i).filter(|c| c.is_ascii_digit()) {
        let d = (c - b'0') as usize;
        if a > (i32::MAX as usize) / 10 || a * 10 > i32::MAX as usize - d {
            return Err(super::raise_msg(lua, "integral size overflow"));
        }
        a = a * 10 + d;
        *i += 1;
    }
    Ok(a)
}

fn optsize(lua: &Lua, opt: u8, fmt: &[u8], i: &mut usize) -> mlua::Result<usize> {
    Ok(match opt {
        b'B' | b'b' | b'x' => 1,
        b'H' | b'h' => 2,
        b'L' | b'l' | b'T' | b'd' => 8,
        b'f' => 4,
        b'c' => getnum(lua, fmt, i, 1)?,
        b'i' | b'I' => {
            let sz = getnum(lua, fmt, i, 4)?;
            if sz > MAXINTSIZE {
                return Err(super::raise_msg(
                    lua,
                    &format!("integral size {sz} is larger than limit of {MAXINTSIZE}"),
                ));
            }
            sz
        }
        _ => 0,
    })
}

fn gettoalign(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size - (len & (size - 1))) & (size - 1)
}

fn argerror(lua: &Lua, n: usize, fname: &str, msg: &str) -> mlua::Error {
    super::raise_msg(lua, &format!("bad argument #{n} to '{fname}' ({msg})"))
}

fn controloptions(
    lua: &Lua,
    opt: u8,
    fmt: &[u8],
    i: &mut usize,
    h: &mut Header,
    fname: &str,
) -> mlua::Result<()> {
    match opt {
        b' ' => {}
        b'>' => h.little = false,
        b'<' => h.little = true,
        b'!' => {
            let a = getnum(lua, fmt, i, MAXALIGN)?;
            if !a.is_power_of_two() {
                return Err(super::raise_msg(
                    lua,
                    &format!("alignment {a} is not a power of 2"),
                ));
            }
            h.align = a;
        }
        _ => {
            return Err(argerror(
                lua,
                1,
                fname,
                &format!("invalid format option '{}'", opt as char),
            ));
        }
    }
    Ok(())
}

fn check_number(lua: &Lua, a: &MultiValue, n: usize, fname: &str) -> mlua::Result<f64> {
    let v = a.get(n - 1).cloned().unwrap_or(Value::Nil);
    to_number(&v).ok_or_else(|| {
        let got = if a.len() < n {
            "no value"
        } else {
            type_name(&v)
        };
        argerror(lua, n, fname, &format!("number expected, got {got}"))
    })
}

fn check_string(lua: &Lua, a: &MultiValue, n: usize, fname: &str) -> mlua::Result<Vec<u8>> {
    match a.get(n - 1) {
        Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
        Some(v @ (Value::Number(_) | Value::Integer(_))) => {
            Ok(fmt_g14(to_number(v).unwrap_or(0.0)).into_bytes())
        }
        v => {
            let got = v.map_or("no value", type_name);
            Err(argerror(
                lua,
                n,
                fname,
                &format!("string expected, got {got}"),
            ))
        }
    }
}

fn struct_pack(lua: &Lua, a: MultiValue) -> mlua::Result<Value> {
    let fmt = check_string(lua, &a, 1, "pack")?;
    let mut h = Header {
        little: true,
        align: 1,
    };
    let mut arg = 2;
    let mut out: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < fmt.len() {
        let opt = fmt[i];
        i += 1;
        let mut size = optsize(lua, opt, &fmt, &mut i)?;
        let toalign = gettoalign(out.len(), &h, opt, size);
        out.resize(out.len() + toalign, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = check_number(lua, &a, arg, "pack")?;
                arg += 1;
                let mut value: u64 = if n < 0.0 { n as i64 as u64 } else { n as u64 };
                let mut buf = vec![0u8; size];
                if h.little {
                    for b in buf.iter_mut() {
                        *b = value as u8;
                        value >>= 8;
                    }
                } else {
                    for b in buf.iter_mut().rev() {
                        *b = value as u8;
                        value >>= 8;
                    }
                }
                out.extend_from_slice(&buf);
            }
            b'x' => out.push(0),
            b'f' => {
                let f = check_number(lua, &a, arg, "pack")? as f32;
                arg += 1;
                out.extend_from_slice(&if h.little {
                    f.to_le_bytes()
                } else {
                    f.to_be_bytes()
                });
            }
            b'd' => {
                let d = check_number(lua, &a, arg, "pack")?;
                arg += 1;
                out.extend_from_slice(&if h.little {
                    d.to_le_bytes()
                } else {
                    d.to_be_bytes()
                });
            }
            b'c' | b's' => {
                let s = check_string(lua, &a, arg, "pack")?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    // lua_struct reports the argument after the string (it was advanced).
                    return Err(argerror(lua, arg, "pack", "string too short"));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => controloptions(lua, opt, &fmt, &mut i, &mut h, "pack")?,
        }
    }
    Ok(Value::String(lua.create_string(&out)?))
}

fn struct_unpack(lua: &Lua, a: MultiValue) -> mlua::Result<MultiValue> {
    let fmt = check_string(lua, &a, 1, "unpack")?;
    let data = check_string(lua, &a, 2, "unpack")?;
    let ld = data.len();
    let init = match a.get(2) {
        None | Some(Value::Nil) => 1.0,
        Some(_) => check_number(lua, &a, 3, "unpack")?,
    };
    if init <= 0.0 {
        return Err(argerror(lua, 3, "unpack", "offset must be 1 or greater"));
    }
    let mut pos = init as usize - 1;
    let mut h = Header {
        little: true,
        align: 1,
    };
    let mut res: Vec<Value> = Vec::new();
    let mut i = 0;
    let short = |lua: &Lua| argerror(lua, 2, "unpack", "data string too short");
    while i < fmt.len() {
        let opt = fmt[i];
        i += 1;
        let mut size = optsize(lua, opt, &fmt, &mut i)?;
        pos += gettoalign(pos, &h, opt, size);
        if !(size <= ld && pos <= ld - size) {
            return Err(short(lua));
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let bytes = &data[pos..pos + size];
                let mut l: u64 = 0;
                if h.little {
                    for &b in bytes.iter().rev() {
                        l = l.wrapping_shl(8) | b as u64;
                    }
                } else {
                    for &b in bytes {
                        l = l.wrapping_shl(8) | b as u64;
                    }
                }
                let v = if opt.is_ascii_lowercase() && size > 0 && size <= 8 {
                    let mask = u64::MAX << (size * 8 - 1);
                    if l & mask != 0 {
                        l |= mask;
                    }
                    l as i64 as f64
                } else {
                    l as f64
                };
                res.push(Value::Number(v));
            }
            b'x' => {}
            b'f' => {
                let b: [u8; 4] = data[pos..pos + 4].try_into().unwrap_or([0; 4]);
                let f = if h.little {
                    f32::from_le_bytes(b)
                } else {
                    f32::from_be_bytes(b)
                };
                res.push(Value::Number(f as f64));
            }
            b'd' => {
                let b: [u8; 8] = data[pos..pos + 8].try_into().unwrap_or([0; 8]);
                let d = if h.little {
                    f64::from_le_bytes(b)
                } else {
                    f64::from_be_bytes(b)
                };
                res.push(Value::Number(d));
            }
            b'c' => {
                if size == 0 {
                    let prev = res.last().and_then(to_number);
                    let Some(n) = prev else {
                        return Err(super::raise_msg(lua, "format 'c0' needs a previous size"));
                    };
                    res.pop();
                    size = n as usize;
                    if !(size <= ld && pos <= ld - size) {
                        return Err(short(lua));
                    }
                }
                res.push(Value::String(lua.create_string(&data[pos..pos + size])?));
            }
            b's' => {
                let Some(e) = memchr::memchr(0, &data[pos..]) else {
                    return Err(super::raise_msg(lua, "unfinished string in data"));
                };
                size = e + 1;
                res.push(Value::String(lua.create_string(&data[pos..pos + e])?));
            }
            _ => controloptions(lua, opt, &fmt, &mut i, &mut h, "unpack")?,
        }
        pos += size;
    }
    res.push(Value::Number((pos + 1) as f64));
    Ok(MultiValue::from_iter(res))
}

fn struct_size(lua: &Lua, a: MultiValue) -> mlua::Result<Value> {
    let fmt = check_string(lua, &a, 1, "size")?;
    let mut h = Header {
        little: true,
        align: 1,
    };
    let mut pos = 0usize;
    let mut i = 0;
    while i < fmt.len() {
        let opt = fmt[i];
        i += 1;
        let size = optsize(lua, opt, &fmt, &mut i)?;
        pos += gettoalign(pos, &h, opt, size);
        if opt == b's' {
            return Err(argerror(lua, 1, "size", "option 's' has no fixed size"));
        } else if opt == b'c' && size == 0 {
            return Err(argerror(lua, 1, "size", "option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            controloptions(lua, opt, &fmt, &mut i, &mut h, "size")?;
        }
        pos += size;
    }
    Ok(Value::Number(pos as f64))
}

/// Registers `struct_pack`, `struct_unpack` and `struct_size` in `raw`.
pub fn register_struct(lua: &Lua, raw: &mlua::Table) -> mlua::Result<()> {
    raw.set("struct_pack", lua.create_function(struct_pack)?)?;
    raw.set("struct_unpack", lua.create_function(struct_unpack)?)?;
    raw.set("struct_size", lua.create_function(struct_size)?)?;
    Ok(())
}

// ---- cmsgpack (lua-cmsgpack 0.4.0 as Redis ships it) ----

const MSGPACK_MAX_NESTING: usize = 16;

fn mp_encode_int(n: i64, out: &mut Vec<u8>) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn mp_encode_len(len: usize, fix: u8, fixmax: usize, c16: u8, c32: u8, out: &mut Vec<u8>) {
    if len < fixmax {
        out.push(fix | len as u8);
    } else if len <= 0xffff {
        out.push(c16);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(c32);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

fn mp_encode(v: &Value, out: &mut Vec<u8>, level: usize) -> mlua::Result<()> {
    match v {
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => mp_encode_int(*i, out),
        Value::Number(n) => {
            let n = *n;
            if n.is_finite() && n == (n as i64) as f64 {
                mp_encode_int(n as i64, out);
            } else if (n as f32) as f64 == n {
                out.push(0xca);
                out.extend_from_slice(&(n as f32).to_be_bytes());
            } else {
                out.push(0xcb);
                out.extend_from_slice(&n.to_be_bytes());
            }
        }
        Value::String(s) => {
            let s = s.as_bytes();
            let len = s.len();
            if len < 32 {
                out.push(0xa0 | len as u8);
            } else if len <= 0xff {
                out.extend_from_slice(&[0xd9, len as u8]);
            } else if len <= 0xffff {
                out.push(0xda);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            } else {
                out.push(0xdb);
                out.extend_from_slice(&(len as u32).to_be_bytes());
            }
            out.extend_from_slice(&s);
        }
        Value::Table(t) if level < MSGPACK_MAX_NESTING => {
            // table_is_an_array, then the entries: pairs are visited one at a time, never
            // all held (see `array_length`).
            let mut max = 0usize;
            let mut count = 0usize;
            let mut array = true;
            t.for_each(|k: Value, _: Value| {
                count += 1;
                match to_number(&k) {
                    Some(n)
                        if matches!(k, Value::Integer(_) | Value::Number(_))
                            && n > 0.0
                            && n.fract() == 0.0 =>
                    {
                        max = max.max(n as usize);
                    }
                    _ => array = false,
                }
                Ok(())
            })?;
            if array && max == count {
                mp_encode_len(max, 0x90, 16, 0xdc, 0xdd, out);
                for i in 1..=max {
                    mp_encode(&t.raw_get::<Value>(i)?, out, level + 1)?;
                }
            } else {
                mp_encode_len(count, 0x80, 16, 0xde, 0xdf, out);
                // An iterator: for_each would nest a C call per level (see encode_value).
                for pair in t.pairs::<Value, Value>() {
                    let (k, v) = pair?;
                    mp_encode(&k, out, level + 1)?;
                    mp_encode(&v, out, level + 1)?;
                }
            }
        }
        _ => out.push(0xc0),
    }
    Ok(())
}

enum MpErr {
    Missing,
    Bad,
}

fn mp_take<'a>(s: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8], MpErr> {
    let r = s
        .get(*pos..pos.checked_add(n).ok_or(MpErr::Missing)?)
        .ok_or(MpErr::Missing)?;
    *pos += n;
    Ok(r)
}

fn mp_decode(lua: &Lua, s: &[u8], pos: &mut usize, depth: usize) -> Result<Value, MpErr> {
    if depth > 1000 {
        return Err(MpErr::Bad);
    }
    let c = mp_take(s, pos, 1)?[0];
    let be = |b: &[u8]| b.iter().fold(0u64, |a, &x| (a << 8) | x as u64);
    let string = |lua: &Lua, b: &[u8]| -> Result<Value, MpErr> {
        Ok(Value::String(lua.create_string(b).map_err(|_| MpErr::Bad)?))
    };
    Ok(match c {
        0x00..=0x7f => Value::Number(c as f64),
        0xe0..=0xff => Value::Number(c as i8 as f64),
        0xc0 => Value::Nil,
        0xc2 => Value::Boolean(false),
        0xc3 => Value::Boolean(true),
        0xcc => Value::Number(be(mp_take(s, pos, 1)?) as f64),
        0xcd => Value::Number(be(mp_take(s, pos, 2)?) as f64),
        0xce => Value::Number(be(mp_take(s, pos, 4)?) as f64),
        0xcf => Value::Number(be(mp_take(s, pos, 8)?) as f64),
        0xd0 => Value::Number(be(mp_take(s, pos, 1)?) as u8 as i8 as f64),
        0xd1 => Value::Number(be(mp_take(s, pos, 2)?) as u16 as i16 as f64),
        0xd2 => Value::Number(be(mp_take(s, pos, 4)?) as u32 as i32 as f64),
        0xd3 => Value::Number(be(mp_take(s, pos, 8)?) as i64 as f64),
        0xca => Value::Number(f32::from_bits(be(mp_take(s, pos, 4)?) as u32) as f64),
        0xcb => Value::Number(f64::from_bits(be(mp_take(s, pos, 8)?))),
        0xa0..=0xbf => string(lua, mp_take(s, pos, (c & 0x1f) as usize)?)?,
        0xd9 | 0xc4 => {
            let n = be(mp_take(s, pos, 1)?) as usize;
            string(lua, mp_take(s, pos, n)?)?
        }
        0xda | 0xc5 => {
            let n = be(mp_take(s, pos, 2)?) as usize;
            string(lua, mp_take(s, pos, n)?)?
        }
        0xdb | 0xc6 => {
            let n = be(mp_take(s, pos, 4)?) as usize;
            string(lua, mp_take(s, pos, n)?)?
        }
        0x90..=0x9f | 0xdc | 0xdd => {
            let n = match c {
                0xdc => be(mp_take(s, pos, 2)?) as usize,
                0xdd => be(mp_take(s, pos, 4)?) as usize,
                _ => (c & 0x0f) as usize,
            };
            let t = lua.create_table().map_err(|_| MpErr::Bad)?;
            for i in 1..=n {
                let v = mp_decode(lua, s, pos, depth + 1)?;
                t.raw_set(i, v).map_err(|_| MpErr::Bad)?;
            }
            Value::Table(t)
        }
        0x80..=0x8f | 0xde | 0xdf => {
            let n = match c {
                0xde => be(mp_take(s, pos, 2)?) as usize,
                0xdf => be(mp_take(s, pos, 4)?) as usize,
                _ => (c & 0x0f) as usize,
            };
            let t = lua.create_table().map_err(|_| MpErr::Bad)?;
            for _ in 0..n {
                let k = mp_decode(lua, s, pos, depth + 1)?;
                let v = mp_decode(lua, s, pos, depth + 1)?;
                if !k.is_nil() {
                    t.raw_set(k, v).map_err(|_| MpErr::Bad)?;
                }
            }
            Value::Table(t)
        }
        _ => return Err(MpErr::Bad),
    })
}

fn mp_unpack(
    lua: &Lua,
    a: MultiValue,
    limit: Option<usize>,
    with_offset: bool,
) -> mlua::Result<MultiValue> {
    let s = check_string(lua, &a, 1, "unpack")?;
    let mut pos = 0usize;
    if with_offset && let Some(v) = a.get(2).and_then(to_number) {
        pos = v.max(0.0) as usize;
    }
    let mut out = Vec::new();
    if with_offset {
        out.push(Value::Nil);
    }
    while pos < s.len() && limit.is_none_or(|l| out.len() - usize::from(with_offset) < l) {
        match mp_decode(lua, &s, &mut pos, 0) {
            Ok(v) => out.push(v),
            Err(MpErr::Missing) => return Err(super::raise_msg(lua, "Missing bytes in input.")),
            Err(MpErr::Bad) => return Err(super::raise_msg(lua, "Bad data format in input.")),
        }
    }
    if with_offset {
        // unpack_one / unpack_limit: the next offset first (-1 once everything is read).
        out[0] = Value::Number(if pos >= s.len() { -1.0 } else { pos as f64 });
    }
    Ok(MultiValue::from_iter(out))
}

/// Registers `cmsgpack_pack`, `cmsgpack_unpack`, `_unpack_one`, `_unpack_limit` in `raw`.
pub fn register_cmsgpack(lua: &Lua, raw: &mlua::Table) -> mlua::Result<()> {
    raw.set(
        "cmsgpack_pack",
        lua.create_function(|lua, a: MultiValue| {
            if a.is_empty() {
                return Err(argerror(lua, 0, "pack", "MessagePack pack needs input."));
            }
            let mut out = Vec::new();
            for v in &a {
                mp_encode(v, &mut out, 0)?;
            }
            Ok(Value::String(lua.create_string(&out)?))
        })?,
    )?;
    raw.set(
        "cmsgpack_unpack",
        lua.create_function(|lua, a: MultiValue| mp_unpack(lua, a, None, false))?,
    )?;
    raw.set(
        "cmsgpack_unpack_one",
        lua.create_function(|lua, a: MultiValue| mp_unpack(lua, a, Some(1), true))?,
    )?;
    raw.set(
        "cmsgpack_unpack_limit",
        lua.create_function(|lua, a: MultiValue| {
            let limit = a
                .get(1)
                .and_then(to_number)
                .map_or(0, |n| n.max(0.0) as usize);
            let s = a.front().cloned().unwrap_or(Value::Nil);
            let off = a.get(2).cloned().unwrap_or(Value::Nil);
            let args = MultiValue::from_iter([s, Value::Nil, off]);
            mp_unpack(
                lua,
                args,
                Some(if limit == 0 { usize::MAX } else { limit }),
                true,
            )
        })?,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lrand48_matches_redis_first_values() {
        // A fresh Redis 7.0.15: EVAL "return {tostring(math.random()), ...}".
        let mut r = Lrand48::default();
        assert_eq!(fmt_g14(r.next_f64()), "0.39646477363839");
        assert_eq!(fmt_g14(r.next_f64()), "0.84048536971234");
        r.seed(0);
        assert_eq!(fmt_g14(r.next_f64()), "0.17082803611217");
    }
}
