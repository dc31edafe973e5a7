"""The claims section of a report: each registered claim's verdict, and the set-up table.

The verdicts themselves are computed by the claim modules (`bench.claims`), each with
its thresholds beside its check; this module only lays them out.  Nothing here is
typed in by hand.
"""

from __future__ import annotations

import pandas as pd

from bench.claims import CLAIMS, SIGNIFICANCE, Verdict, verdicts
from bench.claims.kit import claim_rows, ms

__all__ = ["claims_markdown", "number", "setup_costs_markdown", "verdicts"]


def setup_costs_markdown(table: pd.DataFrame) -> str:
    """Cold and warm rounds with set-up and teardown, side by side, per runner and size."""
    rows = claim_rows(table, "c9_cold")
    if rows.empty:
        return ""
    keys = ["runner", "start_method", "tasks"]
    rows = rows.assign(start_method=rows["start_method"].fillna(""))
    warm = rows[~rows["timed_setup"]][[*keys, "median_s"]].rename(columns={"median_s": "warm_s"})
    merged = rows[rows["timed_setup"]].merge(warm, on=keys, how="left")
    lines = ["### Set-up, run and teardown", "",
             "HTTP calls of the claims run's cold scenarios, C = calls.  Cold rounds build and "
             "tear down the loop, session or pool inside the timed region; warm rounds do not. "
             "Set-up and teardown are medians over the cold rounds.", "",
             "| runner | calls | cold round | warm round | set-up | teardown |",
             "|---|---|---|---|---|---|"]
    for _, row in merged.iterrows():
        method = str(row["start_method"])
        label = f"{row['runner']} ({method})" if method else str(row["runner"])
        lines.append(f"| {label} | {row['tasks']} | {ms(float(row['median_s']))} | "
                     f"{ms(float(row['warm_s']))} | {ms(float(row['setup_s']))} | "
                     f"{ms(float(row['teardown_s']))} |")
    return "\n".join([*lines, ""])


def number(verdict: Verdict) -> int:
    """A claim's number: its place in the registry, the same in every report."""
    return CLAIMS.index(verdict.claim) + 1


def claims_markdown(found: list[Verdict], table: pd.DataFrame | None = None) -> str:
    lines = ["## Claims", "",
             "Each claim paraphrases common advice about asyncio; the verdict is computed from "
             "this run by the claim's module in `bench/claims/`, whose thresholds are written "
             f"next to its check. 'Faster' always means significant at p < {SIGNIFICANCE} "
             "(one-sided Mann-Whitney U over the rounds).", "",
             "| # | claim | verdict | evidence |", "|---|---|---|---|"]
    for verdict in found:
        lines.append(f"| {number(verdict)} | {verdict.claim.statement} | **{verdict.verdict}** | "
                     f"{verdict.evidence} |")
    details = [f"- **{number(verdict)}**: {verdict.details}" for verdict in found
               if verdict.details]
    if details:
        lines += ["", "Details:", "", *details]
    lines += ["", "![claims](claims.png)", ""]
    if table is not None:
        lines.append(setup_costs_markdown(table))
    return "\n".join(lines)
