"""The report of a service-mode run (`--rate`): offered load in, latency and saturation out.

Each row is one model at one concurrency serving one offered rate; its latencies count
from each request's scheduled arrival (bench.service), so a model that falls behind shows
it in its percentiles rather than in a slower load.  A model *kept* a rate when it served
at least KEPT of it (ok requests per second over offered) and, where an SLO was given, its
p99 was within it; its saturation is the highest rate measured that it kept.  Between two
measured rates nothing is known: the report says "at least" and "below".
"""

from __future__ import annotations

import pandas as pd

from bench.claims.c15_one_core import GROUP, MODEL, model_bracket
from bench.claims.kit import is_baseline
from bench.report.formats import quoted
from bench.report.keys import model_label
from bench.service import BOUNDED, KEPT, bounded_by_c, ceiling

GENERATOR_LATE = 0.01  # more than this share of requests handed over late: the load
P99_FROM = 1000  # ok requests before a p99 is printed (else the max, with what it says)
P999_FROM = 10_000  # and before a p99.9 is


def is_service(table: pd.DataFrame) -> bool:
    return "offered_rate" in table and bool(table["offered_rate"].notna().any())


def ms(seconds: float) -> str:
    return "-" if pd.isna(seconds) else f"{quoted(seconds * 1000)} ms"


def generator_late(row: pd.Series) -> bool:
    """Whether the load generator itself fell behind in this row (its own lateness)."""
    return bool(float(row["late_requests"]) > GENERATOR_LATE * float(row["tasks_run"]))


def tail(row: pd.Series, name: str) -> str:
    """A p99 (or p99.9) only from enough requests; below that, the largest latency, with
    how likely it is to lie above the true p99 (1 - 0.99^n: the order statistic's level)."""
    count = int(row["ok"]) if not pd.isna(row.get("ok")) else 0
    value = row[f"arrival_latency_{name}_s"]
    if name == "p99" and count < P99_FROM:
        largest = row["arrival_latency_p999_s"]  # nearest rank: the max below 1,000
        return f"max {ms(largest)} of {count} (≥ p99 at {1 - 0.99 ** count:.0%})"
    if name == "p999" and count < P999_FROM:
        return "-"
    return ms(value)


def service_markdown(table: pd.DataFrame) -> list[str]:
    """Per workload: which model holds the highest rate, then every model at every rate."""
    rows = table[table["offered_rate"].notna()]
    several = rows["interpreter"].nunique() > 1
    slo = rows["slo_s"].dropna()
    slo_text = f" and a p99 within {ms(float(slo.iloc[0]))}" if not slo.empty else ""
    lines = ["## Which model holds the load?", "",
             "Service mode: requests arrive on a schedule at each offered rate; each "
             "request's latency counts from its scheduled arrival, so time spent queued "
             "behind a model that fell behind is counted.  A model keeps a rate when its "
             "backlog does not grow across the schedule and it serves at least "
             f"{KEPT:.0%} of the requests ok{slo_text} (a record made before backlogs "
             "were recorded: when it achieves that share of the rate); its saturation is "
             "the highest rate measured that it kept (nothing is known between two "
             "measured rates).", ""]
    for (workload, params, server), group in rows.groupby(GROUP, sort=False, dropna=False):
        where = f", {server} server" if isinstance(server, str) and server else ""
        lines += [f"**{workload}** ({params}{where})", "",
                  "| model | C | saturation (req/s) | C's ceiling (req/s) | CPU per request | "
                  "memory (MB) |", "|---|---|---|---|---|---|"]
        rows_text, held, capped = _models(group, several)
        lines += rows_text
        lines += ["", _sentence(held, capped), ""]
    lines += ["| model | C | offered (req/s) | achieved (req/s) | p50 | p90 | p99 | p99.9 | "
              "late | failed | CPU per request | cores busy |", "|---" * 12 + "|"]
    for _, row in rows.sort_values(GROUP + MODEL + ["offered_rate"], kind="stable").iterrows():
        lines.append(
            f"| {row['workload']}: {model_label(row, several)} | {row['concurrency']} | "
            f"{quoted(float(row['offered_rate']))} | {quoted(float(row['achieved_rate']))} | "
            f"{ms(row['arrival_latency_p50_s'])} | {ms(row['arrival_latency_p90_s'])} | "
            f"{tail(row, 'p99')} | {tail(row, 'p999')} | "
            f"{int(row['late_requests'])}{' ⚠' if generator_late(row) else ''} | "
            f"{int(row['failed'])}/{int(row['tasks_run'])} | "
            f"{ms(row['cpu_per_request_s'])} | {_busy_text(row)} |")
    lines += ["", "Columns: percentiles are of the ok requests' latency from scheduled "
              "arrival to checked result (nearest rank: each is a real request's); a p99 "
              f"needs {P99_FROM:,} requests and a p99.9 {P999_FROM:,}: with fewer, the "
              "p99 column shows the largest latency and how likely it is to lie at or above "
              "the true p99; C's ceiling = C over the median time a request held its slot "
              "(or, in runs that did not record it, the least median latency from arrival; "
              "Little's law: no model serves more through C slots), and a saturation within "
              f"{1 - BOUNDED:.0%} of it is the harness's limit, not the model's, and decides "
              "nothing; late = "
              "requests the load generator handed over more than 5 ms after their time (its "
              "own lateness; ⚠ = more than 1 % of them: the generator shares the client's "
              "process, and a model that holds the GIL or the cores delays it too, so the "
              "rate offered was not quite the rate asked; the latencies still count from "
              "the schedule; the generator's own CPU, where it has a thread of its own, is "
              "generator_cpu_s in table.csv); CPU per request = the client's CPU "
              "over the run, workers included, per request offered; cores busy = the "
              "client's and the test server's CPU per request times the rate achieved (▲ = "
              f"at least {CORES_FULL:.0%} of the machine's cores: the machine, not only the "
              "model, is saturated; past that the queue, and with it the p99, grows for as "
              "long as the run lasts, so a longer --duration-s gives a larger p99: compare "
              "saturation points, not such p99s).", ""]
    return lines


