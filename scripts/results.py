"""Read pytest-benchmark JSON files into one tidy pandas table, one row per scenario.

pytest-benchmark's own statistics (median, IQR, quartiles, per-round data) are used
as they are; what this adds are the derived columns a reader compares runners by:
tasks/s, speedup over the sequential baseline of the same workload and size,
efficiency against the ideal time, and noise (IQR / median) with a flag on rows too
noisy to cite.  Nothing here knows how a scenario was run.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bench import run_to_run, stats
from bench.claims.kit import baseline_rows, is_parallel, remember_runners
from bench.claims.kit import runner_order as kit_runner_order
from bench.precision import DEFAULT_TARGET
from bench.record import (
    COUNTS,
    FIRST,
    FIRST_EACH,
    MAX,
    MEDIAN,
    MIN,
    PER_ROUND,
    PER_TASK,
    SAMPLES,
    SUM,
    RecordError,
    ScenarioRecord,
)
from bench.record import columns as record_columns
from bench.runinfo import RunInfo
from workloads import WORKLOADS

NOISE_LIMIT = 0.10  # IQR / median above this: the row is shown but flagged as not citable
NEIGHBOUR_LIMIT = 0.25  # cores of CPU used outside the suite during a scenario: "disturbed"
OVER_IDEAL = 1.0  # efficiency above this beat the ideal: flagged, with the reason
INCOMPLETE = ("interrupted", "stopped")  # run_status of a run that did not finish
REQUIRED_STATS = ("median", "iqr", "q1", "q3", "rounds")
UNKNOWN_ORDER = 1000  # names no registry knows (experiments) sort after the known ones


class ReportError(Exception):
    """Input the report cannot use; the message is one line for the user."""


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
             if key not in ("url", "client") and value is not False}  # off is no knob
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


# The passes of one scenario (bench.precision) share these; the report merges them.
SCENARIO_KEYS = ["source", "scenario_key", "claim", "workload", "params", "runner",
                 "start_method", "client", "server", "concurrency", "tasks", "timed_setup",
                 "pinned"]
# The declared fields read as numbers, and those that hold lists of readings.
NUMERIC = tuple(column.row or name for name, column in record_columns() if column.numeric)
SAMPLE_ROWS = tuple(column.row or name for name, column in record_columns()
                    if column.merge == SAMPLES)
METER_SLACK = 1.05  # CPU above cores x this is not a reading but a meter error


def _weighted(rows: pd.DataFrame, column: str, weights: pd.Series) -> float:
    """Mean of `column` over the passes, weighted; percentiles of equal-sized passes
    combine this way (quantile averaging), and per-round means exactly."""
    known = rows[column].notna() & (weights > 0)
    if not known.any():
        return float("nan")
    return float((rows.loc[known, column] * weights[known]).sum() / weights[known].sum())


def _merged(ordered: pd.DataFrame, column: str, how: str) -> Any:
    """One value from the passes' values of `column`, as its declaration says."""
    values = ordered[column]
    if how == SUM:
        return int(values.sum())
    if how == SAMPLES:
        return [value for found in values for value in found]
    if how == COUNTS:
        counts: dict[str, int] = {}
        for found in values:
            for kind, count in found.items():
                counts[kind] = counts.get(kind, 0) + count
        return counts
    if how == FIRST_EACH:
        first: dict[str, Any] = {}
        for found in values:
            for kind, text in found.items():
                first.setdefault(kind, text)
        return first
    if how == PER_ROUND:
        return _weighted(ordered, column, ordered["rounds"])
    if how == PER_TASK:
        return _weighted(ordered, column, ordered["ok"])
    if how in (MAX, MIN, MEDIAN):
        numbers = pd.to_numeric(values, errors="coerce")
        return float(getattr(numbers, how)())
    return values.iloc[0]


def _merge_passes(passes: pd.DataFrame) -> dict[str, Any]:
    """One row from the passes of one scenario: every round of every pass, and each
    declared record field combined as its declaration says (bench.record)."""
    if len(passes) == 1:
        return dict(passes.iloc[0])
    ordered = passes.sort_values("pass_index")
    merged = dict(ordered.iloc[0])
    data = pd.Series([value for values in ordered["rounds_data"] for value in values])
    q1, median, q3 = (float(data.quantile(q)) for q in (0.25, 0.5, 0.75))
    merged.update(rounds_data=list(data), rounds=len(data),
                  rounds_by_pass=[list(values) for values in ordered["rounds_data"]],
                  median_s=median, q1_s=q1, q3_s=q3, iqr_s=q3 - q1,
                  min_s=float(data.min()), passes=len(ordered))
    for name, column in record_columns():
        row = column.row or name
        if column.merge != FIRST and row in ordered:
            merged[row] = _merged(ordered, row, column.merge)
    return merged


