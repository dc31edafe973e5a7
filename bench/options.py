"""The suite's command-line options, built from the registries and checked without pytest.

Three kinds of option: the suite's own (which workloads, runners, sizes, rounds), each
registered runner's options (`Runner.options`), and each registered workload's knobs
(fields made with `workloads.base.knob`).  `option_table` lists them all with their help
text and defaults, which the plugin hands to pytest; `parse_settings` turns the raw
strings back into checked Settings.  Every bad value becomes one `OptionError` whose
message is a single line naming the option, the value and what is accepted.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import re
import secrets
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from bench import external
from bench.environment import usable_cores
from bench.precision import DEFAULT_MAX_ROUNDS, DEFAULT_MAX_SECONDS, DEFAULT_TARGET, RoundPlan
from bench.runners import RUNNERS, default_runners, runner_options
from bench.service import ARRIVALS, AUTO_RATES, MAX_RATE
from workloads import WORKLOADS, Workload, default_workloads
from workloads.base import Knob, KnobField
from workloads.clients import CLIENTS, DEFAULT_CLIENTS
from workloads.server import DEFAULT_SERVER, SERVERS

T = TypeVar("T", int, float)

DEFAULT_CONCURRENCY = (2, 16, 64)
DEFAULT_WARMUP_ROUNDS = 1
MAX_TASKS = 1_000_000
MAX_CONCURRENCY = 100_000


class OptionError(ValueError):
    """A bad option value; the message is one line meant for the user."""


@dataclass(frozen=True)
class Option:
    """One command-line option: its flag, the key of its raw value, help and metavar."""

    flag: str
    help: str
    metavar: str
    action: str = "store"  # "store_true" for a switch, "append" for a repeatable option

    @property
    def key(self) -> str:
        return option_key(self.flag)


def option_key(flag: str) -> str:
    """The key of an option's raw value: `--http-delay-ms` -> `http_delay_ms`."""
    return flag.lstrip("-").replace("-", "_")


def knob_flag(workload: type[Workload], knob: KnobField) -> str:
    return knob.knob.option or f"--{workload.name}-{knob.name.replace('_', '-')}"


def _shown(value: Any, scale: float = 1.0) -> str:
    """A default as the user types it (in the option's unit, not the field's)."""
    if isinstance(value, float) or scale != 1.0:
        return f"{round(value / scale, 9):g}"
    return str(value)


def option_table() -> list[Option]:
    """Every option the suite takes, in the order `--help` lists them."""
    names = ", ".join(WORKLOADS)
    table = [
        Option("--workload", f"comma list of workloads, from: {names} "
               f"(default: {','.join(default_workloads())})", "W[,W]"),
        Option("--runner", f"comma list of runners, from: {', '.join(RUNNERS)} "
               f"(default: {','.join(default_runners())})", "R[,R]"),
        Option("--tasks", "comma list of task counts (default: per workload: " + ", ".join(
            f"{name} {cls.default_tasks}" for name, cls in WORKLOADS.items()) + ")", "N[,N]"),
        Option("--concurrency", "comma list of concurrency levels "
               f"(default: {','.join(map(str, DEFAULT_CONCURRENCY))})", "C[,C]"),
        Option("--rounds", "exactly this many counted rounds per scenario (default: as many "
               "as --precision needs, within --max-rounds and --max-seconds)", "R"),
        Option("--precision", "target half-width of the 95 %% confidence interval of each "
               f"median, as a fraction (default: {DEFAULT_TARGET})", "FRACTION"),
        Option("--max-rounds", "cap on counted rounds per scenario "
               f"(default: {DEFAULT_MAX_ROUNDS})", "R"),
        Option("--max-seconds", "cap on a scenario's measured round time: no further pass "
               f"once past it (default: {DEFAULT_MAX_SECONDS:g})", "S"),
        Option("--warmup-rounds", "uncounted warm-up rounds per scenario "
               f"(default: {DEFAULT_WARMUP_ROUNDS})", "R"),
        Option("--http-client", "comma list of HTTP client libraries for the workloads that "
               f"make requests, from: {', '.join(CLIENTS)}; runners on an event loop use the "
               "async ones given, the others the sync ones (httpx serves both) (default: "
               f"{','.join(DEFAULT_CLIENTS)})", "L[,L]"),
        Option("--server", f"comma list of local test servers, from: {', '.join(SERVERS)}; "
               f"every scenario that needs a server runs against each (default: "
               f"{DEFAULT_SERVER})", "S[,S]"),
        Option("--target-url", "benchmark this running copy of the suite's test server "
               "instead of starting the local one", "URL"),
        Option("--param", "NAME=VALUE for a knob (a dataclass field) of the selected "
               "workloads, typed from the field; repeatable; mainly for workloads given as "
               "module:Class or file.py:Class", "NAME=VALUE", "append"),
        Option("--allow-remote", "let workloads that take a URL (get) send their load to a "
               "machine other than this one", "", "store_true"),
        Option("--rate", "service mode: comma list of offered rates in requests per second, "
               "or auto (doubling from 25, each model stopping at the first rate it "
               "does not keep, then bisecting that bracket 3 times, to a tenth of its rate); "
               "each model at each C serves requests arriving on a schedule, "
               "latency counted from each request's scheduled arrival (default: closed "
               "batches)", "R[,R]|auto"),
        Option("--duration-s", "service mode: seconds of arrivals per rate, after the "
               f"warm-up (default: {DEFAULT_DURATION_S:g})", "S"),
        Option("--arrivals", "service mode: constant or poisson (seeded) arrivals "
               "(default: constant)", "KIND"),
        Option("--arrival-seed", "service mode, poisson arrivals: the seed of the arrivals, "
               "the same for every model of the run (default: a new one each run, recorded)",
               "N"),
        Option("--slo-ms", "service mode: the latency target; the record counts the "
               "requests within it", "MS"),
        Option("--cores", "comma list of core counts K: each scenario runs with the client "
               "and its workers pinned to K of the usable cores (the test server is not "
               "pinned), so the report shows how each model scales with cores "
               "(default: not pinned)", "K[,K]"),
    ]
    return table + _registered_options()


