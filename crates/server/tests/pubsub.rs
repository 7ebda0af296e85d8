//! Real-socket tests of pub/sub with several clients: framing of confirmations and messages
//! in RESP2 and RESP3, delivery order, patterns, unsubscribe-all, the RESP2 subscribed-mode
//! gate, subscribers that disconnect, a slow subscriber closed at the output-buffer hard
//! limit while other clients keep working, keyspace notifications, and introspection
//! (PUBSUB, INFO, CLIENT LIST).
//!
//! Expected bytes are Redis 7.0.15's (checked by hand against the real server; the
//! differential script `scripts/pubsub.txt` compares the deterministic parts directly).

mod common;

use common::{Client, ReadError, Server};
use std::time::{Duration, Instant};

fn raw(c: &mut Client) -> Vec<u8> {
    c.read_reply().expect("a reply").raw
}

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `*3 $message $<ch> $<msg>` in RESP2.
fn message(ch: &str, msg: &str) -> String {
    format!(
        "*3\r\n$7\r\nmessage\r\n${}\r\n{ch}\r\n${}\r\n{msg}\r\n",
        ch.len(),
        msg.len()
    )
}

#[test]
fn subscribe_confirmations_and_messages_in_resp2() {
    let srv = Server::ringkv();
    let mut sub = srv.connect();
    let mut publ = srv.connect();
    sub.send(&["SUBSCRIBE", "a", "b", "a"]).unwrap();
    assert_eq!(
        s(&raw(&mut sub)),
        "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
    );
    assert_eq!(
        s(&raw(&mut sub)),
        "*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
    );
    // Subscribing again confirms again, with an unchanged count.
    assert_eq!(
        s(&raw(&mut sub)),
        "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:2\r\n"
    );
    assert_eq!(publ.cmd_raw(&["PUBLISH", "a", "one"]), b":1\r\n");
    assert_eq!(publ.cmd_raw(&["PUBLISH", "nobody", "x"]), b":0\r\n");
    assert_eq!(publ.cmd_raw(&["PUBLISH", "b", ""]), b":1\r\n");
    assert_eq!(publ.cmd_raw(&["PUBLISH", "a", "bin\0\r\n"]), b":1\r\n");
    assert_eq!(s(&raw(&mut sub)), message("a", "one"));
    assert_eq!(s(&raw(&mut sub)), message("b", ""));
    assert_eq!(s(&raw(&mut sub)), message("a", "bin\0\r\n"));
}

#[test]
fn many_subscribers_get_messages_in_publish_order() {
    let srv = Server::ringkv();
    let mut subs: Vec<Client> = (0..20).map(|_| srv.connect()).collect();
    for c in &mut subs {
        c.send(&["SUBSCRIBE", "news"]).unwrap();
        raw(c);
    }
    let mut publ = srv.connect();
    for i in 0..50 {
        assert_eq!(
            publ.cmd_raw(&["PUBLISH", "news", &i.to_string()]),
            b":20\r\n"
        );
    }
    for c in &mut subs {
        for i in 0..50 {
            assert_eq!(s(&raw(c)), message("news", &i.to_string()));
        }
    }
}

