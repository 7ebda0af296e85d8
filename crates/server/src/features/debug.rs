//! DEBUG, behind `enable-debug-command` (Redis 7.0's default `no`; `local`: loopback and
//! Unix-socket clients only; `yes`). The subcommands operators and Redis's own test suite
//! use, with 7.0.15's replies and error texts: DIGEST / DIGEST-VALUE (equal to Redis's for
//! the same data, see `engine::digest`), OBJECT, POPULATE, RELOAD, LOADAOF, SLEEP,
//! SET-ACTIVE-EXPIRE, PROTOCOL, QUICKLIST-PACKED-THRESHOLD, LISTPACK, QUICKLIST,
//! STRINGMATCH-TEST, CHANGE-REPL-ID, ERROR, LOG, LEAK, PAUSE-CRON, and the crash
//! subcommands (SEGFAULT, PANIC, ASSERT, OOM: the server aborts, as Redis crashes).
//!
//! Subcommands that inspect or tune internals ringkv does not have (SDS headers, jemalloc's
//! mallctl, the cluster bus, client eviction pools, reply-buffer resizing, …) answer an error
//! naming the subcommand, never a fake success. As in Redis, a subcommand matches only with
//! its own argument count; anything else is "unknown subcommand".

use crate::dispatch::gate::reply;
use crate::server::Server;
use engine::commands::args::is_kw;
use engine::db::idle_seconds;
use engine::object::{HashValue, Str, Value, ZSetValue};
use engine::types::quicklist::NodeRef;
use engine::{CmdError, CmdResult};

/// DEBUG HELP, as 7.0.15 prints it (the HELP entry is appended by `reply_help`).
const HELP: &[&str] = &[
    "AOF-FLUSH-SLEEP <microsec>",
    "    Server will sleep before flushing the AOF, this is used for testing.",
    "ASSERT",
    "    Crash by assertion failed.",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "CRASH-AND-RECOVER [<milliseconds>]",
    "    Hard crash and restart after a <milliseconds> delay (default 0).",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LEAK <string>",
    "    Create a memory leak of the input string.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "HTSTATS <dbid>",
    "    Return hash table statistics of the specified Redis database.",
    "HTSTATS-KEY <key>",
    "    Like HTSTATS but for the hash table stored at <key>'s value.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "REPLICATE <string>",
    "    Replicates the provided string to replicas, allowing data divergence.",
    "MALLCTL <key> [<val>]",
    "    Get or set a malloc tuning integer.",
    "MALLCTL-STR <key> [<val>]",
    "    Get or set a malloc tuning string.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "DROP-CLUSTER-PACKET-FILTER <packet-type>",
    "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
    "OOM",
    "    Crash the server simulating an out-of-memory error.",
    "PANIC",
    "    Crash the server simulating a panic.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "RESTART [<milliseconds>]",
    "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
    "SDSLEN <key>",
    "    Show low level SDS string info representing `key` and value.",
    "SEGFAULT",
    "    Crash the server with sigsegv.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "STRUCTSIZE",
    "    Return the size of different Redis core C structures.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    "CLIENT-EVICTION",
    "    Show low level client eviction pools info (maxmemory-clients).",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
    "CLUSTERLINK KILL <to|from|all> <node-id>",
    "    Kills the link based on the direction to/from (both) with the provided node.",
];

/// Subcommands Redis 7.0 has that act on internals ringkv does not have (or not yet):
/// refused by name rather than faked.
const UNSUPPORTED: &[&str] = &[
    "aof-flush-sleep",
    "config-rewrite-force-all",
    "restart",
    "crash-and-recover",
    "htstats",
    "htstats-key",
    "replicate",
    "mallctl",
    "mallctl-str",
    "drop-cluster-packet-filter",
    "sdslen",
    "set-skip-checksum-validation",
    "structsize",
    "client-eviction",
    "replybuffer",
    "clusterlink",
];

const NOT_ALLOWED: &str = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

/// `enable-debug-command`: 1 `yes`, 2 `local`, 0 `no`.
fn allowed(server: &mut Server, key: usize) -> bool {
    match server.config.compat.enable_debug_command {
        1 => true,
        2 => server.clients[key]
            .peer_addr()
            .is_none_or(|a| a.ip().is_loopback()),
        _ => false,
    }
}

fn unknown(sub: &[u8]) -> CmdError {
    CmdError::Owned(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
        engine::util::lossy_c_str(sub)
    ))
}

