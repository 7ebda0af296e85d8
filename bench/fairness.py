#!/usr/bin/env python3
"""Side-by-side fairness and backpressure: ringkv-server vs redis-server.

Two scenarios, each run against a fresh server of each kind (one at a time, so they do not
share the CPUs), alternating who goes first between rounds:

flood  One client pipelines `GET v` (a VALUE_KB value) for FLOOD_S seconds and reads
       nothing; a second client sends PING every FLOOD_PROBE_MS and times each reply. The
       server's RSS (/proc/PID/status VmRSS) is sampled meanwhile. Afterwards the flooder
       reads everything and the reply bytes are checked (nothing lost, nothing extra).
pipe   `redis-cli --pipe` loads PIPE_N `SET key:N val:N` commands while a second client
       sends PING every PIPE_PROBE_MS; the load's wall time is reported.

Reported per scenario and server: slowest and p99 PING latency, RSS growth (peak during the
scenario minus before), load time; medians over the rounds.

Stdlib only; shares the server runner of bench.py. Flags or environment variables:
  ROUNDS=3 FLOOD_S=3 VALUE_KB=100 FLOOD_PROBE_MS=50 PIPE_N=2000000 PIPE_PROBE_MS=10
  SCENARIOS=flood,pipe  RINGKV_BIN=target/release/ringkv-server  REDIS_BIN=redis-server
  CLI_BIN=redis-cli
"""

import argparse
import os
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import CLK_TCK, ROOT, Server, cpu_ticks, env, machine  # noqa: E402