#[test]
fn patterns_use_redis_glob_and_deliver_pmessage_after_message() {
    let srv = Server::ringkv();
    let mut sub = srv.connect();
    let mut publ = srv.connect();
    sub.send(&["SUBSCRIBE", "news.art"]).unwrap();
    raw(&mut sub);
    sub.send(&["PSUBSCRIBE", "news.*", "h?llo", "x[a-c]y"])
        .unwrap();
    assert_eq!(
        s(&raw(&mut sub)),
        "*3\r\n$10\r\npsubscribe\r\n$6\r\nnews.*\r\n:2\r\n"
    );
    raw(&mut sub);
    assert_eq!(
        s(&raw(&mut sub)),
        "*3\r\n$10\r\npsubscribe\r\n$7\r\nx[a-c]y\r\n:4\r\n"
    );
    // One channel subscription plus one matching pattern: two deliveries.
    assert_eq!(publ.cmd_raw(&["PUBLISH", "news.art", "m"]), b":2\r\n");
    assert_eq!(s(&raw(&mut sub)), message("news.art", "m"));
    assert_eq!(
        s(&raw(&mut sub)),
        "*4\r\n$8\r\npmessage\r\n$6\r\nnews.*\r\n$8\r\nnews.art\r\n$1\r\nm\r\n"
    );
    assert_eq!(publ.cmd_raw(&["PUBLISH", "hello", "1"]), b":1\r\n");
    assert_eq!(publ.cmd_raw(&["PUBLISH", "hallo", "2"]), b":1\r\n");
    assert_eq!(publ.cmd_raw(&["PUBLISH", "heello", "3"]), b":0\r\n");
    assert_eq!(publ.cmd_raw(&["PUBLISH", "xby", "4"]), b":1\r\n");
    assert_eq!(publ.cmd_raw(&["PUBLISH", "xdy", "5"]), b":0\r\n");
    for (pat, ch, m) in [
        ("h?llo", "hello", "1"),
        ("h?llo", "hallo", "2"),
        ("x[a-c]y", "xby", "4"),
    ] {
        assert_eq!(
            s(&raw(&mut sub)),
            format!(
                "*4\r\n$8\r\npmessage\r\n${}\r\n{pat}\r\n${}\r\n{ch}\r\n$1\r\n{m}\r\n",
                pat.len(),
                ch.len()
            )
        );
    }
    assert_eq!(publ.cmd_raw(&["PUBSUB", "NUMPAT"]), b":3\r\n");
    // PUNSUBSCRIBE without arguments: every pattern, in subscription order.
    sub.send(&["PUNSUBSCRIBE"]).unwrap();
    for (pat, n) in [("news.*", 3), ("h?llo", 2), ("x[a-c]y", 1)] {
        assert_eq!(
            s(&raw(&mut sub)),
            format!(
                "*3\r\n$12\r\npunsubscribe\r\n${}\r\n{pat}\r\n:{n}\r\n",
                pat.len()
            )
        );
    }
    assert_eq!(publ.cmd_raw(&["PUBSUB", "NUMPAT"]), b":0\r\n");
}

#[test]
fn resp2_subscribed_mode_allows_only_pubsub_commands() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    c.send(&["SUBSCRIBE", "a"]).unwrap();
    raw(&mut c);
    assert_eq!(
        s(&c.cmd_raw(&["GET", "x"])),
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
    );
    assert_eq!(
        s(&c.cmd_raw(&["client", "list"])),
        "-ERR Can't execute 'client|list': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
    );
    assert_eq!(c.cmd_raw(&["PING"]), b"*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    assert_eq!(
        c.cmd_raw(&["PING", "hi"]),
        b"*2\r\n$4\r\npong\r\n$2\r\nhi\r\n"
    );
    assert_eq!(
        s(&c.cmd_raw(&["PING", "a", "b"])),
        "-ERR wrong number of arguments for 'ping' command\r\n"
    );
    // Unknown commands and arity errors are reported as outside pub/sub mode.
    assert_eq!(
        s(&c.cmd_raw(&["SUBSCRIBE"])),
        "-ERR wrong number of arguments for 'subscribe' command\r\n"
    );
    // Leaving every subscription leaves the mode.
    assert_eq!(
        s(&c.cmd_raw(&["UNSUBSCRIBE"])),
        "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n"
    );
    assert_eq!(c.cmd_raw(&["PING"]), b"+PONG\r\n");
    // Unsubscribing from nothing: one reply with a nil name.
    for (cmd, word) in [
        ("UNSUBSCRIBE", "unsubscribe"),
        ("PUNSUBSCRIBE", "punsubscribe"),
        ("SUNSUBSCRIBE", "sunsubscribe"),
    ] {
        assert_eq!(
            s(&c.cmd_raw(&[cmd])),
            format!("*3\r\n${}\r\n{word}\r\n$-1\r\n:0\r\n", word.len())
        );
    }
    assert_eq!(c.cmd_raw(&["GET", "x"]), b"$-1\r\n");
}

