"""Claim 2: with gather(return_exceptions=True) one failed request neither cancels nor
loses the others.  Measured by the FailureIsolation experiment (bench/experiments.py),
which the claims suite runs once per mode."""

from __future__ import annotations

from dataclasses import dataclass

from bench.claims.kit import (
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    MISSING,
    Axes,
    Table,
    claim_rows,
)
from bench.claims.registry import (
    Verdict,
    register_claim,
)

KEY = "c2_failure_isolation"
BUCKETS = ("delivered_ok", "delivered_failed", "finished_unseen", "failed_unseen", "cancelled")
BUCKET_COLOURS = ("#2ca02c", "#d62728", "#bcbd22", "#8c564b", "#7f7f7f")


@dataclass(frozen=True)
class Sizes:
    """What this claim's scenarios measure; `QUICK` keeps the shape and drops the cost."""

    isolation_tasks: int = 10
    isolation_delay_ms: int = 300


FULL = Sizes()
QUICK = Sizes(isolation_tasks=4, isolation_delay_ms=50)


def panel(ax: Axes, rows: Table) -> None:
    positions = list(range(len(rows)))
    left = [0.0] * len(rows)
    for kind, colour in zip(BUCKETS, BUCKET_COLOURS, strict=True):
        counts = [float(row["extra"].get("buckets", {}).get(kind, 0))
                  for _, row in rows.iterrows()]
        ax.barh(positions, counts, left=left, color=colour, label=kind.replace("_", " "))
        left = [a + b for a, b in zip(left, counts, strict=True)]
    ax.set_yticks(positions, [m.replace("_", "\n") for m in rows["runner"]], fontsize=7)
    ax.set_xlabel("tasks")


@register_claim(
    KEY,
    "With gather(return_exceptions=True) one failed request neither cancels nor loses the"
    " others.",
    panel, sizes=FULL, quick=QUICK)
def check(table: Table) -> Verdict:
    """Counts, not timings: every request ends in one bucket.  Holds if the caller gets
    all N back, N-1 ok and the one injected failure; does not hold if any request was
    cancelled or lost to the caller; inconclusive if more than the injected request failed
    (the server or the network failed too, so isolation was not what was tested)."""
    rows = claim_rows(table, KEY)
    modes = {row["runner"]: row["extra"].get("buckets", {}) for _, row in rows.iterrows()}
    if "gather_return_exceptions" not in modes:
        return Verdict(KEY, MISSING, "")
    tasks = int(rows["tasks"].iloc[0])

    def describe(buckets: dict[str, int]) -> str:
        return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(buckets.items()))

    chosen = modes["gather_return_exceptions"]
    isolated = chosen.get("delivered_ok", 0) == tasks - 1 and chosen.get(
        "delivered_failed", 0) == 1
    evidence = (f"{tasks} requests, one failing; gather(return_exceptions=True): "
                f"{describe(chosen)} (holds only if all {tasks} are delivered, "
                f"{tasks - 1} ok and 1 failed)")
    details = "; ".join(f"{mode}: {describe(b)}" for mode, b in modes.items()
                        if mode != "gather_return_exceptions")
    lost = chosen.get("cancelled", 0) + chosen.get("finished_unseen", 0) + chosen.get(
        "failed_unseen", 0)
    if not isolated and not lost and chosen.get("delivered_failed", 0) > 1:
        return Verdict(KEY, INCONCLUSIVE, evidence, "undecided: requests other than the "
                       "injected one failed, so the round tested the server, not isolation. "
                       f"To settle: rerun with a server that answers every good request; {details}")
    return Verdict(KEY, HOLDS if isolated else FAILS, evidence, details)
