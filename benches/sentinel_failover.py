"""Kills the master (SIGKILL) and times the first successful write through redis-py's
Sentinel client. Prints the failover time in seconds.

usage: sentinel_failover.py MASTER_PID SENTINEL_PORT [SENTINEL_PORT ...]
"""
import os
import signal
import sys
import time

from redis.sentinel import Sentinel

pid = int(sys.argv[1])
ports = [int(p) for p in sys.argv[2:]]
sentinel = Sentinel([("127.0.0.1", p) for p in ports], socket_timeout=0.5)
master = sentinel.master_for("mymaster", socket_timeout=0.5, socket_connect_timeout=0.5)
master.set("before", "1")
os.kill(pid, signal.SIGKILL)
t0 = time.monotonic()
deadline = t0 + 60
while time.monotonic() < deadline:
    try:
        master.set("after", "1")
        print(f"{time.monotonic() - t0:.3f}")
        sys.exit(0)
    except Exception:
        time.sleep(0.01)
print("timeout")
sys.exit(1)
