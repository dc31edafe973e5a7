"""The top of a report: per workload, which model to choose, and what it costs.

One short table per workload and size (one row per model at its best measured
concurrency) and one computed sentence.  The sentence names a winner only where the
winner's 95 % interval of the median lies wholly below every other model's; otherwise it
says which models tie within noise.  It names the winner's costs (client CPU, the memory
its runner added, its start-up), and says so when the winner's row is not fit to cite.
Rows of every interpreter of a run compete in one table, so a model on one Python can be
seen to beat another model on another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pandas as pd

from bench.claims.kit import baseline_rows, is_baseline
from scripts.results import sig3 as table_sig3


def sig3(value: float) -> str:
    return table_sig3(value, strict=True)


GROUP = ["workload", "params", "tasks", "server"]
MODEL = ["interpreter", "runner", "start_method", "client", "pinned"]


def model_label(row: pd.Series, with_interpreter: bool) -> str:
    method = f" ({row['start_method']})" if isinstance(row["start_method"], str) else ""
    client = f" + {row['client']}" if row.get("client") else ""
    python = f" on {row['interpreter']}" if with_interpreter else ""
    pinned = row.get("pinned")
    cores = f" on {int(pinned)} core{'s' if pinned != 1 else ''}" if pinned else ""
    return f"{row['runner']}{method}{client}{python}{cores}"


def marks(row: pd.Series) -> str:
    """The marks that make a row unfit to decide on (the full table explains them)."""
    found = []
    if row["failed_scenario"]:
        found.append("✗ FAILED")
    elif not row["citable"]:
        found.append("⚠")
    if not row["precise"]:
        found.append("⌛")
    if row["disturbed"]:
        found.append("⚡")
    if row["meter_error"]:
        found.append("✗ meter")
    return " ".join(found)


def best_of_each_model(rows: pd.DataFrame) -> pd.DataFrame:
    """Each model's row at the concurrency where its median round was lowest."""
    present = [key for key in MODEL if key in rows]  # tables from before --cores: no pinned
    keys = ["|".join("" if pd.isna(value) else str(value) for value in values)
            for values in rows[present].itertuples(index=False)]
    keyed = rows.assign(_model=keys)
    best = keyed.loc[keyed.groupby("_model", sort=False)["median_s"].idxmin()]
    return best.drop(columns=["_model"]).sort_values("median_s")


def _ms(seconds: float) -> str:
    return "-" if pd.isna(seconds) else f"{sig3(seconds * 1000)} ms"


def _mb(value: float) -> str:
    """Memory the runner added; under 0.1 MB is below what PSS can tell apart."""
    if pd.isna(value):
        return "-"
    return "< 0.1" if value < 0.1 else sig3(value)


def _interval_ms(row: pd.Series) -> str:
    if pd.isna(row["ci_low_s"]) or pd.isna(row["ci_high_s"]):
        return f"{_ms(row['median_s'])} (no interval)"
    return (f"{_ms(row['median_s'])} ({sig3(row['ci_low_s'] * 1000)}-"
            f"{sig3(row['ci_high_s'] * 1000)})")


def _speedup(row: pd.Series) -> str:
    if pd.isna(row["speedup"]):
        return "-"
    if pd.isna(row["speedup_low"]) or pd.isna(row["speedup_high"]):
        return f"{sig3(row['speedup'])}x"
    return (f"{sig3(row['speedup'])}x ({sig3(row['speedup_low'])}-"
            f"{sig3(row['speedup_high'])})")


def _failed(row: pd.Series) -> str:
    if not row["tasks_run"]:
        return "-"
    return "0" if not row["failed"] else f"{row['failed']}/{row['tasks_run']}"


