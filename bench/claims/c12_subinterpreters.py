"""Claim 12: subinterpreters scale CPU work like processes, with cheaper start-up and less
memory per worker.  Decided per interpreter from the cpu rows of an interpreters run."""

from __future__ import annotations

import math

import pandas as pd

from bench.claims.kit import (
    FAILS,
    HOLDS,
    LIMITS,
    MISSING,
    Axes,
    Claim,
    Row,
    Table,
    Verdict,
    matrix_rows,
    ms,
    one,
    p_text,
    significant,
    speedup_of,
    speedups_by_interpreter,
)

KEY = "c12_subinterpreters"
LIKE_PROCESSES = 0.8  # "scale like processes": at least 80 % of the processes' speedup


def _per_worker_mb(row: Row, base: Row | None) -> float:
    """Memory each worker adds: the PSS the runner added, per worker (runs from before that
    was recorded: PSS above the sequential run's, which depends on what ran before)."""
    added = row.get("runner_pss_mb")
    if added is not None and not pd.isna(added):
        return float(added) / float(row["concurrency"])
    if base is None:
        return math.nan
    return (float(row["pss_mb"]) - float(base["pss_mb"])) / float(row["concurrency"])


def check(table: Table) -> Verdict:
    cpu = matrix_rows(table, "cpu")
    parts, verdicts = [], []
    for interpreter, rows in cpu.groupby("interpreter", sort=False):
        subs, p, sub_row = speedup_of(rows, "interpreters")
        procs, _, proc_row = speedup_of(rows, "processes")
        if sub_row is None or proc_row is None:
            continue
        seq = one(rows, runner="sequential")
        scales = significant(p) and subs >= LIKE_PROCESSES * procs
        cheaper_start = float(sub_row["setup_s"]) < float(proc_row["setup_s"])
        sub_mb, proc_mb = _per_worker_mb(sub_row, seq), _per_worker_mb(proc_row, seq)
        cheaper_memory = sub_mb < proc_mb
        # Scaling is the claim's core; cheaper start-up and memory are what it adds.
        verdicts.append(FAILS if not scales else
                        HOLDS if cheaper_start and cheaper_memory else LIMITS)
        parts.append(f"{interpreter}: interpreters {subs:.2f}x vs processes {procs:.2f}x "
                     f"({p_text(p, 'interpreters faster than sequential')}; 'like "
                     f"processes' = at least {LIKE_PROCESSES:.0%}); pool start-up "
                     f"{ms(float(sub_row['setup_s']))} vs {ms(float(proc_row['setup_s']))}; "
                     f"memory per worker {sub_mb:.1f} vs {proc_mb:.1f} MB (PSS)")
    if not verdicts:
        return Verdict(CLAIM, MISSING, "needs interpreters and processes on the cpu workload "
                       "(Python 3.12+ with interpreters-pep-734, or 3.14)")
    verdict = HOLDS if all(v == HOLDS for v in verdicts) else \
        FAILS if all(v == FAILS for v in verdicts) else LIMITS
    return Verdict(CLAIM, verdict, "; ".join(parts))


def panel(ax: Axes, rows: Table) -> None:
    speedups_by_interpreter(ax, rows, ("interpreters", "processes"))


CLAIM = Claim(KEY, "Subinterpreters scale CPU work like processes, with cheaper start-up and "
              "less memory per worker.", check, panel, matrix=True)
