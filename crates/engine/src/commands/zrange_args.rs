//! Range arguments of the sorted-set commands, read as `t_zset.c` reads them: the score
//! bounds of ZRANGEBYSCORE / ZCOUNT / ZREMRANGEBYSCORE / `ZRANGE … BYSCORE` (`1.5`, `(1.5`,
//! `-inf`) into a [`ScoreRange`], and the lex bounds of ZRANGEBYLEX / ZLEXCOUNT /
//! ZREMRANGEBYLEX / `ZRANGE … BYLEX` (`-`, `+`, `[member`, `(member`) into a [`LexRange`],
//! which the skiplist and listpack compare against. The data structures keep only the
//! comparisons (`types::skiplist::range`).

use crate::error::CmdError;
use crate::types::skiplist::{LexBound, LexRange, ScoreRange};
use crate::util::strtod;

const ERR_MINMAX_FLOAT: CmdError = CmdError::Static("ERR min or max is not a float");
const ERR_MINMAX_LEX: CmdError = CmdError::Static("ERR min or max not valid string range item");

/// One end of a score range as `zslParseRange`'s bare `strtod`: leading space allowed, the
/// C string (up to a NUL) must be consumed whole, the empty string reads 0, NaN refused,
/// ERANGE ignored.
fn parse_score_bound(s: &[u8]) -> Option<f64> {
    let r = strtod(s);
    (r.reached_c_end(s) && !r.value.is_nan()).then_some(r.value)
}

/// Redis's `zslParseRange`: `(` makes an end exclusive.
pub fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
    let one = |s: &[u8]| -> Option<(f64, bool)> {
        match s.first() {
            Some(b'(') => parse_score_bound(&s[1..]).map(|v| (v, true)),
            _ => parse_score_bound(s).map(|v| (v, false)),
        }
    };
    let (min, minex) = one(min).ok_or(ERR_MINMAX_FLOAT)?;
    let (max, maxex) = one(max).ok_or(ERR_MINMAX_FLOAT)?;
    Ok(ScoreRange {
        min,
        max,
        minex,
        maxex,
    })
}

/// Redis's `zslParseLexRangeItem`. `+` and `-` must stand alone; Redis tests the byte after
/// them against NUL (C strings), so `"+\0…"` also reads as `+`.
pub fn parse_lex_bound(s: &[u8]) -> Option<LexBound<'_>> {
    match s.first()? {
        b'+' if s.len() == 1 || s[1] == 0 => Some(LexBound::PosInf),
        b'-' if s.len() == 1 || s[1] == 0 => Some(LexBound::NegInf),
        b'(' => Some(LexBound::Excl(&s[1..])),
        b'[' => Some(LexBound::Incl(&s[1..])),
        _ => None,
    }
}

/// Redis's `zslParseLexRange`.
pub fn parse_lex_range<'a>(min: &'a [u8], max: &'a [u8]) -> Result<LexRange<'a>, CmdError> {
    let bound = |s| parse_lex_bound(s).ok_or(ERR_MINMAX_LEX);
    Ok(LexRange {
        min: bound(min)?,
        max: bound(max)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lex_items_parse_as_redis() {
        use LexBound::*;
        assert_eq!(parse_lex_bound(b"-"), Some(NegInf));
        assert_eq!(parse_lex_bound(b"+"), Some(PosInf));
        assert_eq!(parse_lex_bound(b"+\0junk"), Some(PosInf));
        assert_eq!(parse_lex_bound(b"-\0"), Some(NegInf));
        assert_eq!(parse_lex_bound(b"[a"), Some(Incl(b"a")));
        assert_eq!(parse_lex_bound(b"(a"), Some(Excl(b"a")));
        assert_eq!(parse_lex_bound(b"["), Some(Incl(b"")));
        assert_eq!(parse_lex_bound(b"+a"), None);
        assert_eq!(parse_lex_bound(b"-a"), None);
        assert_eq!(parse_lex_bound(b"a"), None);
        assert_eq!(parse_lex_bound(b""), None);
        assert_eq!(parse_lex_range(b"[a", b"x"), Err(ERR_MINMAX_LEX));
        assert_eq!(parse_lex_range(b"x", b"[a"), Err(ERR_MINMAX_LEX));
        assert_eq!(
            parse_lex_range(b"(a", b"+"),
            Ok(LexRange {
                min: Excl(b"a"),
                max: PosInf
            })
        );
    }

    #[test]
    fn score_items_parse_as_redis() {
        let r = |min: &str, max: &str| {
            parse_score_range(min.as_bytes(), max.as_bytes())
                .map(|r| (r.min, r.minex, r.max, r.maxex))
        };
        assert_eq!(r("1", "(2.5"), Ok((1.0, false, 2.5, true)));
        assert_eq!(
            r("(-inf", "+inf"),
            Ok((f64::NEG_INFINITY, true, f64::INFINITY, false))
        );
        // strtod's rules: leading space, the empty string is 0, the C string ends at NUL.
        assert_eq!(r(" 1", ""), Ok((1.0, false, 0.0, false)));
        assert_eq!(r("(", "2\0junk"), Ok((0.0, true, 2.0, false)));
        assert_eq!(r("1 ", "2"), Err(ERR_MINMAX_FLOAT));
        assert_eq!(r("1", "nan"), Err(ERR_MINMAX_FLOAT));
        assert_eq!(r("((1", "2"), Err(ERR_MINMAX_FLOAT));
    }
}
