//! Real-socket tests of Lua scripting: client libraries' scripts run unchanged and answer
//! as Redis 7.0.15 does (redis-py's Lock, rate limiters, a BullMQ-style queue), FUNCTION
//! DUMP payloads cross between Redis and ringkv both ways, random Lua sources (syntax
//! errors, deep recursion, huge tables, errors in every form) leave the server serving with
//! its Lua memory returned, and a long script is answered BUSY / ended by SCRIPT KILL.

mod common;

use common::{Client, Server, redis_or_skip};
use std::time::{Duration, Instant};

/// redis-py 5's `Lock` scripts (redis/lock.py), verbatim.
const LOCK_RELEASE: &str = r#"
        local token = redis.call('get', KEYS[1])
        if not token or token ~= ARGV[1] then
            return 0
        end
        redis.call('del', KEYS[1])
        return 1
    "#;
const LOCK_EXTEND: &str = r#"
        local token = redis.call('get', KEYS[1])
        if not token or token ~= ARGV[1] then
            return 0
        end
        local expiration = redis.call('pttl', KEYS[1])
        if not expiration then
            expiration = 0
        end
        if expiration < 0 then
            return 0
        end

        local newttl = ARGV[2]
        if ARGV[3] == "0" then
            newttl = ARGV[2] + expiration
        end
        redis.call('pexpire', KEYS[1], newttl)
        return 1
    "#;
const LOCK_REACQUIRE: &str = r#"
        local token = redis.call('get', KEYS[1])
        if not token or token ~= ARGV[1] then
            return 0
        end
        redis.call('pexpire', KEYS[1], ARGV[2])
        return 1
    "#;

/// A sliding-window rate limiter over a sorted set (the common pattern).
const SLIDING_WINDOW: &str = r#"
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, 0, now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, now .. '-' .. ARGV[4])
  redis.call('PEXPIRE', key, window)
  return {1, limit - count - 1}
end
return {0, 0}
"#;

/// The INCR + EXPIRE fixed-window limiter.
const FIXED_WINDOW: &str = r#"
local current = redis.call('INCR', KEYS[1])
if current == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
if current > tonumber(ARGV[2]) then
  return redis.error_reply('LIMITED too many requests')
end
return current
"#;

/// A BullMQ-style queue (addJob / moveToActive / moveToFinished, data as JSON).
const ADD_JOB: &str = r#"
local jobId = redis.call('INCR', KEYS[2])
local jobKey = KEYS[3] .. jobId
local opts = cjson.decode(ARGV[2])
redis.call('HMSET', jobKey, 'name', ARGV[1], 'data', ARGV[2], 'timestamp', ARGV[3],
  'delay', opts.delay or 0, 'priority', opts.priority or 0, 'attemptsMade', 0)
if (opts.delay or 0) > 0 then
  redis.call('ZADD', KEYS[4], tonumber(ARGV[3]) + opts.delay, jobId)
elseif (opts.priority or 0) > 0 then
  redis.call('ZADD', KEYS[5], opts.priority, jobId)
  redis.call('LPUSH', KEYS[1], jobId)
else
  redis.call('LPUSH', KEYS[1], jobId)
end
return jobId
"#;
const MOVE_TO_ACTIVE: &str = r#"
local jobId = redis.call('RPOPLPUSH', KEYS[1], KEYS[2])
if jobId then
  local jobKey = KEYS[3] .. jobId
  redis.call('HSET', jobKey, 'processedOn', ARGV[1])
  redis.call('HINCRBY', jobKey, 'attemptsMade', 1)
  return {jobId, redis.call('HGETALL', jobKey)}
end
return false
"#;
const MOVE_TO_FINISHED: &str = r#"
local removed = redis.call('LREM', KEYS[1], -1, ARGV[1])
if removed == 0 then
  return redis.error_reply('ERR Missing job ' .. ARGV[1])
