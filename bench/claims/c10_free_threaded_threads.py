"""Claim 10: on a free-threaded build, threads speed up pure-Python CPU work about as much
as processes do; on a GIL build they do not.  Decided per interpreter from the cpu rows of
an interpreters run (`make interpreters`)."""

from __future__ import annotations

from bench.claims.kit import (
    INCONCLUSIVE,
    MISSING,
    Axes,
    Effect,
    Table,
    all_of,
    decide,
    matrix_rows,
    ratio,
    speedup_of,
    top_row,
    undecided,
)
from bench.claims.panels import speedups_by_interpreter
from bench.claims.registry import (
    MATRIX_RUN,
    Verdict,
    register_claim,
)

KEY = "c10_free_threaded_threads"
ABOUT_AS_MUCH = 0.8  # threads' speedup over the processes' wholly above 0.8
NO_GAIN = 1.10  # on a GIL build, "no speed-up": the threads' speedup wholly under 1.10x


def _gil_off(rows: Table) -> bool:
    return bool(rows["free_threaded_build"].all() and not rows["gil_enabled"].any())


def panel(ax: Axes, rows: Table) -> None:
    speedups_by_interpreter(ax, rows, ("threads", "processes"))


@register_claim(
    KEY,
    "On a free-threaded build, threads speed up pure-Python CPU work about as much as "
    "processes do (on a GIL build they do not).",
    panel, runs=frozenset({MATRIX_RUN}))
def check(table: Table) -> Verdict:
    """The core: on every free-threaded build with the GIL off, threads' speedup over the
    processes' (the processes' round over the threads') wholly above ABOUT_AS_MUCH.  The
    addition: on every GIL build, the threads' speedup over sequential wholly under
    NO_GAIN.  Core fails: does not hold; addition fails: holds with limits."""
    cpu = matrix_rows(table, "cpu")
    parts, free_parts, gil_parts, effects = [], [], [], []
    for interpreter, rows in cpu.groupby("interpreter", sort=False):
        threads, processes = top_row(rows, "threads"), top_row(rows, "processes")
        if threads is None or processes is None:
            continue
        effect: Effect | None
        if _gil_off(rows):
            effect = ratio(f"{interpreter} (GIL off): threads' speedup / processes'",
                           processes, threads, ABOUT_AS_MUCH)
            free_parts.append(effect.above)
        else:
            effect = speedup_of(rows, "threads", NO_GAIN,
                                f"{interpreter} (GIL on): threads' speedup")
            if effect is None:
                continue
            gil_parts.append(effect.below)
        effects.append(effect)
        parts.append(effect.text())
    if not free_parts:
        return Verdict(KEY, MISSING, "needs a free-threaded build with the GIL off in the "
                       "run, beside threads and processes on the cpu workload")
    verdict = decide(all_of(free_parts), [all_of(gil_parts)] if gil_parts else [])
    details = undecided(effects, "more rounds of the cpu rows on a quieter machine") \
        if verdict == INCONCLUSIVE else ""
    return Verdict(KEY, verdict, "; ".join(parts) + f" ('about as much' = at least "
                   f"{ABOUT_AS_MUCH:.0%} of the processes' speedup; 'no gain' = under "
                   f"{NO_GAIN:.3g}x)", details)
