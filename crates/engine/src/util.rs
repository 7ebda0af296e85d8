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

/// Parses an integer in `min..=max` as Redis's `getRangeLongFromObjectOrReply(min, max, msg)`:
/// with `msg`, both a non-integer and an out-of-range value get `msg`; without, the generic
/// texts (`NotInteger`, `ValueOutOfRange`).
pub fn parse_i64_in(
    s: &[u8],
    min: i64,
    max: i64,
    msg: Option<&'static str>,
) -> Result<i64, CmdError> {
    match resp::num::parse_i64(s) {
        Some(v) if (min..=max).contains(&v) => Ok(v),
        Some(_) => Err(msg.map_or(CmdError::ValueOutOfRange { min, max }, CmdError::Static)),
        None => Err(msg.map_or(CmdError::NotInteger, CmdError::Static)),
    }
}

/// Parses a count as Redis's `getPositiveLongFromObjectOrReply` without a message: `0..`,
/// one text for a non-integer and a negative value.
pub fn parse_positive(s: &[u8]) -> Result<i64, CmdError> {
    parse_i64_in(
        s,
        0,
        i64::MAX,
        Some("ERR value is out of range, must be positive"),
    )
}

/// Redis's rank/index range normalisation (LRANGE, LTRIM, ZRANGE by rank…): negative
/// values count from the end, `start` is clamped to 0 and `end` to the last index; the
/// inclusive (start, end), or None when the range is empty.
pub fn rank_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let llen = len as i64;
    let start = if start < 0 {
        llen.saturating_add(start)
    } else {
        start
    }
    .max(0);
    let end = if end < 0 {
        llen.saturating_add(end)
    } else {
        end
    };
    if start > end || start >= llen {
        return None;
    }
    Some((start as usize, end.min(llen - 1) as usize))
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

/// Parses a double as Redis's `getDoubleFromObject` / `string2d`: `strtod` must consume the
/// whole string (so an embedded NUL fails), no leading space, NaN refused, and an `ERANGE`
/// refused only when the result overflowed to ±inf or underflowed to zero (a subnormal
/// passes). Hex floats and `inf`/`infinity` are accepted, as `strtod` reads them.
pub fn parse_f64(s: &[u8]) -> Result<f64, CmdError> {
    parse_f64_opt(s).ok_or(CmdError::NotFloat)
}

/// Like [`parse_f64`] but without choosing the error.
pub fn parse_f64_opt(s: &[u8]) -> Option<f64> {
    if s.first().is_none_or(|&b| is_c_space(b)) {
        return None;
    }
    let r = strtod(s);
    let v = r.value;
    let refused_range = r.erange && (v.is_infinite() || v == 0.0);
    (r.consumed == s.len() && !refused_range && !v.is_nan()).then_some(v)
}

/// What C's `strtod` returned for a string.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Strtod {
    pub value: f64,
    /// Bytes consumed (`endptr - nptr`); 0 when nothing converted.
    pub consumed: usize,
    /// `errno == ERANGE`: overflow, or an inexact result that is tiny after rounding.
    pub erange: bool,
}

impl Strtod {
    /// Redis's usual `strtod(s, &eptr); if (eptr[0] != '\0' ...)` test: the conversion
    /// stopped at the end of the C string `s` denotes (its first NUL).
    pub fn reached_c_end(&self, s: &[u8]) -> bool {
        self.consumed == c_str(s).len()
    }
}

