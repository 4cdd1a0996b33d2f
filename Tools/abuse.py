#!/usr/bin/env python3
"""Attacks on a running etrust-ocspd, each bounded in time, on loopback only, while a good client
measures its latency and the daemon's RSS is sampled (issue #15). Used by Tools/abuse.sh.

usage: abuse.py PORT PID REQUEST_DER_FILE [SECONDS_PER_ATTACK]
Prints one line per attack: RSS before/peak/after (MiB), the good client's p50/p99 (ms) and
errors during the attack, and the time to serve again after it (ms). Exit 1 if any target is
missed: RSS flat within 20 MiB, good p99 < 20 ms, served again < 1 s.
"""
import socket
import sys
import threading
import time

PORT, PID, REQ_FILE = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
SECONDS = float(sys.argv[4]) if len(sys.argv) > 4 else 10.0
REQ = open(REQ_FILE, "rb").read()
POST = (b"POST /ocsp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ocsp-request\r\n"
        b"Content-Length: " + str(len(REQ)).encode() + b"\r\n\r\n" + REQ)


def rss_mib():
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def connect(timeout=2.0):
    s = socket.create_connection(("127.0.0.1", PORT), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_response(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        body += chunk
    return int(head.split(b" ")[1]), head


class GoodClient(threading.Thread):
    """One request at a time, a new connection when the server closes one; records latencies."""

    def __init__(self):
        super().__init__(daemon=True)
        self.times, self.errors, self.stop = [], 0, False
        self.lock = threading.Lock()

    def run(self):
        s = None
        while not self.stop:
            start = time.monotonic()
            try:
                if s is None:
                    s = connect()
                s.sendall(POST)
                status, head = read_response(s)
                if status != 200:
                    raise ConnectionError(f"status {status}")
                if b"connection: close" in head.lower():
                    s.close()
                    s = None
            except Exception:
                with self.lock:
                    self.errors += 1
                if s:
                    s.close()
                s = None
                time.sleep(0.01)
                continue
            with self.lock:
                self.times.append((time.monotonic() - start) * 1000)
            time.sleep(0.002)

    def take(self):
        with self.lock:
            t, e = sorted(self.times), self.errors
            self.times, self.errors = [], 0
        return t, e


def pct(t, p):
    return t[min(len(t) - 1, int(len(t) * p / 100))] if t else float("nan")


# The attacks: each gets a stop event and runs until it is set.
def pipeline_no_read(stop):
    """10 connections pipelining requests and never reading an answer."""
    socks = []
    for _ in range(10):
        try:
            s = connect(timeout=0.2)
            socks.append(s)
        except OSError:
            pass
    batch = POST * 200
    while not stop.is_set():
        for s in socks:
            try:
                s.send(batch)
            except OSError:
                pass
    for s in socks:
        s.close()


def idle_flood(stop):
    """As many idle connections as the server takes (up to 5,000), held open."""
    socks = []
    while not stop.is_set() and len(socks) < 5000:
        try:
            socks.append(connect(timeout=0.5))
        except OSError:
            time.sleep(0.01)
    stop.wait()
    for s in socks:
        s.close()


def keepalive_trickle(stop):
    """2,000 connections each sending one request, then another just before the idle timeout."""
    socks = []
    for _ in range(2000):
        if stop.is_set():
            break
        try:
            s = connect(timeout=0.5)
            s.sendall(POST)
            socks.append(s)
        except OSError:
            time.sleep(0.01)
    while not stop.wait(1.5):
        alive = []
        for s in socks:
            try:
                s.recv(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                continue
            try:
                s.sendall(POST)
                alive.append(s)
            except OSError:
                s.close()
        socks = alive
    for s in socks:
        s.close()


def slow_loris(stop):
    """500 connections sending a request head one byte at a time."""
    socks = []
    for _ in range(500):
        try:
            s = connect(timeout=0.5)
            socks.append([s, 0])
        except OSError:
            pass
    while not stop.wait(0.5):
        for entry in socks:
            s, i = entry
            try:
                s.send(POST[i:i + 1])
                entry[1] = (i + 1) % 60
            except OSError:
                pass
    for s, _ in socks:
        s.close()


def header_flood(stop):
    """Connections sending endless header lines."""
    line = b"X-Filler: " + b"a" * 200 + b"\r\n"
    while not stop.is_set():
        try:
            s = connect(timeout=0.5)
            s.sendall(b"POST /ocsp HTTP/1.1\r\nHost: x\r\n")
            for _ in range(2000):
                if stop.is_set():
                    break
                s.sendall(line)
            s.close()
        except OSError:
            time.sleep(0.01)


ATTACKS = [("pipelining, never reading", pipeline_no_read), ("idle connection flood", idle_flood),
           ("keep-alive trickle", keepalive_trickle), ("slow loris", slow_loris), ("header flood", header_flood)]


def served_again_ms():
    start = time.monotonic()
    while time.monotonic() - start < 10:
        try:
            s = connect(timeout=1)
            s.sendall(POST)
            if read_response(s)[0] == 200:
                s.close()
                return (time.monotonic() - start) * 1000
        except Exception:
            time.sleep(0.01)
    return float("inf")


def main():
    good = GoodClient()
    good.start()
    time.sleep(1)
    good.take()
    failed = False
    print(f"{'attack':28} {'RSS before':>10} {'peak':>7} {'after':>7} {'good p50':>9} {'p99':>8} {'errors':>6} {'served again':>13}")
    for name, attack in ATTACKS:
        before = rss_mib()
        stop = threading.Event()
        t = threading.Thread(target=attack, args=(stop,), daemon=True)
        t.start()
        peak, end = before, time.monotonic() + SECONDS
        while time.monotonic() < end:
            peak = max(peak, rss_mib())
            time.sleep(0.2)
        times, errors = good.take()
        stop.set()
        t.join(timeout=15)
        again = served_again_ms()
        time.sleep(1)
        after = rss_mib()
        p50, p99 = pct(times, 50), pct(times, 99)
        ok = peak - before <= 20 and after - before <= 20 and p99 < 20 and again < 1000
        failed |= not ok
        print(f"{name:28} {before:10.0f} {peak:7.0f} {after:7.0f} {p50:9.2f} {p99:8.2f} {errors:6d} {again:11.0f}ms{'' if ok else '  MISSED'}")
    good.stop = True
    sys.exit(1 if failed else 0)


main()
