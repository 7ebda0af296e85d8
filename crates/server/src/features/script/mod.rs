//! Lua scripting as Redis 7.0 runs it: EVAL / EVALSHA / EVAL_RO / EVALSHA_RO and SCRIPT
//! (this module), FUNCTION / FCALL ([`function`]), one Lua 5.1 state per engine (mlua with
//! its vendored Lua 5.1, the language Redis embeds).
//!
//! How a script runs ([`run`]): the caller's client is the script's client — no fake
//! connection. For the script's duration its session takes the script's view (RESP2 until
//! `redis.setresp(3)`, blocking denied, the db selected at the start; the caller's protocol
//! and db come back after), the engine's time is frozen (Redis's script snapshot time), and
//! the Lua callbacks reach the server through [`RunCtx`]. `redis.call` runs each command
//! through the one runner (`dispatch::call::call` with `Origin::Script`) after the checks
//! Redis's `scriptCall` makes (arity, `noscript`, the caller's ACL, writes refused in
//! read-only scripts, disk errors and OOM before the first write); the reply the runner wrote
//! into the caller's buffer is converted to Lua ([`convert`]) and removed. Each command
//! propagates its own effect into the caller's execution unit, so the runner wraps a script
//! that wrote more than once in MULTI/EXEC (Redis 7.0's effects replication); EVAL itself is
//! never propagated.
//!
//! Invariants: the raw server pointer in [`RunCtx`] is set only while `run` is inside the
//! Lua call, and `run` does not touch the server meanwhile; Rust callbacks raise only
//! [`ScriptRaise`] errors, which the prelude's error handler and `pcall` turn back into the
//! string or `{err=…}` table Redis would have raised.

pub mod cjson;
pub mod convert;
pub mod function;
pub mod libs;
mod sandbox;

use crate::dispatch::call::{Origin, call};
use crate::dispatch::gate::{self, Cmd, lookup_sub, reply};
use crate::server::Server;
use engine::commands::table::{Row, flags};
use engine::{CmdError, CmdResult};
use mlua::{Function, Lua, LuaOptions, MultiValue, StdLib, Table, Value};
use resp::Proto;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Instant;

/// The Lua prelude (sandbox and `redis.*` API), see the file's header.
const PRELUDE: &str = include_str!("prelude.lua");

/// A Lua state's memory bound: a script that builds a huge table gets "not enough memory"
/// instead of taking the server down (Redis has no bound; the state is the server's heap).
/// `maxmemory`, when set lower, bounds each state too (see [`memory_limit`]).
pub const LUA_MEMORY_LIMIT: usize = 1 << 30;

/// The bound a Lua state runs under now.
pub fn memory_limit(server: &Server) -> usize {
    match server.config.maxmemory {
        0 => LUA_MEMORY_LIMIT,
        m => (m as usize).min(LUA_MEMORY_LIMIT),
    }
}

/// Script flags (shebang `flags=` and `register_function`'s `flags`), Redis's SCRIPT_FLAG_*.
pub mod sflags {
    pub const NO_WRITES: u32 = 1 << 0;
    pub const ALLOW_OOM: u32 = 1 << 1;
    pub const ALLOW_STALE: u32 = 1 << 2;
    pub const NO_CLUSTER: u32 = 1 << 3;
    pub const EVAL_COMPAT_MODE: u32 = 1 << 4;
    pub const ALLOW_CROSS_SLOT: u32 = 1 << 5;

    pub const NAMES: &[(&str, u32)] = &[
        ("no-writes", NO_WRITES),
        ("allow-oom", ALLOW_OOM),
        ("allow-stale", ALLOW_STALE),
        ("no-cluster", NO_CLUSTER),
        ("allow-cross-slot-keys", ALLOW_CROSS_SLOT),
    ];
}

/// Run flags (Redis's SCRIPT_READ_ONLY / SCRIPT_ALLOW_OOM / SCRIPT_WRITE_DIRTY).
mod rflags {
    pub const READ_ONLY: u8 = 1 << 0;
    pub const ALLOW_OOM: u8 = 1 << 1;
    pub const WRITE_DIRTY: u8 = 1 << 2;
}

/// The running script's context, shared with the Lua callbacks (see the module invariants).
#[derive(Default)]
pub struct RunCtx {
    server: Cell<Option<std::ptr::NonNull<Server>>>,
    key: Cell<usize>,
    flags: Cell<u8>,
    resp3: Cell<bool>,
    /// `redis.set_repl` flags (1 = AOF, 2 = replicas).
    repl: Cell<u8>,
    rng: Cell<libs::Lrand48>,
    /// When the running script started (busy detection).
    pub start: Cell<Option<Instant>>,
    /// SCRIPT KILL / FUNCTION KILL asked to stop it.
    pub kill: Cell<bool>,
    /// Past `busy-reply-threshold` (logged once).
    pub timed_out: Cell<bool>,
    /// The running function's name and command, for FUNCTION STATS while it is busy.
    pub name: RefCell<String>,
    command: Cell<(usize, usize)>,
    /// Running a function (FCALL) rather than an EVAL script.
    pub is_function: Cell<bool>,
    /// Registering functions while a library loads (see [`function`]).
    pub loading: RefCell<Option<function::Loading>>,
    /// The running script's Lua memory bound (see [`Unbounded`]).
    limit: Cell<usize>,
}

/// Lifts a Lua state's memory bound while Rust code builds values for it, restoring it on
/// drop. mlua runs every allocating operation in protected mode (a C closure, a
/// `lua_pcall`) while a bound is set; the bound therefore holds while Lua code runs, and
/// the values a callback builds (a command's reply) are allowed past it: the script's
/// next allocation then fails with "not enough memory".
pub(crate) struct Unbounded<'a> {
    lua: &'a Lua,
    limit: usize,
}

impl<'a> Unbounded<'a> {
    pub(crate) fn new(lua: &'a Lua, ctx: &RunCtx) -> Unbounded<'a> {
        let limit = if ctx.running() { ctx.limit.get() } else { 0 };
        let _ = lua.set_memory_limit(0);
        Unbounded { lua, limit }
    }
}

impl Drop for Unbounded<'_> {
    fn drop(&mut self) {
        let _ = self.lua.set_memory_limit(self.limit);
    }
}

