//! Range arguments of the sorted-set commands, read as `t_zset.c` reads them: the lex
//! bounds of ZRANGEBYLEX / ZLEXCOUNT / ZREMRANGEBYLEX / `ZRANGE … BYLEX` (`-`, `+`,
//! `[member`, `(member`) into the [`LexRange`] the skiplist and listpack compare against.
//! The data structures keep only the comparisons (`types::skiplist::range`).

use crate::types::skiplist::{LexBound, LexRange};

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

/// Redis's `zslParseLexRange`; `None` is Redis's
/// `ERR min or max not valid string range item`.
pub fn parse_lex_range<'a>(min: &'a [u8], max: &'a [u8]) -> Option<LexRange<'a>> {
    Some(LexRange {
        min: parse_lex_bound(min)?,
        max: parse_lex_bound(max)?,
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
        assert!(parse_lex_range(b"[a", b"x").is_none());
        assert!(parse_lex_range(b"x", b"[a").is_none());
        assert_eq!(
            parse_lex_range(b"(a", b"+"),
            Some(LexRange {
                min: Excl(b"a"),
                max: PosInf
            })
        );
    }
}