#[test]
fn resp3_gets_pushes_and_may_run_any_command() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    let mut publ = srv.connect();
    c.cmd(&["HELLO", "3"]);
    c.send(&["SUBSCRIBE", "a"]).unwrap();
    assert_eq!(
        s(&raw(&mut c)),
        ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
    );
    c.send(&["PSUBSCRIBE", "a*"]).unwrap();
    assert_eq!(
        s(&raw(&mut c)),
        ">3\r\n$10\r\npsubscribe\r\n$2\r\na*\r\n:2\r\n"
    );
    assert_eq!(c.cmd_raw(&["PING"]), b"+PONG\r\n");
    assert_eq!(c.cmd_raw(&["SET", "k", "v"]), b"+OK\r\n");
    assert_eq!(publ.cmd_raw(&["PUBLISH", "a", "x"]), b":2\r\n");
    assert_eq!(
        s(&raw(&mut c)),
        ">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nx\r\n"
    );
    assert_eq!(
        s(&raw(&mut c)),
        ">4\r\n$8\r\npmessage\r\n$2\r\na*\r\n$1\r\na\r\n$1\r\nx\r\n"
    );
    // Publishing to itself: the pushes come before the PUBLISH reply.
    c.send(&["PUBLISH", "a", "self"]).unwrap();
    assert_eq!(
        s(&raw(&mut c)),
        ">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$4\r\nself\r\n"
    );
    assert!(raw(&mut c).starts_with(b">4\r\n$8\r\npmessage"));
    assert_eq!(raw(&mut c), b":2\r\n");
    assert_eq!(c.cmd_raw(&["GET", "k"]), b"$1\r\nv\r\n");
    c.send(&["UNSUBSCRIBE"]).unwrap();
    assert_eq!(
        s(&raw(&mut c)),
        ">3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n"
    );
    c.send(&["PUNSUBSCRIBE", "zz"]).unwrap();
    assert_eq!(
        s(&raw(&mut c)),
        ">3\r\n$12\r\npunsubscribe\r\n$2\r\nzz\r\n:1\r\n"
    );
    c.send(&["SUNSUBSCRIBE"]).unwrap();
    assert_eq!(s(&raw(&mut c)), ">3\r\n$12\r\nsunsubscribe\r\n_\r\n:0\r\n");
}

#[test]
fn shard_channels_are_counted_apart_and_ignore_patterns() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    let mut publ = srv.connect();
    c.send(&["SUBSCRIBE", "ch"]).unwrap();
    raw(&mut c);
    c.send(&["PSUBSCRIBE", "*"]).unwrap();
    raw(&mut c);
    c.send(&["SSUBSCRIBE", "s1", "s2"]).unwrap();
    assert_eq!(
        s(&raw(&mut c)),
        "*3\r\n$10\r\nssubscribe\r\n$2\r\ns1\r\n:1\r\n"
    );
    assert_eq!(
        s(&raw(&mut c)),
        "*3\r\n$10\r\nssubscribe\r\n$2\r\ns2\r\n:2\r\n"
    );
    assert_eq!(publ.cmd_raw(&["SPUBLISH", "s1", "hi"]), b":1\r\n");
    assert_eq!(
        s(&raw(&mut c)),
        "*3\r\n$8\r\nsmessage\r\n$2\r\ns1\r\n$2\r\nhi\r\n"
    );
    // PUBLISH and SPUBLISH are separate namespaces.
    assert_eq!(publ.cmd_raw(&["SPUBLISH", "ch", "x"]), b":0\r\n");
    assert_eq!(publ.cmd_raw(&["PUBLISH", "s2", "x"]), b":1\r\n"); // the `*` pattern
    raw(&mut c);
    assert_eq!(
        s(&publ.cmd_raw(&["PUBSUB", "SHARDNUMSUB", "s1", "nope"])),
        "*4\r\n$2\r\ns1\r\n:1\r\n$4\r\nnope\r\n:0\r\n"
    );
    assert_eq!(
        s(&publ.cmd_raw(&["PUBSUB", "SHARDCHANNELS", "*1"])),
        "*1\r\n$2\r\ns1\r\n"
    );
    c.send(&["SUNSUBSCRIBE", "s2", "s1"]).unwrap();
    assert_eq!(
        s(&raw(&mut c)),
        "*3\r\n$12\r\nsunsubscribe\r\n$2\r\ns2\r\n:1\r\n"
    );
    assert_eq!(
        s(&raw(&mut c)),
        "*3\r\n$12\r\nsunsubscribe\r\n$2\r\ns1\r\n:0\r\n"
    );
    // Still subscribed to `ch` and `*`: still in pub/sub mode.
    assert!(
        c.cmd_raw(&["GET", "x"])
            .starts_with(b"-ERR Can't execute 'get'")
    );
}

