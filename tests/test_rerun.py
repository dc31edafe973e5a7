"""What a rerun moves: sessions, pooled spreads, and saturation terms from real runs."""

from __future__ import annotations

import math
from pathlib import Path

from bench import run_to_run
from bench.report.load import load_run
from bench.report.rerun import _sd, measure_saturation, rewidened, saturation_brackets, sessions
from bench.report.table import scenario_table

ROOT = Path(__file__).resolve().parent.parent
SERVICE_RUNS = [ROOT / "results/reference/service/benchmark.json",
                *sorted((ROOT / "scripts/evidence/service_overlap").glob("*.json"))]


def test_runs_far_apart_are_different_sessions() -> None:
    starts = ["2026-12-03T22:08:31+00:00", "2026-12-03T22:13:11+00:00",
              "2026-12-04T07:04:42+00:00", "unknown date", "2026-12-04T07:08:54+00:00"]
    assert sessions(starts) == [0, 0, 1, 1, 1]
    assert sessions(starts[::-1]) == [1, 1, 1, 0, 0]  # numbered in time, whatever the order


def test_a_spread_pooled_within_sessions_leaves_out_a_change_of_day() -> None:
    values = [1.0, 1.1, 2.0, 2.2]  # the second session's host ran at half the speed
    pooled = _sd(values, [0, 0, 1, 1])
    assert math.isclose(pooled, math.log(1.1) / math.sqrt(2), rel_tol=1e-9)
    assert _sd(values) > 5 * pooled
    assert math.isnan(_sd([1.0, 1.1], [0, 0]))  # one degree of freedom: not measured


def test_saturation_terms_come_from_the_committed_service_runs() -> None:
    tables = [scenario_table([load_run(path)], run_to_run.NONE) for path in SERVICE_RUNS]
    brackets = saturation_brackets(tables[0])
    (best, above), term, capped = brackets["mixed: app-uvicorn-workers"]
    assert best is not None and above is not None and best < above and term == 0.0
    assert not capped
    alone, paired = measure_saturation(tables, sessions([load_run(p).datetime
                                                          for p in SERVICE_RUNS]))
    assert set(alone) == {"http", "mixed"} and all(0 < sd < 1 for sd in alone.values())
    assert "mixed" in paired
    committed = run_to_run.load()
    assert committed.service_runs == len(SERVICE_RUNS)
    assert committed.saturation == alone and committed.saturation_ratio == paired


def test_widening_a_table_made_without_a_term_equals_making_it_with_the_term() -> None:
    run = load_run(sorted((ROOT / "results/reference/run-to-run/runs").glob("*.json"))[0])
    spread = run_to_run.Spread(run_to_run.machine_of(run.machine), median={"cpu": 0.05},
                               speedup={"cpu": 0.04, "http": 0.06, "sleep": 0.01})
    made = scenario_table([run], spread)
    widened = rewidened(scenario_table([run], run_to_run.NONE), spread)
    for column in ("ci_low_s", "ci_high_s", "speedup_low", "speedup_high"):
        assert made[column].fillna(-1).round(12).tolist() == \
            widened[column].fillna(-1).round(12).tolist(), column
