#!/usr/bin/env python3
"""Side-by-side replication benchmark: SET on a master with 0, 1 and 2 replicas attached,
ringkv (master and replicas ringkv) against Redis (master and replicas redis-server).

For each replica count and pipeline depth, redis-benchmark runs SET against each master in
turn (alternating who goes first per round). Reported: requests/s, the master's CPU
microseconds per request (utime+stime from /proc/PID/stat around the run: the figure that
shows our cost when redis-benchmark's client is the bottleneck), and the replication lag:
the time from the end of the run until every replica serves a marker key written right
after it (polled every 0.5 ms), plus the largest gap between the master's offset and the
replicas' acknowledged offsets seen while the run was going (sampled every 20 ms; replicas
acknowledge once a second, so this includes up to a second of stream).

Stdlib only. Flags or environment: ROUNDS=3 REQUESTS=200000 CLIENTS=50 DATASIZE=64
KEYSPACE=100000 RINGKV_BIN=target/release/ringkv-server REDIS_BIN=redis-server
BENCH_BIN=redis-benchmark
"""

import argparse
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


def info(port, section="replication"):
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(f"*2\r\n$4\r\nINFO\r\n${len(section)}\r\n{section}\r\n".encode())
        buf = b""
        while b"\r\n" not in buf:
            buf += s.recv(65536)
        head, rest = buf.split(b"\r\n", 1)
        n = int(head[1:])
        while len(rest) < n:
            rest += s.recv(65536)
    fields = {}
    for line in rest[:n].decode().splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            fields[k] = v
    return fields


def call(port, argv):
    """One command on a fresh connection; the reply as str (bulk/simple), int or None."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        req = f"*{len(argv)}\r\n" + "".join(f"${len(a)}\r\n{a}\r\n" for a in argv)
        s.sendall(req.encode())
        buf = b""
        while b"\r\n" not in buf:
            buf += s.recv(65536)
        head, rest = buf.split(b"\r\n", 1)
        t = head[:1]
        if t in (b"+", b"-"):
            return head[1:].decode()
        if t == b":":
            return int(head[1:])
        n = int(head[1:])
        if n < 0:
            return None
        while len(rest) < n:
            rest += s.recv(65536)
        return rest[:n].decode()


def replica_offsets(fields):
    """The acknowledged offset of each replica, from the master's INFO."""
    out = []
    for k, v in fields.items():
        if k.startswith("slave") and k[5:].isdigit():
            parts = dict(p.split("=", 1) for p in v.split(","))
            if parts.get("state") == "online":
                out.append(int(parts["offset"]))
    return out


