#!/usr/bin/env python3
"""Generate crates/engine/src/commands/meta_data.rs from the real Redis 7.0.15.

Facts, not code: for every command ringkv implements (the COMMANDS list below, the one
place to edit), this asks a private `redis-server` for `COMMAND INFO` and `COMMAND DOCS`
over RESP3 and writes them as static Rust data:

* one `CommandMeta` row per command (subcommands nested in their container), with flags,
  ACL categories, legacy key range and key specs parsed into typed fields, and
* the exact reply trees (`Doc`) so COMMAND INFO / COMMAND DOCS are byte-identical to
  Redis in RESP2 and RESP3. Containers list only the subcommands we implement.

Usage:
    scripts/gen_commands.py            # rewrite the generated file
    scripts/gen_commands.py --check    # regenerate to a temp file and diff (exit 1 on drift)

Adding a command: append it to COMMANDS (`name` or `container|sub`) and rerun.
Needs only python3, `redis-server` (7.0.15) and `rustfmt` on PATH.
"""

import argparse
import difflib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

# The commands ringkv implements, in the order the table lists them. A container command
# (`object`, `client`, ...) is implied by its subcommands.
COMMANDS = """
get set setnx setex psetex mget mset msetnx getset getdel getex append strlen getrange
substr setrange incr decr incrby decrby incrbyfloat lcs

del unlink exists type keys scan rename renamenx randomkey copy move touch expire pexpire
expireat pexpireat ttl pttl expiretime pexpiretime persist
object|encoding object|freq object|idletime object|refcount object|help

ping echo select swapdb quit reset hello dbsize flushdb flushall time info
client|setname client|getname client|id client|info client|list client|kill client|help client|unblock client|no-evict client|getredir client|trackinginfo client|caching
config|get config|set config|resetstat config|help config|rewrite
shutdown auth
bgrewriteaof debug
command|count command|info command|docs command|list command|getkeys
command|getkeysandflags command|help
zadd zincrby zrem zcard zscore zmscore zrank zrevrank zcount zlexcount zrange zrangestore zrevrange zrangebyscore zrevrangebyscore zrangebylex zrevrangebylex zremrangebyrank zremrangebyscore zremrangebylex zpopmin zpopmax zmpop zrandmember zunion zinter zdiff zunionstore zinterstore zdiffstore zintercard zscan bzpopmin bzpopmax bzmpop sort sort_ro
sadd srem smembers sismember smismember scard spop srandmember smove sinter sintercard sunion sdiff sinterstore sunionstore sdiffstore sscan
subscribe unsubscribe psubscribe punsubscribe ssubscribe sunsubscribe publish spublish pubsub|channels pubsub|numsub pubsub|numpat pubsub|shardchannels pubsub|shardnumsub pubsub|help client|reply
hset hsetnx hget hmget hmset hdel hlen hexists hkeys hvals hgetall hincrby hincrbyfloat hstrlen hrandfield hscan
multi exec discard watch unwatch
lpush rpush lpushx rpushx linsert llen lindex lset lrange ltrim lpos lrem lpop rpop lmpop rpoplpush lmove blpop brpop blmpop brpoplpush blmove
save bgsave lastsave dump restore
setbit getbit bitcount bitpos bitop bitfield bitfield_ro
pfadd pfcount pfmerge pfdebug pfselftest
geoadd geopos geodist geohash georadius georadius_ro georadiusbymember georadiusbymember_ro geosearch geosearchstore
slowlog|get slowlog|len slowlog|reset slowlog|help latency|latest latency|history latency|reset latency|doctor latency|graph latency|histogram latency|help monitor lolwut module|list module|help module|load module|loadex module|unload client|pause client|unpause
acl|cat acl|deluser acl|dryrun acl|genpass acl|getuser acl|list acl|load acl|log acl|save acl|setuser acl|users acl|whoami acl|help
memory|usage memory|doctor memory|stats memory|purge memory|malloc-stats memory|help
sync psync replconf role replicaof slaveof wait failover
xadd xrange xrevrange xlen xdel xtrim xsetid xread xreadgroup xack xpending xclaim xautoclaim
xgroup|create xgroup|createconsumer xgroup|delconsumer xgroup|destroy xgroup|setid xgroup|help
xinfo|stream xinfo|groups xinfo|consumers xinfo|help
eval evalsha eval_ro evalsha_ro script|load script|exists script|flush script|kill script|debug script|help
fcall fcall_ro function|load function|delete function|list function|flush function|dump function|restore function|stats function|kill function|help
""".split()

REDIS_VERSION = "7.0.15"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "crates", "engine", "src", "commands", "meta_data.rs")

