#!/usr/bin/env python3
"""Memory per element: ringkv-server vs redis-server, loading the same data into each.

For each scenario both servers start empty (no persistence), the same commands are piped
in with `redis-cli --pipe`, and the growth of INFO `used_memory` and of the process RSS
(/proc/PID/status VmRSS) is divided by the number of elements. `used_memory` is what each
server's allocator accounting reports (Redis: jemalloc's allocated size classes; ringkv: the
bytes requested from the allocator), so RSS growth is the like-for-like figure.

Usage: bench/memory.py [--n 1000000] [--ringkv-bin target/release/ringkv-server]
Stdlib only.
"""

import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Server, ROOT  # noqa: E402


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def scenarios(n):
    batch = 100

    def strings():
        for i in range(n):
            yield resp("SET", f"key:{i:010d}", f"value:{i}")

    def small_hashes():
        for i in range(n):
            yield resp("HSET", f"user:{i:010d}", "name", "x", "age", "y")

    def big(cmd, key, member):
        def gen():
            for s in range(0, n, batch):
                args = [cmd, key]
                for i in range(s, min(n, s + batch)):
                    args.extend(member(i))
                yield resp(*args)
        return gen

    return [
        ("string keys (SET key:N value:N)", n, strings),
        ("small hashes (HSET user:N name x age y)", n, small_hashes),
        ("list, 1 key (RPUSH 10-byte elements)", n, big("RPUSH", "list", lambda i: [f"elem:{i:05d}"[:10]])),
        ("set, 1 key (SADD m:N)", n, big("SADD", "set", lambda i: [f"m:{i}"])),
        ("zset, 1 key (ZADD score m:N)", n, big("ZADD", "zset", lambda i: [str((i * 7919) % n), f"m:{i}"])),
    ]


def info_used(port):
    out = subprocess.run(["redis-cli", "-p", str(port), "info", "memory"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("used_memory:"):
            return int(line.split(":")[1])
    raise RuntimeError("no used_memory")


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def measure(server, gen):
    with tempfile.NamedTemporaryFile(delete=False) as f:
        for chunk in gen():
            f.write(chunk)
        path = f.name
    # Warm-up: the same volume of request bytes that store nothing (ECHO), so buffers that
    # grow once (ringkv's provided-buffer ring, Redis's query buffer) are in the baseline.
    size = os.path.getsize(path)
    echo = resp("ECHO", "x" * 100)
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(echo * (size // len(echo) + 1))
        warm = f.name
    with open(warm, "rb") as f:
        subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"], stdin=f, capture_output=True, check=True)
    os.unlink(warm)
    u0, r0 = info_used(server.port), rss(server.proc.pid)
    with open(path, "rb") as f:
        subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"], stdin=f, capture_output=True, check=True)
    u1, r1 = info_used(server.port), rss(server.proc.pid)
    os.unlink(path)
    return u1 - u0, r1 - r0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("--ringkv-bin", default=os.path.join(ROOT, "target/release/ringkv-server"))
    a = p.parse_args()
    rows = []
    for name, n, gen in scenarios(a.n):
        res = {}
        for label, argv in (
            ("ringkv", [a.ringkv_bin, "--port", "{port}"]),
            ("redis", ["redis-server", "--port", "{port}", "--save", "", "--appendonly", "no"]),
        ):
            with tempfile.TemporaryDirectory() as d:
                s = Server(label, argv, d)
                try:
                    res[label] = measure(s, gen)
                finally:
                    s.stop()
        rows.append((name, n, res))
        (ru, rr), (eu, er) = res["ringkv"], res["redis"]
        print(f"{name}: ringkv used {ru / n:.1f} rss {rr / n:.1f} | redis used {eu / n:.1f} rss {er / n:.1f}", file=sys.stderr)
    print("| data | elements | ringkv used_memory B/elem | redis used_memory B/elem | ringkv RSS B/elem | redis RSS B/elem | RSS ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, n, res in rows:
        (ru, rr), (eu, er) = res["ringkv"], res["redis"]
        print(f"| {name} | {n:,} | {ru / n:.1f} | {eu / n:.1f} | {rr / n:.1f} | {er / n:.1f} | {rr / er:.2f} |")


if __name__ == "__main__":
    main()
