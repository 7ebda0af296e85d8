//! lua-cjson 2.1.0 as Redis 7.0 ships it, in Rust: `cjson.encode` / `cjson.decode` and the
//! configuration functions (`encode_max_depth`, `decode_invalid_numbers`, …), whose
//! settings belong to one Lua state ([`CjsonCfg`]). Errors are raised with the caller's
//! position, as `luaL_error` does.

use super::libs::{fail, fmt_g14, fmt_gp, to_number, type_name};
use mlua::{Lua, MultiValue, Value};

/// The C stack slots a Lua C function may use (`LUAI_MAXCSTACK`): lua-cjson checks for free
/// slots at each nesting level, so deep structures end there even under a larger configured
/// depth (7998 nested arrays or 4000 objects when encoding, 7999/4000 when decoding).
const MAX_CSTACK: usize = 8000;

/// lua-cjson 2.1.0's `json_config_t` settings (one per Lua state, as its config upvalue):
/// what `cjson.encode_max_depth` and the other configuration functions read and set.
#[derive(Clone, Copy)]
pub struct CjsonCfg {
    sparse_convert: bool,
    sparse_ratio: i32,
    sparse_safe: i32,
    encode_max_depth: i32,
    decode_max_depth: i32,
    /// 0 refuse, 1 encode as `nan`/`inf`, 2 encode as `null`.
    encode_invalid: u8,
    decode_invalid: bool,
    keep_buffer: bool,
    precision: i32,
}

impl Default for CjsonCfg {
    fn default() -> Self {
        CjsonCfg {
            sparse_convert: false,
            sparse_ratio: 2,
            sparse_safe: 10,
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            encode_invalid: 0,
            decode_invalid: true,
            keep_buffer: true,
            precision: 14,
        }
    }
}

/// `json_append_number`: the number in the configured precision; NaN and the infinities
/// refused, written as C prints them, or as `null`, by `encode_invalid_numbers`.
fn encode_number(n: f64, out: &mut Vec<u8>, cfg: &CjsonCfg) -> Result<(), String> {
    if !n.is_finite() {
        match cfg.encode_invalid {
            0 => return Err("Cannot serialise number: must not be NaN or Inf".into()),
            2 => out.extend_from_slice(b"null"),
            _ if n.is_nan() => out.extend_from_slice(b"nan"),
            _ if n > 0.0 => out.extend_from_slice(b"inf"),
            _ => out.extend_from_slice(b"-inf"),
        }
        return Ok(());
    }
    out.extend_from_slice(fmt_gp(n, cfg.precision).as_bytes());
    Ok(())
}

/// lua-cjson's `lua_array_length`: the greatest key when every key is a positive integer
/// (0 for an empty table), or None for an object. Visits the pairs one at a time: holding
/// them all would take two Lua references per entry, and mlua's stack of references ends
/// near 8000.
fn array_length(t: &mlua::Table) -> mlua::Result<Option<(usize, usize)>> {
    let mut max = 0usize;
    let mut items = 0usize;
    let mut array = true;
    let stop = || mlua::Error::RuntimeError(String::new());
    let r = t.for_each(|k: Value, _: Value| {
        let n = match k {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => {
                array = false;
                return Err(stop());
            }
        };
        if n >= 1.0 && n.fract() == 0.0 {
            max = max.max(n as usize);
            items += 1;
            Ok(())
        } else {
            array = false;
            Err(stop())
        }
    });
    if array {
        r?;
        Ok(Some((max, items)))
    } else {
        Ok(None)
    }
}

/// A cjson error raised from deep inside the encoder, carried out as is.
fn cjson_err(msg: String) -> mlua::Error {
    mlua::Error::RuntimeError(msg)
}