end
local jobKey = KEYS[3] .. ARGV[1]
redis.call('HMSET', jobKey, 'finishedOn', ARGV[2], 'returnvalue', cjson.encode({ok = true, n = tonumber(ARGV[1])}))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
local n = redis.call('ZCARD', KEYS[2])
if n > 3 then
  local old = redis.call('ZRANGE', KEYS[2], 0, n - 4)
  for _, id in ipairs(old) do redis.call('DEL', KEYS[3] .. id) end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, n - 4)
end
return n
"#;

fn sha(c: &mut Client, body: &str) -> String {
    let r = c.cmd(&["SCRIPT", "LOAD", body]);
    assert!(!r.is_error(), "SCRIPT LOAD: {r}");
    r.text()
}

/// The steps of the client-library workload; each is EVALSHA of one of the scripts.
fn workload() -> Vec<(&'static str, Vec<String>, Vec<String>)> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let mut w = vec![
        // redis-py Lock: acquire is SET NX PX (plain command below), then the scripts.
        (LOCK_RELEASE, s(&["lock:a"]), s(&["token1"])),
        (LOCK_EXTEND, s(&["lock:a"]), s(&["token1", "5000", "0"])),
        (LOCK_REACQUIRE, s(&["lock:a"]), s(&["token1", "9000"])),
        (LOCK_RELEASE, s(&["lock:a"]), s(&["other"])),
        (LOCK_EXTEND, s(&["lock:a"]), s(&["token1", "100000", "1"])),
        (LOCK_RELEASE, s(&["lock:a"]), s(&["token1"])),
        (LOCK_RELEASE, s(&["lock:a"]), s(&["token1"])),
        (LOCK_EXTEND, s(&["lock:nope"]), s(&["token1", "10", "0"])),
    ];
    for i in 0..8 {
        let now = (1_700_000_000_000u64 + i * 150).to_string();
        w.push((
            SLIDING_WINDOW,
            s(&["rl:sw"]),
            s(&[&now, "1000", "5", &i.to_string()]),
        ));
        w.push((FIXED_WINDOW, s(&["rl:fixed"]), s(&["60", "5"])));
    }
    let q = |x: &[&str]| s(x);
    let keys_add = q(&["q:wait", "q:id", "q:job:", "q:delayed", "q:prio"]);
    let keys_active = q(&["q:wait", "q:active", "q:job:"]);
    let keys_done = q(&["q:active", "q:done", "q:job:"]);
    for (i, opts) in [
        r#"{"attempts":3}"#,
        r#"{"delay":500}"#,
        r#"{"priority":2,"tags":["a","b"]}"#,
        r#"{}"#,
        r#"{"x":null}"#,
    ]
    .iter()
    .enumerate()
    {
        w.push((
            ADD_JOB,
            keys_add.clone(),
            q(&[&format!("job{i}"), opts, "1700000000000"]),
        ));
    }
    for i in 0..6 {
        w.push((
            MOVE_TO_ACTIVE,
            keys_active.clone(),
            q(&[&format!("17000000{i:05}")]),
        ));
    }
    for id in ["1", "3", "4", "5", "9"] {
        w.push((
            MOVE_TO_FINISHED,
            keys_done.clone(),
            q(&[id, "1700000009999"]),
        ));
    }
    w
}

