//! Spawning servers for tests: `ringkv-server` (this package's binary) or the real
//! `redis-server`, each on a free loopback port, in its own directory under cargo's
//! `CARGO_TARGET_TMPDIR`, with stdout/stderr captured to a log file shown on failure.
//!
//! Invariants: `start` returns only once the server accepts TCP connections (polled, never a
//! fixed sleep); a `Server` kills and reaps its process on drop, so a panicking test leaves
//! no stray server behind; ports are picked by the kernel and a lost race for one (another
//! process bound it first) is retried with a fresh port.

use super::resp::Client;
use std::fs::{self, File};
use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a server may take to start accepting. Debug builds on a loaded 2-core CI box
/// start in milliseconds; this bound only turns a hang into a readable failure.
const START_TIMEOUT: Duration = Duration::from_secs(15);
const START_ATTEMPTS: usize = 5;

/// Which program a [`Server`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Ringkv,
    Redis,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Ringkv => "ringkv",
            Kind::Redis => "redis",
        }
    }
}

/// The `ringkv-server` binary cargo built for this test run.
pub fn ringkv_bin() -> &'static str {
    env!("CARGO_BIN_EXE_ringkv-server")
}

/// The redis-server program: `$RINGKV_REDIS_SERVER` or `redis-server` on `PATH`.
pub fn redis_bin() -> String {
    std::env::var("RINGKV_REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_string())
}

/// The Redis release the scripts were written against; other releases differ in error texts
/// and replies, so comparing with them would report differences that are not ringkv's.
pub const REDIS_VERSION: &str = "7.0.";

/// Whether a runnable `redis-server` of the 7.0 series exists (checked once per binary).
pub fn redis_available() -> bool {
    redis_unavailable_reason().is_none()
}

/// Why Redis cannot be used for comparisons, if it cannot.
pub fn redis_unavailable_reason() -> Option<&'static str> {
    static REASON: OnceLock<Option<String>> = OnceLock::new();
    REASON
        .get_or_init(|| {
            let out = match Command::new(redis_bin()).arg("--version").output() {
                Ok(o) if o.status.success() => o,
                Ok(o) => return Some(format!("`{} --version` failed ({})", redis_bin(), o.status)),
                Err(e) => {
                    return Some(format!(
                        "redis-server not found (tried `{}`: {e})",
                        redis_bin()
                    ));
                }
            };
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            if text.contains(&format!("v={REDIS_VERSION}")) {
                None
            } else {
                Some(format!(
                    "`{}` is not Redis {REDIS_VERSION}x: {}",
                    redis_bin(),
                    text.trim()
                ))
            }
        })
        .as_deref()
}

/// For tests that need the real Redis: `true` if Redis 7.0 is installed. Otherwise prints a
/// loud SKIPPED line (straight to stderr, so cargo's output capture does not hide it) and
/// returns `false` — or panics when `RINGKV_REQUIRE_REDIS=1`, as CI sets, so a missing Redis
/// can never turn the differential tests into silent passes there.
pub fn redis_or_skip(test: &str) -> bool {
    let Some(reason) = redis_unavailable_reason() else {
        return true;
    };
    if std::env::var("RINGKV_REQUIRE_REDIS").is_ok_and(|v| v == "1") {
        panic!("{test}: {reason}, and RINGKV_REQUIRE_REDIS=1");
    }
    let _ = writeln!(
        io::stderr(),
        "\n*** SKIPPED: {test}: {reason}. It compares against Redis {REDIS_VERSION}x: install \
         redis-server 7.0 or point RINGKV_REDIS_SERVER at one; RINGKV_REQUIRE_REDIS=1 makes \
         this a failure. ***\n"
    );
    false
}

