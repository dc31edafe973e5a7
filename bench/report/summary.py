"""What not to cite and why, the workloads in words, the column notes, and each pool's
own cost: the sections below the decision.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

import pandas as pd

from bench.report.formats import ms3
from bench.report.keys import row_label
from bench.report.load import Run, label_runs
from bench.report.marks import NEIGHBOUR_LIMIT, NOISE_LIMIT
from workloads import WORKLOADS


def failure_lines(table: pd.DataFrame) -> list[str]:
    failing = table[table["failed"] > 0]
    if failing.empty:
        return ["Every task of every scenario succeeded.", ""]
    lines = ["### Failures by kind", "",
             "| scenario | failed | kinds | first error of each kind |", "|---|---|---|---|"]
    for _, row in failing.iterrows():
        first = str(row.get("failure_examples") or "not recorded").replace("|", "\\|")
        lines.append(f"| {row['name']} | {row['failed']}/{row['tasks_run']} | "
                     f"{row['failure_kinds'] or 'see extra_info'} | {first} |")
    return [*lines, ""]


def unavailable_lines(runs: list[Run]) -> list[str]:
    """A line for every runner that was asked for but could not run on a run's Python."""
    labels = label_runs(runs)
    lines = [f"- {runner} is not available on Python {labels[str(run.path)]}: {reason}."
             for run in runs
             for runner, reason in run.info.unavailable_runners.items()]
    applicable = dict.fromkeys(entry for run in runs for entry in run.info.not_applicable)
    return lines + [f"- Not applicable, so no row: {entry}." for entry in applicable]


def _impossible_lines(table: pd.DataFrame, label: Callable[[pd.Series], str]) -> list[str]:
    """Rows whose figures cannot be true as measured: ‼, ✗ meter, ⚑."""
    lines: list[str] = []
    beyond = table[table["over_cores"]]
    if len(beyond):
        lines.append("- ‼ Speedup above the ideal speedup (min(C, cores) for CPU work, 1 for "
                     "pure-Python CPU in one GIL process, C for waits) beyond its "
                     "interval: " + ", ".join(
            f"{r['workload']} {label(r)} ({r['speedup']:.3g}x, per-task speed "
            + ("not measured" if pd.isna(r["per_task_speed"]) else f"{r['per_task_speed']:.3g}x")
            + ")" for _, r in beyond.iterrows())
            + ". Running side by side cannot give more; the rest is each task running "
            "faster here (or a bias): do not quote it as parallel gain.")
    broken = table[table["meter_error"]]
    if len(broken):
        lines.append("- ✗ CPU reading above the machine's cores (a meter error, not a "
                     "result): " + ", ".join(f"{r['workload']} {label(r)}"
                                             for _, r in broken.iterrows()) + ".")
    inflated = table[table["inflated_cpu"]] if "inflated_cpu" in table else table.iloc[0:0]
    if len(inflated):
        lines.append("- ✗ CPU per task above sequential's in this run (pure-Python CPU on one "
                     "GIL costs the same per task whatever runs it): " + ", ".join(
            f"{r['workload']} {label(r)} ({r['cpu_s'] / r['tasks'] * 1000:.3g} ms a task "
            f"against {r['baseline_cpu_task_s'] * 1000:.3g} ms)" for _, r in inflated.iterrows())
            + ". Something outside the model cost these rows CPU (a harness or the host): "
            "they decide nothing; rerun, and see docs/reading-the-output.md.")
    over = table[table["over_ideal"]]
    if len(over):
        lines.append("- ⚑ Efficiency above 100 %: " + ", ".join(
            f"{r['workload']} {label(r)} ({r['efficiency']:.1%})" for _, r in over.iterrows())
            + ". A round cannot beat its ideal, so the ideal's one-task time was measured "
            "slower than tasks ran: quote these as about 100 %.")
    return lines