/// Runs the workload on one server; every reply's raw bytes.
fn run_workload(srv: &Server) -> Vec<String> {
    let mut c = srv.connect();
    let mut out = Vec::new();
    out.push(
        c.cmd(&["SET", "lock:a", "token1", "NX", "PX", "10000"])
            .to_string(),
    );
    for (body, keys, args) in workload() {
        let sha = sha(&mut c, body);
        let mut argv = vec!["EVALSHA".to_string(), sha, keys.len().to_string()];
        argv.extend(keys);
        argv.extend(args);
        let r = c.cmd(&argv);
        out.push(format!("{} -> {r}", argv[3..].join(" ")));
    }
    // The state the scripts left, normalised for time-dependent values.
    for probe in [
        vec!["PTTL", "lock:a"],
        vec!["ZRANGE", "rl:sw", "0", "-1", "WITHSCORES"],
        vec!["LRANGE", "q:wait", "0", "-1"],
        vec!["LRANGE", "q:active", "0", "-1"],
        vec!["ZRANGE", "q:done", "0", "-1", "WITHSCORES"],
        vec!["ZRANGE", "q:delayed", "0", "-1", "WITHSCORES"],
        vec!["HGETALL", "q:job:4"],
        vec!["KEYS", "q:job:*"],
    ] {
        let r = c.cmd(&probe);
        let shown = if probe[0] == "PTTL" {
            format!("pttl>0:{}", r.as_int().unwrap_or(-9) > 0)
        } else if probe[0] == "KEYS" {
            let mut v: Vec<String> = r.items.iter().map(|i| i.text()).collect();
            v.sort();
            v.join(",")
        } else {
            r.to_string()
        };
        out.push(format!("{} -> {shown}", probe.join(" ")));
    }
    out
}

#[test]
fn client_library_scripts_answer_as_redis() {
    if !redis_or_skip("scripting::client_library_scripts_answer_as_redis") {
        return;
    }
    let redis = Server::redis();
    let ours = Server::ringkv();
    let theirs = run_workload(&redis);
    let mine = run_workload(&ours);
    let diffs: Vec<String> = theirs
        .iter()
        .zip(&mine)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("redis : {a}\nringkv: {b}"))
        .collect();
    assert_eq!(theirs.len(), mine.len());
    assert!(diffs.is_empty(), "{}", diffs.join("\n\n"));
}

const LIB: &str = "#!lua name=crosslib\n\
redis.register_function('cross_get', function(keys, args) return redis.call('get', keys[1]) end)\n\
redis.register_function{function_name='cross_ro', callback=function(keys, args) return 'read only: ' .. args[1] end, flags={'no-writes'}, description='a description long enough'}\n";

#[test]
fn function_dump_crosses_between_redis_and_ringkv() {
    if !redis_or_skip("scripting::function_dump_crosses_between_redis_and_ringkv") {
        return;
    }
    let redis = Server::redis();
    let ours = Server::ringkv();
    let mut r = redis.connect();
    let mut o = ours.connect();
    for c in [&mut r, &mut o] {
        assert_eq!(c.cmd(&["FUNCTION", "LOAD", LIB]).text(), "crosslib");
    }
    let dump_r = r.cmd(&["FUNCTION", "DUMP"]);
    let dump_o = o.cmd(&["FUNCTION", "DUMP"]);
    assert_eq!(dump_r.raw, dump_o.raw, "FUNCTION DUMP payloads differ");
    // Redis's payload into ringkv and ours into Redis.
    for (c, payload) in [(&mut o, &dump_r.data), (&mut r, &dump_o.data)] {
        assert_eq!(
            c.cmd(&[b"FUNCTION".as_slice(), b"RESTORE", payload])
                .to_string(),
            "-ERR Library crosslib already exists\\r\\n"
        );
        assert_eq!(c.cmd(&["FUNCTION", "FLUSH"]).to_string(), "+OK\\r\\n");
        assert_eq!(
            c.cmd(&[b"FUNCTION".as_slice(), b"RESTORE", payload])
                .to_string(),
            "+OK\\r\\n"
        );
        assert_eq!(
            c.cmd(&["FCALL_RO", "cross_ro", "0", "x"]).text(),
            "read only: x"
        );
        c.cmd(&["SET", "k", "v"]);
        assert_eq!(c.cmd(&["FCALL", "cross_get", "1", "k"]).text(), "v");
        assert_eq!(
            c.cmd(&[b"FUNCTION".as_slice(), b"RESTORE", payload, b"REPLACE"])
                .to_string(),
            "+OK\\r\\n"
        );
    }
    // A corrupt payload is refused by both alike.
    let mut bad = dump_r.data.clone();
    let n = bad.len();
    bad[n - 1] ^= 1;
    let a = r
        .cmd(&[b"FUNCTION".as_slice(), b"RESTORE", &bad])
        .to_string();
    let b = o
        .cmd(&[b"FUNCTION".as_slice(), b"RESTORE", &bad])
        .to_string();
    assert_eq!(a, b);
}

