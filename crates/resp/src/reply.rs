//! Reply encoder. Writes straight into a connection's output buffer; RESP3 types are
//! downgraded for RESP2 clients exactly as Redis 7.0 does (map → flat array, set → array,
//! double → bulk string, boolean → integer, null → `$-1`/`*-1`, big number and verbatim →
//! bulk string, push → array).

use crate::num::{fmt_g17, fmt_i64};
use crate::parse::ProtoError;

/// The protocol a client speaks (`HELLO 2|3`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Proto {
    #[default]
    Resp2,
    Resp3,
}

/// An encoder over an output buffer. Cheap to construct per command.
pub struct Reply<'a> {
    pub buf: &'a mut Vec<u8>,
    pub proto: Proto,
}

impl<'a> Reply<'a> {
    pub fn new(buf: &'a mut Vec<u8>, proto: Proto) -> Self {
        Reply { buf, proto }
    }

    #[inline]
    pub fn resp3(&self) -> bool {
        self.proto == Proto::Resp3
    }

    #[inline]
    fn line(&mut self, prefix: u8, body: &[u8]) {
        self.buf.reserve(body.len() + 3);
        self.buf.push(prefix);
        self.buf.extend_from_slice(body);
        self.buf.extend_from_slice(b"\r\n");
    }

    #[inline]
    fn len_line(&mut self, prefix: u8, n: i64) {
        let mut b = [0u8; 20];
        let s = fmt_i64(n, &mut b);
        self.line(prefix, s);
    }

    /// `+OK`
    #[inline]
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// A status reply (`+...`). `s` must not contain CR or LF.
    #[inline]
    pub fn simple(&mut self, s: &[u8]) {
        self.line(b'+', s);
    }

