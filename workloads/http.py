"""Real HTTP: GET one URL of the local test server and read the whole body.

Sync twin: `requests` by default, one keep-alive session per worker thread or process.
Async twin: `aiohttp` by default, one keep-alive session shared by all tasks, its pool
limited to the scenario's concurrency.  `httpx` can serve either twin (`--http-client`;
see workloads.clients).  Both sides ask for the same URL with the same timeout, check
the status and the body length, and report library errors as the same failure kinds,
so the clients differ only in the model and the library, which the scenario names.

`blocking=True` is the classic mistake, kept for measuring it: the async twin calls
the sync twin (a sync client) inside the coroutine, holding the loop for every request.

Faults: with `fail_rate` > 0, task i asks the server for a fault when a generator
seeded with (`seed`, i) says so, so the same tasks fail under every runner and in
every round.  `fault` picks what goes wrong: "status" (the server answers
`fail_status`), "reset" (it drops the connection mid-body) or "slow" (it answers a
second after the client's timeout).
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlencode

from workloads.base import Offload, TaskFailed, Workload, WrongResult, knob, register_workload
from workloads.clients import HttpClientMixin

FAULTS = ("status", "reset", "slow")
# What the test server accepts (it imports these; it must not be imported from here, since
# `python -m workloads.server` runs it as a script after the package is imported).
MAX_DELAY_MS = 600_000
MAX_SIZE = 64 * 1024 * 1024
SLOW_EXTRA_MS = 1000  # a "slow" answer comes this long after the client gave up

@register_workload
@dataclass(frozen=True)
class HttpWorkload(HttpClientMixin, Workload):
    name: ClassVar[str] = "http"
    order: ClassVar[int] = 20
    default_tasks: ClassVar[int] = 256
    needs_server: ClassVar[bool] = True
    in_default_matrix: ClassVar[bool] = True
    base_url: str = "http://127.0.0.1:8080/"
    delay_ms: int = knob(10, "server delay per request, in milliseconds", low=0,
                         high=MAX_DELAY_MS)
    size: int = knob(1024, "response body bytes", low=0, high=MAX_SIZE)
    status: int = 200
    timeout_s: float = knob(10.0, "per-request timeout in seconds, both clients", low=0.001,
                            high=3600)
    blocking: bool = False
    fail_rate: float = knob(0.0, "share of tasks that ask the server for a fault", low=0,
                            high=1)
    fault: str = knob("status", "what a faulty task gets: status, reset (mid-body) or slow "
                      "(past the timeout)", choices=FAULTS)
    fail_status: int = knob(500, "status code of the 'status' fault", low=400, high=599)
    seed: int = knob(0, "which tasks are faulty: the same seed fails the same tasks", low=0,
                     high=2**32 - 1, option="--seed")
    inject: str = ""  # the fault this one task asks for; set by `for_task`
    client: str = ""  # the HTTP library (workloads.clients); "" for each twin's default

    def faulty(self, index: int) -> bool:
        """Whether task `index` of a round asks for a fault: fixed by the seed alone."""
        return self.fail_rate > 0 and random.Random(f"{self.seed}:{index}").random() < \
            self.fail_rate

    def faults_injected(self) -> bool:
        return self.fail_rate > 0

    def for_task(self, index: int) -> HttpWorkload:
        return dataclasses.replace(self, inject=self.fault) if self.faulty(index) else self

    @property
    def url(self) -> str:
        knobs: dict[str, object] = {"delay_ms": self.delay_ms, "size": self.size,
                                    "status": self.status}
        if self.inject == "status":
            knobs["status"] = self.fail_status
        elif self.inject == "reset":
            knobs["fault"] = "reset"
        elif self.inject == "slow":
            knobs["delay_ms"] = int(self.timeout_s * 1000) + SLOW_EXTRA_MS
        return f"{self.base_url}?{urlencode(knobs)}"

    def call(self) -> int:
        return self._result(*self.get_sync(self.url))

    async def acall(self, client: Any) -> int:
        if self.blocking:
            return self.call()  # the pitfall, on purpose
        return self._result(*await self.get_async(client, self.url))

    async def ahybrid(self, client: Any, offload: Offload) -> object:
        # Nothing to compute: the hybrid loop awaits the request like asyncio does.
        return await self.acall(client)

    def _result(self, status: int, body: bytes) -> int:
        if status != 200:
            raise TaskFailed("status", f"HTTP {status}")
        return len(body)

    def check(self, result: object) -> None:
        if result != self.size:
            raise WrongResult(f"body was {result!r} bytes, expected {self.size}")

    def task_seconds(self) -> float:
        return self.delay_ms / 1000

    @classmethod
    def connections(cls, concurrency: int) -> int:
        return concurrency

    def describe(self) -> dict[str, object]:
        described = {"url": self.base_url, "delay_ms": self.delay_ms, "size": self.size,
                     "status": self.status, "timeout_s": self.timeout_s,
                     "blocking": self.blocking}
        if self.fail_rate > 0:
            described |= {"fail_rate": self.fail_rate, "fault": self.fault,
                          "fail_status": self.fail_status, "seed": self.seed}
        return described
