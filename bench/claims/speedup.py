"""What claims 5 and 6 share: speedup over sequential on 2 workers, and its panel."""

from __future__ import annotations

import math

from bench.claims.kit import Axes, Table, bars, colour, faster, missing, one

CORE_SCALING = 0.75  # "scales with cores": speedup >= 75 % of min(C, cores)


def speedup_check(rows: Table, runner: str) -> tuple[float, float, float]:
    """(speedup over sequential, p-value that it is faster, min(C, cores))."""
    seq, mine = one(rows, runner="sequential"), one(rows, runner=runner)
    if seq is None or mine is None:
        return math.nan, math.nan, math.nan
    cores = 1.0 if missing(mine.get("cores")) else float(mine["cores"])
    return (float(seq["median_s"]) / float(mine["median_s"]),
            faster(mine["rounds_data"], seq["rounds_data"]),
            min(float(mine["concurrency"]), cores))


def speedup_panel(ax: Axes, rows: Table) -> None:
    bars(ax, list(rows["runner"]), list(rows["speedup"]), [colour(r) for r in rows["runner"]])
    ax.axhline(1.0, color="black", linestyle="--", linewidth=1, label="sequential")
    ax.set_ylabel("speedup over sequential (x)")