/// C's `atoi`/`strtod` as Redis uses them for SET-ACTIVE-EXPIRE and SLEEP: leading
/// whitespace, the longest numeric prefix, 0 when there is none.
fn c_number(arg: &[u8]) -> f64 {
    let s = std::str::from_utf8(arg).unwrap_or("").trim_start();
    let end = (0..=s.len())
        .rev()
        .find(|&i| s.is_char_boundary(i) && s[..i].parse::<f64>().is_ok())
        .unwrap_or(0);
    s[..end].parse().unwrap_or(0.0)
}

/// `getPositiveLongFromObjectOrReply`: a non-number gets the same text as a negative one.
fn positive_long(arg: &[u8]) -> Result<i64, CmdError> {
    match resp::num::parse_i64(arg) {
        Some(v) if v >= 0 => Ok(v),
        _ => Err(CmdError::Static(
            "ERR value is out of range, must be positive",
        )),
    }
}

/// The DEBUG command.
pub fn debug(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    if !allowed(server, key) {
        return Err(CmdError::Static(NOT_ALLOWED));
    }
    let sub = args[1];
    let argc = args.len();
    let is = |name: &str| is_kw(sub, name);
    if argc == 2 && is("help") {
        engine::util::reply_help(&mut reply(server, key), b"DEBUG", HELP);
    } else if is("segfault") || is("panic") || is("assert") || is("oom") {
        // Redis crashes on purpose here (its tests check the crash report); so do we.
        log::error!(
            "DEBUG {} called: crashing on request",
            engine::util::lossy_c_str(sub)
        );
        std::process::abort();
    } else if is("log") && argc == 3 {
        log::warn!("DEBUG LOG: {}", engine::util::lossy_c_str(args[2]));
        reply(server, key).ok();
    } else if is("leak") && argc == 3 {
        // A deliberate leak (Redis's tests use it to see the allocator's accounting move).
        std::mem::forget(args[2].to_vec());
        reply(server, key).ok();
    } else if is("reload") {
        reload(server, key, &args[2..])?;
    } else if is("loadaof") {
        crate::features::aof::debug_loadaof(server).map_err(CmdError::Static)?;
        reply(server, key).ok();
    } else if is("object") && argc == 3 {
        object(server, key, args[2])?;
    } else if is("listpack") && argc == 3 {
        let db = server.clients[key].session.db;
        let now = server.engine.now_ms();
        let e = server.engine.dbs[db]
            .lookup_notouch(args[2], now)
            .ok_or(CmdError::NoSuchKey)?;
        let lp = match &e.value {
            Value::Hash(HashValue::Listpack(lp)) => lp,
            Value::ZSet(ZSetValue::Listpack(lp)) => lp,
            _ => return Err(CmdError::Static("ERR Not a listpack encoded object.")),
        };
        print_listpack(lp);
        reply(server, key).simple(b"Listpack structure printed on stdout");
    } else if is("quicklist") && (argc == 3 || argc == 4) {
        let db = server.clients[key].session.db;
        let now = server.engine.now_ms();
        let full = argc == 4 && c_number(args[3]) as i64 != 0;
        let e = server.engine.dbs[db]
            .lookup_notouch(args[2], now)
            .ok_or(CmdError::NoSuchKey)?;
        let Value::List(l) = &e.value else {
            return Err(CmdError::Static("ERR Not a quicklist encoded object."));
        };
        print_quicklist(l.ql(), full);
        reply(server, key).simple(b"Quicklist structure printed on stdout");
    } else if is("populate") && (3..=5).contains(&argc) {
        populate(server, key, args)?;
    } else if is("digest") && argc == 2 {
        let d = engine::digest::dataset_digest(&server.engine.dbs);
        reply(server, key).simple(engine::digest::hex(&d).as_bytes());
    } else if is("digest-value") {
        let db = server.clients[key].session.db;
        let digests: Vec<String> = args[2..]
            .iter()
            .map(|k| {
                engine::digest::hex(&engine::digest::value_digest(
                    server.engine.dbs[db].entry_raw(k),
                ))
            })
            .collect();
        let mut r = reply(server, key);
        r.array(digests.len());
        for d in &digests {
            r.simple(d.as_bytes());
        }
    } else if is("protocol") && argc == 3 {
        protocol(server, key, args[2])?;
    } else if is("sleep") && argc == 3 {
        // Stops the whole server, as Redis's (tests use it to provoke latency).
        let secs = c_number(args[2]);
        if secs > 0.0 {
            std::thread::sleep(std::time::Duration::from_micros((secs * 1e6) as u64));
        }
        reply(server, key).ok();
    } else if is("set-active-expire") && argc == 3 {
        server.engine.active_expire_enabled = c_number(args[2]) as i64 != 0;
        reply(server, key).ok();
    } else if is("quicklist-packed-threshold") && argc == 3 {
        let ok = crate::features::config::parse_memory(args[2])
            .is_some_and(engine::types::quicklist::set_default_packed_threshold);
        if !ok {
            return Err(CmdError::Static(
                "ERR argument must be a memory value bigger than 1 and smaller than 4gb",
            ));
        }
        reply(server, key).ok();
    } else if is("stringmatch-test") && argc == 2 {
        stringmatch_fuzz();
        reply(server, key).simple(b"Apparently Redis did not crash: test passed");
    } else if is("change-repl-id") && argc == 2 {
        server.replid = crate::features::info::random_hex_id();
        log::warn!("Changing replication IDs after receiving DEBUG change-repl-id");
        reply(server, key).ok();
    } else if is("error") && argc == 3 {
        // Written as is (Redis's addReplySds): neither counted as an error nor prefixed.
        reply(server, key).error_bytes(args[2]);
    } else if is("pause-cron") && argc == 3 {
        server.cron_paused = c_number(args[2]) as i64 != 0;
        reply(server, key).ok();
    } else if UNSUPPORTED.iter().any(|n| is(n)) {
        return Err(CmdError::Owned(format!(
            "ERR DEBUG {} is not supported by ringkv",
            engine::util::lossy_c_str(sub).to_uppercase()
        )));
    } else {
        return Err(unknown(sub));
    }
    Ok(())
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty, load back (Redis's own tests use it).
fn reload(server: &mut Server, key: usize, opts: &[&[u8]]) -> CmdResult {
    let (mut merge, mut flush, mut save) = (false, true, true);
    for opt in opts {
        if is_kw(opt, "merge") {
            merge = true;
        } else if is_kw(opt, "noflush") {
            flush = false;
        } else if is_kw(opt, "nosave") {
            save = false;
        } else {
            return Err(CmdError::Static(
                "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
            ));
        }
    }
    crate::features::persistence::debug_reload(server, merge, flush, save)
        .map_err(CmdError::Static)?;
    reply(server, key).ok();
    Ok(())
}

/// DEBUG OBJECT key: the value's address, refcount, encoding, serialized (RDB) length, LRU
/// clock and idle time, plus the quicklist's shape for lists. Reads the dict directly, as
/// Redis: a logically expired key is still shown.
fn object(server: &mut Server, key: usize, k: &[u8]) -> CmdResult {
    let db = server.clients[key].session.db;
    let now = server.engine.now_ms();
    let e = server.engine.dbs[db]
        .entry_raw(k)
        .ok_or(CmdError::NoSuchKey)?;
    let refcount = match &e.value {
        Value::Str(Str::Int(i)) if (0..engine::object::SHARED_INTEGERS).contains(i) => {
            i32::MAX as i64
        }
        _ => 1,
    };
    // The value's RDB form without the type byte: a DUMP payload less its type byte, RDB
    // version (2) and CRC (8).
    let serialized =
        persist::rdb::write::dump_payload(&e.value, server.config.compat.rdbcompression)
            .len()
            .saturating_sub(11);
    let mut s = format!(
        "Value at:{:p} refcount:{refcount} encoding:{} serializedlength:{serialized} lru:{} lru_seconds_idle:{}",
        &e.value as *const Value,
        e.value.encoding_name(),
        e.lru,
        idle_seconds(e, now),
    );
    if let Value::List(l) = &e.value {
        let ql = l.ql();
        let nodes = ql.node_count();
        let size: usize = ql
            .nodes()
            .map(|n| match n {
                NodeRef::Packed(lp) => lp.total_bytes(),
                NodeRef::Plain(b) => b.len(),
            })
            .sum();
        s.push_str(&format!(
            " ql_nodes:{nodes} ql_avg_node:{:.2} ql_listpack_max:{} ql_compressed:0 ql_uncompressed_size:{size}",
            ql.len() as f64 / nodes as f64,
            ql.fill(),
        ));
    }
    reply(server, key).simple(s.as_bytes());
    Ok(())
}

/// DEBUG POPULATE count [prefix] [size]: keys `prefix:N` (default `key`) holding `value:N`,
/// or that text cut or zero-padded to `size` bytes; existing keys are left alone. Not
/// propagated and not counted as changes, as Redis's (it bypasses `dirty`), but WATCH sees it.
fn populate(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let count = positive_long(args[2])?;
    let size = match args.get(4) {
        Some(a) => positive_long(a)? as usize,
        None => 0,
    };
    let prefix: &[u8] = args.get(3).copied().unwrap_or(b"key");
    let db = server.clients[key].session.db;
    let now = server.engine.now_ms();
    server.engine.dbs[db].reserve(count as u64, 0);
    let mut name = Vec::with_capacity(prefix.len() + 21);
    let mut val = Vec::new();
    for j in 0..count {
        name.clear();
        name.extend_from_slice(prefix);
        name.push(b':');
        name.extend_from_slice(j.to_string().as_bytes());
        if server.engine.dbs[db].lookup_write(&name, now).is_some() {
            continue;
        }
        val.clear();
        val.extend_from_slice(b"value:");
        val.extend_from_slice(j.to_string().as_bytes());
        if size != 0 {
            val.resize(size, 0);
        }
        server.engine.dbs[db].set(&name, Value::Str(Str::plain(&val)), false);
        server.engine.signal_modified(db, &name);
    }
    reply(server, key).ok();
    Ok(())
}

/// DEBUG PROTOCOL type: a sample reply of each RESP type (Redis's client-library test aid).
fn protocol(server: &mut Server, key: usize, name: &[u8]) -> CmdResult {
    let mut r = reply(server, key);
    let is = |n: &str| is_kw(name, n);
    if is("string") {
        r.bulk(b"Hello World");
    } else if is("integer") {
        r.int(12345);
    } else if is("double") {
        #[allow(clippy::approx_constant)] // Redis's literal value, not pi.
        r.double(3.141);
    } else if is("bignum") {
        r.big_number(b"1234567999999999999999999999999999999");
    } else if is("null") {
        r.null();
    } else if is("array") {
        r.array(3);
        (0..3).for_each(|j| r.int(j));
    } else if is("set") {
        r.set(3);
        (0..3).for_each(|j| r.int(j));
    } else if is("map") {
        r.map(3);
        for j in 0..3 {
            r.int(j);
            r.boolean(j == 1);
        }
    } else if is("attrib") {
        if r.resp3() {
            r.attribute(1);
            r.bulk(b"key-popularity");
            r.array(2);
            r.bulk(b"key:123");
            r.int(90);
        }
        r.bulk(b"Some real reply following the attribute");
    } else if is("push") {
        if !r.resp3() {
            return Err(CmdError::Static(
                "ERR RESP2 is not supported by this command",
            ));
        }
        r.push(2);
        r.bulk(b"server-cpu-usage");
        r.int(42);
        r.bulk(b"Some real reply following the push reply");
    } else if is("true") {
        r.boolean(true);
    } else if is("false") {
        r.boolean(false);
    } else if is("verbatim") {
        r.verbatim(b"txt", b"This is a verbatim\nstring");
    } else {
        return Err(CmdError::Static(
            "ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
        ));
    }
    Ok(())
}

/// DEBUG LISTPACK's dump to standard output (Redis's `lpRepr`: header, then each entry).
fn print_listpack(lp: &engine::types::listpack::Listpack) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{{total bytes {}}} {{num entries {}}}",
        lp.total_bytes(),
        lp.len()
    );
    let mut scratch = [0u8; 20];
    for (i, v) in lp.iter().enumerate() {
        let _ = writeln!(
            out,
            "{{\n\tindex: {i:>2},\n\tvalue: {}\n}}",
            String::from_utf8_lossy(v.as_bytes(&mut scratch))
        );
    }
    let _ = writeln!(out, "{{end}}\n");
}

