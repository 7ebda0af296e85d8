//! Conversions between Lua values and RESP, as Redis 7.0's script_lua.c does them.
//!
//! - A command's reply (RESP2 or RESP3 bytes the runner wrote into the caller's buffer) →
//!   a Lua value ([`reply_to_lua`], `redisProtocolToLuaType`): integers → numbers, bulk
//!   strings → strings, null bulk / null array → `false`, status → `{ok=…}`, error →
//!   `{err=…}` (with the error-stats flag), arrays → tables; RESP3: map → `{map={…}}`, set →
//!   `{set={k=true}}`, null → nil, booleans, double → `{double=n}`, big number →
//!   `{big_number=s}`, verbatim → `{verbatim_string={string=s, format=f}}`; attributes are
//!   skipped.
//! - A script's result → a reply ([`lua_to_reply`], `luaReplyToRedisReply`): numbers
//!   truncated to integers, tables as arrays up to the first nil, `{err=}`/`{ok=}`/
//!   `{double=}`/`{big_number=}`/`{verbatim_string=}`/`{map=}`/`{set=}` as those types,
//!   booleans by the script's RESP version.
//!
//! The reply parser reads only bytes our own runner wrote; it still never panics on a
//! malformed one (it answers an error value).

use mlua::{Lua, Table, Value};
use resp::Proto;
use resp::Reply;

/// The error table for `text` as Redis's `luaPushErrorBuff` builds it: `-CODE msg` keeps
/// its code, a text without `-` gets `ERR`; the message is trimmed of CR/LF at both ends.
pub fn error_text(text: &[u8]) -> Vec<u8> {
    let (code, msg): (&[u8], &[u8]) = if let Some(rest) = text.strip_prefix(b"-") {
        match memchr::memchr(b' ', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (b"ERR", rest),
        }
    } else {
        (b"ERR", text)
    };
    let is_crlf = |b: &u8| *b == b'\r' || *b == b'\n';
    let start = msg.iter().position(|b| !is_crlf(b)).unwrap_or(msg.len());
    let end = msg
        .iter()
        .rposition(|b| !is_crlf(b))
        .map_or(start, |i| i + 1);
    let mut out = Vec::with_capacity(code.len() + 1 + end - start);
    out.extend_from_slice(code);
    out.push(b' ');
    out.extend_from_slice(&msg[start..end]);
    out
}

/// `{err=text}` (from a `-CODE msg` or plain text), optionally flagged as already counted.
pub fn error_table(lua: &Lua, text: &[u8], counted: bool) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("err", lua.create_string(error_text(text))?)?;
    if counted {
        t.raw_set("ignore_error_stats_update", true)?;
    }
    Ok(t)
}

/// Where a reply ends, without converting it (skips pushes and attributes).
pub fn skip(buf: &[u8], pos: &mut usize) -> Option<()> {
    let (t, line) = line(buf, pos)?;
    match t {
        b'$' | b'=' => {
            let n: i64 = parse_num(line)?;
            if n >= 0 {
                *pos = pos.checked_add(n as usize + 2)?;
                if *pos > buf.len() {
                    return None;
                }
            }
        }
        b'*' | b'~' | b'>' => {
            let n: i64 = parse_num(line)?;
            for _ in 0..n.max(0) {
                skip(buf, pos)?;
            }
        }
        b'%' | b'|' => {
            let n: i64 = parse_num(line)?;
            for _ in 0..n.max(0) * 2 {
                skip(buf, pos)?;
            }
        }
        _ => {}
    }
    Some(())
}

fn line<'a>(buf: &'a [u8], pos: &mut usize) -> Option<(u8, &'a [u8])> {
    let rest = buf.get(*pos..)?;
    let t = *rest.first()?;
    let end = memchr::memmem::find(rest, b"\r\n")?;
    *pos += end + 2;
    Some((t, &rest[1..end]))
}