/// Encodes `v` at nesting `depth` with `slots` of the C stack in use (see [`MAX_CSTACK`]).
/// Deep nesting runs on a grown stack, never past the thread's own. Errors are
/// `RuntimeError`s holding cjson's message.
fn encode_value(
    v: &Value,
    out: &mut Vec<u8>,
    depth: usize,
    slots: usize,
    cfg: &CjsonCfg,
) -> mlua::Result<()> {
    match v {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Integer(i) => encode_number(*i as f64, out, cfg).map_err(cjson_err)?,
        Value::Number(n) => encode_number(*n, out, cfg).map_err(cjson_err)?,
        Value::String(s) => encode_string(&s.as_bytes(), out),
        Value::Table(t) => {
            let depth = depth + 1;
            let nesting = || cjson_err(format!("Cannot serialise, excessive nesting ({depth})"));
            if depth > cfg.encode_max_depth as usize || slots + 3 > MAX_CSTACK {
                return Err(nesting());
            }
            // Out of Lua references (only ever near the C stack's depth): as too deep.
            let deep = |e: mlua::Error| match e {
                mlua::Error::StackError => nesting(),
                e => e,
            };
            let mut len = array_length(t).map_err(deep)?;
            if let Some((max, items)) = len
                && cfg.sparse_ratio > 0
                && max > items.saturating_mul(cfg.sparse_ratio as usize)
                && max > cfg.sparse_safe as usize
            {
                if !cfg.sparse_convert {
                    return Err(cjson_err(
                        "Cannot serialise table: excessively sparse array".into(),
                    ));
                }
                len = None;
            }
            stacker::maybe_grow(64 * 1024, 1024 * 1024, || match len {
                Some((max, _)) if max > 0 => {
                    out.push(b'[');
                    for i in 1..=max {
                        if i > 1 {
                            out.push(b',');
                        }
                        let e: Value = t.raw_get(i).map_err(deep)?;
                        encode_value(&e, out, depth, slots + 1, cfg)?;
                    }
                    out.push(b']');
                    Ok::<(), mlua::Error>(())
                }
                _ => {
                    out.push(b'{');
                    let mut first = true;
                    // An iterator, not for_each: for_each's callback runs inside a C call,
                    // and nested objects would meet Lua's limit of 200 nested C calls.
                    for pair in t.pairs::<Value, Value>() {
                        let (k, val) = pair.map_err(deep)?;
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        match &k {
                            Value::String(s) => encode_string(&s.as_bytes(), out),
                            Value::Integer(_) | Value::Number(_) => {
                                out.push(b'"');
                                let n = to_number(&k).unwrap_or(0.0);
                                encode_number(n, out, cfg).map_err(cjson_err)?;
                                out.push(b'"');
                            }
                            other => {
                                return Err(cjson_err(format!(
                                    "Cannot serialise {}: table key must be a number or string",
                                    type_name(other)
                                )));
                            }
                        }
                        out.push(b':');
                        encode_value(&val, out, depth, slots + 2, cfg)?;
                    }
                    out.push(b'}');
                    Ok(())
                }
            })?;
        }
        other => {
            return Err(cjson_err(format!(
                "Cannot serialise {}: type not supported",
                type_name(other)
            )));
        }
    }
    Ok(())
}

fn encode_string(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            8 => out.extend_from_slice(b"\\b"),
            12 => out.extend_from_slice(b"\\f"),
            0..=31 | 127 => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// lua-cjson's tokens, named as its error messages name them.
#[derive(Clone, Copy, PartialEq)]
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Num,
    Bool,
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

impl Tok {
    fn name(self) -> &'static str {
        match self {
            Tok::ObjBegin => "T_OBJ_BEGIN",
            Tok::ObjEnd => "T_OBJ_END",
            Tok::ArrBegin => "T_ARR_BEGIN",
            Tok::ArrEnd => "T_ARR_END",
            Tok::Str => "T_STRING",
            Tok::Num => "T_NUMBER",
            Tok::Bool => "T_BOOLEAN",
            Tok::Null => "T_NULL",
            Tok::Colon => "T_COLON",
            Tok::Comma => "T_COMMA",
            Tok::End => "T_END",
            Tok::Error(e) => e,
        }
    }
}

struct Decoder<'a, 'l> {
    s: &'a [u8],
    pos: usize,
    lua: &'l Lua,
    depth: usize,
    /// C stack slots in use (see [`MAX_CSTACK`]): the argument, then one per enclosing
    /// array (its table) and two per enclosing object (its table and the pending key).
    slots: usize,
    max_depth: usize,
    /// `decode_invalid_numbers`: NaN, Infinity, hex, `+` and leading zeros accepted
    /// (read as C's strtod reads them).
    invalid_ok: bool,
}

