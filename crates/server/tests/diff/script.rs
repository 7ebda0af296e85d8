//! The command-script format of the differential harness, and its parser.
//!
//! One step per line; blank lines and lines whose first non-blank character is `#` are
//! skipped. A plain line is a command, split into arguments exactly as `redis-cli` splits
//! them (Redis's `sdssplitargs`: whitespace-separated, `"..."` with `\n \r \t \b \a \\ \"
//! \xHH` escapes, `'...'` with only `\'`), and is sent as a multibulk request.
//!
//! Directives start with `@`. Modifiers prefix a command and may be stacked:
//! - `@unordered CMD`       the top-level aggregate's elements are compared as a multiset
//!   (a map's key/value pairs as a multiset of pairs)
//! - `@unordered-pairs CMD` a flat array of field/value pairs (RESP2 maps, `CONFIG GET *`)
//!   compared as a multiset of pairs
//! - `@ignore CMD`          run on both, compare only the reply type (values that differ
//!   legitimately: `TIME`, `CLIENT ID`, run ids)
//! - `@shape CMD`           compare types recursively and aggregate sizes, not values
//! - `@approx N CMD`        integers may differ by up to N (`PTTL` after real time passed)
//! - `@replies N CMD`       the command produces N replies (`SUBSCRIBE a b`)
//! - `@close CMD`           after its replies the server must close the connection (`QUIT`)
//!
//! Standalone directives:
//! - `@reset`               `FLUSHALL` on both servers, then every connection is replaced by
//!   a fresh one (RESP2, db 0)
//! - `@raw "bytes" ...`     send the bytes as is; every reply up to a marker command sent
//!   right after them is compared, and the connection must stay open
//! - `@raw-close "bytes"`   send the bytes; every reply until the server closes the
//!   connection is compared, and it must close (protocol errors)
//! - `@raw-partial "bytes"` send the bytes and read nothing (a request split across reads;
//!   the following line completes it)
//! - `@sleep MS`            wait MS milliseconds of real time (expiry against real Redis,
//!   whose clock we cannot move)
//! - `@client N`            later lines use connection N (opened on first use; 0 at start)
//! - `@wait-blocked N`      poll `INFO clients` on the current connection of each server
//!   until `blocked_clients` is N (a blocking command sent with `@replies 0` on another
//!   connection has been parked before the next line runs)
//!
//! A comment line `#@server-args ARG ...` (anywhere; whitespace-separated) adds its
//! arguments to both servers' command lines (`--enable-debug-command yes` for DEBUG).
//!
//! Raw bytes are one or more double-quoted strings (same escapes as above), each optionally
//! repeated with `*COUNT` right after its closing quote: `@raw-close "*1\r\n$" "9"*70000`.

use std::fmt;

/// How the replies of one step are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Exact,
    Unordered,
    UnorderedPairs,
    Type,
    Shape,
    Approx(i64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawKind {
    /// Replies until a marker; the connection must stay open.
    Open,
    /// Replies until the server closes; it must close.
    Close,
    /// Send only.
    Partial,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Cmd(Vec<Vec<u8>>),
    Raw(Vec<u8>, RawKind),
    Reset,
    Sleep(u64),
    Client(usize),
    WaitBlocked(usize),
}

/// One parsed line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// 1-based line number in the script.
    pub line: usize,
    /// The line as written, for reports.
    pub text: String,
    pub action: Action,
    pub mode: Mode,
    /// Replies a command produces (`@replies`); 1 otherwise.
    pub replies: usize,
    /// `@close`: the server must close the connection after the replies.
    pub close: bool,
}

/// A parse error with its line.
#[derive(Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub msg: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.msg)
    }
}

/// Parses a whole script.
pub fn parse_script(src: &[u8]) -> Result<Vec<Step>, ParseError> {
    let mut steps = Vec::new();
    for (i, line) in src.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let trimmed = trim_start(line);
        if trimmed.is_empty() || trimmed[0] == b'#' {
            continue;
        }
        let step = parse_line(i + 1, trimmed).map_err(|msg| ParseError { line: i + 1, msg })?;
        steps.push(step);
    }
    Ok(steps)
}

