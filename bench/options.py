"""The suite's command-line options, parsed and checked without pytest.

The plugin hands the raw option values to `parse_settings`; every bad value becomes
one `OptionError` whose message is a single line naming the option, the value and
what is accepted.  Keeping this free of pytest makes every rule testable directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from bench.runners import DEFAULT_RUNNERS, RUNNERS, START_METHODS
from workloads import (
    DEFAULT_WORKLOADS,
    WORKLOADS,
    Workload,
)
from workloads.http import FAULTS
from workloads.server import MAX_DELAY_MS, MAX_SIZE

T = TypeVar("T", int, float)

DEFAULT_TASKS = {"sleep": 128, "http": 256, "cpu": 32, "hash": 32, "mixed": 32}
DEFAULT_CONCURRENCY = (2, 16, 64)
DEFAULT_SLEEP_MS = 20.0
DEFAULT_HTTP_DELAY_MS = 10
DEFAULT_HTTP_SIZE = 1024
DEFAULT_HTTP_TIMEOUT_S = 10.0
DEFAULT_CPU_N = 1_000_000
DEFAULT_ROUNDS = 5
DEFAULT_WARMUP_ROUNDS = 1
MAX_TASKS = 1_000_000
MAX_CONCURRENCY = 100_000


class OptionError(ValueError):
    """A bad option value; the message is one line meant for the user."""


@dataclass(frozen=True)
class Settings:
    workloads: tuple[str, ...]
    runners: tuple[str, ...]
    tasks: tuple[int, ...] | None  # None: each workload's own default
    concurrency: tuple[int, ...]
    sleep_ms: float
    http_delay_ms: int
    http_size: int
    http_timeout_s: float
    cpu_n: int
    http_fail_rate: float
    http_fault: str
    http_fail_status: int
    seed: int
    rounds: int
    warmup_rounds: int
    start_method: str | None
    target_url: str | None

    def tasks_for(self, workload: str) -> tuple[int, ...]:
        return self.tasks or (DEFAULT_TASKS[workload],)

    def make_workload(self, name: str, base_url: str | None = None,
                      **overrides: Any) -> Workload:
        """The named workload sized by these settings; `overrides` win over them."""
        knobs: dict[str, Any] = {}
        if name == "sleep":
            knobs = {"seconds": self.sleep_ms / 1000}
        elif name == "cpu":
            knobs = {"n": self.cpu_n}
        elif name == "http":
            if base_url is None:
                raise ValueError("the http workload needs a server URL")
            knobs = {"base_url": base_url, "delay_ms": self.http_delay_ms,
                     "size": self.http_size, "timeout_s": self.http_timeout_s,
                     "fail_rate": self.http_fail_rate, "fault": self.http_fault,
                     "fail_status": self.http_fail_status, "seed": self.seed}
        return WORKLOADS[name](**{**knobs, **overrides})


def _names(option: str, raw: str, known: Mapping[str, object]) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(part.strip() for part in raw.split(",")))
    for name in names:
        if name not in known:
            raise OptionError(f"{option}: unknown value {name!r}; choose from {', '.join(known)}")
    return names


def _number(option: str, raw: str, kind: Callable[[str], T], low: T, high: T) -> T:
    try:
        value = kind(raw.strip())
    except ValueError:
        noun = "an integer" if kind is int else "a number"
        raise OptionError(f"{option}: expected {noun}, got {raw!r}") from None
    if not low <= value <= high:
        raise OptionError(f"{option}: must be between {low} and {high}, got {raw.strip()}")
    return value


def _int_list(option: str, raw: str, high: int) -> tuple[int, ...]:
    parts = [part for part in raw.split(",")]
    return tuple(dict.fromkeys(_number(option, part, int, 1, high) for part in parts))


def _url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OptionError(f"--target-url: expected an http:// or https:// URL, got {raw!r}")
    return raw if parts.path else raw + "/"


def parse_settings(raw: Mapping[str, str | None]) -> Settings:
    """Turn raw option strings (None where not given) into checked Settings."""

    def given(key: str, default: str) -> str:
        value = raw.get(key)
        return default if value is None else value

    start_method = raw.get("start_method")
    if start_method is not None and start_method not in START_METHODS:
        raise OptionError(f"--start-method: unknown value {start_method!r}; "
                          f"choose from {', '.join(START_METHODS)}")
    fault = given("http_fault", "status")
    if fault not in FAULTS:
        raise OptionError(f"--http-fault: unknown value {fault!r}; choose from {', '.join(FAULTS)}")
    tasks = raw.get("tasks")
    target_url = raw.get("target_url")
    return Settings(
        workloads=_names("--workload", given("workload", ",".join(DEFAULT_WORKLOADS)), WORKLOADS),
        runners=_names("--runner", given("runner", ",".join(DEFAULT_RUNNERS)), RUNNERS),
        tasks=None if tasks is None else _int_list("--tasks", tasks, MAX_TASKS),
        concurrency=_int_list("--concurrency",
                              given("concurrency", ",".join(map(str, DEFAULT_CONCURRENCY))),
                              MAX_CONCURRENCY),
        sleep_ms=_number("--sleep-ms", given("sleep_ms", str(DEFAULT_SLEEP_MS)), float,
                         0.0, float(MAX_DELAY_MS)),
        http_delay_ms=_number("--http-delay-ms", given("http_delay_ms",
                              str(DEFAULT_HTTP_DELAY_MS)), int, 0, MAX_DELAY_MS),
        http_size=_number("--http-size", given("http_size", str(DEFAULT_HTTP_SIZE)), int,
                          0, MAX_SIZE),
        http_timeout_s=_number("--http-timeout-s", given("http_timeout_s",
                               str(DEFAULT_HTTP_TIMEOUT_S)), float, 0.001, 3600.0),
        cpu_n=_number("--cpu-n", given("cpu_n", str(DEFAULT_CPU_N)), int, 1, 10**9),
        http_fail_rate=_number("--http-fail-rate", given("http_fail_rate", "0"), float,
                               0.0, 1.0),
        http_fault=fault,
        http_fail_status=_number("--http-fail-status", given("http_fail_status", "500"), int,
                                 400, 599),
        seed=_number("--seed", given("seed", "0"), int, 0, 2**32 - 1),
        rounds=_number("--rounds", given("rounds", str(DEFAULT_ROUNDS)), int, 1, 1000),
        warmup_rounds=_number("--warmup-rounds", given("warmup_rounds",
                              str(DEFAULT_WARMUP_ROUNDS)), int, 0, 100),
        start_method=start_method,
        target_url=None if target_url is None else _url(target_url),
    )
