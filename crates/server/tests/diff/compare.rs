//! Deciding whether two servers answered a step the same way.
//!
//! Invariant: `Exact` compares raw bytes, so any difference on the wire — type, length
//! prefix, float formatting, error text — is a mismatch. The relaxed modes exist only for
//! what Redis itself leaves unspecified (order of hash-table iteration) or what cannot be
//! equal across two processes (time, ids); each relaxes exactly one thing.

use super::script::Mode;
use crate::common::resp::{Reply, escape_trunc};

/// How reading a step's replies ended on one server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// All expected replies arrived and the connection is open.
    Open,
    /// The server closed the connection; bytes of an incomplete reply before the close.
    Closed { partial: Vec<u8> },
    /// No (complete) reply within the timeout.
    Timeout { partial: Vec<u8> },
    /// Not RESP, or a socket error.
    Broken(String),
}

impl End {
    pub fn describe(&self) -> String {
        match self {
            End::Open => "connection open".into(),
            End::Closed { partial } if partial.is_empty() => "connection closed".into(),
            End::Closed { partial } => format!(
                "connection closed after partial \"{}\"",
                escape_trunc(partial, 200)
            ),
            End::Timeout { partial } if partial.is_empty() => "no reply within timeout".into(),
            End::Timeout { partial } => {
                format!("timeout after partial \"{}\"", escape_trunc(partial, 200))
            }
            End::Broken(msg) => msg.clone(),
        }
    }
}

/// Everything one server sent for one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub replies: Vec<Reply>,
    pub end: End,
}

/// Whether two outcomes agree under `mode`.
pub fn same_outcome(mode: Mode, a: &Outcome, b: &Outcome) -> bool {
    a.end == b.end
        && a.replies.len() == b.replies.len()
        && a.replies
            .iter()
            .zip(&b.replies)
            .all(|(x, y)| same_reply(mode, x, y))
}

/// Whether two replies agree under `mode`.
pub fn same_reply(mode: Mode, a: &Reply, b: &Reply) -> bool {
    match mode {
        Mode::Exact => a.raw == b.raw,
        Mode::Type => a.kind == b.kind && a.null == b.null,
        Mode::Shape => same_shape(a, b),
        Mode::Unordered => {
            let pair = if a.kind == b'%' { 2 } else { 1 };
            same_multiset(a, b, pair)
        }
        Mode::UnorderedPairs => same_multiset(a, b, 2),
        Mode::Approx(tol) => approx(a, b, tol),
    }
}

fn same_shape(a: &Reply, b: &Reply) -> bool {
    a.kind == b.kind
        && a.null == b.null
        && a.items.len() == b.items.len()
        && a.items.iter().zip(&b.items).all(|(x, y)| same_shape(x, y))
}

/// Top-level elements (grouped `group` at a time) equal as multisets; anything but two
/// aggregates of the same type and size falls back to exact comparison.
fn same_multiset(a: &Reply, b: &Reply, group: usize) -> bool {
    let comparable = a.is_aggregate()
        && a.kind == b.kind
        && a.items.len() == b.items.len()
        && a.items.len().is_multiple_of(group);
    if !comparable {
        return a.raw == b.raw;
    }
    let key = |r: &Reply| -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = r
            .items
            .chunks(group)
            .map(|c| c.iter().flat_map(|x| x.raw.iter().copied()).collect())
            .collect();
        v.sort();
        v
    };
    key(a) == key(b)
}

