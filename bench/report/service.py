"""The report of a service-mode run (`--rate`): offered load in, latency and saturation out.

Each row is one model at one concurrency serving one offered rate; its latencies count
from each request's scheduled arrival (bench.service), so a model that falls behind shows
it in its percentiles rather than in a slower load.  A model *kept* a rate when it served
at least KEPT of it (ok requests per second over offered) and, where an SLO was given, its
p99 was within it; its saturation is the highest rate measured that it kept.  Between two
measured rates nothing is known: the report says "at least" and "below".
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from bench.ceilings import (
    BOUNDED,
    NEAR,
    binding,
    bounded_by_c,
    ceiling,
    ceilings,
    slots_label,
)
from bench.claims.c15_one_core import GROUP, MODEL, model_bracket, model_points
from bench.claims.kit import is_baseline, is_parallel
from bench.loadgen import MAX_PROCESSES, MAX_RATE_PER_PROCESS
from bench.report.formats import quoted
from bench.report.keys import model_label
from bench.runners import RUNNERS
from bench.service import KEPT, P99_FROM, generator_late, kept_above
from bench.stats import Z95, rerun_bracket

P999_FROM = 10_000  # and before a p99.9 is


def is_service(table: pd.DataFrame) -> bool:
    return "offered_rate" in table and bool(table["offered_rate"].notna().any())


def ms(seconds: float) -> str:
    return "-" if pd.isna(seconds) else f"{quoted(seconds * 1000)} ms"


def late_mark(row: pd.Series) -> bool:
    """Whether the load generator itself fell behind in this row (its own lateness)."""
    return generator_late(row.get("late_requests"), row.get("tasks_run"))


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


def is_deployment(row: pd.Series) -> bool:
    """A real deployment's row (bench.runners.apps, every runner named app-*): its CPU is
    split by process; a deployment loaded on another machine has no CPU of its own here."""
    return str(row.get("runner") or "").startswith("app-") or \
        _given(row.get("deployment_cpu_s"))


def _given(value: Any) -> bool:
    return value is not None and not pd.isna(value)


def _known(value: Any) -> float:
    return 0.0 if value is None or pd.isna(value) else float(value)


def cpu_text(row: pd.Series) -> str:
    """CPU per request offered: the client's (workers included); for a real deployment,
    the deployment's, the generator's and the upstream's apart (the test server's, or
    PostgreSQL's for the db workload)."""
    requests = float(row.get("tasks_run") or 0) or float(row.get("tasks") or 0)
    if not is_deployment(row) or not requests:
        return ms(float(row["cpu_per_request_s"]))
    upstream = "PostgreSQL" if row.get("workload") == "db" else "upstream"
    parts = [("app", row.get("deployment_cpu_s")), ("gen", row.get("generator_cpu_s")),
             (upstream, row.get("server_cpu_s"))]
    return " / ".join(f"{name} {ms(_known(value) / requests) if _given(value) else '-'}"
                      for name, value in parts if name != upstream or _given(value))


def memory_text(row: pd.Series) -> str:
    """What the model held: the runner's added PSS; a real deployment's own PSS (every
    process of it)."""
    value = row.get("deployment_pss_mb") if is_deployment(row) else row.get("runner_pss_mb")
    return "-" if value is None or pd.isna(value) else quoted(float(value))


def slots_text(row: pd.Series) -> str:
    """What bounds the requests in flight: C, or a deployment's workers and threads."""
    return slots_label(row)


def raise_hint(row: pd.Series) -> str:
    text = slots_text(row)
    if text.startswith("C="):
        return "raise --concurrency"
    return "raise --app-workers" + (" or --app-threads" if "threads" in text else "")


def _generator_lines(rows: pd.DataFrame) -> list[str]:
    if not any(is_deployment(row) for _, row in rows.iterrows()):
        return []
    return ["Real deployments (app-*) run in process groups of their own and are loaded by "
            "an open-loop generator in processes of its own, neither sharing a process with "
            "the deployment nor with the upstream test server.  One generator process sends "
            f"at most {MAX_RATE_PER_PROCESS:,.0f} requests per second on time here (measured "
            "against the fastest trivial server: scripts/evidence/loadgen_ceiling.md); "
            f"higher rates are spread over up to {MAX_PROCESSES}, so "
            f"{MAX_RATE_PER_PROCESS * MAX_PROCESSES:,.0f} req/s is the most offered: a "
            "deployment that kept that rate is at least that, and its own saturation is not "
            "known.", ""]