/// DEBUG QUICKLIST's dump to standard output (Redis's `quicklistRepr`): the header and, with
/// `full`, each node.
fn print_quicklist(ql: &engine::types::quicklist::Quicklist, full: bool) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{{count : {}}}\n{{len : {}}}\n{{fill : {}}}\n{{compress : 0}}\n{{bookmark_count : 0}}",
        ql.len(),
        ql.node_count(),
        ql.fill()
    );
    if !full {
        return;
    }
    for (i, n) in ql.nodes().enumerate() {
        let (container, count, sz) = match n {
            NodeRef::Packed(lp) => ("PACKED", lp.len(), lp.total_bytes()),
            NodeRef::Plain(b) => ("PLAIN", 1, b.len()),
        };
        let _ = writeln!(
            out,
            "{{quicklist node({i})\n{{container : {container}, encoding: RAW, size: {sz}, count: {count}, recompress: 0, attempted_compress: 0}}"
        );
    }
}

/// DEBUG STRINGMATCH-TEST: random patterns against random strings through the glob
/// matcher, which must return (Redis's `stringmatchlen_fuzz_test`: 1000 rounds).
fn stringmatch_fuzz() {
    const ALPHABET: &[u8] = b"*?[]\\^-ab";
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut pat = Vec::with_capacity(32);
    let mut s = Vec::with_capacity(32);
    for _ in 0..1000 {
        pat.clear();
        s.clear();
        for _ in 0..next() % 32 {
            pat.push(ALPHABET[(next() % ALPHABET.len() as u64) as usize]);
        }
        for _ in 0..next() % 32 {
            s.push(ALPHABET[(next() % ALPHABET.len() as u64) as usize]);
        }
        std::hint::black_box(engine::glob::glob_match(&pat, &s, next() & 1 == 1));
    }
}

