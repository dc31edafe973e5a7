"""The top of a report: per workload, which model to choose, and what it costs.

One short table per workload and size (one row per model at its best measured
concurrency) and one computed sentence.  The sentence names a winner only where the
winner's 95 % interval of the median lies wholly below every other model's by more than
the equivalence band (bench.stats.BAND, 5 %: the lowest ratio the two intervals allow is
above 1.05); otherwise it says which models tie.  A lead smaller than that is what
`--compare` would call no change between two runs, and back-to-back runs do not keep it.
It names the winner's costs (client CPU, the memory its runner added, its start-up), and
says so when the winner's row is not fit to cite.
Rows of every interpreter of a run compete in one table, so a model on one Python can be
seen to beat another model on another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pandas as pd

from bench.claims.kit import (
    baseline_rows,
    is_baseline,
)
from bench.report.formats import mb, quoted
from bench.report.keys import GROUP, MODEL, model_label
from bench.report.marks import marks
from bench.report.service import ms
from bench.runners import RUNNERS
from bench.stats import BAND


def best_of_each_model(rows: pd.DataFrame) -> pd.DataFrame:
    """Each model's row at the concurrency where its median round was lowest."""
    present = [key for key in MODEL if key in rows]  # tables from before --cores: no pinned
    keys = ["|".join("" if pd.isna(value) else str(value) for value in values)
            for values in rows[present].itertuples(index=False)]
    keyed = rows.assign(_model=keys)
    best = keyed.loc[keyed.groupby("_model", sort=False)["median_s"].idxmin()]
    return best.drop(columns=["_model"]).sort_values("median_s")


def _interval_ms(row: pd.Series) -> str:
    if pd.isna(row["ci_low_s"]) or pd.isna(row["ci_high_s"]):
        return f"{ms(row['median_s'])} (no interval)"
    return (f"{ms(row['median_s'])} ({quoted(row['ci_low_s'] * 1000)}-"
            f"{quoted(row['ci_high_s'] * 1000)})")


def _speedup(row: pd.Series) -> str:
    if pd.isna(row["speedup"]):
        return "-"
    if pd.isna(row["speedup_low"]) or pd.isna(row["speedup_high"]):
        return f"{quoted(row['speedup'])}x"
    return (f"{quoted(row['speedup'])}x ({quoted(row['speedup_low'])}-"
            f"{quoted(row['speedup_high'])})")


def _failed(row: pd.Series) -> str:
    if not row["tasks_run"]:
        return "-"
    return "0" if not row["failed"] else f"{row['failed']}/{row['tasks_run']}"


def separated(best: pd.Series, other: pd.Series) -> bool:
    """`best`'s interval of the median lies wholly below `other`'s, by more than BAND."""
    return bool(best["ci_high_s"] * (1 + BAND) < other["ci_low_s"])


def ties_of(results: pd.DataFrame) -> list[pd.Series]:
    """The models whose interval of the median overlaps the fastest one's."""
    best = results.iloc[0]
    return [row for _, row in results.iloc[1:].iterrows() if not separated(best, row)]


def verdict_of(models: pd.DataFrame) -> str:
    """The decision in a few words: the winner's label, or 'tie: a, b'."""
    results = models[~models["failed_scenario"]]
    if results.empty:
        return "all failed"
    tied = ties_of(results)
    if not tied:
        return model_label(results.iloc[0], False)
    return "tie: " + ", ".join(sorted(model_label(row, False)
                                      for row in [results.iloc[0], *tied]))