/// lua-cjson's `json_is_invalid_number`: a number strict JSON refuses but strtod reads.
fn is_invalid_number(p: &[u8]) -> bool {
    let p = match p.first() {
        Some(b'+') => return true,
        Some(b'-') => &p[1..],
        _ => p,
    };
    match p.first() {
        Some(b'0') => {
            let c2 = p.get(1).copied().unwrap_or(0);
            (c2 | 0x20) == b'x' || c2.is_ascii_digit()
        }
        Some(&c) if c <= b'9' => false,
        None => false,
        Some(_) => {
            p.len() >= 3
                && (p[..3].eq_ignore_ascii_case(b"inf") || p[..3].eq_ignore_ascii_case(b"nan"))
        }
    }
}

/// C's `strtod` over the start of `s` (which starts at the number, no blanks): the value
/// and how many bytes it used, or None when no number starts there. Decimal, hexadecimal
/// (with `p` exponents), `inf`/`infinity` and `nan`/`nan(chars)` in any case, signed.
fn strtod(s: &[u8]) -> Option<(f64, usize)> {
    let (neg, i) = match s.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let sign = |v: f64| if neg { -v } else { v };
    let rest = &s[i..];
    let starts = |w: &[u8]| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w);
    if starts(b"inf") {
        let n = if starts(b"infinity") { 8 } else { 3 };
        return Some((sign(f64::INFINITY), i + n));
    }
    if starts(b"nan") {
        let mut n = 3;
        if rest.get(3) == Some(&b'(') {
            let inner = rest[4..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                .count();
            if rest.get(4 + inner) == Some(&b')') {
                n = 4 + inner + 1;
            }
        }
        return Some((sign(f64::NAN), i + n));
    }
    let digits = |from: usize, hex: bool| {
        rest[from.min(rest.len())..]
            .iter()
            .take_while(|c| {
                if hex {
                    c.is_ascii_hexdigit()
                } else {
                    c.is_ascii_digit()
                }
            })
            .count()
    };
    if rest.len() > 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        let int = digits(2, true);
        let mut j = 2 + int;
        let mut frac = 0;
        if rest.get(j) == Some(&b'.') {
            frac = digits(j + 1, true);
        }
        if int + frac > 0 {
            let mut v = 0f64;
            for &c in &rest[2..2 + int] {
                v = v * 16.0 + (c as char).to_digit(16).unwrap_or(0) as f64;
            }
            if rest.get(j) == Some(&b'.') {
                let mut scale = 1.0 / 16.0;
                for &c in &rest[j + 1..j + 1 + frac] {
                    v += (c as char).to_digit(16).unwrap_or(0) as f64 * scale;
                    scale /= 16.0;
                }
                j += 1 + frac;
            }
            if rest.get(j).is_some_and(|c| (c | 0x20) == b'p') {
                let mut k = j + 1;
                let eneg = rest.get(k) == Some(&b'-');
                if matches!(rest.get(k), Some(b'-' | b'+')) {
                    k += 1;
                }
                let ed = digits(k, false);
                if ed > 0 {
                    let e: i32 = std::str::from_utf8(&rest[k..k + ed])
                        .ok()
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(i32::MAX);
                    v *= 2f64.powi(if eneg { -e } else { e });
                    j = k + ed;
                }
            }
            return Some((sign(v), i + j));
        }
        // "0x" without digits: strtod reads the 0.
        return Some((sign(0.0), i + 1));
    }
    let int = digits(0, false);
    let mut j = int;
    let mut frac = 0;
    if rest.get(j) == Some(&b'.') {
        frac = digits(j + 1, false);
        if int + frac > 0 {
            j += 1 + frac;
        }
    }
    if int + frac == 0 {
        return None;
    }
    if rest.get(j).is_some_and(|c| (c | 0x20) == b'e') {
        let mut k = j + 1;
        if matches!(rest.get(k), Some(b'-' | b'+')) {
            k += 1;
        }
        let ed = digits(k, false);
        if ed > 0 {
            j = k + ed;
        }
    }
    let v: f64 = std::str::from_utf8(&rest[..j]).ok()?.parse().ok()?;
    Some((sign(v), i + j))
}

enum TokVal {
    None,
    Str(Vec<u8>),
    Num(f64),
    Bool(bool),
}

