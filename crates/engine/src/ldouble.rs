//! C `long double` arithmetic, as Redis's INCRBYFLOAT and HINCRBYFLOAT do it.
//!
//! Redis parses with `strtold`, adds in `long double` (x87 80-bit extended precision on
//! x86_64) and prints with `"%.17Lf"` minus trailing zeros, so `SET k 10.50; INCRBYFLOAT k
//! 5.0e3` answers `5010.60000000000000009` — a result `f64` cannot reproduce. The arithmetic
//! and formatting therefore live in a tiny C shim (csrc/ld.c, built by build.rs) and this
//! module is its safe face.
//!
//! Invariants: a [`LongDouble`] is an opaque 16-byte, 16-aligned blob only ever written by
//! the shim (the C side statically asserts `long double` fits); it always holds a value the
//! shim produced (parsed, converted or summed), never arbitrary bytes. No function allocates.

use std::fmt;

/// Redis's `MAX_LONG_DOUBLE_CHARS`: inputs of this length or longer are rejected, and it is
/// enough room for the longest `"%.17Lf"` rendering of a finite `long double`.
pub const MAX_CHARS: usize = 5 * 1024;

/// A C `long double`, opaque to Rust.
#[derive(Clone, Copy)]
#[repr(C, align(16))]
pub struct LongDouble {
    bytes: [u8; 16],
}

unsafe extern "C" {
    fn rkv_ld_parse(s: *const u8, len: usize, out: *mut LongDouble) -> i32;
    fn rkv_ld_from_i64(v: i64, out: *mut LongDouble);
    fn rkv_ld_add(a: *const LongDouble, b: *const LongDouble, out: *mut LongDouble);
    fn rkv_ld_is_finite(v: *const LongDouble) -> i32;
    fn rkv_ld_format_human(v: *const LongDouble, buf: *mut u8, len: usize) -> usize;
    fn rkv_ld_seconds_to_ms(v: *const LongDouble) -> i64;
}

impl LongDouble {
    /// A zeroed blob for the shim to fill (zero bytes are also the value 0.0).
    #[inline]
    fn blank() -> LongDouble {
        LongDouble { bytes: [0; 16] }
    }

    /// Parses as Redis's `string2ld`: the whole input must be a `strtold` number (decimal,
    /// hex float, `inf`), no leading whitespace, no NaN, no overflow to infinity, no
    /// underflow to zero, shorter than [`MAX_CHARS`].
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        let mut out = LongDouble::blank();
        // SAFETY: `s` is valid for `s.len()` bytes (the shim copies at most that many, and
        // only when shorter than its buffer); `out` is a live, aligned blob of the asserted
        // size.
        let ok = unsafe { rkv_ld_parse(s.as_ptr(), s.len(), &mut out) };
        (ok != 0).then_some(out)
    }

    /// The exact value of an integer (every i64 fits a 64-bit mantissa).
    pub fn from_i64(v: i64) -> LongDouble {
        let mut out = LongDouble::blank();
        // SAFETY: `out` is a live, aligned blob of the asserted size.
        unsafe { rkv_ld_from_i64(v, &mut out) };
        out
    }

    /// `self + other` in `long double`.
    #[allow(clippy::should_implement_trait)]
    pub fn add(self, other: LongDouble) -> LongDouble {
        let mut out = LongDouble::blank();
        // SAFETY: all three point to live, aligned blobs holding shim-produced values.
        unsafe { rkv_ld_add(&self, &other, &mut out) };
        out
    }

    /// Seconds to milliseconds as Redis's `getTimeoutFromObjectOrReply`: `self * 1000.0` in
    /// `long double`, truncated by the C cast to `long long`, which on x86_64 makes any value
    /// out of range (infinities included) `i64::MIN`.
    pub fn seconds_to_ms(self) -> i64 {
        // SAFETY: `self` is a live, aligned blob holding a shim-produced value.
        unsafe { rkv_ld_seconds_to_ms(&self) }
    }

    /// False for NaN and infinities.
    pub fn is_finite(&self) -> bool {
        // SAFETY: `self` is a live, aligned blob holding a shim-produced value.
        unsafe { rkv_ld_is_finite(self) != 0 }
    }

    /// Formats as Redis's `ld2string(LD_STR_HUMAN)` into `buf`: `"%.17Lf"` with trailing
    /// zeros removed, `-0` as `0`, `inf`/`-inf`. Returns the used prefix of `buf`.
    pub fn format_human<'b>(&self, buf: &'b mut [u8; MAX_CHARS]) -> &'b [u8] {
        // SAFETY: `buf` is writable for MAX_CHARS bytes and the shim writes at most `len`
        // (snprintf is bounded); `self` holds a shim-produced value.
        let n = unsafe { rkv_ld_format_human(self, buf.as_mut_ptr(), buf.len()) };
        // The shim returns 0 when the text would not fit, which cannot happen for MAX_CHARS.
        &buf[..n.min(MAX_CHARS)]
    }
}

