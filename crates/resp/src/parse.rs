//! Request parser: RESP multibulk (`*N\r\n$len\r\n...`) and inline commands, with Redis
//! 7.0.15's limits, quirks and error texts (`processMultibulkBuffer`, `processInlineBuffer` and
//! `sdssplitargs`).
//!
//! Invariants:
//! - Stateless: each call parses one command from `buf[0]`. "Not enough bytes yet" is the
//!   normal [`Parsed::Incomplete`] result, never an error.
//! - Zero copy: multibulk arguments are slices of `buf`; inline arguments borrow `buf` unless
//!   quoting changed their bytes, in which case they are written into the caller's bump arena.
//!   No heap allocation happens here apart from growing the caller's `args` vector.
//! - No panic on any input (fuzzed): every index is bounds-checked or proven in range.
//! - On any result other than `Command`, `args` is left as the caller passed it.
//!
//! Redis quirks replicated on purpose (each verified against redis-server 7.0.15):
//! - Header lines end at the first `'\r'`; the byte after it is skipped unchecked, and so are
//!   the two bytes after a bulk payload (`$3\r\nfooXY` is accepted).
//! - Redis finds line ends with `strchr`, which stops at a NUL byte: a NUL before the line's
//!   end means the line never completes and the connection waits until the 64 KiB limit errors.
//! - Numbers go through `string2ll`: no sign `+`, no spaces, no leading zeros.
//! - The 64 KiB limits fire only while the terminator is missing. Redis reads 16 KiB at a time
//!   and parses after each read; a server that buffers more before calling the parser accepts
//!   somewhat longer header/inline lines than Redis would.
//!
//! Large requests: re-parsing a huge multibulk from the start after every read costs O(n²).
//! [`parse_command_resume`] keeps a small [`Resume`] per connection: after `Incomplete` it
//! holds where checking stopped and [`Resume::min_len`], a lower bound on the buffer length at
//! which the result can change, so the caller neither re-parses too early nor re-checks the
//! arguments already seen; the arguments are collected in one final pass.

use bumpalo::Bump;
use memchr::memchr2;

use crate::num::parse_i64;

/// Limits and per-client conditions named as Redis names them.
#[derive(Clone, Debug)]
pub struct Limits {
    /// `proto-max-bulk-len` (default 512 MB). Redis exempts its master link from this check;
    /// a replica's server passes `u64::MAX` for that connection.
    pub proto_max_bulk_len: u64,
    /// Redis's `authRequired(c)`: the client has not authenticated yet and a password is set.
    /// Such a client may send at most [`UNAUTH_MULTIBULK_MAX`] arguments of at most
    /// [`UNAUTH_BULK_MAX`] bytes each. Re-evaluate before each command: an `AUTH` earlier in
    /// the same pipeline lifts the limit for the next command.
    pub auth_required: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            proto_max_bulk_len: 512 * 1024 * 1024,
            auth_required: false,
        }
    }
}

/// Largest inline request / multibulk header line Redis accepts (`PROTO_INLINE_MAX_SIZE`).
pub const INLINE_MAX: usize = 64 * 1024;
/// Largest multibulk count (`*N`) Redis 7.0 accepts: `INT_MAX` (6.x used 1024*1024).
pub const MULTIBULK_MAX: i64 = i32::MAX as i64;
/// Largest multibulk count an unauthenticated client may send.
pub const UNAUTH_MULTIBULK_MAX: i64 = 10;
/// Largest bulk length an unauthenticated client may send.
pub const UNAUTH_BULK_MAX: i64 = 16384;

/// A protocol error. After replying with it the server closes the connection, as Redis does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtoError {
    InvalidMultibulkLength,
    InvalidBulkLength,
    /// `expected '$', got 'x'` (the raw byte; CR and LF print as a space, as Redis's
    /// `addReplyErrorFormat` maps them).
    ExpectedDollar(u8),
    UnbalancedQuotes,
    TooBigInline,
    TooBigMbulkCount,
    TooBigBulkCount,
    UnauthenticatedMultibulkLength,
    UnauthenticatedBulkLength,
}