def _busy_lines(rows: pd.DataFrame) -> list[str]:
    """First, where it happened: the machine was busy with other work during some rates,
    which then decide nothing (and leave brackets open, winners unnamed)."""
    disturbed = rows["disturbed"].fillna(False).astype(bool) if "disturbed" in rows else None
    if disturbed is None or not disturbed.any():
        return []
    busy = rows[disturbed]
    most = pd.to_numeric(busy["neighbours"], errors="coerce").max()
    cores = f", up to {most:.2f} cores" if pd.notna(most) else ""
    return [f"**A busy machine (⚡):** other processes used this machine during {len(busy)} "
            f"of the {len(rows)} rates measured{cores}.  Such a rate that was not kept "
            "decides nothing, so saturations below may read \"at least\" and no winner may "
            "be named for that reason alone; rerun on a quiet machine to decide them.", ""]


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
             "the lowest rate measured that it did not keep, bracketed by the highest it "
             "kept below that (nothing is known between two measured rates; --rate auto "
             "bisects each bracket after the sweep); a rate whose generator ran late (⚠) "
             "or that was not kept while other work disturbed the machine (⚡) decides "
             "nothing and is left out of the bracket.  On a rerun: the bracket widened by "
             "what back-to-back runs on this kind of machine moved a saturation (95 %; "
             "bench/run_to_run.json, '-' where it is not known for the machine); a winner "
             "is named only where these separate.", "", *_busy_lines(rows),
             *_generator_lines(rows)]
    for (workload, params, server), group in rows.groupby(GROUP, sort=False, dropna=False):
        where = f", {server} server" if isinstance(server, str) and server else ""
        lines += [f"**{workload}** ({params}{where})", "",
                  "| model | in flight at most | saturation (req/s) | on a rerun (req/s) | "
                  "slots' ceiling (req/s) | runs into (req/s) | CPU per request | "
                  "memory (MB) |", "|---" * 8 + "|"]
        rows_text, held, capped, unknown = _models(group, several)
        lines += rows_text
        lines += ["", _sentence(held, capped, unknown), ""]
    lines += ["| model | in flight at most | offered (req/s) | achieved (req/s) | p50 | p90 | "
              "p99 | p99.9 | late | failed | CPU per request | cores busy |", "|---" * 12 + "|"]
    for _, row in rows.sort_values(GROUP + MODEL + ["offered_rate"], kind="stable").iterrows():
        lines.append(
            f"| {row['workload']}: {model_label(row, several)} | {slots_text(row)} | "
            f"{quoted(float(row['offered_rate']))} | {quoted(float(row['achieved_rate']))} | "
            f"{ms(row['arrival_latency_p50_s'])} | {ms(row['arrival_latency_p90_s'])} | "
            f"{tail(row, 'p99')} | {tail(row, 'p999')} | "
            f"{int(row['late_requests'])}{' ⚠' if late_mark(row) else ''} | "
            f"{int(row['failed'])}/{int(row['tasks_run'])} | "
            f"{cpu_text(row)} | {_busy_text(row)} |")
    return [*lines, "", _columns_note(), ""]


def _columns_note() -> str:
    """What the per-rate table's columns mean."""
    return ("Columns: percentiles are of the ok requests' latency from scheduled "
            "arrival to checked result (nearest rank: each is a real request's); a p99 "
            f"needs {P99_FROM:,} requests and a p99.9 {P999_FROM:,}: with fewer, the "
            "p99 column shows the largest latency and how likely it is to lie at or above "
            "the true p99; in flight at most = C (the requests the harness lets in "
            "flight: an in-process model's slots, a generator's connections) or a "
            "deployment's workers (x threads) where fewer; slots' ceiling = that over the "
            "mean time a request held its slot at the rates that bracket the saturation "
            "(runs that did not record the mean: the median there, or the median latency "
            "from arrival; Little's law: no model serves more through so many slots), and "
            f"a saturation within {1 - BOUNDED:.0%} of it is that limit's, not the "
            "model's, and decides nothing; runs into = the lowest of the ceilings the rows "
            "give (the slots'; one core over the CPU per request of one process with the "
            "GIL; the usable cores over the CPU per request of every process on them; the "
            "load generator's on-time rate), named where the saturation reached "
            f"{NEAR:.0%} of it (that ceiling is what the figure measures), else none "
            "near and the lowest; late = requests the load "
            "generator sent more than 5 ms after their time (its own lateness; ⚠ = more "
            "than 1 % of them: the rate offered was not quite the rate asked, and the row "
            "decides no claim; the in-process generator shares the client's process, so a "
            "model that holds the GIL or the cores delays it too; the latencies still "
            "count from the schedule); CPU per request = the client's CPU over the run, "
            "workers included, per request offered (real deployments: the deployment's "
            "processes, the generator's and the upstream test server's apart); cores busy "
            "= all of it (the suite's process, generator, deployment, test server) per "
            "request times the rate achieved (▲ = at least "
            f"{CORES_FULL:.0%} of the machine's cores: the machine, not only the "
            "model, is saturated, and ▼ = also the generator and the upstream took at "
            "least as much CPU as the deployment: it was starved of cores; past that the "
            "queue, and with it the p99, grows for as long as the run lasts, so a longer "
            "--duration-s gives a larger p99: compare saturation points, not such p99s); "
            "memory (the saturation table) = the PSS the runner added, or a real "
            "deployment's own PSS, every process of it, at the end of its run.")


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


