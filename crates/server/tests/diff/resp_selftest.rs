//! Self-tests of the shared RESP reader (`common::resp`): every RESP3 type, partial input,
//! malformed input. Here rather than in `common` so they run once, not in every binary
//! that includes `common`.

use crate::common::resp::{Reply, encode_command, escape, escape_trunc, parse_reply};

fn one(bytes: &[u8]) -> Reply {
    let (r, used) = parse_reply(bytes).unwrap().unwrap();
    assert_eq!(used, bytes.len(), "whole input consumed");
    assert_eq!(r.raw, bytes);
    r
}

#[test]
fn parses_every_resp3_type_and_keeps_raw_bytes() {
    assert_eq!(one(b"+OK\r\n").data, b"OK");
    assert!(one(b"-ERR x\r\n").is_error());
    assert_eq!(one(b":-12\r\n").as_int(), Some(-12));
    assert_eq!(one(b"$3\r\na\r\n\r\n").data, b"a\r\n");
    assert!(one(b"$-1\r\n").null);
    assert!(one(b"*-1\r\n").null);
    assert!(one(b"_\r\n").null);
    assert_eq!(one(b",1.5\r\n").data, b"1.5");
    assert_eq!(one(b"#t\r\n").data, b"t");
    assert_eq!(one(b"(123\r\n").data, b"123");
    assert_eq!(one(b"!3\r\nERR\r\n").data, b"ERR");
    assert_eq!(one(b"=7\r\ntxt:abc\r\n").data, b"txt:abc");
    let m = one(b"%1\r\n+k\r\n*2\r\n:1\r\n~1\r\n$0\r\n\r\n");
    assert_eq!(m.items.len(), 2);
    assert_eq!(m.items[1].items[1].kind, b'~');
    assert_eq!(one(b">2\r\n+a\r\n+b\r\n").items.len(), 2);
    let a = one(b"|1\r\n+ttl\r\n:3\r\n+OK\r\n");
    assert_eq!((a.kind, a.attrs.len()), (b'+', 2));
}

#[test]
fn incomplete_input_is_not_consumed() {
    let full = b"*2\r\n$3\r\nfoo\r\n:1\r\n";
    for cut in 0..full.len() {
        assert_eq!(parse_reply(&full[..cut]), Ok(None), "cut at {cut}");
    }
    let mut two = full.to_vec();
    two.extend_from_slice(b"+x");
    let (_, used) = parse_reply(&two).unwrap().unwrap();
    assert_eq!(used, full.len());
}

#[test]
fn malformed_input_is_an_error() {
    assert!(parse_reply(b"?x\r\n").is_err());
    assert!(parse_reply(b"$1\r\nab\r\n").is_err());
    assert!(parse_reply(b"*-2\r\n").is_err());
    assert!(parse_reply(b"$x\r\n").is_err());
    let deep = "*1\r\n".repeat(100);
    assert!(parse_reply(deep.as_bytes()).is_err());
}

#[test]
fn encode_and_escape() {
    assert_eq!(
        encode_command(&["GET", "k"]),
        b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
    );
    assert_eq!(escape(b"a\r\n\"\\\x00\xff"), "a\\r\\n\\\"\\\\\\x00\\xff");
    assert_eq!(escape_trunc(b"abcdef", 3), "abc... (6 bytes)");
}