#[test]
fn introspection_and_disconnected_subscribers() {
    let srv = Server::ringkv();
    let mut a = srv.connect();
    let mut b = srv.connect();
    let mut q = srv.connect();
    a.send(&["SUBSCRIBE", "x", "y"]).unwrap();
    raw(&mut a);
    raw(&mut a);
    a.send(&["PSUBSCRIBE", "p*"]).unwrap();
    raw(&mut a);
    b.send(&["SUBSCRIBE", "x"]).unwrap();
    raw(&mut b);
    b.send(&["SSUBSCRIBE", "s"]).unwrap();
    raw(&mut b);
    assert_eq!(
        s(&q.cmd_raw(&["PUBSUB", "NUMSUB", "x", "y", "z"])),
        "*6\r\n$1\r\nx\r\n:2\r\n$1\r\ny\r\n:1\r\n$1\r\nz\r\n:0\r\n"
    );
    assert_eq!(s(&q.cmd_raw(&["PUBSUB", "NUMSUB"])), "*0\r\n");
    // Hash order, as Redis: compare as a set.
    let chans = s(&q.cmd_raw(&["PUBSUB", "CHANNELS"]));
    assert!(
        chans == "*2\r\n$1\r\nx\r\n$1\r\ny\r\n" || chans == "*2\r\n$1\r\ny\r\n$1\r\nx\r\n",
        "{chans:?}"
    );
    assert_eq!(
        s(&q.cmd_raw(&["PUBSUB", "CHANNELS", "y*"])),
        "*1\r\n$1\r\ny\r\n"
    );
    let info = q.cmd(&["INFO", "stats"]).text();
    for line in [
        "pubsub_channels:2",
        "pubsub_patterns:1",
        "pubsubshard_channels:1",
    ] {
        assert!(info.contains(line), "{line} missing in\n{info}");
    }
    let list = q.cmd(&["CLIENT", "LIST"]).text();
    assert!(list.contains("flags=P db=0 sub=2 psub=1 ssub=0"), "{list}");
    assert!(list.contains("flags=P db=0 sub=1 psub=0 ssub=1"), "{list}");
    assert!(list.contains("flags=N db=0 sub=0 psub=0 ssub=0"), "{list}");
    let pubsub_only = q.cmd(&["CLIENT", "LIST", "TYPE", "pubsub"]).text();
    assert_eq!(pubsub_only.lines().count(), 2, "{pubsub_only}");
    // A subscriber that goes away is no longer counted or delivered to.
    drop(a);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = q.cmd_raw(&["PUBLISH", "x", "m"]);
        if r == b":1\r\n" {
            break;
        }
        assert!(Instant::now() < deadline, "closed subscriber still counted");
        std::thread::yield_now();
    }
    assert_eq!(
        s(&q.cmd_raw(&["PUBSUB", "NUMSUB", "x", "y"])),
        "*4\r\n$1\r\nx\r\n:1\r\n$1\r\ny\r\n:0\r\n"
    );
    assert_eq!(q.cmd_raw(&["PUBSUB", "NUMPAT"]), b":0\r\n");
    // RESET drops every subscription silently.
    // (`b` got one message per poll above; they come first.)
    b.send(&["RESET"]).unwrap();
    loop {
        let r = raw(&mut b);
        if r == b"+RESET\r\n" {
            break;
        }
        assert_eq!(s(&r), message("x", "m"));
    }
    assert_eq!(q.cmd_raw(&["PUBLISH", "x", "m"]), b":0\r\n");
    assert_eq!(b.cmd_raw(&["GET", "k"]), b"$-1\r\n");
    let info = q.cmd(&["INFO", "stats"]).text();
    assert!(info.contains("pubsub_channels:0"), "{info}");
    assert!(info.contains("pubsubshard_channels:0"), "{info}");
}