/// xorshift64*: the fuzz test's deterministic source of choices.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[(self.next() % v.len() as u64) as usize]
    }
}

fn random_source(rng: &mut Rng) -> String {
    const PIECES: &[&str] = &[
        "return 1",
        "return (",
        "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 100) end",
        "local function f(n) return f(n + 1) + 1 end return f(1)",
        "local function f(n) if n == 0 then return 0 end return 1 + f(n - 1) end return f(150)",
        "return string.rep('x', 1e9)",
        "error('boom')",
        "error({err='X'})",
        "error(nil)",
        "error(setmetatable({}, {__tostring = function() return 'meta' end}))",
        "return redis.call('set', 'k', 'v')",
        "return redis.call('incr', 'k')",
        "return redis.pcall('nosuch')",
        "return redis.call()",
        "return cjson.decode('[[[[[[[[[[')",
        "return cjson.encode(setmetatable({}, {}))",
        "local t = {} t[1] = t return cjson.encode(t)",
        "return {1, {2, {3, {4, {5}}}}}",
        "return coroutine.wrap(function() coroutine.yield(1) end)()",
        "return loadstring('return 1 +')",
        "return loadstring(string.dump(function() end))",
        "return setmetatable({}, {__index = function() error('idx') end}).x",
        "for i = 1, 100000 do local s = tostring(i) end return 'ok'",
        "return pcall(error)",
        "return select('#', unpack({}, 1, 1e6))",
        "return string.format('%d', 'x')",
        "return ('x'):rep(10):upper()",
        "@#$%^&*",
        "end end end",
        "return math.huge",
        "return -math.huge",
        "return 0/0",
        "return tostring(newproxy(true))",
        "_G = nil",
        "getmetatable('').__index = nil",
        "rawset(_G, 'leak', 1) return leak",
    ];
    let n = 1 + rng.next() % 3;
    (0..n)
        .map(|_| rng.pick(PIECES))
        .collect::<Vec<_>>()
        .join("\n")
}

fn used_memory_lua(c: &mut Client) -> u64 {
    let info = c.cmd(&["INFO", "memory"]).text();
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory_lua:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("used_memory_lua in INFO memory")
}

/// Random Lua sources: the server answers every one (a reply, error or not), keeps serving,
/// and SCRIPT FLUSH gives the Lua memory back. `maxmemory` bounds the Lua state, so the
/// huge tables and strings end as errors.
#[test]
fn random_lua_sources_leave_the_server_serving() {
    let srv = Server::ringkv_with(&["--maxmemory", "64mb"]);
    let mut c = srv.connect();
    let base = used_memory_lua(&mut c);
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut errors = 0;
    for i in 0..300 {
        let src = random_source(&mut rng);
        let r = c.cmd(&["EVAL", &src, "0"]);
        errors += r.is_error() as usize;
        if r.is_error() {
            // Never an internal failure: Redis's texts or a Lua error.
            let t = r.text();
            assert!(
                !t.contains("panicked") && !t.contains("runtime error:"),
                "step {i}: {src:?} -> {t}"
            );
        }
        assert_eq!(c.cmd(&["PING"]).to_string(), "+PONG\\r\\n", "after {src:?}");
    }
    assert!(errors > 50, "the corpus should mostly fail: {errors}");
    let r = c.cmd(&["EVAL", "local t = {} for i = 1, 1e9 do t[i] = i end", "0"]);
    assert!(
        r.text().contains("not enough memory"),
        "a huge table is an error: {r}"
    );
    assert_eq!(c.cmd(&["SCRIPT", "FLUSH"]).to_string(), "+OK\\r\\n");
    let after = used_memory_lua(&mut c);
    assert!(
        after < base + 512 * 1024,
        "Lua memory returned: {base} at start, {after} after SCRIPT FLUSH"
    );
}

