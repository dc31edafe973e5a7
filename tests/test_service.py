"""Service mode: requests on a schedule, latency from each one's scheduled arrival."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pytest

from bench.report.page import write_report
from bench.runners import make_runner
from bench.service import AUTO_RATES, LATE_S, Schedule, ServiceError, bracket, kept
from bench.stats import percentile
from tests.conftest import run_suite
from workloads import Workload, WrongResult

STALL_S = 1.0
RATE = 200.0  # requests per second offered
DURATION_S = 2.0
STALL_AT = 100  # the request that stalls the runner arrives at 0.5 s
QUICK_S = 0.001


@dataclass(frozen=True)
class StallOnce(Workload):
    """Every request waits 1 ms, but one holds its worker for a whole second."""

    name: ClassVar[str] = "stall-once"
    index: int = -1

    def for_task(self, index: int) -> Workload:
        return dataclasses.replace(self, index=index)

    def _seconds(self) -> float:
        return STALL_S if self.index == STALL_AT else QUICK_S

    def call(self) -> float:
        time.sleep(self._seconds())  # a stall that blocks, as a stuck worker does
        return self._seconds()

    async def acall(self, client: Any) -> float:
        time.sleep(self._seconds())  # blocks the loop itself: a stalled event loop
        await asyncio.sleep(0)
        return self._seconds()

    def check(self, result: object) -> None:
        if result != self._seconds():
            raise WrongResult(f"waited {result!r}")


@pytest.mark.parametrize("runner", ["sequential", "threads", "asyncio"])
def test_a_stall_shows_in_the_latency_of_every_request_that_arrived_during_it(
        runner: str) -> None:
    """A runner stalled for 1 s: every request scheduled during the stall waits for its
    end, so its latency, counted from its scheduled arrival, is at least what was left
    of the stall; the p99 carries the stall (a generator that waited for the runner,
    coordinated omission, would have measured one slow request and 399 fast ones)."""
    schedule = Schedule(RATE, DURATION_S)
    offsets = schedule.offsets()
    with make_runner(runner, StallOnce(), 1) as serving:
        outcome = serving.serve(offsets)
    assert outcome.offered == len(offsets) == 400
    assert outcome.ok + outcome.failed == outcome.offered and outcome.failed == 0
    stall_ends_after = offsets[STALL_AT] + STALL_S  # at the earliest, from the start
    during = [i for i, offset in enumerate(offsets)
              if offsets[STALL_AT] < offset < stall_ends_after]
    assert len(during) >= 190
    assert len(outcome.latencies) == outcome.ok
    p99 = percentile(outcome.latencies, 99)
    assert p99 is not None
    # The 4 slowest of 400 include the requests that arrived within 20 ms of the stall.
    assert p99 >= STALL_S - (4 / RATE) - 0.005
    assert max(outcome.latencies) >= STALL_S


def test_every_request_is_counted_and_the_generator_keeps_time() -> None:
    schedule = Schedule(100.0, 1.0, arrivals="poisson", seed=7)
    offsets = schedule.offsets()
    assert offsets == Schedule(100.0, 1.0, arrivals="poisson", seed=7).offsets()  # seeded
    assert all(b >= a for a, b in itertools.pairwise(offsets))
    with make_runner("threads", StallOnce(), 4) as serving:
        outcome = serving.serve(offsets)
    assert outcome.ok == len(offsets) and outcome.failed == 0
    assert len(outcome.lateness) == len(offsets)
    summary = outcome.summary(schedule, slo_s=0.05)
    assert summary["requests"] == len(offsets)
    assert summary["generator_cpu_s"] is not None and summary["generator_cpu_s"] >= 0
    # Each request's latency is at least its own service time (physics, not a ratio).
    assert min(outcome.latencies) >= QUICK_S * 0.99
    assert summary["late_requests"] == sum(1 for late in outcome.lateness if late > LATE_S)


@pytest.mark.parametrize("rate, duration, arrivals, message", [
    (0.0, 1.0, "constant", "--rate must be a positive number"),
    (1e6, 1.0, "constant", "one load generator keeps at most"),
    (10.0, 0.0, "constant", "--duration-s must be positive"),
    (10.0, 1.0, "bursty", "--arrivals must be one of constant, poisson"),
])
def test_a_schedule_that_cannot_be_kept_is_refused(rate: float, duration: float,
                                                   arrivals: str, message: str) -> None:
    with pytest.raises(ServiceError, match=message):
        Schedule(rate, duration, arrivals)


def test_constant_arrivals_are_evenly_spaced() -> None:
    offsets = Schedule(50.0, 2.0).offsets()
    assert len(offsets) == 100 and offsets[1] - offsets[0] == pytest.approx(0.02)


def test_service_mode_runs_as_pytest_benchmark_and_reports_saturation(tmp_path: Path) -> None:
    """`--rate` turns the suite into service mode: one benchmark per model and rate, the
    latency distribution in extra_info, and a report that names each model's saturation
    (one worker serving 20 ms waits cannot keep 100 requests per second: physics)."""
    out = tmp_path / "run.json"
    result = run_suite("--benchmark-only", "--workload", "sleep", "--runner",
                       "sequential,threads", "--concurrency", "8", "--sleep-ms", "20",
                       "--rate", "10,100",
                       "--duration-s", "1", "--slo-ms", "200", f"--benchmark-json={out}",
                       "-q")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # No batch timing table: a rate's one round lasts as long as its schedule.
    assert "Name (time in" not in result.stdout
    benches = json.loads(out.read_text())["benchmarks"]
    assert len(benches) == 4
    for bench in benches:
        info = bench["extra_info"]
        assert info["ok"] + info["failed"] == info["tasks"] == round(info["offered_rate"])
        assert info["arrival_latency_p99_s"] >= info["arrival_latency_p50_s"] >= 0.02
    sequential = [b["extra_info"] for b in benches if b["extra_info"]["runner"] == "sequential"
                  and b["extra_info"]["offered_rate"] == 100]
    # 100 waits of 20 ms, one at a time, cannot end before 2 s: the last request's
    # latency from its arrival (at 0.99 s) is at least 1 s.
    assert sequential[0]["arrival_latency_p999_s"] >= 2.0 - 0.99 - 0.01
    write_report([out], tmp_path)
    report = (tmp_path / "REPORT.md").read_text()
    assert report.startswith("# concurrency-bench report: service mode")
    # 100 a second is past one worker's 50 (physics): never kept.  A row whose generator ran
    # late (⚠), or one not kept while neighbours took the cores (⚡), decides nothing and
    # stays out of the bracket, so a busy machine may drop either end of it, or both (then
    # no saturation is claimed at all).
    rows = [line for line in report.splitlines() if line.startswith("| sequential | C=1 |")]
    assert re.match(r"\| sequential \| C=1 \| (at least 10\.0, below 100|at least 10\.0|"
                    r"below 100|none of the rates measured) \| ", rows[0]), rows
    assert "at least 100" not in rows[0]
    assert (tmp_path / "service.png").read_bytes().startswith(b"\x89PNG")
    # The full table has the service's columns, not a batch's median, rounds or speedup.
    header = (tmp_path / "table.md").read_text().splitlines()[0]
    assert "median (ms)" not in header and "rounds" not in header and "speedup" not in header
    assert "runner" in header and "failed" in header
    # Waits have no pure-Python CPU: claim 15 is not measured, so no claims section or files.
    assert "## Claims" not in report
    assert not (tmp_path / "claims.md").exists() and not (tmp_path / "claims.png").exists()


def test_service_options_without_a_rate_are_one_line_and_exit_2() -> None:
    result = run_suite("--benchmark-only", "--workload", "sleep", "--duration-s", "2")
    assert result.returncode != 0
    assert "--duration-s: only with --rate (service mode)" in result.stderr + result.stdout


def test_rate_auto_stops_each_model_at_the_first_rate_it_does_not_keep(tmp_path: Path) -> None:
    """One worker serving 20 ms waits cannot keep 71 requests per second (1.42 s of waiting
    per second): the sweep must stop there or lower and skip every rate above."""
    out = tmp_path / "run.json"
    result = run_suite("--benchmark-only", "--workload", "sleep", "--runner", "sequential",
                       "--sleep-ms", "20", "--rate", "auto", "--duration-s", "1",
                       f"--benchmark-json={out}", "-rs")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    infos = [b["extra_info"] for b in json.loads(out.read_text())["benchmarks"]]
    ladder = sorted(info["offered_rate"] for info in infos if info["offered_rate"] in AUTO_RATES)
    assert ladder == [rate for rate in AUTO_RATES if rate <= ladder[-1]]  # none left out below
    last = infos[[info["offered_rate"] for info in infos].index(ladder[-1])]
    assert not kept(last["offered_rate"], last["achieved_rate"], None, None)  # stopped at it
    assert ladder[-1] <= 100  # one worker of 20 ms serves 50 a second at the most
    assert "above saturation" in result.stdout
    # Then the bracket is bisected: each refined rate inside the sweep's last step, and the
    # bracket left at most 10 % wide.
    refined = [info["offered_rate"] for info in infos if info["offered_rate"] not in AUTO_RATES]
    assert refined and all(ladder[-2] < rate < ladder[-1] for rate in refined)
    points = [(info["offered_rate"], kept(info["offered_rate"], info["achieved_rate"], None,
                                          None, info["sustained"], info["ok"] / info["tasks"]))
              for info in infos]
    best, above = bracket(points)
    assert best is not None and above is not None and above / best <= 1.10 + 0.01


def _service_rows(runner: str, capacity: float, gil_cpu_s: float = 0.003) -> list[dict[str, Any]]:
    """A model swept as --rate auto sweeps it: up the ladder until a rate above
    `capacity`, then its bracket bisected (bench.service.Saturation, as the suite does)."""
    from bench.service import REFINE_STEPS, Saturation

    rows: list[dict[str, Any]] = []
    sweep = Saturation()

    def measured(rate: float) -> None:
        achieved = min(rate, capacity)
        rows.append({"workload": "mixed", "params": "n=70000", "server": "", "interpreter": "3.11",
                     "runner": runner, "start_method": None, "client": "", "concurrency": 16,
                     "offered_rate": float(rate), "achieved_rate": achieved,
                     "arrival_latency_p99_s": 0.03 if achieved >= rate else 5.0,
                     "slo_s": 0.05, "gil_cpu_s": gil_cpu_s, "failed_scenario": False,
                     "gil_enabled": True})
        sweep.add(runner, rate, achieved >= rate)

    for rate in AUTO_RATES:
        measured(rate)
        if rate > capacity:
            break
    for _ in range(REFINE_STEPS):
        rate, _why = sweep.refine(runner)
        if rate is not None:
            measured(rate)
    return rows


@pytest.mark.parametrize("single, parallel, expected", [
    (250.0, 600.0, "holds"),  # one core's rate 333/s: singles stop below, processes beyond
    (250.0, 250.0, "does not hold"),  # more processes did not move it
    (600.0, 700.0, "does not hold"),  # a single GIL process kept twice one core's rate
    (100.0, 600.0, "holds with limits"),  # far below one core: its own overhead bounds it
    (250.0, 360.0, "inconclusive"),  # the processes' bracket (336-367) spans 1.10x 333
])
def test_one_core_claim_reads_each_models_saturation_bracket(single: float, parallel: float,
                                                            expected: str) -> None:
    from bench.claims import c15_one_core
    from bench.claims.kit import remember_runners

    remember_runners({})  # the registry's runners: asyncio single, procs-asyncio parallel
    frame = pd.DataFrame(_service_rows("asyncio", single) + _service_rows("threads", single)
                         + _service_rows("procs-asyncio", parallel))
    found = c15_one_core.check(frame)
    assert found.verdict == expected, found.evidence
    assert c15_one_core.check(frame.iloc[0:0].assign(offered_rate=[])).verdict == "not measured"


def test_a_rate_lost_while_the_machine_was_disturbed_decides_nothing() -> None:
    from bench.claims import c15_one_core
    from bench.claims.kit import remember_runners

    remember_runners({})
    rows = _service_rows("asyncio", 250.0) + _service_rows("procs-asyncio", 600.0)
    frame = pd.DataFrame(rows).assign(disturbed=False)
    assert c15_one_core.check(frame).verdict == "holds"
    lost = (frame["runner"] == "asyncio") & (frame["achieved_rate"] < frame["offered_rate"])
    frame.loc[lost, "disturbed"] = True  # the rate asyncio did not keep was disturbed
    found = c15_one_core.check(frame)
    assert found.verdict == "inconclusive" and "asyncio C=16: saturation at least" in \
        found.evidence


def _rate_row(offered: float, achieved: float, held_s: float | None, c: int = 16,
              ok: int = 2000) -> dict[str, object]:
    return {"offered_rate": offered, "achieved_rate": achieved, "service_p50_s": held_s,
            "arrival_latency_p50_s": 0.012, "concurrency": c, "ok": ok}


def test_a_saturation_at_cs_ceiling_is_the_harness_limit_not_the_models() -> None:
    from bench.ceilings import bounded_by_c, ceiling

    # C=16 slots held 12 ms each allow 1,333 requests per second at most (Little's law).
    rows = [_rate_row(800, 800, 0.012), _rate_row(1130, 1130, 0.012),
            _rate_row(1600, 1290, 0.012)]
    assert round(ceiling(rows)) == 1333
    assert bounded_by_c(rows, 1130, 1600)  # 1,290 achieved is 97 % of the ceiling
    # The same figures with C=64: the ceiling is 5,333, far above what was reached.
    wide = [{**row, "concurrency": 64} for row in rows]
    assert not bounded_by_c(wide, 1130, 1600)
    # Without a recorded service time the least median latency from arrival stands in.
    old = [{**row, "service_p50_s": None} for row in rows]
    assert round(ceiling(old)) == 1333 and bounded_by_c(old, 1130, 1600)


def test_the_ceiling_holds_slots_for_the_mean_service_time_near_the_saturation() -> None:
    """Exponential service times of mean 5 ms on one slot: 200 requests a second at most.
    Their median (5 ms x ln 2) would print 289 and hide a saturation at the slot; and a
    low rate's shorter hold time (less contention) would print a ceiling never reachable
    at the rates that decide."""
    import random

    from bench.ceilings import bounded_by_c, ceiling

    draws = random.Random(7)
    times = sorted(draws.expovariate(1 / 0.005) for _ in range(20_000))
    mean, median = sum(times) / len(times), times[len(times) // 2]
    rows = [{**_rate_row(100, 100, 0.003, c=1), "service_mean_s": 0.003},
            {**_rate_row(180, 180, median, c=1), "service_mean_s": mean},
            {**_rate_row(220, 193, median, c=1), "service_mean_s": mean}]
    assert 190 < ceiling(rows, 180, 220) < 210  # one slot over the mean, at the bracket
    assert 270 < 1 / median < 310  # what the median would have said
    assert bounded_by_c(rows, 180, 220)  # 193 achieved: the one slot's ceiling, not the model's
    # Without a bracket, the highest rate measured stands for it.
    assert ceiling(rows) == ceiling(rows, 180, 220)


def test_a_p99_from_fewer_than_a_thousand_requests_is_shown_as_the_max_of_n() -> None:
    import pandas as pd

    from bench.report.service import tail

    few = pd.Series({"ok": 38, "arrival_latency_p99_s": 0.0495, "arrival_latency_p999_s": 0.0495})
    assert tail(few, "p99") == "max 49.5 ms of 38 (≥ p99 at 32%)"
    assert tail(few, "p999") == "-"
    many = pd.Series({"ok": 1500, "arrival_latency_p99_s": 0.03, "arrival_latency_p999_s": 0.05})
    assert tail(many, "p99") == "30.0 ms" and tail(many, "p999") == "-"


def _simulated_server(rate: float, capacity: float, duration_s: float, arrivals: str,
                      seed: int, slots: int) -> tuple[list[float], list[float]]:
    """A server of known capacity: `slots` workers, each request served in slots /
    capacity seconds, first come first served; its arrivals and returns."""
    from bench.service import Schedule

    arrived = Schedule(rate, duration_s, arrivals, seed).offsets()
    free, returned = [0.0] * slots, []
    for at in arrived:
        worker = min(range(slots), key=free.__getitem__)
        free[worker] = max(at, free[worker]) + slots / capacity
        returned.append(free[worker])
    return arrived, returned


@pytest.mark.parametrize("arrivals", ["constant", "poisson"])
@pytest.mark.parametrize("slots, capacity, duration_s", [(1, 1000, 1.5), (16, 1000, 1.5),
                                                          (1, 100, 10.0)])
def test_kept_means_sustained_on_a_server_of_known_capacity(
        arrivals: str, slots: int, capacity: float, duration_s: float) -> None:
    """At 0.9 of its capacity a server keeps the rate in at least 99 of 100 seeds, at 1.1
    of it in at most 1 of 100, with runs of about a thousand requests or more."""
    from bench.service import backlog_growth

    for load, least, most in ((0.9, 99, 100), (1.1, 0, 1)):
        kept = sum(backlog_growth(*_simulated_server(load * capacity, capacity, duration_s,
                                                     arrivals, seed, slots),
                                  duration_s).sustained for seed in range(100))
        assert least <= kept <= most, (load, kept)


def test_a_server_that_never_queues_achieves_the_offered_rate_under_poisson_arrivals() -> None:
    from bench.outcome import TaskResult
    from bench.service import Schedule, ServiceOutcome

    for seed in range(20):
        schedule = Schedule(200.0, 2.0, "poisson", seed)
        outcome = ServiceOutcome(offered=len(schedule.offsets()))
        for at in schedule.offsets():
            outcome.add(TaskResult(0.001), 0.001, at)
        assert outcome.achieved_rate(schedule) == pytest.approx(200.0, rel=0.01)


def test_a_tail_from_few_requests_fails_the_slo_only_on_evidence() -> None:
    """Below 1,000 requests a p99 is (nearly) the largest latency; the SLO then fails only
    when more requests are over it than a true p99 within it lets through 95 % of the
    time (SciPy's binomial quantile)."""
    from scipy.stats import binom

    from bench.service import exceedances_allowed, tail_within

    for requests in (1, 10, 50, 100, 333, 999):
        assert exceedances_allowed(requests) == int(binom.ppf(0.95, requests, 0.01))
    assert tail_within(0.060, 0.050, ok=50, within=49)  # one slow request of 50
    assert not tail_within(0.060, 0.050, ok=50, within=47)  # three: the p99 is over
    assert not tail_within(0.060, 0.050, ok=2000, within=1999)  # from 1,000: the p99 decides
    assert tail_within(0.040, 0.050, ok=2000, within=1990)


def test_cpu_is_split_by_process_and_unread_cpu_is_a_dash() -> None:
    from bench.report.service import cpu_text, memory_text
    here = pd.Series({"runner": "app-gunicorn-sync", "tasks_run": 100, "cpu_per_request_s": 0.003,
                      "deployment_cpu_s": 0.2, "generator_cpu_s": 0.1, "server_cpu_s": 0.05,
                      "deployment_pss_mb": 40.0, "runner_pss_mb": 1.0})
    assert cpu_text(here) == "app 2.00 ms / gen 1.00 ms / upstream 0.500 ms"
    assert memory_text(here) == "40.0"
    # Loaded on another machine (--service-url): its CPU and memory are not read here, and
    # no upstream of the suite's own served it.
    elsewhere = here.copy()
    elsewhere[["deployment_cpu_s", "server_cpu_s", "deployment_pss_mb"]] = None
    assert cpu_text(elsewhere) == "app - / gen 1.00 ms"
    assert memory_text(elsewhere) == "-"
    pooled = pd.Series({"runner": "threads", "tasks_run": 100, "cpu_per_request_s": 0.003,
                        "generator_cpu_s": 0.1, "runner_pss_mb": 1.5})
    assert cpu_text(pooled) == "3.00 ms"


def test_a_model_that_kept_no_rate_judged_is_not_called_lower() -> None:
    """A build that kept none of its rates, and whose only rate not kept had a late
    generator, has no known saturation: no other model is said to hold more than it."""
    from bench.report.service import _sentence

    row = pd.Series({"runner": "app-gunicorn-gthread", "cpu_per_request_s": 0.055,
                     "runner_pss_mb": 54.0, "deployment_pss_mb": 54.0})
    held = [(35.0, 38.0, "free-threaded", row)]
    assert _sentence(held, [], [(0.0, None, "GIL build", row)]).startswith(
        "No order: GIL build kept none of the rates offered and had no rate fit to judge")
    # It did not keep a fit rate of 25: its saturation lies below the other's 35 kept.
    assert _sentence(held, [], [(0.0, 25.0, "GIL build", row)]).startswith(
        "free-threaded holds the most: 35.0 req/s kept")
    # Its lowest fit rate not kept was 40: its saturation may lie above 35.
    assert _sentence(held, [], [(0.0, 40.0, "GIL build", row)]).startswith("No winner")


def test_one_model_measured_is_not_said_to_hold_more_than_others() -> None:
    from bench.report.service import _sentence

    row = pd.Series({"runner": "app-uvicorn", "cpu_per_request_s": 0.003,
                     "runner_pss_mb": 30.0, "deployment_pss_mb": 30.0})
    said = _sentence([(300.0, 330.0, "uvicorn", row)], [], [])
    assert said.startswith("Only uvicorn was measured: 300 req/s kept, saturating below 330")
    assert "other model's" not in said and "holds the most" not in said


def test_postgresqls_cpu_is_named_as_such() -> None:
    from bench.report.service import cpu_text
    row = pd.Series({"runner": "app-gunicorn-gthread", "workload": "db", "tasks_run": 100,
                     "cpu_per_request_s": 0.003, "deployment_cpu_s": 0.2,
                     "generator_cpu_s": 0.1, "server_cpu_s": 0.05})
    assert cpu_text(row) == "app 2.00 ms / gen 1.00 ms / PostgreSQL 0.500 ms"


def test_a_winner_is_named_only_where_its_lead_outlasts_what_a_rerun_moves() -> None:
    """Kept 300 against another's 280 not kept: a lead within one run; with a ratio's
    rerun SD of 10 % (x1.22 at 95 %) a rerun could reverse it, so no winner."""
    from bench.report.service import _sentence

    def row(ratio_term: float) -> pd.Series:
        return pd.Series({"runner": "app-uvicorn", "cpu_per_request_s": 0.003,
                          "runner_pss_mb": 30.0, "deployment_pss_mb": 30.0,
                          "run_to_run_saturation": 0.1,
                          "run_to_run_saturation_ratio": ratio_term})

    for term, said in ((0.0, "uvicorn holds the most: 300 req/s kept"),
                       (0.1, "No winner: the saturation brackets of uvicorn, gthread overlap")):
        held = [(300.0, 330.0, "uvicorn", row(term)), (250.0, 280.0, "gthread", row(term))]
        assert _sentence(held, [], []).startswith(said)
    # Far enough apart, the winner stands, and the sentence says by what margin.
    held = [(600.0, 660.0, "uvicorn", row(0.1)), (250.0, 280.0, "gthread", row(0.1))]
    assert "by more than a rerun moves the ratio (x1.22)" in _sentence(held, [], [])


def test_the_rerun_column_widens_each_bracket_by_what_a_rerun_moves() -> None:
    from bench.report.service import _rerun_text

    row = pd.Series({"run_to_run_saturation": 0.1})
    assert _rerun_text(300.0, 330.0, pd.Series({})) == "-"
    low, high = (float(x.replace(",", "")) for x in
                 _rerun_text(300.0, 330.0, row).strip("[)").split(", "))
    assert low < 300.0 and high > 330.0
    assert math.isclose(math.sqrt(low * high), math.sqrt(300.0 * 330.0), rel_tol=0.01)
    assert _rerun_text(300.0, None, row).startswith("≥ ")


def test_a_busy_machine_is_said_on_the_first_screen() -> None:
    from bench.report.service import _busy_lines

    quiet = pd.DataFrame({"disturbed": [False, False], "neighbours": [0.1, 0.0]})
    assert _busy_lines(quiet) == []
    busy = pd.DataFrame({"disturbed": [True, False, True], "neighbours": [0.6, 0.1, 1.8]})
    line = _busy_lines(busy)[0]
    assert line.startswith("**A busy machine (⚡):** other processes used this machine during "
                           "2 of the 3 rates measured, up to 1.80 cores")


def _deployment_row(offered: float, achieved: float, workers: int, threads: int,
                    mean_s: float, app_ms: float, gen_ms: float, upstream_ms: float,
                    slots: int | None = None) -> dict[str, object]:
    requests = 1000
    return {"offered_rate": offered, "achieved_rate": achieved, "service_mean_s": mean_s,
            "concurrency": 256, "slots": slots, "cores": 2, "tasks_run": requests,
            "gil_enabled": True,
            "runner_details": {"deployment": {"workers": workers, "threads": threads}},
            "deployment_cpu_s": app_ms / 1000 * requests,
            "generator_cpu_s": gen_ms / 1000 * requests,
            "server_cpu_s": upstream_ms / 1000 * requests}


def test_each_saturation_names_the_ceiling_it_ran_into() -> None:
    from bench.ceilings import binding, ceilings
    from bench.report.service import _binds_text as binds

    # Five sync workers holding a request 12.16 ms: 411 a second; 367 kept is 89 % of it.
    sync = [_deployment_row(r, a, 5, 1, 0.01216, 4.0, 0.4, 0.1, slots=5)
            for r, a in ((367, 367), (400, 370))]
    found = ceilings(sync, 367, 400, parallel=True, max_rate=6000)
    assert round(found["slots"]) == 411
    assert binds(binding(found, 367, 400)) == "slots: 411"
    # One uvicorn process: 2,934 kept against two cores shared by every tier, 0.574 ms a
    # request in all: the machine (3,484) binds before its one core (4,484).
    uvicorn = [_deployment_row(r, a, 1, 1, 0.002, 0.223, 0.232, 0.119)
               for r, a in ((2934, 2934), (3200, 3000))]
    found = ceilings(uvicorn, 2934, 3200, parallel=False, max_rate=6000)
    assert round(found["the machine"]) == 3484 and round(found["one core (GIL)"]) == 4484
    assert binds(binding(found, 2934, 3200)) == "the machine: 3,480"
    # Far below every ceiling: the model's own.
    assert binds(binding(found, 1000, 1200)) == "none near (lowest: the machine: 3,480)"
    assert binding({}, 10, 20) is None and binds(None) == "-"
