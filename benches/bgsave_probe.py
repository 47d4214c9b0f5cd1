"""Latency of one client while a BGSAVE runs (used by benches/persistence.sh).

    python3 benches/bgsave_probe.py PORT KEYS

Sends GETs of random `key:N` keys back to back on one connection (the probe) while a
second connection issues BGSAVE and polls INFO persistence every 5 ms until
rdb_bgsave_in_progress:0. The poller runs in a separate process so it cannot hold the
probe's interpreter lock. Prints one line:

    bgsave_ms=... window_gets=... p50_ms=... p99_ms=... max_ms=... base_p99_ms=... fork_us=...

where the percentiles cover the GETs that started between BGSAVE being sent and the save
being seen finished, and base_p99_ms the GETs of the second before it.
"""

import gc
import multiprocessing
import random
import socket
import sys
import time


def command(sock, buf, *args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    sock.sendall(out)
    return read_reply(sock, buf)


def read_line(sock, buf):
    while b"\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf.extend(chunk)
    i = buf.index(b"\r\n")
    line = bytes(buf[:i])
    del buf[: i + 2]
    return line


def read_reply(sock, buf):
    line = read_line(sock, buf)
    if line[:1] == b"$":
        n = int(line[1:])
        if n < 0:
            return None
        while len(buf) < n + 2:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            buf.extend(chunk)
        data = bytes(buf[:n])
        del buf[: n + 2]
        return data
    if line[:1] == b"-":
        raise RuntimeError(line.decode())
    return line[1:]


def connect(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def saver(port, out, at):
    time.sleep(max(0.0, at - time.perf_counter()))
    s, buf = connect(port), bytearray()
    t0 = time.perf_counter()
    command(s, buf, "BGSAVE")
    while True:
        time.sleep(0.005)
        info = command(s, buf, "INFO", "persistence")
        if b"rdb_bgsave_in_progress:0" in info:
            break
    t1 = time.perf_counter()
    stats = command(s, buf, "INFO", "stats").decode()
    fork = next((l.split(":")[1] for l in stats.split("\r\n") if l.startswith("latest_fork_usec:")), "?")
    out.put((t0, t1, fork))


def pct(sorted_ms, p):
    if not sorted_ms:
        return 0.0
    return sorted_ms[min(len(sorted_ms) - 1, int(len(sorted_ms) * p))]


def main():
    port, keys = int(sys.argv[1]), int(sys.argv[2])
    gc.disable()  # collections of the growing sample list would show as server latency
    s, buf = connect(port), bytearray()
    samples = []  # (start, latency_s)
    out = multiprocessing.Queue()
    begin = time.perf_counter()
    # Started now, BGSAVE 1.5 s later: the baseline second is clear of the process start.
    proc = multiprocessing.Process(target=saver, args=(port, out, begin + 1.5))
    proc.start()
    result = None
    while True:
        now = time.perf_counter()
        if result is None and not out.empty():
            result = out.get()
        if result is not None and now > result[1] + 0.2:
            break
        if now - begin > 120:
            sys.exit("BGSAVE did not finish in 120 s")
        k = b"key:%d" % random.randrange(keys)
        t = time.perf_counter()
        command(s, buf, b"GET", k)
        samples.append((t, time.perf_counter() - t))
    proc.join()
    t0, t1, fork = result
    window = sorted(l * 1000 for (t, l) in samples if t0 <= t <= t1)
    base = sorted(l * 1000 for (t, l) in samples if t0 - 1.0 <= t < t0)
    print(
        "bgsave_ms=%.0f window_gets=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f base_p99_ms=%.3f fork_us=%s"
        % ((t1 - t0) * 1000, len(window), pct(window, 0.5), pct(window, 0.99),
           window[-1] if window else 0.0, pct(base, 0.99), fork)
    )


if __name__ == "__main__":
    main()
