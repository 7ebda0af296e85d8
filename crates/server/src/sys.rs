//! Process-level helpers: the pidfile, logging, the open-files limit. Used at start-up and
//! by CONFIG SET (`loglevel`, `maxclients`), so they live below both.

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

/// env_logger at the configured `loglevel` unless RUST_LOG overrides it.
pub fn init_logging(cfg: &crate::features::config::Config) {
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
                eprintln!(
                    "Can't open the log file: {}",
                    crate::features::config::strerror(&e)
                );
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