impl Decoder<'_, '_> {
    /// The next token and where it started (0-based).
    fn next(&mut self) -> (Tok, usize, TokVal) {
        while self.pos < self.s.len() && matches!(self.s[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let start = self.pos;
        // The C string ends at the first NUL, as lua-cjson reads it.
        let Some(&c) = self.s.get(self.pos).filter(|c| **c != 0) else {
            return (Tok::End, start, TokVal::None);
        };
        let single = |t| (t, start, TokVal::None);
        match c {
            b'{' => {
                self.pos += 1;
                single(Tok::ObjBegin)
            }
            b'}' => {
                self.pos += 1;
                single(Tok::ObjEnd)
            }
            b'[' => {
                self.pos += 1;
                single(Tok::ArrBegin)
            }
            b']' => {
                self.pos += 1;
                single(Tok::ArrEnd)
            }
            b':' => {
                self.pos += 1;
                single(Tok::Colon)
            }
            b',' => {
                self.pos += 1;
                single(Tok::Comma)
            }
            b'"' => match self.string() {
                Ok(s) => (Tok::Str, start, TokVal::Str(s)),
                Err((e, at)) => (Tok::Error(e), at, TokVal::None),
            },
            b'-' | b'0'..=b'9' => {
                if !self.invalid_ok && is_invalid_number(&self.s[self.pos..]) {
                    return single(Tok::Error("invalid number"));
                }
                self.number(start)
            }
            _ => {
                for (word, tok, val) in [
                    (&b"true"[..], Tok::Bool, TokVal::Bool(true)),
                    (b"false", Tok::Bool, TokVal::Bool(false)),
                    (b"null", Tok::Null, TokVal::None),
                ] {
                    if self.s[self.pos..].starts_with(word) {
                        self.pos += word.len();
                        return (tok, start, val);
                    }
                }
                if self.invalid_ok && is_invalid_number(&self.s[self.pos..]) {
                    return self.number(start);
                }
                single(Tok::Error("invalid token"))
            }
        }
    }

    /// `json_next_number_token`: strtod at the current position.
    fn number(&mut self, start: usize) -> (Tok, usize, TokVal) {
        // strtod stops at the C string's NUL.
        let end = memchr::memchr(0, &self.s[self.pos..]).map_or(self.s.len(), |i| self.pos + i);
        match strtod(&self.s[self.pos..end]) {
            Some((n, used)) => {
                self.pos += used;
                (Tok::Num, start, TokVal::Num(n))
            }
            None => (Tok::Error("invalid number"), start, TokVal::None),
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let h = self.s.get(at..at + 4)?;
        if !h.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
    }

    /// A string token (the position is at its opening quote); an error is placed where
    /// lua-cjson stops: the end of the text (or a NUL) or the escape's backslash.
    fn string(&mut self) -> Result<Vec<u8>, (&'static str, usize)> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let at = self.pos;
            let Some(&c) = self.s.get(self.pos).filter(|c| **c != 0) else {
                return Err(("unexpected end of string", at));
            };
            self.pos += 1;
            match c {
                b'"' => return Ok(out),
                b'\\' => {
                    let e = self.s.get(self.pos).copied().unwrap_or(0);
                    self.pos += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let bad = ("invalid unicode escape code", at);
                            let Some(mut cp) = self.hex4(self.pos) else {
                                return Err(bad);
                            };
                            self.pos += 4;
                            if (0xD800..0xDC00).contains(&cp) {
                                if self.s.get(self.pos..self.pos + 2) != Some(b"\\u") {
                                    return Err(bad);
                                }
                                let Some(lo) = self.hex4(self.pos + 2) else {
                                    return Err(bad);
                                };
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(bad);
                                }
                                self.pos += 6;
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                            } else if (0xDC00..0xE000).contains(&cp) {
                                return Err(bad);
                            }
                            let ch = char::from_u32(cp).ok_or(bad)?;
                            let mut b = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                        }
                        _ => return Err(("invalid escape code", at)),
                    }
                }
                _ => out.push(c),
            }
        }
    }

    fn err(expected: &str, tok: Tok, at: usize) -> String {
        format!(
            "Expected {expected} but found {} at character {}",
            tok.name(),
            at + 1
        )
    }

    /// A value inside a structure that holds `slots` more of the C stack; deep nesting runs
    /// on a grown stack, never past the thread's own.
    fn nested(&mut self, slots: usize, tok: Tok, at: usize, val: TokVal) -> Result<Value, String> {
        self.slots += slots;
        let v = stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.value(tok, at, val));
        self.slots -= slots;
        v
    }

    fn value(&mut self, tok: Tok, at: usize, val: TokVal) -> Result<Value, String> {
        let lua = self.lua;
        // Out of Lua references (only ever near the C stack's depth): as too deep.
        let depth = self.depth + 1;
        let e = |e: mlua::Error| match e {
            mlua::Error::StackError => format!(
                "Found too many nested data structures ({depth}) at character {}",
                at + 1
            ),
            e => e.to_string(),
        };
        Ok(match (tok, val) {
            (Tok::Str, TokVal::Str(s)) => Value::String(lua.create_string(&s).map_err(e)?),
            (Tok::Num, TokVal::Num(n)) => Value::Number(n),
            (Tok::Bool, TokVal::Bool(b)) => Value::Boolean(b),
            (Tok::Null, _) => Value::LightUserData(mlua::LightUserData(std::ptr::null_mut())),
            (Tok::ObjBegin, _) => {
                self.depth += 1;
                if self.depth > self.max_depth || self.slots + 3 > MAX_CSTACK {
                    return Err(format!(
                        "Found too many nested data structures ({}) at character {}",
                        self.depth,
                        at + 1
                    ));
                }
                let t = lua.create_table().map_err(e)?;
                let (mut tok, mut at, mut val) = self.next();
                if tok != Tok::ObjEnd {
                    loop {
                        let TokVal::Str(k) = val else {
                            return Err(Self::err("object key string", tok, at));
                        };
                        let (t2, a2, _) = self.next();
                        if t2 != Tok::Colon {
                            return Err(Self::err("colon", t2, a2));
                        }
                        let (t3, a3, v3) = self.next();
                        let v = self.nested(2, t3, a3, v3)?;
                        t.raw_set(lua.create_string(&k).map_err(e)?, v).map_err(e)?;
                        let (t4, a4, _) = self.next();
                        if t4 == Tok::ObjEnd {
                            break;
                        }
                        if t4 != Tok::Comma {
                            return Err(Self::err("comma or object end", t4, a4));
                        }
                        (tok, at, val) = self.next();
                    }
                }
                self.depth -= 1;
                Value::Table(t)
            }
            (Tok::ArrBegin, _) => {
                self.depth += 1;
                if self.depth > self.max_depth || self.slots + 2 > MAX_CSTACK {
                    return Err(format!(
                        "Found too many nested data structures ({}) at character {}",
                        self.depth,
                        at + 1
                    ));
                }
                let t = lua.create_table().map_err(e)?;
                let (mut tok, mut at, mut val) = self.next();
                if tok != Tok::ArrEnd {
                    let mut i = 1;
                    loop {
                        let v = self.nested(1, tok, at, val)?;
                        t.raw_set(i, v).map_err(e)?;
                        i += 1;
                        let (t4, a4, _) = self.next();
                        if t4 == Tok::ArrEnd {
                            break;
                        }
                        if t4 != Tok::Comma {
                            return Err(Self::err("comma or array end", t4, a4));
                        }
                        (tok, at, val) = self.next();
                    }
                }
                self.depth -= 1;
                Value::Table(t)
            }
            (tok, _) => return Err(Self::err("value", tok, at)),
        })
    }
}

