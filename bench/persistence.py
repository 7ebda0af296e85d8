#!/usr/bin/env python3
"""Side-by-side persistence costs: ringkv-server vs redis-server.

Each scenario runs against a fresh server of each kind in turn (never both at once, so they
do not share the CPUs), each with its own temporary `--dir`; who goes first alternates
between rounds. Per-run numbers go to stderr, a Markdown table per scenario to stdout
(medians over the rounds). Keys are `key:%012d` (the names redis-benchmark's `-r` makes, so
its load hits the loaded keyspace) with 50-byte values LZF cannot shrink.

aof             SET throughput with `--appendonly yes` and `--appendfsync always`, then
                `everysec`: redis-benchmark `-t set -c 50 -r 100000 -d 3 -P 1 -n N` and
                `-P 16 -n N16`; requests/s and the server's CPU µs per request (utime+stime
                from /proc/PID/stat around the run, as bench.py). Target: ringkv's `always`
                at least half of its `everysec`.
bgsave-latency  KEYS keys loaded with `redis-cli --pipe`; redis-benchmark `-t get,set -c 20
                -P 1 -d 50 -r KEYS -l` runs as background load, and a probe process (its own
                Python process, so no GIL sharing) sends single GET / SET (alternating,
                random loaded keys) synchronously in a loop, timing each round trip with
                time.perf_counter_ns: p50 / p99 / p99.9 / max, first IDLE_S seconds without
                a save, then SAVE_S seconds during which BGSAVE is issued again as soon as
                INFO persistence says `rdb_bgsave_in_progress:0`. Reported also: BGSAVEs
                completed in the window and the time per BGSAVE (from the BGSAVE reply to
                the first INFO, polled every 5 ms, showing it finished; Redis notices its
                child's exit in serverCron, at `hz` 10 up to 100 ms late). Target: ringkv's
                p99.9 during BGSAVE within 1 ms of its idle p99.9.
bgsave-memory   KEYS keys loaded, redis-benchmark `-t set -c 20 -P 1 -d 50 -r KEYS -l`
                overwriting them throughout; memory is sampled every 10 ms for 1 s (before:
                the highest sample) and during one BGSAVE (peak). Two measures, each summed
                over the server and its children (/proc/PID/task/*/children, i.e. Redis's
                forked child): RSS (VmRSS) and PSS (/proc/PID/smaps_rollup, copy-on-write
                pages shared by parent and child counted once). Target: ringkv's growth
                under 10%.
load-save       KEYS keys loaded; wall time of SAVE; then each server starts on each
                server's dump.rdb (its own and, as compatibility proof, the other's): time
                from exec until the first PING answered +PONG (not -LOADING or refused,
                polled every 10 ms) and the "DB loaded from disk: X seconds" each logs; the
                loaded DBSIZE is checked.

Stdlib only; shares the server runner of bench.py. Files go to a temporary directory under
TMPDIR (its disk sets the fsync cost). Flags or environment variables (flags win):
  ROUNDS=3 KEYS=1000000 N=200000 (SETs per aof run at -P 1) N16=1000000 (at -P 16)
  IDLE_S=5 SAVE_S=10 (bgsave-latency windows)
  SCENARIOS=aof,bgsave-latency,bgsave-memory,load-save
  RINGKV_BIN=target/release/ringkv-server REDIS_BIN=redis-server CLI_BIN=redis-cli
  BENCH_BIN=redis-benchmark
"""

import argparse
import array
import hashlib
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import ROOT, Server, env, machine, run_benchmark  # noqa: E402

SCENARIOS = ("aof", "bgsave-latency", "bgsave-memory", "load-save")
VALUE_TAIL = hashlib.sha256(b"ringkv").hexdigest()[:37].encode()


def key(i):
    return b"key:%012d" % i


