"""The local test server: a real HTTP server in a process of its own.

It runs apart from the client under test so that the two never share a GIL or an
event loop.  Two servers answer the same routes with the same knobs: an aiohttp
application (the default) and a minimal ASGI application under uvicorn (`--server
uvicorn`, with httptools where installed), so that a result can be checked against a
second server stack.  `GET /__concurrency_bench__` names it (so that `--target-url` can tell a
copy of this server from any other service); `GET /` is the workload, shaped by query
knobs:

    delay_ms  wait this long before answering (default 0)
    size      body length in bytes (default 0)
    status    HTTP status to answer with (default 200)
    fault     "reset": send the headers and half the body, then drop the connection

Run it alone with `python -m workloads.server --port 8080 [--server uvicorn]`;
benchmarks start it through `ServerProcess`, which picks a free port and stops it again.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import importlib.util
import json
import logging
import os
import platform
import select
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Mapping
from importlib import metadata
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urljoin

import requests
from aiohttp import web

from bench.child import end
from workloads.http import MAX_DELAY_MS, MAX_SIZE

HOST = "127.0.0.1"
BACKLOG = 4096
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0
READY_PREFIX = "listening on "
FAULTS = ("", "reset")
SERVERS = ("aiohttp", "uvicorn")
DEFAULT_SERVER = "aiohttp"
KEEPALIVE_S = 3630  # idle keep-alive seconds, the same for both (aiohttp's own default)
IDENTITY_PATH = "/__concurrency_bench__"
IDENTITY = "concurrency-bench test server"
# The Python the server runs on.  When the suite measures another interpreter, the server
# still runs on the main environment's, so that every interpreter talks to the same server.
SERVER_PYTHON = "CONCURRENCY_BENCH_SERVER_PYTHON"
SERVER_UNSET = ("PYTHON_GIL", "PYTHON_JIT")  # an interpreter column's settings (not the server's)


class BadQuery(ValueError):
    pass


def _int_knob(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadQuery(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise BadQuery(f"{name} must be between {low} and {high}, got {value}")
    return value


@functools.lru_cache(maxsize=32)
def _body(size: int) -> bytes:
    return b"x" * size


def parse_query(query: Mapping[str, str]) -> tuple[int, int, int, str]:
    """(delay_ms, size, status, fault) from a request's query; BadQuery if out of range."""
    delay_ms = _int_knob(query, "delay_ms", 0, 0, MAX_DELAY_MS)
    size = _int_knob(query, "size", 0, 0, MAX_SIZE)
    status = _int_knob(query, "status", 200, 200, 599)
    fault = query.get("fault", "")
    if fault not in FAULTS:
        raise BadQuery(f"fault must be one of {', '.join(FAULTS)}, got {fault!r}")
    return delay_ms, size, status, fault


async def handle(request: web.Request) -> web.StreamResponse:
    try:
        delay_ms, size, status, fault = parse_query(request.query)
    except BadQuery as exc:
        return web.Response(status=400, text=f"{exc}\n")
    if delay_ms:
        await asyncio.sleep(delay_ms / 1000)
    if fault == "reset":
        return await _reset_mid_response(request, status, max(size, 2))
    return web.Response(status=status, body=_body(size))


