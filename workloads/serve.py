"""The twins served as a real app, by the servers people deploy.

A deployment is one of these servers, in processes of its own, serving one workload:

    uvicorn           the async twin as an ASGI app on an event loop, in K worker processes
    gunicorn-sync     the sync twin as a WSGI app, K workers answering one request each
    gunicorn-gthread  the sync twin as a WSGI app, K workers of T threads each

`GET /task?i=N` runs task N of the workload once (its sync or async twin, checked as every
runner checks it) and answers 200 with the task's own time in the `x-service-time` header,
or 500 with "kind" and the failure's text on two lines; `GET /health` answers 200 with
what it serves (its server, workers, threads, workload and knobs) as JSON.  The
apps are plain ASGI and WSGI callables, with no web framework: what is measured is the
server (its parsing, accept loop, workers and limits) and the model, not a framework.

The suite starts a deployment through `DeploymentProcess`, which hands it the workload
(pickled, in CONCURRENCY_BENCH_APP), waits until it answers and stops its whole process
group again.  Start one alone, to load it from elsewhere with `--service-url`:

    python -m workloads.serve uvicorn --workload sleep --port 8000 --workers 2

It listens on 127.0.0.1 unless `--host` names another address.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import http.client
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bench.child import end
from bench.outcome import TaskResult, arun_task, run_task
from workloads.base import Workload

HOST = "127.0.0.1"
APP_ENV = "CONCURRENCY_BENCH_APP"
SERVICE_TIME_HEADER = "x-service-time"
TASK_PATH = "/task"
HEALTH_PATH = "/health"
SERVERS = ("uvicorn", "gunicorn-sync", "gunicorn-gthread")
BACKLOG = 2048  # uvicorn's and gunicorn's own default listen backlog
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
HEALTH_POLL_S = 0.05
WORKER_TIMEOUT_S = 120  # gunicorn kills a worker silent this long (its default is 30)


class DeploymentError(RuntimeError):
    """A deployment that cannot start or that stopped; the message is one line."""


def encode(workload: Workload, connections: int, deployment: Deployment | None = None) -> str:
    """The workload, the connections its async client may hold and the deployment's own
    description (what /health tells a suite that loads it), for APP_ENV."""
    described = None if deployment is None else deployment.describe()
    try:
        return base64.b64encode(pickle.dumps((workload, connections, described))).decode()
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        raise DeploymentError(f"the {workload.name} workload cannot be handed to a server "
                              f"process (define its class at a module's top level): "
                              f"{exc}") from None


@functools.cache
def _decoded() -> tuple[Workload, int, dict[str, Any] | None]:
    raw = os.environ.get(APP_ENV)
    if not raw:
        raise DeploymentError(f"{APP_ENV} is not set: start the app with "
                              "python -m workloads.serve")
    workload, connections, described = pickle.loads(base64.b64decode(raw))
    return workload, int(connections), described


def configured() -> tuple[Workload, int]:
    """The workload this process serves (read once from APP_ENV)."""
    workload, connections, _ = _decoded()
    return workload, connections


def knob_values(workload: Workload) -> dict[str, Any]:
    """The knobs that size a workload's task, without the addresses it calls (a deployment
    elsewhere has its own upstream or database)."""
    return {knob.name: getattr(workload, knob.name) for knob in workload.knobs()
            if not knob.name.endswith("_url")}


@functools.cache
def health_body() -> bytes:
    """What this deployment serves, for a suite about to load it."""
    workload, _, described = _decoded()
    return json.dumps({"concurrency_bench": "deployment", "deployment": described,
                       "workload": workload.name, "knobs": knob_values(workload)},
                      default=str).encode()


def task_index(query: str) -> int:
    values = parse_qs(query).get("i", ["0"])
    return int(values[0])


Answer = tuple[int, list[tuple[str, str]], bytes]


def answer(result: TaskResult) -> Answer:
    """Status, headers and body for one task's result."""
    if result.failure is None:
        return 200, [(SERVICE_TIME_HEADER, repr(result.seconds))], b"ok"
    return 500, [], f"{result.failure}\n{result.detail or ''}".encode()


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The sync twin as a WSGI app: one task per request, on the worker's own thread."""
    path = environ.get("PATH_INFO", "")
    found: Answer = (200, [], health_body()) if path == HEALTH_PATH else \
        (404, [], b"not found")
    if path == TASK_PATH:
        workload, _ = configured()
        found = answer(run_task(workload.for_task(task_index(environ.get("QUERY_STRING", "")))))
    status, headers, body = found
    start_response(f"{status} {http.client.responses[status]}",
                   [("content-type", "text/plain"), ("content-length", str(len(body))),
                    *headers])
    return [body]