def _targets(runs: list[Run]) -> dict[str, float]:
    """Each run's precision target (runs made before there was one: the default)."""
    return {str(run.path): float(run.info.fairness.precision_target or DEFAULT_TARGET)
            for run in runs}


def _within(rounds: list[float]) -> float:
    """The 95 % interval's half-width within this run (what more rounds could narrow)."""
    found = stats.half_width(rounds)
    return float("nan") if found is None else found


def speedup_interval(baseline: list[list[float]], passes: list[list[float]],
                     term: float = 0.0) -> stats.Interval:
    """The 95 % interval of the ratio of medians baseline/passes (bench.stats: passes and
    their rounds resampled, plus the run-to-run term of a speedup)."""
    return stats.ratio_interval(baseline, passes, term)


def _terms(runs: list[Run], spread: run_to_run.Spread) -> dict[str, bool]:
    """Whether the measured run-to-run spread applies to each run (the same kind of
    machine as the reruns it was measured on)."""
    return {str(run.path): spread.applies_to(run_to_run.machine_of(run.machine))
            for run in runs}


def _published(table: pd.DataFrame, runs: list[Run], spread: run_to_run.Spread) -> None:
    """Every row's published intervals: its median's and its speedup's, each a promise
    about a rerun where the run-to-run term is known for its machine."""
    applies = table["source"].map(_terms(runs, spread))
    medians = [stats.median_interval(
        passes, spread.term(workload, run_to_run.MEDIAN) if known else 0.0)
        for passes, workload, known in zip(table["rounds_by_pass"], table["workload"], applies,
                                           strict=True)]
    table["ci_low_s"] = [found.low for found in medians]
    table["ci_high_s"] = [found.high for found in medians]
    table["ci_level"] = [found.level for found in medians]
    table["ci_label"] = [found.label() for found in medians]
    table["run_to_run"] = [found.run_to_run for found in medians]
    # A ratio of two rows of one run (a speedup, a claim's effect) moves less on a rerun
    # than either median: the machine's drift cancels in part.
    table["run_to_run_ratio"] = [spread.term(workload, run_to_run.SPEEDUP) if known else 0.0
                                 for workload, known in zip(table["workload"], applies,
                                                            strict=True)]
    result = ~table["failed_scenario"]
    spans = [speedup_interval(base, passes, spread.term(workload, run_to_run.SPEEDUP)
                              if known else 0.0)
             if isinstance(base, list) and ok else stats.NO_INTERVAL
             for base, passes, workload, known, ok
             in zip(table["baseline_passes"], table["rounds_by_pass"], table["workload"],
                    applies, result, strict=True)]
    table["speedup_low"] = [found.low for found in spans]
    table["speedup_high"] = [found.high for found in spans]


