//! The redis.conf / command-line loader: `sdssplitargs` words, `include` files, the fatal
//! load banner, and `redis-server [file] [--opt val ...]`.

use std::borrow::Cow;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::*;
use flags::MULTI_ARG;

/// Splits a line as Redis's `sdssplitargs`: blanks separate words, `"..."` with `\n \r \t
/// \b \a \xHH \<c>` escapes, `'...'` with `\'`; a closing quote must be followed by a blank
/// or the end. `None` on unbalanced quotes. A NUL byte ends the line (C string).
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    resp::parse::split_args_owned(line)
}

/// Quotes `s` as Redis's `sdscatrepr` (how command-line values are appended to the config).
pub use resp::parse::repr;

/// Why the configuration could not be loaded. `Display` is the text Redis prints to stderr
/// before exiting with status 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A bad line: Redis's "FATAL CONFIG FILE ERROR" banner.
    Line {
        /// 1-based line in the text being loaded (the file, or the file plus options).
        linenum: usize,
        /// The line after trimming, as printed between quotes.
        line: String,
        msg: String,
    },
    /// An error not tied to a line (e.g. the log file cannot be opened).
    General(String),
    /// A config file (or include) cannot be read: Redis logs this and exits.
    Open { path: String, reason: String },
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::Line { linenum, line, msg } => write!(
                f,
                "\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n\
                 Reading the configuration file, at line {linenum}\n>>> '{line}'\n{msg}\n"
            ),
            ConfigError::General(msg) => write!(
                f,
                "\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n{msg}\n"
            ),
            ConfigError::Open { path, reason } => {
                write!(f, "Fatal error, can't open config file '{path}': {reason}")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// Directives Redis 7.0 still accepts (with this many words including the name) and ignores.
const DEPRECATED: &[(&str, usize, usize)] = &[
    ("list-max-ziplist-entries", 2, 2),
    ("list-max-ziplist-value", 2, 2),
    ("lua-replicate-commands", 2, 2),
];

/// Loads config text (Redis's `loadServerConfigFromString`) into `cfg`.
pub struct Loader<'a> {
    cfg: &'a mut Config,
    /// `save` lines of one load accumulate; the first one replaces the default.
    save_seen: bool,
    depth: usize,
}

impl<'a> Loader<'a> {
    pub fn new(cfg: &'a mut Config) -> Self {
        Loader {
            cfg,
            save_seen: false,
            depth: 0,
        }
    }

    #[allow(
        dead_code,
        reason = "from_args reads files itself; kept for embedding and tests"
    )]
    /// Reads a file (or every file matching a glob, as `include` allows) and loads it.
    pub fn load_file(&mut self, path: &[u8]) -> Result<(), ConfigError> {
        let text = read_config_files(path)?;
        self.load_str(&text)
    }

    /// Loads config text; lines are split on `\n` and trimmed of blanks and CR.
    pub fn load_str(&mut self, text: &[u8]) -> Result<(), ConfigError> {
        for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line = trim(raw);
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let fail = |msg: Cow<'_, str>| ConfigError::Line {
                linenum: i + 1,
                line: String::from_utf8_lossy(line).into_owned(),
                msg: msg.into_owned(),
            };
            let Some(mut argv) = split_args(line) else {
                return Err(fail(Cow::Borrowed(
                    "Unbalanced quotes in configuration line",
                )));
            };
            if argv.is_empty() {
                continue;
            }
            argv[0].make_ascii_lowercase();
            if argv[0] == b"include" && argv.len() == 2 {
                // Errors inside the included text (or opening it) are reported as they are,
                // with the included file's own line numbers, as Redis's recursive load does.
                if self.depth >= 32 {
                    return Err(fail(Cow::Borrowed("Too many nested includes")));
                }
                let text = read_config_files(&argv[1])?;
                self.depth += 1;
                let r = self.load_str(&text);
                self.depth -= 1;
                r?;
                continue;
            }
            self.line(&argv).map_err(fail)?;
        }
        if self.depth > 0 {
            return Ok(());
        }
        // Redis clamps hz after loading for backward compatibility; our setter already
        // clamps, so only the log file remains to check.
        if !self.cfg.logfile.is_empty() {
            use std::os::unix::ffi::OsStrExt;
            let p = Path::new(std::ffi::OsStr::from_bytes(&self.cfg.logfile));
            if let Err(e) = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(p)
            {
                return Err(ConfigError::General(format!(
                    "Can't open the log file: {}",
                    strerror(&e)
                )));
            }
        }
        Ok(())
    }

    fn line(&mut self, argv: &[Vec<u8>]) -> Result<(), Cow<'static, str>> {
        let name = &argv[0];
        if let Some(found) = lookup(name) {
            let row = found.row;
            let multi = row.has(MULTI_ARG);
            if !multi && argv.len() != 2 {
                return Err(Cow::Borrowed("wrong number of arguments"));
            }
            let mode = if row.name == "save" {
                let m = if self.save_seen {
                    SetMode::Append
                } else {
                    SetMode::Replace
                };
                self.save_seen = true;
                m
            } else {
                SetMode::Replace
            };
            // A multi-word directive given as one quoted word (`save "900 1"`, which is what
            // `--save "900 1"` becomes) is split again, as Redis 7.0 does.
            if multi && argv.len() == 2 && !argv[1].is_empty() {
                let words = split_args(&argv[1])
                    .ok_or(Cow::Borrowed("Unbalanced quotes in configuration line"))?;
                let refs: Vec<&[u8]> = words.iter().map(|w| w.as_slice()).collect();
                return row.set(self.cfg, &refs, mode);
            }
            let refs: Vec<&[u8]> = argv[1..].iter().map(|w| w.as_slice()).collect();
            return row.set(self.cfg, &refs, mode);
        }
        if DEPRECATED
            .iter()
            .any(|&(n, lo, hi)| name == n.as_bytes() && (lo..=hi).contains(&argv.len()))
        {
            return Ok(());
        }
        match (name.as_slice(), argv.len()) {
            (b"user", n) if n >= 2 => {
                let def = crate::features::acl::check_user_directive(argv, &self.cfg.users)?;
                self.cfg.users.push(def);
                Ok(())
            }
            (b"rename-command", 3) => {
                self.cfg
                    .rename_commands
                    .push((argv[1].clone(), argv[2].clone()));
                Ok(())
            }
            _ => Err(Cow::Borrowed("Bad directive or wrong number of arguments")),
        }
    }
}

