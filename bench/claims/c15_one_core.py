"""Claim 15: with C ms of pure-Python CPU per request, a single process with the GIL
saturates near 1000/C requests per second whatever its concurrency model; only more
processes (or interpreters with a GIL each) move it.

Decided from a service-mode run (`make service`, `--rate auto`): each model's throughput
saturation (served at least 99 % of the offered rate, whatever the latency: the claim is
about throughput, not an SLO) lies between the highest rate it kept and the lowest rate
above that it did not keep (the sweep's bracket, which plays the part of an interval),
against one core's worth of the workload's own pure-Python CPU per request (`gil_cpu_s`,
calibrated in the measuring process).  Rows on a free-threaded build with the GIL off do
not count as single-GIL.  Only fit rows decide: a rate not kept while the machine was
disturbed (⚡) is left out of the bracket, and so is every rate whose load generator ran
late (⚠), kept or not: it offered less than the rate asked, and a late in-process
generator may be the model's GIL or the generator itself, which the row cannot tell
apart.  Real deployments (app-*) are loaded from generator processes of their own.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from bench.ceilings import bounded_by_c, slots_label
from bench.claims.kit import (
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    LIMITS,
    MISSING,
    Axes,
    Table,
    colour,
    is_baseline,
    is_parallel,
    sig3,
)
from bench.claims.panels import bars
from bench.claims.registry import (
    SERVICE_RUN,
    Verdict,
    register_claim,
)
from bench.service import bracket, generator_late, kept

KEY = "c15_one_core"
ONE_CORE = 1.10  # a single GIL process "saturates near" one core: below 1.10x of 1/C
NEAR = 0.50  # ... and not far below it: at least half of 1/C (else: holds with limits)
MOVES = 1.10  # more processes "move it": a parallel model kept more than 1.10x of 1/C
GROUP = ["workload", "params", "server"]
MODEL = ["interpreter", "runner", "start_method", "client", "concurrency", "pinned"]


def _known(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def row_kept(row: pd.Series, with_slo: bool = True) -> bool:
    """Whether the row's model kept its offered rate (bench.service.kept), within the SLO
    if one was set and `with_slo`; a failed scenario kept nothing."""
    if bool(row.get("failed_scenario", False)):
        return False
    sustained = row.get("sustained")
    known = None if sustained is None or pd.isna(sustained) else bool(sustained)
    runs = _known(row.get("tasks_run"))
    share = float(row["ok"]) / runs if runs else None
    within = _known(row.get("within_slo"))
    return kept(float(row["offered_rate"]), _known(row["achieved_rate"]),
                _known(row["arrival_latency_p99_s"]),
                _known(row.get("slo_s")) if with_slo else None, known, share,
                int(row["ok"]) if _known(row.get("ok")) is not None else None,
                None if within is None else int(within))


def model_points(rows: Table, with_slo: bool = True,
                 fit_only: bool = False) -> list[tuple[float, bool]]:
    """(rate, kept) per row of one model.  `fit_only`: a rate not kept while the machine
    was busy with other work (⚡), and any rate whose generator ran late (⚠), says nothing
    of the model, and is left out."""
    points = [(float(row["offered_rate"]), row_kept(row, with_slo))
              for _, row in rows.iterrows()]
    if fit_only:
        disturbed = rows["disturbed"] if "disturbed" in rows else [False] * len(points)
        late = [generator_late(row.get("late_requests"), row.get("tasks_run"))
                for _, row in rows.iterrows()]
        points = [point for point, was_disturbed, was_late
                  in zip(points, disturbed, late, strict=True)
                  if not was_late and (point[1] or not bool(was_disturbed))]
    return points


def model_bracket(rows: Table, with_slo: bool = True,
                  fit_only: bool = False) -> tuple[float | None, float | None]:
    """One model's saturation bracket from its rows (`model_points`)."""
    return bracket(model_points(rows, with_slo, fit_only))


def _service_rows(table: Table) -> Table:
    """The service rows with a known CPU per request; with --cores, those on the most
    cores (fewer cores cap the parallel models, which is not what the claim is about)."""
    if "offered_rate" not in table or "gil_cpu_s" not in table:
        return table.iloc[0:0]
    rows = table[table["offered_rate"].notna() & table["gil_cpu_s"].notna()]
    rows = rows.assign(pinned=rows.get("pinned", 0))
    most = rows["pinned"].replace(0, 10**6).max() if not rows.empty else 0
    return rows[rows["pinned"].replace(0, 10**6) == most]