async def _reset_mid_response(request: web.Request, status: int,
                              size: int) -> web.StreamResponse:
    """Promise `size` bytes, send half of them, then abort the TCP connection."""
    response = web.StreamResponse(status=status)
    response.content_length = size
    await response.prepare(request)
    await response.write(_body(size // 2))
    transport = request.transport
    if transport is not None:
        transport.abort()
    return response


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def identity(server: str) -> dict[str, object]:
    """What this server says it is at IDENTITY_PATH."""
    found: dict[str, object] = {
        "name": IDENTITY, "version": _version("concurrency-bench"), "server": server,
        "server_version": _version(server), "python": platform.python_version(),
        "python_build": sys.implementation.cache_tag, "executable": sys.executable}
    found["event_loop"] = "asyncio"
    if server == "uvicorn":
        found["http_parser"] = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return found


async def identify(request: web.Request) -> web.Response:
    return web.json_response(identity("aiohttp"))


def identify_server(url: str, timeout_s: float) -> dict[str, object] | None:
    """What the server at `url` says it is, or None if it is not a copy of this one
    (raises requests' errors if nothing answers)."""
    response = requests.get(urljoin(url, IDENTITY_PATH), timeout=timeout_s)
    try:
        found = response.json() if response.status_code == 200 else None
    except ValueError:  # not JSON
        found = None
    finally:
        response.close()
    return found if isinstance(found, dict) and found.get("name") == IDENTITY else None


def is_our_server(url: str, timeout_s: float) -> bool:
    """Whether `url` is served by a copy of this server (raises requests' errors if down)."""
    return identify_server(url, timeout_s) is not None


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/", handle)
    app.router.add_get(IDENTITY_PATH, identify)
    return app


def _listening_socket(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP named explicitly: asyncio turns Nagle off (TCP_NODELAY) only on sockets
    # that say so, and an accepted socket inherits it.  aiohttp turns it off itself;
    # uvicorn relies on asyncio, and would otherwise stall ~40 ms on every response whose
    # headers and body go out in two writes (Nagle against the client's delayed ACK).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    return sock


async def _asgi_app(scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]],
                    send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
    """The same routes and knobs as `make_app`, as a bare ASGI application."""
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == IDENTITY_PATH:
        await _asgi_answer(send, 200, json.dumps(identity("uvicorn")).encode(),
                           b"application/json")
        return
    if path != "/" or scope["method"] != "GET":
        await _asgi_answer(send, 404, b"not found\n")
        return
    query = {key: values[-1] for key, values in
             parse_qs(scope["query_string"].decode("latin-1")).items()}
    try:
        delay_ms, size, status, fault = parse_query(query)
    except BadQuery as exc:
        await _asgi_answer(send, 400, f"{exc}\n".encode())
        return
    if delay_ms:
        await asyncio.sleep(delay_ms / 1000)
    if fault == "reset":
        # Promise the whole body, send half, and return: uvicorn then closes the connection
        # mid-body (ASGI gives an application no way to abort the socket itself).
        size = max(size, 2)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-length", str(size).encode())]})
        await send({"type": "http.response.body", "body": _body(size // 2), "more_body": True})
        return
    await _asgi_answer(send, status, _body(size))


async def _asgi_answer(send: Callable[[dict[str, Any]], Awaitable[None]], status: int,
                       body: bytes, content_type: bytes = b"application/octet-stream") -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class _QuietReset(logging.Filter):
    """uvicorn logs an error for every response left incomplete: here that is the fault
    asked for, not an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


async def _serve_uvicorn(sock: socket.socket, stop: asyncio.Event) -> None:
    import uvicorn

    logging.getLogger("uvicorn.error").addFilter(_QuietReset())
    config = uvicorn.Config(_asgi_app, log_level="warning", access_log=False, lifespan="off",
                            backlog=BACKLOG, timeout_keep_alive=KEEPALIVE_S, log_config=None)
    server = uvicorn.Server(config)
    serving = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started:
        if serving.done():
            await serving  # it failed to start: raise why
            raise RuntimeError("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    _announce(sock)
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait([serving, stopping], return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopping.cancel()
    await serving


def _announce(sock: socket.socket) -> None:
    bound_host, bound_port = sock.getsockname()[:2]
    print(f"{READY_PREFIX}http://{bound_host}:{bound_port}/", flush=True)


async def serve(host: str, port: int, exit_on_stdin_eof: bool,
                server: str = DEFAULT_SERVER) -> None:
    """Serve until SIGINT/SIGTERM, or until stdin closes (the parent went away)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    if server != "uvicorn":  # uvicorn handles these signals itself
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    if exit_on_stdin_eof:
        # A parent that dies for any reason closes our stdin; that is our cue.  Raw reads:
        # a daemon thread blocked in a buffered read makes interpreter shutdown abort.
        def watch_stdin() -> None:
            while os.read(sys.stdin.fileno(), 4096):
                pass
            with contextlib.suppress(RuntimeError):  # the loop may be gone already
                loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=watch_stdin, name="stdin-watch", daemon=True).start()

    sock = _listening_socket(host, port)
    if server == "uvicorn":
        try:
            await _serve_uvicorn(sock, stop)
        finally:
            sock.close()
        return
    runner = web.AppRunner(make_app(), access_log=None, keepalive_timeout=KEEPALIVE_S)
    await runner.setup()
    try:
        await web.SockSite(runner, sock, backlog=BACKLOG).start()
        _announce(sock)
        await stop.wait()
    finally:
        await runner.cleanup()
        sock.close()


class ServerProcess:
    """Start the server in a child process on a free port; stop it on exit."""

    def __init__(self, host: str = HOST, server: str = DEFAULT_SERVER) -> None:
        self.host = host
        self.server = server
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the server is not running")
        return self._process.pid

    def __enter__(self) -> ServerProcess:
        python = os.environ.get(SERVER_PYTHON) or sys.executable
        command = [python, "-m", "workloads.server", "--host", self.host,
                   "--port", "0", "--exit-on-stdin-eof", "--server", self.server]
        # The interpreter under test's run-time switches are its own, not the server's.
        environment = {key: value for key, value in os.environ.items()
                       if key not in SERVER_UNSET}
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         env=environment)
        try:
            self.url = self._read_url(self._process)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @staticmethod
    def _read_url(process: subprocess.Popen[bytes]) -> str:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_S)
        line = process.stdout.readline().decode() if ready else ""
        if not line.startswith(READY_PREFIX):
            raise RuntimeError(f"test server did not start (exit code {process.poll()})")
        return line[len(READY_PREFIX):].strip()

    def exit_code(self) -> int | None:
        """None while the server runs; its exit code once it has stopped."""
        return None if self._process is None else self._process.poll()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None and process.stdout is not None
        end(process, process.stdin.close, STOP_TIMEOUT_S)  # closed stdin: shut down cleanly
        process.stdout.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workloads.server", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=HOST,
                        help="address to bind (default 127.0.0.1; anything else is explicit)")
    parser.add_argument("--port", type=int, default=8080, help="port, 0 for a free one")
    parser.add_argument("--server", default=DEFAULT_SERVER, choices=SERVERS,
                        help=f"which server answers (default {DEFAULT_SERVER})")
    parser.add_argument("--exit-on-stdin-eof", action="store_true",
                        help="stop when standard input closes (used when a parent runs it)")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be between 0 and 65535, got {args.port}")
    if args.server == "uvicorn" and importlib.util.find_spec("uvicorn") is None:
        parser.error("--server uvicorn: uvicorn is not installed (pip install uvicorn)")
    try:
        asyncio.run(serve(args.host, args.port, args.exit_on_stdin_eof, args.server))
    except OSError as exc:
        print(f"server: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