fn trim(s: &[u8]) -> &[u8] {
    let is_t = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = s.iter().position(|b| !is_t(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !is_t(b)).map_or(start, |e| e + 1);
    &s[start..end]
}

/// Reads one config file, or all files matching a glob pattern (`*?[`), concatenated; a
/// pattern matching nothing yields no text, as Redis's `include` with wildcards.
fn read_config_files(path: &[u8]) -> Result<Vec<u8>, ConfigError> {
    use std::os::unix::ffi::OsStrExt;
    let open_err = |p: &Path, e: std::io::Error| ConfigError::Open {
        path: p.display().to_string(),
        reason: strerror(&e),
    };
    if !path.iter().any(|b| matches!(b, b'*' | b'?' | b'[')) {
        let p = Path::new(std::ffi::OsStr::from_bytes(path));
        return std::fs::read(p).map_err(|e| open_err(p, e));
    }
    // Glob only the file name part: enough for `include /etc/redis/conf.d/*.conf`.
    let p = Path::new(std::ffi::OsStr::from_bytes(path));
    let dir = p.parent().filter(|d| !d.as_os_str().is_empty());
    let pattern = p.file_name().map(|f| f.as_bytes()).unwrap_or(b"");
    let rd = match std::fs::read_dir(dir.unwrap_or(Path::new("."))) {
        Ok(rd) => rd,
        Err(_) => return Ok(Vec::new()),
    };
    let mut names: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name();
            let n = n.as_bytes();
            !n.starts_with(b".") && engine::glob::glob_match(pattern, n, false)
        })
        .map(|e| match dir {
            Some(d) => d.join(e.file_name()),
            None => PathBuf::from(e.file_name()),
        })
        .collect();
    names.sort();
    let mut text = Vec::new();
    for n in names {
        text.extend(std::fs::read(&n).map_err(|e| open_err(&n, e))?);
    }
    Ok(text)
}

/// C's `strerror` text for an I/O error (Rust appends " (os error N)").
pub fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// What the command line asks for.
#[derive(Debug)]
pub enum CliAction {
    /// Run with this configuration.
    Run(Box<Config>),
    /// `-v` / `--version`.
    Version,
    /// `-h` / `--help`.
    Help,
}