/// `json_arg_init`: at most `n` arguments.
fn cfg_args(lua: &Lua, a: &MultiValue, n: usize, fname: &str) -> mlua::Result<()> {
    if a.len() > n {
        return Err(super::raise_msg(
            lua,
            &format!(
                "bad argument #{} to '{fname}' (found too many arguments)",
                n + 1
            ),
        ));
    }
    Ok(())
}

/// `json_integer_option`: argument `i` (0-based), when not nil, sets `setting` within
/// `[min, max]` (lua-cjson names argument #1 in the range error, whichever it checks).
fn int_option(
    lua: &Lua,
    a: &MultiValue,
    i: usize,
    setting: &mut i32,
    (min, max): (i32, i32),
    fname: &str,
) -> mlua::Result<Value> {
    let v = a.get(i).cloned().unwrap_or(Value::Nil);
    if !v.is_nil() {
        let Some(n) = to_number(&v) else {
            return Err(super::raise_msg(
                lua,
                &format!(
                    "bad argument #{} to '{fname}' (number expected, got {})",
                    i + 1,
                    type_name(&v)
                ),
            ));
        };
        // lua_tointeger truncates, then cjson keeps an int.
        let n = n as i64 as i32;
        if n < min || n > max {
            return Err(super::raise_msg(
                lua,
                &format!("bad argument #1 to '{fname}' (expected integer between {min} and {max})"),
            ));
        }
        *setting = n;
    }
    Ok(Value::Number(*setting as f64))
}