def sentence(models: pd.DataFrame, with_interpreter: bool) -> str:
    """Who wins, or who ties, and what the winner costs."""
    def label(row: pd.Series) -> str:
        return model_label(row, with_interpreter)

    results = models[~models["failed_scenario"]]
    if results.empty:
        return "Every model failed here: no result to choose from."
    best = results.iloc[0]
    if len(results) == 1:
        text = f"Only {label(best)} was measured"
    else:
        ties = ties_of(results)
        if ties:
            names = ", ".join(label(row) for row in ties)
            text = (f"Tie within noise: {label(best)} has the lowest median, but its 95 % "
                    f"interval overlaps that of {names}, or lies below it by less than "
                    f"{BAND * 100:g} %, so the data cannot order them")
        else:
            runner_up = results.iloc[1]
            lead = quoted(runner_up["median_s"] / best["median_s"])
            text = (f"**{label(best)}** is fastest, {lead}x ahead of {label(runner_up)} "
                    f"beyond both intervals by more than {BAND * 100:g} %") + \
                _library_note(results, best, runner_up, label)
    costs = [f"{quoted(best['client_cpu_load'])} cores of client CPU"]
    if not pd.isna(best["runner_pss_mb"]):
        costs.append(f"{mb(best['runner_pss_mb'])} MB for its runner")
    if not pd.isna(best["setup_s"]) and not is_baseline(best["runner"]):
        costs.append(f"{ms(best['setup_s'])} to start at C={best['concurrency']}")
    text += f"; {label(best)} at C={best['concurrency']} costs " + ", ".join(costs) + "."
    unfit = marks(best)
    if unfit:
        text += (f" Its row is marked {unfit}: rerun before deciding on it (the report's "
                 "summary says why).")
    return text


def _client(row: pd.Series) -> str:
    client = row.get("client")
    return client if isinstance(client, str) else ""


def _library_note(results: pd.DataFrame, best: pd.Series, runner_up: pd.Series,
                  label: Callable[[pd.Series], str]) -> str:
    """Where the winner and the runner-up use different client libraries, the lead is the
    model and the library together: say so, and compare the models that share a client."""
    mine, theirs = _client(best), _client(runner_up)
    if not mine or not theirs or mine == theirs:
        return ""
    note = (f" -- but with different HTTP clients ({mine} against {theirs}), so that lead is "
            "the model and the library together")
    same = results[[_client(row) == theirs for _, row in results.iterrows()]]
    same = same[~baseline_rows(same["runner"])]
    if len(same) >= 2:
        first, second = same.iloc[0], same.iloc[1]
        if separated(first, second):
            note += (f"; with one client ({theirs}), {label(first)} is "
                     f"{quoted(second['median_s'] / first['median_s'])}x ahead of "
                     f"{label(second)} beyond both intervals")
        else:
            note += (f"; with one client ({theirs}), {label(first)} and {label(second)} "
                     "tie within noise")
    return note


def workloads(matrix: pd.DataFrame, knobs: bool = True) -> Iterator[tuple[str, pd.DataFrame]]:
    """(heading, rows) per workload and size of the default-matrix rows, in run order."""
    for (workload, params, tasks, server), rows in matrix.groupby(GROUP, sort=False):
        where = f", {server} server" if server else ""
        what = f"; {params or 'default knobs'}" if knobs else ""
        yield f"**{workload}** ({tasks} tasks{where}{what})", rows


def decision_markdown(table: pd.DataFrame) -> list[str]:
    """The decision block: per workload and size, the models' best rows and a sentence."""
    matrix = table[table["claim"] == ""]
    if matrix.empty:
        return []
    several = matrix["interpreter"].nunique() > 1
    lines = ["## Which model?", "",
             "Per workload, each model at the concurrency where its median round was lowest. "
             "Median and speedup over sequential with their 95 % intervals; CPU in cores of "
             "client CPU per second; memory the runner added (PSS); the caller's p99 wait per "
             "task.  Marks: ⚠ noisy, ⌛ short of its precision, ⚡ disturbed, ✗ failed or "
             "meter error (full table and rules below).", ""]
    for heading, rows in workloads(matrix):
        lines += [heading, "",
                  "| model | C | median (95 % CI) | speedup (95 % CI) | CPU (cores) | "
                  "memory (MB) | wait p99 | failed |",
                  "|---|---|---|---|---|---|---|---|"]
        models = best_of_each_model(rows)
        for _, row in models.iterrows():
            mark = marks(row)
            lines.append(
                f"| {model_label(row, several)}{' ' + mark if mark else ''} | "
                f"{row['concurrency']} | {_interval_ms(row)} | {_speedup(row)} | "
                f"{quoted(row['client_cpu_load'])} | "
                f"{mb(row['runner_pss_mb'])} | {ms(row['wait_p99_s'])} | {_failed(row)} |")
        lines += ["", sentence(models, several), ""]
    return lines


ONE_CORE = 0.9  # client CPU at or above this many cores: the model is using one core fully
IDLE_CLIENT = 0.5  # under this many cores of client CPU: the client mostly waits


