#!/usr/bin/env python3
"""Side-by-side throughput and CPU cost: ringkv-server vs redis-server under redis-benchmark.

Both servers run at once, without persistence, on free loopback ports. For every round,
every test (SET GET INCR MSET by default) and every pipeline depth (1 and 16), the same
redis-benchmark command runs against each server in turn; who goes first alternates
between rounds so neither side systematically gets the warmer machine. Around each run the
server's utime+stime is read from /proc/PID/stat (all threads, io_uring workers included),
giving CPU microseconds per request. The table reports medians over the rounds.

Stdlib only. Configure with flags or environment variables (flags win):
  ROUNDS=3  N1=200000 (requests at -P 1)  N16=1000000 (requests at -P 16)
  CLIENTS=50  TESTS=set,get,incr,mset,lpush,rpush,lpop,rpop,sadd,spop,hset,zadd,zpopmin,lrange_100,lrange_600  PIPELINES=1,16  KEYSPACE=100000  DATASIZE=3
  RINGKV_BIN=target/release/ringkv-server  REDIS_BIN=redis-server  BENCH_BIN=redis-benchmark
  RINGKV_ARGS / REDIS_ARGS: extra server arguments (shell-split)
"""

import argparse
import csv
import io
import os
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def env(name, default):
    return os.environ.get(name, default)


def free_port(_next=[0]):
    """A free loopback port below the kernel's ephemeral range: ports in that range are also
    the source ports of outgoing connections, so a readiness probe could connect to itself
    (TCP simultaneous open) before the server binds."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            hi = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        hi = 32768
    lo = 10000
    hi = max(hi, lo + 1000)
    span = hi - lo
    start = (os.getpid() * 7919) % span
    for _ in range(span):
        port = lo + (start + _next[0]) % span
        _next[0] += 1
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    sys.exit("no free loopback port")


def cpu_ticks(pid):
    """utime + stime of the whole process, in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    # The command name (field 2) may contain spaces; fields after it are positional.
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5)