def _models(table: Table) -> list[tuple[str, bool, float, float | None, float | None]]:
    """(label, parallel, one core's rate, kept, not kept) per model of the service rows."""
    found = []
    for (workload, _, _), group in _service_rows(table).groupby(GROUP, sort=False,
                                                                dropna=False):
        for _, rows in group.groupby(MODEL, sort=False, dropna=False):
            first = rows.iloc[0]
            single = not is_parallel(first["runner"]) and bool(first.get("gil_enabled", True))
            core = 1 / float(rows["gil_cpu_s"].min())
            best, above = model_bracket(rows, with_slo=False, fit_only=True)
            if not is_baseline(first["runner"]) and bounded_by_c(
                    [row for _, row in rows.iterrows()], best, above):
                above = None  # the rate it did not keep was C's limit, not the model's
            # A deployment's slots are its workers (x threads), not the generator's C.
            label = f"{workload}: {first['runner']} {slots_label(first)}"
            found.append((label, not single, core, best, above))
    return found


def _below(best: float | None, above: float | None, line: float) -> bool | None:
    """Saturation (in [best, above)) wholly below `line`: True; wholly at or above: False."""
    if above is not None and above <= line:
        return True
    if best is not None and best > line:
        return False
    return None


def _range(best: float | None, above: float | None) -> str:
    if best is None:
        return "no bound" if above is None else f"below {sig3(above)} (no lower bound)"
    return f"{sig3(best)} to {sig3(above)}" if above is not None else f"at least {sig3(best)}"


def panel(ax: Axes, rows: Table) -> None:
    """Each model's highest rate kept over one core's rate; the whisker reaches the next
    rate of the sweep, which it did not keep (its saturation lies in between)."""
    labels, values, colours, errors = [], [], [], []
    for label, _, core, best, above in _models(rows):
        workload, model = label.split(": ")
        runner, level = model.split(" ", 1)  # the level may be "workers=5 x threads=4"
        labels.append(f"{runner}\n{level}\n({workload})")
        values.append((best or 0.0) / core)
        errors.append([0.0, max(0.0, ((above or best or 0.0) - (best or 0.0)) / core)])
        colours.append(colour(runner))
    bars(ax, labels, values, colours, [[low for low, _ in errors], [high for _, high in errors]])
    ax.axhline(1.0, color="black", linestyle="--", linewidth=1, label="one core's rate")
    ax.set_ylabel("saturation / one core's rate (x)")
    ax.text(0.99, 0.98, "bar: highest rate kept\nwhisker: next rate, not kept",
            transform=ax.transAxes, ha="right", va="top", fontsize=7)


@register_claim(
    KEY,
    "With C ms of pure-Python CPU per request, one process with the GIL saturates near "
    "1000/C requests per second whatever its concurrency model; only more processes move "
    "it.",
    panel, runs=frozenset({SERVICE_RUN}))
def check(table: Table) -> Verdict:
    """Core: every single-GIL model's saturation wholly below ONE_CORE x (1/C), and, where
    the run has parallel models, one of them kept more than MOVES x (1/C).  Addition: the
    single-GIL models reach at least NEAR x (1/C) (else: holds with limits)."""
    models = _models(table)
    single = [m for m in models if not m[1]]
    if not single:
        return Verdict(KEY, MISSING, "needs a service-mode run (--rate) of a workload with "
                       "pure-Python CPU per request (cpu or mixed) under a single-process model")
    parts, core_parts, near_parts = [], [], []
    for label, _, core, best, above in single:
        under = _below(best, above, ONE_CORE * core)
        near = None if best is None and above is None else (
            True if best is not None and best >= NEAR * core else
            False if above is not None and above <= NEAR * core else None)
        core_parts.append(under)
        near_parts.append(near)
        parts.append(f"{label}: saturation {_range(best, above)} req/s against one core's "
                     f"{sig3(core)} req/s")
    stayed = []  # per parallel model: True = held under MOVES, False = moved past it
    for label, parallel, core, best, above in models:
        if parallel:
            stayed.append(_below(best, above, MOVES * core))
            parts.append(f"{label}: saturation {_range(best, above)} req/s")
    moved = (True if False in stayed else None if None in stayed else False) if stayed \
        else None
    evidence = "; ".join(parts) + (f" ('near' = under {ONE_CORE:.2f}x and at least "
                                   f"{NEAR:.2f}x of one core's rate; 'moves it' = a parallel "
                                   f"model kept more than {MOVES:.2f}x)")
    core_outcomes = [*core_parts, *([moved] if stayed else [])]
    if any(outcome is False for outcome in core_outcomes):
        return Verdict(KEY, FAILS, evidence)
    if any(outcome is None for outcome in core_outcomes):
        return Verdict(KEY, INCONCLUSIVE, evidence, "undecided: a sweep step spans the "
                       "line (the saturation lies somewhere in its bracket). To settle: a "
                       "finer sweep around it (--rate with rates between the bracket's ends)")
    if any(near is False for near in near_parts):
        return Verdict(KEY, LIMITS, evidence, "a single-GIL model saturated at under "
                       f"{NEAR:.0%} of one core's rate: its own overhead, not only the "
                       "work, bounds it")
    if any(near is None for near in near_parts):
        return Verdict(KEY, INCONCLUSIVE, evidence, "undecided: whether the single-GIL "
                       "models come near one core's rate. To settle: a finer sweep")
    return Verdict(KEY, HOLDS, evidence)
