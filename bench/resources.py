"""CPU seconds and peak memory of the client under test, child processes included.

pytest-benchmark measures wall time only.  `ResourceMeter` brackets the counted
rounds of a scenario and reports what they cost the client: CPU of this process and
of its live children (process-pool workers), plus children reaped in between.  Other
processes' CPU is read from the scheduler's nanosecond counters, not the tick-sampled
ones, which miss most of a worker's sub-tick bursts.  The
test server is a child too; it is excluded from the client and reported alone, so
that a saturated server shows up as such rather than as a slow client.  Processes that
work for the client without being its children (an external Dask cluster's scheduler and
workers on this machine) are counted with it when the runner names them.

Peak RSS comes from each process's high-water mark (VmHWM), which Linux lets us
reset before the counted rounds; the peak "including children" is the sum of the
per-process peaks, an upper bound on what they held at any one moment.  Forked
workers count the pages they share with their parent in their own RSS too, so the
meter also reports PSS at the end of the counted rounds: resident memory with every
shared page split among the processes that share it, which adds up honestly.

The neighbours: the machine's busy CPU time over the same interval (from /proc/stat via
psutil), less the client's and the server's, is what other processes used; with the
kernel's steal time (CPU taken by the hypervisor) and the load average it tells a noisy
model from a noisy machine.
"""

from __future__ import annotations

import contextlib
import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

MIB = 1024 * 1024


@dataclass(frozen=True)
class ResourceUsage:
    cpu_s: float
    peak_rss_mb: float
    pss_mb: float
    server_cpu_s: float | None
    others_cpu_s: float = 0.0  # CPU used by processes other than the client and the server
    window_s: float = 0.0  # wall time from start() to stop(): the rounds and between them
    steal_s: float = 0.0  # CPU time the hypervisor took from this machine
    load_avg: float = 0.0  # the 1-minute load average when the rounds ended
    ctx_switches: int | None = None  # the client's processes' context switches


def _machine_busy_and_steal() -> tuple[float, float]:
    times = psutil.cpu_times()
    busy = times.user + times.nice + times.system + getattr(times, "irq", 0.0) + \
        getattr(times, "softirq", 0.0)
    return float(busy), float(getattr(times, "steal", 0.0))


def _cpu_seconds(process: psutil.Process) -> float:
    """CPU time of every thread of `process`, to the nanosecond where Linux says
    (/proc/PID/task/TID/schedstat); else the clock-tick counters psutil reads, which lag
    by up to a tick per process and, summed over 64 mostly idle pool workers, made their
    CPU look like a neighbour's."""
    try:
        total = 0
        for task in Path(f"/proc/{process.pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[0])
        return total / 1e9
    except (OSError, ValueError, IndexError):
        times = process.cpu_times()
        return float(times.user + times.system)


def _thread_switches(pid: int) -> int:
    """Context switches of every live thread of `pid` (/proc/PID/task/TID/status)."""
    total = 0
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError):
                for line in (task / "status").read_text().splitlines():
                    if "ctxt_switches:" in line:  # voluntary_ and nonvoluntary_
                        total += int(line.split(":")[1])
    return total


def _reset_peak(pid: int) -> None:
    # Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def _peak_rss_bytes(process: psutil.Process) -> int:
    try:
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(process.memory_info().rss)  # no /proc: the current RSS is all we have


def _pss_bytes(process: psutil.Process) -> int:
    info = process.memory_full_info()
    return int(getattr(info, "pss", info.uss))  # PSS is Linux-only; USS elsewhere


def _tree(pid: int) -> list[psutil.Process]:
    """A process and every process of its tree (empty once it has ended)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _summed(tree: list[psutil.Process], reading: Callable[[psutil.Process], float]) -> float:
    total = 0.0
    for process in tree:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += reading(process)
    return total


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process and every process of its tree, and of the children it has reaped
    (a database backend that ended with its connection, a server's worker that exited)."""
    tree = _tree(pid)
    total = _summed(tree, _cpu_seconds)
    if tree:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            times = tree[0].cpu_times()
            total += times.children_user + times.children_system
    return total


def listening_pid(port: int) -> int | None:
    """The first process of this machine that listens on TCP `port` (a server's master:
    its workers share the socket), or None (another machine's, or not ours to see)."""
    try:
        found = {conn.pid for conn in psutil.net_connections(kind="tcp")
                 if conn.status == psutil.CONN_LISTEN and conn.laddr and
                 conn.laddr.port == port and conn.pid}
    except psutil.AccessDenied:
        return None
    for pid in sorted(found):
        with contextlib.suppress(psutil.NoSuchProcess):
            if psutil.Process(pid).ppid() not in found:
                return pid
    return None


def tree_pss_mb(pid: int) -> float:
    """PSS of a process and every process of its tree (a server and its workers)."""
    return _summed(_tree(pid), _pss_bytes) / MIB


