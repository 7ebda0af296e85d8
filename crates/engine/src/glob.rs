//! Glob matching with Redis's rules (`stringmatchlen`): `*`, `?`, `[abc]`, `[^a]`, `[a-z]`,
//! `\` escapes, optional case folding. Used by KEYS, SCAN MATCH, CONFIG GET, PSUBSCRIBE.

/// True if `s` matches `pattern`.
pub fn glob_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    let _ = (pattern, s, nocase);
    todo!()
}
