"""Verdicts on the article's claims, computed from the measured claims run.

Each claim is checked by one function that reads the scenario table (rows tagged
with that claim) and returns a Verdict: one of HOLDS, LIMITS ("holds with limits"),
FAILS ("does not hold") or SAME ("no measurable difference"), the numbers behind it,
and the chart panel that shows it.  The thresholds are the constants below; a claim
that one model beats another is only made when Mann-Whitney U over the rounds says
the difference is significant.  Nothing here is typed in by hand.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from scipy.stats import mannwhitneyu

HOLDS, LIMITS, FAILS, SAME = "holds", "holds with limits", "does not hold", \
    "no measurable difference"
MISSING = "not measured"

# --- thresholds, written down next to the claims they decide -------------------------
SIGNIFICANCE = 0.05        # one-sided Mann-Whitney U p-value for "A is faster than B"
ABOUT_ONE_WAIT = 1.10      # claim 1: "about 1 s" means within 10 % of one wait
CHEAPER_FACTOR = 2.0       # claim 3: "much cheaper" means at most half the cost
HOLD_AT_MAX = 0.8          # claim 4: "easily": at the top level, >= 80 % of its best throughput
PLATEAU = 0.9              # claim 4: throughput "tops out" where it first reaches 90 % of best
TOP_OUT_LIMIT = 1000       # claim 4: "hundreds" means topping out at or below 1,000
NO_GAIN = 1.10             # claim 5: asyncio/threads "gain nothing": speedup below 1.1
CORE_SCALING = 0.75        # claims 5-7: "scales with cores": speedup >= 75 % of min(C, cores)
RESPONSIVE_LAG_S = 0.010   # claim 7: a responsive loop's p99 lag is under 10 ms
STALLED_FRACTION = 0.5     # claim 8: a stalled loop's p99 lag is >= half of one blocking call
HANDFUL = 5                # claim 9: "a handful of calls" is fewer than 5
WORTH_IT = 1.10            # claim 9: "beats sequential" means significantly and >= 10 % faster


@dataclass(frozen=True)
class Claim:
    key: str
    statement: str  # the article's claim, in our words


@dataclass(frozen=True)
class Verdict:
    claim: Claim
    verdict: str
    evidence: str
    chart: str = "claims.png"


CLAIMS = {claim.key: claim for claim in (
    Claim("c1_gather_waits", "Gathering three 1 s waits takes about 1 s, not 3 s."),
    Claim("c2_failure_isolation", "With gather(return_exceptions=True) one failed request "
          "neither cancels nor loses the others."),
    Claim("c3_inflight_cost", "Coroutines are much cheaper than OS threads (memory and "
          "start-up per in-flight task)."),
    Claim("c4_scaling", "asyncio handles 10,000+ concurrent tasks easily; threads top out "
          "around a few hundred."),
    Claim("c5_cpu", "CPU-bound work: asyncio gives no speed-up, threads are held back by the "
          "GIL, processes scale with cores."),
    Claim("c6_gil_release", "Threads do help with C-extension work that releases the GIL."),
    Claim("c7_hybrid", "run_in_executor with a process pool keeps CPU work off the event "
          "loop."),
    Claim("c8_blocking", "A blocking call inside a coroutine stalls the whole event loop."),
    Claim("c9_cold", "For a handful of calls in a one-off script, async is not worth it."),
)}


def faster(a: list[float], b: list[float]) -> float:
    """p-value that rounds `a` are faster (smaller) than rounds `b`; nan if too few."""
    if min(len(a), len(b)) < 3:
        return math.nan
    return float(mannwhitneyu(a, b, alternative="less").pvalue)


def significant(p: float) -> bool:
    return not math.isnan(p) and p < SIGNIFICANCE


def _rows(table: pd.DataFrame, claim: str) -> pd.DataFrame:
    return table[table["claim"] == claim]


def _one(rows: pd.DataFrame, **where: object) -> pd.Series | None:
    mask = pd.Series(True, index=rows.index)
    for column, value in where.items():
        mask &= rows[column] == value
    found = rows[mask]
    return None if found.empty else found.iloc[0]


def _ms(seconds: float) -> str:
    if pd.isna(seconds):
        return "n/a"
    return f"{seconds * 1000:,.1f} ms" if seconds < 1 else f"{seconds:,.3f} s"


def _p(p: float) -> str:
    return "p=n/a" if math.isnan(p) else f"p={p:.3f}"


def gather_waits(table: pd.DataFrame) -> Verdict:
    rows = _rows(table, "c1_gather_waits")
    seq, aio, thr = (_one(rows, runner=r) for r in ("sequential", "asyncio", "threads"))
    if seq is None or aio is None:
        return Verdict(CLAIMS["c1_gather_waits"], MISSING, "")
    wait = float(seq["ideal_s"]) / 3
    p = faster(aio["rounds_data"], seq["rounds_data"])
    ratio = float(aio["median_s"]) / wait
    evidence = (f"asyncio {_ms(aio['median_s'])}, sequential {_ms(seq['median_s'])} for three "
                f"waits of {_ms(wait)} ({_p(p)})")
    if thr is not None:
        evidence += f"; threads {_ms(thr['median_s'])}"
    if not significant(p):
        return Verdict(CLAIMS["c1_gather_waits"], SAME, evidence)
    return Verdict(CLAIMS["c1_gather_waits"], HOLDS if ratio <= ABOUT_ONE_WAIT else LIMITS,
                   evidence + f"; asyncio took {ratio:.2f}x one wait")


def failure_isolation(table: pd.DataFrame) -> Verdict:
    rows = _rows(table, "c2_failure_isolation")
    modes = {row["runner"]: row["extra"].get("buckets", {}) for _, row in rows.iterrows()}
    if "gather_return_exceptions" not in modes:
        return Verdict(CLAIMS["c2_failure_isolation"], MISSING, "")
    tasks = int(_rows(table, "c2_failure_isolation")["tasks"].iloc[0])

    def describe(buckets: dict[str, int]) -> str:
        return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(buckets.items()))

    evidence = "; ".join(f"{mode}: {describe(b)}" for mode, b in modes.items())
    chosen = modes["gather_return_exceptions"]
    isolated = chosen.get("delivered_ok", 0) == tasks - 1 and chosen.get(
        "delivered_failed", 0) == 1
    return Verdict(CLAIMS["c2_failure_isolation"], HOLDS if isolated else FAILS,
                   f"{tasks} requests, one failing: {evidence}")


def inflight_cost(table: pd.DataFrame) -> Verdict:
    rows = _rows(table, "c3_inflight_cost")
    aio, thr, proc = (_one(rows, runner=r) for r in ("asyncio", "threads", "processes"))
    if aio is None or thr is None:
        return Verdict(CLAIMS["c3_inflight_cost"], MISSING, "")

    def per_task(row: pd.Series) -> tuple[float, list[float]]:
        count = float(row["tasks"])
        return float(row["median_s"]) / count, [v / count for v in row["rounds_data"]]

    (aio_start, aio_rounds), (thr_start, thr_rounds) = per_task(aio), per_task(thr)
    aio_kb, thr_kb = (float(r["extra"].get("memory_per_task_kb", math.nan)) for r in (aio, thr))
    p = faster(aio_rounds, thr_rounds)
    start_ok = significant(p) and aio_start * CHEAPER_FACTOR <= thr_start
    memory_ok = aio_kb * CHEAPER_FACTOR <= thr_kb
    evidence = (f"start-up per task: asyncio {aio_start * 1e6:.1f} µs, threads "
                f"{thr_start * 1e6:.1f} µs ({_p(p)}); memory per task: asyncio {aio_kb:.1f} KiB, "
                f"threads {thr_kb:.1f} KiB")
    if proc is not None:
        evidence += (f"; processes {per_task(proc)[0] * 1e3:.1f} ms and "
                     f"{float(proc['extra'].get('memory_per_task_kb', math.nan)):,.0f} KiB")
    verdict = HOLDS if start_ok and memory_ok else LIMITS if start_ok or memory_ok else FAILS
    return Verdict(CLAIMS["c3_inflight_cost"], verdict, evidence)


def _top_out(rows: pd.DataFrame) -> tuple[int, float, float, float]:
    """(level where throughput first reaches PLATEAU of its best, best tasks/s,
    tasks/s at the top level as a share of the best, failure rate at the top level)."""
    ordered = rows.sort_values("concurrency")
    best = float(ordered["tasks_per_s"].max())
    plateau = ordered[ordered["tasks_per_s"] >= PLATEAU * best]["concurrency"].iloc[0]
    top = ordered.iloc[-1]
    return int(plateau), best, float(top["tasks_per_s"]) / best, float(top["failure_rate"])


def scaling(table: pd.DataFrame) -> Verdict:
    """asyncio must complete the top level (10,000) without failures: else FAILS.  It holds
    fully only if asyncio also keeps HOLD_AT_MAX of its best throughput there and threads
    top out (plateau) at or below TOP_OUT_LIMIT; otherwise it holds with limits."""
    rows = _rows(table, "c4_scaling")
    if rows.empty:
        return Verdict(CLAIMS["c4_scaling"], MISSING, "")
    completes, keeps_pace, threads_top_out = True, True, True
    summary, parts = [], []
    for workload in ("sleep", "http"):
        for runner in ("asyncio", "threads", "processes"):
            mine = rows[(rows["workload"] == workload) & (rows["runner"] == runner)]
            if mine.empty:
                continue
            plateau, best, at_top, failures = _top_out(mine)
            top = mine.sort_values("concurrency").iloc[-1]
            parts.append(f"{workload}/{runner}: best {best:,.0f} tasks/s, tops out at "
                         f"C={plateau}; at C={int(top['concurrency'])} {at_top:.0%} of best, "
                         f"{failures:.1%} failed, PSS {float(top['pss_mb']):,.0f} MB")
            if runner == "asyncio":
                completes &= failures == 0
                keeps_pace &= at_top >= HOLD_AT_MAX
                summary.append(f"asyncio at C={int(top['concurrency'])} ({workload}): "
                               f"{failures:.1%} failed, {at_top:.0%} of its best throughput")
            elif runner == "threads":
                reached = int(mine["concurrency"].max())
                threads_top_out &= plateau <= TOP_OUT_LIMIT < reached or failures > 0
                summary.append(f"threads ({workload}) top out at C={plateau} and complete "
                               f"C={reached} with {failures:.1%} failed")
    evidence = "; ".join(summary) + ". Details: " + "; ".join(parts)
    if not completes:
        return Verdict(CLAIMS["c4_scaling"], FAILS, evidence)
    return Verdict(CLAIMS["c4_scaling"], HOLDS if keeps_pace and threads_top_out else LIMITS,
                   evidence)


def _speedup_check(rows: pd.DataFrame, runner: str) -> tuple[float, float, float]:
    """(speedup over sequential, p-value that it is faster, min(C, cores))."""
    seq, mine = _one(rows, runner="sequential"), _one(rows, runner=runner)
    if seq is None or mine is None:
        return math.nan, math.nan, math.nan
    cores = float(mine["extra"].get("cores", 1))
    return (float(seq["median_s"]) / float(mine["median_s"]),
            faster(mine["rounds_data"], seq["rounds_data"]),
            min(float(mine["concurrency"]), cores))


def cpu_bound(table: pd.DataFrame) -> Verdict:
    rows = _rows(table, "c5_cpu")
    if _one(rows, runner="sequential") is None:
        return Verdict(CLAIMS["c5_cpu"], MISSING, "")
    results, parts = {}, []
    for runner in ("asyncio", "threads", "processes"):
        speedup, p, usable = _speedup_check(rows, runner)
        parts.append(f"{runner} {speedup:.2f}x ({_p(p)})")
        if runner == "processes":
            results[runner] = significant(p) and speedup >= CORE_SCALING * usable
        else:
            results[runner] = not significant(p) or speedup < NO_GAIN
    evidence = "speedup over sequential: " + ", ".join(parts)
    held = sum(results.values())
    verdict = HOLDS if held == 3 else LIMITS if held == 2 else FAILS
    if held == 2:
        evidence += "; not as claimed: " + ", ".join(r for r, ok in results.items() if not ok)
    return Verdict(CLAIMS["c5_cpu"], verdict, evidence)


def gil_release(table: pd.DataFrame) -> Verdict:
    rows = _rows(table, "c6_gil_release")
    speedup, p, usable = _speedup_check(rows, "threads")
    if math.isnan(speedup):
        return Verdict(CLAIMS["c6_gil_release"], MISSING, "")
    proc_speedup, _, _ = _speedup_check(rows, "processes")
    aio_speedup, _, _ = _speedup_check(rows, "asyncio")
    evidence = (f"SHA-256 over large buffers, threads {speedup:.2f}x sequential ({_p(p)}) with "
                f"{usable:.0f} usable workers; processes {proc_speedup:.2f}x, asyncio "
                f"{aio_speedup:.2f}x")
    if not significant(p):
        return Verdict(CLAIMS["c6_gil_release"], SAME, evidence)
    return Verdict(CLAIMS["c6_gil_release"],
                   HOLDS if speedup >= CORE_SCALING * usable else LIMITS, evidence)


def hybrid(table: pd.DataFrame) -> Verdict:
    rows = _rows(table, "c7_hybrid")
    parts, responsive, quicker = [], True, True
    for workload in ("cpu", "mixed"):
        mine = rows[rows["workload"] == workload]
        aio, hyb = _one(mine, runner="asyncio"), _one(mine, runner="hybrid")
        if aio is None or hyb is None:
            return Verdict(CLAIMS["c7_hybrid"], MISSING, "")
        p = faster(hyb["rounds_data"], aio["rounds_data"])
        parts.append(f"{workload}: hybrid {_ms(hyb['median_s'])} vs asyncio {_ms(aio['median_s'])} "
                     f"({_p(p)}), loop lag p99 {_ms(hyb['loop_lag_p99_s'])} vs "
                     f"{_ms(aio['loop_lag_p99_s'])}")
        responsive &= float(hyb["loop_lag_p99_s"]) < RESPONSIVE_LAG_S
        quicker &= significant(p)
    verdict = HOLDS if responsive and quicker else LIMITS if responsive or quicker else FAILS
    return Verdict(CLAIMS["c7_hybrid"], verdict, "; ".join(parts))


def blocking(table: pd.DataFrame) -> Verdict:
    rows = _rows(table, "c8_blocking")
    parts, stalls = [], []
    for workload in ("sleep", "http"):
        mine = rows[rows["workload"] == workload]
        good, bad = _one(mine, blocking=False), _one(mine, blocking=True)
        if good is None or bad is None:
            return Verdict(CLAIMS["c8_blocking"], MISSING, "")
        per_call = float(bad["ideal_s"]) / math.ceil(bad["tasks"] / bad["concurrency"])
        p = faster(good["rounds_data"], bad["rounds_data"])
        lag = bad["loop_lag_p99_s"]
        lag_text = "never ran (the loop was never free)" if pd.isna(lag) else _ms(float(lag))
        stalled = significant(p) and (pd.isna(lag) or float(lag) >= STALLED_FRACTION * per_call)
        stalls.append(stalled)
        parts.append(f"{workload}: blocking {_ms(bad['median_s'])} vs awaiting "
                     f"{_ms(good['median_s'])} ({_p(p)}), {bad['tasks']} calls at C="
                     f"{bad['concurrency']}; heartbeat p99 lag {lag_text} vs "
                     f"{_ms(float(good['loop_lag_p99_s']))}")
    verdict = HOLDS if all(stalls) else LIMITS if any(stalls) else FAILS
    return Verdict(CLAIMS["c8_blocking"], verdict, "; ".join(parts))


def crossover(rows: pd.DataFrame, runner: str, start_method: str | None = None) -> int | None:
    """Smallest call count from which `runner` (cold) beats sequential (cold) -- faster
    significantly and by at least WORTH_IT -- at every larger count too; None if never."""
    found = None
    for calls in sorted(rows["tasks"].unique(), reverse=True):
        at = rows[rows["tasks"] == calls]
        seq = _one(at, runner="sequential")
        mine = at[at["runner"] == runner]
        if start_method is not None:
            mine = mine[mine["start_method"] == start_method]
        if seq is None or mine.empty:
            return found
        beats = significant(faster(mine.iloc[0]["rounds_data"], seq["rounds_data"])) and \
            float(seq["median_s"]) >= WORTH_IT * float(mine.iloc[0]["median_s"])
        if not beats:
            return found
        found = int(calls)
    return found


def cold_start(table: pd.DataFrame) -> Verdict:
    rows = _rows(table, "c9_cold")
    rows = rows[rows["timed_setup"]]
    if rows.empty:
        return Verdict(CLAIMS["c9_cold"], MISSING, "")
    parts = []
    for runner, method in (("asyncio", None), ("threads", None), ("processes", "fork"),
                           ("processes", "forkserver"), ("processes", "spawn")):
        mine = rows[rows["runner"] == runner]
        if method:
            mine = mine[mine["start_method"] == method]
        if mine.empty:
            continue
        point = crossover(rows, runner, method)
        label = f"{runner} ({method})" if method else runner
        setup = float(mine["setup_s"].median())
        parts.append(f"{label}: beats sequential from {point} call{'s' if point > 1 else ''} on"
                     if point else f"{label}: never beats sequential")
        parts[-1] += f", set-up {_ms(setup)}"
    point = crossover(rows, "asyncio")
    evidence = "; ".join(parts)
    if point is None or point >= HANDFUL:
        return Verdict(CLAIMS["c9_cold"], HOLDS, evidence)
    at = rows[rows["tasks"] == point]
    saved = float(_one(at, runner="sequential")["median_s"]) - float(  # type: ignore[index]
        _one(at, runner="asyncio")["median_s"])  # type: ignore[index]
    evidence += f"; at {point} calls asyncio saves {_ms(saved)} including its set-up"
    return Verdict(CLAIMS["c9_cold"], FAILS if point == 1 else LIMITS, evidence)


CHECKS: tuple[Callable[[pd.DataFrame], Verdict], ...] = (
    gather_waits, failure_isolation, inflight_cost, scaling, cpu_bound, gil_release, hybrid,
    blocking, cold_start)


def verdicts(table: pd.DataFrame) -> list[Verdict]:
    return [check(table) for check in CHECKS]


def setup_costs_markdown(table: pd.DataFrame) -> str:
    """Cold and warm rounds with set-up and teardown, side by side, per runner and size."""
    rows = _rows(table, "c9_cold")
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
        lines.append(f"| {label} | {row['tasks']} | {_ms(float(row['median_s']))} | "
                     f"{_ms(float(row['warm_s']))} | {_ms(float(row['setup_s']))} | "
                     f"{_ms(float(row['teardown_s']))} |")
    return "\n".join([*lines, ""])


def claims_markdown(found: list[Verdict], table: pd.DataFrame | None = None) -> str:
    lines = ["## Claims", "",
             "Each claim paraphrases common advice about asyncio; the verdict is computed from "
             "this run by `scripts/claims.py`, whose thresholds are written next to each check. "
             f"'Faster' always means significant at p < {SIGNIFICANCE} (one-sided Mann-Whitney U "
             "over the rounds).", "",
             "| # | claim | verdict | evidence |", "|---|---|---|---|"]
    for number, verdict in enumerate(found, start=1):
        lines.append(f"| {number} | {verdict.claim.statement} | **{verdict.verdict}** | "
                     f"{verdict.evidence} |")
    lines += ["", "![claims](claims.png)", ""]
    if table is not None:
        lines.append(setup_costs_markdown(table))
    return "\n".join(lines)
