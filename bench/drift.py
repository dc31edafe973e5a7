"""A fixed probe of the machine, taken at the start of a run, between workloads and at the end.

Two runs of one commit on a shared machine differ by a few per cent on some rows, and not
all of that is the suite's doing.  The probe measures the host with the same three short
jobs every time, so that a comparison of two runs can tell the machine's drift from a
change in a row:

- `cpu_ms`: a short pure-Python summation (the median of PROBE_REPEATS), on a worker
  thread like every runner's tasks;
- `sleep_overshoot_ms`: how late `time.sleep(1 ms)` wakes (the median), the timer and the
  scheduler's share of every I/O wait;
- `loopback_rtt_ms`: a one-byte TCP round trip on 127.0.0.1 (the median), the floor of
  every HTTP request.

It takes about a tenth of a second and runs outside any timed region.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from bench.stats import median

PROBE_REPEATS = 7
PROBE_N = 100_000  # about 4 ms of summation here
SLEEPS = 15
SLEEP_S = 0.001
ROUND_TRIPS = 50


def _summation() -> int:
    return sum(i * i for i in range(PROBE_N))


def _cpu_ms() -> float:
    times: list[float] = []

    def work() -> None:
        for _ in range(PROBE_REPEATS):
            start = time.perf_counter()
            _summation()
            times.append(time.perf_counter() - start)

    worker = threading.Thread(target=work, name="bench-drift-probe")
    worker.start()
    worker.join()
    return median(times) * 1000


def _sleep_overshoot_ms() -> float:
    late = []
    for _ in range(SLEEPS):
        start = time.perf_counter()
        time.sleep(SLEEP_S)
        late.append(time.perf_counter() - start - SLEEP_S)
    return median(late) * 1000


def _loopback_rtt_ms() -> float:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(5.0)  # never wait for ever on a client that could not connect

        def echo() -> None:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                while data := connection.recv(1):
                    connection.sendall(data)

        server = threading.Thread(target=echo, name="bench-drift-echo")
        server.start()
        times = []
        try:
            with socket.create_connection(listener.getsockname()) as client:
                client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                for _ in range(ROUND_TRIPS):
                    start = time.perf_counter()
                    client.sendall(b"x")
                    client.recv(1)
                    times.append(time.perf_counter() - start)
        finally:
            server.join()
    return median(times) * 1000


def probe(when: str) -> dict[str, Any]:
    """One reading of the machine, labelled with when in the run it was taken."""
    return {"when": when, "at": time.time(), "cpu_ms": _cpu_ms(),
            "sleep_overshoot_ms": _sleep_overshoot_ms(), "loopback_rtt_ms": _loopback_rtt_ms()}


def summary(probes: list[dict[str, Any]]) -> dict[str, float]:
    """Each probe's median over a run's readings, and the CPU probe's spread within it
    (slowest / fastest reading)."""
    if not probes:
        return {}
    found = {key: median([float(p[key]) for p in probes])
             for key in ("cpu_ms", "sleep_overshoot_ms", "loopback_rtt_ms")}
    cpu = [float(p["cpu_ms"]) for p in probes]
    found["cpu_spread"] = max(cpu) / min(cpu)
    return found