impl RunCtx {
    /// The server while a script runs (see the module invariants).
    #[allow(clippy::mut_from_ref)]
    fn server(&self) -> Option<&mut Server> {
        // SAFETY: set by `run` from its exclusive `&mut Server` for the duration of the Lua
        // call only; `run` does not use the server until the call returns, and callbacks
        // run on this thread, one at a time, inside that call.
        self.server.get().map(|p| unsafe { &mut *p.as_ptr() })
    }

    pub fn running(&self) -> bool {
        self.server.get().is_some()
    }

    /// The running script's command (FUNCTION STATS while busy).
    pub fn command(&self) -> Vec<Vec<u8>> {
        let (ptr, len) = self.command.get();
        if ptr == 0 || !self.running() {
            return Vec::new();
        }
        // SAFETY: set by `run` from its `args` slice, which outlives the Lua call, and
        // cleared before `run` returns; read only while the script runs (`running`).
        let args = unsafe { std::slice::from_raw_parts(ptr as *const &[u8], len) };
        args.iter().map(|a| a.to_vec()).collect()
    }
}

/// One Lua state with the sandbox built: the runner (`xpcall` with Redis's error handler)
/// and the table behind the read-only globals (where KEYS and ARGV are set).
pub struct LuaEnv {
    pub lua: Lua,
    runner: Function,
    backing: Table,
    /// Switches the globals to the library-loading API and back (functions).
    set_loading: Function,
    /// Runs a library's top level under `pcall`, errors unwrapped.
    load_run: Function,
}

impl LuaEnv {
    /// A fresh state: the libraries Redis loads, the prelude, the memory bound.
    pub fn new(ctx: &Rc<RunCtx>, library_mode: bool) -> mlua::Result<LuaEnv> {
        // SAFETY: `debug` is what mlua calls unsafe; the prelude keeps it in a local for the
        // error handler and removes it from the globals before any user code runs (as
        // Redis's scriptingInit does).
        let lua = unsafe {
            Lua::unsafe_new_with(
                StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG,
                LuaOptions::new(),
            )
        };
        let raw = lua.create_table()?;
        register_api(&lua, &raw, ctx)?;
        libs::register_bit(&lua, &raw)?;
        cjson::register_cjson(&lua, &raw)?;
        libs::register_struct(&lua, &raw)?;
        libs::register_cmsgpack(&lua, &raw)?;
        sandbox::register(&lua, &raw)?;
        if library_mode {
            function::register_api(&lua, &raw, ctx)?;
        }
        let (runner, backing, set_loading, load_run): (Function, Table, Function, Function) = lua
            .load(PRELUDE)
            .set_name("=redis_internal")
            .call((raw, if library_mode { "library" } else { "eval" }))?;
        install_hook(&lua, ctx);
        Ok(LuaEnv {
            lua,
            runner,
            backing,
            set_loading,
            load_run,
        })
    }

    /// Compiles `body` as chunk `name` (text only: no bytecode).
    pub fn compile(&self, body: &[u8], name: &str) -> Result<Function, String> {
        self.lua
            .load(body)
            .set_name(name)
            .set_mode(mlua::chunk::ChunkMode::Text)
            .into_function()
            .map_err(|e| match e {
                mlua::Error::SyntaxError { message, .. } => message,
                e => e.to_string(),
            })
    }
}

/// An error a Rust callback raises: an `{err=…}` table (`redis.call`) or a message with the
/// caller's position (library functions, as `luaL_error`).
#[derive(Debug)]
pub enum ScriptRaise {
    Table { text: Vec<u8>, counted: bool },
    Msg(String),
}

