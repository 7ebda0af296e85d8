//! Process-level helpers: the pidfile, logging, the open-files limit. Used at start-up and
//! by CONFIG SET (`loglevel`, `maxclients`), so they live below both.

/// Redis's `daemonize`: forks, the parent exits at once, the child leaves the terminal's
/// session and reads and writes `/dev/null` on its standard streams (so a log to stdout
/// goes nowhere, as with Redis). The working directory stays. Called before any thread
/// exists.
pub fn daemonize() {
    // SAFETY: fork before any thread is started; the child only continues the start-up.
    match unsafe { libc::fork() } {
        -1 => {
            eprintln!(
                "ringkv-server: can't fork into the background: {}",
                std::io::Error::last_os_error()
            );
            std::process::exit(1);
        }
        0 => {}
        _ => std::process::exit(0),
    }
    // SAFETY: plain syscalls on descriptors this process owns.
    unsafe {
        libc::setsid();
        let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if fd != -1 {
            libc::dup2(fd, libc::STDIN_FILENO);
            libc::dup2(fd, libc::STDOUT_FILENO);
            libc::dup2(fd, libc::STDERR_FILENO);
            if fd > libc::STDERR_FILENO {
                libc::close(fd);
            }
        }
    }
}

/// Supervision in effect (`supervised`, Redis's `redisIsSupervised`): `auto` follows the
/// environment; a mode whose supervisor left no trace in it is off, with Redis's warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Supervision {
    None,
    Upstart,
    Systemd,
}

static SUPERVISION: std::sync::OnceLock<Supervision> = std::sync::OnceLock::new();

/// The supervision decided at start-up ([`supervision`]).
pub fn supervised() -> Supervision {
    SUPERVISION.get().copied().unwrap_or(Supervision::None)
}

/// A status line for systemd, when it supervises (`STOPPING=1`, a replica's sync done).
pub fn notify_status(msg: &str) {
    if supervised() == Supervision::Systemd {
        notify_systemd(msg);
    }
}

/// Decides the supervision in effect for `mode` and remembers it.
pub fn supervision(mode: u8) -> Supervision {
    let s = detect_supervision(mode);
    let _ = SUPERVISION.set(s);
    s
}

fn detect_supervision(mode: u8) -> Supervision {
    let upstart = std::env::var_os("UPSTART_JOB").is_some();
    let systemd = std::env::var_os("NOTIFY_SOCKET").is_some();
    match mode {
        1 if upstart => Supervision::Upstart,
        1 => {
            log::warn!("upstart supervision requested, but UPSTART_JOB not found!");
            Supervision::None
        }
        2 if systemd => Supervision::Systemd,
        2 => {
            log::warn!(
                "systemd supervision requested or auto-detected, but NOTIFY_SOCKET \
                 environment variable not found!"
            );
            Supervision::None
        }
        3 if upstart => Supervision::Upstart,
        3 if systemd => Supervision::Systemd,
        _ => Supervision::None,
    }
}

/// Tells systemd about the server (`sd_notify`, Redis's `redisCommunicateSystemd`): a
/// datagram to `$NOTIFY_SOCKET`, a path or (`@…`) an abstract name.
pub fn notify_systemd(msg: &str) {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixDatagram};
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let path = path.to_string_lossy().into_owned();
    let addr = match path.strip_prefix('@') {
        Some(name) => SocketAddr::from_abstract_name(name.as_bytes()),
        None => SocketAddr::from_pathname(&path),
    };
    let sent = addr.and_then(|addr| {
        let sock = UnixDatagram::unbound()?;
        sock.send_to_addr(msg.as_bytes(), &addr)
    });
    if let Err(e) = sent {
        log::warn!("Can't send notification to systemd: {e}");
    }
}

/// The supervisor learns the server is ready: systemd by `READY=1` (and a status line),
/// upstart by the process stopping itself (it continues it), as Redis does.
pub fn notify_ready(s: Supervision, replica: bool) {
    match s {
        Supervision::Systemd => {
            notify_systemd(if replica {
                "STATUS=Ready to accept connections in read-only mode. Waiting for MASTER <-> \
                 REPLICA sync\n"
            } else {
                "STATUS=Ready to accept connections\n"
            });
            notify_systemd("READY=1\n");
        }
        Supervision::Upstart => {
            // SAFETY: signals this process; upstart continues it.
            unsafe {
                libc::raise(libc::SIGSTOP);
            }
        }
        Supervision::None => {}
    }
}

