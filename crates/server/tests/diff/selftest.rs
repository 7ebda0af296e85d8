//! End-to-end checks of the harness itself, against two real Redis instances configured to
//! differ in a known way: a difference must be reported at the right line with both
//! replies, the run must resynchronise after a connection ends, and a script expectation
//! both servers violate must be reported too.

use super::runner;
use super::script::parse_script;
use crate::common::server::{Kind, Server, redis_or_skip};

fn run_pair(src: &str, peer_args: &[&str]) -> runner::Report {
    let steps = parse_script(src.as_bytes()).expect("self-test script parses");
    let mut a = Server::start(Kind::Redis, &[]);
    let mut b = Server::start(Kind::Redis, peer_args);
    runner::run("selftest", &steps, ("redis", &mut a), ("other", &mut b))
}

#[test]
fn reports_each_difference_once_with_both_replies() {
    if !redis_or_skip("diff::selftest") {
        return;
    }
    // The peer has 4 databases, so SELECT 5 is the one line that differs.
    let report = run_pair(
        "PING\nSET k v\nSELECT 5\nGET k\n@unordered KEYS *\nDBSIZE\n",
        &["--databases", "4"],
    );
    assert!(report.aborted.is_none(), "{:?}", report.aborted);
    assert_eq!(report.steps_run, 6);
    assert_eq!(
        report.mismatches.len(),
        4,
        "{}",
        report.mismatches.join("\n")
    );
    let first = &report.mismatches[0];
    assert!(first.contains("selftest:3: SELECT 5"), "{first}");
    assert!(first.contains("\"+OK\\r\\n\""), "{first}");
    assert!(first.contains("-ERR DB index is out of range"), "{first}");
    assert!(first.contains("previous lines"), "{first}");
    // The reference moved to db 5 and sees no key; the peer stayed in db 0.
    assert!(report.mismatches[1].contains("selftest:4: GET k"));
    assert!(report.mismatches[2].contains("selftest:5: @unordered KEYS *"));
    assert!(report.mismatches[3].contains("selftest:6: DBSIZE"));
}

#[test]
fn raw_steps_compare_everything_up_to_the_marker_or_the_close() {
    if !redis_or_skip("diff::selftest") {
        return;
    }
    let src = "@raw \"PING\\r\\n*1\\r\\n$4\\r\\nPING\\r\\n\"\n\
               @raw-partial \"*1\\r\\n$4\\r\\nPI\"\n\
               @raw \"NG\\r\\n\"\n\
               @raw-close \"*1\\r\\n$x\\r\\n\"\n\
               PING\n\
               @raw \"*1\\r\\n$x\\r\\n\"\n\
               PING\n\
               @close QUIT\n\
               @client 1\n\
               CLIENT SETNAME one\n\
               @client 0\n\
               CLIENT GETNAME\n\
               @reset\n\
               DBSIZE\n";
    let report = run_pair(src, &[]);
    assert!(report.aborted.is_none(), "{:?}", report.aborted);
    // Both servers close on line 6 although the script says `@raw` (stay open): reported
    // as a script expectation, and the run continues on a fresh connection.
    assert_eq!(
        report.mismatches.len(),
        1,
        "{}",
        report.mismatches.join("\n")
    );
    assert!(report.mismatches[0].contains("selftest:6:"));
    assert!(report.mismatches[0].contains("both servers agree"));
    assert_eq!(report.steps_run, 14);
}

#[test]
fn a_dead_peer_aborts_with_its_log() {
    if !redis_or_skip("diff::selftest") {
        return;
    }
    // SHUTDOWN NOSAVE ends the peer's process; the runner must stop and say so.
    let report = run_pair("PING\n@close SHUTDOWN NOSAVE\nPING\nPING\n", &[]);
    let why = report.aborted.expect("run aborted");
    assert!(why.contains("exited"), "{why}");
}

#[test]
fn a_difference_deep_in_a_long_reply_is_located() {
    if !redis_or_skip("diff::selftest") {
        return;
    }
    // The same 1991-byte value but for its last byte: the report must point at that byte
    // (7 bytes of `$1991\r\n` + 1990), which the truncated replies would not show.
    let mut a = Server::start(Kind::Redis, &[]);
    let mut b = Server::start(Kind::Redis, &[]);
    let long = "a".repeat(1990);
    a.connect().cmd(&["SET", "k", &format!("{long}x")]);
    b.connect().cmd(&["SET", "k", &format!("{long}y")]);
    let steps = parse_script(b"GET k\n").unwrap();
    let report = runner::run("selftest", &steps, ("redis", &mut a), ("other", &mut b));
    assert_eq!(report.mismatches.len(), 1);
    let m = &report.mismatches[0];
    assert!(m.contains("first difference: reply [0], byte 1997"), "{m}");
}