class AsgiApp:
    """The async twin as an ASGI app: one task per request, awaited on the server's loop;
    the twin's shared client (a session, a pool) opens at start-up and closes at shutdown."""

    def __init__(self) -> None:
        self._client: Any = None
        self._stack = contextlib.AsyncExitStack()

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any],
                       send: Callable[..., Any]) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope["path"]
        found: Answer = (200, [], health_body()) if path == HEALTH_PATH else \
            (404, [], b"not found")
        if path == TASK_PATH:
            workload, _ = configured()
            job = workload.for_task(task_index(scope.get("query_string", b"").decode()))
            client = self._client
            found = answer(await arun_task(job, lambda: job.acall(client)))
        status, headers, body = found
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/plain"),
                                (b"content-length", str(len(body)).encode()),
                                *((k.encode(), v.encode()) for k, v in headers)]})
        await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                workload, connections = configured()
                self._client = await self._stack.enter_async_context(
                    workload.async_client(connections))
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._stack.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


def asgi_app() -> AsgiApp:
    """uvicorn's app factory (`--factory`): a new app in each worker process."""
    return AsgiApp()


@dataclass(frozen=True)
class Deployment:
    """One server's configuration: which server, its workers, threads and limits."""

    server: str
    workers: int = 1
    threads: int = 1
    backlog: int = BACKLOG
    limit_concurrency: int | None = None  # uvicorn: answer 503 above this many in flight

    def __post_init__(self) -> None:
        if self.server not in SERVERS:
            raise DeploymentError(f"unknown server {self.server!r}; choose from "
                                  f"{', '.join(SERVERS)}")
        for name in ("workers", "threads", "backlog"):
            if getattr(self, name) < 1:
                raise DeploymentError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.threads > 1 and self.server != "gunicorn-gthread":
            raise DeploymentError(f"threads apply to gunicorn-gthread, not {self.server}")

    @property
    def uses_async_twin(self) -> bool:
        return self.server == "uvicorn"

    def slots(self) -> int | None:
        """Requests it serves at once at the most (None: no limit of its own)."""
        if self.server == "gunicorn-sync":
            return self.workers
        if self.server == "gunicorn-gthread":
            return self.workers * self.threads
        return None if self.limit_concurrency is None else self.workers * self.limit_concurrency

    def slots_text(self) -> str:
        if self.server == "gunicorn-gthread":
            return f"workers={self.workers} x threads={self.threads}"
        if self.server == "gunicorn-sync":
            return f"workers={self.workers}"
        return f"limit={self.limit_concurrency} x workers={self.workers}"

    def command(self, python: str, port: int, host: str = HOST) -> list[str]:
        if self.server == "uvicorn":
            found = [python, "-m", "uvicorn", "workloads.serve:asgi_app", "--factory",
                     "--host", host, "--port", str(port), "--workers", str(self.workers),
                     "--backlog", str(self.backlog), "--lifespan", "on", "--no-access-log",
                     "--log-level", "warning"]
            if self.limit_concurrency is not None:
                found += ["--limit-concurrency", str(self.limit_concurrency)]
            return found
        worker = "sync" if self.server == "gunicorn-sync" else "gthread"
        return [python, "-m", "gunicorn", "--bind", f"{host}:{port}",
                "--workers", str(self.workers), "--worker-class", worker,
                "--threads", str(self.threads), "--backlog", str(self.backlog),
                "--timeout", str(WORKER_TIMEOUT_S), "--graceful-timeout", "3",
                "--log-level", "warning", "workloads.serve:wsgi_app"]

    def describe(self) -> dict[str, Any]:
        found = {"server": self.server, "workers": self.workers, "threads": self.threads,
                 "backlog": self.backlog, "limit_concurrency": self.limit_concurrency,
                 "server_version": _version("uvicorn" if self.uses_async_twin else "gunicorn")}
        if self.uses_async_twin:  # uvicorn parses with httptools where installed, else h11
            found["http_parser"] = "httptools" if _version("httptools") else "h11"
        return found