def value(i):
    return b"%012d-" % i + VALUE_TAIL  # 50 bytes, nothing LZF could compress


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    """One synchronous RESP connection (replies parsed just enough for these commands)."""

    def __init__(self, port, timeout=600):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        self.buf = b""

    def _fill(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise RuntimeError("connection closed by the server")
        self.buf += chunk

    def reply(self):
        while b"\r\n" not in self.buf:
            self._fill()
        head, _, rest = self.buf.partition(b"\r\n")
        if head[:1] == b"$" and head != b"$-1":
            n = int(head[1:])
            while len(rest) < n + 2:
                self._fill()
                head, _, rest = self.buf.partition(b"\r\n")
            self.buf = rest[n + 2 :]
            return rest[:n]
        self.buf = rest
        if head[:1] == b"-":
            return RuntimeError(head[1:].decode(errors="replace"))
        return None if head == b"$-1" else head[1:]

    def call(self, *args):
        self.sock.sendall(resp(*args))
        return self.reply()

    def close(self):
        self.sock.close()


def info(conn, section):
    text = conn.call("INFO", section)
    return dict(
        line.split(":", 1) for line in text.decode().splitlines() if ":" in line and not line.startswith("#")
    )


# --- the latency probe (runs as its own process: `persistence.py --probe PORT SECONDS KEYS`)


def probe_main(port, seconds, keys):
    """GET / SET alternately on random loaded keys, one at a time, for `seconds` after
    printing a ready line; then writes every round trip (ns, int64) to stdout."""
    conn = Conn(port, timeout=60)
    rnd = random.Random(os.getpid())
    lat = array.array("q")
    out = sys.stdout.buffer
    out.write(b"ready\n")
    out.flush()
    end = time.perf_counter_ns() + int(seconds * 1e9)
    clock = time.perf_counter_ns
    sock, reply = conn.sock, conn.reply
    i = 0
    while True:
        k = rnd.randrange(keys)
        req = resp("GET", key(k)) if i & 1 else resp("SET", key(k), value(k))
        i += 1
        t0 = clock()
        sock.sendall(req)
        r = reply()
        t1 = clock()
        if isinstance(r, Exception):
            sys.exit(f"probe: {r}")
        lat.append(t1 - t0)
        if t1 >= end:
            break
    conn.close()
    out.write(lat.tobytes())
    out.flush()


def run_probe(port, seconds, keys, during=None):
    """Runs the probe process for `seconds`; `during(deadline)` runs meanwhile in this process
    (returns when the window is over). Returns the round trips in seconds, sorted."""
    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--probe", str(port), str(seconds), str(keys)],
        stdout=subprocess.PIPE,
    )
    if proc.stdout.readline() != b"ready\n":
        proc.kill()
        sys.exit("latency probe did not start")
    deadline = time.monotonic() + seconds
    extra = during(deadline) if during else None
    data, _ = proc.communicate()
    if proc.returncode != 0:
        sys.exit(f"latency probe failed ({proc.returncode})")
    lat = array.array("q")
    lat.frombytes(data)
    return sorted(x / 1e9 for x in lat), extra


def pct(sorted_xs, q):
    return sorted_xs[min(len(sorted_xs) - 1, int(q * len(sorted_xs)))] if sorted_xs else float("nan")


# --- memory


