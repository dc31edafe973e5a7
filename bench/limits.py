"""Check a scenario against the machine's limits before running it, not by crashing.

Open files: every HTTP connection is a socket, and every process-pool worker costs
the parent a few pipes.  If the soft limit is too low we raise it (up to the hard
limit, which needs no privilege); past the hard limit we stop with a message saying
what to run.  Threads are checked against the kernel's thread limit and the per-user
process limit (threads count against both), worker processes against the memory and
the files a worker of that runner needs.  What a scenario needs is asked of its workload
and runner classes, given the runner options.
"""

from __future__ import annotations

import contextlib
import resource
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psutil

from bench.runners import RUNNERS
from workloads import WORKLOADS

BASE_FILES = 256  # interpreter, pytest, libraries, the server pipe, log files
BASE_THREADS = 256  # the interpreter's own, pytest's, the libraries', the server's
THREADS_MAX = Path("/proc/sys/kernel/threads-max")
PID_MAX = Path("/proc/sys/kernel/pid_max")  # every thread takes an id from this space
MAX_MAP_COUNT = Path("/proc/sys/vm/max_map_count")  # mappings per process
LOADAVG = Path("/proc/loadavg")  # its 4th field: running/total threads on the machine
# Mappings one more Python thread adds, measured here (3.11.7 and 3.13.0: 3.0 per thread
# from 2,000 to 4,000 threads; 3.13.5t: 2.0): its stack, the guard page that splits it, and
# its share of malloc's arenas.  At 2 per thread the check let 30,000 threads through and
# the 22,353rd failed with "can't start new thread" at 65,532 mappings.
MAPS_PER_THREAD = 3


class LimitError(ValueError):
    """The scenario cannot run on this machine as asked; one line for the user."""


def files_needed(workload: str, runner: str, concurrency: int,
                 options: Mapping[str, Any] | None = None) -> int:
    cls = RUNNERS[runner]
    sockets = WORKLOADS[workload].connections(concurrency)
    return BASE_FILES + sockets + cls.worker_files * cls.worker_processes(concurrency, options)


def ensure_open_files(needed: int) -> int:
    """Raise the soft open-file limit to `needed` if the hard limit allows; return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return soft
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise LimitError(f"this scenario needs about {needed} open files but the hard limit is "
                         f"{hard}; raise it (ulimit -Hn {needed}, as root) or lower --concurrency")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    return needed


def _machine_threads() -> int:
    """Threads on the whole machine now (they hold ids and count against threads-max)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(LOADAVG.read_text().split()[3].split("/")[1])
    return 0


def _own_mappings() -> int:
    with contextlib.suppress(OSError):
        return len(Path("/proc/self/maps").read_text().splitlines())
    return 0


def _thread_limits() -> list[tuple[int, str]]:
    """(threads this process may still start, what limits it) for every limit that a new
    thread counts against."""
    limits = []
    busy = _machine_threads()
    with contextlib.suppress(OSError, ValueError):
        limits.append((int(THREADS_MAX.read_text()) - busy,
                       f"the kernel allows (threads-max, less the {busy} threads running)"))
    with contextlib.suppress(OSError, ValueError):
        limits.append((int(PID_MAX.read_text()) - busy,
                       f"thread ids allow (kernel.pid_max, less the {busy} threads running)"))
    with contextlib.suppress(OSError, ValueError):
        mapped = _own_mappings()
        limits.append(((int(MAX_MAP_COUNT.read_text()) - mapped) // MAPS_PER_THREAD,
                       f"memory mappings allow (vm.max_map_count: {MAPS_PER_THREAD} per "
                       f"thread, {mapped} in use)"))
    soft, _ = resource.getrlimit(resource.RLIMIT_NPROC)
    if soft != resource.RLIM_INFINITY:
        limits.append((soft, "the per-user process limit allows (ulimit -u)"))
    return limits


def check_workers(runner: str, concurrency: int,
                  options: Mapping[str, Any] | None = None) -> None:
    cls = RUNNERS[runner]
    threads = cls.threads_started(concurrency)
    for limit, what in _thread_limits():
        if threads and threads + BASE_THREADS > limit:
            raise LimitError(f"--runner {runner} at --concurrency {concurrency} starts "
                             f"{threads} threads but {what} about {limit} in all; "
                             "lower --concurrency")
    workers = cls.worker_processes(concurrency, options)
    if workers:
        affordable = psutil.virtual_memory().available // cls.worker_memory
        if workers > affordable:
            raise LimitError(f"--runner {runner} at --concurrency {concurrency} would start "
                             f"{workers} worker processes; available memory allows about "
                             f"{affordable}: drop {runner} from --runner or lower "
                             f"{cls.workers_set_by}")


def check_scenario(workload: str, runner: str, concurrency: int,
                   options: Mapping[str, Any] | None = None) -> None:
    """Everything above for one scenario with these runner options; raises LimitError,
    may raise the soft fd limit."""
    check_workers(runner, concurrency, options)
    ensure_open_files(files_needed(workload, runner, concurrency, options))