#[cfg(test)]
mod tests {
    use crate::inproc::InProcess;

    fn debug_on() -> (InProcess, usize) {
        let mut p = InProcess::new(1_000_000);
        p.server.config.compat.enable_debug_command = 1;
        let c = p.client();
        (p, c)
    }

    /// Redis 7.0's default `enable-debug-command no` refuses DEBUG entirely.
    #[test]
    fn refused_by_default() {
        let mut p = InProcess::new(1_000_000);
        let c = p.client();
        let r = p.run(c, &["DEBUG", "DIGEST"]);
        assert!(r.starts_with("-ERR DEBUG command not allowed."), "{r}");
    }

    /// POPULATE writes keys without counting changes or propagating them (Redis's dbAdd
    /// outside `dirty`); the digest moves with the data.
    #[test]
    fn populate_is_not_a_change() {
        let (mut p, c) = debug_on();
        let empty = p.run(c, &["DEBUG", "DIGEST"]);
        assert_eq!(empty, format!("+{}\r\n", "0".repeat(40)));
        assert_eq!(p.run(c, &["DEBUG", "POPULATE", "100"]), "+OK\r\n");
        assert_eq!(p.run(c, &["DBSIZE"]), ":100\r\n");
        assert_eq!(p.server.engine.dirty, 0);
        assert!(p.propagated().is_empty());
        assert_ne!(p.run(c, &["DEBUG", "DIGEST"]), empty);
    }

