"""The claims section of a report: each registered claim's verdict, and the set-up table.

The verdicts themselves are computed by the claim modules (`bench.claims`), each with
its thresholds beside its check; this module only lays them out.  Nothing here is
typed in by hand.
"""

from __future__ import annotations

import pandas as pd

from bench.claims import INCONCLUSIVE, Verdict, verdicts
from bench.claims.kit import (
    claim_rows,
    fmt,
    unfit,
)

__all__ = ["claims_markdown", "number", "setup_costs_markdown", "verdicts"]


def setup_costs_markdown(table: pd.DataFrame) -> str:
    """Claim 9's in-process cold rounds per runner and size: set-up and teardown inside the
    timed region, and what they cost (medians over the cold rounds)."""
    rows = claim_rows(table, "c9_cold")
    rows = rows[rows["timed_setup"] & (rows["workload"] != "script")]
    if rows.empty:
        return ""
    lines = ["### Set-up, run and teardown", "",
             "HTTP calls of the claims run's in-process cold scenarios, C = calls.  Cold "
             "rounds build and tear down the loop, session or pool inside the timed region; "
             "set-up and teardown are medians over the cold rounds; the rest of the round is "
             "the calls.", "",
             "| runner | calls | cold round | set-up | teardown | rows fit to cite |",
             "|---|---|---|---|---|---|"]
    for _, row in rows.iterrows():
        method = row["start_method"] if isinstance(row["start_method"], str) else ""
        label = f"{row['runner']} ({method})" if method else str(row["runner"])
        fit = unfit(row)
        lines.append(f"| {label} | {row['tasks']} | {fmt(float(row['median_s']), 's')} | "
                     f"{fmt(float(row['setup_s']), 's')} | {fmt(float(row['teardown_s']), 's')} "
                     f"| {'yes' if fit is None else fit.split(': ', 1)[1]} |")
    return "\n".join([*lines, ""])


def number(verdict: Verdict) -> int:
    """A claim's number: the one in its key, the same in every report."""
    return verdict.claim.number


SERVICE_NOTE = ("In service mode a model's saturation is known only to lie between the "
                "highest rate it kept and the next rate of the sweep, which it did not keep: "
                "that bracket plays the part of the interval.")


def claims_markdown(found: list[Verdict], table: pd.DataFrame | None = None,
                    service: bool = False) -> str:
    lines = ["## Claims", "",
             "Each claim paraphrases common advice about asyncio; the verdict is computed from "
             "this run by the claim's module in `bench/claims/`, whose lines are written next "
             "to its check.  Every deciding comparison is an effect -- a ratio of two rows' "
             "medians, or a median against a fixed amount -- with its 95 % interval (bench.stats: "
             "passes and rounds resampled, plus what a rerun moves; a range, with the level "
             "it reaches, where the samples are too few), "
             "judged against the claim's named line: a part holds only if the whole interval "
             "lies past the line, and fails only if it lies wholly on the other side.  An "
             f"interval across the line, or a deciding row that is not fit to cite (⚠ noisy, "
             "⚡ disturbed, failed, ✗ meter error; a ⌛ row, capped short of its precision, "
             "counts where its interval decides), or a "
             f"confounded comparison, makes the verdict **{INCONCLUSIVE}**, with the reason "
             "and what would settle it." + (f"  {SERVICE_NOTE}" if service else ""), "",
             "| # | claim | verdict | evidence |", "|---|---|---|---|"]
    for verdict in found:
        lines.append(f"| {number(verdict)} | {verdict.claim.statement} | **{verdict.verdict}** | "
                     f"{verdict.evidence} |")
    details = [f"- **{number(verdict)}**: {verdict.details}" for verdict in found
               if verdict.details]
    counts = {word: sum(v.verdict == word for v in found)
              for word in dict.fromkeys(v.verdict for v in found)}
    lines.insert(2, "Verdicts: " + ", ".join(f"{n} {word}" for word, n in counts.items())
                 + ".")
    lines.insert(3, "")
    if details:
        lines += ["", "Details:", "", *details]
    lines += ["", "![claims](claims.png)", ""]
    if table is not None:
        lines.append(setup_costs_markdown(table))
    return "\n".join(lines)
