//! Reading an AOF command file (an incremental file, a command base, or the tail after an
//! RDB preamble) as Redis 7.0's `loadSingleAppendOnlyFile` does: `*<argc>` then `argc`
//! times `$<len>`, `len` bytes and two bytes of line end (not checked, as Redis). Lines
//! starting with `#` are annotations (timestamps) and skipped.
//!
//! The distinction that matters for `aof-load-truncated`: input that ends in the middle of a
//! command is [`Next::Truncated`] (load up to the last complete command and cut the file
//! there), while bytes that cannot be a command are [`Next::Corrupt`] (refuse to start).

/// Redis's AOF_ANNOTATION_LINE_MAX_LEN: the `fgets` buffer for `*`/`$`/`#` lines.
pub const LINE_MAX: usize = 1024;

/// One step of reading.
#[derive(Debug, PartialEq, Eq)]
pub enum Next<'a> {
    /// A complete command; `end` is the offset just after it.
    Command { argv: Vec<&'a [u8]>, end: usize },
    /// The input ended cleanly (after a complete command or annotation).
    End,
    /// The input ends inside a command that started at `at`.
    Truncated { at: usize },
    /// Not a command at `at` (Redis's "Bad file format").
    Corrupt { at: usize },
}

/// Reads commands from a whole file's bytes, starting at `pos`.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// A line as `fgets` with a LINE_MAX buffer sees it: up to and including `\n`, or LINE_MAX-1
/// bytes, or what is left; `None` at the end of input.
fn fgets(buf: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    if pos >= buf.len() {
        return None;
    }
    let rest = &buf[pos..];
    let lim = rest.len().min(LINE_MAX - 1);
    let n = rest[..lim]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(lim, |i| i + 1);
    Some((&rest[..n], pos + n))
}

/// C's `strtol`/`atoi` on a line: optional sign, then digits; anything else ends it.
fn atol(s: &[u8]) -> i64 {
    let mut i = s.iter().take_while(|c| c.is_ascii_whitespace()).count();
    let neg = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let mut v: i64 = 0;
    while let Some(d) = s.get(i).filter(|c| c.is_ascii_digit()) {
        v = v.saturating_mul(10).saturating_add((d - b'0') as i64);
        i += 1;
    }
    if neg { -v } else { v }
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8], pos: usize) -> Reader<'a> {
        Reader { buf, pos }
    }

    /// The offset of the next unread byte.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The next command, the end, or why there is none.
    pub fn next_command(&mut self) -> Next<'a> {
        loop {
            let start = self.pos;
            let Some((line, after)) = fgets(self.buf, start) else {
                return Next::End;
            };
            self.pos = after;
            if line[0] == b'#' {
                continue;
            }
            if line[0] != b'*' {
                return Next::Corrupt { at: start };
            }
            if line.len() == 1 {
                return Next::Truncated { at: start };
            }
            let argc = atol(&line[1..]);
            if argc < 1 || argc > i32::MAX as i64 {
                return Next::Corrupt { at: start };
            }
            let mut argv = Vec::with_capacity((argc as usize).min(1024));
            let mut p = after;
            for _ in 0..argc {
                let Some((line, after)) = fgets(self.buf, p) else {
                    return Next::Truncated { at: start };
                };
                if line[0] != b'$' {
                    return Next::Corrupt { at: start };
                }
                let len = atol(&line[1..]).max(0) as usize;
                // `len` bytes of argument, then two bytes of line end.
                let Some(end) = after.checked_add(len).filter(|&e| e + 2 <= self.buf.len()) else {
                    return Next::Truncated { at: start };
                };
                argv.push(&self.buf[after..end]);
                p = end + 2;
            }
            self.pos = p;
            return Next::Command { argv, end: p };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aof::writer::encode_command;

    fn file(cmds: &[&[&[u8]]]) -> Vec<u8> {
        let mut out = Vec::new();
        for c in cmds {
            encode_command(&mut out, c.iter().copied());
        }
        out
    }

    fn all(buf: &[u8]) -> (Vec<Vec<Vec<u8>>>, Next<'_>) {
        let mut r = Reader::new(buf, 0);
        let mut cmds = Vec::new();
        loop {
            match r.next_command() {
                Next::Command { argv, .. } => cmds.push(argv.iter().map(|a| a.to_vec()).collect()),
                other => return (cmds, other),
            }
        }
    }

    #[test]
    fn reads_commands_and_skips_annotations() {
        let mut buf = b"#TS:1700000000\r\n".to_vec();
        buf.extend(file(&[&[b"SET", b"a", b"1\r\n2"], &[b"DEL", b""]]));
        let (cmds, end) = all(&buf);
        assert_eq!(end, Next::End);
        assert_eq!(
            cmds,
            vec![
                vec![b"SET".to_vec(), b"a".to_vec(), b"1\r\n2".to_vec()],
                vec![b"DEL".to_vec(), b"".to_vec()]
            ]
        );
    }

    #[test]
    fn every_cut_inside_the_last_command_is_truncation() {
        let one = file(&[&[b"SET", b"a", b"1"]]);
        let buf = file(&[&[b"SET", b"a", b"1"], &[b"SET", b"key", b"value"]]);
        for cut in one.len() + 1..buf.len() {
            let (cmds, end) = all(&buf[..cut]);
            assert_eq!(cmds.len(), 1, "cut at {cut}");
            assert_eq!(end, Next::Truncated { at: one.len() }, "cut at {cut}");
        }
        assert_eq!(all(&buf).1, Next::End);
    }

    #[test]
    fn garbage_is_corruption() {
        let mut buf = file(&[&[b"SET", b"a", b"1"]]);
        let at = buf.len();
        buf.extend_from_slice(b"hello\r\n");
        buf.extend(file(&[&[b"SET", b"b", b"2"]]));
        assert_eq!(all(&buf).1, Next::Corrupt { at });
        assert_eq!(all(b"*0\r\n").1, Next::Corrupt { at: 0 });
        assert_eq!(all(b"*1\r\nx3\r\nabc\r\n").1, Next::Corrupt { at: 0 });
    }
}
