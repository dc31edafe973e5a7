"""The interpreters of a run side by side, and what each build costs one thread.
"""

from __future__ import annotations

import pandas as pd

from bench.claims.c11_free_threaded_cost import differences
from bench.claims.kit import (
    baseline_rows,
    ratio_term,
)
from bench.report.formats import quoted
from bench.report.load import Run, label_runs
from bench.report.table import speedup_interval
from bench.runinfo import PythonBuild


def _build_cells(build: PythonBuild) -> str:
    """How a build was made, as its own configuration says: who built it, PGO/LTO, JIT,
    optimisation level, frame pointers, debug, compiler and C library."""
    if not build.origin:  # a run from before these were recorded
        return f"not recorded | not recorded | {build.compiler or '?'}"
    optimisation = " ".join(part for part in (
        build.optimisation, "frame pointers" if build.frame_pointers else "",
        "debug" if build.debug else "") if part)
    pgo = "yes" if build.pgo == "yes" else "?"
    lto = "yes" if build.lto == "yes" else "?"
    return (f"{build.origin} | PGO {pgo}, LTO {lto}, JIT built: {build.jit_built}, "
            f"{optimisation or '?'} | {build.compiler or '?'}, {build.libc or '?'}")


def _against(label: str, row: pd.Series, labels: list[str], table: pd.DataFrame) -> str:
    """The column each build's single-thread cost is read against: a column of the same
    binary without its settings; for a free-threaded build, the GIL build of the same
    version and origin; else the first column."""
    first = labels[0]
    mine = table[table["interpreter"] == label].iloc[0]
    if mine["settings"]:
        same = [other for other in labels if other != label and
                (table[table["interpreter"] == other]["binary"] == mine["binary"]).any() and
                not (table[table["interpreter"] == other]["settings"] != "").any()]
        if same:
            return same[0]
    if mine["free_threaded_build"] and not mine["settings"]:
        version = str(mine["binary"]).split(" ")[0].rstrip("t")
        for other in labels:
            theirs = table[table["interpreter"] == other].iloc[0]
            if (not theirs["free_threaded_build"] and not theirs["settings"]
                    and str(theirs["binary"]).split(" ")[0] == version
                    and theirs["origin"] == mine["origin"]):
                return other
    return first


def _cost_lines(table: pd.DataFrame) -> list[str]:
    """Single-thread cost: each column's sequential median against the column it is read
    against, with the ratio's interval and what else the two differ in."""
    lines: list[str] = []
    lines += ["", "Single-thread cost of each build: its sequential median over the median of "
              "the column named, same workload and size (above 1 = slower), with the 95 % "
              "interval of the ratio (bench.stats: passes and rounds resampled, plus what a "
              "rerun moves: a speedup's term where the columns took turns in one session "
              "(make interpreters INTERLEAVE=P), both medians' terms otherwise).  A column with "
              "settings is read against the same binary without them; a free-threaded build "
              "against the GIL build of the same version and origin where the run has one; "
              "any other against the first column.  'differs in' lists everything the runs "
              "recorded that is not the same between the two: a ratio across more than one of "
              "these "
              "cannot be put down to any one of them.", ""]
    sequential = table[baseline_rows(table["runner"]) & (table["claim"] == "")
                       & ~table["failed_scenario"]]
    order = list(dict.fromkeys(table["interpreter"]))  # by version, build, settings
    groups = list(sequential.groupby(["workload", "params", "tasks"], sort=False))
    lines += ["| interpreter | against | differs in | " + " | ".join(
        f"{workload} ({tasks} tasks; {params})" for (workload, params, tasks), _ in groups)
        + " |", "|---|---|---|" + "---|" * len(groups)]
    present = [label for label in order if (sequential["interpreter"] == label).any()]
    for label in present[1:]:
        against = _against(label, sequential[sequential["interpreter"] == label].iloc[0],
                           present, sequential)
        differs = differences(
            sequential[sequential["interpreter"] == against].iloc[0].to_dict(),
            sequential[sequential["interpreter"] == label].iloc[0].to_dict())
        cells = [", ".join(differs) or "nothing recorded"]
        for _, rows in groups:
            mine = rows[rows["interpreter"] == label]
            base = rows[rows["interpreter"] == against]
            if mine.empty or base.empty:
                cells.append("-")
                continue
            ratio = float(mine["median_s"].iloc[0]) / float(base["median_s"].iloc[0])
            found = speedup_interval(mine["rounds_by_pass"].iloc[0],
                                     base["rounds_by_pass"].iloc[0],
                                     ratio_term(mine.iloc[0], base.iloc[0]))
            interval = "" if not found.known else f" ({quoted(found.low)}-{quoted(found.high)})"
            cells.append(f"{quoted(ratio)}{interval}")
        lines.append(f"| {label} | {against} | " + " | ".join(cells) + " |")
    return lines


def interpreters_markdown(runs: list[Run], table: pd.DataFrame) -> str:
    """The interpreters of a run side by side, and what each build costs one thread."""
    labels = label_runs(runs)
    lines = ["## Interpreters", "", "![interpreters](interpreters.png)", "",
             "How each build was made is read from its own configuration: a packager may "
             "pass PGO and LTO to make rather than to configure (Debian does), so '?' means "
             "not in the build's configuration, not absent.", "",
             "| interpreter | version | built by | PGO, LTO, JIT, optimisation | compiler, C "
             "library | free-threaded build | GIL at run time | settings | JIT at run time | "
             "default start method | server ran on |", "|---" * 11 + "|"]
    placed = {label: index for index, label in enumerate(dict.fromkeys(table["interpreter"]))}
    for run in sorted(runs, key=lambda run: placed.get(labels[str(run.path)], len(placed))):
        build = run.info.python_build
        lines.append(f"| {labels[str(run.path)]} | {build.python or '?'} "
                     f"({build.implementation or '?'}) | {_build_cells(build)} | "
                     f"{'yes' if build.free_threaded_build else 'no'} | "
                     f"{'enabled' if build.gil_enabled else 'disabled'} | "
                     f"{run.settings or build.python_gil_env or 'none'} | "
                     f"{build.jit or '?'} | {build.default_start_method or '?'} | "
                     f"{run.info.server_python or 'no server (no HTTP workload)'} |")
    executors = sorted({f"{row['interpreter']}: {row['runner_details']['executor']}"
                        for _, row in table.iterrows() if isinstance(row["runner_details"], dict)
                        and row["runner_details"].get("executor")})
    if executors:
        lines += ["", "Subinterpreters ran on: " + "; ".join(executors) + "."]
    lines += _cost_lines(table)
    return "\n".join([*lines, "", ""])
