#!/usr/bin/env python3
"""Lua scripting side by side: ringkv-server vs redis-server.

Both servers run at once (no persistence) on free loopback ports; the scripts are loaded
with SCRIPT LOAD on each, then every workload runs as one redis-benchmark command against
each server in turn (who goes first alternates by round), at each pipeline depth; the
server's utime+stime from /proc/PID/stat around the run gives CPU microseconds per request.
Medians over the rounds.

    python3 bench/scripting.py [--rounds 3] [--n 100000] [--pipelines 1,16]

Workloads: EVALSHA of the INCR + EXPIRE rate limiter (random keys among 100,000), EVALSHA
of a 10-command script (SET, GET, INCR, HSET, HGET, LPUSH, LTRIM, SADD, SISMEMBER,
EXPIRE), EVAL of the rate limiter's body (cached after the first call: the SHA-1 of the
body every time), and EVALSHA of an empty script (the fixed cost of a script call).
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import ROOT, CLK_TCK, Server, cpu_ticks, fmt_ratio, machine  # noqa: E402

RATE_LIMITER = ("local c = redis.call('INCR', KEYS[1]) "
                "if c == 1 then redis.call('EXPIRE', KEYS[1], 60) end "
                "return c")
TEN = ("redis.call('SET', KEYS[1], ARGV[1]) "
       "redis.call('GET', KEYS[1]) "
       "redis.call('INCR', KEYS[2]) "
       "redis.call('HSET', KEYS[3], 'f', ARGV[1]) "
       "redis.call('HGET', KEYS[3], 'f') "
       "redis.call('LPUSH', KEYS[4], ARGV[1]) "
       "redis.call('LTRIM', KEYS[4], 0, 9) "
       "redis.call('SADD', KEYS[5], ARGV[1]) "
       "redis.call('SISMEMBER', KEYS[5], ARGV[1]) "
       "return redis.call('EXPIRE', KEYS[1], 100)")
EMPTY = "return 1"


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def script_load(port, body):
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(resp("SCRIPT", "LOAD", body))
        buf = b""
        while not buf.endswith(b"\r\n") or buf.startswith(b"$") and buf.count(b"\r\n") < 2:
            buf += s.recv(4096)
        if not buf.startswith(b"$"):
            sys.exit(f"SCRIPT LOAD failed: {buf!r}")
        return buf.split(b"\r\n")[1].decode()


def run(bench_bin, server, argv, pipeline, n, clients):
    cmd = [bench_bin, "-h", "127.0.0.1", "-p", str(server.port), "-c", str(clients),
           "-n", str(n), "-P", str(pipeline), "--csv"] + argv
    before = cpu_ticks(server.proc.pid)
    out = subprocess.run(cmd, capture_output=True, text=True)
    after = cpu_ticks(server.proc.pid)
    if out.returncode != 0 or server.proc.poll() is not None:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}")
    rows = [l.split('","') for l in out.stdout.splitlines() if l and not l.startswith('"test"')]
    rps = float(rows[-1][1].strip('"'))
    return rps, (after - before) * 1e6 / CLK_TCK / n


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--n", type=int, default=100000, help="requests per run at -P 1 (x4 at -P 16)")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--pipelines", default="1,16")
    p.add_argument("--ringkv-bin", default=os.path.join(ROOT, "target/release/ringkv-server"))
    p.add_argument("--redis-bin", default="redis-server")
    p.add_argument("--bench-bin", default="redis-benchmark")
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix="ringkv-lua-")
    servers = [
        Server("ringkv", [args.ringkv_bin, "--port", "{port}", "--save", ""], work),
        Server("redis", [args.redis_bin, "--port", "{port}", "--save", "", "--appendonly", "no"], work),
    ]
    try:
        shas = {}
        for s in servers:
            for name, body in (("rl", RATE_LIMITER), ("ten", TEN), ("empty", EMPTY)):
                shas[name] = script_load(s.port, body)
        workloads = [
            ("EVALSHA rate limiter", ["-r", "100000", "EVALSHA", shas["rl"], "1", "rl:__rand_int__"]),
            ("EVALSHA 10 commands", ["-r", "100000", "EVALSHA", shas["ten"], "5",
                                     "k:__rand_int__", "c:__rand_int__", "h:__rand_int__",
                                     "l:__rand_int__", "s:__rand_int__", "v__rand_int__"]),
            ("EVAL rate limiter", ["-r", "100000", "EVAL", RATE_LIMITER, "1", "rl:__rand_int__"]),
            ("EVALSHA return 1", ["EVALSHA", shas["empty"], "0"]),
        ]
        pipelines = [int(x) for x in args.pipelines.split(",")]
        results = {}
        for r in range(args.rounds):
            order = servers if r % 2 == 0 else servers[::-1]
            for name, argv in workloads:
                for pl in pipelines:
                    n = args.n * (4 if pl > 1 else 1)
                    for s in order:
                        results.setdefault((name, pl, s.name), []).append(
                            run(args.bench_bin, s, argv, pl, n, args.clients))
        print(f"# {machine()}; {args.rounds} rounds, medians, {args.clients} clients")
        print("| workload | -P | ringkv req/s | redis req/s | ratio | ringkv CPU µs/req | redis CPU µs/req | CPU ratio |")
        print("|---|---|---|---|---|---|---|---|")
        for name, _ in workloads:
            for pl in pipelines:
                rk = results[(name, pl, "ringkv")]
                rd = results[(name, pl, "redis")]
                rk_rps = statistics.median(x[0] for x in rk)
                rd_rps = statistics.median(x[0] for x in rd)
                rk_cpu = statistics.median(x[1] for x in rk)
                rd_cpu = statistics.median(x[1] for x in rd)
                print(f"| {name} | {pl} | {rk_rps:,.0f} | {rd_rps:,.0f} | {fmt_ratio(rk_rps, rd_rps)} "
                      f"| {rk_cpu:.2f} | {rd_cpu:.2f} | {fmt_ratio(rk_cpu, rd_cpu)} |")
    finally:
        for s in servers:
            s.stop()


if __name__ == "__main__":
    main()