fn approx(a: &Reply, b: &Reply, tol: i64) -> bool {
    if let (Some(x), Some(y)) = (a.as_int(), b.as_int()) {
        return x.abs_diff(y) <= tol.unsigned_abs();
    }
    if a.is_aggregate() && a.kind == b.kind && a.items.len() == b.items.len() {
        return a.items.iter().zip(&b.items).all(|(x, y)| approx(x, y, tol));
    }
    a.raw == b.raw
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::resp::parse_reply;

    fn r(bytes: &[u8]) -> Reply {
        parse_reply(bytes).unwrap().unwrap().0
    }

    #[test]
    fn exact_is_byte_equality() {
        assert!(same_reply(Mode::Exact, &r(b"+OK\r\n"), &r(b"+OK\r\n")));
        assert!(!same_reply(
            Mode::Exact,
            &r(b"$2\r\nOK\r\n"),
            &r(b"+OK\r\n")
        ));
        assert!(!same_reply(
            Mode::Exact,
            &r(b"-ERR a\r\n"),
            &r(b"-ERR b\r\n")
        ));
    }

    #[test]
    fn unordered_compares_top_level_multisets() {
        let a = r(b"*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\na\r\n");
        let b = r(b"*3\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\na\r\n");
        let c = r(b"*3\r\n$1\r\nb\r\n$1\r\nb\r\n$1\r\na\r\n");
        assert!(same_reply(Mode::Unordered, &a, &b));
        assert!(!same_reply(Mode::Unordered, &a, &c), "multiplicity matters");
        assert!(!same_reply(Mode::Exact, &a, &b));
        // Same elements in a different aggregate type is still a difference.
        let set = r(b"~3\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\na\r\n");
        assert!(!same_reply(Mode::Unordered, &a, &set));
        // Maps: pairs move together; swapping values between keys is a mismatch.
        let m1 = r(b"%2\r\n+k1\r\n:1\r\n+k2\r\n:2\r\n");
        let m2 = r(b"%2\r\n+k2\r\n:2\r\n+k1\r\n:1\r\n");
        let m3 = r(b"%2\r\n+k2\r\n:1\r\n+k1\r\n:2\r\n");
        assert!(same_reply(Mode::Unordered, &m1, &m2));
        assert!(!same_reply(Mode::Unordered, &m1, &m3));
        let p1 = r(b"*4\r\n+k1\r\n:1\r\n+k2\r\n:2\r\n");
        let p2 = r(b"*4\r\n+k2\r\n:2\r\n+k1\r\n:1\r\n");
        let p3 = r(b"*4\r\n+k2\r\n:1\r\n+k1\r\n:2\r\n");
        assert!(same_reply(Mode::UnorderedPairs, &p1, &p2));
        assert!(!same_reply(Mode::UnorderedPairs, &p1, &p3));
        assert!(
            same_reply(Mode::Unordered, &p1, &p3),
            "plain unordered ignores pairing"
        );
    }

    #[test]
    fn type_shape_and_approx_relax_one_thing_each() {
        assert!(same_reply(Mode::Type, &r(b":1\r\n"), &r(b":99\r\n")));
        assert!(!same_reply(Mode::Type, &r(b":1\r\n"), &r(b"$1\r\n1\r\n")));
        assert!(!same_reply(Mode::Type, &r(b"$-1\r\n"), &r(b"$1\r\n1\r\n")));
        let t1 = r(b"*2\r\n$10\r\n1700000000\r\n$6\r\n123456\r\n");
        let t2 = r(b"*2\r\n$10\r\n1700000001\r\n$5\r\n12345\r\n");
        assert!(same_reply(Mode::Shape, &t1, &t2));
        assert!(!same_reply(Mode::Shape, &t1, &r(b"*1\r\n$1\r\n1\r\n")));
        assert!(same_reply(
            Mode::Approx(5),
            &r(b":1000\r\n"),
            &r(b":996\r\n")
        ));
        assert!(!same_reply(
            Mode::Approx(5),
            &r(b":1000\r\n"),
            &r(b":994\r\n")
        ));
        assert!(!same_reply(
            Mode::Approx(5),
            &r(b":1\r\n"),
            &r(b"$1\r\n1\r\n")
        ));
    }

    #[test]
    fn outcomes_compare_reply_count_and_connection_end() {
        let ok = |end| Outcome {
            replies: vec![r(b"+OK\r\n")],
            end,
        };
        assert!(same_outcome(Mode::Exact, &ok(End::Open), &ok(End::Open)));
        let closed = End::Closed { partial: vec![] };
        assert!(!same_outcome(Mode::Exact, &ok(End::Open), &ok(closed)));
        let none = Outcome {
            replies: vec![],
            end: End::Open,
        };
        assert!(!same_outcome(Mode::Exact, &ok(End::Open), &none));
    }
}