impl fmt::Debug for LongDouble {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; MAX_CHARS];
        let s = self.format_human(&mut buf);
        write!(f, "LongDouble({})", String::from_utf8_lossy(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn human(v: LongDouble) -> String {
        let mut buf = [0u8; MAX_CHARS];
        String::from_utf8(v.format_human(&mut buf).to_vec()).unwrap()
    }

    fn p(s: &str) -> LongDouble {
        LongDouble::parse(s.as_bytes()).unwrap_or_else(|| panic!("{s:?} should parse"))
    }

    /// Expected texts come from Redis 7.0.15's INCRBYFLOAT on x86_64.
    #[test]
    fn sums_match_redis_extended_precision() {
        assert_eq!(human(p("10.50").add(p("0.1"))), "10.6");
        assert_eq!(human(p("10.6").add(p("5.0e3"))), "5010.60000000000000009");
        assert_eq!(human(p("0.1").add(p("0.2"))), "0.3");
        assert_eq!(human(p("0.3").add(p("-0.3"))), "0");
        assert_eq!(human(p("0x10").add(p("3.0000000000000000001"))), "19");
        assert_eq!(
            human(LongDouble::from_i64(0).add(p("1.5e-10"))),
            "0.00000000015"
        );
        assert_eq!(
            human(LongDouble::from_i64(0).add(p("123456789012345678901234567890"))),
            "123456789012345678899921813504"
        );
    }

    #[test]
    fn negative_zero_prints_as_zero() {
        assert_eq!(human(p("-0")), "0");
        assert_eq!(human(p("-0.0").add(p("-0"))), "0");
    }

    #[test]
    fn integers_are_exact() {
        assert_eq!(human(LongDouble::from_i64(i64::MAX)), "9223372036854775807");
        assert_eq!(
            human(LongDouble::from_i64(i64::MIN)),
            "-9223372036854775808"
        );
    }

    #[test]
    fn parse_rejects_what_string2ld_rejects() {
        for bad in [
            "", " 1", "1 ", "abc", "nan", "-nan", "1e5000", "-1e5000", "1e-5000", "1\x002",
        ] {
            assert!(LongDouble::parse(bad.as_bytes()).is_none(), "{bad:?}");
        }
        // "1.000…": the length limit, not the value, decides.
        let mut long = b"1.".to_vec();
        long.resize(MAX_CHARS, b'0');
        assert!(LongDouble::parse(&long).is_none());
        assert!(LongDouble::parse(&long[..MAX_CHARS - 1]).is_some());
    }

    #[test]
    fn infinity_parses_but_is_not_finite() {
        let inf = p("inf");
        assert!(!inf.is_finite());
        assert_eq!(human(inf), "inf");
        assert_eq!(human(p("-inf")), "-inf");
        assert!(!p("1e4932").add(p("1e4932")).is_finite());
        assert!(p("1e400").is_finite());
    }
}
