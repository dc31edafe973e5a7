"""What bounds a service's saturation: each ceiling a model's rate runs into, and which.

A model's saturation (bench.service: the first rate it did not keep) is worth citing as
the model's own only where nothing the run set, or the machine it ran on, stopped it
first.  From what each rate row measured, near the saturation:

- **slots**: C, or a deployment's workers x threads, over the mean time a request holds
  its slot (Little's law, `ceiling`);
- **one core (GIL)**: one process with the GIL runs Python on one core at a time, so its
  pure-Python CPU per request caps it at one core over that CPU (a one-process deployment,
  or an in-process model that is not parallel);
- **the machine**: the usable cores over the CPU every process on them spent per request
  (deployment, load generator, upstream or PostgreSQL, or the in-process client);
- **the generator**: the most requests a second the runner's own load generator sends on
  time (`Runner.max_rate`).

`binding` names the lowest of them and whether the saturation reached it: within
NEAR of a ceiling, that ceiling is what the figure measures.
"""

from __future__ import annotations

import math
from typing import Any

BOUNDED = 0.9  # a saturation at or above this share of C's ceiling is the harness's limit


def _number(value: Any) -> float | None:
    return None if value is None or value != value else float(value)


def slots_label(row: Any) -> str:
    """What holds a row's requests in flight, in words: a deployment's workers (x threads)
    where they are fewer than C, else C."""
    found = row.get("slots_by")
    return found if isinstance(found, str) and found else f"C={row['concurrency']}"


def ceiling(rows: list[Any], best: float | None = None, above: float | None = None) -> float:
    """The most requests per second one model's slots can serve (Little's law): its slots
    (C, or a deployment's workers and threads where fewer) over the mean time a request
    holds its slot near its saturation: at the first rate it did not keep (`above`), else
    at the highest it kept (`best`), else at its highest rate measured.  The mean, not the
    median: a skewed service time holds slots longer than its median says (1.44x for an
    exponential one).  A record without the mean gives its median service time, and one
    without service times its median latency from arrival; nan where none is known."""
    near = _near(rows, best, above)
    for key in ("service_mean_s", "service_p50_s", "arrival_latency_p50_s"):
        held = _number(near.get(key))
        if held:
            slots = _number(near.get("slots")) or float(near["concurrency"])
            return slots / held
    return math.nan


def _near(rows: list[Any], best: float | None, above: float | None) -> Any:
    """The row of the rate nearest the saturation: the first not kept, else the highest
    kept, else the highest rate measured."""
    by_rate = {float(row["offered_rate"]): row for row in rows}
    for rate in (above, best):
        if rate is not None and float(rate) in by_rate:
            return by_rate[float(rate)]
    return by_rate[max(by_rate)]


def bounded_by_c(rows: list[Any], best: float | None, above: float | None) -> bool:
    """Whether one model's saturation (its rows, one per offered rate) is its concurrency
    limit's rather than its own: the highest rate it kept, or what it achieved at the
    first rate it did not keep, reached BOUNDED of the ceiling that C allows."""
    limit = ceiling(rows, best, above)
    if math.isnan(limit):
        return False
    for row in rows:
        rate = float(row["offered_rate"])
        reached = best if rate == best else _number(row.get("achieved_rate")) \
            if rate == above else None
        if reached is not None and reached >= BOUNDED * limit:
            return True
    return False


NEAR = 0.8  # a saturation at or above this share of a ceiling is said to run into it


def _per_request(row: Any, key: str) -> float | None:
    """A CPU reading of the row per request offered."""
    requests = _number(row.get("tasks_run")) or _number(row.get("tasks"))
    value = _number(row.get(key))
    return value / requests if value and requests else None


def _deployment(row: Any) -> dict[str, Any] | None:
    details = row.get("runner_details")
    found = details.get("deployment") if isinstance(details, dict) else None
    return found if isinstance(found, dict) else None


def ceilings(rows: list[Any], best: float | None, above: float | None,
             parallel: bool, max_rate: float | None) -> dict[str, float]:
    """Every ceiling the rows let us compute, requests a second, named as the report says
    them (see the module's docstring)."""
    near = _near(rows, best, above)
    found: dict[str, float] = {}
    slots = ceiling(rows, best, above)
    if not math.isnan(slots):
        found["slots"] = slots
    cores = _number(near.get("pinned")) or _number(near.get("cores"))
    deployment = _deployment(near)
    if deployment is not None:
        app = _per_request(near, "deployment_cpu_s")
        tiers = [app, _per_request(near, "generator_cpu_s"), _per_request(near, "server_cpu_s")]
        if app and deployment.get("workers") == 1 and near.get("gil_enabled") is not False:
            found["one core (GIL)"] = 1 / app
        total = sum(part for part in tiers if part)
    else:
        total = _number(near.get("cpu_per_request_s")) or 0.0
        gil = _number(near.get("gil_cpu_s"))
        if not parallel and gil and near.get("gil_enabled") is not False:
            found["one core (GIL)"] = 1 / gil
    if cores and total:
        found["the machine"] = cores / total
    if max_rate:
        found["the generator"] = max_rate
    return found


def binding(found: dict[str, float], best: float | None, above: float | None
            ) -> tuple[str, float, bool] | None:
    """The lowest ceiling (its name and rate) and whether the saturation ran into it: the
    highest rate kept (or the first not kept, where none was) reached NEAR of it.  None
    where no ceiling is known."""
    if not found:
        return None
    name, limit = min(found.items(), key=lambda item: item[1])
    reached = best if best is not None else above
    return name, limit, reached is not None and reached >= NEAR * limit
