#!/usr/bin/env python3
"""Streams, side by side: ringkv-server vs redis-server.

Both servers run at once (no persistence) on free loopback ports and get the same data
first: a 1,000-entry stream for XRANGE and a 500,000-entry stream with a consumer group for
XREADGROUP and XACK. Each workload runs as one redis-benchmark command against each server
in turn (who goes first alternates by round), at each pipeline depth; the server's
utime+stime from /proc/PID/stat around the run gives CPU microseconds per request. Medians
over the rounds.

    python3 bench/streams.py [--rounds 3] [--n 100000] [--pipelines 1,16]
    python3 bench/streams.py --memory [--entries 1000000]

Workloads: XADD with an auto ID (one field), XRANGE of 100 entries, XREADGROUP COUNT 1 with
`>` (the group's last ID is reset to 0 before each run, so every read delivers one entry
and adds it to the PEL), XACK of a random ID.

`--memory` loads `--entries` small entries (`XADD m <i>-0 f <i>`, pipelined) into each
server, after a warm-up of as many ECHOs, and reports the growth of RSS (VmRSS) and of
INFO `used_memory` per entry.
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

GROUP_ENTRIES = 500000

WORKLOADS = [
    ("XADD", ["XADD", "xa", "*", "f", "v"]),
    ("XRANGE 100", ["XRANGE", "xr", "-", "+", "COUNT", "100"]),
    ("XREADGROUP COUNT 1", ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "xg", ">"]),
    ("XACK", ["-r", str(GROUP_ENTRIES), "XACK", "xg", "g", "__rand_int__-0"]),
]


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def send_all(port, cmds, batch=20000):
    """Pipelines `cmds` in batches, waiting for each batch's one-line replies."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        for i in range(0, len(cmds), batch):
            part = cmds[i:i + batch]
            s.sendall(b"".join(part))
            buf, got = b"", 0
            while got < len(part):
                chunk = s.recv(1 << 16)
                if not chunk:
                    sys.exit("server closed while loading")
                buf += chunk
                # Replies here are IDs as bulk strings (two lines each) or +OK.
                got = buf.count(b"\r\n") - buf.count(b"$")
            if buf.startswith(b"-"):
                sys.exit(f"load failed: {buf[:200]!r}")


def load(port):
    cmds = [resp("XADD", "xr", f"{i}-0", "field", f"value:{i}") for i in range(1, 1001)]
    cmds += [resp("XADD", "xg", f"{i}-0", "f", str(i)) for i in range(1, GROUP_ENTRIES)]
    send_all(port, cmds)
    send_all(port, [resp("XGROUP", "CREATE", "xg", "g", "0")])


def one(port, *args):
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(resp(*args))
        return s.recv(1 << 20)


def run(bench_bin, server, argv, pipeline, n, clients):
    if "XREADGROUP" in argv:
        one(server.port, "XGROUP", "SETID", "xg", "g", "0")
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


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def used_memory(port):
    info = one(port, "INFO", "memory").decode(errors="replace")
    for line in info.split("\r\n"):
        if line.startswith("used_memory:"):
            return int(line.split(":")[1])
    return 0


def memory(servers, entries):
    print(f"# {machine()}; {entries:,} entries `XADD m <i>-0 f <i>`")
    print("| server | RSS bytes/entry | used_memory bytes/entry |")
    print("|---|---|---|")
    cmds = [resp("XADD", "m", f"{i}-0", "f", str(i)) for i in range(1, entries + 1)]
    for s in servers:
        # Warm-up: as many requests that store nothing (ECHO of an ID-sized bulk, two-line
        # replies like XADD's), so buffers that grow once (ringkv's provided-buffer ring,
        # Redis's query buffer) are in the baseline, as bench/memory.py does.
        send_all(s.port, [resp("ECHO", f"{i}-0" + "x" * 8) for i in range(1, entries + 1)])
        r0, u0 = rss(s.proc.pid), used_memory(s.port)
        send_all(s.port, cmds)
        r1, u1 = rss(s.proc.pid), used_memory(s.port)
        print(f"| {s.name} | {(r1 - r0) / entries:.1f} | {(u1 - u0) / entries:.1f} |")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--n", type=int, default=100000, help="requests per run at -P 1 (x4 at -P 16)")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--pipelines", default="1,16")
    p.add_argument("--only", default="", help="comma-separated workload names to run")
    p.add_argument("--memory", action="store_true")
    p.add_argument("--entries", type=int, default=1000000)
    p.add_argument("--ringkv-bin", default=os.path.join(ROOT, "target/release/ringkv-server"))
    p.add_argument("--redis-bin", default="redis-server")
    p.add_argument("--bench-bin", default="redis-benchmark")
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix="ringkv-xs-")
    servers = [
        Server("ringkv", [args.ringkv_bin, "--port", "{port}", "--save", ""], work),
        Server("redis", [args.redis_bin, "--port", "{port}", "--save", "", "--appendonly", "no"], work),
    ]
    try:
        if args.memory:
            memory(servers, args.entries)
            return
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
                    if "XREADGROUP" in argv:
                        n = min(n, GROUP_ENTRIES - 1)
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
