"""The HTTP client libraries the http and get workloads can use, on equal terms.

`aiohttp` is async only, `requests` sync only, `httpx` both.  A sync twin uses one
keep-alive client per worker thread or process; an async twin one keep-alive client
shared by all its tasks, its connection pool limited to the scenario's concurrency.
Every library gets the same timeout in seconds (aiohttp counts it for the whole request,
requests and httpx for each connect and read), none reads proxy settings from the
environment except requests (its default; the suite's URLs are on 127.0.0.1), and every
library's errors become the same failure kinds: status, timeout, connection (no
connection made) and reset (a connection broke under the request).

Which client a scenario uses is part of the scenario (`--http-client`): the runners on an
event loop take the async clients given, the others the sync ones.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, ClassVar

import aiohttp

from workloads.base import TaskFailed

SYNC, ASYNC = "sync", "async"
# Which twins each library can serve.
CLIENTS: dict[str, tuple[str, ...]] = {"aiohttp": (ASYNC,), "httpx": (SYNC, ASYNC),
                                       "requests": (SYNC,)}
DEFAULT_CLIENTS = ("aiohttp", "requests")
# The client a twin uses when the scenario names none.
DEFAULT_FOR = {SYNC: "requests", ASYNC: "aiohttp"}


def unavailable(client: str) -> str | None:
    """Why `client` cannot be used in this environment, or None."""
    if importlib.util.find_spec(client) is None:
        return f"{client} is not installed for this Python (pip install {client})"
    return None


def serves(client: str, side: str) -> bool:
    return side in CLIENTS.get(client, ())


# One sync client per (process, thread, library).  Keyed by pid so that a forked worker
# never reuses the keep-alive socket it inherited from its parent.
_sessions: dict[tuple[int, int, str], Any] = {}
_sessions_lock = threading.Lock()


def _thread_session(client: str, timeout_s: float) -> Any:
    key = (os.getpid(), threading.get_ident(), client)
    session = _sessions.get(key)
    if session is None:
        if client == "httpx":
            import httpx

            session = httpx.Client(timeout=timeout_s, trust_env=False)
        else:
            import requests

            session = requests.Session()
        with _sessions_lock:
            _sessions[key] = session
    return session


def close_thread_sessions() -> None:
    """Close the sync clients this process opened."""
    pid = os.getpid()
    with _sessions_lock:
        mine = [key for key in _sessions if key[0] == pid]
        for key in mine:
            _sessions.pop(key).close()


def _requests_connection_kind(exc: BaseException) -> str:
    """'connection' when no connection was made, 'reset' when one broke under us."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, (ConnectionResetError, BrokenPipeError)) or \
                type(cause).__name__ in ("ProtocolError", "RemoteDisconnected"):
            return "reset"
        cause = cause.__cause__ or cause.__context__ or next(
            (arg for arg in getattr(cause, "args", ()) if isinstance(arg, BaseException)), None)
    return "connection"


def _httpx_kind(exc: Exception) -> str | None:
    """The failure kind of an httpx error, or None if it is not a transport error."""
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connection"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError,
                        httpx.CloseError)):
        return "reset"
    if isinstance(exc, httpx.TransportError):
        return "connection"
    return None


@contextmanager
def _httpx_failures() -> Iterator[None]:
    """httpx's transport errors as the failure kinds every client shares."""
    try:
        yield
    except Exception as exc:
        kind = _httpx_kind(exc)
        if kind is None:
            raise
        raise TaskFailed(kind, str(exc)) from exc


def get_sync(url: str, timeout_s: float, client: str = "requests") -> tuple[int, bytes]:
    """(status, body) of one GET with this thread's keep-alive client of `client`."""
    session = _thread_session(client, timeout_s)
    if client == "httpx":
        with _httpx_failures():
            response = session.get(url, timeout=timeout_s)
            return response.status_code, response.content
    import requests

    try:
        response = session.get(url, timeout=timeout_s)
        return response.status_code, response.content
    except requests.Timeout as exc:
        raise TaskFailed("timeout", str(exc)) from exc
    except requests.exceptions.ChunkedEncodingError as exc:
        raise TaskFailed("reset", str(exc)) from exc
    except requests.ConnectionError as exc:
        raise TaskFailed(_requests_connection_kind(exc), str(exc)) from exc


async def get_async(session: Any, url: str) -> tuple[int, bytes]:
    """(status, body) of one GET on the shared async client (aiohttp or httpx)."""
    if not isinstance(session, aiohttp.ClientSession):  # httpx.AsyncClient
        with _httpx_failures():
            response = await session.get(url)
            return response.status_code, response.content
    try:
        async with session.get(url) as response:
            return response.status, await response.read()
    except TimeoutError as exc:
        raise TaskFailed("timeout", "no response within the timeout") from exc
    except aiohttp.ClientConnectorError as exc:
        raise TaskFailed("connection", str(exc)) from exc
    except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
        raise TaskFailed("reset", str(exc)) from exc


@asynccontextmanager
async def async_session(client: str, concurrency: int, timeout_s: float) -> AsyncIterator[Any]:
    """The async twins' one keep-alive client, its pool limited to C connections."""
    if client == "httpx":
        import httpx

        limits = httpx.Limits(max_connections=concurrency,
                              max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=timeout_s,
                                     trust_env=False) as session:
            yield session
        return
    if client != "aiohttp":
        raise ValueError(f"{client} has no async client")
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        yield session


class HttpClientMixin:
    """For a workload dataclass with fields `client: str` ("" for each twin's default) and
    `timeout_s: float`: its twins' GETs with the client the scenario names."""

    takes_http_client: ClassVar[bool] = True
    client: str
    timeout_s: float

    def client_for(self, side: str) -> str:
        """The library the `side` twin of this workload makes its requests with."""
        if getattr(self, "blocking", False):  # the async twin calls the sync one
            side = SYNC
        return self._library(side)

    def _library(self, side: str) -> str:
        return self.client if serves(self.client, side) else DEFAULT_FOR[side]

    def get_sync(self, url: str) -> tuple[int, bytes]:
        return get_sync(url, self.timeout_s, self._library(SYNC))

    async def get_async(self, session: Any, url: str) -> tuple[int, bytes]:
        return await get_async(session, url)

    @asynccontextmanager
    async def async_client(self, concurrency: int) -> AsyncIterator[Any]:
        async with async_session(self._library(ASYNC), concurrency,
                                 self.timeout_s) as session:
            yield session

    def close_sync_clients(self) -> None:
        close_thread_sessions()


def describe_clients() -> str:
    """The clients' settings in one line, for the record of a run."""
    return ("aiohttp: one ClientSession, connector limit = concurrency; httpx: one "
            "AsyncClient (pool = concurrency) for async twins, one Client per worker thread "
            "or process for sync twins; requests: one Session per worker thread or process; "
            "keep-alive on all")
