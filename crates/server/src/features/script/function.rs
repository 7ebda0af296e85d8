//! FUNCTION and FCALL (Redis 7.0's functions.c / function_lua.c).
//!
//! One Lua state holds every library ([`Functions::env`]); a library is its code (with the
//! `#!lua name=…` line) and the functions its top level registered with
//! `redis.register_function` while the globals were switched to the loading API (only
//! `redis.register_function`, `redis.log` and the version; anything else is a nonexistent
//! global). A load is all or nothing: name checks, collisions with other libraries'
//! functions and a 500 ms budget for the top level (Redis's `FUNCTION LOAD timeout`) are
//! decided before anything is linked. FCALL runs a function through [`super::run`] with
//! KEYS and ARGV as its two arguments; errors name the function and `@user_function`.
//!
//! FUNCTION DUMP / RESTORE use Redis's payload: per library the RDB `FUNCTION2` opcode and
//! the code as an RDB string, then the RDB version (2 bytes LE) and the CRC-64 (8 bytes LE).
//! Libraries are not saved in RDB files (refused there, see persist).

use super::{Env, LuaEnv, RunCtx, sflags};
use crate::dispatch::gate::reply;
use crate::server::Server;
use engine::{CmdError, CmdResult};
use mlua::{Function, Lua, MultiValue, Table, Value};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// A registered function.
pub struct FunctionDef {
    pub name: String,
    func: Function,
    pub flags: u32,
    pub desc: Option<Vec<u8>>,
}

/// What `redis.register_function` collects while a library loads.
#[derive(Default)]
pub struct Loading {
    fns: Vec<FunctionDef>,
}

pub struct Library {
    pub name: String,
    /// The whole code, shebang included (FUNCTION LIST WITHCODE, DUMP).
    pub code: Vec<u8>,
    pub fns: Vec<FunctionDef>,
}

pub struct Functions {
    ctx: Rc<RunCtx>,
    env: LuaEnv,
    pub libs: Vec<Library>,
    /// Function name (lower case: Redis's dict compares them case-insensitively) →
    /// (library, function) indexes into `libs`.
    index: HashMap<String, (usize, usize)>,
}