def summary_lines(runs: list[Run], table: pd.DataFrame) -> list[str]:
    """What the run shows, computed from it: the fastest model per workload (and
    interpreter), what could not run, and what not to cite."""
    lines = []
    several = table["interpreter"].nunique() > 1

    def _label(row: pd.Series) -> str:  # rows name their interpreter when there are several
        return row_label(row, several)

    if not table["speedup"].notna().any() and (table["claim"] == "").any():
        lines.append("- No sequential baseline in this run, so no speedups: add sequential to "
                     "--runner.")
    noisy = table[~table["citable"] & ~table["failed_scenario"]]
    if len(noisy):
        lines.append(f"- Not to cite without a rerun (noise above {NOISE_LIMIT:.0%}): "
                     + ", ".join(f"{r['workload']} {_label(r)} ({r['noise']:.1%})"
                                 for _, r in noisy.iterrows()) + ".")
    capped = table[~table["precise"] & ~table["failed_scenario"] & (table["claim"] == "")]
    if len(capped):
        lines.append("- ⌛ Median less precise than the target (interval in the table): "
                     + ", ".join(f"{r['workload']} {_label(r)} (±{r['ci_half']:.1%})"
                                 if not pd.isna(r["ci_half"]) else
                                 f"{r['workload']} {_label(r)} (no interval)"
                                 for _, r in capped.iterrows()) + ".")
    disturbed = table[table["disturbed"]]
    if len(disturbed):
        lines.append(f"- ⚡ Disturbed by other processes (more than {NEIGHBOUR_LIMIT} cores of "
                     "CPU outside the suite): " + ", ".join(
                         f"{r['workload']} {_label(r)} ({r['neighbours']:.2f} cores)"
                         for _, r in disturbed.iterrows()) + ".")
    failed = table[table["failed_scenario"]]
    if len(failed):
        lines.append("- Failed scenarios (tasks failed with no fault injected; no rate is "
                     "shown for them): " + ", ".join(f"{r['workload']} {_label(r)}"
                                                     for _, r in failed.iterrows()) + ".")
    lines += unavailable_lines(runs)
    missing = sum(run.info.failed_tests for run in runs)
    if missing:
        lines.append(f"- {missing} scenario(s) failed during the run and have no row here; "
                     "the run's output names them.")
    lines += _impossible_lines(table, _label)
    if not lines:
        lines.append("- Nothing in this run is a default-matrix result (see the claims).")
    return lines


# Rows of the claims suite's experiments, which are not registered workloads.
EXPERIMENT_JOBS = {
    "parked": "Tasks that start and park until released (claim 3's in-flight probe).",
    "script": "A one-off script (workloads/oneoff.py) of a few GET requests, run as a fresh "
              "interpreter per round (claim 9).",
}


def _described(workload: str) -> str:
    """A workload's job in one line: a built-in's module docstring, a user's class
    docstring (each falling back on the other), else what is known of it; never empty."""
    if workload in EXPERIMENT_JOBS:
        return EXPERIMENT_JOBS[workload]
    cls = WORKLOADS.get(workload)
    if cls is None:
        return "A workload not registered where this report was made (a user's own class)."
    module = sys.modules[cls.__module__].__doc__
    built_in = cls.__module__.startswith("workloads.")
    for doc in (module, cls.__doc__) if built_in else (cls.__doc__, module):
        if doc and doc.strip():
            return doc.strip().splitlines()[0]
    return f"A workload of its own ({cls.__module__}:{cls.__name__}), with no docstring."


def workload_lines(table: pd.DataFrame) -> list[str]:
    """Each workload's job and its sizing knobs, in words."""
    lines = []
    for (workload, params), rows in table.groupby(["workload", "params"], sort=False):
        job = _described(str(workload))
        tasks = ", ".join(str(t) for t in sorted(rows["tasks"].unique()))
        lines.append(f"- **{workload}**: {job} Knobs: {params or 'none'}; tasks per round: "
                     f"{tasks}.")
    return lines


