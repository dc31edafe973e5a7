"""Run to run: what a rerun moves (the run-to-run term of bench.stats), and whether the
published intervals hold on another run.

`measure_spread` measures, per workload, the SD on the log scale of each row's median and
speedup across back-to-back runs (the median over the workload's rows).  `check_markdown`
judges the intervals the report publishes: over every pair of runs and every row of
LONG_S or more, how often the two runs' 95 % intervals overlap, how often one run's median
(speedup) lies inside the other's interval (about 83 % for intervals that are exactly
right: the other run's figure has its own error too), and whether every workload's
decision names the same winner or the same tie.  With `leave_one_out`, each run's term is
measured from the other runs only, so no run is judged on its own data.
"""

from __future__ import annotations

import itertools
import math
import statistics
from pathlib import Path

import pandas as pd

from bench import run_to_run
from bench.report.decision import best_of_each_model, verdict_of, workloads
from bench.report.keys import ROW_KEY
from bench.report.load import load_run
from bench.report.table import scenario_table

LONG_S = 0.1  # rows of at least this median are judged (shorter ones: timer and scheduler)


def _keyed(table: pd.DataFrame) -> pd.DataFrame:
    keys = ["|".join("" if pd.isna(v) else str(v) for v in values)
            for values in table[ROW_KEY].itertuples(index=False)]
    return table.assign(key=keys).set_index("key")


def _sd(values: list[float]) -> float:
    logs = [math.log(v) for v in values if v > 0 and not math.isnan(v)]
    return statistics.stdev(logs) if len(logs) > 2 else math.nan


def measure_spread(tables: list[pd.DataFrame], machine: str, commits: list[str]
                   ) -> run_to_run.Spread:
    """Per workload, the median over its rows of the rerun SD of log(median), log(speedup)."""
    keyed = [_keyed(table) for table in tables]
    common = set.intersection(*(set(table.index) for table in keyed))
    found: dict[str, dict[str, list[float]]] = {run_to_run.MEDIAN: {}, run_to_run.SPEEDUP: {}}
    for key in sorted(common):
        workload = str(keyed[0].loc[key, "workload"])
        for kind, column in ((run_to_run.MEDIAN, "median_s"), (run_to_run.SPEEDUP, "speedup")):
            if kind == run_to_run.SPEEDUP and str(keyed[0].loc[key, "runner"]) == "sequential":
                continue
            spread = _sd([float(table.loc[key, column]) for table in keyed])
            if not math.isnan(spread):
                found[kind].setdefault(workload, []).append(spread)
    return run_to_run.Spread(
        machine, len(tables), commits,
        {w: round(statistics.median(v), 5) for w, v in found[run_to_run.MEDIAN].items()},
        {w: round(statistics.median(v), 5) for w, v in found[run_to_run.SPEEDUP].items()})


def _inside(value: float, low: float, high: float) -> bool:
    return bool(low <= value <= high)


def calibration(tables: list[pd.DataFrame]) -> dict[str, tuple[int, int]]:
    """(hits, cases) for overlap and inside, of medians and of speedups."""
    keyed = [_keyed(table) for table in tables]
    counts = {name: [0, 0] for name in ("median overlap", "median inside", "speedup overlap",
                                       "speedup inside")}
    columns = {"median": ("median_s", "ci_low_s", "ci_high_s"),
               "speedup": ("speedup", "speedup_low", "speedup_high")}
    for a, b in itertools.permutations(range(len(keyed)), 2):
        for key in keyed[a].index.intersection(keyed[b].index):
            one, other = keyed[a].loc[key], keyed[b].loc[key]
            if min(one["median_s"], other["median_s"]) < LONG_S:
                continue
            for what, (value, low, high) in columns.items():
                if any(pd.isna(row[c]) for row in (one, other) for c in (value, low, high)):
                    continue
                if what == "speedup" and one["runner"] == "sequential":
                    continue
                counts[f"{what} inside"][0] += _inside(other[value], one[low], one[high])
                counts[f"{what} inside"][1] += 1
                if a < b:
                    counts[f"{what} overlap"][0] += bool(one[low] <= other[high]
                                                         and other[low] <= one[high])
                    counts[f"{what} overlap"][1] += 1
    return {name: (hits, cases) for name, (hits, cases) in counts.items()}


def decisions(table: pd.DataFrame) -> dict[str, str]:
    """Each workload's decision: its winner, or the models it calls tied."""
    matrix = table[table["claim"] == ""]
    return {heading.split("**")[1]: verdict_of(best_of_each_model(rows))
            for heading, rows in workloads(matrix, knobs=False)}


def _tables(paths: list[Path], leave_one_out: bool, within_only: bool = False
            ) -> list[pd.DataFrame]:
    runs = [load_run(path) for path in paths]
    if within_only:
        return [scenario_table([run], run_to_run.NONE) for run in runs]
    if not leave_one_out:
        return [scenario_table([run]) for run in runs]
    plain = [scenario_table([run], run_to_run.NONE) for run in runs]
    machine = run_to_run.machine_of(runs[0].machine)
    return [scenario_table([run], measure_spread(
        [t for j, t in enumerate(plain) if j != i], machine, []))
        for i, run in enumerate(runs)]


def check_markdown(paths: list[Path], leave_one_out: bool, within_only: bool = False) -> str:
    tables = _tables(paths, leave_one_out, within_only)
    found = calibration(tables)
    lines = [f"# Run to run: {len(paths)} runs", "",
             "Runs: " + ", ".join(f"`{path.name}`" for path in paths) + ".", "",
             "Run-to-run term: " + ("none: intervals within each run only." if within_only
                                    else "each run's from the other runs only (leave one "
                                    "out)." if leave_one_out else
                                    "the committed one (bench/run_to_run.json)."), "",
             f"Rows of {LONG_S * 1000:.0f} ms or more, every pair of runs:", "",
             "| check | share | cases |", "|---|---|---|"]
    lines += [f"| {name} | {hits / cases:.1%} | {cases} |" if cases else f"| {name} | - | 0 |"
              for name, (hits, cases) in found.items()]
    decided = [decisions(table) for table in tables]
    lines += ["", "Decisions per workload (the same in every run?):", ""]
    for workload in decided[0]:
        said = {found.get(workload, "-") for found in decided}
        lines.append(f"- {workload}: {'same' if len(said) == 1 else 'DIFFERENT'}: "
                     + " / ".join(sorted(said)))
    return "\n".join(lines) + "\n"


