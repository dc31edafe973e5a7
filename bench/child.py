"""Stopping a child process the project started (a test server, PostgreSQL, a deployment,
the load generator): ask it to stop, give it time, then kill what is left, and reap it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Callable
from typing import Any


def end(process: subprocess.Popen[Any], ask: Callable[[], object], timeout_s: float,
        group: bool = False) -> None:
    """`ask` asks `process` to stop (closes its stdin, sends a signal); after `timeout_s`
    it is killed.  With `group` (a child started in a session of its own) every process
    left in its group is killed too, also when the leader went in time: workers that
    outlived their master, a database's backends."""
    with contextlib.suppress(OSError):
        ask()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout_s)
    if group:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    elif process.poll() is None:
        process.kill()
    process.wait()