impl ProtoError {
    /// The fixed part of the text, after `ERR `.
    fn fixed(&self) -> &'static str {
        match self {
            ProtoError::InvalidMultibulkLength => "Protocol error: invalid multibulk length",
            ProtoError::InvalidBulkLength => "Protocol error: invalid bulk length",
            ProtoError::ExpectedDollar(_) => "Protocol error: expected '$', got '",
            ProtoError::UnbalancedQuotes => "Protocol error: unbalanced quotes in request",
            ProtoError::TooBigInline => "Protocol error: too big inline request",
            ProtoError::TooBigMbulkCount => "Protocol error: too big mbulk count string",
            ProtoError::TooBigBulkCount => "Protocol error: too big bulk count string",
            ProtoError::UnauthenticatedMultibulkLength => {
                "Protocol error: unauthenticated multibulk length"
            }
            ProtoError::UnauthenticatedBulkLength => "Protocol error: unauthenticated bulk length",
        }
    }

    /// Appends the exact error text, without the leading `-` and trailing CRLF, e.g.
    /// `ERR Protocol error: invalid multibulk length`. Byte-exact even when the offending byte
    /// of `ExpectedDollar` is not ASCII.
    pub fn write_message(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"ERR ");
        out.extend_from_slice(self.fixed().as_bytes());
        if let ProtoError::ExpectedDollar(b) = *self {
            out.push(if b == b'\r' || b == b'\n' { b' ' } else { b });
            out.push(b'\'');
        }
    }

    /// The full error text as a `String`, e.g. `ERR Protocol error: invalid bulk length`.
    /// A non-ASCII byte in `ExpectedDollar` becomes U+FFFD here: use
    /// [`ProtoError::write_message`] or [`crate::Reply::proto_error`] on the wire.
    pub fn message(&self) -> String {
        let mut v = Vec::with_capacity(64);
        self.write_message(&mut v);
        String::from_utf8_lossy(&v).into_owned()
    }
}

impl std::fmt::Display for ProtoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ProtoError {}

/// Progress of an incomplete command, kept by the caller between reads (one per connection).
///
/// [`parse_command_resume`] fills it in when it returns `Incomplete` and resets it to
/// [`Resume::START`] on any other result, so the same value serves command after command.
/// It is only valid while the command's first bytes stay unchanged (bytes appended is the
/// intended use); on any other change, reset it. A stale value can at worst make the parser
/// report `Incomplete` wrongly: a `Command` or an error is always established by a full parse
/// from the start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resume {
    state: State,
    min_len: usize,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum State {
    #[default]
    Start,
    /// Multibulk: `buf[..pos]` holds the count and complete arguments; `pos` starts the next
    /// bulk header and `left >= 1` arguments remain.
    Multibulk { pos: usize, left: u64 },
    /// Inline: `buf[..scanned]` holds neither `'\n'` nor NUL.
    Inline { scanned: usize },
}

impl Resume {
    /// Parse from the beginning.
    pub const START: Resume = Resume {
        state: State::Start,
        min_len: 0,
    };

    /// After `Incomplete`: the result cannot change (to a command or an error) until the
    /// buffer passed in holds at least this many bytes, always more than it held, so the
    /// caller can wait for them before parsing again. 0 when no command is pending.
    pub fn min_len(&self) -> usize {
        self.min_len
    }
}

/// The outcome of parsing one command from the start of a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A command was parsed into `args`; `consumed` bytes belong to it.
    Command { consumed: usize },
    /// Bytes that carry no command (an empty or blank inline line, `*0`, `*-1`): skip them.
    Empty { consumed: usize },
    /// More bytes are needed. See [`parse_command_resume`] to parse a large command that
    /// arrives in many reads in linear time.
    Incomplete,
}

/// Internal result: a final outcome, or "wait" with how many more bytes at least and where
/// to resume.
enum Step {
    Done(Parsed),
    Wait { need: usize, state: State },
}

/// Parses one command from the start of `buf`, pushing its arguments onto `args` (which the
/// caller has cleared). Multibulk arguments borrow `buf`; inline arguments with escapes are
/// unescaped into `arena`.
pub fn parse_command<'a>(
    buf: &'a [u8],
    limits: &Limits,
    arena: &'a Bump,
    args: &mut Vec<&'a [u8]>,
) -> Result<Parsed, ProtoError> {
    let mut resume = Resume::START;
    parse_command_resume(buf, limits, arena, args, &mut resume)
}

/// [`parse_command`] for a command that may arrive in many reads: `resume` carries the
/// progress of the previous `Incomplete` call for the same command (the buffer having grown
/// since). While the command stays incomplete a call costs O(new bytes + new arguments); when
/// it completes, one full pass collects the arguments. Typical use:
///
/// ```text
/// if buf.len() < conn.resume.min_len() { wait for more bytes }
/// match parse_command_resume(buf, &limits, &arena, &mut args, &mut conn.resume) { ... }
/// ```
pub fn parse_command_resume<'a>(
    buf: &'a [u8],
    limits: &Limits,
    arena: &'a Bump,
    args: &mut Vec<&'a [u8]>,
    resume: &mut Resume,
) -> Result<Parsed, ProtoError> {
    let step = parse_step(buf, limits, arena, args, resume.state);
    match step {
        Ok(Step::Wait { need, state }) => {
            *resume = Resume {
                state,
                min_len: buf.len().saturating_add(need),
            };
            Ok(Parsed::Incomplete)
        }
        Ok(Step::Done(p)) => {
            *resume = Resume::START;
            Ok(p)
        }
        Err(e) => {
            *resume = Resume::START;
            Err(e)
        }
    }
}

