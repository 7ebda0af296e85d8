//! A raw-TCP RESP client for tests. It sends requests as multibulk (or any raw bytes) and
//! reads RESP2/RESP3 replies, keeping the exact bytes of each reply so tests can compare
//! servers byte for byte.
//!
//! Invariants: [`parse_reply`] is pure and never consumes a partial reply (it returns
//! `Ok(None)` until the whole reply, nested elements included, is buffered). A `Reply`'s
//! `raw` is exactly the bytes the server sent for it, attributes (`|`) included.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

/// How long a read waits for the server before giving up. Generous: a failing test should
/// say "no reply", not hang CI, yet a loaded 2-core machine must not cause false timeouts.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// One reply as received.
#[derive(Clone, PartialEq, Eq)]
pub struct Reply {
    /// The exact bytes of this reply, nested elements and leading attributes included.
    pub raw: Vec<u8>,
    /// The type byte: `+ - : $ * _ , # ! = ( % ~ >`.
    pub kind: u8,
    /// The payload: the line of a simple/error/integer/double/boolean/big-number reply, the
    /// bytes of a bulk/verbatim/bulk-error reply; empty for nulls and aggregates.
    pub data: Vec<u8>,
    /// `$-1`, `*-1` or `_`.
    pub null: bool,
    /// Elements of an aggregate; a map's keys and values alternate (`k1 v1 k2 v2`).
    pub items: Vec<Reply>,
    /// Attribute pairs (`|`) that preceded the reply, flattened like a map.
    pub attrs: Vec<Reply>,
}

impl Reply {
    pub fn is_error(&self) -> bool {
        self.kind == b'-' || self.kind == b'!'
    }

    pub fn is_aggregate(&self) -> bool {
        matches!(self.kind, b'*' | b'%' | b'~' | b'>')
    }

    /// The integer of a `:` reply.
    pub fn as_int(&self) -> Option<i64> {
        if self.kind != b':' {
            return None;
        }
        std::str::from_utf8(&self.data).ok()?.parse().ok()
    }

    /// The payload of a string-like reply (simple, bulk, verbatim, error), `None` for nulls
    /// and aggregates.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self.kind {
            b'+' | b'-' | b'$' | b'=' | b'!' | b',' | b'(' if !self.null => Some(&self.data),
            _ => None,
        }
    }

    /// The payload as (lossy) text, for assertions and messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// The raw bytes, escaped: `"+OK\r\n"` shows as `+OK\r\n`.
impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape(&self.raw))
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reply(\"{}\")", escape(&self.raw))
    }
}

/// Why a read returned no reply.
#[derive(Debug)]
pub enum ReadError {
    /// The server closed the connection (FIN or RST); `partial` holds bytes received after
    /// the last complete reply.
    Closed {
        reset: bool,
        partial: Vec<u8>,
    },
    /// Nothing complete arrived within the timeout.
    Timeout {
        partial: Vec<u8>,
    },
    /// The server sent bytes that are not RESP.
    Malformed {
        msg: String,
        bytes: Vec<u8>,
    },
    Io(io::Error),
}

impl ReadError {
    pub fn is_closed(&self) -> bool {
        matches!(self, ReadError::Closed { .. })
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Closed { reset, partial } => {
                let how = if *reset { "reset" } else { "closed" };
                if partial.is_empty() {
                    write!(f, "<connection {how}>")
                } else {
                    write!(
                        f,
                        "<connection {how} after partial \"{}\">",
                        escape(partial)
                    )
                }
            }
            ReadError::Timeout { partial } => {
                if partial.is_empty() {
                    write!(f, "<no reply within timeout>")
                } else {
                    write!(f, "<timeout after partial \"{}\">", escape(partial))
                }
            }
            ReadError::Malformed { msg, bytes } => {
                write!(f, "<malformed reply: {msg}: \"{}\">", escape(bytes))
            }
            ReadError::Io(e) => write!(f, "<i/o error: {e}>"),
        }
    }
}

/// Encodes a command as a RESP multibulk request.
pub fn encode_command<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(16 + args.iter().map(|a| a.as_ref().len() + 16).sum::<usize>());
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Renders bytes readably: printable ASCII as is, `\r \n \t \\ \"`, anything else `\xHH`.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

/// [`escape`], cut to about `max` input bytes with a note of the full length.
pub fn escape_trunc(bytes: &[u8], max: usize) -> String {
    if bytes.len() <= max {
        escape(bytes)
    } else {
        format!("{}... ({} bytes)", escape(&bytes[..max]), bytes.len())
    }
}

/// Nesting beyond this is treated as malformed: no server reply we test nests this deep,
/// and it keeps a hostile byte stream from exhausting the test's stack.
const MAX_DEPTH: usize = 64;

/// Parses one reply from the start of `buf`. `Ok(None)`: incomplete, read more.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, String> {
    parse_at(buf, 0, 0)
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|p| from + p)
}

fn parse_len(line: &[u8]) -> Result<i64, String> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or_else(|| format!("bad length \"{}\"", escape(line)))
}

