//! Numbers printed exactly as Redis prints them.

/// Formats `v` as C's `printf("%.17g")` does (Redis 7.0's reply format for doubles),
/// with `inf`/`-inf`/`nan`/`-nan` spelled as glibc spells them. Returns the used prefix of `buf`.
pub fn fmt_g17(v: f64, buf: &mut [u8; 32]) -> &[u8] {
    fmt_g(v, 17, buf)
}

/// `%.{prec}g` for 1 <= prec <= 17.
pub fn fmt_g(v: f64, prec: usize, buf: &mut [u8; 32]) -> &[u8] {
    use std::io::Write;
    let prec = prec.clamp(1, 17);
    if v.is_nan() {
        // glibc prints the sign bit of a NaN too.
        let s: &[u8] = if v.is_sign_negative() {
            b"-nan"
        } else {
            b"nan"
        };
        buf[..s.len()].copy_from_slice(s);
        return &buf[..s.len()];
    }
    if v.is_infinite() {
        let s: &[u8] = if v > 0.0 { b"inf" } else { b"-inf" };
        buf[..s.len()].copy_from_slice(s);
        return &buf[..s.len()];
    }
    // Scientific form with prec significant digits gives the decimal exponent after rounding.
    let mut sci = [0u8; 40];
    let n = {
        let mut c = std::io::Cursor::new(&mut sci[..]);
        write!(c, "{:.*e}", prec - 1, v).expect("fits");
        c.position() as usize
    };
    let sci = &sci[..n];
    let epos = sci.iter().position(|&b| b == b'e').expect("exponent");
    let exp: i32 = std::str::from_utf8(&sci[epos + 1..])
        .unwrap()
        .parse()
        .unwrap();
    let mut len = 0;
    let mut push = |buf: &mut [u8; 32], bytes: &[u8]| {
        buf[len..len + bytes.len()].copy_from_slice(bytes);
        len += bytes.len();
    };
    if exp < -4 || exp >= prec as i32 {
        // d.ddddde+XX with trailing zeros of the mantissa removed.
        let mut mant = &sci[..epos];
        if mant.contains(&b'.') {
            while mant.last() == Some(&b'0') {
                mant = &mant[..mant.len() - 1];
            }
            if mant.last() == Some(&b'.') {
                mant = &mant[..mant.len() - 1];
            }
        }
        push(buf, mant);
        push(buf, if exp < 0 { b"e-" } else { b"e+" });
        let a = exp.unsigned_abs();
        let mut tmp = [0u8; 8];
        let mut c = std::io::Cursor::new(&mut tmp[..]);
        write!(c, "{:02}", a).unwrap();
        let p = c.position() as usize;
        push(buf, &tmp[..p]);
    } else {
        // Fixed with prec - 1 - exp decimals, trailing zeros removed.
        let decimals = (prec as i32 - 1 - exp).max(0) as usize;
        let mut tmp = [0u8; 400];
        let mut c = std::io::Cursor::new(&mut tmp[..]);
        write!(c, "{:.*}", decimals, v).unwrap();
        let p = c.position() as usize;
        let mut s = &tmp[..p];
        if s.contains(&b'.') {
            while s.last() == Some(&b'0') {
                s = &s[..s.len() - 1];
            }
            if s.last() == Some(&b'.') {
                s = &s[..s.len() - 1];
            }
        }
        push(buf, s);
    }
    &buf[..len]
}

/// Writes the decimal form of `v` into `buf`, returning the used suffix (SCAN cursors use
/// the whole `u64` range).
pub fn fmt_u64(mut v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return &buf[i..];
        }
    }
}