def _version(package: str) -> str | None:
    from importlib import metadata
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def port_in_use(port: int, host: str = HOST) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def _die_with_parent() -> None:
    """In the child before exec: a SIGTERM when the suite dies, however it dies."""
    import ctypes  # here: subinterpreters import this module and cannot import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class DeploymentProcess:
    """A deployment in its own process group, on a free port of 127.0.0.1 (or the host
    and port given), answering before `__enter__` returns; every process of the group
    stopped on exit."""

    def __init__(self, deployment: Deployment, workload: Workload, connections: int,
                 port: int = 0, python: str | None = None, host: str = HOST) -> None:
        self.deployment = deployment
        self.host = host
        self.port = port or free_port()
        self.url = f"http://{HOST if host in ('0.0.0.0', '') else host}:{self.port}"
        self._python = python or sys.executable
        self._workload = workload
        self._connections = connections
        self._process: subprocess.Popen[bytes] | None = None
        self._log: Path | None = None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise DeploymentError("the deployment is not running")
        return self._process.pid

    def __enter__(self) -> DeploymentProcess:
        if port_in_use(self.port, self.host):
            raise DeploymentError(f"port {self.port} on {self.host} is in use")
        environment = {**os.environ,
                       APP_ENV: encode(self._workload, self._connections, self.deployment),
                       # The workload's module (a user's file too) imports as it did here.
                       "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
        handle, name = tempfile.mkstemp(prefix="concurrency-bench-app-", suffix=".log")
        self._log = Path(name)
        try:
            with os.fdopen(handle, "wb") as log:
                self._process = subprocess.Popen(
                    self.deployment.command(self._python, self.port, self.host),
                    stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=environment,
                    start_new_session=True,
                    preexec_fn=_die_with_parent)  # only a prctl before the exec
            self._wait_ready()
        except OSError as exc:
            self.stop()
            raise DeploymentError(f"{self.deployment.server} did not start: {exc}") from None
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def last_log_line(self) -> str:
        if self._log is None or not self._log.exists():
            return "(no log)"
        lines = [line.strip() for line in self._log.read_text(errors="replace").splitlines()
                 if line.strip()]
        return lines[-1] if lines else "(empty log)"

    def exit_code(self) -> int | None:
        return None if self._process is None else self._process.poll()

    def _healthy(self) -> bool:
        parts = urlsplit(self.url)
        connection = http.client.HTTPConnection(parts.hostname or HOST, self.port, timeout=2)
        try:
            connection.request("GET", HEALTH_PATH)
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def _wait_ready(self) -> None:
        """Until it answers, and every worker process it starts is up."""
        import psutil
        deadline = time.monotonic() + START_TIMEOUT_S
        workers = self.deployment.workers if self.deployment.workers > 1 or \
            self.deployment.server != "uvicorn" else 0
        while time.monotonic() < deadline:
            code = self.exit_code()
            if code is not None:
                raise DeploymentError(f"{self.deployment.server} did not start (exit code "
                                      f"{code}): {self.last_log_line()}")
            children = len(psutil.Process(self.pid).children(recursive=True))
            if children >= workers and self._healthy():
                return
            time.sleep(HEALTH_POLL_S)
        raise DeploymentError(f"{self.deployment.server} did not answer within "
                              f"{START_TIMEOUT_S:g} s: {self.last_log_line()}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            end(process, lambda: os.killpg(process.pid, signal.SIGTERM), STOP_TIMEOUT_S,
                group=True)
        if self._log is not None:
            self._log.unlink(missing_ok=True)
            self._log = None


def main(argv: list[str] | None = None) -> int:
    from bench import external
    from workloads import WORKLOADS
    parser = argparse.ArgumentParser(prog="python -m workloads.serve", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("server", choices=SERVERS)
    parser.add_argument("--workload", required=True,
                        help="a workload's name, or module:Class / file.py:Class")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="a workload field (e.g. --set seconds=0.02); repeatable")
    parser.add_argument("--upstream", help="the test server's URL, for workloads that call one")
    parser.add_argument("--host", default=HOST,
                        help="the address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--backlog", type=int, default=BACKLOG)
    parser.add_argument("--connections", type=int, default=100,
                        help="connections the async twin's client may hold (default 100)")
    args = parser.parse_args(argv)
    try:
        name = external.load(args.workload) if external.is_external(args.workload) \
            else args.workload
        if name not in WORKLOADS:
            raise DeploymentError(f"unknown workload {name!r}; choose from "
                                  f"{', '.join(WORKLOADS)}")
        cls = WORKLOADS[name]
        values: dict[str, Any] = {}
        types = {knob.name: knob.type for knob in cls.knobs()}
        for item in args.set:
            field, _, raw = item.partition("=")
            if field not in types:
                raise DeploymentError(f"--set {item}: {name} has no field {field!r}")
            values[field] = types[field](raw)
        if cls.needs_server:
            if not args.upstream:
                raise DeploymentError(f"the {name} workload needs --upstream URL")
            values["base_url"] = args.upstream
        deployment = Deployment(args.server, args.workers, args.threads, args.backlog)
        # A SIGTERM ends it as Ctrl-C does: through the with block, stopping the server.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        with DeploymentProcess(deployment, cls(**values), args.connections, args.port,
                               host=args.host) as live:
            print(f"serving {name} with {args.server} on http://{args.host}:{live.port}",
                  flush=True)
            while live.exit_code() is None:
                time.sleep(0.5)
            print(f"{args.server} exited: {live.last_log_line()}", file=sys.stderr)
            return 1
    except (DeploymentError, external.ExternalError, ValueError, TypeError) as exc:
        print(f"serve: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