def wait_online(master, n, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(replica_offsets(info(master.port))) == n:
            return
        time.sleep(0.02)
    sys.exit(f"{master.name}: {n} replicas did not come online")


def run(bench_bin, master, replicas, pipeline, args):
    gap = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            f = info(master.port)
            offs = replica_offsets(f)
            if offs:
                gap[0] = max(gap[0], int(f["master_repl_offset"]) - min(offs))
            stop.wait(0.02)

    poller = threading.Thread(target=sample, daemon=True)
    cmd = [
        bench_bin, "-h", "127.0.0.1", "-p", str(master.port), "-t", "set",
        "-c", str(args.clients), "-n", str(args.requests), "-P", str(pipeline),
        "-r", str(args.keyspace), "-d", str(args.datasize), "-q", "--csv",
    ]
    before = cpu_ticks(master.proc.pid)
    poller.start()
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    elapsed = time.monotonic() - t0
    cpu = (cpu_ticks(master.proc.pid) - before) / CLK_TCK
    # Lag: a marker written after the run, until every replica serves it.
    marker = str(time.monotonic_ns())
    call(master.port, ["SET", "__lag_probe", marker])
    t_end = time.monotonic()
    lag = 0.0
    for rep in replicas:
        while call(rep.port, ["GET", "__lag_probe"]) != marker:
            if time.monotonic() - t_end > 30:
                lag = float("inf")
                break
            time.sleep(0.0005)
    if lag == 0.0:
        lag = time.monotonic() - t_end
    stop.set()
    poller.join()
    rps = None
    for line in out.splitlines():
        cells = [c.strip('"') for c in line.split(",")]
        if cells and cells[0].upper().startswith("SET"):
            rps = float(cells[1])
    rps = rps or args.requests / elapsed
    return {
        "rps": rps,
        "cpu_us": cpu * 1e6 / args.requests,
        "lag_ms": lag * 1000,
        "gap": gap[0],
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=int(env("ROUNDS", "3")))
    p.add_argument("--requests", type=int, default=int(env("REQUESTS", "200000")))
    p.add_argument("--clients", type=int, default=int(env("CLIENTS", "50")))
    p.add_argument("--datasize", type=int, default=int(env("DATASIZE", "64")))
    p.add_argument("--keyspace", type=int, default=int(env("KEYSPACE", "100000")))
    p.add_argument("--replicas", default=env("REPLICAS", "0,1,2"))
    p.add_argument("--pipelines", default=env("PIPELINES", "1,16"))
    args = p.parse_args()
    ringkv = env("RINGKV_BIN", os.path.join(ROOT, "target/release/ringkv-server"))
    redis = env("REDIS_BIN", "redis-server")
    bench_bin = env("BENCH_BIN", "redis-benchmark")
    for b in (ringkv, redis, bench_bin):
        if not shutil.which(b) and not os.path.exists(b):
            sys.exit(f"missing {b}")
    common = ["--port", "{port}", "--save", "", "--appendonly", "no",
              "--repl-diskless-sync-delay", "0"]
    kinds = {
        "ringkv": [ringkv] + common,
        "redis": [redis] + common + ["--bind", "127.0.0.1"],
    }
    print(f"# {machine()}")
    print(f"# requests={args.requests} clients={args.clients} datasize={args.datasize} "
          f"rounds={args.rounds}")
    results = {}
    with tempfile.TemporaryDirectory() as work:
        for n in [int(x) for x in args.replicas.split(",")]:
            servers = {}
            for name, argv in kinds.items():
                d = os.path.join(work, f"{name}-{n}")
                os.makedirs(d)
                master = Server(f"{name}-master", argv, d)
                reps = [
                    Server(f"{name}-replica{i}",
                           argv + ["--replicaof", "127.0.0.1", str(master.port)], d)
                    for i in range(n)
                ]
                wait_online(master, n)
                servers[name] = (master, reps)
            try:
                for pipeline in [int(x) for x in args.pipelines.split(",")]:
                    for r in range(args.rounds):
                        order = list(servers) if r % 2 == 0 else list(reversed(servers))
                        for name in order:
                            res = run(bench_bin, servers[name][0], servers[name][1], pipeline, args)
                            results.setdefault((n, pipeline, name), []).append(res)
            finally:
                for master, reps in servers.values():
                    for s in reps + [master]:
                        s.stop()
    print()
    print("| replicas | -P | server | SET/s | master CPU µs/req | lag after run (ms) | max offset gap (bytes) |")
    print("|---|---|---|---|---|---|---|")
    for (n, pipeline, name), rs in sorted(results.items()):
        med = lambda k: statistics.median(x[k] for x in rs)  # noqa: E731
        print(f"| {n} | {pipeline} | {name} | {med('rps'):,.0f} | {med('cpu_us'):.2f} | "
              f"{med('lag_ms'):.1f} | {med('gap'):,.0f} |")
    print()
    print("| replicas | -P | throughput ringkv/redis | CPU/req ringkv/redis |")
    print("|---|---|---|---|")
    keys = sorted({(n, p) for (n, p, _) in results})
    for n, pipeline in keys:
        a, b = results[(n, pipeline, "ringkv")], results[(n, pipeline, "redis")]
        med = lambda rs, k: statistics.median(x[k] for x in rs)  # noqa: E731
        print(f"| {n} | {pipeline} | {med(a, 'rps') / med(b, 'rps'):.2f} | "
              f"{med(a, 'cpu_us') / med(b, 'cpu_us'):.2f} |")


if __name__ == "__main__":
    main()
