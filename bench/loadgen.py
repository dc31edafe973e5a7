"""The load generator for real deployments: an open loop in a process of its own.

It never shares a process, a GIL or an event loop with the deployment it loads.  Each
request is sent at its scheduled time whether or not earlier ones have come back (open
loop), over at most `connections` keep-alive connections (a request finds one free or
waits for one, and that wait counts).  Like wrk2 and oha it records two latencies per
request: from its scheduled send (what a user arriving then waits: no coordinated
omission) and from its actual send (the request's headers on the wire), and its own
lateness (how long after its time it began the request).  Every request ends ok, failed
(the task's own failure kind from a 500, another status, a dropped connection) or timed
out.

Protocol (`GeneratorProcess`): the parent writes one JSON plan per line on stdin
(url, start on the shared monotonic clock, [index, offset] pairs, timeout) and reads one
JSON result per line on stdout; the process keeps its connections from plan to plan and
ends when stdin closes.  Run on uvloop where installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace, TracebackType
from typing import Any

from bench.child import end

READY = "ready"
CONNECTION = "connection"  # a failure kind: the connection was refused or dropped
TIMEOUT = "timeout"
STATUS = "status"  # an answer other than 200 or the app's own 500
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0  # after its stdin closes: the last answers in flight, then it is killed
# What the generator imports is the project's and the main environment's: not this
# interpreter's sys.path, whose packages may be built for another Python (make interpreters)
ROOT = str(Path(__file__).resolve().parents[1])
# Requests per second one generator process sends on time, measured against the fastest
# trivial server here (scripts/evidence/loadgen_ceiling.md): at 2,000 none was sent more
# than 5 ms late in any run, at 3,000-4,000 up to 1.6 % in some.  A higher rate is spread
# over more processes, up to one per usable core (two here: past 4,000 the generators,
# the server and the upstream fill the machine).
# An idle connection is closed by the generator before a server would close it (gunicorn's
# keep-alive is 2 s, uvicorn's 5 s; aiohttp keeps one 15 s): a request sent on a connection
# the server is closing fails with "server disconnected", the server's keep-alive race, not
# the model's failure.
KEEPALIVE_S = 1.0
MAX_RATE_PER_PROCESS = 2000.0
MAX_PROCESSES = max(2, len(os.sched_getaffinity(0)))
PLAN_LIMIT = 1 << 30  # bytes of one plan line (a million requests take about 30 MB)


def _kind_of(status: int, body: bytes) -> tuple[str, str]:
    if status == 500 and b"\n" in body:
        kind, _, detail = body.decode(errors="replace").partition("\n")
        return kind, detail
    return STATUS, f"HTTP {status}: {body[:120].decode(errors='replace')}"


async def _run_plan(session: Any, plan: dict[str, Any]) -> dict[str, Any]:
    import aiohttp

    url, start = plan["url"], float(plan["start"])
    timeout = aiohttp.ClientTimeout(total=float(plan["timeout_s"]))
    cpu_before = time.process_time()
    results: list[list[Any]] = []

    async def one(index: int, due: float, late: float) -> None:
        sent: dict[str, float] = {}
        kind, detail, service = "", "", None
        try:
            async with session.get(url, params={"i": str(index)}, timeout=timeout,
                                   trace_request_ctx=sent) as response:
                body = await response.read()
                if response.status == 200:
                    service = float(response.headers.get("x-service-time", "nan"))
                else:
                    kind, detail = _kind_of(response.status, body)
        except TimeoutError:
            kind, detail = TIMEOUT, f"no answer within {plan['timeout_s']} s"
        except aiohttp.ClientError as exc:
            kind, detail = CONNECTION, f"{type(exc).__name__}: {exc}"[:200]
        done = time.monotonic()
        on_wire = sent.get("at")
        results.append([index, due - start, late, done - due,
                        None if on_wire is None else done - on_wire, service, kind, detail])

    tasks = []
    for index, offset in plan["requests"]:
        due = start + offset
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        late = time.monotonic() - due
        tasks.append(asyncio.create_task(one(index, due, late)))
    scheduling_cpu = time.process_time() - cpu_before
    await asyncio.gather(*tasks)
    return {"results": results, "cpu_s": time.process_time() - cpu_before,
            "scheduling_cpu_s": scheduling_cpu}


async def _serve(connections: int) -> None:
    import aiohttp

    async def on_sent(_session: Any, context: SimpleNamespace, _params: Any) -> None:
        if isinstance(context.trace_request_ctx, dict):
            context.trace_request_ctx["at"] = time.monotonic()

    trace = aiohttp.TraceConfig()
    trace.on_request_headers_sent.append(on_sent)
    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=connections,
                                     keepalive_timeout=KEEPALIVE_S)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=PLAN_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with aiohttp.ClientSession(connector=connector, trace_configs=[trace]) as session:
        print(READY, flush=True)
        while line := await reader.readline():
            reply = await _run_plan(session, json.loads(line))
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()


def main() -> int:
    connections = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    try:
        import uvloop
        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
        runner(_serve(connections))
    return 0


class GeneratorError(RuntimeError):
    """A generator that could not start or answer; the message is one line."""


class GeneratorProcess:
    """One generator process, ready before `__enter__` returns; stopped on exit."""

    def __init__(self, connections: int, python: str | None = None) -> None:
        self.connections = connections
        self._python = python or sys.executable
        self._process: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def __enter__(self) -> GeneratorProcess:
        self._process = subprocess.Popen(
            [self._python, "-m", "bench.loadgen", str(self.connections)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": ROOT})
        line = self._readline(START_TIMEOUT_S)
        if line.strip() != READY:
            self.stop()
            raise GeneratorError(f"the load generator did not start: {line.strip()}")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _readline(self, timeout_s: float) -> str:
        assert self._process is not None and self._process.stdout is not None
        ready, _, _ = select.select([self._process.stdout], [], [], timeout_s)
        if ready:
            line = self._process.stdout.readline()
            if line:
                return line
        error = self._process.stderr.read() if self._process.poll() is not None and \
            self._process.stderr else ""
        last = [text for text in error.splitlines() if text.strip()]
        return last[-1] if last else "no answer"

    def send(self, plan: dict[str, Any]) -> None:
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write(json.dumps(plan) + "\n")
        self._process.stdin.flush()

    def receive(self, timeout_s: float) -> dict[str, Any]:
        line = self._readline(timeout_s)
        try:
            found: dict[str, Any] = json.loads(line)
        except json.JSONDecodeError:
            raise GeneratorError(f"the load generator stopped: {line.strip()}") from None
        return found

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None
        end(process, process.stdin.close, STOP_TIMEOUT_S)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


if __name__ == "__main__":
    sys.exit(main())