COLUMN_NOTES = (
    "Columns: C = the most tasks running at once (a pool's workers, an event loop's "
    "semaphore, a cluster's worker threads; every task of a round is handed over when the "
    "round starts); tasks = tasks per round; median/IQR = wall time of one "
    "round of all tasks; ok tasks/s = successful tasks per second of the median round "
    "(† = faults were injected on purpose, so this is goodput, and speedup compares rounds "
    "that ran the same seeded faults); speedup = sequential median / median, with the 95 % "
    "interval of that ratio (bench.stats: passes and rounds resampled, plus the run-to-run "
    "term; \"-\" where "
    "the run has no sequential baseline; ‼ = the whole interval above the ideal speedup "
    "(sequential's ideal time / this row's: min(C, cores) for CPU work, C for waits; 1 for "
    "pure-Python CPU under a runner that is one GIL process on a GIL build), more "
    "than running tasks side by side can give: look at per-task speed); per-task speed = "
    "one task alone under sequential / one task alone under this runner (each measured "
    "on the warm runner before each pass's counted rounds, five tasks one at a time, the "
    "median over the passes; above 1 = each task runs faster here, whatever the overlap); "
    "efficiency = ideal / median (\"-\" with injected "
    "faults: the ideal assumes every task succeeds; ⚑ = above 100 %, see the summary); "
    "{declared}; client/server CPU (cores) = CPU seconds per second "
    "of the counted rounds' wall time (their mean, not the median; 1.00 = one core busy "
    "for the whole round; ✗ meter = above the machine's cores, which no reading can be: "
    "a meter error, not a result); "
    "failed = failed / tasks "
    "run over all counted rounds (tasks x rounds); ✗ FAILED = tasks failed with no fault "
    "injected, so the row is not a result.")


def overhead_markdown(table: pd.DataFrame) -> list[str]:
    """Each pool or cluster runner's own cost, per pool size: a no-op task's round trip, and
    the time to start and stop it (medians over that size's scenarios in the run)."""
    rows = table[table["task_overhead_s"].notna() & ~table["timed_setup"]]
    if rows.empty:
        return []
    lines = ["## Per-task overhead and start-up", "",
             "What each pool or cluster costs by itself, measured on the open runner before "
             "timing: the round trip of a task that does nothing (submitted and awaited one "
             "at a time, median of 30), and the time to start (workers started, connected "
             "and warmed) and stop it, per pool size C (start-up grows with the workers "
             "started). Medians over that size's scenarios in this run.", "",
             "| runner | C | scenarios | no-op round trip (ms) | start-up (ms) | teardown (ms) |",
             "|---|---|---|---|---|---|"]
    for (runner, method, level), mine in rows.groupby(
            ["runner", rows["start_method"].fillna(""), "concurrency"], sort=False):
        label = f"{runner} ({method})" if method else runner
        lines.append(f"| {label} | {level} | {len(mine)} | "
                     f"{ms3(mine['task_overhead_s'].median())} | "
                     f"{ms3(mine['setup_s'].median())} | {ms3(mine['teardown_s'].median())} |")
    several = table["interpreter"].nunique() > 1
    seen: dict[str, dict[str, object]] = {}
    for _, row in table.iterrows():
        details = row["runner_details"]
        if isinstance(details, dict) and details:
            who = str(row["runner"]) + (f" on {row['interpreter']}" if several else "")
            seen[who + json.dumps(details, sort_keys=True, default=str)] = {"who": who,
                                                                            **details}

    def shown(value: object) -> str:
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)

    if seen:
        lines += ["", "Set-up each runner recorded:", ""]
    for details in seen.values():
        who = str(details.pop("who"))
        lines.append(f"- {who}: " + "; ".join(f"{key.replace('_', ' ')} {shown(value)}"
                                              for key, value in details.items()) + ".")
    return [*lines, ""]