/// C's `strtod` over `s` read as a C string, i.e. only up to its first NUL byte, as Redis
/// passes an sds to it: leading whitespace skipped, optional sign, decimal or hex (`0x1p-2`)
/// digits, `inf`/`infinity`/`nan`/`nan(...)`, glibc's correct rounding and `ERANGE` rules.
/// Every parse of client input that Redis does with `strtod` goes through this one
/// function; each applies its own acceptance test to the result ([`parse_f64_opt`], SORT's
/// weights, score ranges).
pub fn strtod(s: &[u8]) -> Strtod {
    let c = c_str(s);
    // The C function needs a terminating NUL; short inputs stay on the stack.
    let mut small = [0u8; 128];
    let heap: Vec<u8>;
    let buf: &[u8] = if c.len() < small.len() {
        small[..c.len()].copy_from_slice(c);
        &small[..=c.len()]
    } else {
        let mut v = Vec::with_capacity(c.len() + 1);
        v.extend_from_slice(c);
        v.push(0);
        heap = v;
        &heap
    };
    let mut consumed = 0usize;
    let mut erange = 0i32;
    // SAFETY: `buf` is NUL-terminated and has no NUL before its end, so strtod reads only
    // within it; the out-pointers are live locals.
    let value = unsafe { rkv_strtod(buf.as_ptr(), &mut consumed, &mut erange) };
    Strtod {
        value,
        consumed,
        erange: erange != 0,
    }
}

unsafe extern "C" {
    /// csrc/ld.c: glibc's `strtod` with its consumed length and `ERANGE` flag.
    fn rkv_strtod(buf: *const u8, consumed: *mut usize, erange: *mut i32) -> f64;
}

/// The C string `s` denotes: its bytes before the first NUL.
#[inline]
pub fn c_str(s: &[u8]) -> &[u8] {
    &s[..memchr::memchr(0, s).unwrap_or(s.len())]
}

/// C's `isspace` in the "C" locale.
#[inline]
pub fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// C's `atoi` (glibc: `(int) strtol(s, NULL, 10)`), which some Redis paths use on client
/// input: leading whitespace and a sign, then digits up to the first other byte (0 when
/// there are none); the `long` saturates on overflow and is then truncated to `int`.
pub fn atoi(s: &[u8]) -> i32 {
    let s = &s[s.iter().take_while(|&&b| is_c_space(b)).count()..];
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    for &b in digits.iter().take_while(|b| b.is_ascii_digit()) {
        let d = i64::from(b - b'0');
        v = v
            .checked_mul(10)
            .and_then(|v| {
                if neg {
                    v.checked_sub(d)
                } else {
                    v.checked_add(d)
                }
            })
            .unwrap_or(if neg { i64::MIN } else { i64::MAX });
        if v == i64::MIN || v == i64::MAX {
            break;
        }
    }
    v as i32
}

/// An argument echoed in an error text as C's `%s` prints it: up to its first NUL byte
/// (Redis formats replies from the C string), as lossy UTF-8.
pub fn lossy_c_str(s: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(c_str(s))
}

/// An argument echoed as C's `%.Ns` prints it: up to its first NUL byte and at most `max`
/// bytes, as lossy UTF-8.
pub fn lossy_trunc(s: &[u8], max: usize) -> String {
    let s = c_str(s);
    String::from_utf8_lossy(&s[..s.len().min(max)]).into_owned()
}

/// Grows `v` to `len` bytes, zero-filling, without aborting when the allocation fails:
/// proto-max-bulk-len can be configured beyond the machine's memory, and a client asking
/// for that much gets an error instead of a crashed server (where Redis would abort).
/// Fills by copying a zero block (a memcpy even in unoptimised builds, where `resize`
/// writes byte by byte: seconds for SETRANGE/SETBIT near 512 MB in the tests).
pub fn grow_zeroed(v: &mut Vec<u8>, len: usize) -> Result<(), CmdError> {
    static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];
    if len > v.len() {
        v.try_reserve_exact(len - v.len())
            .map_err(|_| CmdError::StringTooLong)?;
        while v.len() < len {
            let n = (len - v.len()).min(ZEROS.len());
            v.extend_from_slice(&ZEROS[..n]);
        }
    }
    Ok(())
}