def starved(row: pd.Series) -> bool:
    """A deployment on a full machine whose generator and upstream took at least as much
    CPU as it did: what it served is what the cores left it."""
    if not is_deployment(row):
        return False
    load = _known(row.get("generator_cpu_s")) + _known(row.get("server_cpu_s"))
    return load >= _known(row.get("deployment_cpu_s"))


def _busy_text(row: pd.Series) -> str:
    busy = cores_busy(row)
    if pd.isna(busy):
        return "-"
    full = not pd.isna(row.get("cores")) and busy >= CORES_FULL * float(row["cores"])
    mark = (" ▲ ▼" if starved(row) else " ▲") if full else ""
    return f"{quoted(busy)}{mark}"


Held = tuple[float, float | None, str, pd.Series]  # best kept, saturation, label, its row


def term(row: pd.Series) -> float:
    """What a rerun moves a saturation on this row's machine (SD, log scale); 0 unknown."""
    found = row.get("run_to_run_saturation")
    return 0.0 if found is None or pd.isna(found) else float(found)


def ratio_term(row: pd.Series) -> float:
    """What a rerun moves the ratio of two models' saturations in one run; 0 unknown."""
    found = row.get("run_to_run_saturation_ratio")
    return 0.0 if found is None or pd.isna(found) else float(found)


def _rerun_text(best: float | None, above: float | None, row: pd.Series) -> str:
    """The bracket a rerun should fall in: '[a, b)', '≥ a', '< b'; '-' with no term."""
    if not term(row):
        return "-"
    low, high = rerun_bracket(best or None, above, term(row))
    if low is not None and high is not None:
        return f"[{quoted(low)}, {quoted(high)})"
    return f"≥ {quoted(low)}" if low is not None else f"< {quoted(high)}" if high else "-"


def _binds_text(found: tuple[str, float, bool] | None) -> str:
    """"slots: 395" where the saturation ran into it, else "none near (lowest: ...)"."""
    if found is None:
        return "-"
    name, limit, reached = found
    return f"{name}: {quoted(limit)}" if reached else f"none near (lowest: {name}: " \
        f"{quoted(limit)})"


def _models(group: pd.DataFrame, several: bool
            ) -> tuple[list[str], list[Held], list[Held], list[Held]]:
    """Each model's saturation row; the saturations that decide (held), those that
    reached the ceiling their slots allow (capped: the model's own is at least that), and
    the models that kept no rate judged (unknown: best kept 0, below the lowest rate fit
    to judge that they did not keep, or not known at all where none was fit)."""
    lines: list[str] = []
    held: list[Held] = []
    capped_held: list[Held] = []
    unknown: list[Held] = []
    for _, model in group.groupby(MODEL, sort=False, dropna=False):
        best, above = model_bracket(model, fit_only=True)
        first = model.sort_values("offered_rate").iloc[-1 if best is None else 0]
        at_best = model[model["offered_rate"] == best].iloc[0] if best is not None else first
        label = model_label(at_best, several)
        text = ", ".join(part for part in (
            None if best is None else f"at least {quoted(best)}",
            None if above is None else f"below {quoted(above)}") if part) or \
            "none of the rates measured"
        again = kept_above(model_points(model, fit_only=True))
        if again:
            text += f" (yet kept {', '.join(quoted(rate) for rate in again)})"
        # One at a time is the sequential model itself, not a limit the harness set.
        capped = not is_baseline(at_best["runner"]) and bounded_by_c(
            [row for _, row in model.iterrows()], best, above)
        if capped:
            text = f"bounded by {slots_text(at_best)} ({raise_hint(at_best)}); " + text
        listed = [row for _, row in model.iterrows()]
        limit = ceiling(listed, best, above)
        runner = RUNNERS.get(str(at_best["runner"]))
        binds = _binds_text(binding(ceilings(
            listed, best, above, is_parallel(at_best["runner"]),
            runner.max_rate() if runner else None), best, above))
        lines.append(f"| {label} | {slots_text(at_best)} | {text} | "
                     f"{_rerun_text(best, above, at_best)} | "
                     f"{'-' if pd.isna(limit) else quoted(limit)} | {binds} | "
                     f"{cpu_text(at_best)} | {memory_text(at_best)} |")
        where = f"{label} ({slots_text(at_best)})"
        if best is not None:
            (capped_held if capped else held).append((best, above, where, at_best))
        else:
            unknown.append((0.0, above, where, at_best))
    return lines, held, capped_held, unknown