/// Builds the config from `ringkv-server [configfile] [--directive value ...]` (`args`
/// without the program name), as Redis's `main`: the options are appended to the file's
/// text as lines (`--port 7000` → `port "7000"`), a value may be several words (`--bind
/// 127.0.0.1 ::1`), and `-` as the first or last argument reads config from stdin.
pub fn from_args(args: &[OsString]) -> Result<CliAction, ConfigError> {
    use std::os::unix::ffi::OsStrExt;
    let mut cfg = Config::new();
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    if let Some(&first) = args.first() {
        match first {
            b"-v" | b"--version" => return Ok(CliAction::Version),
            b"-h" | b"--help" => return Ok(CliAction::Help),
            _ => {}
        }
    }
    let mut j = 0;
    if let Some(&first) = args.first()
        && !first.starts_with(b"-")
    {
        let p = Path::new(std::ffi::OsStr::from_bytes(first));
        let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        cfg.config_file = Some(abs);
        j = 1;
    }
    let (options, from_stdin) = options_from_args(&args[j..], j == 0);

    let mut text = Vec::new();
    if let Some(f) = &cfg.config_file {
        text = read_config_files(f.as_os_str().as_bytes())?;
    }
    if from_stdin {
        use std::io::Read;
        let _ = std::io::stdin().read_to_end(&mut text);
    }
    if !options.is_empty() {
        text.push(b'\n');
        text.extend_from_slice(&options);
    }
    Loader::new(&mut cfg).load_str(&text)?;
    Ok(CliAction::Run(Box::new(cfg)))
}