CORES_FULL = 0.9  # cores busy at or above this share of the machine's: ▲


def cores_busy(row: pd.Series) -> float:
    """Cores the client (workers included) and the test server kept busy while serving:
    their CPU per request offered times the rate achieved."""
    offered = float(row.get("tasks_run") or 0) or float(row.get("tasks") or 0)
    if not offered or pd.isna(row.get("achieved_rate")):
        return float("nan")
    cpu = sum(float(value) for value in (row.get("cpu_s"), row.get("server_cpu_s"))
              if value is not None and not pd.isna(value))
    return cpu / offered * float(row["achieved_rate"])


def _busy_text(row: pd.Series) -> str:
    busy = cores_busy(row)
    if pd.isna(busy):
        return "-"
    full = not pd.isna(row.get("cores")) and busy >= CORES_FULL * float(row["cores"])
    return f"{quoted(busy)}{' ▲' if full else ''}"


def _models(group: pd.DataFrame, several: bool
            ) -> tuple[list[str], list[tuple[float, str, pd.Series]], list[tuple[float, str]]]:
    """Each model's saturation row; the saturations that decide (held), and those that
    reached the ceiling their C allows (capped: the model's own is at least that)."""
    lines: list[str] = []
    held: list[tuple[float, str, pd.Series]] = []
    capped_held: list[tuple[float, str]] = []
    for _, model in group.groupby(MODEL, sort=False, dropna=False):
        best, above = model_bracket(model)
        first = model.sort_values("offered_rate").iloc[-1 if best is None else 0]
        at_best = model[model["offered_rate"] == best].iloc[0] if best is not None else first
        label = model_label(at_best, several)
        text = ("none of the rates measured" if best is None else
                f"at least {quoted(best)}" + (f", below {quoted(above)}" if above else ""))
        # One at a time is the sequential model itself, not a limit the harness set.
        capped = not is_baseline(at_best["runner"]) and bounded_by_c(
            [row for _, row in model.iterrows()], best, above)
        if capped:
            text = f"bounded by C={at_best['concurrency']} (raise --concurrency); " + text
        limit = ceiling([row for _, row in model.iterrows()])
        lines.append(f"| {label} | {at_best['concurrency']} | {text} | "
                     f"{'-' if pd.isna(limit) else quoted(limit)} | "
                     f"{ms(float(at_best['cpu_per_request_s']))} | "
                     f"{quoted(float(at_best['runner_pss_mb']))} |")
        if best is not None:
            where = f"{label} at C={at_best['concurrency']}"
            if capped:
                capped_held.append((best, where))
            else:
                held.append((best, where, at_best))
    return lines, held, capped_held


def _sentence(held: list[tuple[float, str, pd.Series]],
              capped: list[tuple[float, str]] | None = None) -> str:
    """The model with the highest rate kept; a tie where several kept the same highest
    rate (the measured rates cannot order them); no order where a model bounded by its C
    kept as much (its own saturation is higher than its C let it show)."""
    capped = capped or []
    top = max((rate for rate, _, _ in held), default=0.0)
    as_much = [label for rate, label in capped if rate >= top]
    if as_much:
        how = "as much as any other" if held else "the most"
        return (f"No order: {', '.join(as_much)} kept {how} but each reached the ceiling its C "
                "allows, so its own saturation is not known; raise --concurrency to measure "
                "it.")
    return _sentence_of(held)


def _sentence_of(held: list[tuple[float, str, pd.Series]]) -> str:
    """The model with the highest rate kept; a tie where several kept the same highest
    rate (the measured rates cannot order them)."""
    if not held:
        return ("No model's saturation was measured: each kept none of the rates offered "
                "(offer lower rates) or was bounded by its C (raise --concurrency).")
    top = max(rate for rate, _, _ in held)
    best = [(label, row) for rate, label, row in held if rate == top]
    if len(best) > 1:
        return (f"Tie: {', '.join(label for label, _ in best)} all kept {quoted(top)} req/s, "
                "the highest rate measured that any kept; offer higher rates to tell them "
                "apart.")
    label, row = best[0]
    return (f"{label} holds the most: {quoted(top)} req/s kept, at "
            f"{ms(float(row['cpu_per_request_s']))} of client CPU per request and "
            f"{quoted(float(row['runner_pss_mb']))} MB for its runner.")