/// `json_enum_option`: argument `i` (0-based), when not nil, is a boolean or one of
/// `options`; the answer is a boolean for settings 0 and 1, else the option's name.
fn enum_option(
    lua: &Lua,
    a: &MultiValue,
    i: usize,
    setting: &mut u8,
    options: &[&str],
    fname: &str,
) -> mlua::Result<Value> {
    let v = a.get(i).cloned().unwrap_or(Value::Nil);
    match &v {
        Value::Nil => {}
        Value::Boolean(b) => *setting = *b as u8,
        Value::String(_) | Value::Integer(_) | Value::Number(_) => {
            let text = match &v {
                Value::String(s) => s.as_bytes().to_vec(),
                other => fmt_g14(to_number(other).unwrap_or(0.0)).into_bytes(),
            };
            match options.iter().position(|o| o.as_bytes() == text.as_slice()) {
                Some(n) => *setting = n as u8,
                None => {
                    return Err(super::raise_msg(
                        lua,
                        &format!(
                            "bad argument #{} to '{fname}' (invalid option '{}')",
                            i + 1,
                            String::from_utf8_lossy(&text)
                        ),
                    ));
                }
            }
        }
        other => {
            return Err(super::raise_msg(
                lua,
                &format!(
                    "bad argument #{} to '{fname}' (string expected, got {})",
                    i + 1,
                    type_name(other)
                ),
            ));
        }
    }
    Ok(match *setting {
        0 | 1 => Value::Boolean(*setting == 1),
        n => Value::String(lua.create_string(options[n as usize])?),
    })
}

const ON_OFF: &[&str] = &["off", "on"];

