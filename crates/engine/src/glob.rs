//! Glob matching with Redis's rules (`stringmatchlen`): `*`, `?`, `[abc]`, `[^a]`, `[a-z]`,
//! `\` escapes, optional case folding. Used by KEYS, SCAN MATCH, CONFIG GET, PSUBSCRIBE.
//!
//! Semantics follow Redis 7.0.15's `stringmatchlen` byte for byte, quirks included:
//! - an empty string matches only an empty pattern (not even `*`; KEYS/SCAN special-case a
//!   lone `*` before calling the matcher);
//! - `[` without `]` runs to the end of the pattern (`[` alone never matches, `[^` matches any
//!   byte); `[a-]` is the range `a`..`]`; reversed ranges `[z-a]` are swapped;
//! - range bounds compare as C `char`, which is signed: bytes >= 0x80 sort below ASCII;
//! - `\x` inside brackets matches `x` case-sensitively even with `nocase`; a trailing `\`
//!   matches a literal backslash;
//! - case folding is ASCII only (Redis runs with the C locale for `tolower`).
//!
//! Redis matches recursively, one level per `*`, and since 7.0.9 stops as soon as the rest of
//! the pattern after a `*` fails at every position (`skipLongerMatches`): a longer match for
//! an earlier `*` cannot help then. With that rule only the innermost `*` is ever retried,
//! which is exactly an iterative matcher that backtracks to the last `*` seen. That is what
//! this is: O(pattern × string) time, O(1) stack, so no pattern can hang the loop or
//! overflow the stack.

/// True if `s` matches `pattern`.
pub fn glob_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    // Pattern byte at `i`, or NUL past the end: Redis reads the sds terminator there.
    let pat = |i: usize| pattern.get(i).copied().unwrap_or(0);
    let plen = pattern.len();
    let slen = s.len();
    let (mut p, mut si) = (0usize, 0usize);
    // Innermost `*`: where the rest of the pattern starts and the string position it is
    // being tried at.
    let mut star: Option<(usize, usize)> = None;

    loop {
        // One frame of Redis's loop: `while (patternLen && stringLen)`.
        let mut failed = false;
        while p < plen && si < slen {
            match pattern[p] {
                b'*' => {
                    while p + 1 < plen && pattern[p + 1] == b'*' {
                        p += 1;
                    }
                    if p + 1 == plen {
                        return true;
                    }
                    star = Some((p + 1, si));
                    p += 1;
                    continue;
                }
                b'?' => si += 1,
                b'[' => {
                    p += 1;
                    let not = pat(p) == b'^';
                    if not {
                        p += 1;
                    }
                    let c = s[si];
                    let mut matched = false;
                    loop {
                        if pat(p) == b'\\' && plen - p >= 2 {
                            p += 1;
                            if pattern[p] == c {
                                matched = true;
                            }
                        } else if pat(p) == b']' {
                            break;
                        } else if p >= plen {
                            // Unterminated class: step back so the common advance below
                            // lands at the end of the pattern.
                            p -= 1;
                            break;
                        } else if plen - p >= 3 && pattern[p + 1] == b'-' {
                            let (mut lo, mut hi) = (signed(pattern[p]), signed(pattern[p + 2]));
                            let mut cc = signed(c);
                            if lo > hi {
                                std::mem::swap(&mut lo, &mut hi);
                            }
                            if nocase {
                                lo = lower(lo);
                                hi = lower(hi);
                                cc = lower(cc);
                            }
                            p += 2;
                            if cc >= lo && cc <= hi {
                                matched = true;
                            }
                        } else if eq(pattern[p], c, nocase) {
                            matched = true;
                        }
                        p += 1;
                    }
                    if not {
                        matched = !matched;
                    }
                    if !matched {
                        failed = true;
                        break;
                    }
                    si += 1;
                }
                b => {
                    let b = if b == b'\\' && plen - p >= 2 {
                        p += 1;
                        pattern[p]
                    } else {
                        b
                    };
                    if !eq(b, s[si], nocase) {
                        failed = true;
                        break;
                    }
                    si += 1;
                }
            }
            p += 1;
            if si == slen {
                // String consumed: trailing stars match the empty rest.
                while p < plen && pattern[p] == b'*' {
                    p += 1;
                }
                break;
            }
        }
        if !failed && p >= plen && si == slen {
            return true;
        }
        // This frame failed: retry the innermost `*` one byte further. When it has tried
        // every position, the whole match fails (`skipLongerMatches`).
        match &mut star {
            Some((rest, at)) => {
                *at += 1;
                if *at >= slen {
                    return false;
                }
                p = *rest;
                si = *at;
            }
            None => return false,
        }
    }
}

