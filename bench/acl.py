#!/usr/bin/env python3
"""CPU per request of authentication and ACL checks: ringkv-server vs redis-server.

Both servers run at once (bench.py's setup). For each mode, SET and GET at each pipeline
depth run under redis-benchmark against each server in turn (alternating who goes first),
and utime+stime from /proc/PID/stat gives server CPU microseconds per request:

  default   no password: the default user, allowed everything (the fast path)
  password  `CONFIG SET requirepass` set, benchmark authenticates (`-a`)
  acl-user  a user `on >pw ~key:* +@all`: every request's key is checked against `~key:*`
            (redis-benchmark's keys are `key:__rand_int__`), benchmark uses `--user`

Medians over the rounds. Stdlib only; flags as bench.py's (ROUNDS, N1, N16, CLIENTS,
PIPELINES, RINGKV_BIN, REDIS_BIN, BENCH_BIN), plus MODES (default,password,acl-user) and
BASELINE_BIN: another ringkv-server binary to compare with instead of redis-server (the
default path before and after a change).
"""

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

MODES = {
    "default": [],
    "password": ["-a", "benchpw"],
    "acl-user": ["--user", "limited", "-a", "benchpw"],
}


class Control:
    """A connection opened before any password was set: it stays authenticated on both
    servers (as in Redis), so it can change the mode."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))

    def command(self, *args):
        out = b"*%d\r\n" % len(args) + b"".join(
            b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in args
        )
        self.sock.sendall(out)
        reply = self.sock.recv(4096)
        if not reply.startswith((b"+", b":")):
            sys.exit(f"{args}: {reply!r}")


def set_mode(ctl, mode):
    ctl.command("CONFIG", "SET", "requirepass", "benchpw" if mode == "password" else "")
    if mode == "acl-user":
        ctl.command("ACL", "SETUSER", "limited", "reset", "on", ">benchpw", "~key:*", "+@all")


def run(args, server, test, pipe, n, auth):
    cmd = [
        args.bench_bin, "-h", "127.0.0.1", "-p", str(server.port), "-c", str(args.clients),
        "-n", str(n), "-P", str(pipe), "-r", str(args.keyspace), "-d", "3", "-t", test,
        "--csv",
    ] + auth
    before = bench.cpu_ticks(server.proc.pid)
    out = subprocess.run(cmd, capture_output=True, text=True)
    after = bench.cpu_ticks(server.proc.pid)
    rows = [r.split(",") for r in out.stdout.splitlines() if r and not r.startswith('"test"')]
    if out.returncode != 0 or len(rows) != 1 or "NOAUTH" in out.stdout + out.stderr:
        sys.exit(f"{' '.join(cmd)}:\n{out.stdout}\n{out.stderr}")
    rps = float(rows[0][1].strip('"'))
    return rps, (after - before) * 1e6 / bench.CLK_TCK / n


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    e = bench.env
    p.add_argument("--rounds", type=int, default=int(e("ROUNDS", "3")))
    p.add_argument("--n1", type=int, default=int(e("N1", "200000")))
    p.add_argument("--n16", type=int, default=int(e("N16", "1000000")))
    p.add_argument("--clients", type=int, default=int(e("CLIENTS", "50")))
    p.add_argument("--pipelines", default=e("PIPELINES", "1,16"))
    p.add_argument("--keyspace", type=int, default=int(e("KEYSPACE", "100000")))
    p.add_argument("--ringkv-bin", default=e("RINGKV_BIN", os.path.join(bench.ROOT, "target/release/ringkv-server")))
    p.add_argument("--redis-bin", default=e("REDIS_BIN", "redis-server"))
    p.add_argument("--bench-bin", default=e("BENCH_BIN", "redis-benchmark"))
    p.add_argument("--modes", default=e("MODES", ",".join(MODES)))
    p.add_argument("--baseline-bin", default=e("BASELINE_BIN", ""),
                   help="compare with another ringkv-server binary (e.g. before a change) instead of redis-server")
    args = p.parse_args()
    modes = {m: MODES[m] for m in args.modes.split(",")}
    other = "base" if args.baseline_bin else "redis"
    pipelines = [int(x) for x in args.pipelines.split(",")]
    workdir = tempfile.mkdtemp(prefix="ringkv-bench-acl-")
    servers = {}
    results = {}
    try:
        servers["ringkv"] = bench.Server("ringkv", [
            args.ringkv_bin, "--port", "{port}", "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no"], workdir)
        if args.baseline_bin:
            servers[other] = bench.Server(other, [
                args.baseline_bin, "--port", "{port}", "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no"], workdir)
        else:
            servers[other] = bench.Server(other, [
                args.redis_bin, "--port", "{port}", "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--dir", workdir, "--logfile", ""], workdir)
        ctl = {name: Control(s.port) for name, s in servers.items()}
        for rnd in range(args.rounds):
            order = ["ringkv", other] if rnd % 2 == 0 else [other, "ringkv"]
            for mode, auth in modes.items():
                for c in ctl.values():
                    set_mode(c, mode)
                for test in ("set", "get"):
                    for pipe in pipelines:
                        n = args.n1 if pipe == 1 else args.n16
                        for name in order:
                            rps, cpu = run(args, servers[name], test, pipe, n, auth)
                            results.setdefault((mode, test, pipe, name), []).append((rps, cpu))
                            print(f"round {rnd + 1} {mode:<8} {test} -P {pipe:<2} {name:<6} "
                                  f"{rps:>10.0f} rps {cpu:6.2f} cpu-us/req", file=sys.stderr, flush=True)
    finally:
        for s in servers.values():
            s.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    med = statistics.median
    print(f"\n{bench.machine()}")
    print(f"redis-benchmark -c {args.clients} -r {args.keyspace} -d 3; n = {args.n1} at -P 1, "
          f"{args.n16} at -P 16; median of {args.rounds} rounds\n")
    print(f"| mode | test | pipeline | ringkv rps | {other} rps | ringkv cpu-µs/req | {other} cpu-µs/req | ratio |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for mode in modes:
        for test in ("set", "get"):
            for pipe in pipelines:
                k = results[(mode, test, pipe, "ringkv")]
                r = results[(mode, test, pipe, other)]
                kc, rc = med(x[1] for x in k), med(x[1] for x in r)
                print(f"| {mode} | {test.upper()} | {pipe} | {med(x[0] for x in k):,.0f} | "
                      f"{med(x[0] for x in r):,.0f} | {kc:.2f} | {rc:.2f} | {bench.fmt_ratio(kc, rc)} |")


if __name__ == "__main__":
    main()
