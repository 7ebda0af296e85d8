#!/usr/bin/env python3
"""Bitmaps, HyperLogLog and geo, side by side: ringkv-server vs redis-server.

Both servers run at once (no persistence) on free loopback ports and get the same data
loaded first: a 1 MB bitmap, two HyperLogLogs of 100,000 elements each, and 10,000 geo
points around Sicily. Then each workload below runs as one redis-benchmark command against
each server in turn (who goes first alternates by round), at each pipeline depth; the
server's utime+stime from /proc/PID/stat around the run gives CPU microseconds per request.
Medians over the rounds.

    python3 bench/datatypes.py [--rounds 3] [--n 100000] [--pipelines 1,16]

Workloads: SETBIT on the 1 MB bitmap (a fixed offset), BITCOUNT of the whole bitmap, BITCOUNT of a 1 KB
range, PFADD of random elements, PFCOUNT of one (cached) HLL, PFCOUNT of two (a merge every
time), GEOADD, GEOSEARCH (20 km radius, 10 nearest) and GEODIST.
"""

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import ROOT, CLK_TCK, Server, cpu_ticks, fmt_ratio, machine  # noqa: E402

WORKLOADS = [
    # redis-benchmark's __rand_int__ is zero-padded, which no bit offset parser accepts:
    # a fixed offset in the middle of the 1 MB bitmap.
    ("SETBIT 1MB", ["SETBIT", "bm", "4194303", "1"]),
    ("BITCOUNT 1MB", ["BITCOUNT", "bm"]),
    ("BITCOUNT 1KB range", ["BITCOUNT", "bm", "1000", "2023"]),
    ("PFADD", ["-r", "10000000", "PFADD", "hll3", "e:__rand_int__"]),
    ("PFCOUNT 1 key", ["PFCOUNT", "hll1"]),
    ("PFCOUNT 2 keys", ["PFCOUNT", "hll1", "hll2"]),
    ("GEOADD", ["-r", "1000000", "GEOADD", "geo2", "13.361389", "38.115556", "m:__rand_int__"]),
    ("GEOSEARCH 20km", ["GEOSEARCH", "geo", "FROMLONLAT", "14", "37.5", "BYRADIUS", "20", "km", "ASC", "COUNT", "10"]),
    ("GEODIST", ["GEODIST", "geo", "p:1", "p:2", "km"]),
]


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def load(port):
    """The same dataset on a server, pipelined; waits for every reply."""
    rnd = random.Random(42)
    cmds = [resp("SETBIT", "bm", 8 * 1024 * 1024 - 1, 0)]
    for _ in range(20000):
        cmds.append(resp("SETBIT", "bm", rnd.randrange(8 * 1024 * 1024), 1))
    for key in ("hll1", "hll2"):
        for c in range(0, 100000, 1000):
            cmds.append(resp("PFADD", key, *(f"{key}:{i}" for i in range(c, c + 1000))))
        cmds.append(resp("PFCOUNT", key))
    for c in range(0, 10000, 500):
        args = []
        for i in range(c, c + 500):
            args += [f"{rnd.uniform(12, 16):.6f}", f"{rnd.uniform(36, 39):.6f}", f"p:{i}"]
        cmds.append(resp("GEOADD", "geo", *args))
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"".join(cmds))
        want, buf = len(cmds), b""
        got = 0
        while got < want:
            chunk = s.recv(1 << 16)
            if not chunk:
                sys.exit("server closed while loading")
            buf += chunk
            got = buf.count(b"\r\n")  # every reply here is one line
        if b"-" in buf.split(b"\r\n")[0][:1]:
            sys.exit(f"load failed: {buf[:200]!r}")


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
    p.add_argument("--only", default="", help="comma-separated workload names to run")
    p.add_argument("--ringkv-bin", default=os.path.join(ROOT, "target/release/ringkv-server"))
    p.add_argument("--redis-bin", default="redis-server")
    p.add_argument("--bench-bin", default="redis-benchmark")
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix="ringkv-dt-")
    servers = [
        Server("ringkv", [args.ringkv_bin, "--port", "{port}", "--save", ""], work),
        Server("redis", [args.redis_bin, "--port", "{port}", "--save", "", "--appendonly", "no"], work),
    ]
    try:
        for s in servers:
            load(s.port)
        pipelines = [int(x) for x in args.pipelines.split(",")]
        chosen = [w for w in WORKLOADS if not args.only or w[0] in args.only.split(",")]
        results = {}
        for r in range(args.rounds):
            order = servers if r % 2 == 0 else servers[::-1]
            for name, argv in chosen:
                for pl in pipelines:
                    n = args.n * (4 if pl > 1 else 1)
                    for s in order:
                        results.setdefault((name, pl, s.name), []).append(
                            run(args.bench_bin, s, argv, pl, n, args.clients))
        print(f"# {machine()}; {args.rounds} rounds, medians, {args.clients} clients")
        print("| workload | -P | ringkv req/s | redis req/s | ratio | ringkv CPU µs/req | redis CPU µs/req | CPU ratio |")
        print("|---|---|---|---|---|---|---|---|")
        for name, _ in chosen:
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