# Names Redis prints in COMMAND INFO → our `flags::*` / `acl::*` constants. An unknown name
# stops the script: add the bit to table.rs first.
FLAG_NAMES = {
    "write": "WRITE",
    "readonly": "READONLY",
    "denyoom": "DENYOOM",
    "module": "MODULE",
    "admin": "ADMIN",
    "pubsub": "PUBSUB",
    "noscript": "NOSCRIPT",
    "blocking": "BLOCKING",
    "loading": "LOADING",
    "stale": "STALE",
    "skip_monitor": "SKIP_MONITOR",
    "skip_slowlog": "SKIP_SLOWLOG",
    "asking": "ASKING",
    "fast": "FAST",
    "no_auth": "NO_AUTH",
    "may_replicate": "MAY_REPLICATE",
    "sentinel": "SENTINEL",
    "only_sentinel": "ONLY_SENTINEL",
    "no_mandatory_keys": "NO_MANDATORY_KEYS",
    "protected": "PROTECTED",
    "module_no_cluster": "MODULE_NO_CLUSTER",
    "no_async_loading": "NO_ASYNC_LOADING",
    "no_multi": "NO_MULTI",
    "movablekeys": "MOVABLE_KEYS",
    "allow_busy": "ALLOW_BUSY",
}
ACL_NAMES = [
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
    "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
    "dangerous", "connection", "transaction", "scripting",
]


# --- a minimal RESP3 client ------------------------------------------------------------------