def _registered_options() -> list[Option]:
    """The options the registries declare: each runner's own, and each workload's knobs."""
    found = []
    for option in runner_options().values():
        users = ", ".join(name for name, cls in RUNNERS.items() if option in cls.options)
        choices = f"; one of {', '.join(option.choices)}" if option.choices else ""
        found.append(Option(option.option, f"{users}: {option.help}{choices}", "VALUE"))
    for workload in WORKLOADS.values():
        for knob in workload.knobs():
            choices = f"; one of {', '.join(knob.knob.choices)}" if knob.knob.choices else ""
            found.append(Option(knob_flag(workload, knob),
                                f"{workload.name} workload: {knob.knob.help}{choices} "
                                f"(default: {_shown(knob.default, knob.knob.scale)})",
                                knob.type.__name__.upper()))
    return found


@dataclass(frozen=True)
class ServiceSettings:
    """Service mode (bench.service): the offered rates and how requests arrive."""

    rates: tuple[float, ...]
    duration_s: float = 5.0
    arrivals: str = "constant"
    slo_s: float | None = None
    warmup_s: float = 0.5  # the same rate, uncounted, on the open runner before each one
    auto: bool = False  # --rate auto: a rising sweep, each model stopping at saturation
    seed: int = 0  # Poisson arrivals: drawn anew per run unless --arrival-seed fixes it


@dataclass(frozen=True)
class Settings:
    workloads: tuple[str, ...]
    runners: tuple[str, ...]
    tasks: tuple[int, ...] | None  # None: each workload's own default
    concurrency: tuple[int, ...]
    plan: RoundPlan
    warmup_rounds: int
    target_url: str | None
    runner_options: Mapping[str, Any]  # option name -> value, None where not given
    knobs: Mapping[str, Mapping[str, Any]]  # workload -> field -> value (default if not given)
    allow_remote: bool = False
    http_clients: tuple[str, ...] = DEFAULT_CLIENTS
    servers: tuple[str, ...] = (DEFAULT_SERVER,)
    service: ServiceSettings | None = None  # None: closed batches
    cores: tuple[int, ...] | None = None  # --cores: pinned to each K in turn (None: not)


    def tasks_for(self, workload: str) -> tuple[int, ...]:
        return self.tasks or (WORKLOADS[workload].default_tasks,)

    def make_workload(self, name: str, base_url: str | None = None,
                      **overrides: Any) -> Workload:
        """The named workload sized by these settings; `overrides` win over them."""
        cls = WORKLOADS[name]
        values = {**self.knobs.get(name, {}), **overrides}
        if cls.needs_server:
            if base_url is None:
                raise ValueError(f"the {name} workload needs a server URL")
            values["base_url"] = base_url
        return cls(**values)


def _names(option: str, raw: str, known: Mapping[str, object]) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(part.strip() for part in raw.split(",")))
    for name in names:
        if name not in known:
            raise OptionError(f"{option}: unknown value {name!r}; choose from {', '.join(known)}")
    return names