def _sentence(held: list[Held], capped: list[Held] | None = None,
              unknown: list[Held] | None = None) -> str:
    """The model with the highest rate kept, where its bracket is clear of every other's;
    no order where a model bounded by its slots kept as much (its own saturation is
    higher than they let it show), or where a model had no rate fit to judge."""
    capped = capped or []
    unjudged = [label for _, above, label, _ in unknown or [] if above is None]
    if unjudged and (held or capped):
        return (f"No order: {', '.join(unjudged)} kept none of the rates offered and had no "
                "rate fit to judge (each had a late generator ⚠ or a disturbed machine ⚡), "
                "so its saturation is not known; offer lower rates, or rerun.")
    top = max((rate for rate, _, _, _ in held), default=0.0)
    as_much = [label for rate, _, label, _ in capped if rate >= top]
    if as_much:
        how = "as much as any other" if held else "the most"
        return (f"No order: {', '.join(as_much)} kept {how} but each reached the ceiling its "
                "slots allow, so its own saturation is not known; raise them to measure it.")
    return _sentence_of(held, [*capped, *(unknown or [])])


def _sentence_of(held: list[Held], capped: list[Held] | None = None) -> str:
    """A winner only where brackets separate: the highest rate one model kept is at or
    above every other's saturation; else the models whose brackets overlap tie."""
    if not held:
        return ("No model's saturation was measured: each kept none of the rates offered "
                "(offer lower rates) or was bounded by its slots (raise them).")
    best_rate, _, label, row = max(held, key=lambda item: item[0])
    # One's saturation is above another's where the lowest ratio the brackets allow, best
    # kept over the other's lowest not kept, stays above 1 by what a rerun moves a ratio.
    margin = math.exp(Z95 * ratio_term(row))
    others = [item for item in [*held, *(capped or [])] if item[2] != label]
    overlapping = [item for item in others if item[1] is None or best_rate < item[1] * margin]
    if overlapping and all(item[1] is None for item in overlapping) and \
            max(held, key=lambda item: item[0])[1] is None:
        names = ", ".join([label, *(item[2] for item in overlapping)])
        return (f"No winner: {names} each kept every rate judged, up to "
                f"{quoted(best_rate)} req/s at least, so none's saturation is known (rates "
                "above were not offered, or their generator ran late and they decide "
                "nothing).")
    moves = f", or by less than a rerun moves it (x{margin:.2f})" if margin > 1 else ""
    if overlapping:
        names = ", ".join([label, *(item[2] for item in overlapping)])
        return (f"No winner: the saturation brackets of {names} overlap (the highest rate "
                f"one kept, {quoted(best_rate)} req/s, is not above what the others did not "
                f"keep{moves}); narrower brackets (--rate auto bisects them) or longer runs "
                "could tell them apart.")
    cost = f"at {cpu_text(row)} of CPU per request and {memory_text(row)} MB of memory"
    if not others:  # one model measured: nothing to hold more than
        saturation = f", saturating below {quoted(row_above)} req/s" if (
            row_above := max(held, key=lambda item: item[0])[1]) is not None else ""
        return (f"Only {label} was measured: {quoted(best_rate)} req/s kept{saturation}, "
                f"{cost}; no other model to compare it with.")
    clear = f", by more than a rerun moves the ratio (x{margin:.2f})" if margin > 1 else ""
    return (f"{label} holds the most: {quoted(best_rate)} req/s kept, where every other "
            f"model's saturation was lower{clear}, {cost}.")