fn parse_step<'a>(
    buf: &'a [u8],
    limits: &Limits,
    arena: &'a Bump,
    args: &mut Vec<&'a [u8]>,
    state: State,
) -> Result<Step, ProtoError> {
    match state {
        State::Multibulk { pos, left } if pos <= buf.len() && buf.first() == Some(&b'*') => {
            if let Walk::Wait(w) = walk_bulks(buf, limits, pos, left, None) {
                return Ok(w);
            }
        }
        State::Inline { scanned } if scanned <= buf.len() && buf.first() != Some(&b'*') => {
            if let Some(w) = inline_incomplete(buf, scanned) {
                return Ok(w);
            }
        }
        _ => {}
    }
    // A fresh parse, or the resumed check found the end (or an error): collect the arguments
    // (and decide the result) in one pass from the start.
    match buf.first() {
        None => Ok(Step::Wait {
            need: 1,
            state: State::Start,
        }),
        Some(b'*') => parse_multibulk(buf, limits, args),
        Some(_) => parse_inline(buf, arena, args),
    }
}

// ---------------------------------------------------------------------------------------------
// Multibulk

/// Where a header line starting at `h` ends, as Redis's `strchr(p, '\r')` plus its
/// "buffer should also contain \n" check decide.
enum Line {
    /// The `'\r'` is at this index and at least one byte follows it.
    End(usize),
    Incomplete {
        need: usize,
    },
}

/// `too_big` is returned when no `'\r'` is found within [`INLINE_MAX`] bytes of `h`.
fn header_line(buf: &[u8], h: usize, too_big: ProtoError) -> Result<Line, ProtoError> {
    let rest = &buf[h..];
    match memchr2(b'\r', 0, rest) {
        Some(i) if rest[i] == b'\r' => {
            if i + 2 <= rest.len() {
                Ok(Line::End(h + i))
            } else {
                Ok(Line::Incomplete { need: 1 })
            }
        }
        found_nul => {
            if rest.len() > INLINE_MAX {
                return Err(too_big);
            }
            let to_limit = INLINE_MAX + 1 - rest.len();
            // After a NUL the line can never end: only the limit can change the outcome.
            // Otherwise the shortest change is a '\r' plus the byte after it.
            let need = if found_nul.is_some() {
                to_limit
            } else {
                to_limit.min(2)
            };
            Ok(Line::Incomplete { need })
        }
    }
}

enum Walk {
    /// All arguments are present; the command ends at this offset.
    Done(usize),
    Wait(Step),
    Err(ProtoError),
}

fn parse_multibulk<'a>(
    buf: &'a [u8],
    limits: &Limits,
    args: &mut Vec<&'a [u8]>,
) -> Result<Step, ProtoError> {
    let r = match header_line(buf, 0, ProtoError::TooBigMbulkCount)? {
        Line::End(r) => r,
        Line::Incomplete { need } => {
            return Ok(Step::Wait {
                need,
                state: State::Start,
            });
        }
    };
    let n = match parse_i64(&buf[1..r]) {
        Some(n) if n <= MULTIBULK_MAX => n,
        _ => return Err(ProtoError::InvalidMultibulkLength),
    };
    if n > UNAUTH_MULTIBULK_MAX && limits.auth_required {
        return Err(ProtoError::UnauthenticatedMultibulkLength);
    }
    let pos = r + 2;
    if n <= 0 {
        return Ok(Step::Done(Parsed::Empty { consumed: pos }));
    }
    let base = args.len();
    // Redis pre-allocates at most 1024 slots too: the count is client-controlled.
    args.reserve((n as usize).min(1024));
    match walk_bulks(buf, limits, pos, n as u64, Some(args)) {
        Walk::Done(end) => Ok(Step::Done(Parsed::Command { consumed: end })),
        Walk::Wait(w) => {
            args.truncate(base);
            Ok(w)
        }
        Walk::Err(e) => {
            args.truncate(base);
            Err(e)
        }
    }
}

