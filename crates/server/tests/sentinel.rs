//! Failover by Redis Sentinel (`redis-server --sentinel`, Redis 7.0.15) of an all-ringkv
//! deployment: three sentinels watch a ringkv master and two ringkv replicas; the master is
//! killed with SIGKILL; a replica is promoted and takes writes, the other follows it, and
//! nothing acknowledged by WAIT before the crash is lost.

mod common;

use common::server::{free_port, redis_bin};
use common::{Client, Server, redis_or_skip};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Sentinel {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn sentinel(master_port: u16) -> Sentinel {
    let port = free_port();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("sentinel-{}-{port}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("sentinel.conf");
    std::fs::write(
        &conf,
        format!(
            "port {port}\nbind 127.0.0.1\ndir {}\n\
             sentinel monitor mymaster 127.0.0.1 {master_port} 2\n\
             sentinel down-after-milliseconds mymaster 1000\n\
             sentinel failover-timeout mymaster 5000\n\
             sentinel parallel-syncs mymaster 1\n",
            dir.display()
        ),
    )
    .unwrap();
    let child = Command::new(redis_bin())
        .arg(&conf)
        .arg("--sentinel")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn redis-server --sentinel");
    Sentinel { child, port, dir }
}

fn connect_when_up(port: u16) -> Client {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match Client::connect(addr) {
            Ok(c) => return c,
            Err(e) if Instant::now() > deadline => panic!("sentinel {port}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn wait_until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One command on a fresh connection: Sentinel kills normal clients of the instances it
/// reconfigures (`CLIENT KILL TYPE normal`), so a long-lived connection may be closed.
fn fresh(s: &Server, args: &[&str]) -> Option<common::Reply> {
    let mut c = s.try_connect().ok()?;
    c.send(args).ok()?;
    c.read_reply().ok()
}

fn fresh_info(s: &Server, name: &str) -> String {
    let info = fresh(s, &["INFO", "replication"])
        .map(|r| r.text())
        .unwrap_or_default();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_default()
        .to_string()
}

fn info_field(c: &mut Client, name: &str) -> String {
    let info = c.cmd(&["INFO", "replication"]).text();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn sentinel_fails_over_a_ringkv_master() {
    if !redis_or_skip("sentinel_fails_over_a_ringkv_master") {
        return;
    }
    let master = Server::ringkv_with(&["--repl-diskless-sync-delay", "0"]);
    let mport = master.port();
    let mut m = master.connect();
    let mp = mport.to_string();
    let replicas: Vec<Server> = (0..2)
        .map(|_| {
            Server::ringkv_with(&[
                "--replicaof",
                "127.0.0.1",
                &mp,
                "--repl-diskless-sync-delay",
                "0",
            ])
        })
        .collect();
    wait_until("two replicas online", 30, || {
        info_field(&mut m, "connected_slaves") == "2"
            && info_field(&mut m, "slave1").contains("state=online")
    });
    for i in 0..100 {
        m.cmd(&["SET", &format!("k{i}"), &i.to_string()]);
    }
    assert_eq!(m.cmd(&["WAIT", "2", "5000"]).as_int(), Some(2));

    let sentinels: Vec<Sentinel> = (0..3).map(|_| sentinel(mport)).collect();
    let mut s0 = connect_when_up(sentinels[0].port);
    for s in &sentinels[1..] {
        connect_when_up(s.port);
    }
    // Every sentinel knows the others and both replicas before the crash.
    wait_until("the sentinels to know everyone", 30, || {
        let r = s0.cmd(&["SENTINEL", "MASTER", "mymaster"]);
        let fields: Vec<String> = r.items.iter().map(|i| i.text()).collect();
        let get = |k: &str| {
            fields
                .iter()
                .position(|f| f == k)
                .map(|i| fields[i + 1].clone())
                .unwrap_or_default()
        };
        get("num-slaves") == "2" && get("num-other-sentinels") == "2"
    });

    drop(m);
    master.kill9();
    let start = Instant::now();
    let ports: Vec<u16> = replicas.iter().map(|r| r.port()).collect();
    let mut new_port = 0;
    wait_until("a promotion", 60, || {
        let r = s0.cmd(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"]);
        new_port = r
            .items
            .get(1)
            .map(|p| p.text().parse().unwrap_or(0))
            .unwrap_or(0);
        ports.contains(&new_port)
    });
    let (promoted, other) = if new_port == ports[0] {
        (&replicas[0], &replicas[1])
    } else {
        (&replicas[1], &replicas[0])
    };
    wait_until("the promoted replica to take writes", 30, || {
        fresh(promoted, &["SET", "after", "failover"]).is_some_and(|r| !r.is_error())
    });
    eprintln!("failover took {:?}", start.elapsed());
    assert_eq!(fresh_info(promoted, "role"), "master");
    // Nothing acknowledged was lost.
    for i in 0..100 {
        let got = fresh(promoted, &["GET", &format!("k{i}")]).map(|r| r.text());
        assert_eq!(got, Some(i.to_string()), "k{i}");
    }
    // The other replica follows the new master and gets its writes.
    wait_until("the other replica to follow", 60, || {
        fresh_info(other, "master_port") == new_port.to_string()
            && fresh_info(other, "master_link_status") == "up"
            && fresh(other, &["GET", "after"]).is_some_and(|r| r.text() == "failover")
    });
}