#[test]
fn slow_subscriber_is_closed_at_the_hard_limit_and_others_keep_working() {
    let srv = Server::ringkv();
    let mut admin = srv.connect();
    assert_eq!(
        admin.cmd_raw(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 1mb 0 0"
        ]),
        b"+OK\r\n"
    );
    let mut slow = srv.connect();
    slow.send(&["SUBSCRIBE", "flood"]).unwrap();
    raw(&mut slow);
    let mut fast = srv.connect();
    fast.send(&["SUBSCRIBE", "flood"]).unwrap();
    raw(&mut fast);
    // `slow` never reads again: its socket buffers fill, then ours grows to the limit.
    let payload = "x".repeat(64 * 1024);
    let mut publ = srv.connect();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut sent = 0;
    loop {
        let r = publ.cmd_raw(&["PUBLISH", "flood", &payload]);
        sent += 1;
        // The fast subscriber keeps up, so the publisher is never blocked by it.
        assert_eq!(raw(&mut fast).len(), message("flood", &payload).len());
        if r == b":1\r\n" {
            break;
        }
        assert_eq!(r, b":2\r\n");
        assert!(Instant::now() < deadline, "slow subscriber never closed");
    }
    assert!(sent > 16, "closed too early, after {sent} messages");
    assert!(
        srv.log()
            .contains("scheduled to be closed ASAP for overcoming of output buffer limits."),
        "log:\n{}",
        srv.log()
    );
    // The other clients are unaffected.
    assert_eq!(admin.cmd_raw(&["PING"]), b"+PONG\r\n");
    assert_eq!(publ.cmd_raw(&["PUBLISH", "flood", "end"]), b":1\r\n");
    assert_eq!(s(&raw(&mut fast)), message("flood", "end"));
    // The slow one finds its connection closed once it reads (after what was sent).
    slow.set_timeout(Duration::from_secs(10));
    let end = loop {
        match slow.read_reply() {
            Ok(_) => {}
            Err(e) => break e,
        }
    };
    assert!(
        matches!(end, ReadError::Closed { .. }),
        "expected close, got {end}"
    );
}

#[test]
fn keyspace_config_round_trips() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    assert_eq!(
        c.cmd_raw(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]),
        b"+OK\r\n"
    );
    assert_eq!(
        s(&c.cmd_raw(&["CONFIG", "GET", "notify-keyspace-events"])),
        "*2\r\n$22\r\nnotify-keyspace-events\r\n$3\r\nAKE\r\n"
    );
}

/// Reads one message and returns (channel, payload) of a RESP2 `message`.
fn next_message(c: &mut Client) -> (String, String) {
    let r = c.read_reply().expect("a message");
    let parts: Vec<String> = r
        .items
        .iter()
        .map(|i| s(i.as_bytes().unwrap_or_default()))
        .collect();
    assert_eq!(parts.len(), 3, "{}", s(&r.raw));
    assert_eq!(parts[0], "message", "{}", s(&r.raw));
    (parts[1].clone(), parts[2].clone())
}

#[test]
fn keyspace_notifications_for_string_and_key_commands() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    let mut ks = srv.connect();
    let mut ke = srv.connect();
    assert_eq!(
        c.cmd_raw(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]),
        b"+OK\r\n"
    );
    ks.send(&["SUBSCRIBE", "__keyspace@0__:k", "__keyspace@0__:t"])
        .unwrap();
    raw(&mut ks);
    raw(&mut ks);
    ke.send(&["PSUBSCRIBE", "__keyevent@*__:*"]).unwrap();
    raw(&mut ke);
    assert_eq!(c.cmd_raw(&["SET", "k", "v"]), b"+OK\r\n");
    assert_eq!(c.cmd_raw(&["EXPIRE", "k", "100"]), b":1\r\n");
    assert_eq!(c.cmd_raw(&["DEL", "k"]), b":1\r\n");
    assert_eq!(c.cmd_raw(&["DEL", "k"]), b":0\r\n"); // nothing deleted: no event
    // Lazy expiry: a key past its time raises `expired` when touched (SET ... PX also
    // raises `expire`, as Redis).
    assert_eq!(c.cmd_raw(&["SET", "t", "v", "PX", "1"]), b"+OK\r\n");
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.cmd_raw(&["EXISTS", "t"]) != b":0\r\n" {
        assert!(Instant::now() < deadline, "t never expired");
        std::thread::yield_now();
    }
    for (ch, ev) in [
        ("__keyspace@0__:k", "set"),
        ("__keyspace@0__:k", "expire"),
        ("__keyspace@0__:k", "del"),
        ("__keyspace@0__:t", "set"),
        ("__keyspace@0__:t", "expire"),
        ("__keyspace@0__:t", "expired"),
    ] {
        assert_eq!(next_message(&mut ks), (ch.to_string(), ev.to_string()));
    }
    for (ev, key) in [
        ("set", "k"),
        ("expire", "k"),
        ("del", "k"),
        ("set", "t"),
        ("expire", "t"),
        ("expired", "t"),
    ] {
        let r = ke.read_reply().expect("a pmessage").raw;
        let ch = format!("__keyevent@0__:{ev}");
        assert_eq!(
            s(&r),
            format!(
                "*4\r\n$8\r\npmessage\r\n$16\r\n__keyevent@*__:*\r\n${}\r\n{ch}\r\n$1\r\n{key}\r\n",
                ch.len()
            )
        );
    }
    // Only the selected classes: `$` without `g` reports SET but not DEL.
    assert_eq!(
        c.cmd_raw(&["CONFIG", "SET", "notify-keyspace-events", "K$"]),
        b"+OK\r\n"
    );
    c.cmd(&["SET", "k", "1"]);
    c.cmd(&["DEL", "k"]);
    c.cmd(&["INCR", "k"]);
    assert_eq!(
        next_message(&mut ks),
        ("__keyspace@0__:k".into(), "set".into())
    );
    assert_eq!(
        next_message(&mut ks),
        ("__keyspace@0__:k".into(), "incrby".into())
    );
}

