#!/usr/bin/env python3
"""Side-by-side eviction benchmark: ringkv-server vs redis-server under `maxmemory`.

Both servers run at once (no persistence, `maxmemory-policy allkeys-lru`), and for each
round the same work runs against each in turn (alternating who goes first):

1. Throughput under eviction: redis-benchmark SETs of DATASIZE-byte values on a keyspace of
   random keys, writing 4x `maxmemory` (so nearly every SET evicts), at -P 1 and -P 16.
   Reported: requests/s, p99 latency (redis-benchmark's), server CPU microseconds per
   request from /proc/PID/stat.
2. Memory held at the limit: while (1) runs, a poller reads `used_memory` every 20 ms; the
   table gives the highest value seen and the value at the end, as a fraction of the limit
   (target: within 5%).
3. LRU quality: fill the limit with keys, wait 2 s (the LRU clock ticks in seconds), read a
   quarter of them, then write half as many new keys again; the share of the read keys that
   survive (ideal LRU: 100%, random eviction: ~50%).
4. volatile-ttl quality: fill the limit with keys of distinct shuffled TTLs, write a quarter
   as many keys again (longer TTLs); the share of the evicted keys that had the shortest
   TTLs (ideal: 100%, random: ~25%).

Stdlib only. Flags or environment: ROUNDS=3 MAXMEMORY=32mb DATASIZE=1024 CLIENTS=50
RINGKV_BIN=target/release/ringkv-server REDIS_BIN=redis-server BENCH_BIN=redis-benchmark
"""

import argparse
import csv
import io
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import CLK_TCK, ROOT, Server, cpu_ticks, machine  # noqa: E402


def env(name, default):
    return os.environ.get(name, default)