def scenario_table(runs: list[Run], spread: run_to_run.Spread | None = None) -> pd.DataFrame:
    """All scenarios of all runs, with derived columns, in a stable reading order; the
    run-to-run term of the intervals from `spread` (default: the measured one)."""
    # Colours, order and the baseline as each run recorded them (the last run's word
    # where two differ); runs from before they were recorded fall back on the registry.
    remember_runners({name: style for run in runs for name, style in run.info.runners.items()})
    raw = pd.DataFrame([row for run in runs for row in _rows(run)])
    raw["interpreter"] = raw["source"].map(label_runs(runs))
    # --cores K: pinned to K cores; 0 = not pinned (every run before --cores, and most).
    raw["pinned"] = pd.to_numeric(raw["pinned"], errors="coerce").fillna(0).astype(int)
    for column in NUMERIC:
        raw[column] = pd.to_numeric(raw[column], errors="coerce")
    raw["start_method"] = raw["start_method"].astype(object)
    keys = pd.Series(["|".join(map(str, values))
                      for values in raw[SCENARIO_KEYS].itertuples(index=False)], index=raw.index)
    table = pd.DataFrame([_merge_passes(group) for _, group in raw.groupby(keys, sort=False)])
    table["failure_kinds"] = table["kinds"].map(
        lambda kinds: ", ".join(f"{kind}={count}" for kind, count in sorted(kinds.items())))
    table["failure_examples"] = [
        "; ".join(f"{kind}: {text}" for kind, text in sorted(examples.items()))
        for examples in table["examples"]]
    # ⌛ is about this run's rounds (more of them could narrow it); the published interval
    # adds what a rerun moves (_published).
    table["ci_half"] = table["rounds_data"].map(_within)
    table["precise"] = table["ci_half"] <= table["source"].map(_targets(runs))
    # CPU per round over the mean round, not the median: skewed rounds (a few slow ones)
    # would otherwise show a single thread using more than one core.
    table["mean_s"] = [statistics.fmean(data) if len(data) else median for data, median
                       in zip(table["rounds_data"], table["median_s"], strict=True)]
    # Others' CPU per second of the window it was metered over; runs from before that was
    # recorded divide by the rounds alone, which overstates it when rounds are short.
    table["neighbours"] = table["others_cores"].where(
        table["others_cores"].notna(), table["others_cpu_s"] / table["mean_s"])
    table["disturbed"] = table["neighbours"] > NEIGHBOUR_LIMIT
    table["noise"] = table["iqr_s"] / table["median_s"]
    # A scenario whose tasks failed with no fault injected on purpose is not a result: it
    # keeps its row (so the failure shows) but gets no rate, speedup or efficiency.
    table["failed_scenario"] = (table["failed"] > 0) & ~table["faults_injected"]
    table["citable"] = (table["noise"] <= NOISE_LIMIT) & ~table["failed_scenario"]
    result = ~table["failed_scenario"]
    # Throughput counts ok tasks only (goodput); without injected faults that is every task.
    rounds = table["rounds"].where(table["rounds"] > 0)
    table["tasks_per_s"] = (table["ok"] / rounds / table["median_s"]).where(result)
    # The ideal assumes every task succeeds, so a round with injected faults has none.
    table["efficiency"] = (table["ideal_s"] / table["median_s"]).where(
        result & ~table["faults_injected"])
    table["over_ideal"] = table["efficiency"] > OVER_IDEAL
    table["failure_rate"] = table["failed"] / table["tasks_run"]
    table["server_load"] = table["server_cpu_s"] / table["mean_s"]
    table["client_cpu_load"] = table["cpu_s"] / table["mean_s"]
    # A process cannot use more cores than the machine has: such a reading is the meter's.
    table["meter_error"] = (table["client_cpu_load"] > table["cores"] * METER_SLACK) | (
        table["neighbours"] > table["cores"] * METER_SLACK)
    table = table.join(_baselines(table), on=BASELINE_KEYS)
    table["speedup"] = (table["baseline_s"] / table["median_s"]).where(result)
    _published(table, runs, run_to_run.load() if spread is None else spread)
    # More than the ideal speedup (baseline's ideal / this row's ideal: min(C, cores) for CPU
    # work, about C for waits; C where the workload has no ideal) is more than running
    # side by side can give: what is left is per-task speed (see that column) or a bias.
    # Each ideal is counted in its own row's task time: a CPU job's calibration can see a
    # faster task by the time a later row is recorded (on a busy machine the processes
    # row's bound once came out at 2.46 on 2 cores), and the bound is the model's shape,
    # not that drift.
    in_tasks = table["baseline_ideal_s"] / table["baseline_task_s"] / (
        table["ideal_s"] / table["task_s"])
    table["speedup_bound"] = in_tasks.where(
        in_tasks.notna(), table["baseline_ideal_s"] / table["ideal_s"]).where(
        table["ideal_s"].notna() & table["baseline_ideal_s"].notna(),
        table["concurrency"].astype(float))
    # One GIL process runs Python on one core at a time: a runner that is not parallel,
    # on a build with the GIL on, cannot beat the baseline on a job that is all pure-Python
    # CPU by running tasks side by side, whatever C is.
    table["speedup_bound"] = table["speedup_bound"].where(~one_gil_bound(table), 1.0)
    table["over_cores"] = table["speedup_low"] > table["speedup_bound"]
    # Per-task speed: one task alone under this runner against one alone under sequential.
    table["per_task_speed"] = (table["baseline_solo_s"] / table["solo_task_s"]).where(result)
    table["_w"] = table["workload"].map(workload_order)
    table["_r"] = table["runner"].map(runner_order)
    table["_i"] = [interpreter_order(binary, free, settings, source) for binary, free, settings,
                   source in zip(table["binary"], table["free_threaded_build"],
                                 table["settings"], table["source"], strict=True)]
    table = table.sort_values(["claim", "_w", "params", "tasks", "_i", "server", "_r",
                               "client", "concurrency"],
                              kind="stable")
    return table.drop(columns=["_w", "_r", "_i", "baseline_client", "baseline_rounds",
                               "baseline_passes", "baseline_task_s"]
                      ).reset_index(drop=True)