/// The arguments of every `#@server-args` line, in order.
pub fn server_args(src: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(src)
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("#@server-args"))
        .flat_map(|rest| rest.split_whitespace().map(str::to_owned))
        .collect()
}

fn is_space(b: u8) -> bool {
    // C's isspace in the "C" locale, as sdssplitargs uses.
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&b| is_space(b)).count();
    &s[n..]
}

/// Splits off the first whitespace-delimited word.
fn word(s: &[u8]) -> (&[u8], &[u8]) {
    let s = trim_start(s);
    let n = s.iter().take_while(|&&b| !is_space(b)).count();
    (&s[..n], trim_start(&s[n..]))
}

fn number<T: std::str::FromStr>(s: &[u8], what: &str) -> Result<T, String> {
    std::str::from_utf8(s)
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| {
            format!(
                "{what} needs a number, got {:?}",
                String::from_utf8_lossy(s)
            )
        })
}

fn parse_line(line_no: usize, line: &[u8]) -> Result<Step, String> {
    let mut step = Step {
        line: line_no,
        text: String::from_utf8_lossy(line).into_owned(),
        action: Action::Reset,
        mode: Mode::Exact,
        replies: 1,
        close: false,
    };
    let mut rest = line;
    let mut modified = false;
    loop {
        rest = trim_start(rest);
        if rest.first() != Some(&b'@') {
            break;
        }
        let (name, after) = word(rest);
        let mut set_mode = |m: Mode| -> Result<(), String> {
            if step.mode != Mode::Exact {
                return Err("only one comparison modifier per line".into());
            }
            step.mode = m;
            Ok(())
        };
        rest = after;
        match name {
            b"@unordered" => set_mode(Mode::Unordered)?,
            b"@unordered-pairs" => set_mode(Mode::UnorderedPairs)?,
            b"@ignore" => set_mode(Mode::Type)?,
            b"@shape" => set_mode(Mode::Shape)?,
            b"@approx" => {
                let (n, after) = word(rest);
                rest = after;
                set_mode(Mode::Approx(number::<i64>(n, "@approx")?))?;
            }
            b"@replies" => {
                let (n, after) = word(rest);
                rest = after;
                step.replies = number::<usize>(n, "@replies")?;
            }
            b"@close" => step.close = true,
            b"@raw" | b"@raw-close" | b"@raw-partial" => {
                if step.close || step.replies != 1 {
                    return Err(format!(
                        "{} does not take @close/@replies (use @raw-close)",
                        String::from_utf8_lossy(name)
                    ));
                }
                let kind = match name {
                    b"@raw" => RawKind::Open,
                    b"@raw-close" => RawKind::Close,
                    _ => RawKind::Partial,
                };
                step.action = Action::Raw(parse_raw(rest)?, kind);
                return Ok(step);
            }
            b"@reset" | b"@sleep" | b"@client" | b"@wait-blocked" => {
                if modified {
                    return Err(format!(
                        "{} takes no modifiers",
                        String::from_utf8_lossy(name)
                    ));
                }
                let (arg, after) = word(rest);
                step.action = match name {
                    b"@reset" => Action::Reset,
                    b"@sleep" => Action::Sleep(number::<u64>(arg, "@sleep")?),
                    b"@wait-blocked" => Action::WaitBlocked(number::<usize>(arg, "@wait-blocked")?),
                    _ => Action::Client(number::<usize>(arg, "@client")?),
                };
                let extra = if name == b"@reset" { rest } else { after };
                if !extra.is_empty() {
                    return Err(format!(
                        "unexpected text after {}",
                        String::from_utf8_lossy(name)
                    ));
                }
                return Ok(step);
            }
            other => {
                return Err(format!(
                    "unknown directive {:?}",
                    String::from_utf8_lossy(other)
                ));
            }
        }
        modified = true;
    }
    let args = split_args(rest).map_err(|e| e.to_string())?;
    if args.is_empty() {
        return Err("modifiers without a command".into());
    }
    step.action = Action::Cmd(args);
    Ok(step)
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Reads the body of a double-quoted string starting after the opening quote. Returns the
/// unescaped bytes and the index just past the closing quote.
fn quoted(s: &[u8], mut i: usize) -> Result<(Vec<u8>, usize), &'static str> {
    let mut out = Vec::new();
    loop {
        match s.get(i) {
            None => return Err("unbalanced quotes"),
            Some(b'\\') if s.get(i + 1) == Some(&b'x') => {
                match (
                    s.get(i + 2).copied().and_then(hex),
                    s.get(i + 3).copied().and_then(hex),
                ) {
                    (Some(h), Some(l)) => {
                        out.push(h * 16 + l);
                        i += 4;
                    }
                    // Not a valid \xHH: like sdssplitargs, `\x` is just an escaped `x`.
                    _ => {
                        out.push(b'x');
                        i += 2;
                    }
                }
            }
            Some(b'\\') if i + 1 < s.len() => {
                out.push(match s[i + 1] {
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'b' => 0x08,
                    b'a' => 0x07,
                    c => c,
                });
                i += 2;
            }
            Some(b'"') => return Ok((out, i + 1)),
            Some(&c) => {
                out.push(c);
                i += 1;
            }
        }
    }
}

