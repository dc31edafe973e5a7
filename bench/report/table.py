"""The scenario table: every benchmark of every run, the passes of one scenario merged,
the derived columns a reader compares runners by (speedup, efficiency, noise, CPU), the
published intervals (bench.stats) and the quality flags (bench.report.marks).
"""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np
import pandas as pd

from bench import run_to_run, stats
from bench.claims.kit import (
    baseline_rows,
    remember_runners,
)
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
)
from bench.record import columns as record_columns
from bench.report.keys import (
    BASELINE_KEYS,
    SCENARIO_KEYS,
    interpreter_order,
    runner_order,
    workload_order,
)
from bench.report.load import Run, _rows, label_runs
from bench.report.marks import (
    METER_SLACK,
    NEIGHBOUR_LIMIT,
    NOISE_LIMIT,
    OVER_IDEAL,
    inflated_cpu,
    one_gil_bound,
)

# The declared fields read as numbers, and those that hold lists of readings.
NUMERIC = tuple(column.row or name for name, column in record_columns() if column.numeric)
SAMPLE_ROWS = tuple(column.row or name for name, column in record_columns()
                    if column.merge == SAMPLES)


def _weighted(values: list[Any], weights: list[Any]) -> float:
    """Mean of a column over the passes, weighted; percentiles of equal-sized passes
    combine this way (quantile averaging), and per-round means exactly."""
    known = [(value, weight) for value, weight in zip(values, weights, strict=True)
             if pd.notna(value) and weight > 0]
    if not known:
        return float("nan")
    value, weight = (np.array(part, dtype=float) for part in zip(*known, strict=True))
    return float((value * weight).sum() / weight.sum())


def _numbers(values: list[Any], how: str) -> float:
    """The largest, least or median of the numbers among `values` (NaN if none)."""
    numbers = pd.to_numeric(np.asarray(values, dtype=object), errors="coerce").astype(float)
    numbers = numbers[~np.isnan(numbers)]
    if not len(numbers):
        return float("nan")
    if how == MAX:
        return float(numbers.max())
    return float(numbers.min()) if how == MIN else float(np.median(numbers))


def _merged(columns: dict[str, list[Any]], column: str, how: str) -> Any:
    """One value from the passes' values of `column`, as its declaration says."""
    values = columns[column]
    if how == SUM:
        return int(sum(values))
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
        return _weighted(values, columns["rounds"])
    if how == PER_TASK:
        return _weighted(values, columns["ok"])
    if how in (MAX, MIN, MEDIAN):
        return _numbers(values, how)
    return values[0]


def _merge_passes(passes: pd.DataFrame) -> dict[str, Any]:
    """One row from the passes of one scenario: every round of every pass, and each
    declared record field combined as its declaration says (bench.record)."""
    if len(passes) == 1:
        return dict(passes.iloc[0])
    ordered = passes.sort_values("pass_index")
    merged = dict(ordered.iloc[0])
    # Plain lists: a Series per field cost seconds a report.
    columns: dict[str, list[Any]] = {str(name): values for name, values
                                     in ordered.to_dict("list").items()}
    data = pd.Series([value for values in columns["rounds_data"] for value in values])
    q1, median, q3 = (float(data.quantile(q)) for q in (0.25, 0.5, 0.75))
    merged.update(rounds_data=list(data), rounds=len(data),
                  rounds_by_pass=[list(values) for values in columns["rounds_data"]],
                  median_s=median, q1_s=q1, q3_s=q3, iqr_s=q3 - q1,
                  min_s=float(data.min()), passes=len(ordered))
    for name, column in record_columns():
        row = column.row or name
        if column.merge != FIRST and row in columns:
            merged[row] = _merged(columns, row, column.merge)
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
    # A service row's saturation bracket is widened by what a rerun moves a saturation,
    # and a ratio of two models' saturations by what a rerun moves such a ratio.
    for kind in (run_to_run.SATURATION, run_to_run.SATURATION_RATIO):
        table[f"run_to_run_{kind}"] = [spread.term(workload, kind) if known else 0.0
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


def _merged_rows(runs: list[Run]) -> pd.DataFrame:
    """One row per scenario: its passes merged (bench.record's declarations)."""
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
    return table


def _quality(table: pd.DataFrame, runs: list[Run]) -> None:
    """Precision, noise, neighbours and failure: what the marks read (bench.report.marks)."""
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


def _rates(table: pd.DataFrame) -> None:
    """Throughput, efficiency and CPU per second of the rounds."""
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


def _speedup_bound(table: pd.DataFrame) -> None:
    """The most a speedup can be by running side by side, and the rows past it (‼)."""
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


def _in_reading_order(table: pd.DataFrame) -> pd.DataFrame:
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


def scenario_table(runs: list[Run], spread: run_to_run.Spread | None = None) -> pd.DataFrame:
    """All scenarios of all runs, with derived columns, in a stable reading order; the
    run-to-run term of the intervals from `spread` (default: the measured one)."""
    # Colours, order and the baseline as each run recorded them (the last run's word
    # where two differ); runs from before they were recorded fall back on the registry.
    remember_runners({name: style for run in runs for name, style in run.info.runners.items()})
    table = _merged_rows(runs)
    _quality(table, runs)
    _rates(table)
    table = table.join(_baselines(table), on=BASELINE_KEYS)
    result = ~table["failed_scenario"]
    table["speedup"] = (table["baseline_s"] / table["median_s"]).where(result)
    _published(table, runs, run_to_run.load() if spread is None else spread)
    _speedup_bound(table)
    table["inflated_cpu"] = inflated_cpu(table)
    # Per-task speed: one task alone under this runner against one alone under sequential.
    table["per_task_speed"] = (table["baseline_solo_s"] / table["solo_task_s"]).where(result)
    return _in_reading_order(table)


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
                         "baseline_task_s": baseline["task_s"].first(),
                         "baseline_cpu_task_s": (baseline["cpu_s"].first()
                                                 / baseline["tasks"].first()),
                         "baseline_noise": baseline["noise"].first()})