def resp(*args):
    out = [f"*{len(args)}\r\n".encode()]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class RssSampler(threading.Thread):
    """Peak RSS of a process, sampled every 10 ms until stopped."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop_ev = pid, rss(pid), threading.Event()
        self.start()

    def run(self):
        while not self.stop_ev.wait(0.01):
            try:
                self.peak = max(self.peak, rss(self.pid))
            except OSError:
                return

    def finish(self):
        self.stop_ev.set()
        self.join()
        try:
            self.peak = max(self.peak, rss(self.pid))
        except OSError:
            pass
        return self.peak


class Prober(threading.Thread):
    """PING every `interval` seconds on its own connection, timing each reply, until
    stopped. A PING is only sent once the previous one was answered."""

    def __init__(self, port, interval):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(120)
        self.interval, self.lat, self.stop_ev = interval, [], threading.Event()
        self.start()

    def run(self):
        ping = resp("PING")
        next_at = time.monotonic()
        while not self.stop_ev.is_set():
            t0 = time.monotonic()
            self.sock.sendall(ping)
            got = b""
            while not got.endswith(b"\r\n"):
                chunk = self.sock.recv(64)
                if not chunk:
                    raise RuntimeError("prober: connection closed")
                got += chunk
            self.lat.append(time.monotonic() - t0)
            if got != b"+PONG\r\n":
                raise RuntimeError(f"prober: unexpected reply {got!r}")
            next_at = max(next_at + self.interval, time.monotonic())
            self.stop_ev.wait(max(0.0, next_at - time.monotonic()))

    def finish(self):
        self.stop_ev.set()
        self.join()
        self.sock.close()
        return self.lat


def percentile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def cmd(port, *args):
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(resp(*args))
        return s.recv(1 << 16)


def scenario_flood(server, args):
    value = b"v" * (args.value_kb * 1024)
    assert cmd(server.port, "SET", "v", value).startswith(b"+OK")
    get = resp("GET", "v")
    reply_len = len(b"$%d\r\n" % len(value)) + len(value) + 2
    chunk = get * 4096
    flooder = socket.create_connection(("127.0.0.1", server.port))
    sampler = RssSampler(server.proc.pid)
    before = sampler.peak
    prober = Prober(server.port, args.flood_probe_ms / 1000)
    # Pipelines GETs for FLOOD_S, reading nothing.
    flooder.settimeout(0.02)
    written = 0
    end = time.monotonic() + args.flood_s
    while time.monotonic() < end:
        at = written % len(chunk)
        try:
            written += flooder.send(chunk[at:])
        except (socket.timeout, BlockingIOError):
            pass
    lat = prober.finish()
    peak = sampler.finish()
    # Finish a GET cut by the end of the flood (from a thread: the server may not take it
    # before we read), then read every reply.
    flooder.settimeout(None)
    tail = written % len(get)
    gets = -(-written // len(get))
    if tail:
        threading.Thread(target=flooder.sendall, args=(get[tail:],), daemon=True).start()
    expect = gets * reply_len
    buf = bytearray(1 << 22)
    got = 0
    head = None
    flooder.settimeout(120)
    while got < expect:
        n = flooder.recv_into(buf)
        if not n:
            break
        if head is None:
            head = bytes(buf[:16])
        got += n
    flooder.settimeout(0.5)
    try:
        extra = len(flooder.recv(1 << 16))
    except socket.timeout:
        extra = 0
    flooder.close()
    ok = got == expect and extra == 0 and head is not None and head.startswith(b"$%d\r\n" % len(value))
    return {
        "max_ms": max(lat) * 1e3,
        "p99_ms": percentile(lat, 0.99) * 1e3,
        "pings": len(lat),
        "rss_mb": (peak - before) / 2**20,
        "gets": gets,
        "replies_ok": ok,
    }


def scenario_pipe(server, args, data_path):
    sampler = RssSampler(server.proc.pid)
    before = sampler.peak
    prober = Prober(server.port, args.pipe_probe_ms / 1000)
    cpu0 = cpu_ticks(server.proc.pid)
    t0 = time.monotonic()
    with open(data_path, "rb") as f:
        out = subprocess.run(
            [args.cli_bin, "-h", "127.0.0.1", "-p", str(server.port), "--pipe"],
            stdin=f, capture_output=True, text=True,
        )
    load_s = time.monotonic() - t0
    cpu_s = (cpu_ticks(server.proc.pid) - cpu0) / CLK_TCK
    lat = prober.finish()
    peak = sampler.finish()
    if out.returncode != 0 or f"replies: {args.pipe_n}" not in out.stdout:
        sys.exit(f"redis-cli --pipe against {server.name} failed:\n{out.stdout}\n{out.stderr}")
    return {
        "max_ms": max(lat) * 1e3,
        "p99_ms": percentile(lat, 0.99) * 1e3,
        "pings": len(lat),
        "rss_mb": (peak - before) / 2**20,
        "load_s": load_s,
        "cpu_s": cpu_s,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=int(env("ROUNDS", "3")))
    p.add_argument("--scenarios", default=env("SCENARIOS", "flood,pipe"))
    p.add_argument("--flood-s", type=float, default=float(env("FLOOD_S", "3")))
    p.add_argument("--value-kb", type=int, default=int(env("VALUE_KB", "100")))
    p.add_argument("--flood-probe-ms", type=float, default=float(env("FLOOD_PROBE_MS", "50")))
    p.add_argument("--pipe-n", type=int, default=int(env("PIPE_N", "2000000")))
    p.add_argument("--pipe-probe-ms", type=float, default=float(env("PIPE_PROBE_MS", "10")))
    p.add_argument("--ringkv-bin", default=env("RINGKV_BIN", os.path.join(ROOT, "target/release/ringkv-server")))
    p.add_argument("--redis-bin", default=env("REDIS_BIN", "redis-server"))
    p.add_argument("--cli-bin", default=env("CLI_BIN", "redis-cli"))
    args = p.parse_args()
    for b in (args.ringkv_bin, args.redis_bin, args.cli_bin):
        if not shutil.which(b):
            sys.exit(f"not found or not executable: {b}")
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]

    workdir = tempfile.mkdtemp(prefix="ringkv-fairness-")
    argv = {
        "ringkv": [args.ringkv_bin, "--port", "{port}", "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no"],
        "redis": [args.redis_bin, "--port", "{port}", "--bind", "127.0.0.1", "--save", "",
                  "--appendonly", "no", "--daemonize", "no", "--dir", workdir, "--logfile", ""],
    }
    results = {}  # (scenario, server) -> [result]
    try:
        data_path = None
        if "pipe" in scenarios:
            data_path = os.path.join(workdir, "sets.resp")
            with open(data_path, "wb") as f:
                for i in range(0, args.pipe_n, 10000):
                    f.write(b"".join(resp("SET", f"key:{j}", f"val:{j}") for j in range(i, min(args.pipe_n, i + 10000))))
        for rnd in range(args.rounds):
            order = ["ringkv", "redis"] if rnd % 2 == 0 else ["redis", "ringkv"]
            for sc in scenarios:
                for name in order:
                    srv = Server(name, argv[name], workdir)
                    try:
                        if sc == "flood":
                            r = scenario_flood(srv, args)
                        else:
                            r = scenario_pipe(srv, args, data_path)
                    finally:
                        srv.stop()
                    results.setdefault((sc, name), []).append(r)
                    extra = (f"load {r['load_s']:.2f}s, server CPU {r['cpu_s']:.2f}s" if sc == "pipe"
                             else f"{r['gets']} GETs, replies {'ok' if r['replies_ok'] else 'WRONG'}")
                    print(f"round {rnd + 1}/{args.rounds} {sc:<5} {name:<6} PING max {r['max_ms']:8.1f} ms "
                          f"p99 {r['p99_ms']:8.1f} ms ({r['pings']} pings), RSS +{r['rss_mb']:.0f} MB, {extra}",
                          file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    med = lambda rs, k: statistics.median(r[k] for r in rs)
    print(f"\n{machine()}")
    print(f"median of {args.rounds} rounds; flood: GET of a {args.value_kb} KB value pipelined for "
          f"{args.flood_s:g} s without reading, PING every {args.flood_probe_ms:g} ms; pipe: "
          f"redis-cli --pipe of {args.pipe_n} SETs, PING every {args.pipe_probe_ms:g} ms\n")
    print("| scenario | server | slowest PING ms | p99 PING ms | RSS growth MB | load s | server CPU s | replies |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for sc in scenarios:
        for name in ("ringkv", "redis"):
            rs = results[(sc, name)]
            load = f"{med(rs, 'load_s'):.2f} | {med(rs, 'cpu_s'):.2f}" if sc == "pipe" else " | "
            replies = ("all, in order" if all(r["replies_ok"] for r in rs) else "LOST/WRONG") if sc == "flood" else ""
            print(f"| {sc} | {name} | {med(rs, 'max_ms'):.1f} | {med(rs, 'p99_ms'):.1f} "
                  f"| {med(rs, 'rss_mb'):.0f} | {load} | {replies} |")


if __name__ == "__main__":
    main()
