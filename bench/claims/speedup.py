"""What claims 5 and 6 share: speedup over sequential on 2 workers, and its panel."""

from __future__ import annotations

import math

from bench.claims.kit import Axes, Effect, Table, colour, missing, one, speedup
from bench.claims.panels import bars, interval_errors

CORE_SCALING = 0.75  # "scales with cores": speedup >= 75 % of min(C, cores)


def usable(rows: Table, runner: str) -> float:
    """min(C, cores) of `runner`'s row: the speedup running side by side can give."""
    mine = one(rows, runner=runner)
    if mine is None:
        return math.nan
    cores = 1.0 if missing(mine.get("cores")) else float(mine["cores"])
    return min(float(mine["concurrency"]), cores)


def speedup_check(rows: Table, runner: str, line: float) -> Effect | None:
    """`runner`'s speedup over sequential against `line`; None if either is missing."""
    seq, mine = one(rows, runner="sequential"), one(rows, runner=runner)
    if seq is None or mine is None:
        return None
    return speedup(mine, seq, line, f"{runner} speedup over sequential")


def speedup_panel(ax: Axes, rows: Table) -> None:
    seq = one(rows, runner="sequential")
    found = [speedup(row, seq, 1.0) if seq is not None else None for _, row in rows.iterrows()]
    effects = [effect for effect in found if effect is not None]
    if len(effects) == len(rows):
        bars(ax, list(rows["runner"]), [e.value for e in effects],
             [colour(r) for r in rows["runner"]], interval_errors(effects))
    else:
        bars(ax, list(rows["runner"]), list(rows["speedup"]), [colour(r) for r in rows["runner"]])
    ax.axhline(1.0, color="black", linestyle="--", linewidth=1, label="sequential")
    ax.set_ylabel("speedup over sequential (x, 95 % interval)")
