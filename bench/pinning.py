"""`--cores K`: the client and its workers pinned to K of the usable cores, so that how a
model scales with cores is measured on this machine instead of guessed.

Linux keeps a CPU mask per thread, and a new thread or process inherits its creator's.
`pinned(K)` sets the mask of every thread of this process and of every process it started
(a forkserver, pool workers, a local Dask cluster), the test server's tree excepted (it is
the other side of the measurement, and keeps every core), and puts the masks back after.
Workers started while pinned inherit the mask; `usable_cores()` then reads K.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import psutil


def _tasks(pid: int) -> list[int]:
    with contextlib.suppress(OSError):
        return [int(task.name) for task in Path(f"/proc/{pid}/task").iterdir()]
    return []


def _client_tasks(exclude: set[int]) -> list[int]:
    """Every thread of this process and of its children, less the excluded processes."""
    me = psutil.Process()
    pids = [me.pid, *(child.pid for child in me.children(recursive=True))]
    return [tid for pid in pids if pid not in exclude for tid in _tasks(pid)]


def _set(tids: list[int], mask: set[int]) -> None:
    for tid in tids:
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            os.sched_setaffinity(tid, mask)


def server_tree(server_pid: int | None) -> set[int]:
    if server_pid is None:
        return set()
    with contextlib.suppress(psutil.NoSuchProcess):
        server = psutil.Process(server_pid)
        return {server_pid, *(child.pid for child in server.children(recursive=True))}
    return {server_pid}


@contextlib.contextmanager
def pinned(cores: int | None, server_pid: int | None = None) -> Iterator[None]:
    """The client on the first `cores` usable cores for the duration (nothing if None)."""
    if cores is None:
        yield
        return
    allowed = sorted(os.sched_getaffinity(0))
    if not 1 <= cores <= len(allowed):
        raise ValueError(f"--cores {cores}: this machine lets the suite use {len(allowed)}")
    exclude = server_tree(server_pid)
    _set(_client_tasks(exclude), set(allowed[:cores]))
    try:
        yield
    finally:
        _set(_client_tasks(exclude), set(allowed))


def pin_again(cores: int | None, server_pid: int | None = None) -> None:
    """After a runner opened: its workers that did not inherit the mask (started by a
    process that was not pinned) get it too."""
    if cores is None:
        return
    allowed = sorted(os.sched_getaffinity(0))  # the pinned thread's own mask: K cores
    _set(_client_tasks(server_tree(server_pid)), set(allowed))