def one_gil_bound(table: pd.DataFrame) -> pd.Series:
    """Rows whose every task is pure-Python CPU (the workload's GIL-holding CPU is its whole
    task time) run by a runner that is not parallel on a build with the GIL on.  Runs from
    before batch records carried `gil_cpu_s` have no such row."""
    if "gil_cpu_s" not in table or "gil_enabled" not in table:
        return pd.Series(False, index=table.index)
    gil_cpu = pd.to_numeric(table["gil_cpu_s"], errors="coerce")
    task = pd.to_numeric(table["task_s"], errors="coerce")
    one_core = ~table["runner"].map(is_parallel).astype(bool)
    return (gil_cpu.notna() & task.notna() & (gil_cpu >= task) & one_core
            & (table["gil_enabled"] == True))  # noqa: E712 - None (unknown) is not True


def interpreter_order(binary: str, free_threaded: bool, settings: str,
                      source: str) -> tuple[Any, ...]:
    """Interpreters by version, the GIL build before the free-threaded one, a binary before
    its settings; the file name breaks any tie."""
    version = tuple(int(part) for part in re.findall(r"\d+", binary.split(" ")[0])[:3])
    return (version, bool(free_threaded), settings, binary, source)


BASELINE_KEYS = ["source", "claim", "workload", "params", "tasks", "timed_setup", "server",
                 "pinned", "baseline_client"]


def _baselines(table: pd.DataFrame) -> pd.DataFrame:
    """The sequential run each row is compared with: the same workload and size against
    the same server, with the same client where sequential ran it, else requests (the
    default sync client; an async-only client has no sequential run)."""
    sequential = table[baseline_rows(table["runner"])]
    ran = set(zip(sequential["source"], sequential["claim"], sequential["workload"],
                  sequential["params"], sequential["server"], sequential["client"],
                  strict=True))
    table["baseline_client"] = [
        client if (source, claim, workload, params, server, client) in ran
        else ("requests" if client else "")
        for source, claim, workload, params, server, client in zip(
            table["source"], table["claim"], table["workload"], table["params"],
            table["server"], table["client"], strict=True)]
    baseline = table[baseline_rows(table["runner"])].groupby(BASELINE_KEYS)
    return pd.DataFrame({"baseline_s": baseline["median_s"].first(),
                         "baseline_rounds": baseline["rounds_data"].first(),
                         "baseline_passes": baseline["rounds_by_pass"].first(),
                         "baseline_solo_s": baseline["solo_task_s"].first(),
                         "baseline_ideal_s": baseline["ideal_s"].first(),
                         "baseline_task_s": baseline["task_s"].first()})


def workload_order(name: str) -> int:
    known = WORKLOADS.get(name)
    return known.order if known is not None else UNKNOWN_ORDER


def runner_order(name: str) -> int:
    """Where a runner stands, as the runs recorded it (bench.claims.kit)."""
    return kit_runner_order(name)


MARKDOWN_COLUMNS = {
    "workload": "workload",
    "runner": "runner",
    "client": "HTTP client",
    "server": "server",
    "concurrency": "C",
    "tasks": "tasks",
    "median_ms": "median (ms)",
    "ci_ms": "95% CI (ms)",
    "rounds": "rounds",
    "iqr_ms": "IQR (ms)",
    "noise_pct": "noise (%)",
    "tasks_per_s": "ok tasks/s",
    "speedup": "speedup (x, 95% CI)",
    "per_task_speed": "per-task speed (x)",
    "efficiency_pct": "efficiency (%)",
    # ... then every record field declared with a header (bench.record), in its order ...
    "client_cpu_load": "client CPU (cores)",
    "server_load": "server CPU (cores)",
    "neighbours": "others' CPU (cores)",
    "failed": "failed",
}


def _declared(table: pd.DataFrame) -> dict[str, pd.Series]:
    """The full table's columns that record fields declare (header, scale, digits)."""
    shown = {}
    for name, column in record_columns():
        values = pd.to_numeric(table[column.row or name], errors="coerce") * column.scale
        if not column.header or values.isna().all():  # runs from before it: no column
            continue
        shown[column.header] = values.map(
            sig3 if column.digits == "sig3" else lambda v, f=column.digits: _fixed(v, f))
    return shown


def declared_notes(table: pd.DataFrame) -> list[str]:
    """What the column notes say of the declared columns the table shows."""
    return [column.note for name, column in record_columns() if column.header and column.note
            and pd.to_numeric(table[column.row or name], errors="coerce").notna().any()]