def _workloads(raw: str) -> tuple[str, ...]:
    """Registered names, and module:Class / file.py:Class entries loaded and registered."""
    entries = [part.strip() for part in raw.split(",")]
    try:
        names = [external.load(entry) if external.is_external(entry) else entry
                 for entry in entries]
    except external.ExternalError as exc:
        raise OptionError(str(exc)) from None
    return _names("--workload", ",".join(names), WORKLOADS)


def _fields(workload: type[Workload]) -> dict[str, KnobField]:
    """Every settable field of a workload, typed: its knobs, and its other plain fields."""
    declared = {knob.name: knob for knob in workload.knobs()}
    hints = typing.get_type_hints(workload)
    return {field.name: declared.get(field.name) or KnobField(
                field.name, hints[field.name], field.default, Knob(""))
            for field in dataclasses.fields(workload)  # type: ignore[arg-type]
            if field.init and hints.get(field.name) in (int, float, str, bool)}


def _params(raw: list[str] | None, workloads: tuple[str, ...],
            knobs: dict[str, dict[str, Any]]) -> None:
    """Apply --param NAME=VALUE to every selected workload that has the field NAME."""
    for entry in raw or []:
        name, sep, value = entry.partition("=")
        if not sep or not name.strip():
            raise OptionError(f"--param: expected NAME=VALUE, got {entry!r}")
        name = name.strip()
        matched = False
        for workload in workloads:
            field = _fields(WORKLOADS[workload]).get(name)
            if field is not None:
                knobs[workload][name] = parse_knob(f"--param {name}", field, value.strip())
                matched = True
        if not matched:
            offered = "; ".join(f"{w}: " + ", ".join(
                f"{f.name} ({f.type.__name__})" for f in _fields(WORKLOADS[w]).values())
                for w in workloads)
            raise OptionError(f"--param: no selected workload has a knob {name!r}; "
                              f"knobs: {offered}")


def _number(option: str, raw: str, kind: Callable[[str], T], low: T, high: T) -> T:
    try:
        value = kind(raw.strip())
    except ValueError:
        noun = "an integer" if kind is int else "a number"
        raise OptionError(f"{option}: expected {noun}, got {raw!r}") from None
    if not low <= value <= high:
        raise OptionError(f"{option}: must be between {low} and {high}, got {raw.strip()}")
    return value


def _choice(option: str, raw: str, choices: tuple[str, ...]) -> str:
    if raw not in choices:
        raise OptionError(f"{option}: unknown value {raw!r}; choose from {', '.join(choices)}")
    return raw


def _int_list(option: str, raw: str, high: int) -> tuple[int, ...]:
    parts = [part for part in raw.split(",")]
    return tuple(dict.fromkeys(_number(option, part, int, 1, high) for part in parts))


def _url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OptionError(f"--target-url: expected an http:// or https:// URL, got {raw!r}")
    return raw if parts.path else raw + "/"


def parse_knob(flag: str, knob: KnobField, raw: str) -> Any:
    """One knob's value from its option string, typed and range-checked by its field."""
    spec = knob.knob
    if spec.choices:
        return _choice(flag, raw, spec.choices)
    if spec.pattern and not re.fullmatch(spec.pattern, raw.strip()):
        raise OptionError(f"{flag}: unknown value {raw!r} for {knob.name}")
    if knob.type is bool:
        words = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
        if raw.strip().lower() not in words:
            raise OptionError(f"{flag}: expected true or false, got {raw!r}")
        return words[raw.strip().lower()]
    if knob.type in (int, float):
        kind = knob.type
        low = -math.inf if spec.low is None else kind(spec.low)
        high = math.inf if spec.high is None else kind(spec.high)
        value = _number(flag, raw, kind, low, high)
        return value * spec.scale if spec.scale != 1.0 else value
    return raw


def _knobs(raw: Mapping[str, str | None]) -> dict[str, dict[str, Any]]:
    knobs: dict[str, dict[str, Any]] = {}
    for name, workload in WORKLOADS.items():
        values = knobs.setdefault(name, {})
        for knob in workload.knobs():
            flag = knob_flag(workload, knob)
            given = raw.get(option_key(flag))
            values[knob.name] = knob.default if given is None else parse_knob(flag, knob, given)
    return knobs


