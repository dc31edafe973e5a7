"""Claim 10: on a free-threaded build, threads speed up pure-Python CPU work about as much
as processes do; on a GIL build they do not.  Decided per interpreter from the cpu rows of
an interpreters run (`make interpreters`)."""

from __future__ import annotations

from bench.claims.kit import (
    FAILS,
    HOLDS,
    LIMITS,
    MISSING,
    Axes,
    Claim,
    Table,
    Verdict,
    matrix_rows,
    p_text,
    significant,
    speedup_of,
    speedups_by_interpreter,
)

KEY = "c10_free_threaded_threads"
ABOUT_AS_MUCH = 0.8  # threads reach at least 80 % of the processes' speedup
NO_GAIN = 1.10  # on a GIL build, "no speed-up": under 1.10x or not significantly faster


def _gil_off(rows: Table) -> bool:
    return bool(rows["free_threaded_build"].all() and not rows["gil_enabled"].any())


def check(table: Table) -> Verdict:
    cpu = matrix_rows(table, "cpu")
    parts, free_ok, gil_ok, seen_free = [], True, True, False
    for interpreter, rows in cpu.groupby("interpreter", sort=False):
        threads, p, _ = speedup_of(rows, "threads")
        processes, _, _ = speedup_of(rows, "processes")
        if threads != threads or processes != processes:  # nan: not both measured here
            continue
        tested = p_text(p, "threads faster than sequential")
        if _gil_off(rows):
            seen_free = True
            ok = significant(p) and threads >= ABOUT_AS_MUCH * processes
            free_ok &= ok
            parts.append(f"{interpreter} (GIL off): threads {threads:.2f}x vs processes "
                         f"{processes:.2f}x ({tested}; 'about as much' = at least "
                         f"{ABOUT_AS_MUCH:.0%} of processes)")
        else:
            ok = not significant(p) or threads < NO_GAIN
            gil_ok &= ok
            parts.append(f"{interpreter} (GIL on): threads {threads:.2f}x, processes "
                         f"{processes:.2f}x ({tested}; 'no gain' = under {NO_GAIN:.2f}x)")
    if not seen_free:
        return Verdict(CLAIM, MISSING, "needs a free-threaded build with the GIL off in the "
                       "run, beside threads and processes on the cpu workload")
    verdict = HOLDS if free_ok and gil_ok else LIMITS if free_ok else FAILS
    return Verdict(CLAIM, verdict, "; ".join(parts))


def panel(ax: Axes, rows: Table) -> None:
    speedups_by_interpreter(ax, rows, ("threads", "processes"))


CLAIM = Claim(KEY, "On a free-threaded build, threads speed up pure-Python CPU work about as "
              "much as processes do (on a GIL build they do not).", check, panel, matrix=True)