class ResourceMeter:
    """Snapshot at `start()`, difference at `stop()`."""

    def __init__(self, server_pid: int | None = None) -> None:
        self._me = psutil.Process()
        self._server = psutil.Process(server_pid) if server_pid else None
        self._start_cpu: dict[int, float] = {}
        self._start_switches: dict[int, int] = {}
        self._start_reaped = 0.0
        self._start_server = 0.0
        self._start_machine = (0.0, 0.0)
        self._not_counted = 0.0
        self._started_at = 0.0
        self._also: list[psutil.Process] = []

    def include(self, pids: list[int]) -> None:
        """Count these processes as the client's too, though they are not its children
        (an external cluster's scheduler and workers on this machine)."""
        for pid in pids:
            with contextlib.suppress(psutil.NoSuchProcess):
                self._also.append(psutil.Process(pid))

    def _server_tree(self) -> set[int]:
        if self._server is None:
            return set()
        return {self._server.pid} | {child.pid for child in self._server.children(recursive=True)}

    def _server_cpu(self) -> float:
        return 0.0 if self._server is None else tree_cpu_seconds(self._server.pid)

    def _client_processes(self) -> list[psutil.Process]:
        # The server's tree is read anew each time: a database forks a backend for every
        # connection the client opens, and those are the server's, not the client's.
        excluded = self._server_tree()
        children = [child for child in self._me.children(recursive=True)
                    if child.pid not in excluded]
        return [self._me, *children, *(p for p in self._also if p.is_running())]

    def _cpu_by_pid(self) -> dict[int, float]:
        # process_time() has a far finer clock than the per-tick counters of children.
        usage = {self._me.pid: time.process_time()}
        for process in self._client_processes()[1:]:
            try:
                # With the CPU of the children it has reaped: forkserver and spawn workers
                # are the forkserver's children, so a pool that starts and stops within the
                # counted rounds (cold) leaves its workers' CPU there, not with us.
                reaped = process.cpu_times()
                usage[process.pid] = _cpu_seconds(process) + reaped.children_user + \
                    reaped.children_system
            except psutil.NoSuchProcess:
                continue
        return usage

    def _switches_by_pid(self) -> dict[int, int]:
        """Each client process's context switches so far, voluntary (it waited: a lock, the
        GIL, a socket) and involuntary (the scheduler took the core), over all its threads
        (psutil's count is the main thread's alone)."""
        own = resource.getrusage(resource.RUSAGE_SELF)  # every thread, ended ones too
        switches = {self._me.pid: int(own.ru_nvcsw + own.ru_nivcsw)}
        for process in self._client_processes()[1:]:
            switches[process.pid] = _thread_switches(process.pid)
        return switches

    @staticmethod
    def _reaped_children_cpu() -> float:
        times = os.times()
        return times.children_user + times.children_system

    def leave_out(self, cpu_s: float) -> None:
        """CPU this process spent between rounds on the harness's own work (not the client's)."""
        self._not_counted += cpu_s

    def client_pss_mb(self) -> float:
        """The client's processes' PSS now (before a runner opens: the base it adds to)."""
        pss = 0
        for process in self._client_processes():
            with contextlib.suppress(psutil.NoSuchProcess):
                pss += _pss_bytes(process)
        return pss / MIB

    def start(self) -> None:
        for process in self._client_processes():
            _reset_peak(process.pid)
        self._start_cpu = self._cpu_by_pid()
        self._start_switches = self._switches_by_pid()
        self._start_reaped = self._reaped_children_cpu()
        self._start_server = self._server_cpu()
        self._start_machine = _machine_busy_and_steal()
        self._not_counted = 0.0
        self._started_at = time.perf_counter()

    def stop(self) -> ResourceUsage:
        # Every CPU reading at once, before the memory readings below: reading 64 workers'
        # smaps costs kernel time that must not be counted as a neighbour's.
        end_cpu = self._cpu_by_pid()
        switches = sum(end - self._start_switches.get(pid, 0)
                       for pid, end in self._switches_by_pid().items())
        busy, steal = _machine_busy_and_steal()
        window = time.perf_counter() - self._started_at
        server_cpu = self._server_cpu() - self._start_server if self._server else None
        cpu = sum(end - self._start_cpu.get(pid, 0.0) for pid, end in end_cpu.items())
        cpu += self._reaped_children_cpu() - self._start_reaped
        harness, cpu = self._not_counted, cpu - self._not_counted
        peak = pss = 0
        for process in self._client_processes():
            try:
                peak += _peak_rss_bytes(process)
                pss += _pss_bytes(process)
            except psutil.NoSuchProcess:
                continue
        others = busy - self._start_machine[0] - cpu - harness - (server_cpu or 0.0)
        return ResourceUsage(cpu_s=cpu, peak_rss_mb=peak / MIB, pss_mb=pss / MIB,
                             server_cpu_s=server_cpu, others_cpu_s=max(0.0, others),
                             window_s=window,
                             steal_s=steal - self._start_machine[1],
                             load_avg=os.getloadavg()[0], ctx_switches=switches)