class Server:
    def __init__(self, name, argv, workdir):
        self.name = name
        self.port = None
        self.proc = None
        self.log_path = None
        for _ in range(5):
            port = free_port()
            log_path = os.path.join(workdir, f"{name}-{port}.log")
            log = open(log_path, "wb")
            full = [a.replace("{port}", str(port)) for a in argv]
            proc = subprocess.Popen(
                full, cwd=workdir, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
            log.close()
            if self._wait_ready(proc, port):
                self.port, self.proc, self.log_path = port, proc, log_path
                self.argv = full
                return
            proc.kill()
            proc.wait()
            with open(log_path, errors="replace") as f:
                text = f.read()
            if "in use" not in text:
                sys.exit(f"{name} did not start: {' '.join(full)}\n--- log ---\n{text}")
        sys.exit(f"{name}: no free port after 5 attempts")

    @staticmethod
    def _wait_ready(proc, port, timeout=15.0):
        """Polls until the server answers PING (never a fixed sleep)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                    if s.getsockname() == s.getpeername():
                        continue  # connected to itself, not to the server
                    s.sendall(b"*1\r\n$4\r\nPING\r\n")
                    if s.recv(64).startswith(b"+PONG"):
                        return proc.poll() is None
            except OSError:
                pass
            time.sleep(0.01)
        return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def run_benchmark(bench_bin, server, test, pipeline, n, args):
    cmd = [
        bench_bin, "-h", "127.0.0.1", "-p", str(server.port),
        "-c", str(args.clients), "-n", str(n), "-P", str(pipeline),
        "-r", str(args.keyspace), "-d", str(args.datasize),
        "-t", test, "--csv",
    ]
    if server.proc.poll() is not None:
        sys.exit(f"{server.name} died; log: {server.log_path}")
    before = cpu_ticks(server.proc.pid)
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - t0
    after = cpu_ticks(server.proc.pid)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    # LRANGE_* tests first fill the list with an extra "LPUSH (needed to benchmark LRANGE)"
    # row (its CPU is included in the LRANGE figure).
    rows = [
        r
        for r in csv.reader(io.StringIO(out.stdout))
        if r and r[0] != "test" and "needed to benchmark" not in r[0]
    ]
    if len(rows) != 1:
        sys.exit(f"unexpected redis-benchmark output for {' '.join(cmd)}:\n{out.stdout}")
    rps = float(rows[0][1])
    p50 = float(rows[0][4]) if len(rows[0]) > 4 else float("nan")
    cpu_us = (after - before) * 1e6 / CLK_TCK / n
    return {"rps": rps, "cpu_us": cpu_us, "p50_ms": p50, "wall_s": wall, "label": rows[0][0]}


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    rev = subprocess.run(
        ["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True, text=True
    ).stdout.strip() or "unknown"
    return f"{os.cpu_count()} CPUs ({model}), Linux {os.uname().release}, ringkv {rev}"


def fmt_ratio(a, b):
    return f"{a / b:.2f}" if b else "n/a"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=int(env("ROUNDS", "3")))
    p.add_argument("--n1", type=int, default=int(env("N1", "200000")), help="requests per run at -P 1")
    p.add_argument("--n16", type=int, default=int(env("N16", "1000000")), help="requests per run at -P 16 (other depths scale from it)")
    p.add_argument("--clients", type=int, default=int(env("CLIENTS", "50")))
    p.add_argument("--tests", default=env("TESTS", "set,get,incr,mset,lpush,rpush,lpop,rpop,sadd,spop,hset,zadd,zpopmin,lrange_100,lrange_600"))
    p.add_argument("--pipelines", default=env("PIPELINES", "1,16"))
    p.add_argument("--keyspace", type=int, default=int(env("KEYSPACE", "100000")))
    p.add_argument("--datasize", type=int, default=int(env("DATASIZE", "3")))
    p.add_argument("--ringkv-bin", default=env("RINGKV_BIN", os.path.join(ROOT, "target/release/ringkv-server")))
    p.add_argument("--redis-bin", default=env("REDIS_BIN", "redis-server"))
    p.add_argument("--bench-bin", default=env("BENCH_BIN", "redis-benchmark"))
    p.add_argument("--ringkv-args", default=env("RINGKV_ARGS", ""))
    p.add_argument("--redis-args", default=env("REDIS_ARGS", ""))
    args = p.parse_args()

    for b in (args.ringkv_bin, args.redis_bin, args.bench_bin):
        if not shutil.which(b):
            sys.exit(f"not found or not executable: {b}")
    tests = [t.strip() for t in args.tests.split(",") if t.strip()]
    pipelines = [int(x) for x in args.pipelines.split(",") if x.strip()]

    workdir = tempfile.mkdtemp(prefix="ringkv-bench-")
    ringkv_argv = [
        args.ringkv_bin, "--port", "{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
    ] + shlex.split(args.ringkv_args)
    redis_argv = [
        args.redis_bin, "--port", "{port}", "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no", "--daemonize", "no", "--dir", workdir, "--logfile", "",
    ] + shlex.split(args.redis_args)
    servers = {}
    try:
        servers["ringkv"] = Server("ringkv", ringkv_argv, workdir)
        servers["redis"] = Server("redis", redis_argv, workdir)
        print(f"# ringkv: {shlex.join(servers['ringkv'].argv)}", file=sys.stderr)
        print(f"# redis : {shlex.join(servers['redis'].argv)}", file=sys.stderr)
        results = {}  # (test, pipeline, server) -> [run]
        for rnd in range(args.rounds):
            order = ["ringkv", "redis"] if rnd % 2 == 0 else ["redis", "ringkv"]
            for test in tests:
                for pipe in pipelines:
                    n = args.n1 if pipe == 1 else max(args.n1, args.n16 * pipe // 16)
                    for name in order:
                        r = run_benchmark(args.bench_bin, servers[name], test, pipe, n, args)
                        results.setdefault((test, pipe, name), []).append(r)
                        print(
                            f"round {rnd + 1}/{args.rounds} {r['label']:<14} -P {pipe:<2} "
                            f"{name:<6} {r['rps']:>11.0f} rps {r['cpu_us']:6.2f} cpu-us/req "
                            f"({r['wall_s']:.1f}s)",
                            file=sys.stderr,
                            flush=True,
                        )
    finally:
        for s in servers.values():
            s.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    med = lambda xs: statistics.median(xs)
    print(f"\n{machine()}")
    print(
        f"redis-benchmark -c {args.clients} -r {args.keyspace} -d {args.datasize}; "
        f"n = {args.n1} at -P 1, {args.n16} at -P 16; median of {args.rounds} rounds\n"
    )
    print("| test | pipeline | ringkv rps | redis rps | ratio | ringkv cpu-µs/req | redis cpu-µs/req | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for test in tests:
        for pipe in pipelines:
            k = results[(test, pipe, "ringkv")]
            r = results[(test, pipe, "redis")]
            krps, rrps = med([x["rps"] for x in k]), med([x["rps"] for x in r])
            kcpu, rcpu = med([x["cpu_us"] for x in k]), med([x["cpu_us"] for x in r])
            print(
                f"| {k[0]['label']} | {pipe} | {krps:,.0f} | {rrps:,.0f} | {fmt_ratio(krps, rrps)} "
                f"| {kcpu:.2f} | {rcpu:.2f} | {fmt_ratio(kcpu, rcpu)} |"
            )


if __name__ == "__main__":
    main()
