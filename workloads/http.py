"""Real HTTP: GET one URL of the local test server and read the whole body.

Sync twin: `requests`, one keep-alive `Session` per worker thread or process.
Async twin: `aiohttp`, one keep-alive `ClientSession` shared by all tasks, its
connector limited to the scenario's concurrency.  Both sides ask for the same URL
with the same timeout, check the status and the body length, and report library
errors as the same failure kinds, so the two clients differ only in the model.

`blocking=True` is the classic mistake, kept for measuring it: the async twin calls
the sync twin (`requests`) inside the coroutine, holding the loop for every request.

Faults: with `fail_rate` > 0, task i asks the server for a fault when a generator
seeded with (`seed`, i) says so, so the same tasks fail under every runner and in
every round.  `fault` picks what goes wrong: "status" (the server answers
`fail_status`), "reset" (it drops the connection mid-body) or "slow" (it answers a
second after the client's timeout).
"""

from __future__ import annotations

import dataclasses
import os
import random
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlencode

import aiohttp
import requests

from workloads.base import TaskFailed, Workload, WrongResult, knob, register_workload

FAULTS = ("status", "reset", "slow")
# What the test server accepts (it imports these; it must not be imported from here, since
# `python -m workloads.server` runs it as a script after the package is imported).
MAX_DELAY_MS = 600_000
MAX_SIZE = 64 * 1024 * 1024
SLOW_EXTRA_MS = 1000  # a "slow" answer comes this long after the client gave up

# One requests.Session per (process, thread).  Keyed by pid so that a forked worker
# never reuses the keep-alive socket it inherited from its parent.
_sessions: dict[tuple[int, int], requests.Session] = {}
_sessions_lock = threading.Lock()


def _thread_session() -> requests.Session:
    key = (os.getpid(), threading.get_ident())
    session = _sessions.get(key)
    if session is None:
        session = requests.Session()
        with _sessions_lock:
            _sessions[key] = session
    return session


def _requests_connection_kind(exc: requests.ConnectionError) -> str:
    """'connection' when no connection was made, 'reset' when one broke under us."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, (ConnectionResetError, BrokenPipeError)) or \
                type(cause).__name__ in ("ProtocolError", "RemoteDisconnected"):
            return "reset"
        cause = cause.__cause__ or cause.__context__ or next(
            (arg for arg in getattr(cause, "args", ()) if isinstance(arg, BaseException)), None)
    return "connection"


def get_sync(url: str, timeout_s: float) -> tuple[int, bytes]:
    """(status, body) of one GET with this thread's keep-alive `requests` session; library
    errors become the failure kinds both clients share."""
    try:
        response = _thread_session().get(url, timeout=timeout_s)
        return response.status_code, response.content
    except requests.Timeout as exc:
        raise TaskFailed("timeout", str(exc)) from exc
    except requests.exceptions.ChunkedEncodingError as exc:
        raise TaskFailed("reset", str(exc)) from exc
    except requests.ConnectionError as exc:
        raise TaskFailed(_requests_connection_kind(exc), str(exc)) from exc


async def get_async(client: aiohttp.ClientSession, url: str) -> tuple[int, bytes]:
    """(status, body) of one GET on the shared `aiohttp` session, with the same kinds."""
    try:
        async with client.get(url) as response:
            return response.status, await response.read()
    except TimeoutError as exc:
        raise TaskFailed("timeout", "no response within the timeout") from exc
    except aiohttp.ClientConnectorError as exc:
        raise TaskFailed("connection", str(exc)) from exc
    except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
        raise TaskFailed("reset", str(exc)) from exc


@asynccontextmanager
async def client_session(concurrency: int, timeout_s: float) -> AsyncIterator[
        aiohttp.ClientSession]:
    """The async twins' one keep-alive session, its connector limited to C."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        yield session


def close_thread_sessions() -> None:
    """Close the `requests` sessions this process opened."""
    pid = os.getpid()
    with _sessions_lock:
        mine = [key for key in _sessions if key[0] == pid]
        for key in mine:
            _sessions.pop(key).close()


@register_workload
@dataclass(frozen=True)
class HttpWorkload(Workload):
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
        return self._result(*get_sync(self.url, self.timeout_s))

    async def acall(self, client: aiohttp.ClientSession) -> int:
        if self.blocking:
            return self.call()  # the pitfall, on purpose
        return self._result(*await get_async(client, self.url))

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

    @asynccontextmanager
    async def async_client(self, concurrency: int) -> AsyncIterator[aiohttp.ClientSession]:
        async with client_session(concurrency, self.timeout_s) as session:
            yield session

    def close_sync_clients(self) -> None:
        close_thread_sessions()

    def describe(self) -> dict[str, object]:
        described = {"url": self.base_url, "delay_ms": self.delay_ms, "size": self.size,
                     "status": self.status, "timeout_s": self.timeout_s,
                     "blocking": self.blocking}
        if self.fail_rate > 0:
            described |= {"fail_rate": self.fail_rate, "fault": self.fault,
                          "fail_status": self.fail_status, "seed": self.seed}
        return described
