"""What the report reads: pytest-benchmark JSON files from the suite, checked, one
row per benchmark; none silently dropped.  Every way a file can be unusable is one
ReportError line.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.record import (
    COUNTS,
    FIRST_EACH,
    SAMPLES,
    RecordError,
    ScenarioRecord,
)
from bench.record import columns as record_columns
from bench.runinfo import RunInfo


class ReportError(Exception):
    """Input the report cannot use; the message is one line for the user."""


INCOMPLETE = ("interrupted", "stopped")  # run_status of a run that did not finish
REQUIRED_STATS = ("median", "iqr", "q1", "q3", "rounds")


@dataclass(frozen=True)
class Run:
    """One pytest-benchmark JSON file: where it came from and what it holds."""

    path: Path
    data: dict[str, Any]

    @property
    def machine(self) -> dict[str, Any]:
        return dict(self.data.get("machine_info") or {})

    @property
    def commit(self) -> dict[str, Any]:
        return dict(self.data.get("commit_info") or {})

    @property
    def datetime(self) -> str:
        return str(self.data.get("datetime", "unknown date"))

    @functools.cached_property
    def info(self) -> RunInfo:
        """What the run says about itself, typed (older runs: defaults where they did not
        record a field)."""
        return RunInfo.from_machine(self.machine)

    @property
    def binary(self) -> str:
        """The build as its version, 't' for free-threaded, and who built it where the run
        recorded that: '3.11.7 (pyenv)', '3.13.5t (source)', '3.14.10 (Debian)'."""
        build = self.info.python_build
        label = build.python or self.info.python_version or "?"
        label += "t" if build.free_threaded_build else ""
        return label + (f" ({build.origin})" if build.origin else "")

    @property
    def settings(self) -> str:
        """The run-time switches the run was started with, e.g. 'PYTHON_GIL=1' ("" if none
        or not recorded)."""
        recorded = self.info.python_build.settings
        return " ".join(f"{name}={value}" for name, value in sorted(recorded.items()))

    @property
    def interpreter(self) -> str:
        """The column: the binary, its settings, and 'GIL on' where a free-threaded build
        ran with the GIL for another reason (an extension that needs it, or a run from
        before settings were recorded): '3.13.5t (source) PYTHON_GIL=1', '3.13.0t GIL on'."""
        build = self.info.python_build
        label = " ".join(part for part in (self.binary, self.settings) if part)
        if (build.free_threaded_build and build.gil_enabled
                and "PYTHON_GIL=1" not in self.settings):
            label += " GIL on"
        return label


def label_runs(runs: list[Run]) -> dict[str, str]:
    """Each run's interpreter label, made unique with the file name where two share one:
    no run is ever merged into another or dropped."""
    labels = {str(run.path): run.interpreter for run in runs}
    counts: dict[str, int] = {}
    for label in labels.values():
        counts[label] = counts.get(label, 0) + 1
    return {path: label if counts[label] == 1 else f"{label} ({Path(path).stem})"
            for path, label in labels.items()}


def load_run(path: Path) -> Run:
    """Read and check one file; every way it can be unusable is a ReportError."""
    if not path.exists():
        raise ReportError(f"{path}: no such file")
    if not path.is_file():
        raise ReportError(f"{path}: not a regular file")
    text = path.read_text(errors="replace")
    if not text.strip():
        raise ReportError(f"{path}: the file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg}); "
                          "the file may be truncated") from None
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise ReportError(f"{path}: not a pytest-benchmark JSON file (no 'benchmarks' list)")
    status = (data.get("machine_info") or {}).get("run_status")
    if status in INCOMPLETE:
        raise ReportError(f"{path}: the run was {status} before it finished; its results are "
                          "incomplete and are not reported")
    if not data["benchmarks"]:
        raise ReportError(f"{path}: holds no benchmarks (was the run made with --benchmark-only?)")
    for bench in data["benchmarks"]:
        name = bench.get("name", "?") if isinstance(bench, dict) else "?"
        stats = bench.get("stats") if isinstance(bench, dict) else None
        extra = bench.get("extra_info") if isinstance(bench, dict) else None
        if not isinstance(stats, dict) or any(key not in stats for key in REQUIRED_STATS):
            raise ReportError(f"{path}: benchmark {name} has no pytest-benchmark statistics")
        if not isinstance(extra, dict):
            raise ReportError(f"{path}: benchmark {name} was not made by the concurrency-bench "
                              "suite (it has no extra_info)")
        try:
            ScenarioRecord.from_dict(extra)
        except (RecordError, TypeError) as exc:
            raise ReportError(f"{path}: benchmark {name} was not made by the concurrency-bench "
                              f"suite (extra_info: {exc})") from None
    return Run(path, data)


def _params(record: ScenarioRecord) -> str:
    """The workload's sizing knobs as one readable string, e.g. 'seconds=0.02'."""
    # The URL is the server's; the client has a column of its own.
    knobs = {key: value for key, value in record.params.items()
             if key not in ("url", "base_url", "client") and value is not False}  # off: no knob
    return ", ".join(f"{key}={value}" for key, value in sorted(knobs.items()))