def separated(best: pd.Series, other: pd.Series) -> bool:
    """`best`'s interval of the median lies wholly below `other`'s."""
    return bool(best["ci_high_s"] < other["ci_low_s"])


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
                    f"interval overlaps that of {names}, so the data cannot order them")
        else:
            runner_up = results.iloc[1]
            lead = sig3(runner_up["median_s"] / best["median_s"])
            text = (f"**{label(best)}** is fastest, {lead}x ahead of {label(runner_up)} "
                    "beyond both intervals") + _library_note(results, best, runner_up, label)
    costs = [f"{sig3(best['client_cpu_load'])} cores of client CPU"]
    if not pd.isna(best["runner_pss_mb"]):
        costs.append(f"{_mb(best['runner_pss_mb'])} MB for its runner")
    if not pd.isna(best["setup_s"]) and not is_baseline(best["runner"]):
        costs.append(f"{_ms(best['setup_s'])} to start at C={best['concurrency']}")
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
                     f"{sig3(second['median_s'] / first['median_s'])}x ahead of "
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
                f"{sig3(row['client_cpu_load'])} | "
                f"{_mb(row['runner_pss_mb'])} | {_ms(row['wait_p99_s'])} | {_failed(row)} |")
        lines += ["", sentence(models, several), ""]
    return lines


ONE_CORE = 0.9  # client CPU at or above this many cores: the model is using one core fully
IDLE_CLIENT = 0.5  # under this many cores of client CPU: the client mostly waits


def _cores(rows: pd.DataFrame) -> int:
    known = rows["cores"].dropna()
    return int(known.iloc[0]) if len(known) else 1


def beyond_lines(models: pd.DataFrame, cores: int, with_interpreter: bool = False) -> list[str]:
    """What this run's own numbers say about more cores, model by model: no figure for a
    machine that was not measured, only what these rows bound."""
    lines = []
    for _, row in models[~models["failed_scenario"] & ~baseline_rows(models["runner"])
                         ].iterrows():
        name = model_label(row, with_interpreter)
        cpu = row["client_cpu_load"]
        if pd.isna(cpu):
            continue
        workers_spread = cpu > ONE_CORE * 1.5
        if cpu >= ONE_CORE and not workers_spread:
            lines.append(f"- {name}: {sig3(cpu)} cores of client CPU at C={row['concurrency']}"
                         " -- one core, fully used, in one process: more cores will not make "
                         "it faster; only a faster core or less work per task would.")
        elif workers_spread:
            bound = row.get("speedup_bound")
            reach = "" if pd.isna(row["speedup"]) or pd.isna(bound) else (
                f", {sig3(row['speedup'])}x of an ideal {sig3(bound)}x here")
            lines.append(f"- {name}: {sig3(cpu)} cores of client CPU at C={row['concurrency']}"
                         f"{reach} -- it spreads over cores: on K cores its CPU-bound part can "
                         f"use up to min(C, K) of them, less what start-up and the trips to "
                         f"workers cost (measured here on {cores} cores only).")
        elif cpu < IDLE_CLIENT:
            lines.append(f"- {name}: {sig3(cpu)} cores of client CPU at C={row['concurrency']}"
                         " -- the client mostly waits: more cores change little; the service "
                         "it waits on and C decide.")
    return lines


def beyond_markdown(table: pd.DataFrame) -> list[str]:
    """## Beyond this machine: per workload, what more (or fewer) cores would change."""
    matrix = table[table["claim"] == ""]
    if matrix.empty:
        return []
    lines = ["## Beyond this machine", "",
             f"Measured on {_cores(matrix)} cores.  What each model's own numbers here say "
             f"about a machine with K cores (client CPU at or above {ONE_CORE} cores in one "
             f"process: bound to one core; spread over cores (processes, or threads without the "
             f"GIL): up to min(C, K) of them; "
             f"under {IDLE_CLIENT}: waiting).  Figures for other machines are not measured "
             "here: run the suite there.", ""]
    for heading, rows in workloads(matrix, knobs=False):
        found = beyond_lines(best_of_each_model(rows), _cores(rows),
                             matrix["interpreter"].nunique() > 1)
        if found:
            lines += [heading, "", *found, ""]
    return lines if len(lines) > 6 else []