/// Writes the decimal form of `v` into `buf`, returning the used suffix.
pub fn fmt_i64(v: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut n = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// Parses a signed 64-bit integer exactly as Redis's `string2ll`: no spaces, no `+`, no leading
/// zeros (except "0" itself), "-0" rejected, at most 20 characters, no overflow.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s.len() == 1 && s[0] == b'0' {
        return Some(0);
    }
    let (neg, digits) = if s[0] == b'-' {
        (true, &s[1..])
    } else {
        (false, s)
    };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let mut v: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((b - b'0') as u64)?;
    }
    if neg {
        if v > (i64::MAX as u64) + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(v: f64) -> String {
        let mut b = [0u8; 32];
        String::from_utf8(fmt_g17(v, &mut b).to_vec()).unwrap()
    }

    #[test]
    fn g17_matches_printf() {
        assert_eq!(g(0.1), "0.10000000000000001");
        assert_eq!(g(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(g(1e20), "1e+20");
        assert_eq!(g(1.5), "1.5");
        assert_eq!(g(3.0), "3");
        assert_eq!(g(-0.0), "-0");
        assert_eq!(g(0.0), "0");
        assert_eq!(g(1e-5), "1.0000000000000001e-05");
        assert_eq!(g(0.0001), "0.0001");
        assert_eq!(g(123456789012345678.0), "1.2345678901234568e+17");
        assert_eq!(g(12345678901234567.0), "12345678901234568");
        assert_eq!(g(f64::INFINITY), "inf");
        assert_eq!(g(f64::NEG_INFINITY), "-inf");
        assert_eq!(g(1e300), "1.0000000000000001e+300");
        assert_eq!(g(5e-324), "4.9406564584124654e-324");
    }

    /// Expected texts from `python3 -c 'print("%.17g" % x)'` (correctly rounded, ties to
    /// even, as glibc's printf).
    // The literals are the exact binary values under test (e.g. a tie at the 17th digit),
    // not their shortest spellings.
    #[allow(clippy::excessive_precision)]
    #[test]
    fn g17_tricky_cases() {
        let cases: &[(f64, &str)] = &[
            // An exact tie at the 17th digit rounds to even.
            (1234567890123456.25, "1234567890123456.2"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (9.9999999999999999e16, "1e+17"),
            (0.000099999999999999995, "9.9999999999999991e-05"),
            (1e23, "9.9999999999999992e+22"),
            (2.2250738585072014e-308, "2.2250738585072014e-308"),
            (f64::MAX, "1.7976931348623157e+308"),
            (2.0 / 3.0, "0.66666666666666663"),
            (-1.0 / 3.0, "-0.33333333333333331"),
            (1.005, "1.0049999999999999"),
            (4.35, "4.3499999999999996"),
            (9223372036854775808.0, "9.2233720368547758e+18"),
            (9007199254740993.0, "9007199254740992"),
            (1e21, "1e+21"),
            (-1e-300, "-1e-300"),
            (123.456, "123.456"),
        ];
        for &(v, want) in cases {
            assert_eq!(g(v), want, "{:e}", v);
        }
        assert_eq!(g(f64::NAN), "nan");
        assert_eq!(g(-f64::NAN), "-nan");
    }

    #[allow(clippy::excessive_precision)]
    #[test]
    fn g_lower_precision_rounds_the_exponent() {
        let gp = |v: f64, p: usize| {
            let mut b = [0u8; 32];
            String::from_utf8(fmt_g(v, p, &mut b).to_vec()).unwrap()
        };
        // Rounding to 6 digits carries into the next power of ten before the style is chosen.
        assert_eq!(gp(0.000099999999999999995, 6), "0.0001");
        assert_eq!(gp(999999.5, 6), "1e+06");
        assert_eq!(gp(1234567890123456.25, 6), "1.23457e+15");
        assert_eq!(gp(1234567890123456.25, 15), "1.23456789012346e+15");
        assert_eq!(gp(2.5, 1), "2");
        assert_eq!(gp(0.5, 1), "0.5");
    }

    #[test]
    fn u64_uses_the_whole_range() {
        for v in [0, 7, 10, u64::MAX] {
            let mut b = [0u8; 20];
            assert_eq!(fmt_u64(v, &mut b), v.to_string().as_bytes());
        }
    }

    #[test]
    fn i64_round_trip() {
        for v in [0, 1, -1, 42, i64::MAX, i64::MIN, 1000, -999] {
            let mut b = [0u8; 20];
            let s = fmt_i64(v, &mut b);
            assert_eq!(parse_i64(s), Some(v));
        }
        for bad in [
            &b""[..],
            b"-",
            b"01",
            b"-0",
            b"+1",
            b" 1",
            b"1 ",
            b"9223372036854775808",
            b"1a",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", bad);
        }
    }
}