#[test]
fn resp3_client_sees_its_own_keyspace_events_before_the_reply() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    c.cmd(&["HELLO", "3"]);
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KA"]);
    c.send(&["SUBSCRIBE", "__keyspace@0__:k"]).unwrap();
    raw(&mut c);
    c.send(&["SET", "k", "v"]).unwrap();
    assert_eq!(
        s(&raw(&mut c)),
        ">3\r\n$7\r\nmessage\r\n$16\r\n__keyspace@0__:k\r\n$3\r\nset\r\n"
    );
    assert_eq!(raw(&mut c), b"+OK\r\n");
}

#[test]
fn pushes_are_delivered_under_client_reply_off() {
    // Redis 7.0 marks pub/sub output as pushes (CLIENT_PUSHING), which CLIENT REPLY OFF
    // does not silence.
    let srv = Server::ringkv();
    let mut c = srv.connect();
    let mut publ = srv.connect();
    c.cmd(&["HELLO", "3"]);
    c.send(&["CLIENT", "REPLY", "OFF"]).unwrap();
    c.send(&["SUBSCRIBE", "a"]).unwrap();
    c.send(&["GET", "x"]).unwrap();
    assert_eq!(
        s(&raw(&mut c)),
        ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
    );
    assert_eq!(publ.cmd_raw(&["PUBLISH", "a", "m"]), b":1\r\n");
    assert_eq!(
        s(&raw(&mut c)),
        ">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n"
    );
}

#[test]
fn soft_limit_closes_a_subscriber_that_stays_over_it_even_without_new_messages() {
    let srv = Server::ringkv();
    let mut admin = srv.connect();
    assert_eq!(
        admin.cmd_raw(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 0 64kb 1"
        ]),
        b"+OK\r\n"
    );
    let mut slow = srv.connect();
    slow.send(&["SUBSCRIBE", "burst"]).unwrap();
    raw(&mut slow);
    // One burst, well past what the socket buffers hold; then silence. Only the once-a-second
    // check can notice that the soft limit has been exceeded for more than a second.
    let payload = "x".repeat(256 * 1024);
    let mut req = Vec::new();
    for _ in 0..64 {
        req.extend_from_slice(&common::encode_command(&["PUBLISH", "burst", &payload]));
    }
    admin.send_raw(&req).unwrap();
    for _ in 0..64 {
        let r = raw(&mut admin);
        assert!(r == b":1\r\n" || r == b":0\r\n", "{}", s(&r));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while admin.cmd_raw(&["PUBSUB", "NUMSUB", "burst"]) != b"*2\r\n$5\r\nburst\r\n:0\r\n" {
        assert!(
            Instant::now() < deadline,
            "never closed; log:\n{}",
            srv.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(srv.log().contains("for overcoming of output buffer limits"));
}

#[test]
fn active_expiry_publishes_expired() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    let mut sub = srv.connect();
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Ex"]);
    sub.send(&["SUBSCRIBE", "__keyevent@0__:expired"]).unwrap();
    raw(&mut sub);
    c.cmd(&["SELECT", "0"]);
    assert_eq!(c.cmd_raw(&["SET", "gone", "v", "PX", "1"]), b"+OK\r\n");
    // Nobody touches the key: only the active cycle (cron) can expire it.
    sub.set_timeout(Duration::from_secs(10));
    assert_eq!(s(&raw(&mut sub)), message("__keyevent@0__:expired", "gone"));
    assert_eq!(c.cmd_raw(&["DBSIZE"]), b":0\r\n");
}