/// Splits a line into arguments exactly as Redis's `sdssplitargs` (and so `redis-cli`).
pub fn split_args(s: &[u8]) -> Result<Vec<Vec<u8>>, &'static str> {
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < s.len() && is_space(s[i]) {
            i += 1;
        }
        if i >= s.len() {
            return Ok(args);
        }
        let mut cur = Vec::new();
        loop {
            match s.get(i) {
                None => break,
                Some(&c) if is_space(c) => break,
                Some(b'"') => {
                    let (body, next) = quoted(s, i + 1)?;
                    if next < s.len() && !is_space(s[next]) {
                        return Err("closing quote must be followed by a space");
                    }
                    cur.extend_from_slice(&body);
                    i = next;
                    break;
                }
                Some(b'\'') => {
                    i += 1;
                    loop {
                        match s.get(i) {
                            None => return Err("unbalanced quotes"),
                            Some(b'\\') if s.get(i + 1) == Some(&b'\'') => {
                                cur.push(b'\'');
                                i += 2;
                            }
                            Some(b'\'') => {
                                i += 1;
                                break;
                            }
                            Some(&c) => {
                                cur.push(c);
                                i += 1;
                            }
                        }
                    }
                    if i < s.len() && !is_space(s[i]) {
                        return Err("closing quote must be followed by a space");
                    }
                    break;
                }
                Some(&c) => {
                    cur.push(c);
                    i += 1;
                }
            }
        }
        args.push(cur);
    }
}