def _servers(raw: str | None, target_url: str | None) -> tuple[str, ...]:
    if raw is None:
        return (DEFAULT_SERVER,)
    if target_url is not None:
        raise OptionError("--server: the local servers are not used with --target-url; "
                          "give one or the other")
    servers = _names("--server", raw, dict.fromkeys(SERVERS))
    if "uvicorn" in servers and importlib.util.find_spec("uvicorn") is None:
        raise OptionError("--server uvicorn: uvicorn is not installed in this environment "
                          "(pip install uvicorn)")
    return servers


DEFAULT_DURATION_S = 5.0


def _service(raw: Mapping[str, Any]) -> ServiceSettings | None:
    """Service mode's settings, each checked as its Schedule will be; None without --rate."""
    rates = raw.get("rate")
    others = [flag for flag in ("duration_s", "arrivals", "slo_ms", "arrival_seed")
              if raw.get(flag) is not None]
    if rates is None:
        if others:
            raise OptionError(f"--{others[0].replace('_', '-')}: only with --rate (service "
                              "mode)")
        return None
    auto = str(rates).strip() == "auto"
    parsed = AUTO_RATES if auto else tuple(dict.fromkeys(
        _number("--rate", part, float, 0.001, MAX_RATE) for part in str(rates).split(",")))
    duration = _number("--duration-s", str(raw.get("duration_s") or DEFAULT_DURATION_S),
                       float, 0.1, 3600.0)
    arrivals = _choice("--arrivals", str(raw.get("arrivals") or "constant"), ARRIVALS)
    slo = raw.get("slo_ms")
    given = raw.get("arrival_seed")
    seed = secrets.randbelow(2**32) if given is None else int(
        _number("--arrival-seed", str(given), int, 0, 2**32 - 1))
    return ServiceSettings(tuple(float(rate) for rate in parsed), duration, arrivals,
                           None if slo is None else _number("--slo-ms", str(slo), float,
                                                            0.001, 3_600_000.0) / 1000,
                           auto=auto, seed=seed)


def parse_settings(raw: Mapping[str, Any]) -> Settings:
    """Turn raw option strings (None where not given), keyed like `Option.key`, into Settings."""

    def given(key: str, default: str) -> str:
        value = raw.get(key)
        return default if value is None else value

    options: dict[str, Any] = {}
    for option in runner_options().values():
        value = raw.get(option_key(option.option))
        if value is None:
            options[option.name] = None
        elif option.parse is not None:
            try:
                options[option.name] = option.parse(value)
            except ValueError as exc:
                raise OptionError(f"{option.option}: {exc}") from None
        else:
            options[option.name] = _choice(option.option, value, option.choices)
    tasks = raw.get("tasks")
    target_url = raw.get("target_url")
    workloads = _workloads(given("workload", ",".join(default_workloads())))
    knobs = _knobs(raw)
    _params(raw.get("param"), workloads, knobs)
    allow_remote = bool(raw.get("allow_remote"))
    for name in workloads:
        try:
            WORKLOADS[name].validate(knobs[name], allow_remote)
        except ValueError as exc:
            raise OptionError(str(exc)) from None
    cores = raw.get("cores")
    return Settings(
        cores=None if cores is None else _int_list("--cores", str(cores), usable_cores()),
        service=_service(raw),
        workloads=workloads,
        runners=_names("--runner", given("runner", ",".join(default_runners())), RUNNERS),
        tasks=None if tasks is None else _int_list("--tasks", tasks, MAX_TASKS),
        concurrency=_int_list("--concurrency",
                              given("concurrency", ",".join(map(str, DEFAULT_CONCURRENCY))),
                              MAX_CONCURRENCY),
        plan=RoundPlan(
            target=_number("--precision", given("precision", str(DEFAULT_TARGET)), float,
                           0.001, 0.5),
            max_rounds=_number("--max-rounds", given("max_rounds", str(DEFAULT_MAX_ROUNDS)),
                               int, 6, 1000),
            max_seconds=_number("--max-seconds", given("max_seconds",
                                str(DEFAULT_MAX_SECONDS)), float, 0.0, 86400.0),
            forced=None if raw.get("rounds") is None else _number(
                "--rounds", str(raw.get("rounds")), int, 1, 1000)),
        warmup_rounds=_number("--warmup-rounds", given("warmup_rounds",
                              str(DEFAULT_WARMUP_ROUNDS)), int, 0, 100),
        target_url=None if target_url is None else _url(target_url),
        runner_options=options,
        knobs=knobs,
        allow_remote=allow_remote,
        http_clients=_names("--http-client", given("http_client", ",".join(DEFAULT_CLIENTS)),
                            CLIENTS),
        servers=_servers(raw.get("server"), None if target_url is None else _url(target_url)),
    )