/// Redis's `setOOMScoreAdj`: with `oom-score-adj` on, `/proc/self/oom_score_adj` gets the
/// value of `oom-score-adj-values` for this role (master first, replica second), added to
/// the score the process had before ringkv first changed it when `relative`, within
/// ±1000; turned off, that original score comes back. Err after logging Redis's warning.
pub fn set_oom_score_adj(mode: u8, values: [i64; 3], replica: bool) -> std::io::Result<()> {
    use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
    static ADJUSTED: AtomicBool = AtomicBool::new(false);
    static BASE: AtomicI64 = AtomicI64::new(0);
    const PATH: &str = "/proc/self/oom_score_adj";
    let val = if mode != 0 {
        if !ADJUSTED.load(Ordering::Relaxed) {
            match std::fs::read_to_string(PATH) {
                Ok(s) => BASE.store(s.trim().parse().unwrap_or(0), Ordering::Relaxed),
                Err(e) => {
                    log::warn!("Unable to read oom_score_adj: {e}");
                    return Err(e);
                }
            }
            ADJUSTED.store(true, Ordering::Relaxed);
        }
        let mut v = values[replica as usize];
        if mode == 1 {
            v += BASE.load(Ordering::Relaxed);
        }
        v.clamp(-1000, 1000)
    } else if ADJUSTED.swap(false, Ordering::Relaxed) {
        BASE.load(Ordering::Relaxed)
    } else {
        return Ok(());
    };
    std::fs::write(PATH, format!("{val}\n")).inspect_err(|e| {
        log::warn!("Unable to write oom_score_adj: {e}");
    })
}

/// `server_cpulist`: the process's CPU affinity (Redis's `redisSetCpuAffinity`), set at
/// start before any thread exists, so every thread keeps to those CPUs.
pub fn set_cpu_affinity(list: &[u8]) {
    let Some(cpus) = crate::features::config::parse_cpulist(list) else {
        return;
    };
    // SAFETY: a zeroed cpu_set_t filled with CPU_SET, passed with its size.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for c in cpus {
            libc::CPU_SET(c, &mut set);
        }
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            log::warn!(
                "Failed setting CPU affinity to {}: {}",
                String::from_utf8_lossy(list),
                std::io::Error::last_os_error()
            );
        }
    }
}

/// The `pidfile`, written at start and removed at a clean exit, as Redis does.
pub struct PidFile(Option<std::path::PathBuf>);