class Resp:
    """Reads RESP3 values as (type, value) tuples: type is one of bulk, status, error, int,
    null, array, set, map, push, double, bool, bignum, verbatim."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return ("status", rest.decode())
        if t == b"-":
            return ("error", rest.decode())
        if t == b":":
            return ("int", int(rest))
        if t == b"_":
            return ("null", None)
        if t == b",":
            return ("double", rest.decode())
        if t == b"#":
            return ("bool", rest == b"t")
        if t == b"(":
            return ("bignum", rest.decode())
        if t in (b"$", b"="):
            n = int(rest)
            if n < 0:
                return ("null", None)
            data = self._exact(n).decode()
            return ("bulk", data) if t == b"$" else ("verbatim", data)
        if t in (b"*", b"~", b">"):
            n = int(rest)
            if n < 0:
                return ("null", None)
            kind = {b"*": "array", b"~": "set", b">": "push"}[t]
            return (kind, [self.read() for _ in range(n)])
        if t == b"%":
            n = int(rest)
            return ("map", [(self.read(), self.read()) for _ in range(n)])
        raise ValueError(f"unexpected RESP type {line!r}")

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        v = self.read()
        if v[0] == "error":
            raise RuntimeError(f"{args}: {v[1]}")
        return v


def encode(v, resp3):
    """Encodes a value tree exactly as Redis would for a RESP2 or RESP3 client (used to
    check that the tree plus the downgrade rules reproduce Redis's RESP2 bytes)."""
    t, x = v
    if t == "bulk":
        b = x.encode()
        return b"$%d\r\n%s\r\n" % (len(b), b)
    if t == "status":
        return b"+%s\r\n" % x.encode()
    if t == "int":
        return b":%d\r\n" % x
    if t == "null":
        return b"_\r\n" if resp3 else b"$-1\r\n"
    if t in ("array", "set"):
        head = b"~" if (t == "set" and resp3) else b"*"
        return head + b"%d\r\n" % len(x) + b"".join(encode(i, resp3) for i in x)
    if t == "map":
        head = b"%%%d\r\n" % len(x) if resp3 else b"*%d\r\n" % (2 * len(x))
        return head + b"".join(encode(k, resp3) + encode(w, resp3) for k, w in x)
    raise ValueError(f"no encoder for {t}")


def raw_call(sock, *args):
    """Sends a command and returns the raw reply bytes (for the RESP2 cross-check)."""
    out = b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n%s\r\n" % (len(a), a.encode())
    sock.sendall(out)
    r = Resp(sock)
    start = len(r.buf)
    # Read one value while remembering every byte consumed.
    consumed = bytearray()
    orig_fill = r._fill

    def fill():
        before = len(r.buf)
        orig_fill()
        consumed.extend(r.buf[before:])

    r._fill = fill
    r.read()
    assert start == 0 and not r.buf, "pipelining confused the raw reader"
    return bytes(consumed)


# --- talking to redis -------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis():
    exe = shutil.which("redis-server")
    if not exe:
        sys.exit("redis-server not found on PATH")
    port = free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--daemonize", "no", "--loglevel", "warning"],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            return proc, socket.create_connection(("127.0.0.1", port)), port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("redis-server did not start")


def m_get(m, key):
    for k, v in m[1]:
        if k[1] == key:
            return v
    return None


def m_set(m, key, value):
    m[1][:] = [(k, value if k[1] == key else v) for k, v in m[1]]


def group_commands():
    """[(top-level name, [subcommand names])] in list order."""
    out, seen = [], {}
    for full in COMMANDS:
        top, _, sub = full.partition("|")
        if top not in seen:
            seen[top] = []
            out.append((top, seen[top]))
        if sub:
            seen[top].append(full)
    return out


def fetch(r, sock2, sock3):
    """Returns [(name, info_tree, docs_tree, subs)] with subcommand lists filtered to ours."""
    hello = r.call("HELLO", "3")
    version = m_get(hello, "version")[1]
    if version != REDIS_VERSION:
        sys.exit(f"redis-server is {version}, expected {REDIS_VERSION}")
    rows = []
    for top, subs in group_commands():
        info = r.call("COMMAND", "INFO", top)[1][0]
        if info[0] == "null":
            sys.exit(f"redis does not know the command {top!r}")
        docs_reply = r.call("COMMAND", "DOCS", top)
        docs = docs_reply[1][0][1]
        # Cross-check the downgrade rules against the bytes Redis sends a RESP2 client.
        for args, tree in (
            (("COMMAND", "INFO", top), r.call("COMMAND", "INFO", top)),
            (("COMMAND", "DOCS", top), docs_reply),
        ):
            if raw_call(sock2, *args) != encode(tree, False):
                sys.exit(f"RESP2 downgrade of {args} differs from Redis")
            if raw_call(sock3, *args) != encode(tree, True):
                sys.exit(f"RESP3 encoding of {args} differs from Redis")
        have = [e[1][0][1] for e in info[1][9][1]]
        missing = [s for s in subs if s not in have]
        if missing:
            sys.exit(f"redis does not know {missing}")
        if have and not subs:
            sys.exit(f"{top} is a container: list the subcommands we implement ({have})")
        # Drop the subcommands we do not implement. Redis lists the rest in its dict order,
        # which is seeded randomly per process; use our list's order so output is stable.
        order = {name: i for i, name in enumerate(subs)}
        info[1][9][1][:] = sorted((e for e in info[1][9][1] if e[1][0][1] in order),
                                  key=lambda e: order[e[1][0][1]])
        sub_docs = m_get(docs, "subcommands")
        if sub_docs is not None:
            sub_docs[1][:] = sorted(((k, v) for k, v in sub_docs[1] if k[1] in order),
                                    key=lambda kv: order[kv[0][1]])
        sub_rows = []
        for e in info[1][9][1]:
            name = e[1][0][1]
            sub_rows.append((name, e, m_get(sub_docs, name), []))
        rows.append((top, info, docs, sub_rows))
    return rows


# --- emitting Rust ------------------------------------------------------------------------------

def rs_str(s):
    out = ['"']
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\u{%x}" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def rs_doc(v):
    t, x = v
    if t == "bulk":
        return f"Bulk({rs_str(x)})"
    if t == "status":
        return f"Status({rs_str(x)})"
    if t == "int":
        return f"Int({x})"
    if t == "null":
        return "Null"
    if t == "array":
        return "Array(&[" + ", ".join(rs_doc(i) for i in x) + "])"
    if t == "set":
        return "Set(&[" + ", ".join(rs_doc(i) for i in x) + "])"
    if t == "map":
        return "Map(&[" + ", ".join(f"({rs_doc(k)}, {rs_doc(w)})" for k, w in x) + "])"
    raise ValueError(f"cannot emit {t}")


def bits(names, table, module):
    out = []
    for n in names:
        if n not in table:
            sys.exit(f"unknown {module} name {n!r}: add it to table.rs and this script")
        out.append(f"{module}::{table[n]}")
    return " | ".join(out) if out else "0"


def rs_key_spec(spec):
    flags = [f[1] for f in m_get(spec, "flags")[1]]
    bs, fk = m_get(spec, "begin_search"), m_get(spec, "find_keys")
    bs_type, bs_spec = m_get(bs, "type")[1], m_get(bs, "spec")
    fk_type, fk_spec = m_get(fk, "type")[1], m_get(fk, "spec")
    if bs_type == "index":
        begin = f"BeginSearch::Index({m_get(bs_spec, 'index')[1]})"
    elif bs_type == "keyword":
        begin = (f"BeginSearch::Keyword {{ keyword: {rs_str(m_get(bs_spec, 'keyword')[1])}, "
                 f"startfrom: {m_get(bs_spec, 'startfrom')[1]} }}")
    else:
        begin = "BeginSearch::Unknown"
    if fk_type == "range":
        find = (f"FindKeys::Range {{ lastkey: {m_get(fk_spec, 'lastkey')[1]}, "
                f"keystep: {m_get(fk_spec, 'keystep')[1]}, limit: {m_get(fk_spec, 'limit')[1]} }}")
    elif fk_type == "keynum":
        find = (f"FindKeys::Keynum {{ keynumidx: {m_get(fk_spec, 'keynumidx')[1]}, "
                f"firstkey: {m_get(fk_spec, 'firstkey')[1]}, "
                f"keystep: {m_get(fk_spec, 'keystep')[1]} }}")
    else:
        find = "FindKeys::Unknown"
    fl = ", ".join(rs_str(f) for f in flags)
    return f"KeySpec {{ flags: &[{fl}], begin: {begin}, find: {find} }}"


# Redis 7.0's CMD_MAY_REPLICATE, which COMMAND INFO does not print (its JSON files set it):
# CLIENT PAUSE WRITE holds these, and replicas may not send them.
MAY_REPLICATE = {"publish", "spublish", "pfcount", "eval", "evalsha", "fcall"}


def rs_row(name, info, docs, subs, indent):
    e = info[1]
    flag_names = [f[1] for f in e[2][1]]
    if name in MAY_REPLICATE and "may_replicate" not in flag_names:
        flag_names.append("may_replicate")
    acl_names = [c[1].lstrip("@") for c in e[6][1]]
    tips = [t[1] for t in e[7][1]]
    key_specs = [rs_key_spec(s) for s in e[8][1]]

    def doc_str(key):
        v = m_get(docs, key) if docs else None
        return rs_str(v[1]) if v else '""'

    doc_flags = m_get(docs, "doc_flags") if docs else None
    doc_flags = [f[1] for f in doc_flags[1]] if doc_flags else []
    sub_rows = ", ".join(rs_row(*s, indent + 1) for s in subs)
    return f"""CommandMeta {{
        name: {rs_str(name)},
        arity: {e[1][1]},
        flags: {bits(flag_names, FLAG_NAMES, "flags")},
        first_key: {e[3][1]},
        last_key: {e[4][1]},
        step: {e[5][1]},
        acl_categories: {bits(acl_names, {n: n.upper() for n in ACL_NAMES}, "acl")},
        group: {doc_str("group")},
        since: {doc_str("since")},
        summary: {doc_str("summary")},
        complexity: {doc_str("complexity")},
        doc_flags: &[{", ".join(rs_str(f) for f in doc_flags)}],
        tips: &[{", ".join(rs_str(t) for t in tips)}],
        key_specs: &[{", ".join(key_specs)}],
        subcommands: &[{sub_rows}],
        info: {rs_doc(info)},
        docs: {rs_doc(docs) if docs else "Map(&[])"},
    }}"""


HEADER = """\
// @generated by scripts/gen_commands.py — do not edit
//
// Command metadata captured from Redis {version} (COMMAND INFO / COMMAND DOCS) for the
// commands ringkv implements. To add a command, edit the list in the script and rerun it.

use super::table::Doc::*;
use super::table::{{BeginSearch, CommandMeta, FindKeys, KeySpec, acl, flags}};

/// Every top-level command, in the script's order; subcommands are nested in their rows.
pub static COMMANDS: &[CommandMeta] = &[
"""


def generate():
    proc, sock, port = start_redis()
    try:
        sock2 = socket.create_connection(("127.0.0.1", port))
        sock3 = socket.create_connection(("127.0.0.1", port))
        raw_call(sock3, "HELLO", "3")
        rows = fetch(Resp(sock), sock2, sock3)
    finally:
        proc.terminate()
        proc.wait()
    body = HEADER.format(version=REDIS_VERSION)
    body += ",\n".join(rs_row(*r, 1) for r in rows) + ",\n];\n"
    rustfmt = shutil.which("rustfmt")
    if not rustfmt:
        sys.exit("rustfmt not found on PATH")
    res = subprocess.run([rustfmt, "--edition", "2024"], input=body.encode(),
                         capture_output=True)
    if res.returncode != 0:
        sys.exit("rustfmt failed:\n" + res.stderr.decode())
    return res.stdout.decode()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="regenerate to a temp file and diff against the checked-in file")
    args = ap.parse_args()
    text = generate()
    if args.check:
        with tempfile.NamedTemporaryFile("w", suffix=".rs", delete=False) as f:
            f.write(text)
        old = open(OUT).read() if os.path.exists(OUT) else ""
        if old != text:
            sys.stdout.writelines(difflib.unified_diff(
                old.splitlines(True), text.splitlines(True), OUT, f.name))
            sys.exit(1)
        os.unlink(f.name)
        print(f"{os.path.relpath(OUT, ROOT)} is up to date")
        return
    with open(OUT, "w") as f:
        f.write(text)
    print(f"wrote {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