fn parse_num(s: &[u8]) -> Option<i64> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Converts the reply at `buf[*pos..]` to a Lua value (see the module doc). `Ok(None)` when
/// the bytes are not a whole reply.
pub fn reply_to_lua(lua: &Lua, buf: &[u8], pos: &mut usize) -> mlua::Result<Option<Value>> {
    let Some((t, body)) = line(buf, pos) else {
        return Ok(None);
    };
    let v = match t {
        b'+' => {
            let tb = lua.create_table()?;
            tb.raw_set("ok", lua.create_string(body)?)?;
            Value::Table(tb)
        }
        b'-' => {
            let mut text = Vec::with_capacity(body.len() + 1);
            text.push(b'-');
            text.extend_from_slice(body);
            Value::Table(error_table(lua, &text, true)?)
        }
        b':' => Value::Number(parse_num(body).unwrap_or(0) as f64),
        b'$' => {
            let Some(n) = parse_num(body) else {
                return Ok(None);
            };
            if n < 0 {
                Value::Boolean(false)
            } else {
                let n = n as usize;
                let Some(s) = buf.get(*pos..*pos + n) else {
                    return Ok(None);
                };
                *pos += n + 2;
                Value::String(lua.create_string(s)?)
            }
        }
        b'*' => {
            let Some(n) = parse_num(body) else {
                return Ok(None);
            };
            if n < 0 {
                Value::Boolean(false)
            } else {
                let tb = lua.create_table_with_capacity(n as usize, 0)?;
                for i in 0..n {
                    let Some(v) = reply_to_lua(lua, buf, pos)? else {
                        return Ok(None);
                    };
                    tb.raw_set(i + 1, v)?;
                }
                Value::Table(tb)
            }
        }
        b'%' => {
            let n = parse_num(body).unwrap_or(0);
            let inner = lua.create_table()?;
            for _ in 0..n {
                let (Some(k), Some(v)) =
                    (reply_to_lua(lua, buf, pos)?, reply_to_lua(lua, buf, pos)?)
                else {
                    return Ok(None);
                };
                if !k.is_nil() {
                    inner.raw_set(k, v)?;
                }
            }
            let tb = lua.create_table()?;
            tb.raw_set("map", inner)?;
            Value::Table(tb)
        }
        b'~' => {
            let n = parse_num(body).unwrap_or(0);
            let inner = lua.create_table()?;
            for _ in 0..n {
                let Some(k) = reply_to_lua(lua, buf, pos)? else {
                    return Ok(None);
                };
                if !k.is_nil() {
                    inner.raw_set(k, true)?;
                }
            }
            let tb = lua.create_table()?;
            tb.raw_set("set", inner)?;
            Value::Table(tb)
        }
        b'_' => Value::Nil,
        b'#' => Value::Boolean(body == b"t"),
        b',' => {
            let d = std::str::from_utf8(body)
                .ok()
                .and_then(|s| match s {
                    "inf" => Some(f64::INFINITY),
                    "-inf" => Some(f64::NEG_INFINITY),
                    "nan" => Some(f64::NAN),
                    _ => s.parse().ok(),
                })
                .unwrap_or(0.0);
            let tb = lua.create_table()?;
            tb.raw_set("double", d)?;
            Value::Table(tb)
        }
        b'(' => {
            let tb = lua.create_table()?;
            tb.raw_set("big_number", lua.create_string(body)?)?;
            Value::Table(tb)
        }
        b'=' => {
            let Some(n) = parse_num(body) else {
                return Ok(None);
            };
            let n = n.max(0) as usize;
            let Some(s) = buf.get(*pos..*pos + n) else {
                return Ok(None);
            };
            *pos += n + 2;
            let (format, text) = if s.len() >= 4 {
                (&s[..3], &s[4..])
            } else {
                (&b"txt"[..], s)
            };
            let inner = lua.create_table()?;
            inner.raw_set("string", lua.create_string(text)?)?;
            inner.raw_set("format", lua.create_string(format)?)?;
            let tb = lua.create_table()?;
            tb.raw_set("verbatim_string", inner)?;
            Value::Table(tb)
        }
        b'|' => {
            // Attributes are not shown to scripts: skip them, convert what follows.
            let n = parse_num(body).unwrap_or(0);
            for _ in 0..n.max(0) * 2 {
                if skip(buf, pos).is_none() {
                    return Ok(None);
                }
            }
            return reply_to_lua(lua, buf, pos);
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}

/// What the conversion of a script's result found at the top level.
pub enum Outcome {
    /// A reply was written.
    Written,
    /// The result is an error: its text, and whether it was already counted in the error
    /// statistics (the script raised a `redis.call` error).
    Error(Vec<u8>, bool),
}

/// Bytes of an error or status text as Redis writes them: trimmed of trailing CR/LF,
/// inner CR/LF as spaces.
fn map_crlf(s: &[u8]) -> Vec<u8> {
    let end = s
        .iter()
        .rposition(|b| *b != b'\r' && *b != b'\n')
        .map_or(0, |i| i + 1);
    s[..end]
        .iter()
        .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b })
        .collect()
}

/// How many pairs a table holds (`lua_next` to the end).
fn pair_count(t: &mlua::Table) -> mlua::Result<usize> {
    let mut n = 0;
    t.for_each(|_: Value, _: Value| {
        n += 1;
        Ok(())
    })?;
    Ok(n)
}

/// C's `(long long)` of a double on x86-64: out of range and NaN give `i64::MIN`.
pub fn trunc_i64(d: f64) -> i64 {
    if !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&d) {
        i64::MIN
    } else {
        d as i64
    }
}