impl PidFile {
    pub fn create(path: &[u8]) -> PidFile {
        use std::os::unix::ffi::OsStrExt;
        if path.is_empty() {
            return PidFile(None);
        }
        let p = std::path::PathBuf::from(std::ffi::OsStr::from_bytes(path));
        match std::fs::write(&p, format!("{}\n", std::process::id())) {
            Ok(()) => PidFile(Some(p)),
            Err(e) => {
                log::warn!(
                    "Failed to write PID file: {}",
                    crate::features::config::strerror(&e)
                );
                PidFile(None)
            }
        }
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        if let Some(p) = &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// The `log` filter for a Redis `loglevel`. Redis's `notice` (the default) shows the
/// startup lines and warnings; `verbose` adds per-client events (logged at debug here).
pub fn log_filter(level: crate::features::config::LogLevel) -> log::LevelFilter {
    use crate::features::config::LogLevel;
    match level {
        LogLevel::Debug | LogLevel::Verbose => log::LevelFilter::Debug,
        LogLevel::Notice => log::LevelFilter::Info,
        LogLevel::Warning => log::LevelFilter::Warn,
    }
}

/// env_logger at the configured `loglevel` unless RUST_LOG overrides it. The logger itself
/// passes every level and the `log` crate's global maximum is the `loglevel`, so CONFIG SET
/// loglevel (which moves that maximum) can make the log more verbose as well as quieter.
pub fn init_logging(cfg: &crate::features::config::Config) {
    let rust_log = std::env::var_os("RUST_LOG").is_some();
    let mut b = env_logger::Builder::from_env(env_logger::Env::default());
    if !rust_log {
        b.filter_level(log::LevelFilter::Trace);
    }
    b.format_timestamp_millis();
    if !cfg.logfile.is_empty() {
        let path = String::from_utf8_lossy(&cfg.logfile).into_owned();
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
        {
            Ok(f) => {
                b.target(env_logger::Target::Pipe(Box::new(f)));
            }
            Err(e) => {
                eprintln!(
                    "Can't open the log file: {}",
                    crate::features::config::strerror(&e)
                );
                std::process::exit(1);
            }
        }
    }
    let level = log_filter(cfg.loglevel);
    if !cfg.compat.syslog_enabled {
        let _ = b.try_init();
        if !rust_log {
            log::set_max_level(level);
        }
        return;
    }
    // `syslog-enabled yes`: every line also goes to syslog (Redis's serverLogRaw), under
    // `syslog-ident` and `syslog-facility`, opened once as Redis's openlog.
    let ident = std::ffi::CString::new(cfg.compat.syslog_ident.clone()).unwrap_or_default();
    let facility = match cfg.compat.syslog_facility {
        0 => libc::LOG_USER,
        n => libc::LOG_LOCAL0 + 8 * (i32::from(n) - 1),
    };
    // SAFETY: the ident is leaked, so it outlives every syslog call, as openlog requires.
    unsafe {
        libc::openlog(
            Box::leak(ident.into_boxed_c_str()).as_ptr(),
            libc::LOG_PID | libc::LOG_NDELAY | libc::LOG_NOWAIT,
            facility,
        );
    }
    let inner = b.build();
    let max = if rust_log { inner.filter() } else { level };
    let _ = log::set_boxed_logger(Box::new(SyslogTee(inner)));
    log::set_max_level(max);
}

/// The log to its usual target and to syslog.
struct SyslogTee(env_logger::Logger);

impl log::Log for SyslogTee {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        self.0.enabled(m)
    }

    fn log(&self, r: &log::Record<'_>) {
        if !self.0.matches(r) {
            return;
        }
        self.0.log(r);
        // Redis's syslogLevelMap: warning, notice, verbose, debug.
        let prio = match r.level() {
            log::Level::Error | log::Level::Warn => libc::LOG_WARNING,
            log::Level::Info => libc::LOG_NOTICE,
            log::Level::Debug => libc::LOG_INFO,
            log::Level::Trace => libc::LOG_DEBUG,
        };
        let msg =
            std::ffi::CString::new(r.args().to_string().replace('\0', " ")).unwrap_or_default();
        // SAFETY: a constant format taking one C string, which lives through the call.
        unsafe { libc::syslog(prio, c"%s".as_ptr(), msg.as_ptr()) };
    }

    fn flush(&self) {
        self.0.flush();
    }
}

/// Raises RLIMIT_NOFILE to fit `maxclients` plus Redis's 32 reserved descriptors, as
/// Redis's adjustOpenFilesLimit. Err carries the hard limit when it is too low.
pub fn adjust_open_files_limit(maxclients: u64) -> Result<(), u64> {
    let want = maxclients + 32;
    // SAFETY: getrlimit/setrlimit on a local struct.
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 || lim.rlim_cur >= want {
            return Ok(());
        }
        let target = want.min(lim.rlim_max);
        let new = libc::rlimit {
            rlim_cur: target,
            rlim_max: lim.rlim_max,
        };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &new) != 0 || target < want {
            return Err(lim.rlim_cur.max(target));
        }
    }
    Ok(())
}

/// Removes a file without the loop paying for it: the file is opened first and its last
/// reference dropped on a short-lived thread, because freeing a big file's blocks (when its
/// last link and last descriptor go) takes tens of milliseconds (Redis does it in a child or
/// a bio thread). Best effort, as an unlink of a missing file.
pub fn remove_file_in_background(path: &std::path::Path) {
    let held = std::fs::File::open(path).ok();
    let _ = std::fs::remove_file(path);
    close_in_background(held);
}

/// Drops `f` (the last descriptor of a file that may hold many blocks) off the loop thread.
pub fn close_in_background(f: Option<std::fs::File>) {
    if let Some(f) = f {
        let _ = std::thread::Builder::new()
            .name("close-file".into())
            .spawn(move || drop(f));
    }
}