/// FUNCTION RESTORE of a payload with a valid checksum whose LZF string claims a terabyte:
/// an error, nothing allocated for the claim (it once reached `Vec::with_capacity`).
#[test]
fn function_restore_refuses_an_impossible_lzf_length() {
    use persist::rdb::codec;
    let srv = Server::ringkv();
    let mut c = srv.connect();
    let mut p = vec![codec::op::FUNCTION2, 0xC3, 2];
    p.push(codec::LEN_64BIT);
    p.extend_from_slice(&(1u64 << 40).to_be_bytes());
    p.extend_from_slice(&[0, b'a']);
    p.extend_from_slice(&codec::RDB_VERSION.to_le_bytes());
    let crc = codec::crc64(0, &p);
    p.extend_from_slice(&crc.to_le_bytes());
    let r = c.cmd(&[b"FUNCTION".as_slice(), b"RESTORE", &p]);
    assert_eq!(
        r.to_string(),
        "-ERR failed loading the given functions payload\\r\\n"
    );
    assert_eq!(c.cmd(&["PING"]).to_string(), "+PONG\\r\\n");
}

/// cjson with its depth limits raised as far as they go: a self-referential table or a
/// 20,000-deep document ends in cjson's nesting error, never a crash. (Redis stops at the
/// Lua C stack: 7998 arrays, 4000 objects; ringkv a little earlier, where mlua's
/// references end, with the same message.)
#[test]
fn cjson_at_unbounded_depth_fails_cleanly() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    let cases = [
        (
            "cjson.encode_max_depth(2147483647) local t = {} t[1] = t return cjson.encode(t)",
            "Cannot serialise, excessive nesting (",
        ),
        (
            "local t = {} t.a = t return cjson.encode(t)",
            "Cannot serialise, excessive nesting (",
        ),
        (
            "cjson.decode_max_depth(2147483647) return cjson.decode(string.rep('[', 20000))",
            "Found too many nested data structures (",
        ),
        (
            "return cjson.decode(string.rep('{\"a\":', 20000))",
            "Found too many nested data structures (4000) at character 19996",
        ),
        ("local t = {} t[1] = t return cmsgpack.pack(t)", ""),
    ];
    for (src, want) in cases {
        let r = c.cmd(&["EVAL", src, "0"]);
        let t = r.text();
        assert!(t.contains(want), "{src} -> {t}");
        assert_eq!(c.cmd(&["PING"]).to_string(), "+PONG\\r\\n", "after {src}");
    }
}

/// A script past `busy-reply-threshold`: another client is answered BUSY; SCRIPT KILL ends
/// it (the script gets Redis's error); a script that wrote cannot be killed.
#[test]
fn busy_script_is_answered_busy_and_killed() {
    let srv = Server::ringkv_with(&["--busy-reply-threshold", "100"]);
    let mut a = srv.connect();
    let mut b = srv.connect();
    a.set_timeout(Duration::from_secs(20));
    // Generous for b too: on a loaded machine (the whole suite in parallel on 2 cores) a
    // reply behind the 100 ms threshold can take seconds.
    b.set_timeout(Duration::from_secs(20));
    a.send(&["EVAL", "while true do end", "0"]).unwrap();
    // Wait until the script is past the threshold: PING answers BUSY.
    let start = Instant::now();
    loop {
        let r = b.cmd(&["PING"]);
        if r.is_error() {
            assert_eq!(
                r.to_string(),
                "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\\r\\n"
            );
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "never BUSY");
    }
    assert_eq!(
        b.cmd(&["FUNCTION", "KILL"]).to_string(),
        "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\\r\\n"
    );
    assert_eq!(b.cmd(&["SCRIPT", "KILL"]).to_string(), "+OK\\r\\n");
    let r = a.read_reply().unwrap();
    assert!(
        r.text()
            .starts_with("ERR Script killed by user with SCRIPT KILL... script: "),
        "{r}"
    );
    assert_eq!(b.cmd(&["PING"]).to_string(), "+PONG\\r\\n");
    // A script that wrote cannot be killed.
    a.send(&[
        "EVAL",
        "redis.call('set', 'w', '1') \
         local function us() local t = redis.call('time') return t[1] * 1e6 + t[2] end \
         local stop = us() + 1500000 while us() < stop do end return 1",
        "0",
    ])
    .unwrap();
    let start = Instant::now();
    loop {
        let r = b.cmd(&["SCRIPT", "KILL"]);
        if r.to_string().starts_with("-UNKILLABLE") {
            assert_eq!(
                r.to_string(),
                "-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\\r\\n"
            );
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "never busy: {r}");
    }
    assert_eq!(a.read_reply().unwrap().to_string(), ":1\\r\\n");
    assert_eq!(b.cmd(&["GET", "w"]).text(), "1");
}

