#!/usr/bin/env python3
"""PUBLISH fan-out, side by side: ringkv-server vs redis-server.

For each subscriber count (1, 100, 1000 by default) a helper process opens that many
connections, SUBSCRIBEs each to one channel and then reads and discards everything (one
`selectors` loop); redis-benchmark then runs `PUBLISH ch <payload>` as a custom command
against the server. Reported: PUBLISH calls per second and server CPU microseconds per
PUBLISH (utime+stime from /proc around the run), median over the rounds. Every subscriber
must still be subscribed at the end (PUBSUB NUMSUB), so no run is flattered by a slow
subscriber being dropped; the pubsub output-buffer limit is switched off for that reason.

Stdlib only; reuses bench.py's server handling. Flags or environment variables:
  ROUNDS=3  N=100000 (PUBLISH calls per run)  CLIENTS=50  PIPELINE=1  SUBS=1,100,1000
  PAYLOAD=16 (message bytes)  RINGKV_BIN  REDIS_BIN  BENCH_BIN
Usage: cargo build --release -p server && python3 bench/pubsub.py
"""

import argparse
import os
import resource
import selectors
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import ROOT, CLK_TCK, Server, cpu_ticks, env, machine  # noqa: E402

CHANNEL = b"bench-ch"


def drain(port, n):
    """Helper process: n subscribers that read and discard until stdin closes."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, n + 64))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    sel = selectors.DefaultSelector()
    req = b"*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n%s\r\n" % (len(CHANNEL), CHANNEL)
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(req)
        socks.append(s)
    for s in socks:
        got = b""
        while not got.endswith(b":1\r\n"):
            got += s.recv(256)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    sel.register(sys.stdin, selectors.EVENT_READ)
    print("ready", flush=True)
    buf = bytearray(1 << 20)
    while True:
        for key, _ in sel.select():
            if key.fileobj is sys.stdin:
                return
            try:
                if key.fileobj.recv_into(buf) == 0:
                    sel.unregister(key.fileobj)
            except BlockingIOError:
                pass


def command(port, *args):
    with socket.create_connection(("127.0.0.1", port)) as s:
        req = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
        s.sendall(req)
        return s.recv(4096)


def run(args, server, subs):
    helper = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--drain", str(server.port), str(subs)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        if helper.stdout.readline().strip() != "ready":
            sys.exit("subscriber helper failed")
        payload = "x" * args.payload
        cmd = [
            args.bench_bin, "-h", "127.0.0.1", "-p", str(server.port), "-c", str(args.clients),
            "-n", str(args.n), "-P", str(args.pipeline), "--csv", "PUBLISH", CHANNEL.decode(), payload,
        ]
        before = cpu_ticks(server.proc.pid)
        t0 = time.monotonic()
        out = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.monotonic() - t0
        after = cpu_ticks(server.proc.pid)
        if out.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}")
        rows = [l.split(",") for l in out.stdout.splitlines() if l and not l.startswith('"test"')]
        rps = float(rows[0][1].strip('"'))
        numsub = command(server.port, b"PUBSUB", b"NUMSUB", CHANNEL)
        if not numsub.endswith(b":%d\r\n" % subs):
            sys.exit(f"{server.name}: subscribers were dropped during the run: {numsub!r}")
        return {"rps": rps, "cpu_us": (after - before) * 1e6 / CLK_TCK / args.n, "wall": wall}
    finally:
        helper.stdin.close()
        helper.wait()


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--drain":
        drain(int(sys.argv[2]), int(sys.argv[3]))
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=int(env("ROUNDS", "3")))
    p.add_argument("--n", type=int, default=int(env("N", "100000")))
    p.add_argument("--clients", type=int, default=int(env("CLIENTS", "50")))
    p.add_argument("--pipeline", type=int, default=int(env("PIPELINE", "1")))
    p.add_argument("--subs", default=env("SUBS", "1,100,1000"))
    p.add_argument("--payload", type=int, default=int(env("PAYLOAD", "16")))
    p.add_argument("--ringkv-bin", default=env("RINGKV_BIN", os.path.join(ROOT, "target/release/ringkv-server")))
    p.add_argument("--redis-bin", default=env("REDIS_BIN", "redis-server"))
    p.add_argument("--bench-bin", default=env("BENCH_BIN", "redis-benchmark"))
    args = p.parse_args()
    for b in (args.ringkv_bin, args.redis_bin, args.bench_bin):
        if not shutil.which(b):
            sys.exit(f"not found or not executable: {b}")
    subs_list = [int(x) for x in args.subs.split(",") if x.strip()]
    workdir = tempfile.mkdtemp(prefix="ringkv-pubsub-bench-")
    common = ["--port", "{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
              "--maxclients", "4000", "--client-output-buffer-limit", "pubsub 0 0 0"]
    argvs = {
        "ringkv": [args.ringkv_bin] + common,
        "redis": [args.redis_bin] + common + ["--daemonize", "no", "--dir", workdir, "--logfile", ""],
    }
    servers = {}
    results = {}
    try:
        for name, argv in argvs.items():
            servers[name] = Server(name, argv, workdir)
            print(f"# {name}: {shlex.join(servers[name].argv)}", file=sys.stderr)
        for rnd in range(args.rounds):
            order = ["ringkv", "redis"] if rnd % 2 == 0 else ["redis", "ringkv"]
            for subs in subs_list:
                for name in order:
                    r = run(args, servers[name], subs)
                    results.setdefault((subs, name), []).append(r)
                    print(f"round {rnd + 1}/{args.rounds} subs {subs:<5} {name:<6} {r['rps']:>10.0f} "
                          f"publish/s {r['cpu_us']:8.2f} cpu-us/publish ({r['wall']:.1f}s)",
                          file=sys.stderr, flush=True)
    finally:
        for s in servers.values():
            s.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    med = statistics.median
    print(f"\n{machine()}")
    print(f"redis-benchmark -c {args.clients} -n {args.n} -P {args.pipeline} PUBLISH ch "
          f"<{args.payload} bytes>; median of {args.rounds} rounds\n")
    print("| subscribers | ringkv publish/s | redis publish/s | ratio | ringkv cpu-µs/publish | redis cpu-µs/publish |")
    print("|---:|---:|---:|---:|---:|---:|")
    for subs in subs_list:
        a = results[(subs, "ringkv")]
        b = results[(subs, "redis")]
        ra, rb = med([x["rps"] for x in a]), med([x["rps"] for x in b])
        ca, cb = med([x["cpu_us"] for x in a]), med([x["cpu_us"] for x in b])
        print(f"| {subs} | {ra:.0f} | {rb:.0f} | {ra / rb:.2f} | {ca:.2f} | {cb:.2f} |")


if __name__ == "__main__":
    main()
