//! Real-socket tests of authentication and ACL: an unauthenticated client can run nothing
//! but the `no-auth` commands, ACL SAVE / LOAD round trips (and Redis loads our file),
//! DELUSER and ACL LOAD disconnect the users' clients, protected-mode refuses a client
//! from outside the loopback interface, `user` directives and `aclfile` at start-up,
//! CLIENT LIST `user=` and CLIENT KILL USER.
//!
//! Expected texts are Redis 7.0.15's (the differential script `scripts/acl.txt` compares
//! the deterministic replies against the real server).

mod common;

use common::server::{Kind, redis_or_skip};
use common::{Client, Server};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn cmd(c: &mut Client, args: &[&str]) -> String {
    s(&c.cmd_raw(args))
}

fn authed(server: &Server, user: &str, pass: &str) -> Client {
    let mut c = server.connect();
    assert_eq!(cmd(&mut c, &["AUTH", user, pass]), "+OK\r\n");
    c
}

/// Every command and subcommand in COMMAND LIST, sent by a client that has not
/// authenticated (with enough arguments for its arity), is refused with NOAUTH, except
/// the `no_auth` ones (AUTH, HELLO, QUIT, RESET); nothing reaches the keyspace.
#[test]
fn unauthenticated_client_runs_only_no_auth_commands() {
    let server = Server::ringkv_with(&["--requirepass", "pw"]);
    let mut admin = authed(&server, "default", "pw");
    let names = admin.cmd(&["COMMAND", "LIST"]).items;
    let mut runs = Vec::new();
    for n in names {
        let name = s(n.as_bytes().unwrap());
        let info = admin.cmd(&["COMMAND", "INFO", &name]).items;
        let row = info[0].items.clone();
        // A container's own row answers "unknown subcommand" first; its subcommands are
        // checked instead.
        let mut rows = if row[9].items.is_empty() {
            vec![row.clone()]
        } else {
            Vec::new()
        };
        for sub in &row[9].items {
            rows.push(sub.items.clone());
        }
        for r in rows {
            let full = s(r[0].as_bytes().unwrap());
            let arity = r[1].as_int().unwrap().unsigned_abs() as usize;
            let flags: Vec<String> = r[2].items.iter().map(|f| s(&f.data)).collect();
            let flags = flags.join(",");
            let mut args: Vec<String> = full.split('|').map(str::to_string).collect();
            while args.len() < arity.max(1) {
                args.push("x".into());
            }
            runs.push((full, flags.contains("no_auth"), args));
        }
    }
    assert!(runs.len() > 200, "{} commands", runs.len());
    let mut wrong = Vec::new();
    for (full, no_auth, args) in &runs {
        let mut c = server.connect();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let reply = cmd(&mut c, &refs);
        // EXEC is refused as a transaction's abort (Redis's rejectCommand).
        let refused = reply == "-NOAUTH Authentication required.\r\n"
            || reply
                == "-EXECABORT Transaction discarded because of: NOAUTH Authentication required.\r\n";
        if refused == *no_auth {
            wrong.push(format!("{full} (no_auth={no_auth}): {reply:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    let mut no_auth: Vec<&str> = runs.iter().filter(|r| r.1).map(|r| r.0.as_str()).collect();
    no_auth.sort();
    assert_eq!(
        no_auth,
        ["auth", "hello", "quit", "reset"],
        "no_auth commands"
    );
    assert_eq!(cmd(&mut admin, &["DBSIZE"]), ":0\r\n");
}

fn acl_list(c: &mut Client) -> Vec<String> {
    c.cmd(&["ACL", "LIST"])
        .items
        .iter()
        .map(|l| s(l.as_bytes().unwrap()))
        .collect()
}

/// ACL SAVE writes what ACL LIST shows; ACL LOAD restores it (closing clients of replaced
/// users); a restart with the file gets the same users; Redis loads our file to the same
/// description.
#[test]
fn acl_save_load_round_trip() {
    let file = temp_file("users.acl", "");
    let f = file.to_str().unwrap();
    let server = Server::ringkv_with(&["--aclfile", f]);
    let mut c = server.connect();
    for rules in [
        &["alice", "on", ">a1", "~app:*", "&news*", "+@read", "-keys"][..],
        &["bob", "off", "nopass", "allkeys", "+@all", "-flushall"],
        &["carol", "on", ">c", "(~x* +get)", "%R~r*", "+select|0"],
        &["default", "on", "nopass", "~*", "&*", "+@all", "-debug"],
    ] {
        let mut args = vec!["ACL", "SETUSER"];
        args.extend_from_slice(rules);
        assert_eq!(cmd(&mut c, &args), "+OK\r\n", "{rules:?}");
    }
    let saved = acl_list(&mut c);
    assert_eq!(cmd(&mut c, &["ACL", "SAVE"]), "+OK\r\n");
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().collect::<Vec<_>>(), saved);

    let mut alice = authed(&server, "alice", "a1");
    assert_eq!(cmd(&mut c, &["ACL", "DELUSER", "bob"]), ":1\r\n");
    assert_eq!(cmd(&mut c, &["ACL", "SETUSER", "dave", "on"]), "+OK\r\n");
    assert_eq!(cmd(&mut c, &["ACL", "LOAD"]), "+OK\r\n");
    assert_eq!(acl_list(&mut c), saved);
    // alice's user was replaced by the loaded one: her connection is closed.
    let (_, end) = alice.read_until_close();
    assert!(end.is_closed(), "{end:?}");
    // A broken file changes nothing.
    std::fs::write(&file, "user eve on +nosuch\nfoo\n").unwrap();
    let err = cmd(&mut c, &["ACL", "LOAD"]);
    assert_eq!(
        err,
        format!(
            "-ERR {f}:1: Unknown command or category name in ACL. {f}:2 should start with user keyword followed by the username. WARNING: ACL errors detected, no change to the previously active ACL rules was performed\r\n"
        )
    );
    assert_eq!(acl_list(&mut c), saved);
    std::fs::write(&file, format!("{}\n", saved.join("\n"))).unwrap();
    drop(c);
    drop(server);

    let server = Server::ringkv_with(&["--aclfile", f]);
    assert_eq!(acl_list(&mut server.connect()), saved);
    if redis_or_skip("acl_save_load_round_trip (Redis half)") {
        let redis = Server::redis_with(&["--aclfile", f]);
        assert_eq!(acl_list(&mut redis.connect()), saved);
    }
}

/// ACL DELUSER closes every client authenticated as that user (after the reply when it
/// is the caller).
#[test]
fn deluser_disconnects_its_clients() {
    let server = Server::ringkv();
    let mut admin = server.connect();
    assert_eq!(
        cmd(
            &mut admin,
            &["ACL", "SETUSER", "u", "on", ">p", "+@all", "~*"]
        ),
        "+OK\r\n"
    );
    let mut a = authed(&server, "u", "p");
    let mut b = authed(&server, "u", "p");
    let info = cmd(&mut admin, &["CLIENT", "LIST"]);
    assert_eq!(info.matches("user=u ").count(), 2, "{info}");
    assert_eq!(info.matches("user=default ").count(), 1, "{info}");
    assert_eq!(cmd(&mut admin, &["ACL", "DELUSER", "u"]), ":1\r\n");
    for c in [&mut a, &mut b] {
        let (_, end) = c.read_until_close();
        assert!(end.is_closed(), "{end:?}");
    }
    // Deleting one's own user: the reply arrives, then the connection closes.
    assert_eq!(
        cmd(
            &mut admin,
            &["ACL", "SETUSER", "v", "on", "nopass", "+@all"]
        ),
        "+OK\r\n"
    );
    let mut v = authed(&server, "v", "x");
    assert_eq!(cmd(&mut v, &["ACL", "DELUSER", "v"]), ":1\r\n");
    let (_, end) = v.read_until_close();
    assert!(end.is_closed(), "{end:?}");
    // CLIENT KILL USER.
    assert_eq!(
        cmd(
            &mut admin,
            &["ACL", "SETUSER", "w", "on", "nopass", "+@all"]
        ),
        "+OK\r\n"
    );
    let mut w = authed(&server, "w", "x");
    assert_eq!(cmd(&mut admin, &["CLIENT", "KILL", "USER", "w"]), ":1\r\n");
    let (_, end) = w.read_until_close();
    assert!(end.is_closed(), "{end:?}");
    assert_eq!(
        cmd(&mut admin, &["CLIENT", "KILL", "USER", "nobody"]),
        "-ERR No such user 'nobody'\r\n"
    );
}

/// This host's address on its default route, when it has one that is not loopback.
fn outside_address() -> Option<IpAddr> {
    let sock = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    sock.connect("192.0.2.1:9").ok()?;
    let ip = sock.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

fn read_to_close(addr: SocketAddr) -> Vec<u8> {
    use std::io::Read;
    let mut t = TcpStream::connect(addr).unwrap();
    t.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut out = Vec::new();
    let _ = t.read_to_end(&mut out);
    out
}

/// protected-mode: a client from a non-loopback address gets Redis's DENIED text and is
/// closed while the default user has no password; with a password it is served.
#[test]
fn protected_mode_refuses_outside_clients() {
    let Some(ip) = outside_address() else {
        eprintln!("SKIPPED protected_mode_refuses_outside_clients: no non-loopback address");
        return;
    };
    let server = Server::ringkv_with(&["--bind", "0.0.0.0"]);
    let outside = SocketAddr::new(ip, server.port());
    let text = read_to_close(outside);
    assert!(
        s(&text).starts_with("-DENIED Redis is running in protected mode"),
        "{}",
        s(&text)
    );
    if redis_or_skip("protected_mode_refuses_outside_clients (Redis text)") {
        let redis = Server::redis_with(&["--bind", "0.0.0.0"]);
        assert_eq!(text, read_to_close(SocketAddr::new(ip, redis.port())));
    }
    let mut local = server.connect();
    let stats = cmd(&mut local, &["INFO", "stats"]);
    assert!(stats.contains("rejected_connections:1\r\n"), "{stats}");
    assert_eq!(
        cmd(&mut local, &["CONFIG", "SET", "requirepass", "pw"]),
        "+OK\r\n"
    );
    let mut remote = Client::connect(outside).unwrap();
    assert_eq!(
        cmd(&mut remote, &["PING"]),
        "-NOAUTH Authentication required.\r\n"
    );
    assert_eq!(cmd(&mut remote, &["AUTH", "pw"]), "+OK\r\n");
    assert_eq!(cmd(&mut remote, &["PING"]), "+PONG\r\n");
    // protected-mode no: served without a password.
    assert_eq!(
        cmd(&mut local, &["CONFIG", "SET", "requirepass", ""]),
        "+OK\r\n"
    );
    assert_eq!(
        cmd(&mut local, &["CONFIG", "SET", "protected-mode", "no"]),
        "+OK\r\n"
    );
    let mut remote = Client::connect(outside).unwrap();
    assert_eq!(cmd(&mut remote, &["PING"]), "+PONG\r\n");
}

/// `user` directives create users at start; with `aclfile` too the server refuses to
/// start, as Redis does; `requirepass` in the configuration is enforced.
#[test]
fn users_from_the_configuration() {
    let server = Server::ringkv_with(&[
        "--user", "alice", "on", ">pw", "~a:*", "+@all", "--user", "default", "on", ">dpw", "~*",
        "&*", "+@all",
    ]);
    let mut c = server.connect();
    assert_eq!(
        cmd(&mut c, &["GET", "x"]),
        "-NOAUTH Authentication required.\r\n"
    );
    assert_eq!(cmd(&mut c, &["AUTH", "alice", "pw"]), "+OK\r\n");
    assert_eq!(
        cmd(&mut c, &["GET", "x"]),
        "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n"
    );
    assert_eq!(cmd(&mut c, &["GET", "a:1"]), "$-1\r\n");
    assert_eq!(cmd(&mut c, &["AUTH", "dpw"]), "+OK\r\n");
    assert_eq!(cmd(&mut c, &["ACL", "WHOAMI"]), "$7\r\ndefault\r\n");
    drop(c);
    drop(server);

    let acl = temp_file("x.acl", "");
    let err = Server::try_start(
        Kind::Ringkv,
        &["--user", "alice", "on", "--aclfile", acl.to_str().unwrap()],
    )
    .err()
    .expect("users and aclfile together are refused");
    assert!(err.contains("please define either an ACL file"), "{err}");

    let server = Server::ringkv_with(&["--requirepass", "secret"]);
    let mut c = server.connect();
    assert_eq!(
        cmd(&mut c, &["PING"]),
        "-NOAUTH Authentication required.\r\n"
    );
    assert_eq!(cmd(&mut c, &["AUTH", "secret"]), "+OK\r\n");
    assert_eq!(cmd(&mut c, &["PING"]), "+PONG\r\n");
}

/// A file of its own in the system's temporary directory (the servers' directories are
/// theirs to create and remove).
fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ringkv-acl-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}