/// Registers `cjson_encode`, `cjson_decode`, `null` and the configuration functions
/// (`cjson_encode_max_depth`, …) in `raw`, over one [`CjsonCfg`] for this Lua state.
pub fn register_cjson(lua: &Lua, raw: &mlua::Table) -> mlua::Result<()> {
    use std::cell::Cell;
    use std::rc::Rc;
    let cfg = Rc::new(Cell::new(CjsonCfg::default()));
    let c = cfg.clone();
    raw.set(
        "cjson_encode",
        lua.create_function(move |lua, a: MultiValue| {
            if a.len() != 1 {
                return fail(lua, "bad argument #1 to 'encode' (expected 1 argument)");
            }
            let mut out = Vec::new();
            match encode_value(&a[0], &mut out, 0, 1, &c.get()) {
                Ok(()) => Ok(Value::String(lua.create_string(&out)?)),
                Err(mlua::Error::RuntimeError(m)) => fail(lua, &m),
                Err(e) => Err(e),
            }
        })?,
    )?;
    let c = cfg.clone();
    raw.set(
        "cjson_decode",
        lua.create_function(move |lua, a: MultiValue| {
            let s = match a.front() {
                Some(Value::String(s)) if a.len() == 1 => s.as_bytes().to_vec(),
                Some(v @ (Value::Number(_) | Value::Integer(_))) if a.len() == 1 => {
                    fmt_g14(to_number(v).unwrap_or(0.0)).into_bytes()
                }
                _ => return fail(lua, "bad argument #1 to 'decode' (expected 1 argument)"),
            };
            if s.len() >= 2 && (s[0] == 0 || s[1] == 0) {
                return fail(lua, "JSON parser does not support UTF-16 or UTF-32");
            }
            let cfg = c.get();
            let mut d = Decoder {
                s: &s,
                pos: 0,
                lua,
                depth: 0,
                slots: 1,
                max_depth: cfg.decode_max_depth as usize,
                invalid_ok: cfg.decode_invalid,
            };
            let (tok, at, val) = d.next();
            let v = match d.value(tok, at, val) {
                Ok(v) => v,
                Err(m) => return fail(lua, &m),
            };
            let (tok, at, _) = d.next();
            if tok != Tok::End {
                return fail(lua, &Decoder::err("the end", tok, at));
            }
            Ok(v)
        })?,
    )?;
    raw.set(
        "null",
        Value::LightUserData(mlua::LightUserData(std::ptr::null_mut())),
    )?;

    type Setter = fn(&Lua, &MultiValue, &mut CjsonCfg) -> mlua::Result<MultiValue>;
    let setters: [(&str, Setter); 7] = [
        ("encode_sparse_array", |lua, a, c| {
            const NAME: &str = "encode_sparse_array";
            cfg_args(lua, a, 3, NAME)?;
            let mut convert = c.sparse_convert as u8;
            let v1 = enum_option(lua, a, 0, &mut convert, ON_OFF, NAME)?;
            c.sparse_convert = convert == 1;
            let v2 = int_option(lua, a, 1, &mut c.sparse_ratio, (0, i32::MAX), NAME)?;
            let v3 = int_option(lua, a, 2, &mut c.sparse_safe, (0, i32::MAX), NAME)?;
            Ok(MultiValue::from_vec(vec![v1, v2, v3]))
        }),
        ("encode_max_depth", |lua, a, c| {
            cfg_args(lua, a, 1, "encode_max_depth")?;
            let bounds = (1, i32::MAX);
            let v = int_option(
                lua,
                a,
                0,
                &mut c.encode_max_depth,
                bounds,
                "encode_max_depth",
            )?;
            Ok(MultiValue::from_vec(vec![v]))
        }),
        ("decode_max_depth", |lua, a, c| {
            cfg_args(lua, a, 1, "decode_max_depth")?;
            let bounds = (1, i32::MAX);
            let v = int_option(
                lua,
                a,
                0,
                &mut c.decode_max_depth,
                bounds,
                "decode_max_depth",
            )?;
            Ok(MultiValue::from_vec(vec![v]))
        }),
        ("encode_number_precision", |lua, a, c| {
            const NAME: &str = "encode_number_precision";
            cfg_args(lua, a, 1, NAME)?;
            let v = int_option(lua, a, 0, &mut c.precision, (1, 14), NAME)?;
            Ok(MultiValue::from_vec(vec![v]))
        }),
        ("encode_keep_buffer", |lua, a, c| {
            const NAME: &str = "encode_keep_buffer";
            cfg_args(lua, a, 1, NAME)?;
            let mut keep = c.keep_buffer as u8;
            let v = enum_option(lua, a, 0, &mut keep, ON_OFF, NAME)?;
            c.keep_buffer = keep == 1;
            Ok(MultiValue::from_vec(vec![v]))
        }),
        ("encode_invalid_numbers", |lua, a, c| {
            const NAME: &str = "encode_invalid_numbers";
            cfg_args(lua, a, 1, NAME)?;
            let options = &["off", "on", "null"];
            let v = enum_option(lua, a, 0, &mut c.encode_invalid, options, NAME)?;
            Ok(MultiValue::from_vec(vec![v]))
        }),
        ("decode_invalid_numbers", |lua, a, c| {
            const NAME: &str = "decode_invalid_numbers";
            cfg_args(lua, a, 1, NAME)?;
            let mut on = c.decode_invalid as u8;
            let v = enum_option(lua, a, 0, &mut on, ON_OFF, NAME)?;
            c.decode_invalid = on == 1;
            Ok(MultiValue::from_vec(vec![v]))
        }),
    ];
    for (name, set) in setters {
        let c = cfg.clone();
        raw.set(
            format!("cjson_{name}"),
            lua.create_function(move |lua, a: MultiValue| {
                // Settings made before a later argument fails stay, as in lua-cjson.
                let mut now = c.get();
                let out = set(lua, &a, &mut now);
                c.set(now);
                out
            })?,
        )?;
    }
    Ok(())
}