/// Turns `--name value...` arguments into config lines. `first_is_arg1` tells whether
/// `args[0]` is argv[1] (no config file), where a lone `-` means stdin.
fn options_from_args(args: &[&[u8]], first_is_arg1: bool) -> (Vec<u8>, bool) {
    let mut options = Vec::new();
    let mut from_stdin = false;
    let mut handled_last = true;
    for (i, &a) in args.iter().enumerate() {
        let last = i + 1 == args.len();
        if a == b"-" && ((i == 0 && first_is_arg1) || last) {
            from_stdin = true;
        } else if handled_last && a.starts_with(b"--") {
            if !options.is_empty() {
                options.push(b'\n');
            }
            options.extend_from_slice(&a[2..]);
            options.push(b' ');
            let words = split_args(a).map_or(0, |w| w.len());
            if words == 1 {
                // Only a name (`--port`): its value follows.
                handled_last = false;
                let is_save = a.eq_ignore_ascii_case(b"--save");
                if is_save && !last && args[i + 1].starts_with(b"--") {
                    // `--save --port 1`: an empty save, as before Redis 7.0.1.
                    options.extend_from_slice(b"\"\"");
                    handled_last = true;
                } else if is_save && last {
                    options.extend_from_slice(b"\"\"");
                }
            } else {
                // `"--port 6380"` in one argument carries its value.
                handled_last = true;
            }
        } else {
            repr(a, &mut options);
            options.push(b' ');
            handled_last = true;
        }
    }
    (options, from_stdin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Option<Vec<String>> {
        split_args(line.as_bytes()).map(|v| {
            v.into_iter()
                .map(|w| String::from_utf8_lossy(&w).into_owned())
                .collect()
        })
    }

    fn load(text: &str) -> Result<Config, ConfigError> {
        let mut c = Config::new();
        Loader::new(&mut c).load_str(text.as_bytes())?;
        Ok(c)
    }

    fn load_err(text: &str) -> String {
        load(text).unwrap_err().to_string()
    }

    fn banner(line: usize, text: &str, msg: &str) -> String {
        format!(
            "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n\
             Reading the configuration file, at line {line}\n>>> '{text}'\n{msg}\n"
        )
    }

    #[test]
    fn sdssplitargs_rules() {
        assert_eq!(words("  a  b\tc  ").unwrap(), ["a", "b", "c"]);
        assert_eq!(words("").unwrap(), Vec::<String>::new());
        assert_eq!(words("\"a b\" 'c d'").unwrap(), ["a b", "c d"]);
        assert_eq!(words(r#""\x41\n\t\"\\z""#).unwrap(), ["A\n\t\"\\z"]);
        assert_eq!(words(r"'it\'s'").unwrap(), ["it's"]);
        // A quote inside a bare word opens a quoted part of the same word.
        assert_eq!(
            words(r#"ab"c d"e"#),
            None,
            "closing quote must be followed by space"
        );
        assert_eq!(words(r#"ab"c d""#).unwrap(), ["abc d"]);
        assert_eq!(words("\"unterminated"), None);
        assert_eq!(words("'unterminated"), None);
        assert_eq!(words("\"a\"b"), None);
        assert_eq!(words("\"\"").unwrap(), [""]);
        // \x with non-hex digits is an ordinary escape of 'x'.
        assert_eq!(words(r#""\xZZ""#).unwrap(), ["xZZ"]);
    }

    #[test]
    fn load_file_syntax() {
        let c = load(
            "# comment\n\n   port 7000  \r\nBIND 10.0.0.1 \"::1\"\nclient-query-buffer-limit 1GB\n\
             save 900 1\nsave \"60 5\"\nloglevel 'warning'\nhz 0\n\
             list-max-ziplist-entries 5\nrename-command FLUSHALL \"\"\n",
        )
        .unwrap();
        assert_eq!(c.port, 7000);
        assert_eq!(c.bind, ["10.0.0.1", "::1"]);
        assert_eq!(c.client_query_buffer_limit, 1 << 30);
        assert_eq!(c.save, [(900, 1), (60, 5)], "save lines accumulate");
        assert_eq!(c.loglevel, LogLevel::Warning);
        assert_eq!(c.hz, 1, "hz is clamped");
        assert_eq!(c.rename_commands, [(b"FLUSHALL".to_vec(), b"".to_vec())]);
        // `save ""` clears, and a quoted multi-word value is split.
        assert!(load("save \"\"\n").unwrap().save.is_empty());
        assert_eq!(
            load("bind \"127.0.0.1 ::1\"\n").unwrap().bind,
            ["127.0.0.1", "::1"]
        );
    }

    #[test]
    fn load_errors_match_redis() {
        assert_eq!(
            load_err("port 7108\n  # comment\nfoo bar\n"),
            banner(3, "foo bar", "Bad directive or wrong number of arguments")
        );
        assert_eq!(
            load_err("port 7108 # c\n"),
            banner(1, "port 7108 # c", "wrong number of arguments")
        );
        assert_eq!(
            load_err("port \"7108\n"),
            banner(1, "port \"7108", "Unbalanced quotes in configuration line")
        );
        assert_eq!(
            load_err("\nport\n"),
            banner(2, "port", "wrong number of arguments")
        );
        assert_eq!(
            load_err("maxmemory 1 2\n"),
            banner(1, "maxmemory 1 2", "wrong number of arguments")
        );
        assert_eq!(
            load_err("daemonize maybe\n"),
            banner(1, "daemonize maybe", "argument must be 'yes' or 'no'")
        );
        assert_eq!(
            load_err("loglevel foo\n"),
            banner(
                1,
                "loglevel foo",
                "argument(s) must be one of the following: debug, verbose, notice, warning"
            )
        );
        assert_eq!(
            load_err("hz \"abc\"\n"),
            banner(
                1,
                "hz \"abc\"",
                "argument couldn't be parsed into an integer"
            )
        );
        assert!(load("maxmemory-clients 10mb\n").is_ok());
        assert!(load("maxmemory 16mb\nmaxmemory-clients 5%\n").is_ok());
        assert!(load("daemonize yes\n").is_ok());
        assert!(load("daemonize yes\ndaemonize no\n").is_ok());
    }

    /// `user` lines: checked when read, with Redis 7.0.15's texts (it names `argv[j]` for
    /// the rule at index j, and an unknown command is left for start-up to report).
    #[test]
    fn user_directives() {
        let c = load("user alice on >pw (~a +get\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            c,
            banner(
                1,
                "user alice on >pw (~a +get",
                "Error in user declaration 'on': Unknown command or category name in ACL"
            )
        );
        assert_eq!(
            load_err("user alice on bogus\n"),
            banner(
                1,
                "user alice on bogus",
                "Error in user declaration 'alice': Syntax error"
            )
        );
        assert_eq!(
            load_err("user alice on\nuser alice off\n"),
            banner(
                2,
                "user alice off",
                "Error in user declaration 'alice': Duplicate user found. A user can only be defined once in config files"
            )
        );
        let c = load("user alice on \"(~a\" \"+get)\" +nosuch\nuser bob\n").unwrap();
        assert_eq!(
            c.users,
            [
                vec![
                    b"alice".to_vec(),
                    b"on".to_vec(),
                    b"(~a +get)".to_vec(),
                    b"+nosuch".to_vec()
                ],
                vec![b"bob".to_vec()]
            ]
        );
    }

    fn tmp(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ringkv-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn include_files() {
        let inc = tmp("inc.conf", "maxclients 77\nhz 20\n");
        let main = tmp(
            "main.conf",
            &format!("hz 5\ninclude {}\ntimeout 3\n", inc.display()),
        );
        let mut c = Config::new();
        Loader::new(&mut c)
            .load_file(main.to_str().unwrap().as_bytes())
            .unwrap();
        assert_eq!((c.maxclients, c.hz, c.timeout), (77, 20, 3));

        let bad = tmp("bad.conf", "maxclients 1\nnope 1\n");
        let e = load(&format!("# x\n# y\n# z\ninclude {}\n", bad.display()))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            banner(2, "nope 1", "Bad directive or wrong number of arguments")
        );

        let e = load("include /nonexistent/ringkv.conf\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("Fatal error, can't open config file '/nonexistent/ringkv.conf': No such file or directory"),
            "{e}"
        );
        // A wildcard matching nothing is fine.
        assert!(load("include /nonexistent-dir-ringkv/*.conf\n").is_ok());
        let dir = inc.parent().unwrap();
        let c = load(&format!("include {}/inc.c?nf\n", dir.display())).unwrap();
        assert_eq!(c.maxclients, 77);
    }

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    fn run_cli(args: &[&str]) -> Result<Config, String> {
        match from_args(&os(args)) {
            Ok(CliAction::Run(c)) => Ok(*c),
            Ok(other) => Err(format!("{other:?}")),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn command_line_options() {
        let (opts, stdin) = options_from_args(
            &[
                b"--port",
                b"7000",
                b"--save",
                b"900 1",
                b"--bind",
                b"127.0.0.1",
                b"::1",
            ],
            true,
        );
        assert!(!stdin);
        assert_eq!(
            String::from_utf8(opts).unwrap(),
            "port \"7000\" \nsave \"900 1\" \nbind \"127.0.0.1\" \"::1\" "
        );
        let c = run_cli(&[
            "--port",
            "7000",
            "--save",
            "900 1",
            "--bind",
            "127.0.0.1",
            "::1",
        ])
        .unwrap();
        assert_eq!(c.port, 7000);
        assert_eq!(c.save, [(900, 1)]);
        assert_eq!(c.bind, ["127.0.0.1", "::1"]);
        assert!(c.config_file.is_none());
        // `--save` with no value, last or followed by another option, means no saving.
        assert!(run_cli(&["--save"]).unwrap().save.is_empty());
        assert!(run_cli(&["--save", "--port", "1"]).unwrap().save.is_empty());
        // Name and value in one argument.
        assert_eq!(run_cli(&["--port 6390"]).unwrap().port, 6390);
        // Values are quoted, so spaces and quotes survive.
        assert_eq!(
            run_cli(&["--masterauth", "a \"b\""])
                .unwrap()
                .compat
                .masterauth,
            b"a \"b\""
        );
        // Errors are numbered after the (empty) file text and the joining newline.
        assert_eq!(
            run_cli(&["--port", "7108", "--foo", "x"]).unwrap_err(),
            banner(3, "foo \"x\"", "Bad directive or wrong number of arguments")
        );
        assert_eq!(
            run_cli(&["--port"]).unwrap_err(),
            banner(2, "port", "wrong number of arguments")
        );
        assert!(matches!(from_args(&os(&["-v"])), Ok(CliAction::Version)));
        assert!(matches!(from_args(&os(&["--help"])), Ok(CliAction::Help)));
    }

    #[test]
    fn command_line_with_file() {
        let f = tmp("cli.conf", "port 7001\nfoo bar\n");
        let e = run_cli(&[f.to_str().unwrap(), "--port", "1"]).unwrap_err();
        assert_eq!(
            e,
            banner(2, "foo bar", "Bad directive or wrong number of arguments")
        );
        let f = tmp("cli2.conf", "port 7001\nhz 20\n");
        let c = run_cli(&[f.to_str().unwrap(), "--port", "7002"]).unwrap();
        assert_eq!((c.port, c.hz), (7002, 20), "options come after the file");
        assert_eq!(c.config_file.as_deref(), Some(f.as_path()));
        let e = run_cli(&["/nonexistent/x.conf"]).unwrap_err();
        assert_eq!(
            e,
            "Fatal error, can't open config file '/nonexistent/x.conf': No such file or directory"
        );
    }

    #[test]
    fn repr_quotes_like_sdscatrepr() {
        let mut v = Vec::new();
        repr(b"a\"b\\c\n\x01 ", &mut v);
        assert_eq!(v, b"\"a\\\"b\\\\c\\n\\x01 \"");
        assert_eq!(split_args(&v).unwrap(), [b"a\"b\\c\n\x01 ".to_vec()]);
    }
}