/// Checks (and, given `args`, collects) `left` bulk arguments starting at `pos`.
fn walk_bulks<'a>(
    buf: &'a [u8],
    limits: &Limits,
    mut pos: usize,
    mut left: u64,
    mut args: Option<&mut Vec<&'a [u8]>>,
) -> Walk {
    while left > 0 {
        let h = pos;
        let r = match header_line(buf, h, ProtoError::TooBigBulkCount) {
            Ok(Line::End(r)) => r,
            Ok(Line::Incomplete { need }) => {
                return Walk::Wait(Step::Wait {
                    need,
                    state: State::Multibulk { pos: h, left },
                });
            }
            Err(e) => return Walk::Err(e),
        };
        // `h <= r`, and `r < buf.len()`, so `buf[h]` exists.
        if buf[h] != b'$' {
            return Walk::Err(ProtoError::ExpectedDollar(buf[h]));
        }
        let len = match parse_i64(&buf[h + 1..r]) {
            Some(l) if l >= 0 && l as u64 <= limits.proto_max_bulk_len => l,
            _ => return Walk::Err(ProtoError::InvalidBulkLength),
        };
        if len > UNAUTH_BULK_MAX && limits.auth_required {
            return Walk::Err(ProtoError::UnauthenticatedBulkLength);
        }
        let start = r + 2;
        // The payload and the two bytes after it, which Redis skips without looking.
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let end = start.saturating_add(len).saturating_add(2);
        if end > buf.len() {
            // Nothing can happen inside the payload; after it, the next header needs at
            // least a '\r' and one byte to produce anything (even an error).
            let next = if left > 1 { 2 } else { 0 };
            return Walk::Wait(Step::Wait {
                need: (end - buf.len()).saturating_add(next),
                state: State::Multibulk { pos: h, left },
            });
        }
        if let Some(a) = args.as_deref_mut() {
            a.push(&buf[start..start + len]);
        }
        pos = end;
        left -= 1;
    }
    Walk::Done(pos)
}

// ---------------------------------------------------------------------------------------------
// Inline

/// `Some(Wait)` when no line end is found from `from` on, as `strchr(p, '\n')` sees it
/// (stopping at NUL); `None` when a line end exists or the 64 KiB limit is passed (the full
/// parse then reports the command or the error).
fn inline_incomplete(buf: &[u8], from: usize) -> Option<Step> {
    match memchr2(b'\n', 0, &buf[from..]) {
        Some(i) if buf[from + i] == b'\n' => None,
        _ if buf.len() > INLINE_MAX => None,
        Some(i) => Some(Step::Wait {
            // After a NUL the line never ends: only the size limit can change the outcome.
            need: INLINE_MAX + 1 - buf.len(),
            state: State::Inline { scanned: from + i },
        }),
        None => Some(Step::Wait {
            need: 1,
            state: State::Inline { scanned: buf.len() },
        }),
    }
}

fn parse_inline<'a>(
    buf: &'a [u8],
    arena: &'a Bump,
    args: &mut Vec<&'a [u8]>,
) -> Result<Step, ProtoError> {
    let nl = match memchr2(b'\n', 0, buf) {
        Some(i) if buf[i] == b'\n' => i,
        _ => {
            return match inline_incomplete(buf, 0) {
                Some(p) => Ok(p),
                None => Err(ProtoError::TooBigInline),
            };
        }
    };
    let line = if nl > 0 && buf[nl - 1] == b'\r' {
        &buf[..nl - 1]
    } else {
        &buf[..nl]
    };
    let consumed = nl + 1;
    let base = args.len();
    if let Err(e) = split_args(line, arena, args) {
        args.truncate(base);
        return Err(e);
    }
    Ok(Step::Done(if args.len() == base {
        Parsed::Empty { consumed }
    } else {
        Parsed::Command { consumed }
    }))
}

