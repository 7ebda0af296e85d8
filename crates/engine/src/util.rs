//! Argument parsing shared by every command family: integers, doubles and keyword options
//! parsed exactly as Redis parses them, so each command does not re-invent them.

use crate::error::CmdError;

/// Parses a signed 64-bit integer as Redis's `string2ll` (`getLongLongFromObject`).
#[inline]
pub fn parse_i64(s: &[u8]) -> Result<i64, CmdError> {
    resp::num::parse_i64(s).ok_or(CmdError::NotInteger)
}

/// Parses a C `int` as Redis's `getIntFromObjectOrReply`: not an integer → `NotInteger`,
/// an integer outside `i32` → `ValueOutOfRange`.
pub fn parse_i32(s: &[u8]) -> Result<i32, CmdError> {
    let v = parse_i64(s)?;
    i32::try_from(v).map_err(|_| CmdError::ValueOutOfRange {
        min: i32::MIN as i64,
        max: i32::MAX as i64,
    })
}

/// Parses a SCAN-family cursor as Redis's `parseScanCursorOrReply`, which uses C's
/// `strtoul`: an optional sign then decimal digits, a negative value wrapping modulo 2^64
/// (`-1` is the largest cursor), the empty string reading as 0, a leading space or any
/// trailing byte rejected, overflow rejected.
pub fn parse_scan_cursor(s: &[u8]) -> Result<u64, CmdError> {
    let Some(&first) = s.first() else {
        return Ok(0);
    };
    let (neg, digits) = match first {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    // strtoul needs at least one digit; leading whitespace is refused by Redis itself.
    if digits.is_empty() {
        return Err(CmdError::InvalidCursor);
    }
    let mut v: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return Err(CmdError::InvalidCursor);
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or(CmdError::InvalidCursor)?;
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// Parses a double as Redis's `getDoubleFromObject` (`strtod` over the whole string, no
/// leading space, NaN rejected, "inf"/"-inf"/"+inf" accepted).
pub fn parse_f64(s: &[u8]) -> Result<f64, CmdError> {
    parse_f64_opt(s).ok_or(CmdError::NotFloat)
}

/// Like [`parse_f64`] but without choosing the error.
pub fn parse_f64_opt(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s.len() > 5 * 1024 || s[0].is_ascii_whitespace() {
        return None;
    }
    let st = std::str::from_utf8(s).ok()?;
    let lower = st.to_ascii_lowercase();
    let v = match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => {
            // strtod accepts hex floats and more; Rust's parser covers the decimal forms
            // clients send. Reject anything Rust does not parse.
            if lower.contains("nan") || lower.contains("inf") {
                return None;
            }
            st.parse::<f64>().ok()?
        }
    };
    if v.is_nan() { None } else { Some(v) }
}

/// Lossy UTF-8 of at most `max` bytes, for error texts that echo client input.
pub fn lossy_trunc(s: &[u8], max: usize) -> String {
    String::from_utf8_lossy(&s[..s.len().min(max)]).into_owned()
}

/// Case-insensitive ASCII keyword comparison.
#[inline]
pub fn eq_ic(a: &[u8], kw: &str) -> bool {
    a.eq_ignore_ascii_case(kw.as_bytes())
}

/// A HELP reply as Redis's `addReplyHelp`: the usage line for `cmd` (uppercased), the
/// command's `lines`, then the HELP entry, all as status replies.
pub fn reply_help(out: &mut resp::Reply<'_>, cmd: &[u8], lines: &[&str]) {
    out.array(lines.len() + 3);
    let mut head = Vec::with_capacity(cmd.len() + 56);
    head.extend(cmd.iter().map(u8::to_ascii_uppercase));
    head.extend_from_slice(b" <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    // Status replies cannot carry CR/LF; a client-supplied name could.
    for b in head.iter_mut() {
        if *b == b'\r' || *b == b'\n' {
            *b = b' ';
        }
    }
    out.simple(&head);
    for line in lines {
        out.simple(line.as_bytes());
    }
    out.simple(b"HELP");
    out.simple(b"    Prints this help.");
}