/// Case-insensitive ASCII keyword comparison as Redis's `strcasecmp` on an argument: a C
/// string, so it ends at its first NUL byte (`LPOS l a "RANK\0x" 2` is RANK on Redis).
#[inline]
pub fn eq_ic(a: &[u8], kw: &str) -> bool {
    let end = memchr::memchr(0, a).unwrap_or(a.len());
    a[..end].eq_ignore_ascii_case(kw.as_bytes())
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

/// The bytes jemalloc 5 hands out for a request of `n` bytes (its size class, what
/// `malloc_usable_size` reports): 8, then multiples of 16 up to 128, then four classes per
/// power of two. MEMORY USAGE reports real bytes with it; the server's counting allocator
/// uses it for `used_memory` (its test checks it against jemalloc's `nallocx`).
#[inline]
pub fn malloc_size(n: usize) -> usize {
    if n <= 8 {
        8
    } else if n <= 128 {
        (n + 15) & !15
    } else {
        let shift = (usize::BITS - (n - 1).leading_zeros()) - 3;
        let delta = 1usize << shift;
        (n + delta - 1) & !(delta - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(s: &str) -> (f64, usize, bool) {
        let r = strtod(s.as_bytes());
        (r.value, r.consumed, r.erange)
    }

    #[test]
    fn strtod_reads_what_glibc_reads() {
        assert_eq!(st("0x10"), (16.0, 4, false));
        assert_eq!(st(" +1"), (1.0, 3, false));
        assert_eq!(st("0X1P-2"), (0.25, 6, false));
        assert_eq!(st("0x"), (0.0, 1, false));
        assert_eq!(st("1e+"), (1.0, 1, false));
        assert_eq!(st("."), (0.0, 0, false));
        assert_eq!(st("infinit"), (f64::INFINITY, 3, false));
        assert_eq!(st("-Infinity"), (f64::NEG_INFINITY, 9, false));
        assert!(st("nan(abc)").0.is_nan() && st("nan(abc)").1 == 8);
        // The C string ends at the first NUL.
        assert_eq!(st("\0\u{7f}"), (0.0, 0, false));
        assert_eq!(st("12\0x"), (12.0, 2, false));
        // ERANGE: overflow, and an inexact result tiny after rounding; not an exact
        // subnormal, not a value that rounds up to the smallest normal.
        assert_eq!(st("1e400"), (f64::INFINITY, 5, true));
        assert_eq!(st("1e-400"), (0.0, 6, true));
        assert!(st("1e-310").2);
        assert_eq!(st("0x1p-1074"), (f64::from_bits(1), 9, false));
        assert!(!st("0x1.fffffffffffff8p-1023").2);
        assert!(st("2.2250738585072012e-308").2);
        let long = format!("{}1", "0".repeat(300));
        assert_eq!(st(&long), (1.0, 301, false));
    }

    #[test]
    fn atoi_reads_what_glibc_reads() {
        assert_eq!(atoi(b" 2"), 2);
        assert_eq!(atoi(b"2abc"), 2);
        assert_eq!(atoi(b"-3"), -3);
        assert_eq!(atoi(b"abc"), 0);
        assert_eq!(atoi(b""), 0);
        assert_eq!(atoi(b"4294967298"), 2);
        assert_eq!(atoi(b"99999999999999999999"), -1);
        assert_eq!(atoi(b"-99999999999999999999"), 0);
    }

    #[test]
    fn doubles_parse_as_string2d() {
        assert_eq!(parse_f64_opt(b"0x10"), Some(16.0));
        assert_eq!(parse_f64_opt(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64_opt(b"-infinity"), Some(f64::NEG_INFINITY));
        assert!(parse_f64_opt(b"1e-310").is_some_and(f64::is_subnormal));
        // No length limit (string2d has none): the heap path of strtod.
        let long = format!("1.{}", "0".repeat(6000));
        assert_eq!(parse_f64_opt(long.as_bytes()), Some(1.0));
        for bad in [
            "", " 1", "1 ", "nan", "1e400", "-1e400", "1e-400", "1\x002", "0x", "abc",
        ] {
            assert_eq!(parse_f64_opt(bad.as_bytes()), None, "{bad:?}");
        }
    }
}
