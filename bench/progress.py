"""A line now and then on a long run: which scenario, how long so far, about how long left."""

from __future__ import annotations

import time

import pytest


class Progress:
    """A line now and then on a long run: scenario i of n, time so far, an estimate left
    (the mean time of the scenarios so far times those left; a later pass that turns out
    not to be needed is skipped in no time, so the estimate is rough)."""

    EVERY_S = 30.0
    MIN_DONE = 5  # and at least a twentieth of the run before an estimate is given

    def __init__(self, config: pytest.Config, total: int) -> None:
        self.config, self.total, self.done = config, total, 0
        self.start = time.monotonic()
        self.last = self.start
        self.ran = 0.0

    def finished(self, seconds: float) -> None:
        self.done += 1
        self.ran += seconds
        now = time.monotonic()
        if now - self.last < self.EVERY_S or self.done >= self.total:
            return
        self.last = now
        if self.done >= max(self.MIN_DONE, self.total // 20):
            left = f"about {_clock(self.ran / self.done * (self.total - self.done))} left"
        else:  # a few scenarios say little about the rest
            left = "an estimate once more have run"
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"[concurrency-bench] scenario {self.done} of {self.total}, "
                                f"{_clock(now - self.start)} so far, {left}")


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}:{rest:02d}"