def markdown_table(table: pd.DataFrame) -> str:
    """The table for humans: milliseconds, percentages, sensible rounding, units in headers."""
    derived = {
        "interpreter": table["interpreter"],
        "workload": table["workload"],
        "runner": table["runner"] + table["start_method"].map(
            lambda method: f" ({method})" if isinstance(method, str) else ""),
        "client": table["client"],
        "server": table["server"],
        "concurrency": table["concurrency"],
        "tasks": table["tasks"],
        "median_ms": (table["median_s"] * 1000).map(sig3),
        "ci_ms": [_interval_text(low * 1000, high * 1000, precise) for low, high, precise
                  in zip(table["ci_low_s"], table["ci_high_s"], table["precise"], strict=True)],
        "rounds": table["rounds"].astype(str),
        "iqr_ms": (table["iqr_s"] * 1000).map(sig3),
        "noise_pct": (table["noise"] * 100).map(lambda v: f"{v:.1f}")
        + table["citable"].map(lambda ok: "" if ok else " ⚠"),
        "tasks_per_s": table["tasks_per_s"].map(sig3)
        + table["faults_injected"].map(lambda faults: " †" if faults else ""),
        "speedup": [_speedup_text(value, low, high) for value, low, high in zip(
            table["speedup"], table["speedup_low"], table["speedup_high"], strict=True)]
        + table["over_cores"].map(lambda over: " ‼" if over else ""),
        "per_task_speed": table["per_task_speed"].map(lambda v: _fixed(v, "{:.2f}")),
        "efficiency_pct": (table["efficiency"] * 100).map(lambda v: _fixed(v, "{:.0f}"))
        + table["over_ideal"].map(lambda over: " ⚑" if over else ""),
        **_declared(table),
        "client_cpu_load": table["client_cpu_load"].map(lambda v: _fixed(v, "{:.2f}"))
        + table["meter_error"].map(lambda error: " ✗ meter" if error else ""),
        "server_load": table["server_load"].map(lambda v: _fixed(v, "{:.2f}")),
        "neighbours": table["neighbours"].map(lambda v: _fixed(v, "{:.2f}"))
        + table["disturbed"].map(lambda disturbed: " ⚡" if disturbed else ""),
        "failed": table["failed"].astype(str) + "/" + table["tasks_run"].astype(str)
        + table["failed_scenario"].map(lambda failed: " ✗ FAILED" if failed else ""),
    }
    shown = pd.DataFrame(derived).rename(columns=MARKDOWN_COLUMNS)
    if table["interpreter"].nunique() < 2:  # one interpreter: REPORT.md names it
        shown = shown.drop(columns=["interpreter"])
    for column in ("client", "server"):  # only where some row has one
        if not (table[column].fillna("") != "").any():
            shown = shown.drop(columns=[MARKDOWN_COLUMNS[column]])
    return str(shown.to_markdown(index=False, disable_numparse=True))


def _speedup_text(value: float, low: float, high: float) -> str:
    """'1.95 (1.90-2.01)': the speedup and its interval, three significant figures."""
    if pd.isna(value):
        return "-"
    if pd.isna(low) or pd.isna(high):
        return sig3(value)
    return f"{sig3(value)} ({sig3(low)}-{sig3(high)})"


def _interval_text(low: float, high: float, precise: bool) -> str:
    """'low to high', marked ⌛ where it is wider than the precision target."""
    if pd.isna(low) or pd.isna(high):
        return "- ⌛"
    return f"{sig3(low)} to {sig3(high)}" + ("" if precise else " ⌛")


def _fixed(value: float, fmt: str) -> str:
    """`fmt` of a value, or "-" where there is none (never "nan")."""
    return "-" if pd.isna(value) else fmt.format(value)


def sig3(value: float, strict: bool = False) -> str:
    """Three significant figures, without scientific notation for ordinary sizes; tables
    keep every integer digit (2,589), `strict` rounds those too (2,590) for the figures a
    reader quotes (decision block, summary)."""
    if pd.isna(value):
        return "-"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000 and strict:  # rounded to three figures: 2,589 -> 2,590
        return f"{round(value, 2 - math.floor(math.log10(magnitude))):,.0f}"
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:#.3g}".rstrip(".") if strict else f"{value:.3g}"


CSV_DROP = ("rounds_data", "rounds_by_pass", "extra", "kinds", "examples", *SAMPLE_ROWS)


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


def write_tables(table: pd.DataFrame, out: Path) -> list[Path]:
    csv_path = out / "table.csv"
    with atomic_path(csv_path) as partial:
        table.drop(columns=list(CSV_DROP)).to_csv(partial, index=False, float_format="%.6g")
    return [csv_path, write_text(out / "table.md", markdown_table(table) + "\n")]