def parse_mem(s):
    s = s.strip().lower()
    for suffix, mul in (("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10), ("b", 1)):
        if s.endswith(suffix):
            return int(s[: -len(suffix)]) * mul
    return int(s)


class Conn:
    """A minimal RESP client: enough for INFO, CONFIG, pipelined SET/GET/EXISTS."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(1 << 16)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self.buf += self.s.recv(1 << 16)
        data, self.buf = self.buf[:n], self.buf[n + 2 :]
        return data

    def reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t in (b"+", b":"):
            return int(rest) if t == b":" else rest.decode()
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if t == b"*":
            return [self.reply() for _ in range(int(rest))]
        raise RuntimeError(f"unexpected reply {line!r}")

    @staticmethod
    def encode(*args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def cmd(self, *args):
        self.s.sendall(self.encode(*args))
        return self.reply()

    def pipeline(self, cmds, batch=500):
        out = []
        for i in range(0, len(cmds), batch):
            part = cmds[i : i + batch]
            self.s.sendall(b"".join(self.encode(*c) for c in part))
            out.extend(self.reply() for _ in part)
        return out

    def info(self, section, field):
        text = self.cmd("INFO", section).decode()
        for line in text.splitlines():
            if line.startswith(field + ":"):
                return int(line.split(":", 1)[1])
        raise KeyError(field)


def throughput(args, server, pipeline, maxmemory):
    """Phase 1 and 2 for one server: SETs at 4x maxmemory with a used_memory poller."""
    c = Conn(server.port)
    c.cmd("FLUSHALL")
    c.cmd("CONFIG", "SET", "maxmemory", maxmemory, "maxmemory-policy", "allkeys-lru")
    # Enough SETs to write 4x the limit in values alone.
    n = 4 * maxmemory // args.datasize
    poll = Conn(server.port)
    seen = []
    stop = threading.Event()

    def poller():
        while not stop.is_set():
            seen.append(poll.info("memory", "used_memory"))
            time.sleep(0.02)

    th = threading.Thread(target=poller)
    cmd = [
        args.bench_bin, "-h", "127.0.0.1", "-p", str(server.port), "-c", str(args.clients),
        "-n", str(n), "-P", str(pipeline), "-r", "100000000", "-d", str(args.datasize),
        "-t", "set", "--csv",
    ]
    before = cpu_ticks(server.proc.pid)
    th.start()
    out = subprocess.run(cmd, capture_output=True, text=True)
    stop.set()
    th.join()
    after = cpu_ticks(server.proc.pid)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}")
    rows = [r for r in csv.reader(io.StringIO(out.stdout)) if r and r[0] != "test"]
    row = rows[0]
    end = c.info("memory", "used_memory")
    evicted = c.info("stats", "evicted_keys")
    # The first samples precede the limit being reached; the steady state is what counts.
    steady = seen[len(seen) // 4 :] or seen
    return {
        "rps": float(row[1]),
        "p99": float(row[6]),
        "cpu_us": (after - before) * 1e6 / CLK_TCK / n,
        "max_frac": max(steady) / maxmemory,
        "end_frac": end / maxmemory,
        "evicted": evicted,
    }


def lru_quality(args, server, maxmemory):
    """Phase 3: the share of recently read keys that survive allkeys-lru eviction."""
    c = Conn(server.port)
    c.cmd("FLUSHALL")
    c.cmd("CONFIG", "SET", "maxmemory", 0)
    value = b"v" * args.datasize
    base = c.info("memory", "used_memory")
    # Fill until the next batch would pass the limit (measured, not estimated).
    n = 0
    while True:
        c.pipeline([("SET", f"key:{i}", value) for i in range(n, n + 500)])
        n += 500
        if c.info("memory", "used_memory") > base + maxmemory * 0.95:
            break
    c.cmd("CONFIG", "SET", "maxmemory", c.info("memory", "used_memory") + (64 << 10),
          "maxmemory-policy", "allkeys-lru")
    time.sleep(2.1)
    hot = list(range(0, n, 4))
    c.pipeline([("GET", f"key:{i}") for i in hot])
    time.sleep(1.1)
    c.pipeline([("SET", f"new:{i}", value) for i in range(n // 2)])
    alive = c.pipeline([("EXISTS", f"key:{i}") for i in hot])
    evicted = c.info("stats", "evicted_keys")
    return {"hot_survival": sum(alive) / len(hot), "keys": n, "evicted": evicted}


def ttl_quality(args, server, maxmemory):
    """Phase 4: volatile-ttl. Keys with distinct TTLs (shuffled) fill the limit; writing a
    quarter as many keys again (with longer TTLs) evicts about that many: the share of the
    evicted keys that were among the shortest-TTL quarter (ideal: 100%, random: ~25%)."""
    import random
    c = Conn(server.port)
    c.cmd("FLUSHALL")
    c.cmd("CONFIG", "SET", "maxmemory", 0)
    value = b"v" * args.datasize
    base = c.info("memory", "used_memory")
    rng = random.Random(7)
    n = 0
    ttls = {}
    while True:
        batch = []
        for i in range(n, n + 500):
            ttls[i] = 10_000 + rng.randrange(1_000_000)
            batch.append(("SET", f"key:{i}", value, "EX", ttls[i]))
        c.pipeline(batch)
        n += 500
        if c.info("memory", "used_memory") > base + maxmemory * 0.95:
            break
    c.cmd("CONFIG", "SET", "maxmemory", c.info("memory", "used_memory") + (64 << 10),
          "maxmemory-policy", "volatile-ttl")
    c.pipeline([("SET", f"new:{i}", value, "EX", 2_000_000) for i in range(n // 4)], batch=100)
    alive = c.pipeline([("EXISTS", f"key:{i}") for i in range(n)])
    gone = [i for i in range(n) if not alive[i]]
    cutoff = sorted(ttls.values())[len(gone) - 1] if gone else 0
    shortest = sum(1 for i in gone if ttls[i] <= cutoff)
    return {"precision": shortest / max(1, len(gone)), "evicted": len(gone), "keys": n}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=int(env("ROUNDS", "3")))
    p.add_argument("--maxmemory", default=env("MAXMEMORY", "32mb"))
    p.add_argument("--datasize", type=int, default=int(env("DATASIZE", "1024")))
    p.add_argument("--clients", type=int, default=int(env("CLIENTS", "50")))
    p.add_argument("--ringkv-bin", default=env("RINGKV_BIN", os.path.join(ROOT, "target/release/ringkv-server")))
    p.add_argument("--redis-bin", default=env("REDIS_BIN", "redis-server"))
    p.add_argument("--bench-bin", default=env("BENCH_BIN", "redis-benchmark"))
    args = p.parse_args()
    maxmemory = parse_mem(args.maxmemory)
    for b in (args.ringkv_bin, args.redis_bin, args.bench_bin):
        if not shutil.which(b):
            sys.exit(f"not found or not executable: {b}")

    workdir = tempfile.mkdtemp(prefix="ringkv-evict-")
    common = ["--port", "{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    servers = {}
    results = {}
    try:
        servers["ringkv"] = Server("ringkv", [args.ringkv_bin] + common, workdir)
        servers["redis"] = Server(
            "redis",
            [args.redis_bin] + common + ["--daemonize", "no", "--dir", workdir, "--logfile", ""],
            workdir,
        )
        for rnd in range(args.rounds):
            order = ["ringkv", "redis"] if rnd % 2 == 0 else ["redis", "ringkv"]
            for pipe in (1, 16):
                for name in order:
                    r = throughput(args, servers[name], pipe, maxmemory)
                    results.setdefault(("set", pipe, name), []).append(r)
                    print(f"round {rnd + 1} -P {pipe:<2} {name:<6} {r}", file=sys.stderr, flush=True)
            for name in order:
                r = lru_quality(args, servers[name], maxmemory)
                results.setdefault(("lru", 0, name), []).append(r)
                print(f"round {rnd + 1} lru    {name:<6} {r}", file=sys.stderr, flush=True)
            for name in order:
                r = ttl_quality(args, servers[name], maxmemory)
                results.setdefault(("ttl", 0, name), []).append(r)
                print(f"round {rnd + 1} ttl    {name:<6} {r}", file=sys.stderr, flush=True)
    finally:
        for s in servers.values():
            s.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    med = statistics.median
    print(f"\n{machine()}")
    print(
        f"maxmemory {args.maxmemory} allkeys-lru; redis-benchmark -t set -c {args.clients} "
        f"-d {args.datasize} -r 100000000, 4x maxmemory written per run; median of "
        f"{args.rounds} rounds\n"
    )
    print("| -P | ringkv rps | redis rps | ratio | ringkv p99 ms | redis p99 ms | ringkv cpu-µs/req | redis cpu-µs/req | ratio | ringkv used/limit max, end | redis used/limit max, end |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for pipe in (1, 16):
        k = results[("set", pipe, "ringkv")]
        r = results[("set", pipe, "redis")]
        g = lambda xs, f: med([x[f] for x in xs])
        print(
            f"| {pipe} | {g(k, 'rps'):,.0f} | {g(r, 'rps'):,.0f} | {g(k, 'rps') / g(r, 'rps'):.2f} "
            f"| {g(k, 'p99'):.3f} | {g(r, 'p99'):.3f} "
            f"| {g(k, 'cpu_us'):.2f} | {g(r, 'cpu_us'):.2f} | {g(k, 'cpu_us') / g(r, 'cpu_us'):.2f} "
            f"| {max(x['max_frac'] for x in k):.3f}, {g(k, 'end_frac'):.3f} "
            f"| {max(x['max_frac'] for x in r):.3f}, {g(r, 'end_frac'):.3f} |"
        )
    k = results[("lru", 0, "ringkv")]
    r = results[("lru", 0, "redis")]
    print("\n| recently read keys surviving allkeys-lru | ringkv | redis |")
    print("|---|---:|---:|")
    print(
        f"| share (median of {args.rounds}; keys at the limit ~{k[0]['keys']}) "
        f"| {med([x['hot_survival'] for x in k]) * 100:.1f}% | {med([x['hot_survival'] for x in r]) * 100:.1f}% |"
    )
    k = results[("ttl", 0, "ringkv")]
    r = results[("ttl", 0, "redis")]
    print(
        f"| volatile-ttl: evicted keys that were among the shortest TTLs (median of {args.rounds}; "
        f"~{k[0]['evicted']} evicted) | {med([x['precision'] for x in k]) * 100:.1f}% "
        f"| {med([x['precision'] for x in r]) * 100:.1f}% |"
    )


if __name__ == "__main__":
    main()