def proc_tree(pid):
    """The process and its children (Redis's forked save child; ringkv has none)."""
    pids = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    pids += [int(p) for p in f.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return pids


def kb_field(path, field):
    with open(path) as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return 0


def mem_sample(pid):
    """(RSS, PSS) in bytes, summed over the process and its children."""
    rss = pss = 0
    for p in proc_tree(pid):
        try:
            rss += kb_field(f"/proc/{p}/status", "VmRSS:")
            pss += kb_field(f"/proc/{p}/smaps_rollup", "Pss:")
        except OSError:
            pass  # a child that just exited
    return rss, pss


class MemSampler(threading.Thread):
    """Highest (RSS, PSS) sums, sampled every 10 ms until stopped."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.stop_ev = pid, threading.Event()
        self.peak_rss, self.peak_pss = mem_sample(pid)
        self.samples = 1
        self.start()

    def run(self):
        while not self.stop_ev.wait(0.01):
            rss, pss = mem_sample(self.pid)
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            self.samples += 1

    def finish(self):
        self.stop_ev.set()
        self.join()
        return self.peak_rss, self.peak_pss


# --- servers and data


class PServer(Server):
    """bench.Server with a start-up timeout long enough to load a big dump.rdb."""

    @staticmethod
    def _wait_ready(proc, port, timeout=600.0):
        return Server._wait_ready(proc, port, timeout)


def argv_for(args, name, datadir, extra=()):
    if name == "ringkv":
        base = [args.ringkv_bin, "--port", "{port}", "--bind", "127.0.0.1"]
    else:
        base = [args.redis_bin, "--port", "{port}", "--bind", "127.0.0.1", "--daemonize", "no",
                "--logfile", ""]
    return base + ["--dir", datadir, "--save", "", "--appendonly", "no"] + list(extra)


def fresh_dir(workdir, tag):
    return tempfile.mkdtemp(prefix=f"{tag}-", dir=workdir)


def write_dataset(path, keys):
    with open(path, "wb") as f:
        for lo in range(0, keys, 10000):
            f.write(b"".join(resp("SET", key(i), value(i)) for i in range(lo, min(keys, lo + 10000))))


def load_dataset(args, server, data_path):
    with open(data_path, "rb") as f:
        out = subprocess.run(
            [args.cli_bin, "-h", "127.0.0.1", "-p", str(server.port), "--pipe"],
            stdin=f, capture_output=True, text=True,
        )
    if out.returncode != 0 or f"errors: 0, replies: {args.keys}" not in out.stdout:
        sys.exit(f"redis-cli --pipe against {server.name} failed:\n{out.stdout}\n{out.stderr}")
    c = Conn(server.port)
    n = int(c.call("DBSIZE"))
    c.close()
    if n != args.keys:
        sys.exit(f"{server.name}: DBSIZE {n} after loading {args.keys} keys")


def background_load(args, server, tests):
    """redis-benchmark looping over `tests` on the loaded keyspace until terminated."""
    return subprocess.Popen(
        [args.bench_bin, "-h", "127.0.0.1", "-p", str(server.port), "-c", "20", "-P", "1",
         "-d", "50", "-r", str(args.keys), "-t", tests, "-l", "-q"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def stop_load(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def bgsave(conn, name):
    r = conn.call("BGSAVE")
    if isinstance(r, Exception) or b"started" not in r:
        sys.exit(f"{name}: BGSAVE answered {r!r}")


def wait_bgsave(conn, name):
    """Polls INFO persistence every 5 ms until no BGSAVE runs; checks it succeeded."""
    while True:
        p = info(conn, "persistence")
        if p.get("rdb_bgsave_in_progress") == "0":
            if p.get("rdb_last_bgsave_status") != "ok":
                sys.exit(f"{name}: BGSAVE failed (rdb_last_bgsave_status:{p.get('rdb_last_bgsave_status')})")
            return
        time.sleep(0.005)


# --- scenarios


def scenario_aof(args, workdir, name, fsync, pipe):
    d = fresh_dir(workdir, f"aof-{name}")
    srv = PServer(name, argv_for(args, name, d, ["--appendonly", "yes", "--appendfsync", fsync]), workdir)
    try:
        c = Conn(srv.port)
        p = info(c, "persistence")
        c.close()
        if p.get("aof_enabled") != "1":
            sys.exit(f"{name}: aof_enabled is not 1 with --appendonly yes ({srv.argv})")
        n = args.n if pipe == 1 else args.n16
        opts = types.SimpleNamespace(clients=50, keyspace=100000, datasize=3)
        return run_benchmark(args.bench_bin, srv, "set", pipe, n, opts)
    finally:
        srv.stop()
        shutil.rmtree(d, ignore_errors=True)


def scenario_bgsave_latency(args, workdir, name, data_path):
    d = fresh_dir(workdir, f"lat-{name}")
    srv = PServer(name, argv_for(args, name, d), workdir)
    try:
        load_dataset(args, srv, data_path)
        load = background_load(args, srv, "get,set")
        try:
            time.sleep(1)  # let the load settle
            idle, _ = run_probe(srv.port, args.idle_s, args.keys)

            def saving(deadline):
                conn = Conn(srv.port)
                times, in_window = [], 0
                while time.monotonic() < deadline:
                    t0 = time.monotonic()
                    bgsave(conn, name)
                    wait_bgsave(conn, name)
                    t1 = time.monotonic()
                    times.append(t1 - t0)
                    in_window += t1 <= deadline
                conn.close()
                return times, in_window

            during, (times, saves) = run_probe(srv.port, args.save_s, args.keys, saving)
        finally:
            stop_load(load)
        if load.returncode not in (0, -15):
            sys.exit(f"background redis-benchmark against {name} failed ({load.returncode})")
    finally:
        srv.stop()
        shutil.rmtree(d, ignore_errors=True)
    res = {}
    for phase, lat in (("idle", idle), ("bgsave", during)):
        res[phase] = {
            "p50": pct(lat, 0.50) * 1e3, "p99": pct(lat, 0.99) * 1e3,
            "p999": pct(lat, 0.999) * 1e3, "max": lat[-1] * 1e3, "n": len(lat),
        }
    res["saves"] = saves
    res["save_s"] = statistics.median(times) if times else float("nan")
    return res


def scenario_bgsave_memory(args, workdir, name, data_path):
    d = fresh_dir(workdir, f"mem-{name}")
    srv = PServer(name, argv_for(args, name, d), workdir)
    try:
        load_dataset(args, srv, data_path)
        load = background_load(args, srv, "set")
        try:
            time.sleep(1)
            pid = srv.proc.pid
            sampler = MemSampler(pid)
            time.sleep(1)
            before = sampler.finish()
            conn = Conn(srv.port)
            sampler = MemSampler(pid)
            t0 = time.monotonic()
            bgsave(conn, name)
            wait_bgsave(conn, name)
            save_s = time.monotonic() - t0
            peak = sampler.finish()
            samples = sampler.samples
            conn.close()
        finally:
            stop_load(load)
    finally:
        srv.stop()
        shutil.rmtree(d, ignore_errors=True)
    mb = 2**20
    return {
        "rss0": before[0] / mb, "rss1": peak[0] / mb, "rss_pct": (peak[0] - before[0]) * 100 / before[0],
        "pss0": before[1] / mb, "pss1": peak[1] / mb, "pss_pct": (peak[1] - before[1]) * 100 / before[1],
        "save_s": save_s, "samples": samples,
    }


DB_LOADED = re.compile(r"DB loaded from disk: ([0-9.]+) seconds")


def scenario_save(args, workdir, name, data_path, keep_as):
    """Loads the dataset, times SAVE, keeps the file at `keep_as`."""
    d = fresh_dir(workdir, f"save-{name}")
    srv = PServer(name, argv_for(args, name, d), workdir)
    try:
        load_dataset(args, srv, data_path)
        conn = Conn(srv.port)
        t0 = time.monotonic()
        r = conn.call("SAVE")
        save_s = time.monotonic() - t0
        conn.close()
        if r != b"OK":
            sys.exit(f"{name}: SAVE answered {r!r}")
    finally:
        srv.stop()
    shutil.move(os.path.join(d, "dump.rdb"), keep_as)
    shutil.rmtree(d, ignore_errors=True)
    return {"save_s": save_s, "mb": os.path.getsize(keep_as) / 2**20}


def scenario_load(args, workdir, name, rdb_path):
    """Starts `name` on a copy of `rdb_path`: seconds until PONG and the logged load time."""
    d = fresh_dir(workdir, f"load-{name}")
    shutil.copy(rdb_path, os.path.join(d, "dump.rdb"))
    t0 = time.monotonic()
    srv = PServer(name, argv_for(args, name, d), workdir)
    ready_s = time.monotonic() - t0
    try:
        conn = Conn(srv.port)
        n = int(conn.call("DBSIZE"))
        k = args.keys // 2
        got = conn.call("GET", key(k))
        conn.close()
    finally:
        srv.stop()
    with open(srv.log_path, errors="replace") as f:
        m = DB_LOADED.search(f.read())
    shutil.rmtree(d, ignore_errors=True)
    if n != args.keys or got != value(k):
        sys.exit(f"{name} loading {rdb_path}: DBSIZE {n}, GET {key(k)!r} = {got!r}")
    return {"ready_s": ready_s, "logged_s": float(m.group(1)) if m else float("nan")}


# --- main


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--probe":
        return probe_main(int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=int(env("ROUNDS", "3")))
    p.add_argument("--keys", type=int, default=int(env("KEYS", "1000000")))
    p.add_argument("--n", type=int, default=int(env("N", "200000")), help="SETs per aof run at -P 1")
    p.add_argument("--n16", type=int, default=int(env("N16", "1000000")), help="SETs per aof run at -P 16")
    p.add_argument("--idle-s", type=float, default=float(env("IDLE_S", "5")))
    p.add_argument("--save-s", type=float, default=float(env("SAVE_S", "10")))
    p.add_argument("--scenarios", default=env("SCENARIOS", ",".join(SCENARIOS)))
    p.add_argument("--ringkv-bin", default=env("RINGKV_BIN", os.path.join(ROOT, "target/release/ringkv-server")))
    p.add_argument("--redis-bin", default=env("REDIS_BIN", "redis-server"))
    p.add_argument("--cli-bin", default=env("CLI_BIN", "redis-cli"))
    p.add_argument("--bench-bin", default=env("BENCH_BIN", "redis-benchmark"))
    args = p.parse_args()
    for b in (args.ringkv_bin, args.redis_bin, args.cli_bin, args.bench_bin):
        if not shutil.which(b):
            sys.exit(f"not found or not executable: {b}")
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for s in scenarios:
        if s not in SCENARIOS:
            sys.exit(f"unknown scenario {s!r} (known: {', '.join(SCENARIOS)})")

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    workdir = tempfile.mkdtemp(prefix="ringkv-persistence-")
    results = {}  # (scenario, ...) -> [result]
    add = lambda k, r: results.setdefault(k, []).append(r)
    try:
        data_path = None
        if any(s != "aof" for s in scenarios):
            data_path = os.path.join(workdir, "dataset.resp")
            write_dataset(data_path, args.keys)
        for rnd in range(args.rounds):
            order = ["ringkv", "redis"] if rnd % 2 == 0 else ["redis", "ringkv"]
            tag = f"round {rnd + 1}/{args.rounds}"
            for sc in scenarios:
                if sc == "aof":
                    for fsync in ("always", "everysec"):
                        for pipe in (1, 16):
                            for name in order:
                                r = scenario_aof(args, workdir, name, fsync, pipe)
                                add(("aof", fsync, pipe, name), r)
                                log(f"{tag} aof {fsync:<8} -P {pipe:<2} {name:<6} {r['rps']:>10.0f} rps "
                                    f"{r['cpu_us']:6.2f} cpu-us/req ({r['wall_s']:.1f}s)")
                elif sc == "bgsave-latency":
                    for name in order:
                        r = scenario_bgsave_latency(args, workdir, name, data_path)
                        add(("lat", name), r)
                        for ph in ("idle", "bgsave"):
                            x = r[ph]
                            log(f"{tag} bgsave-latency {name:<6} {ph:<6} p50 {x['p50']:.3f} p99 {x['p99']:.3f} "
                                f"p99.9 {x['p999']:.3f} max {x['max']:.3f} ms ({x['n']} requests)")
                        log(f"{tag} bgsave-latency {name:<6} {r['saves']} BGSAVEs, {r['save_s']:.2f} s each")
                elif sc == "bgsave-memory":
                    for name in order:
                        r = scenario_bgsave_memory(args, workdir, name, data_path)
                        add(("mem", name), r)
                        log(f"{tag} bgsave-memory {name:<6} RSS {r['rss0']:.0f} -> {r['rss1']:.0f} MB "
                            f"({r['rss_pct']:+.1f}%), PSS {r['pss0']:.0f} -> {r['pss1']:.0f} MB "
                            f"({r['pss_pct']:+.1f}%), BGSAVE {r['save_s']:.2f} s ({r['samples']} samples)")
                else:
                    files = {}
                    for name in order:
                        files[name] = os.path.join(workdir, f"{name}.rdb")
                        r = scenario_save(args, workdir, name, data_path, files[name])
                        add(("save", name), r)
                        log(f"{tag} load-save {name:<6} SAVE {r['save_s']:.2f} s, {r['mb']:.1f} MB")
                    for loader in order:
                        for writer in order:
                            r = scenario_load(args, workdir, loader, files[writer])
                            add(("load", writer, loader), r)
                            log(f"{tag} load-save {loader:<6} loading {writer}'s file: PONG after "
                                f"{r['ready_s']:.2f} s, logged {r['logged_s']:.3f} s")
                    for f in files.values():
                        os.remove(f)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    med = lambda rs, k: statistics.median(r[k] for r in rs)
    ratio = lambda a, b: f"{a / b:.2f}" if b else "n/a"
    print(f"\n{machine()}")
    print(f"median of {args.rounds} rounds; one server at a time, each with a fresh --dir under "
          f"{tempfile.gettempdir()}")
    if "aof" in scenarios:
        print(f"\n#### aof: redis-benchmark -t set -c 50 -r 100000 -d 3, n = {args.n} at -P 1, "
              f"{args.n16} at -P 16, --appendonly yes\n")
        print("| appendfsync | pipeline | ringkv rps | redis rps | ratio | ringkv cpu-µs/req | redis cpu-µs/req | ratio |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        rps = {}
        for fsync in ("always", "everysec"):
            for pipe in (1, 16):
                k, r = results[("aof", fsync, pipe, "ringkv")], results[("aof", fsync, pipe, "redis")]
                krps, rrps = med(k, "rps"), med(r, "rps")
                kcpu, rcpu = med(k, "cpu_us"), med(r, "cpu_us")
                rps[(fsync, pipe, "ringkv")], rps[(fsync, pipe, "redis")] = krps, rrps
                print(f"| {fsync} | {pipe} | {krps:,.0f} | {rrps:,.0f} | {ratio(krps, rrps)} "
                      f"| {kcpu:.2f} | {rcpu:.2f} | {ratio(kcpu, rcpu)} |")
        print("\nalways / everysec rps (target for ringkv: >= 0.5): " + "; ".join(
            f"{n} -P {pipe} {ratio(rps[('always', pipe, n)], rps[('everysec', pipe, n)])}"
            for n in ("ringkv", "redis") for pipe in (1, 16)))
    if "bgsave-latency" in scenarios:
        print(f"\n#### bgsave-latency: {args.keys} keys, single GET/SET round trips of a probe "
              f"process under redis-benchmark -t get,set -c 20 -P 1 -d 50 -r {args.keys}; "
              f"idle {args.idle_s:g} s, then {args.save_s:g} s of back-to-back BGSAVEs\n")
        print("| server | phase | p50 ms | p99 ms | p99.9 ms | max ms | probe requests | BGSAVEs | s per BGSAVE | p99.9 − idle p99.9 ms |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name in ("ringkv", "redis"):
            rs = results[("lat", name)]
            for ph in ("idle", "bgsave"):
                xs = [r[ph] for r in rs]
                tail = " | | |"
                if ph == "bgsave":
                    delta = statistics.median(r["bgsave"]["p999"] - r["idle"]["p999"] for r in rs)
                    tail = f" {med(rs, 'saves'):g} | {med(rs, 'save_s'):.2f} | {delta:+.3f} |"
                print(f"| {name} | {ph} | {med(xs, 'p50'):.3f} | {med(xs, 'p99'):.3f} | {med(xs, 'p999'):.3f} "
                      f"| {med(xs, 'max'):.3f} | {med(xs, 'n'):,.0f} |{tail}")
    if "bgsave-memory" in scenarios:
        print(f"\n#### bgsave-memory: {args.keys} keys, one BGSAVE under redis-benchmark -t set "
              f"-c 20 -P 1 -d 50 -r {args.keys}; sums over the server and its children\n")
        print("| server | RSS before MB | RSS peak MB | RSS growth | PSS before MB | PSS peak MB | PSS growth | BGSAVE s |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name in ("ringkv", "redis"):
            rs = results[("mem", name)]
            print(f"| {name} | {med(rs, 'rss0'):.0f} | {med(rs, 'rss1'):.0f} | {med(rs, 'rss_pct'):+.1f}% "
                  f"| {med(rs, 'pss0'):.0f} | {med(rs, 'pss1'):.0f} | {med(rs, 'pss_pct'):+.1f}% "
                  f"| {med(rs, 'save_s'):.2f} |")
    if "load-save" in scenarios:
        print(f"\n#### load-save: {args.keys} keys\n")
        print("| file written by | SAVE s | file MB | loaded by | start-up to PONG s | \"DB loaded from disk\" s |")
        print("|---|---:|---:|---|---:|---:|")
        for writer in ("ringkv", "redis"):
            s = results[("save", writer)]
            for loader in ("ringkv", "redis"):
                rs = results[("load", writer, loader)]
                print(f"| {writer} | {med(s, 'save_s'):.2f} | {med(s, 'mb'):.1f} | {loader} "
                      f"| {med(rs, 'ready_s'):.2f} | {med(rs, 'logged_s'):.3f} |")


if __name__ == "__main__":
    main()