/// A currently free loopback port *below* the kernel's ephemeral range. Ports from that
/// range (what `bind(0)` hands out) are also the source ports of outgoing connections: while
/// the server is still starting, our own readiness probe to such a port can be given that
/// very port as its source and connect to itself (TCP simultaneous open), and a client
/// socket elsewhere can hold it. Below the range neither happens. Another process may still
/// take the port before the server binds it; `Server::start` retries then.
pub fn free_port() -> u16 {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let lo = 10_000usize;
    let hi = ephemeral_low().clamp(lo + 1000, 65_536);
    let span = hi - lo;
    // Different processes (parallel test binaries) start at different points.
    let start = (std::process::id() as usize).wrapping_mul(7919) % span;
    for _ in 0..span {
        let port = (lo + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % span) as u16;
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port in {lo}..{hi}");
}

/// The first port of the kernel's ephemeral range (32768 unless configured otherwise).
fn ephemeral_low() -> usize {
    fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

fn unique_dir(kind: Kind) -> PathBuf {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    base.join(format!("{}-{}-{}", kind.name(), std::process::id(), n))
}

/// Whether process `pid` owns the socket listening on `port` (from /proc/net/tcp{,6} and
/// /proc/PID/fd); `None` when that cannot be told.
fn owns_listener(pid: u32, port: u16) -> Option<bool> {
    let want = format!(":{port:04X}");
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // local_address is f[1], state f[3] (0A = LISTEN), inode f[9].
            if f.len() > 9 && f[1].ends_with(&want) && f[3] == "0A" {
                inodes.push(format!("socket:[{}]", f[9]));
            }
        }
    }
    if inodes.is_empty() {
        return None;
    }
    let fds = fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
    let owned = fds.flatten().any(|fd| {
        fs::read_link(fd.path()).is_ok_and(|l| inodes.iter().any(|i| l.as_os_str() == i.as_str()))
    });
    Some(owned)
}

/// A running server process; killed and reaped on drop.
pub struct Server {
    kind: Kind,
    port: u16,
    child: Child,
    dir: PathBuf,
    log: PathBuf,
    args: Vec<String>,
    /// Leave `dir` in place on drop (a restart in the same directory follows).
    keep_dir: bool,
}

impl Server {
    /// `ringkv-server --port P`; panics with the server's log if it does not come up.
    pub fn ringkv() -> Server {
        Self::start(Kind::Ringkv, &[])
    }

    /// `ringkv-server --port P ARGS...`.
    pub fn ringkv_with(args: &[&str]) -> Server {
        Self::start(Kind::Ringkv, args)
    }

    /// `redis-server` without persistence; check [`redis_or_skip`] first.
    pub fn redis() -> Server {
        Self::start(Kind::Redis, &[])
    }

    pub fn redis_with(args: &[&str]) -> Server {
        Self::start(Kind::Redis, args)
    }

