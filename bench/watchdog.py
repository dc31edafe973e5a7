"""A round that stops making progress is stopped after a bound, not waited for without end.

The bound comes from what the round should take: every task run one after another (the
workload's own time for one task, where it knows it, plus a generous PER_TASK_S of harness
cost each), STALL_FACTOR times over, and never less than STALL_FLOOR_S.  No concurrency
model worth measuring is that much slower than running its tasks in a row, so a round past
it is stuck (a deadlock, a lost wake-up, a convoy that no longer moves), not slow.  Where the
workload does not know its task time (a user's own), the first round runs unbounded and
bounds the rest at STALL_FACTOR times its own time.

The round is stopped from the main thread: a SIGALRM interrupts the runner's wait and raises
`Stalled`, a RuntimeError, which the suite reports as one failed line before going on to
the next scenario.  Off the main thread, or without `setitimer`, no bound is set.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

STALL_FACTOR = 10.0
STALL_FLOOR_S = 60.0
PER_TASK_S = 0.001


class Stalled(RuntimeError):
    """A round ran past its bound: stopped, and not a result."""


def round_bound(task_s: float | None, tasks: int, first_round_s: float | None
                ) -> tuple[float | None, str]:
    """Seconds a round of `tasks` may take before it counts as stuck (None: no bound yet),
    and the round as the message names it, with what the bound was made from."""
    if task_s is not None:
        expected, basis = tasks * (task_s + PER_TASK_S), "its tasks run one after another"
    elif first_round_s is not None:
        expected, basis = first_round_s, "its first round"
    else:
        return None, f"a round of {tasks} tasks"
    return (max(STALL_FLOOR_S, STALL_FACTOR * expected),
            f"a round of {tasks} tasks (bound: {STALL_FACTOR:g} times {basis}, at least "
            f"{STALL_FLOOR_S:g} s)")


@contextlib.contextmanager
def bounded(seconds: float | None, what: str) -> Iterator[None]:
    """Raise `Stalled` in the main thread if the block runs longer than `seconds`."""
    if (seconds is None or threading.current_thread() is not threading.main_thread()
            or not hasattr(signal, "setitimer")):
        yield
        return

    def expired(signum: int, frame: FrameType | None) -> None:
        raise Stalled(f"{what} made no end in {seconds:.3g} s; stopped, not a result")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