    /// PAUSE-CRON stops the periodic task (active expiry here) until resumed.
    #[test]
    fn pause_cron_stops_active_expiry() {
        let (mut p, c) = debug_on();
        p.run(c, &["SET", "k", "v", "PX", "10"]);
        p.run(c, &["DEBUG", "PAUSE-CRON", "1"]);
        p.advance_ms(1000);
        for _ in 0..50 {
            crate::server::cron(&mut p.server, 1_001_000);
        }
        assert!(p.server.engine.dbs[0].entry_raw(b"k").is_some());
        p.run(c, &["DEBUG", "PAUSE-CRON", "0"]);
        for _ in 0..50 {
            crate::server::cron(&mut p.server, 1_001_000);
        }
        assert!(p.server.engine.dbs[0].entry_raw(b"k").is_none());
    }

    #[test]
    fn stringmatch_test_and_refusals() {
        let (mut p, c) = debug_on();
        assert_eq!(
            p.run(c, &["DEBUG", "STRINGMATCH-TEST"]),
            "+Apparently Redis did not crash: test passed\r\n"
        );
        assert_eq!(
            p.run(c, &["DEBUG", "mallctl", "x"]),
            "-ERR DEBUG MALLCTL is not supported by ringkv\r\n"
        );
        let before = p.server.replid.clone();
        assert_eq!(p.run(c, &["DEBUG", "CHANGE-REPL-ID"]), "+OK\r\n");
        assert_ne!(p.server.replid, before);
    }
}
