//! ringkv-server: a Redis 7.0-compatible server on one io_uring event loop.
//!
//! Command line as redis-server's: `ringkv-server [/path/to/redis.conf] [--directive value
//! ...]`, plus `--help` and `--version`. Startup: parse the configuration, set up logging,
//! raise the open-files limit for `maxclients`, bind the listeners, build the engine and the
//! command table, then hand everything to the loop, which owns it until exit.

mod alloc;
mod blocking;
mod call;
mod client_cmds;
mod config;
mod conn;
mod event_loop;
mod gate;
mod info;
mod multi;
#[cfg(test)]
mod propagation_tests;
mod pubsub;
mod server;

use clap::Parser;
use std::ffi::OsString;

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

/// The flags clap knows; everything else is passed through to the config loader verbatim,
/// so any redis.conf directive works as `--name value`.
#[derive(Parser, Debug)]
#[command(
    name = "ringkv-server",
    version,
    about = "A Redis 7.0-compatible in-memory store on one io_uring event loop",
    override_usage = "ringkv-server [/path/to/redis.conf] [options] [-]\n       ringkv-server --port 7777\n       ringkv-server /etc/redis/6379.conf --loglevel verbose"
)]
struct Cli {
    /// Optional config file, then any redis.conf directive as `--name value ...`.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CONFIG_AND_OPTIONS"
    )]
    rest: Vec<OsString>,
}

fn main() {
    let mut cli = Cli::parse();
    // Diagnostic switch, not a redis.conf directive: exercise the single-shot recv
    // fallback on kernels that have provided buffer rings.
    let before = cli.rest.len();
    cli.rest.retain(|a| a != "--no-buf-ring");
    let use_buf_ring = cli.rest.len() == before;
    let mut cfg = match config::from_args(&cli.rest) {
        Ok(config::CliAction::Run(cfg)) => *cfg,
        Ok(config::CliAction::Version) => {
            println!(
                "ringkv-server v={} (Redis {} compatible)",
                env!("CARGO_PKG_VERSION"),
                config::REDIS_VERSION
            );
            return;
        }
        Ok(config::CliAction::Help) => {
            use clap::CommandFactory;
            let _ = Cli::command().print_help();
            return;
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    init_logging(&cfg);
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
    if let Err(limit) = adjust_open_files_limit(cfg.maxclients as u64) {
        // As Redis: serve fewer clients rather than fail accepts with EMFILE.
        let want = cfg.maxclients as u64 + 32;
        if limit <= 32 {
            log::error!(
                "Your current 'ulimit -n' of {limit} is not enough for the server to start. Please increase your open file limit to at least {want}. Exiting."
            );
            std::process::exit(1);
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
    let engine = engine::Engine::new(cfg.engine_config(), engine::Clock::System);
    let mut server = match server::Server::new(cfg, engine) {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("{}", config::ConfigError::General(msg));
            std::process::exit(1);
        }
    };
    let cfg = &server.config;
    let listeners = match event_loop::listen_all(&cfg.bind, cfg.port, cfg.tcp_backlog) {
        Ok(l) => l,
        Err(msg) => {
            log::warn!("Warning: {msg}");
            log::error!("Failed listening on port {} (tcp), aborting.", cfg.port);
            std::process::exit(1);
        }
    };
    if listeners.is_empty() {
        // Redis: port 0 and no unix socket.
        log::warn!("Configured to not listen anywhere, exiting.");
        std::process::exit(1);
    }
    let addrs: Vec<String> = listeners.iter().map(|l| l.addr.clone()).collect();
    let addrs = addrs.join(" ");
    server.listeners = listeners;
    let pidfile = PidFile::create(&server.config.pidfile);
    let mut ev = match event_loop::EventLoop::new(server, use_buf_ring) {
        Ok(ev) => ev,
        Err(event_loop::StartError::NoUring(e)) => {
            eprintln!(
                "ringkv-server: io_uring is unavailable: {e} (errno {}). ringkv needs io_uring \
                 (Linux 5.19+). Check `sysctl kernel.io_uring_disabled` (must be 0, or 1 with \
                 this user in kernel.io_uring_group) and any seccomp profile (containers often \
                 block io_uring_setup).",
                e.raw_os_error().unwrap_or(0)
            );
            std::process::exit(1);
        }
        Err(event_loop::StartError::Io(msg)) => {
            eprintln!("ringkv-server: {msg}");
            std::process::exit(1);
        }
    };
    log::warn!("Server initialized, listening on {addrs}");
    log::warn!("Ready to accept connections tcp");
    let code = ev.run();
    drop(pidfile);
    std::process::exit(code);
}

/// The `pidfile`, written at start and removed at a clean exit, as Redis does.
struct PidFile(Option<std::path::PathBuf>);

impl PidFile {
    fn create(path: &[u8]) -> PidFile {
        use std::os::unix::ffi::OsStrExt;
        if path.is_empty() {
            return PidFile(None);
        }
        let p = std::path::PathBuf::from(std::ffi::OsStr::from_bytes(path));
        match std::fs::write(&p, format!("{}\n", std::process::id())) {
            Ok(()) => PidFile(Some(p)),
            Err(e) => {
                log::warn!("Failed to write PID file: {}", config::strerror(&e));
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
pub fn log_filter(level: config::LogLevel) -> log::LevelFilter {
    use config::LogLevel;
    match level {
        LogLevel::Debug | LogLevel::Verbose => log::LevelFilter::Debug,
        LogLevel::Notice => log::LevelFilter::Info,
        LogLevel::Warning => log::LevelFilter::Warn,
    }
}

/// env_logger at the configured `loglevel` unless RUST_LOG overrides it.
fn init_logging(cfg: &config::Config) {
    let level = log_filter(cfg.loglevel).as_str().to_ascii_lowercase();
    let mut b = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level));
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
                eprintln!("Can't open the log file: {}", config::strerror(&e));
                std::process::exit(1);
            }
        }
    }
    let _ = b.try_init();
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