impl std::fmt::Display for ScriptRaise {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScriptRaise::Table { text, .. } => f.write_str(&String::from_utf8_lossy(text)),
            ScriptRaise::Msg(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ScriptRaise {}

/// Raises `{err=text}` (see [`convert::error_table`]).
pub fn raise_table(text: &[u8], counted: bool) -> mlua::Error {
    mlua::Error::external(ScriptRaise::Table {
        text: text.to_vec(),
        counted,
    })
}

/// Raises `msg` prefixed with the calling Lua function's `source:line: `.
pub fn raise_msg(lua: &Lua, msg: &str) -> mlua::Error {
    let pos = lua
        .inspect_stack(1, |d| {
            let src = d.source().short_src.map(|s| s.into_owned());
            (src, d.current_line())
        })
        .and_then(|(s, l)| Some(format!("{}:{}: ", s?, l?)))
        .unwrap_or_default();
    mlua::Error::external(ScriptRaise::Msg(format!("{pos}{msg}")))
}

/// `raw.unwrap`: a Rust error (a userdata in Lua) back into the value Redis would raise.
fn unwrap_error(lua: &Lua, v: Value) -> mlua::Result<Value> {
    let Value::Error(e) = v else {
        return Ok(v);
    };
    match e.downcast_ref::<ScriptRaise>() {
        Some(ScriptRaise::Table { text, counted }) => {
            Ok(Value::Table(convert::error_table(lua, text, *counted)?))
        }
        Some(ScriptRaise::Msg(m)) => lua_str(lua, m.as_bytes()),
        None => {
            let msg = match &*e {
                mlua::Error::MemoryError(_) => "not enough memory".to_string(),
                mlua::Error::CallbackError { cause, .. } => cause.to_string(),
                other => other.to_string(),
            };
            lua_str(lua, msg.as_bytes())
        }
    }
}

fn lua_str(lua: &Lua, s: &[u8]) -> mlua::Result<Value> {
    Ok(Value::String(lua.create_string(s)?))
}

/// The Rust half of `redis.*` (see prelude.lua for the Lua half).
fn register_api(lua: &Lua, raw: &Table, ctx: &Rc<RunCtx>) -> mlua::Result<()> {
    let c = ctx.clone();
    raw.set(
        "call",
        lua.create_function(
            move |lua, args: MultiValue| match redis_call(lua, &c, args)? {
                Ok(v) => Ok(v),
                Err((text, counted)) => Err(raise_table(&text, counted)),
            },
        )?,
    )?;
    let c = ctx.clone();
    raw.set(
        "pcall",
        lua.create_function(
            move |lua, args: MultiValue| match redis_call(lua, &c, args)? {
                Ok(v) => Ok(v),
                Err((text, counted)) => {
                    Ok(Value::Table(convert::error_table(lua, &text, counted)?))
                }
            },
        )?,
    )?;
    raw.set("unwrap", lua.create_function(unwrap_error)?)?;
    raw.set(
        "error_table",
        lua.create_function(|lua, s: mlua::LuaString| {
            let s = s.as_bytes();
            let mut text = Vec::with_capacity(s.len() + 1);
            if s.first() != Some(&b'-') {
                text.push(b'-');
            }
            text.extend_from_slice(&s);
            convert::error_table(lua, &text, false)
        })?,
    )?;
    raw.set(
        "sha1hex",
        lua.create_function(|lua, a: MultiValue| {
            if a.len() != 1 {
                return Err(raise_table(b"wrong number of arguments", false));
            }
            let s = match &a[0] {
                Value::String(s) => s.as_bytes().to_vec(),
                v @ (Value::Number(_) | Value::Integer(_)) => {
                    libs::fmt_g14(libs::to_number(v).unwrap_or(0.0)).into_bytes()
                }
                _ => Vec::new(),
            };
            lua_str(lua, sha1_hex(&s).as_bytes())
        })?,
    )?;
    raw.set(
        "log",
        lua.create_function(|_, a: MultiValue| {
            if a.len() < 2 {
                return Err(raise_table(
                    b"redis.log() requires two arguments or more.",
                    false,
                ));
            }
            let Some(level) = libs::to_number(&a[0]) else {
                return Err(raise_table(
                    b"First argument must be a number (log level).",
                    false,
                ));
            };
            let level = level as i64;
            if !(0..=3).contains(&level) {
                return Err(raise_table(b"Invalid debug level.", false));
            }
            let mut msg = String::new();
            for (j, v) in a.iter().enumerate().skip(1) {
                let s = match v {
                    Value::String(s) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
                    v @ (Value::Number(_) | Value::Integer(_)) => {
                        libs::fmt_g14(libs::to_number(v).unwrap_or(0.0))
                    }
                    _ => continue,
                };
                if j != 1 {
                    msg.push(' ');
                }
                msg.push_str(&s);
            }
            match level {
                0 => log::debug!("{msg}"),
                1 | 2 => log::info!("{msg}"),
                _ => log::warn!("{msg}"),
            }
            Ok(())
        })?,
    )?;
    let c = ctx.clone();
    raw.set(
        "setresp",
        lua.create_function(move |_, a: MultiValue| {
            if a.len() != 1 {
                return Err(raise_table(
                    b"redis.setresp() requires one argument.",
                    false,
                ));
            }
            let v = libs::to_number(&a[0]).unwrap_or(0.0) as i64;
            if v != 2 && v != 3 {
                return Err(raise_table(b"RESP version must be 2 or 3.", false));
            }
            c.resp3.set(v == 3);
            if let Some(server) = c.server() {
                server.clients[c.key.get()].session.proto = convert::proto(v == 3);
            }
            Ok(())
        })?,
    )?;
    let c = ctx.clone();
    raw.set(
        "set_repl",
        lua.create_function(move |_, a: MultiValue| {
            if a.len() != 1 {
                return Err(raise_table(b"redis.set_repl() requires two arguments.", false));
            }
            let v = libs::to_number(&a[0]).unwrap_or(0.0) as i64 as i32;
            if v & !3 != 0 {
                return Err(raise_table(
                    b"Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
                    false,
                ));
            }
            c.repl.set(v as u8);
            Ok(())
        })?,
    )?;
    let c = ctx.clone();
    raw.set(
        "random",
        lua.create_function(move |lua, a: MultiValue| {
            let mut rng = c.rng.get();
            let r = rng.next_f64();
            c.rng.set(rng);
            let int = |i: usize| -> mlua::Result<f64> {
                match a.get(i).and_then(libs::to_number) {
                    Some(n) => Ok(n.trunc() as i32 as f64),
                    None => {
                        let got = match a.get(i) {
                            None => "no value",
                            Some(Value::Nil) => "nil",
                            Some(Value::Boolean(_)) => "boolean",
                            Some(Value::Table(_)) => "table",
                            Some(Value::Function(_)) => "function",
                            Some(Value::String(_)) => "string",
                            _ => "userdata",
                        };
                        Err(raise_msg(
                            lua,
                            &format!(
                                "bad argument #{} to 'random' (number expected, got {got})",
                                i + 1
                            ),
                        ))
                    }
                }
            };
            match a.len() {
                0 => Ok(r),
                1 => {
                    let u = int(0)?;
                    if u < 1.0 {
                        return Err(raise_msg(
                            lua,
                            "bad argument #1 to 'random' (interval is empty)",
                        ));
                    }
                    Ok((r * u).floor() + 1.0)
                }
                2 => {
                    let (l, u) = (int(0)?, int(1)?);
                    if l > u {
                        return Err(raise_msg(
                            lua,
                            "bad argument #2 to 'random' (interval is empty)",
                        ));
                    }
                    Ok((r * (u - l + 1.0)).floor() + l)
                }
                _ => Err(raise_msg(lua, "wrong number of arguments")),
            }
        })?,
    )?;
    let c = ctx.clone();
    raw.set(
        "randomseed",
        lua.create_function(move |lua, a: MultiValue| {
            let Some(s) = a.front().and_then(libs::to_number) else {
                return Err(raise_msg(
                    lua,
                    "bad argument #1 to 'randomseed' (number expected, got no value)",
                ));
            };
            let mut r = c.rng.get();
            r.seed(s.trunc() as i32);
            c.rng.set(r);
            Ok(())
        })?,
    )?;
    let c = ctx.clone();
    raw.set(
        "acl_check_cmd",
        lua.create_function(
            move |lua, args: MultiValue| match acl_check_cmd(lua, &c, args)? {
                Ok(v) => Ok(v),
                Err((text, counted)) => Err(raise_table(&text, counted)),
            },
        )?,
    )?;
    Ok(())
}

/// Lower-case hex SHA-1 (script names, `redis.sha1hex`).
pub fn sha1_hex(data: &[u8]) -> String {
    use sha1::{Digest, Sha1};
    let d = Sha1::digest(data);
    let mut s = String::with_capacity(40);
    for b in d {
        use std::fmt::Write;
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// `redis.call`'s arguments as Redis's `luaArgsToRedisArgv` makes them: numbers with
/// `%.17g`, strings as bytes; anything else is an error.
fn lua_args(args: &MultiValue) -> Result<Vec<Vec<u8>>, &'static str> {
    if args.is_empty() {
        return Err("Please specify at least one argument for this redis lib call");
    }
    let mut argv = Vec::with_capacity(args.len());
    for a in args {
        match a {
            Value::String(s) => argv.push(s.as_bytes().to_vec()),
            Value::Integer(i) => argv.push(i.to_string().into_bytes()),
            Value::Number(n) => {
                let mut b = [0u8; 32];
                argv.push(resp::num::fmt_g17(*n, &mut b).to_vec());
            }
            _ => return Err("Lua redis lib command arguments must be strings or integers"),
        }
    }
    Ok(argv)
}

/// An error `redis.call` raises (or `redis.pcall` returns): its text and whether the
/// error statistics already counted it.
type CallResult = mlua::Result<Result<Value, (Vec<u8>, bool)>>;

fn call_error(_lua: &Lua, text: &str, counted: bool) -> CallResult {
    Ok(Err((text.as_bytes().to_vec(), counted)))
}

/// `redis.call` / `redis.pcall`: the reply as a Lua value, or the error.
fn redis_call(lua: &Lua, ctx: &RunCtx, args: MultiValue) -> CallResult {
    let _unbounded = Unbounded::new(lua, ctx);
    let Some(server) = ctx.server() else {
        return call_error(
            lua,
            "redis.call/pcall can only be called inside a script invocation",
            false,
        );
    };
    let argv = match lua_args(&args) {
        Ok(a) => a,
        Err(e) => return call_error(lua, e, false),
    };
    drop(args);
    let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
    let key = ctx.key.get();
    let row = match check_script_call(server, ctx, key, &refs) {
        Ok(row) => row,
        Err((text, row)) => {
            // Redis's scriptCall error path: afterErrorReply counts it, the command (if
            // known) counts a rejected call; the Lua error is flagged as counted.
            server.stats.count_error(&format!("ERR {text}"));
            if let Some(row) = row {
                row.handler.bump(|s| s.rejected_calls += 1);
            }
            return call_error(lua, &text, true);
        }
    };
    if row.meta.flags & flags::WRITE != 0 {
        ctx.flags.set(ctx.flags.get() | rflags::WRITE_DIRTY);
    }
    let ops_before = server.engine.propagation.pending().len();
    let mark = server.clients[key].pending.len();
    call(server, key, row, &refs, Origin::Script);
    if ctx.repl.get() & 1 == 0 {
        server.engine.propagation.truncate(ops_before);
    }
    // The reply the runner wrote (after any pushes it spliced in for the caller).
    let c = &mut server.clients[key];
    let mut pos = mark;
    while c.pending.get(pos) == Some(&b'>') {
        if convert::skip(&c.pending, &mut pos).is_none() {
            break;
        }
    }
    let start = pos;
    if c.pending.get(start) == Some(&b'-') {
        // An error reply: the text without '-' and CRLF, already counted by the runner.
        let end = memchr::memmem::find(&c.pending[start..], b"\r\n")
            .map_or(c.pending.len(), |i| start + i);
        let text = c.pending[start..end].to_vec();
        c.pending.truncate(start);
        return Ok(Err((text, true)));
    }
    let value = convert::reply_to_lua(lua, &c.pending, &mut pos)?;
    c.pending.drain(start..pos.min(c.pending.len()));
    match value {
        Some(v) => Ok(Ok(v)),
        None => call_error(lua, "ERR reply not understood", false),
    }
}

/// Redis's `scriptCall` checks before a command runs: the row, or the error text (and the
/// row when the command is known).
fn check_script_call(
    server: &mut Server,
    ctx: &RunCtx,
    key: usize,
    args: &[&[u8]],
) -> Result<&'static Row<Cmd>, (String, Option<&'static Row<Cmd>>)> {
    let table = server.table;
    let unknown = || ("Unknown Redis command called from script".to_string(), None);
    let mut row = table.lookup(args[0]).ok_or_else(unknown)?;
    if !row.meta.subcommands.is_empty() && args.len() >= 2 {
        row = lookup_sub(table, row.meta.name, args[1]).ok_or_else(unknown)?;
    }
    let err = |t: &str| Err((t.to_string(), Some(row)));
    if !row.meta.arity_ok(args.len()) {
        return err("Wrong number of args calling Redis command from script");
    }
    if row.meta.flags & flags::NOSCRIPT != 0 {
        return err("This Redis command is not allowed from script");
    }
    if let Some(text) = crate::features::acl::script_denied(server, key, row, args) {
        return err(text);
    }
    let f = row.meta.flags;
    let run = ctx.flags.get();
    if run & rflags::READ_ONLY != 0 && f & (flags::WRITE | flags::MAY_REPLICATE) != 0 {
        return err("Write commands are not allowed from read-only scripts.");
    }
    // A read-only replica (scripts never run as its master: it sends their effects).
    if f & flags::WRITE != 0 && server.master.is_some() && server.config.compat.replica_read_only {
        return err("-READONLY You can't write against a read only replica.");
    }
    if f & flags::WRITE != 0 && run & rflags::WRITE_DIRTY == 0 {
        let denied = crate::features::persistence::writes_denied(server)
            .map(|s| s.to_string())
            .or_else(|| crate::features::aof::write_denied_text(server));
        if let Some(text) = denied {
            return Err((format!("-{text}"), Some(row)));
        }
        if crate::features::replication::too_few_replicas(server) {
            return err("-NOREPLICAS Not enough good replicas to write.");
        }
    }
    if run & (rflags::ALLOW_OOM | rflags::WRITE_DIRTY) == 0
        && server.config.maxmemory != 0
        && server.oom_at_gate
        && f & flags::DENYOOM != 0
    {
        return Err((format!("-{}", crate::features::memory::OOM_TEXT), Some(row)));
    }
    Ok(row)
}

/// `redis.acl_check_cmd(cmd, ...)`: whether the caller's user may run it.
fn acl_check_cmd(lua: &Lua, ctx: &RunCtx, args: MultiValue) -> CallResult {
    let Some(server) = ctx.server() else {
        return call_error(
            lua,
            "redis.acl_check_cmd can only be called inside a script invocation",
            false,
        );
    };
    let argv = match lua_args(&args) {
        Ok(a) => a,
        Err(e) => return call_error(lua, e, false),
    };
    let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
    let table = server.table;
    let mut row = table.lookup(refs[0]);
    if let Some(r) = row
        && !r.meta.subcommands.is_empty()
        && refs.len() >= 2
    {
        row = lookup_sub(table, r.meta.name, refs[1]);
    }
    let Some(row) = row.filter(|r| r.meta.arity_ok(refs.len())) else {
        return call_error(
            lua,
            "Invalid command passed to redis.acl_check_cmd()",
            false,
        );
    };
    let ok = crate::features::acl::permitted(server, ctx.key.get(), row, &refs);
    Ok(Ok(Value::Boolean(ok)))
}

/// An EVAL script in the cache.
struct EvalScript {
    func: Function,
    flags: u32,
}

/// The scripting state the server keeps.
pub struct Scripting {
    pub ctx: Rc<RunCtx>,
    eval: LuaEnv,
    scripts: HashMap<[u8; 40], EvalScript, ahash::RandomState>,
    /// Bytes of the cached scripts' bodies (INFO `used_memory_scripts_eval`).
    pub scripts_bytes: usize,
    pub functions: function::Functions,
    gc_count: u32,
}

impl Scripting {
    pub fn new() -> Scripting {
        let ctx = Rc::new(RunCtx::default());
        let eval = LuaEnv::new(&ctx, false).expect("the Lua sandbox builds");
        let functions = function::Functions::new(&ctx);
        Scripting {
            ctx,
            eval,
            scripts: HashMap::default(),
            scripts_bytes: 0,
            functions,
            gc_count: 0,
        }
    }

    /// A cached script's declared flags, by its lower-case hex SHA-1.
    pub fn script_flags(&self, sha: &[u8]) -> Option<u32> {
        let key: &[u8; 40] = sha.try_into().ok()?;
        self.scripts.get(key).map(|s| s.flags)
    }

    pub fn cached_scripts(&self) -> usize {
        self.scripts.len()
    }

    /// Bytes the EVAL Lua state uses (INFO `used_memory_lua`).
    pub fn eval_memory(&self) -> usize {
        self.eval.lua.used_memory()
    }

    /// Whether a script or function runs now.
    pub fn busy(&self) -> bool {
        self.ctx.running()
    }

    /// SCRIPT FLUSH: a new Lua state; the old one and every cached script are freed.
    fn flush(&mut self) {
        self.scripts = HashMap::default();
        self.scripts_bytes = 0;
        self.eval = LuaEnv::new(&self.ctx, false).expect("the Lua sandbox builds");
    }
}

impl Default for Scripting {
    fn default() -> Self {
        Scripting::new()
    }
}

/// The flags a command that runs a script really has (Redis's `getCommandFlags` with
/// `scriptFlagsToCmdFlags`): when the script declared flags (a shebang, a function's
/// registration), they replace the command's `stale`, `denyoom`, `write` and
/// `may_replicate`; otherwise (no declared flags, an unknown script) `base` stands. The
/// gate decides OOM, disk errors, NOREPLICAS, READONLY and MASTERDOWN on these.
pub fn command_flags(server: &Server, name: &str, args: &[&[u8]], base: u64) -> u64 {
    use engine::commands::table::flags as cf;
    let declared = match name {
        "eval" | "eval_ro" => {
            let sha = sha1_hex(args[1]);
            match server.scripting.script_flags(sha.as_bytes()) {
                Some(f) => Some(f),
                None => shebang(args[1]).ok().map(|(f, _)| f),
            }
        }
        "evalsha" | "evalsha_ro" => {
            let sha = args[1].to_ascii_lowercase();
            server.scripting.script_flags(&sha)
        }
        "fcall" | "fcall_ro" => server.scripting.functions.flags_of(args[1]),
        _ => None,
    };
    let Some(sf) = declared.filter(|f| f & sflags::EVAL_COMPAT_MODE == 0) else {
        return base;
    };
    let mut f = base & !(cf::STALE | cf::DENYOOM | cf::WRITE | cf::MAY_REPLICATE);
    if sf & (sflags::ALLOW_OOM | sflags::NO_WRITES) == 0 {
        f |= cf::DENYOOM;
    }
    if sf & sflags::NO_WRITES == 0 {
        f |= cf::WRITE;
    }
    if sf & sflags::ALLOW_STALE != 0 {
        f |= cf::STALE;
    }
    f
}

/// Parses a `#!lua flags=a,b` shebang (Redis's `evalExtractShebangFlags`): the flags and
/// the shebang's length (the body compiles from its newline on, keeping line numbers).
/// Without a shebang: `EVAL_COMPAT_MODE`.
pub fn shebang(body: &[u8]) -> Result<(u32, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((sflags::EVAL_COMPAT_MODE, 0));
    }
    let len = memchr::memchr(b'\n', body).unwrap_or(body.len());
    let line = String::from_utf8_lossy(&body[..len]);
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or("#!");
    if engine != "#!lua" {
        return Err(format!("ERR Unexpected engine in script shebang: {engine}"));
    }
    let mut fl = 0;
    for p in parts {
        let Some(list) = p.strip_prefix("flags=") else {
            return Err(format!("ERR Unknown lua shebang option: {p}"));
        };
        for name in list.split(',').filter(|n| !n.is_empty()) {
            match sflags::NAMES.iter().find(|(n, _)| *n == name) {
                Some((_, b)) => fl |= b,
                None => {
                    return Err(format!("ERR Unexpected flag in script shebang: {name}"));
                }
            }
        }
    }
    Ok((fl, len))
}

/// Compiles and caches an EVAL script (Redis's `luaCreateFunction`); returns its sha.
fn load_script(server: &mut Server, body: &[u8]) -> Result<[u8; 40], CmdError> {
    let sha = sha_bytes(&sha1_hex(body));
    if server.scripting.scripts.contains_key(&sha) {
        return Ok(sha);
    }
    let (flags, skip) = shebang(body).map_err(CmdError::Owned)?;
    let func = server
        .scripting
        .eval
        .compile(&body[skip..], "@user_script")
        .map_err(|e| CmdError::Owned(format!("ERR Error compiling script (new function): {e}")))?;
    server.scripting.scripts_bytes += body.len();
    server
        .scripting
        .scripts
        .insert(sha, EvalScript { func, flags });
    Ok(sha)
}

fn sha_bytes(s: &str) -> [u8; 40] {
    let mut out = [0u8; 40];
    out.copy_from_slice(&s.as_bytes()[..40]);
    out
}

pub const COMMANDS: &[(&str, gate::SrvFn)] = &[
    ("eval", eval),
    ("evalsha", evalsha),
    ("eval_ro", eval_ro),
    ("evalsha_ro", evalsha_ro),
    ("script", script),
    ("fcall", function::fcall),
    ("fcall_ro", function::fcall_ro),
    ("function", function::function),
];

/// # Format
/// `EVAL script numkeys [key ...] [arg ...]`
fn eval(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    eval_generic(server, key, args, false, false)
}

/// # Format
/// `EVALSHA sha1 numkeys [key ...] [arg ...]`
fn evalsha(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    eval_generic(server, key, args, true, false)
}

/// # Format
/// `EVAL_RO script numkeys [key ...] [arg ...]`
fn eval_ro(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    eval_generic(server, key, args, false, true)
}

/// # Format
/// `EVALSHA_RO sha1 numkeys [key ...] [arg ...]`
fn evalsha_ro(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    eval_generic(server, key, args, true, true)
}

/// The numkeys argument (Redis's `evalGetKeys` checks).
pub fn numkeys(args: &[&[u8]]) -> Result<usize, CmdError> {
    let n = engine::util::parse_i64(args[2])?;
    if n > args.len() as i64 - 3 {
        return Err(CmdError::Static(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    if n < 0 {
        return Err(CmdError::Static("ERR Number of keys can't be negative"));
    }
    Ok(n as usize)
}

const NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";

fn eval_generic(
    server: &mut Server,
    key: usize,
    args: &[&[u8]],
    by_sha: bool,
    ro: bool,
) -> CmdResult {
    feed_monitors(server, key, args);
    let nkeys = numkeys(args)?;
    let sha = if by_sha {
        if args[1].len() != 40 {
            return Err(CmdError::Static(NOSCRIPT));
        }
        let mut sha = [0u8; 40];
        for (d, s) in sha.iter_mut().zip(args[1]) {
            *d = s.to_ascii_lowercase();
        }
        sha
    } else {
        load_script(server, args[1])?
    };
    let Some(script) = server.scripting.scripts.get(&sha) else {
        return Err(CmdError::Static(NOSCRIPT));
    };
    let (func, flags) = (script.func.clone(), script.flags);
    let env = Env {
        runner: server.scripting.eval.runner.clone(),
        backing: Some(server.scripting.eval.backing.clone()),
        lua: server.scripting.eval.lua.clone(),
    };
    // Hex digits: always UTF-8.
    let name = std::str::from_utf8(&sha).unwrap_or_default();
    let keys = &args[3..3 + nkeys];
    let argv = &args[3 + nkeys..];
    run(
        server, key, args, &env, &func, name, flags, ro, keys, argv, false,
    )?;
    server.scripting.gc_count += 1;
    if server.scripting.gc_count >= 50 {
        server.scripting.gc_count = 0;
        let _ = server.scripting.eval.lua.gc_step();
    }
    Ok(())
}

/// What [`run`] needs of a Lua state.
pub struct Env {
    pub lua: Lua,
    pub runner: Function,
    /// Where EVAL's KEYS/ARGV globals go (None for functions, which get them as arguments).
    pub backing: Option<Table>,
}

/// MONITOR shows EVAL/FCALL as they start, before their checks and before the commands
/// they run (their rows are `skip_monitor`, so the runner does not show them after).
pub(crate) fn feed_monitors(server: &mut Server, key: usize, args: &[&[u8]]) {
    if !server.monitors.is_empty()
        && let Some(row) = server.table.lookup(args[0])
    {
        crate::features::monitor::feed_now(server, key, row, args, false);
    }
}

/// Redis's `scriptPrepareForRun` refusals for a script with flags (not compat mode).
fn prepare_refusal(server: &mut Server, flags: u32, ro: bool) -> Option<String> {
    if flags & sflags::EVAL_COMPAT_MODE != 0 {
        return None;
    }
    let replica = server.master.is_some();
    if replica
        && flags & sflags::ALLOW_STALE == 0
        && !server.config.compat.replica_serve_stale_data
        && !crate::features::replication::replica::streaming(server)
    {
        return Some(
            "MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set"
                .into(),
        );
    }
    if flags & sflags::NO_WRITES == 0 {
        if replica && server.config.compat.replica_read_only {
            return Some("READONLY Can not run script with write flag on readonly replica".into());
        }
        if let Some(t) = crate::features::persistence::writes_denied(server) {
            let _ = t;
            return Some(
                "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts."
                    .into(),
            );
        }
        if let Some(t) = crate::features::aof::write_denied_text(server) {
            return Some(t);
        }
        if ro {
            return Some("ERR Can not execute a script with write flag using *_ro command.".into());
        }
        if crate::features::replication::too_few_replicas(server) {
            return Some("NOREPLICAS Not enough good replicas to write.".into());
        }
    }
    if flags & (sflags::ALLOW_OOM | sflags::NO_WRITES) == 0
        && server.config.maxmemory != 0
        && server.oom_at_gate
    {
        return Some(
            "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'"
                .into(),
        );
    }
    None
}

/// Runs a compiled script or function for client `key` (see the module doc) and writes its
/// reply. `name` is what error texts call it (the sha, or the function's name).
#[allow(clippy::too_many_arguments)]
pub fn run(
    server: &mut Server,
    key: usize,
    args: &[&[u8]],
    env: &Env,
    func: &Function,
    name: &str,
    flags: u32,
    ro: bool,
    keys: &[&[u8]],
    argv: &[&[u8]],
    is_function: bool,
) -> CmdResult {
    if let Some(text) = prepare_refusal(server, flags, ro) {
        return Err(CmdError::Owned(text));
    }
    let ctx = server.scripting.ctx.clone();
    let mut rf = 0;
    if ro || (flags & sflags::EVAL_COMPAT_MODE == 0 && flags & sflags::NO_WRITES != 0) {
        rf |= rflags::READ_ONLY;
    }
    if flags & sflags::EVAL_COMPAT_MODE == 0 && flags & sflags::ALLOW_OOM != 0 {
        rf |= rflags::ALLOW_OOM;
    }
    ctx.flags.set(rf);
    ctx.resp3.set(false);
    ctx.repl.set(3);
    ctx.key.set(key);
    ctx.kill.set(false);
    ctx.timed_out.set(false);
    ctx.is_function.set(is_function);
    if is_function {
        name.clone_into(&mut ctx.name.borrow_mut());
    }
    ctx.command.set((args.as_ptr() as usize, args.len()));
    ctx.start.set(Some(Instant::now()));
    // The script's session: RESP2, no blocking, the caller's db; time frozen.
    let c = &mut server.clients[key];
    let saved_proto = std::mem::replace(&mut c.session.proto, Proto::Resp2);
    let saved_block = std::mem::replace(&mut c.session.no_block, true);
    let saved_db = c.session.db;
    let saved_last = c.last_cmd;
    let saved_time = server.engine.fixed_now_ms;
    if saved_time.is_none() {
        server.engine.fixed_now_ms = Some(server.engine.clock.now_ms());
    }
    let lua = &env.lua;
    ctx.limit.set(memory_limit(server));
    let result = (|| -> mlua::Result<MultiValue> {
        let mk = |items: &[&[u8]]| -> mlua::Result<Table> {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, a) in items.iter().enumerate() {
                t.raw_set(i + 1, lua.create_string(a)?)?;
            }
            Ok(t)
        };
        let k = mk(keys)?;
        let a = mk(argv)?;
        ctx.server.set(Some(std::ptr::NonNull::from(&mut *server)));
        if let Some(b) = &env.backing {
            b.raw_set("KEYS", k.clone())?;
            b.raw_set("ARGV", a.clone())?;
        }
        // The bound holds while Lua code runs (see [`Unbounded`]).
        let _ = lua.set_memory_limit(ctx.limit.get());
        let r = match &env.backing {
            Some(_) => env
                .runner
                .call::<MultiValue>((func.clone(), Value::Nil, Value::Nil)),
            None => env.runner.call::<MultiValue>((func.clone(), k, a)),
        };
        let _ = lua.set_memory_limit(0);
        ctx.server.set(None);
        r
    })();
    ctx.server.set(None);
    ctx.command.set((0, 0));
    if ctx.kill.get() {
        // A kill switched the hook to every line; back to the count hook.
        install_hook(lua, &ctx);
    }
    ctx.start.set(None);
    let resp3 = ctx.resp3.get();
    server.engine.fixed_now_ms = saved_time;
    let c = &mut server.clients[key];
    c.session.proto = saved_proto;
    c.session.no_block = saved_block;
    c.session.db = saved_db;
    c.last_cmd = saved_last;
    // EVAL itself is never propagated: its commands' effects are (the runner wraps them).
    server.engine.propagation.prevent();
    let values = match result {
        Ok(v) => v,
        Err(e) => {
            let msg = match &e {
                mlua::Error::MemoryError(_) => "not enough memory".to_string(),
                e => e.to_string(),
            };
            return Err(CmdError::Owned(format!(
                "ERR Error running script {name}, {:.100}",
                msg
            )));
        }
    };
    let mut it = values.into_iter();
    let ok = matches!(it.next(), Some(Value::Boolean(true)));
    let v = it.next().unwrap_or(Value::Nil);
    if !ok {
        let (text, already_counted) = script_error(&v, name);
        if already_counted {
            uncounted_error(server, key, &text);
            return Ok(());
        }
        return Err(CmdError::Owned(text));
    }
    let mut counted = Vec::new();
    let c = &mut server.clients[key];
    let proto = c.session.proto;
    let mark = c.pending.len();
    let outcome = {
        let mut out = resp::Reply::new(&mut c.pending, proto);
        let mut count = |t: &[u8]| counted.push(String::from_utf8_lossy(t).into_owned());
        convert::lua_to_reply(&v, &mut out, resp3, true, &mut count, 0)
    };
    // Error replies nested in the result are counted, and fail the call (Redis counts a
    // command failed when error replies were added while it ran).
    if !counted.is_empty() {
        server.failed_uncounted = true;
    }
    for t in counted {
        server.stats.count_error(&t);
    }
    match outcome {
        Ok(convert::Outcome::Written) => Ok(()),
        Ok(convert::Outcome::Error(text, already)) => {
            let text = String::from_utf8_lossy(&text).into_owned();
            if already {
                uncounted_error(server, key, &text);
                Ok(())
            } else {
                Err(CmdError::Owned(text))
            }
        }
        Err(e) => {
            server.clients[key].pending.truncate(mark);
            Err(CmdError::Owned(format!(
                "ERR Error running script {name}, {:.100}",
                e.to_string()
            )))
        }
    }
}

/// An error reply that is not counted again in the error statistics (the command inside
/// the script already was), though the script's command counts as failed (Redis's
/// `ERR_REPLY_FLAG_NO_STATS_UPDATE`).
fn uncounted_error(server: &mut Server, key: usize, text: &str) {
    server.failed_uncounted = true;
    reply(server, key).error(text);
}

/// The reply for a script that raised (Redis's `luaCallFunction` error path).
/// Returns the text and whether it was already counted in the error statistics.
fn script_error(v: &Value, name: &str) -> (String, bool) {
    let Value::Table(t) = v else {
        let msg = match v {
            Value::String(s) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
            _ => "execution failure".into(),
        };
        return (
            format!("ERR Error running script {name}, {msg:.100}"),
            false,
        );
    };
    let get = |f: &str| -> Option<String> {
        match t.raw_get::<Value>(f).ok()? {
            Value::String(s) => Some(String::from_utf8_lossy(&s.as_bytes()).into_owned()),
            Value::Integer(i) => Some(i.to_string()),
            Value::Number(n) => Some(libs::fmt_g14(n)),
            _ => None,
        }
    };
    let msg = get("err").unwrap_or_default();
    let mut text = msg;
    if let (Some(src), Some(line)) = (get("source"), get("line")) {
        text = format!("{text} script: {name}, on {src}:{line}.");
    }
    let ignore = matches!(
        t.raw_get::<Value>("ignore_error_stats_update"),
        Ok(Value::Boolean(true))
    );
    let text: String = text
        .trim_end_matches(['\r', '\n'])
        .chars()
        .map(|ch| if ch == '\r' || ch == '\n' { ' ' } else { ch })
        .collect();
    (text, ignore)
}

/// The Lua hook every 100000 instructions, installed once per state (not per call): past
/// `busy-reply-threshold` the server serves other clients from inside it (see [`busy`]);
/// a SCRIPT KILL ends the script.
pub(crate) fn install_hook(lua: &Lua, ctx: &Rc<RunCtx>) {
    let c = ctx.clone();
    let _ = lua.set_hook(
        mlua::HookTriggers::new().every_nth_instruction(100_000),
        move |lua, _| {
            if c.kill.get() {
                // Fire on every line from now on, so pcall cannot keep the script alive.
                let c2 = c.clone();
                let _ = lua.set_hook(mlua::HookTriggers::new().every_line(), move |_, _| {
                    let _ = &c2;
                    Err(raise_table(
                        b"Script killed by user with SCRIPT KILL...",
                        false,
                    ))
                });
                return Err(raise_table(
                    b"Script killed by user with SCRIPT KILL...",
                    false,
                ));
            }
            if let Some(server) = c.server()
                && server.config.compat.busy_reply_threshold > 0
            {
                busy::hook(server, &c);
            }
            if c.kill.get() {
                return Err(raise_table(
                    b"Script killed by user with SCRIPT KILL...",
                    false,
                ));
            }
            Ok(mlua::VmState::Continue)
        },
    );
}

pub mod busy;

/// # Format
/// `SCRIPT LOAD|EXISTS|FLUSH|KILL|HELP ...`
fn script(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let sub = args[1].to_ascii_lowercase();
    match sub.as_slice() {
        b"load" => {
            let sha = load_script(server, args[2])?;
            reply(server, key).bulk(&sha);
        }
        b"exists" => {
            let found: Vec<bool> = args[2..]
                .iter()
                .map(|a| {
                    a.len() == 40 && {
                        let mut sha = [0u8; 40];
                        for (d, s) in sha.iter_mut().zip(a.iter()) {
                            *d = s.to_ascii_lowercase();
                        }
                        server.scripting.scripts.contains_key(&sha)
                    }
                })
                .collect();
            let mut r = reply(server, key);
            r.array(found.len());
            for f in found {
                r.int(f as i64);
            }
        }
        b"flush" => {
            if !flush_mode_ok(args) {
                return Err(CmdError::Static(
                    "ERR SCRIPT FLUSH only support SYNC|ASYNC option",
                ));
            }
            server.scripting.flush();
            reply(server, key).ok();
        }
        b"kill" => return busy::script_kill(server, key, false),
        b"debug" => {
            // As Redis: refused while output is not yet sent (a pipeline's or EXEC's
            // earlier replies).
            if !server.clients[key].pending.is_empty() {
                return Err(CmdError::Static(
                    "ERR SCRIPT DEBUG must be called outside a pipeline",
                ));
            }
            let mode = args[2];
            if engine::util::eq_ic(mode, "no") {
                reply(server, key).ok();
            } else if engine::util::eq_ic(mode, "yes") || engine::util::eq_ic(mode, "sync") {
                // The Lua debugger (LDB) is not built: refused rather than accepted and
                // ignored, so `redis-cli --ldb` stops with this message.
                return Err(CmdError::Static(
                    "ERR ringkv does not implement the Lua debugger: SCRIPT DEBUG YES and \
                     SYNC are not supported (SCRIPT DEBUG NO is)",
                ));
            } else {
                return Err(CmdError::Static("ERR Use SCRIPT DEBUG YES/SYNC/NO"));
            }
        }
        b"help" => {
            let lines: &[&str] = &[
                "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "DEBUG (YES|SYNC|NO)",
                "    Set the debug mode for subsequent scripts executed.",
                "EXISTS <sha1> [<sha1> ...]",
                "    Return information about the existence of the scripts in the script cache.",
                "FLUSH [ASYNC|SYNC]",
                "    Flush the Lua scripts cache. Very dangerous on replicas.",
                "    When called without the optional mode argument, the behavior is determined by the",
                "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
                "    * ASYNC: Asynchronously flush the scripts cache.",
                "    * SYNC: Synchronously flush the scripts cache.",
                "KILL",
                "    Kill the currently executing Lua script.",
                "LOAD <script>",
                "    Load a script into the scripts cache without executing it.",
                "HELP",
                "    Prints this help.",
            ];
            help(server, key, lines);
        }
        _ => return Err(CmdError::unknown_subcommand("script", args[1])),
    }
    Ok(())
}

/// SCRIPT FLUSH / FUNCTION FLUSH `[ASYNC|SYNC]`: at most that one option.
pub(crate) fn flush_mode_ok(args: &[&[u8]]) -> bool {
    match args.get(2) {
        None => true,
        Some(m) => {
            args.len() == 3 && (engine::util::eq_ic(m, "sync") || engine::util::eq_ic(m, "async"))
        }
    }
}

pub(crate) fn help(server: &mut Server, key: usize, lines: &[&str]) {
    let mut r = reply(server, key);
    r.array(lines.len());
    for l in lines {
        r.simple(l.as_bytes());
    }
}

/// The `script` Rust helper used by tests: the Lua error text a raised value gives.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebang_flags_and_errors() {
        assert_eq!(shebang(b"return 1").unwrap(), (sflags::EVAL_COMPAT_MODE, 0));
        assert_eq!(
            shebang(b"#!lua flags=no-writes,allow-oom\nreturn 1").unwrap(),
            (sflags::NO_WRITES | sflags::ALLOW_OOM, 31)
        );
        assert_eq!(shebang(b"#!lua\nreturn 1").unwrap(), (0, 5));
        assert!(
            shebang(b"#!py\n")
                .unwrap_err()
                .contains("engine in script shebang: #!py")
        );
        assert!(
            shebang(b"#!lua x=1\n")
                .unwrap_err()
                .contains("Unknown lua shebang option: x=1")
        );
        assert!(
            shebang(b"#!lua flags=bad\n")
                .unwrap_err()
                .contains("flag in script shebang: bad")
        );
    }
}