impl Functions {
    pub fn new(ctx: &Rc<RunCtx>) -> Functions {
        Functions {
            ctx: ctx.clone(),
            env: LuaEnv::new(ctx, true).expect("the Lua sandbox builds"),
            libs: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// A function's registered flags (names compare case-insensitively).
    pub fn flags_of(&self, name: &[u8]) -> Option<u32> {
        let name = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
        let &(li, fi) = self.index.get(&name)?;
        Some(self.libs[li].fns[fi].flags)
    }

    pub fn function_count(&self) -> usize {
        self.index.len()
    }

    /// Bytes the functions' Lua state uses (INFO `used_memory_vm_functions`).
    pub fn memory(&self) -> usize {
        self.env.lua.used_memory()
    }

    /// Bytes of the libraries' code (INFO `used_memory_functions`, approximately).
    pub fn code_bytes(&self) -> usize {
        self.libs.iter().map(|l| l.code.len()).sum()
    }

    fn reindex(&mut self) {
        self.index.clear();
        for (li, l) in self.libs.iter().enumerate() {
            for (fi, f) in l.fns.iter().enumerate() {
                self.index.insert(f.name.to_ascii_lowercase(), (li, fi));
            }
        }
    }

    /// FUNCTION FLUSH: a new Lua state; every library freed.
    pub fn flush(&mut self) {
        self.libs.clear();
        self.index.clear();
        self.env = LuaEnv::new(&self.ctx, true).expect("the Lua sandbox builds");
    }

    /// Compiles and runs a library's code (Redis's `functionsCreateWithLibraryCtx` up to
    /// the collision check): the library, or the error text.
    fn create(&self, code: &[u8]) -> Result<Library, String> {
        let (engine, name, body) = metadata(code)?;
        if !valid_name(&name) {
            return Err(
                "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"
                    .into(),
            );
        }
        if !engine.eq_ignore_ascii_case("lua") {
            return Err(format!("ERR Engine '{engine}' not found"));
        }
        let func = self
            .env
            .compile(body, "@user_function")
            .map_err(|e| format!("ERR Error compiling function: {e}"))?;
        *self.ctx.loading.borrow_mut() = Some(Loading::default());
        let start = Instant::now();
        let lua = &self.env.lua;
        let c = self.ctx.clone();
        let _ = lua.set_hook(
            mlua::HookTriggers::new().every_nth_instruction(100_000),
            move |_, _| {
                let _ = &c;
                if start.elapsed() > Duration::from_millis(500) {
                    return Err(super::raise_table(b"FUNCTION LOAD timeout", false));
                }
                Ok(mlua::VmState::Continue)
            },
        );
        let r = (|| -> mlua::Result<(bool, Value)> {
            self.env.set_loading.call::<()>(true)?;
            let _ = lua.set_memory_limit(super::LUA_MEMORY_LIMIT);
            let r = self.env.load_run.call::<(bool, Value)>(func);
            let _ = lua.set_memory_limit(0);
            self.env.set_loading.call::<()>(false)?;
            r
        })();
        super::install_hook(lua, &self.ctx);
        let loading = self.ctx.loading.borrow_mut().take().unwrap_or_default();
        let msg = match r {
            Ok((true, _)) => None,
            Ok((false, Value::Table(t))) => Some(match t.raw_get::<Value>("err") {
                Ok(Value::String(s)) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
                _ => "ERR unknown error".into(),
            }),
            Ok((false, Value::String(s))) => {
                Some(format!("ERR {}", String::from_utf8_lossy(&s.as_bytes())))
            }
            Ok((false, _)) => Some("ERR unknown error".into()),
            Err(e) => Some(format!("ERR {e}")),
        };
        if let Some(m) = msg {
            return Err(format!("ERR Error registering functions: {m}"));
        }
        if loading.fns.is_empty() {
            return Err("ERR No functions registered".into());
        }
        Ok(Library {
            name,
            code: code.to_vec(),
            fns: loading.fns,
        })
    }

    /// Adds `libs` (Redis's `libraryJoin`): with `replace`, a library of the same name is
    /// replaced; any other collision (library, or a function of another library) refuses
    /// the whole set.
    fn join(&mut self, new: Vec<Library>, replace: bool) -> Result<(), String> {
        let replaced: Vec<usize> = new
            .iter()
            .filter_map(|l| self.libs.iter().position(|o| o.name == l.name))
            .collect();
        if !replace && let Some(&i) = replaced.first() {
            return Err(format!("ERR Library {} already exists", self.libs[i].name));
        }
        for l in &new {
            for f in &l.fns {
                if let Some(&(li, _)) = self.index.get(&f.name.to_ascii_lowercase())
                    && !replaced.contains(&li)
                {
                    return Err(format!("ERR Function {} already exists", f.name));
                }
            }
        }
        let mut i = 0;
        self.libs.retain(|_| {
            let keep = !replaced.contains(&i);
            i += 1;
            keep
        });
        self.libs.extend(new);
        self.reindex();
        Ok(())
    }
}

/// `#!<engine> name=<name>` (Redis's `functionExtractLibMetaData`): engine, name, and the
/// code from the shebang's newline on (line numbers kept).
fn metadata(code: &[u8]) -> Result<(String, String, &[u8]), String> {
    if !code.starts_with(b"#!") {
        return Err("ERR Missing library metadata".into());
    }
    let Some(nl) = memchr::memchr(b'\n', code) else {
        return Err("ERR Invalid library metadata".into());
    };
    let line = String::from_utf8_lossy(&code[..nl]);
    let mut parts = line.split_ascii_whitespace();
    let Some(first) = parts.next() else {
        return Err("ERR Invalid library metadata".into());
    };
    let engine = first[2..].to_string();
    let mut name = None;
    for p in parts {
        if p.len() >= 5 && p[..5].eq_ignore_ascii_case("name=") {
            if name.is_some() {
                return Err(
                    "ERR Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(p[5..].to_string());
            continue;
        }
        return Err(format!("ERR Invalid metadata value given: {p}"));
    }
    let Some(name) = name else {
        return Err("ERR Library name was not given".into());
    };
    Ok((engine, name, &code[nl..]))
}

/// Letters, digits and `_`, at least one (Redis's `functionsVerifyName`).
fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn reg_err(text: &str) -> mlua::Error {
    super::raise_table(text.as_bytes(), false)
}

/// `redis.register_function(name, callback)` or `redis.register_function{function_name=…,
/// callback=…, flags={…}, description=…}` while a library loads.
fn register_function(ctx: &RunCtx, args: MultiValue) -> mlua::Result<()> {
    let mut loading = ctx.loading.borrow_mut();
    let Some(loading) = loading.as_mut() else {
        return Err(reg_err(
            "redis.register_function can only be called on FUNCTION LOAD command",
        ));
    };
    if args.is_empty() || args.len() > 2 {
        return Err(reg_err(
            "wrong number of arguments to redis.register_function",
        ));
    }
    let as_string = |v: &Value| -> Option<Vec<u8>> {
        match v {
            Value::String(s) => Some(s.as_bytes().to_vec()),
            Value::Integer(_) | Value::Number(_) => {
                Some(super::libs::fmt_g14(super::libs::to_number(v)?).into_bytes())
            }
            _ => None,
        }
    };
    let (name, func, flags, desc) = if args.len() == 1 {
        let Value::Table(t) = &args[0] else {
            return Err(reg_err(
                "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).",
            ));
        };
        let (mut name, mut func, mut flags, mut desc) = (None, None, 0, None);
        for pair in t.pairs::<Value, Value>() {
            let (k, v) = pair?;
            let Some(k) = as_string(&k) else {
                return Err(reg_err(
                    "named argument key given to redis.register_function is not a string",
                ));
            };
            let k = String::from_utf8_lossy(&k).to_ascii_lowercase();
            match k.as_str() {
                "function_name" => {
                    name = Some(as_string(&v).ok_or_else(|| {
                        reg_err(
                            "function_name argument given to redis.register_function must be a string",
                        )
                    })?);
                }
                "description" => {
                    desc = Some(as_string(&v).ok_or_else(|| {
                        reg_err(
                            "description argument given to redis.register_function must be a string",
                        )
                    })?);
                }
                "callback" => {
                    let Value::Function(f) = v else {
                        return Err(reg_err(
                            "callback argument given to redis.register_function must be a function",
                        ));
                    };
                    func = Some(f);
                }
                "flags" => {
                    let Value::Table(ft) = v else {
                        return Err(reg_err(
                            "flags argument to redis.register_function must be a table representing function flags",
                        ));
                    };
                    for fv in ft.sequence_values::<Value>() {
                        let bit = as_string(&fv?).and_then(|n| {
                            sflags::NAMES
                                .iter()
                                .find(|(name, _)| name.as_bytes() == n.as_slice())
                                .map(|&(_, b)| b)
                        });
                        match bit {
                            Some(b) => flags |= b,
                            None => return Err(reg_err("unknown flag given")),
                        }
                    }
                }
                _ => {
                    return Err(reg_err("unknown argument given to redis.register_function"));
                }
            }
        }
        let Some(name) = name else {
            return Err(reg_err(
                "redis.register_function must get a function name argument",
            ));
        };
        let Some(func) = func else {
            return Err(reg_err(
                "redis.register_function must get a callback argument",
            ));
        };
        (name, func, flags, desc)
    } else {
        let Some(name) = as_string(&args[0]) else {
            return Err(reg_err(
                "first argument to redis.register_function must be a string",
            ));
        };
        let Value::Function(func) = args[1].clone() else {
            return Err(reg_err(
                "second argument to redis.register_function must be a function",
            ));
        };
        (name, func, 0, None)
    };
    let name = String::from_utf8_lossy(&name).into_owned();
    if !valid_name(&name) {
        return Err(reg_err(
            "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
        ));
    }
    if loading
        .fns
        .iter()
        .any(|f| f.name.eq_ignore_ascii_case(&name))
    {
        return Err(reg_err("Function already exists in the library"));
    }
    loading.fns.push(FunctionDef {
        name,
        func,
        flags,
        desc,
    });
    Ok(())
}

pub fn register_api(lua: &Lua, raw: &Table, ctx: &Rc<RunCtx>) -> mlua::Result<()> {
    let c = ctx.clone();
    raw.set(
        "register_function",
        lua.create_function(move |_, args: MultiValue| register_function(&c, args))?,
    )?;
    Ok(())
}

/// # Format
/// `FCALL function numkeys [key ...] [arg ...]`
pub fn fcall(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    fcall_generic(server, key, args, false)
}

/// # Format
/// `FCALL_RO function numkeys [key ...] [arg ...]`
pub fn fcall_ro(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    fcall_generic(server, key, args, true)
}

fn fcall_generic(server: &mut Server, key: usize, args: &[&[u8]], ro: bool) -> CmdResult {
    super::feed_monitors(server, key, args);
    let name = String::from_utf8_lossy(args[1]).to_ascii_lowercase();
    let fs = &server.scripting.functions;
    let Some(&(li, fi)) = fs.index.get(&name) else {
        return Err(CmdError::Static("ERR Function not found"));
    };
    let nkeys = match engine::util::parse_i64(args[2]) {
        Ok(n) => n,
        Err(_) => return Err(CmdError::Static("ERR Bad number of keys provided")),
    };
    if nkeys > args.len() as i64 - 3 {
        return Err(CmdError::Static(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    if nkeys < 0 {
        return Err(CmdError::Static("ERR Number of keys can't be negative"));
    }
    let nkeys = nkeys as usize;
    let f = &fs.libs[li].fns[fi];
    let (func, flags, fname) = (f.func.clone(), f.flags, f.name.clone());
    let env = Env {
        lua: fs.env.lua.clone(),
        runner: fs.env.runner.clone(),
        backing: None,
    };
    let keys = &args[3..3 + nkeys];
    let argv = &args[3 + nkeys..];
    super::run(
        server, key, args, &env, &func, &fname, flags, ro, keys, argv, true,
    )
}

/// # Format
/// `FUNCTION LOAD|DELETE|LIST|FLUSH|DUMP|RESTORE|STATS|KILL|HELP ...`
pub fn function(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let sub = args[1].to_ascii_lowercase();
    match sub.as_slice() {
        b"load" => {
            let (replace, code) = match args.len() {
                3 => (false, args[2]),
                4 if engine::util::eq_ic(args[2], "replace") => (true, args[3]),
                4 => {
                    return Err(CmdError::Owned(format!(
                        "ERR Unknown option given: {}",
                        String::from_utf8_lossy(args[2])
                    )));
                }
                _ => return Err(CmdError::WrongArity("function|load".into())),
            };
            let fs = &mut server.scripting.functions;
            // Redis's order: metadata, name, engine, an existing library, then the code.
            let (engine, name, _) = metadata(code).map_err(CmdError::Owned)?;
            if valid_name(&name)
                && engine.eq_ignore_ascii_case("lua")
                && !replace
                && fs.libs.iter().any(|l| l.name == name)
            {
                return Err(CmdError::Owned(format!(
                    "ERR Library '{name}' already exists"
                )));
            }
            let lib = fs.create(code).map_err(CmdError::Owned)?;
            let name = lib.name.clone();
            fs.join(vec![lib], replace).map_err(CmdError::Owned)?;
            server.engine.dirty += 1;
            reply(server, key).bulk(name.as_bytes());
        }
        b"delete" => {
            let fs = &mut server.scripting.functions;
            let name = String::from_utf8_lossy(args[2]);
            let Some(i) = fs.libs.iter().position(|l| l.name == name) else {
                return Err(CmdError::Static("ERR Library not found"));
            };
            fs.libs.remove(i);
            fs.reindex();
            server.engine.dirty += 1;
            reply(server, key).ok();
        }
        b"flush" => {
            if !super::flush_mode_ok(args) {
                return Err(CmdError::Static(
                    "ERR FUNCTION FLUSH only supports SYNC|ASYNC option",
                ));
            }
            server.scripting.functions.flush();
            server.engine.dirty += 1;
            reply(server, key).ok();
        }
        b"list" => list(server, key, args)?,
        b"stats" => stats(server, key),
        b"dump" => {
            let payload = dump(server);
            reply(server, key).bulk(&payload);
        }
        b"restore" => restore(server, key, args)?,
        b"kill" => return super::busy::script_kill(server, key, true),
        b"help" => super::help(server, key, HELP),
        _ => return Err(CmdError::unknown_subcommand("function", args[1])),
    }
    Ok(())
}

const HELP: &[&str] = &[
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Prints this help.",
];

/// FUNCTION LIST [WITHCODE] [LIBRARYNAME pattern]
fn list(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 2;
    while i < args.len() {
        let a = args[i];
        if !with_code && engine::util::eq_ic(a, "withcode") {
            with_code = true;
        } else if pattern.is_none() && engine::util::eq_ic(a, "libraryname") {
            if i >= args.len() - 1 {
                return Err(CmdError::Static("ERR library name argument was not given"));
            }
            i += 1;
            pattern = Some(args[i]);
        } else {
            return Err(CmdError::Owned(format!(
                "ERR Unknown argument {}",
                String::from_utf8_lossy(a)
            )));
        }
        i += 1;
    }
    let c = &mut server.clients[key];
    let mut r = resp::Reply::new(&mut c.pending, c.session.proto);
    let libs: Vec<&Library> = server
        .scripting
        .functions
        .libs
        .iter()
        .filter(|l| pattern.is_none_or(|p| engine::glob::glob_match(p, l.name.as_bytes(), true)))
        .collect();
    r.array(libs.len());
    for l in libs {
        r.map(if with_code { 4 } else { 3 });
        r.bulk(b"library_name");
        r.bulk(l.name.as_bytes());
        r.bulk(b"engine");
        r.bulk(b"LUA");
        r.bulk(b"functions");
        r.array(l.fns.len());
        for f in &l.fns {
            r.map(3);
            r.bulk(b"name");
            r.bulk(f.name.as_bytes());
            r.bulk(b"description");
            match &f.desc {
                Some(d) => r.bulk(d),
                None => r.null(),
            }
            r.bulk(b"flags");
            let names: Vec<&str> = sflags::NAMES
                .iter()
                .filter(|(_, b)| f.flags & b != 0)
                .map(|(n, _)| *n)
                .collect();
            r.set(names.len());
            for n in names {
                r.simple(n.as_bytes());
            }
        }
        if with_code {
            r.bulk(b"library_code");
            r.bulk(&l.code);
        }
    }
    Ok(())
}

/// FUNCTION STATS (also answered while a function is busy: the running one is shown).
pub(super) fn stats(server: &mut Server, key: usize) {
    let fs = &server.scripting.functions;
    let (nlibs, nfns) = (fs.libs.len(), fs.function_count());
    let ctx = server.scripting.ctx.clone();
    let running = ctx.running() && ctx.is_function.get();
    let name = ctx.name.borrow().clone();
    let command = ctx.command();
    let ms = ctx
        .start
        .get()
        .map_or(0, |s| s.elapsed().as_millis() as i64);
    let mut r = reply(server, key);
    r.map(2);
    r.bulk(b"running_script");
    if running {
        r.map(3);
        r.bulk(b"name");
        r.bulk(name.as_bytes());
        r.bulk(b"command");
        r.array(command.len());
        for a in &command {
            r.bulk(a);
        }
        r.bulk(b"duration_ms");
        r.int(ms);
    } else {
        r.null();
    }
    r.bulk(b"engines");
    r.map(1);
    r.bulk(b"LUA");
    r.map(2);
    r.bulk(b"libraries_count");
    r.int(nlibs as i64);
    r.bulk(b"functions_count");
    r.int(nfns as i64);
}

/// Every library's code, for RDB files and the AOF rewrite (which store them as Redis
/// does: `FUNCTION2` records, `FUNCTION LOAD` commands).
pub fn library_codes(server: &Server) -> Vec<Vec<u8>> {
    server
        .scripting
        .functions
        .libs
        .iter()
        .map(|l| l.code.clone())
        .collect()
}

/// Installs the libraries an RDB image held (start-up, DEBUG RELOAD, a replica's full
/// sync): with `replace_all` the current ones go first (the image is the whole state);
/// otherwise a library of the same name is replaced. An invalid library is an error, as
/// it fails Redis's load.
pub fn install_loaded(
    server: &mut Server,
    codes: Vec<Vec<u8>>,
    replace_all: bool,
) -> Result<(), String> {
    if replace_all {
        server.scripting.functions.flush();
    }
    for code in codes {
        let lib = server.scripting.functions.create(&code)?;
        let f = &mut server.scripting.functions;
        f.libs.retain(|l| l.name != lib.name);
        if let Some(clash) = lib.fns.iter().find(|n| {
            f.libs
                .iter()
                .any(|l| l.fns.iter().any(|g| g.name.eq_ignore_ascii_case(&n.name)))
        }) {
            return Err(format!("Function {} already exists", clash.name));
        }
        f.libs.push(lib);
        f.reindex();
    }
    Ok(())
}

/// FUNCTION DUMP's payload (see the module doc).
pub fn dump(server: &Server) -> Vec<u8> {
    use persist::rdb::{codec, write};
    let mut e = write::Encoder::new(write::SaveOptions {
        compression: server.config.compat.rdbcompression,
        checksum: true,
    });
    for l in &server.scripting.functions.libs {
        e.out.push(codec::op::FUNCTION2);
        e.string(&l.code);
    }
    e.out.extend_from_slice(&codec::RDB_VERSION.to_le_bytes());
    let crc = codec::crc64(0, &e.out);
    e.out.extend_from_slice(&crc.to_le_bytes());
    e.out
}

/// FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]
fn restore(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    use persist::rdb::codec;
    if args.len() > 4 {
        return Err(CmdError::Owned(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try FUNCTION HELP.",
            String::from_utf8_lossy(args[1])
        )));
    }
    #[derive(PartialEq)]
    enum Policy {
        Append,
        Replace,
        Flush,
    }
    let policy = match args.get(3) {
        None => Policy::Append,
        Some(p) if engine::util::eq_ic(p, "append") => Policy::Append,
        Some(p) if engine::util::eq_ic(p, "replace") => Policy::Replace,
        Some(p) if engine::util::eq_ic(p, "flush") => Policy::Flush,
        Some(_) => {
            return Err(CmdError::Static(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            ));
        }
    };
    let data = args[2];
    let len = data.len();
    let bad = CmdError::Static("ERR DUMP payload version or checksum are wrong");
    if len < 10 {
        return Err(bad);
    }
    let ver = u16::from_le_bytes([data[len - 10], data[len - 9]]);
    let crc = u64::from_le_bytes(data[len - 8..].try_into().unwrap_or([0; 8]));
    if ver > codec::RDB_VERSION || codec::crc64(0, &data[..len - 8]) != crc {
        return Err(bad);
    }
    let mut pos = 0;
    let mut libs: Vec<Library> = Vec::new();
    while len - pos > 10 {
        let t = data[pos];
        pos += 1;
        if t == codec::op::FUNCTION_PRE_GA {
            return Err(CmdError::Static("ERR Pre-GA function format not supported"));
        }
        if t != codec::op::FUNCTION2 {
            return Err(CmdError::Static("ERR given type is not a function"));
        }
        let Ok(code) = persist::rdb::load::read_string(&data[..len - 10], &mut pos) else {
            return Err(CmdError::Static(
                "ERR failed loading the given functions payload",
            ));
        };
        let lib = server
            .scripting
            .functions
            .create(&code)
            .map_err(CmdError::Owned)?;
        if libs.iter().any(|l| l.name == lib.name) {
            return Err(CmdError::Owned(format!(
                "ERR Library '{}' already exists",
                lib.name
            )));
        }
        if let Some(f) = lib.fns.iter().find(|f| {
            libs.iter()
                .any(|l| l.fns.iter().any(|g| g.name.eq_ignore_ascii_case(&f.name)))
        }) {
            return Err(CmdError::Owned(format!(
                "ERR Function {} already exists",
                f.name
            )));
        }
        libs.push(lib);
    }
    let fs = &mut server.scripting.functions;
    if policy == Policy::Flush {
        fs.libs = libs;
        fs.reindex();
    } else {
        fs.join(libs, policy == Policy::Replace)
            .map_err(CmdError::Owned)?;
    }
    server.engine.dirty += 1;
    reply(server, key).ok();
    Ok(())
}

impl std::fmt::Debug for Functions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Functions")
            .field("libraries", &self.libs.len())
            .finish()
    }
}