/// Writes `v` as a reply (Redis's `luaReplyToRedisReply`). `script_resp3`: the script called
/// `redis.setresp(3)` (booleans then keep their type). Nested error replies are counted
/// with `count_error`; a top-level error is returned instead, for the caller to write.
pub fn lua_to_reply(
    v: &Value,
    out: &mut Reply<'_>,
    script_resp3: bool,
    top: bool,
    count_error: &mut dyn FnMut(&[u8]),
    depth: usize,
) -> mlua::Result<Outcome> {
    match v {
        Value::String(s) => out.bulk(&s.as_bytes()),
        Value::Boolean(b) => {
            if script_resp3 {
                out.boolean(*b);
            } else if *b {
                out.int(1);
            } else {
                out.null();
            }
        }
        Value::Integer(i) => out.int(*i),
        Value::Number(n) => out.int(trunc_i64(*n)),
        Value::Table(t) => {
            if depth > 1000 {
                out.error("ERR reached lua stack limit");
                count_error(b"ERR reached lua stack limit");
                return Ok(Outcome::Written);
            }
            if let Value::String(e) = t.raw_get::<Value>("err")? {
                let text = map_crlf(&e.as_bytes());
                let counted = matches!(
                    t.raw_get::<Value>("ignore_error_stats_update")?,
                    Value::Boolean(true)
                );
                if top {
                    return Ok(Outcome::Error(text, counted));
                }
                out.error_bytes(&text);
                if !counted {
                    count_error(&text);
                }
                return Ok(Outcome::Written);
            }
            if let Value::String(s) = t.raw_get::<Value>("ok")? {
                out.simple(&map_crlf(&s.as_bytes()));
                return Ok(Outcome::Written);
            }
            if let Value::Number(d) = t.raw_get::<Value>("double")? {
                out.double(d);
                return Ok(Outcome::Written);
            }
            if let Value::Integer(d) = t.raw_get::<Value>("double")? {
                out.double(d as f64);
                return Ok(Outcome::Written);
            }
            if let Value::String(s) = t.raw_get::<Value>("big_number")? {
                out.big_number(&map_crlf(&s.as_bytes()));
                return Ok(Outcome::Written);
            }
            if let Value::Table(vt) = t.raw_get::<Value>("verbatim_string")?
                && let Value::String(f) = vt.raw_get::<Value>("format")?
                && let Value::String(s) = vt.raw_get::<Value>("string")?
            {
                let f = f.as_bytes();
                let mut fmt = *b"txt";
                for (d, s) in fmt.iter_mut().zip(f.iter()) {
                    *d = *s;
                }
                out.verbatim(&fmt, &s.as_bytes());
                return Ok(Outcome::Written);
            }
            // Maps and sets are counted, then written, a pair at a time: holding every
            // pair would take two Lua references per entry, and mlua's stack of
            // references ends near 8000.
            if let Value::Table(m) = t.raw_get::<Value>("map")? {
                out.map(pair_count(&m)?);
                // An iterator, not for_each, whose callback would nest a C call per level.
                for pair in m.pairs::<Value, Value>() {
                    let (k, v) = pair?;
                    lua_to_reply(&k, out, script_resp3, false, count_error, depth + 1)?;
                    lua_to_reply(&v, out, script_resp3, false, count_error, depth + 1)?;
                }
                return Ok(Outcome::Written);
            }
            if let Value::Table(s) = t.raw_get::<Value>("set")? {
                out.set(pair_count(&s)?);
                for pair in s.pairs::<Value, Value>() {
                    let (k, _) = pair?;
                    lua_to_reply(&k, out, script_resp3, false, count_error, depth + 1)?;
                }
                return Ok(Outcome::Written);
            }
            let mut n = 0usize;
            while !t.raw_get::<Value>(n + 1)?.is_nil() {
                n += 1;
            }
            out.array(n);
            for i in 1..=n {
                let e = t.raw_get::<Value>(i)?;
                lua_to_reply(&e, out, script_resp3, false, count_error, depth + 1)?;
            }
        }
        _ => out.null(),
    }
    Ok(Outcome::Written)
}

/// The RESP version a script's `redis.setresp` chose, as a protocol.
pub fn proto(resp3: bool) -> Proto {
    if resp3 { Proto::Resp3 } else { Proto::Resp2 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_texts_as_lua_push_error_buff() {
        assert_eq!(error_text(b"-WRONGTYPE x y\r\n"), b"WRONGTYPE x y");
        assert_eq!(error_text(b"-MyErr"), b"ERR MyErr");
        assert_eq!(error_text(b"plain"), b"ERR plain");
        assert_eq!(error_text(b"-A \r\nb\n"), b"A b");
    }

    #[test]
    fn truncation_like_c() {
        assert_eq!(trunc_i64(3.99), 3);
        assert_eq!(trunc_i64(-3.99), -3);
        assert_eq!(trunc_i64(f64::NAN), i64::MIN);
        assert_eq!(trunc_i64(1e300), i64::MIN);
    }

    #[test]
    fn malformed_replies_do_not_panic() {
        let lua = Lua::new();
        for bad in [
            &b"*3\r\n:1\r\n"[..],
            b"$10\r\nab\r\n",
            b"%1\r\n",
            b"",
            b"?x\r\n",
        ] {
            let mut pos = 0;
            assert!(reply_to_lua(&lua, bad, &mut pos).unwrap().is_none());
        }
    }
}
