"""Claim 12: subinterpreters scale CPU work like processes, with cheaper start-up and less
memory per worker.  Decided per interpreter from the cpu rows of an interpreters run."""

from __future__ import annotations

import math

import pandas as pd

from bench.claims.kit import (
    INCONCLUSIVE,
    MISSING,
    Axes,
    Effect,
    Row,
    Table,
    all_of,
    decide,
    matrix_rows,
    ms,
    one,
    ratio,
    sample_ratio,
    samples,
    top_row,
    undecided,
)
from bench.claims.panels import speedups_by_interpreter
from bench.claims.registry import (
    MATRIX_RUN,
    Verdict,
    register_claim,
)

KEY = "c12_subinterpreters"
CHEAPER = 1.0  # "cheaper" / "less": the processes' cost over theirs wholly above 1
LIKE_PROCESSES = 0.8  # "scale like processes": wholly above 80 % of the processes' speedup


def _per_worker_mb(row: Row, base: Row | None) -> float:
    """Memory each worker adds: the PSS the runner added, per worker (runs from before that
    was recorded: PSS above the sequential run's, which depends on what ran before)."""
    added = row.get("runner_pss_mb")
    if added is not None and not pd.isna(added):
        return float(added) / float(row["concurrency"])
    if base is None:
        return math.nan
    return (float(row["pss_mb"]) - float(base["pss_mb"])) / float(row["concurrency"])


def _cheaper(effect: Effect, what: str) -> str:
    """Which model the interval says is cheaper, in words that follow its direction."""
    if effect.above is True:
        return f"interpreters take less {what}"
    if effect.above is False:
        return f"processes take less {what}"
    return "undecided"


def panel(ax: Axes, rows: Table) -> None:
    speedups_by_interpreter(ax, rows, ("interpreters", "processes"))


@register_claim(
    KEY,
    "Subinterpreters scale CPU work like processes, with cheaper start-up and less memory"
    " per worker.",
    panel, runs=frozenset({MATRIX_RUN}))
def check(table: Table) -> Verdict:
    """The core, per interpreter: the subinterpreters' speedup over the processes' (the
    processes' round over theirs) wholly above LIKE_PROCESSES.  The additions: cheaper
    pool start-up and less memory per worker (the processes' over theirs wholly above
    CHEAPER, from opens timed before timing, with the bootstrap interval).  Core fails
    anywhere: does not hold; an addition fails: holds with limits; undecided: inconclusive."""
    cpu = matrix_rows(table, "cpu")
    parts, cores, extras, effects = [], [], [], []
    for interpreter, rows in cpu.groupby("interpreter", sort=False):
        sub_row, proc_row = top_row(rows, "interpreters"), top_row(rows, "processes")
        if sub_row is None or proc_row is None:
            continue
        seq = one(rows, runner="sequential")
        scales = ratio(f"{interpreter}: interpreters' speedup / processes'", proc_row,
                       sub_row, LIKE_PROCESSES)
        effects.append(scales)
        cores.append(scales.above)
        start = sample_ratio(f"{interpreter}: processes' / interpreters' pool start-up",
                             samples(proc_row, "setup_samples"),
                             samples(sub_row, "setup_samples"), CHEAPER, (sub_row, proc_row),
                             method="opens timed before timing")
        level = float(sub_row["concurrency"])
        memory = sample_ratio(f"{interpreter}: processes' / interpreters' memory per worker",
                              [v / level for v in samples(proc_row, "open_pss_samples")],
                              [v / level for v in samples(sub_row, "open_pss_samples")],
                              CHEAPER, (sub_row, proc_row), method="PSS each open added")
        effects += [start, memory]
        extras += [start.above, memory.above]
        sub_mb, proc_mb = _per_worker_mb(sub_row, seq), _per_worker_mb(proc_row, seq)
        # Each figure is named with its model, in the order of the ratio's label (the
        # label is processes' over interpreters': above 1, the interpreters are cheaper).
        parts.append(f"{scales.text()}; {start.text()} (processes "
                     f"{ms(float(proc_row['setup_s']))}, interpreters "
                     f"{ms(float(sub_row['setup_s']))}: {_cheaper(start, 'start')}); "
                     f"{memory.text()} (processes {proc_mb:.3g} MB, interpreters "
                     f"{sub_mb:.3g} MB per worker at the end of the rounds: "
                     f"{_cheaper(memory, 'memory')})")
    if not cores:
        return Verdict(KEY, MISSING, "needs interpreters and processes on the cpu workload "
                       "(Python 3.12+ with interpreters-pep-734, or 3.14)")
    verdict = decide(all_of(cores), extras)
    details = undecided(effects, "more rounds of the cpu rows on a quieter machine") \
        if verdict == INCONCLUSIVE else ""
    return Verdict(KEY, verdict, "; ".join(parts) + f" ('like processes' = at least "
                   f"{LIKE_PROCESSES:.0%} of their speedup)", details)
