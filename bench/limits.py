"""Check a scenario against the machine's limits before running it, not by crashing.

Open files: every HTTP connection is a socket, and every process-pool worker costs
the parent a few pipes.  If the soft limit is too low we raise it (up to the hard
limit, which needs no privilege); past the hard limit we stop with a message saying
what to run.  Threads and worker processes are checked against the kernel's thread
limit and the memory a worker needs.
"""

from __future__ import annotations

import resource
from pathlib import Path

import psutil

BASE_FILES = 256  # interpreter, pytest, libraries, the server pipe, log files
FILES_PER_WORKER = 4  # call queue, result pipe, sentinel, wake-up pipe
MEMORY_PER_WORKER = 40 * 1024 * 1024  # a spawned worker with aiohttp and requests imported
THREADS_MAX = Path("/proc/sys/kernel/threads-max")


class LimitError(ValueError):
    """The scenario cannot run on this machine as asked; one line for the user."""


def files_needed(workload: str, runner: str, concurrency: int) -> int:
    sockets = concurrency if workload == "http" else 0
    workers = concurrency if runner in ("processes", "hybrid") else 0
    return BASE_FILES + sockets + FILES_PER_WORKER * workers


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


def check_workers(runner: str, concurrency: int) -> None:
    if runner == "threads":
        try:
            limit = int(THREADS_MAX.read_text())
        except (OSError, ValueError):
            return
        if concurrency + BASE_FILES > limit:
            raise LimitError(f"--concurrency {concurrency} needs that many threads but the "
                             f"kernel allows {limit} in all; lower --concurrency")
    if runner == "processes":
        affordable = psutil.virtual_memory().available // MEMORY_PER_WORKER
        if concurrency > affordable:
            raise LimitError(f"--concurrency {concurrency} would start {concurrency} worker "
                             f"processes; available memory allows about {affordable}: "
                             "lower --concurrency")


def check_scenario(workload: str, runner: str, concurrency: int) -> None:
    """Everything above for one scenario; raises LimitError, may raise the soft fd limit."""
    check_workers(runner, concurrency)
    ensure_open_files(files_needed(workload, runner, concurrency))
