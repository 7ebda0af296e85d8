//! Start-up, as redis-server's `main`: parse the configuration, set up logging, raise the
//! open-files limit for `maxclients`, build the engine and the server state, bind the
//! listeners, then hand everything to the event loop, which owns it until exit.

use crate::features::config;
use crate::{net, server, sys};
use std::ffi::OsString;

/// Starts the server from its command line (after the binary took out its own flags) and
/// runs it until shutdown; returns the process exit code. `help` prints the usage.
pub fn run(rest: &[OsString], use_buf_ring: bool, help: impl FnOnce()) -> i32 {
    let mut cfg = match config::from_args(rest) {
        Ok(config::CliAction::Run(cfg)) => *cfg,
        Ok(config::CliAction::Version) => {
            println!(
                "ringkv-server v={} (Redis {} compatible)",
                env!("CARGO_PKG_VERSION"),
                config::REDIS_VERSION
            );
            return 0;
        }
        Ok(config::CliAction::Help) => {
            help();
            return 0;
        }
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    sys::init_logging(&cfg);
    // Redis's main: under a supervisor the process stays in the foreground; otherwise
    // `daemonize yes` forks into the background (before any thread exists), and then a
    // pidfile is always written, `/var/run/redis.pid` unless one is configured.
    let supervision = sys::supervision(cfg.compat.supervised);
    let background = cfg.daemonize && supervision == sys::Supervision::None;
    if background {
        sys::daemonize();
        if cfg.pidfile.is_empty() {
            cfg.pidfile = b"/var/run/redis.pid".to_vec();
        }
    }
    if !cfg.compat.server_cpulist.is_empty() {
        sys::set_cpu_affinity(&cfg.compat.server_cpulist);
    }
    log::warn!(
        "ringkv {} (Redis {} compatible), pid={}, just started",
        env!("CARGO_PKG_VERSION"),
        config::REDIS_VERSION,
        std::process::id()
    );
    if let Some(f) = &cfg.config_file {
        log::warn!("Configuration loaded from {}", f.display());
    } else {
        log::warn!(
            "Warning: no config file specified, using the default config. In order to specify a config file use ringkv-server /path/to/redis.conf"
        );
    }
    if let Err(limit) = sys::adjust_open_files_limit(cfg.maxclients as u64) {
        // As Redis: serve fewer clients rather than fail accepts with EMFILE.
        let want = cfg.maxclients as u64 + 32;
        if limit <= 32 {
            log::error!(
                "Your current 'ulimit -n' of {limit} is not enough for the server to start. Please increase your open file limit to at least {want}. Exiting."
            );
            return 1;
        }
        log::warn!(
            "You requested maxclients of {} requiring at least {want} max file descriptors.",
            cfg.maxclients
        );
        cfg.maxclients = (limit - 32) as u32;
        log::warn!(
            "Current maximum open files is {limit}. maxclients has been reduced to {} to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.",
            cfg.maxclients
        );
    }
    let mut engine = engine::Engine::new(cfg.engine_config(), engine::Clock::System);
    cfg.apply_to_engine(&mut engine);
    // `disable-thp yes` (the default): no transparent huge pages for this process, as
    // Redis's THPDisable (huge pages make copy-on-write and latency worse).
    if cfg.compat.disable_thp {
        // SAFETY: prctl with integer arguments only; failure is harmless (old kernels).
        unsafe {
            libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        }
    }
    let mut server = match server::Server::new(cfg, engine) {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("{}", config::ConfigError::General(msg));
            return 1;
        }
    };
    // Redis's set_jemalloc_bg_thread at start-up.
    crate::alloc::set_background_thread(server.config.compat.jemalloc_bg_thread);
    // Redis's ACLLoadUsersAtStartup: `user` directives or the ACL file.
    if let Err(msg) = crate::features::acl::load_at_startup(&mut server) {
        log::warn!("{msg}");
        return 1;
    }
    // Redis's loadDataFromDisk: with appendonly yes the AOF is the data (dump.rdb is not
    // read), then aofOpenIfNeededOnServerStart.
    if server.config.appendonly {
        use crate::features::aof;
        if aof::load::load(&mut server).is_err() {
            return 1;
        }
        let now = server.now_ms();
        if let Err(e) = aof::open_on_start(&mut server, now) {
            log::warn!("{e}");
            return 1;
        }
    }
    let cfg = &server.config;
    let mut listeners = match crate::listener::listen_all(&cfg.bind, cfg.port, cfg.tcp_backlog) {
        Ok(l) => l,
        Err(msg) => {
            log::warn!("Warning: {msg}");
            log::error!("Failed listening on port {} (tcp), aborting.", cfg.port);
            return 1;
        }
    };
    let unixsocket = cfg.compat.unixsocket.clone();
    if !unixsocket.is_empty() {
        let perm = cfg.compat.unixsocketperm as u32;
        match crate::listener::listen_unix(&unixsocket, perm, cfg.tcp_backlog) {
            // First, where the loop finds it (`Server::is_unix_listener`).
            Ok(l) => listeners.insert(0, l),
            Err(e) => {
                log::warn!("Failed opening Unix socket: {e}");
                return 1;
            }
        }
    }
    if listeners.is_empty() {
        // Redis: port 0 and no unix socket.
        log::warn!("Configured to not listen anywhere, exiting.");
        return 1;
    }
    let addrs: Vec<String> = listeners.iter().map(|l| l.addr.clone()).collect();
    let addrs = addrs.join(" ");
    server.listeners = listeners;
    // Bound first, as Redis: a client connecting meanwhile waits in the backlog.
    let mut loaded = None;
    if !server.config.appendonly {
        match crate::features::persistence::load_at_startup(&mut server) {
            Ok(stats) => loaded = stats,
            Err(msg) => {
                log::error!("{msg}");
                return 1;
            }
        }
    }
    // `replicaof host port`: follow that master (the link opens from the loop's cron).
    if let Some((host, port)) = server.config.compat.replicaof.clone() {
        let host = String::from_utf8_lossy(&host).into_owned();
        crate::features::replication::replica::set_master(&mut server, &host, port as u16);
    }
    // Redis's setOOMScoreAdj(-1) at start-up, for our role (a failure is only logged).
    let _ = server.update_oom_score();
    // The RDB's replication fields: the history continues (an AOF start does not restore
    // them, as in Redis).
    if let Some(stats) = loaded
        && let (Some(id), Some(offset), Some(db)) =
            (stats.repl_id, stats.repl_offset, stats.repl_stream_db)
    {
        let id = String::from_utf8_lossy(&id).into_owned();
        crate::features::replication::restore_from_rdb(&mut server, id, offset, db);
    }
    let pidfile = sys::PidFile::create(&server.config.pidfile);
    let server_is_replica = server.master.is_some();
    let mut ev = match net::EventLoop::new(server, use_buf_ring) {
        Ok(ev) => ev,
        Err(net::StartError::NoUring(e)) => {
            eprintln!(
                "ringkv-server: io_uring is unavailable: {e} (errno {}). ringkv needs io_uring \
                 (Linux 5.19+). Check `sysctl kernel.io_uring_disabled` (must be 0, or 1 with \
                 this user in kernel.io_uring_group) and any seccomp profile (containers often \
                 block io_uring_setup).",
                e.raw_os_error().unwrap_or(0)
            );
            return 1;
        }
        Err(net::StartError::Io(msg)) => {
            eprintln!("ringkv-server: {msg}");
            return 1;
        }
    };
    log::warn!("Server initialized, listening on {addrs}");
    log::warn!("Ready to accept connections tcp");
    sys::notify_ready(supervision, server_is_replica);
    let code = ev.run();
    if !unixsocket.is_empty() {
        log::info!("Removing the unix socket file.");
        use std::os::unix::ffi::OsStrExt;
        if let Err(e) = std::fs::remove_file(std::ffi::OsStr::from_bytes(&unixsocket)) {
            log::warn!("Error removing the unix socket file: {e}");
        }
    }
    drop(pidfile);
    code
}