/// C's `isspace` in the C locale; `sdssplitargs` skips these between arguments.
#[inline]
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The bytes that end an unquoted argument in `sdssplitargs` (fewer than `is_space`: a vertical
/// tab or form feed is part of the argument).
#[inline]
fn ends_unquoted(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Quotes `s` as Redis's `sdscatrepr`: `"..."` with `\\ \" \n \r \t \a \b` and `\xHH`
/// for other bytes outside printable ASCII (config values, AOF manifest names).
pub fn repr(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', c]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(c),
            _ => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// `sdssplitargs` for text that is not a request (redis.conf lines, AOF manifests): owned
/// words, `None` on unbalanced quotes or a closing quote not followed by a blank. A NUL byte
/// ends the line, as it ends a C string.
pub fn split_args_owned(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let line = &line[..memchr::memchr(0, line).unwrap_or(line.len())];
    let arena = Bump::new();
    let mut args = Vec::new();
    split_args(line, &arena, &mut args).ok()?;
    Some(args.iter().map(|a| a.to_vec()).collect())
}

/// Splits an inline line as `sdssplitargs` does. The line has no NUL (the line search stops at
/// one), so "end of line" plays the role of C's terminating NUL. Empty arguments (`""`) are
/// kept, as Redis 7.0 keeps them.
fn split_args<'a>(
    line: &'a [u8],
    arena: &'a Bump,
    args: &mut Vec<&'a [u8]>,
) -> Result<(), ProtoError> {
    let mut i = 0;
    loop {
        while i < line.len() && is_space(line[i]) {
            i += 1;
        }
        if i == line.len() {
            return Ok(());
        }
        let start = i;
        // Fast path: a plain word borrows the line.
        while i < line.len() && !ends_unquoted(line[i]) && line[i] != b'"' && line[i] != b'\'' {
            i += 1;
        }
        if i == line.len() || ends_unquoted(line[i]) {
            args.push(&line[start..i]);
            continue;
        }
        // Quotes: one pass to validate and measure, one to write. The output is never longer
        // than its source, but sizing it exactly keeps the arena at O(line) for many quotes.
        let mut len = 0usize;
        let mut contiguous_from: Option<usize> = None;
        let mut contiguous = true;
        let end = unquote(line, start, |src, _| {
            match (src, contiguous_from) {
                (Some(s), None) if len == 0 => contiguous_from = Some(s),
                (Some(s), Some(f)) if s == f + len => {}
                _ => contiguous = false,
            }
            len += 1;
        })?;
        let arg: &'a [u8] = match contiguous_from {
            _ if len == 0 => &line[start..start],
            Some(f) if contiguous => &line[f..f + len],
            _ => {
                let out = arena.alloc_slice_fill_copy(len, 0u8);
                let mut w = 0;
                unquote(line, start, |_, b| {
                    // The second pass emits exactly `len` bytes, as the first did.
                    if let Some(slot) = out.get_mut(w) {
                        *slot = b;
                    }
                    w += 1;
                })?;
                out
            }
        };
        args.push(arg);
        i = end;
    }
}

/// Runs `sdssplitargs`'s per-argument state machine from `i`, calling `emit(source index if the
/// byte is copied verbatim, byte)` for each output byte. Returns the index after the argument.
fn unquote(
    line: &[u8],
    mut i: usize,
    mut emit: impl FnMut(Option<usize>, u8),
) -> Result<usize, ProtoError> {
    // `at(k)` is C's `*p`, with the end of the line reading as the terminating NUL.
    let at = |k: usize| line.get(k).copied().unwrap_or(0);
    let (mut inq, mut insq) = (false, false);
    loop {
        let c = at(i);
        let mut done = false;
        if inq {
            let hex = (at(i + 1) == b'x')
                .then(|| Some(hex_val(at(i + 2))? * 16 + hex_val(at(i + 3))?))
                .flatten();
            if c == b'\\' && hex.is_some() {
                emit(None, hex.unwrap_or(0));
                i += 3;
            } else if c == b'\\' && at(i + 1) != 0 {
                i += 1;
                let e = match at(i) {
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'b' => 0x08,
                    b'a' => 0x07,
                    other => other,
                };
                emit(None, e);
            } else if c == b'"' {
                // A closing quote must be followed by a space or the end.
                if at(i + 1) != 0 && !is_space(at(i + 1)) {
                    return Err(ProtoError::UnbalancedQuotes);
                }
                done = true;
            } else if c == 0 {
                return Err(ProtoError::UnbalancedQuotes);
            } else {
                emit(Some(i), c);
            }
        } else if insq {
            if c == b'\\' && at(i + 1) == b'\'' {
                i += 1;
                emit(None, b'\'');
            } else if c == b'\'' {
                if at(i + 1) != 0 && !is_space(at(i + 1)) {
                    return Err(ProtoError::UnbalancedQuotes);
                }
                done = true;
            } else if c == 0 {
                return Err(ProtoError::UnbalancedQuotes);
            } else {
                emit(Some(i), c);
            }
        } else {
            match c {
                b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                b'"' => inq = true,
                b'\'' => insq = true,
                _ => emit(Some(i), c),
            }
        }
        // C's `if (*p) p++;`, on wherever the branch left `p`.
        if at(i) != 0 {
            i += 1;
        }
        if done {
            return Ok(i);
        }
    }
}

#[cfg(test)]
mod tests;