def _cores(rows: pd.DataFrame) -> int:
    known = rows["cores"].dropna()
    return int(known.iloc[0]) if len(known) else 1


def worker_processes(row: pd.Series) -> int:
    """The worker processes a row's runner ran besides the client's own: as the record says,
    else as the pool recorded, else as the runner declares for its C (runs from before
    either was recorded); 0 for a runner that runs in the client's process."""
    for column in ("worker_processes", "pool_workers"):
        value = row.get(column)
        if value is not None and not pd.isna(value):
            return int(value)
    known = RUNNERS.get(str(row["runner"]))
    return known.worker_processes(int(row["concurrency"])) if known is not None else 0


def _one_process(cpu: float) -> str:
    if cpu > ONE_CORE * 1.5:
        return ("one process on several cores (threads without the GIL, or subinterpreters): "
                "on K cores it can use up to min(C, K) of them")
    if cpu >= ONE_CORE:
        return ("one core, fully used, in one process: more cores will not make it faster; "
                "only a faster core or less work per task would")
    if cpu >= IDLE_CLIENT:
        return (f"one process, busy but not yet CPU-bound: its one core fills first (at most "
                f"about {quoted(1 / cpu)}x this rate of work at the same CPU per task), so "
                "more cores will not raise that")
    return ("the client mostly waits: more cores change little; the service it waits on "
            "and C decide")


def _several_processes(cpu: float, workers: int, cores: int) -> str:
    where = f"{workers} worker process{'es' if workers != 1 else ''} and the client's own"
    if cpu >= ONE_CORE * min(workers + 1, cores):
        return (f"{where}, every core here busy: on K cores its CPU-bound part can use up to "
                f"min({workers}, K) of them, less what start-up and the trips to workers cost "
                f"(measured here on {cores} cores only)")
    if cpu < IDLE_CLIENT:
        return f"{where}, mostly waiting: more cores change little; the service and C decide"
    return (f"{where}, with room left on the cores here: more cores help only once these are "
            f"full, and then up to min({workers}, K) of them")


def beyond_lines(models: pd.DataFrame, cores: int, with_interpreter: bool = False) -> list[str]:
    """What this run's own numbers say about more cores, model by model: no figure for a
    machine that was not measured, only what these rows bound.  Every model with a CPU
    reading gets a line; a runner with worker processes is read as several processes."""
    lines = []
    for _, row in models[~models["failed_scenario"] & ~baseline_rows(models["runner"])
                         ].iterrows():
        cpu = row["client_cpu_load"]
        if pd.isna(cpu):
            continue
        workers = worker_processes(row)
        said = _one_process(cpu) if workers == 0 else _several_processes(cpu, workers, cores)
        bound = row.get("speedup_bound")
        reach = "" if workers == 0 or pd.isna(row["speedup"]) or pd.isna(bound) else (
            f", {quoted(row['speedup'])}x of an ideal {quoted(bound)}x here")
        lines.append(f"- {model_label(row, with_interpreter)}: {quoted(cpu)} cores of client "
                     f"CPU at C={row['concurrency']}{reach} -- {said}.")
    return lines


def beyond_markdown(table: pd.DataFrame) -> list[str]:
    """## Beyond this machine: per workload, what more (or fewer) cores would change."""
    matrix = table[table["claim"] == ""]
    if matrix.empty:
        return []
    lines = ["## Beyond this machine", "",
             f"Measured on {_cores(matrix)} cores.  What each model's own numbers here say "
             f"about a machine with K cores, read from its client CPU (its worker processes "
             f"included) and how many processes it ran: in one process, at or above "
             f"{ONE_CORE} cores it is bound to one core, under {IDLE_CLIENT} it mostly waits, "
             f"between the two its one core fills first; with worker processes, up to "
             f"min(workers, K) cores once those here are full.  Figures for other machines "
             "are not measured here: run the suite there.", ""]
    for heading, rows in workloads(matrix, knobs=False):
        found = beyond_lines(best_of_each_model(rows), _cores(rows),
                             matrix["interpreter"].nunique() > 1)
        if found:
            lines += [heading, "", *found, ""]
    return lines if len(lines) > 6 else []