fn parse_at(buf: &[u8], start: usize, depth: usize) -> Result<Option<(Reply, usize)>, String> {
    if depth > MAX_DEPTH {
        return Err("reply nested too deeply".into());
    }
    let Some(&kind) = buf.get(start) else {
        return Ok(None);
    };
    let Some(eol) = find_crlf(buf, start + 1) else {
        return Ok(None);
    };
    let line = &buf[start + 1..eol];
    let mut pos = eol + 2;
    let mut reply = Reply {
        raw: Vec::new(),
        kind,
        data: Vec::new(),
        null: false,
        items: Vec::new(),
        attrs: Vec::new(),
    };
    match kind {
        b'+' | b'-' | b':' | b',' | b'#' | b'(' => reply.data = line.to_vec(),
        b'_' => {
            if !line.is_empty() {
                return Err("null with a payload".into());
            }
            reply.null = true;
        }
        b'$' | b'!' | b'=' => {
            let n = parse_len(line)?;
            if n == -1 && kind == b'$' {
                reply.null = true;
            } else if n < 0 {
                return Err(format!("negative length {n}"));
            } else {
                let n = n as usize;
                if buf.len() < pos + n + 2 {
                    return Ok(None);
                }
                if &buf[pos + n..pos + n + 2] != b"\r\n" {
                    return Err("bulk payload not followed by CRLF".into());
                }
                reply.data = buf[pos..pos + n].to_vec();
                pos += n + 2;
            }
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = parse_len(line)?;
            if n == -1 && kind == b'*' {
                reply.null = true;
            } else if n < 0 {
                return Err(format!("negative count {n}"));
            } else {
                let count = if matches!(kind, b'%' | b'|') {
                    2 * n
                } else {
                    n
                };
                let mut items = Vec::new();
                for _ in 0..count {
                    match parse_at(buf, pos, depth + 1)? {
                        Some((item, next)) => {
                            items.push(item);
                            pos = next;
                        }
                        None => return Ok(None),
                    }
                }
                if kind == b'|' {
                    // An attribute annotates the reply that follows it; they travel as one.
                    let Some((mut inner, next)) = parse_at(buf, pos, depth + 1)? else {
                        return Ok(None);
                    };
                    inner.attrs = items;
                    inner.raw = buf[start..next].to_vec();
                    return Ok(Some((inner, next)));
                }
                reply.items = items;
            }
        }
        other => return Err(format!("unknown reply type byte \"{}\"", escape(&[other]))),
    }
    reply.raw = buf[start..pos].to_vec();
    Ok(Some((reply, pos)))
}

/// A connection speaking raw RESP. Replies are read in order; bytes that arrive beyond a
/// reply stay buffered for the next read.
pub struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
    addr: SocketAddr,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> io::Result<Client> {
        let stream = TcpStream::connect_timeout(&addr, DEFAULT_TIMEOUT)?;
        // Requests are tiny and latency-bound; never let Nagle hold one back.
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(DEFAULT_TIMEOUT))?;
        stream.set_write_timeout(Some(DEFAULT_TIMEOUT))?;
        Ok(Client {
            stream,
            buf: Vec::new(),
            addr,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    pub fn set_timeout(&mut self, d: Duration) {
        // A zero duration is rejected by the OS; treat it as the shortest wait instead.
        let d = d.max(Duration::from_millis(1));
        let _ = self.stream.set_read_timeout(Some(d));
    }

    /// Sends one command as multibulk.
    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<()> {
        self.stream.write_all(&encode_command(args))
    }

    /// Sends bytes exactly as given (malformed input, inline commands, pipelines).
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Half-closes our side, as a client that sends its last request and hangs up.
    pub fn shutdown_write(&mut self) -> io::Result<()> {
        self.stream.shutdown(Shutdown::Write)
    }

    /// Bytes received that are not (yet) a complete reply.
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }

    /// Reads the next complete reply.
    pub fn read_reply(&mut self) -> Result<Reply, ReadError> {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match parse_reply(&self.buf) {
                Ok(Some((reply, used))) => {
                    self.buf.drain(..used);
                    return Ok(reply);
                }
                Ok(None) => {}
                Err(msg) => {
                    return Err(ReadError::Malformed {
                        msg,
                        bytes: std::mem::take(&mut self.buf),
                    });
                }
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    return Err(ReadError::Closed {
                        reset: false,
                        partial: std::mem::take(&mut self.buf),
                    });
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(ReadError::Timeout {
                        partial: self.buf.clone(),
                    });
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                    ) =>
                {
                    return Err(ReadError::Closed {
                        reset: true,
                        partial: std::mem::take(&mut self.buf),
                    });
                }
                Err(e) => return Err(ReadError::Io(e)),
            }
        }
    }

    /// Reads replies until the server closes the connection (or the timeout passes or the
    /// stream is malformed); the error says how reading ended.
    pub fn read_until_close(&mut self) -> (Vec<Reply>, ReadError) {
        let mut replies = Vec::new();
        loop {
            match self.read_reply() {
                Ok(r) => replies.push(r),
                Err(e) => return (replies, e),
            }
        }
    }

    /// Sends a command and returns its reply; panics (naming the command) on any read error.
    pub fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Reply {
        let shown = || {
            args.iter()
                .map(|a| escape(a.as_ref()))
                .collect::<Vec<_>>()
                .join(" ")
        };
        if let Err(e) = self.send(args) {
            panic!("sending `{}` to {}: {e}", shown(), self.addr);
        }
        match self.read_reply() {
            Ok(r) => r,
            Err(e) => panic!("reply to `{}` from {}: {e}", shown(), self.addr),
        }
    }

    /// Polls `INFO clients` until the server reports `blocked_clients:n` (a blocking command
    /// sent on another connection has been parked), for up to 10 s: a condition awaited, not
    /// a sleep guessed.
    pub fn wait_blocked(&mut self, n: usize) -> Result<(), String> {
        let want = format!("blocked_clients:{n}\r\n");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            self.send(&["INFO", "clients"])
                .map_err(|e| format!("send failed: {e}"))?;
            let r = self
                .read_reply()
                .map_err(|e| format!("INFO clients: {e:?}"))?;
            if memchr::memmem::find(&r.raw, want.as_bytes()).is_some() {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                return Err(format!("never reached {}", want.trim()));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// [`Client::cmd`], returning the reply's raw bytes.
    pub fn cmd_raw<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Vec<u8> {
        self.cmd(args).raw
    }
}