def _record_values(record: ScenarioRecord) -> dict[str, Any]:
    """Every declared field of the record under its row name (bench.record.columns)."""
    values: dict[str, Any] = {}
    for name, column in record_columns():
        value = getattr(record, name)
        if column.merge == SAMPLES:
            value = list(value)
        elif column.merge in (COUNTS, FIRST_EACH):
            value = dict(value)
        values[column.row or name] = value
    return values


def _rows(run: Run) -> list[dict[str, Any]]:
    """One row per benchmark: the declared record fields, pytest-benchmark's statistics,
    and what the run says of the interpreter."""
    build = run.info.python_build
    rows = []
    for bench in run.data["benchmarks"]:
        stats = bench["stats"]
        record = ScenarioRecord.from_dict(bench["extra_info"])
        rows.append({
            **_record_values(record),
            "source": str(run.path),
            # Runs made as one session (interpreters taking turns pass by pass) share it.
            "session": str(run.data.get("concurrency_bench_session") or run.path),
            "name": re.sub(r"-pass\d+\]$", "]", str(bench.get("name", ""))),
            # What the passes of one scenario share: the spec's id where the record has it
            # (pytest's test name can carry a suffix it added to tell repeated ids apart).
            "scenario_key": re.sub(r"-pass\d+$", "", record.scenario) if record.scenario
            else re.sub(r"-pass\d+\]$", "]", str(bench.get("name", ""))),
            "workload": record.workload,
            "params": _params(record),
            "runner": record.runner,
            "start_method": record.start_method,
            "client": record.client or "",
            "server": record.server or "",
            "concurrency": int(record.concurrency),
            "tasks": int(record.tasks),
            "rounds": int(stats["rounds"]),
            "median_s": float(stats["median"]),
            "iqr_s": float(stats["iqr"]),
            "q1_s": float(stats["q1"]),
            "q3_s": float(stats["q3"]),
            "min_s": float(stats.get("min", stats["median"])),
            "rounds_data": list(stats.get("data") or []),
            "rounds_by_pass": [list(stats.get("data") or [])],
            "free_threaded_build": build.free_threaded_build,
            "python_compiler": build.compiler,
            "config_args": build.config_args or None,
            "binary": run.binary,  # the interpreter less its run-time settings
            "settings": run.settings,
            "origin": build.origin,
            "passes": 1,
            "tasks_run": int(record.tasks_run or 0),
            "ok": int(record.ok),
            "failed": int(record.failed),
            "timed_setup": record.timed_setup,
            "claim": record.claim or "",
            "blocking": bool(record.params.get("blocking", False)),
            "extra": record.extra,
        })
    return rows


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary name beside `path`; renamed onto it only if the writing succeeded.

    A reader never sees a half-written file, and a failed write leaves nothing behind.
    """
    partial = path.with_name(f".{path.name}.partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> Path:
    with atomic_path(path) as partial:
        partial.write_text(text)
    return path


RUNS_DIR = Path("results/runs")


def newest_run(runs_dir: Path = RUNS_DIR) -> Path:
    candidates = sorted(runs_dir.glob("*/benchmark.json"))
    if not candidates:
        raise ReportError(f"no runs under {runs_dir}/ (run `make bench` first, or name a file)")
    return candidates[-1]


def run_file(path: Path) -> Path:
    """A run folder stands for the benchmark.json inside it."""
    return path / "benchmark.json" if path.is_dir() else path