/// A byte as C's signed `char` (x86-64), for range comparisons.
#[inline]
fn signed(b: u8) -> i32 {
    b as i8 as i32
}

/// `tolower` in the C locale; negative (high-bit) chars map to themselves.
#[inline]
fn lower(c: i32) -> i32 {
    if (b'A' as i32..=b'Z' as i32).contains(&c) {
        c + 32
    } else {
        c
    }
}

#[inline]
fn eq(a: u8, b: u8, nocase: bool) -> bool {
    a == b || (nocase && a.eq_ignore_ascii_case(&b))
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn literals_and_wildcards() {
        assert!(m("hello", "hello"));
        assert!(!m("hello", "hell"));
        assert!(!m("hell", "hello"));
        assert!(m("h?llo", "hallo"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("*", "anything"));
        assert!(m("**", "x"));
        assert!(m("a*", "a"));
        assert!(m("a**", "a"));
        assert!(m("*a", "a"));
        assert!(m("*a*", "bab"));
        assert!(!m("*a*", "bbb"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYY"));
        assert!(m("*.txt", "notes.txt"));
        assert!(!m("*.txt", "notes.txt.bak"));
        assert!(!m("a*?", "a"));
        assert!(m("a*?", "ab"));
        assert!(m("*?", "a"));
    }

    #[test]
    fn empty_inputs() {
        assert!(m("", ""));
        // Redis quirk: the empty string matches nothing but the empty pattern.
        assert!(!m("*", ""));
        assert!(!m("?", ""));
        assert!(!m("", "a"));
    }

    #[test]
    fn classes() {
        assert!(m("h[ae]llo", "hello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(!m("h[a-b]llo", "hcllo"));
        // Reversed bounds are swapped.
        assert!(m("h[b-a]llo", "hallo"));
        // `[a-]` is the range a..']'.
        assert!(m("[a-]", "]"));
        assert!(m("[a-]", "^"));
        assert!(!m("[a-]", "-"));
        // Escapes inside classes.
        assert!(m("[\\]]", "]"));
        assert!(m("[\\-]", "-"));
        assert!(m("[a\\-z]", "-"));
        assert!(!m("[a\\-z]", "b"));
        // Unterminated classes run to the end.
        assert!(!m("[", "a"));
        assert!(m("[^", "a"));
        assert!(m("[abc", "b"));
        assert!(!m("[abc", "d"));
        assert!(!m("x[", "x"));
        // `]` right after `[` closes an empty class.
        assert!(!m("[]a]", "a"));
        assert!(!m("[]", ""));
    }

    #[test]
    fn escapes() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("a\\?", "a?"));
        assert!(!m("a\\?", "ab"));
        assert!(m("\\", "\\"));
        assert!(m("a\\", "a\\"));
        assert!(m("\\\\", "\\"));
    }

    #[test]
    fn nocase() {
        assert!(glob_match(b"HeLLo", b"hello", true));
        assert!(!glob_match(b"HeLLo", b"hello", false));
        assert!(glob_match(b"[A-C]x", b"bX", true));
        assert!(glob_match(b"[a-c]", b"B", true));
        // `\x` in a class stays case-sensitive.
        assert!(!glob_match(b"[\\A]", b"a", true));
        assert!(glob_match(b"[A]", b"a", true));
    }

    #[test]
    fn high_bytes_are_signed_in_ranges() {
        // As C chars, 0x80..0xff are negative: [\x01-\x7f] does not contain 0xe9, and
        // [\xe9-a] (i.e. -23..97) contains '0'.
        assert!(!glob_match(b"[\x01-\x7f]", b"\xe9", false));
        assert!(glob_match(b"[\xe9-a]", b"0", false));
        assert!(glob_match(b"[\xe9-a]", b"\xff", false));
        assert!(glob_match(b"\xe9", b"\xe9", true));
    }

    #[test]
    fn many_stars_do_not_blow_up() {
        let pat = "*a".repeat(50_000) + "*b";
        let s = "a".repeat(60_000);
        let t = std::time::Instant::now();
        assert!(!m(&pat, &s));
        let s2 = "a".repeat(50_000) + "b";
        assert!(m(&pat, &s2));
        let p3 = "a*".repeat(30) + "b";
        assert!(!m(&p3, &"a".repeat(100)));
        assert!(t.elapsed().as_secs() < 10);
    }

    /// A direct transcription of Redis's recursive algorithm (with `skipLongerMatches`), as an
    /// oracle for the iterative matcher.
    fn reference(p: &[u8], s: &[u8], nocase: bool) -> bool {
        fn go(p: &[u8], mut pi: usize, s: &[u8], mut si: usize, nc: bool, skip: &mut bool) -> bool {
            let pat = |i: usize| p.get(i).copied().unwrap_or(0);
            while pi < p.len() && si < s.len() {
                match p[pi] {
                    b'*' => {
                        while pi < p.len() && pat(pi + 1) == b'*' {
                            pi += 1;
                        }
                        if p.len() - pi == 1 {
                            return true;
                        }
                        while si < s.len() {
                            if go(p, pi + 1, s, si, nc, skip) {
                                return true;
                            }
                            if *skip {
                                return false;
                            }
                            si += 1;
                        }
                        *skip = true;
                        return false;
                    }
                    b'?' => si += 1,
                    b'[' => {
                        pi += 1;
                        let not = pat(pi) == b'^';
                        if not {
                            pi += 1;
                        }
                        let mut mt = false;
                        loop {
                            if pat(pi) == b'\\' && p.len() - pi >= 2 {
                                pi += 1;
                                mt |= p[pi] == s[si];
                            } else if pat(pi) == b']' {
                                break;
                            } else if pi == p.len() {
                                pi -= 1;
                                break;
                            } else if p.len() - pi >= 3 && p[pi + 1] == b'-' {
                                let (mut a, mut b) =
                                    (super::signed(p[pi]), super::signed(p[pi + 2]));
                                let mut c = super::signed(s[si]);
                                if a > b {
                                    std::mem::swap(&mut a, &mut b);
                                }
                                if nc {
                                    a = super::lower(a);
                                    b = super::lower(b);
                                    c = super::lower(c);
                                }
                                pi += 2;
                                mt |= c >= a && c <= b;
                            } else {
                                mt |= super::eq(p[pi], s[si], nc);
                            }
                            pi += 1;
                        }
                        if not {
                            mt = !mt;
                        }
                        if !mt {
                            return false;
                        }
                        si += 1;
                    }
                    c => {
                        let c = if c == b'\\' && p.len() - pi >= 2 {
                            pi += 1;
                            p[pi]
                        } else {
                            c
                        };
                        if !super::eq(c, s[si], nc) {
                            return false;
                        }
                        si += 1;
                    }
                }
                pi += 1;
                if si == s.len() {
                    while pat(pi) == b'*' && pi < p.len() {
                        pi += 1;
                    }
                    break;
                }
            }
            pi == p.len() && si == s.len()
        }
        go(p, 0, s, 0, nocase, &mut false)
    }

    /// Compares against cases recorded from a real Redis 7.0.15 (`KEYS pattern` over random
    /// keys): lines of `pattern-hex string-hex 0|1` (`-` = empty pattern). Run with
    /// `GLOB_CASES=/path cargo test -p engine glob -- --ignored`.
    #[test]
    #[ignore]
    fn matches_recorded_redis_cases() {
        let Ok(path) = std::env::var("GLOB_CASES") else {
            return;
        };
        let hex = |s: &str| -> Vec<u8> {
            if s == "-" {
                return Vec::new();
            }
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect()
        };
        let text = std::fs::read_to_string(path).unwrap();
        let mut bad = 0;
        for line in text.lines() {
            let f: Vec<&str> = line.split(' ').collect();
            let (p, s, want) = (hex(f[0]), hex(f[1]), f[2] == "1");
            if glob_match(&p, &s, false) != want {
                bad += 1;
                if bad < 20 {
                    eprintln!(
                        "mismatch: pattern {:?} string {:?} redis {want}",
                        p.escape_ascii().to_string(),
                        s.escape_ascii().to_string()
                    );
                }
            }
        }
        assert_eq!(bad, 0);
    }

    proptest::proptest! {
        #[test]
        fn iterative_equals_recursive(
            p in proptest::collection::vec(proptest::sample::select(b"ab*?[]^-\\A\xe9".to_vec()), 0..12),
            s in proptest::collection::vec(proptest::sample::select(b"abAB]-^\\*\xe9".to_vec()), 0..12),
            nocase: bool,
        ) {
            proptest::prop_assert_eq!(glob_match(&p, &s, nocase), reference(&p, &s, nocase));
        }
    }
}
