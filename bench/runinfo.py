"""What a run says about itself: one typed record, written by the plugin into
pytest-benchmark's `machine_info`, read back by the report.

pytest-benchmark writes its own machine facts (node, cpu, system, release, python_version
...) into `machine_info`; the suite adds the fields below.  `RunInfo.from_machine` reads
any run, old or new: a field an older run did not record takes its default (and the
report says "not recorded" where that matters), a key this type does not know goes to
`extra`.  `SCHEMA_VERSION` says which fields a run can have; runs from before it have 0.

Like bench.record, this module imports nothing of the suite, so the report can read runs
without the code that measured them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeVar

SCHEMA_VERSION = 2  # 1: implicit (no version recorded); 2: this typed record

Typed = TypeVar("Typed")


def _typed(cls: type[Typed], values: object) -> Typed:
    """`cls` from a dict: known keys only, the rest to its `extra` if it has one."""
    found = dict(values) if isinstance(values, dict) else {}
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    known = {key: value for key, value in found.items() if key in names and value is not None}
    if "extra" in names:
        known["extra"] = {key: value for key, value in found.items() if key not in names}
    return cls(**known)


@dataclass(frozen=True)
class PythonBuild:
    """The interpreter that measured (bench.environment.python_build)."""

    python: str = ""
    implementation: str = ""
    build: str = ""
    compiler: str = ""
    free_threaded_build: bool = False
    gil_enabled: bool = True
    python_gil_env: str | None = None
    jit: str = ""  # at run time: enabled / disabled / not available ("" = not recorded)
    cache_tag: str = ""
    config_args: str = ""
    default_start_method: str = ""
    settings: dict[str, str] = field(default_factory=dict)  # PYTHON_GIL, PYTHON_JIT
    origin: str = ""  # pyenv, Debian, source... ("" = not recorded)
    pgo: str = ""
    lto: str = ""
    jit_built: str = ""
    debug: bool = False
    optimisation: str = ""
    frame_pointers: bool = False
    libc: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, values: object) -> PythonBuild:
        return _typed(cls, values)


@dataclass(frozen=True)
class Fairness:
    """The rules the run kept and the settings that decided its rounds."""

    timed_region: str = ""
    rounds: int | None = None  # forced rounds; None: as many as the precision target needs
    precision_target: float | None = None  # None: a run from before there was one
    max_rounds: int | None = None
    max_seconds: float | None = None
    warmup_rounds: int | None = None
    start_method: str = ""
    http_clients: str = ""  # the clients and their settings, in words
    http_client_choice: list[str] = field(default_factory=list)
    http_timeout_s: float | None = None
    server: str = ""
    rules: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunnerStyle:
    """How the run showed a runner: its colour and place, and whether it is the baseline
    that speedups are read against (recorded, so a later registry never relabels it)."""

    colour: str = ""
    order: int = 1000
    baseline: bool = False
    summary: str = ""
    parallel: bool = False  # runs Python on several cores at once (processes, interpreters)


@dataclass(frozen=True)
class RunInfo:
    """The suite's part of `machine_info`, plus the pytest-benchmark facts it reads."""

    schema_version: int = 1
    run_status: str = "unknown"
    failed_tests: int = 0
    usable_cores: int | None = None
    unavailable_runners: dict[str, str] = field(default_factory=dict)
    not_applicable: list[str] = field(default_factory=list)
    python_build: PythonBuild = field(default_factory=PythonBuild)
    library_versions: dict[str, str] = field(default_factory=dict)
    drift_probes: list[dict[str, Any]] = field(default_factory=list)
    fairness: Fairness = field(default_factory=Fairness)
    runners: dict[str, RunnerStyle] = field(default_factory=dict)  # empty before version 2
    server_python: str = ""
    servers: dict[str, dict[str, Any]] = field(default_factory=dict)
    # pytest-benchmark's own facts
    cpu: dict[str, Any] = field(default_factory=dict)
    processor: str = ""
    python_version: str = ""
    python_implementation: str = ""
    system: str = ""
    release: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_machine(cls, machine: object) -> RunInfo:
        found = dict(machine) if isinstance(machine, dict) else {}
        info = _typed(cls, found)
        return dataclasses.replace(
            info, python_build=_typed(PythonBuild, found.get("python_build")),
            fairness=_typed(Fairness, found.get("fairness")),
            runners={name: _typed(RunnerStyle, style) for name, style
                     in (found.get("runners") or {}).items()})

    def as_dict(self) -> dict[str, Any]:
        """The suite's fields as JSON-ready values (pytest-benchmark's own stay its own)."""
        mine = dataclasses.asdict(self)
        for name in ("cpu", "processor", "python_version", "python_implementation", "system",
                     "release", "extra"):
            mine.pop(name)
        for part in ("python_build", "fairness"):
            mine[part] = {**{k: v for k, v in mine[part].items() if k != "extra"},
                          **mine[part]["extra"]}
        return mine