    /// An error reply. `msg` carries its own code (`ERR ...`, `WRONGTYPE ...`); CR/LF in it
    /// are replaced by spaces as Redis does.
    pub fn error(&mut self, msg: &str) {
        self.buf.push(b'-');
        self.buf.extend(
            msg.bytes()
                .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An error reply from raw bytes (Redis error texts may quote a client's non-UTF-8
    /// byte); CR/LF are replaced by spaces as in [`Reply::error`].
    pub fn error_bytes(&mut self, msg: &[u8]) {
        self.buf.push(b'-');
        self.buf.extend(
            msg.iter()
                .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
        self.buf.extend_from_slice(b"\r\n");
    }

    /// The reply to a protocol error, byte-exact (`-ERR Protocol error: ...`). The server
    /// closes the connection after sending it.
    pub fn proto_error(&mut self, e: &ProtoError) {
        self.buf.push(b'-');
        e.write_message(self.buf);
        self.buf.extend_from_slice(b"\r\n");
    }

    #[inline]
    pub fn int(&mut self, v: i64) {
        self.len_line(b':', v);
    }

    #[inline]
    pub fn bulk(&mut self, s: &[u8]) {
        self.len_line(b'$', s.len() as i64);
        self.buf.reserve(s.len() + 2);
        self.buf.extend_from_slice(s);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An integer as a bulk string (Redis's `addReplyBulkLongLong`).
    pub fn bulk_int(&mut self, v: i64) {
        let mut b = [0u8; 20];
        let s = fmt_i64(v, &mut b);
        self.bulk(s);
    }

    /// The null bulk string (`$-1` / `_`).
    #[inline]
    pub fn null(&mut self) {
        match self.proto {
            Proto::Resp2 => self.buf.extend_from_slice(b"$-1\r\n"),
            Proto::Resp3 => self.buf.extend_from_slice(b"_\r\n"),
        }
    }

    /// The null array (`*-1` / `_`).
    #[inline]
    pub fn null_array(&mut self) {
        match self.proto {
            Proto::Resp2 => self.buf.extend_from_slice(b"*-1\r\n"),
            Proto::Resp3 => self.buf.extend_from_slice(b"_\r\n"),
        }
    }

    #[inline]
    pub fn array(&mut self, n: usize) {
        self.len_line(b'*', n as i64);
    }

    /// A map of `n` pairs; a flat array of `2n` items in RESP2.
    #[inline]
    pub fn map(&mut self, n: usize) {
        match self.proto {
            Proto::Resp2 => self.len_line(b'*', 2 * n as i64),
            Proto::Resp3 => self.len_line(b'%', n as i64),
        }
    }

    #[inline]
    pub fn set(&mut self, n: usize) {
        match self.proto {
            Proto::Resp2 => self.len_line(b'*', n as i64),
            Proto::Resp3 => self.len_line(b'~', n as i64),
        }
    }

    /// An out-of-band push (pub/sub messages); an array in RESP2.
    #[inline]
    pub fn push(&mut self, n: usize) {
        match self.proto {
            Proto::Resp2 => self.len_line(b'*', n as i64),
            Proto::Resp3 => self.len_line(b'>', n as i64),
        }
    }

    /// A double as Redis 7.0's `addReplyDouble`: `%.17g`, `inf`/`-inf`.
    pub fn double(&mut self, v: f64) {
        let mut b = [0u8; 32];
        let s = fmt_g17(v, &mut b);
        match self.proto {
            Proto::Resp2 => self.bulk(s),
            Proto::Resp3 => self.line(b',', s),
        }
    }

    /// An attribute header (`|n`) before the reply it annotates; RESP3 only (callers skip
    /// it in RESP2, where attributes do not exist).
    pub fn attribute(&mut self, n: usize) {
        debug_assert!(self.resp3());
        self.len_line(b'|', n as i64);
    }

    /// A boolean: `#t`/`#f`, or `:1`/`:0` in RESP2.
    pub fn boolean(&mut self, v: bool) {
        match self.proto {
            Proto::Resp2 => self.int(v as i64),
            Proto::Resp3 => self
                .buf
                .extend_from_slice(if v { b"#t\r\n" } else { b"#f\r\n" }),
        }
    }

    /// A big number (`(`), a bulk string in RESP2.
    pub fn big_number(&mut self, digits: &[u8]) {
        match self.proto {
            Proto::Resp2 => self.bulk(digits),
            Proto::Resp3 => self.line(b'(', digits),
        }
    }

    /// A verbatim string with a 3-byte format (`txt`, `mkd`); a bulk string in RESP2.
    pub fn verbatim(&mut self, format: &[u8; 3], s: &[u8]) {
        match self.proto {
            Proto::Resp2 => self.bulk(s),
            Proto::Resp3 => {
                self.len_line(b'=', s.len() as i64 + 4);
                self.buf.extend_from_slice(format);
                self.buf.push(b':');
                self.buf.extend_from_slice(s);
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(proto: Proto, f: impl FnOnce(&mut Reply)) -> Vec<u8> {
        let mut v = Vec::new();
        f(&mut Reply::new(&mut v, proto));
        v
    }

    #[test]
    fn resp2_downgrades() {
        assert_eq!(enc(Proto::Resp2, |r| r.null()), b"$-1\r\n");
        assert_eq!(enc(Proto::Resp2, |r| r.null_array()), b"*-1\r\n");
        assert_eq!(enc(Proto::Resp2, |r| r.map(2)), b"*4\r\n");
        assert_eq!(enc(Proto::Resp2, |r| r.double(1.5)), b"$3\r\n1.5\r\n");
        assert_eq!(enc(Proto::Resp2, |r| r.boolean(true)), b":1\r\n");
        assert_eq!(
            enc(Proto::Resp2, |r| r.verbatim(b"txt", b"hi")),
            b"$2\r\nhi\r\n"
        );
    }

    #[test]
    fn resp3_types() {
        assert_eq!(enc(Proto::Resp3, |r| r.null()), b"_\r\n");
        assert_eq!(enc(Proto::Resp3, |r| r.map(2)), b"%2\r\n");
        assert_eq!(enc(Proto::Resp3, |r| r.set(1)), b"~1\r\n");
        assert_eq!(enc(Proto::Resp3, |r| r.double(f64::INFINITY)), b",inf\r\n");
        assert_eq!(enc(Proto::Resp3, |r| r.boolean(false)), b"#f\r\n");
        assert_eq!(enc(Proto::Resp3, |r| r.push(3)), b">3\r\n");
        assert_eq!(
            enc(Proto::Resp3, |r| r.verbatim(b"txt", b"hi")),
            b"=6\r\ntxt:hi\r\n"
        );
        assert_eq!(enc(Proto::Resp3, |r| r.big_number(b"123")), b"(123\r\n");
    }

    #[test]
    fn scalars() {
        assert_eq!(enc(Proto::Resp2, |r| r.int(-42)), b":-42\r\n");
        assert_eq!(
            enc(Proto::Resp2, |r| r.bulk_int(i64::MIN)),
            b"$20\r\n-9223372036854775808\r\n"
        );
        assert_eq!(enc(Proto::Resp2, |r| r.bulk(b"")), b"$0\r\n\r\n");
        assert_eq!(
            enc(Proto::Resp2, |r| r.error("ERR a\r\nb")),
            b"-ERR a  b\r\n"
        );
    }
}