/// MONITOR: EVAL and FCALL show as they start (even when they then fail), their commands
/// after them with the address `lua`, as Redis 7.0.15 shows them.
#[test]
fn monitor_shows_scripts_as_redis() {
    if !redis_or_skip("scripting::monitor_shows_scripts_as_redis") {
        return;
    }
    let run = |srv: &Server| -> Vec<String> {
        let mut m = srv.connect();
        let mut c = srv.connect();
        assert_eq!(m.cmd(&["MONITOR"]).to_string(), "+OK\\r\\n");
        let steps: &[&[&str]] = &[
            &[
                "EVAL",
                "redis.call('set','k','v') return redis.call('get','k')",
                "0",
            ],
            &["EVAL", "return 1", "-1"],
            &["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"],
            &["FCALL", "nosuch", "0"],
            &[
                "FUNCTION",
                "LOAD",
                "REPLACE",
                "#!lua name=mon\nredis.register_function('monf', function() return redis.call('ping') end)",
            ],
            &["FCALL", "monf", "0"],
            &["PING"],
        ];
        for s in steps {
            c.cmd(s);
        }
        let mut lines = Vec::new();
        loop {
            let r = m.read_reply().expect("a monitor line");
            let t = r.text();
            // "<secs>.<us> [<db> <addr>] args": keep the db, the lua address and the args.
            let rest = t.split_once(' ').map_or(t.as_str(), |x| x.1).to_string();
            let (who, args) = rest.split_once("] ").unwrap_or((&rest, ""));
            let who = if who.ends_with(" lua") {
                who
            } else {
                "[0 client"
            };
            lines.push(format!("{who}] {args}"));
            if args == "\"PING\"" {
                break;
            }
        }
        lines
    };
    let theirs = run(&Server::redis());
    let mine = run(&Server::ringkv());
    assert_eq!(theirs, mine);
}

/// SLOWLOG: a script's commands are logged as Redis logs its Lua client (`?:0`, no name),
/// before the EVAL that ran them.
#[test]
fn slowlog_logs_script_commands_as_the_lua_client() {
    let srv = Server::ringkv();
    let mut c = srv.connect();
    c.cmd(&["CLIENT", "SETNAME", "caller"]);
    c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    c.cmd(&["SLOWLOG", "RESET"]);
    c.cmd(&["EVAL", "return redis.call('ping')", "0"]);
    let r = c.cmd(&["SLOWLOG", "GET", "2"]);
    let entry = |i: usize| -> (String, String, String) {
        let e = &r.items[i].items;
        (e[3].items[0].text(), e[4].text(), e[5].text())
    };
    assert_eq!(entry(0).0, "EVAL");
    assert_eq!(entry(0).2, "caller");
    assert_eq!(
        entry(1),
        ("ping".to_string(), "?:0".to_string(), String::new())
    );
}