    /// Starts a server; panics with its log and command line on failure.
    pub fn start(kind: Kind, args: &[&str]) -> Server {
        match Self::try_start(kind, args) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    pub fn try_start(kind: Kind, args: &[&str]) -> Result<Server, String> {
        Self::try_start_in(kind, args, &unique_dir(kind))
    }

    /// A fresh directory for [`Server::start_in`] (not created yet).
    pub fn new_dir(kind: Kind) -> PathBuf {
        unique_dir(kind)
    }

    /// Starts a server working in `dir` (a restart on the files of an earlier one), and
    /// waits until it has loaded them: both servers accept connections before their data
    /// is in, answering `-LOADING` meanwhile.
    pub fn start_in(kind: Kind, args: &[&str], dir: &Path) -> Server {
        let server = match Self::try_start_in(kind, args, dir) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        let deadline = Instant::now() + START_TIMEOUT;
        let mut c = server.connect();
        while c.cmd(&["PING"]).text().starts_with("LOADING") {
            assert!(
                Instant::now() < deadline,
                "{} still loading after {START_TIMEOUT:?}\n{}",
                kind.name(),
                server.log()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        server
    }

    /// Kills the process with SIGKILL (no shutdown), reaps it, and returns its directory,
    /// which is kept for the next server.
    pub fn kill9(mut self) -> PathBuf {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.keep_dir = true;
        self.dir.clone()
    }

    pub fn try_start_in(kind: Kind, args: &[&str], dir: &Path) -> Result<Server, String> {
        let dir = dir.to_path_buf();
        let mut last_err = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            match Self::spawn_once(kind, port, args, &dir) {
                Ok(s) => return Ok(s),
                Err((retry, e)) => {
                    last_err = e;
                    if !retry {
                        break;
                    }
                }
            }
        }
        Err(last_err)
    }

    fn command_line(kind: Kind, port: u16, args: &[&str], dir: &Path) -> (String, Vec<String>) {
        let port = port.to_string();
        let mut full: Vec<String> = match kind {
            Kind::Ringkv => vec!["--port".into(), port],
            Kind::Redis => {
                let dir = dir.to_string_lossy().into_owned();
                [
                    "--port",
                    &port,
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    &dir,
                    "--daemonize",
                    "no",
                    "--logfile",
                    "",
                ]
                .iter()
                .map(|s| s.to_string())
                .collect()
            }
        };
        full.extend(args.iter().map(|s| s.to_string()));
        let prog = match kind {
            Kind::Ringkv => ringkv_bin().to_string(),
            Kind::Redis => redis_bin(),
        };
        (prog, full)
    }

    /// One launch on `port`. Err((true, _)) means "lost the port, try another".
    fn spawn_once(
        kind: Kind,
        port: u16,
        args: &[&str],
        dir: &Path,
    ) -> Result<Server, (bool, String)> {
        // (Re)created per attempt: a failed attempt's guard removed it on drop.
        fs::create_dir_all(dir).map_err(|e| (false, format!("creating {}: {e}", dir.display())))?;
        let (prog, full) = Self::command_line(kind, port, args, dir);
        let shown = format!("{prog} {}", full.join(" "));
        let log = dir.join(format!("server-{port}.log"));
        let out = File::create(&log).map_err(|e| (false, format!("{}: {e}", log.display())))?;
        let err = out
            .try_clone()
            .map_err(|e| (false, format!("{}: {e}", log.display())))?;
        let child = Command::new(&prog)
            .args(&full)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .map_err(|e| (false, format!("spawning `{shown}`: {e}")))?;
        let mut server = Server {
            kind,
            port,
            child,
            dir: dir.to_path_buf(),
            log,
            args: full,
            // A failed attempt keeps the directory: it may hold a restart's files.
            keep_dir: true,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = server.exit_status() {
                let log = server.log();
                let lost_port = log.contains("in use");
                return Err((
                    lost_port,
                    format!(
                        "{} exited with {status} before accepting on port {port}\n\
                         command: {shown}\n--- log ---\n{log}",
                        kind.name()
                    ),
                ));
            }
            let addr = server.addr();
            let probe = TcpStream::connect_timeout(&addr, Duration::from_millis(200));
            // A connection to itself (source port == our port) proves nothing; see free_port.
            let self_connect = probe
                .as_ref()
                .is_ok_and(|p| p.local_addr().ok() == p.peer_addr().ok());
            if probe.is_ok() && !self_connect {
                // Someone else may hold the port (our child then fails to bind): accept only
                // a listener that belongs to our child.
                match owns_listener(server.pid(), port) {
                    // Our child bound and then exited (a fatal error while loading data):
                    // the next round reports its exit.
                    Some(false) if server.exit_status().is_some() => continue,
                    Some(false) => {
                        return Err((
                            true,
                            format!("port {port} is held by another process; retrying"),
                        ));
                    }
                    // Bound is not started: ringkv binds before it loads its data, and a
                    // load that fails ends the process. It has started once it answers.
                    _ if server.exit_status().is_none() => {
                        if !answers(addr, deadline) {
                            continue;
                        }
                        server.keep_dir = false;
                        return Ok(server);
                    }
                    _ => continue,
                }
            }
            if Instant::now() > deadline {
                return Err((
                    false,
                    format!(
                        "{} did not accept on port {port} within {:?}\ncommand: {shown}\n\
                         --- log ---\n{}",
                        kind.name(),
                        START_TIMEOUT,
                        server.log()
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, self.port))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's working directory (dump files, AOF, configs written by a test).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The arguments the server was started with (after the program name).
    pub fn args(&self) -> &[String] {
        &self.args
    }

    /// Everything the server printed so far.
    pub fn log(&self) -> String {
        fs::read(&self.log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_else(|e| format!("<log {} unreadable: {e}>", self.log.display()))
    }

    /// A new connection; panics (with the server's log) if it cannot connect.
    pub fn connect(&self) -> Client {
        match Client::connect(self.addr()) {
            Ok(c) => c,
            Err(e) => panic!(
                "connecting to {} on {}: {e}\n--- log ---\n{}",
                self.name(),
                self.addr(),
                self.log()
            ),
        }
    }

    pub fn try_connect(&self) -> io::Result<Client> {
        Client::connect(self.addr())
    }

    /// The exit status if the process has exited.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits (polling) up to `timeout` for the process to exit on its own.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.exit_status() {
                return Some(s);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Sends SIGTERM (graceful shutdown), without waiting.
    pub fn terminate(&self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
}

/// Whether a server at `addr` answers a PING (any reply: PONG, -LOADING, -NOAUTH…) before
/// `deadline`; false when it closes the connection first (it is exiting).
fn answers(addr: SocketAddr, deadline: Instant) -> bool {
    use std::io::Read;
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let wait = deadline.saturating_duration_since(Instant::now());
    let _ = s.set_read_timeout(Some(wait.max(Duration::from_millis(10))));
    if s.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
        return false;
    }
    let mut b = [0u8; 1];
    matches!(s.read(&mut b), Ok(1))
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Keep the directory when asked, to inspect logs and files of a failed run.
        if std::env::var_os("RINGKV_KEEP_TEST_DIRS").is_none() && !self.keep_dir {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}