/// Parses the bytes of a `@raw*` directive: quoted strings, each optionally `*COUNT`.
pub fn parse_raw(s: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut any = false;
    loop {
        while i < s.len() && is_space(s[i]) {
            i += 1;
        }
        if i >= s.len() {
            break;
        }
        if s[i] != b'"' {
            return Err(format!(
                "raw bytes must be double-quoted strings, found {:?}",
                String::from_utf8_lossy(&s[i..])
            ));
        }
        let (body, mut next) = quoted(s, i + 1).map_err(str::to_string)?;
        let mut count = 1usize;
        if s.get(next) == Some(&b'*') {
            let digits = s[next + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            count = number::<usize>(&s[next + 1..next + 1 + digits], "*COUNT")?;
            next += 1 + digits;
        }
        if next < s.len() && !is_space(s[next]) {
            return Err("raw string must be followed by a space".into());
        }
        for _ in 0..count {
            out.extend_from_slice(&body);
        }
        any = true;
        i = next;
    }
    if !any {
        return Err("@raw needs at least one quoted string".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Result<Vec<String>, &'static str> {
        split_args(s.as_bytes()).map(|v| {
            v.into_iter()
                .map(|a| String::from_utf8_lossy(&a).into_owned())
                .collect()
        })
    }

    #[test]
    fn splits_like_sdssplitargs() {
        assert_eq!(
            split("  SET  k   v "),
            Ok(vec!["SET".into(), "k".into(), "v".into()])
        );
        assert_eq!(split(r#"SET "a b" 'c d'"#).unwrap(), ["SET", "a b", "c d"]);
        assert_eq!(
            split(r#"x "\x41\x4a\n\"\\" """#).unwrap(),
            ["x", "AJ\n\"\\", ""]
        );
        // A quote may open mid-token; `\x` without hex digits is a plain `x`.
        assert_eq!(split(r#"a"b c""#).unwrap(), ["ab c"]);
        assert_eq!(split(r#""\xZZ""#).unwrap(), ["xZZ"]);
        assert_eq!(split(r#"'it\'s' 'a\nb'"#).unwrap(), ["it's", "a\\nb"]);
        assert_eq!(
            split(r#""a"b"#),
            Err("closing quote must be followed by a space")
        );
        assert_eq!(
            split(r#"'a'b"#),
            Err("closing quote must be followed by a space")
        );
        assert_eq!(split(r#""abc"#), Err("unbalanced quotes"));
        assert_eq!(split(r#"'abc"#), Err("unbalanced quotes"));
        assert_eq!(split("   "), Ok(vec![]));
        let bin = split_args(br#""\xff\x00""#).unwrap();
        assert_eq!(bin, vec![vec![0xff, 0x00]]);
    }

    #[test]
    fn parses_raw_bytes_with_repetition() {
        assert_eq!(
            parse_raw(br#""*1\r\n" "$4\r\nPING\r\n""#).unwrap(),
            b"*1\r\n$4\r\nPING\r\n"
        );
        assert_eq!(parse_raw(br#""ab"*3 "c""#).unwrap(), b"abababc");
        assert_eq!(parse_raw(br#""x"*0"#).unwrap(), b"");
        assert!(parse_raw(b"PING").is_err());
        assert!(parse_raw(b"").is_err());
        assert!(parse_raw(br#""a"b"#).is_err());
        assert!(parse_raw(br#""a"*x"#).is_err());
    }

    #[test]
    fn parses_directives_and_skips_comments() {
        let src = b"# comment\n\n  SET k v\r\n@unordered KEYS *\n@approx 5 PTTL k\n\
            @replies 2 SUBSCRIBE a b\n@close QUIT\n@reset\n@sleep 10\n@client 1\n\
            @raw-close \"*x\\r\\n\"\n@ignore @close QUIT\n";
        let steps = parse_script(src).unwrap();
        let got: Vec<_> = steps
            .iter()
            .map(|s| (s.line, s.mode, s.replies, s.close))
            .collect();
        assert_eq!(
            got,
            vec![
                (3, Mode::Exact, 1, false),
                (4, Mode::Unordered, 1, false),
                (5, Mode::Approx(5), 1, false),
                (6, Mode::Exact, 2, false),
                (7, Mode::Exact, 1, true),
                (8, Mode::Exact, 1, false),
                (9, Mode::Exact, 1, false),
                (10, Mode::Exact, 1, false),
                (11, Mode::Exact, 1, false),
                (12, Mode::Type, 1, true),
            ]
        );
        assert_eq!(
            steps[0].action,
            Action::Cmd(vec![b"SET".to_vec(), b"k".to_vec(), b"v".to_vec()])
        );
        assert_eq!(steps[5].action, Action::Reset);
        assert_eq!(steps[6].action, Action::Sleep(10));
        assert_eq!(steps[7].action, Action::Client(1));
        assert_eq!(
            steps[8].action,
            Action::Raw(b"*x\r\n".to_vec(), RawKind::Close)
        );
        assert_eq!(steps[0].text, "SET k v");
    }

    #[test]
    fn rejects_bad_directives_with_line_numbers() {
        let bad: &[(&[u8], &str)] = &[
            (b"PING\n@unorderd KEYS *", "unknown directive"),
            (b"@unordered", "modifiers without a command"),
            (b"@approx x PTTL k", "@approx needs a number"),
            (b"@ignore @shape TIME", "only one comparison modifier"),
            (b"@close @raw \"QUIT\\r\\n\"", "does not take @close"),
            (b"@ignore @reset", "takes no modifiers"),
            (b"@reset now", "unexpected text"),
            (b"GET \"k", "unbalanced quotes"),
        ];
        for (src, want) in bad {
            let err = parse_script(src).unwrap_err();
            assert!(
                err.msg.contains(want),
                "{:?}: {err}",
                String::from_utf8_lossy(src)
            );
            let want_line = if src.starts_with(b"PING\n") { 2 } else { 1 };
            assert_eq!(err.line, want_line);
        }
    }
}
